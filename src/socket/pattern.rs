//! The hooks every socket pattern implements, and the closed set of patterns.
//!
//! The socket base owns the pipes and calls these hooks; a pattern keeps only pipe indices
//! and its routing state (fair queue, load balancer, routing table, subscriptions...).

use super::pipes::{PipeIdx, Pipes};
use crate::consts::*;
use crate::error::{err, Errno, ZResult};
use crate::msg::Msg;
use crate::socket::Options;

/// What a pattern does with pipes and messages. Every method has a default that suits a
/// pattern not interested in that event.
pub(crate) trait Behaviour {
    /// A new pipe to a peer.
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options);
    /// Sends one part (MORE set if more follow). On failure the message comes back.
    fn send(&mut self, pipes: &mut Pipes, msg: Msg, opts: &Options) -> Result<(), (Errno, Msg)> {
        let _ = (pipes, opts);
        Err((Errno(libc::ENOTSUP), msg))
    }
    /// Receives one part; EAGAIN when nothing is ready.
    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> ZResult<Msg> {
        let _ = (pipes, opts);
        err(libc::ENOTSUP)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        let _ = pipes;
        false
    }
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        let _ = pipes;
        false
    }
    /// A pipe that had run dry has messages again.
    fn read_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx);
    /// A pipe that was full can take messages again.
    fn write_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx);
    /// The connection behind a pipe was re-established (state such as subscriptions must
    /// be sent again).
    fn hiccuped(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        let _ = (pipes, idx);
    }
    /// A pipe is gone; forget it (it is removed from `pipes` right after).
    fn terminated(&mut self, pipes: &mut Pipes, idx: PipeIdx);
    /// Socket-type specific options that act rather than store (ZMQ_SUBSCRIBE...).
    /// None: not handled here, store it in Options.
    fn setsockopt(
        &mut self,
        pipes: &mut Pipes,
        opts: &Options,
        option: i32,
        value: &[u8],
    ) -> Option<ZResult<()>> {
        let _ = (pipes, opts, option, value);
        None
    }
    /// Socket-type specific readable values (ZMQ_TOPICS_COUNT...). None: ask Options.
    fn getsockopt(&self, option: i32) -> Option<ZResult<i32>> {
        let _ = option;
        None
    }
    /// An option was stored: patterns copy what their hooks without `Options` need
    /// (has_in/has_out, read_activated).
    fn options_changed(&mut self, opts: &Options) {
        let _ = opts;
    }
}

macro_rules! patterns {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// Every socket type's behaviour.
        pub(crate) enum Pattern { $($variant($ty)),* }

        impl Pattern {
            fn inner(&mut self) -> &mut dyn Behaviour {
                match self { $(Pattern::$variant(p) => p),* }
            }
            fn inner_ref(&self) -> &dyn Behaviour {
                match self { $(Pattern::$variant(p) => p),* }
            }
        }
    };
}

patterns! {
    Pair(super::pair::Pair),
    Push(super::pipeline::Push),
    Pull(super::pipeline::Pull),
    Dealer(super::dealer::Dealer),
    XPub(super::pubsub::XPub),
    XSub(super::pubsub::XSub),
    Req(super::req::Req),
    Rep(super::rep::Rep),
    Router(super::router::Router),
    Stream(super::stream::Stream),
    Server(super::server::Server),
    Client(super::client::Client),
    Gather(super::scatter::Gather),
    Channel(super::channel::Channel),
    Radio(super::radio::Radio),
    Dish(super::dish::Dish),
    Dgram(super::dgram::Dgram),
}

impl Pattern {
    /// The behaviour for a socket type; EINVAL for an unknown or unbuilt type.
    pub(crate) fn new(socket_type: i32) -> ZResult<Pattern> {
        Ok(match socket_type {
            ZMQ_PAIR => Pattern::Pair(Default::default()),
            ZMQ_PUSH => Pattern::Push(Default::default()),
            ZMQ_PULL => Pattern::Pull(Default::default()),
            ZMQ_DEALER => Pattern::Dealer(Default::default()),
            ZMQ_PUB | ZMQ_XPUB => Pattern::XPub(super::pubsub::XPub::new(socket_type)),
            ZMQ_SUB | ZMQ_XSUB => Pattern::XSub(super::pubsub::XSub::new(socket_type)),
            ZMQ_REQ => Pattern::Req(Default::default()),
            ZMQ_REP => Pattern::Rep(Default::default()),
            ZMQ_ROUTER => Pattern::Router(Default::default()),
            ZMQ_STREAM => Pattern::Stream(Default::default()),
            ZMQ_SERVER | ZMQ_PEER => Pattern::Server(Default::default()),
            ZMQ_CLIENT => Pattern::Client(Default::default()),
            ZMQ_GATHER => Pattern::Gather(Default::default()),
            ZMQ_SCATTER => Pattern::Push(super::pipeline::Push::scatter()),
            ZMQ_CHANNEL => Pattern::Channel(Default::default()),
            ZMQ_RADIO => Pattern::Radio(Default::default()),
            ZMQ_DISH => Pattern::Dish(Default::default()),
            ZMQ_DGRAM => Pattern::Dgram(Default::default()),
            _ => return err(libc::EINVAL),
        })
    }

    pub(crate) fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options) {
        self.inner().attach(pipes, idx, opts)
    }
    pub(crate) fn send(
        &mut self,
        pipes: &mut Pipes,
        msg: Msg,
        opts: &Options,
    ) -> Result<(), (Errno, Msg)> {
        self.inner().send(pipes, msg, opts)
    }
    pub(crate) fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> ZResult<Msg> {
        self.inner().recv(pipes, opts)
    }
    pub(crate) fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.inner().has_in(pipes)
    }
    pub(crate) fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.inner().has_out(pipes)
    }
    pub(crate) fn read_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.inner().read_activated(pipes, idx)
    }
    pub(crate) fn write_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.inner().write_activated(pipes, idx)
    }
    pub(crate) fn hiccuped(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.inner().hiccuped(pipes, idx)
    }
    pub(crate) fn terminated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.inner().terminated(pipes, idx)
    }
    pub(crate) fn setsockopt(
        &mut self,
        pipes: &mut Pipes,
        opts: &Options,
        option: i32,
        value: &[u8],
    ) -> Option<ZResult<()>> {
        self.inner().setsockopt(pipes, opts, option, value)
    }
    pub(crate) fn getsockopt(&self, option: i32) -> Option<ZResult<i32>> {
        self.inner_ref().getsockopt(option)
    }
    pub(crate) fn options_changed(&mut self, opts: &Options) {
        self.inner().options_changed(opts)
    }

    /// SERVER/PEER: the routing id of the peer attached last (zmq_connect_peer).
    pub(crate) fn last_peer_id(&self) -> Option<u32> {
        match self {
            Pattern::Server(s) => Some(s.last_id()),
            _ => None,
        }
    }
    /// zmq_socket_get_peer_state: ROUTER only (ENOTSUP elsewhere, as libzmq's base).
    pub(crate) fn peer_state(&mut self, pipes: &mut Pipes, id: &[u8]) -> ZResult<i32> {
        match self {
            Pattern::Router(r) => r.peer_state(pipes, id),
            _ => err(libc::ENOTSUP),
        }
    }
    /// SERVER/PEER: drops the peer with routing id `id`; ENOTSUP for other types.
    pub(crate) fn disconnect_peer(&mut self, pipes: &mut Pipes, id: u32) -> ZResult<()> {
        match self {
            Pattern::Server(s) => s.disconnect(pipes, id),
            _ => err(libc::ENOTSUP),
        }
    }
}
