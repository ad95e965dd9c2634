//! ex_2_7 as a user runs it: its flags. (Its lines, which take 3 s of real sleeping, are
//! checked by the unit test under a paused clock.)
//!
//! What every exercise does alike (the variants, default count and help line the catalogue
//! gives it, a closed or full stdout) is checked for all of them in `xtask/tests/catalog.rs`.

use timing::harness_checks::assert_bad_flags_refused;

const EXE: &str = env!("CARGO_BIN_EXE_ex_2_7");

#[test]
fn bad_flags_get_one_line_and_exit_code_2() {
    assert_bad_flags_refused(EXE, catalog::exercise("ex_2_7"));
}
