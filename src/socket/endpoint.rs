//! A socket's endpoints: zmq_bind, zmq_connect, zmq_unbind and zmq_disconnect for every
//! transport. inproc pipes are made here; tcp:// and ipc:// listeners are bound here (so
//! EADDRINUSE and ZMQ_LAST_ENDPOINT are immediate) and then run, like connecting sessions,
//! on an I/O thread; a connect creates the socket's pipe at once, so messages queue while
//! disconnected.

use super::Socket;
use crate::consts::*;
use crate::engine::udp::UdpEngine;
use crate::error::{err, Errno, ZResult, ETERM};
use crate::io::command::Command;
use crate::pipe::pipe_pair;
use crate::session::udp::UdpSession;
use crate::session::{Listener, Session, SocketLink, SocketToken};
use crate::transport::connecter::Target;
use crate::transport::listener::{self, BindError, IpcCleanup};
use crate::transport::{self, inproc, ipc::IpcAddr, Endpoint};
use std::sync::Arc;

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

impl Socket {
    pub(crate) fn bind(&mut self, addr: &str) -> ZResult<()> {
        self.process_commands()?;
        match transport::parse(addr)? {
            Endpoint::Inproc(name) => {
                let me = inproc::peer_info(self.id, &self.mailbox, &self.opts);
                let pending = self.ctx.inproc_bind(&name, me)?;
                self.binds.push(name.clone());
                self.last_endpoint = addr.to_string();
                for p in pending {
                    let (pipe, send_routing_id) = inproc::accept_pending(&self.opts, p);
                    self.attach_pipe(pipe, send_routing_id, Some(name.clone()));
                }
                Ok(())
            }
            Endpoint::Tcp(a) => {
                let resolved = self.bind_tcp(addr, &a)?;
                self.add_net(addr, resolved, true);
                Ok(())
            }
            Endpoint::Ipc(a) => {
                let resolved = self.bind_ipc(addr, &a)?;
                self.add_net(addr, resolved, true);
                Ok(())
            }
            Endpoint::Udp(a) => self.open_udp(addr, &a, true),
        }
    }

    fn add_net(&mut self, given: &str, resolved: String, bound: bool) {
        self.last_endpoint = resolved.clone();
        self.net.push(NetEndpoint { given: given.to_string(), resolved, bound });
        // libzmq's socket hands itself a command for every listener or connecter it launches,
        // so ZMQ_FD turns readable right after a tcp/ipc bind or connect; programs that wait
        // on the fd before their first ZMQ_EVENTS rely on it.
        self.mailbox.poke();
    }

    /// The token I/O objects hold for this socket (ETERM once closing).
    pub(crate) fn token(&self) -> ZResult<Arc<SocketToken>> {
        self.token.clone().ok_or(Errno(ETERM))
    }

    /// Ends network endpoints as libzmq's zmq_unbind and zmq_disconnect both do (neither
    /// minds which kind it ends): every endpoint whose key (resolved for binds, as given for
    /// connects) is `addr`, or else, for tcp, `addr` resolved. Their listeners or connections
    /// in the I/O threads go, with the pipes made for them. ENOENT if none matches.
    fn close_net(&mut self, addr: &str, tcp: Option<&str>) -> ZResult<()> {
        let mut keys = vec![addr.to_string()];
        if !self.net.iter().any(|e| e.key() == addr) {
            if let Some(a) = tcp {
                keys = transport::tcp::term_endpoint_keys(a, self.opts.ipv6);
            }
        }
        let Some(key) = keys.into_iter().find(|k| self.net.iter().any(|e| e.key() == k)) else {
            return err(libc::ENOENT);
        };
        self.net.retain(|e| e.key() != key);
        for io in self.ctx.io_mailboxes() {
            io.send(Command::CloseEndpoint {
                socket_id: self.id,
                endpoint: key.clone(),
                linger: self.opts.linger,
            });
        }
        // Connections and their pipes carry the same key: the connect string, or the
        // resolved endpoint of the listener that accepted them.
        self.terminate_pipes_of(&key);
        Ok(())
    }

