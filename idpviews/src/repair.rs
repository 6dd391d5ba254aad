//! `apply` repairs what it owns, or refuses.
//!
//! Before the package SQL runs, [`repair`] runs `verify`'s checks inside the
//! apply transaction and fixes, from the package's own statements, what a
//! hand change broke: the trigger function (body, owner, `SECURITY` mode),
//! the read-only triggers, the view definition (`CREATE OR REPLACE VIEW`),
//! the tenant functions `set_tenant`/`current_tenant`, a tenant view whose
//! filter or masks were weakened, rules and triggers the package does not
//! create (dropped), and a column
//! added by hand (the view is dropped and created again, its grants
//! restored). It then checks again: if a view could still be written or
//! still exposes a column the package does not, or the repair needs
//! something it may not do (a view other objects depend on, no applied
//! record to tell a hand-added column from a newer package's), it refuses
//! with the list and the transaction rolls back: `apply` never succeeds
//! leaving such a view.
//!
//! A view that lacks columns of the package is an upgrade, not a hand
//! change: it is left to `apply`'s plan, which runs the package's
//! statements for it (or refuses a change `CREATE OR REPLACE VIEW` cannot
//! make).
//!
//! Only the catalogs are read when nothing is wrong: no lock is taken. When
//! something is, the repair statements run under a bounded `lock_timeout`
//! (the session's own — `apply` sets its `lock_timeout` option for the
//! attempt — or [`REPAIR_LOCK_TIMEOUT`] when it has none); a lock wait that
//! times out is retried or reported as blocked like the rest of the attempt.

use crate::db::{qualified, quote_ident, Conn, DbRow};
use crate::verify::{self, FindingKind, Severity, VerifyReport, REJECT_WRITE_FUNCTION};
use crate::{Error, Package};
use idpviews_core::names::{
    drop_void_set_tenant_sql, CURRENT_TENANT_FUNCTION, SET_TENANT_FUNCTION,
};

/// The `lock_timeout` repairs use when the session has none.
pub const REPAIR_LOCK_TIMEOUT: &str = "5s";

