//! `idpviews man`: manual pages in roff, generated from the command's own
//! definition (clap_mangen).

use std::io::Write;
use std::path::PathBuf;

/// Print the idpviews manual page, or write one per subcommand.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Prints the manual page idpviews(1) in roff on stdout, generated from this \
command's own definition. With --dir, writes idpviews.1 and one page per subcommand \
(idpviews-apply.1, ...) into that directory instead. Install them once:\n\n  \
idpviews man --dir ~/.local/share/man/man1\n\n\
then `man idpviews` or `man idpviews-apply`.\n\n\
Exit status: 0, 1 when the pages cannot be written, 2 on usage errors."
)]
pub(crate) struct ManArgs {
    /// Write idpviews.1 and idpviews-SUBCOMMAND.1 into this directory
    /// (created if missing) instead of printing idpviews.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Runs the command for the CLI definition `command`; returns the exit status.
pub(crate) fn run(args: &ManArgs, command: clap::Command) -> i32 {
    let result = match &args.dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(command, dir))
            .map_err(|e| format!("cannot write the manual pages to {}: {e}", dir.display())),
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .and_then(|()| {
                    let mut stdout = std::io::stdout().lock();
                    stdout.write_all(&page)?;
                    stdout.flush()
                })
                .map_err(|e| format!("cannot write the manual page: {e}"))
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
