//! Running the rows: one process each, in its own process group, timed, killed on timeout or
//! when the runner is stopped, its result checked against what ran.

use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use timing::TimingResult;
use timing::cli::Flavor;

use crate::env;
use crate::format::fmt_ns;
use crate::measure::plan::{self, Goal, Schedule, Target};
use crate::measure::progress::{Eta, Progress};
use crate::process::{
    Interrupted, Poll, Waited, catch_stop_signals, die_with_the_runner, kill_group, kill_orphans,
    stop_requested, wait_or_kill_cpu,
};
use crate::report;
use crate::results::{
    self, Failure, Flags, Layout, Overhead, Precision, Row, RowKey, RunResults,
    SerializedHistogram, Stop,
};
use crate::stats;

/// The order of the targets in round `round`: the rows of a balanced Latin square (Williams'
/// design). Over any `n` consecutive rounds (`2n` when `n` is odd) each target takes each place
/// in a round equally often, and runs just after each other target equally often. So an effect
/// of the place (first after the previous round's last, say) or of the process just before
/// (a machine settling after a large one) falls on every row alike, not on the one that always
/// holds that place or follows that row.
pub fn round_order(n: usize, round: u32) -> impl Iterator<Item = usize> {
    let round = round as usize;
    let shift = round.checked_rem(n).unwrap_or(0);
    // An odd square is balanced only together with its mirror image: every other n rounds.
    let mirrored = n % 2 == 1 && (round / n.max(1)) % 2 == 1;
    (0..n).map(move |place| {
        let k = if mirrored { n - 1 - place } else { place };
        // The first round's order, 0, 1, n-1, 2, n-2, …: from one place to the next the step
        // is +1, -2, +3, -4, …, each step mod n once, so each target is followed by each
        // other target once as the rounds shift it.
        let first = if k % 2 == 1 {
            k.div_ceil(2)
        } else {
            (n - k / 2) % n
        };
        (first + shift) % n
    })
}

/// What `execute` measured.
#[derive(Debug)]
pub struct Measured {
    pub rows: Vec<Row>,
    pub overhead: Option<Overhead>,
}

/// Runs every target `warmup + runs` times, round-robin: each round runs every target due in
/// it once, so drift on a shared machine touches every row alike; targets with fewer runs take
/// part in the last rounds only. The order changes from round to round (see [`round_order`]),
/// so that no row always holds the same place in a round or follows the same row. Warmup runs
/// are discarded. A target that fails is recorded with its reason and the tail of its stderr,
/// and not run again. [`execute_scheduled`] with [`Schedule::fixed`].
pub fn execute(
    targets: &[Target],
    timeout: Duration,
    scratch: &Path,
    progress: &Progress,
) -> anyhow::Result<Measured> {
    execute_scheduled(
        targets,
        &Schedule::fixed(targets),
        timeout,
        scratch,
        progress,
    )
}

/// What is known of one target while the run goes on.
#[derive(Debug, Default)]
struct State {
    samples: Vec<u64>,
    /// The CPU time of each of `samples`, while every process gave it (`cpu_missing` once one
    /// did not: the row then has none).
    cpu_samples: Vec<u64>,
    cpu_missing: bool,
    peak: Option<u64>,
    latency: Option<Histogram<u64>>,
    failure: Option<Failure>,
    /// Processes run, warmups included, and their total lifetime (wall time from start to exit).
    processes: u32,
    wall: Duration,
    /// Their total CPU time (user + system), while every one of them had it known.
    cpu: Option<Duration>,
    stop: Option<Stop>,
    goal: Option<Goal>,
}

impl State {
    /// How early its extra runs come: its goal's priority (a row without a goal has none to
    /// run, and counts as first).
    fn priority(&self) -> u8 {
        self.goal.map_or(0, |g| g.priority)
    }

    /// Whether the target still wants a process beyond its fixed ones: it has a goal, it has
    /// not failed or been stopped, and its interval is wider than the goal.
    fn wants_more(&self) -> bool {
        if self.failure.is_some() || self.stop.is_some() {
            return false;
        }
        let Some(goal) = self.goal else { return false };
        self.samples.len() < goal.max_runs as usize
            && stats::relative_half_width(&self.samples).is_none_or(|h| h > goal.half_width)
    }

    /// Why it ran no more, once the run is over.
    fn stopped(&self) -> Stop {
        if self.failure.is_some() {
            return Stop::Failed;
        }
        if let Some(stop) = self.stop {
            return stop;
        }
        match self.goal {
            None => Stop::Fixed,
            Some(goal) if self.samples.len() >= goal.max_runs as usize => Stop::MaxRuns,
            Some(_) => Stop::Goal,
        }
    }

