//! GATHER (RFC 49): the single-part, thread-safe PULL; it fair-queues what its peers send
//! and drops multipart messages. SCATTER is `pipeline::Push::scatter`.

use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use super::single::SingleIn;
use crate::error::ZResult;
use crate::msg::Msg;
use crate::socket::Options;

#[derive(Default)]
pub(crate) struct Gather {
    input: SingleIn,
}

impl Behaviour for Gather {
    fn attach(&mut self, _pipes: &mut Pipes, idx: PipeIdx, _opts: &Options) {
        self.input.attach(idx);
    }
    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        self.input.recv(pipes).map(|(m, _)| m)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.input.has_in(pipes)
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.input.activated(idx);
    }
    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}
    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.input.orphan_ahead(idx);
        self.input.terminated(idx);
    }
}
