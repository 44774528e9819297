//! ROUTER (RFC 28): each peer is known by a routing id; received messages are prefixed with
//! the sender's id, and the first part of a sent message names the peer it goes to.

use super::fq::FairQueue;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use crate::error::{err, Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// A random u32 (std's hasher keys are seeded from the OS), for counters libzmq starts at a
/// random value so that ids differ between sockets and runs.
pub(crate) fn random_u32() -> u32 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish() as u32
}

/// What became of a pipe's identification.
enum Ident {
    Known,
    /// The peer's routing id has not arrived yet.
    Pending,
    /// The id is taken and ROUTER_HANDOVER is off.
    Refused,
}

pub(crate) struct Router {
    fq: FairQueue,
    /// Identified peers.
    table: HashMap<Vec<u8>, PipeIdx>,
    /// Pipes without an id: waiting for the peer's (false), or refused for a duplicate
    /// (true), which libzmq never reads nor routes to.
    strangers: Vec<(PipeIdx, bool)>,
    /// Counter behind generated ids (0x00 + big-endian u32, as libzmq).
    next_id: u32,
    /// Copies of options needed where the hooks get no `Options`.
    mandatory: bool,
    handover: bool,
    /// Receive side: the id part to hand out next, then the first body part behind it.
    prefetched_id: Option<Msg>,
    prefetched: Option<Msg>,
    /// Inside a received message (its id part has been returned or is prefetched).
    more_in: bool,
    current_in: Option<PipeIdx>,
    /// A handed-over pipe we are reading from: close it once its message is through.
    terminate_current_in: bool,
    /// Send side: inside a message whose id part was consumed; None drops the rest.
    more_out: bool,
    current_out: Option<PipeIdx>,
}

impl Default for Router {
    fn default() -> Router {
        Router {
            fq: FairQueue::default(),
            table: HashMap::new(),
            strangers: Vec::new(),
            next_id: random_u32(),
            mandatory: false,
            handover: false,
            prefetched_id: None,
            prefetched: None,
            more_in: false,
            current_in: None,
            terminate_current_in: false,
            more_out: false,
            current_out: None,
        }
    }
}

/// A fresh routing id for a peer that did not name itself (libzmq's form: 0x00 then a
/// big-endian counter), never one in `table`. ROUTER and STREAM share it.
pub(crate) fn generate_id(next: &mut u32, table: &HashMap<Vec<u8>, PipeIdx>) -> Vec<u8> {
    loop {
        let mut id = vec![0u8];
        id.extend_from_slice(&next.to_be_bytes());
        *next = next.wrapping_add(1);
        if !table.contains_key(&id) {
            return id;
        }
    }
}

impl Router {
    fn generate_id(&mut self) -> Vec<u8> {
        generate_id(&mut self.next_id, &self.table)
    }

    /// Gives a pipe its routing id: preset by ZMQ_CONNECT_ROUTING_ID, else the peer's first
    /// message (generated if empty).
    fn identify(&mut self, pipes: &mut Pipes, idx: PipeIdx) -> Ident {
        let pipe = pipes.at(idx);
        let id = if !pipe.routing_id.is_empty() {
            // The peer's own id message will still come; recv skips it.
            std::mem::take(&mut pipe.routing_id)
        } else {
            match pipe.read() {
                Some(m) if m.is_empty() => self.generate_id(),
                Some(m) => m.data().to_vec(),
                None => {
                    if pipe.is_drained() {
                        pipes.mark_dead(idx);
                    }
                    return Ident::Pending;
                }
            }
        };
        if let Some(old) = self.table.remove(&id) {
            if !self.handover {
                self.table.insert(id, old);
                return Ident::Refused;
            }
            // The newcomer takes the id; the old connection goes (after the message we are
            // reading from it, if any).
            if self.current_in == Some(old) {
                self.terminate_current_in = true;
            } else {
                pipes.at(old).terminate(false);
                pipes.mark_dead(old);
            }
        }
        pipes.at(idx).routing_id = id.clone();
        self.table.insert(id, idx);
        Ident::Known
    }

    fn place(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        match self.identify(pipes, idx) {
            Ident::Known => self.fq.attach(idx),
            Ident::Pending => self.strangers.push((idx, false)),
            Ident::Refused => self.strangers.push((idx, true)),
        }
    }

    /// The part that introduces a message from pipe `idx`.
    fn id_part(pipes: &mut Pipes, idx: PipeIdx) -> Msg {
        let mut id = Msg::from_slice(&pipes.at(idx).routing_id);
        id.set_more(true);
        id
    }

    /// Bookkeeping after a body part is handed to the application.
    fn part_done(&mut self, pipes: &mut Pipes, more: bool) {
        self.more_in = more;
        if !more {
            if let Some(idx) = self.current_in.take() {
                if std::mem::take(&mut self.terminate_current_in) {
                    pipes.at(idx).terminate(false);
                    pipes.mark_dead(idx);
                }
            }
        }
    }

