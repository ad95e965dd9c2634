//! The shapes of the catalogue's facts: an exercise, its variants, its script's variants and
//! the loop libraries known to fail it. The facts themselves are `table.rs`'s.

/// Who wrote the code a variant measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// This project's port: its own crates doing what asyncio does (`taskgroup`, `queue`, …).
    Project,
    /// Plain tokio, none of this project's crates, written the way the port is: the yardstick
    /// for the project's own bookkeeping (`bare_spawn`, `spawn_gather`, `try_id`).
    Tokio,
    /// A Rust peer: what a Rust developer would pick instead of this project's crates
    /// (`JoinSet`, `TaskTracker`, `join_all`, `FuturesUnordered`, `mpsc`).
    Peer,
    /// The least the work can cost: no tasks, no waiting.
    Floor,
}

impl Family {
    /// The family's name in reports and `cargo xtask list`.
    ///
    /// ```
    /// assert_eq!(catalog::Family::Peer.name(), "peer");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Family::Project => "project",
            Family::Tokio => "tokio",
            Family::Peer => "peer",
            Family::Floor => "floor",
        }
    }
}

/// One variant of an exercise: the binary's `--variant` value.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub name: &'static str,
    pub family: Family,
    /// One line: what the variant runs.
    pub about: &'static str,
    /// `run` and `run-all` run it with at most this many tasks, whatever `--tasks` or the
    /// exercise's default says (the row's `tasks` is the count that ran): for variants whose
    /// cost grows faster than the work. `sweep` ignores it and stops such a variant by time.
    pub max_tasks: Option<u64>,
    /// Bytes each task (future, call, item) holds while a run is in flight, as `cargo xtask
    /// sweep` measured peak RSS per added task on the current-thread runtime: a spawned or
    /// scheduled task 323–336 bytes, a `join_all` future 96, a future gathered in place 2; a
    /// spawned task whose handle waits in a `join_all` or `FuturesUnordered` 343–385 (peak RSS
    /// between 10^4 and 10^5 tasks, or 10^5 and 10^6 for `join_handles_unconstrained` and for
    /// `suspend_once`, whose children are all suspended at once). `None`: nothing is held per
    /// task (an eager task that finishes in its first poll, the floors, `try_id`, a bounded
    /// queue). `timing::memory` refuses a count that cannot fit from it.
    pub bytes_per_task: Option<u64>,
}

/// A variant with no cap and nothing held per task; [`Variant::capped`] and
/// [`Variant::holding`] add them.
pub const fn variant(name: &'static str, family: Family, about: &'static str) -> Variant {
    Variant {
        name,
        family,
        about,
        max_tasks: None,
        bytes_per_task: None,
    }
}

impl Variant {
    /// The same variant, run with at most `max_tasks` tasks by `run` and `run-all`.
    pub const fn capped(self, max_tasks: u64) -> Variant {
        Variant {
            max_tasks: Some(max_tasks),
            ..self
        }
    }

    /// The same variant, holding `bytes` per task while it runs.
    pub const fn holding(self, bytes: u64) -> Variant {
        Variant {
            bytes_per_task: Some(bytes),
            ..self
        }
    }
}

/// One exercise binary, with its Python script.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    /// Package, binary and script name: `crates/exercises/<name>`, `scripts/python/<name>.py`.
    pub name: &'static str,
    /// The chapter of the book it belongs with.
    pub chapter: u8,
    /// The book's exercise it ports, as (chapter, number): `ex_6_1` is `(6, 1)`; `None` for an
    /// exercise this project added beside the chapter's (`queue_pc`, `suspend_once`).
    pub listing: Option<(u8, u8)>,
    /// One line for `cargo xtask list` and the report's headings: what the exercise measures.
    pub about: &'static str,
    /// What it shows, as a reader meets it: the README's `## Exercises` table, and the first
    /// line of its `main.rs` (`//! <name>: <shows>.`).
    pub shows: &'static str,
    /// The binary's `--help` line after its name: what it runs, its variants named.
    pub help: &'static str,
    /// The variants; the first is the exercise's default.
    pub variants: &'static [Variant],
    /// The variant every other row of the exercise is compared against.
    pub reference: &'static str,
    /// The variant a Rust developer porting the exercise would most likely write; `None` where
    /// no such row is measured (only the project's port runs).
    pub idiomatic: Option<&'static str>,
    /// The exercise's own `--tasks` default, the binary's and the script's; `None` where no
    /// count applies (then both refuse `--tasks`).
    pub default_tasks: Option<u64>,
    /// The exit code a successful run ends with: `ex_6_4` ends, like its Python original, with
    /// the `QueueShutDown` error and code 1.
    pub expected_exit: i32,
    /// At most this many measured runs, whatever `--iterations` says: for exercises whose time
    /// is a fixed sleep, where more runs only cost seconds.
    pub max_iterations: Option<u32>,
    /// The oldest CPython its script (`scripts/python/<name>.py`) runs on with no `--variant`:
    /// what the script's `needs` says, or the project's floor, 3.10, where it needs nothing
    /// newer (the script then says `_harness.FLOOR`, or nothing).
    pub python_needs: (u32, u32),
    /// Variants that spawn from `main`: also run with `--entry block_on`, to compare spawning
    /// from a worker task with spawning through the runtime's inject queue.
    pub entry_variants: &'static [&'static str],
    /// Variants also run with `--measure start-latency`; the binary takes `--measure` when
    /// there is one ([`Exercise::takes_start_latency`]).
    pub latency_variants: &'static [&'static str],
    /// Its script's `--variant`s besides the default (which [`Exercise::python_needs`] is
    /// for), each a CPython row of its own on the standard loop; empty for a script with one
    /// way to run.
    pub script_variants: &'static [ScriptVariant],
    /// The rows that say what eager start does here; `None` where nothing compares it.
    pub eager_start: Option<EagerStart>,
    /// Every line a run prints, the Python original's and the port's alike, for an exercise
    /// whose output holds no figure; empty for one that prints figures (its lines are checked
    /// by its own tests).
    pub prints: &'static [&'static str],
}

