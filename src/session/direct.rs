//! Direct sends: the socket's thread writes to the connection itself.
//!
//! Normally a message the socket flushes into a pipe its session had drained wakes the
//! I/O thread (a command through its mailbox), which encodes the message and writes it:
//! one context switch and three syscalls more per message than a plain socket, which is
//! most of a request-reply round trip. So while a connection idles, its session lends its
//! engine and pipe here, and the pipe's ActivateRead, raised on the socket's thread, runs
//! the engine's output there and then (`StreamEngine::send_direct`): the same encoding,
//! batching and partial-write handling as on the I/O thread, under the one lock that makes
//! either thread the engine's only user. The session takes them back on every event of
//! its own (`Session::reclaim`), so everything else (reading, heartbeats, reconnects,
//! monitor events) stays on the I/O thread.
//!
//! Only after the connection has received something since its last direct send, as in a
//! request-reply exchange: a sender streaming messages would otherwise write each one with
//! a syscall of its own, where the I/O thread batches them.
//!
//! Receiving works the same way round. A socket about to sleep in a blocking receive (or
//! a poll for input) on its one connection, lent and idle, claims the connection
//! (`claim_input`): its registration in the I/O thread's epoll set turns silent, and the
//! socket's thread waits on the descriptor beside its mailbox. Once it is readable (or the
//! wait ends otherwise) the same thread runs the engine's turn itself (`release_input`)
//! and turns the registration back to READABLE, which reports anything still unread to
//! the I/O thread at once. Each message then wakes the thread that wants it, not the I/O
//! thread first. Any event of the session's own in between takes the connection back with
//! the engine (`reclaim`).

use crate::engine::{Failure, Inbound, StreamEngine};
use crate::pipe::{PipeEvent, PipeEvents, PipeId};
use mio::{Registry, Token};
use parking_lot::Mutex;
use std::os::fd::RawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// What the session lends: its engine (past the handshake) and its pipe.
pub(super) struct Lent {
    pub engine: Box<StreamEngine>,
    pub inbound: Inbound,
    /// The socket's thread silenced the registration to watch the descriptor itself
    /// (`claim_input`).
    pub claimed: bool,
}

/// The session's end of its pipe reports here; what it does not handle goes to the I/O
/// thread's mailbox as before.
pub(super) struct Direct {
    io: Arc<dyn PipeEvents>,
    /// The I/O thread's registry and the session's token in it, for `claim_input`.
    reactor: Option<(Arc<Registry>, Token)>,
    slot: Mutex<Option<Lent>>,
}

impl Direct {
    pub(super) fn new(io: Arc<dyn PipeEvents>, reactor: Option<(Arc<Registry>, Token)>) -> Direct {
        crate::msg::watch_fork();
        Direct { io, reactor, slot: Mutex::new(None) }
    }

    pub(super) fn lend(&self, lent: Lent) {
        *self.slot.lock() = Some(lent);
    }

    /// Takes the engine back (waiting for a direct send in progress to finish), with its
    /// registration restored if the socket's thread had claimed it.
    pub(super) fn reclaim(&self) -> Option<Lent> {
        let mut lent = self.slot.lock().take()?;
        if std::mem::take(&mut lent.claimed) {
            self.give_back(&mut lent.engine);
        }
        Some(lent)
    }

    /// Restores a claimed connection's READABLE registration: bytes (or a hang-up) already
    /// there are reported to the I/O thread at once. False if that failed: the connection
    /// fails at the engine's next turn.
    fn give_back(&self, engine: &mut StreamEngine) -> bool {
        let Some((registry, token)) = &self.reactor else { return false };
        match engine.set_quiet(registry, *token, false) {
            Ok(()) => true,
            Err(e) => {
                engine.fail_later(Failure::io(&e));
                false
            }
        }
    }

