//! Orphan audit: product rows whose reference to an IDP view points at
//! nothing (a deleted user, or a user outside the current tenant).
//!
//! Products reference views, so there is no foreign-key constraint in the
//! database; this audit is the check. One query per relation of the
//! manifest (`idp-relations.conf`, e.g. `Driver.idpUserId -> IdpUser.id`)
//! counts the rows with every foreign-key column set and no matching view
//! row, and a second one samples them in primary-key order.

use crate::db::{qualified, quote_ident, run_ready, AsyncConn, Conn, DbRow, SyncConn};
use crate::manifest::{Manifest, ManifestRelation};
use crate::{Error, Package};
use std::fmt;

/// How many orphan rows [`audit`] samples per relation.
pub const DEFAULT_SAMPLE: i64 = 10;

/// The audit of every relation, in manifest order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub relations: Vec<RelationAudit>,
}

/// One relation's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationAudit {
    /// `Driver.idpUserId -> IdpUser.id`.
    pub relation: String,
    /// `"fuel_logistics"."Driver"`.
    pub table: String,
    pub outcome: AuditOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditOutcome {
    Checked {
        orphans: i64,
        /// Up to the sample size, each row as `(column, value)` pairs: the
        /// primary key (if any), then the foreign-key columns.
        sample: Vec<Vec<(String, Option<String>)>>,
    },
    /// Not checked, and why (e.g. a tenant-isolated view with no tenant set).
    Skipped { reason: String },
}

impl AuditReport {
    /// Orphan rows over all relations.
    pub fn orphans(&self) -> i64 {
        self.relations
            .iter()
            .map(|r| match r.outcome {
                AuditOutcome::Checked { orphans, .. } => orphans,
                AuditOutcome::Skipped { .. } => 0,
            })
            .sum()
    }

    /// Every relation was checked and none has orphans.
    pub fn is_clean(&self) -> bool {
        self.relations
            .iter()
            .all(|r| matches!(r.outcome, AuditOutcome::Checked { orphans: 0, .. }))
    }
}

impl fmt::Display for AuditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.relations.is_empty() {
            return write!(
                f,
                "no product relations to audit (is `views.json` from the build script's OUT_DIR?)"
            );
        }
        let width = self
            .relations
            .iter()
            .map(|r| r.relation.chars().count())
            .chain(["RELATION".len()])
            .max()
            .unwrap_or(0);
        writeln!(f, "{:<width$}  ORPHANS", "RELATION")?;
        for r in &self.relations {
            match &r.outcome {
                AuditOutcome::Checked { orphans, sample } => {
                    writeln!(f, "{:<width$}  {orphans}", r.relation)?;
                    for row in sample {
                        let cells: Vec<String> = row
                            .iter()
                            .map(|(c, v)| format!("{c}={}", v.as_deref().unwrap_or("NULL")))
                            .collect();
                        writeln!(f, "    {} {}", r.table, cells.join(" "))?;
                    }
                    if *orphans > sample.len() as i64 {
                        writeln!(f, "    ... and {} more", *orphans - sample.len() as i64)?;
                    }
                }
                AuditOutcome::Skipped { reason } => {
                    writeln!(f, "{:<width$}  skipped: {reason}", r.relation)?;
                }
            }
        }
        let orphans = self.orphans();
        if orphans == 0 {
            write!(f, "no orphan rows")
        } else {
            write!(
                f,
                "{orphans} orphan row(s): they reference IDP rows that do not exist (deleted) or are \
                 not visible (another tenant)"
            )
        }
    }
}

/// Audits every relation of the package's manifest with a blocking client.
pub fn audit<C: postgres::GenericClient>(
    client: &mut C,
    package: &Package,
) -> Result<AuditReport, Error> {
    run_ready(audit_on(
        SyncConn(client),
        &package.manifest,
        DEFAULT_SAMPLE,
    ))
}

/// [`audit`] for `tokio-postgres`.
pub async fn audit_async<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    package: &Package,
) -> Result<AuditReport, Error> {
    audit_on(AsyncConn(client), &package.manifest, DEFAULT_SAMPLE).await
}

/// [`audit`] on a sqlx connection or transaction (`&mut tx`; the `sqlx` feature).
#[cfg(feature = "sqlx")]
pub async fn audit_sqlx(
    conn: &mut sqlx::PgConnection,
    package: &Package,
) -> Result<AuditReport, Error> {
    audit_on(crate::db::SqlxConn(conn), &package.manifest, DEFAULT_SAMPLE).await
}

