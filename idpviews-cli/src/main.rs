//! `idpviews`: the command-line tool.
//!
//! One subcommand per module; each returns the process exit status
//! (0 success, 1 problems found, 2 usage errors — clap exits with 2 itself
//! on bad arguments). Add a command by adding a module with an `Args`
//! struct and a `run` function, and a variant to [`Command`].

// Output that never panics: the standard `print!`/`println!`/`eprint!`/
// `eprintln!` panic when the other end of the pipe is gone
// (`idpviews apply | head -1`). These shadow them in every module below:
// a closed stdout or stderr is ignored, the command finishes its work and
// returns its own exit status.
macro_rules! print {
    ($($arg:tt)*) => { $crate::output::out(format_args!($($arg)*)) };
}
macro_rules! println {
    () => { $crate::output::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::out(format_args!("{}\n", format_args!($($arg)*))) };
}
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::output::err(format_args!($($arg)*)) };
}
macro_rules! eprintln {
    () => { $crate::output::err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::err(format_args!("{}\n", format_args!($($arg)*))) };
}

mod output {
    use std::io::Write;

    pub(crate) fn out(args: std::fmt::Arguments<'_>) {
        let _ = std::io::stdout().lock().write_fmt(args);
    }

    pub(crate) fn err(args: std::fmt::Arguments<'_>) {
        let _ = std::io::stderr().lock().write_fmt(args);
    }
}

mod apply;
mod audit;
mod completions;
mod database;
mod format;
mod generate;
mod grants;
mod man;
mod merge;
mod replica;
mod validate;
mod verify;
mod wrap_migration;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Exposes an allowlist of an identity provider's Prisma models as
/// read-only PostgreSQL views, and keeps products in sync with them.
#[derive(Parser, Debug)]
#[command(name = "idpviews", version, about, long_about = None)]
#[command(propagate_version = true, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands; each one's help text lives on its `Args` struct.
#[derive(Subcommand, Debug)]
enum Command {
    Validate(validate::ValidateArgs),
    Generate(generate::GenerateArgs),
    Merge(merge::MergeArgs),
    Apply(apply::ApplyArgs),
    Verify(verify::VerifyArgs),
    Grants(grants::GrantsArgs),
    Audit(audit::AuditArgs),
    WrapMigration(wrap_migration::WrapMigrationArgs),
    Replica(replica::ReplicaArgs),
    Completions(completions::CompletionsArgs),
    Man(man::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Grants(args) => grants::run(args),
        Command::Audit(args) => audit::run(args),
        Command::WrapMigration(args) => wrap_migration::run(args),
        Command::Replica(args) => replica::run(args),
        Command::Completions(args) => completions::run(args, Cli::command()),
        Command::Man(args) => man::run(args, Cli::command()),
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
