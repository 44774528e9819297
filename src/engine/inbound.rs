//! The session's pipe as an engine sees it: decoded messages go in whole (a connection
//! dying mid-message never leaves half of one in the pipe), and wait here while the pipe is
//! at its HWM. It outlives engines: a reconnecting session keeps its pipe and what is
//! queued for it.

use crate::msg::{Metadata, Msg};
use crate::pipe::Pipe;
use std::collections::VecDeque;
use std::sync::Arc;

#[derive(Default)]
pub(crate) struct Inbound {
    /// The pipe to the socket; None before it exists (accepted, ZMQ_IMMEDIATE) and after
    /// the session let it go.
    pub pipe: Option<Pipe>,
    /// Whole decoded messages waiting for room in the pipe, part after part (a part
    /// without MORE ends a message): one flat queue, so a message that meets the HWM
    /// costs no allocation of its own.
    pending: VecDeque<Msg>,
    /// Parts of a message still arriving (its capacity is kept from message to message).
    partial: Vec<Msg>,
    /// The properties every message of the current connection carries.
    pub metadata: Option<Arc<Metadata>>,
    /// Something was written since the last flush.
    unflushed: bool,
    /// Set while the pipe's reader itself is writing (`session::direct`): flushes wake it
    /// here instead of through its mailbox, and it looks once it is done.
    pub reader_here: Option<bool>,
}

impl Inbound {
    /// Nothing is waiting for room: new input may be decoded.
    pub(crate) fn is_clear(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes one decoded part. Returns false once the pipe is full (the message waits).
    pub(crate) fn push(&mut self, mut m: Msg) -> bool {
        if let Some(meta) = &self.metadata {
            m.set_metadata(Some(meta.clone()));
        }
        let more = m.more();
        // Fast path: a single-part message with nothing queued ahead goes straight into the
        // pipe (no allocation per message).
        if !more && self.partial.is_empty() && self.pending.is_empty() {
            let Some(p) = &mut self.pipe else { return true };
            if p.check_write() {
                let _ = p.write(m);
                self.unflushed = true;
                return true;
            }
            self.pending.push_back(m);
            return false;
        }
        if more {
            self.partial.push(m);
            return true;
        }
        if self.partial.is_empty() {
            self.pending.push_back(m);
        } else {
            self.pending.extend(self.partial.drain(..));
            self.pending.push_back(m);
        }
        self.write_pending()
    }

    /// Writes whole queued messages into the pipe and flushes; false if some still wait
    /// (the rest go on ActivateWrite).
    pub(crate) fn deliver(&mut self) -> bool {
        let ok = self.write_pending();
        self.flush();
        ok
    }

    /// `deliver` without the flush, for use inside a batch.
    fn write_pending(&mut self) -> bool {
        let Some(pipe) = &mut self.pipe else {
            self.pending.clear();
            return true;
        };
        let mut ok = true;
        while !self.pending.is_empty() {
            if !pipe.check_write() {
                ok = false;
                break;
            }
            // Only a message's first part can meet the HWM; the rest follow it.
            while let Some(m) = self.pending.pop_front() {
                let more = m.more();
                let _ = pipe.write(m);
                if !more {
                    break;
                }
            }
            self.unflushed = true;
        }
        ok
    }

    /// Publishes what was written to the reader.
    pub(crate) fn flush(&mut self) {
        if std::mem::take(&mut self.unflushed) {
            if let Some(p) = &mut self.pipe {
                match &mut self.reader_here {
                    None => p.flush(),
                    Some(woke) => *woke |= p.flush_quiet(),
                }
            }
        }
    }

    /// The connection ended: the message it was in the middle of will never be whole.
    pub(crate) fn drop_partial(&mut self) {
        self.partial.clear();
    }

    /// ZMQ_STREAM_NOTIFY: an empty message tells the socket a raw peer came or went.
    pub(crate) fn notify(&mut self) {
        let mut m = Msg::new();
        m.set_metadata(self.metadata.clone());
        self.pending.push_back(m);
        self.deliver();
    }
}
