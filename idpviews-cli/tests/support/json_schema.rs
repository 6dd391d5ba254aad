//! A JSON Schema (draft 2020-12) validator for exactly the subset the report
//! schemas in `docs/schema/` use: `type`, `const`, `enum`, `properties`,
//! `required`, `additionalProperties`, `items`, `minimum`, `oneOf` and local
//! `$ref`s (`#/$defs/<name>`); `$schema`, `$id`, `title`, `description` and
//! `$defs` are annotations. Any other keyword is an error, so a schema can
//! never be checked only in part: a new keyword in a schema file means a
//! new rule here (or the `jsonschema` crate, which costs ~40 more crates to
//! build for four files that do not need more).

#![allow(dead_code)]

use serde_json::Value;

const ANNOTATIONS: &[&str] = &["$schema", "$id", "title", "description", "$defs"];
const KEYWORDS: &[&str] = &[
    "type",
    "const",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minimum",
    "oneOf",
    "$ref",
];

/// Reads `docs/schema/<file>`.
pub fn load(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/schema")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The problems of `doc` against `schema` (empty when it is valid), each
/// with the JSON pointer of the value concerned.
pub fn validate(schema: &Value, doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, doc, "", &mut errors);
    errors
}

/// Panics with the problems and the document when `doc` is not valid.
pub fn assert_valid(schema: &Value, doc: &Value) {
    let errors = validate(schema, doc);
    assert!(
        errors.is_empty(),
        "not valid against {}:\n{}\n{doc:#}",
        schema["$id"],
        errors.join("\n")
    );
}

fn resolve<'a>(root: &'a Value, reference: &str) -> &'a Value {
    let name = reference
        .strip_prefix("#/$defs/")
        .unwrap_or_else(|| panic!("unsupported $ref {reference} (only #/$defs/<name>)"));
    root["$defs"]
        .get(name)
        .unwrap_or_else(|| panic!("$ref {reference}: no such definition"))
}

fn type_matches(name: &str, v: &Value) -> bool {
    match name {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "object" => v.is_object(),
        "array" => v.is_array(),
        other => panic!("unknown type {other}"),
    }
}

fn check(root: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = schema
        .as_object()
        .unwrap_or_else(|| panic!("schema at {at} is not an object"));
    for key in schema.keys() {
        assert!(
            ANNOTATIONS.contains(&key.as_str()) || KEYWORDS.contains(&key.as_str()),
            "unsupported JSON Schema keyword `{key}` (schema for {at})"
        );
    }
    let pointer = if at.is_empty() { "/" } else { at };
    let fail = |errors: &mut Vec<String>, msg: String| errors.push(format!("{pointer}: {msg}"));
    if let Some(r) = schema.get("$ref") {
        check(root, resolve(root, r.as_str().unwrap()), v, at, errors);
    }
    if let Some(t) = schema.get("type") {
        let names: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|n| n.as_str().unwrap()).collect(),
            _ => panic!("bad type at {at}"),
        };
        if !names.iter().any(|n| type_matches(n, v)) {
            fail(errors, format!("{v} is not of type {}", names.join(" or ")));
            return;
        }
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            fail(errors, format!("{v} is not {c}"));
        }
    }
    if let Some(Value::Array(options)) = schema.get("enum") {
        if !options.contains(v) {
            fail(
                errors,
                format!("{v} is not one of {}", Value::Array(options.clone())),
            );
        }
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < min {
            fail(errors, format!("{n} is less than {min}"));
        }
    }
    if let Some(Value::Array(options)) = schema.get("oneOf") {
        let passing = options
            .iter()
            .filter(|o| {
                let mut sub = Vec::new();
                check(root, o, v, at, &mut sub);
                sub.is_empty()
            })
            .count();
        if passing != 1 {
            // the problems of each alternative, to see why
            let mut why = Vec::new();
            for (i, o) in options.iter().enumerate() {
                let mut sub = Vec::new();
                check(root, o, v, at, &mut sub);
                why.push(format!("  oneOf[{i}]: {}", sub.join("; ")));
            }
            fail(
                errors,
                format!(
                    "matches {passing} of the oneOf alternatives, not exactly 1:\n{}",
                    why.join("\n")
                ),
            );
        }
    }
    if let Value::Object(fields) = v {
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = schema.get("required") {
            for name in required {
                let name = name.as_str().unwrap();
                if !fields.contains_key(name) {
                    fail(errors, format!("missing required field `{name}`"));
                }
            }
        }
        for (name, value) in fields {
            let path = format!("{at}/{name}");
            match (
                properties.and_then(|p| p.get(name)),
                schema.get("additionalProperties"),
            ) {
                (Some(sub), _) => check(root, sub, value, &path, errors),
                (None, Some(Value::Bool(false))) => {
                    errors.push(format!("{path}: field not allowed"))
                }
                (None, Some(Value::Bool(true)) | None) => {}
                (None, Some(sub)) => check(root, sub, value, &path, errors),
            }
        }
    }
    if let (Value::Array(items), Some(sub)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(root, sub, item, &format!("{at}/{i}"), errors);
        }
    }
}

/// Every keyword of every schema file is one this validator implements, and
/// every `$ref` resolves (a schema checked only in part would pass anything).
pub fn assert_supported(root: &Value) {
    fn walk(root: &Value, schema: &Value, at: &str) {
        let Some(obj) = schema.as_object() else {
            panic!("schema at {at} is not an object")
        };
        for (key, value) in obj {
            assert!(
                ANNOTATIONS.contains(&key.as_str()) || KEYWORDS.contains(&key.as_str()),
                "unsupported JSON Schema keyword `{key}` at {at}"
            );
            let here = format!("{at}/{key}");
            match key.as_str() {
                "$ref" => {
                    resolve(root, value.as_str().unwrap());
                }
                "properties" | "$defs" => {
                    for (name, sub) in value.as_object().unwrap() {
                        walk(root, sub, &format!("{here}/{name}"));
                    }
                }
                "items" => walk(root, value, &here),
                "additionalProperties" if !value.is_boolean() => walk(root, value, &here),
                "oneOf" => {
                    for (i, sub) in value.as_array().unwrap().iter().enumerate() {
                        walk(root, sub, &format!("{here}/{i}"));
                    }
                }
                _ => {}
            }
        }
    }
    walk(root, root, "#");
}