    pub(crate) fn connect(&mut self, addr: &str) -> ZResult<()> {
        self.process_commands()?;
        match transport::parse(addr)? {
            Endpoint::Inproc(name) => {
                self.connecting = true;
                let me = inproc::peer_info(self.id, &self.mailbox, &self.opts);
                let r = inproc::connect(&self.ctx, me, &self.opts, &name);
                let r = r.map(|pipe| self.attach_pipe(pipe, false, Some(name.to_string())));
                self.connecting = false;
                r?;
                self.last_endpoint = addr.to_string();
                Ok(())
            }
            Endpoint::Tcp(a) => {
                transport::tcp::validate_connect(&a)?;
                let target = match a.split_once(';') {
                    Some((src, dst)) => {
                        Target::Tcp { addr: dst.to_string(), source: Some(src.to_string()) }
                    }
                    None => Target::Tcp { addr: a.clone(), source: None },
                };
                self.connecting = true;
                let r = self.connect_net(addr, target);
                self.connecting = false;
                r?;
                self.add_net(addr, addr.to_string(), false);
                Ok(())
            }
            Endpoint::Ipc(a) => {
                let target = Target::Ipc(transport::ipc::IpcAddr::parse(&a)?);
                self.connecting = true;
                let r = self.connect_net(addr, target);
                self.connecting = false;
                r?;
                self.add_net(addr, addr.to_string(), false);
                Ok(())
            }
            Endpoint::Udp(a) => self.open_udp(addr, &a, false),
        }
    }

    pub(crate) fn unbind(&mut self, addr: &str) -> ZResult<()> {
        self.process_commands()?;
        match transport::parse(addr)? {
            Endpoint::Inproc(name) => {
                let Some(pos) = self.binds.iter().position(|b| *b == name) else {
                    return err(libc::ENOENT);
                };
                self.binds.remove(pos);
                self.ctx.inproc_unbind(&name, self.id);
                self.terminate_pipes_of(&name);
                Ok(())
            }
            Endpoint::Tcp(a) => self.close_net(addr, Some(&a)),
            Endpoint::Ipc(_) | Endpoint::Udp(_) => self.close_net(addr, None),
        }
    }

    pub(crate) fn disconnect(&mut self, addr: &str) -> ZResult<()> {
        self.process_commands()?;
        self.disconnected.store(true, std::sync::atomic::Ordering::Relaxed);
        match transport::parse(addr)? {
            Endpoint::Inproc(name) => {
                let found = self.terminate_pipes_of(&name);
                let pending = self.ctx.inproc_cancel_pending(&name, self.id);
                if !found && !pending {
                    return err(libc::ENOENT);
                }
                Ok(())
            }
            Endpoint::Tcp(a) => self.close_net(addr, Some(&a)),
            Endpoint::Ipc(_) | Endpoint::Udp(_) => self.close_net(addr, None),
        }
    }

    /// What this socket's listeners and sessions know of it.
    fn link(&self) -> ZResult<SocketLink> {
        Ok(SocketLink {
            id: self.id,
            mailbox: self.mailbox.clone(),
            opts: Arc::new(self.opts.clone()),
            monitor: self.monitor.clone(),
            disconnected: self.disconnected.clone(),
            token: self.token()?,
        })
    }

    /// Reports a failed bind as libzmq does: CLOSED for a socket it had opened (with the
    /// endpoint known by then, usually none), then BIND_FAILED with the address as given
    /// without the `transport://` prefix.
    fn bind_failed(&self, addr: &str, closed: &str, (e, fd): BindError) -> Errno {
        if let Some(fd) = fd {
            self.monitor.event(ZMQ_EVENT_CLOSED, fd as u64, closed, "");
        }
        self.monitor.event(ZMQ_EVENT_BIND_FAILED, e.0 as u64, addr, "");
        e
    }

    fn bind_tcp(&mut self, given: &str, addr: &str) -> ZResult<String> {
        let io = self.ctx.io_mailbox(self.id, self.opts.affinity)?;
        let (sock, resolved) =
            listener::listen_tcp(addr, &self.opts).map_err(|e| self.bind_failed(addr, "", e))?;
        self.monitor.event(ZMQ_EVENT_LISTENING, sock.fd() as u64, &resolved, "");
        let l = Listener::new(sock, self.link()?, given.to_string(), resolved.clone(), None);
        io.send(Command::Adopt(Box::new(l)));
        Ok(resolved)
    }

