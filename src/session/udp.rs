//! The session of a udp endpoint: one datagram socket, one pipe, no connection. It lives
//! from zmq_bind/zmq_connect to close, unbind or disconnect; there is nothing to reconnect
//! and no handshake (libzmq's session with its udp engine).

use super::SocketLink;
use crate::engine::udp::UdpEngine;
use crate::engine::Inbound;
use crate::io::command::Command;
use crate::io::{Ctl, IoObject, Step, TimerId};
use crate::pipe::Pipe;
use mio::Registry;
use std::time::{Duration, Instant};

const LINGER: TimerId = 0;

pub(crate) struct UdpSession {
    link: SocketLink,
    /// The endpoint as given (`udp://...`): what zmq_unbind/zmq_disconnect name.
    endpoint: String,
    engine: UdpEngine,
    inbound: Inbound,
    /// The socket let go of its end: send what it queued, then go.
    closing: bool,
}

impl UdpSession {
    pub(crate) fn new(link: SocketLink, endpoint: String, engine: UdpEngine, pipe: Pipe) -> Self {
        let mut inbound = Inbound::default();
        inbound.pipe = Some(pipe);
        UdpSession { link, endpoint, engine, inbound, closing: false }
    }

    fn drive(&mut self) -> Step {
        while self.engine.pump(&mut self.inbound) {}
        if self.closing && self.engine.out_drained(&mut self.inbound) {
            return Step::Close;
        }
        Step::Continue
    }
}

impl IoObject for UdpSession {
    fn register(&mut self, ctl: &mut Ctl<'_>) -> Step {
        if let Some(p) = &mut self.inbound.pipe {
            p.attach_to(ctl.mailbox.clone());
            ctl.pipes.push(p.id);
            if p.peer_closed_early() {
                p.peer_terminated();
                self.closing = true;
            }
        }
        if self.engine.register(ctl.registry, ctl.token).is_err() {
            return Step::Close;
        }
        self.drive()
    }

    fn ready(&mut self, _ctl: &mut Ctl<'_>, readable: bool, writable: bool, _hup: bool) -> Step {
        self.engine.ready(readable, writable);
        self.drive()
    }

    fn pipe_command(&mut self, _ctl: &mut Ctl<'_>, cmd: Command) -> Step {
        let Some(pipe) = &mut self.inbound.pipe else { return Step::Continue };
        match cmd {
            Command::ActivateRead { pipe: id } if id == pipe.id => {
                pipe.activate_read();
            }
            Command::ActivateWrite { pipe: id } if id == pipe.id => {
                pipe.activate_write();
                self.inbound.deliver();
            }
            Command::PipeTerm { pipe: id } if id == pipe.id => {
                pipe.peer_terminated();
                self.closing = true;
            }
            _ => return Step::Continue,
        }
        self.drive()
    }

    fn timer(&mut self, _ctl: &mut Ctl<'_>, id: TimerId) -> Step {
        if id == LINGER {
            return Step::Close;
        }
        Step::Continue
    }

    /// What the socket queued is sent within the linger (datagrams rarely wait).
    fn close(&mut self, ctl: &mut Ctl<'_>, linger: i32) -> Step {
        self.closing = true;
        if linger == 0 {
            return Step::Close;
        }
        if linger > 0 {
            let when = Instant::now() + Duration::from_millis(linger as u64);
            ctl.timers.push((when, LINGER));
        }
        self.drive()
    }

    fn socket_id(&self) -> u64 {
        self.link.id
    }

    fn has_endpoint(&self, endpoint: &str) -> bool {
        self.endpoint == endpoint
    }

    fn deregister(&mut self, registry: &Registry) {
        self.engine.deregister(registry);
        if let Some(mut p) = self.inbound.pipe.take() {
            p.terminate(false);
        }
    }
}
