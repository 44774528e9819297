//! STREAM (libzmq 4.3): raw TCP/IPC peers, each known by a routing id the socket makes up
//! (0x00 + a u32, as ROUTER) or takes from ZMQ_CONNECT_ROUTING_ID. Received data comes as
//! [id][bytes of one read]; [id][bytes] writes to that peer; [id][empty] closes its
//! connection. Sessions announce a connect and a disconnect with an empty message
//! (ZMQ_STREAM_NOTIFY), which reaches the application as [id][empty].

use super::fq::FairQueue;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use super::router::random_u32;
use crate::error::{Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;
use std::collections::HashMap;

pub(crate) struct Stream {
    fq: FairQueue,
    /// Peers by routing id.
    table: HashMap<Vec<u8>, PipeIdx>,
    /// Counter behind generated ids, from a random start as in libzmq.
    next_id: u32,
    /// Receive side: the id part to hand out next, then the data part behind it.
    prefetched_id: Option<Msg>,
    prefetched: Option<Msg>,
    /// Send side: the id part was taken; the next part is the data.
    more_out: bool,
    current_out: Option<PipeIdx>,
}

impl Default for Stream {
    fn default() -> Stream {
        Stream {
            fq: FairQueue::default(),
            table: HashMap::new(),
            next_id: random_u32(),
            prefetched_id: None,
            prefetched: None,
            more_out: false,
            current_out: None,
        }
    }
}

impl Stream {
    fn generate_id(&mut self) -> Vec<u8> {
        super::router::generate_id(&mut self.next_id, &self.table)
    }

    /// Reads the next message into the prefetch slots, behind its peer's id.
    fn prefetch(&mut self, pipes: &mut Pipes) -> ZResult<()> {
        let (mut msg, idx) = self.fq.recv(pipes)?;
        // Raw sessions write single parts; whatever else arrives goes out as data parts.
        msg.set_more(false);
        let mut id = Msg::from_slice(&pipes.at(idx).routing_id);
        id.set_more(true);
        // The connection's properties on both parts, as libzmq.
        id.share_metadata(&msg);
        self.prefetched_id = Some(id);
        self.prefetched = Some(msg);
        Ok(())
    }
}

impl Behaviour for Stream {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, _opts: &Options) {
        let pipe = pipes.at(idx);
        // ZMQ_CONNECT_ROUTING_ID names the pipe of that connect. libzmq asserts an id is
        // not reused; we give the newcomer a fresh one instead.
        let preset = std::mem::take(&mut pipe.routing_id);
        let id = if preset.is_empty() || self.table.contains_key(&preset) {
            self.generate_id()
        } else {
            preset
        };
        pipes.at(idx).routing_id = id.clone();
        self.table.insert(id, idx);
        self.fq.attach(idx);
    }

    fn send(
        &mut self,
        pipes: &mut Pipes,
        mut msg: Msg,
        _opts: &Options,
    ) -> Result<(), (Errno, Msg)> {
        if !self.more_out {
            // The id part picks the peer. Without MORE it is dropped, and (as in libzmq)
            // the part after it is taken for data to nobody.
            if msg.more() {
                let Some(&idx) = self.table.get(msg.data()) else {
                    return Err((Errno(libc::EHOSTUNREACH), msg));
                };
                let pipe = pipes.at(idx);
                if !pipe.check_write() {
                    // A peer that is gone will not make room: as unknown as it soon is.
                    let e = if pipe.peer_gone() { libc::EHOSTUNREACH } else { libc::EAGAIN };
                    return Err((Errno(e), msg));
                }
                self.current_out = Some(idx);
            }
            self.more_out = true;
            return Ok(());
        }
        // One data part per message: MORE on it is ignored.
        msg.set_more(false);
        self.more_out = false;
        if let Some(idx) = self.current_out.take() {
            let pipe = pipes.at(idx);
            if msg.is_empty() {
                // Close that connection (the session writes what it already has first);
                // its id is unknown from now on.
                pipe.terminate(false);
                let id = std::mem::take(&mut pipe.routing_id);
                self.table.remove(&id);
            } else if pipe.write(msg).is_ok() {
                pipe.flush();
            }
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        if self.prefetched.is_none() {
            self.prefetch(pipes)?;
        }
        if let Some(id) = self.prefetched_id.take() {
            return Ok(id);
        }
        Ok(self.prefetched.take().expect("prefetched data part"))
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.prefetched.is_some() || self.prefetch(pipes).is_ok()
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        // A send never blocks: an unknown peer is EHOSTUNREACH.
        true
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.activated(idx);
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}

    fn terminated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.terminated(idx);
        if let Some(pipe) = pipes.get(idx) {
            if self.table.get(&pipe.routing_id) == Some(&idx) {
                self.table.remove(&pipe.routing_id);
            }
        }
        if self.current_out == Some(idx) {
            self.current_out = None;
        }
    }
}
