//! What the live database holds in the views schema, read from the system
//! catalogs (readable by every role: no privilege on `idp` is needed).

use crate::db::{Conn, DbError, DbRow};
use std::collections::BTreeMap;

/// A relation in the views schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relation {
    /// `pg_class.relkind`: `v` view, `r` table, `m` materialized view, ...
    pub(crate) kind: String,
    /// `reloptions`, e.g. `security_barrier=true`.
    pub(crate) options: Vec<String>,
    /// Columns in order.
    pub(crate) columns: Vec<DbColumn>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DbColumn {
    pub(crate) name: String,
    /// `format_type(atttypid, atttypmod)`.
    pub(crate) sql_type: String,
}

impl Relation {
    pub(crate) fn kind_name(&self) -> &'static str {
        match self.kind.as_str() {
            "v" => "view",
            "r" | "p" => "table",
            "m" => "materialized view",
            "f" => "foreign table",
            "S" => "sequence",
            "i" | "I" => "index",
            "c" => "composite type",
            _ => "relation",
        }
    }

    pub(crate) fn has_option(&self, option: &str) -> bool {
        self.options.iter().any(|o| o == option)
    }
}

const RELATIONS_SQL: &str = "\
SELECT c.relname::text, c.relkind::text, coalesce(c.reloptions, '{}')::text[], \
       a.attname::text, format_type(a.atttypid, a.atttypmod) \
FROM pg_catalog.pg_class c \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
ORDER BY c.relname, a.attnum";

/// Every table-like relation of `schema`, by name (sorted).
pub(crate) async fn relations<C: Conn>(
    conn: &mut C,
    schema: &str,
) -> Result<BTreeMap<String, Relation>, DbError> {
    let rows = conn.query(RELATIONS_SQL, &[&schema]).await?;
    let mut out: BTreeMap<String, Relation> = BTreeMap::new();
    for row in rows {
        let name: String = row.get(0);
        let rel = out.entry(name).or_insert_with(|| Relation {
            kind: row.get(1),
            options: row.get(2),
            columns: Vec::new(),
        });
        let column: Option<String> = row.get(3);
        let sql_type: Option<String> = row.get(4);
        if let (Some(name), Some(sql_type)) = (column, sql_type) {
            rel.columns.push(DbColumn { name, sql_type });
        }
    }
    Ok(out)
}

/// Whether a schema exists.
pub(crate) async fn schema_exists<C: Conn>(conn: &mut C, schema: &str) -> Result<bool, DbError> {
    let rows = conn
        .query(
            "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
            &[&schema],
        )
        .await?;
    Ok(!rows.is_empty())
}
