// Every generated item of the basic fixture, used the way a service uses them.
mod idp {
    idpviews::include_views!(path = "../fixtures/basic");
}

use idp::{IdpSample, IdpUser, UserStatus, UserType};

fn takes_row<T: idpviews::FromRow + for<'a> TryFrom<&'a postgres::Row>>() {}

fn main() {
    takes_row::<IdpUser>();
    takes_row::<IdpSample>();
    let _: &'static idpviews::Package = idp::package();
    let _: &str = IdpUser::SELECT;
    let _: String = IdpUser::select_list_as("u", "u__");
    let s: IdpSample = IdpSample {
        id: 1,
        small: Some(1i16),
        big: Some(1i64),
        ratio: Some(1f64),
        approx: Some(1f32),
        amount: Some(rust_decimal::Decimal::ONE),
        flag: Some(true),
        created_at: None::<chrono::NaiveDateTime>,
        seen_at: None::<chrono::DateTime<chrono::Utc>>,
        day: None::<chrono::NaiveDate>,
        clock: None::<chrono::NaiveTime>,
        data: Some(serde_json::Value::Null),
        plain_json: None,
        blob: Some(Vec::<u8>::new()),
        code: Some(String::new()),
        label: None,
        r#ref: Some(uuid::Uuid::nil()),
        r#type: None,
        tags: Vec::<String>::new(),
        scores: Vec::<i32>::new(),
        kind: Some(UserType::Unknown("NEW".into())),
    };
    let _ = s.clone() == s;
    let status: UserStatus = "active".parse().unwrap();
    assert_eq!(status, UserStatus::Active);
    assert_eq!(format!("{:?}", UserType::Driver), "Driver");
}
