//! `idpviews validate --schema <file|dir>`: parse and check a Prisma schema.

use idpviews_build::diagnostics::stderr_wants_color;
use idpviews_build::{prisma, Diagnostics, SourceMap};
use std::path::PathBuf;

/// Parse and check a Prisma schema.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Parses and checks a Prisma schema: syntax, duplicate names, unknown types \
(with suggestions), attribute arguments, relations and @@schema. A directory is read \
recursively (every *.prisma file, in path order) as one multi-file schema, as Prisma 6.7+ does.\n\n\
Exit status: 0 when the schema is valid, 1 with the diagnostics on stderr when it is not, \
2 on usage errors (including a path that cannot be read)."
)]
pub(crate) struct ValidateArgs {
    /// The schema: a .prisma file, or a directory read recursively.
    #[arg(long, value_name = "FILE|DIR")]
    pub schema: PathBuf,
    /// Print a one-line summary on stdout when the schema is valid.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &ValidateArgs) -> i32 {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let files = match prisma::load(&args.schema, &mut sources, &mut diags) {
        Ok(files) => files,
        Err(e) => {
            eprint!("{}", e.render(stderr_wants_color()));
            return 2;
        }
    };
    let schema = prisma::analyze(&files, &mut diags);
    if !diags.is_empty() {
        diags.sort();
        eprint!("{}", diags.render(&sources, stderr_wants_color()));
    }
    if diags.has_errors() {
        return 1;
    }
    if args.verbose {
        println!(
            "{}: valid ({} file(s), {} model(s), {} view(s), {} enum(s))",
            args.schema.display(),
            files.len(),
            schema.plain_models().count(),
            schema.views().count(),
            schema.enums.len()
        );
    }
    0
}
