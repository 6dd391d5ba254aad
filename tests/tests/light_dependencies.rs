//! What a product compiles stays small (README, "What a product compiles"):
//! `example-product` uses the runtime and the light build dependency, and
//! its graph holds no TOML parser and no IDP-side generator; the runtime and
//! the proc macros depend on `idpviews-core`, not on the Prisma parser.

use std::process::Command;

/// `cargo tree <args>` in the workspace, held to the lock file (`--locked`;
/// `--target all` needs the manifests of every platform's dependencies,
/// which cargo downloads once if a build for this platform has not):
/// success, stdout, stdout and stderr.
fn cargo_tree(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO"))
        .arg("tree")
        .arg("--locked")
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run cargo tree");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.success(), stdout, all)
}

/// `cargo tree -i <package>` finds nothing: the package is not in the graph.
fn assert_absent(root: &str, edges: &str, package: &str) {
    let (ok, _, text) = cargo_tree(&["-p", root, "-e", edges, "--target", "all", "-i", package]);
    assert!(
        !ok && text.contains("did not match any packages"),
        "`{package}` is in the {edges} graph of `{root}`:\n{text}"
    );
}

#[test]
fn a_product_compiles_no_toml_parser() {
    assert_absent("example-product", "normal,build", "toml");
}

#[test]
fn runtime_and_macros_do_not_depend_on_the_parser() {
    assert_absent("idpviews", "normal,build", "idpviews-build");
    assert_absent("idpviews-macros", "normal,build", "idpviews-build");
}

#[test]
fn core_depends_on_serde_serde_json_and_sha2_only() {
    let (ok, text, all) = cargo_tree(&[
        "-p",
        "idpviews-core",
        "-e",
        "normal",
        "--depth",
        "1",
        "--prefix",
        "none",
    ]);
    assert!(ok, "{all}");
    let mut direct: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    direct.sort();
    direct.dedup();
    assert_eq!(direct, ["serde", "serde_json", "sha2"], "{text}");
}
