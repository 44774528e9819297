//! CHANNEL (RFC 51): PAIR made thread-safe and single-part. One peer; a second is refused.

use super::pair::Pair;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use super::single::refuse_multipart;
use crate::error::{Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;

#[derive(Default)]
pub(crate) struct Channel {
    pair: Pair,
}

impl Behaviour for Channel {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options) {
        self.pair.attach(pipes, idx, opts);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: Msg, opts: &Options) -> Result<(), (Errno, Msg)> {
        self.pair.send(pipes, refuse_multipart(msg)?, opts)
    }
    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> ZResult<Msg> {
        // A multipart message from a misbehaving peer is dropped whole, as libzmq does.
        loop {
            let m = self.pair.recv(pipes, opts)?;
            if !m.more() {
                return Ok(m);
            }
            let mut more = true;
            while more {
                more = self.pair.recv(pipes, opts)?.more();
            }
        }
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.pair.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.pair.has_out(pipes)
    }
    fn read_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.pair.read_activated(pipes, idx);
    }
    fn write_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.pair.write_activated(pipes, idx);
    }
    fn terminated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.pair.terminated(pipes, idx);
    }
}
