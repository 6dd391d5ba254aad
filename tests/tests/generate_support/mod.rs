//! Shared by the `generate_*` tests: case discovery, running the generator
//! on a case, blessing expected files.
#![allow(dead_code)]

use idpviews_build::generate::{GeneratedPackage, Generator};
use idpviews_build::Error;
use std::path::{Path, PathBuf};

/// `IDPVIEWS_BLESS=1`: rewrite expected files instead of comparing.
pub fn blessing() -> bool {
    std::env::var_os("IDPVIEWS_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

/// The case directories under `tests/cases/<kind>`, sorted.
pub fn cases(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("cases")
        .join(kind);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// A case's schema: `schema/` (multi-file) or `schema.prisma`.
pub fn schema_path(case: &Path) -> PathBuf {
    let dir = case.join("schema");
    if dir.is_dir() {
        dir
    } else {
        case.join("schema.prisma")
    }
}

/// A generator for a case, writing to `out`; `args` (one per line) may
/// hold `--allow-breaking`.
pub fn generator(case: &Path, out: &Path) -> Generator {
    let args = std::fs::read_to_string(case.join("args")).unwrap_or_default();
    Generator::new(schema_path(case), case.join("idp-views.toml"), out)
        .allow_breaking(args.lines().any(|l| l.trim() == "--allow-breaking"))
}

pub fn generate(case: &Path, out: &Path) -> Result<GeneratedPackage, Error> {
    generator(case, out).generate()
}

/// Text with the case directory (and `/`) stripped from paths.
pub fn relative(case: &Path, text: &str) -> String {
    text.replace(&format!("{}/", case.display()), "")
}

/// Compares `actual` with the file `expected` (or writes it when blessing);
/// returns a description of the mismatch.
pub fn compare(expected: &Path, actual: &str) -> Option<String> {
    if blessing() {
        std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
        std::fs::write(expected, actual).unwrap();
        return None;
    }
    let want = std::fs::read_to_string(expected).unwrap_or_default();
    (want != actual).then(|| {
        format!(
            "{} differs from the output (rerun with IDPVIEWS_BLESS=1 to accept the new output):\n{}",
            expected.display(),
            idpviews_build::drift::unified_diff("expected", "actual", &want, actual)
        )
    })
}

/// Copies every file of `from` into `to` (flat).
pub fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}