    /// Processes it is still expected to run: its fixed ones, and for a goal the runs its
    /// present spread needs (`n·(h/goal)²` in all), at most its cap.
    fn expected_left(&self, fixed_left: u32) -> u32 {
        if !self.wants_more() {
            return fixed_left;
        }
        let Some(goal) = self.goal else {
            return fixed_left;
        };
        let n = self.samples.len() as f64;
        let needed = match stats::relative_half_width(&self.samples) {
            Some(h) if h > 0.0 => (n * (h / goal.half_width).powi(2)).ceil(),
            _ => n + 2.0,
        };
        let more = (needed.min(f64::from(goal.max_runs)) - n).max(1.0) as u32;
        fixed_left.max(more)
    }
}

/// Runs the targets as `schedule` says, in passes:
/// 1. every target without a goal, or whose goal says [`Goal::fixed_first`], its `warmup +
///    runs` times, in rounds as [`execute`] does, whatever the deadline;
/// 2. rounds of the targets of priority 0 whose interval is still wider than their goal, while
///    time is left for step 3 before the deadline, and for at least half the time left;
/// 3. every other target its `warmup + runs` times, while each process fits before the
///    deadline (one that does not is not started, and its row says so);
/// 4. per exercise, the fastest Python row of priority 1 is raised to priority 0 (an answer
///    reads it), then, priority 0 first, rounds of the targets whose interval is still wider
///    than their goal, each process only if it fits before the deadline.
pub fn execute_scheduled(
    targets: &[Target],
    schedule: &Schedule,
    timeout: Duration,
    scratch: &Path,
    progress: &Progress,
) -> anyhow::Result<Measured> {
    fs::create_dir_all(scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let mut states: Vec<State> = schedule
        .goals
        .iter()
        .map(|goal| State {
            goal: *goal,
            cpu: Some(Duration::ZERO),
            ..State::default()
        })
        .collect();
    let mut run = Running {
        targets,
        timeout,
        scratch,
        progress,
        deadline: schedule.deadline,
        eta: Eta::new(targets.iter().map(|t| t.warmup + t.runs)),
        processes: 0,
        overhead_total: 0,
        overhead_max: 0,
    };
    for (i, &guess) in schedule.estimates.iter().enumerate() {
        run.eta.guess(i, guess);
    }
    run.refresh_eta(&states);
    progress.start(run.eta.processes_left());
    // Fixed runs in the first pass: the rows without a goal and those whose goal says so.
    let in_first = |i: usize| schedule.goals[i].is_none_or(|g| g.fixed_first);
    let first: Vec<usize> = (0..targets.len()).filter(|&i| in_first(i)).collect();
    let second: Vec<usize> = (0..targets.len()).filter(|&i| !in_first(i)).collect();
    let result = run
        .fixed_rounds(&first, &mut states, false)
        .and_then(|()| {
            // The answers' rows get their precision first, up to the time the others' single
            // processes are expected to need before the deadline.
            let others: Duration = second
                .iter()
                .map(|&i| run.eta.each(i) * (targets[i].warmup + targets[i].runs))
                .sum();
            // At least half of what is left goes to the answers, however many others wait.
            let early = run.deadline.map(|d| {
                let now = Instant::now();
                let half = now + d.saturating_duration_since(now) / 2;
                d.checked_sub(others).map_or(half, |e| e.max(half))
            });
            run.until_goals(&mut states, Some(0), early)
        })
        .and_then(|()| run.fixed_rounds(&second, &mut states, true))
        .and_then(|()| run.until_goals(&mut states, None, run.deadline));
    progress.finish();
    result?;
    let rows = targets
        .iter()
        .zip(states)
        .map(|(t, s)| {
            let stopped = s.stopped();
            let mut row = Row {
                peak_rss_bytes: s.peak,
                start_latency: s.latency.as_ref().map(SerializedHistogram::of),
                process_ns: (s.processes > 0)
                    .then(|| u64::try_from((s.wall / s.processes).as_nanos()).unwrap_or(u64::MAX))
                    .filter(|&ns| ns > 0),
                process_cpu_ns: s.cpu.filter(|_| s.processes > 0).map(|cpu| {
                    u64::try_from((cpu / s.processes).as_nanos()).unwrap_or(u64::MAX)
                }),
                cpu_samples_ns: if s.cpu_missing {
                    Vec::new()
                } else {
                    s.cpu_samples
                },
                ..Row::new(t.key.clone(), s.samples, s.failure)
            };
            if row.samples_ns.is_empty() && row.failure.is_none() {
                row.skipped = Some(
                    "not run: the time budget was spent first (--budget, or --thorough to run every row at full depth)"
                        .into(),
                );
            } else {
                row.precision = Some(Precision {
                    half_width: stats::relative_half_width(&row.samples_ns),
                    goal: s.goal.map(|g| g.half_width),
                    stopped,
                });
            }
            row
        })
        .collect();
    let overhead = (run.processes > 0).then(|| Overhead {
        processes: run.processes,
        mean_ns: u64::try_from(run.overhead_total / u128::from(run.processes)).unwrap_or(u64::MAX),
        max_ns: run.overhead_max,
    });
    Ok(Measured { rows, overhead })
}

/// How many processes of a row a round of [`Running::until_goals`] runs: as many as fit in a
/// second, one to four.
fn repeats(each: Duration) -> u32 {
    let per_second = 1.0 / each.as_secs_f64().max(1e-3);
    (per_second.floor() as u32).clamp(1, 4)
}

/// The run under way: what it runs, and its running totals.
struct Running<'a> {
    targets: &'a [Target],
    timeout: Duration,
    scratch: &'a Path,
    progress: &'a Progress,
    deadline: Option<Instant>,
    eta: Eta,
    processes: u64,
    overhead_total: u128,
    overhead_max: u64,
}

