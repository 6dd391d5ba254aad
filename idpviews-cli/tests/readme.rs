//! The README is the front door: what it shows must work. These tests read
//! README.md and check its CLI reference, its `idp-views.toml` and
//! `idp-relations.conf` snippets and its `build.rs` snippet against the real
//! command and the example crates.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// The fenced code blocks of a language, in order.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        match &mut cur {
            None if line.trim_start() == format!("```{lang}") => cur = Some(String::new()),
            Some(_) if line.trim_start() == "```" => out.push(cur.take().unwrap()),
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

fn idpviews(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_idpviews"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

#[test]
fn every_command_and_flag_of_the_cli_reference_exists() {
    let readme = readme();
    let rows: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("| `idpviews "))
        .collect();
    assert!(rows.len() >= 7, "CLI reference table not found");
    for row in rows {
        let usage = row.split('`').nth(1).unwrap();
        // The command path: `replica publish` for a subcommand of a subcommand.
        let path: Vec<&str> = usage
            .split_whitespace()
            .skip(1)
            .take_while(|w| {
                w.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !w.starts_with('-')
            })
            .collect();
        let command = path.join(" ");
        let mut args = path.clone();
        args.push("--help");
        let out = idpviews(&args);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "`idpviews {command} --help` failed");
        for flag in usage
            .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
            .filter(|w| w.starts_with("--"))
        {
            assert!(
                help.contains(flag),
                "README documents `{flag}` for `idpviews {command}`, its --help does not:\n{help}"
            );
        }
    }
}

#[test]
fn the_allowlist_snippet_generates_the_example_package() {
    let readme = readme();
    let toml = blocks(&readme, "toml")
        .into_iter()
        .find(|b| b.contains("[views.IdpUser]"))
        .expect("the idp-views.toml snippet");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("idp-views.toml");
    std::fs::write(&config, &toml).unwrap();
    let out_dir = dir.path().join("out");
    let out = idpviews(&[
        "generate",
        "--schema",
        "example-idp/prisma/schema",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The snippet's IdpUser is the example's: same view, same columns.
    let generated = std::fs::read_to_string(out_dir.join("idp-views.prisma")).unwrap();
    let example =
        std::fs::read_to_string(root().join("example-idp/packages/idp-views/idp-views.prisma"))
            .unwrap();
    let idp_user = |s: &str| {
        let start = s.find("view IdpUser {").unwrap();
        s[start..start + s[start..].find("\n}").unwrap()].to_string()
    };
    assert_eq!(idp_user(&generated), idp_user(&example));
}

#[test]
fn the_relations_snippet_merges_with_the_example_product() {
    let readme = readme();
    let conf = blocks(&readme, "text")
        .into_iter()
        .find(|b| b.contains("IdpUser:drivers Driver[]"))
        .expect("the idp-relations.conf snippet");
    let dir = tempfile::tempdir().unwrap();
    let conf_path = dir.path().join("idp-relations.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let out_file = dir.path().join("idp-views.prisma");
    let out = idpviews(&[
        "merge",
        "--views",
        "example-idp/packages/idp-views",
        "--relations",
        conf_path.to_str().unwrap(),
        "--out",
        out_file.to_str().unwrap(),
        "--product-schema",
        "example-product/prisma/schema",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        std::fs::read_to_string(root().join("example-product/prisma/schema/idp-views.prisma"))
            .unwrap(),
        "the README's relations give the example product's committed merged file"
    );
}

#[test]
fn the_build_script_snippet_uses_the_calls_the_example_compiles() {
    let readme = readme();
    let snippet = blocks(&readme, "rust")
        .into_iter()
        .find(|b| b.contains("idpviews_build::Product::new()"))
        .expect("the build.rs snippet");
    let example = std::fs::read_to_string(root().join("example-product/build.rs")).unwrap();
    for call in [
        ".views_dir(",
        ".relations(\"idp-relations.conf\")",
        ".product_schema(\"prisma/schema\")",
        ".committed(\"prisma/schema/idp-views.prisma\")",
        ".compile_or_exit()",
    ] {
        assert!(snippet.contains(call), "README build.rs lacks {call}");
        assert!(example.contains(call), "example build.rs lacks {call}");
    }
}

#[test]
fn the_machine_readable_recipe_reads_fields_the_schemas_define() {
    let readme = readme();
    let recipe = blocks(&readme, "sh")
        .into_iter()
        .find(|b| b.contains("--format json"))
        .expect("the machine-readable reports recipe");
    let mut properties = std::collections::BTreeSet::new();
    fn collect(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                    out.extend(props.keys().cloned());
                }
                map.values().for_each(|x| collect(x, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    for file in ["verify", "audit", "apply", "replica-status"] {
        let text =
            std::fs::read_to_string(root().join(format!("docs/schema/{file}.v1.json"))).unwrap();
        collect(&serde_json::from_str(&text).unwrap(), &mut properties);
    }
    let mut fields = 0;
    for line in recipe.lines().filter(|l| l.contains("jq")) {
        let filter = line.split('\'').nth(1).unwrap_or("");
        let mut rest = filter;
        while let Some(i) = rest.find('.') {
            rest = &rest[i + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                fields += 1;
                assert!(
                    properties.contains(&name),
                    "the README's recipe reads `.{name}`, which no schema in docs/schema defines"
                );
            }
        }
    }
    assert!(fields >= 10, "only {fields} fields found in the recipe");
    for line in recipe.lines().filter(|l| l.starts_with("idpviews ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let command: Vec<&str> = words[1..]
            .iter()
            .take_while(|w| !w.starts_with('-'))
            .copied()
            .collect();
        let mut args = command.clone();
        args.push("--help");
        let help = String::from_utf8_lossy(&idpviews(&args).stdout).into_owned();
        for flag in words.iter().filter(|w| w.starts_with("--")) {
            assert!(
                help.contains(flag),
                "`idpviews {}` has no {flag}",
                command.join(" ")
            );
        }
    }
}
