//! The IDP used by the database tests (`db_*.rs`): a small Prisma schema,
//! its tables (as `prisma migrate` would create them), two tenants of
//! users, and views packages generated from it by the real generator.

#![allow(dead_code)] // each test binary uses a different subset

use idpviews::Package;
use idpviews_testdb::TestDb;

/// The IDP's Prisma schema. `User` maps to `idp."User"`.
pub const IDP_PRISMA: &str = r#"
datasource db {
  provider = "postgresql"
  schemas  = ["idp"]
}

model Tenant {
  id    String @id @db.Uuid
  name  String
  users User[]

  @@schema("idp")
}

model User {
  id        String     @id @db.Uuid
  email     String?
  firstName String?    @map("first_name")
  password  String
  userTypes UserType[] @map("user_types")
  nickname  String?
  tenantId  String     @map("tenant_id") @db.Uuid
  tenant    Tenant     @relation(fields: [tenantId], references: [id])
  createdAt DateTime   @default(now()) @map("created_at")

  @@index([tenantId])
  @@schema("idp")
}

enum UserType {
  ADMIN
  DRIVER
  DISPATCHER

  @@map("user_type")
  @@schema("idp")
}
"#;

/// The tables of [`IDP_PRISMA`].
pub const IDP_SQL: &str = r#"
CREATE SCHEMA "idp";
CREATE TYPE "idp"."user_type" AS ENUM ('ADMIN', 'DRIVER', 'DISPATCHER');
CREATE TABLE "idp"."Tenant" (
  "id"   uuid NOT NULL PRIMARY KEY,
  "name" text NOT NULL
);
CREATE TABLE "idp"."User" (
  "id"         uuid NOT NULL PRIMARY KEY,
  "email"      text,
  "first_name" text,
  "password"   text NOT NULL,
  "user_types" "idp"."user_type"[],
  "nickname"   text,
  "tenant_id"  uuid NOT NULL REFERENCES "idp"."Tenant" ("id"),
  "created_at" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "User_tenant_id_idx" ON "idp"."User" ("tenant_id");
"#;

pub const TENANT_A: &str = "0190a000-0000-7000-8000-00000000000a";
pub const TENANT_B: &str = "0190a000-0000-7000-8000-00000000000b";

/// Users of tenant A (id, email).
pub const USERS_A: [(&str, &str); 3] = [
    (
        "0190a000-0000-7000-8000-0000000000a1",
        "a1@tenant-a.example",
    ),
    (
        "0190a000-0000-7000-8000-0000000000a2",
        "a2@tenant-a.example",
    ),
    (
        "0190a000-0000-7000-8000-0000000000a3",
        "a3@tenant-a.example",
    ),
];
/// Users of tenant B (id, email).
pub const USERS_B: [(&str, &str); 2] = [
    (
        "0190a000-0000-7000-8000-0000000000b1",
        "b1@tenant-b.example",
    ),
    (
        "0190a000-0000-7000-8000-0000000000b2",
        "b2@tenant-b.example",
    ),
];

/// `idp-views.toml`: `IdpUser` and `IdpTenant`.
pub const VIEWS_BASE: &str = r#"
schema = "idp_views"

[views.IdpUser]
model = "User"
fields = ["id", "email", "firstName", "userTypes", "tenantId", "createdAt"]

[views.IdpTenant]
model = "Tenant"
fields = ["id", "name"]
"#;

/// [`VIEWS_BASE`] with `nickname` appended to `IdpUser`.
pub const VIEWS_APPENDED: &str = r#"
schema = "idp_views"

[views.IdpUser]
model = "User"
fields = ["id", "email", "firstName", "userTypes", "tenantId", "createdAt", "nickname"]

[views.IdpTenant]
model = "Tenant"
fields = ["id", "name"]
"#;

/// [`VIEWS_BASE`] without `email`: a breaking change.
pub const VIEWS_DROPPED_EMAIL: &str = r#"
schema = "idp_views"

[views.IdpUser]
model = "User"
fields = ["id", "firstName", "userTypes", "tenantId", "createdAt", "nickname"]

[views.IdpTenant]
model = "Tenant"
fields = ["id", "name"]
"#;

/// Only `IdpUser` (a later package adds `IdpTenant`).
pub const VIEWS_USER_ONLY: &str = r#"
schema = "idp_views"

[views.IdpUser]
model = "User"
fields = ["id", "email", "firstName", "userTypes", "tenantId", "createdAt"]
"#;

/// [`VIEWS_BASE`] with tenant isolation on `IdpUser`, for [`views_tenant`].
pub const VIEWS_TENANT: &str = r#"
schema = "idp_views"

[views.IdpUser]
model = "User"
fields = ["id", "email", "firstName", "userTypes", "tenantId", "createdAt"]
tenant_column = "tenantId"

[views.IdpTenant]
model = "Tenant"
fields = ["id", "name"]
"#;

/// [`VIEWS_TENANT`] (kept as a function: tests written for an earlier design
/// gave each database its own owner role).
pub fn views_tenant(_db: &TestDb) -> String {
    VIEWS_TENANT.to_owned()
}

/// Generates a package from [`IDP_PRISMA`] and an allowlist with the real
/// generator.
pub fn package(allowlist: &str) -> Package {
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = dir.path().join("schema.prisma");
    let config = dir.path().join("idp-views.toml");
    std::fs::write(&schema, IDP_PRISMA).expect("write schema");
    std::fs::write(&config, allowlist).expect("write allowlist");
    let generated =
        idpviews_build::generate::Generator::new(&schema, &config, dir.path().join("out"))
            .allow_breaking(true)
            .generate()
            .unwrap_or_else(|e| panic!("generate failed:\n{}", e.render(false)));
    let sql = generated
        .file(idpviews_build::manifest::SQL_FILE)
        .expect("the package has SQL")
        .to_owned();
    Package {
        manifest: generated.manifest().clone(),
        sql: sql.into(),
    }
}

/// A fresh database with the IDP's tables and users (3 in tenant A, 2 in B).
pub fn idp_db() -> TestDb {
    let db = TestDb::new();
    let mut c = db.connect();
    c.batch_execute(IDP_SQL).expect("create the IDP tables");
    c.execute(
        r#"INSERT INTO "idp"."Tenant" ("id", "name") VALUES ($1::text::uuid, 'A'), ($2::text::uuid, 'B')"#,
        &[&TENANT_A, &TENANT_B],
    )
    .expect("seed tenants");
    for (tenant, users) in [(TENANT_A, &USERS_A[..]), (TENANT_B, &USERS_B[..])] {
        for (id, email) in users {
            c.execute(
                r#"INSERT INTO "idp"."User" ("id", "email", "first_name", "password", "user_types", "tenant_id")
                   VALUES ($1::text::uuid, $2, 'First', 'secret-hash', ARRAY['DRIVER']::"idp"."user_type"[], $3::text::uuid)"#,
                &[id, email, &tenant],
            )
            .expect("seed users");
        }
    }
    db
}

/// The columns of every view of `idp_views` and their definitions: a
/// snapshot to prove a failed apply changed nothing.
pub fn views_snapshot(c: &mut postgres::Client) -> Vec<(String, String, String)> {
    c.query(
        "SELECT c.relname::text, \
                string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum), \
                pg_get_viewdef(c.oid) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname = 'idp_views' GROUP BY c.relname, c.oid ORDER BY 1",
        &[],
    )
    .expect("snapshot")
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

/// The SQLSTATE of a failed statement.
pub fn sqlstate(e: &postgres::Error) -> String {
    e.code()
        .map(|c| c.code().to_owned())
        .unwrap_or_else(|| format!("no SQLSTATE: {e}"))
}
