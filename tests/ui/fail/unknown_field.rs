#[idpviews::row(view = "IdpUser", path = "../fixtures/basic")]
struct Contact {
    id: uuid::Uuid,
    frist_name: String,
    #[idpviews(field = "mobilNumber")]
    phone: Option<String>,
}

fn main() {}
