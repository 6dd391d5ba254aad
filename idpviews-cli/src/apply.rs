//! `idpviews apply`: create or upgrade the views in a database.

use crate::database::DatabaseArgs;

/// Create or upgrade the views of a package in a database.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Runs the package's SQL in one transaction under a transaction-level advisory \
lock: idempotent, and safe when many services apply at the same time. An upgrade that only \
appends columns is applied in place; a change CREATE OR REPLACE VIEW cannot make (a dropped, \
renamed, reordered or retyped column) is refused before anything runs, naming the view and \
column and the fix, and the database is left as it was.\n\n\
Exit status: 0 when applied, 1 when refused or the database failed, 2 on usage errors."
)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &ApplyArgs) -> i32 {
    let (package, mut client) = match args.db.open() {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    match idpviews::apply(&mut client, &package) {
        Ok(applied) => {
            print!("{applied}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
