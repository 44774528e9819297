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
use crate::sync::{fence, AtomicBool, AtomicU32, AtomicU64, Mutex, Ordering};
use crate::ypipe::{ypipe, Reader, Writer};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

pub(crate) struct Mailbox {
    writer: Mutex<Writer<Command>>,
    /// Only the owner reads; the lock is never contended.
    reader: Mutex<ReaderState>,
    signal: Signal,
    /// Bit 0 (`PENDING`), set by every send: lets the owner skip the queue on its message
    /// path. Above it (in units of `RAISED`), the writes to the eventfd begun so far, each
    /// counted before it is made. One word, so the owner's clearing of `PENDING` also tells
    /// it how many writes it may drain.
    state: AtomicU64,
    /// One thread of a thread-safe socket sleeps on the eventfd (`wait`) while others
    /// take commands: they must leave the signal for it, or it sleeps on with the command
    /// it waited for already run (a sender blocked at the HWM never learning of room).
    polled: AtomicBool,
    /// `PARKED` while the owner sleeps on this word (`park`) rather than on the eventfd:
    /// the sender that finds it asleep wakes it with one futex call, and no eventfd is
    /// written, nor read after.
    parked: Futex,
}

struct ReaderState {
    reader: Reader<Command>,
    /// False once the queue was found empty: the next command comes with a signal.
    active: bool,
    /// Writes to the eventfd drained so far (a read returns how many it cleared). While it
    /// equals the count begun, the eventfd is down and `take` knows it without a read(2):
    /// on a single CPU the woken owner often runs before its waker sets `PENDING` the
    /// second time, and the `take` that late store causes cost an EAGAIN read per wake-up.
    drained: u64,
}

const PENDING: u64 = 1;
const RAISED: u64 = 2;
const PARKED: u32 = 1;

// The wake-up protocol, which the loom models below check:
// - A sender publishes its command (ypipe flush); if the owner had marked itself asleep,
//   that sender alone raises the signal. It sets `pending` before the signal, so an owner
//   woken by the signal sees it, and again after, so an owner that ran `take` between the
//   two (and found the signal not landed yet) looks again and drains it. Without the second
//   store the descriptor stayed readable with `pending` false and nothing would ever drain
//   it: ZMQ_FD readable forever, and event loops spinning.
// - The owner clears `pending` before reading, reads until the queue is dry (which marks it
//   asleep again), then drains the signal. Every signal is thus followed by a `pending`
//   store that a later `take` sees: once senders are quiet, after one `take` the signal is
//   down, and after any later one `pending` is false or the signal is down.
// - Each write is counted before it is made, in the same word as `pending`; the owner reads
//   the eventfd only while fewer writes were drained than counted. A write counted but not
//   landed yet is followed by the `pending` store that brings the owner back for it.
// - An owner that parks stores `parked` before marking itself asleep; the sender that
//   finds it asleep (the only one that would raise the signal) takes `parked` back with a
//   swap and wakes it instead. Whoever swaps `parked` from PARKED to 0 first, that sender
//   or the owner giving up (time-out, signal), settles it: a sender that comes second
//   raises the eventfd as usual, which the owner's next `take` drains.

impl Mailbox {
    pub(crate) fn new() -> ZResult<Mailbox> {
        let signal = Signal::new()?;
        let (w, mut r) = ypipe();
        // Start asleep, so the very first command raises the eventfd: the owner may be
        // waiting on it (an I/O thread in epoll, an application polling ZMQ_FD) without
        // having looked at the queue yet.
        let empty = !r.check_read();
        debug_assert!(empty);
        Ok(Mailbox {
            writer: Mutex::new(w),
            reader: Mutex::new(ReaderState { reader: r, active: false, drained: 0 }),
            signal,
            state: AtomicU64::new(0),
            polled: AtomicBool::new(false),
            parked: Futex::new(),
        })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.signal.fd()
    }

    /// Queues a command; signals the eventfd only if the owner is asleep.
    pub(crate) fn send(&self, cmd: Command) {
        let awake = {
            let mut w = self.writer.lock();
            w.write(cmd);
            w.flush()
        };
        self.set_pending();
        if !awake {
            self.wake();
        }
    }

