//! Outgoing tcp:// and ipc:// connections: a non-blocking connect that produces a
//! connected `Stream` or the errno it failed with.

use super::ipc::{self, IpcAddr};
use super::stream::Stream;
use super::tcp;
use crate::options::Options;
use std::os::fd::{AsRawFd, RawFd};

/// Where to connect.
pub(crate) enum Target {
    Tcp { addr: String, source: Option<String> },
    Ipc(IpcAddr),
}

/// A connect in flight: the stream, whether it completed at once, and the address it went
/// to as resolved (tcp), which libzmq's events name after a reconnection.
pub(crate) struct Started {
    pub stream: Stream,
    pub done: bool,
    pub resolved: Option<String>,
}

/// A failed attempt: errno, and the descriptor it had opened if any (reported as CLOSED).
pub(crate) type ConnectError = (i32, Option<RawFd>);

/// Starts a non-blocking connect to `target`.
pub(crate) fn start(target: &Target, opts: &Options) -> Result<Started, ConnectError> {
    match target {
        Target::Tcp { addr, source } => {
            let full = match source {
                Some(src) => format!("{src};{addr}"),
                None => addr.clone(),
            };
            match tcp::start_connect(&full, opts) {
                Ok((s, done, dst)) => Ok(Started {
                    stream: Stream::Tcp(s),
                    done,
                    resolved: Some(tcp::endpoint_string(&dst)),
                }),
                Err((e, sock)) => Err((e.0, sock.map(|s| s.as_raw_fd()))),
            }
        }
        Target::Ipc(a) => match ipc::start_connect(a) {
            Ok((s, done)) => Ok(Started { stream: Stream::Unix(s), done, resolved: None }),
            Err((e, sock)) => Err((e.0, sock.map(|s| s.as_raw_fd()))),
        },
    }
}

/// Whether a connect in flight has finished: Ok(true) connected (tuned for tcp), Ok(false)
/// still in progress (a spurious wake-up), Err(errno) failed.
pub(crate) fn finish(stream: &Stream, opts: &Options) -> Result<bool, i32> {
    match stream.take_error() {
        Ok(None) => {}
        Ok(Some(e)) | Err(e) => return Err(e.raw_os_error().unwrap_or(libc::ECONNREFUSED)),
    }
    if !stream.is_connected() {
        return Ok(false);
    }
    if let Stream::Tcp(s) = stream {
        tcp::tune(socket2::SockRef::from(s), opts);
    }
    Ok(true)
}
