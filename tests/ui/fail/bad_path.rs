mod idp {
    idpviews::include_views!(path = "../fixtures/nope");
}

mod other {
    idpviews::include_views!(dir = "../fixtures/basic");
}

#[idpviews::row(path = "../fixtures/basic")]
struct NoView {
    id: uuid::Uuid,
}

fn main() {}
