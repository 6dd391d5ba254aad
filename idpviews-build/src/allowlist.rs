//! The IDP's allowlist, `idp-views.toml`: which models are exposed as which
//! views, with which fields.
//!
//! ```toml
//! schema = "idp_views"            # PostgreSQL schema of the views (default "idp_views")
//!
//! [views.IdpUser]                 # view name
//! model  = "User"                 # IDP model it exposes
//! fields = ["id", "email", "tenantId"]
//! tenant_column = "tenantId"      # optional: database-enforced tenant isolation
//! allow_secrets = { pinSetAt = "support needs to see whether a PIN exists" }  # optional
//! ```
//!
//! `tenant_view_owner` (the owner role of an earlier tenant design) is still
//! read, so that the generator can say it is no longer used.
//!
//! `source_schema = "idp"` (top level, optional, default `public`) names the
//! PostgreSQL schema of models without `@@schema` (Prisma takes it from the
//! connection URL, which the generator cannot see).
//!
//! Parsed into a spanned value tree (so every key and value keeps its byte
//! span) and checked by hand: unknown keys, wrong types and empty values are
//! all reported, each at its line, with a "did you mean" where it helps.
//! Views keep the order in which they appear in the file.

use crate::diagnostics::{Diagnostics, Span};
use crate::source::SourceFile;
use crate::suggest::did_you_mean;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Default PostgreSQL schema of the views.
pub const DEFAULT_SCHEMA: &str = "idp_views";

/// A string from the file with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Str {
    pub value: String,
    pub span: Span,
}

/// The parsed `idp-views.toml`.
#[derive(Clone, Debug)]
pub(crate) struct Allowlist {
    /// `schema = "..."`; `None` when absent (then [`DEFAULT_SCHEMA`]).
    pub schema: Option<Str>,
    /// `source_schema = "..."`: where the tables of models without
    /// `@@schema` live (Prisma then takes the schema from the connection
    /// URL, which the generator cannot see); `None`: `public`.
    pub source_schema: Option<Str>,
    /// `tenant_view_owner = "..."`: no longer used (the generator refuses it
    /// with a message saying so).
    pub tenant_view_owner: Option<Str>,
    /// The `[views.*]` entries in file order.
    pub views: Vec<ViewEntry>,
}

impl Allowlist {
    /// The PostgreSQL schema of models and enums without `@@schema`.
    pub fn default_source_schema(&self) -> &str {
        self.source_schema
            .as_ref()
            .map(|s| s.value.as_str())
            .unwrap_or("public")
    }

    pub fn schema_name(&self) -> &str {
        self.schema
            .as_ref()
            .map(|s| s.value.as_str())
            .unwrap_or(DEFAULT_SCHEMA)
    }
}

/// One `[views.<Name>]` table.
#[derive(Clone, Debug)]
pub(crate) struct ViewEntry {
    /// The view name (the table key) and its span in the header.
    pub name: Str,
    pub model: Str,
    pub fields: Vec<Str>,
    /// The span of the `fields` array (where appended/removed columns point).
    pub fields_span: Span,
    pub tenant_column: Option<Str>,
    /// `allow_secrets = { field = "reason" }`: (field, reason).
    pub allow_secrets: Vec<(Str, Str)>,
}

const ROOT_KEYS: &[&str] = &["schema", "source_schema", "tenant_view_owner", "views"];
const VIEW_KEYS: &[&str] = &["model", "fields", "tenant_column", "allow_secrets"];

/// A TOML value with spans everywhere.
#[derive(Debug)]
enum Val {
    Str(String),
    /// Any other scalar: its TOML type name.
    Other(&'static str),
    Array(Vec<Node>),
    Table(Vec<(Key, Node)>),
}

impl Val {
    fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "a string",
            Val::Other(t) => t,
            Val::Array(_) => "an array",
            Val::Table(_) => "a table",
        }
    }
}

/// A value with its span when the TOML parser knows it (implicit tables,
/// such as `views` in `[views.IdpUser]`, have none).
#[derive(Debug)]
struct Node {
    val: Val,
    span: Option<std::ops::Range<usize>>,
}

/// A table key with its span when the TOML parser knows it (it does for
/// `key = value`, not always for the keys of `[a.b]` headers).
#[derive(Debug)]
struct Key {
    name: String,
    span: Option<std::ops::Range<usize>>,
}