    /// The socket flushed into the lent pipe after the session had drained it: write from
    /// here if the engine is lent and idle. False leaves it to the I/O thread.
    fn try_send(&self, pipe: PipeId) -> bool {
        // A child of fork() shares the parent's connections: it must not write to them.
        if crate::msg::in_forked_child() {
            return false;
        }
        // Contended only by the I/O thread taking the engine back: it is busy with the
        // connection anyway, and the command it then gets makes it look at the pipe.
        let Some(mut slot) = self.slot.try_lock() else { return false };
        let Some(lent) = slot.as_mut() else { return false };
        if lent.inbound.pipe.as_ref().is_none_or(|p| p.id != pipe) {
            return false;
        }
        let Lent { engine, inbound, .. } = lent;
        // The connection must have received since its last direct send.
        if !engine.take_input_seen() {
            return false;
        }
        // A bug here must not take the application's thread down: the connection fails
        // instead, on the I/O thread, as if it had happened there.
        match catch_unwind(AssertUnwindSafe(|| engine.send_direct(inbound, super::TURN_BUDGET))) {
            Ok(Ok(done)) => done,
            Ok(Err(f)) => {
                engine.fail_later(f);
                false
            }
            Err(_) => {
                engine.fail_later(Failure::Io(libc::EIO));
                false
            }
        }
    }
}

impl PipeEvents for Direct {
    fn pipe_event(&self, ev: PipeEvent) {
        if let PipeEvent::ActivateRead(pipe) = ev {
            if self.try_send(pipe) {
                return;
            }
        }
        self.io.pipe_event(ev);
    }

    fn claim_input(&self, pipe: PipeId) -> Option<RawFd> {
        if crate::msg::in_forked_child() {
            return None;
        }
        let (registry, token) = self.reactor.as_ref()?;
        // Contended only by the I/O thread, busy with this connection: wait for its word.
        let mut slot = self.slot.try_lock()?;
        let lent = slot.as_mut()?;
        if lent.claimed || lent.inbound.pipe.as_ref().is_none_or(|p| p.id != pipe) {
            return None;
        }
        if !lent.engine.input_idle() || !lent.inbound.is_clear() {
            return None;
        }
        lent.engine.set_quiet(registry, *token, true).ok()?;
        lent.claimed = true;
        Some(lent.engine.stream().fd())
    }

    fn release_input(&self, readable: bool) -> bool {
        let mut slot = self.slot.lock();
        // Not claimed any more: the I/O thread took the engine back meanwhile (and the
        // descriptor with it).
        let Some(lent) = slot.as_mut().filter(|l| l.claimed) else { return false };
        lent.claimed = false;
        let Lent { engine, inbound, .. } = lent;
        let mut wake_io = false;
        let mut woke_reader = false;
        if readable {
            let before = engine.heartbeat_deadline();
            // As in `try_send`: a bug fails the connection, on the I/O thread.
            inbound.reader_here = Some(false);
            let r = catch_unwind(AssertUnwindSafe(|| {
                engine.receive_direct(inbound, super::TURN_BUDGET)
            }));
            woke_reader = inbound.reader_here.take() == Some(true);
            match r {
                Ok(Ok(())) => {}
                Ok(Err(f)) => {
                    engine.fail_later(f);
                    wake_io = true;
                }
                Err(_) => {
                    engine.fail_later(Failure::Io(libc::EIO));
                    wake_io = true;
                }
            }
            // A peer's PING can bring the heartbeat forward: the session arms its timer.
            let due = engine.heartbeat_deadline();
            if due.is_some_and(|t| before.is_none_or(|b| t < b)) {
                wake_io = true;
            }
        }
        if !self.give_back(engine) {
            wake_io = true;
        } else if let Some((registry, token)) = &self.reactor {
            engine.sync_interest(registry, *token);
        }
        let pipe = inbound.pipe.as_ref().map(|p| p.id);
        drop(slot);
        if let (true, Some(pipe)) = (wake_io, pipe) {
            // Routed to the session, which takes the engine back and goes on from there.
            self.io.pipe_event(PipeEvent::ActivateRead(pipe));
        }
        woke_reader
    }
}
