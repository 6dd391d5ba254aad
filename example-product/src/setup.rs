//! Setting up one database the way the platform does: the IDP's tables and
//! seed, the shared views, a least-privilege role for the product, the
//! product's own tables and seed. Every step is idempotent.

use crate::idp;
use idpviews::error_chain;
use idpviews::sql::quote_ident;
use postgres::Client;
use std::fmt;

/// The IDP's tables, as its migrations create them.
pub const IDP_TABLES_SQL: &str = include_str!("../../example-idp/sql/001_idp_tables.sql");
/// 2 tenants, 4 users, 1 role.
pub const IDP_SEED_SQL: &str = include_str!("../../example-idp/sql/002_idp_seed.sql");
/// fuel-logistics' tables, as its migrations create them.
pub const PRODUCT_TABLES_SQL: &str = include_str!("../sql/001_product_tables.sql");
/// 3 drivers, 9 orders.
pub const PRODUCT_SEED_SQL: &str = include_str!("../sql/002_product_seed.sql");
/// The product's PostgreSQL schema (its models' `@@schema`).
pub const PRODUCT_SCHEMA: &str = "fuel_logistics";

/// Something went wrong while setting up; says which step.
#[derive(Debug)]
pub struct SetupError {
    pub step: &'static str,
    pub message: String,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.step, self.message)
    }
}

impl std::error::Error for SetupError {}

fn step<E: std::error::Error>(step: &'static str) -> impl FnOnce(E) -> SetupError {
    move |e| SetupError {
        step,
        message: error_chain(&e),
    }
}

/// What [`prepare`] did, for the demo output.
pub struct Prepared {
    pub applied: idpviews::Applied,
    pub grants: String,
    /// Connected as the product role, with no rights on `idp`.
    pub product: Client,
    /// How to connect as the product role (holds its fresh password: keep
    /// it in memory, never print it).
    pub product_config: postgres::Config,
}

/// Sets up the database at `admin_url` (a role that may create schemas and
/// roles) and returns a connection as `product_role`.
///
/// 1. as the IDP: its tables and seed (in real life: the IDP's migrations);
/// 2. the views package (`idpviews::apply`: locked, idempotent);
/// 3. as the operator: the product role (random password, LOGIN), its
///    schema, and the grants from `idpviews::grants_sql`;
/// 4. as the product role: its tables and seed (its own migrations).
pub fn prepare(admin_url: &str, product_role: &str) -> Result<Prepared, SetupError> {
    // idpviews::connect: connect timeout and keepalives, the whole handshake bounded
    let mut admin = idpviews::connect_url(admin_url).map_err(step("connect as admin"))?;
    admin
        .batch_execute(IDP_TABLES_SQL)
        .map_err(step("create the IDP tables"))?;
    admin
        .batch_execute(IDP_SEED_SQL)
        .map_err(step("seed the IDP"))?;
    let applied = idpviews::apply(&mut admin, idp::package()).map_err(step("apply the views"))?;

    let password = random_password();
    let role = quote_ident(product_role);
    // The role is the operator's to create; the password never lands in a file.
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN
               CREATE ROLE {role} LOGIN;
             EXCEPTION WHEN duplicate_object THEN NULL;
             END $$;
             ALTER ROLE {role} LOGIN PASSWORD '{password}';
             CREATE SCHEMA IF NOT EXISTS \"{PRODUCT_SCHEMA}\" AUTHORIZATION {role};"
        ))
        .map_err(step("create the product role"))?;
    let grants = idpviews::grants_sql(&idp::package().manifest, product_role, PRODUCT_SCHEMA)
        .map_err(step("render the grants"))?;
    admin
        .batch_execute(&grants)
        .map_err(step("grant the product role"))?;

    let mut config: postgres::Config = admin_url.parse().map_err(step("parse the URL"))?;
    config.user(product_role).password(password.as_str());
    let mut product = idpviews::connect(&config).map_err(step("connect as the product role"))?;
    product
        .batch_execute(PRODUCT_TABLES_SQL)
        .map_err(step("create the product tables"))?;
    product
        .batch_execute(PRODUCT_SEED_SQL)
        .map_err(step("seed the product"))?;
    Ok(Prepared {
        applied,
        grants,
        product,
        product_config: config,
    })
}

/// 32 hex characters from the OS's randomness (std's hasher keys).
fn random_password() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}
