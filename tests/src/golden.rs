//! The golden-test harness of every golden and diagnostics suite
//! (`diagnostics`, `generate_golden`, `generate_diagnostics`,
//! `merge_golden`, `merge_diagnostics`).
//!
//! - Cases live under `tests/cases/<suite>/`; `tests/build.rs` generates one
//!   `#[test]` per case (include it with [`include_cases!`]), which calls
//!   the suite's `fn run_case(case: &Path)`.
//! - Expectations: rendered diagnostics in `expected.txt`, output files in
//!   `expected/<file name>`; parser cases (one `.prisma` file each) keep
//!   theirs in a trailing `// ` comment block (psl's convention).
//! - [`Golden::check`] compares; a mismatch fails the case with a unified
//!   diff and the command that blesses it. With `IDPVIEWS_BLESS=1` (and
//!   only `1`: [`idpviews_build::drift::bless_requested`]) it rewrites the
//!   expectation instead.

use std::path::{Path, PathBuf};

/// Includes the tests `tests/build.rs` generated for `suite` (the directory
/// name under `tests/cases/`, `-` written `_`).
#[macro_export]
macro_rules! include_cases {
    ($suite:literal) => {
        include!(concat!(env!("OUT_DIR"), "/golden/", $suite, ".rs"));
    };
}

/// Whether to rewrite expectations: `IDPVIEWS_BLESS=1`.
pub fn blessing() -> bool {
    idpviews_build::drift::bless_requested()
}

/// `tests/cases/<suite>`.
pub fn suite_dir(suite: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("cases")
        .join(suite)
}

/// The case directories (or files) of `suite` for which `keep` holds, sorted:
/// for the tests that check a property over all cases at once.
pub fn cases(suite: &str, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let dir = suite_dir(suite);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| keep(p))
        .collect();
    out.sort();
    out
}

/// `text` with `dir/` stripped from the paths in it.
pub fn relative(dir: &Path, text: &str) -> String {
    text.replace(&format!("{}/", dir.display()), "")
}

/// The comparisons of one case: collects every mismatch, then
/// [`Golden::finish`] fails the case once, with all of them.
pub struct Golden {
    /// `cargo test` arguments that run this case alone, for the bless hint.
    test: String,
    failures: Vec<String>,
}

impl Golden {
    /// `suite`: the test target (e.g. `merge_golden`); `case`: the case path.
    pub fn new(test_target: &str, case: &Path) -> Golden {
        let name = case
            .file_stem()
            .map(|n| {
                n.to_string_lossy()
                    .to_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            })
            .unwrap_or_default();
        Golden {
            test: format!("--test {test_target} {name}"),
            failures: Vec::new(),
        }
    }

    /// Compares `actual` with the file `expected` (a missing file is
    /// empty), or rewrites it when blessing.
    pub fn check(&mut self, expected: &Path, actual: &str) {
        let want = std::fs::read_to_string(expected).unwrap_or_default();
        self.compare(expected, &want, actual, |path, actual| {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, actual).unwrap();
        });
    }

    /// Compares `actual` with `want`, read from `file` by the caller (e.g.
    /// the comment block of a parser case); `bless` rewrites it.
    pub fn compare(
        &mut self,
        file: &Path,
        want: &str,
        actual: &str,
        bless: impl FnOnce(&Path, &str),
    ) {
        if want == actual {
            return;
        }
        if blessing() {
            bless(file, actual);
            println!("blessed {}", file.display());
            return;
        }
        self.failures.push(format!(
            "{} differs from the output:\n{}",
            file.display(),
            idpviews_build::drift::unified_diff("expected", "actual", want, actual)
        ));
    }

    /// A failure that is not a comparison (e.g. the run failed).
    pub fn fail(&mut self, message: impl Into<String>) {
        self.failures.push(message.into());
    }

    /// Panics with every mismatch and how to bless them.
    pub fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{}\n\nif the new output is right, bless it:\n    IDPVIEWS_BLESS=1 cargo test -p idpviews-tests {}\n",
            self.failures.join("\n"),
            self.test
        );
    }
}
