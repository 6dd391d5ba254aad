//! The breaking-change guard: the views are a public API ("never remove
//! columns; only add"). Compares the new manifest with the package's
//! previous one (`idp-views.lock` in the output directory).
//!
//! Breaking: a view removed; a column removed, renamed, moved, retyped
//! (Prisma type, SQL type, nullability, list-ness, enum) or no longer
//! unique; an enum value removed (or its database label changed); the
//! views schema changed; tenant isolation switched on or off.
//! Fine: a column appended at the end, a new view, a new enum value.

use crate::allowlist::Allowlist;
use crate::diagnostics::Span;
use crate::manifest::{Manifest, ManifestColumn};

/// One break, with where it points in the allowlist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Break {
    pub span: Option<Span>,
    pub message: String,
}

pub(crate) fn breaks(old: &Manifest, new: &Manifest, allowlist: &Allowlist) -> Vec<Break> {
    let mut out = Vec::new();
    let view_span = |name: &str| {
        allowlist
            .views
            .iter()
            .find(|v| v.name.value == name)
            .map(|v| v.name.span)
    };
    let field_span = |view: &str, field: &str| {
        allowlist
            .views
            .iter()
            .find(|v| v.name.value == view)
            .map(|v| {
                v.fields
                    .iter()
                    .find(|f| f.value == field)
                    .map(|f| f.span)
                    .unwrap_or(v.fields_span)
            })
    };
    if old.schema != new.schema {
        out.push(Break {
            span: allowlist.schema.as_ref().map(|s| s.span),
            message: format!(
                "the views schema changed from `{}` to `{}`: every product query and relation points at the old one",
                old.schema, new.schema
            ),
        });
    }
    for ov in &old.views {
        let Some(nv) = new.view(&ov.name) else {
            out.push(Break {
                span: None,
                message: format!("view `{}` was removed", ov.name),
            });
            continue;
        };
        match (&ov.tenant_field, &nv.tenant_field) {
            (None, Some(t)) => out.push(Break {
                span: view_span(&nv.name),
                message: format!(
                    "view `{}` became tenant-isolated (on `{t}`): products that do not set the tenant would see no rows",
                    nv.name
                ),
            }),
            (Some(t), None) => out.push(Break {
                span: view_span(&nv.name),
                message: format!(
                    "view `{}` is no longer tenant-isolated (was on `{t}`): products would see every tenant's rows",
                    nv.name
                ),
            }),
            (Some(a), Some(b)) if a != b => out.push(Break {
                span: view_span(&nv.name),
                message: format!("view `{}` changed its tenant column from `{a}` to `{b}`", nv.name),
            }),
            _ => {}
        }
        for (i, oc) in ov.columns.iter().enumerate() {
            let Some(j) = nv.columns.iter().position(|c| c.field == oc.field) else {
                let renamed = nv
                    .columns
                    .get(i)
                    .filter(|c| c.column == oc.column || ov.column(&c.field).is_none());
                out.push(Break {
                    span: renamed
                        .and_then(|c| field_span(&nv.name, &c.field))
                        .or_else(|| field_span(&nv.name, "")),
                    message: match renamed {
                        Some(c) => format!(
                            "column `{}` of view `{}` was renamed to `{}`",
                            oc.field, ov.name, c.field
                        ),
                        None => format!("column `{}` of view `{}` was removed", oc.field, ov.name),
                    },
                });
                continue;
            };
            let nc = &nv.columns[j];
            let span = field_span(&nv.name, &nc.field);
            if j != i {
                out.push(Break {
                    span,
                    message: format!(
                        "column `{}` of view `{}` moved from position {} to {}: columns can only be appended",
                        oc.field,
                        ov.name,
                        i + 1,
                        j + 1
                    ),
                });
            }
            for change in column_changes(oc, nc) {
                out.push(Break {
                    span,
                    message: format!("column `{}` of view `{}` {change}", oc.field, ov.name),
                });
            }
        }
    }
    for oe in &old.enums {
        let Some(ne) = new.enum_(&oe.name) else {
            continue; // its columns are gone or retyped: reported above
        };
        for ov in &oe.values {
            match ne.values.iter().find(|v| v.name == ov.name) {
                None => out.push(Break {
                    span: None,
                    message: format!("value `{}` of enum `{}` was removed", ov.name, oe.name),
                }),
                Some(nv) if nv.label != ov.label => out.push(Break {
                    span: None,
                    message: format!(
                        "value `{}` of enum `{}` changed its database label from `{}` to `{}`",
                        ov.name, oe.name, ov.label, nv.label
                    ),
                }),
                Some(_) => {}
            }
        }
    }
    out
}

