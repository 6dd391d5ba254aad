//! `idpviews audit`: product rows referencing IDP rows that do not exist.

use crate::database::{error_chain, DatabaseArgs};
use crate::format::{self, Failure, Format, FormatArgs};
use idpviews::{AuditReport, Package};
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
With --format json: one `idpviews.audit/1` document (docs/schema/audit.v1.json), errors \
included.\n\n\
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
    #[command(flatten)]
    pub output: FormatArgs,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &AuditArgs) -> i32 {
    let format = args.output.format;
    match report(args) {
        Ok(report) => {
            match format {
                Format::Text => println!("{report}"),
                Format::Json => format::emit(&format::audit_report(&report)),
            }
            if report.is_clean() {
                0
            } else {
                1
            }
        }
        Err(failure) => failure.report(format, format::AUDIT),
    }
}

fn report(args: &AuditArgs) -> Result<AuditReport, Failure> {
    let package = match (&args.relations, &args.product_schema) {
        (Some(conf), Some(schema)) => resolve_relations(args, conf, schema)?,
        _ => args.db.package()?,
    };
    if package.manifest.relations.is_empty() {
        return Err(Failure::usage(format!(
            "{} lists no product relations: point --views at the build script's \
             $OUT_DIR/idpviews (views.json), or pass --relations and --product-schema",
            args.db.views.display()
        )));
    }
    let mut client = args.db.connect()?;
    let result = match &args.tenant {
        None => idpviews::audit(&mut client, &package),
        Some(tenant) => {
            let mut tx = client.transaction().map_err(|e| {
                Failure::new(1, "database", format!("BEGIN failed: {}", error_chain(&e)))
            })?;
            idpviews::tenant::set_tenant_in(&mut tx, &package.manifest.schema, tenant)
                .and_then(|()| idpviews::audit(&mut tx, &package))
        }
    };
    result.map_err(|e| Failure::from_error(&e))
}

/// The vendored package with the product's relations resolved, as the build
/// script would record them; exit status 1 with the rendered diagnostics when
/// the relations do not check out.
fn resolve_relations(
    args: &AuditArgs,
    conf: &std::path::Path,
    schema: &std::path::Path,
) -> Result<Package, Failure> {
    let merged = idpviews_build::Product::new()
        .views_dir(&args.db.views)
        .relations(conf)
        .product_schema(schema)
        .merge();
    let (merged, sql) = merged.map_err(|e| {
        Failure::new(1, "relations", e.render(false).trim_end())
            .with_stderr(e.render(idpviews_build::diagnostics::stderr_wants_color()))
    })?;
    Package::from_parts(&merged.views_json, sql)
        .map_err(|e| Failure::new(1, "package", e.to_string()))
}
