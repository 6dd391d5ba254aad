//! The typed-row fixture shared by `rows_pg.rs` and `rows_sqlx.rs`:
//! `tests/ui/fixtures/basic` (a views manifest, the views SQL,
//! `idp-tables.sql` with the IDP tables behind them and `seed.sql` with a
//! few rows), its generated types and one `#[row]` projection.

#![allow(dead_code)] // each test binary uses a different subset

use idpviews_testdb::TestDb;
use uuid::Uuid;

pub mod idp {
    idpviews::include_views!(path = "ui/fixtures/basic");
}

use idp::UserType;

/// A projection: a few columns of `IdpUser`, checked at compile time.
#[idpviews::row(view = "IdpUser", path = "ui/fixtures/basic")]
#[derive(Debug, PartialEq)]
pub struct Contact {
    pub id: Uuid,
    pub first_name: String,
    pub email: Option<String>,
    pub user_types: Vec<UserType>,
    #[idpviews(field = "mobileNumber")]
    pub phone: Option<String>,
}

const IDP_TABLES: &str = include_str!("../../ui/fixtures/basic/idp-tables.sql");
/// The rows; [`TENANT`], [`ALICE`] and [`BOB`] are their ids.
const SEED: &str = include_str!("../../ui/fixtures/basic/seed.sql");

pub const TENANT: &str = "00000000-0000-0000-0000-00000000000a";
pub const ALICE: &str = "00000000-0000-0000-0000-000000000001";
pub const BOB: &str = "00000000-0000-0000-0000-000000000002";

pub fn uuid(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap()
}

/// The IDP tables, the views (from the package SQL embedded by the macro)
/// and the rows, set up with the `postgres` client.
pub fn setup(db: &TestDb) -> postgres::Client {
    let mut c = db.connect();
    c.batch_execute(IDP_TABLES).unwrap();
    c.batch_execute(&idp::package().sql).unwrap();
    c.batch_execute(SEED).unwrap();
    c
}
