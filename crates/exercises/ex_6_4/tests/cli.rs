//! ex_6_4 as a user runs it: it fails as the original does.
//!
//! What every exercise does alike (the variants, default count and help line the catalogue
//! gives it, bad flags, a closed or full stdout) is checked for all of them in
//! `xtask/tests/catalog.rs`.

use timing::testing::run;

const EXE: &str = env!("CARGO_BIN_EXE_ex_6_4");

#[test]
fn ends_with_queue_shut_down_on_stderr_and_exit_code_1() {
    let ran = run(EXE, &[]);
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(
        ran.stdout.is_empty(),
        "the original prints nothing on stdout: {ran:?}"
    );
    assert_eq!(
        ran.stderr.trim_end(),
        "Error: QueueShutDown: the queue has been shut down"
    );
}

#[test]
fn json_keeps_the_timing_of_each_failing_run() {
    let dir = std::env::temp_dir().join(format!("ex_6_4-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("r.json");
    let ran = run(EXE, &["--repeat", "4", "--json", path.to_str().unwrap()]);
    assert_eq!(ran.code, Some(1), "{ran:?}");
    let result = timing::TimingResult::read(&path).unwrap();
    assert_eq!(result.samples_ns.len(), 4);
    assert_eq!(result.tasks, None);
    std::fs::remove_dir_all(&dir).unwrap();
}
