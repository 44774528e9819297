//! tcp:// addresses the way libzmq 4.3 reads them: `host:port` with `*` for every interface,
//! interface names and numeric addresses only when binding (no DNS: ENODEV), host names
//! when connecting (resolved at each attempt), `[v6]` literals with an optional `%zone`,
//! `source;destination` for connects, ports parsed like atoi(); and the socket options
//! libzmq applies to TCP sockets.

use crate::error::{err, Errno, ZResult};
use crate::options::Options;
use socket2::{SockRef, TcpKeepalive};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, ToSocketAddrs};
use std::time::Duration;

/// How a name may be resolved (libzmq's ip_resolver options).
#[derive(Clone, Copy)]
struct How {
    /// For bind: `*` means every interface, `*` as port means ephemeral, failures are ENODEV.
    bindable: bool,
    /// Host names through the system resolver (connect only).
    dns: bool,
    /// Interface names such as `lo` (bind and source addresses only).
    nic: bool,
    ipv6: bool,
}

const BIND: How = How { bindable: true, dns: false, nic: true, ipv6: false };
const CONNECT: How = How { bindable: false, dns: true, nic: false, ipv6: false };

/// C's atoi(): leading blanks, a sign, digits up to the first non-digit; overflow saturates
/// like glibc's strtol before the cast to int.
fn atoi(s: &str) -> i32 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    let v = if neg { -v } else { v };
    v as i32
}

/// The port after the last ':'. `*` (bind only) and `0` ask for an ephemeral port; anything
/// else goes through atoi() and a result of 0 is EINVAL, so `-1` is 65535 and `65536` fails,
/// exactly as in libzmq.
fn parse_port(s: &str, how: How) -> ZResult<u16> {
    match s {
        "*" if how.bindable => Ok(0),
        "*" => err(libc::EINVAL),
        "0" => Ok(0),
        _ => match atoi(s) as u16 {
            0 => err(libc::EINVAL),
            p => Ok(p),
        },
    }
}

/// An interface's index (for `%zone`): Linux names it under /sys, or the address list does.
fn if_index(name: &str) -> u32 {
    if let Ok(s) = std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex")) {
        if let Ok(v) = s.trim().parse() {
            return v;
        }
    }
    if_addrs::get_if_addrs()
        .ok()
        .and_then(|ifs| ifs.into_iter().find(|i| i.name == name).and_then(|i| i.index))
        .unwrap_or(0)
}

/// The first address of the named interface in the family asked for (IPv6 with ZMQ_IPV6).
fn nic_addr(name: &str, ipv6: bool) -> Option<IpAddr> {
    let ifs = if_addrs::get_if_addrs().ok()?;
    ifs.into_iter().filter(|i| i.name == name).map(|i| i.ip()).find(|ip| ip.is_ipv6() == ipv6)
}

/// getaddrinfo() with libzmq's hints: AF_INET, or AF_INET6 with AI_V4MAPPED under ZMQ_IPV6;
/// numeric only unless `dns`.
fn lookup(host: &str, how: How) -> Option<IpAddr> {
    let want = |ip: IpAddr| -> Option<IpAddr> {
        match (ip, how.ipv6) {
            (IpAddr::V4(_), false) | (IpAddr::V6(_), true) => Some(ip),
            (IpAddr::V4(v4), true) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
            (IpAddr::V6(_), false) => None,
        }
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return want(ip);
    }
    if !how.dns || host.is_empty() {
        return None;
    }
    let all: Vec<IpAddr> = (host, 0).to_socket_addrs().ok()?.map(|a| a.ip()).collect();
    // AI_V4MAPPED gives mapped IPv4 addresses only when there is no IPv6 one.
    let native = all.iter().copied().find(|ip| ip.is_ipv6() == how.ipv6);
    native.or_else(|| all.into_iter().find_map(want))
}

