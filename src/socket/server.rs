//! SERVER (RFC 41) and PEER: each peer gets a 32-bit routing id, which received messages
//! carry (zmq_msg_routing_id) and sent messages name (zmq_msg_set_routing_id). Single-part
//! messages only. PEER is SERVER whose zmq_connect_peer answers the new peer's id.

use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use super::router::random_u32;
use super::single::{refuse_multipart, SingleIn};
use crate::error::{err, Errno, ZResult};
use crate::msg::Msg;
use crate::pipe::IdMap;
use crate::socket::Options;

pub(crate) struct Server {
    input: SingleIn,
    /// Routing id → pipe, and back.
    out: IdMap<u32, PipeIdx>,
    ids: IdMap<PipeIdx, u32>,
    /// Next id to hand out; starts random and never yields 0, as libzmq's.
    next_id: u32,
    /// The id given to the pipe attached last (what zmq_connect_peer returns).
    last_id: u32,
}

impl Default for Server {
    fn default() -> Server {
        Server {
            input: SingleIn::default(),
            out: IdMap::default(),
            ids: IdMap::default(),
            next_id: random_u32(),
            last_id: 0,
        }
    }
}

impl Server {
    /// The routing id of the pipe attached last.
    pub(crate) fn last_id(&self) -> u32 {
        self.last_id
    }

    /// Closes the connection to the peer with routing id `id` (zmq_disconnect_peer).
    pub(crate) fn disconnect(&mut self, pipes: &mut Pipes, id: u32) -> ZResult<()> {
        let Some(&idx) = self.out.get(&id) else { return err(libc::EHOSTUNREACH) };
        pipes.at(idx).terminate(false);
        pipes.mark_dead(idx);
        Ok(())
    }

    fn fresh_id(&mut self) -> u32 {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            if id != 0 && !self.out.contains_key(&id) {
                return id;
            }
        }
    }
}

impl Behaviour for Server {
    fn attach(&mut self, _pipes: &mut Pipes, idx: PipeIdx, _opts: &Options) {
        let id = self.fresh_id();
        self.out.insert(id, idx);
        self.ids.insert(idx, id);
        self.last_id = id;
        self.input.attach(idx);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        let mut msg = refuse_multipart(msg)?;
        let Some(&idx) = self.out.get(&msg.routing_id()) else {
            return Err((Errno(libc::EHOSTUNREACH), msg));
        };
        let pipe = pipes.at(idx);
        if !pipe.check_write() {
            return Err((Errno(libc::EAGAIN), msg));
        }
        // The id means nothing to the peer (and an inproc one would read it as its own).
        msg.set_routing_id(0);
        match pipe.write(msg) {
            Ok(()) => pipe.flush(),
            // The peer went between the check and the write: dropped, as libzmq does.
            Err(m) => drop(m),
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        let (mut msg, idx) = self.input.recv(pipes)?;
        if let Some(&id) = self.ids.get(&idx) {
            msg.set_routing_id(id);
        }
        Ok(msg)
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.input.has_in(pipes)
    }

    /// Whether a send succeeds depends on the peer it names: always "writable", as libzmq.
    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        true
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.input.activated(idx);
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}

    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        if let Some(id) = self.ids.remove(&idx) {
            self.out.remove(&id);
            if let Some(m) = self.input.orphan_ahead(idx) {
                m.set_routing_id(id);
            }
        }
        self.input.terminated(idx);
    }
}