impl Running<'_> {
    /// Rounds over `set` until each has run its `warmup + runs`; with `budgeted`, a process
    /// that would not end before the deadline is not started, and its target runs no more.
    fn fixed_rounds(
        &mut self,
        set: &[usize],
        states: &mut [State],
        budgeted: bool,
    ) -> anyhow::Result<()> {
        let due = |i: usize| self.targets[i].warmup + self.targets[i].runs;
        let rounds = set.iter().map(|&i| due(i)).max().unwrap_or(0);
        for round in 0..rounds {
            for k in round_order(set.len(), round) {
                let i = set[k];
                if states[i].failure.is_some() || states[i].stop.is_some() {
                    continue;
                }
                if round < rounds - due(i) {
                    continue; // not due yet
                }
                let warmup = round < rounds - due(i) + self.targets[i].warmup;
                if budgeted && !self.fits(i, self.deadline) {
                    states[i].stop = Some(Stop::Budget);
                    self.refresh_eta(states);
                    continue;
                }
                self.one(i, &mut states[i], warmup)?;
                self.refresh_eta(states);
            }
        }
        Ok(())
    }

    /// Rounds of the targets that want more, priority 0 first (only those of priority up to
    /// `most`, when given), while each process fits before `until`. Past the run's own deadline
    /// a target that does not fit is stopped for good; before an earlier `until`, the rounds
    /// just end, for the next pass. Before each round, the fastest Python row of each exercise
    /// that no answer reads yet is raised to priority 0 with an answer's goal: the report names
    /// it as the fastest alternative.
    fn until_goals(
        &mut self,
        states: &mut [State],
        most: Option<u8>,
        until: Option<Instant>,
    ) -> anyhow::Result<()> {
        let last_pass = until == self.deadline;
        let mut round = 0;
        loop {
            let samples: Vec<&[u64]> = states.iter().map(|s| s.samples.as_slice()).collect();
            let priorities: Vec<u8> = states.iter().map(State::priority).collect();
            for i in plan::fastest_alternatives(self.targets, &samples, &priorities) {
                states[i].goal = Some(plan::ANSWER_PYTHON_GOAL);
            }
            let Some(top) = states
                .iter()
                .filter(|s| s.wants_more())
                .map(State::priority)
                .filter(|&p| most.is_none_or(|m| p <= m))
                .min()
            else {
                return Ok(());
            };
            let set: Vec<usize> = (0..states.len())
                .filter(|&i| states[i].priority() == top && states[i].wants_more())
                .collect();
            for k in round_order(set.len(), round) {
                let i = set[k];
                // A short process runs up to four times a round, so that a row of 0.1 s is not
                // held to the pace of one of 10 s beside it.
                for _ in 0..repeats(self.eta.each(i)) {
                    if !states[i].wants_more() {
                        break;
                    }
                    if !self.fits(i, until) {
                        if !last_pass {
                            return Ok(());
                        }
                        states[i].stop = Some(Stop::Budget);
                        self.refresh_eta(states);
                        break;
                    }
                    self.one(i, &mut states[i], false)?;
                    self.refresh_eta(states);
                }
            }
            round += 1;
        }
    }

    /// Whether a process of target `i` is expected to end before the deadline.
    fn fits(&self, i: usize, until: Option<Instant>) -> bool {
        until.is_none_or(|d| Instant::now() + self.eta.each(i) <= d)
    }

    /// Tells the estimate what each target is still expected to run: its fixed processes, and
    /// the extra ones its spread asks for, scaled down to what fits before the deadline.
    fn refresh_eta(&mut self, states: &[State]) {
        let remaining = self
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()));
        let mut fixed = vec![0u32; states.len()];
        let mut extra = vec![0u32; states.len()];
        for (i, s) in states.iter().enumerate() {
            if s.failure.is_some() || s.stop.is_some() {
                continue;
            }
            let t = &self.targets[i];
            fixed[i] = (t.warmup + t.runs).saturating_sub(s.processes);
            extra[i] = s.expected_left(fixed[i]) - fixed[i];
        }
        let time = |n: &[u32]| -> f64 {
            (0..n.len())
                .map(|i| self.eta.each(i).as_secs_f64() * f64::from(n[i]))
                .sum()
        };
        let (fixed_time, extra_time) = (time(&fixed), time(&extra));
        let share = match remaining {
            Some(r) if extra_time > 0.0 => {
                ((r.as_secs_f64() - fixed_time) / extra_time).clamp(0.0, 1.0)
            }
            _ => 1.0,
        };
        for i in 0..states.len() {
            let scaled = (f64::from(extra[i]) * share).round() as u32;
            self.eta.set_left(i, fixed[i] + scaled);
        }
        self.eta.cap(remaining);
    }

    /// Runs one process of target `i` and records what it gave.
    fn one(&mut self, i: usize, state: &mut State, warmup: bool) -> anyhow::Result<()> {
        let target = &self.targets[i];
        let label = report::label::progress_label(&target.key);
        self.progress.running(&label, self.eta.last(i));
        let began = Instant::now();
        let ran = match run_process(target, self.timeout, &self.scratch.join(format!("{i}"))) {
            Ok(ran) => ran,
            Err(e) => {
                self.progress.finish(); // no bar left above the message
                return Err(e);
            }
        };
        let took = began.elapsed();
        self.eta.ran(i, took);
        state.processes += 1;
        state.wall += ran.lifetime;
        state.cpu = state.cpu.zip(ran.cpu).map(|(total, cpu)| total + cpu);
        self.processes += 1;
        self.overhead_total += u128::from(ran.overhead_ns);
        self.overhead_max = self.overhead_max.max(ran.overhead_ns);
        let what = match ran.result {
            Ok(r) => {
                let shown = r
                    .samples_ns
                    .last()
                    .map(|&ns| fmt_ns(ns as f64))
                    .unwrap_or_default();
                if warmup {
                    format!("{shown} (warmup)")
                } else {
                    if r.cpu_samples_ns.len() == r.samples_ns.len() {
                        state.cpu_samples.extend(r.cpu_samples_ns);
                    } else {
                        state.cpu_missing = true;
                    }
                    state.samples.extend(r.samples_ns);
                    state.peak = state.peak.max(r.peak_rss_bytes);
                    if let Some(run) = r.start_latency.map(|h| h.histogram()) {
                        match &mut state.latency {
                            Some(all) => all.add(&run).context("merging start latencies")?,
                            none => *none = Some(run),
                        }
                    }
                    match stats::relative_half_width(&state.samples) {
                        Some(h) => {
                            format!("{shown} (±{:.1}% after {})", h * 100.0, state.samples.len())
                        }
                        None => shown,
                    }
                }
            }
            Err(f) => {
                let shown = match crate::known::known_failure(&target.key, &f) {
                    Some(known) => format!("fails, as known: {}", known.error),
                    None => format!("FAILED: {}", f.reason),
                };
                state.failure = Some(f);
                shown
            }
        };
        self.progress.step(&label, &what, &self.eta);
        Ok(())
    }
}

