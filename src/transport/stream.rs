//! A connected byte stream of any transport (tcp or ipc), as the engines see it.
//!
//! Writes use `send` with MSG_NOSIGNAL: a peer that has gone away gives EPIPE, never a
//! SIGPIPE that would kill the application.

use super::{ipc, tcp};
use mio::event::Source;
use nix::sys::socket::{getsockopt, sockopt};
use socket2::SockRef;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsRawFd, RawFd};

/// Who is at the other end of an ipc connection.
pub(crate) struct PeerCred {
    pub uid: u32,
    pub gid: u32,
    pub pid: i32,
}

pub(crate) enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Stream {
    pub(crate) fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    pub(crate) fn source(&mut self) -> &mut dyn Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    fn sock(&self) -> SockRef<'_> {
        match self {
            Stream::Tcp(s) => SockRef::from(s),
            Stream::Unix(s) => SockRef::from(s),
        }
    }

    /// The connection's endpoints as libzmq names them in events: (local, remote).
    pub(crate) fn names(&self) -> (String, String) {
        match self {
            Stream::Tcp(s) => (
                s.local_addr().map(|a| tcp::endpoint_string(&a)).unwrap_or_default(),
                s.peer_addr().map(|a| tcp::endpoint_string(&a)).unwrap_or_default(),
            ),
            Stream::Unix(s) => (
                s.local_addr().map(|a| ipc::endpoint_of(&a)).unwrap_or_default(),
                s.peer_addr().map(|a| ipc::endpoint_of(&a)).unwrap_or_default(),
            ),
        }
    }

    /// The Peer-Address property of the connection's messages (and ZAP's address): the
    /// IP for tcp, `localhost:uid:gid:pid` of the peer process for ipc, as libzmq gives them.
    pub(crate) fn peer_address(&self) -> String {
        match self {
            Stream::Tcp(s) => s.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
            Stream::Unix(_) => match self.peer_credentials() {
                // libzmq gives getnameinfo's name for a Unix address, "localhost", first.
                Some(c) => format!("localhost:{}:{}:{}", c.uid, c.gid, c.pid),
                None => String::new(),
            },
        }
    }

    /// The peer process of an ipc connection (SO_PEERCRED).
    pub(crate) fn peer_credentials(&self) -> Option<PeerCred> {
        let Stream::Unix(s) = self else { return None };
        let c = getsockopt(s, sockopt::PeerCredentials).ok()?;
        Some(PeerCred { uid: c.uid(), gid: c.gid(), pid: c.pid() })
    }

    /// Reads into a receive buffer from `from` on, without clearing it first.
    pub(crate) fn recv_batch(
        &self,
        buf: &mut crate::msg::SharedBuf,
        from: usize,
    ) -> io::Result<usize> {
        buf.recv(from, &self.sock())
    }

    /// Reads into a large message body being filled, without clearing it first.
    pub(crate) fn recv_body(&self, body: &mut crate::msg::Filling) -> io::Result<usize> {
        body.recv(&self.sock())
    }

    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Stream::Tcp(s) => s.take_error(),
            Stream::Unix(s) => s.take_error(),
        }
    }

    pub(crate) fn is_connected(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.peer_addr().is_ok(),
            Stream::Unix(s) => s.peer_addr().is_ok(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sock().send_with_flags(buf, libc::MSG_NOSIGNAL)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.sock().send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
