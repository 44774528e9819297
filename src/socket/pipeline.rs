//! PUSH and PULL (RFC 30): load-balance out, fair-queue in. SCATTER (RFC 49) is PUSH for
//! single-part messages.

use super::fq::FairQueue;
use super::lb::LoadBalancer;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use super::single::refuse_multipart;
use crate::error::{Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;

#[derive(Default)]
pub(crate) struct Push {
    lb: LoadBalancer,
    /// SCATTER: multipart messages are refused (EINVAL).
    single_part: bool,
}

impl Push {
    /// SCATTER: a PUSH for single-part messages.
    pub(crate) fn scatter() -> Push {
        Push { single_part: true, ..Push::default() }
    }
}

impl Behaviour for Push {
    fn attach(&mut self, _pipes: &mut Pipes, idx: PipeIdx, _opts: &Options) {
        self.lb.attach(idx);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        let msg = if self.single_part { refuse_multipart(msg)? } else { msg };
        self.lb.send(pipes, msg).map(|_| ())
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
pub(crate) struct Pull {
    fq: FairQueue,
}

impl Behaviour for Pull {
    fn attach(&mut self, _pipes: &mut Pipes, idx: PipeIdx, _opts: &Options) {
        self.fq.attach(idx);
    }
    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        self.fq.recv(pipes).map(|(m, _)| m)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.fq.has_in(pipes)
    }
    fn read_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.activated(idx);
    }
    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}
    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.terminated(idx);
    }
}
