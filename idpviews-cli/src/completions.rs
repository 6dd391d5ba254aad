//! `idpviews completions <shell>`: a shell completion script, generated
//! from the command's own definition (clap_complete).

use std::io::Write;

/// Print a shell completion script for idpviews.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Prints a completion script for the given shell on stdout, generated from \
this command's own definition, so it always matches the installed version. Install it once:\n\n  \
bash: idpviews completions bash > ~/.local/share/bash-completion/completions/idpviews\n  \
zsh:  idpviews completions zsh > ~/.zfunc/_idpviews  (with fpath+=~/.zfunc in ~/.zshrc)\n  \
fish: idpviews completions fish > ~/.config/fish/completions/idpviews.fish\n\n\
Exit status: 0, or 1 when stdout cannot be written, 2 on usage errors."
)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Runs the command for the CLI definition `command`; returns the exit status.
pub(crate) fn run(args: &CompletionsArgs, mut command: clap::Command) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "idpviews", &mut script);
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&script).and_then(|()| stdout.flush()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot write the completion script: {e}");
            1
        }
    }
}