/// Resolves `host:port` per `how` (libzmq's ip_resolver_t::resolve).
fn resolve(name: &str, how: How) -> ZResult<SocketAddr> {
    let Some(colon) = name.rfind(':') else { return err(libc::EINVAL) };
    let port = parse_port(&name[colon + 1..], how)?;
    let mut host = &name[..colon];
    if host.len() >= 2 && host.starts_with('[') && host.ends_with(']') {
        host = &host[1..host.len() - 1];
    }
    let mut zone = 0;
    if let Some(pct) = host.rfind('%') {
        let ifname = &host[pct + 1..];
        zone = match ifname.as_bytes().first() {
            None => return err(libc::EINVAL),
            Some(c) if c.is_ascii_alphabetic() => if_index(ifname),
            Some(_) => atoi(ifname) as u32,
        };
        if zone == 0 {
            return err(libc::EINVAL);
        }
        host = &host[..pct];
    }
    let ip = if how.bindable && host == "*" {
        if how.ipv6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        }
    } else if let Some(ip) = how.nic.then(|| nic_addr(host, how.ipv6)).flatten() {
        ip
    } else {
        match lookup(host, how) {
            Some(ip) => ip,
            None if how.bindable => return err(libc::ENODEV),
            None => return err(libc::EINVAL),
        }
    };
    Ok(match ip {
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, zone)),
        IpAddr::V4(_) => SocketAddr::new(ip, port),
    })
}

/// Resolves a bind address: `*`, an interface name or a numeric address (never DNS), with
/// `*` or `0` as port for an ephemeral one. ENODEV when nothing matches, EINVAL for syntax.
pub(crate) fn resolve_bind(addr: &str, ipv6: bool) -> ZResult<SocketAddr> {
    resolve(addr, How { ipv6, ..BIND })
}

/// Resolves a connect destination (host names allowed), at each connection attempt: a name
/// that does not resolve is retried like a refused connection.
pub(crate) fn resolve_connect(addr: &str, ipv6: bool) -> ZResult<SocketAddr> {
    resolve(addr, How { ipv6, ..CONNECT })
}

/// Resolves a whole connect address, `[source;]destination` (split at the last ';'; the
/// source resolves like a bind address).
pub(crate) fn resolve_connect_pair(
    addr: &str,
    ipv6: bool,
) -> ZResult<(Option<SocketAddr>, SocketAddr)> {
    match addr.rfind(';') {
        Some(semi) => {
            let src = resolve(&addr[..semi], How { ipv6, ..BIND })?;
            Ok((Some(src), resolve_connect(&addr[semi + 1..], ipv6)?))
        }
        None => Ok((None, resolve_connect(addr, ipv6)?)),
    }
}

/// zmq_connect's synchronous check (libzmq's "quick and dirty" one): the first character a
/// letter, digit, '[' or ':'; then only letters, digits and `.-:%;[]_*`; and the text after
/// the last ':' starting with a digit. Everything else waits for the connection attempt.
pub(crate) fn validate_connect(addr: &str) -> ZResult<()> {
    let b = addr.as_bytes();
    let first_ok = b.first().is_some_and(|c| c.is_ascii_alphanumeric() || b"[:".contains(c));
    let rest_ok = b.iter().skip(1).all(|c| c.is_ascii_alphanumeric() || b".-:%;[]_*".contains(c));
    let port_ok =
        addr.rfind(':').and_then(|i| addr.as_bytes().get(i + 1)).is_some_and(u8::is_ascii_digit);
    if first_ok && rest_ok && port_ok {
        Ok(())
    } else {
        err(libc::EINVAL)
    }
}

/// `tcp://ip:port` as libzmq prints addresses (ZMQ_LAST_ENDPOINT, monitor events).
pub(crate) fn endpoint_string(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("tcp://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("tcp://[{}]:{}", a.ip(), a.port()),
    }
}