    /// Wakes an owner that found its queue empty: on its futex if it parked, else through
    /// the eventfd.
    fn wake(&self) {
        // Pairs with the fence in `park`: of the owner's look at the queue after storing
        // `parked` and our look at `parked` after flushing, one sees the other's write.
        fence(Ordering::SeqCst);
        if self.parked.0.swap(0, Ordering::SeqCst) == PARKED {
            self.parked.wake();
        } else {
            self.raise();
            self.set_pending();
        }
    }

    fn set_pending(&self) {
        self.state.fetch_or(PENDING, Ordering::SeqCst);
    }

    /// Counts the write, then makes it.
    fn raise(&self) {
        self.state.fetch_add(RAISED, Ordering::SeqCst);
        self.signal.raise();
    }

    /// Raises the descriptor with no command, as libzmq's socket does when it hands itself
    /// a command (a new endpoint launched by bind or connect): the owner's next `take`
    /// drains it.
    pub(crate) fn poke(&self) {
        self.wake();
    }

    /// True if commands may be waiting (a lock-free hint for the hot path).
    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        self.state.load(Ordering::Acquire) & PENDING != 0
    }

    /// Takes every queued command.
    pub(crate) fn take(&self, out: &mut Vec<Command>) {
        // A read-modify-write, so that it synchronises with the sender's store it replaces.
        self.state.fetch_and(!PENDING, Ordering::SeqCst);
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
            if self.polled.load(Ordering::SeqCst) {
                // The sleeper drains it once it wakes (its own `take`, after `set_polled`).
                return;
            }
            // Every write begun so far was drained: the eventfd is down. (A write begun after
            // this load sets `pending` after it, so a later `take` drains it.)
            if self.state.load(Ordering::SeqCst) / RAISED == r.drained {
                return;
            }
            let n = self.signal.lower();
            if n == 0 {
                return;
            }
            r.drained += n;
            r.active = true;
        }
    }

    /// A thread-safe socket's poller is about to sleep in `wait` (true) or is back (false);
    /// set under the socket's lock, which every `take` holds too.
    pub(crate) fn set_polled(&self, on: bool) {
        self.polled.store(on, Ordering::SeqCst);
    }

    /// Waits until a command is pending or `deadline` passes (None: forever).
    /// Fails with EINTR when a signal interrupts the wait, EAGAIN on timeout.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> ZResult<()> {
        self.wait_or(deadline, None).map(|_| ())
    }

    /// `wait`, also ending when `other` is readable (or hung up, or closed): Ok(true) then.
    pub(crate) fn wait_or(&self, deadline: Option<Instant>, other: Option<RawFd>) -> ZResult<bool> {
        {
            // Make sure we are marked asleep before sleeping: a command sent while we were
            // awake raised no signal.
            let mut r = self.reader.lock();
            if r.reader.check_read() {
                self.set_pending();
                return Ok(false);
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
            let (signalled, woke) = self.signal.poll(ms, other)?;
            if signalled {
                self.set_pending();
            }
            if signalled || woke {
                return Ok(woke);
            }
        }
    }
}

impl Mailbox {
    /// `wait` for an owner that nothing else watches (a blocking send or receive on a
    /// socket that is not thread-safe): it sleeps on a futex rather than the eventfd, which
    /// saves a read(2) per wake-up and a poll(2)'s set-up. Same results as `wait`.
    pub(crate) fn park(&self, deadline: Option<Instant>) -> ZResult<()> {
        {
            let mut r = self.reader.lock();
            // Swaps, not stores: with the senders' swaps they form one order on `parked`
            // (loom's model let a sender's swap read past a plain store here).
            self.parked.0.swap(PARKED, Ordering::SeqCst);
            fence(Ordering::SeqCst); // see `wake`
            if r.reader.check_read() {
                self.parked.0.swap(0, Ordering::SeqCst);
                self.set_pending();
                return Ok(());
            }
            r.active = false;
        }
        loop {
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return self.unpark(libc::EAGAIN),
                },
            };
            let r = self.parked.wait(PARKED, left);
            if self.parked.0.load(Ordering::SeqCst) != PARKED {
                return Ok(()); // a sender took it: its command is pending
            }
            if r == Err(libc::EINTR) {
                return self.unpark(libc::EINTR);
            }
        }
    }

    /// Gives up parking with `errno`, unless a sender came first (then Ok: its command is
    /// pending).
    fn unpark(&self, errno: i32) -> ZResult<()> {
        if self.parked.0.swap(0, Ordering::SeqCst) == PARKED {
            err(errno)
        } else {
            Ok(())
        }
    }
}

