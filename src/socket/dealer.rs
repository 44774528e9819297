//! DEALER (RFC 28): load-balance out, fair-queue in, no envelope handling.

use super::fq::FairQueue;
use super::lb::LoadBalancer;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use crate::error::{Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;

#[derive(Default)]
pub(crate) struct Dealer {
    pub(crate) fq: FairQueue,
    pub(crate) lb: LoadBalancer,
}

impl Behaviour for Dealer {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options) {
        if opts.probe_router {
            // Announces us to a ROUTER peer, which sees an empty message from the new id.
            let pipe = pipes.at(idx);
            let _ = pipe.write(Msg::new());
            pipe.flush();
        }
        self.fq.attach(idx);
        self.lb.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        self.lb.send(pipes, msg).map(|_| ())
    }
    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        self.fq.recv(pipes).map(|(m, _)| m)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.fq.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.lb.has_out(pipes)
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.activated(idx);
    }
    fn write_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.lb.activated(idx);
    }
    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.terminated(idx);
        self.lb.terminated(idx);
    }
}
