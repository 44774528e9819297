//! DGRAM (draft): raw udp datagrams as two-part messages, the peer's `ip:port` then the
//! body. One pipe only, to the udp endpoint it bound.

use super::pair::Pair;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use crate::error::{Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;

#[derive(Default)]
pub(crate) struct Dgram {
    /// One peer only, as PAIR (libzmq refuses any further one).
    pair: Pair,
    /// The address part was sent: the body comes next.
    more_out: bool,
}

impl Behaviour for Dgram {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options) {
        self.pair.attach(pipes, idx, opts);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg, opts: &Options) -> Result<(), (Errno, Msg)> {
        // Exactly two parts: the address with MORE, then the body without.
        if msg.more() == self.more_out {
            return Err((Errno(libc::EINVAL), msg));
        }
        let more = msg.more();
        self.pair.send(pipes, msg, opts)?;
        self.more_out = more;
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> ZResult<Msg> {
        self.pair.recv(pipes, opts)
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.pair.has_in(pipes)
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.pair.has_out(pipes)
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}

    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}

    fn terminated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.pair.terminated(pipes, idx);
        if !self.pair.is_attached() {
            self.more_out = false;
        }
    }
}
