// `password` exists in the IDP's `User` model but the allowlist does not expose it.
#[idpviews::row(view = "IdpUser", path = "../fixtures/basic")]
struct Login {
    email: Option<String>,
    password: String,
}

fn main() {}