/// A run in progress: its folder under `runs/`, when it began, and the machine as it was then.
#[derive(Debug)]
pub struct Session {
    pub dir: PathBuf,
    pub id: String,
    started: u64,
    environment: crate::results::Environment,
}

impl Session {
    /// A new run folder, the start time and the environment's "before" readings.
    pub fn begin(layout: &Layout, root: &Path) -> anyhow::Result<Self> {
        let dir = new_run_dir(layout)?;
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self {
            dir,
            id,
            started: results::now_secs(),
            environment: env::capture(root),
        })
    }

    /// Replaces the "before" load average, read when the session began, with one read earlier:
    /// before the release build, whose compiling would otherwise count as the machine being busy.
    pub fn load_before(&mut self, load: Option<[f64; 3]>) {
        self.environment.load_before = load;
    }

    /// [`execute`] with a progress bar, its scratch files under the run folder (removed after),
    /// then the environment's "after" readings.
    pub fn measure(&mut self, targets: &[Target], timeout: Duration) -> anyhow::Result<Measured> {
        self.measure_scheduled(targets, &Schedule::fixed(targets), timeout)
    }

    /// [`Session::measure`] as `schedule` says ([`execute_scheduled`]).
    pub fn measure_scheduled(
        &mut self,
        targets: &[Target],
        schedule: &Schedule,
        timeout: Duration,
    ) -> anyhow::Result<Measured> {
        let scratch = self.dir.join(".scratch");
        catch_stop_signals()?;
        let measured = execute_scheduled(
            targets,
            schedule,
            timeout,
            &scratch,
            &Progress::for_stderr(),
        );
        if let Err(e) = &measured
            && e.downcast_ref::<Interrupted>().is_some()
        {
            let _ = fs::remove_dir_all(&self.dir);
        }
        let measured = measured?;
        let _ = fs::remove_dir_all(&scratch);
        self.environment.load_after = env::load_average();
        self.environment.governor_after = env::governor();
        self.environment.page_fault_ns_after = env::page_fault_ns();
        Ok(measured)
    }

    /// The run's results, finished now.
    pub fn results(&self, flags: Flags, overhead: Option<Overhead>, rows: Vec<Row>) -> RunResults {
        RunResults {
            schema: results::SCHEMA.into(),
            run_id: self.id.clone(),
            started_utc: results::utc(self.started).1,
            finished_utc: results::utc(results::now_secs()).1,
            environment: self.environment.clone(),
            flags,
            harness_overhead: overhead,
            rows,
        }
    }
}