/// The keys zmq_unbind/zmq_disconnect try after the string itself, as libzmq's
/// resolve_tcp_addr: the address resolved for connecting, then, if that worked, resolved
/// for binding. `tcp://*:5555` and interface names therefore never match.
pub(crate) fn term_endpoint_keys(addr: &str, ipv6: bool) -> Vec<String> {
    let mut keys = Vec::new();
    if let Ok(a) = resolve_connect(addr, ipv6) {
        keys.push(endpoint_string(&a));
        if let Ok(b) = resolve_bind(addr, ipv6) {
            keys.push(endpoint_string(&b));
        }
    }
    keys
}

fn os_err(e: std::io::Error) -> Errno {
    Errno(e.raw_os_error().unwrap_or(libc::EINVAL))
}

/// Opens a TCP socket for `addr`'s family with the options libzmq sets before bind or
/// connect: IPv4 also accepted on IPv6 sockets, TOS, ZMQ_BINDTODEVICE (its failure fails the
/// call), buffer sizes. Non-blocking, close-on-exec.
pub(crate) fn open_socket(addr: &SocketAddr, opts: &Options) -> ZResult<socket2::Socket> {
    let domain = socket2::Domain::for_address(*addr);
    let sock =
        socket2::Socket::new(domain, socket2::Type::STREAM.cloexec(), None).map_err(os_err)?;
    if addr.is_ipv6() {
        let _ = sock.set_only_v6(false);
    }
    set_tos(&SockRef::from(&sock), opts);
    if !opts.bindtodevice.is_empty() {
        sock.bind_device(Some(&opts.bindtodevice)).map_err(os_err)?;
    }
    if opts.sndbuf >= 0 {
        sock.set_send_buffer_size(opts.sndbuf as usize).map_err(os_err)?;
    }
    if opts.rcvbuf >= 0 {
        sock.set_recv_buffer_size(opts.rcvbuf as usize).map_err(os_err)?;
    }
    sock.set_nonblocking(true).map_err(os_err)?;
    Ok(sock)
}

/// Starts a non-blocking connect to `addr` (`[source;]destination`, resolved now). Ok with
/// `true` when it completed at once, `false` while in progress (EINPROGRESS). The error of a
/// failed attempt comes with the socket if one was opened (its fd is reported as CLOSED).
pub(crate) fn start_connect(
    addr: &str,
    opts: &Options,
) -> Result<(mio::net::TcpStream, bool, SocketAddr), (Errno, Option<socket2::Socket>)> {
    let (src, dst) = resolve_connect_pair(addr, opts.ipv6).map_err(|e| (e, None))?;
    let sock = open_socket(&dst, opts).map_err(|e| (e, None))?;
    if let Some(src) = src {
        // Several connections may share a source port towards different servers.
        let _ = sock.set_reuse_address(true);
        if let Err(e) = sock.bind(&src.into()) {
            return Err((os_err(e), Some(sock)));
        }
    }
    let done = match sock.connect(&dst.into()) {
        Ok(()) => true,
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EINTR)) => false,
        Err(e) => return Err((os_err(e), Some(sock))),
    };
    Ok((mio::net::TcpStream::from_std(sock.into()), done, dst))
}

/// Applies the per-connection options libzmq applies once a connection exists: no delay,
/// keepalive, user time-out (and TOS and buffers again, for accepted sockets). Failures are
/// ignored, as libzmq ignores most of them.
pub(crate) fn tune(sock: SockRef<'_>, opts: &Options) {
    let _ = sock.set_nodelay(true);
    if opts.sndbuf >= 0 {
        let _ = sock.set_send_buffer_size(opts.sndbuf as usize);
    }
    if opts.rcvbuf >= 0 {
        let _ = sock.set_recv_buffer_size(opts.rcvbuf as usize);
    }
    set_tos(&sock, opts);
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
    // ZMQ_PRIORITY and ZMQ_BUSY_POLL, as libzmq sets them on every tcp socket it opens
    // (failures, such as a priority above 6 without CAP_NET_ADMIN, are ignored there too).
    if opts.priority != 0 {
        let _ = set_int_sockopt(&sock, libc::SO_PRIORITY, opts.priority);
    }
    if opts.busy_poll > 0 {
        let _ = set_int_sockopt(&sock, libc::SO_BUSY_POLL, opts.busy_poll);
    }
}

