//! Engines: drive one connected stream. An engine reads into its codec's buffer, turns
//! bytes into messages for the session's pipe and messages from the pipe into bytes, in
//! batches, and runs the ZMTP handshake first (or nothing, for raw sockets).
//!
//! The engine does the I/O; what the bytes mean is decided in `zmtp` (no I/O there), so
//! hostile input meets the same code in the fuzzers as on a socket.

mod inbound;
mod raw;
mod stream;
pub(crate) mod udp;

pub(crate) use inbound::Inbound;
pub(crate) use stream::{Established, HandshakeStep, StreamEngine};

use crate::zmtp::ZmtpError;
use std::io;

/// Why a connection ended.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Malformed or refused input: the connection (and a connecter's session) is over.
    Protocol(ZmtpError),
    /// The handshake or the heartbeat timed out.
    Timeout,
    /// The connection broke: the errno (EPIPE for an orderly close by the peer).
    Io(i32),
}

impl Failure {
    pub(crate) fn io(e: &io::Error) -> Failure {
        Failure::Io(e.raw_os_error().unwrap_or(libc::EIO))
    }
}
