//! Prisma 7's own validator and formatter, for tests.
//!
//! The Prisma CLI is pinned in `tools/prisma/package.json` (+ `package-lock.json`) and installed
//! with `npm ci --ignore-scripts --prefix tools/prisma` (`.ci/run` does it; [`cli`] does it too
//! when the first test needs it). Every Prisma 7 CLI
//! command first tries to download a native schema engine and fails offline, unless
//! `PRISMA_SCHEMA_ENGINE_BINARY` names an existing file: `validate` and `format` then use the wasm
//! engine bundled in the package, so these helpers set it (to `tools/prisma/package.json`).
//! They run with `tools/prisma` as the working directory, which has no `prisma.config.ts`, so
//! nothing else is loaded; Prisma 7 wants no `url` in the `datasource` block.
//!
//! Each call starts Node (about 0.8 s).

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tools/prisma` of this workspace, or `$IDPVIEWS_PRISMA_DIR` when set.
pub fn tool_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IDPVIEWS_PRISMA_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new(env!("CARGO_MANIFEST_DIR")))
        .join("tools")
        .join("prisma")
}

/// The `prisma` CLI of [`tool_dir`]. When it is not installed yet, installs the pinned
/// version once (`npm ci --ignore-scripts` in [`tool_dir`], under a file lock so parallel test
/// processes do not race), so that `cargo test --workspace` works on a fresh clone; without npm,
/// or when the install fails, a message saying how to install it.
pub fn cli() -> Result<PathBuf, String> {
    let dir = tool_dir();
    let bin = dir.join("node_modules").join(".bin").join("prisma");
    if bin.exists() {
        return Ok(bin);
    }
    let how = format!(
        "the Prisma CLI is not installed: `{}` does not exist.\n\
         Run `npm ci --ignore-scripts --prefix tools/prisma` at the repository root \
         (needs Node.js >= 20.19 and npm; `.ci/run` does it).",
        bin.display()
    );
    install(&dir).map_err(|e| format!("{how}\nInstalling it automatically failed: {e}"))?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(how)
    }
}

/// `npm ci --ignore-scripts` in `dir`, once across processes (an exclusive lock on
/// `dir/.install.lock`; whoever waited finds it installed).
fn install(dir: &Path) -> Result<(), String> {
    let lock_path = dir.join(".install.lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| format!("cannot create `{}`: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock `{}`: {e}", lock_path.display()))?;
    if dir
        .join("node_modules")
        .join(".bin")
        .join("prisma")
        .exists()
    {
        return Ok(());
    }
    eprintln!(
        "idpviews-testdb: installing the pinned Prisma CLI (npm ci --ignore-scripts in {})",
        dir.display()
    );
    let out = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run npm ({e})"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`npm ci` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

/// Removes ANSI escape sequences (in case the CLI colours its output anyway).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Runs `prisma <args> --schema <schema>`; `Ok(output)` on exit 0, `Err(output)` otherwise.
fn run(args: &[&str], schema: &Path) -> Result<String, String> {
    let bin = cli()?;
    let dir = tool_dir();
    let schema = std::path::absolute(schema).unwrap_or_else(|_| schema.to_path_buf());
    if !schema.exists() {
        return Err(format!("`{}` does not exist", schema.display()));
    }
    let out = Command::new(&bin)
        .args(args)
        .arg("--schema")
        .arg(&schema)
        .current_dir(&dir)
        .env("PRISMA_SCHEMA_ENGINE_BINARY", dir.join("package.json"))
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "0")
        .env("CHECKPOINT_DISABLE", "1")
        .env("PRISMA_HIDE_UPDATE_MESSAGE", "1")
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "cannot run `{}` ({e}); is Node.js installed and on PATH?",
                bin.display()
            )
        })?;
    let text = strip_ansi(&format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ));
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "`prisma {} --schema {}` failed ({}):\n{}",
            args.join(" "),
            schema.display(),
            out.status,
            text.trim_end()
        ))
    }
}

/// `prisma validate --schema <file or directory>`: `Err` holds Prisma's diagnostics.
pub fn validate(schema: impl AsRef<Path>) -> Result<(), String> {
    run(&["validate"], schema.as_ref()).map(|_| ())
}

/// `prisma format --schema <file or directory>`: formats the file(s) in place.
pub fn format(schema: impl AsRef<Path>) -> Result<(), String> {
    run(&["format"], schema.as_ref()).map(|_| ())
}

/// `prisma format --check --schema <file or directory>`: `Ok` when already formatted.
pub fn format_check(schema: impl AsRef<Path>) -> Result<(), String> {
    run(&["format", "--check"], schema.as_ref()).map(|_| ())
}

/// `prisma generate --schema <file or directory>`: writes Prisma Client where the schema's
/// `generator` block says (`output`, relative to the schema). Works offline with the
/// `prisma-client` generator (TypeScript output; add `moduleFormat = "cjs"` to run it with
/// [`run_script`]).
pub fn generate(schema: impl AsRef<Path>) -> Result<(), String> {
    run(&["generate"], schema.as_ref()).map(|_| ())
}

/// Runs a TypeScript (or JavaScript) file with Node through `jiti` (pinned in `tools/prisma`),
/// with `NODE_PATH` set to `tools/prisma/node_modules` so that the script and a client generated
/// next to it resolve `@prisma/client`, `@prisma/adapter-pg` and `pg` without a `package.json` of
/// their own, and jiti's default interop off (it hides Prisma's errors). `env` is added to the
/// environment (e.g. `DATABASE_URL`). Returns stdout on exit 0.
pub fn run_script(script: impl AsRef<Path>, env: &[(&str, &str)]) -> Result<String, String> {
    cli()?;
    let dir = tool_dir();
    let jiti = dir.join("node_modules").join(".bin").join("jiti");
    let script = script.as_ref();
    let mut cmd = Command::new(&jiti);
    cmd.arg(script)
        .current_dir(script.parent().unwrap_or(Path::new(".")))
        .env("NODE_PATH", dir.join("node_modules"))
        .env("NO_COLOR", "1")
        .env("CHECKPOINT_DISABLE", "1")
        // jiti's default interop turns every Prisma error into
        // "TypeError: Cannot read properties of undefined (reading 'sep')".
        .env("JITI_INTEROP_DEFAULT", "0")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run `{}` ({e})", jiti.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "`jiti {}` failed ({}):\n{stdout}{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// What `prisma format` makes of `source` (a single-file schema).
pub fn format_str(source: &str) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!(
        "idpviews-prisma-{}-{}",
        std::process::id(),
        crate::unique_suffix()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let file = dir.join("schema.prisma");
    let result = std::fs::write(&file, source)
        .map_err(|e| format!("cannot write {}: {e}", file.display()))
        .and_then(|()| format(&file))
        .and_then(|()| {
            std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))
        });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_ansi_sequences() {
        assert_eq!(strip_ansi("\u{1b}[1;91merror\u{1b}[0m: x"), "error: x");
    }

    #[test]
    fn tool_dir_is_in_the_workspace() {
        if std::env::var_os("IDPVIEWS_PRISMA_DIR").is_none() {
            assert!(
                tool_dir().join("package.json").exists(),
                "{}",
                tool_dir().display()
            );
        }
    }
}
