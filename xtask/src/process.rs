//! The runner's child processes: each in a process group of its own, killed with it, and
//! killed by the kernel if the runner dies first.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

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
