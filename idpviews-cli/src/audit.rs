//! `idpviews audit`: product rows referencing IDP rows that do not exist.

use crate::database::{error_chain, DatabaseArgs};

/// Find product rows whose reference to an IDP view points at nothing.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "For every product relation (from idp-relations.conf, as the build script \
recorded them in $OUT_DIR/idpviews/views.json), counts and samples the product rows whose \
foreign key points at no row of the view: a deleted user, or, for a tenant-isolated view \
audited with --tenant, a user of another tenant. There is no foreign-key constraint between \
product tables and views; this is the check.\n\n\
Exit status: 0 when no orphan was found and nothing was skipped, 1 otherwise or when the \
database failed, 2 on usage errors."
)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Audit as this tenant (needed for tenant-isolated views).
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &AuditArgs) -> i32 {
    let package = match args.db.package() {
        Ok(p) => p,
        Err(code) => return code,
    };
    if package.manifest.relations.is_empty() {
        eprintln!(
            "error: {} lists no product relations: point --views at the build script's \
             $OUT_DIR/idpviews (views.json), not at the vendored package",
            args.db.views.display()
        );
        return 2;
    }
    let mut client = match args.db.connect() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = match &args.tenant {
        None => idpviews::audit(&mut client, &package),
        Some(tenant) => {
            let mut tx = match client.transaction() {
                Ok(tx) => tx,
                Err(e) => {
                    eprintln!("error: BEGIN failed: {}", error_chain(&e));
                    return 1;
                }
            };
            idpviews::tenant::set_tenant(&mut tx, tenant)
                .and_then(|()| idpviews::audit(&mut tx, &package))
        }
    };
    match result {
        Ok(report) => {
            println!("{report}");
            if report.is_clean() {
                0
            } else {
                1
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
