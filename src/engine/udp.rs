//! The udp engine: datagrams to and from one socket, as libzmq's udp_engine does.
//!
//! RADIO sends each message as one datagram, `group length (1 octet), group, body`, to the
//! endpoint's target; DISH receives them into messages with that group (its socket
//! filters groups); DGRAM sends and receives raw datagrams as two-part messages, the
//! peer's `ip:port` then the body. A DISH's joins and leaves coming down its pipe have no
//! meaning on udp and are dropped.

use super::Inbound;
use crate::msg::Msg;
use crate::transport::udp::{address_part, parse_address_part, MAX_UDP_MSG};
use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};
use std::io;
use std::net::SocketAddr;

pub(crate) struct UdpEngine {
    sock: UdpSocket,
    /// Where RADIO datagrams go (None: receive only, or DGRAM's per-message address).
    target: Option<SocketAddr>,
    send: bool,
    recv: bool,
    /// DGRAM: address parts rather than groups.
    raw: bool,
    buf: Box<[u8]>,
    readable: bool,
    writable: bool,
    /// DGRAM: the address part read from the pipe, waiting for its body.
    address: Option<Option<SocketAddr>>,
    /// A datagram the socket could not take yet.
    unsent: Option<(Vec<u8>, SocketAddr)>,
}

impl UdpEngine {
    pub(crate) fn new(
        sock: std::net::UdpSocket,
        target: Option<SocketAddr>,
        send: bool,
        recv: bool,
        raw: bool,
    ) -> UdpEngine {
        UdpEngine {
            sock: UdpSocket::from_std(sock),
            target,
            send,
            recv,
            raw,
            buf: vec![0; MAX_UDP_MSG].into_boxed_slice(),
            readable: false,
            writable: false,
            address: None,
            unsent: None,
        }
    }

    pub(crate) fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(&mut self.sock, token, Interest::READABLE | Interest::WRITABLE)
    }

    pub(crate) fn deregister(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.sock);
    }

    pub(crate) fn ready(&mut self, readable: bool, writable: bool) {
        self.readable |= readable;
        self.writable |= writable;
    }

    /// Moves datagrams both ways until neither can move; true if anything did.
    pub(crate) fn pump(&mut self, inb: &mut Inbound) -> bool {
        let a = self.pump_out(inb);
        let b = self.pump_in(inb);
        a || b
    }

    /// Whether everything the socket queued has been sent (for linger).
    pub(crate) fn out_drained(&mut self, inb: &mut Inbound) -> bool {
        self.unsent.is_none() && inb.pipe.as_mut().is_none_or(|p| !p.check_read())
    }

    /// Reads datagrams into the pipe while it has room: one that does not fit waits, and
    /// reading stops until the pipe drains (the kernel queues, then drops, the rest).
    fn pump_in(&mut self, inb: &mut Inbound) -> bool {
        let mut progress = false;
        while self.recv && self.readable && inb.is_clear() {
            let (n, from) = match self.sock.recv_from(&mut self.buf) {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // An ICMP error reported on the socket: nothing to deliver.
                Err(_) => continue,
            };
            progress = true;
            let d = &self.buf[..n];
            if self.raw {
                let mut addr = Msg::from_slice(address_part(&from).as_bytes());
                addr.set_more(true);
                inb.push(addr);
                inb.push(Msg::from_slice(d));
            } else {
                // Group length, group, body; a datagram too short for its group is dropped.
                let Some((&len, rest)) = d.split_first() else { continue };
                let len = usize::from(len);
                if rest.len() < len {
                    continue;
                }
                let group = &rest[..len];
                // A NUL ends the group, as libzmq's copy of it does.
                let group = &group[..group.iter().position(|&b| b == 0).unwrap_or(len)];
                let mut m = Msg::from_slice(&rest[len..]);
                if m.set_group(group).is_err() {
                    continue;
                }
                inb.push(m);
            }
        }
        inb.flush();
        progress
    }

    /// Sends what the socket queued, one datagram per message.
    fn pump_out(&mut self, inb: &mut Inbound) -> bool {
        let mut progress = false;
        let Some(pipe) = &mut inb.pipe else { return false };
        if !self.send {
            // A DISH's joins and leaves: udp has no use for them.
            while pipe.read().is_some() {
                progress = true;
            }
            return progress;
        }
        loop {
            if let Some((d, to)) = &self.unsent {
                if !self.writable {
                    return progress;
                }
                match self.sock.send_to(d, *to) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.writable = false;
                        return progress;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    // Sent, or refused for good (unreachable, too large): next one.
                    _ => {}
                }
                self.unsent = None;
                progress = true;
            }
            let Some(m) = pipe.read() else { return progress };
            progress = true;
            if self.raw {
                // Two parts: the address, then the body; a bad address drops both.
                match self.address.take() {
                    None if m.more() => self.address = Some(parse_address_part(m.data())),
                    None => {}
                    Some(to) => {
                        if let (Some(to), false) = (to, m.len() > MAX_UDP_MSG) {
                            self.unsent = Some((m.data().to_vec(), to));
                        }
                    }
                }
            } else if m.flags() & Msg::COMMAND == 0 {
                let (g, body) = (m.group(), m.data());
                let Some(to) = self.target else { continue };
                if 1 + g.len() + body.len() > MAX_UDP_MSG {
                    continue; // larger than libzmq's datagram buffer: dropped
                }
                let mut d = Vec::with_capacity(1 + g.len() + body.len());
                d.push(g.len() as u8);
                d.extend_from_slice(g);
                d.extend_from_slice(body);
                self.unsent = Some((d, to));
            }
        }
    }
}
