//! `cargo run -p example-product --bin sqlx`: the generated view types
//! on a sqlx connection. Sets a fresh database up as `cargo run -p
//! example-product` does (on the server `DATABASE_URL` names, else the local
//! one, else a throwaway cluster; dropped at the end), then, connected
//! through sqlx, applies and verifies the views package (`apply_sqlx` as the
//! admin, `verify_sqlx` as the product role), then as the product role runs
//! query 1 (drivers JOIN their IDP user) and a `query_as` with an enum
//! parameter.

use example_product::idp::{IdpUser, UserType};
use example_product::{queries, setup, sqlx_queries, table};
use sqlx::Connection;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", idpviews::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The setup is the blocking `postgres` one (as in `cargo run -p example-product`),
    // done before the async runtime starts.
    let db = idpviews_testdb::TestDb::try_new()?;
    println!("database: {}", idpviews_testdb::redact(db.url()));
    let role = db.role_name("fuel_app");
    let setup::Prepared {
        product_config,
        product,
        ..
    } = setup::prepare(db.url(), &role)?;
    drop(product);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let admin_config: postgres::Config = db.url().parse()?;
    rt.block_on(queries_through_sqlx(&admin_config, &product_config, &role))
}

async fn queries_through_sqlx(
    admin_config: &postgres::Config,
    product_config: &postgres::Config,
    role: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = sqlx_queries::connect(product_config).await?;
    println!("connected through sqlx as the product role {role}");

    println!("\nThe views package through sqlx: apply_sqlx (admin), verify_sqlx (product role)");
    let mut admin = sqlx_queries::connect(admin_config).await?;
    let (applied, report) = sqlx_queries::apply_and_verify(&mut admin, &mut conn).await?;
    admin.close().await?;
    println!("{applied}{report}");

    println!("\n1. Drivers with their IDP user (sqlx, Prefixed on PgRow)");
    let drivers = sqlx_queries::list_drivers(&mut conn).await?;
    let rows: Vec<Vec<String>> = drivers
        .iter()
        .map(|d| {
            vec![
                d.driver.license_number.clone(),
                name(&d.user),
                queries::user_types(&d.user.user_types),
            ]
        })
        .collect();
    print!("{}", table::render(&["license", "driver", "types"], &rows));

    println!("\nIDP users of type DRIVER (sqlx::query_as::<_, IdpUser>, enum parameter)");
    for user in sqlx_queries::users_of_type(&mut conn, &UserType::Driver).await? {
        println!(
            "  {} <{}>",
            name(&user),
            user.email.as_deref().unwrap_or("-")
        );
    }
    conn.close().await?;
    Ok(())
}

fn name(user: &IdpUser) -> String {
    let parts = [user.first_name.as_deref(), user.last_name.as_deref()];
    parts.into_iter().flatten().collect::<Vec<_>>().join(" ")
}
