//! RADIO (RFC 48): single-part messages, each sent only to the DISHes joined to its group.
//!
//! DISHes tell us their groups with JOIN/LEAVE commands in their pipes (over ZMTP the
//! engine turns the wire's commands into these). A udp pipe gets every message: there the
//! DISH filters, as in libzmq.

use super::dist::Dist;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use crate::error::{Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;
use crate::zmtp::parse_group_command;
use std::collections::HashMap;

pub(crate) struct Radio {
    dist: Dist,
    /// group → the pipes joined to it.
    groups: HashMap<Vec<u8>, Vec<PipeIdx>>,
    /// udp pipes: every message goes to them.
    udp: Vec<PipeIdx>,
    /// ZMQ_XPUB_NODROP unset: drop for a full pipe rather than EAGAIN.
    lossy: bool,
}

impl Default for Radio {
    fn default() -> Radio {
        Radio { dist: Dist::default(), groups: HashMap::new(), udp: Vec::new(), lossy: true }
    }
}

impl Radio {
    /// Takes the JOIN/LEAVE commands a DISH sent; anything else a DISH sends is dropped.
    fn read_commands(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        let pipe = pipes.at(idx);
        while let Some(m) = pipe.read() {
            match parse_group_command(&m) {
                Some((true, g)) => self.groups.entry(g.to_vec()).or_default().push(idx),
                Some((false, g)) => {
                    if let Some(list) = self.groups.get_mut(g) {
                        if let Some(p) = list.iter().position(|&i| i == idx) {
                            list.swap_remove(p);
                        }
                        if list.is_empty() {
                            self.groups.remove(g);
                        }
                    }
                }
                None => {}
            }
        }
        if pipe.is_drained() {
            pipes.mark_dead(idx);
        }
    }
}

impl Behaviour for Radio {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options) {
        self.lossy = !opts.xpub_nodrop;
        self.dist.attach(idx);
        let udp = pipes.get(idx).and_then(|p| p.endpoint.as_deref()).is_some_and(is_udp);
        if udp {
            self.udp.push(idx);
        } else {
            // The DISH may have joined before we attached.
            self.read_commands(pipes, idx);
        }
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        // Single-part only (RFC 48).
        if msg.more() {
            return Err((Errno(libc::EINVAL), msg));
        }
        self.dist.unmatch();
        if let Some(list) = self.groups.get(msg.group()) {
            for &idx in list {
                self.dist.match_pipe(idx);
            }
        }
        for &idx in &self.udp {
            self.dist.match_pipe(idx);
        }
        if self.lossy || self.dist.check_hwm(pipes) {
            self.dist.send_to_matching(pipes, msg);
            Ok(())
        } else {
            Err((Errno(libc::EAGAIN), msg))
        }
    }

    fn recv(&mut self, _pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        crate::error::err(libc::ENOTSUP)
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        // As libzmq's distributor: a RADIO can always send (it drops for full pipes).
        true
    }

    fn read_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.read_commands(pipes, idx);
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.dist.activated(idx);
    }

    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.groups.retain(|_, list| {
            list.retain(|&i| i != idx);
            !list.is_empty()
        });
        self.udp.retain(|&i| i != idx);
        self.dist.terminated(idx);
    }

    fn options_changed(&mut self, opts: &Options) {
        self.lossy = !opts.xpub_nodrop;
    }
}

/// A pipe made for a udp:// endpoint (named by it).
pub(crate) fn is_udp(endpoint: &str) -> bool {
    endpoint.starts_with("udp://")
}
