//! Prisma 7's own validator and formatter, run offline through `idpviews_testdb::prisma`.
//! Needs `npm ci --ignore-scripts --prefix tools/prisma`; without it these tests fail and say so.

use idpviews_testdb::prisma;

const CONFIG: &str = r#"generator client {
  provider        = "prisma-client"
  output          = "./generated"
  previewFeatures = ["views"]
}

datasource db {
  provider = "postgresql"
  schemas  = ["fuel_logistics", "idp", "idp_views"]
}
"#;

const MODELS: &str = r#"/// An IDP table.
model User {
  id        String   @id @default(uuid(7))
  email     String?  @map("email_address") @db.VarChar(255)
  password  String
  userTypes UserType[]

  @@map("users")
  @@schema("idp")
}

enum UserType {
  DRIVER
  ADMIN @map("admin")

  @@schema("idp")
}

view IdpUser {
  id      String   @unique @db.Uuid
  email   String?
  drivers Driver[]

  @@schema("idp_views")
}

model Driver {
  id        Int     @id @default(autoincrement())
  idpUserId String  @db.Uuid
  idpUser   IdpUser @relation(fields: [idpUserId], references: [id])

  @@schema("fuel_logistics")
}
"#;

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn a_valid_multi_schema_file_with_a_view_validates() {
    let dir = tempdir();
    let file = dir.path().join("schema.prisma");
    std::fs::write(&file, format!("{CONFIG}\n{MODELS}")).unwrap();
    prisma::validate(&file).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_valid_multi_file_schema_directory_validates() {
    let dir = tempdir();
    std::fs::write(dir.path().join("_config.prisma"), CONFIG).unwrap();
    std::fs::create_dir(dir.path().join("models")).unwrap();
    std::fs::write(dir.path().join("models").join("all.prisma"), MODELS).unwrap();
    prisma::validate(dir.path()).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn invalid_schemas_are_rejected_with_prismas_diagnostics() {
    let dir = tempdir();
    let file = dir.path().join("schema.prisma");
    // Three Prisma 7 rules: no `url` in the datasource, views have no primary key, and types
    // must exist.
    let bad = format!("{CONFIG}\n{MODELS}")
        .replace(
            "provider = \"postgresql\"",
            "provider = \"postgresql\"\n  url      = env(\"DATABASE_URL\")",
        )
        .replace("@unique @db.Uuid", "@id @db.Uuid")
        .replace("email   String?", "email   Strin?");
    std::fs::write(&file, &bad).unwrap();
    let err = prisma::validate(&file).unwrap_err();
    for needle in [
        "P1012",
        "The datasource property `url` is no longer supported",
        "Type \"Strin\" is neither a built-in type",
    ] {
        assert!(err.contains(needle), "{needle:?} not in:\n{err}");
    }
    assert!(!err.contains('\u{1b}'), "colour codes in:\n{err}");

    // Views without the preview feature, and with a primary key.
    let no_preview = format!("{CONFIG}\n{MODELS}")
        .replace("  previewFeatures = [\"views\"]\n", "")
        .replace("@unique @db.Uuid", "@id @db.Uuid");
    std::fs::write(&file, no_preview).unwrap();
    let err = prisma::validate(&file).unwrap_err();
    assert!(
        err.contains("View definitions are only available with the `views` preview feature"),
        "{err}"
    );
    assert!(err.contains("Views cannot have primary keys"), "{err}");
}

#[test]
fn format_aligns_like_prisma_and_is_a_fixed_point() {
    let messy = format!(
        "{CONFIG}\nview V {{\nid String @unique\n  longerName Int?\n@@schema(\"idp_views\")\n}}\n"
    );
    let formatted = prisma::format_str(&messy).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        formatted.contains("view V {\n  id         String @unique\n  longerName Int?\n\n  @@schema(\"idp_views\")\n}"),
        "{formatted}"
    );
    assert_eq!(prisma::format_str(&formatted).unwrap(), formatted);

    let dir = tempdir();
    let file = dir.path().join("schema.prisma");
    std::fs::write(&file, &messy).unwrap();
    assert!(prisma::format_check(&file).is_err());
    prisma::format(&file).unwrap();
    prisma::format_check(&file).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), formatted);
}

#[test]
fn a_missing_schema_is_an_error_not_a_panic() {
    let err = prisma::validate("/nonexistent/idpviews/schema.prisma").unwrap_err();
    assert!(err.contains("does not exist"), "{err}");
}

/// Prisma Client 7 with `@prisma/adapter-pg`, offline: generate, then query a real view.
#[test]
fn prisma_client_reads_a_view_through_the_pg_adapter() {
    let db = idpviews_testdb::TestDb::new();
    db.connect()
        .batch_execute(
            r#"CREATE SCHEMA idp;
               CREATE TABLE idp.users (id uuid PRIMARY KEY, email_address text, password text);
               INSERT INTO idp.users VALUES
                 ('0190a000-0000-7000-8000-000000000001', 'Mohammed@example.com', 'x'),
                 ('0190a000-0000-7000-8000-000000000002', 'ann@example.com', 'y');
               CREATE SCHEMA idp_views;
               CREATE VIEW idp_views."IdpUser" AS SELECT id, email_address AS email FROM idp.users;"#,
        )
        .unwrap();
    let dir = tempdir();
    let schema = dir.path().join("schema.prisma");
    std::fs::write(
        &schema,
        r#"generator client {
  provider        = "prisma-client"
  output          = "./generated"
  previewFeatures = ["views"]
  moduleFormat    = "cjs"
}

datasource db {
  provider = "postgresql"
  schemas  = ["idp_views"]
}

view IdpUser {
  id    String  @unique @db.Uuid
  email String?

  @@schema("idp_views")
}
"#,
    )
    .unwrap();
    prisma::generate(&schema).unwrap_or_else(|e| panic!("{e}"));
    let script = dir.path().join("query.ts");
    std::fs::write(
        &script,
        r#"import { PrismaClient } from "./generated/client";
import { PrismaPg } from "@prisma/adapter-pg";

async function main() {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });
  const found = await prisma.idpUser.findMany({
    where: { email: { contains: "mohammed", mode: "insensitive" } },
    select: { email: true },
  });
  console.log(JSON.stringify({ found, total: await prisma.idpUser.count() }));
  await prisma.$disconnect();
}
main().catch((e) => { console.error(e); process.exit(1); });
"#,
    )
    .unwrap();
    let out = prisma::run_script(&script, &[("DATABASE_URL", db.url())])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.trim(),
        r#"{"found":[{"email":"Mohammed@example.com"}],"total":2}"#
    );
}
