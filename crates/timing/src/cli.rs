//! The flags every exercise takes, parsed the same way everywhere (by clap's builder: the
//! flags an exercise takes depend on its [`Spec`]).
//!
//! Bad input yields one [`UsageError`] line that says what was wrong and what is valid; the
//! harness prints it and exits with code 2. A value it echoes shows its control characters
//! escaped ([`visible`]), so the line stays one line.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The most tasks a run may ask for.
pub const MAX_TASKS: u64 = 1_000_000_000;
/// The most repetitions a run may ask for.
pub const MAX_REPEAT: u64 = 1_000_000;

/// What an exercise accepts: its name, its variants (the first is the default) and its task count.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Binary and package name, e.g. `ex_6_1`.
    pub name: &'static str,
    /// One line saying what the exercise shows.
    pub about: &'static str,
    /// Variant names; the first is the default.
    pub variants: &'static [&'static str],
    /// Default `--tasks`; `None` when no count applies (then `--tasks` is refused).
    pub default_tasks: Option<u64>,
    /// Whether `--measure start-latency` applies (each task's time from creation to first poll).
    pub start_latency: bool,
}

/// The tokio runtime a run uses (in JSON: `current`, `multi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavor {
    /// `Builder::new_current_thread()`: one thread, like asyncio's event loop.
    Current,
    /// `Builder::new_multi_thread()`: a worker per core.
    Multi,
}

impl Flavor {
    /// Every flavor, in the order help lists them.
    pub const ALL: [Flavor; 2] = [Flavor::Current, Flavor::Multi];

    /// The name the flag takes.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Current => "current",
            Flavor::Multi => "multi",
        }
    }
}

/// Where the exercise's `main` runs (in JSON: `task`, `block_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// As a task of the runtime, as `asyncio.run` wraps `main` in a Task: on the multi-thread
    /// runtime its spawns go to the worker's own queue.
    Task,
    /// Directly in `Runtime::block_on`, on the main thread: on the multi-thread runtime its
    /// spawns go through the runtime's shared inject queue.
    BlockOn,
}

/// What a run measures (in JSON: `throughput`, `start-latency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// The span the Python original times.
    Throughput,
    /// Also each task's time from its creation to its first poll.
    StartLatency,
}

impl Entry {
    /// The name the flag takes.
    pub fn name(self) -> &'static str {
        match self {
            Entry::Task => "task",
            Entry::BlockOn => "block_on",
        }
    }
}

impl Measure {
    /// The name the flag takes.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Throughput => "throughput",
            Measure::StartLatency => "start-latency",
        }
    }
}

/// Each names itself as its flag does (`current`, `block_on`, `start-latency`).
macro_rules! display_by_name {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    )*};
}
display_by_name!(Flavor, Entry, Measure);

impl std::str::FromStr for Flavor {
    type Err = UsageError;

    /// `current` or `multi`, as the flag takes them.
    fn from_str(name: &str) -> Result<Self, UsageError> {
        Flavor::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                UsageError(format!(
                    "unknown flavor '{}'; valid flavors: current, multi",
                    visible(name)
                ))
            })
    }
}

/// Parsed flags of one exercise run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// One of [`Spec::variants`].
    pub variant: &'static str,
    /// `--tasks`, or the spec's default; `None` when no count applies.
    pub tasks: Option<u64>,
    pub flavor: Flavor,
    /// How many times to run the measured body in this process.
    pub repeat: u64,
    /// Where to write the [`TimingResult`](crate::result::TimingResult).
    pub json: Option<PathBuf>,
    pub entry: Entry,
    pub measure: Measure,
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run(Args),
    Help,
}