/// Repairs the package's objects (see the module docs). Returns what was
/// repaired, one line each; `Err(Error::Refused)` when something is left
/// that apply must not leave.
pub(crate) async fn repair<C: Conn>(conn: &mut C, package: &Package) -> Result<Vec<String>, Error> {
    let manifest = &package.manifest;
    let schema = manifest.schema.as_str();
    let before = verify::inspect(conn, package).await?;
    let record_explains = crate::record::read_text(conn, schema)
        .await
        .map_err(Error::db("reading the applied record"))?
        .is_some_and(|text| {
            matches!(
                crate::record::AppliedRecord::from_comment(&text),
                Ok(Some(_))
            )
        });
    let mut actions: Vec<(String, String)> = Vec::new(); // (what, SQL)
    let mut refused = Vec::new();
    let func = format!("{}()", qualified(schema, REJECT_WRITE_FUNCTION));
    for object in &before.objects {
        for f in object
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            if let FindingKind::TriggerFunction { problem } = &f.kind {
                if problem.contains("owned by") {
                    actions.push((
                        format!("{}: owner restored", object.object),
                        format!(
                            "ALTER FUNCTION {func} OWNER TO {}",
                            quote_ident(&schema_owner(conn, schema).await?)
                        ),
                    ));
                }
                match function_statement(&package.sql, REJECT_WRITE_FUNCTION) {
                    Some(stmt) => push_once(
                        &mut actions,
                        format!("{}: restored", object.object),
                        stmt.to_owned(),
                    ),
                    None => refused.push(format!(
                        "{}: {} (the package SQL has no definition to restore)",
                        object.object, f.message
                    )),
                }
            }
            if let FindingKind::TenantFunction { function } = &f.kind {
                // `CREATE OR REPLACE FUNCTION` resets body, language,
                // volatility, `SECURITY` mode and `SET` clauses; an earlier
                // `set_tenant` returning `void` is dropped first (the return
                // type cannot be replaced)
                let name = [SET_TENANT_FUNCTION, CURRENT_TENANT_FUNCTION]
                    .into_iter()
                    .find(|n| n == function);
                match name.and_then(|n| function_statement(&package.sql, n).map(|s| (n, s))) {
                    Some((n, stmt)) => push_once(
                        &mut actions,
                        format!("function {schema}.{function}: restored"),
                        if n == SET_TENANT_FUNCTION {
                            format!("{}{stmt}", drop_void_set_tenant_sql(&quote_ident(schema)))
                        } else {
                            stmt.to_owned()
                        },
                    ),
                    None => refused.push(format!(
                        "{}: {} (the package SQL has no definition to restore)",
                        object.object, f.message
                    )),
                }
            }
        }
    }
    for view in &manifest.views {
        let object = format!("view {}", view.name);
        let Some(checked) = before.objects.iter().find(|o| o.object == object) else {
            continue;
        };
        let qview = qualified(schema, &view.name);
        let block = view_block(&package.sql, schema, &view.name);
        let mut recreate = false;
        let mut replace = false;
        let mut triggers = false;
        for f in checked
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            match &f.kind {
                FindingKind::WriteRule { rule } => actions.push((
                    format!("{object}: rule \"{rule}\" dropped"),
                    format!("DROP RULE {} ON {qview}", quote_ident(rule)),
                )),
                FindingKind::Trigger { trigger, problem } if problem == "not the package's" => {
                    actions.push((
                        format!("{object}: trigger \"{trigger}\" dropped"),
                        format!("DROP TRIGGER {} ON {qview}", quote_ident(trigger)),
                    ))
                }
                FindingKind::Trigger { .. } | FindingKind::Writable { .. } => triggers = true,
                FindingKind::Definition { .. }
                | FindingKind::ChangedSinceApply
                | FindingKind::NoTenantFilter => replace = true,
                FindingKind::ExtraColumn { .. } if record_explains => recreate = true,
                FindingKind::ExtraColumn { column } => refused.push(format!(
                    "{object}: column \"{column}\" is not in the package and there is no applied \
                     record to tell a hand-added column from a newer package's: drop the view \
                     (`DROP VIEW {qview};`) and apply again"
                )),
                _ => {}
            }
        }
        if upgrading(&checked.findings) {
            // columns of this package are missing: an upgrade, which apply's
            // plan makes from the package's statements (or refuses), not a
            // hand change to undo here
            continue;
        }
        let Some(block) = block.filter(|_| recreate || replace || triggers) else {
            if recreate || replace || triggers {
                refused.push(format!(
                    "{object}: the package SQL has no statements for it to restore"
                ));
            }
            continue;
        };
        if recreate {
            actions.push((
                format!("{object}: dropped and created again (a column was added by hand)"),
                format!("DROP VIEW {qview} RESTRICT"),
            ));
            actions.push((String::new(), block.all.to_owned()));
            for grant in grants(conn, schema, &view.name).await? {
                actions.push((String::new(), grant));
            }
        } else {
            if replace {
                actions.push((
                    format!("{object}: definition restored"),
                    block.view.to_owned(),
                ));
            }
            if triggers || replace {
                actions.push((
                    format!("{object}: read-only triggers restored"),
                    block.triggers.to_owned(),
                ));
            }
        }
    }
    if !refused.is_empty() {
        return Err(Error::Refused(refused));
    }
    if actions.is_empty() {
        return Ok(Vec::new());
    }

    // Something is wrong: repair under a bounded lock wait.
    let rows = conn
        .query("SELECT current_setting('lock_timeout')", &[])
        .await
        .map_err(Error::db("reading lock_timeout"))?;
    let previous: String = rows[0].get(0);
    if previous == "0" {
        conn.query(
            "SELECT set_config('lock_timeout', $1, true)",
            &[&REPAIR_LOCK_TIMEOUT],
        )
        .await
        .map_err(Error::db("setting lock_timeout"))?;
    }
    let mut done = Vec::new();
    for (what, sql) in &actions {
        let context = if what.is_empty() {
            "repairing the views".to_owned()
        } else {
            format!("repairing {what}")
        };
        if let Err(e) = conn.batch(sql).await {
            if sql.starts_with("DROP VIEW")
                && e.code() == Some(postgres::error::SqlState::DEPENDENT_OBJECTS_STILL_EXIST.code())
            {
                let detail = e.detail().unwrap_or_default().replace('\n', "; ");
                return Err(Error::Refused(vec![format!(
                    "{what}: cannot, other objects depend on view {} ({detail}): drop them, apply \
                     again, then create them again",
                    sql.trim_start_matches("DROP VIEW ")
                        .trim_end_matches(" RESTRICT")
                )]));
            }
            return Err(Error::db(context)(e));
        }
        if !what.is_empty() {
            done.push(what.clone());
        }
    }
    conn.query("SELECT set_config('lock_timeout', $1, true)", &[&previous])
        .await
        .map_err(Error::db("restoring lock_timeout"))?;

    let after = verify::inspect(conn, package).await?;
    let left = unrepaired(&after);
    if !left.is_empty() {
        return Err(Error::Refused(left));
    }
    Ok(done)
}

