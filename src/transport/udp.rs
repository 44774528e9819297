//! udp:// (draft, for RADIO/DISH and DGRAM): addresses as libzmq's udp_address_t reads
//! them, and the datagram socket each endpoint uses.
//!
//! Syntax: `udp://host:port` (unicast: the destination of a connect, the address a bind
//! listens on), `udp://group:port` (multicast on the default interface) and
//! `udp://iface;group:port` (multicast through an interface, by name or address; only
//! multicast takes one).

use crate::error::{err, Errno, ZResult};
use crate::options::Options;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// libzmq's datagram buffer: larger datagrams are not sent, nor received whole.
pub(crate) const MAX_UDP_MSG: usize = 8192;

/// A resolved udp endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UdpAddr {
    /// Where datagrams go (a connect's destination, or the multicast group).
    pub target: SocketAddr,
    /// Where to listen (multicast: the interface, with the port).
    pub bind: SocketAddr,
    /// The interface's index for IPv6 multicast: 0 any, -1 unknown.
    pub bind_if: i32,
    pub multicast: bool,
}

fn unspecified(v6: bool, port: u16) -> SocketAddr {
    let ip = if v6 { IpAddr::V6(Ipv6Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::UNSPECIFIED) };
    SocketAddr::new(ip, port)
}

/// The index of a network interface, 0 if there is none by that name.
fn if_index(name: &str) -> u32 {
    std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

impl UdpAddr {
    /// Resolves `name` (without `udp://`) for a bind (DISH, DGRAM) or a connect (RADIO),
    /// with libzmq's rules and errnos.
    pub(crate) fn resolve(name: &str, bind: bool, ipv6: bool) -> ZResult<UdpAddr> {
        let mut iface = None;
        let mut rest = name;
        if let Some(semi) = name.rfind(';') {
            let src = &name[..semi];
            // The interface: `*`, a name or a literal address, never DNS, no port (given
            // one here only to reuse the bind resolver).
            let a = super::tcp::resolve_bind(&format!("{src}:1"), ipv6)?;
            if a.ip().is_multicast() {
                return err(libc::EINVAL);
            }
            let idx = if src == "*" {
                0
            } else {
                match if_index(src) {
                    0 => -1,
                    i => i as i32,
                }
            };
            iface = Some((a.ip(), idx));
            rest = &name[semi + 1..];
        }
        let target = if bind {
            super::tcp::resolve_bind(rest, ipv6)?
        } else {
            super::tcp::resolve_connect(rest, ipv6)?
        };
        let multicast = target.ip().is_multicast();
        let port = target.port();
        let (bind_addr, bind_if) = match iface {
            // An interface only makes sense for multicast.
            Some(_) if !multicast => return err(libc::EINVAL),
            Some((ip, idx)) => (SocketAddr::new(ip, port), idx),
            None if multicast || !bind => (unspecified(target.is_ipv6(), port), 0),
            // A unicast bind address is where to listen.
            None => (target, -1),
        };
        if bind_addr.is_ipv6() != target.is_ipv6() {
            return err(libc::EINVAL);
        }
        if ipv6 && multicast && bind_if < 0 {
            return err(libc::ENODEV);
        }
        Ok(UdpAddr { target, bind: bind_addr, bind_if, multicast })
    }
}

fn os_err(e: std::io::Error) -> Errno {
    Errno(e.raw_os_error().unwrap_or(libc::EINVAL))
}

/// Opens the datagram socket of an endpoint: set up to `send` to the target (multicast
/// loop, hops and interface from the options, unless `raw`, which sends anywhere) and/or to
/// `recv` (bound, joined to the group for multicast), as libzmq's udp engine does.
pub(crate) fn open(
    addr: &UdpAddr,
    opts: &Options,
    send: bool,
    recv: bool,
    raw: bool,
) -> ZResult<std::net::UdpSocket> {
    let v6 = addr.bind.is_ipv6();
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).map_err(os_err)?;
    s.set_nonblocking(true).map_err(os_err)?;
    if !opts.bindtodevice.is_empty() {
        s.bind_device(Some(&opts.bindtodevice)).map_err(os_err)?;
    }
    if send && !raw && addr.multicast {
        let hops = opts.multicast_hops;
        match addr.bind.ip() {
            IpAddr::V4(ip) => {
                s.set_multicast_loop_v4(opts.multicast_loop).map_err(os_err)?;
                if hops > 0 {
                    s.set_multicast_ttl_v4(hops as u32).map_err(os_err)?;
                }
                if !ip.is_unspecified() {
                    s.set_multicast_if_v4(&ip).map_err(os_err)?;
                }
            }
            IpAddr::V6(_) => {
                s.set_multicast_loop_v6(opts.multicast_loop).map_err(os_err)?;
                if hops > 0 {
                    s.set_multicast_hops_v6(hops as u32).map_err(os_err)?;
                }
                if addr.bind_if > 0 {
                    s.set_multicast_if_v6(addr.bind_if as u32).map_err(os_err)?;
                }
            }
        }
    }
    if recv {
        s.set_reuse_address(true).map_err(os_err)?;
        if addr.multicast {
            // Every socket bound to the group's port gets each datagram.
            s.set_reuse_port(true).map_err(os_err)?;
            let any = unspecified(v6, addr.bind.port());
            s.bind(&SockAddr::from(any)).map_err(os_err)?;
            match (addr.target.ip(), addr.bind.ip()) {
                (IpAddr::V4(group), IpAddr::V4(iface)) => {
                    s.join_multicast_v4(&group, &iface).map_err(os_err)?
                }
                (IpAddr::V6(group), _) => {
                    s.join_multicast_v6(&group, addr.bind_if.max(0) as u32).map_err(os_err)?
                }
                _ => return err(libc::EINVAL),
            }
        } else {
            s.bind(&SockAddr::from(addr.bind)).map_err(os_err)?;
        }
    }
    Ok(s.into())
}

