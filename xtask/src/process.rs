//! The runner's child processes: each in a process group of its own, killed with it, and
//! killed by the kernel if the runner dies first.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Kills the child's process group (the child leads it), then the child itself should it have
/// left its group, and reaps it. The group is killed before the child is reaped, so its id
/// cannot have been reused.
pub fn kill_and_reap(child: &mut Child) {
    kill_group(child);
    let _ = child.kill();
    let _ = child.wait();
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
