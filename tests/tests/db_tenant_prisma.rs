//! Tenant isolation from Prisma Client 7 in TypeScript (`@prisma/adapter-pg`), the recipe of
//! docs/database.md ("From TypeScript (Prisma 7)"): the example IDP's tables, a package
//! generated from them by the real generator with `IdpUser` tenant-isolated, applied, a product
//! role granted by `grants_sql`, a Prisma schema made of a config file and the generated
//! `idp-views.prisma` unchanged, Prisma Client generated offline, and
//! `prisma_tenant/tenant.ts` run as the product role, directly and through PgBouncer in
//! transaction mode. The script only observes (one JSON document); the assertions are here.

use idpviews_testdb::{prisma, PgBouncer, TestDb};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const PASSWORD: &str = "product-password";

const TENANT_A: &str = "0190c000-0000-7000-8000-00000000000a";
const TENANT_B: &str = "0190c000-0000-7000-8000-00000000000b";

/// A seeded IDP user.
struct User {
    id: &'static str,
    email: &'static str,
    first_name: &'static str,
    last_name: &'static str,
    user_types: &'static [&'static str],
    is_active: bool,
    tenant: Option<&'static str>,
    /// `timestamp(3)`, which Prisma reads as UTC.
    created_at: &'static str,
}

/// Three users in A, two in B (other counts, other ids), one of no tenant. In e-mail order
/// within each tenant (the script orders by e-mail).
const USERS: [User; 6] = [
    User {
        id: "0190c000-0000-7000-8000-0000000000a1",
        email: "aisha@tenant-a.example",
        first_name: "Aisha",
        last_name: "Khan",
        user_types: &["DRIVER"],
        is_active: true,
        tenant: Some(TENANT_A),
        created_at: "2025-01-01T08:01:00.121Z",
    },
    User {
        id: "0190c000-0000-7000-8000-0000000000a2",
        email: "amal@tenant-a.example",
        first_name: "Amal",
        last_name: "Haddad",
        user_types: &["ADMIN"],
        is_active: false,
        tenant: Some(TENANT_A),
        created_at: "2025-01-02T08:02:00.122Z",
    },
    User {
        id: "0190c000-0000-7000-8000-0000000000a3",
        email: "anwar@tenant-a.example",
        first_name: "Anwar",
        last_name: "Saleh",
        user_types: &["DRIVER", "DISPATCHER"],
        is_active: true,
        tenant: Some(TENANT_A),
        created_at: "2025-01-03T08:03:00.123Z",
    },
    User {
        id: "0190c000-0000-7000-8000-0000000000b1",
        email: "basma@tenant-b.example",
        first_name: "Basma",
        last_name: "Nasser",
        user_types: &["customer"],
        is_active: true,
        tenant: Some(TENANT_B),
        created_at: "2025-01-04T08:04:00.124Z",
    },
    User {
        id: "0190c000-0000-7000-8000-0000000000b2",
        email: "bilal@tenant-b.example",
        first_name: "Bilal",
        last_name: "Aziz",
        user_types: &["DRIVER"],
        is_active: true,
        tenant: Some(TENANT_B),
        created_at: "2025-01-05T08:05:00.125Z",
    },
    User {
        id: "0190c000-0000-7000-8000-0000000000f0",
        email: "nadia@no-tenant.example",
        first_name: "Nadia",
        last_name: "Farouk",
        user_types: &["ADMIN"],
        is_active: true,
        tenant: None,
        created_at: "2025-01-06T08:06:00.126Z",
    },
];

const NO_TENANT_USER: &User = &USERS[5];

/// The product's Prisma configuration; the views come from the generated `idp-views.prisma`.
const PRISMA_CONFIG: &str = r#"generator client {
  provider        = "prisma-client"
  output          = "../../generated"
  moduleFormat    = "cjs"
  previewFeatures = ["views"]
}

datasource db {
  provider = "postgresql"
  schemas  = ["idp_views"]
}
"#;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
}

/// The example IDP's allowlist with `IdpUser` tenant-isolated on `tenantId`, generated from the
/// example IDP's Prisma schema; returns the package and its Prisma view file.
fn generate() -> (idpviews::Package, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = std::fs::read_to_string(root().join("example-idp/idp-views.toml"))
        .expect("example-idp/idp-views.toml")
        .replace(
            "[views.IdpUser]\nmodel = \"User\"\n",
            "[views.IdpUser]\nmodel = \"User\"\ntenant_column = \"tenantId\"\n",
        );
    assert!(
        toml.contains("tenant_column") && toml.contains("schema = \"idp_views\""),
        "example-idp/idp-views.toml changed shape"
    );
    let config = dir.path().join("idp-views.toml");
    std::fs::write(&config, toml).expect("write the allowlist");
    let generated = idpviews_build::generate::Generator::new(
        root().join("example-idp/prisma/schema"),
        &config,
        dir.path().join("out"),
    )
    .generate()
    .unwrap_or_else(|e| panic!("generate:\n{}", e.render(false)));
    let file = |name: &str| {
        generated
            .file(name)
            .unwrap_or_else(|| panic!("the package has no {name}"))
            .to_owned()
    };
    let package = idpviews::Package {
        manifest: generated.manifest().clone(),
        sql: file(idpviews_build::files::SQL_FILE).into(),
    };
    (package, file(idpviews_build::files::PRISMA_FILE))
}

