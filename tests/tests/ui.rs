//! Compile-time behaviour of `include_views!` and `#[idpviews::row]`:
//! pass cases compile and run; fail cases must produce exactly the
//! committed `.stderr` (bless with `TRYBUILD=overwrite`; the toolchain is
//! pinned in `rust-toolchain.toml` because rustc's output changes).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
