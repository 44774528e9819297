//! DISH (RFC 48): receives the messages of the groups it joined (zmq_join/zmq_leave).
//!
//! Joins and leaves go to every RADIO as JOIN/LEAVE commands in the pipes, and are sent
//! again to a new or reconnected one. The DISH also filters what it receives (a udp RADIO
//! sends every group).

use super::dist::Dist;
use super::fq::FairQueue;
use super::pattern::{Behaviour, Pattern};
use super::pipes::{PipeIdx, Pipes};
use crate::error::{err, ZResult};
use crate::msg::{Msg, GROUP_MAX_LENGTH};
use crate::socket::Options;
use crate::zmtp::group_command;
use std::collections::BTreeSet;

#[derive(Default)]
pub(crate) struct Dish {
    fq: FairQueue,
    dist: Dist,
    groups: BTreeSet<Vec<u8>>,
    /// A message `has_in` found, for the next `recv`.
    prefetched: Option<Msg>,
}

impl Dish {
    fn send_joins(&self, pipes: &mut Pipes, idx: PipeIdx) {
        let pipe = pipes.at(idx);
        for g in &self.groups {
            if let Ok(m) = group_command(true, g) {
                let _ = pipe.write(m);
            }
        }
        pipe.flush();
    }

    /// The next message of a joined group.
    fn next(&mut self, pipes: &mut Pipes) -> ZResult<Msg> {
        loop {
            let (m, _) = self.fq.recv(pipes)?;
            if self.groups.contains(m.group()) {
                return Ok(m);
            }
        }
    }

    /// zmq_join: EINVAL for a group over 255 octets or one already joined.
    pub(crate) fn join(&mut self, pipes: &mut Pipes, group: &[u8]) -> ZResult<()> {
        if group.len() > GROUP_MAX_LENGTH || !self.groups.insert(group.to_vec()) {
            return err(libc::EINVAL);
        }
        self.dist.send_to_all(pipes, group_command(true, group)?);
        Ok(())
    }

    /// zmq_leave: EINVAL for a group over 255 octets or one not joined.
    pub(crate) fn leave(&mut self, pipes: &mut Pipes, group: &[u8]) -> ZResult<()> {
        if group.len() > GROUP_MAX_LENGTH || !self.groups.remove(group) {
            return err(libc::EINVAL);
        }
        self.dist.send_to_all(pipes, group_command(false, group)?);
        Ok(())
    }
}

impl Behaviour for Dish {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, _opts: &Options) {
        self.fq.attach(idx);
        self.dist.attach(idx);
        self.send_joins(pipes, idx);
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        match self.prefetched.take() {
            Some(m) => Ok(m),
            None => self.next(pipes),
        }
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.prefetched.is_none() {
            self.prefetched = self.next(pipes).ok();
        }
        self.prefetched.is_some()
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        // Joins and leaves can always be sent (libzmq's answer too).
        true
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.activated(idx);
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.dist.activated(idx);
    }

    fn hiccuped(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        // A new RADIO behind the pipe knows none of our groups.
        self.send_joins(pipes, idx);
    }

    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.terminated(idx);
        self.dist.terminated(idx);
    }
}

impl super::Socket {
    /// zmq_join: ENOTSUP on anything but a DISH; EINVAL for no group (NULL).
    pub(crate) fn join(&mut self, group: Option<&[u8]>) -> ZResult<()> {
        let Pattern::Dish(d) = &mut self.pattern else { return err(libc::ENOTSUP) };
        let Some(group) = group else { return err(libc::EINVAL) };
        let r = d.join(&mut self.pipes, group);
        self.reap_dead();
        r
    }

    /// zmq_leave: ENOTSUP on anything but a DISH; EINVAL for no group (NULL).
    pub(crate) fn leave(&mut self, group: Option<&[u8]>) -> ZResult<()> {
        let Pattern::Dish(d) = &mut self.pattern else { return err(libc::ENOTSUP) };
        let Some(group) = group else { return err(libc::EINVAL) };
        let r = d.leave(&mut self.pipes, group);
        self.reap_dead();
        r
    }
}
