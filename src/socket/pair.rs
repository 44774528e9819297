//! PAIR (RFC 31): exactly one peer; further connections are refused.

use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use crate::error::{err, Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;

#[derive(Default)]
pub(crate) struct Pair {
    pipe: Option<PipeIdx>,
}

impl Pair {
    /// A peer is attached.
    pub(crate) fn is_attached(&self) -> bool {
        self.pipe.is_some()
    }
}

impl Behaviour for Pair {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, _opts: &Options) {
        if self.pipe.is_some() {
            // A second peer is turned away, as libzmq does.
            pipes.at(idx).terminate(false);
            pipes.mark_dead(idx);
        } else {
            self.pipe = Some(idx);
        }
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        let Some(idx) = self.pipe else { return Err((Errno(libc::EAGAIN), msg)) };
        let pipe = pipes.at(idx);
        let more = msg.more();
        match pipe.write(msg) {
            Ok(()) => {
                if !more {
                    pipe.flush();
                }
                Ok(())
            }
            Err(m) => Err((Errno(libc::EAGAIN), m)),
        }
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        let Some(idx) = self.pipe else { return err(libc::EAGAIN) };
        let pipe = pipes.at(idx);
        match pipe.read() {
            Some(m) => Ok(m),
            None => {
                if pipe.is_drained() {
                    pipes.mark_dead(idx);
                }
                err(libc::EAGAIN)
            }
        }
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.pipe.is_some_and(|idx| pipes.at(idx).check_read())
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.pipe.is_some_and(|idx| pipes.at(idx).check_write())
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}
    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}

    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        if self.pipe == Some(idx) {
            self.pipe = None;
        }
    }
}
