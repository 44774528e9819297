//! Thread-safe sockets (SERVER, CLIENT, GATHER, SCATTER, PEER, CHANNEL, RADIO, DISH): the
//! socket behind a lock, and blocking that does not hold it.
//!
//! The other socket types need none of this (one thread at a time is their contract), so
//! they keep their lock-free path; only these types pay for the lock.
//!
//! Waiting. A thread that must block gives the lock up and sleeps, and must be woken when
//! what it waits for may have happened:
//! - by a command in the mailbox (a pipe activated, a peer gone, the context ending): one
//!   waiter at a time, the *poller*, sleeps on the mailbox's eventfd; the others sleep on a
//!   condition variable;
//! - by another thread's progress: a thread that ran commands or moved a message while
//!   others wait bumps `gen` and wakes the condition variable (its change is persistent
//!   state, so no wake-up is lost), and raises the eventfd if the poller sleeps on it or an
//!   outside watcher (zmq_poll, a zmq_poller) polls it: running commands lowers the eventfd
//!   they may be sleeping on.
//!
//! When the poller wakes it bumps `gen` too, so that another waiter takes its place if it
//! leaves. A thread that only looked and found nothing changes nothing and wakes no one, so
//! waiters never wake each other in a loop.

use super::Socket;
use crate::consts::ZMQ_DONTWAIT;
use crate::error::{Errno, ZResult};
use crate::io::mailbox::{deadline_after, Mailbox};
use crate::msg::Msg;
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub(crate) struct SafeSocket {
    state: Mutex<State>,
    cond: Condvar,
    mailbox: Arc<Mailbox>,
    /// zmq_poll calls and zmq_pollers polling the mailbox's eventfd from outside.
    watchers: AtomicUsize,
}

struct State {
    sock: Socket,
    /// A waiter sleeps on the mailbox's eventfd.
    polling: bool,
    /// Waiters sleeping on `cond`.
    sleepers: usize,
    /// Bumped on every change another waiter may be waiting for.
    gen: u64,
}

impl SafeSocket {
    pub(crate) fn new(sock: Socket) -> SafeSocket {
        let mailbox = sock.mailbox.clone();
        SafeSocket {
            state: Mutex::new(State { sock, polling: false, sleepers: 0, gen: 0 }),
            cond: Condvar::new(),
            mailbox,
            watchers: AtomicUsize::new(0),
        }
    }

    /// Locks the socket for one API call.
    pub(crate) fn lock(&self) -> SafeGuard<'_> {
        self.lock_watching(false)
    }

    /// Locks the socket for an outside watcher's look (`watching`: the caller is counted
    /// in `watchers` and must not be woken by its own look).
    pub(crate) fn lock_watching(&self, watching: bool) -> SafeGuard<'_> {
        let state = self.state.lock();
        let seen = state.sock.commands_run;
        SafeGuard { safe: self, state, seen, moved: false, own_watch: watching as usize }
    }

    /// The eventfd an outside watcher polls.
    pub(crate) fn fd(&self) -> i32 {
        self.mailbox.fd()
    }

    /// An outside watcher starts (`true`) or stops polling the eventfd.
    pub(crate) fn watch(&self, on: bool) {
        if on {
            self.watchers.fetch_add(1, Ordering::SeqCst);
        } else {
            // Saturating: a poller may outlive a closed socket whose handle was reused.
            let _ = self
                .watchers
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        }
    }

    /// The socket, for zmq_close (no other thread may use the socket any more).
    pub(crate) fn into_socket(self) -> Socket {
        self.state.into_inner().sock
    }
}

/// One thread's hold on a thread-safe socket. Dropping it wakes whoever waits for what this
/// thread changed.
pub(crate) struct SafeGuard<'a> {
    safe: &'a SafeSocket,
    state: MutexGuard<'a, State>,
    /// `commands_run` when last checked: more since means commands ran.
    seen: u64,
    /// A message went in or out since the last check.
    moved: bool,
    own_watch: usize,
}

impl std::ops::Deref for SafeGuard<'_> {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        &self.state.sock
    }
}

