//! `wrap-migration`: an IDP migration that changes what a view reads, run
//! with the views in place.
//!
//! PostgreSQL refuses `ALTER COLUMN ... TYPE` and `DROP COLUMN` on a column a
//! view reads, and `DROP TABLE` on a table a view reads; a renamed table or
//! column is followed by the view, which then no longer matches the package.
//! Prisma Migrate (`migrate deploy`/`dev`) sends each `migration.sql` to
//! PostgreSQL as one simple-query message, which PostgreSQL runs as one
//! implicit transaction (unless the file has its own `BEGIN`/`COMMIT`).
//!
//! [`wrap`] brackets the migration, relying on that one transaction (no
//! `BEGIN`/`COMMIT` of its own: after an error PostgreSQL rolls the whole
//! message back and the connection stays usable, which Prisma needs to
//! record the failure; with psql, run it as `psql -1 -v ON_ERROR_STOP=1 -f`),
//! with:
//! 1. `lock_timeout` and the views' advisory lock (serialised with `apply`);
//! 2. at run time, from `pg_depend`: the views of the views schema that read
//!    a changed column (or a dropped/renamed table) — exactly those; if a
//!    product object (e.g. a product's own view over the views) depends on
//!    one of them, the migration stops with the list (never `CASCADE`);
//!    otherwise they are dropped (plain `DROP VIEW`);
//! 3. the migration, unchanged;
//! 4. the dropped views re-created from the new package (its statements for
//!    that view: view, read-only triggers, comment, owner), and their
//!    entries of the applied record updated.
//!
//! Readers of those views wait (for at most the migration's duration, whose
//! lock waits are bounded by the lock timeout) and then read the new view:
//! no reader sees a missing view. A migration that changes no table a view
//! of the package reads is left as it is.

use crate::apply::{package_statements, Script, DEFAULT_LOCK_KEY};
use crate::db::quote_ident;
use crate::sql::quote_literal;
use crate::statements;
use crate::{Error, Package};
use std::fmt::Write;
use std::time::Duration;

/// First line of a wrapped migration (also how a second wrap is refused).
pub const WRAP_MARKER: &str = "-- idpviews wrap-migration";

/// What the migration changes: a table, and a column of it (`None`: the
/// whole table, dropped or renamed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touched {
    /// The table as written, parts unquoted (`["idp", "User"]` or `["User"]`).
    pub table: Vec<String>,
    pub column: Option<String>,
}

