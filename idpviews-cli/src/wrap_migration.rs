//! `idpviews wrap-migration`: make an IDP migration run with the views in place.

use crate::apply::parse_duration;
use idpviews::Package;
use std::path::PathBuf;
use std::time::Duration;

/// Wrap an IDP Prisma migration that changes what the views read.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Rewrites the IDP's migration.sql (from `prisma migrate dev --create-only`, before \
it is applied anywhere) so that it runs with the views in place. PostgreSQL refuses ALTER COLUMN \
... TYPE and DROP COLUMN on a column a view reads; Prisma Migrate sends the whole file to \
PostgreSQL in one message, which runs as one transaction. The wrapped file relies on that \
(no BEGIN/COMMIT of its own; by hand run it with psql -1 -v ON_ERROR_STOP=1 -f): it takes the views' advisory lock with a lock timeout, finds (at run time, from \
pg_depend) exactly the views that read a changed column or a dropped/renamed table, refuses with \
the list when a product object depends on one of them (never CASCADE), drops them, runs the \
migration unchanged, re-creates them from the new views package and updates the applied \
record. Readers wait, they never see a missing view.\n\n\
A migration that changes no table the views read is left as it is. Statements that cannot be \
wrapped are refused: the file's own BEGIN/COMMIT, CREATE INDEX CONCURRENTLY, DROP ... CASCADE.\n\n\
Exit status: 0 when wrapped or nothing to do, 1 when refused, 2 on usage errors."
)]
pub(crate) struct WrapMigrationArgs {
    /// The NEW views package (generated from the migrated Prisma schema).
    #[arg(long, value_name = "DIR")]
    pub views: PathBuf,
    /// The migration file, rewritten in place.
    #[arg(value_name = "MIGRATION.SQL")]
    pub migration: PathBuf,
    /// Longest wait for a lock while the migration runs.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
    /// Print the wrapped migration instead of rewriting the file.
    #[arg(long)]
    pub stdout: bool,
    /// Also check this database now: refuse when a product object depends
    /// on a view the migration would drop (the wrapped file checks again
    /// when it runs). Not read from DATABASE_URL.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &WrapMigrationArgs) -> i32 {
    let package = match Package::from_dir(&args.views) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let path = args.migration.display();
    let text = match std::fs::read_to_string(&args.migration) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{path}`: {e}");
            return 2;
        }
    };
    let wrapped = match idpviews::migration::wrap(&package, &text, args.lock_timeout) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {path}:{e}");
            return 1;
        }
    };
    let Some(sql) = wrapped.sql.clone() else {
        println!("{path}: changes no table the views read: nothing to wrap (left as it is)");
        return 0;
    };
    if let Some(url) = &args.database_url {
        let found = idpviews::connect_url(url).and_then(|mut client| {
            idpviews::migration::dependents(&mut client, &package, &wrapped)
        });
        match found {
            Ok(found) if found.is_empty() => {}
            Ok(found) => {
                eprintln!(
                    "error: {path}: the migration must drop views that product objects depend on \
                     (never CASCADE); drop or change those objects first, in the product's own \
                     migration:"
                );
                for (view, object) in found {
                    eprintln!("  - {view}: {object}");
                }
                return 1;
            }
            Err(e) => {
                eprintln!("error: {}", idpviews::error_chain(&e));
                return 1;
            }
        }
    }
    if args.stdout {
        print!("{sql}");
        return 0;
    }
    // write next to it, then rename: the file is either old or new
    let tmp = args.migration.with_extension("sql.idpviews-tmp");
    if let Err(e) = std::fs::write(&tmp, &sql).and_then(|()| std::fs::rename(&tmp, &args.migration))
    {
        let _ = std::fs::remove_file(&tmp);
        eprintln!("error: cannot write `{path}`: {e}");
        return 1;
    }
    let changes: Vec<String> = wrapped
        .touched
        .iter()
        .map(|t| match &t.column {
            Some(c) => format!("{}.{c}", t.table.join(".")),
            None => t.table.join("."),
        })
        .collect();
    println!(
        "{path}: wrapped; it changes {} read by view(s) {}: those that read them are dropped and \
         re-created from the new package when it runs",
        changes.join(", "),
        wrapped.views.join(", ")
    );
    0
}