struct Ran {
    result: Result<TimingResult, Failure>,
    /// The runner's own time for this process, outside the process' lifetime.
    overhead_ns: u64,
    /// Its wall time from before `spawn` to its exit as the runner saw it (zero when it did
    /// not start), and its CPU time, user + system, killed or not (`None` when it did not start).
    lifetime: Duration,
    cpu: Option<Duration>,
}

/// How a measured process is waited for: with a growing pause, so that a short run is noticed
/// within microseconds and a long one costs at most a wake-up every 2 ms.
const MEASURED_POLL: Poll = Poll {
    first: Duration::from_micros(20),
    max: Duration::from_millis(2),
    retry_failed: false,
};

/// Runs one process with `--json` into `stem.json`, its output into `stem.out` / `stem.err`.
fn run_process(target: &Target, timeout: Duration, stem: &Path) -> anyhow::Result<Ran> {
    if let Some(stop) = stop_requested() {
        return Err(stop.into());
    }
    let begin = Instant::now();
    let json = stem.with_extension("json");
    let err_path = stem.with_extension("err");
    let _ = fs::remove_file(&json);
    let stdout = fs::File::create(stem.with_extension("out"))?;
    let stderr = fs::File::create(&err_path)?;
    let mut command = Command::new(&target.exe);
    command
        .args(&target.args)
        .arg("--json")
        .arg(&json)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        // A group of its own: a timeout kills whatever the process started, too.
        .process_group(0);
    die_with_the_runner(&mut command);
    // The lifetime starts before `spawn`: it returns only once the child has exec'd, and on a
    // busy machine a short child can run to its end before the runner is scheduled again, so
    // a clock started after `spawn` can see less than the child's own samples.
    let started = Instant::now();
    let spawned = command.spawn();
    let mut child = match spawned {
        Ok(child) => child,
        // Not executable, not a format the kernel runs, gone: this row fails, the run goes on.
        Err(e) => {
            return Ok(Ran {
                result: Err(Failure {
                    reason: format!("could not start {}: {e}", target.exe.display()),
                    stderr_tail: String::new(),
                    known: None,
                }),
                overhead_ns: u64::try_from(begin.elapsed().as_nanos()).unwrap_or(u64::MAX),
                lifetime: Duration::ZERO,
                cpu: None,
            });
        }
    };
    let spawned = started;
    let (status, cpu) = wait_measured(&mut child, spawned + timeout)?;
    let lifetime = spawned.elapsed();
    // What it started and left running would disturb the rows measured next: its group, and
    // what left the group and was adopted by the runner when its parent ended.
    kill_group(&child);
    kill_orphans();
    let result = match status {
        None => Err(format!(
            "timed out after {} s and was killed",
            timeout.as_secs()
        )),
        Some(s) if s.code() != Some(target.expected_exit) => {
            Err(describe_exit(s, target.expected_exit))
        }
        Some(_) => match TimingResult::read(&json) {
            Ok(r) => check_result(&r, &target.key, lifetime).map(|()| r),
            Err(e) => Err(format!("wrote no usable timing result ({e:#})")),
        },
    };
    let result = result.map_err(|reason| Failure {
        reason,
        stderr_tail: tail(&read_end(&err_path, TAIL_BYTES), TAIL_LINES),
        known: None,
    });
    let overhead = begin.elapsed().saturating_sub(lifetime);
    Ok(Ran {
        result,
        overhead_ns: u64::try_from(overhead.as_nanos()).unwrap_or(u64::MAX),
        lifetime,
        cpu,
    })
}

/// Waits for a measured process until `deadline`: its exit status, or `None` if it outlived the
/// deadline and was killed, and the CPU time it used either way. `Err(Interrupted)` if the
/// runner was asked to stop (the process was killed), or the error of a failed wait, which ends
/// the run: the process then dies with the runner, which cannot tell whether its pid is still
/// the process'.
fn wait_measured(
    child: &mut Child,
    deadline: Instant,
) -> anyhow::Result<(Option<ExitStatus>, Option<Duration>)> {
    let (waited, cpu) = wait_or_kill_cpu(child, deadline, stop_requested, MEASURED_POLL);
    match waited {
        Waited::Exited(status) => Ok((Some(status), cpu)),
        Waited::TimedOut => Ok((None, cpu)),
        Waited::Stopped(stop) => Err(stop.into()),
        Waited::Failed(e) => Err(e.into()),
    }
}

