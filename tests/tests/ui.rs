//! Compile-time behaviour of `include_views!` and `#[idpviews::row]`:
//! pass cases compile and run; fail cases must produce exactly the
//! committed `.stderr` (bless with `TRYBUILD=overwrite`; the toolchain is
//! pinned in `rust-toolchain.toml` because rustc's output changes).

#[test]
fn ui() {
    // `cargo test` sets OUT_DIR for this package (tests/build.rs generates
    // the golden tests); the ui cases compile as crates without a build
    // script of their own (`ui/fail/no_out_dir.rs`), so they must not see it.
    // One test in this binary: nothing else reads the environment meanwhile.
    std::env::remove_var("OUT_DIR");
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