impl std::ops::DerefMut for SafeGuard<'_> {
    fn deref_mut(&mut self) -> &mut Socket {
        &mut self.state.sock
    }
}

impl Drop for SafeGuard<'_> {
    fn drop(&mut self) {
        self.wake_others();
    }
}

impl SafeGuard<'_> {
    /// Tells the waiters about commands run or messages moved since the last call.
    fn wake_others(&mut self) {
        let run = self.state.sock.commands_run;
        let changed = self.moved || run != self.seen;
        self.seen = run;
        self.moved = false;
        if !changed {
            return;
        }
        if self.state.sleepers > 0 {
            self.state.gen += 1;
            self.safe.cond.notify_all();
        }
        if self.state.polling || self.safe.watchers.load(Ordering::SeqCst) > self.own_watch {
            self.safe.mailbox.poke();
        }
    }

    /// Sleeps, without the lock, until something may have changed or `deadline` passes
    /// (EAGAIN). EINTR if a signal interrupts the poller's sleep.
    fn wait(&mut self, deadline: Option<Instant>) -> ZResult<()> {
        self.wake_others();
        if !self.state.polling {
            self.state.polling = true;
            let mailbox = self.safe.mailbox.clone();
            // The others, taking commands meanwhile, leave the eventfd raised for us.
            mailbox.set_polled(true);
            let r = MutexGuard::unlocked(&mut self.state, || mailbox.wait(deadline));
            mailbox.set_polled(false);
            self.state.polling = false;
            // Whatever woke us may matter to the others, and one of them must take over
            // the eventfd if we leave.
            if self.state.sleepers > 0 {
                self.state.gen += 1;
                self.safe.cond.notify_all();
            }
            return r;
        }
        let gen = self.state.gen;
        self.state.sleepers += 1;
        let mut timed_out = false;
        while self.state.gen == gen && !timed_out {
            match deadline {
                None => self.safe.cond.wait(&mut self.state),
                Some(d) => timed_out = self.safe.cond.wait_until(&mut self.state, d).timed_out(),
            }
        }
        self.state.sleepers -= 1;
        if self.state.gen == gen {
            return crate::error::err(libc::EAGAIN);
        }
        Ok(())
    }

    /// Sends one part, blocking per ZMQ_SNDTIMEO unless ZMQ_DONTWAIT, as `Socket::send`.
    pub(crate) fn send(&mut self, msg: Msg, flags: i32) -> Result<(), (Errno, Msg)> {
        let mut msg = msg;
        let mut deadline = None;
        loop {
            match self.state.sock.send(msg, flags | ZMQ_DONTWAIT) {
                Ok(()) => {
                    self.moved = true;
                    return Ok(());
                }
                Err((Errno(libc::EAGAIN), m))
                    if flags & ZMQ_DONTWAIT == 0 && self.state.sock.opts.sndtimeo != 0 =>
                {
                    msg = m;
                }
                Err(e) => return Err(e),
            }
            let timeo = self.state.sock.opts.sndtimeo as i64;
            let d = *deadline.get_or_insert_with(|| deadline_after(timeo));
            if let Err(e) = self.wait(d) {
                return Err((e, msg));
            }
        }
    }

    /// Receives one part, blocking per ZMQ_RCVTIMEO unless ZMQ_DONTWAIT, as `Socket::recv`.
    pub(crate) fn recv(&mut self, flags: i32) -> ZResult<Msg> {
        let mut deadline = None;
        loop {
            match self.state.sock.recv(flags | ZMQ_DONTWAIT) {
                Ok(m) => {
                    self.moved = true;
                    return Ok(m);
                }
                Err(Errno(libc::EAGAIN))
                    if flags & ZMQ_DONTWAIT == 0 && self.state.sock.opts.rcvtimeo != 0 => {}
                Err(e) => return Err(e),
            }
            let timeo = self.state.sock.opts.rcvtimeo as i64;
            let d = *deadline.get_or_insert_with(|| deadline_after(timeo));
            self.wait(d)?;
        }
    }
}
