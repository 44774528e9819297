//! Transports: endpoint strings (`transport://address`), and per transport what produces
//! a connected stream: listeners and connecters for tcp:// and ipc://, the pipe pair of
//! inproc://; udp:// datagram sockets. Nothing here knows sockets or sessions.

pub(crate) mod connecter;
pub(crate) mod inproc;
pub(crate) mod ipc;
pub(crate) mod listener;
pub(crate) mod socks;
pub(crate) mod stream;
pub(crate) mod tcp;
pub(crate) mod udp;

use crate::error::{err, ZResult};

/// A parsed endpoint.
pub(crate) enum Endpoint {
    Inproc(String),
    Tcp(String),
    Ipc(String),
    Udp(String),
}

/// Transports libzmq knows; those not built here answer EPROTONOSUPPORT, as a libzmq built
/// without them does.
const KNOWN: &[&str] =
    &["inproc", "tcp", "ipc", "pgm", "epgm", "tipc", "norm", "vmci", "udp", "ws", "wss", "vsock"];

pub(crate) fn parse(addr: &str) -> ZResult<Endpoint> {
    let Some((proto, rest)) = addr.split_once("://") else { return err(libc::EINVAL) };
    if proto.is_empty() || rest.is_empty() {
        return err(libc::EINVAL);
    }
    match proto {
        "inproc" => Ok(Endpoint::Inproc(rest.to_string())),
        "tcp" => Ok(Endpoint::Tcp(rest.to_string())),
        "ipc" => Ok(Endpoint::Ipc(rest.to_string())),
        "udp" => Ok(Endpoint::Udp(rest.to_string())),
        p if KNOWN.contains(&p) => err(libc::EPROTONOSUPPORT),
        _ => err(libc::EPROTONOSUPPORT),
    }
}
