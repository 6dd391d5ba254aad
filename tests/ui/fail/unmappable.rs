// `inet` and `point` columns: no supported Rust type decodes them.
mod idp {
    idpviews::include_views!(path = "../fixtures/unmappable");
}

fn main() {
    // The rest of the view is still generated: no cascade of errors here.
    let d = idp::IdpDevice { id: 1 };
    let _ = idp::IdpDevice::SELECT;
    let _ = d;
}