// The protocol `toml::Spanned` uses to ask the deserializer for a span. We
// speak it ourselves so that values and keys without a span still
// deserialize (`toml::Spanned` fails on those).
const SPANNED_NAME: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const SPANNED_FIELDS: &[&str] = &[SPANNED_START, SPANNED_END, SPANNED_VALUE];

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key {
            name: v.to_owned(),
            span: None,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        let (mut start, mut end, mut name) = (None, None, None);
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                SPANNED_START => start = Some(map.next_value::<usize>()?),
                SPANNED_END => end = Some(map.next_value::<usize>()?),
                SPANNED_VALUE => name = Some(map.next_value::<String>()?),
                _ => {
                    let _ = map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let name = name.ok_or_else(|| de::Error::missing_field("key"))?;
        Ok(Key {
            name,
            span: start.zip(end).map(|(s, e)| s..e),
        })
    }
}

impl<'de> Deserialize<'de> for Val {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor).map(|n| n.val)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, NodeVisitor)
    }
}

struct NodeVisitor;

fn bare(val: Val) -> Node {
    Node { val, span: None }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(bare(Val::Str(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(bare(Val::Str(v)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(bare(Val::Other("a boolean")))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(bare(Val::Other("an integer")))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(bare(Val::Other("an integer")))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(bare(Val::Other("a float")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(bare(Val::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let Some(first) = map.next_key::<Key>()? else {
            return Ok(bare(Val::Table(Vec::new())));
        };
        if first.name == SPANNED_START {
            // the span protocol: start, end, value
            let start = map.next_value::<usize>()?;
            let (mut end, mut val) = (start, None);
            while let Some(k) = map.next_key::<String>()? {
                match k.as_str() {
                    SPANNED_END => end = map.next_value::<usize>()?,
                    SPANNED_VALUE => val = Some(map.next_value::<Val>()?),
                    _ => {
                        let _ = map.next_value::<de::IgnoredAny>()?;
                    }
                }
            }
            let val = val.ok_or_else(|| de::Error::missing_field("value"))?;
            return Ok(Node {
                val,
                span: Some(start..end),
            });
        }
        if first.name.starts_with("$__toml_private") {
            // a datetime, encoded by toml as a one-entry map
            let _ = map.next_value::<de::IgnoredAny>()?;
            return Ok(bare(Val::Other("a datetime")));
        }
        let mut entries = vec![(first, map.next_value::<Node>()?)];
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(bare(Val::Table(entries)))
    }
}

fn node_span(file: &SourceFile, n: &Node) -> Span {
    let r = n.span.clone().unwrap_or(0..0);
    Span::new(file.id, r.start, r.end)
}

/// The key as a [`Str`]: its own span, or else (keys of `[a.b]` headers)
/// its last occurrence inside the value's span (the header), or else the
/// value's span.
fn key_str(file: &SourceFile, key: Key, value: &Node) -> Str {
    let span = match (key.span, &value.span) {
        (Some(r), _) => Span::new(file.id, r.start, r.end),
        (None, Some(v)) => {
            let text = file.text.get(v.clone()).unwrap_or("");
            match text.rfind(&key.name) {
                Some(i) if !key.name.is_empty() => {
                    Span::new(file.id, v.start + i, v.start + i + key.name.len())
                }
                _ => Span::new(file.id, v.start, v.end),
            }
        }
        (None, None) => Span::new(file.id, 0, 0),
    };
    Str {
        value: key.name,
        span,
    }
}

/// Parses `idp-views.toml`. Problems go to `diags`; returns `None` only when
/// the file is not valid TOML at all (entries with problems are skipped).
pub(crate) fn parse(file: &SourceFile, diags: &mut Diagnostics) -> Option<Allowlist> {
    let root: Val = match toml::from_str(&file.text) {
        Ok(v) => v,
        Err(e) => {
            report_toml_error(file, &e, diags);
            return None;
        }
    };
    let Val::Table(entries) = root else {
        diags.error_unspanned(format!("`{}` is not a TOML table", file.path.display()));
        return None;
    };
    let mut schema = None;
    let mut source_schema = None;
    let mut tenant_view_owner = None;
    let mut views = Vec::new();
    let mut saw_views = false;
    for (key, value) in entries {
        let key = key_str(file, key, &value);
        match key.value.as_str() {
            "schema" => schema = expect_str(file, "`schema`", &value, diags),
            "source_schema" => source_schema = expect_str(file, "`source_schema`", &value, diags),
            "tenant_view_owner" => {
                tenant_view_owner = expect_str(file, "`tenant_view_owner`", &value, diags)
            }
            "views" => {
                saw_views = true;
                let vspan = node_span(file, &value);
                match value.val {
                    Val::Table(vs) => {
                        for (name, body) in vs {
                            if let Some(v) = parse_view(file, name, body, diags) {
                                views.push(v);
                            }
                        }
                    }
                    other => {
                        diags
                            .error(
                                vspan,
                                format!("`views` must be a table, found {}", other.type_name()),
                            )
                            .help("declare each view as a table: `[views.IdpUser]`");
                    }
                }
            }
            other => unknown_key(key.span, other, ROOT_KEYS, "at the top level", diags),
        }
    }
    if !saw_views || (views.is_empty() && !diags.has_errors()) {
        let span = Span::new(file.id, 0, 0);
        diags.error(span, "the allowlist declares no views").help(
            "add a view: `[views.IdpUser]` with `model = \"User\"` and `fields = [\"id\", ...]`",
        );
    }
    Some(Allowlist {
        schema,
        source_schema,
        tenant_view_owner,
        views,
    })
}

fn report_toml_error(file: &SourceFile, e: &toml::de::Error, diags: &mut Diagnostics) {
    let message = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    let span = e
        .span()
        .map(|r| Span::new(file.id, r.start, r.end))
        .unwrap_or_else(|| Span::new(file.id, 0, 0));
    let d = diags.error(span, format!("invalid TOML: {message}"));
    if message.contains("duplicate key") {
        d.help(
            "each view name may appear only once; to expose a model twice, give the second view another name",
        );
    } else {
        d.help("see the `idp-views.toml` format in the README");
    }
}

fn unknown_key(span: Span, key: &str, allowed: &[&str], place: &str, diags: &mut Diagnostics) {
    let d = diags.error(span, format!("unknown key `{key}` {place}"));
    d.label("unknown key");
    match did_you_mean(key, allowed.iter().copied()) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!(
            "the keys allowed here are: {}",
            allowed
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
}

fn expect_str(file: &SourceFile, what: &str, value: &Node, diags: &mut Diagnostics) -> Option<Str> {
    let span = node_span(file, value);
    match &value.val {
        Val::Str(s) => Some(Str {
            value: s.clone(),
            span,
        }),
        other => {
            diags
                .error(
                    span,
                    format!("{what} must be a string, found {}", other.type_name()),
                )
                .label("expected a string")
                .help("write it in double quotes, e.g. `\"User\"`");
            None
        }
    }
}

fn parse_view(
    file: &SourceFile,
    name: Key,
    body: Node,
    diags: &mut Diagnostics,
) -> Option<ViewEntry> {
    let name = key_str(file, name, &body);
    let body_span = node_span(file, &body);
    let Val::Table(entries) = body.val else {
        diags
            .error(body_span, format!("`views.{}` must be a table", name.value))
            .help(format!(
                "write it as `[views.{}]` followed by `model = ...` and `fields = [...]`",
                name.value
            ));
        return None;
    };
    let mut model = None;
    let mut fields = None;
    let mut fields_span = name.span;
    let mut tenant_column = None;
    let mut allow_secrets = Vec::new();
    let mut ok = true;
    for (key, value) in entries {
        let key = key_str(file, key, &value);
        match key.value.as_str() {
            "model" => {
                model = expect_str(file, "`model`", &value, diags);
                ok &= model.is_some();
            }
            "tenant_column" => {
                tenant_column = expect_str(file, "`tenant_column`", &value, diags);
                ok &= tenant_column.is_some();
            }
            "fields" => {
                fields_span = node_span(file, &value);
                match value.val {
                    Val::Array(items) => {
                        let mut list = Vec::new();
                        for item in items {
                            match expect_str(file, "each entry of `fields`", &item, diags) {
                                Some(s) => list.push(s),
                                None => ok = false,
                            }
                        }
                        if list.is_empty() && ok {
                            diags
                                .error(fields_span, format!("view `{}` lists no fields", name.value))
                                .help("list the fields to expose, e.g. `fields = [\"id\", \"email\"]`");
                            ok = false;
                        }
                        fields = Some(list);
                    }
                    other => {
                        diags
                            .error(
                                fields_span,
                                format!(
                                    "`fields` must be an array of strings, found {}",
                                    other.type_name()
                                ),
                            )
                            .help("e.g. `fields = [\"id\", \"email\"]`");
                        ok = false;
                    }
                }
            }
            "allow_secrets" => {
                let span = node_span(file, &value);
                match value.val {
                    Val::Table(reasons) => {
                        for (field, reason) in reasons {
                            let field = key_str(file, field, &reason);
                            match expect_str(file, "a secret opt-in reason", &reason, diags) {
                                Some(r) if r.value.trim().is_empty() => {
                                    // reported; the entry is kept so that the
                                    // other checks of the view still run
                                    diags
                                        .error(r.span, format!("empty reason for exposing `{}`", field.value))
                                        .label("a written reason is required")
                                        .help("say why this secret-looking field must be visible to products");
                                    allow_secrets.push((field, r));
                                }
                                Some(r) => allow_secrets.push((field, r)),
                                None => ok = false,
                            }
                        }
                    }
                    other => {
                        diags
                            .error(
                                span,
                                format!(
                                    "`allow_secrets` must be a table, found {}",
                                    other.type_name()
                                ),
                            )
                            .help("e.g. `allow_secrets = { pinSetAt = \"why products need it\" }`");
                        ok = false;
                    }
                }
            }
            other => {
                unknown_key(
                    key.span,
                    other,
                    VIEW_KEYS,
                    &format!("in `[views.{}]`", name.value),
                    diags,
                );
                ok = false;
            }
        }
    }
    let Some(model) = model else {
        if ok {
            diags
                .error(name.span, format!("view `{}` has no `model`", name.value))
                .help("name the IDP model it exposes: `model = \"User\"`");
        }
        return None;
    };
    let Some(fields) = fields else {
        if ok {
            diags
                .error(name.span, format!("view `{}` has no `fields`", name.value))
                .help("list the fields to expose: `fields = [\"id\", \"email\"]`");
        }
        return None;
    };
    if !ok {
        return None;
    }
    Some(ViewEntry {
        name,
        model,
        fields,
        fields_span,
        tenant_column,
        allow_secrets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn parse_str(text: &str) -> (Option<Allowlist>, Diagnostics, SourceMap) {
        let mut sources = SourceMap::new();
        let id = sources.add("idp-views.toml", text);
        let mut diags = Diagnostics::new();
        let a = parse(sources.get(id), &mut diags);
        (a, diags, sources)
    }

    #[test]
    fn parses_in_file_order_with_spans() {
        let text = r#"
schema = "views"

[views.Zeta]
model = "User"
fields = ["id", "email"]
tenant_column = "tenantId"
allow_secrets = { pin = "support" }

[views.Alpha]
model = "Tenant"
fields = ["id"]
"#;
        let (a, diags, _) = parse_str(text);
        assert!(diags.is_empty(), "{diags:?}");
        let a = a.unwrap();
        assert_eq!(a.schema_name(), "views");
        let names: Vec<_> = a.views.iter().map(|v| v.name.value.as_str()).collect();
        assert_eq!(names, ["Zeta", "Alpha"]);
        let z = &a.views[0];
        assert_eq!(&text[z.name.span.range()], "Zeta");
        assert_eq!(&text[z.fields[1].span.range()], "\"email\"");
        assert_eq!(z.tenant_column.as_ref().unwrap().value, "tenantId");
        assert_eq!(z.allow_secrets[0].0.value, "pin");
        assert_eq!(z.allow_secrets[0].1.value, "support");
    }

    #[test]
    fn reports_every_problem() {
        let text = r#"
schemaa = "x"
[views.A]
modle = "User"
fields = ["id", 3]
[views.B]
model = "User"
fields = []
allow_secrets = { pin = "  " }
"#;
        let (_, diags, sources) = parse_str(text);
        let out = diags.render(&sources, false);
        assert!(
            out.contains("unknown key `schemaa` at the top level"),
            "{out}"
        );
        assert!(out.contains("did you mean `schema`?"), "{out}");
        assert!(out.contains("unknown key `modle` in `[views.A]`"), "{out}");
        assert!(out.contains("did you mean `model`?"), "{out}");
        assert!(out.contains("must be a string, found an integer"), "{out}");
        assert!(out.contains("view `B` lists no fields"), "{out}");
        assert!(out.contains("empty reason for exposing `pin`"), "{out}");
    }

    #[test]
    fn duplicate_view_is_reported_at_its_line() {
        let text = "[views.A]\nmodel = \"User\"\nfields = [\"id\"]\n[views.A]\nmodel = \"User\"\nfields = [\"id\"]\n";
        let (a, diags, sources) = parse_str(text);
        assert!(a.is_none());
        let out = diags.render(&sources, false);
        assert!(out.contains("duplicate key"), "{out}");
        assert!(out.contains("idp-views.toml:4:"), "{out}");
    }

    #[test]
    fn never_panics_on_mangled_input() {
        let base = "schema = \"v\"\n[views.A]\nmodel = \"User\"\nfields = [\"id\", \"x\"]\nallow_secrets = { pin = \"r\" }\ntenant_column = \"t\"\n";
        let bytes = base.as_bytes();
        let mut seed = 0x9e3779b9u32;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize
        };
        let alphabet = b"[]{}=\",.\n #\\'abc0";
        for _ in 0..3000 {
            let mut t = bytes.to_vec();
            for _ in 0..(1 + rnd() % 4) {
                let at = rnd() % t.len();
                match rnd() % 3 {
                    0 => {
                        t.remove(at);
                    }
                    1 => t.insert(at, alphabet[rnd() % alphabet.len()]),
                    _ => t[at] = alphabet[rnd() % alphabet.len()],
                }
            }
            let text = String::from_utf8_lossy(&t).into_owned();
            let (_, diags, sources) = parse_str(&text);
            let _ = diags.render(&sources, false);
        }
    }
}
