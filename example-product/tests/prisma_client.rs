//! A TypeScript product can use the merged Prisma file unchanged: Prisma 7
//! validates the product's schema directory (its models plus the committed
//! `idp-views.prisma`), and Prisma Client runs the proof of concept's
//! queries (`ts/queries.ts`) against the database the example builds,
//! connected as the product's least-privilege role.

use example_product::setup;
use idpviews_testdb::{prisma, TestDb};
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn prisma_client_runs_the_seed_queries_on_the_merged_schema() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    copy_dir(&here.join("prisma"), &work.path().join("prisma"));
    copy_dir(&here.join("ts"), &work.path().join("ts"));
    let schema = work.path().join("prisma/schema");
    prisma::validate(&schema).unwrap_or_else(|e| panic!("Prisma 7 rejects the schema:\n{e}"));
    prisma::format_check(&schema)
        .unwrap_or_else(|e| panic!("the schema is not `prisma format`ted:\n{e}"));
    prisma::generate(&schema).unwrap_or_else(|e| panic!("{e}"));

    let db = TestDb::new();
    let role = db.role_name("fuel_app");
    let prepared = setup::prepare(db.url(), &role).unwrap_or_else(|e| panic!("{e}"));
    let url = product_url(db.url(), &prepared.product_config, &role);
    let out = prisma::run_script(work.path().join("ts/queries.ts"), &[("DATABASE_URL", &url)])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.trim(),
        concat!(
            r#"{"drivers":[["DXB-100-001","Mohammed",true],["DXB-100-002","Sara",true],["AUH-200-003","Omar",true]],"#,
            r#""search":["Mohammed"],"tenant":["DXB-100-001","DXB-100-002"],"#,
            r#""nested":[["DXB-100-001",3],["DXB-100-002",3],["AUH-200-003",3]],"write":"rejected: no privilege","#,
            r#""page":[["DXB-100-001","Mohammed","Ali"],["DXB-100-002","Sara","Khan"]],"total":3,"#,
            r#""users":[["Mohammed",["DRIVER"],1],["Omar",["DRIVER"],1],["Sara",["DRIVER","DISPATCHER"],1]]}"#
        )
    );
}

/// The test database's URL with the product role's credentials.
fn product_url(admin_url: &str, config: &postgres::Config, role: &str) -> String {
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    let (scheme, rest) = admin_url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    format!("{scheme}://{role}:{password}@{host}")
}