/// The errors apply must not leave behind (writable views, exposed
/// columns, foreign triggers, rules, the function), one line each.
fn unrepaired(report: &VerifyReport) -> Vec<String> {
    let mut out = Vec::new();
    for o in report.objects.iter().filter(|o| !upgrading(&o.findings)) {
        for f in &o.findings {
            let safety = matches!(
                f.kind,
                FindingKind::Writable { .. }
                    | FindingKind::WriteRule { .. }
                    | FindingKind::Trigger { .. }
                    | FindingKind::TriggerFunction { .. }
                    | FindingKind::Definition { .. }
                    | FindingKind::ExtraColumn { .. }
                    | FindingKind::NoTenantFilter
                    | FindingKind::TenantFunction { .. }
            );
            if safety && f.severity == Severity::Error {
                out.push(format!("{}: {}", o.object, f.message));
            }
        }
    }
    out
}

/// A view that lacks columns of the package is being upgraded (the plan
/// appends them by running the package's statements for the view).
fn upgrading(findings: &[crate::Finding]) -> bool {
    findings
        .iter()
        .any(|f| matches!(f.kind, FindingKind::MissingColumn { .. }))
}

fn push_once(actions: &mut Vec<(String, String)>, what: String, sql: String) {
    if !actions.iter().any(|(_, s)| *s == sql) {
        actions.push((what, sql));
    }
}

async fn schema_owner<C: Conn>(conn: &mut C, schema: &str) -> Result<String, Error> {
    let rows = conn
        .query(
            "SELECT pg_catalog.pg_get_userbyid(nspowner)::text FROM pg_catalog.pg_namespace \
             WHERE nspname = $1",
            &[&schema],
        )
        .await
        .map_err(Error::db("reading the views schema owner"))?;
    Ok(rows.first().map(|r| r.get(0)).unwrap_or_default())
}

/// `GRANT` statements giving back the privileges on a view (other than its
/// owner's own) after it is created again.
async fn grants<C: Conn>(conn: &mut C, schema: &str, view: &str) -> Result<Vec<String>, Error> {
    let rows = conn
        .query(
            "SELECT a.grantee = 0, pg_catalog.pg_get_userbyid(a.grantee)::text, \
                    a.privilege_type::text, a.is_grantable \
             FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, \
                  LATERAL pg_catalog.aclexplode(c.relacl) a \
             WHERE n.nspname = $1 AND c.relname = $2 AND a.grantee <> c.relowner \
             ORDER BY 2, 3",
            &[&schema, &view],
        )
        .await
        .map_err(Error::db("reading the view's privileges"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let public: bool = r.get(0);
            let role: String = r.get(1);
            let privilege: String = r.get(2);
            let grantable: bool = r.get(3);
            format!(
                "GRANT {privilege} ON {} TO {}{}",
                qualified(schema, view),
                if public {
                    "PUBLIC".to_owned()
                } else {
                    quote_ident(&role)
                },
                if grantable { " WITH GRANT OPTION" } else { "" }
            )
        })
        .collect())
}

/// A view's statements in the package SQL.
pub(crate) struct ViewBlock<'a> {
    /// Everything for the view: `CREATE OR REPLACE VIEW`, owner, triggers, comment.
    pub(crate) all: &'a str,
    /// The `CREATE OR REPLACE VIEW` statement.
    pub(crate) view: &'a str,
    /// The `CREATE OR REPLACE TRIGGER` statements.
    pub(crate) triggers: &'a str,
}

