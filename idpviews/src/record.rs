//! The applied record: what `apply` applied, kept in the database as the
//! comment on the views schema (`COMMENT ON SCHEMA "idp_views" IS '<json>'`).
//!
//! No table, so a product's Prisma migrate never sees drift in the views
//! schema; every role with `USAGE` reads it from the catalog; only the
//! schema's owner (the applier) can write it. `apply` writes it in the same
//! transaction as the views; `verify` reads it to tell "a newer compatible
//! package was applied" from "someone changed the views by hand".
//!
//! The record is evidence, not a trust anchor: whoever owns the schema can
//! rewrite it, so `verify` also checks every view's structure on its own.
//!
//! Minimal version written by the integrity work (#11); the apply work (#12)
//! owns this module.

use crate::db::{quote_ident, Conn};
use crate::manifest::{content_hash, Manifest};
use crate::{Error, Package};
use std::collections::BTreeMap;

/// Version of the record format (`"idpviews_record": 1`).
pub const RECORD_FORMAT: u64 = 1;

/// What `apply` applied, as recorded on the views schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRecord {
    /// The version of idpviews that applied it.
    pub idpviews_version: String,
    /// [`Manifest::package_hash`] of the applied package.
    pub package_hash: String,
    /// `now()` of the apply transaction, as text.
    pub applied_at: String,
    /// `current_user` of the apply transaction.
    pub applied_by: String,
    /// The applied manifest (without product relations).
    pub manifest: Manifest,
    /// Per view: hashes of its `CREATE` statement and of `pg_get_viewdef`.
    pub views: BTreeMap<String, RecordedView>,
}

/// What was applied for one view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedView {
    /// `sha256:<hex>` of the view's `CREATE OR REPLACE VIEW` statement in the package SQL.
    pub sql: String,
    /// `sha256:<hex>` of `pg_get_viewdef(oid)` read right after creating it.
    pub viewdef: String,
}

const COMMENT_SQL: &str = "\
SELECT pg_catalog.obj_description(n.oid, 'pg_namespace') \
FROM pg_catalog.pg_namespace n WHERE n.nspname = $1";

/// The schema comment, if any.
pub(crate) async fn read_text<C: Conn>(
    conn: &mut C,
    schema: &str,
) -> Result<Option<String>, postgres::Error> {
    let rows = conn.query(COMMENT_SQL, &[&schema]).await?;
    Ok(rows.first().and_then(|r| r.get::<_, Option<String>>(0)))
}

/// The record on `schema`: `None` when the schema has no comment or a
/// comment that is not a record; an error when it is a malformed record.
#[allow(dead_code)] // the agreed reader (verify and repair read the text to report a malformed record)
pub(crate) async fn read<C: Conn>(
    conn: &mut C,
    schema: &str,
) -> Result<Option<AppliedRecord>, Error> {
    let text = read_text(conn, schema)
        .await
        .map_err(Error::db("reading the applied record"))?;
    match text {
        None => Ok(None),
        Some(text) => parse(&text).map_err(Error::Package),
    }
}

/// Parses a schema comment: `Ok(None)` when it is not a record at all.
pub(crate) fn parse(text: &str) -> Result<Option<AppliedRecord>, String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(None);
    };
    let Some(format) = value.get("idpviews_record") else {
        return Ok(None);
    };
    let bad = |what: &str| format!("the applied record on the views schema is malformed: {what}");
    if format.as_u64() != Some(RECORD_FORMAT) {
        return Err(bad(&format!(
            "format {format}, this idpviews reads {RECORD_FORMAT}"
        )));
    }
    let string = |key: &str| {
        value
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| bad(&format!("no `{key}`")))
    };
    let manifest: Manifest = value
        .get("manifest")
        .cloned()
        .ok_or_else(|| bad("no `manifest`"))
        .and_then(|m| serde_json::from_value(m).map_err(|e| bad(&format!("`manifest`: {e}"))))?;
    let mut views = BTreeMap::new();
    for (name, v) in value
        .get("views")
        .and_then(|v| v.as_object())
        .ok_or_else(|| bad("no `views`"))?
    {
        let get = |key: &str| {
            v.get(key)
                .and_then(|h| h.as_str())
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("view {name}: no `{key}`")))
        };
        views.insert(
            name.clone(),
            RecordedView {
                sql: get("sql")?,
                viewdef: get("viewdef")?,
            },
        );
    }
    Ok(Some(AppliedRecord {
        idpviews_version: string("idpviews_version")?,
        package_hash: string("package_hash")?,
        applied_at: string("applied_at")?,
        applied_by: string("applied_by")?,
        manifest,
        views,
    }))
}

const VIEWDEFS_SQL: &str = "\
SELECT c.relname::text, pg_catalog.pg_get_viewdef(c.oid) \
FROM pg_catalog.pg_class c \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE n.nspname = $1 AND c.relkind = 'v' AND c.relname = ANY($2)";

/// Writes the record of `package` on its schema; call it in the apply
/// transaction, after the package SQL ran.
pub(crate) async fn write<C: Conn>(conn: &mut C, package: &Package) -> Result<(), Error> {
    let manifest = &package.manifest;
    let schema = manifest.schema.as_str();
    let names: Vec<&str> = manifest.views.iter().map(|v| v.name.as_str()).collect();
    let context = "writing the applied record";
    let mut viewdefs = BTreeMap::new();
    for row in conn
        .query(VIEWDEFS_SQL, &[&schema, &names])
        .await
        .map_err(Error::db(context))?
    {
        let name: String = row.get(0);
        let def: String = row.get(1);
        viewdefs.insert(name, content_hash(def.as_bytes()));
    }
    let rows = conn
        .query("SELECT now()::text, current_user::text", &[])
        .await
        .map_err(Error::db(context))?;
    let (applied_at, applied_by): (String, String) = (rows[0].get(0), rows[0].get(1));
    let mut views = serde_json::Map::new();
    for v in &manifest.views {
        let sql = crate::repair::view_statement(&package.sql, schema, &v.name)
            .map(|s| content_hash(s.as_bytes()))
            .unwrap_or_default();
        let viewdef = viewdefs.get(&v.name).cloned().unwrap_or_default();
        views.insert(
            v.name.clone(),
            serde_json::json!({ "sql": sql, "viewdef": viewdef }),
        );
    }
    let mut applied = manifest.clone();
    applied.relations.clear();
    let record = serde_json::json!({
        "idpviews_record": RECORD_FORMAT,
        "idpviews_version": env!("CARGO_PKG_VERSION"),
        "package_hash": manifest.package_hash(),
        "applied_at": applied_at,
        "applied_by": applied_by,
        "manifest": serde_json::to_value(&applied).expect("manifest serializes"),
        "views": views,
    });
    let text = serde_json::to_string(&record).expect("record serializes");
    conn.batch(&format!(
        "COMMENT ON SCHEMA {} IS {}",
        quote_ident(schema),
        crate::sql::quote_literal(&text)
    ))
    .await
    .map_err(Error::db(context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_that_is_not_a_record_is_none() {
        assert_eq!(parse("Views for products"), Ok(None));
        assert_eq!(parse("{\"a\": 1}"), Ok(None));
        let e = parse("{\"idpviews_record\": 1}").unwrap_err();
        assert!(e.contains("malformed"), "{e}");
        let e = parse("{\"idpviews_record\": 9}").unwrap_err();
        assert!(e.contains("format 9"), "{e}");
    }
}