impl Touched {
    fn table_sql(&self) -> String {
        self.table
            .iter()
            .map(|p| quote_ident(p))
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// The result of [`wrap`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// The wrapped migration, or `None` when nothing needs wrapping.
    pub sql: Option<String>,
    /// What the migration changes on tables the package's views read.
    pub touched: Vec<Touched>,
    /// Views of the package over those tables (re-created if dropped).
    pub views: Vec<String>,
}

/// Wraps `migration` (the text of a Prisma `migration.sql`) for `package`,
/// the views package built from the migrated schema.
pub fn wrap(package: &Package, migration: &str, lock_timeout: Duration) -> Result<Wrapped, Error> {
    if migration.trim_start().starts_with(WRAP_MARKER) {
        return Err(Error::InvalidInput(
            "1:1: the migration is already wrapped by idpviews wrap-migration".into(),
        ));
    }
    let mut touched = Vec::new();
    for s in statements::split(migration) {
        analyze(s.text, &mut touched)
            .map_err(|e| Error::InvalidInput(format!("{}: {e}", position(migration, s.start))))?;
    }
    let m = &package.manifest;
    let reads = |t: &Touched, v: &crate::manifest::ManifestView| match t.table.as_slice() {
        [schema, table] => *schema == v.source_schema && *table == v.source_table,
        [table] => *table == v.source_table,
        _ => false,
    };
    touched.retain(|t| m.views.iter().any(|v| reads(t, v)));
    let views: Vec<String> = m
        .views
        .iter()
        .filter(|v| touched.iter().any(|t| reads(t, v)))
        .map(|v| v.name.clone())
        .collect();
    if touched.is_empty() {
        return Ok(Wrapped {
            sql: None,
            touched,
            views,
        });
    }
    let script = Script::parse(&package.sql)?;
    let statements = package_statements(package, &script);
    let key = script.lock_key().unwrap_or(DEFAULT_LOCK_KEY);
    let schema = &m.schema;
    let schema_lit = quote_literal(schema);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{WRAP_MARKER} {} (package {}) — @generated, do not edit the idpviews parts.\n\
         -- The IDP migration is unchanged between the BEGIN/END idpviews markers below. Around it:\n\
         -- the views of \"{schema}\" that read what it changes are dropped (never CASCADE: a\n\
         -- product object depending on one stops the migration) and re-created from the new\n\
         -- views package, in one transaction: readers wait, they never see a missing view.\n\
         -- Prisma Migrate sends the file as one message, which PostgreSQL runs as one\n\
         -- transaction; by hand, run it the same way: psql -1 -v ON_ERROR_STOP=1 -f <file>\n\
         SET LOCAL lock_timeout = '{}ms';\n\
         SELECT pg_advisory_xact_lock({key});\n",
        env!("CARGO_PKG_VERSION"),
        m.package_hash(),
        lock_timeout.as_millis().max(1),
    );
    let values: Vec<String> = touched
        .iter()
        .map(|t| {
            format!(
                "({}, {})",
                quote_literal(&t.table_sql()),
                t.column
                    .as_deref()
                    .map_or("NULL".to_owned(), |c| format!("{}::text", quote_literal(c)))
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "-- idpviews: drop exactly the views that read what the migration changes\n\
         CREATE TEMP TABLE idpviews_wrap_dropped (name text PRIMARY KEY) ON COMMIT DROP;\n\
         DO $idpviews$\n\
         DECLARE\n\
         \x20 v record;\n\
         \x20 deps text;\n\
         BEGIN\n\
         \x20 FOR v IN\n\
         \x20   SELECT DISTINCT c.oid, c.relname::text AS name\n\
         \x20   FROM (VALUES {}) AS x(tbl, col)\n\
         \x20   JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass\n\
         \x20     AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = to_regclass(x.tbl)\n\
         \x20     AND (x.col IS NULL OR d.refobjsubid = (SELECT a.attnum FROM pg_catalog.pg_attribute a\n\
         \x20          WHERE a.attrelid = to_regclass(x.tbl) AND a.attname = x.col AND NOT a.attisdropped))\n\
         \x20   JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid\n\
         \x20   JOIN pg_catalog.pg_class c ON c.oid = r.ev_class\n\
         \x20   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n\
         \x20   WHERE n.nspname = {schema_lit} AND c.relkind = 'v'\n\
         \x20   ORDER BY 2\n\
         \x20 LOOP\n\
         \x20   SELECT string_agg(DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), ', ')\n\
         \x20     INTO deps\n\
         \x20   FROM pg_catalog.pg_depend d\n\
         \x20   LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = d.objid\n\
         \x20   WHERE d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = v.oid\n\
         \x20     AND d.deptype = 'n' AND r.ev_class IS DISTINCT FROM v.oid;\n\
         \x20   IF deps IS NOT NULL THEN\n\
         \x20     RAISE EXCEPTION 'idpviews: the migration must drop view %.% to change what it reads, but product objects depend on it: %',\n\
         \x20       quote_ident({schema_lit}), quote_ident(v.name), deps\n\
         \x20       USING HINT = 'nothing was changed; drop or change those objects first (in the product''s own migration), then run this migration again';\n\
         \x20   END IF;\n\
         \x20   EXECUTE format('DROP VIEW %I.%I', {schema_lit}, v.name);\n\
         \x20   INSERT INTO idpviews_wrap_dropped VALUES (v.name);\n\
         \x20 END LOOP;\n\
         END\n\
         $idpviews$;\n",
        values.join(", ")
    );
    let _ = writeln!(
        out,
        "-- BEGIN the IDP migration (unchanged)\n{}\n-- END the IDP migration\n",
        migration.trim_end()
    );

    // Re-create the dropped views that the new package has.
    out.push_str("-- idpviews: re-create the dropped views from the new views package\n");
    for view in &views {
        let body: Vec<&str> = statements
            .iter()
            .filter(|(v, _)| *v == Some(view.as_str()))
            .map(|(_, s)| *s)
            .collect();
        let body = body.join("\n");
        let tag = (0..)
            .map(|i| format!("$idpviews_{i}$"))
            .find(|t| !body.contains(t.as_str()))
            .expect("some tag is free");
        let _ = writeln!(
            out,
            "DO $idpviews$\n\
             BEGIN\n\
             \x20 IF EXISTS (SELECT 1 FROM pg_temp.idpviews_wrap_dropped WHERE name = {}) THEN\n\
             \x20   EXECUTE {tag}{body}{tag};\n\
             \x20 END IF;\n\
             END\n\
             $idpviews$;",
            quote_literal(view)
        );
    }
    // The applied record: the re-created views' fingerprints and manifest
    // entries; views dropped for good leave it.
    let entries: Vec<String> = views
        .iter()
        .map(|name| {
            let sql = statements
                .iter()
                .filter(|(v, _)| *v == Some(name.as_str()))
                .map(|(_, s)| *s)
                .find(|s| s.to_ascii_uppercase().starts_with("CREATE OR REPLACE VIEW"))
                .map(crate::record::fingerprint)
                .unwrap_or_default();
            let manifest_view = serde_json::to_string(m.view(name).expect("a package view"))
                .expect("a manifest view serializes");
            format!(
                "({}, {}, {}::jsonb)",
                quote_literal(name),
                quote_literal(&sql),
                quote_literal(&manifest_view)
            )
        })
        .collect();
    let entries = if entries.is_empty() {
        "SELECT NULL::text, NULL::text, NULL::jsonb WHERE false".to_owned()
    } else {
        format!("VALUES {}", entries.join(", "))
    };
    let _ = writeln!(
        out,
        "-- idpviews: update the applied record (the comment of the views schema)\n\
         DO $idpviews$\n\
         DECLARE\n\
         \x20 r jsonb;\n\
         \x20 d record;\n\
         BEGIN\n\
         \x20 BEGIN\n\
         \x20   r := pg_catalog.obj_description(to_regnamespace({schema_lit}), 'pg_namespace')::jsonb;\n\
         \x20 EXCEPTION WHEN others THEN\n\
         \x20   r := NULL;\n\
         \x20 END;\n\
         \x20 IF r IS NULL OR NOT r ? 'idpviews_record' THEN\n\
         \x20   RETURN;\n\
         \x20 END IF;\n\
         \x20 FOR d IN\n\
         \x20   SELECT w.name, p.sql, p.manifest\n\
         \x20   FROM pg_temp.idpviews_wrap_dropped w\n\
         \x20   LEFT JOIN ({entries}) AS p(name, sql, manifest) ON p.name = w.name\n\
         \x20 LOOP\n\
         \x20   IF d.manifest IS NULL THEN\n\
         \x20     r := r #- ARRAY['views', d.name];\n\
         \x20   ELSE\n\
         \x20     r := jsonb_set(r, ARRAY['views', d.name], jsonb_build_object('sql', d.sql, 'viewdef',\n\
         \x20       'sha256:' || encode(sha256(convert_to(pg_catalog.pg_get_viewdef(\n\
         \x20         format('%I.%I', {schema_lit}, d.name)::regclass), 'UTF8')), 'hex')));\n\
         \x20   END IF;\n\
         \x20   r := jsonb_set(r, ARRAY['manifest', 'views'], coalesce((\n\
         \x20     SELECT jsonb_agg(CASE WHEN e->>'name' = d.name THEN d.manifest ELSE e END ORDER BY i)\n\
         \x20     FROM jsonb_array_elements(r->'manifest'->'views') WITH ORDINALITY AS x(e, i)\n\
         \x20     WHERE e->>'name' <> d.name OR d.manifest IS NOT NULL), '[]'::jsonb));\n\
         \x20 END LOOP;\n\
         \x20 EXECUTE format('COMMENT ON SCHEMA %I IS %L', {schema_lit}, r::text);\n\
         END\n\
         $idpviews$;"
    );
    Ok(Wrapped {
        sql: Some(out),
        touched,
        views,
    })
}

/// Objects that depend on a view the wrapped migration would drop, in the
/// database `client` is connected to now, as `(view, object)`: what
/// `wrap-migration --database-url` refuses on up front (the wrapped file
/// checks again when it runs). Reads the catalogs only.
pub fn dependents(
    client: &mut postgres::Client,
    package: &Package,
    wrapped: &Wrapped,
) -> Result<Vec<(String, String)>, Error> {
    let tables: Vec<String> = wrapped.touched.iter().map(Touched::table_sql).collect();
    let columns: Vec<Option<String>> = wrapped.touched.iter().map(|t| t.column.clone()).collect();
    let rows = client
        .query(
            "SELECT DISTINCT c.relname::text, \
                    pg_catalog.pg_describe_object(d2.classid, d2.objid, d2.objsubid) \
             FROM unnest($1::text[], $2::text[]) AS x(tbl, col) \
             JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass \
               AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = to_regclass(x.tbl) \
               AND (x.col IS NULL OR d.refobjsubid = (SELECT a.attnum FROM pg_catalog.pg_attribute a \
                    WHERE a.attrelid = to_regclass(x.tbl) AND a.attname = x.col AND NOT a.attisdropped)) \
             JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid \
             JOIN pg_catalog.pg_class c ON c.oid = r.ev_class \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_depend d2 ON d2.refclassid = 'pg_catalog.pg_class'::regclass \
               AND d2.refobjid = c.oid AND d2.deptype = 'n' \
             LEFT JOIN pg_catalog.pg_rewrite r2 ON d2.classid = 'pg_catalog.pg_rewrite'::regclass \
               AND r2.oid = d2.objid \
             WHERE n.nspname = $3 AND c.relkind = 'v' AND r2.ev_class IS DISTINCT FROM c.oid \
             ORDER BY 1, 2",
            &[&tables, &columns, &package.manifest.schema],
        )
        .map_err(Error::db("looking for objects that depend on the views"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// `line:col` of a byte offset.
fn position(text: &str, at: usize) -> String {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("{line}:{col}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// An identifier or keyword: unquoted ones lowercased.
    Word(String, bool),
    Punct(char),
    Other,
}

fn tokens(sql: &str) -> Vec<Tok> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            i = sql[i..].find('\n').map_or(b.len(), |n| i + n + 1);
        } else if c == b'"' {
            let mut s = String::new();
            let mut j = i + 1;
            while j < b.len() {
                if b[j] == b'"' {
                    if b.get(j + 1) == Some(&b'"') {
                        s.push('"');
                        j += 2;
                        continue;
                    }
                    break;
                }
                let ch = sql[j..].chars().next().unwrap_or('?');
                s.push(ch);
                j += ch.len_utf8();
            }
            out.push(Tok::Word(s, true));
            i = j + 1;
        } else if c == b'\'' {
            let mut j = i + 1;
            while j < b.len() {
                if b[j] == b'\'' {
                    if b.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            out.push(Tok::Other);
            i = j + 1;
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            out.push(Tok::Word(sql[start..i].to_lowercase(), false));
        } else if matches!(c, b'.' | b',' | b'(' | b')' | b';') {
            out.push(Tok::Punct(c as char));
            i += 1;
        } else {
            out.push(Tok::Other);
            i += 1;
        }
    }
    out
}

fn kw(t: Option<&Tok>, word: &str) -> bool {
    matches!(t, Some(Tok::Word(w, false)) if w == word)
}

/// A possibly qualified name at `*i`.
fn name(t: &[Tok], i: &mut usize) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    loop {
        let Some(Tok::Word(w, _)) = t.get(*i) else {
            return None;
        };
        parts.push(w.clone());
        *i += 1;
        if t.get(*i) == Some(&Tok::Punct('.')) {
            *i += 1;
        } else {
            return Some(parts);
        }
    }
}

/// What one migration statement changes that a view may read.
fn analyze(stmt: &str, out: &mut Vec<Touched>) -> Result<(), String> {
    let t = tokens(stmt);
    let first = |w: &str| kw(t.first(), w);
    if ["begin", "commit", "rollback", "start", "end"]
        .iter()
        .any(|w| first(w))
        && t.len() <= 3
    {
        return Err(format!(
            "the migration has its own transaction control (`{}`): it cannot be wrapped",
            stmt.trim()
        ));
    }
    if kw(t.first(), "create") && t.iter().any(|x| kw(Some(x), "concurrently")) {
        return Err("CREATE INDEX CONCURRENTLY cannot run inside the wrapping transaction: move it to a migration of its own".into());
    }
    if t.iter().any(|x| kw(Some(x), "drop")) && t.iter().any(|x| kw(Some(x), "cascade")) {
        return Err(format!(
            "`{}`: CASCADE would silently drop the views and the products' objects over them; \
             drop without CASCADE",
            stmt.trim()
        ));
    }
    if kw(t.first(), "drop") && kw(t.get(1), "table") {
        let mut i = 2;
        if kw(t.get(i), "if") && kw(t.get(i + 1), "exists") {
            i += 2;
        }
        while let Some(table) = name(&t, &mut i) {
            out.push(Touched {
                table,
                column: None,
            });
            if t.get(i) == Some(&Tok::Punct(',')) {
                i += 1;
            } else {
                break;
            }
        }
        return Ok(());
    }
    if !(kw(t.first(), "alter") && kw(t.get(1), "table")) {
        return Ok(());
    }
    let mut i = 2;
    if kw(t.get(i), "if") && kw(t.get(i + 1), "exists") {
        i += 2;
    }
    if kw(t.get(i), "only") {
        i += 1;
    }
    let Some(table) = name(&t, &mut i) else {
        return Ok(());
    };
    // the actions, split at top-level commas
    let mut depth = 0i32;
    let mut actions: Vec<Vec<Tok>> = vec![Vec::new()];
    for tok in &t[i..] {
        match tok {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => depth -= 1,
            Tok::Punct(',') if depth == 0 => {
                actions.push(Vec::new());
                continue;
            }
            Tok::Punct(';') if depth == 0 => continue,
            _ => {}
        }
        actions.last_mut().expect("one action").push(tok.clone());
    }
    let touch = |column: Option<String>, out: &mut Vec<Touched>| {
        out.push(Touched {
            table: table.clone(),
            column,
        })
    };
    for a in actions {
        let mut j = 0;
        let word = |k: usize| match a.get(k) {
            Some(Tok::Word(w, _)) => Some(w.clone()),
            _ => None,
        };
        match () {
            _ if kw(a.first(), "alter") => {
                j = if kw(a.get(1), "column") { 2 } else { 1 };
                let col = word(j);
                let ty = a[j + 1..].iter().take(3).any(|x| kw(Some(x), "type"));
                if ty {
                    touch(col, out);
                }
            }
            _ if kw(a.first(), "drop") && !kw(a.get(1), "constraint") => {
                j = if kw(a.get(1), "column") { 2 } else { 1 };
                if kw(a.get(j), "if") && kw(a.get(j + 1), "exists") {
                    j += 2;
                }
                touch(word(j), out);
            }
            _ if kw(a.first(), "rename") && kw(a.get(1), "to") => {
                touch(None, out);
                if let Some(new) = word(2) {
                    let mut renamed = table.clone();
                    *renamed.last_mut().expect("a name") = new;
                    out.push(Touched {
                        table: renamed,
                        column: None,
                    });
                }
            }
            _ if kw(a.first(), "rename") && !kw(a.get(1), "constraint") => {
                j = if kw(a.get(1), "column") { 2 } else { 1 };
                touch(word(j), out);
            }
            _ if kw(a.first(), "set") && kw(a.get(1), "schema") => touch(None, out),
            _ => {}
        }
        let _ = j;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touched(sql: &str) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        for s in statements::split(sql) {
            analyze(s.text, &mut out).unwrap();
        }
        out.into_iter()
            .map(|t| (t.table.join("."), t.column))
            .collect()
    }

    #[test]
    fn prisma_statements() {
        let sql = r#"
-- AlterTable
ALTER TABLE "idp"."User" ALTER COLUMN "email" SET DATA TYPE VARCHAR(200),
ADD COLUMN "x" TEXT;
-- AlterTable
ALTER TABLE "User" DROP COLUMN "nickname";
ALTER TABLE "idp"."users" RENAME TO "app_users";
ALTER TABLE "idp"."User" RENAME COLUMN "a" TO "b";
ALTER TABLE "idp"."User" ALTER COLUMN "first_name" SET NOT NULL;
DROP TABLE "idp"."Old";
CREATE INDEX "i" ON "idp"."User"("email");
"#;
        assert_eq!(
            touched(sql),
            vec![
                ("idp.User".into(), Some("email".into())),
                ("User".into(), Some("nickname".into())),
                ("idp.users".into(), None),
                ("idp.app_users".into(), None),
                ("idp.User".into(), Some("a".into())),
                ("idp.Old".into(), None),
            ]
        );
    }

    #[test]
    fn refusals() {
        let mut out = Vec::new();
        assert!(analyze("BEGIN;", &mut out).is_err());
        assert!(analyze("DROP TABLE \"t\" CASCADE;", &mut out).is_err());
        assert!(analyze("CREATE INDEX CONCURRENTLY i ON t (a);", &mut out).is_err());
    }
}