/// The word an owner parks on (`Mailbox::park`).
#[cfg(not(loom))]
struct Futex(AtomicU32);

#[cfg(not(loom))]
impl Futex {
    fn new() -> Futex {
        Futex(AtomicU32::new(0))
    }

    /// Sleeps while the word holds `val`, up to `left`: Ok on a wake-up (maybe spurious),
    /// Err(EINTR) when a signal interrupts, Err(ETIMEDOUT) on time-out.
    fn wait(&self, val: u32, left: Option<Duration>) -> Result<(), i32> {
        // Always with a time-out: a wait without one is restarted after a handler installed
        // with SA_RESTART, where poll(2), and so libzmq's blocking calls, fail with EINTR.
        let d = left.unwrap_or(Duration::from_secs(3600));
        let ts = libc::timespec {
            tv_sec: d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
            tv_nsec: d.subsec_nanos() as libc::c_long,
        };
        // SAFETY: FUTEX_WAIT on a live, aligned u32 with a live relative time-out.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.0.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                val,
                &ts as *const libc::timespec,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => Err(libc::EINTR),
            Some(libc::ETIMEDOUT) => Err(libc::ETIMEDOUT),
            _ => Ok(()), // EAGAIN: the word changed before we slept
        }
    }

    fn wake(&self) {
        // SAFETY: FUTEX_WAKE on a live, aligned u32.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.0.as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                1,
            )
        };
    }
}

/// Under loom the futex is a `Notify`: `wait` blocks until a `wake` (a wake-up that can
/// never come is reported as a deadlock); the time-out is not modelled.
#[cfg(loom)]
struct Futex(AtomicU32, loom::sync::Notify);

#[cfg(loom)]
impl Futex {
    fn new() -> Futex {
        Futex(AtomicU32::new(0), loom::sync::Notify::new())
    }

    fn wait(&self, val: u32, _left: Option<Duration>) -> Result<(), i32> {
        if self.0.load(Ordering::SeqCst) == val {
            self.1.wait();
        }
        Ok(())
    }

    fn wake(&self) {
        self.1.notify();
    }
}

/// The owner's wake-up: an eventfd (what ZMQ_FD returns).
#[cfg(not(loom))]
struct Signal(std::os::fd::OwnedFd);

#[cfg(not(loom))]
impl Signal {
    fn new() -> ZResult<Signal> {
        use std::os::fd::FromRawFd;
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EMFILE));
        }
        // SAFETY: fd is a fresh descriptor we own.
        Ok(Signal(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    fn fd(&self) -> RawFd {
        use std::os::fd::AsRawFd;
        self.0.as_raw_fd()
    }

    fn raise(&self) {
        let one: u64 = 1;
        // SAFETY: writing 8 bytes from a local to our eventfd.
        unsafe { libc::write(self.fd(), &one as *const u64 as *const _, 8) };
    }

    /// Clears the signal: how many writes raised it (0: it was down).
    fn lower(&self) -> u64 {
        let mut buf: u64 = 0;
        // SAFETY: reading 8 bytes into a local from our non-blocking eventfd.
        let n = unsafe { libc::read(self.fd(), &mut buf as *mut u64 as *mut _, 8) };
        if n == 8 {
            buf
        } else {
            0
        }
    }

    /// Waits up to `ms` (-1: forever) for the signal, or for `other` to have any event:
    /// (signalled, other's event); both false on timeout.
    fn poll(&self, ms: i32, other: Option<RawFd>) -> ZResult<(bool, bool)> {
        let mut pfds = [
            libc::pollfd { fd: self.fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: other.unwrap_or(-1), events: libc::POLLIN, revents: 0 },
        ];
        let n = if other.is_some() { 2 } else { 1 };
        // SAFETY: `n` valid pollfds from a local array.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), n, ms) };
        if rc < 0 {
            let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINTR);
            return err(e);
        }
        Ok((pfds[0].revents != 0, n == 2 && pfds[1].revents != 0))
    }
}

