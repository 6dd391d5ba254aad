//! Shared by the `generate_*` tests: running the generator on a case.
#![allow(dead_code)]

use idpviews_build::generate::{GeneratedPackage, Generator};
use idpviews_build::Error;
use std::path::{Path, PathBuf};

/// The case directories of `cases/generate*`.
pub fn case_dirs(suite: &str) -> Vec<PathBuf> {
    idpviews_tests::golden::cases(suite, Path::is_dir)
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