struct Setup {
    db: TestDb,
    role: String,
    work: tempfile::TempDir,
}

/// The IDP tables and users, the applied package, the granted product role, and Prisma Client
/// generated from the product's schema next to the script.
fn setup() -> Setup {
    let db = TestDb::new();
    let mut admin = db.connect();
    admin
        .batch_execute(
            &std::fs::read_to_string(root().join("example-idp/sql/001_idp_tables.sql"))
                .expect("example-idp/sql/001_idp_tables.sql"),
        )
        .expect("the IDP tables");
    for (tenant, slug) in [(TENANT_A, "tenant-a"), (TENANT_B, "tenant-b")] {
        admin
            .execute(
                r#"INSERT INTO idp.tenants (id, name, slug) VALUES ($1::text::uuid, $2, $2)"#,
                &[&tenant, &slug],
            )
            .expect("seed a tenant");
    }
    for u in &USERS {
        let types: Vec<String> = u.user_types.iter().map(|t| (*t).to_owned()).collect();
        admin
            .execute(
                r#"INSERT INTO idp.users (id, email, first_name, last_name, password, user_types,
                                         is_active, tenant_id, created_at, updated_at)
                   VALUES ($1::text::uuid, $2, $3, $4, 'secret-hash', $5::text[]::idp.user_type[],
                           $6, $7::text::uuid, $8::text::timestamptz AT TIME ZONE 'UTC', now())"#,
                &[
                    &u.id,
                    &u.email,
                    &u.first_name,
                    &u.last_name,
                    &types,
                    &u.is_active,
                    &u.tenant,
                    &u.created_at,
                ],
            )
            .expect("seed a user");
    }

    let (package, prisma_file) = generate();
    assert_eq!(package.manifest.schema, "idp_views");
    idpviews::apply(&mut admin, &package).expect("apply");
    let role = db.create_role("product", Some(PASSWORD)).unwrap();
    admin
        .batch_execute(&idpviews::grants_sql(&package.manifest, &role, "product").unwrap())
        .expect("grants");

    let work = tempfile::tempdir().expect("temp dir");
    let schema = work.path().join("prisma/schema");
    std::fs::create_dir_all(&schema).unwrap();
    std::fs::write(schema.join("_config.prisma"), PRISMA_CONFIG).unwrap();
    std::fs::write(
        schema.join(idpviews_build::files::PRISMA_FILE),
        &prisma_file,
    )
    .unwrap();
    prisma::generate(&schema).unwrap_or_else(|e| panic!("prisma generate:\n{e}"));
    std::fs::write(
        work.path().join("tenant.ts"),
        include_str!("prisma_tenant/tenant.ts"),
    )
    .unwrap();
    Setup { db, role, work }
}

fn run(script: &Path, url: &str) -> Value {
    let out = prisma::run_script(
        script,
        &[
            ("DATABASE_URL", url),
            ("TENANT_A", TENANT_A),
            ("TENANT_B", TENANT_B),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
}

fn script(s: &Setup) -> PathBuf {
    s.work.path().join("tenant.ts")
}

/// The ids of `users` (a JSON array of users), in order.
fn ids(users: &Value) -> Vec<&str> {
    users
        .as_array()
        .unwrap_or_else(|| panic!("not a list of users: {users}"))
        .iter()
        .map(|u| u["id"].as_str().unwrap_or_else(|| panic!("no id: {u}")))
        .collect()
}

/// The seeded users of `tenant`, in e-mail order.
fn of(tenant: &str) -> Vec<&'static User> {
    USERS.iter().filter(|u| u.tenant == Some(tenant)).collect()
}

fn ids_of(tenant: &str) -> Vec<&'static str> {
    of(tenant).iter().map(|u| u.id).collect()
}

/// Every `"backend"` (the `pg_backend_pid()` of a step) in the output.
fn backends(v: &Value, found: &mut Vec<i64>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_i64()) {
                    ("backend", Some(pid)) => found.push(pid),
                    _ => backends(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| backends(v, found)),
        _ => {}
    }
}

