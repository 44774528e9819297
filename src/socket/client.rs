//! CLIENT (RFC 41): load-balances out, fair-queues in, single-part messages only.

use super::lb::LoadBalancer;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use super::single::{refuse_multipart, SingleIn};
use crate::error::{Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;

#[derive(Default)]
pub(crate) struct Client {
    input: SingleIn,
    lb: LoadBalancer,
}

impl Behaviour for Client {
    fn attach(&mut self, _pipes: &mut Pipes, idx: PipeIdx, _opts: &Options) {
        self.input.attach(idx);
        self.lb.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        self.lb.send(pipes, refuse_multipart(msg)?).map(|_| ())
    }
    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        self.input.recv(pipes).map(|(m, _)| m)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.input.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.lb.has_out(pipes)
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.input.activated(idx);
    }
    fn write_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.lb.activated(idx);
    }
    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.input.orphan_ahead(idx);
        self.input.terminated(idx);
        self.lb.terminated(idx);
    }
}
