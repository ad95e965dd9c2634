//! The runner's child processes: each in a process group of its own, killed with it, and
//! killed by the kernel if the runner dies first; waited for within a deadline.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;

/// Makes the process `command` starts get SIGKILL when the runner dies, however it dies: SIGKILL
/// of the runner cannot be caught, so only the kernel can stop its processes then (Linux
/// `PR_SET_PDEATHSIG`). This covers the process itself, not what it starts in turn. The kernel
/// sends the signal when the *thread* that started the process ends: every caller waits for its
/// child on the thread that started it.
///
/// The one unsafe block of the runner: `pre_exec` runs its closure in the forked child before
/// `exec`, where only async-signal-safe calls are sound. The closure makes two raw system calls
/// through rustix (`prctl`, `getppid`), allocates nothing and takes no lock. If the runner died
/// between the fork and the `prctl`, the child has already been adopted and no signal would come:
/// the parent check turns that into a failed start instead.
#[allow(unsafe_code)]
pub fn die_with_the_runner(command: &mut Command) {
    use rustix::process::{Signal, getpid, getppid, set_parent_process_death_signal};
    let runner = getpid();
    // SAFETY: the closure only makes async-signal-safe system calls (see above).
    unsafe {
        command.pre_exec(move || {
            set_parent_process_death_signal(Some(Signal::KILL))?;
            if getppid() != Some(runner) {
                return Err(rustix::io::Errno::SRCH.into());
            }
            Ok(())
        });
    }
}

/// SIGKILL to the process group `child` leads (its id, from `process_group(0)`). After the
/// leader is reaped the id stays the group's while any member lives; with none left the call
/// fails harmlessly (ESRCH).
pub fn kill_group(child: &Child) {
    use rustix::process::{Pid, Signal, kill_process_group};
    let _ = kill_process_group(Pid::from_child(child), Signal::KILL);
}

/// Makes the runner the reaper of whatever its processes leave behind (Linux
/// `PR_SET_CHILD_SUBREAPER`): a process that a child started and then left, even in a session
/// of its own with its output closed, becomes the runner's child when its parent ends, instead
/// of init's, so [`kill_orphans`] can find it. A kernel without it leaves things as they were.
pub fn adopt_orphans() {
    if rustix::process::set_child_subreaper(Some(rustix::process::getpid())).is_ok() {
        ADOPTING.store(true, Ordering::SeqCst);
    }
}

/// Whether [`adopt_orphans`] made this process a reaper: only then is every child it has at a
/// quiet moment an orphan. (A test binary that calls the runner's functions has children of
/// its other tests running, and [`kill_orphans`] leaves them alone.)
static ADOPTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Kills and reaps every child the runner has: called where the runner has no process of its
/// own running (after the probes, after each measured process, before it exits), so that every
/// child it has then is one it adopted ([`adopt_orphans`]). Killing one orphan hands its own
/// children to the runner in turn, so it looks again, a bounded number of times.
pub fn kill_orphans() {
    use rustix::process::{Pid, Signal, WaitOptions, kill_process, waitpid};
    if !ADOPTING.load(Ordering::SeqCst) {
        return;
    }
    let me = std::process::id();
    for _ in 0..64 {
        let orphans = children_of(me);
        if orphans.is_empty() {
            break;
        }
        for pid in orphans {
            if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
                let _ = kill_process(pid, Signal::KILL);
                let _ = waitpid(Some(pid), WaitOptions::empty());
            }
        }
    }
}

/// The processes whose parent is `parent`, from `/proc` (zombies included: they wait to be
/// reaped).
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after
            // the last ')'.
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rsplit_once(") ")
                    .and_then(|(_, rest)| rest.split(' ').nth(1)?.parse::<u32>().ok())
                    == Some(parent)
            })
        })
        .collect()
}

/// Kills the child's process group (the child leads it), then the child itself should it have
/// left its group, and reaps it. The group is killed before the child is reaped, so its id
/// cannot have been reused.
pub fn kill_and_reap(child: &mut Child) {
    kill_group(child);
    let _ = child.kill();
    let _ = child.wait();
}

/// How [`wait_or_kill`] ended.
#[derive(Debug)]
pub enum Waited {
    /// The child exited by itself, with this status.
    Exited(ExitStatus),
    /// It outlived the deadline: it was killed, with its process group, and reaped.
    TimedOut,
    /// `stop` said the runner was asked to stop: the child was killed, with its process group,
    /// and reaped.
    Stopped(Interrupted),
    /// Looking at the child (`try_wait`) failed, and [`Poll::retry_failed`] was not set. It is
    /// left as it is: its pid may no longer be its, so whether to kill it is the caller's call.
    Failed(io::Error),
}

