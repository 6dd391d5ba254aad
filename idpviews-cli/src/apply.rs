//! `idpviews apply`: create or upgrade the views in a database.

use crate::database::DatabaseArgs;
use crate::format::{self, Failure, Format, FormatArgs};
use idpviews::ApplyOptions;
use std::time::Duration;

/// Create or upgrade the views of a package in a database.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Applies the package in one transaction under a transaction-level advisory \
lock: safe when many services apply at the same time. Views that already match the package \
(per the applied record in the schema comment and PostgreSQL's own view definition) are not \
touched and not locked: re-applying an applied package changes nothing and never blocks readers. \
When the database holds a newer package that extends this one (appended columns, added views, \
added enum labels), nothing is done and the output says so. Views that change are locked \
together within the lock timeout; an upgrade that only appends columns is applied in place; a \
change CREATE OR REPLACE VIEW cannot make (a dropped, renamed, reordered or retyped column) is \
refused before anything runs, naming the view, the column and the fix.\n\n\
Every wait is bounded: the lock timeout per attempt (--lock-timeout), --retries attempts more \
with backoff, statement_timeout and idle_in_transaction_session_timeout on the session. When it \
gives up, nothing was changed and the message names the blocking sessions (pid, user, \
application_name, state, since when, query start) and how to proceed.\n\n\
With --format json: one `idpviews.apply/1` document (docs/schema/apply.v1.json), a refusal or a \
blocked apply included (the blocking sessions as fields).\n\n\
Exit status: 0 when applied (or nothing to do), 1 when refused, blocked or the database failed, \
2 on usage errors."
)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Longest wait for the locks of one attempt, e.g. `3s`, `500ms`
    /// (readers of a view that changes wait at most this long).
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
    /// Attempts after the first when a lock wait times out (backoff 0.5 s, doubling).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    #[command(flatten)]
    pub output: FormatArgs,
}

/// `3s`, `500ms`, `2m` or a number of seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((s, "s"), |i| (&s[..i], s[i..].trim()));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 3s, 500ms, 2m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ms, s, m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{s}`: {e}"))
}

/// Runs the command; returns the process exit status.
pub(crate) fn run(args: &ApplyArgs) -> i32 {
    let format = args.output.format;
    let options = ApplyOptions::default()
        .lock_timeout(args.lock_timeout)
        .retries(args.retries);
    let applied = args.db.open().and_then(|(package, mut client)| {
        idpviews::apply_with(&mut client, &package, &options).map_err(|e| Failure::from_error(&e))
    });
    match applied {
        Ok(applied) => {
            match format {
                Format::Text => print!("{applied}"),
                Format::Json => format::emit(&format::applied(&applied)),
            }
            0
        }
        Err(failure) => failure.report(format, format::APPLY),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("3 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
