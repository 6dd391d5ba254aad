// No build script ran idpviews-build, so there is no `$OUT_DIR/idpviews/`.
mod idp {
    idpviews::include_views!();
}

fn main() {}