/// Why a child's result cannot be taken as the measurement of `key`, if it cannot: it names
/// another exercise, variant, implementation, flavor or task count than what ran, its summary
/// does not count its samples, or a figure in it is longer than the process lived (`lifetime`,
/// as the runner saw it), which no span measured inside the process can be.
fn check_result(r: &TimingResult, key: &RowKey, lifetime: Duration) -> Result<(), String> {
    // `got` is the child's word: shown with its control characters escaped, as it goes on to
    // the terminal and into the report.
    let mismatch = |what: &str, got: &str, expected: &str| {
        Err(format!(
            "wrote a result for {what} '{}', expected '{expected}'",
            timing::cli::visible(got)
        ))
    };
    let shown = |v: Option<u64>| v.map_or("none".to_owned(), |n| n.to_string());
    if r.exercise != key.exercise {
        return mismatch("exercise", &r.exercise, &key.exercise);
    }
    if r.variant != key.variant {
        return mismatch("variant", &r.variant, &key.variant);
    }
    // CPython says `3.13.0rc1` where the probe, from `sys.version_info`, says `3.13.0`.
    let same_implementation = r
        .implementation
        .strip_prefix(&key.implementation)
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit() || c == '.'));
    if !same_implementation {
        return mismatch("implementation", &r.implementation, &key.implementation);
    }
    if r.flavor.as_deref() != key.flavor.map(Flavor::name) {
        let show = |v: Option<&str>| v.unwrap_or("none").to_owned();
        return mismatch(
            "flavor",
            &show(r.flavor.as_deref()),
            &show(key.flavor.map(Flavor::name)),
        );
    }
    if r.tasks != key.tasks {
        return Err(format!(
            "wrote a result for tasks {}, expected {}",
            shown(r.tasks),
            shown(key.tasks)
        ));
    }
    if r.samples_ns.is_empty() {
        return Err("wrote a timing result with no samples".to_owned());
    }
    if r.summary.count != r.samples_ns.len() as u64 {
        return Err(format!(
            "wrote a summary of {} samples beside {} samples",
            r.summary.count,
            r.samples_ns.len()
        ));
    }
    if !r.cpu_samples_ns.is_empty() && r.cpu_samples_ns.len() != r.samples_ns.len() {
        return Err(format!(
            "wrote {} CPU times beside {} samples",
            r.cpu_samples_ns.len(),
            r.samples_ns.len()
        ));
    }
    let lived = u64::try_from(lifetime.as_nanos()).unwrap_or(u64::MAX);
    let total = r
        .samples_ns
        .iter()
        .try_fold(0u64, |sum, &ns| sum.checked_add(ns));
    if total.is_none_or(|total| total > lived) {
        return Err(format!(
            "wrote samples that add up to longer than the process ran ({} ns)",
            lived
        ));
    }
    if let Some(latency) = &r.start_latency {
        let beyond = latency.buckets.iter().any(|&(ns, _)| ns > lived);
        let recorded = latency
            .buckets
            .iter()
            .try_fold(0u64, |sum, &(_, n)| sum.checked_add(n));
        if beyond {
            return Err(format!(
                "wrote a start latency longer than the process ran ({lived} ns)"
            ));
        }
        let possible = match (recorded, key.tasks) {
            (Some(n), Some(tasks)) => n <= tasks,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !possible {
            return Err(format!(
                "wrote more start latencies than its {} tasks",
                shown(key.tasks)
            ));
        }
    }
    Ok(())
}

fn describe_exit(status: ExitStatus, expected: i32) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}, expected {expected}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => format!("ended abnormally ({status})"),
    }
}

/// Lines and bytes of a failed process' stderr kept in its row: enough for a panic message and
/// its location, small enough that a process writing gigabytes on one line costs the runner,
/// results.json and the report a few KB.
const TAIL_LINES: usize = 12;
const TAIL_BYTES: u64 = 4 * 1024;

