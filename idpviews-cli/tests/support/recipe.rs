//! The README's "Machine-readable reports" recipe, run for real: its `jq`
//! filters on the documents the command printed.

#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

/// The `jq` filter (between single quotes) of the recipe's line containing `needle`.
pub fn readme_jq_filter(needle: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let start = readme
        .find("**Machine-readable reports.**")
        .expect("the machine-readable reports recipe");
    let line = readme[start..]
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .find(|l| l.contains("jq ") && l.contains(needle))
        .unwrap_or_else(|| panic!("no jq line with `{needle}` in the recipe"));
    line.split('\'').nth(1).expect("a quoted filter").to_owned()
}

/// `jq -r <filter>` on `doc`: its output.
pub fn jq(filter: &str, doc: &Value) -> String {
    let mut child = Command::new("jq")
        .args(["-r", filter])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run jq ({e}): install it (apt-get install jq)"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "jq {filter}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
