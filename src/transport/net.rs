//! Binding and connecting tcp:// and ipc:// endpoints from the socket's thread: the
//! listener is bound here (so EADDRINUSE and ZMQ_LAST_ENDPOINT are immediate), then handed
//! to an I/O thread; a connect creates the socket's pipe at once (messages queue while
//! disconnected) and hands the session end to an I/O thread.

use super::ipc::{self, IpcAddr};
use super::tcp;
use crate::consts::*;
use crate::error::{Errno, ZResult};
use crate::io::command::Command;
use crate::options::Options;
use crate::pipe::pipe_pair;
use crate::session::{ConnectSpec, IpcCleanup, ListenSock, Listener, SocketLink, Target};
use crate::socket::Socket;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

fn os_err(e: std::io::Error) -> Errno {
    Errno(e.raw_os_error().unwrap_or(libc::EINVAL))
}

/// A network endpoint a socket has bound or connected.
pub(crate) struct NetEndpoint {
    /// As the application wrote it, and as resolved (ZMQ_LAST_ENDPOINT). libzmq finds a
    /// bound endpoint by its resolved form and a connected one by the string given.
    pub given: String,
    pub resolved: String,
    pub bound: bool,
}

impl NetEndpoint {
    /// The key zmq_unbind / zmq_disconnect look this endpoint up by.
    pub(crate) fn key(&self) -> &str {
        if self.bound {
            &self.resolved
        } else {
            &self.given
        }
    }
}

fn link(s: &mut Socket) -> ZResult<SocketLink> {
    Ok(SocketLink {
        id: s.id,
        mailbox: s.mailbox.clone(),
        opts: Arc::new(s.opts.clone()),
        monitor: s.monitor.clone(),
        token: s.token()?,
    })
}

/// Why a bind failed: the error, and the descriptor of the socket it had opened (libzmq
/// reports closing that one before BIND_FAILED).
type BindError = (Errno, Option<RawFd>);

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

/// Opens, binds and starts listening on a TCP socket as libzmq's tcp_listener does.
fn listen_tcp(addr: &str, opts: &Options) -> Result<socket2::Socket, BindError> {
    if opts.use_fd != -1 {
        return adopt_fd(opts.use_fd).map_err(|e| (e, None));
    }
    let sa = tcp::resolve_bind(addr, opts.ipv6).map_err(|e| (e, None))?;
    let sock = tcp::open_socket(&sa, opts).map_err(|e| (e, None))?;
    let fd = sock.as_raw_fd();
    let _ = sock.set_reuse_address(true);
    sock.bind(&sa.into()).map_err(|e| (os_err(e), Some(fd)))?;
    sock.listen(opts.backlog).map_err(|e| (os_err(e), Some(fd)))?;
    Ok(sock)
}

/// Reports a failed bind as libzmq does: CLOSED for a socket it had opened (with the
/// endpoint known by then, usually none), then BIND_FAILED with the address as given
/// without the `transport://` prefix.
fn bind_failed(s: &Socket, addr: &str, closed: &str, (e, fd): BindError) -> Errno {
    if let Some(fd) = fd {
        s.monitor.event(ZMQ_EVENT_CLOSED, fd as u64, closed, "");
    }
    s.monitor.event(ZMQ_EVENT_BIND_FAILED, e.0 as u64, addr, "");
    e
}

pub(crate) fn bind_tcp(s: &mut Socket, given: &str, addr: &str) -> ZResult<String> {
    let io = s.ctx.io_mailbox(s.id)?;
    let sock = listen_tcp(addr, &s.opts).map_err(|e| bind_failed(s, addr, "", e))?;
    let local = match sock.local_addr().ok().and_then(|a| a.as_socket()) {
        Some(a) => a,
        None => {
            return Err(bind_failed(s, addr, "", (Errno(libc::EINVAL), Some(sock.as_raw_fd()))))
        }
    };
    let listener = mio::net::TcpListener::from_std(sock.into());
    let resolved = tcp::endpoint_string(&local);
    s.monitor.event(ZMQ_EVENT_LISTENING, listener.as_raw_fd() as u64, &resolved, "");
    let l = Listener {
        sock: ListenSock::Tcp(listener),
        link: link(s)?,
        endpoint: given.to_string(),
        resolved: resolved.clone(),
        cleanup: None,
    };
    io.send(Command::Listen(Box::new(l)));
    Ok(resolved)
}

fn listen_ipc(a: &IpcAddr, opts: &Options) -> Result<socket2::Socket, BindError> {
    if opts.use_fd != -1 {
        return adopt_fd(opts.use_fd).map_err(|e| (e, None));
    }
    if let IpcAddr::Path(p) = a {
        // A file left by an earlier run would make bind fail: libzmq removes it first.
        let _ = std::fs::remove_file(p);
    }
    let sa = a.sockaddr().map_err(|e| (e, None))?;
    let sock = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM.cloexec(), None)
        .map_err(|e| (os_err(e), None))?;
    let fd = sock.as_raw_fd();
    sock.bind(&sa).map_err(|e| (os_err(e), Some(fd)))?;
    sock.listen(opts.backlog).map_err(|e| (os_err(e), Some(fd)))?;
    sock.set_nonblocking(true).map_err(|e| (os_err(e), Some(fd)))?;
    Ok(sock)
}

