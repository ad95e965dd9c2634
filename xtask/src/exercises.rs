//! The exercises the project has, as the runner knows them: the catalogue
//! (`crates/catalog`, re-exported here), and what `run` and `sweep` do with it:
//! reading a selection, refusing a count that cannot fit in memory.

pub use catalog::{
    ALL, EagerStart, Exercise, Family, QUADRATIC_MAX_TASKS, ScriptVariant, Variant, find,
};
use timing::cli::Measure;
use timing::memory;

use crate::UsageError;

/// Reads `exercise[:variant]` selections; none means every exercise with every variant.
pub fn select(specs: &[String]) -> Result<Vec<(&'static Exercise, &'static str)>, UsageError> {
    if specs.is_empty() {
        return Ok(ALL
            .iter()
            .flat_map(|e| e.variant_names().map(move |v| (e, v)))
            .collect());
    }
    let mut chosen = Vec::new();
    for spec in specs {
        let (name, variant) = match spec.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (spec.as_str(), None),
        };
        let Some(ex) = find(name) else {
            let valid: Vec<_> = ALL.iter().map(|e| e.name).collect();
            return Err(UsageError(format!(
                "unknown exercise '{name}'; valid exercises: {}",
                valid.join(", ")
            )));
        };
        let variants: Vec<&'static str> = match variant {
            None => ex.variant_names().collect(),
            Some(v) => match ex.variant_names().find(|n| *n == v) {
                Some(found) => vec![found],
                None => {
                    let valid: Vec<_> = ex.variant_names().collect();
                    return Err(UsageError(format!(
                        "unknown variant '{v}' of {name}; valid variants: {}",
                        valid.join(", ")
                    )));
                }
            },
        };
        for v in variants {
            if !chosen
                .iter()
                .any(|(e, cv): &(&Exercise, &str)| e.name == ex.name && *cv == v)
            {
                chosen.push((ex, v));
            }
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(specs: &[&str]) -> Result<Vec<String>, UsageError> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        select(&specs).map(|v| {
            v.iter()
                .map(|(e, var)| format!("{}:{var}", e.name))
                .collect()
        })
    }

    #[test]
    fn nothing_selected_means_everything() {
        let all = names(&[]).unwrap();
        assert_eq!(
            all.len(),
            ALL.iter().map(|e| e.variants.len()).sum::<usize>()
        );
        assert_eq!(all[0], "ex_6_1:eager");
    }

    #[test]
    fn a_name_selects_every_variant_and_duplicates_collapse() {
        assert_eq!(
            names(&["ex_6_2", "ex_6_2:join_all", "ex_6_1:spawn"]).unwrap(),
            [
                "ex_6_2:join_all",
                "ex_6_2:spawn_gather",
                "ex_6_2:gather_in_place",
                "ex_6_2:join_handles",
                "ex_6_2:futures_unordered",
                "ex_6_2:join_handles_unconstrained",
                "ex_6_2:floor",
                "ex_6_1:spawn"
            ]
        );
    }

    #[test]
    fn suspend_once_runs_the_binarys_variants_default_first() {
        // The order of the binary's `--help` (crates/exercises/suspend_once): the default first.
        assert_eq!(
            names(&["suspend_once"]).unwrap(),
            [
                "suspend_once:eager",
                "suspend_once:scheduled",
                "suspend_once:polled",
                "suspend_once:polled_eager",
                "suspend_once:bare_spawn",
                "suspend_once:tracker",
                "suspend_once:joinset",
                "suspend_once:futures_unordered",
                "suspend_once:floor"
            ]
        );
        let ex = find("suspend_once").expect("suspend_once");
        assert_eq!(ex.capped_tasks("scheduled", None), Some(1_000_000));
        assert_eq!(ex.python_needs, (3, 12), "the script's default is eager");
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        assert_eq!(
            names(&["ex_9_9"]).unwrap_err().0,
            "unknown exercise 'ex_9_9'; valid exercises: ex_6_1, suspend_once, ex_6_2, ex_6_3, ex_6_4, queue_pc, ex_2_2, ex_2_7, ex_4_4"
        );
        assert_eq!(
            names(&["ex_6_1:lazy"]).unwrap_err().0,
            "unknown variant 'lazy' of ex_6_1; valid variants: eager, spawn, polled_eager, bare_spawn, joinset, tracker, floor"
        );
    }
}

/// The exercises `sweep` covers, in the order its report shows them.
pub const SWEPT: [&str; 3] = ["ex_6_1", "ex_6_2", "ex_6_3"];
/// The largest task count `sweep` runs CPython at (its report says so).
pub const SWEEP_PYTHON_MAX: u64 = 1_000_000;

/// [`check_memory`] against this machine's available memory (`MemAvailable`), as each binary
/// checks its own `--tasks` (the same [`memory::misfit`]); where that cannot be read, no count
/// is refused, by the binaries either.
pub fn check_fits(
    selection: &[(&'static Exercise, &'static str)],
    counts: &[Option<u64>],
    latency_rows: bool,
) -> Result<(), UsageError> {
    match memory::available_bytes() {
        Some(available) => check_memory(selection, counts, latency_rows, available),
        None => Ok(()),
    }
}

/// Refuses, before anything is built, a task count whose estimated memory (bytes per task as
/// the sweep measured them, with the exercises' own margin) does not fit in `available` bytes,
/// for any selected variant run with that count (`tasks`, or the exercise's default), its
/// start-latency row included where `latency_rows` says they run. Names the largest count
/// that fits.
pub fn check_memory(
    selection: &[(&'static Exercise, &'static str)],
    counts: &[Option<u64>],
    latency_rows: bool,
    available: u64,
) -> Result<(), UsageError> {
    for &(exercise, variant) in selection {
        if exercise.default_tasks.is_none() {
            continue; // no count applies
        }
        let measure = if latency_rows && exercise.latency_variants.contains(&variant) {
            Measure::StartLatency
        } else {
            Measure::Throughput
        };
        for n in counts.iter().filter_map(|n| n.or(exercise.default_tasks)) {
            if let Some(why) = memory::misfit(
                exercise.name,
                variant,
                measure == Measure::StartLatency,
                n,
                available,
            ) {
                return Err(UsageError(format!("{}: {why}", exercise.name)));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod memory_tests {
    use super::*;

    #[test]
    fn counts_that_fit_pass_and_others_name_the_largest_that_fits() {
        let ex_6_1 = find("ex_6_1").expect("ex_6_1");
        let spawn = [(ex_6_1, "spawn")];
        let floor = [(ex_6_1, "floor")];
        let gib = 1u64 << 30;
        assert!(check_memory(&spawn, &[Some(1_000_000)], true, 8 * gib).is_ok());
        assert!(
            check_memory(&spawn, &[None], true, 8 * gib).is_ok(),
            "the default count"
        );
        let refused = check_memory(&spawn, &[Some(1_000_000_000)], true, 8 * gib).unwrap_err();
        let largest =
            memory::largest_fitting(memory::bytes_per_task("ex_6_1", "spawn", true), 8 * gib);
        assert!(
            refused
                .0
                .ends_with(&format!("the largest count that fits is {largest}")),
            "{refused}"
        );
        // What holds nothing per task is never refused.
        assert!(check_memory(&floor, &[Some(1_000_000_000)], true, 0).is_ok());
    }
}
