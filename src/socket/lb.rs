//! Load balancing: send each whole message to the next pipe that can take it.

use super::active::ActiveSet;
use super::pipes::{PipeIdx, Pipes};
use crate::error::Errno;
use crate::msg::Msg;

#[derive(Default)]
pub(crate) struct LoadBalancer {
    /// Pipes that can be written come first.
    set: ActiveSet,
    /// Inside a multipart message: the rest goes to the current pipe.
    more: bool,
    /// The pipe of the current multipart message went away: drop the rest of it.
    dropping: bool,
}

impl LoadBalancer {
    pub(crate) fn attach(&mut self, idx: PipeIdx) {
        self.set.attach(idx);
    }

    pub(crate) fn activated(&mut self, idx: PipeIdx) {
        self.set.activate(idx);
    }

    pub(crate) fn terminated(&mut self, idx: PipeIdx) {
        if self.set.remove(idx) && self.more {
            self.dropping = true;
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
        while let Some(idx) = self.set.current() {
            let pipe = pipes.at(idx);
            // Checked first, so the message moves only once, into the pipe.
            if pipe.check_write() {
                pipe.write_checked(msg);
                self.more = more;
                if !more {
                    pipe.flush();
                    self.set.advance();
                }
                return Ok(Some(idx));
            }
            // Mid-message a write cannot fail on HWM; only a dead pipe stops it.
            // The rest of that message is dropped, never sent elsewhere half-done.
            let was_more = self.more;
            self.more = false;
            self.set.deactivate_current();
            if was_more {
                self.dropping = more;
                return Ok(None);
            }
        }
        Err((Errno(libc::EAGAIN), msg))
    }

    pub(crate) fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while let Some(idx) = self.set.current() {
            if pipes.at(idx).check_write() {
                return true;
            }
            self.set.deactivate_current();
        }
        false
    }
}