/// A bad command line, as one line of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl Spec {
    /// The flags this exercise takes.
    fn flags(&self) -> &'static str {
        match (self.default_tasks.is_some(), self.start_latency) {
            (true, true) => {
                "--variant, --tasks, --flavor, --entry, --measure, --repeat, --json, --help"
            }
            (true, false) => "--variant, --tasks, --flavor, --entry, --repeat, --json, --help",
            (false, _) => "--variant, --flavor, --entry, --repeat, --json, --help",
        }
    }

    /// The exercise's command line as clap parses it: the flags it takes, their values, and
    /// the help text each shows.
    fn command(&self) -> clap::Command {
        use clap::Arg;
        use clap::builder::PossibleValuesParser;
        let variants = self.variants.join("|");
        let mut cmd = clap::Command::new(self.name)
            .about(format!("{}: {}", self.name, self.about))
            .no_binary_name(true)
            .disable_version_flag(true)
            .arg(
                Arg::new("variant")
                    .long("variant")
                    .value_name("NAME")
                    .value_parser(PossibleValuesParser::new(self.variants))
                    .hide_possible_values(true)
                    .help(format!("{variants} (default {})", self.variants[0])),
            );
        if let Some(n) = self.default_tasks {
            cmd = cmd.arg(
                Arg::new("tasks")
                    .long("tasks")
                    .value_name("N")
                    .allow_hyphen_values(true)
                    .value_parser(tasks_count)
                    .help(format!("how many tasks (1 to {MAX_TASKS}; default {n})")),
            );
        }
        cmd = cmd
            .arg(
                Arg::new("flavor")
                    .long("flavor")
                    .value_name("NAME")
                    .value_parser(["current", "multi"])
                    .hide_possible_values(true)
                    .help("current|multi: the tokio runtime (default current)"),
            )
            .arg(
                Arg::new("entry")
                    .long("entry")
                    .value_name("NAME")
                    .value_parser(["task", "block_on"])
                    .hide_possible_values(true)
                    .help("task|block_on: run main as a task (default) or in block_on"),
            );
        if self.start_latency {
            cmd = cmd.arg(
                Arg::new("measure")
                    .long("measure")
                    .value_name("NAME")
                    .value_parser(["throughput", "start-latency"])
                    .hide_possible_values(true)
                    .help("throughput|start-latency: also time each task's creation to first poll"),
            );
        }
        cmd.arg(
            Arg::new("repeat")
                .long("repeat")
                .value_name("N")
                .allow_hyphen_values(true)
                .value_parser(|v: &str| whole_number(v, MAX_REPEAT))
                .help(format!(
                    "run the measured body N times (1 to {MAX_REPEAT}; default 1)"
                )),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .value_name("PATH")
                .value_parser(|v: &str| json_path(v))
                .help("write the timing result as JSON to PATH"),
        )
    }

    /// The `--help` text.
    pub fn usage(&self) -> String {
        self.command().render_help().to_string()
    }

    /// Parses the arguments that follow the program name.
    ///
    /// ```
    /// use timing::cli::{Command, Flavor, Spec};
    /// let spec = Spec { name: "ex", about: "", variants: &["a", "b"], default_tasks: Some(10), start_latency: false };
    /// let Command::Run(args) = spec.parse(["--variant", "b", "--flavor=multi"]).unwrap() else { panic!() };
    /// assert_eq!((args.variant, args.tasks, args.flavor), ("b", Some(10), Flavor::Multi));
    /// let err = spec.parse(["--variant", "c"]).unwrap_err().to_string();
    /// assert_eq!(err, "ex: unknown variant 'c'; valid variants: a, b");
    /// ```
    pub fn parse<I, S>(&self, args: I) -> Result<Command, UsageError>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let args = args.into_iter().map(Into::into);
        let m = match self.command().try_get_matches_from(args) {
            Ok(m) => m,
            Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => return Ok(Command::Help),
            Err(e) => {
                let line = format!("{}: {}", self.name, self.explain(&e));
                return Err(UsageError(visible(&line).into_owned()));
            }
        };
        // `try_`: `--tasks` and `--measure` are not defined for every exercise.
        let name = |id: &str| {
            m.try_get_one::<String>(id)
                .ok()
                .flatten()
                .map(String::as_str)
        };
        Ok(Command::Run(Args {
            variant: name("variant")
                .and_then(|v| self.variants.iter().copied().find(|x| *x == v))
                .unwrap_or(self.variants[0]),
            tasks: m
                .try_get_one::<u64>("tasks")
                .ok()
                .flatten()
                .copied()
                .or(self.default_tasks),
            flavor: match name("flavor") {
                Some("multi") => Flavor::Multi,
                _ => Flavor::Current,
            },
            repeat: m.get_one::<u64>("repeat").copied().unwrap_or(1),
            json: m.get_one::<PathBuf>("json").cloned(),
            entry: match name("entry") {
                Some("block_on") => Entry::BlockOn,
                _ => Entry::Task,
            },
            measure: match name("measure") {
                Some("start-latency") => Measure::StartLatency,
                _ => Measure::Throughput,
            },
        }))
    }

    /// One line for what clap refused: what was wrong and what is valid.
    fn explain(&self, e: &clap::Error) -> String {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let context = |kind| match e.get(kind) {
            Some(ContextValue::String(s)) => s.clone(),
            Some(ContextValue::Strings(v)) => v.join(", "),
            _ => String::new(),
        };
        // clap names an argument with its value, `--tasks <N>`: the flag is the first word.
        let arg = context(ContextKind::InvalidArg);
        let flag = arg.split(' ').next().unwrap_or_default().to_owned();
        let value = context(ContextKind::InvalidValue);
        match e.kind() {
            ErrorKind::UnknownArgument if flag == "--tasks" || flag == "--measure" => format!(
                "{flag} does not apply to {}; valid flags: {}",
                self.name,
                self.flags()
            ),
            ErrorKind::UnknownArgument if flag.starts_with('-') => {
                format!("unknown flag '{flag}'; valid flags: {}", self.flags())
            }
            ErrorKind::UnknownArgument => {
                format!(
                    "unexpected argument '{flag}'; valid flags: {}",
                    self.flags()
                )
            }
            // No value after the flag, or an empty one after `=`.
            ErrorKind::InvalidValue if value.is_empty() => {
                format!("{flag} needs a value: {}", self.expects(&flag))
            }
            ErrorKind::InvalidValue => {
                let what = flag.trim_start_matches('-');
                let plural = match what {
                    "entry" => "entries".to_owned(),
                    other => format!("{other}s"),
                };
                let valid = context(ContextKind::ValidValue);
                format!("unknown {what} '{value}'; valid {plural}: {valid}")
            }
            ErrorKind::ValueValidation => {
                let why = std::error::Error::source(e)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                if flag == "--json" {
                    format!(
                        "--json '{value}' {why}; give a regular file's path, new or existing, \
                         in an existing folder this process can write"
                    )
                } else {
                    format!("{flag} needs {why}, got '{value}'")
                }
            }
            ErrorKind::ArgumentConflict => format!("{flag} is given twice; give it once"),
            ErrorKind::InvalidUtf8 => {
                format!(
                    "an argument is not valid UTF-8; valid flags: {}",
                    self.flags()
                )
            }
            _ => {
                let first = e.to_string();
                let first = first.lines().next().unwrap_or_default();
                let first = first.strip_prefix("error: ").unwrap_or(first).to_owned();
                format!("{first}; valid flags: {}", self.flags())
            }
        }
    }

    fn expects(&self, flag: &str) -> String {
        match flag {
            "--variant" => format!("one of {}", self.variants.join(", ")),
            "--flavor" => "current or multi".to_owned(),
            "--tasks" => format!("a whole number from 1 to {MAX_TASKS}"),
            "--repeat" => format!("a whole number from 1 to {MAX_REPEAT}"),
            "--entry" => "task or block_on".to_owned(),
            "--measure" => "throughput or start-latency".to_owned(),
            _ => "a regular file's path in an existing folder".to_owned(),
        }
    }
}

