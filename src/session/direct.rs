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

use crate::engine::{Failure, Inbound, StreamEngine};
use crate::pipe::{PipeEvent, PipeEvents, PipeId};
use parking_lot::Mutex;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// What the session lends: its engine (past the handshake) and its pipe.
pub(super) struct Lent {
    pub engine: Box<StreamEngine>,
    pub inbound: Inbound,
}

/// The session's end of its pipe reports here; what it does not handle goes to the I/O
/// thread's mailbox as before.
pub(super) struct Direct {
    io: Arc<dyn PipeEvents>,
    slot: Mutex<Option<Lent>>,
}

impl Direct {
    pub(super) fn new(io: Arc<dyn PipeEvents>) -> Direct {
        crate::msg::watch_fork();
        Direct { io, slot: Mutex::new(None) }
    }

    pub(super) fn lend(&self, lent: Lent) {
        *self.slot.lock() = Some(lent);
    }

    /// Takes the engine back (waiting for a direct send in progress to finish).
    pub(super) fn reclaim(&self) -> Option<Lent> {
        self.slot.lock().take()
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
        let Lent { engine, inbound } = lent;
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
}
