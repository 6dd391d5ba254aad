//! `idpviews generate`: the IDP side. From the IDP's Prisma schema and its
//! allowlist (`idp-views.toml`) to the views package products vendor.

use idpviews_build::diagnostics::stderr_wants_color;
use idpviews_build::generate::Generator;
use idpviews_build::Error;
use std::path::PathBuf;

/// Generate the shared views package from the IDP schema and its allowlist.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Generates the shared views package (idp-views.prisma, create-idp-views.sql, \
idp-views.lock) from the IDP's Prisma schema and its allowlist (idp-views.toml).\n\n\
Only listed fields are exposed; secret-looking fields are refused unless opted in with a \
reason; removing or changing anything products may depend on is refused unless \
--allow-breaking is given. Files are written atomically and only when they change.\n\n\
Exit status: 0 on success (or up to date with --check), 1 on errors or a stale package \
with --check, 2 on usage errors."
)]
pub(crate) struct GenerateArgs {
    /// The IDP's Prisma schema: a file, or a directory of `.prisma` files.
    #[arg(long, value_name = "FILE|DIR")]
    pub schema: PathBuf,
    /// The allowlist (`idp-views.toml`).
    #[arg(long, value_name = "TOML")]
    pub config: PathBuf,
    /// The package directory to write (e.g. `packages/idp-views`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write nothing; exit 1 with a diff when the package is stale (for CI).
    #[arg(long)]
    pub check: bool,
    /// Accept breaking changes against the previous package (removed or
    /// changed columns, removed views or enum values).
    #[arg(long)]
    pub allow_breaking: bool,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &GenerateArgs) -> i32 {
    let color = stderr_wants_color();
    match generate(args, color) {
        Ok(code) => code,
        Err(e) => {
            eprint!("{}", e.render(color));
            1
        }
    }
}

fn generate(args: &GenerateArgs, color: bool) -> Result<i32, Error> {
    let package = Generator::new(&args.schema, &args.config, &args.out)
        .allow_breaking(args.allow_breaking)
        .generate()?;
    if let Some(w) = package.render_warnings(color) {
        eprint!("{w}");
    }
    if args.check {
        let stale = package.stale_files()?;
        if stale.is_empty() {
            println!("{} is up to date", args.out.display());
            return Ok(0);
        }
        return Err(Error::Drift {
            files: stale,
            fix: format!(
                "run `idpviews generate --schema {} --config {} --out {}` and commit the result",
                args.schema.display(),
                args.config.display(),
                args.out.display()
            ),
        });
    }
    let written = package.write()?;
    if written.is_empty() {
        println!("{} is up to date", args.out.display());
    }
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(0)
}
