// `#[idpviews::row]` needs a plain struct with named fields.
#[idpviews::row(view = "IdpUser", path = "../fixtures/basic")]
struct Tuple(uuid::Uuid);

#[idpviews::row(view = "IdpUser", path = "../fixtures/basic")]
struct Generic<T> {
    id: T,
}

#[idpviews::row(view = "IdpUser", path = "../fixtures/basic", color = "red")]
struct Extra {
    id: uuid::Uuid,
}

#[idpviews::row(view = "IdpUser", path = "../fixtures/basic")]
struct Twice {
    id: uuid::Uuid,
    #[idpviews(field = "id")]
    again: uuid::Uuid,
}

fn main() {
    let _ = Tuple::SELECT;
    let _ = Generic::<u8>::SELECT;
    let _ = Extra::SELECT;
    let _ = Twice::SELECT;
}