/// `text` with every character that would act on a terminal or break the line written as a
/// visible escape, as Rust's `{:?}` writes it: `\n`, `\r`, `\t`, and `\u{1b}` for the
/// others: control characters (C0, DEL, C1), the line and paragraph separators, and the
/// bidirectional overrides that reorder what a terminal shows. Anything else, a backslash
/// included, is kept as it is, so a plain value reads the same.
///
/// Every value echoed in an error goes through it: the error stays one line, and a value such
/// as `$'\e[2J'` is shown, not obeyed.
///
/// ```
/// assert_eq!(timing::cli::visible("1\n2"), "1\\n2");
/// assert_eq!(timing::cli::visible("x\u{1b}[2J"), "x\\u{1b}[2J");
/// assert_eq!(timing::cli::visible("ex_6_1 café"), "ex_6_1 café");
/// ```
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(acts_on_terminal) {
        return text.into();
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            c if acts_on_terminal(c) => shown.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => shown.push(c),
        }
    }
    shown.into()
}

/// Whether `c` is a control character, a line or paragraph separator, or a bidirectional
/// mark, embedding, override or isolate.
fn acts_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `--tasks N`'s value, as every binary and xtask parse it: a whole number from 1 to
/// [`MAX_TASKS`], written with or without `_` separators (`1_000_000`).
pub fn tasks_count(value: &str) -> Result<u64, String> {
    whole_number(value, MAX_TASKS)
}

