//! queue_pc as a user runs it: the Python script's line, its flags, its exit codes.
//!
//! What every exercise does alike (the variants, default count and help line the catalogue
//! gives it, bad flags, a closed or full stdout) is checked for all of them in
//! `xtask/tests/catalog.rs`.

use timing::testing::{run, seconds_in};

const EXE: &str = env!("CARGO_BIN_EXE_queue_pc");

#[test]
fn prints_the_line_of_the_python_script_for_every_variant_and_flavor() {
    for variant in catalog::exercise("queue_pc").variant_names() {
        for flavor in ["current", "multi"] {
            let ran = run(
                EXE,
                &["--variant", variant, "--flavor", flavor, "--tasks", "5000"],
            );
            assert_eq!(ran.code, Some(0), "{ran:?}");
            assert_eq!(ran.stdout.len(), 1, "{ran:?}");
            let took = seconds_in(
                &ran.stdout[0],
                "Passed 5000 items through Queue(maxsize=100) in ",
                "s",
            );
            assert!(took > 0.0, "{ran:?}");
        }
    }
}
