#[idpviews::row(view = "IdpUser", path = "../fixtures/basic")]
struct Contact {
    id: Option<uuid::Uuid>,
    email: String,
    mobile_number: Option<String>,
}

fn main() {}