/// A whole number from 1 to `max`, written with or without `_` separators.
fn whole_number(value: &str, max: u64) -> Result<u64, String> {
    match value.replace('_', "").parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("a whole number from 1 to {max}")),
    }
}

/// `--json PATH`, refused unless the result can be written there: the folder exists and takes a
/// new file (tried for real, by creating and removing one: permission bits say nothing to root,
/// and `/proc` refuses everyone), and whatever is at PATH is a regular file, not a link (the
/// rename would replace the link) nor a name ending in `/`. The error says what is wrong with
/// the path.
fn json_path(value: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(value);
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let problem = match (path.file_name(), fs::metadata(&folder)) {
        _ if value.is_empty() => Some("names no file".to_owned()),
        (None, _) => Some("names no file".to_owned()),
        // `new.json/` names a folder, which the result could only be written as after the run.
        _ if value.ends_with('/') => {
            Some("ends with '/', as a folder's name does; give a file's".to_owned())
        }
        // The result replaces the file by a rename, which would replace a link, not what it
        // points to (`/dev/stdout` as root, say): a link is refused.
        _ if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) => Some(
            "is a symbolic link, which the result would replace (name the file it points to)"
                .to_owned(),
        ),
        (_, Err(_)) => Some(format!(
            "is in folder '{}', which does not exist",
            folder.display()
        )),
        (_, Ok(m)) if !m.is_dir() => Some(format!(
            "is in '{}', which is not a folder",
            folder.display()
        )),
        (Some(name), Ok(_)) => match fs::metadata(&path) {
            Ok(m) if !m.is_file() => Some(format!("is {}", not_regular(&m))),
            _ => probe_writable(&folder, name).err().map(|e| {
                format!(
                    "cannot be written: creating a file in folder '{}' fails ({e})",
                    folder.display()
                )
            }),
        },
    };
    match problem {
        Some(p) => Err(p),
        None => Ok(path),
    }
}

impl Spec {
    /// Refuses a run whose `--tasks` cannot fit in `available` bytes (the machine's
    /// `MemAvailable`), by the per-task estimate of [`crate::memory`], naming the largest count
    /// that fits.
    ///
    /// ```
    /// use timing::cli::{Command, Spec};
    /// let spec = Spec { name: "ex_6_1", about: "", variants: &["spawn"], default_tasks: Some(10), start_latency: false };
    /// let Command::Run(args) = spec.parse(["--tasks", "1000000000"]).unwrap() else { panic!() };
    /// let err = spec.check_memory(&args, 8 << 30).unwrap_err().to_string();
    /// assert!(err.ends_with("the largest count that fits is 16711422"), "{err}");
    /// assert!(spec.check_memory(&args, 1 << 40).is_ok());
    /// ```
    pub fn check_memory(&self, args: &Args, available: u64) -> Result<(), UsageError> {
        let Some(tasks) = args.tasks else {
            return Ok(());
        };
        match crate::memory::misfit(
            self.name,
            args.variant,
            args.measure == Measure::StartLatency,
            tasks,
            available,
        ) {
            None => Ok(()),
            Some(why) => Err(UsageError(format!("{}: {why}", self.name))),
        }
    }
}

