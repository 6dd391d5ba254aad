// One wrong field: one error, and code using the struct still type-checks.
use idpviews::FromRow;

#[idpviews::row(view = "IdpUser", path = "../fixtures/basic")]
struct Contact {
    id: uuid::Uuid,
    nickname: String,
}

fn names(rows: &[postgres::Row]) -> Vec<String> {
    rows.iter()
        .filter_map(|r| Contact::from_row(r).ok())
        .map(|c| c.nickname)
        .collect()
}

fn main() {
    let _ = Contact::SELECT;
    let _ = Contact::select_list_as("u", "u__");
    let _ = names(&[]);
}
