//! What each exercise is, in one table: the facts the exercise binaries, the `timing` harness
//! and `cargo xtask` read, and that the Python scripts and the README's `## Exercises` table
//! must agree with (`xtask/tests/catalog.rs` fails when one does not).
//!
//! For each exercise ([`ALL`], [`find`]): its name, the chapter and listing it ports, what it
//! shows ([`Exercise::shows`]; [`Exercise::about`] for `cargo xtask list` and the report,
//! [`Exercise::help`] for the binary's `--help`), its variants
//! (each with what it runs, its [`Family`], whether it is the idiomatic one, the default being
//! the first, and the bytes a task holds where measured), its default `--tasks`, the oldest
//! CPython its script runs on, and, in [`LOOP_INCOMPATIBILITIES`], the loop libraries known to
//! fail it. Everything is `&'static` data; the lookups are small functions, some `const` so that
//! a binary can build its flags from the catalogue at compile time:
//!
//! ```
//! const EXERCISE: &catalog::Exercise = catalog::exercise("ex_6_3");
//! const VARIANTS: [&str; EXERCISE.variants.len()] = catalog::variant_array(EXERCISE);
//! assert_eq!(VARIANTS, ["try_id", "floor"]);
//! assert_eq!(EXERCISE.default_tasks, Some(1_000_000));
//! ```
//!
//! # Families and the idiomatic row
//!
//! Each variant belongs to one [`Family`], so a report can group rows by who wrote the code
//! they measure: this project's crates (`project`), plain tokio written the way the port is
//! (`tokio`), what a Rust developer would pick instead of this project's crates (`peer`), or
//! the least the work can cost (`floor`). Each exercise may name one variant as
//! [`Exercise::idiomatic`]: the code a Rust developer porting the Python would most likely
//! write, measured beside the project's; `None` where no such row is measured.

mod table;
mod types;

pub use table::{ALL, LOOP_INCOMPATIBILITIES, QUADRATIC_MAX_TASKS};
pub use types::{EagerStart, Exercise, Family, Incompatibility, ScriptVariant, Variant, variant};

/// The exercise called `name`.
///
/// ```
/// assert_eq!(catalog::find("queue_pc").map(|e| e.idiomatic), Some(Some("mpsc")));
/// assert!(catalog::find("ex_9_9").is_none());
/// ```
pub fn find(name: &str) -> Option<&'static Exercise> {
    ALL.iter().find(|e| e.name == name)
}

/// The exercise called `name`, in a `const`: a binary's own entry.
///
/// # Panics
///
/// When there is no such exercise; in a `const`, at compile time.
pub const fn exercise(name: &str) -> &'static Exercise {
    let mut i = 0;
    while i < ALL.len() {
        if same(ALL[i].name, name) {
            return &ALL[i];
        }
        i += 1;
    }
    panic!("no such exercise in the catalogue")
}

/// The names of `exercise`'s variants, default first, as an array a `const` can hold (a
/// binary's `--variant` values).
///
/// # Panics
///
/// When `N` is not the number of variants; in a `const`, at compile time.
pub const fn variant_array<const N: usize>(exercise: &Exercise) -> [&'static str; N] {
    assert!(N == exercise.variants.len(), "N is the number of variants");
    let mut names = [""; N];
    let mut i = 0;
    while i < N {
        names[i] = exercise.variants[i].name;
        i += 1;
    }
    names
}

/// Bytes each task of `variant` of `exercise` holds while it runs ([`Variant::bytes_per_task`]);
/// `None` when nothing is held, or for a name the catalogue does not have.
///
/// ```
/// assert_eq!(catalog::bytes_per_task("ex_6_2", "gather_in_place"), Some(2));
/// assert_eq!(catalog::bytes_per_task("ex_6_1", "eager"), None);
/// ```
pub fn bytes_per_task(exercise: &str, variant: &str) -> Option<u64> {
    find(exercise)?.variant(variant)?.bytes_per_task
}

/// `a == b`, in a `const`.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// What the table says of an exercise beyond its own entry.
impl Exercise {
    /// The loop libraries known to fail this exercise's script, and on which Pythons.
    pub fn loop_incompatibilities(&self) -> impl Iterator<Item = &'static Incompatibility> {
        let name = self.name;
        LOOP_INCOMPATIBILITIES
            .iter()
            .filter(move |k| k.exercises.contains(&name))
    }
}