/// What a file that is not a regular one is, for a usage error.
fn not_regular(meta: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "a fifo, not a regular file";
        } else if kind.is_char_device() || kind.is_block_device() {
            return "a device, not a regular file";
        } else if kind.is_socket() {
            return "a socket, not a regular file";
        }
    }
    if meta.is_dir() {
        "a folder, not a regular file"
    } else {
        "not a regular file"
    }
}

/// Creates and removes a file beside where `name` will go, as the result's write will: the one
/// honest test of whether `folder` takes new files (permission bits say nothing to root, and
/// nothing at all of `/proc`). The probe is named and created as the write's temporary file is
/// (an unguessable name, never through a link), so nothing planted in the folder stops it or
/// is touched by it.
pub fn probe_writable(folder: &Path, name: &OsStr) -> std::io::Result<()> {
    let (probe, _) = crate::result::create_beside(
        &folder.join(name),
        "probe",
        crate::result::unguessable_suffixes(),
    )?;
    fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        name: "ex_t",
        about: "test",
        variants: &["eager", "spawn"],
        default_tasks: Some(1_000_000),
        start_latency: true,
    };
    const NO_TASKS: Spec = Spec {
        name: "ex_q",
        about: "test",
        variants: &["shutdown"],
        default_tasks: None,
        start_latency: false,
    };

    fn run(spec: &Spec, args: &[&str]) -> Args {
        match spec.parse(args) {
            Ok(Command::Run(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    fn error(spec: &Spec, args: &[&str]) -> String {
        spec.parse(args).unwrap_err().0
    }

    #[test]
    fn no_arguments_give_the_defaults() {
        let a = run(&SPEC, &[]);
        assert_eq!(a.variant, "eager");
        assert_eq!(a.tasks, Some(1_000_000));
        assert_eq!(a.flavor, Flavor::Current);
        assert_eq!(a.repeat, 1);
        assert_eq!(a.json, None);
    }

    #[test]
    fn every_flag_is_read_in_both_spellings() {
        let a = run(
            &SPEC,
            &[
                "--variant=spawn",
                "--tasks",
                "1_000",
                "--flavor",
                "multi",
                "--repeat=3",
            ],
        );
        assert_eq!(
            (a.variant, a.tasks, a.flavor, a.repeat),
            ("spawn", Some(1_000), Flavor::Multi, 3)
        );
    }

    #[test]
    fn help_wins() {
        assert_eq!(SPEC.parse(["--tasks", "5", "-h"]), Ok(Command::Help));
        assert!(SPEC.usage().contains("eager|spawn (default eager)"));
        assert!(!NO_TASKS.usage().contains("--tasks"));
    }

    #[test]
    fn bad_numbers_name_the_valid_range() {
        for bad in ["0", "-1", "abc", "1000000001", ""] {
            assert_eq!(
                error(&SPEC, &["--tasks", bad]),
                format!("ex_t: --tasks needs a whole number from 1 to 1000000000, got '{bad}'")
            );
        }
        assert!(error(&SPEC, &["--repeat", "0"]).contains("from 1 to 1000000"));
    }

    #[test]
    fn unknown_things_name_what_is_valid() {
        assert_eq!(
            error(&SPEC, &["--bogus"]),
            "ex_t: unknown flag '--bogus'; valid flags: --variant, --tasks, --flavor, --entry, --measure, --repeat, --json, --help"
        );
        assert_eq!(
            error(&SPEC, &["--flavor", "both"]),
            "ex_t: unknown flavor 'both'; valid flavors: current, multi"
        );
        assert!(
            error(&SPEC, &["stray"]).starts_with("ex_t: unexpected argument 'stray'; valid flags:")
        );
        assert!(
            error(&SPEC, &["--variant"])
                .starts_with("ex_t: --variant needs a value: one of eager, spawn")
        );
        assert_eq!(
            error(&SPEC, &["--repeat", "2", "--repeat", "3"]),
            "ex_t: --repeat is given twice; give it once"
        );
    }

    #[test]
    fn empty_values_and_bytes_that_are_not_text_get_one_line_too() {
        assert_eq!(
            error(&SPEC, &["--flavor="]),
            "ex_t: --flavor needs a value: current or multi"
        );
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let bad = OsStr::from_bytes(b"\xff").to_owned();
            let e = SPEC
                .parse([OsString::from("--variant"), bad])
                .unwrap_err()
                .0;
            assert_eq!(
                e,
                "ex_t: an argument is not valid UTF-8; valid flags: --variant, --tasks, --flavor, --entry, --measure, --repeat, --json, --help"
            );
        }
    }

    /// A value is echoed with its control characters escaped, so the error stays one line and
    /// no escape sequence reaches the terminal.
    #[test]
    fn control_characters_in_echoed_values_are_shown_escaped() {
        assert_eq!(
            error(&SPEC, &["--tasks", "1\n2"]),
            "ex_t: --tasks needs a whole number from 1 to 1000000000, got '1\\n2'"
        );
        assert_eq!(
            error(&SPEC, &["--variant", "x\u{1b}]0;title\u{7}\u{1b}[2J"]),
            "ex_t: unknown variant 'x\\u{1b}]0;title\\u{7}\\u{1b}[2J'; valid variants: eager, spawn"
        );
        assert!(
            error(&SPEC, &["--bo\rgus"])
                .starts_with("ex_t: unknown flag '--bo\\rgus'; valid flags:")
        );
        assert!(
            error(&SPEC, &["a\u{202e}b\tc"])
                .starts_with("ex_t: unexpected argument 'a\\u{202e}b\\tc'; valid flags:")
        );
        assert!(
            error(&SPEC, &["--json", "/no/such\n/r.json"])
                .starts_with("ex_t: --json '/no/such\\n/r.json' is in folder '/no/such\\n', which")
        );
        assert_eq!(
            "a\nb".parse::<Flavor>().unwrap_err().0,
            "unknown flavor 'a\\nb'; valid flavors: current, multi"
        );
        assert_eq!(visible("café \\n"), "café \\n", "nothing else changes");
    }

    #[test]
    fn tasks_is_refused_where_no_count_applies() {
        assert_eq!(
            error(&NO_TASKS, &["--tasks", "5"]),
            "ex_q: --tasks does not apply to ex_q; valid flags: --variant, --flavor, --entry, --repeat, --json, --help"
        );
        assert_eq!(run(&NO_TASKS, &[]).tasks, None);
    }

    #[test]
    fn entry_and_measure_are_read_where_they_apply() {
        let a = run(&SPEC, &["--entry", "block_on", "--measure=start-latency"]);
        assert_eq!(
            (a.entry, a.measure),
            (Entry::BlockOn, Measure::StartLatency)
        );
        assert_eq!(run(&SPEC, &[]).entry, Entry::Task);
        assert_eq!(
            error(&SPEC, &["--entry", "thread"]),
            "ex_t: unknown entry 'thread'; valid entries: task, block_on"
        );
        assert!(
            error(&NO_TASKS, &["--measure", "start-latency"])
                .starts_with("ex_q: --measure does not apply to ex_q")
        );
    }

    #[test]
    fn json_must_go_into_an_existing_folder() {
        let e = error(&SPEC, &["--json", "/no/such/folder/r.json"]);
        assert_eq!(
            e,
            "ex_t: --json '/no/such/folder/r.json' is in folder '/no/such/folder', which does not exist; \
             give a regular file's path, new or existing, in an existing folder this process can write"
        );
        assert!(error(&SPEC, &["--json", "/tmp"]).contains("is a folder, not a regular file"));
        assert!(error(&SPEC, &["--json", "/dev/null"]).contains("is a device, not a regular file"));
        assert!(error(&SPEC, &["--json", "/proc/self/x.json"]).contains("cannot be written"));
        assert_eq!(
            run(&SPEC, &["--json", "r.json"]).json,
            Some(PathBuf::from("r.json"))
        );
    }
}
