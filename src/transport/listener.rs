//! Listening sockets for tcp:// and ipc://: opened and bound on the socket's thread (so
//! EADDRINUSE and ZMQ_LAST_ENDPOINT are immediate), accepted from on an I/O thread.

use super::ipc::{self, IpcAddr};
use super::stream::Stream;
use super::tcp;
use crate::error::{Errno, ZResult};
use crate::options::Options;
use mio::{Interest, Registry, Token};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

fn os_err(e: io::Error) -> Errno {
    Errno(e.raw_os_error().unwrap_or(libc::EINVAL))
}

/// Why a bind failed: the error, and the descriptor of the socket it had opened (libzmq
/// reports closing that one before BIND_FAILED).
pub(crate) type BindError = (Errno, Option<RawFd>);

/// Removes an ipc socket file (and the directory `ipc://*` made) when the listener goes.
pub(crate) struct IpcCleanup {
    pub path: PathBuf,
    pub dir: Option<PathBuf>,
}

impl IpcCleanup {
    /// Removes the file, then the directory (libzmq's order and its error).
    pub(crate) fn remove(&self) -> io::Result<()> {
        std::fs::remove_file(&self.path)?;
        if let Some(d) = &self.dir {
            std::fs::remove_dir(d)?;
        }
        Ok(())
    }
}

/// A bound, listening socket.
pub(crate) enum ListenSock {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
}

impl ListenSock {
    pub(crate) fn fd(&self) -> RawFd {
        match self {
            ListenSock::Tcp(l) => l.as_raw_fd(),
            ListenSock::Unix(l) => l.as_raw_fd(),
        }
    }

    pub(crate) fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        match self {
            ListenSock::Tcp(l) => registry.register(l, token, Interest::READABLE),
            ListenSock::Unix(l) => registry.register(l, token, Interest::READABLE),
        }
    }

    pub(crate) fn deregister(&mut self, registry: &Registry) {
        let _ = match self {
            ListenSock::Tcp(l) => registry.deregister(l),
            ListenSock::Unix(l) => registry.deregister(l),
        };
    }

    /// One pending connection, with the peer's address for tcp.
    pub(crate) fn accept(&self) -> io::Result<(Stream, Option<SocketAddr>)> {
        match self {
            ListenSock::Tcp(l) => l.accept().map(|(s, addr)| (Stream::Tcp(s), Some(addr))),
            ListenSock::Unix(l) => l.accept().map(|(s, _)| (Stream::Unix(s), None)),
        }
    }
}

/// ZMQ_USE_FD: the application's listening socket, which the endpoint now owns (libzmq
/// closes it on unbind and close too), checked to be an open socket first.
fn adopt_fd(fd: i32) -> ZResult<socket2::Socket> {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).map_err(|_| Errno(libc::EBADF))?;
    if !link.to_string_lossy().starts_with("socket:") {
        return Err(Errno(libc::ENOTSOCK));
    }
    use std::os::fd::FromRawFd;
    // SAFETY: /proc just showed `fd` open as a socket, and ZMQ_USE_FD hands it over to the
    // library, which closes it when the endpoint goes, as libzmq does.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let sock = socket2::Socket::from(owned);
    sock.set_nonblocking(true).map_err(os_err)?;
    Ok(sock)
}

/// Opens, binds and starts listening on a TCP socket as libzmq's tcp_listener does; gives
/// the listener and its resolved endpoint (`tcp://a.b.c.d:port`).
pub(crate) fn listen_tcp(addr: &str, opts: &Options) -> Result<(ListenSock, String), BindError> {
    let sock = if opts.use_fd != -1 {
        adopt_fd(opts.use_fd).map_err(|e| (e, None))?
    } else {
        let sa = tcp::resolve_bind(addr, opts.ipv6).map_err(|e| (e, None))?;
        let sock = tcp::open_socket(&sa, opts).map_err(|e| (e, None))?;
        let fd = sock.as_raw_fd();
        let _ = sock.set_reuse_address(true);
        sock.bind(&sa.into()).map_err(|e| (os_err(e), Some(fd)))?;
        sock.listen(opts.backlog).map_err(|e| (os_err(e), Some(fd)))?;
        sock
    };
    let Some(local) = sock.local_addr().ok().and_then(|a| a.as_socket()) else {
        return Err((Errno(libc::EINVAL), Some(sock.as_raw_fd())));
    };
    let listener = mio::net::TcpListener::from_std(sock.into());
    Ok((ListenSock::Tcp(listener), tcp::endpoint_string(&local)))
}

/// Opens, binds and starts listening on a Unix socket (`ipc_addr` already resolved).
pub(crate) fn listen_ipc(a: &IpcAddr, opts: &Options) -> Result<ListenSock, BindError> {
    let sock = if opts.use_fd != -1 {
        adopt_fd(opts.use_fd).map_err(|e| (e, None))?
    } else {
        if let IpcAddr::Path(p) = a {
            // A file left by an earlier run would make bind fail: libzmq removes it first.
            let _ = std::fs::remove_file(p);
        }
        let sa = a.sockaddr().map_err(|e| (e, None))?;
        let sock =
            socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM.cloexec(), None)
                .map_err(|e| (os_err(e), None))?;
        let fd = sock.as_raw_fd();
        sock.bind(&sa).map_err(|e| (os_err(e), Some(fd)))?;
        sock.listen(opts.backlog).map_err(|e| (os_err(e), Some(fd)))?;
        sock.set_nonblocking(true).map_err(|e| (os_err(e), Some(fd)))?;
        sock
    };
    Ok(ListenSock::Unix(mio::net::UnixListener::from_std(sock.into())))
}

/// `ipc://*`: a fresh path in a fresh directory (see `ipc::wildcard`).
pub(crate) fn ipc_wildcard() -> ZResult<(IpcAddr, PathBuf)> {
    ipc::wildcard()
}
