//! Scale out: products on read replicas and on their own databases.
//!
//! # Read replicas (physical standby)
//! Views, typed rows, [`crate::verify()`], [`crate::tenant::set_tenant`] and [`crate::audit()`] only
//! read, so they work on a hot standby unchanged. [`crate::apply()`] refuses there with
//! [`Error::ReadOnlyStandby`] ("read-only standby: apply on the primary"): the views reach the
//! standby through replication once applied on the primary.
//!
//! # Own database (logical replication, PostgreSQL 15+)
//! - **IDP side** ([`publication_plan`]): one publication listing, for each IDP table the package
//!   reads, exactly the package's columns (a column list), optionally a row filter on one
//!   tenant; a dedicated `LOGIN REPLICATION` role with `SELECT` on those columns only (the initial
//!   copy reads them). Secret columns are not in any column list, so they never enter the
//!   replication stream.
//! - **Product side** ([`subscribe`]): tables with the same qualified names holding only the
//!   published columns (types from the manifest: enum columns are `text`/`text[]`, so a new enum
//!   label never breaks the apply worker), then the package's views (`create-idp-views.sql`
//!   unchanged, through [`crate::apply()`]), then the subscription.
//! - **Upgrades** ([`upgrade`]): appended fields and views change the subscriber tables first,
//!   then the publication, then `REFRESH PUBLICATION` (new tables are copied), then a backfill of
//!   appended columns of existing tables (PostgreSQL does not re-copy them), then the views.
//!   Anything else is refused with the steps to do it by hand.
//! - **Status** ([`status`], [`publisher_lag`]): per table state, worker, error counts, lag.
//!
//! # Replica identity: what it costs the IDP
//! PostgreSQL requires, for a publication that publishes `UPDATE`/`DELETE`, that a column list
//! contains the table's replica identity columns and that a row filter references only replica
//! identity columns; otherwise the IDP's own `UPDATE`s fail. So:
//! - Without a tenant filter the identity stays the default (the primary key): **no cost**. The
//!   key columns must be allowlisted (they identify rows in the product database); a table whose
//!   identity is `FULL` (would publish every column, secrets included) or missing (the IDP's
//!   updates would fail) is refused.
//! - With `--tenant`, the tenant column must be part of the identity: idpviews creates a unique
//!   index `(<primary key>, <tenant column>)` (`CREATE UNIQUE INDEX CONCURRENTLY`: no write
//!   lock) and sets `REPLICA IDENTITY USING INDEX` on it. **Cost**: one more unique index on the
//!   table (maintained on every insert and on updates of its columns; updates of other columns
//!   stay HOT-eligible), a brief `ACCESS EXCLUSIVE` lock for the `ALTER TABLE` (bounded by
//!   `lock_timeout`), the tenant column must be `NOT NULL`, and the WAL of an `UPDATE` that
//!   changes the key or the tenant carries the old `(key, tenant)`. This is what lets
//!   PostgreSQL turn an update that moves a row out of the tenant into a `DELETE`, and one that
//!   moves a row in into an `INSERT`, on the product side.
//!
//! The `REPLICATION` attribute lets a role stream WAL: with an output plugin other than
//! `pgoutput` installed (e.g. `test_decoding` from contrib) it could decode every table. Keep
//! its password with the subscriber only and deny it `replication` (physical) lines in
//! `pg_hba.conf`; through SQL it reads nothing but the published columns.

use crate::db::{
    db_message, qualified, quote_ident, run_ready, AsyncConn, Conn, DbError, DbRow, SyncConn,
};
use crate::manifest::Manifest;
use crate::sql::quote_literal;
use crate::verify::{CheckedObject, Finding, FindingKind, Severity, VerifyReport};
use crate::{Error, Package};
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// The publication name when none is given.
pub const DEFAULT_PUBLICATION: &str = "idpviews";
/// The replication role when none is given.
pub const DEFAULT_ROLE: &str = "idpviews_replica";
/// `COMMENT ON TABLE` of a replica table in a product database starts with this; [`verify`]
/// checks the tables that carry it.
///
/// [`verify`]: crate::verify()
pub const TABLE_MARKER: &str = "idpviews replica table";
const PUBLICATION_MARKER: &str = "idpviews publication";
const LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '5s'";

// ---------------------------------------------------------------------------------------------
// Tables the package reads
// ---------------------------------------------------------------------------------------------

/// An IDP table the package reads, with the columns products may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaTable {
    pub schema: String,
    pub table: String,
    /// `(column, sql type)` in first-use order; enum columns have the view's `text` type.
    pub columns: Vec<(String, String)>,
    /// The column a tenant filter applies to: the view's `tenant_column`, else `tenant_id`.
    pub tenant_column: Option<String>,
}

impl ReplicaTable {
    /// `"schema"."table"`.
    pub fn qualified(&self) -> String {
        qualified(&self.schema, &self.table)
    }

    fn column_type(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, t)| t.as_str())
    }

    fn column_list(&self) -> String {
        quoted_list(self.columns.iter().map(|(c, _)| c))
    }

    fn display(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// The source tables of the package's views, in view order (a table read by two views once,
/// with the union of their columns).
pub fn tables(manifest: &Manifest) -> Vec<ReplicaTable> {
    let mut out: Vec<ReplicaTable> = Vec::new();
    for view in &manifest.views {
        let idx = match out
            .iter()
            .position(|t| t.schema == view.source_schema && t.table == view.source_table)
        {
            Some(i) => i,
            None => {
                out.push(ReplicaTable {
                    schema: view.source_schema.clone(),
                    table: view.source_table.clone(),
                    columns: Vec::new(),
                    tenant_column: None,
                });
                out.len() - 1
            }
        };
        let t = &mut out[idx];
        for c in &view.columns {
            if t.column_type(&c.column).is_none() {
                t.columns.push((c.column.clone(), c.sql_type.clone()));
            }
        }
        if let Some(col) = &view.tenant_column {
            t.tenant_column = Some(col.clone());
        }
    }
    for t in &mut out {
        if t.tenant_column.is_none() && t.column_type("tenant_id").is_some() {
            t.tenant_column = Some("tenant_id".to_string());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// IDP side: the publication
// ---------------------------------------------------------------------------------------------

/// What [`publication_plan`] needs besides the package.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Publication name ([`DEFAULT_PUBLICATION`]).
    pub publication: String,
    /// The replication role ([`DEFAULT_ROLE`]): created `LOGIN REPLICATION` if missing (no
    /// password: set one yourself), granted `SELECT` on the published columns only.
    pub role: String,
    /// Publish only this tenant's rows of tables with a tenant column.
    pub tenant: Option<String>,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            publication: DEFAULT_PUBLICATION.into(),
            role: DEFAULT_ROLE.into(),
            tenant: None,
        }
    }
}

/// One table of a publication plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTable {
    pub table: ReplicaTable,
    /// The replica identity columns the publication relies on.
    pub identity: Vec<String>,
    /// A unique index to create for the identity (tenant filter), by name.
    pub identity_index: Option<String>,
    /// The row filter, e.g. `("tenant_id" = '...'::uuid)`.
    pub row_filter: Option<String>,
    /// Column lists of the IDP's plain b-tree indexes on published columns only: the product's
    /// table gets the same (non-unique) indexes, so its queries are planned like the IDP's.
    pub indexes: Vec<Vec<String>>,
}

