//! tcp:// addresses: parsing, resolution (host names, `*`, interface names, `[v6]`
//! literals, ephemeral ports) and the socket options libzmq applies to TCP sockets.

use crate::error::{err, ZResult};
use crate::options::Options;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use socket2::{SockRef, TcpKeepalive};
use std::time::Duration;

/// A parsed `host:port` before resolution.
pub(crate) struct HostPort {
    pub host: String,
    /// None: `*` (bind to an ephemeral port).
    pub port: Option<u16>,
}

/// Splits `host:port`; `[v6]:port` keeps the brackets off the host. EINVAL for a missing or
/// malformed port. libzmq takes the port modulo 2^16, so do we.
pub(crate) fn split(addr: &str) -> ZResult<HostPort> {
    let Some(colon) = addr.rfind(':') else { return err(libc::EINVAL) };
    let (host, port) = (&addr[..colon], &addr[colon + 1..]);
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let port = match port {
        "*" => None,
        p if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            let v: u64 = p.parse().or(err(libc::EINVAL))?;
            Some((v % 65536) as u16)
        }
        _ => return err(libc::EINVAL),
    };
    // Zone ids (`fe80::1%eth0`) are resolved by the system resolver.
    Ok(HostPort { host: host.to_string(), port })
}

/// The address of a network interface by name (`eth0`, `lo`), for bind.
fn interface_addr(name: &str, ipv6: bool) -> Option<IpAddr> {
    let ifs = if_addrs::get_if_addrs().ok()?;
    let mut it = ifs.iter().filter(|i| i.name == name).map(|i| i.ip());
    let all: Vec<IpAddr> = it.by_ref().collect();
    all.iter().find(|a| a.is_ipv4()).or_else(|| all.iter().find(|_| ipv6)).copied()
}

/// Resolves a bind address: `*` means every interface (IPv6 `::` with ZMQ_IPV6, which also
/// accepts IPv4), an interface name its address, else a literal or host name. ENODEV when
/// nothing matches, as libzmq.
pub(crate) fn resolve_bind(addr: &str, ipv6: bool) -> ZResult<SocketAddr> {
    let hp = split(addr)?;
    let port = hp.port.unwrap_or(0);
    let ip = if hp.host == "*" || hp.host.is_empty() {
        if ipv6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        }
    } else if let Ok(ip) = hp.host.parse::<IpAddr>() {
        if ip.is_ipv6() && !ipv6 {
            return err(libc::ENODEV);
        }
        ip
    } else if let Some(ip) = interface_addr(&hp.host, ipv6) {
        ip
    } else {
        pick((hp.host.as_str(), port), ipv6).ok_or(crate::error::Errno(libc::ENODEV))?.ip()
    };
    Ok(SocketAddr::new(ip, port))
}

/// Resolves a connect address (at connect time, in the I/O thread: a name that does not
/// resolve yet is retried like a refused connection). `*` is not allowed.
pub(crate) fn resolve_connect(addr: &str, ipv6: bool) -> ZResult<SocketAddr> {
    let hp = split(addr)?;
    let Some(port) = hp.port else { return err(libc::EINVAL) };
    if let Ok(ip) = hp.host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    pick((hp.host.as_str(), port), ipv6).ok_or(crate::error::Errno(libc::EHOSTUNREACH))
}

/// Checks a connect endpoint's syntax synchronously, as zmq_connect does: port present
/// and numeric (not `*`), optional `source;` prefix well formed.
pub(crate) fn validate_connect(addr: &str) -> ZResult<()> {
    let target = match addr.split_once(';') {
        Some((src, dst)) => {
            split(src)?;
            dst
        }
        None => addr,
    };
    match split(target)?.port {
        Some(_) => Ok(()),
        None => err(libc::EINVAL),
    }
}

fn pick(target: (&str, u16), ipv6: bool) -> Option<SocketAddr> {
    let addrs: Vec<SocketAddr> = target.to_socket_addrs().ok()?.collect();
    addrs.iter().find(|a| a.is_ipv4()).or_else(|| addrs.iter().find(|_| ipv6)).copied()
}

/// `tcp://ip:port` as ZMQ_LAST_ENDPOINT shows it.
pub(crate) fn endpoint_string(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("tcp://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("tcp://[{}]:{}", a.ip(), a.port()),
    }
}

/// Applies the per-connection options libzmq applies: no delay, buffers, keepalive, TOS,
/// user timeout. Failures are ignored, as libzmq ignores most of them.
pub(crate) fn tune(sock: SockRef<'_>, opts: &Options) {
    let _ = sock.set_nodelay(true);
    if opts.sndbuf >= 0 {
        let _ = sock.set_send_buffer_size(opts.sndbuf as usize);
    }
    if opts.rcvbuf >= 0 {
        let _ = sock.set_recv_buffer_size(opts.rcvbuf as usize);
    }
    if opts.tos != 0 {
        let _ = sock.set_tos(opts.tos as u32);
        let _ = sock.set_tclass_v6(opts.tos as u32);
    }
    if opts.tcp_keepalive != -1 {
        let _ = sock.set_keepalive(opts.tcp_keepalive == 1);
        if opts.tcp_keepalive == 1 {
            let mut ka = TcpKeepalive::new();
            if opts.tcp_keepalive_idle > 0 {
                ka = ka.with_time(Duration::from_secs(opts.tcp_keepalive_idle as u64));
            }
            if opts.tcp_keepalive_intvl > 0 {
                ka = ka.with_interval(Duration::from_secs(opts.tcp_keepalive_intvl as u64));
            }
            if opts.tcp_keepalive_cnt > 0 {
                ka = ka.with_retries(opts.tcp_keepalive_cnt as u32);
            }
            let _ = sock.set_tcp_keepalive(&ka);
        }
    }
    if opts.tcp_maxrt > 0 {
        let _ = sock.set_tcp_user_timeout(Some(Duration::from_millis(opts.tcp_maxrt as u64)));
    }
    bind_device(sock, opts);
}

/// ZMQ_BINDTODEVICE, for listeners and outgoing connections alike.
pub(crate) fn bind_device(sock: SockRef<'_>, opts: &Options) {
    if !opts.bindtodevice.is_empty() {
        let _ = sock.bind_device(Some(&opts.bindtodevice));
    }
}
