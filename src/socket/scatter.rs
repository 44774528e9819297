//! GATHER and SCATTER (RFC 49): the single-part, thread-safe PULL and PUSH. SCATTER
//! load-balances its messages over its peers; GATHER fair-queues what they send.

use super::lb::LoadBalancer;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use super::single::{refuse_multipart, SingleIn};
use crate::error::{Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;

#[derive(Default)]
pub(crate) struct Scatter {
    lb: LoadBalancer,
}

impl Behaviour for Scatter {
    fn attach(&mut self, _pipes: &mut Pipes, idx: PipeIdx, _opts: &Options) {
        self.lb.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        self.lb.send(pipes, refuse_multipart(msg)?).map(|_| ())
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.lb.has_out(pipes)
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}
    fn write_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.lb.activated(idx);
    }
    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.lb.terminated(idx);
    }
}

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
