//! Compile-time behaviour of the derive, checked with trybuild.
//!
//! The `.stderr` files were written by rustc 1.95. Another compiler version may word
//! the rustc parts of a message differently. Rewrite them with
//! `TRYBUILD=overwrite cargo test -p auth-tracker-derive --test compiletest`, then read
//! each changed file before keeping it.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