/// The last `max` bytes of the file at `path` (read by seeking there, never all of it), decoded
/// lossily: bytes that are not UTF-8 become U+FFFD instead of losing the tail. A cut tail starts
/// with `…`. Empty if the file cannot be read.
fn read_end(path: &Path, max: u64) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let read = || -> std::io::Result<(Vec<u8>, bool)> {
        let mut file = fs::File::open(path)?;
        let len = file.metadata()?.len();
        let start = len.saturating_sub(max);
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.take(max).read_to_end(&mut bytes)?;
        Ok((bytes, start > 0))
    };
    let Ok((bytes, cut)) = read() else {
        return String::new();
    };
    if !cut {
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    // Start at a character boundary: skip the continuation bytes of a character cut in two.
    let skip = bytes
        .iter()
        .take(3)
        .take_while(|&&b| b & 0xC0 == 0x80)
        .count();
    format!("…{}", String::from_utf8_lossy(&bytes[skip..]))
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Once the runner has been asked to stop, removes the run folder `run_dir` and returns
/// `Err(Interrupted)`: a stop that came after measuring, while results and the report were
/// written, still keeps nothing of the run.
pub fn discard_if_stopped(run_dir: &Path) -> anyhow::Result<()> {
    match stop_requested() {
        Some(stop) => {
            let _ = fs::remove_dir_all(run_dir);
            Err(stop.into())
        }
        None => Ok(()),
    }
}

/// Builds the exercises' release binaries and returns the folder they are in: wherever cargo
/// put them (`CARGO_TARGET_DIR`, a `build.target-dir` setting or `--target` included), as cargo
/// itself reports it. cargo's own output passes through: on a terminal what it compiles and a
/// bar, elsewhere (a pipe, CI's log) a line per crate, so a long build is never silent.
pub fn build_release(root: &Path, names: &[&str]) -> anyhow::Result<PathBuf> {
    crate::say!("cargo build --release ({})", names.join(", "));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // Diagnostics still go to stderr as text; stdout carries one JSON message per artifact.
    cmd.args([
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
    ])
    .current_dir(root)
    .stdout(Stdio::piped());
    for n in names {
        cmd.args(["-p", n]);
    }
    // Unlike the runner's other processes, cargo stays in the runner's process group, the
    // terminal's: Ctrl-C, Ctrl-Z, Ctrl-\ and a hang-up reach it and its compilers directly, and
    // it may write to the terminal under `stty tostop`. A SIGTERM to the runner alone is
    // passed on to cargo.
    die_with_the_runner(&mut cmd);
    let mut child = cmd.spawn().context("running cargo build")?;
    let reader = child.stdout.take().map(|mut stdout| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
            text
        })
    });
    let status = loop {
        if let Some(stop) = stop_requested() {
            let _ = rustix::process::kill_process(
                rustix::process::Pid::from_child(&child),
                rustix::process::Signal::TERM,
            );
            let _ = child.wait();
            return Err(stop.into());
        }
        match child.try_wait().context("waiting for cargo build")? {
            Some(status) => break status,
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let messages = reader.and_then(|r| r.join().ok()).unwrap_or_default();
    if !status.success() {
        bail!("cargo build --release failed ({status})");
    }
    binaries_dir(&messages, names)
}

/// The folder of the executables named `names` in cargo's JSON messages: all of them, or an
/// error naming the first that cargo did not report (or reported somewhere else).
fn binaries_dir(messages: &str, names: &[&str]) -> anyhow::Result<PathBuf> {
    let mut dirs: Vec<(String, PathBuf)> = Vec::new();
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue; // not a message of cargo's
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let (Some(name), Some(exe)) = (
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) else {
            continue; // a library, or a build script
        };
        if let Some(dir) = Path::new(exe).parent() {
            dirs.push((name.to_owned(), dir.to_path_buf()));
        }
    }
    let dir_of = |name: &str| dirs.iter().find(|(n, _)| n == name).map(|(_, d)| d);
    let Some((first, rest)) = names.split_first() else {
        bail!("no exercise to build");
    };
    let dir = dir_of(first)
        .with_context(|| format!("cargo build did not report the binary {first}"))?
        .clone();
    for name in rest {
        match dir_of(name) {
            Some(d) if *d == dir => {}
            Some(d) => bail!(
                "cargo built {name} into {} but {first} into {}",
                d.display(),
                dir.display()
            ),
            None => bail!("cargo build did not report the binary {name}"),
        }
    }
    Ok(dir)
}