    /// zmq_socket_get_peer_state: ZMQ_POLLOUT while the peer's pipe is below its HWM;
    /// EHOSTUNREACH for an unknown routing id.
    pub(crate) fn peer_state(&mut self, pipes: &mut Pipes, id: &[u8]) -> ZResult<i32> {
        let Some(&idx) = self.table.get(id) else { return err(libc::EHOSTUNREACH) };
        Ok(if pipes.at(idx).check_write() { crate::consts::ZMQ_POLLOUT } else { 0 })
    }

    /// Reads the first part of the next message into the prefetch slots.
    fn prefetch(&mut self, pipes: &mut Pipes) -> ZResult<()> {
        loop {
            let (msg, idx) = self.fq.recv(pipes)?;
            // A routing id resent by the peer (or after CONNECT_ROUTING_ID) is not data.
            if msg.flags() & Msg::ROUTING_ID != 0 {
                continue;
            }
            let mut id = Self::id_part(pipes, idx);
            id.share_metadata(&msg);
            self.prefetched_id = Some(id);
            self.prefetched = Some(msg);
            self.current_in = Some(idx);
            self.more_in = true;
            return Ok(());
        }
    }
}

impl Behaviour for Router {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options) {
        self.options_changed(opts);
        if opts.probe_router {
            let pipe = pipes.at(idx);
            let _ = pipe.write(Msg::new());
            pipe.flush();
        }
        self.place(pipes, idx);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg, opts: &Options) -> Result<(), (Errno, Msg)> {
        if !self.more_out {
            // The routing id part: it picks the pipe and is not sent. Without MORE it is a
            // whole (empty) message and is dropped, as libzmq does.
            if msg.more() {
                match self.table.get(msg.data()) {
                    Some(&idx) => {
                        let pipe = pipes.at(idx);
                        if pipe.check_write() {
                            self.current_out = Some(idx);
                        } else if opts.router_mandatory {
                            let e =
                                if pipe.peer_gone() { libc::EHOSTUNREACH } else { libc::EAGAIN };
                            return Err((Errno(e), msg));
                        }
                    }
                    None if opts.router_mandatory => {
                        return Err((Errno(libc::EHOSTUNREACH), msg));
                    }
                    None => {}
                }
                self.more_out = true;
            }
            return Ok(());
        }
        let more = msg.more();
        self.more_out = more;
        if let Some(idx) = self.current_out {
            let pipe = pipes.at(idx);
            if pipe.write(msg).is_err() {
                // Only a vanished peer refuses a part mid-message: drop the rest.
                self.current_out = None;
            } else if !more {
                pipe.flush();
            }
        }
        if !more {
            self.current_out = None;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        if self.prefetched_id.is_none() && self.prefetched.is_none() {
            if self.more_in {
                let (msg, _) = self.fq.recv(pipes)?;
                self.part_done(pipes, msg.more());
                return Ok(msg);
            }
            self.prefetch(pipes)?;
        }
        if let Some(id) = self.prefetched_id.take() {
            return Ok(id);
        }
        let msg = self.prefetched.take().expect("prefetched body part");
        self.part_done(pipes, msg.more());
        Ok(msg)
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.more_in || self.prefetch(pipes).is_ok()
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        // Without ROUTER_MANDATORY a send never blocks (unroutable messages are dropped).
        !self.mandatory || self.table.values().any(|&idx| pipes.at(idx).check_write())
    }

    fn read_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        match self.strangers.iter().position(|&(p, _)| p == idx) {
            None => self.fq.activated(idx),
            Some(pos) if !self.strangers[pos].1 => {
                self.strangers.swap_remove(pos);
                self.place(pipes, idx);
            }
            Some(_) => {
                // Refused pipes are never read; let one go once its peer has.
                if pipes.at(idx).peer_gone() {
                    pipes.at(idx).terminate(false);
                    pipes.mark_dead(idx);
                }
            }
        }
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}

    fn terminated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.strangers.retain(|&(p, _)| p != idx);
        self.fq.terminated(idx);
        if let Some(pipe) = pipes.get(idx) {
            // A handed-over pipe no longer owns its old id.
            if self.table.get(&pipe.routing_id) == Some(&idx) {
                self.table.remove(&pipe.routing_id);
            }
        }
        if self.current_out == Some(idx) {
            self.current_out = None;
        }
        if self.current_in == Some(idx) {
            self.current_in = None;
            self.terminate_current_in = false;
            if self.prefetched.is_none() {
                // The rest of the message went with the pipe (peer closed with linger 0).
                self.more_in = false;
            }
        }
    }

    fn options_changed(&mut self, opts: &Options) {
        self.mandatory = opts.router_mandatory;
        self.handover = opts.router_handover;
    }
}
