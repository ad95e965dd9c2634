//! The exercises the project has, as the runner knows them.

/// One exercise binary.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    pub name: &'static str,
    /// Variants; the first is the default.
    pub variants: &'static [&'static str],
    /// The exit code a successful run ends with: `ex_6_4` ends, like its Python original, with
    /// the `QueueShutDown` error and code 1.
    pub expected_exit: i32,
}

pub const ALL: &[Exercise] = &[
    Exercise {
        name: "ex_6_1",
        variants: &["eager", "spawn"],
        expected_exit: 0,
    },
    Exercise {
        name: "ex_6_2",
        variants: &["join_all", "spawn_gather"],
        expected_exit: 0,
    },
    Exercise {
        name: "ex_6_3",
        variants: &["try_id"],
        expected_exit: 0,
    },
    Exercise {
        name: "ex_6_4",
        variants: &["shutdown"],
        expected_exit: 1,
    },
];
