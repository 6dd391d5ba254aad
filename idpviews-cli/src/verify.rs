//! `idpviews verify`: compare a live database with a package.

use crate::database::DatabaseArgs;
use crate::format::{self, Failure, Format, FormatArgs};

/// Check that a database holds the views a package expects.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Compares the database with the views package: every view exists in the views \
schema with the expected columns, in order, with compatible types; the enum types hold at least \
the labels the package knows (extra labels are a warning: they decode as Unknown); every view is \
read-only (checked in the catalog, nothing is written); tenant-isolated views keep their \
isolation (the tenant filter and column masks in the view, set_tenant and current_tenant as the \
package creates them). Reads only the system catalogs, so a product role can run it.\n\n\
Prints a table, or with --format json one `idpviews.verify/1` document (docs/schema/verify.v1.json), \
errors included. Exit status: 0 when the database matches (warnings allowed), 1 when it does not \
or the database failed, 2 on usage errors."
)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[command(flatten)]
    pub output: FormatArgs,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &VerifyArgs) -> i32 {
    let format = args.output.format;
    let report = args.db.open().and_then(|(package, mut client)| {
        idpviews::verify(&mut client, &package).map_err(|e| Failure::from_error(&e))
    });
    match report {
        Ok(report) => {
            match format {
                Format::Text => println!("{report}"),
                Format::Json => format::emit(&format::verify_report(&report)),
            }
            if report.is_ok() {
                0
            } else {
                1
            }
        }
        Err(failure) => failure.report(format, format::VERIFY),
    }
}
