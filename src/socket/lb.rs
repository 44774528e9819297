//! Load balancing: send each whole message to the next pipe that can take it.

use super::pipes::{PipeIdx, Pipes};
use crate::error::Errno;
use crate::msg::Msg;

#[derive(Default)]
pub(crate) struct LoadBalancer {
    /// Attached pipes; the first `active` of them can be written.
    pipes: Vec<PipeIdx>,
    active: usize,
    current: usize,
    /// Inside a multipart message: the rest goes to the current pipe.
    more: bool,
    /// The pipe of the current multipart message went away: drop the rest of it.
    dropping: bool,
}

impl LoadBalancer {
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
            self.dropping = true;
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

    /// Sends one part; on failure the message comes back (EAGAIN: no pipe can take it).
    pub(crate) fn send(
        &mut self,
        pipes: &mut Pipes,
        msg: Msg,
    ) -> Result<Option<PipeIdx>, (Errno, Msg)> {
        let more = msg.more();
        if self.dropping {
            self.more = more;
            self.dropping = more;
            return Ok(None);
        }
        let mut msg = msg;
        while self.active > 0 {
            let idx = self.pipes[self.current];
            let pipe = pipes.at(idx);
            match pipe.write(msg) {
                Ok(()) => {
                    self.more = more;
                    if !more {
                        pipe.flush();
                        self.current = (self.current + 1) % self.active;
                    }
                    return Ok(Some(idx));
                }
                Err(m) => {
                    // Mid-message a write cannot fail on HWM; only a dead pipe stops it.
                    // The rest of that message is dropped, never sent elsewhere half-done.
                    let was_more = self.more;
                    self.more = false;
                    self.active -= 1;
                    self.pipes.swap(self.current, self.active);
                    if self.current >= self.active {
                        self.current = 0;
                    }
                    if was_more {
                        self.dropping = more;
                        return Ok(None);
                    }
                    msg = m;
                }
            }
        }
        Err((Errno(libc::EAGAIN), msg))
    }

    pub(crate) fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while self.active > 0 {
            let idx = self.pipes[self.current];
            if pipes.at(idx).check_write() {
                return true;
            }
            self.active -= 1;
            self.pipes.swap(self.current, self.active);
            if self.current >= self.active {
                self.current = 0;
            }
        }
        false
    }
}