/// DGRAM's address part for a datagram's sender: `ip:port` (IPv6 in brackets).
pub(crate) fn address_part(from: &SocketAddr) -> String {
    from.to_string()
}

/// Parses DGRAM's address part: `ip:port` with a literal IP and a port other than 0 (what
/// libzmq accepts); None drops the datagram.
pub(crate) fn parse_address_part(part: &[u8]) -> Option<SocketAddr> {
    let s = std::str::from_utf8(part).ok()?;
    let (host, port) = s.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|&p| p != 0)?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let ip: IpAddr = host.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn unicast() {
        let a = UdpAddr::resolve("127.0.0.1:5555", false, false).unwrap();
        assert_eq!(
            (a.target, a.bind, a.multicast),
            (sa("127.0.0.1:5555"), sa("0.0.0.0:5555"), false)
        );
        let b = UdpAddr::resolve("*:5555", true, false).unwrap();
        assert_eq!(b.bind, sa("0.0.0.0:5555"));
        let c = UdpAddr::resolve("127.0.0.1:5555", true, false).unwrap();
        assert_eq!(c.bind, sa("127.0.0.1:5555"));
    }

    #[test]
    fn multicast() {
        let a = UdpAddr::resolve("239.0.0.1:5555", true, false).unwrap();
        assert_eq!(
            (a.target, a.bind, a.multicast),
            (sa("239.0.0.1:5555"), sa("0.0.0.0:5555"), true)
        );
        let b = UdpAddr::resolve("127.0.0.1;239.0.0.1:5555", false, false).unwrap();
        assert_eq!(b.bind, sa("127.0.0.1:5555"));
        let c = UdpAddr::resolve("lo;239.0.0.1:5555", true, false).unwrap();
        assert_eq!(c.bind, sa("127.0.0.1:5555"));
        assert!(c.bind_if > 0);
    }

    #[test]
    fn errors() {
        // An interface with a unicast target, a multicast interface, bad syntax.
        for (name, bind, e) in [
            ("127.0.0.1;127.0.0.1:5555", false, libc::EINVAL),
            ("239.0.0.2;239.0.0.1:5555", false, libc::EINVAL),
            ("127.0.0.1", false, libc::EINVAL),
            ("127.0.0.1:0x", true, libc::EINVAL),
        ] {
            assert_eq!(UdpAddr::resolve(name, bind, false).unwrap_err(), Errno(e), "{name}");
        }
    }

    /// The options reach the socket: loop, hops and interface for a multicast sender.
    #[test]
    fn multicast_sender_options() {
        let a = UdpAddr::resolve("127.0.0.1;239.255.1.2:5555", false, false).unwrap();
        let mut o = Options::new(crate::consts::ZMQ_RADIO);
        o.multicast_loop = false;
        o.multicast_hops = 7;
        let s = open(&a, &o, true, false, false).unwrap();
        let r = socket2::SockRef::from(&s);
        assert!(!r.multicast_loop_v4().unwrap());
        assert_eq!(r.multicast_ttl_v4().unwrap(), 7);
        o.multicast_loop = true;
        let s = open(&a, &o, true, false, false).unwrap();
        assert!(socket2::SockRef::from(&s).multicast_loop_v4().unwrap());
    }

    #[test]
    fn address_parts() {
        assert_eq!(parse_address_part(b"127.0.0.1:5555"), Some(sa("127.0.0.1:5555")));
        assert_eq!(parse_address_part(b"127.0.0.1:0"), None);
        assert_eq!(parse_address_part(b"localhost:5555"), None);
        assert_eq!(parse_address_part(b"5555"), None);
        assert_eq!(address_part(&sa("10.1.2.3:99")), "10.1.2.3:99");
    }
}