/// A `--variant` of an exercise's Python script other than its default: measured under every
/// interpreter as a row of its own, beside the default's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptVariant {
    /// The script's `--variant` value.
    pub name: &'static str,
    /// One line: what it runs.
    pub about: &'static str,
    /// The oldest Python it runs on.
    pub python_needs: (u32, u32),
}

impl ScriptVariant {
    /// The variant of its row, as the script's `--json` names it on the standard loop with the
    /// collector on: the loop's name, then the script variant's (`asyncio_scheduled`). The
    /// default's row keeps the loop's name alone (`asyncio`).
    pub fn row_variant(&self) -> String {
        format!("asyncio_{}", self.name)
    }
}

/// What eager start is measured by in an exercise: the Rust variant with it, the one without it,
/// and, where the script's default runs the eager task factory, the script variant without it.
#[derive(Debug, Clone, Copy)]
pub struct EagerStart {
    /// What the exercise's children do, as the report says it.
    pub children: &'static str,
    pub eager: &'static str,
    pub scheduled: &'static str,
    /// The [`ScriptVariant`] without the eager task factory; `None` where the script has none.
    pub script_scheduled: Option<&'static str>,
}

/// A failure that comes from a loop library and a Python version, not from the run.
#[derive(Debug, Clone, Copy)]
pub struct Incompatibility {
    /// The loop library, as `--python-loops` names it (`uvloop`).
    pub loop_name: &'static str,
    /// The affected Python versions: from `.0` (inclusive) to `.1` (exclusive), major.minor.
    pub python: ((u32, u32), (u32, u32)),
    /// The exercises whose scripts fail so with no `--variant`.
    pub exercises: &'static [&'static str],
    /// What the failed process' stderr says.
    pub error: &'static str,
    pub reason: &'static str,
}

impl Exercise {
    /// Variant names, default first.
    pub fn variant_names(&self) -> impl Iterator<Item = &'static str> {
        self.variants.iter().map(|v| v.name)
    }

    /// The default variant: the first.
    ///
    /// ```
    /// assert_eq!(catalog::exercise("ex_6_1").default_variant().name, "eager");
    /// ```
    pub fn default_variant(&self) -> &'static Variant {
        &self.variants[0]
    }

    /// The variant called `name`.
    pub fn variant(&self, name: &str) -> Option<&'static Variant> {
        self.variants.iter().find(|v| v.name == name)
    }

    /// The script variant called `name`.
    pub fn script_variant(&self, name: &str) -> Option<&'static ScriptVariant> {
        self.script_variants.iter().find(|v| v.name == name)
    }

    /// The script variant whose CPython row has `variant` (`asyncio_scheduled`: `scheduled`);
    /// `None` for the default's row and the other loops'.
    pub fn script_variant_of_row(&self, variant: &str) -> Option<&'static ScriptVariant> {
        self.script_variants
            .iter()
            .find(|v| v.row_variant() == variant)
    }

    /// The script variant the report sets against the script's default to say what the eager
    /// task factory does ([`EagerStart::script_scheduled`]).
    pub fn script_without_eager(&self) -> Option<&'static ScriptVariant> {
        self.script_variant(self.eager_start?.script_scheduled?)
    }

    /// The task count `run` and `run-all` give `variant`: `asked` (`--tasks`), else the
    /// exercise's default, held to the variant's [`Variant::max_tasks`]; `None` where no count
    /// applies.
    pub fn capped_tasks(&self, variant: &str, asked: Option<u64>) -> Option<u64> {
        let n = asked.unwrap_or(self.default_tasks?);
        let cap = self.variant(variant).and_then(|v| v.max_tasks);
        Some(cap.map_or(n, |cap| n.min(cap)))
    }

    /// Whether the binary takes `--measure start-latency`: some variant is measured with it.
    pub const fn takes_start_latency(&self) -> bool {
        !self.latency_variants.is_empty()
    }

    /// The default `--tasks`, for a binary's constants.
    ///
    /// # Panics
    ///
    /// Where no count applies (`default_tasks` is `None`); in a `const`, at compile time.
    pub const fn tasks(&self) -> u64 {
        match self.default_tasks {
            Some(n) => n,
            None => panic!("this exercise takes no --tasks"),
        }
    }
}
