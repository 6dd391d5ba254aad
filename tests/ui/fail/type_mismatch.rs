#[idpviews::row(view = "IdpUser", path = "../fixtures/basic")]
struct Contact {
    id: String,
    first_name: i32,
    user_types: Vec<i32>,
    created_at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