/// How often [`wait_or_kill`] looks at its child, and what a failed look does.
#[derive(Debug, Clone, Copy)]
pub struct Poll {
    /// The pause after the first look; each next pause is twice the last, up to `max`.
    pub first: Duration,
    pub max: Duration,
    /// Whether a failed look is passed over, looked again after the pause until the deadline,
    /// instead of ending the wait with [`Waited::Failed`].
    pub retry_failed: bool,
}

impl Poll {
    /// A look every `pause`; a failed look ends the wait.
    pub const fn every(pause: Duration) -> Self {
        Self {
            first: pause,
            max: pause,
            retry_failed: false,
        }
    }
}

/// Waits for `child` to exit until `deadline`, looking at it as `poll` says. Each look checks,
/// in this order, whether the child has exited, whether `stop` says to stop (the runner's own
/// is [`stop_requested`]) and whether the deadline has passed; the last two kill the child with
/// its process group and reap it ([`kill_and_reap`]). Call it on the thread that started the
/// child (see [`die_with_the_runner`]).
pub fn wait_or_kill(
    child: &mut Child,
    deadline: Instant,
    stop: impl Fn() -> Option<Interrupted>,
    poll: Poll,
) -> Waited {
    watch(child, deadline, stop, poll, Child::try_wait, kill_and_reap)
}

/// [`wait_or_kill`], reaping the child with `wait4`, which also gives the CPU time it used:
/// user and system time of all its threads, and of the descendants it waited for itself, from
/// its start to its exit, or to its death when it is killed. Its own, whatever else the runner
/// reaps meanwhile (`getrusage(RUSAGE_CHILDREN)` would add those). `None` where it was not
/// reaped here ([`Waited::Failed`]).
///
/// `Child` does not learn that its process was reaped: after this returns, neither wait for it
/// nor signal it through `child` (its process group, [`kill_group`], is still safe to signal).
pub fn wait_or_kill_cpu(
    child: &mut Child,
    deadline: Instant,
    stop: impl Fn() -> Option<Interrupted>,
    poll: Poll,
) -> (Waited, Option<Duration>) {
    let cpu = std::cell::Cell::new(None);
    let reaped = |used: wait4::ResUse| {
        cpu.set(Some(used.rusage.utime + used.rusage.stime));
        used.status
    };
    let look = |child: &mut Child| Ok(wait4::Wait4::try_wait4(child)?.map(reaped));
    let kill = |child: &mut Child| {
        if let Some(used) = kill_and_reap_with_usage(child) {
            reaped(used);
        }
    };
    let waited = watch(child, deadline, stop, poll, look, kill);
    (waited, cpu.get())
}

/// [`kill_and_reap`] with `wait4`: kills the child's process group and the child, waits without
/// reaping until the child has exited, then reaps it with what it used. `None` if it cannot be
/// waited for (it was reaped already).
fn kill_and_reap_with_usage(child: &mut Child) -> Option<wait4::ResUse> {
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
    kill_group(child);
    // Not reaped yet: the pid is still the child's, and `Child` still thinks it runs.
    let _ = child.kill();
    let pid = Pid::from_child(child);
    loop {
        match waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return None,
            Ok(_) => break,
        }
    }
    // It has exited: the look reaps it at once.
    wait4::Wait4::try_wait4(child).ok().flatten()
}

/// The loop of [`wait_or_kill`]: `look` says whether the child has exited (reaping it), `kill`
/// kills it with its process group and reaps it.
fn watch(
    child: &mut Child,
    deadline: Instant,
    stop: impl Fn() -> Option<Interrupted>,
    poll: Poll,
    mut look: impl FnMut(&mut Child) -> io::Result<Option<ExitStatus>>,
    kill: impl FnOnce(&mut Child),
) -> Waited {
    let mut pause = poll.first;
    loop {
        match look(child) {
            Ok(Some(status)) => return Waited::Exited(status),
            Ok(None) => {}
            Err(e) if !poll.retry_failed => return Waited::Failed(e),
            Err(_) => {} // as if it still ran: the deadline ends it
        }
        if let Some(signal) = stop() {
            kill(child);
            return Waited::Stopped(signal);
        }
        if Instant::now() >= deadline {
            kill(child);
            return Waited::TimedOut;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(poll.max);
    }
}

/// The signal (SIGINT, SIGTERM, SIGHUP or SIGQUIT) that asked the run to stop; 0 while none has.
static STOP: AtomicUsize = AtomicUsize::new(0);

/// The run was stopped by a signal: its processes were killed, nothing of it kept, and
/// `latest` left as it was. `cargo xtask` exits with 128 + the signal's number.
#[derive(Debug)]
pub struct Interrupted(pub i32);

impl Interrupted {
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.0).unwrap_or(1)
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.0 {
            signal_hook::consts::SIGINT => "SIGINT",
            signal_hook::consts::SIGTERM => "SIGTERM",
            signal_hook::consts::SIGHUP => "SIGHUP",
            signal_hook::consts::SIGQUIT => "SIGQUIT",
            _ => "a signal",
        };
        write!(
            f,
            "stopped by {name}: the running process was killed, nothing of this run was kept, latest left as it was"
        )
    }
}

