//! The catalogue's own consistency: every variant it names is one it has, families and caps
//! as the report reads them. (Whether the binaries, scripts and README agree with it:
//! `xtask/tests/catalog.rs`.)

use catalog::{ALL, Family, QUADRATIC_MAX_TASKS, find};

#[test]
fn no_exercise_names_a_variant_capped_for_its_growth_as_idiomatic() {
    for ex in ALL {
        if let Some(idiomatic) = ex.idiomatic {
            let v = ex.variant(idiomatic).expect("the idiomatic variant exists");
            assert_eq!(v.max_tasks, None, "{}: {idiomatic} is a pitfall", ex.name);
        }
    }
}

#[test]
fn eager_start_names_variants_the_exercise_and_its_script_have() {
    let mut compared = Vec::new();
    for ex in ALL {
        let Some(e) = ex.eager_start else { continue };
        for name in [e.eager, e.scheduled] {
            assert!(ex.variant(name).is_some(), "{}: {name}", ex.name);
        }
        if let Some(name) = e.script_scheduled {
            assert!(ex.script_variant(name).is_some(), "{}: {name}", ex.name);
        }
        compared.push(ex.name);
    }
    assert_eq!(compared, ["ex_6_1", "suspend_once"]);
    let row = |ex: &str, variant: &str| {
        find(ex)
            .and_then(|e| e.script_variant_of_row(variant))
            .map(|v| v.name)
    };
    assert_eq!(row("suspend_once", "asyncio_scheduled"), Some("scheduled"));
    assert_eq!(row("suspend_once", "asyncio_gather"), Some("gather"));
    assert_eq!(row("suspend_once", "asyncio"), None, "the default's row");
    assert_eq!(row("suspend_once", "uvloop"), None);
    assert_eq!(row("ex_6_1", "asyncio_scheduled"), Some("scheduled"));
    assert_eq!(
        row("ex_6_2", "asyncio_scheduled"),
        None,
        "a script with one way to run"
    );
}

#[test]
fn every_variant_named_in_an_exercise_is_one_of_its_variants() {
    for e in ALL {
        let named = [e.reference]
            .into_iter()
            .chain(e.idiomatic)
            .chain(e.entry_variants.iter().copied())
            .chain(e.latency_variants.iter().copied());
        for name in named {
            assert!(e.variant(name).is_some(), "{}: {name}", e.name);
        }
    }
}

#[test]
fn floors_and_the_rust_peers_are_in_their_families() {
    for e in ALL {
        for v in e.variants {
            assert_eq!(
                v.name == "floor",
                v.family == Family::Floor,
                "{}:{}",
                e.name,
                v.name
            );
        }
    }
    let family = |ex: &str, v: &str| find(ex).and_then(|e| e.variant(v)).map(|v| v.family);
    for (ex, v) in [
        ("ex_6_1", "joinset"),
        ("ex_6_1", "tracker"),
        ("ex_6_2", "join_handles"),
        ("ex_6_2", "futures_unordered"),
        ("ex_6_2", "join_handles_unconstrained"),
        ("suspend_once", "tracker"),
        ("suspend_once", "joinset"),
        ("suspend_once", "futures_unordered"),
    ] {
        assert_eq!(family(ex, v), Some(Family::Peer), "{ex}:{v}");
    }
    assert_eq!(family("ex_6_1", "bare_spawn"), Some(Family::Tokio));
    assert_eq!(family("suspend_once", "bare_spawn"), Some(Family::Tokio));
    assert_eq!(family("ex_6_2", "spawn_gather"), Some(Family::Tokio));
    assert_eq!(family("ex_6_1", "spawn"), Some(Family::Project));
    assert_eq!(family("suspend_once", "scheduled"), Some(Family::Project));
    assert_eq!(family("suspend_once", "eager"), Some(Family::Project));
}

#[test]
fn capped_variants_run_at_most_their_cap_and_others_as_asked() {
    let ex_6_2 = find("ex_6_2").expect("ex_6_2");
    let cap = QUADRATIC_MAX_TASKS;
    for quadratic in ["join_handles", "futures_unordered"] {
        assert_eq!(
            ex_6_2.capped_tasks(quadratic, None),
            Some(cap),
            "the default"
        );
        assert_eq!(
            ex_6_2.capped_tasks(quadratic, Some(100_000)),
            Some(cap),
            "--quick"
        );
        assert_eq!(ex_6_2.capped_tasks(quadratic, Some(1_000)), Some(1_000));
    }
    assert_eq!(
        ex_6_2.capped_tasks("join_handles_unconstrained", None),
        Some(1_000_000)
    );
    assert_eq!(
        ex_6_2.capped_tasks("spawn_gather", Some(100_000)),
        Some(100_000)
    );
    // No count applies: none is made up, whatever was asked.
    let ex_6_4 = find("ex_6_4").expect("ex_6_4");
    assert_eq!(ex_6_4.capped_tasks("shutdown", Some(10)), None);
}

#[test]
fn loop_incompatibilities_name_exercises_of_the_catalogue() {
    for k in catalog::LOOP_INCOMPATIBILITIES {
        assert!(!k.exercises.is_empty(), "{}: names no exercise", k.error);
        for name in k.exercises {
            let ex = find(name).expect("an exercise of the catalogue");
            assert!(k.python.0 < k.python.1, "{name}: an empty range");
            assert!(ex.loop_incompatibilities().any(|o| o.error == k.error));
        }
    }
    assert_eq!(
        find("ex_6_2").map(|e| e.loop_incompatibilities().count()),
        Some(0)
    );
}

/// uvloop on 3.13 fails the eager task factory itself: every script whose default runs it (its
/// `eager_start` names a script variant without it) is known to fail there, not only ex_6_1.
#[test]
fn every_script_with_the_eager_factory_by_default_is_known_to_fail_on_uvloop_313() {
    let eager_start = catalog::LOOP_INCOMPATIBILITIES
        .iter()
        .find(|k| k.error.contains("eager_start"))
        .expect("uvloop's eager_start incompatibility");
    let by_default: Vec<&str> = catalog::ALL
        .iter()
        .filter(|ex| ex.eager_start.is_some_and(|e| e.script_scheduled.is_some()))
        .map(|ex| ex.name)
        .collect();
    assert_eq!(by_default, ["ex_6_1", "suspend_once"]);
    assert_eq!(eager_start.exercises, by_default.as_slice());
}

#[test]
fn bytes_a_task_are_only_where_a_count_applies() {
    for ex in ALL {
        for v in ex.variants {
            if v.bytes_per_task.is_some() {
                assert!(ex.default_tasks.is_some(), "{}:{}", ex.name, v.name);
            }
        }
    }
    assert_eq!(catalog::bytes_per_task("suspend_once", "polled"), Some(85));
    assert_eq!(catalog::bytes_per_task("ex_6_3", "try_id"), None);
}
