//! Diagnostics of `idpviews generate`, one case per guard:
//! `tests/cases/generate-diagnostics/<case>/` holds the IDP schema
//! (`schema.prisma` or `schema/`), `idp-views.toml`, an optional
//! `previous/` package (used as the output directory, for the
//! breaking-change guard), optional `args` (`--allow-breaking`), and
//! `expected.txt`: the rendered diagnostics (paths relative to the case).
//! A case that generates (warnings only) starts its `expected.txt` with
//! `ok`. One test per case (`tests/build.rs`); `IDPVIEWS_BLESS=1` rewrites
//! the expected files.

mod generate_support;

use generate_support::*;
use idpviews_tests::golden::{relative, Golden};
use std::path::Path;

fn rendered(case: &Path) -> String {
    let out = case.join("previous");
    match generate(case, &out) {
        Ok(p) => format!("ok\n{}", p.render_warnings(false).unwrap_or_default()),
        Err(e) => e.render(false),
    }
}

idpviews_tests::include_cases!("generate_diagnostics");

/// One case: the rendered diagnostics equal `expected.txt`, and nothing
/// is written.
fn run_case(case: &Path) {
    let mut golden = Golden::new("generate_diagnostics", case);
    let count = || {
        std::fs::read_dir(case)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != "expected.txt")
            .count()
    };
    let before = count();
    let actual = relative(case, &rendered(case));
    golden.check(&case.join("expected.txt"), &actual);
    assert_eq!(before, count(), "{} wrote files", case.display());
    assert!(!actual.contains("panicked"), "{actual}");
    golden.finish();
}

/// Every error diagnostic of every case points at a line (of the TOML or
/// the schema) and says how to fix it, except the few about files as a
/// whole (a removed view, a removed enum value, an unreadable manifest).
#[test]
fn every_error_points_at_a_line_and_helps() {
    for case in case_dirs("generate-diagnostics") {
        let Err(idpviews_build::Error::Diagnostics { diagnostics, .. }) =
            generate(&case, &case.join("previous"))
        else {
            continue;
        };
        for d in diagnostics.iter() {
            let whole_file =
                d.message.contains("was removed") || d.message.contains("previous manifest");
            if !whole_file {
                assert!(
                    d.span.is_some(),
                    "{}: no span: {}",
                    case.display(),
                    d.message
                );
            }
            let from_parser = case.ends_with("schema_errors");
            if !from_parser {
                assert!(
                    d.help.is_some(),
                    "{}: no help: {}",
                    case.display(),
                    d.message
                );
            }
        }
    }
}

#[test]
fn secret_words_are_refused_case_insensitively() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.prisma");
    std::fs::write(
        &schema,
        "model A {\n  id Int @id\n  PASSWORD String\n  userPinCode String\n  MfaSecret String\n  shippingAddress String\n}\n",
    )
    .unwrap();
    let config = dir.path().join("idp-views.toml");
    std::fs::write(
        &config,
        "[views.V]\nmodel = \"A\"\nfields = [\"id\", \"PASSWORD\", \"userPinCode\", \"MfaSecret\", \"shippingAddress\"]\n",
    )
    .unwrap();
    let err = idpviews_build::generate::Generator::new(&schema, &config, dir.path().join("out"))
        .generate()
        .unwrap_err();
    let text = err.render(false);
    for f in ["PASSWORD", "userPinCode", "MfaSecret"] {
        assert!(
            text.contains(&format!("field `{f}` of `A` holds a secret")),
            "{text}"
        );
    }
    assert_eq!(text.matches("holds a secret").count(), 3, "{text}");
    assert!(!text.contains("field `shippingAddress`"), "{text}");
    assert!(
        !dir.path().join("out").exists(),
        "a failed run writes nothing"
    );
}
