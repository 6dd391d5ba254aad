//! `idpviews audit`: product rows referencing IDP rows that do not exist.

use crate::database::{error_chain, DatabaseArgs};
use idpviews::Package;
use std::path::PathBuf;

/// Find product rows whose reference to an IDP view points at nothing.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "For every product relation (from idp-relations.conf: as the build script \
recorded them in $OUT_DIR/idpviews/views.json, or resolved here from --relations and \
--product-schema against a vendored package), counts and samples the product rows whose \
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
    /// The product's `idp-relations.conf`, when `--views` is a vendored package
    /// (products without a Rust build script); needs `--product-schema`.
    #[arg(long, value_name = "CONF", requires = "product_schema")]
    pub relations: Option<PathBuf>,
    /// The product's Prisma schema (file or directory), to resolve `--relations`.
    #[arg(long, value_name = "FILE|DIR", requires = "relations")]
    pub product_schema: Option<PathBuf>,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &AuditArgs) -> i32 {
    let package = match (&args.relations, &args.product_schema) {
        (Some(conf), Some(schema)) => match resolve_relations(args, conf, schema) {
            Ok(p) => p,
            Err(code) => return code,
        },
        _ => match args.db.package() {
            Ok(p) => p,
            Err(code) => return code,
        },
    };
    if package.manifest.relations.is_empty() {
        eprintln!(
            "error: {} lists no product relations: point --views at the build script's \
             $OUT_DIR/idpviews (views.json), or pass --relations and --product-schema",
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
            idpviews::tenant::set_tenant_in(&mut tx, &package.manifest.schema, tenant)
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

/// The vendored package with the product's relations resolved, as the build
/// script would record them; exit status 1 with rendered diagnostics when the
/// relations do not check out.
fn resolve_relations(
    args: &AuditArgs,
    conf: &std::path::Path,
    schema: &std::path::Path,
) -> Result<Package, i32> {
    let merged = idpviews_build::Product::new()
        .views_dir(&args.db.views)
        .relations(conf)
        .product_schema(schema)
        .merge();
    let (merged, sql) = merged.map_err(|e| {
        eprint!(
            "{}",
            e.render(idpviews_build::diagnostics::stderr_wants_color())
        );
        1
    })?;
    Package::from_parts(&merged.views_json, sql).map_err(|e| {
        eprintln!("error: {e}");
        1
    })
}