/// The count query of one relation.
pub(crate) fn orphan_condition(
    manifest: &Manifest,
    rel: &ManifestRelation,
) -> Result<String, Error> {
    if rel.fk_columns.is_empty() || rel.fk_columns.len() != rel.references.len() {
        return Err(Error::Package(format!(
            "relation {}.{} -> {}: {} foreign-key column(s) for {} referenced column(s)",
            rel.model,
            rel.model_field,
            rel.view,
            rel.fk_columns.len(),
            rel.references.len()
        )));
    }
    let not_null: Vec<String> = rel
        .fk_columns
        .iter()
        .map(|c| format!("p.{} IS NOT NULL", quote_ident(c)))
        .collect();
    let matches: Vec<String> = rel
        .fk_columns
        .iter()
        .zip(&rel.references)
        .map(|(fk, r)| format!("v.{} = p.{}", quote_ident(r), quote_ident(fk)))
        .collect();
    Ok(format!(
        "FROM {} AS p WHERE {} AND NOT EXISTS (SELECT 1 FROM {} AS v WHERE {})",
        qualified(&rel.model_schema, &rel.model_table),
        not_null.join(" AND "),
        qualified(&manifest.schema, &rel.view),
        matches.join(" AND ")
    ))
}

const PRIMARY_KEY_SQL: &str = "\
SELECT a.attname::text \
FROM pg_catalog.pg_index i \
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
WHERE i.indrelid = to_regclass($1) AND i.indisprimary \
ORDER BY array_position(i.indkey::int2[], a.attnum)";

async fn audit_on<C: Conn>(
    mut conn: C,
    manifest: &Manifest,
    sample_size: i64,
) -> Result<AuditReport, Error> {
    let tenant = crate::tenant::current_for(&mut conn, manifest).await?;
    let mut relations = Vec::new();
    for rel in &manifest.relations {
        let relation = format!(
            "{}.{} -> {}.{}",
            rel.model,
            rel.fk_columns.join(","),
            rel.view,
            rel.references.join(",")
        );
        let table = qualified(&rel.model_schema, &rel.model_table);
        let outcome = audit_relation(
            &mut conn,
            manifest,
            rel,
            &table,
            tenant.as_deref(),
            sample_size,
        )
        .await
        .map_err(|e| match e {
            Error::Database { context, source } => Error::Database {
                context: format!("auditing {relation}: {context}"),
                source,
            },
            other => other,
        })?;
        relations.push(RelationAudit {
            relation,
            table,
            outcome,
        });
    }
    Ok(AuditReport { relations })
}

async fn audit_relation<C: Conn>(
    conn: &mut C,
    manifest: &Manifest,
    rel: &ManifestRelation,
    table: &str,
    tenant: Option<&str>,
    sample_size: i64,
) -> Result<AuditOutcome, Error> {
    let view = manifest.view(&rel.view);
    if view.is_some_and(|v| v.tenant_field.is_some()) && tenant.is_none() {
        return Ok(AuditOutcome::Skipped {
            reason: format!(
                "{} is tenant-isolated and no tenant is set: every row would look orphaned; audit \
                 inside a transaction after `idpviews::tenant::set_tenant`",
                rel.view
            ),
        });
    }
    let exists = conn
        .query("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await
        .map_err(Error::db("looking up the product table"))?;
    if !exists.first().is_some_and(|r| r.get::<bool>(0)) {
        return Ok(AuditOutcome::Skipped {
            reason: format!("table {table} does not exist (migrate the product first)"),
        });
    }
    let condition = orphan_condition(manifest, rel)?;
    let count = conn
        .query(&format!("SELECT count(*) {condition}"), &[])
        .await
        .map_err(Error::db("counting orphans"))?;
    let orphans: i64 = count.first().map_or(0, |r| r.get(0));
    let mut sample = Vec::new();
    if orphans > 0 {
        let pk: Vec<String> = conn
            .query(PRIMARY_KEY_SQL, &[&table])
            .await
            .map_err(Error::db("reading the primary key"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut columns = pk.clone();
        for fk in &rel.fk_columns {
            if !columns.contains(fk) {
                columns.push(fk.clone());
            }
        }
        let select: Vec<String> = columns
            .iter()
            .map(|c| format!("p.{}::text", quote_ident(c)))
            .collect();
        let order: Vec<String> = columns
            .iter()
            .map(|c| format!("p.{}", quote_ident(c)))
            .collect();
        let sql = format!(
            "SELECT {} {condition} ORDER BY {} LIMIT $1",
            select.join(", "),
            order.join(", ")
        );
        for row in conn
            .query(&sql, &[&sample_size])
            .await
            .map_err(Error::db("sampling orphans"))?
        {
            sample.push(
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.clone(), row.get::<Option<String>>(i)))
                    .collect(),
            );
        }
    }
    Ok(AuditOutcome::Checked { orphans, sample })
}