    fn bind_ipc(&mut self, given: &str, addr: &str) -> ZResult<String> {
        let io = self.ctx.io_mailbox(self.id, self.opts.affinity)?;
        // libzmq treats any address starting with '*' as the wildcard (unless ZMQ_USE_FD).
        let (ipc_addr, dir) = if self.opts.use_fd == -1 && addr.starts_with('*') {
            let (a, d) =
                listener::ipc_wildcard().map_err(|e| self.bind_failed(addr, "", (e, None)))?;
            (a, Some(d))
        } else {
            let a = IpcAddr::parse(addr).map_err(|e| self.bind_failed(addr, "", (e, None)))?;
            (a, None)
        };
        let resolved = ipc_addr.endpoint_string();
        let sock = match listener::listen_ipc(&ipc_addr, &self.opts) {
            Ok(l) => l,
            Err(e) => {
                if let Some(d) = &dir {
                    let _ = std::fs::remove_dir(d);
                }
                return Err(self.bind_failed(addr, &resolved, e));
            }
        };
        self.monitor.event(ZMQ_EVENT_LISTENING, sock.fd() as u64, &resolved, "");
        // Only the wildcard's file and directory go with the listener, as in libzmq 4.3.
        let cleanup = match (&ipc_addr, dir) {
            (IpcAddr::Path(p), Some(dir)) => Some(IpcCleanup { path: p.clone(), dir: Some(dir) }),
            _ => None,
        };
        let l = Listener::new(sock, self.link()?, given.to_string(), resolved.clone(), cleanup);
        io.send(Command::Adopt(Box::new(l)));
        Ok(resolved)
    }

    /// zmq_bind (DISH, DGRAM) or zmq_connect (RADIO) of a udp endpoint: the datagram
    /// socket is opened and bound here, so errors come back from the call (libzmq opens it
    /// in its I/O thread and fails silently); a session in an I/O thread then moves
    /// datagrams. ZMQ_LAST_ENDPOINT is the address without `udp://`, as libzmq reports it.
    fn open_udp(&mut self, given: &str, addr: &str, bind: bool) -> ZResult<()> {
        let t = self.opts.socket_type;
        let allowed = if bind { matches!(t, ZMQ_DISH | ZMQ_DGRAM) } else { t == ZMQ_RADIO };
        if !allowed {
            return err(crate::error::ENOCOMPATPROTO);
        }
        let io = self.ctx.io_mailbox(self.id, self.opts.affinity)?;
        let udp = transport::udp::UdpAddr::resolve(addr, bind, self.opts.ipv6)?;
        let (send, recv, raw) = (t != ZMQ_DISH, t != ZMQ_RADIO, t == ZMQ_DGRAM);
        let sock = transport::udp::open(&udp, &self.opts, send, recv, raw)?;
        let link = self.link()?;
        let (mut mine, mut theirs) = pipe_pair(
            Some(self.mailbox.clone()),
            None,
            self.opts.sndhwm.max(0) as usize,
            self.opts.rcvhwm.max(0) as usize,
        );
        // The endpoint names the pipe: a RADIO sends every group down a udp pipe.
        mine.endpoint = Some(given.to_string());
        theirs.endpoint = Some(given.to_string());
        self.attach_pipe(mine, false, None);
        let target = (send && !raw).then_some(udp.target);
        let engine = UdpEngine::new(sock, target, send, recv, raw);
        let session = UdpSession::new(link, given.to_string(), engine, theirs);
        io.send(Command::Adopt(Box::new(session)));
        self.add_net(given, given.to_string(), bind);
        self.last_endpoint = addr.to_string();
        Ok(())
    }

    /// zmq_connect for tcp/ipc. `target` is already validated.
    fn connect_net(&mut self, given: &str, target: Target) -> ZResult<()> {
        let io = self.ctx.io_mailbox(self.id, self.opts.affinity)?;
        let link = self.link()?;
        let pipe = if self.opts.immediate {
            None
        } else {
            let (mut mine, mut theirs) = pipe_pair(
                Some(self.mailbox.clone()),
                None,
                self.opts.sndhwm.max(0) as usize,
                self.opts.rcvhwm.max(0) as usize,
            );
            if self.opts.conflate
                && matches!(
                    self.opts.socket_type,
                    ZMQ_DEALER | ZMQ_PULL | ZMQ_PUSH | ZMQ_PUB | ZMQ_SUB
                )
            {
                mine.set_conflate();
            }
            mine.endpoint = Some(given.to_string());
            theirs.endpoint = Some(given.to_string());
            self.attach_pipe(mine, false, None);
            Some(theirs)
        };
        let session = Session::connecter(link, given.to_string(), target, pipe);
        io.send(Command::Adopt(Box::new(session)));
        Ok(())
    }
}
