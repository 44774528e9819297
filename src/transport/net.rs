//! Binding and connecting tcp:// and ipc:// endpoints from the socket's thread: the
//! listener is bound here (so EADDRINUSE and ZMQ_LAST_ENDPOINT are immediate), then handed
//! to an I/O thread; a connect creates the socket's pipe at once (messages queue while
//! disconnected) and hands the session end to an I/O thread.

use super::ipc::{self, IpcAddr};
use super::tcp;
use crate::capi::consts::*;
use crate::error::{Errno, ZResult};
use crate::io::command::Command;
use crate::pipe::pipe_pair;
use crate::session::{ConnectSpec, IpcCleanup, ListenSock, Listener, SocketLink, Target};
use crate::socket::Socket;
use std::sync::Arc;

fn os_err(e: std::io::Error) -> Errno {
    Errno(e.raw_os_error().unwrap_or(libc::EINVAL))
}

/// A network endpoint a socket has bound or connected.
pub(crate) struct NetEndpoint {
    /// As the application wrote it, and as resolved (ZMQ_LAST_ENDPOINT): unbind and
    /// disconnect accept either.
    pub given: String,
    pub resolved: String,
    pub bound: bool,
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

pub(crate) fn bind_tcp(s: &mut Socket, given: &str, addr: &str) -> ZResult<String> {
    let io = s.ctx.io_mailbox(s.id)?;
    let result = (|| {
        let sa = tcp::resolve_bind(addr, s.opts.ipv6)?;
        let domain = socket2::Domain::for_address(sa);
        let sock = socket2::Socket::new(domain, socket2::Type::STREAM.cloexec(), None).map_err(os_err)?;
        let _ = sock.set_reuse_address(true);
        if sa.is_ipv6() {
            // `*` with ZMQ_IPV6 accepts IPv4 too.
            let _ = sock.set_only_v6(false);
        }
        tcp::bind_device(socket2::SockRef::from(&sock), &s.opts);
        sock.bind(&sa.into()).map_err(os_err)?;
        sock.listen(s.opts.backlog).map_err(os_err)?;
        sock.set_nonblocking(true).map_err(os_err)?;
        let std: std::net::TcpListener = sock.into();
        let local = std.local_addr().map_err(os_err)?;
        Ok((mio::net::TcpListener::from_std(std), tcp::endpoint_string(&local)))
    })();
    let (listener, resolved) = match result {
        Ok(v) => v,
        Err(Errno(e)) => {
            s.monitor.event(ZMQ_EVENT_BIND_FAILED, e as u64, given, "");
            return Err(Errno(e));
        }
    };
    use std::os::fd::AsRawFd;
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

pub(crate) fn bind_ipc(s: &mut Socket, given: &str, addr: &str) -> ZResult<String> {
    let io = s.ctx.io_mailbox(s.id)?;
    let (ipc_addr, dir) = if addr == "*" {
        let (a, d) = ipc::wildcard()?;
        (a, Some(d))
    } else {
        (IpcAddr::parse(addr)?, None)
    };
    let result = (|| {
        if let IpcAddr::Path(p) = &ipc_addr {
            // A file left by an earlier run would make bind fail; libzmq removes it too.
            let _ = std::fs::remove_file(p);
        }
        let sa = ipc_addr.socket_addr()?;
        let l = std::os::unix::net::UnixListener::bind_addr(&sa).map_err(os_err)?;
        l.set_nonblocking(true).map_err(os_err)?;
        Ok(mio::net::UnixListener::from_std(l))
    })();
    let listener = match result {
        Ok(l) => l,
        Err(Errno(e)) => {
            if let Some(d) = dir {
                let _ = std::fs::remove_dir(d);
            }
            s.monitor.event(ZMQ_EVENT_BIND_FAILED, e as u64, given, "");
            return Err(Errno(e));
        }
    };
    let resolved = ipc_addr.endpoint_string();
    use std::os::fd::AsRawFd;
    s.monitor.event(ZMQ_EVENT_LISTENING, listener.as_raw_fd() as u64, &resolved, "");
    let cleanup = match &ipc_addr {
        IpcAddr::Path(p) => Some(IpcCleanup { path: p.clone(), dir }),
        IpcAddr::Abstract(_) => None,
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