impl std::error::Error for Interrupted {}

/// From now on SIGINT (Ctrl-C), SIGTERM, SIGHUP (the terminal closed) and SIGQUIT (Ctrl-\) set
/// [`STOP`] instead of ending the runner, which polls it while any of its processes runs. A
/// probe, `pip` or a measured process runs in a group of its own, which a terminal's signals
/// do not reach: the runner kills the whole group, with whatever the process started. The
/// build runs in the runner's own group, where the terminal's signals reach cargo directly.
pub fn catch_stop_signals() -> anyhow::Result<()> {
    static ONCE: std::sync::OnceLock<std::io::Result<()>> = std::sync::OnceLock::new();
    let registered = ONCE.get_or_init(|| {
        for signal in [
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
            signal_hook::consts::SIGQUIT,
        ] {
            signal_hook::flag::register_usize(signal, &STOP, signal as usize)?;
        }
        Ok(())
    });
    match registered {
        Ok(()) => Ok(()),
        Err(e) => bail!("catching the stop signals: {e}"),
    }
}

/// The signal that asked the run to stop, if one has.
pub fn stop_requested() -> Option<Interrupted> {
    match STOP.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(Interrupted(i32::try_from(signal).unwrap_or(0))),
    }
}

/// `Err(Interrupted)` once the runner has been asked to stop: each phase of a run checks it
/// before the next begins.
pub fn stopped() -> anyhow::Result<()> {
    match stop_requested() {
        Some(stop) => Err(stop.into()),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::cell::Cell;
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    /// Far longer than any child here needs, far shorter than a hang.
    const AMPLE: Duration = Duration::from_secs(30);
    const POLL: Poll = Poll {
        first: Duration::from_millis(5),
        max: Duration::from_millis(5),
        retry_failed: false,
    };

    /// `sh -c script` in a process group of its own, as the runner starts its children.
    pub(crate) fn sh(script: &str) -> Child {
        Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("sh starts")
    }

    /// Whether `pid` still runs within a few seconds (a zombie does not run; SIGKILL takes
    /// effect when the process is next scheduled).
    pub(crate) fn still_runs(pid: u32) -> bool {
        let runs = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                !stat
                    .rsplit_once(") ")
                    .is_some_and(|(_, s)| s.starts_with('Z'))
            })
        };
        let start = Instant::now();
        while runs() {
            if start.elapsed() > Duration::from_secs(5) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn never() -> Option<Interrupted> {
        None
    }

    #[test]
    fn a_child_that_exits_gives_its_status() {
        let mut child = sh("exit 3");
        let deadline = Instant::now() + AMPLE;
        match wait_or_kill(&mut child, deadline, never, POLL) {
            Waited::Exited(status) => assert_eq!(status.code(), Some(3)),
            other => panic!("{other:?}"),
        }
        // The growing pause ends the same way.
        let mut child = sh("exit 0");
        let growing = Poll {
            first: Duration::from_micros(20),
            max: Duration::from_millis(2),
            retry_failed: false,
        };
        assert!(matches!(
            wait_or_kill(&mut child, deadline, never, growing),
            Waited::Exited(s) if s.success()
        ));
    }

    #[test]
    fn a_child_that_outlives_the_deadline_is_killed_with_its_group_and_reaped() {
        // The shell starts a sleeper in its group, says its pid and waits for it.
        let mut child = sh("sleep 30 & echo $!; wait");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the sleeper's pid");
        let sleeper: u32 = line.trim().parse().expect("a pid");
        let deadline = Instant::now() + Duration::from_millis(100);
        assert!(matches!(
            wait_or_kill(&mut child, deadline, never, POLL),
            Waited::TimedOut
        ));
        // Reaped: its status is known, and it is SIGKILL's.
        let status = child.try_wait().expect("known").expect("reaped");
        assert_eq!(status.signal(), Some(9));
        assert!(!still_runs(sleeper), "the sleeper {sleeper} still runs");
    }

    #[test]
    fn a_stop_kills_and_reaps_the_child_and_says_which_signal() {
        let mut child = sh("sleep 30");
        let looks = Cell::new(0);
        // No stop at the first two looks, then SIGTERM's.
        let stop = || {
            looks.set(looks.get() + 1);
            (looks.get() > 2).then_some(Interrupted(signal_hook::consts::SIGTERM))
        };
        match wait_or_kill(&mut child, Instant::now() + AMPLE, stop, POLL) {
            Waited::Stopped(Interrupted(signal)) => {
                assert_eq!(signal, signal_hook::consts::SIGTERM)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(looks.get(), 3);
        let status = child.try_wait().expect("known").expect("reaped");
        assert_eq!(status.signal(), Some(9));
    }

    /// A shell counting to `n`: CPU-bound work of a known amount, whatever the machine's load.
    fn count_to(n: u32) -> String {
        format!("i=0; while [ $i -lt {n} ]; do i=$((i+1)); done")
    }

    /// `wait_or_kill_cpu` on `child`, with the wall time from before `start` ran to its end.
    fn timed(
        start: impl FnOnce() -> Child,
        deadline: Duration,
    ) -> (Waited, Option<Duration>, Duration) {
        let began = Instant::now();
        let mut child = start();
        let (waited, cpu) = wait_or_kill_cpu(&mut child, began + deadline, never, POLL);
        (waited, cpu, began.elapsed())
    }

    fn cores() -> u32 {
        std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
    }

    #[test]
    fn a_child_that_computes_has_cpu_time_no_more_than_its_wall_time_on_every_core() {
        let (waited, cpu, wall) = timed(|| sh(&count_to(100_000)), AMPLE);
        assert!(
            matches!(waited, Waited::Exited(s) if s.success()),
            "{waited:?}"
        );
        let cpu = cpu.expect("known once reaped");
        assert!(cpu > Duration::ZERO, "{cpu:?}");
        assert!(cpu <= wall * cores(), "{cpu:?} of CPU in {wall:?}");
    }

    #[test]
    fn a_child_that_sleeps_uses_little_of_its_wall_time_as_cpu() {
        let (waited, cpu, wall) = timed(|| sh("sleep 0.3"), AMPLE);
        assert!(
            matches!(waited, Waited::Exited(s) if s.success()),
            "{waited:?}"
        );
        let cpu = cpu.expect("known once reaped");
        assert!(cpu < wall / 2, "{cpu:?} of CPU in {wall:?}: it slept");
    }

    #[test]
    fn a_killed_child_has_the_cpu_time_it_used_until_then() {
        // It computes until it is killed at the deadline.
        let deadline = Duration::from_millis(200);
        let (waited, cpu, wall) = timed(|| sh("while :; do :; done"), deadline);
        assert!(matches!(waited, Waited::TimedOut), "{waited:?}");
        let cpu = cpu.expect("known once reaped");
        assert!(cpu > Duration::ZERO, "{cpu:?}");
        assert!(cpu <= wall * cores(), "{cpu:?} of CPU in {wall:?}");
        // The runner's stop does the same.
        let mut child = sh("while :; do :; done");
        let stop = || Some(Interrupted(signal_hook::consts::SIGINT));
        let (waited, cpu) = wait_or_kill_cpu(&mut child, Instant::now() + AMPLE, stop, POLL);
        assert!(matches!(waited, Waited::Stopped(_)), "{waited:?}");
        assert!(cpu.is_some());
    }

    #[test]
    fn a_child_reaped_elsewhere_has_no_cpu_time() {
        let mut child = reaped_behind_its_back();
        let (waited, cpu) = wait_or_kill_cpu(&mut child, Instant::now() + AMPLE, never, POLL);
        assert!(matches!(waited, Waited::Failed(_)), "{waited:?}");
        assert_eq!(cpu, None);
    }

    /// A child that has exited and been reaped behind `Child`'s back: `try_wait` fails on it.
    pub(crate) fn reaped_behind_its_back() -> Child {
        use rustix::process::{Pid, WaitOptions, waitpid};
        let child = sh("exit 0");
        waitpid(Some(Pid::from_child(&child)), WaitOptions::empty()).expect("reaped here");
        child
    }

    #[test]
    fn a_failed_look_ends_the_wait_or_is_retried_until_the_deadline() {
        let mut child = reaped_behind_its_back();
        match wait_or_kill(&mut child, Instant::now() + AMPLE, never, POLL) {
            Waited::Failed(e) => assert_eq!(
                e.raw_os_error(),
                Some(rustix::io::Errno::CHILD.raw_os_error())
            ),
            other => panic!("{other:?}"),
        }
        let mut child = reaped_behind_its_back();
        let retry = Poll {
            retry_failed: true,
            ..POLL
        };
        let deadline = Instant::now() + Duration::from_millis(100);
        assert!(matches!(
            wait_or_kill(&mut child, deadline, never, retry),
            Waited::TimedOut
        ));
    }
}