/// The publication: statements to run outside a transaction (`CREATE INDEX CONCURRENTLY`), then
/// one transaction.
#[derive(Debug, Clone)]
pub struct PublicationPlan {
    pub tables: Vec<PlannedTable>,
    pub concurrent: Vec<String>,
    pub transaction: String,
    /// Notes for people (e.g. tables published whole despite `--tenant`).
    pub notes: Vec<String>,
}

impl PublicationPlan {
    /// The whole plan as one SQL script.
    pub fn sql(&self) -> String {
        let mut s = String::new();
        for n in &self.notes {
            s.push_str(&format!("-- note: {n}\n"));
        }
        if !self.concurrent.is_empty() {
            s.push_str(
                "-- Outside a transaction (CREATE INDEX CONCURRENTLY takes no write lock):\n",
            );
            for c in &self.concurrent {
                s.push_str(c);
                s.push_str(";\n");
            }
        }
        s.push_str(&self.transaction);
        s
    }

    /// Runs the plan on the IDP database.
    pub fn execute(&self, idp: &mut postgres::Client) -> Result<(), Error> {
        for c in &self.concurrent {
            let created = idp
                .batch_execute("SET lock_timeout = '5s'")
                .and_then(|_| idp.batch_execute(c));
            let _ = idp.batch_execute("RESET lock_timeout");
            created.map_err(Error::db("creating the replica identity index"))?;
        }
        idp.batch_execute(&self.transaction).map_err(|e| {
            let _ = idp.batch_execute("ROLLBACK");
            Error::Database {
                context: "creating the publication (rolled back)".into(),
                source: e,
            }
        })
    }
}

const IDENTITY_SQL: &str = "\
SELECT c.relreplident::text, \
       coalesce(array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)) \
                FILTER (WHERE a.attname IS NOT NULL), '{}'), \
       coalesce(bool_and(a.attnotnull), true) \
FROM pg_catalog.pg_class c \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid \
     AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident)) \
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey) \
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') \
GROUP BY c.relreplident";

const NOT_NULL_SQL: &str = "\
SELECT a.attnotnull FROM pg_catalog.pg_attribute a \
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND NOT a.attisdropped";

/// The live replica identity of a table: `(relreplident, columns)`.
fn live_identity(
    idp: &mut postgres::Client,
    t: &ReplicaTable,
) -> Result<(String, Vec<String>), Error> {
    let rows = idp
        .query(IDENTITY_SQL, &[&t.schema, &t.table])
        .map_err(Error::db("reading the replica identity"))?;
    let row = rows.first().ok_or_else(|| {
        Error::Replica(format!(
            "table {} does not exist in the IDP database",
            t.display()
        ))
    })?;
    Ok((row.get(0), row.get(1)))
}

const INDEXES_SQL: &str = "\
SELECT array_agg(a.attname::text ORDER BY k.ord) \
FROM pg_catalog.pg_index i \
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
JOIN pg_catalog.pg_am am ON am.oid = ic.relam \
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum AND k.attnum > 0 \
WHERE n.nspname = $1 AND c.relname = $2 AND am.amname = 'btree' AND i.indisvalid \
  AND i.indpred IS NULL AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts \
GROUP BY i.indexrelid HAVING bool_and(a.attname IS NOT NULL) \
ORDER BY i.indexrelid";

/// The IDP's plain b-tree indexes of `t` whose columns are all published, but the identity.
fn live_indexes(
    idp: &mut postgres::Client,
    t: &ReplicaTable,
    identity: &[String],
) -> Result<Vec<Vec<String>>, Error> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for r in idp
        .query(INDEXES_SQL, &[&t.schema, &t.table])
        .map_err(Error::db("reading the IDP's indexes"))?
    {
        let cols: Vec<String> = r.get(0);
        if cols.iter().all(|c| t.column_type(c).is_some())
            && cols.as_slice() != identity
            && !out.contains(&cols)
        {
            out.push(cols);
        }
    }
    Ok(out)
}

fn identity_index_name(t: &ReplicaTable) -> String {
    let mut name = format!("{}_idpviews_identity", t.table);
    while name.len() > 63 {
        name.remove(0);
    }
    name
}

/// Plans the publication. With `idp` (the IDP database) the replica identities are read from
/// the catalog and checked; without, the key is taken to be the package's unique non-null
/// column and the SQL checks it when it runs (a guard that aborts the transaction).
pub fn publication_plan(
    mut idp: Option<&mut postgres::Client>,
    package: &Package,
    opts: &PublishOptions,
) -> Result<PublicationPlan, Error> {
    let manifest = &package.manifest;
    if opts.publication.is_empty() || opts.role.is_empty() {
        return Err(Error::InvalidInput(
            "the publication and role names must not be empty".into(),
        ));
    }
    if opts.tenant.as_deref() == Some("") {
        return Err(Error::InvalidInput("the tenant id is empty".into()));
    }
    let mut problems = Vec::new();
    let mut planned = Vec::new();
    let mut notes = Vec::new();
    for t in tables(manifest) {
        let (kind, mut identity) = match idp.as_deref_mut() {
            Some(c) => live_identity(c, &t)?,
            None => {
                let key: Vec<String> = manifest
                    .views
                    .iter()
                    .filter(|v| v.source_schema == t.schema && v.source_table == t.table)
                    .flat_map(|v| v.columns.iter())
                    .find(|c| c.unique && !c.nullable && !c.list)
                    .map(|c| vec![c.column.clone()])
                    .unwrap_or_default();
                ("d".to_string(), key)
            }
        };
        match kind.as_str() {
            "f" => {
                problems.push(format!(
                    "{}: REPLICA IDENTITY FULL would need every column in the column list, \
                     secrets included; set `ALTER TABLE {} REPLICA IDENTITY DEFAULT` (the primary \
                     key) if no other publication needs FULL",
                    t.display(),
                    t.qualified()
                ));
                continue;
            }
            _ if identity.is_empty() => {
                problems.push(format!(
                    "{}: no replica identity (no primary key): publishing its updates would make \
                     the IDP's own UPDATE and DELETE fail; give the table a primary key",
                    t.display()
                ));
                continue;
            }
            _ => {}
        }
        let mut identity_index = None;
        let mut row_filter = None;
        if let Some(tenant) = &opts.tenant {
            match &t.tenant_column {
                None => notes.push(format!(
                    "{} has no tenant column: published whole (every tenant's rows)",
                    t.display()
                )),
                Some(col) => {
                    if !identity.contains(col) {
                        if let Some(c) = idp.as_deref_mut() {
                            let not_null = c
                                .query(NOT_NULL_SQL, &[&t.schema, &t.table, col])
                                .map_err(Error::db("reading the tenant column"))?
                                .first()
                                .is_some_and(|r| r.get::<_, bool>(0));
                            if !not_null {
                                problems.push(format!(
                                    "{}: the tenant column `{col}` may be NULL; a tenant filter \
                                     needs it in the replica identity, which PostgreSQL only \
                                     allows for NOT NULL columns",
                                    t.display()
                                ));
                                continue;
                            }
                        }
                        identity.push(col.clone());
                        identity_index = Some(identity_index_name(&t));
                    }
                    let ty = t.column_type(col).unwrap_or("text");
                    row_filter = Some(format!(
                        "({} = {}::{ty})",
                        quote_ident(col),
                        quote_literal(tenant)
                    ));
                }
            }
        }
        let missing: Vec<&String> = identity
            .iter()
            .filter(|c| t.column_type(c).is_none())
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{}: the replica identity column(s) {} are not allowlisted; replication identifies \
                 rows by them, so they would leave the IDP database: add them to a view of the \
                 table in idp-views.toml",
                t.display(),
                missing
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        }
        let indexes = match idp.as_deref_mut() {
            Some(c) => live_indexes(c, &t, &identity)?,
            None => Vec::new(),
        };
        planned.push(PlannedTable {
            table: t,
            identity,
            identity_index,
            row_filter,
            indexes,
        });
    }
    if !problems.is_empty() {
        return Err(Error::Replica(format!(
            "cannot publish the package's tables:\n  - {}",
            problems.join("\n  - ")
        )));
    }
    let mut concurrent = Vec::new();
    let mut tx = String::from("BEGIN;\n");
    tx.push_str(LOCK_TIMEOUT);
    tx.push_str(";\n");
    for p in &planned {
        if let Some(index) = &p.identity_index {
            concurrent.push(format!(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({})",
                quote_ident(index),
                p.table.qualified(),
                quoted_list(&p.identity)
            ));
            tx.push_str(&format!(
                "ALTER TABLE {} REPLICA IDENTITY USING INDEX {};\n",
                p.table.qualified(),
                quote_ident(index)
            ));
        }
    }
    tx.push_str(&identity_guards(&planned));
    tx.push_str(&role_sql(&planned, &opts.role));
    tx.push_str(&format!(
        "CREATE PUBLICATION {} FOR {};\n",
        quote_ident(&opts.publication),
        table_specs(&planned)
    ));
    tx.push_str(&format!(
        "COMMENT ON PUBLICATION {} IS {};\n",
        quote_ident(&opts.publication),
        quote_literal(&publication_comment(manifest, opts))
    ));
    tx.push_str("COMMIT;\n");
    Ok(PublicationPlan {
        tables: planned,
        concurrent,
        transaction: tx,
        notes,
    })
}