/// Under loom the eventfd is modelled by a counter, so that the scheduler can interleave
/// its raise and its drain with the commands around them, and a `Notify` to block on.
#[cfg(loom)]
struct Signal(crate::sync::AtomicU64, loom::sync::Notify);

#[cfg(loom)]
impl Signal {
    fn new() -> ZResult<Signal> {
        Ok(Signal(crate::sync::AtomicU64::new(0), loom::sync::Notify::new()))
    }

    fn fd(&self) -> RawFd {
        -1
    }

    fn raise(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        self.1.notify();
    }

    fn lower(&self) -> u64 {
        self.0.swap(0, Ordering::SeqCst)
    }

    /// Readable now (what poll(2) with a zero timeout would say).
    fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst) != 0
    }

    /// Blocks until raised (loom reports a wait that can never end as a deadlock); the
    /// timeout and the other descriptor are not modelled.
    fn poll(&self, _ms: i32, _other: Option<RawFd>) -> ZResult<(bool, bool)> {
        while !self.is_raised() {
            self.1.wait();
        }
        Ok((true, false))
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

/// Model checks (`make loom`) of the wake-up protocol, with the eventfd modelled by a
/// counter so that loom interleaves its raise and drain with everything else.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::error::Errno;
    use loom::sync::Arc;

    fn cmd(pipe: u64) -> Command {
        Command::ActivateRead { pipe }
    }

    fn ids(cmds: &[Command]) -> Vec<u64> {
        cmds.iter()
            .map(|c| match c {
                Command::ActivateRead { pipe } => *pipe,
                _ => unreachable!(),
            })
            .collect()
    }

    /// An owner busy calling into its socket (process_commands: `has_pending` then `take`)
    /// while two senders wake it. Once they are done, one ZMQ_EVENTS-style pass must leave
    /// the signal down: it used to stay raised with `pending` false, so ZMQ_FD was readable
    /// for good and event loops spun.
    #[test]
    fn loom_mailbox_signal_drained_after_events() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(|| {
            let mb = Arc::new(Mailbox::new().unwrap());
            let senders: Vec<_> = (1..=2)
                .map(|i| {
                    let mb = mb.clone();
                    loom::thread::spawn(move || mb.send(cmd(i)))
                })
                .collect();
            let mut got = Vec::new();
            // Busy owner: looks once (a recv with ZMQ_DONTWAIT) while the senders run.
            if mb.has_pending() {
                mb.take(&mut got);
            }
            for s in senders {
                s.join().unwrap();
            }
            // ZMQ_EVENTS once the senders are done.
            if mb.has_pending() {
                mb.take(&mut got);
            }
            let mut got = ids(&got);
            got.sort();
            assert_eq!(got, vec![1, 2], "every command taken");
            assert!(!mb.signal.is_raised(), "ZMQ_FD left readable with nothing pending");
        });
    }

    /// As above with one sender, checked exhaustively (no preemption bound).
    #[test]
    fn loom_mailbox_signal_drained_one_sender() {
        loom::model(|| {
            let mb = Arc::new(Mailbox::new().unwrap());
            let mb2 = mb.clone();
            let t = loom::thread::spawn(move || mb2.send(cmd(1)));
            let mut got = Vec::new();
            if mb.has_pending() {
                mb.take(&mut got);
            }
            t.join().unwrap();
            if mb.has_pending() {
                mb.take(&mut got);
            }
            assert_eq!(ids(&got), vec![1]);
            assert!(!mb.signal.is_raised(), "ZMQ_FD left readable with nothing pending");
        });
    }

    /// An owner blocked in `sleep` (`wait` or `park`) until it has taken `n` commands from
    /// a sender of `n`, then looking once more: every command arrives, in order, and no
    /// signal is left raised behind them.
    fn owner_takes_all(n: u64, sleep: fn(&Mailbox)) {
        let mb = Arc::new(Mailbox::new().unwrap());
        let mb2 = mb.clone();
        let t = loom::thread::spawn(move || (1..=n).for_each(|i| mb2.send(cmd(i))));
        let mut got = Vec::new();
        while (got.len() as u64) < n {
            sleep(&mb);
            if mb.has_pending() {
                mb.take(&mut got);
            }
        }
        t.join().unwrap();
        if mb.has_pending() {
            mb.take(&mut got);
        }
        assert_eq!(ids(&got), (1..=n).collect::<Vec<_>>());
        assert!(!mb.signal.is_raised(), "ZMQ_FD left readable with nothing pending");
    }

    /// A blocked owner (zmq_recv waiting on the eventfd) always wakes for a command sent
    /// while it goes to sleep, including one sent while it was awake.
    #[test]
    fn loom_mailbox_wait_never_misses() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| owner_takes_all(2, |mb| mb.wait(None).unwrap()));
    }

    /// The same with the owner parked on its futex (zmq_recv on a socket that is not
    /// thread-safe).
    #[test]
    fn loom_mailbox_park_never_misses() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| owner_takes_all(2, |mb| mb.park(None).unwrap()));
    }

    /// As above with one command, checked exhaustively (no preemption bound).
    #[test]
    fn loom_mailbox_park_one() {
        loom::model(|| owner_takes_all(1, |mb| mb.park(None).unwrap()));
    }

    /// An owner that gives up parking (its deadline passed) while a sender comes: either
    /// the sender's wake-up or the owner's time-out wins, and the command is found by the
    /// next look either way, with the signal drained.
    #[test]
    fn loom_mailbox_park_timeout_keeps_command() {
        loom::model(|| {
            let mb = Arc::new(Mailbox::new().unwrap());
            let mb2 = mb.clone();
            let t = loom::thread::spawn(move || mb2.send(cmd(1)));
            let r = mb.park(Some(Instant::now()));
            assert!(matches!(r, Ok(()) | Err(Errno(libc::EAGAIN))));
            t.join().unwrap();
            let mut got = Vec::new();
            if mb.has_pending() {
                mb.take(&mut got);
            }
            assert_eq!(ids(&got), vec![1]);
            if mb.has_pending() {
                mb.take(&mut got);
            }
            assert!(!mb.signal.is_raised(), "ZMQ_FD left readable with nothing pending");
        });
    }

    /// A thread-safe socket: one thread sleeps on the eventfd (`set_polled`, `wait`) while
    /// another takes the command it waits for, pokes it, and takes again. The sleeper must
    /// still wake: the second take may not drain the poke (it did, and a sender blocked at
    /// the HWM slept on forever, test_draft_sockets' stress test hanging now and then).
    #[test]
    fn loom_mailbox_poller_keeps_its_signal() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let mb = Arc::new(Mailbox::new().unwrap());
            mb.set_polled(true);
            let (m1, m2) = (mb.clone(), mb.clone());
            let sender = loom::thread::spawn(move || m1.send(cmd(1)));
            let other = loom::thread::spawn(move || {
                let mut got = Vec::new();
                while got.is_empty() {
                    if m2.has_pending() {
                        m2.take(&mut got);
                    } else {
                        loom::thread::yield_now();
                    }
                }
                m2.poke();
                let mut more = Vec::new();
                if m2.has_pending() {
                    m2.take(&mut more);
                }
                assert!(more.is_empty());
            });
            mb.wait(None).unwrap();
            mb.set_polled(false);
            sender.join().unwrap();
            other.join().unwrap();
        });
    }

    /// The I/O thread's loop: sleep until the eventfd is readable, then `has_pending` and
    /// `take`. A woken loop must find `pending` set (it is stored before the signal).
    #[test]
    fn loom_mailbox_io_loop_never_misses() {
        loom::model(|| {
            let mb = Arc::new(Mailbox::new().unwrap());
            let mb2 = mb.clone();
            let t = loom::thread::spawn(move || mb2.send(cmd(1)));
            let mut got = Vec::new();
            // epoll: block until readable; a readable eventfd with nothing taken would loop
            // forever (edge-triggered), which loom reports.
            while got.is_empty() {
                mb.signal.poll(-1, None).unwrap();
                if mb.has_pending() {
                    mb.take(&mut got);
                } else {
                    // Edge-triggered epoll would not report the same signal again.
                    panic!("woken with nothing pending");
                }
            }
            t.join().unwrap();
            assert_eq!(ids(&got), vec![1]);
        });
    }
}
