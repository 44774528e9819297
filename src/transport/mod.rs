//! Endpoint strings: `transport://address`, and the transports behind them.

pub(crate) mod inproc;

use crate::error::{err, ZResult};

/// A parsed endpoint.
pub(crate) enum Endpoint {
    Inproc(String),
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
        p if KNOWN.contains(&p) => err(libc::EPROTONOSUPPORT),
        _ => err(libc::EPROTONOSUPPORT),
    }
}
