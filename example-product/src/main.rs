//! `cargo run -p example-product`: the whole flow against a real database.
//!
//! Uses `DATABASE_URL` when set; otherwise the local server at
//! 127.0.0.1:5432 (database `viero_platform`, created if missing), else a
//! throwaway cluster from the machine's PostgreSQL binaries. Idempotent:
//! running it twice gives the same output.

use example_product::idp::{self, IdpUser};
use example_product::setup;
use example_product::{queries, table};
use std::process::ExitCode;
use uuid::Uuid;

/// The product's database role (least privilege: no rights on `idp`).
const PRODUCT_ROLE: &str = "fuel_app";
const DATABASE: &str = "viero_platform";
const GULF_FUEL: Uuid = Uuid::from_u128(0x0190a000_0000_7000_8000_000000000001);

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
    let admin_url = database_url()?;
    println!("database: {}", idpviews_testdb::redact(&admin_url));

    section("Set up: IDP tables + seed, views, product role + grants, product tables + seed");
    let setup::Prepared {
        applied,
        grants,
        product: mut client,
        ..
    } = setup::prepare(&admin_url, PRODUCT_ROLE)?;
    show(&applied);
    println!(
        "granted role {PRODUCT_ROLE} ({} statements); now connected as {PRODUCT_ROLE}",
        grants.matches(';').count()
    );

    section("Verify the database against the views this binary was compiled with");
    let report = idpviews::verify(&mut client, idp::package())?;
    show(&report);
    if !report.is_ok() {
        return Err("the database does not match the compiled views".into());
    }

    section("1. Drivers with their IDP user  (include: { idpUser: true })");
    let drivers = queries::list_drivers(&mut client)?;
    print!("{}", drivers_table(&drivers));

    section("2. Search drivers by IDP first name: contains \"moham\", case-insensitive");
    print!(
        "{}",
        drivers_table(&queries::search_drivers_by_first_name(
            &mut client,
            "moham"
        )?)
    );

    section("3. Drivers of tenant Gulf Fuel Co");
    print!(
        "{}",
        drivers_table(&queries::drivers_in_tenant(&mut client, GULF_FUEL)?)
    );

    section("4. Driver + IDP user + orders, one round trip");
    let rows: Vec<Vec<String>> = queries::drivers_with_orders(&mut client)?
        .iter()
        .flat_map(|d| {
            d.orders.iter().map(move |o| {
                vec![
                    d.driver.license_number.clone(),
                    name(&d.user),
                    o.litres.to_string(),
                    o.status.clone(),
                    o.created_at.to_string(),
                ]
            })
        })
        .collect();
    print!(
        "{}",
        table::render(&["license", "driver", "litres", "status", "ordered"], &rows)
    );

    section("5. Read-only: a write through a view is rejected by the database");
    let as_product = queries::try_write_through_view(&mut client)?;
    println!(
        "as {PRODUCT_ROLE}:   rejected, SQLSTATE {} ({})",
        as_product.code, as_product.message
    );
    let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)?;
    let as_admin = queries::try_write_through_view(&mut admin)?;
    println!(
        "as the admin: rejected, SQLSTATE {} ({})",
        as_admin.code, as_admin.message
    );

    section("6. Pagination: skip 0 / take 2 and skip 2 / take 2, with a total count");
    for skip in [0, 2] {
        let page = queries::page_of_drivers(&mut client, skip, 2)?;
        println!(
            "page skip={} take={} of total={}",
            page.skip, page.take, page.total
        );
        let rows: Vec<Vec<String>> = page
            .items
            .iter()
            .map(|(d, n)| {
                vec![
                    d.license_number.clone(),
                    format!(
                        "{} {}",
                        n.first_name.as_deref().unwrap_or(""),
                        n.last_name.as_deref().unwrap_or("")
                    )
                    .trim()
                    .to_string(),
                ]
            })
            .collect();
        print!("{}", table::render(&["license", "driver"], &rows));
    }

    section("Orphan audit: product rows pointing at IDP rows that do not exist");
    show(&idpviews::audit(&mut client, idp::package())?);
    Ok(())
}

/// Prints a report, ending it with exactly one newline.
fn show(report: &dyn std::fmt::Display) {
    println!("{}", report.to_string().trim_end());
}

fn section(title: &str) {
    println!("\n== {title}");
}

fn name(user: &IdpUser) -> String {
    format!(
        "{} {}",
        user.first_name.as_deref().unwrap_or(""),
        user.last_name.as_deref().unwrap_or("")
    )
    .trim()
    .to_string()
}

fn drivers_table(rows: &[queries::DriverWithUser]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|d| {
            vec![
                d.driver.license_number.clone(),
                name(&d.user),
                d.user.email.clone().unwrap_or_default(),
                queries::user_types(&d.user.user_types),
                d.user.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    table::render(&["license", "driver", "email", "types", "tenant"], &rows)
}

/// `DATABASE_URL`, or database `viero_platform` on the server the test
/// harness would use (created if missing).
fn database_url() -> Result<String, Box<dyn std::error::Error>> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return Ok(url);
    }
    let server = idpviews_testdb::server()?;
    let mut admin = server.connect_admin()?;
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DATABASE])?
        .is_some();
    if !exists {
        admin.batch_execute(&format!("CREATE DATABASE \"{DATABASE}\""))?;
    }
    Ok(with_database(server.admin_url(), DATABASE))
}

/// The admin URL with its database replaced.
fn with_database(admin_url: &str, db: &str) -> String {
    match admin_url.rsplit_once('/') {
        Some((base, rest)) => {
            let query = rest
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            format!("{base}/{db}{query}")
        }
        None => admin_url.to_string(),
    }
}
