//! ex_2_2 as a user runs it: its flags. (Its lines, which take 1 s of real sleeping, are
//! checked by the unit test under a paused clock.)

use timing::testing::{assert_usage_error, run};

const EXE: &str = env!("CARGO_BIN_EXE_ex_2_2");

#[test]
fn bad_flags_get_one_line_and_exit_code_2() {
    assert_usage_error(
        &run(EXE, &["--variant", "run"]),
        "ex_2_2: unknown variant 'run'",
        "runner",
    );
    assert_usage_error(
        &run(EXE, &["--flavor"]),
        "ex_2_2: --flavor needs a value",
        "current or multi",
    );
}
