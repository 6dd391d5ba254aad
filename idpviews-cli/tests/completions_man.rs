//! `idpviews completions <shell>` and `idpviews man`: generated from the
//! CLI definition, so every subcommand appears in them.

use std::process::Command;

fn idpviews(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_idpviews"))
        .args(args)
        .output()
        .unwrap()
}

/// The subcommands as `idpviews --help` lists them (not a copy of the enum).
fn subcommands() -> Vec<String> {
    let out = idpviews(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let section = help
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands section in --help");
    let names: Vec<String> = section
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect();
    for expected in [
        "validate",
        "generate",
        "apply",
        "verify",
        "completions",
        "man",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }
    names
}

#[test]
fn completion_scripts_name_every_subcommand() {
    let names = subcommands();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef idpviews"),
        ("fish", "complete -c idpviews"),
        ("elvish", "edit:completion:arg-completer[idpviews]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = idpviews(&["completions", shell]);
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell} script lacks `{marker}`");
        for name in &names {
            assert!(
                script.contains(name.as_str()),
                "{shell} script lacks `{name}`"
            );
        }
    }
    // Subcommand flags are completed too.
    let bash = String::from_utf8(idpviews(&["completions", "bash"]).stdout).unwrap();
    assert!(bash.contains("--schema"));
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = idpviews(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'tcsh'"));
}

#[test]
fn man_page_lists_every_subcommand() {
    let names = subcommands();
    let out = idpviews(&["man"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH idpviews 1"),
        "{page}"
    );
    assert!(page.contains(".TH idpviews 1"));
    assert!(page.contains("SUBCOMMANDS"));
    for name in &names {
        assert!(
            // roff escapes every hyphen: `idpviews\-wrap\-migration(1)`
            page.contains(&format!("idpviews\\-{}(1)", name.replace('-', "\\-"))),
            "man page lacks `{name}`:\n{page}"
        );
    }
}

#[test]
fn man_dir_writes_one_page_per_subcommand() {
    let names = subcommands();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("man1");
    let out = idpviews(&["man", "--dir", target.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let top = std::fs::read_to_string(target.join("idpviews.1")).unwrap();
    assert!(top.contains(".TH idpviews 1"));
    for name in &names {
        let page = std::fs::read_to_string(target.join(format!("idpviews-{name}.1")))
            .unwrap_or_else(|e| panic!("idpviews-{name}.1: {e}"));
        assert!(page.contains(&format!(".TH idpviews-{name} 1")), "{page}");
    }
    // Unwritable target: exit 1 with a message, no panic.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = idpviews(&["man", "--dir", file.join("sub").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write the manual pages"));
}
