#[idpviews::row(view = "IdpUsr", path = "../fixtures/basic")]
struct Contact {
    id: uuid::Uuid,
}

fn main() {
    let _ = Contact::SELECT;
}
