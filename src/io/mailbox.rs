//! A mailbox: the command queue of a socket (or I/O object) plus the eventfd that tells its
//! owner commands are waiting. The eventfd is what `ZMQ_FD` returns; it stays readable while
//! commands are pending and is cleared when the owner takes them.

use crate::error::{err, ZResult};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use super::command::Command;

pub(crate) struct Mailbox {
    queue: Mutex<Inner>,
    fd: OwnedFd,
    /// Mirrors `Inner::signaled` so the owner can check for commands on every message
    /// without taking the lock.
    pending: AtomicBool,
}

struct Inner {
    cmds: VecDeque<Command>,
    /// True while the eventfd holds an unread signal.
    signaled: bool,
}

impl Mailbox {
    pub(crate) fn new() -> ZResult<Mailbox> {
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EMFILE));
        }
        Ok(Mailbox {
            queue: Mutex::new(Inner { cmds: VecDeque::new(), signaled: false }),
            // SAFETY: fd is a fresh descriptor we own.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            pending: AtomicBool::new(false),
        })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Queues a command; signals the eventfd only on the empty-to-non-empty edge.
    pub(crate) fn send(&self, cmd: Command) {
        let mut q = self.queue.lock();
        q.cmds.push_back(cmd);
        if !q.signaled {
            q.signaled = true;
            self.pending.store(true, Ordering::Release);
            let one: u64 = 1;
            // SAFETY: writing 8 bytes from a local to our eventfd.
            unsafe { libc::write(self.fd.as_raw_fd(), &one as *const u64 as *const _, 8) };
        }
    }

    /// True if commands may be waiting (a lock-free hint for the hot path).
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes every pending command, clearing the signal.
    pub(crate) fn take(&self, out: &mut Vec<Command>) {
        let mut q = self.queue.lock();
        if !q.signaled {
            return;
        }
        out.extend(q.cmds.drain(..));
        q.signaled = false;
        self.pending.store(false, Ordering::Release);
        let mut buf: u64 = 0;
        // SAFETY: reading 8 bytes into a local from our non-blocking eventfd.
        unsafe { libc::read(self.fd.as_raw_fd(), &mut buf as *mut u64 as *mut _, 8) };
    }

    /// Waits until a command is pending or `timeout` passes (None: forever).
    /// Fails with EINTR when a signal interrupts the wait, EAGAIN on timeout.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> ZResult<()> {
        loop {
            let ms = match deadline {
                None => -1,
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return err(libc::EAGAIN);
                    }
                    // Round up so we never wake just before the deadline and spin.
                    let left = d - now;
                    (left.as_millis() as i64 + i64::from(left.subsec_nanos() % 1_000_000 != 0))
                        .min(i32::MAX as i64) as i32
                }
            };
            let mut pfd = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc > 0 {
                return Ok(());
            }
            if rc < 0 {
                let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINTR);
                return err(e);
            }
        }
    }
}

/// A deadline `ms` milliseconds from now; negative means none.
pub(crate) fn deadline_after(ms: i64) -> Option<Instant> {
    (ms >= 0).then(|| Instant::now() + Duration::from_millis(ms as u64))
}
