//! The proof of concept's six cross-schema queries, written against the
//! generated view types. Product tables are joined to `idp_views` views; the
//! IDP side of each row decodes into `idp::IdpUser` (or a checked
//! projection of it), so a column the IDP stops exposing breaks the build,
//! not production.

use crate::idp::{IdpUser, UserType};
use chrono::NaiveDateTime;
use idpviews::{Prefixed, RowError};
use postgres::{GenericClient, Row};
use rust_decimal::Decimal;
use std::fmt;
use uuid::Uuid;

/// A row of `fuel_logistics.drivers` (the product's own table).
#[derive(Debug, Clone, PartialEq)]
pub struct Driver {
    pub id: Uuid,
    pub idp_user_id: Uuid,
    pub license_number: String,
    pub vehicle_plate: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A row of `fuel_logistics.orders`.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub driver_id: Uuid,
    pub litres: Decimal,
    pub status: String,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Query 1-3: a driver with its IDP user (`include: { idpUser: true }`).
#[derive(Debug, Clone, PartialEq)]
pub struct DriverWithUser {
    pub driver: Driver,
    pub user: IdpUser,
}

/// Query 4: driver + IDP user + orders (a 3-way nested include).
#[derive(Debug, Clone, PartialEq)]
pub struct DriverWithOrders {
    pub driver: Driver,
    pub user: IdpUser,
    pub orders: Vec<Order>,
}

/// Query 6 selects only the user's name (`include: { idpUser: { select:
/// { firstName: true, lastName: true } } }`): a projection checked against
/// the view at compile time.
#[idpviews::row(view = "IdpUser")]
#[derive(Debug, Clone, PartialEq)]
pub struct UserName {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Query 6: one page of drivers and the total count.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub skip: i64,
    pub take: i64,
    pub total: i64,
    pub items: Vec<(Driver, UserName)>,
}

/// Query 5: how the database refused a write through a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRejected {
    /// SQLSTATE, e.g. `42501` (no privilege) or `25006` (read-only trigger).
    pub code: String,
    pub message: String,
}

/// A query failed: the database said no, or a row did not decode.
#[derive(Debug)]
pub enum QueryError {
    Db(postgres::Error),
    Row(RowError),
    /// Query 5 expected the database to refuse the write, and it did not.
    WriteAccepted(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Db(e) => write!(f, "{}", idpviews::error_chain(e)),
            QueryError::Row(e) => write!(f, "cannot decode a row: {e}"),
            QueryError::WriteAccepted(sql) => {
                write!(f, "the database accepted a write through a view: {sql}")
            }
        }
    }
}

impl std::error::Error for QueryError {}

impl From<postgres::Error> for QueryError {
    fn from(e: postgres::Error) -> Self {
        QueryError::Db(e)
    }
}

impl From<RowError> for QueryError {
    fn from(e: RowError) -> Self {
        QueryError::Row(e)
    }
}

pub(crate) const DRIVER_COLUMNS: &str = r#"d."id" AS "d__id", d."idp_user_id" AS "d__idp_user_id",
  d."license_number" AS "d__license_number", d."vehicle_plate" AS "d__vehicle_plate",
  d."created_at" AS "d__created_at""#;

impl Driver {
    fn from_row(row: &Row) -> Result<Driver, postgres::Error> {
        Ok(Driver {
            id: row.try_get("d__id")?,
            idp_user_id: row.try_get("d__idp_user_id")?,
            license_number: row.try_get("d__license_number")?,
            vehicle_plate: row.try_get("d__vehicle_plate")?,
            created_at: row.try_get("d__created_at")?,
        })
    }
}

impl Order {
    fn from_row(row: &Row) -> Result<Option<Order>, postgres::Error> {
        let Some(id) = row.try_get::<_, Option<Uuid>>("o__id")? else {
            return Ok(None); // LEFT JOIN: a driver without orders
        };
        Ok(Some(Order {
            id,
            driver_id: row.try_get("o__driver_id")?,
            litres: row.try_get("o__litres")?,
            status: row.try_get("o__status")?,
            delivered_at: row.try_get("o__delivered_at")?,
            created_at: row.try_get("o__created_at")?,
        }))
    }
}

/// `SELECT <driver>, <user> FROM drivers d JOIN idp_views."IdpUser" u ...`
/// plus `tail` (WHERE / ORDER BY).
pub(crate) fn drivers_with_users_sql(tail: &str) -> String {
    format!(
        "SELECT {DRIVER_COLUMNS}, {users}
         FROM \"fuel_logistics\".\"drivers\" d
         JOIN {view} u ON u.\"id\" = d.\"idp_user_id\"
         {tail}",
        users = IdpUser::select_list_as("u", "u__"),
        view = IdpUser::FROM,
    )
}

fn decode_drivers_with_users(rows: &[Row]) -> Result<Vec<DriverWithUser>, QueryError> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let users = Prefixed::<IdpUser>::new(first.columns(), "u__")?;
    rows.iter()
        .map(|row| {
            Ok(DriverWithUser {
                driver: Driver::from_row(row)?,
                user: users.decode(row)?,
            })
        })
        .collect()
}

/// Query 1: every driver with its IDP user.
pub fn list_drivers(client: &mut impl GenericClient) -> Result<Vec<DriverWithUser>, QueryError> {
    let sql = drivers_with_users_sql("ORDER BY d.\"created_at\", d.\"id\"");
    decode_drivers_with_users(&client.query(&sql, &[])?)
}