fn table_specs(planned: &[PlannedTable]) -> String {
    planned
        .iter()
        .map(|p| {
            let mut s = format!("TABLE {} ({})", p.table.qualified(), p.table.column_list());
            if let Some(f) = &p.row_filter {
                s.push_str(&format!(" WHERE {f}"));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(",\n  ")
}

/// Aborts the transaction when a table's replica identity is not what the plan relies on.
fn identity_guards(planned: &[PlannedTable]) -> String {
    let mut s = String::new();
    for p in planned {
        let mut expected = p.identity.clone();
        expected.sort();
        let sql = IDENTITY_SQL
            .replace("$1", &quote_literal(&p.table.schema))
            .replace("$2", &quote_literal(&p.table.table));
        s.push_str(&format!(
            "DO $idpviews$ BEGIN\n  IF (SELECT array(SELECT unnest(x.cols) ORDER BY 1) FROM ({sql}) AS x(kind, cols, nn) \
             WHERE x.kind IN ('d', 'i')) IS DISTINCT FROM {}::text[] THEN\n    \
             RAISE EXCEPTION 'idpviews: the replica identity of {} is not ({}): PostgreSQL would \
             refuse its UPDATEs with this publication';\n  END IF;\nEND $idpviews$;\n",
            quote_literal(&format!("{{{}}}", expected.join(","))),
            p.table.display().replace('\'', "''"),
            p.identity.join(", ").replace('\'', "''")
        ));
    }
    s
}

/// `"a", "b"`: a quoted column list.
fn quoted_list<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    names
        .into_iter()
        .map(|n| quote_ident(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The schemas of `tables`, sorted, each once.
fn schemas_of(tables: &[PlannedTable]) -> Vec<&str> {
    let mut schemas: Vec<&str> = tables.iter().map(|p| p.table.schema.as_str()).collect();
    schemas.sort_unstable();
    schemas.dedup();
    schemas
}

fn role_sql(planned: &[PlannedTable], role: &str) -> String {
    let r = quote_ident(role);
    let mut s = format!(
        "DO $idpviews$ BEGIN\n  CREATE ROLE {r} LOGIN REPLICATION;\nEXCEPTION WHEN duplicate_object THEN NULL;\nEND $idpviews$;\n"
    );
    for schema in schemas_of(planned) {
        s.push_str(&format!(
            "GRANT USAGE ON SCHEMA {} TO {r};\n",
            quote_ident(schema)
        ));
    }
    for p in planned {
        s.push_str(&format!(
            "GRANT SELECT ({}) ON TABLE {} TO {r};\n",
            p.table.column_list(),
            p.table.qualified()
        ));
    }
    s
}

fn publication_comment(manifest: &Manifest, opts: &PublishOptions) -> String {
    let mut s = format!(
        "{PUBLICATION_MARKER}; package={}; role={}",
        manifest.package_hash(),
        opts.role
    );
    if let Some(t) = &opts.tenant {
        s.push_str(&format!("; tenant={t}"));
    }
    s
}

/// Settings read back from a publication's comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PublicationSettings {
    package: String,
    role: String,
    tenant: Option<String>,
}

fn parse_comment(comment: &str) -> Option<PublicationSettings> {
    let rest = comment.strip_prefix(PUBLICATION_MARKER)?;
    let mut out = PublicationSettings::default();
    for part in rest.split("; ").map(|p| p.trim_start_matches(';').trim()) {
        if let Some(v) = part.strip_prefix("package=") {
            out.package = v.to_string();
        } else if let Some(v) = part.strip_prefix("role=") {
            out.role = v.to_string();
        } else if let Some(v) = part.strip_prefix("tenant=") {
            out.tenant = Some(v.to_string());
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Product side: tables, views, subscription
// ---------------------------------------------------------------------------------------------

/// The subscriber tables of `tables` (one transaction is the caller's).
fn create_tables_sql(tables: &[PlannedTable]) -> String {
    let mut s = String::new();
    for schema in schemas_of(tables) {
        s.push_str(&format!(
            "CREATE SCHEMA IF NOT EXISTS {};\n",
            quote_ident(schema)
        ));
    }
    for p in tables {
        let t = &p.table;
        let mut cols: Vec<String> = t
            .columns
            .iter()
            .map(|(c, ty)| {
                let not_null = if p.identity.contains(c) {
                    " NOT NULL"
                } else {
                    ""
                };
                format!("  {} {ty}{not_null}", quote_ident(c))
            })
            .collect();
        cols.push(format!("  PRIMARY KEY ({})", quoted_list(&p.identity)));
        s.push_str(&format!(
            "CREATE TABLE {} (\n{}\n);\n",
            t.qualified(),
            cols.join(",\n")
        ));
        for cols in &p.indexes {
            s.push_str(&format!(
                "CREATE INDEX ON {} ({});\n",
                t.qualified(),
                quoted_list(cols)
            ));
        }
        s.push_str(&format!(
            "COMMENT ON TABLE {} IS {};\n",
            t.qualified(),
            quote_literal(&format!(
                "{TABLE_MARKER}: the published columns of IDP table {}; written only by the \
                 subscription",
                t.display()
            ))
        ));
    }
    s
}

/// What [`subscribe`] needs besides the package.
pub struct SubscribeOptions {
    /// The publication on the IDP database ([`DEFAULT_PUBLICATION`]).
    pub publication: String,
    /// The subscription (and replication slot) name; default `idpviews_<product database>`.
    pub subscription: Option<String>,
    /// libpq connection string of the IDP database as the replication role. Stored in the
    /// subscription (readable only by superusers); never printed, logged or put in an error.
    pub publisher: String,
}

impl fmt::Debug for SubscribeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscribeOptions")
            .field("publication", &self.publication)
            .field("subscription", &self.subscription)
            .field("publisher", &"<hidden>")
            .finish()
    }
}

/// What [`subscribe`] did.
#[derive(Debug, Clone)]
pub struct Subscribed {
    pub subscription: String,
    pub tables: Vec<String>,
    pub applied: crate::Applied,
}

/// Creates, in the product database, the replica tables, the package's views and the
/// subscription (which starts the initial copy: see [`wait_ready`]). `publication` describes the
/// tables (identity included): read it with [`publication_tables`] from the IDP, or rebuild it
/// with [`publication_plan`]. A failure removes what this call created.
pub fn subscribe(
    product: &mut postgres::Client,
    package: &Package,
    tables: &[PlannedTable],
    opts: &SubscribeOptions,
) -> Result<Subscribed, Error> {
    let subscription = match &opts.subscription {
        Some(s) if !s.is_empty() => s.clone(),
        _ => {
            let db: String = product
                .query_one("SELECT current_database()::text", &[])
                .map_err(Error::db("reading the database name"))?
                .get(0);
            let mut name = format!("idpviews_{db}");
            name.truncate(63);
            name
        }
    };
    let schema_existed = !product
        .query(
            "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
            &[&package.manifest.schema],
        )
        .map_err(Error::db("reading the views schema"))?
        .is_empty();
    let ddl = format!(
        "BEGIN;\n{LOCK_TIMEOUT};\n{}COMMIT;\n",
        create_tables_sql(tables)
    );
    product.batch_execute(&ddl).map_err(|e| {
        let _ = product.batch_execute("ROLLBACK");
        Error::Database {
            context: "creating the replica tables (rolled back; use `replica apply` for a \
                      database that already has them)"
                .into(),
            source: e,
        }
    })?;
    let undo = |product: &mut postgres::Client| {
        let mut s = String::new();
        for p in tables {
            s.push_str(&format!(
                "DROP TABLE IF EXISTS {} CASCADE;\n",
                p.table.qualified()
            ));
        }
        if !schema_existed {
            s.push_str(&format!(
                "DROP SCHEMA IF EXISTS {} CASCADE;\n",
                quote_ident(&package.manifest.schema)
            ));
        }
        let _ = product.batch_execute(&s);
    };
    let applied = match crate::apply(product, package) {
        Ok(a) => a,
        Err(e) => {
            undo(product);
            return Err(e);
        }
    };
    // The statement holds the connection string: keep it out of the server log, even on error
    // (superuser-only settings; creating a subscription needs a superuser on PostgreSQL 15).
    let create = format!(
        "CREATE SUBSCRIPTION {sub} CONNECTION {conn} PUBLICATION {publ} \
         WITH (copy_data = true, slot_name = {slot})",
        sub = quote_ident(&subscription),
        conn = quote_literal(&opts.publisher),
        publ = quote_ident(&opts.publication),
        slot = quote_literal(&subscription),
    );
    let result = product
        .batch_execute("SET log_statement = 'none'; SET log_min_error_statement = 'panic'")
        .and_then(|_| product.batch_execute(&create));
    let _ = product.batch_execute("RESET log_statement; RESET log_min_error_statement");
    if let Err(e) = result {
        undo(product);
        // The message of CREATE SUBSCRIPTION names host and port at most, never the password;
        // the statement itself (with the connection string) is not repeated.
        return Err(Error::Replica(format!(
            "creating subscription `{subscription}` failed (the replica tables and views were \
             removed again): {}",
            db_message(&e)
        )));
    }
    Ok(Subscribed {
        subscription,
        tables: tables.iter().map(|p| p.table.display()).collect(),
        applied,
    })
}

const PUBLICATION_TABLES_SQL: &str = "\
SELECT t.schemaname::text, t.tablename::text, t.attnames::text[], t.rowfilter \
FROM pg_catalog.pg_publication_tables t WHERE t.pubname = $1 \
ORDER BY 1, 2";

/// The tables of a publication as the IDP database holds it (column lists, row filters,
/// replica identities), checked against the package: what [`subscribe`] creates.
pub fn publication_tables(
    idp: &mut postgres::Client,
    package: &Package,
    publication: &str,
) -> Result<Vec<PlannedTable>, Error> {
    let live = read_publication(idp, publication)?;
    let mut out = Vec::new();
    for t in tables(&package.manifest) {
        let Some((cols, filter)) = live.get(&(t.schema.clone(), t.table.clone())) else {
            return Err(Error::Replica(format!(
                "publication `{publication}` does not publish {} (read by the package): run \
                 `idpviews replica apply` to upgrade it",
                t.display()
            )));
        };
        let mut want: Vec<&String> = t.columns.iter().map(|(c, _)| c).collect();
        want.sort();
        let mut have: Vec<&String> = cols.iter().collect();
        have.sort();
        if want != have {
            return Err(Error::Replica(format!(
                "publication `{publication}` publishes other columns of {} than the package \
                 reads: run `idpviews replica apply` to upgrade it",
                t.display()
            )));
        }
        let (_, identity) = live_identity(idp, &t)?;
        let indexes = live_indexes(idp, &t, &identity)?;
        out.push(PlannedTable {
            table: t,
            identity,
            identity_index: None,
            row_filter: filter.clone(),
            indexes,
        });
    }
    Ok(out)
}

type LivePublication = BTreeMap<(String, String), (Vec<String>, Option<String>)>;

fn read_publication(
    idp: &mut postgres::Client,
    publication: &str,
) -> Result<LivePublication, Error> {
    let exists = idp
        .query(
            "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1",
            &[&publication],
        )
        .map_err(Error::db("reading the publication"))?;
    if exists.is_empty() {
        return Err(Error::Replica(format!(
            "the IDP database has no publication `{publication}`: run `idpviews replica publish` \
             there first"
        )));
    }
    Ok(idp
        .query(PUBLICATION_TABLES_SQL, &[&publication])
        .map_err(Error::db("reading the publication's tables"))?
        .iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
        .collect())
}

/// Waits (bounded) until every table of `subscription` is `ready` (initial copy done, streaming).
pub fn wait_ready(
    product: &mut postgres::Client,
    subscription: &str,
    timeout: Duration,
) -> Result<(), Error> {
    let deadline = Instant::now() + timeout;
    loop {
        let s = status(product, Some(subscription))?;
        let Some(sub) = s.first() else {
            return Err(Error::Replica(format!(
                "no subscription `{subscription}` in this database"
            )));
        };
        if !sub.tables.is_empty() && sub.tables.iter().all(|t| t.state == TableState::Ready) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Replica(format!(
                "subscription `{subscription}` not ready after {timeout:?}:\n{sub}"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// Upgrades
// ---------------------------------------------------------------------------------------------

/// What [`upgrade`] needs besides the package and the two connections.
#[derive(Debug, Clone)]
pub struct UpgradeOptions {
    pub publication: String,
    /// Default: the only subscription of `publication` in the product database.
    pub subscription: Option<String>,
    /// Bound for each wait (worker stop, copy of new tables).
    pub timeout: Duration,
}

/// What [`upgrade`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upgraded {
    /// `schema.table` of tables added to the publication (copied by the refresh).
    pub added_tables: Vec<String>,
    /// `schema.table.column` appended (backfilled from the IDP).
    pub added_columns: Vec<String>,
    /// Rows whose appended columns were backfilled.
    pub backfilled_rows: u64,
}

impl Upgraded {
    pub fn is_unchanged(&self) -> bool {
        self.added_tables.is_empty() && self.added_columns.is_empty()
    }
}

const REPLICA_COLUMNS_SQL: &str = "\
SELECT n.nspname::text, c.relname::text, a.attname::text, \
       pg_catalog.format_type(a.atttypid, a.atttypmod) \
FROM pg_catalog.pg_class c \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
WHERE c.relkind = 'r' AND pg_catalog.obj_description(c.oid, 'pg_class') LIKE $1 \
ORDER BY 1, 2, a.attnum";

async fn replica_columns<C: Conn>(
    conn: &mut C,
) -> Result<BTreeMap<(String, String), Vec<(String, String)>>, DbError> {
    let pattern = format!("{TABLE_MARKER}%");
    let mut out: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
    for r in conn.query(REPLICA_COLUMNS_SQL, &[&pattern]).await? {
        out.entry((r.get(0), r.get(1)))
            .or_default()
            .push((r.get(2), r.get(3)));
    }
    Ok(out)
}

/// Upgrades a subscribed product database to `package`: append-only changes (new columns, new
/// views/tables) in the order that never breaks replication — subscriber columns first (the apply
/// worker fails on a published column its table lacks), then the publication, then
/// `REFRESH PUBLICATION` (copies new tables), then a backfill of appended columns of existing
/// rows (with the subscription disabled, so no replicated change interleaves), then the views.
/// Anything else (a dropped or retyped column, a dropped view) is refused, changing nothing,
/// with the steps to do it by hand.
pub fn upgrade(
    idp: &mut postgres::Client,
    product: &mut postgres::Client,
    package: &Package,
    opts: &UpgradeOptions,
) -> Result<Upgraded, Error> {
    let publication = opts.publication.as_str();
    let live_pub = read_publication(idp, publication)?;
    let comment: Option<String> = idp
        .query_one(
            "SELECT pg_catalog.obj_description(oid, 'pg_publication') FROM pg_catalog.pg_publication WHERE pubname = $1",
            &[&publication],
        )
        .map_err(Error::db("reading the publication"))?
        .get(0);
    let settings = comment.as_deref().and_then(parse_comment).ok_or_else(|| {
        Error::Replica(format!(
            "publication `{publication}` was not created by `idpviews replica publish` (no \
                 idpviews comment): upgrade it by hand"
        ))
    })?;
    let sub_tables = run_ready(replica_columns(&mut SyncConn(&mut *product)))
        .map_err(Error::db("reading the replica tables"))?;
    let subscription = match &opts.subscription {
        Some(s) => s.clone(),
        None => {
            let rows = product
                .query(
                    "SELECT subname::text FROM pg_catalog.pg_subscription \
                     WHERE $1 = ANY (subpublications) AND subdbid = \
                     (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())",
                    &[&publication],
                )
                .map_err(Error::db("reading the subscriptions"))?;
            match rows.as_slice() {
                [one] => one.get(0),
                [] => {
                    return Err(Error::Replica(format!(
                        "no subscription to `{publication}` in the product database"
                    )))
                }
                _ => {
                    return Err(Error::Replica(format!(
                        "several subscriptions to `{publication}`: name one (--subscription)"
                    )))
                }
            }
        }
    };

    let desired = tables(&package.manifest);
    let mut breaking = Vec::new();
    let mut new_tables: Vec<ReplicaTable> = Vec::new();
    let mut new_columns: Vec<(ReplicaTable, Vec<(String, String)>)> = Vec::new();
    for ((schema, table), (cols, _)) in &live_pub {
        if !desired
            .iter()
            .any(|t| &t.schema == schema && &t.table == table)
        {
            breaking.push(format!(
                "{schema}.{table} is published but the package no longer reads it"
            ));
        } else if let Some(t) = desired
            .iter()
            .find(|t| &t.schema == schema && &t.table == table)
        {
            for c in cols {
                if t.column_type(c).is_none() {
                    breaking.push(format!(
                        "{schema}.{table}.{c} is published but the package no longer reads it"
                    ));
                }
            }
        }
    }
    for t in &desired {
        let key = (t.schema.clone(), t.table.clone());
        let live_cols = sub_tables.get(&key);
        match (live_pub.get(&key), live_cols) {
            (None, None) => new_tables.push(t.clone()),
            (Some(_), None) | (None, Some(_)) => breaking.push(format!(
                "{} is {} but {}: finish or undo the earlier change by hand",
                t.display(),
                if live_pub.contains_key(&key) {
                    "published"
                } else {
                    "a replica table"
                },
                if live_pub.contains_key(&key) {
                    "has no replica table"
                } else {
                    "not published"
                }
            )),
            (Some((pub_cols, _)), Some(live_cols)) => {
                let mut added = Vec::new();
                for (c, ty) in &t.columns {
                    match live_cols.iter().find(|(lc, _)| lc == c) {
                        Some((_, lty)) if lty != ty => breaking.push(format!(
                            "{}.{c} changes type from {lty} to {ty}",
                            t.display()
                        )),
                        Some(_) => {
                            if !pub_cols.contains(c) {
                                added.push((c.clone(), ty.clone())); // half-done earlier upgrade
                            }
                        }
                        None => added.push((c.clone(), ty.clone())),
                    }
                }
                for (lc, _) in live_cols {
                    if t.column_type(lc).is_none() {
                        breaking.push(format!(
                            "{}.{lc} is in the replica table but the package no longer reads it",
                            t.display()
                        ));
                    }
                }
                if !added.is_empty() {
                    new_columns.push((t.clone(), added));
                }
            }
        }
    }
    if !breaking.is_empty() {
        return Err(Error::Replica(format!(
            "refusing a breaking change to the replicated tables (nothing was changed):\n  - {}\n\
             To do it by hand, after every product has stopped reading what goes away:\n  \
             1. on the product database: drop the views that read it (`DROP VIEW ...`), then \
             `ALTER SUBSCRIPTION \"{subscription}\" DISABLE`;\n  \
             2. on the IDP database: `ALTER PUBLICATION \"{publication}\" SET TABLE ...` with the \
             new column lists (or `idpviews replica publish --name {publication}` after \
             `DROP PUBLICATION`), and revoke the replication role's SELECT on dropped columns;\n  \
             3. on the product database: `ALTER TABLE ... DROP COLUMN` / `DROP TABLE` for what \
             went away, `ALTER SUBSCRIPTION \"{subscription}\" ENABLE`, `ALTER SUBSCRIPTION \
             \"{subscription}\" REFRESH PUBLICATION`, then `idpviews apply` of the new package.",
            breaking.join("\n  - ")
        )));
    }
    let mut done = Upgraded::default();
    if new_tables.is_empty() && new_columns.is_empty() {
        crate::apply(product, package)?;
        return Ok(done);
    }

    // Identity and filters of the whole new publication, as `publish` would make it.
    let opts_pub = PublishOptions {
        publication: publication.to_string(),
        role: settings.role.clone(),
        tenant: settings.tenant.clone(),
    };
    let plan = publication_plan(Some(idp), package, &opts_pub)?;

    // 1. Subscriber columns and tables.
    let mut ddl = format!("BEGIN;\n{LOCK_TIMEOUT};\n");
    for (t, cols) in &new_columns {
        for (c, ty) in cols {
            if sub_tables
                .get(&(t.schema.clone(), t.table.clone()))
                .is_some_and(|l| l.iter().any(|(lc, _)| lc == c))
            {
                continue;
            }
            ddl.push_str(&format!(
                "ALTER TABLE {} ADD COLUMN {} {ty};\n",
                t.qualified(),
                quote_ident(c)
            ));
        }
    }
    let added: Vec<PlannedTable> = plan
        .tables
        .iter()
        .filter(|p| new_tables.iter().any(|t| t == &p.table))
        .cloned()
        .collect();
    ddl.push_str(&create_tables_sql(&added));
    ddl.push_str("COMMIT;\n");
    product.batch_execute(&ddl).map_err(|e| {
        let _ = product.batch_execute("ROLLBACK");
        Error::Database {
            context: "adding the subscriber columns (rolled back, nothing changed)".into(),
            source: e,
        }
    })?;

    // 2. The publication: identity indexes, grants, column lists.
    for c in &plan.concurrent {
        let created = idp
            .batch_execute("SET lock_timeout = '5s'")
            .and_then(|_| idp.batch_execute(c));
        let _ = idp.batch_execute("RESET lock_timeout");
        created.map_err(Error::db("creating the replica identity index"))?;
    }
    let mut tx = format!("BEGIN;\n{LOCK_TIMEOUT};\n");
    for p in &plan.tables {
        if let Some(index) = &p.identity_index {
            tx.push_str(&format!(
                "ALTER TABLE {} REPLICA IDENTITY USING INDEX {};\n",
                p.table.qualified(),
                quote_ident(index)
            ));
        }
    }
    tx.push_str(&identity_guards(&plan.tables));
    tx.push_str(&role_sql(&plan.tables, &settings.role));
    tx.push_str(&format!(
        "ALTER PUBLICATION {} SET {};\nCOMMENT ON PUBLICATION {} IS {};\nCOMMIT;\n",
        quote_ident(publication),
        table_specs(&plan.tables),
        quote_ident(publication),
        quote_literal(&publication_comment(&package.manifest, &opts_pub))
    ));
    idp.batch_execute(&tx).map_err(|e| {
        let _ = idp.batch_execute("ROLLBACK");
        Error::Database {
            context: "changing the publication (rolled back; the subscriber already has the new \
                      columns, which is harmless: run `replica apply` again)"
                .into(),
            source: e,
        }
    })?;

    // Every change from before the new column lists must be applied before the backfill: a row
    // inserted earlier but applied later would arrive without the appended columns.
    let published_at: String = idp
        .query_one("SELECT pg_catalog.pg_current_wal_lsn()::text", &[])
        .map_err(Error::db("reading the publisher's WAL position"))?
        .get(0);
    let slot: Option<String> = product
        .query_one(
            "SELECT subslotname::text FROM pg_catalog.pg_subscription WHERE subname = $1 AND              subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())",
            &[&subscription],
        )
        .map_err(Error::db("reading the subscription"))?
        .get(0);
    if let (Some(slot), false) = (slot, new_columns.is_empty()) {
        wait_confirmed(idp, &slot, &published_at, opts.timeout)?;
    }

    // 3. Refresh: new tables are copied.
    let sub = quote_ident(&subscription);
    product
        .batch_execute(&format!(
            "ALTER SUBSCRIPTION {sub} REFRESH PUBLICATION WITH (copy_data = true)"
        ))
        .map_err(Error::db("refreshing the subscription"))?;
    done.added_tables = new_tables.iter().map(|t| t.display()).collect();

    // 4. Backfill appended columns of existing rows, replication paused.
    if !new_columns.is_empty() {
        product
            .batch_execute(&format!("ALTER SUBSCRIPTION {sub} DISABLE"))
            .map_err(Error::db("pausing the subscription for the backfill"))?;
        let backfill = wait_stopped(product, &subscription, opts.timeout).and_then(|_| {
            let mut rows = 0;
            for (t, cols) in &new_columns {
                let p = plan.tables.iter().find(|p| &p.table == t).expect("planned");
                rows += backfill(idp, product, p, cols)?;
            }
            Ok(rows)
        });
        let enabled = product
            .batch_execute(&format!("ALTER SUBSCRIPTION {sub} ENABLE"))
            .map_err(Error::db("resuming the subscription"));
        done.backfilled_rows = backfill?;
        enabled?;
        for (t, cols) in &new_columns {
            for (c, _) in cols {
                done.added_columns.push(format!("{}.{c}", t.display()));
            }
        }
    }
    wait_ready(product, &subscription, opts.timeout)?;

    // 5. The views.
    crate::apply(product, package)?;
    Ok(done)
}

/// Waits until the subscriber has confirmed the publisher's WAL up to `lsn`.
fn wait_confirmed(
    idp: &mut postgres::Client,
    slot: &str,
    lsn: &str,
    timeout: Duration,
) -> Result<(), Error> {
    let deadline = Instant::now() + timeout;
    loop {
        let done: Option<bool> = idp
            .query_one(
                "SELECT bool_or(confirmed_flush_lsn >= $2::text::pg_lsn) \
                 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
                &[&slot, &lsn],
            )
            .map_err(Error::db("reading the replication slot"))?
            .get(0);
        if done == Some(true) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Replica(format!(
                "the subscriber did not catch up with the publication change within {timeout:?} \
                 (slot `{slot}`); nothing was backfilled: run `replica apply` again"
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_stopped(
    product: &mut postgres::Client,
    subscription: &str,
    timeout: Duration,
) -> Result<(), Error> {
    let deadline = Instant::now() + timeout;
    loop {
        let running: i64 = product
            .query_one(
                "SELECT count(*) FROM pg_catalog.pg_stat_subscription WHERE subname = $1 AND pid IS NOT NULL",
                &[&subscription],
            )
            .map_err(Error::db("reading the subscription workers"))?
            .get(0);
        if running == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Replica(format!(
                "the workers of subscription `{subscription}` did not stop within {timeout:?}"
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Copies the appended columns of `table` from the IDP (one snapshot) into the rows the product
/// database holds, in batches.
fn backfill(
    idp: &mut postgres::Client,
    product: &mut postgres::Client,
    p: &PlannedTable,
    cols: &[(String, String)],
) -> Result<u64, Error> {
    let t = &p.table;
    let select: Vec<String> = p
        .identity
        .iter()
        .chain(cols.iter().map(|(c, _)| c))
        .map(|c| format!("{}::text", quote_ident(c)))
        .collect();
    let filter = p
        .row_filter
        .as_ref()
        .map(|f| format!(" WHERE {f}"))
        .unwrap_or_default();
    let sql = format!(
        "SELECT {} FROM {}{filter}",
        select.join(", "),
        t.qualified()
    );
    let rows = idp
        .query(&sql, &[])
        .map_err(Error::db("reading the appended columns from the IDP"))?;
    let n = p.identity.len();
    let ty = |c: &str| t.column_type(c).unwrap_or("text").to_string();
    let set: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, (c, cty))| format!("{} = u.c{}::{cty}", quote_ident(c), n + i))
        .collect();
    let cond: Vec<String> = p
        .identity
        .iter()
        .enumerate()
        .map(|(i, c)| format!("t.{} = u.c{i}::{}", quote_ident(c), ty(c)))
        .collect();
    let width = n + cols.len();
    let unnest: Vec<String> = (0..width).map(|i| format!("${}::text[]", i + 1)).collect();
    let names: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
    let update = format!(
        "UPDATE {} AS t SET {} FROM unnest({}) AS u({}) WHERE {}",
        t.qualified(),
        set.join(", "),
        unnest.join(", "),
        names.join(", "),
        cond.join(" AND ")
    );
    let mut total = 0u64;
    for chunk in rows.chunks(5000) {
        let columns: Vec<Vec<Option<String>>> = (0..width)
            .map(|i| {
                chunk
                    .iter()
                    .map(|r| r.get::<_, Option<String>>(i))
                    .collect()
            })
            .collect();
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = columns
            .iter()
            .map(|c| c as &(dyn postgres::types::ToSql + Sync))
            .collect();
        total += product
            .execute(&update, &params)
            .map_err(Error::db("backfilling the appended columns"))?;
    }
    Ok(total)
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

/// The state of one table of a subscription (`pg_subscription_rel.srsubstate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableState {
    /// `i`: waiting for its initial copy.
    Init,
    /// `d`: initial copy running.
    Copying,
    /// `f`/`s`: copy done, catching up.
    Syncing,
    /// `r`: streaming changes.
    Ready,
    Unknown,
}

impl fmt::Display for TableState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TableState::Init => "init",
            TableState::Copying => "copying",
            TableState::Syncing => "syncing",
            TableState::Ready => "ready",
            TableState::Unknown => "unknown",
        })
    }
}

/// One table of a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStatus {
    /// `schema.table`.
    pub table: String,
    pub state: TableState,
}

/// One subscription of the product database.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionStatus {
    pub subscription: String,
    pub enabled: bool,
    /// The apply worker is running.
    pub worker_running: bool,
    /// Errors of the apply and table-copy workers since the statistics were reset
    /// (`pg_stat_subscription_stats`; PostgreSQL 15 keeps the messages in the server log only).
    pub apply_errors: i64,
    pub sync_errors: i64,
    pub tables: Vec<TableStatus>,
    /// Seconds since the last message from the publisher (data or keepalive).
    pub last_message_age_seconds: Option<f64>,
    /// Lag measured on the publisher ([`publisher_lag`]), when known.
    pub lag: Option<Lag>,
}

/// Replication lag as the publisher sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lag {
    /// WAL bytes written on the publisher that the subscriber has not confirmed.
    pub bytes: i64,
    /// `replay_lag` of the walsender: how long ago the newest applied change was written on
    /// the publisher (0 when caught up and idle).
    pub seconds: f64,
}

impl SubscriptionStatus {
    /// Broken: disabled, no apply worker, or a table not streaming yet.
    pub fn problems(&self, max_lag: Option<Duration>, max_lag_bytes: Option<i64>) -> Vec<String> {
        let mut out = Vec::new();
        if !self.enabled {
            out.push("the subscription is disabled".to_string());
        } else if !self.worker_running {
            out.push(
                "no apply worker is running (see the product database's server log for the \
                 last error)"
                    .to_string(),
            );
        }
        for t in &self.tables {
            if t.state != TableState::Ready {
                out.push(format!("{} is {}", t.table, t.state));
            }
        }
        if let (Some(max), Some(lag)) = (max_lag, self.lag) {
            if lag.seconds > max.as_secs_f64() {
                out.push(format!(
                    "lag {:.1} s is over the limit of {:.1} s",
                    lag.seconds,
                    max.as_secs_f64()
                ));
            }
        }
        if let (Some(max), Some(lag)) = (max_lag_bytes, self.lag) {
            if lag.bytes > max {
                out.push(format!(
                    "lag {} bytes is over the limit of {max} bytes",
                    lag.bytes
                ));
            }
        }
        out
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "subscription {}: {}, apply worker {}, errors: {} apply / {} copy",
            self.subscription,
            if self.enabled { "enabled" } else { "disabled" },
            if self.worker_running {
                "running"
            } else {
                "not running"
            },
            self.apply_errors,
            self.sync_errors
        )?;
        let width = self
            .tables
            .iter()
            .map(|t| t.table.len())
            .chain(["TABLE".len()])
            .max()
            .unwrap_or(5);
        writeln!(f, "{:<width$}  STATE", "TABLE")?;
        for t in &self.tables {
            writeln!(f, "{:<width$}  {}", t.table, t.state)?;
        }
        match self.lag {
            Some(l) => write!(f, "lag: {} bytes, {:.3} s", l.bytes, l.seconds)?,
            None => write!(f, "lag: unknown (measured on the publisher: pass its URL)")?,
        }
        if let Some(age) = self.last_message_age_seconds {
            write!(f, "; last message from the publisher {age:.1} s ago")?;
        }
        Ok(())
    }
}

const SUBSCRIPTIONS_SQL: &str = "\
SELECT s.oid::int8, s.subname::text, s.subenabled, \
       EXISTS (SELECT 1 FROM pg_catalog.pg_stat_subscription w \
               WHERE w.subid = s.oid AND w.relid IS NULL AND w.pid IS NOT NULL), \
       coalesce(st.apply_error_count, 0)::int8, coalesce(st.sync_error_count, 0)::int8, \
       (SELECT extract(epoch FROM now() - max(w.last_msg_receipt_time))::float8 \
        FROM pg_catalog.pg_stat_subscription w WHERE w.subid = s.oid) \
FROM pg_catalog.pg_subscription s \
LEFT JOIN pg_catalog.pg_stat_subscription_stats st ON st.subid = s.oid \
WHERE s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) \
  AND ($1::text IS NULL OR s.subname = $1) \
ORDER BY s.subname";

const SUBSCRIPTION_TABLES_SQL: &str = "\
SELECT n.nspname::text || '.' || c.relname::text, r.srsubstate::text \
FROM pg_catalog.pg_subscription_rel r \
JOIN pg_catalog.pg_class c ON c.oid = r.srrelid \
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
WHERE r.srsubid = $1::int8::oid ORDER BY 1";

async fn status_on<C: Conn>(
    mut conn: C,
    subscription: Option<&str>,
) -> Result<Vec<SubscriptionStatus>, Error> {
    // owned: a parameter is bound for sqlx too, whose `Option` wants a `'static` value
    let subscription = subscription.map(str::to_owned);
    let rows = conn
        .query(SUBSCRIPTIONS_SQL, &[&subscription])
        .await
        .map_err(Error::db("reading the subscriptions"))?;
    let mut out = Vec::new();
    for r in rows {
        let oid: i64 = r.get(0);
        let tables = conn
            .query(SUBSCRIPTION_TABLES_SQL, &[&oid])
            .await
            .map_err(Error::db("reading the subscription's tables"))?
            .iter()
            .map(|t| TableStatus {
                table: t.get(0),
                state: match t.get::<String>(1).as_str() {
                    "i" => TableState::Init,
                    "d" => TableState::Copying,
                    "f" | "s" => TableState::Syncing,
                    "r" => TableState::Ready,
                    _ => TableState::Unknown,
                },
            })
            .collect();
        out.push(SubscriptionStatus {
            subscription: r.get(1),
            enabled: r.get(2),
            worker_running: r.get(3),
            apply_errors: r.get(4),
            sync_errors: r.get(5),
            last_message_age_seconds: r.get(6),
            tables,
            lag: None,
        });
    }
    Ok(out)
}

/// The subscriptions of the product database (all, or the one named), from the catalogs and
/// statistics views: readable by any role. Lag is filled in by [`publisher_lag`].
pub fn status<C: postgres::GenericClient>(
    product: &mut C,
    subscription: Option<&str>,
) -> Result<Vec<SubscriptionStatus>, Error> {
    run_ready(status_on(SyncConn(product), subscription))
}

/// [`status`] for `tokio-postgres`.
pub async fn status_async<C: tokio_postgres::GenericClient + Sync>(
    product: &C,
    subscription: Option<&str>,
) -> Result<Vec<SubscriptionStatus>, Error> {
    status_on(AsyncConn(product), subscription).await
}

const LAG_SQL: &str = "\
SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.confirmed_flush_lsn)::int8, \
       coalesce(extract(epoch FROM r.replay_lag), 0)::float8 \
FROM pg_catalog.pg_replication_slots s \
LEFT JOIN pg_catalog.pg_stat_replication r ON r.pid = s.active_pid \
WHERE s.slot_name = $1";

/// The lag of the subscription whose slot is `slot` (the subscription name unless chosen
/// otherwise), measured on the publisher (needs `pg_monitor` or a superuser there). `None` when
/// the publisher has no such slot.
pub fn publisher_lag<C: postgres::GenericClient>(
    idp: &mut C,
    slot: &str,
) -> Result<Option<Lag>, Error> {
    let rows = idp
        .query(LAG_SQL, &[&slot])
        .map_err(Error::db("reading the replication slot"))?;
    Ok(rows.first().map(|r| Lag {
        bytes: r.get::<_, Option<i64>>(0).unwrap_or(0),
        seconds: r.get(1),
    }))
}

// ---------------------------------------------------------------------------------------------
// Standby check (apply) and verify of replica tables
// ---------------------------------------------------------------------------------------------

/// [`Error::ReadOnlyStandby`] when the server is a hot standby (`pg_is_in_recovery()`).
pub(crate) async fn refuse_on_standby<C: Conn>(conn: &mut C) -> Result<(), Error> {
    let rows = conn
        .query("SELECT pg_catalog.pg_is_in_recovery()", &[])
        .await
        .map_err(Error::db("checking whether the server is a standby"))?;
    if rows.first().is_some_and(|r| r.get::<bool>(0)) {
        return Err(Error::ReadOnlyStandby);
    }
    Ok(())
}

/// Adds to `report` the replica tables of a product database (tables marked with
/// [`TABLE_MARKER`]): each holds exactly the columns the package reads of its IDP table, with
/// the package's types. A column the package does not read is an error: it may hold a secret.
pub(crate) async fn verify_tables<C: Conn>(
    conn: &mut C,
    manifest: &Manifest,
    mut report: VerifyReport,
) -> Result<VerifyReport, Error> {
    let live = replica_columns(conn)
        .await
        .map_err(Error::db("reading the replica tables"))?;
    let desired = tables(manifest);
    // A product database holds enum columns as text: the IDP's enum types are not there, by
    // design (a new label never breaks replication; the views cast to text either way).
    let replica_schemas: Vec<&str> = live.keys().map(|(s, _)| s.as_str()).collect();
    for e in &manifest.enums {
        if !replica_schemas.contains(&e.source_schema.as_str()) {
            continue;
        }
        let object = format!("enum {}.{}", e.source_schema, e.db_name);
        for o in report.objects.iter_mut().filter(|o| o.object == object) {
            o.findings
                .retain(|f| !matches!(f.kind, FindingKind::MissingEnum { .. }));
        }
    }
    let err = |kind, message| Finding {
        severity: Severity::Error,
        kind,
        message,
    };
    for ((schema, table), cols) in &live {
        let mut findings = Vec::new();
        match desired
            .iter()
            .find(|t| &t.schema == schema && &t.table == table)
        {
            None => findings.push(err(
                FindingKind::ExtraView,
                "a replica table the package does not read: drop it".to_string(),
            )),
            Some(t) => {
                for (c, ty) in &t.columns {
                    match cols.iter().find(|(lc, _)| lc == c) {
                        None => findings.push(err(
                            FindingKind::MissingColumn { column: c.clone() },
                            format!("column {c} is missing (run `idpviews replica apply`)"),
                        )),
                        Some((_, lty)) if lty != ty => findings.push(err(
                            FindingKind::ColumnType {
                                column: c.clone(),
                                expected: ty.clone(),
                                found: lty.clone(),
                            },
                            format!("column {c} is {lty}, the package says {ty}"),
                        )),
                        Some(_) => {}
                    }
                }
                for (lc, _) in cols {
                    if t.column_type(lc).is_none() {
                        findings.push(err(
                            FindingKind::ExtraColumn { column: lc.clone() },
                            format!(
                                "column {lc} is not in the package: a replica table holds only \
                                 allowlisted columns (it may be a secret); drop it"
                            ),
                        ));
                    }
                }
            }
        }
        report.objects.push(CheckedObject {
            object: format!("replica table {schema}.{table}"),
            findings,
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publication_comment_round_trips() {
        let s =
            parse_comment("idpviews publication; package=sha256:ab; role=r_1; tenant=t-1").unwrap();
        assert_eq!(s.package, "sha256:ab");
        assert_eq!(s.role, "r_1");
        assert_eq!(s.tenant.as_deref(), Some("t-1"));
        assert!(parse_comment("something else").is_none());
    }

    #[test]
    fn identity_index_names_fit_postgres() {
        let t = ReplicaTable {
            schema: "idp".into(),
            table: "x".repeat(70),
            columns: vec![],
            tenant_column: None,
        };
        assert!(identity_index_name(&t).len() <= 63);
    }
}