fn column_changes(o: &ManifestColumn, n: &ManifestColumn) -> Vec<String> {
    let mut out = Vec::new();
    if o.column != n.column {
        out.push(format!(
            "changed its database column from `{}` to `{}`",
            o.column, n.column
        ));
    }
    let ty = |c: &ManifestColumn| {
        let mut s = c.enum_name.clone().unwrap_or_else(|| c.prisma_type.clone());
        if c.list {
            s.push_str("[]");
        } else if c.nullable {
            s.push('?');
        }
        s
    };
    if ty(o) != ty(n) {
        out.push(format!("changed type from `{}` to `{}`", ty(o), ty(n)));
    } else if o.sql_type != n.sql_type {
        out.push(format!(
            "changed SQL type from `{}` to `{}`",
            o.sql_type, n.sql_type
        ));
    }
    if o.unique && !n.unique {
        out.push("is no longer unique: product relations referencing it break".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(field: &str, sql: &str) -> ManifestColumn {
        serde_json::from_value(serde_json::json!({
            "field": field, "column": field, "prisma_type": "String", "sql_type": sql,
            "nullable": false, "list": false, "unique": false,
        }))
        .unwrap()
    }

    /// Built from JSON, so fields added to the manifest later (with serde
    /// defaults) do not break the test.
    fn manifest(cols: Vec<ManifestColumn>, values: &[&str]) -> Manifest {
        let values: Vec<serde_json::Value> = values
            .iter()
            .map(|v| serde_json::json!({ "name": v, "label": v.to_lowercase() }))
            .collect();
        serde_json::from_value(serde_json::json!({
            "format": 1, "generator": "test", "schema": "idp_views", "files": {},
            "views": [{
                "name": "V", "model": "M", "source_schema": "idp", "source_table": "m",
                "columns": cols,
            }],
            "enums": [{ "name": "E", "source_schema": "idp", "db_name": "e", "values": values }],
        }))
        .unwrap()
    }

    fn empty_allowlist() -> Allowlist {
        let mut sources = crate::source::SourceMap::new();
        let id = sources.add("idp-views.toml", "");
        let mut diags = crate::diagnostics::Diagnostics::new();
        crate::allowlist::parse(sources.get(id), &mut diags).expect("valid TOML")
    }

    #[test]
    fn appending_is_fine_everything_else_breaks() {
        let a = empty_allowlist();
        let old = manifest(vec![col("a", "text"), col("b", "uuid")], &["X", "Y"]);
        let appended = manifest(
            vec![col("a", "text"), col("b", "uuid"), col("c", "text")],
            &["X", "Y", "Z"],
        );
        assert_eq!(breaks(&old, &appended, &a), vec![]);

        let mut unique_old = old.clone();
        unique_old.views[0].columns[0].unique = true;
        let msgs: Vec<String> = breaks(&unique_old, &old, &a)
            .into_iter()
            .map(|b| b.message)
            .collect();
        assert_eq!(msgs, ["column `a` of view `V` is no longer unique: product relations referencing it break"]);

        let mut nullable = old.clone();
        nullable.views[0].columns[1].nullable = true;
        let msgs: Vec<String> = breaks(&old, &nullable, &a)
            .into_iter()
            .map(|b| b.message)
            .collect();
        assert_eq!(
            msgs,
            ["column `b` of view `V` changed type from `String` to `String?`"]
        );

        let relabelled = manifest(vec![col("a", "text"), col("b", "uuid")], &["X"]);
        let msgs: Vec<String> = breaks(&old, &relabelled, &a)
            .into_iter()
            .map(|b| b.message)
            .collect();
        assert_eq!(msgs, ["value `Y` of enum `E` was removed"]);
    }
}
