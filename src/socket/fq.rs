//! Fair queuing: receive from the active pipes in turn, a whole message at a time.

use super::active::ActiveSet;
use super::pipes::{PipeIdx, Pipes};
use crate::error::{err, ZResult};
use crate::msg::Msg;

#[derive(Default)]
pub(crate) struct FairQueue {
    /// Pipes that may have messages come first.
    set: ActiveSet,
    /// Inside a multipart message: keep reading the current pipe.
    more: bool,
}

impl FairQueue {
    pub(crate) fn attach(&mut self, idx: PipeIdx) {
        self.set.attach(idx);
    }

    pub(crate) fn activated(&mut self, idx: PipeIdx) {
        self.set.activate(idx);
    }

    pub(crate) fn terminated(&mut self, idx: PipeIdx) {
        if self.set.remove(idx) && self.more {
            // Its message can never be finished.
            self.more = false;
        }
    }

    /// Receives the next part, and the index of the pipe it came from.
    pub(crate) fn recv(&mut self, pipes: &mut Pipes) -> ZResult<(Msg, PipeIdx)> {
        while let Some(idx) = self.set.current() {
            let pipe = pipes.at(idx);
            if let Some(msg) = pipe.read() {
                self.more = msg.more();
                if !self.more {
                    self.set.advance();
                }
                return Ok((msg, idx));
            }
            if pipe.is_drained() {
                pipes.mark_dead(idx);
            }
            // A pipe never runs dry inside a message: parts are published together.
            debug_assert!(!self.more);
            self.more = false;
            self.set.deactivate_current();
        }
        err(libc::EAGAIN)
    }

    pub(crate) fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while let Some(idx) = self.set.current() {
            let pipe = pipes.at(idx);
            if pipe.check_read() {
                return true;
            }
            if pipe.is_drained() {
                pipes.mark_dead(idx);
            }
            self.set.deactivate_current();
        }
        false
    }
}
