//! The applied record: which package `apply` last applied, as JSON in the
//! COMMENT of the views schema (`COMMENT ON SCHEMA "idp_views" IS '...'`).
//!
//! No table: a product's Prisma migrate sees no drift in the views schema,
//! every reader needs only USAGE (the comment is in `pg_description`), and
//! only the schema owner can write it. `apply` writes it in the same
//! transaction as the views.
//!
//! ```json
//! {"idpviews_record": 1, "idpviews_version": "0.1.0", "package_hash": "sha256:...",
//!  "applied_at": "<now()::text>", "applied_by": "<current_user>",
//!  "manifest": {<the applied manifest without relations>},
//!  "views": {"IdpUser": {"sql": "sha256:<CREATE statement text>",
//!                        "viewdef": "sha256:<pg_get_viewdef(oid) right after creating it>"}}}
//! ```
//!
//! The two fingerprints per view let `apply` leave a view untouched when
//! both the package statement (`sql`) and the live definition (`viewdef`,
//! PostgreSQL's own deparse, which changes with any `CREATE OR REPLACE VIEW`
//! or IDP rename) still match. `verify` compares the same `viewdef`
//! fingerprint to tell "a newer compatible package was applied" from "someone
//! changed the views by hand"; the record is evidence, not a trust anchor
//! (the schema owner can rewrite it), so `verify` also checks every view's
//! structure on its own.

use crate::db::{quote_ident, Conn, DbError, DbRow};
use crate::manifest::{content_hash, Manifest};
use crate::Error;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// `idpviews_record` of the records this version writes and reads.
pub const RECORD_FORMAT: u64 = 1;

/// The applied record of a views schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRecord {
    pub idpviews_version: String,
    /// [`Manifest::package_hash`] of the applied package.
    pub package_hash: String,
    /// `now()` of the applying transaction, as PostgreSQL prints it.
    pub applied_at: String,
    /// `current_user` of the applying session.
    pub applied_by: String,
    /// The applied manifest, without product relations.
    pub manifest: Manifest,
    /// Per view of the package: its fingerprints.
    pub views: BTreeMap<String, ViewPrint>,
}

/// A view's fingerprints (`sha256:<hex>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewPrint {
    /// Of the view's `CREATE ... VIEW` statement text in the package SQL.
    pub sql: String,
    /// Of `pg_get_viewdef(oid)` read right after creating the view.
    pub viewdef: String,
}

impl AppliedRecord {
    /// The JSON text stored as the schema comment.
    pub fn to_json(&self) -> String {
        let mut manifest = self.manifest.clone();
        manifest.relations.clear();
        let manifest = serde_json::to_value(&manifest).expect("a manifest serializes");
        let views: Map<String, Value> = self
            .views
            .iter()
            .map(|(k, v)| (k.clone(), json!({"sql": v.sql, "viewdef": v.viewdef})))
            .collect();
        json!({
            "idpviews_record": RECORD_FORMAT,
            "idpviews_version": self.idpviews_version,
            "package_hash": self.package_hash,
            "applied_at": self.applied_at,
            "applied_by": self.applied_by,
            "manifest": manifest,
            "views": views,
        })
        .to_string()
    }

    /// Parses a schema comment. `Ok(None)`: not a record (no comment, or a
    /// comment someone else wrote); `Err`: a record that does not parse.
    pub fn from_comment(text: &str) -> Result<Option<AppliedRecord>, String> {
        let Ok(Value::Object(mut o)) = serde_json::from_str::<Value>(text) else {
            return Ok(None);
        };
        let Some(format) = o.get("idpviews_record") else {
            return Ok(None);
        };
        if format.as_u64() != Some(RECORD_FORMAT) {
            return Err(format!(
                "the applied record has format {format}, this version reads {RECORD_FORMAT}"
            ));
        }
        let mut text_field = |name: &str| match o.remove(name) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(format!("the applied record has no text field `{name}`")),
        };
        let idpviews_version = text_field("idpviews_version")?;
        let package_hash = text_field("package_hash")?;
        let applied_at = text_field("applied_at")?;
        let applied_by = text_field("applied_by")?;
        let manifest: Manifest =
            serde_json::from_value(o.remove("manifest").unwrap_or_default())
                .map_err(|e| format!("the applied record's manifest does not parse: {e}"))?;
        let Some(Value::Object(views_json)) = o.remove("views") else {
            return Err("the applied record has no `views` object".into());
        };
        let mut views = BTreeMap::new();
        for (name, v) in views_json {
            let field = |f: &str| {
                v.get(f)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| format!("the applied record's view `{name}` has no `{f}`"))
            };
            views.insert(
                name.clone(),
                ViewPrint {
                    sql: field("sql")?,
                    viewdef: field("viewdef")?,
                },
            );
        }
        Ok(Some(AppliedRecord {
            idpviews_version,
            package_hash,
            applied_at,
            applied_by,
            manifest,
            views,
        }))
    }
}