/// An int-valued SOL_SOCKET option that neither socket2 nor nix offers (SO_BUSY_POLL;
/// SO_PRIORITY only behind a nix feature we do not build).
fn set_int_sockopt(sock: &SockRef<'_>, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the borrow of `sock`, and the value pointer and
    // length describe a live c_int.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn set_tos(sock: &SockRef<'_>, opts: &Options) {
    if opts.tos != 0 {
        let _ = sock.set_tos(opts.tos as u32);
        let _ = sock.set_tclass_v6(opts.tos as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_as_libzmq() {
        assert_eq!(resolve_bind("127.0.0.1:-1", false).unwrap().port(), 65535);
        assert_eq!(resolve_bind("127.0.0.1:70000", false).unwrap().port(), 4464);
        assert_eq!(resolve_bind("127.0.0.1:65536", false).unwrap_err().0, libc::EINVAL);
        assert_eq!(resolve_bind("127.0.0.1:*", false).unwrap().port(), 0);
        assert_eq!(resolve_bind("127.0.0.1:0", false).unwrap().port(), 0);
        assert_eq!(resolve_bind("127.0.0.1:12abc", false).unwrap().port(), 12);
        assert_eq!(resolve_bind("127.0.0.1:", false).unwrap_err().0, libc::EINVAL);
        assert_eq!(resolve_connect("127.0.0.1:*", false).unwrap_err().0, libc::EINVAL);
    }

    #[test]
    fn bind_names() {
        let any = resolve_bind("*:5555", false).unwrap();
        assert_eq!(any, "0.0.0.0:5555".parse().unwrap());
        assert_eq!(resolve_bind("*:1", true).unwrap().ip(), IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        assert_eq!(resolve_bind("lo:1", false).unwrap().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        // No DNS when binding; IPv6 literals need ZMQ_IPV6.
        assert_eq!(resolve_bind("localhost:1", false).unwrap_err().0, libc::ENODEV);
        assert_eq!(resolve_bind("[::1]:1", false).unwrap_err().0, libc::ENODEV);
        assert_eq!(resolve_bind(":1", false).unwrap_err().0, libc::ENODEV);
        let mapped = resolve_bind("127.0.0.1:1", true).unwrap();
        assert_eq!(endpoint_string(&mapped), "tcp://[::ffff:127.0.0.1]:1");
        assert_eq!(resolve_bind("[::1%lo]:1", true).unwrap().ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(resolve_bind("[::1%]:1", true).unwrap_err().0, libc::EINVAL);
    }

    #[test]
    fn connect_names() {
        let a = resolve_connect("localhost:7", false).unwrap();
        assert_eq!(a, "127.0.0.1:7".parse().unwrap());
        assert_eq!(resolve_connect("[::1]:7", false).unwrap_err().0, libc::EINVAL);
        let (src, dst) = resolve_connect_pair("127.0.0.1:0;127.0.0.1:9", false).unwrap();
        assert_eq!(src, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(dst.port(), 9);
        assert!(resolve_connect_pair("nosuchif:0;127.0.0.1:9", false).is_err());
    }

    #[test]
    fn connect_syntax() {
        for ok in ["127.0.0.1:5555", "localhost:1", ":5555", "a_b:1", "[::1]:1", "eth0;1.2.3.4:5"] {
            assert!(validate_connect(ok).is_ok(), "{ok}");
        }
        for bad in ["127.0.0.1", "127.0.0.1:*", "*:5555", "bad host:1", ";127.0.0.1:1", "h:-1", ""]
        {
            assert!(validate_connect(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unbind_keys() {
        assert_eq!(term_endpoint_keys("localhost:5", false)[0], "tcp://127.0.0.1:5");
        assert!(term_endpoint_keys("*:5", false).is_empty());
    }
}
