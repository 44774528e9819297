//! A mailbox: the command queue of a socket (or I/O thread) plus the eventfd that wakes
//! its owner. The eventfd is what `ZMQ_FD` returns.
//!
//! Commands travel through a ypipe, as in libzmq: senders serialise on a short lock that
//! covers only the queue write (never a syscall), and the eventfd is written only when the
//! owner had found the queue empty and gone to sleep. The owner reads without contention
//! and clears the eventfd once per sleep, when it finds the queue dry.

use super::command::Command;
use crate::error::{err, ZResult};
use crate::pipe::{PipeEvent, PipeEvents};
use crate::ypipe::{ypipe, Reader, Writer};
use parking_lot::Mutex;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct Mailbox {
    writer: Mutex<Writer<Command>>,
    /// Only the owner reads; the lock is never contended.
    reader: Mutex<ReaderState>,
    fd: OwnedFd,
    /// Set by every send: lets the owner skip the queue on its message path.
    pending: AtomicBool,
}

struct ReaderState {
    reader: Reader<Command>,
    /// False once the queue was found empty: the next command comes with a signal.
    active: bool,
}

impl Mailbox {
    pub(crate) fn new() -> ZResult<Mailbox> {
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EMFILE));
        }
        let (w, mut r) = ypipe();
        // Start asleep, so the very first command raises the eventfd: the owner may be
        // waiting on it (an I/O thread in epoll, an application polling ZMQ_FD) without
        // having looked at the queue yet.
        let empty = !r.check_read();
        debug_assert!(empty);
        Ok(Mailbox {
            writer: Mutex::new(w),
            reader: Mutex::new(ReaderState { reader: r, active: false }),
            // SAFETY: fd is a fresh descriptor we own.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            pending: AtomicBool::new(false),
        })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Queues a command; signals the eventfd only if the owner is asleep.
    pub(crate) fn send(&self, cmd: Command) {
        let awake = {
            let mut w = self.writer.lock();
            w.write(cmd);
            w.flush()
        };
        self.pending.store(true, Ordering::SeqCst);
        if !awake {
            let one: u64 = 1;
            // SAFETY: writing 8 bytes from a local to our eventfd.
            unsafe { libc::write(self.fd.as_raw_fd(), &one as *const u64 as *const _, 8) };
        }
    }

    /// True if commands may be waiting (a lock-free hint for the hot path).
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes every queued command.
    pub(crate) fn take(&self, out: &mut Vec<Command>) {
        self.pending.store(false, Ordering::SeqCst);
        let mut r = self.reader.lock();
        loop {
            while let Some(c) = r.reader.read() {
                out.push(c);
            }
            // The queue is dry and we are marked asleep: the next sender signals. A signal
            // already there belongs to commands we have just taken (or will take now).
            if r.active {
                r.active = false;
                return;
            }
            let mut buf: u64 = 0;
            // SAFETY: reading 8 bytes into a local from our non-blocking eventfd.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), &mut buf as *mut u64 as *mut _, 8) };
            if n != 8 {
                return;
            }
            r.active = true;
        }
    }

    /// Waits until a command is pending or `deadline` passes (None: forever).
    /// Fails with EINTR when a signal interrupts the wait, EAGAIN on timeout.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> ZResult<()> {
        {
            // Make sure we are marked asleep before sleeping: a command sent while we were
            // awake raised no signal.
            let mut r = self.reader.lock();
            if r.reader.check_read() {
                return Ok(());
            }
            r.active = false;
        }
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
                    (left.as_millis() as i64
                        + i64::from(!left.subsec_nanos().is_multiple_of(1_000_000)))
                    .min(i32::MAX as i64) as i32
                }
            };
            let mut pfd =
                libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc > 0 {
                self.pending.store(true, Ordering::SeqCst);
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

/// A pipe's events reach the owner of its other end as commands in that owner's mailbox.
impl PipeEvents for Mailbox {
    fn pipe_event(&self, ev: PipeEvent) {
        self.send(match ev {
            PipeEvent::ActivateRead(pipe) => Command::ActivateRead { pipe },
            PipeEvent::ActivateWrite(pipe) => Command::ActivateWrite { pipe },
            PipeEvent::Term(pipe) => Command::PipeTerm { pipe },
        });
    }
}