/// A new folder `runs/<UTC timestamp>` (with `-2`, `-3`… if that second is taken).
pub fn new_run_dir(layout: &Layout) -> anyhow::Result<PathBuf> {
    let runs = layout.runs();
    fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
    let stamp = results::utc(results::now_secs()).0;
    for n in 1.. {
        let name = if n == 1 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let dir = runs.join(name);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
    unreachable!("some suffix is free")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python;

    #[test]
    fn over_a_period_each_target_takes_each_place_and_follows_each_other_equally_often() {
        for n in 1..8 {
            let period = if n % 2 == 0 { n } else { 2 * n };
            // From any round on: 7, and 0 as the rounds of a run count.
            for from in [0, 7] {
                let mut places = vec![vec![0; n]; n]; // target × place
                let mut follows = vec![vec![0; n]; n]; // target × the target just before
                for round in from..from + period as u32 {
                    let order: Vec<usize> = round_order(n, round).collect();
                    let mut each = order.clone();
                    each.sort_unstable();
                    assert_eq!(
                        each,
                        (0..n).collect::<Vec<_>>(),
                        "every target once a round"
                    );
                    for (place, &target) in order.iter().enumerate() {
                        places[target][place] += 1;
                    }
                    for pair in order.windows(2) {
                        follows[pair[1]][pair[0]] += 1;
                    }
                }
                let times = period / n;
                assert!(
                    places.iter().flatten().all(|&t| t == times),
                    "n = {n}: {places:?}"
                );
                for (target, before) in follows.iter().enumerate() {
                    for (other, &t) in before.iter().enumerate() {
                        let expected = if other == target { 0 } else { times };
                        assert_eq!(t, expected, "n = {n}: {follows:?}");
                    }
                }
            }
        }
        assert_eq!(round_order(0, 3).count(), 0);
    }

    /// A compiler-artifact message as cargo prints it (only the fields read here).
    fn artifact(name: &str, exe: Option<&str>) -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "target": { "name": name, "kind": ["bin"] },
            "executable": exe,
        })
        .to_string()
    }

    #[test]
    fn binaries_are_found_where_cargo_put_them() {
        let messages = [
            artifact("timing", None), // a library: no executable
            r#"{"reason":"build-script-executed","package_id":"x"}"#.to_owned(),
            artifact("ex_6_1", Some("/elsewhere/target/release/ex_6_1")),
            "   Compiling ex_6_2 (not JSON)".to_owned(),
            artifact("ex_6_2", Some("/elsewhere/target/release/ex_6_2")),
            r#"{"reason":"build-finished","success":true}"#.to_owned(),
        ]
        .join("\n");
        let dir = binaries_dir(&messages, &["ex_6_1", "ex_6_2"]).unwrap();
        assert_eq!(dir, Path::new("/elsewhere/target/release"));
    }

    #[test]
    fn a_binary_cargo_did_not_report_is_an_error_that_names_it() {
        let messages = artifact("ex_6_1", Some("/t/release/ex_6_1"));
        let e = binaries_dir(&messages, &["ex_6_1", "ex_6_3"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cargo build did not report the binary ex_6_3"
        );
        let e = binaries_dir("", &["ex_6_1"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cargo build did not report the binary ex_6_1"
        );
    }

    #[test]
    fn binaries_in_two_folders_are_an_error() {
        let messages = [
            artifact("ex_6_1", Some("/a/release/ex_6_1")),
            artifact("ex_6_2", Some("/b/release/ex_6_2")),
        ]
        .join("\n");
        let e = binaries_dir(&messages, &["ex_6_1", "ex_6_2"]).unwrap_err();
        assert!(e.to_string().contains("/b/release"), "{e}");
    }

    #[test]
    fn a_failed_wait_for_a_measured_process_ends_the_run_with_its_error() {
        let mut child = crate::process::tests::reaped_behind_its_back();
        let deadline = Instant::now() + Duration::from_secs(30);
        let e = wait_measured(&mut child, deadline).unwrap_err();
        assert!(e.downcast_ref::<std::io::Error>().is_some(), "{e:#}");
        assert!(e.downcast_ref::<Interrupted>().is_none(), "{e:#}");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }

    #[test]
    fn read_end_cuts_at_a_character_boundary() {
        let path = std::env::temp_dir().join(format!("xtask-read-end-{}", std::process::id()));
        fs::write(&path, "ééé\n").unwrap();
        assert_eq!(read_end(&path, 4), "…é\n", "3 bytes and a half of é");
        assert_eq!(read_end(&path, 100), "ééé\n");
        fs::remove_file(&path).unwrap();
        assert_eq!(read_end(&path, 100), "");
    }

    #[test]
    fn short_processes_run_several_times_a_round_long_ones_once() {
        assert_eq!(repeats(Duration::from_millis(100)), 4);
        assert_eq!(repeats(Duration::from_millis(400)), 2);
        assert_eq!(repeats(Duration::from_secs(9)), 1);
        assert_eq!(repeats(Duration::ZERO), 4);
    }

    #[test]
    fn a_name_a_child_made_up_is_shown_escaped_in_its_failure() {
        let mut rec = timing::Recorder::new();
        rec.record_ns(1_000);
        let key = RowKey {
            exercise: "ex_6_4".into(),
            variant: "shutdown".into(),
            implementation: "rust".into(),
            flavor: Some(Flavor::Current),
            tasks: None,
            entry: None,
            measure: None,
        };
        let lie = TimingResult::new(
            "\u{1b}]0;pwned\u{7}\u{1b}[2J",
            "shutdown",
            "rust",
            Some("current"),
            None,
            &rec,
        );
        let why = check_result(&lie, &key, Duration::from_secs(1)).unwrap_err();
        assert!(!why.contains('\u{1b}') && !why.contains('\u{7}'), "{why:?}");
        assert!(why.contains("\\u{1b}]0;pwned"), "{why}");
    }

    #[test]
    fn a_prerelease_cpython_matches_its_probed_version_and_no_other() {
        let probed = python::Interpreter::cpython("/usr/bin/python3.13", (3, 13, 1));
        let mut rec = timing::Recorder::new();
        rec.record_ns(1_000);
        let key = RowKey {
            exercise: "ex_6_4".into(),
            variant: "asyncio".into(),
            implementation: probed.implementation(),
            flavor: None,
            tasks: None,
            entry: None,
            measure: None,
        };
        let result = |implementation: &str| {
            TimingResult::new("ex_6_4", "asyncio", implementation, None, None, &rec)
        };
        let lived = Duration::from_secs(1);
        assert_eq!(check_result(&result("cpython-3.13.1"), &key, lived), Ok(()));
        assert_eq!(
            check_result(&result("cpython-3.13.1rc2"), &key, lived),
            Ok(())
        );
        for other in ["cpython-3.13.10", "cpython-3.13.1.5", "pypy-3.13.1"] {
            assert!(
                check_result(&result(other), &key, lived).is_err(),
                "{other}"
            );
        }
        assert!(check_result(&result("cpython-3.13.1"), &key, Duration::from_nanos(999)).is_err());
    }
}