pub(crate) fn bind_ipc(s: &mut Socket, given: &str, addr: &str) -> ZResult<String> {
    let io = s.ctx.io_mailbox(s.id)?;
    // libzmq treats any address starting with '*' as the wildcard (unless ZMQ_USE_FD).
    let (ipc_addr, dir) = if s.opts.use_fd == -1 && addr.starts_with('*') {
        let (a, d) = ipc::wildcard().map_err(|e| bind_failed(s, addr, "", (e, None)))?;
        (a, Some(d))
    } else {
        (IpcAddr::parse(addr).map_err(|e| bind_failed(s, addr, "", (e, None)))?, None)
    };
    let resolved = ipc_addr.endpoint_string();
    let sock = match listen_ipc(&ipc_addr, &s.opts) {
        Ok(l) => l,
        Err(e) => {
            if let Some(d) = &dir {
                let _ = std::fs::remove_dir(d);
            }
            return Err(bind_failed(s, addr, &resolved, e));
        }
    };
    let listener = mio::net::UnixListener::from_std(sock.into());
    s.monitor.event(ZMQ_EVENT_LISTENING, listener.as_raw_fd() as u64, &resolved, "");
    // Only the wildcard's file and directory go with the listener, as in libzmq 4.3.
    let cleanup = match (&ipc_addr, dir) {
        (IpcAddr::Path(p), Some(dir)) => Some(IpcCleanup { path: p.clone(), dir: Some(dir) }),
        _ => None,
    };
    let l = Listener {
        sock: ListenSock::Unix(listener),
        link: link(s)?,
        endpoint: given.to_string(),
        resolved: resolved.clone(),
        cleanup,
    };
    io.send(Command::Listen(Box::new(l)));
    Ok(resolved)
}

/// zmq_connect for tcp/ipc. `target` is already validated.
pub(crate) fn connect(s: &mut Socket, given: &str, target: Target) -> ZResult<()> {
    let io = s.ctx.io_mailbox(s.id)?;
    let link = link(s)?;
    let pipe = if s.opts.immediate {
        None
    } else {
        let (mut mine, mut theirs) = pipe_pair(
            Some(s.mailbox.clone()),
            None,
            s.opts.sndhwm.max(0) as usize,
            s.opts.rcvhwm.max(0) as usize,
        );
        if s.opts.conflate
            && matches!(s.opts.socket_type, ZMQ_DEALER | ZMQ_PULL | ZMQ_PUSH | ZMQ_PUB | ZMQ_SUB)
        {
            mine.set_conflate();
        }
        mine.endpoint = Some(given.to_string());
        theirs.endpoint = Some(given.to_string());
        s.attach_pipe(mine, false, None);
        Some(theirs)
    };
    io.send(Command::Connect(Box::new(ConnectSpec {
        link,
        endpoint: given.to_string(),
        target,
        pipe,
    })));
    Ok(())
}

/// libzmq's reconnect interval: the current base plus a random jitter below
/// ZMQ_RECONNECT_IVL; the base doubles after each failed attempt up to ZMQ_RECONNECT_IVL_MAX
/// (when that is set above ZMQ_RECONNECT_IVL), and starts again at ZMQ_RECONNECT_IVL for
/// each new connecting round (after a connection was made).
pub(crate) struct Backoff {
    current: i32,
    rng: u64,
}

impl Backoff {
    pub(crate) fn new(opts: &Options) -> Backoff {
        Backoff { current: opts.reconnect_ivl, rng: ipc::random_seed() | 1 }
    }

    /// Starts a new round at ZMQ_RECONNECT_IVL.
    pub(crate) fn reset(&mut self, opts: &Options) {
        self.current = opts.reconnect_ivl;
    }

    /// The interval to wait now (also the CONNECT_RETRIED value); advances the base.
    pub(crate) fn next(&mut self, opts: &Options) -> i32 {
        let ivl = opts.reconnect_ivl.max(1);
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let jitter = (self.rng % ivl as u64) as i32;
        let interval = self.current.saturating_add(jitter);
        if opts.reconnect_ivl_max > 0 && opts.reconnect_ivl_max > opts.reconnect_ivl {
            self.current = self.current.saturating_mul(2).min(opts.reconnect_ivl_max);
        }
        interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_as_libzmq() {
        let mut o = Options::new(ZMQ_PUSH);
        o.reconnect_ivl = 100;
        o.reconnect_ivl_max = 400;
        let mut b = Backoff::new(&o);
        for base in [100, 200, 400, 400, 400] {
            let v = b.next(&o);
            assert!((base..base + 100).contains(&v), "{v} for base {base}");
        }
        b.reset(&o);
        assert!(b.next(&o) < 200);
        // No maximum (or one not above the interval): no back-off.
        o.reconnect_ivl_max = 50;
        let mut b = Backoff::new(&o);
        assert!(b.next(&o) < 200 && b.next(&o) < 200 && b.next(&o) < 200);
    }
}
