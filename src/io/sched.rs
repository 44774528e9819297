//! Scheduling of the context's I/O threads: ZMQ_THREAD_SCHED_POLICY, ZMQ_THREAD_PRIORITY and
//! ZMQ_THREAD_AFFINITY_CPU_ADD/REMOVE, fixed when the first socket starts the threads. Each
//! thread applies them to itself as it starts, in libzmq's order: policy and priority, then
//! the nice value, then the CPU set.
//!
//! libzmq aborts the process when the OS refuses (a bad policy or CPU, EPERM); a library must
//! not take its host down, so the thread reports the errno instead and the context fails the
//! zmq_socket call that started it.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// What a starting thread applies to itself, and where it reports the outcome.
#[derive(Clone)]
pub(crate) struct ThreadSched {
    /// A `SCHED_*` policy, or -1 to keep the inherited one.
    policy: i32,
    /// -1 to keep; for SCHED_FIFO/RR the static priority, for the other policies any value
    /// above 0 asks for the highest priority through the nice value (-20), as in libzmq.
    priority: i32,
    /// Empty: no explicit affinity.
    cpus: Vec<i32>,
    report: SyncSender<Result<(), i32>>,
}

impl ThreadSched {
    /// A configuration for `threads` threads and the receiver of their outcomes.
    pub(crate) fn new(
        policy: i32,
        priority: i32,
        cpus: Vec<i32>,
        threads: usize,
    ) -> (ThreadSched, Receiver<Result<(), i32>>) {
        let (report, results) = sync_channel(threads);
        (ThreadSched { policy, priority, cpus, report }, results)
    }

    /// Called first thing by the thread being configured.
    pub(crate) fn apply(self) {
        let _ = self.report.send(apply_to_current(self.policy, self.priority, &self.cpus));
    }
}

/// The calling thread's errno after a failed call.
fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL)
}

fn apply_to_current(policy: i32, priority: i32, cpus: &[i32]) -> Result<(), i32> {
    if policy != -1 || priority != -1 {
        // On Linux pid 0 is the calling thread for all of these.
        let mut param = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain syscalls on the calling thread with a valid out-pointer.
        let current = unsafe { libc::sched_getscheduler(0) };
        // SAFETY: as above.
        if current == -1 || unsafe { libc::sched_getparam(0, &mut param) } == -1 {
            return Err(errno());
        }
        let policy = if policy == -1 { current } else { policy };
        // Only the real-time policies have static priorities; the others take 0.
        let use_nice = policy != libc::SCHED_FIFO && policy != libc::SCHED_RR;
        if priority != -1 {
            param.sched_priority = if use_nice { 0 } else { priority };
        }
        // SAFETY: as above; `param` is initialised.
        if unsafe { libc::sched_setscheduler(0, policy, &param) } == -1 {
            return Err(errno());
        }
        if use_nice && priority > 0 {
            // nice() may return -1 as a value: errno tells an error apart.
            // SAFETY: __errno_location points to this thread's errno; nice is a syscall.
            let failed = unsafe {
                *libc::__errno_location() = 0;
                libc::nice(-20) == -1 && *libc::__errno_location() != 0
            };
            if failed {
                return Err(errno());
            }
        }
    }
    if !cpus.is_empty() {
        // SAFETY: cpu_set_t is a plain bit array; all zeros is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for &cpu in cpus {
            // As glibc's CPU_SET, a CPU beyond the set's size is left out.
            if (cpu as usize) < libc::CPU_SETSIZE as usize {
                // SAFETY: the index is within the set, checked above.
                unsafe { libc::CPU_SET(cpu as usize, &mut set) };
            }
        }
        // SAFETY: `set` is a valid cpu_set_t of the size given.
        if unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) } == -1
        {
            return Err(errno());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_touch_nothing_and_report_ok() {
        let (s, r) = ThreadSched::new(-1, -1, Vec::new(), 1);
        std::thread::spawn(move || s.apply()).join().unwrap();
        assert_eq!(r.recv().unwrap(), Ok(()));
    }

    #[test]
    fn bad_policy_and_cpu_are_reported() {
        let (s, r) = ThreadSched::new(99, -1, Vec::new(), 1);
        std::thread::spawn(move || s.apply()).join().unwrap();
        assert_eq!(r.recv().unwrap(), Err(libc::EINVAL));
        let (s, r) = ThreadSched::new(-1, -1, vec![1000], 1);
        std::thread::spawn(move || s.apply()).join().unwrap();
        assert_eq!(r.recv().unwrap(), Err(libc::EINVAL));
    }
}
