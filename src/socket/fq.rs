//! Fair queuing: receive from the active pipes in turn, a whole message at a time.

use super::pipes::{PipeIdx, Pipes};
use crate::error::{err, ZResult};
use crate::msg::Msg;

#[derive(Default)]
pub(crate) struct FairQueue {
    /// Attached pipes; the first `active` of them may have messages.
    pipes: Vec<PipeIdx>,
    active: usize,
    current: usize,
    /// Inside a multipart message: keep reading the current pipe.
    more: bool,
}

impl FairQueue {
    pub(crate) fn attach(&mut self, idx: PipeIdx) {
        self.pipes.push(idx);
        let last = self.pipes.len() - 1;
        self.pipes.swap(self.active, last);
        self.active += 1;
    }

    pub(crate) fn activated(&mut self, idx: PipeIdx) {
        if let Some(pos) = self.pipes.iter().position(|&p| p == idx) {
            if pos >= self.active {
                self.pipes.swap(pos, self.active);
                self.active += 1;
            }
        }
    }

    pub(crate) fn terminated(&mut self, idx: PipeIdx) {
        let Some(mut pos) = self.pipes.iter().position(|&p| p == idx) else { return };
        if pos == self.current && self.more {
            // Its message can never be finished.
            self.more = false;
        }
        if pos < self.active {
            self.active -= 1;
            self.pipes.swap(pos, self.active);
            pos = self.active;
        }
        self.pipes.swap_remove(pos);
        if self.current >= self.active {
            self.current = 0;
        }
    }

    /// Receives the next part, and the index of the pipe it came from.
    pub(crate) fn recv(&mut self, pipes: &mut Pipes) -> ZResult<(Msg, PipeIdx)> {
        while self.active > 0 {
            let idx = self.pipes[self.current];
            let pipe = pipes.at(idx);
            if let Some(msg) = pipe.read() {
                self.more = msg.more();
                if !self.more {
                    self.current = (self.current + 1) % self.active;
                }
                return Ok((msg, idx));
            }
            if pipe.is_drained() {
                pipes.mark_dead(idx);
            }
            // A pipe never runs dry inside a message: parts are published together.
            debug_assert!(!self.more);
            self.more = false;
            self.active -= 1;
            self.pipes.swap(self.current, self.active);
            if self.current == self.active {
                self.current = 0;
            }
        }
        err(libc::EAGAIN)
    }

    pub(crate) fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while self.active > 0 {
            let idx = self.pipes[self.current];
            let pipe = pipes.at(idx);
            if pipe.check_read() {
                return true;
            }
            if pipe.is_drained() {
                pipes.mark_dead(idx);
            }
            self.active -= 1;
            self.pipes.swap(self.current, self.active);
            if self.current == self.active {
                self.current = 0;
            }
        }
        false
    }
}