/// The assertions on the script's output. `direct`: connected to PostgreSQL itself, so the
/// steps' server connection is Prisma's pooled one (through PgBouncer it is PgBouncer's).
fn check(out: &Value, role: &str, direct: bool) {
    let at = |p: &str| {
        out.pointer(p)
            .unwrap_or_else(|| panic!("no {p} in the output:\n{out:#}"))
    };
    let none = |p: &str| {
        assert_eq!(
            ids(at(p)),
            Vec::<&str>::new(),
            "{p}: rows without a declared tenant"
        )
    };
    assert_eq!(at("/who/role"), role, "the script runs as the product role");
    assert_eq!(at("/who/superuser"), false);

    // a. The recipe: tenant A's users, every column readable.
    assert_eq!(at("/a/declared"), 1, "$executeRaw of set_tenant: one row");
    let a = at("/a/users").as_array().unwrap();
    let expected = of(TENANT_A);
    assert_eq!(ids(at("/a/users")), ids_of(TENANT_A), "tenant A's users");
    for (got, want) in a.iter().zip(expected) {
        assert_eq!(
            *got,
            json!({
                "id": want.id,
                "email": want.email,
                "firstName": want.first_name,
                "lastName": want.last_name,
                "userTypes": want.user_types,
                "isActive": want.is_active,
                "tenantId": TENANT_A,
                "createdAt": want.created_at,
            }),
            "tenant A's user as Prisma reads it"
        );
    }
    assert_eq!(ids(at("/a/sameTenant")), ids_of(TENANT_A));
    none("/a/otherTenant");
    // b. The next transaction: tenant B's users only.
    assert_eq!(ids(at("/b/users")), ids_of(TENANT_B), "tenant B's users");
    // c. After them, no declaration: outside a transaction (also with the product's own tenant
    // condition), in a transaction that declares nothing.
    none("/c/outside/users");
    none("/c/outsideWhere");
    none("/c/undeclaredTx/users");
    // d. A session-level SET is on the connection, and is no tenant.
    if direct {
        assert_eq!(at("/d/setting"), TENANT_A, "the session SET took effect");
        assert_eq!(at("/d/undeclaredTx/setting"), TENANT_A);
    }
    none("/d/outside/users");
    none("/d/undeclaredTx/users");
    // e. set_tenant outside a transaction: for its own statement only.
    assert_eq!(at("/e/declared"), 1);
    none("/e/after/users");
    // $queryRaw reads set_tenant's result, the declared tenant (a `void` result, as earlier
    // packages returned, fails to deserialize: P2010).
    assert_eq!(
        at("/queryRaw/ok/result"),
        &json!([{ "declared": TENANT_A }]),
        "{out:#}"
    );
    assert_eq!(ids(at("/queryRaw/ok/users")), ids_of(TENANT_A));
    // The batch form of $transaction is one transaction too.
    assert_eq!(at("/batch/ok/declared"), 1, "{out:#}");
    assert_eq!(ids(at("/batch/ok/users")), ids_of(TENANT_B));
    // An empty tenant is refused (22023), not "every tenant".
    assert_eq!(at("/emptyTenant/code"), "P2010", "{out:#}");
    let message = at("/emptyTenant/message").as_str().unwrap();
    assert!(message.contains("22023"), "{message}");
    none("/end/users");
    // g. Inside the callback, a query on `prisma` instead of `tx` runs on another connection,
    // outside the transaction: no rows.
    none("/g/onPrisma/users");
    assert_eq!(ids(at("/g/onTx/users")), ids_of(TENANT_A));
    assert_ne!(at("/g/onPrisma/backend"), at("/g/onTx/backend"));
    // f. The user of no tenant is in no answer at all.
    let text = out.to_string();
    assert!(
        !text.contains(NO_TENANT_USER.id) && !text.contains(NO_TENANT_USER.email),
        "the user of no tenant was returned:\n{out:#}"
    );

    // Every step ran on one server connection: Prisma's pool reused it, so what a step left on
    // it (the session SET, an earlier transaction's tenant) was there for the next one.
    let mut pids = Vec::new();
    backends(out, &mut pids);
    assert_eq!(pids.len(), 11, "{pids:?}");
    let second = at("/g/onPrisma/backend").as_i64();
    pids.retain(|p| Some(*p) != second);
    if direct {
        assert!(
            pids.iter().all(|p| *p == pids[0]),
            "expected Prisma's pool to reuse one connection: {pids:?}"
        );
    }
}

/// The product role's URL must not be a superuser's, and the IDP must hold the user of no
/// tenant (so that not seeing it means something).
fn preconditions(s: &Setup) {
    let mut admin = s.db.connect();
    let row = admin
        .query_one(
            "SELECT (SELECT count(*) FROM idp.users WHERE tenant_id IS NULL AND id = $1::text::uuid),
                    (SELECT count(*) FROM idp.users)",
            &[&NO_TENANT_USER.id],
        )
        .unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, i64>(1)),
        (1, USERS.len() as i64)
    );
}

#[test]
fn prisma_client_sees_only_the_tenant_its_transaction_declared() {
    let s = setup();
    preconditions(&s);
    let out = run(&script(&s), &s.db.url_for_role(&s.role, Some(PASSWORD)));
    check(&out, &s.role, true);
}

/// The same script through PgBouncer in transaction mode: node-postgres (under
/// `@prisma/adapter-pg`) sends unnamed statements, which PgBouncer passes on without
/// `?pgbouncer=true` or any other setting.
#[test]
fn the_same_through_pgbouncer_in_transaction_mode() {
    let s = setup();
    preconditions(&s);
    let bouncer =
        PgBouncer::start(&s.db, &[(s.role.as_str(), PASSWORD)]).unwrap_or_else(|e| panic!("{e}"));
    let out = run(&script(&s), &bouncer.url_for_role(&s.role, Some(PASSWORD)));
    check(&out, &s.role, false);
}