/// Query 2: drivers whose IDP first name contains `needle`, ignoring case
/// (Prisma's `contains` with `mode: 'insensitive'`; `%` and `_` in the
/// needle match themselves).
pub fn search_drivers_by_first_name(
    client: &mut impl GenericClient,
    needle: &str,
) -> Result<Vec<DriverWithUser>, QueryError> {
    let pattern = format!("%{}%", escape_like(needle));
    let sql = drivers_with_users_sql(
        "WHERE u.\"first_name\" ILIKE $1 ESCAPE '\\' ORDER BY d.\"created_at\", d.\"id\"",
    );
    decode_drivers_with_users(&client.query(&sql, &[&pattern])?)
}

/// Query 3: drivers whose IDP user belongs to `tenant_id`.
pub fn drivers_in_tenant(
    client: &mut impl GenericClient,
    tenant_id: Uuid,
) -> Result<Vec<DriverWithUser>, QueryError> {
    let sql =
        drivers_with_users_sql("WHERE u.\"tenant_id\" = $1 ORDER BY d.\"created_at\", d.\"id\"");
    decode_drivers_with_users(&client.query(&sql, &[&tenant_id])?)
}

/// Query 4: every driver with its IDP user and its orders, in one round trip.
pub fn drivers_with_orders(
    client: &mut impl GenericClient,
) -> Result<Vec<DriverWithOrders>, QueryError> {
    let sql = format!(
        "SELECT {DRIVER_COLUMNS}, {users},
                o.\"id\" AS \"o__id\", o.\"driver_id\" AS \"o__driver_id\", o.\"litres\" AS \"o__litres\",
                o.\"status\" AS \"o__status\", o.\"delivered_at\" AS \"o__delivered_at\",
                o.\"created_at\" AS \"o__created_at\"
         FROM \"fuel_logistics\".\"drivers\" d
         JOIN {view} u ON u.\"id\" = d.\"idp_user_id\"
         LEFT JOIN \"fuel_logistics\".\"orders\" o ON o.\"driver_id\" = d.\"id\"
         ORDER BY d.\"created_at\", d.\"id\", o.\"created_at\", o.\"id\"",
        users = IdpUser::select_list_as("u", "u__"),
        view = IdpUser::FROM,
    );
    let rows = client.query(&sql, &[])?;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let users = Prefixed::<IdpUser>::new(first.columns(), "u__")?;
    let mut out: Vec<DriverWithOrders> = Vec::new();
    for row in &rows {
        let driver = Driver::from_row(row)?;
        if out.last().map(|d| d.driver.id) != Some(driver.id) {
            out.push(DriverWithOrders {
                driver,
                user: users.decode(row)?,
                orders: Vec::new(),
            });
        }
        if let (Some(order), Some(last)) = (Order::from_row(row)?, out.last_mut()) {
            last.orders.push(order);
        }
    }
    Ok(out)
}

/// Query 5: a write through a view must be refused by the database itself; runs
/// the UPDATE in a transaction that is rolled back whatever happens.
pub fn try_write_through_view(
    client: &mut impl GenericClient,
) -> Result<WriteRejected, QueryError> {
    let sql = format!(
        "UPDATE {} SET \"first_name\" = 'Mallory' WHERE \"first_name\" = 'Mohammed'",
        IdpUser::FROM
    );
    let mut tx = client.transaction()?;
    let result = tx.execute(&sql, &[]);
    tx.rollback()?;
    match result {
        Ok(_) => Err(QueryError::WriteAccepted(sql)),
        Err(e) => match e.as_db_error() {
            Some(db) => Ok(WriteRejected {
                code: db.code().code().to_string(),
                message: db.message().to_string(),
            }),
            None => Err(QueryError::Db(e)),
        },
    }
}

/// Query 6: page `skip/take` of drivers (ordered by creation) with their IDP
/// user's name, and the total count, from one consistent snapshot.
pub fn page_of_drivers(
    client: &mut impl GenericClient,
    skip: i64,
    take: i64,
) -> Result<Page, QueryError> {
    let mut tx = client.transaction()?;
    tx.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
    let total: i64 = tx
        .query_one(
            &format!(
                "SELECT count(*) FROM \"fuel_logistics\".\"drivers\" d
                 JOIN {} u ON u.\"id\" = d.\"idp_user_id\"",
                IdpUser::FROM
            ),
            &[],
        )?
        .get(0);
    let sql = format!(
        "SELECT {DRIVER_COLUMNS}, {names}
         FROM \"fuel_logistics\".\"drivers\" d
         JOIN {view} u ON u.\"id\" = d.\"idp_user_id\"
         ORDER BY d.\"created_at\", d.\"id\"
         OFFSET $1 LIMIT $2",
        names = UserName::select_list_as("u", "u__"),
        view = IdpUser::FROM,
    );
    let rows = tx.query(&sql, &[&skip, &take])?;
    tx.commit()?;
    let mut items = Vec::with_capacity(rows.len());
    if let Some(first) = rows.first() {
        let names = Prefixed::<UserName>::new(first.columns(), "u__")?;
        for row in &rows {
            items.push((Driver::from_row(row)?, names.decode(row)?));
        }
    }
    Ok(Page {
        skip,
        take,
        total,
        items,
    })
}

/// Escapes `\`, `%` and `_` for a LIKE pattern with `ESCAPE '\'`.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The user's types as their Prisma names (`DRIVER, DISPATCHER`); a type the
/// IDP added after this build shows as its database label.
pub fn user_types(types: &[UserType]) -> String {
    types
        .iter()
        .map(|t| t.as_str().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(escape_like("Moh"), "Moh");
    }
}
