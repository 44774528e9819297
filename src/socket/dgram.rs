//! DGRAM (draft): raw udp datagrams as two-part messages, the peer's `ip:port` then the
//! body. One pipe only, to the udp endpoint it bound.

use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use crate::error::{err, Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;

#[derive(Default)]
pub(crate) struct Dgram {
    pipe: Option<PipeIdx>,
    /// The address part was sent: the body comes next.
    more_out: bool,
}

impl Behaviour for Dgram {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, _opts: &Options) {
        // A DGRAM socket has one peer; libzmq refuses any further one.
        if self.pipe.is_some() {
            pipes.at(idx).terminate(false);
            pipes.mark_dead(idx);
            return;
        }
        self.pipe = Some(idx);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        let Some(idx) = self.pipe else { return Err((Errno(libc::EAGAIN), msg)) };
        // Exactly two parts: the address with MORE, then the body without.
        if msg.more() == self.more_out {
            return Err((Errno(libc::EINVAL), msg));
        }
        let more = msg.more();
        let pipe = pipes.at(idx);
        if !self.more_out && !pipe.check_write() {
            return Err((Errno(libc::EAGAIN), msg));
        }
        if let Err(m) = pipe.write(msg) {
            return Err((Errno(libc::EAGAIN), m));
        }
        if !more {
            pipe.flush();
        }
        self.more_out = more;
        Ok(())
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
            self.more_out = false;
        }
    }
}
