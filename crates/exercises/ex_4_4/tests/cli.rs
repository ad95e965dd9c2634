//! ex_4_4 as a user runs it: the four lines of the original.
//!
//! What every exercise does alike (the variants, default count and help line the catalogue
//! gives it, bad flags, a closed or full stdout) is checked for all of them in
//! `xtask/tests/catalog.rs`.

use timing::testing::run;

const EXE: &str = env!("CARGO_BIN_EXE_ex_4_4");

#[test]
fn prints_the_barrier_as_python_prints_it() {
    let ran = run(EXE, &[]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert_eq!(ran.stdout.len(), 4, "{ran:?}");
    let states = [
        "[filling, waiters:2/3]>",
        "[draining, waiters:0/3]>",
        "[filling, waiters:0/3]>",
    ];
    for (line, state) in [&ran.stdout[0], &ran.stdout[1], &ran.stdout[3]]
        .into_iter()
        .zip(states)
    {
        let rest = line
            .strip_prefix("<barrier::Barrier object at 0x")
            .expect("a repr");
        assert!(rest.ends_with(&format!(" {state}")), "{line}");
    }
    assert_eq!(ran.stdout[2], "barrier passed");
}