/// The statements the generator writes for one view (from its
/// `CREATE OR REPLACE VIEW` to the blank line after its `COMMENT ON VIEW`).
pub(crate) fn view_block<'a>(sql: &'a str, schema: &str, view: &str) -> Option<ViewBlock<'a>> {
    let head = format!("CREATE OR REPLACE VIEW {} AS\n", qualified(schema, view));
    let start = sql.find(&head)?;
    let rest = &sql[start..];
    let all = &rest[..rest.find("\n\n").unwrap_or(rest.len())];
    let view_stmt = &all[..all.find(";\n").map(|n| n + 1)?];
    let triggers_start = all.find("CREATE OR REPLACE TRIGGER ")?;
    let triggers_end = all.find("\nCOMMENT ON VIEW ").unwrap_or(all.len());
    Some(ViewBlock {
        all,
        view: view_stmt,
        triggers: all.get(triggers_start..triggers_end)?,
    })
}

const FUNCTION_HEAD: &str = "CREATE OR REPLACE FUNCTION ";
const BODY_QUOTE: &str = "$idpviews$";

/// The `CREATE OR REPLACE FUNCTION` statement of the package's function
/// `name` (in the views schema: the generator writes no other functions).
pub(crate) fn function_statement<'a>(sql: &'a str, name: &str) -> Option<&'a str> {
    let quoted = format!(".{}(", quote_ident(name));
    let start = sql
        .match_indices(FUNCTION_HEAD)
        .map(|(i, _)| i)
        .find(|&i| {
            sql[i..]
                .lines()
                .next()
                .is_some_and(|line| line.contains(&quoted))
        })?;
    let rest = &sql[start..];
    let open = rest.find(BODY_QUOTE)? + BODY_QUOTE.len();
    let close = open + rest[open..].find(BODY_QUOTE)? + BODY_QUOTE.len();
    let end = close + rest[close..].find(';')? + 1;
    Some(&rest[..end])
}

/// The function's body (`pg_proc.prosrc`): the text between its dollar quotes.
pub(crate) fn function_body(sql: &str) -> Option<&str> {
    let stmt = function_statement(sql, REJECT_WRITE_FUNCTION)?;
    let open = stmt.find(BODY_QUOTE)? + BODY_QUOTE.len();
    let close = open + stmt[open..].find(BODY_QUOTE)?;
    Some(&stmt[open..close])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQL: &str = "BEGIN;\nCREATE OR REPLACE FUNCTION \"s\".\"idpviews_reject_write\"()\nRETURNS trigger\nLANGUAGE plpgsql\nAS $idpviews$\nBEGIN\n  RAISE EXCEPTION 'x';\nEND\n$idpviews$;\n\n-- View V of model M\nCREATE OR REPLACE VIEW \"s\".\"V\" AS\nSELECT\n  \"id\"\nFROM \"idp\".\"m\";\nCREATE OR REPLACE TRIGGER a\n  ON x;\nCREATE OR REPLACE TRIGGER b\n  ON x;\nCOMMENT ON VIEW \"s\".\"V\" IS 'c';\n\nCOMMIT;\n";

    #[test]
    fn statements_of_the_package_sql() {
        assert_eq!(
            function_body(SQL),
            Some("\nBEGIN\n  RAISE EXCEPTION 'x';\nEND\n")
        );
        assert!(function_statement(SQL, REJECT_WRITE_FUNCTION)
            .unwrap()
            .ends_with("$idpviews$;"));
        assert!(function_statement(SQL, SET_TENANT_FUNCTION).is_none());
        let b = view_block(SQL, "s", "V").unwrap();
        assert_eq!(
            b.view,
            "CREATE OR REPLACE VIEW \"s\".\"V\" AS\nSELECT\n  \"id\"\nFROM \"idp\".\"m\";"
        );
        assert_eq!(
            b.triggers,
            "CREATE OR REPLACE TRIGGER a\n  ON x;\nCREATE OR REPLACE TRIGGER b\n  ON x;"
        );
        assert!(b.all.ends_with("IS 'c';"));
        assert!(view_block(SQL, "s", "W").is_none());
    }
}
