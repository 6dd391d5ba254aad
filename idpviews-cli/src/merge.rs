//! `idpviews merge`: the product-side merge for non-Rust (TypeScript)
//! products, a drop-in for the PoC's `add-relations.sh`.

use idpviews_build::{drift, fs, Error, Product};
use std::path::PathBuf;

/// Merge a product's relations into the vendored views package.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Merges the product's relations (idp-relations.conf) into the vendored views \
package and writes the product's Prisma views file (drop-in for add-relations.sh).\n\n\
With --product-schema, every relation is checked against the product's models \
(opposite relation field, foreign key, @unique references, datasource schemas, \
the `views` preview feature).\n\n\
Exit status: 0 on success (or up to date with --check), 1 on errors or a stale \
--out with --check, 2 on usage errors."
)]
pub(crate) struct MergeArgs {
    /// The vendored views package (the git submodule, e.g. `idp-views`).
    #[arg(long, value_name = "DIR")]
    pub views: PathBuf,
    /// The product's relations file (`View:field Model[]` per line).
    #[arg(long, value_name = "CONF")]
    pub relations: PathBuf,
    /// Where to write the merged Prisma file (e.g. `prisma/schema/idp-views.prisma`).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The product's Prisma schema (file or directory) to check the relations against.
    #[arg(long, value_name = "DIR")]
    pub product_schema: Option<PathBuf>,
    /// Write nothing; exit 1 with a diff when `--out` is stale (for CI).
    #[arg(long)]
    pub check: bool,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &MergeArgs) -> i32 {
    match merge(args) {
        Ok(code) => code,
        Err(e) => {
            eprint!(
                "{}",
                e.render(idpviews_build::diagnostics::stderr_wants_color())
            );
            1
        }
    }
}

fn merge(args: &MergeArgs) -> Result<i32, Error> {
    let mut p = Product::new();
    p.views_dir(&args.views)
        .relations(&args.relations)
        .committed(&args.out)
        .cargo_metadata(false);
    if let Some(schema) = &args.product_schema {
        p.product_schema(schema);
    }
    let (merged, _sql) = p.merge()?;
    let out_name = args.out.display().to_string();
    if args.check {
        let Some((path, diff)) = drift::stale_file(
            &args.out,
            &merged.prisma,
            &out_name,
            &format!("{out_name} (merged)"),
        )?
        else {
            return Ok(0);
        };
        let err = Error::Drift {
            files: vec![(path, diff)],
            fix: format!(
                "run `idpviews merge --views {} --relations {} --out {}{}` and commit the result",
                args.views.display(),
                args.relations.display(),
                out_name,
                args.product_schema
                    .as_ref()
                    .map(|s| format!(" --product-schema {}", s.display()))
                    .unwrap_or_default()
            ),
        };
        eprint!("{}", err.render(false));
        return Ok(1);
    }
    if fs::write_if_changed(&args.out, merged.prisma.as_bytes())? {
        eprintln!("wrote {out_name}");
    } else {
        eprintln!("{out_name} is up to date");
    }
    Ok(0)
}
