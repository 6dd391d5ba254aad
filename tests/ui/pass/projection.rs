// `#[idpviews::row]` projections: matching types, `Option` for nullable
// columns, enums as the generated enum or as `String`, renamed fields,
// keyword fields, and JOIN decoding helpers.
mod idp {
    idpviews::include_views!(path = "../fixtures/basic");
}

use idpviews::{FromRow, Prefixed};

#[idpviews::row(view = "IdpUser", path = "../fixtures/basic")]
pub struct Contact {
    pub id: uuid::Uuid,
    pub first_name: String,
    pub email: Option<String>,
    pub user_types: Vec<idp::UserType>,
    pub status: String,
    #[idpviews(field = "mobileNumber")]
    pub phone: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

#[idpviews::row(view = "IdpSample", path = "../fixtures/basic")]
struct Sample {
    id: i32,
    r#type: Option<String>,
    amount: Option<rust_decimal::Decimal>,
    seen_at: Option<chrono::DateTime<chrono::Utc>>,
    blob: Option<Vec<u8>>,
    scores: Vec<i32>,
    data: Option<serde_json::Value>,
    kind: Option<idp::UserType>,
}

fn decode_join(
    rows: &[postgres::Row],
) -> Result<Vec<(Contact, idp::IdpTenant)>, idpviews::RowError> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let users = Prefixed::<Contact>::new(first.columns(), "u__")?;
    let tenants = idp::IdpTenant::prefixed(first.columns(), "t__")?;
    rows.iter()
        .map(|r| Ok((users.decode(r)?, tenants.decode(r)?)))
        .collect()
}

fn main() {
    assert_eq!(
        Contact::SELECT,
        r#"SELECT "id", "first_name", "email", "userTypes", "status", "mobileNumber", "createdAt" FROM "idp_views"."IdpUser""#
    );
    assert_eq!(<Sample as FromRow>::COLUMNS[1], "type");
    let _ = Sample::select_list_as("s", "s__");
    let _ = decode_join(&[]);
}
