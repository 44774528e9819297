//! A bound tcp:// or ipc:// endpoint on its I/O thread: accepts connections, applies the
//! accept filters, and starts a session for each one.

use super::link::SocketLink;
use super::Session;
use crate::consts::*;
use crate::io::{Ctl, IoObject, Step};
use crate::transport::listener::{IpcCleanup, ListenSock};
use crate::transport::stream::Stream;
use crate::transport::tcp;
use mio::Registry;
use std::io;

pub(crate) struct Listener {
    /// None once closed (`deregister`).
    sock: Option<ListenSock>,
    link: SocketLink,
    /// The endpoint as bound (for unbind) and as resolved (for events and pipes).
    endpoint: String,
    resolved: String,
    /// Removes the socket file `ipc://*` made, when the listener goes.
    cleanup: Option<IpcCleanup>,
}

impl Listener {
    pub(crate) fn new(
        sock: ListenSock,
        link: SocketLink,
        endpoint: String,
        resolved: String,
        cleanup: Option<IpcCleanup>,
    ) -> Listener {
        Listener { sock: Some(sock), link, endpoint, resolved, cleanup }
    }

    /// False if the accept filters refuse this peer: ZMQ_TCP_ACCEPT_FILTER by address;
    /// ZMQ_IPC_FILTER_UID/GID/PID by the peer process's credentials (a GID filter also
    /// admits a user who is a member of that group), as libzmq checks them.
    fn admits(&self, stream: &Stream, addr: Option<std::net::SocketAddr>) -> bool {
        let o = &self.link.opts;
        match (addr, stream) {
            (Some(addr), Stream::Tcp(_)) if !o.tcp_accept_filters.is_empty() => {
                o.tcp_accept_filters.iter().any(|f| f.matches(&addr.ip()))
            }
            (_, Stream::Unix(_))
                if !(o.ipc_filter_uids.is_empty()
                    && o.ipc_filter_gids.is_empty()
                    && o.ipc_filter_pids.is_empty()) =>
            {
                let Some(c) = stream.peer_credentials() else { return false };
                o.ipc_filter_uids.contains(&c.uid)
                    || o.ipc_filter_gids.contains(&c.gid)
                    || o.ipc_filter_pids.contains(&c.pid)
                    || o.ipc_filter_gids.iter().any(|&g| user_in_group(c.uid, g))
            }
            _ => true,
        }
    }
}

/// True if the user `uid` is listed as a member of group `gid` (supplementary groups).
fn user_in_group(uid: u32, gid: u32) -> bool {
    use nix::unistd::{Gid, Group, Uid, User};
    let Ok(Some(user)) = User::from_uid(Uid::from_raw(uid)) else { return false };
    let Ok(Some(group)) = Group::from_gid(Gid::from_raw(gid)) else { return false };
    group.mem.contains(&user.name)
}

impl IoObject for Listener {
    fn register(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let Some(sock) = &mut self.sock else { return Step::Close };
        if sock.register(ctl.registry, ctl.token).is_err() {
            return Step::Close;
        }
        Step::Continue
    }

    /// Accepts every pending connection.
    fn ready(&mut self, ctl: &mut Ctl<'_>, _readable: bool, _writable: bool, _hup: bool) -> Step {
        let Some(sock) = &self.sock else { return Step::Continue };
        loop {
            match sock.accept() {
                Ok((stream, addr)) => {
                    if !self.admits(&stream, addr) {
                        // libzmq closes it and reports the accept as failed.
                        let code = libc::EAGAIN as u64;
                        self.link.event(ZMQ_EVENT_ACCEPT_FAILED, code, &self.resolved, "");
                        continue;
                    }
                    if let Stream::Tcp(s) = &stream {
                        tcp::tune(socket2::SockRef::from(s), &self.link.opts);
                    }
                    let session = Session::accepted(self.link.clone(), &self.resolved, stream);
                    ctl.spawn.push(Box::new(session));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let code = e.raw_os_error().unwrap_or(libc::EIO);
                    self.link.event(ZMQ_EVENT_ACCEPT_FAILED, code as u64, &self.resolved, "");
                    // Out of descriptors and the like: try again on the next readiness.
                    return Step::Continue;
                }
            }
        }
    }

    fn close(&mut self, _ctl: &mut Ctl<'_>, _linger: i32) -> Step {
        Step::Close
    }

    fn socket_id(&self) -> u64 {
        self.link.id
    }

    fn has_endpoint(&self, endpoint: &str) -> bool {
        self.endpoint == endpoint || self.resolved == endpoint
    }

    fn deregister(&mut self, registry: &Registry) {
        let Some(mut sock) = self.sock.take() else { return };
        sock.deregister(registry);
        let fd = sock.fd();
        // Closed before CLOSED is raised, as libzmq does: the thread it wakes may bind the
        // same address at once (an abstract ipc name, or a tcp port without SO_REUSEADDR's
        // help), and must not meet this socket still holding it.
        drop(sock);
        if let Some(c) = self.cleanup.take() {
            if let Err(e) = c.remove() {
                let code = e.raw_os_error().unwrap_or(libc::EIO) as u64;
                self.link.event(ZMQ_EVENT_CLOSE_FAILED, code, &self.resolved, "");
                return;
            }
        }
        self.link.event(ZMQ_EVENT_CLOSED, fd as u64, &self.resolved, "");
    }
}