/// The comment of `schema`, if any: the raw text behind [`read`], for
/// readers that report a malformed record instead of failing on it
/// (`verify`, `repair`); parse it with [`AppliedRecord::from_comment`].
pub(crate) async fn read_text<C: Conn>(
    conn: &mut C,
    schema: &str,
) -> Result<Option<String>, DbError> {
    let rows = conn
        .query(
            "SELECT pg_catalog.obj_description(n.oid, 'pg_namespace') \
             FROM pg_catalog.pg_namespace n WHERE n.nspname = $1",
            &[&schema],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.get::<Option<String>>(0)))
}

/// The applied record of `schema`, if there is one. A schema comment that
/// is not a record (or no schema) is `Ok(None)`; a record that does not
/// parse is [`Error::Package`].
pub(crate) async fn read<C: Conn>(
    conn: &mut C,
    schema: &str,
) -> Result<Option<AppliedRecord>, Error> {
    let Some(text) = read_text(conn, schema)
        .await
        .map_err(Error::db("reading the applied record"))?
    else {
        return Ok(None);
    };
    AppliedRecord::from_comment(&text)
        .map_err(|e| Error::Package(format!("schema \"{schema}\": {e}")))
}

/// Writes the record as the comment of `schema` (in the caller's
/// transaction); `applied_at` and `applied_by` come from the session.
pub(crate) async fn write<C: Conn>(
    conn: &mut C,
    schema: &str,
    record: &mut AppliedRecord,
) -> Result<(), Error> {
    let row = conn
        .query("SELECT now()::text, current_user::text", &[])
        .await
        .map_err(Error::db("writing the applied record"))?;
    record.applied_at = row[0].get(0);
    record.applied_by = row[0].get(1);
    let sql = format!(
        "COMMENT ON SCHEMA {} IS {}",
        quote_ident(schema),
        crate::sql::quote_literal(&record.to_json())
    );
    conn.batch(&sql)
        .await
        .map_err(Error::db("writing the applied record"))
}

/// `sha256:<hex>` of a text: the fingerprint form.
pub(crate) fn fingerprint(text: &str) -> String {
    content_hash(text.as_bytes())
}

/// `pg_get_viewdef` fingerprints of the views of `schema`, by name.
/// `only`: just these views (all when `None`).
pub(crate) async fn live_viewdefs<C: Conn>(
    conn: &mut C,
    schema: &str,
    only: Option<&[String]>,
) -> Result<BTreeMap<String, String>, Error> {
    let all = only.is_none();
    let names: Vec<String> = only.map(<[String]>::to_vec).unwrap_or_default();
    let rows = conn
        .query(
            "SELECT c.relname::text, pg_catalog.pg_get_viewdef(c.oid) \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind = 'v' AND ($2 OR c.relname = ANY ($3))",
            &[&schema, &all, &names],
        )
        .await
        .map_err(Error::db("reading the view definitions"))?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String>(0), fingerprint(&r.get::<String>(1))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_foreign_comments() {
        let manifest = Manifest::from_json(
            r#"{"format":2,"generator":"g","schema":"s","files":{},"views":[]}"#,
        )
        .unwrap();
        let record = AppliedRecord {
            idpviews_version: "0.1.0".into(),
            package_hash: manifest.package_hash(),
            applied_at: "2026-01-01 00:00:00+00".into(),
            applied_by: "me".into(),
            manifest,
            views: [(
                "V".to_owned(),
                ViewPrint {
                    sql: "sha256:a".into(),
                    viewdef: "sha256:b".into(),
                },
            )]
            .into(),
        };
        let json = record.to_json();
        assert!(json.contains("\"idpviews_record\":1"), "{json}");
        assert_eq!(AppliedRecord::from_comment(&json), Ok(Some(record)));
        assert_eq!(AppliedRecord::from_comment("Views of the IDP"), Ok(None));
        assert_eq!(AppliedRecord::from_comment("{\"a\": 1}"), Ok(None));
        assert!(AppliedRecord::from_comment("{\"idpviews_record\": 1}").is_err());
        assert!(AppliedRecord::from_comment("{\"idpviews_record\": 2}").is_err());
    }
}
