//! Role isolation: the privileges of a product's database role.
//!
//! A product role gets everything on its own schema (including `CREATE`, for
//! its migrations), `USAGE` on the views schema and `SELECT` on its views
//! (now and, through default privileges, views added later), and nothing on
//! the IDP's tables: what it was granted on them (and `CREATE` on their
//! schemas) is revoked from the role itself. The views run with their
//! owner's rights, so the product reads IDP data only through them.
//!
//! **Nothing changes for other roles.** IDP schemas are often `public`
//! (Prisma's default), shared with the IDP's own roles and with extension
//! functions: the SQL never revokes anything from `PUBLIC` on a schema. When
//! `PUBLIC` holds privileges on an IDP table the views read (every role, the
//! product's too, could then read it directly), the SQL reports it with a
//! `WARNING`; [`GrantsOptions::revoke_public`] (`idpviews grants
//! --revoke-public`) revokes them from `PUBLIC` on those tables only.
//!
//! The SQL never creates the role nor sets a password: that stays the
//! operator's job, so the output holds no secret and can be committed.

use crate::manifest::Manifest;
use crate::sql::{quote_ident, quote_literal};
use crate::Error;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Options of [`grants_sql_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantsOptions {
    /// The role that applies the views package (their owner): views it
    /// creates later are readable by the product role through default
    /// privileges. `None`: the role running the script (`CURRENT_USER`).
    pub views_owner: Option<String>,
    /// Also revoke every privilege `PUBLIC` holds on the IDP tables the views
    /// read. This changes what *other* roles may do (any role relying on
    /// `PUBLIC`'s rights loses them), so it is an explicit opt-in; without
    /// it the SQL only reports such privileges (a `WARNING`).
    pub revoke_public: bool,
}

/// The grants for `role` on `product_schema`, for views owned by the role
/// that runs the script (`CURRENT_USER`). See [`grants_sql_with`].
pub fn grants_sql(manifest: &Manifest, role: &str, product_schema: &str) -> Result<String, Error> {
    grants_sql_with(manifest, role, product_schema, &GrantsOptions::default())
}

/// [`grants_sql`] for views owned by `views_owner` (`None`: `CURRENT_USER`).
pub fn grants_sql_for_owner(
    manifest: &Manifest,
    role: &str,
    product_schema: &str,
    views_owner: Option<&str>,
) -> Result<String, Error> {
    let options = GrantsOptions {
        views_owner: views_owner.map(str::to_owned),
        ..GrantsOptions::default()
    };
    grants_sql_with(manifest, role, product_schema, &options)
}

/// The grants for `role` on `product_schema`, with [`GrantsOptions`].
pub fn grants_sql_with(
    manifest: &Manifest,
    role: &str,
    product_schema: &str,
    options: &GrantsOptions,
) -> Result<String, Error> {
    check_ident("role", role)?;
    check_ident("product schema", product_schema)?;
    check_ident("views schema", &manifest.schema)?;
    if let Some(owner) = &options.views_owner {
        check_ident("views owner", owner)?;
    }
    for reserved in ["public", "none"] {
        if role.eq_ignore_ascii_case(reserved) {
            return Err(Error::InvalidInput(format!(
                "role name \"{role}\" is reserved in PostgreSQL; use the product's own role"
            )));
        }
    }
    if role.starts_with("pg_") {
        return Err(Error::InvalidInput(format!(
            "role \"{role}\": names starting with `pg_` are reserved for PostgreSQL's predefined roles"
        )));
    }
    let idp_schemas: BTreeSet<&str> = manifest
        .views
        .iter()
        .map(|v| v.source_schema.as_str())
        .chain(manifest.enums.iter().map(|e| e.source_schema.as_str()))
        .collect();
    for s in &idp_schemas {
        check_ident("IDP schema", s)?;
    }
    if product_schema == manifest.schema || idp_schemas.contains(product_schema) {
        return Err(Error::InvalidInput(format!(
            "product schema \"{product_schema}\" is the views schema or an IDP schema; a product \
             needs its own schema"
        )));
    }
    if product_schema.starts_with("pg_") || product_schema.eq_ignore_ascii_case("public") {
        return Err(Error::InvalidInput(format!(
            "product schema \"{product_schema}\": `public` and names starting with `pg_` are \
             shared or reserved; a product needs its own schema"
        )));
    }
    // The IDP tables the views read, in a fixed order.
    let tables: BTreeSet<(&str, &str)> = manifest
        .views
        .iter()
        .map(|v| (v.source_schema.as_str(), v.source_table.as_str()))
        .collect();
    for (_, t) in &tables {
        check_ident("IDP table", t)?;
    }

    let r = quote_ident(role);
    let p = quote_ident(product_schema);
    let v = quote_ident(&manifest.schema);
    let owner = options
        .views_owner
        .as_deref()
        .map_or_else(|| "CURRENT_USER".to_owned(), quote_ident);
    let mut s = String::new();
    // `write!` to a String cannot fail.
    let _ = writeln!(
        s,
        "-- Privileges of role {r} for the idpviews package (views in schema {v}).\n\
         -- Generated by `idpviews grants`. Run it as the owner of the views (the role that applies\n\
         -- the package) or a superuser, after the IDP's migrations. Creating the role and setting\n\
         -- its password stay the operator's job: this script holds no secrets. It changes nothing\n\
         -- for other roles{}.\n\
         BEGIN;\n\
         \n\
         -- The product's own schema: everything, including CREATE for its migrations.\n\
         CREATE SCHEMA IF NOT EXISTS {p};\n\
         GRANT USAGE, CREATE ON SCHEMA {p} TO {r};\n\
         GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA {p} TO {r};\n\
         GRANT ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA {p} TO {r};\n\
         GRANT ALL PRIVILEGES ON ALL ROUTINES IN SCHEMA {p} TO {r};\n\
         ALTER DEFAULT PRIVILEGES IN SCHEMA {p} GRANT ALL PRIVILEGES ON TABLES TO {r};\n\
         ALTER DEFAULT PRIVILEGES IN SCHEMA {p} GRANT ALL PRIVILEGES ON SEQUENCES TO {r};\n\
         ALTER DEFAULT PRIVILEGES IN SCHEMA {p} GRANT ALL PRIVILEGES ON ROUTINES TO {r};\n\
         \n\
         -- The shared views: read only (they are not writable by anyone: a trigger rejects writes).\n\
         CREATE SCHEMA IF NOT EXISTS {v};\n\
         REVOKE CREATE ON SCHEMA {v} FROM {r};\n\
         GRANT USAGE ON SCHEMA {v} TO {r};",
        if options.revoke_public {
            " but PUBLIC's privileges on the IDP tables (--revoke-public)"
        } else {
            ""
        }
    );
    let views: Vec<&str> = manifest.views.iter().map(|v| v.name.as_str()).collect();
    if !views.is_empty() {
        let _ = writeln!(s, "-- Views of this package: {}.", views.join(", "));
    }
    let _ = writeln!(
        s,
        "GRANT SELECT ON ALL TABLES IN SCHEMA {v} TO {r};\n\
         -- Views the package adds later (created by their owner) are readable too.\n\
         ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {v} GRANT SELECT ON TABLES TO {r};"
    );
    if !tables.is_empty() {
        let list = tables
            .iter()
            .map(|(sch, t)| format!("{}.{}", quote_ident(sch), quote_ident(t)))
            .collect::<Vec<_>>();
        let _ = writeln!(
            s,
            "\n-- The IDP's tables: nothing for this role (the views read them with their owner's\n\
             -- rights). Only the role's own privileges are revoked: other roles keep theirs, and\n\
             -- PUBLIC keeps its rights on the IDP schemas (often `public`, shared with extensions)."
        );
        let _ = writeln!(s, "REVOKE ALL ON TABLE {} FROM {r};", list.join(", "));
        for idp in &idp_schemas {
            let _ = writeln!(s, "REVOKE CREATE ON SCHEMA {} FROM {r};", quote_ident(idp));
        }
        let regclasses = tables
            .iter()
            .map(|(sch, t)| {
                quote_literal(&format!("{}.{}", quote_ident(sch), quote_ident(t))) + "::regclass"
            })
            .collect::<Vec<_>>()
            .join(", ");
        if options.revoke_public {
            let _ = writeln!(
                s,
                "-- --revoke-public: PUBLIC's privileges on these tables, revoked (every role that\n\
                 -- relied on them loses them; grant what the IDP's own roles need explicitly).\n\
                 REVOKE ALL ON TABLE {} FROM PUBLIC;",
                list.join(", ")
            );
        } else {
            let _ = writeln!(
                s,
                "-- Reported, not changed: privileges PUBLIC holds on these tables (every role, this one\n\
                 -- too, can use them directly). `idpviews grants --revoke-public` revokes them.\n\
                 DO $idpviews$\n\
                 DECLARE\n\
                 \x20 t record;\n\
                 BEGIN\n\
                 \x20 FOR t IN\n\
                 \x20   SELECT c.oid::regclass AS rel, string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type) AS privileges\n\
                 \x20   FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a\n\
                 \x20   WHERE c.oid IN ({regclasses}) AND a.grantee = 0\n\
                 \x20   GROUP BY c.oid ORDER BY 1::text\n\
                 \x20 LOOP\n\
                 \x20   RAISE WARNING 'idpviews: PUBLIC holds % on %: every role, the product role too, can read it directly', t.privileges, t.rel\n\
                 \x20     USING HINT = 'revoke it from PUBLIC (`idpviews grants --revoke-public`) after granting the IDP''s own roles what they need';\n\
                 \x20 END LOOP;\n\
                 END\n\
                 $idpviews$;"
            );
        }
    }
    s.push_str("\nCOMMIT;\n");
    Ok(s)
}

fn check_ident(what: &str, name: &str) -> Result<(), Error> {
    if let Some(problem) = idpviews_core::ident::ident_problem(name) {
        return Err(Error::InvalidInput(format!(
            "the {what} name {name:?} cannot be a PostgreSQL identifier: {problem}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{ManifestView, MANIFEST_FORMAT};

    fn manifest() -> Manifest {
        Manifest {
            generated: String::new(),
            format: MANIFEST_FORMAT,
            generator: "test".into(),
            schema: "idp_views".into(),
            files: Default::default(),
            package_hash: String::new(),
            views: vec![ManifestView {
                name: "IdpUser".into(),
                model: "User".into(),
                source_schema: "idp".into(),
                source_table: "User".into(),
                doc: None,
                tenant_field: None,
                tenant_column: None,
                tenant_owner: None,
                columns: vec![],
            }],
            enums: vec![],
            relations: vec![],
        }
    }

    #[test]
    fn quotes_identifiers_and_holds_no_password() {
        let sql = grants_sql(&manifest(), "fuel\"app", "fuel_logistics").unwrap();
        assert!(sql.contains("GRANT USAGE ON SCHEMA \"idp_views\" TO \"fuel\"\"app\";"));
        assert!(sql.contains("REVOKE ALL ON TABLE \"idp\".\"User\" FROM \"fuel\"\"app\";"));
        assert!(!sql.contains("FROM PUBLIC"), "{sql}");
        let public = grants_sql_with(
            &manifest(),
            "r",
            "p",
            &GrantsOptions {
                revoke_public: true,
                ..GrantsOptions::default()
            },
        )
        .unwrap();
        assert!(public.contains("REVOKE ALL ON TABLE \"idp\".\"User\" FROM PUBLIC;"));
        assert!(!public.contains("ON SCHEMA \"idp\" FROM PUBLIC"));
        assert!(sql.contains("FOR ROLE CURRENT_USER IN SCHEMA \"idp_views\""));
        assert!(!sql.to_lowercase().contains("password '"));
    }

    #[test]
    fn rejects_bad_names() {
        let m = manifest();
        assert!(grants_sql(&m, "", "p").is_err());
        assert!(grants_sql(&m, "PUBLIC", "p").is_err());
        assert!(grants_sql(&m, "pg_read_all_data", "p").is_err());
        assert!(grants_sql(&m, "r", "idp").is_err());
        assert!(grants_sql(&m, "r", "idp_views").is_err());
        assert!(grants_sql(&m, "r", &"x".repeat(64)).is_err());
        assert!(grants_sql(&m, "r\n", "p").is_err());
        assert!(grants_sql(&m, "r", "public").is_err());
    }
}
