//! The socket base: what every socket type shares. It owns the pipes, the mailbox and the
//! options, runs commands from peers, blocks with timeouts, and hands messages to the
//! socket's pattern (see `pattern`).

pub(crate) mod active;
pub(crate) mod channel;
pub(crate) mod client;
pub(crate) mod dealer;
pub(crate) mod dgram;
pub(crate) mod dish;
pub(crate) mod dist;
mod endpoint;
pub(crate) mod fq;
pub(crate) mod lb;
pub(crate) mod mtrie;
pub(crate) mod pair;
pub(crate) mod pattern;
pub(crate) mod pipeline;
pub(crate) mod pipes;
pub(crate) mod pubsub;
pub(crate) mod radio;
pub(crate) mod rep;
pub(crate) mod req;
pub(crate) mod router;
pub(crate) mod safe;
pub(crate) mod scatter;
pub(crate) mod server;
pub(crate) mod single;
pub(crate) mod stream;
pub(crate) mod trie;
pub(crate) use crate::options::Options;

use crate::consts::*;
use crate::ctx::Ctx;
use crate::error::{err, Errno, ZResult, ETERM};
use crate::io::command::Command;
use crate::io::mailbox::{deadline_after, Mailbox};
use crate::monitor::MonitorSlot;
use crate::msg::Msg;
use crate::pipe::{Pipe, PipeId};
use crate::session::SocketToken;
use endpoint::NetEndpoint;
use pattern::Pattern;
use pipes::Pipes;
use std::sync::Arc;
use std::time::Instant;

pub(crate) struct Socket {
    pub(crate) ctx: Arc<Ctx>,
    pub(crate) id: u64,
    pub(crate) mailbox: Arc<Mailbox>,
    pub(crate) opts: Options,
    pattern: Pattern,
    pipes: Pipes,
    /// Scratch space for commands taken from the mailbox.
    cmds: Vec<Command>,
    /// The last part received had MORE set.
    rcvmore: bool,
    /// The context is terminating (we processed Stop): everything but close fails ETERM.
    ctx_terminated: bool,
    last_endpoint: String,
    /// inproc names this socket bound.
    binds: Vec<String>,
    /// Set while connect() attaches its pipe: ZMQ_CONNECT_ROUTING_ID names that pipe.
    connecting: bool,
    /// tcp/ipc endpoints bound or connected.
    net: Vec<NetEndpoint>,
    /// Raises ZMQ_EVENT_* for zmq_socket_monitor; shared with the I/O objects.
    pub(crate) monitor: Arc<MonitorSlot>,
    /// zmq_disconnect was called on this socket (ZMQ_RECONNECT_STOP_AFTER_DISCONNECT);
    /// shared with its sessions.
    pub(crate) disconnected: Arc<std::sync::atomic::AtomicBool>,
    /// Keeps the socket counted by its context until its last connection has lingered.
    token: Option<Arc<SocketToken>>,
    /// Commands run so far: a thread-safe socket's other threads need waking only when
    /// this moved (see `safe`).
    pub(crate) commands_run: u64,
}

/// A connection this socket's thread waits on itself (`Socket::claim_input`). Dropped
/// without `Socket::release_input`, it hands the connection back unread.
pub(crate) struct InputClaim {
    owner: Option<Arc<dyn crate::pipe::PipeEvents>>,
    /// Our end of the connection's pipe.
    pipe: PipeId,
    pub fd: std::os::fd::RawFd,
}

impl Drop for InputClaim {
    fn drop(&mut self) {
        if let Some(owner) = self.owner.take() {
            owner.release_input(false);
        }
    }
}

impl Socket {
    pub(crate) fn new(ctx: Arc<Ctx>, socket_type: i32) -> ZResult<Socket> {
        let pattern = Pattern::new(socket_type)?;
        let mailbox = Arc::new(Mailbox::new()?);
        let id = ctx.register_socket(mailbox.clone())?;
        let mut opts = Options::new(socket_type);
        // The context's ZMQ_IPV6 and ZMQ_BLOCKY are the defaults of its new sockets.
        let ctx_opts = ctx.opts();
        opts.ipv6 = ctx_opts.ipv6;
        if !ctx_opts.blocky {
            opts.linger = 0;
        }
        let ctx_for_token = ctx.clone();
        Ok(Socket {
            ctx,
            id,
            mailbox,
            opts,
            pattern,
            pipes: Pipes::default(),
            cmds: Vec::new(),
            rcvmore: false,
            ctx_terminated: false,
            last_endpoint: String::new(),
            binds: Vec::new(),
            connecting: false,
            net: Vec::new(),
            monitor: Arc::new(MonitorSlot::default()),
            disconnected: Arc::default(),
            token: Some(Arc::new(SocketToken { ctx: ctx_for_token, id })),
            commands_run: 0,
        })
    }

    // ---- commands ----

    /// Runs every pending command. Cheap when there are none: one atomic load.
    // Inlined: every send and recv passes here, and the checks are what it costs when
    // nothing is pending; the work itself stays out of line.
    #[inline]
    pub(crate) fn process_commands(&mut self) -> ZResult<()> {
        if self.mailbox.has_pending() {
            self.run_commands();
        }
        if self.pipes.has_dead() {
            self.reap_dead();
        }
        if self.ctx_terminated {
            return err(ETERM);
        }
        Ok(())
    }

    #[inline(never)]
    fn run_commands(&mut self) {
        let mut cmds = std::mem::take(&mut self.cmds);
        self.mailbox.take(&mut cmds);
        self.commands_run += cmds.len() as u64;
        for cmd in cmds.drain(..) {
            self.process(cmd);
        }
        self.cmds = cmds;
    }

    fn process(&mut self, cmd: Command) {
        match cmd {
            Command::ActivateRead { pipe } => {
                if let Some(idx) = self.pipes.idx_of(pipe) {
                    if self.pipes.at(idx).activate_read() {
                        self.pattern.read_activated(&mut self.pipes, idx);
                    }
                }
            }
            Command::ActivateWrite { pipe } => {
                if let Some(idx) = self.pipes.idx_of(pipe) {
                    if self.pipes.at(idx).activate_write() {
                        self.pattern.write_activated(&mut self.pipes, idx);
                    }
                }
            }
            Command::PipeTerm { pipe } => {
                if let Some(idx) = self.pipes.idx_of(pipe) {
                    if self.pipes.at(idx).peer_terminated() {
                        self.pipes.mark_dead(idx);
                    } else {
                        // Messages remain: let the pattern read them before the pipe goes.
                        self.pattern.read_activated(&mut self.pipes, idx);
                    }
                }
            }
            Command::Bind { pipe, send_routing_id } => {
                self.attach_pipe(*pipe, send_routing_id, None);
            }
            Command::Hiccup { pipe } => {
                if let Some(idx) = self.pipes.idx_of(pipe) {
                    self.pattern.hiccuped(&mut self.pipes, idx);
                }
            }
            Command::EndpointGone { endpoint } => {
                self.net.retain(|e| e.bound || e.given != endpoint);
            }
            Command::Stop => self.ctx_terminated = true,
            // I/O-thread commands never reach a socket.
            Command::Adopt(_) | Command::CloseEndpoint { .. } | Command::CloseSocket { .. } => {}
        }
    }

    /// Removes pipes found finished, telling the pattern first.
    #[cold]
    #[inline(never)]
    fn reap_dead(&mut self) {
        while self.pipes.has_dead() {
            for idx in self.pipes.take_dead() {
                if self.pipes.get(idx).is_some() {
                    self.pattern.terminated(&mut self.pipes, idx);
                    if let Some(mut p) = self.pipes.remove(idx) {
                        p.terminate(false);
                    }
                }
            }
        }
    }

    /// Adopts one end of a pipe: commands for it come to our mailbox; the peer gets our
    /// routing id first if it wants one.
    pub(crate) fn attach_pipe(
        &mut self,
        mut pipe: Pipe,
        send_routing_id: bool,
        endpoint: Option<String>,
    ) {
        pipe.attach_to(self.mailbox.clone());
        if endpoint.is_some() {
            pipe.endpoint = endpoint;
        }
        if send_routing_id {
            let mut id = Msg::from_slice(&self.opts.routing_id);
            id.set_flags(Msg::ROUTING_ID);
            let _ = pipe.write(id);
            pipe.flush();
        }
        let preset = self.connecting && !self.opts.connect_routing_id.is_empty();
        if preset {
            // Used once, by the pipe of the connect it was set before (ROUTER, STREAM).
            pipe.routing_id = std::mem::take(&mut self.opts.connect_routing_id);
        }
        let early = pipe.peer_closed_early();
        let idx = self.pipes.insert(pipe);
        self.pattern.attach(&mut self.pipes, idx, &self.opts);
        if self.opts.socket_type == ZMQ_STREAM && !preset {
            // As libzmq, a STREAM socket's ZMQ_ROUTING_ID is the id it generated last: how a
            // connecter learns its peer's id.
            if let Some(p) = self.pipes.get(idx) {
                self.opts.routing_id = p.routing_id.clone();
            }
        }
        if early && self.pipes.get(idx).is_some() && self.pipes.at(idx).peer_terminated() {
            self.pipes.mark_dead(idx);
        }
        self.reap_dead();
    }

    /// Closes every pipe created for `name`; true if there was one.
    fn terminate_pipes_of(&mut self, name: &str) -> bool {
        let mut found = false;
        for idx in self.pipes.indices() {
            if self.pipes.at(idx).endpoint.as_deref() == Some(name) {
                found = true;
                // Messages already sent stay readable by an inproc peer whatever the linger, as in
                // libzmq; sessions drop theirs on CloseEndpoint/CloseSocket per the linger.
                let discard = false;
                self.pipes.at(idx).terminate(discard);
                self.pipes.mark_dead(idx);
            }
        }
        self.reap_dead();
        found
    }

    // ---- messages ----

    /// Sends one part. `flags`: ZMQ_DONTWAIT, ZMQ_SNDMORE. On failure the message comes
    /// back so the C caller still owns it.
    pub(crate) fn send(&mut self, mut msg: Msg, flags: i32) -> Result<(), (Errno, Msg)> {
        if let Err(e) = self.process_commands() {
            return Err((e, msg));
        }
        msg.set_more(flags & ZMQ_SNDMORE != 0);
        let mut result = self.pattern.send(&mut self.pipes, msg, &self.opts);
        if self.pipes.has_dead() {
            self.reap_dead();
        }
        // The clock is read only once we have to wait: not on the message path.
        let mut deadline = None;
        loop {
            match result {
                Ok(()) => return Ok(()),
                Err((Errno(libc::EAGAIN), m))
                    if flags & ZMQ_DONTWAIT == 0 && self.opts.sndtimeo != 0 =>
                {
                    let d =
                        *deadline.get_or_insert_with(|| deadline_after(self.opts.sndtimeo as i64));
                    if let Err(e) = self.wait_command(d) {
                        return Err((e, m));
                    }
                    if let Err(e) = self.process_commands() {
                        return Err((e, m));
                    }
                    result = self.pattern.send(&mut self.pipes, m, &self.opts);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Receives one part; blocks per ZMQ_RCVTIMEO unless ZMQ_DONTWAIT.
    pub(crate) fn recv(&mut self, flags: i32) -> ZResult<Msg> {
        self.process_commands()?;
        let mut result = self.pattern.recv(&mut self.pipes, &self.opts);
        if self.pipes.has_dead() {
            self.reap_dead();
        }
        let mut deadline = None;
        loop {
            match result {
                Ok(msg) => {
                    self.rcvmore = msg.more();
                    return Ok(msg);
                }
                Err(Errno(libc::EAGAIN))
                    if flags & ZMQ_DONTWAIT == 0 && self.opts.rcvtimeo != 0 =>
                {
                    let d =
                        *deadline.get_or_insert_with(|| deadline_after(self.opts.rcvtimeo as i64));
                    self.wait_input(d)?;
                    self.process_commands()?;
                    result = self.pattern.recv(&mut self.pipes, &self.opts);
                    if self.pipes.has_dead() {
                        self.reap_dead();
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sleeps until a command comes (or `deadline`). With one connection, lent by its
    /// session and idle, this thread waits on the connection too and reads what arrives
    /// itself (`session::direct`): the message wakes us, not the I/O thread first.
    fn wait_input(&mut self, deadline: Option<Instant>) -> ZResult<()> {
        let Some(claim) = self.claim_input() else { return self.wait_command(deadline) };
        let r = self.mailbox.wait_or(deadline, Some(claim.fd));
        self.release_input(claim, matches!(r, Ok(true)));
        r.map(|_| ())
    }

    /// Sleeps until a command comes (or `deadline`): on the mailbox's futex unless other
    /// threads may be watching its eventfd (a thread-safe socket).
    fn wait_command(&mut self, deadline: Option<Instant>) -> ZResult<()> {
        if self.thread_safe() {
            self.mailbox.wait(deadline)
        } else {
            self.mailbox.park(deadline)
        }
    }

    /// The descriptor of this socket's one connection, if its session lent it and it is
    /// idle, for this thread to wait on (see `session::direct`); `release_input` ends it.
    pub(crate) fn claim_input(&mut self) -> Option<InputClaim> {
        if self.thread_safe() {
            return None;
        }
        let p = self.pipes.sole()?;
        let owner = p.peer_owner()?;
        let fd = owner.claim_input(p.peer_id())?;
        Some(InputClaim { owner: Some(owner), pipe: p.id, fd })
    }

    /// The wait on a claimed connection ended (`readable`: its descriptor said so): reads
    /// what came, and hands the connection back to its I/O thread.
    pub(crate) fn release_input(&mut self, mut claim: InputClaim, readable: bool) {
        let Some(owner) = claim.owner.take() else { return };
        if owner.release_input(readable) {
            self.process(Command::ActivateRead { pipe: claim.pipe });
        }
    }

    /// ZMQ_EVENTS: POLLIN / POLLOUT as they stand after running pending commands.
    pub(crate) fn events(&mut self) -> ZResult<i32> {
        self.process_commands()?;
        let mut ev = 0;
        if self.pattern.has_in(&mut self.pipes) {
            ev |= ZMQ_POLLIN;
        }
        if self.pattern.has_out(&mut self.pipes) {
            ev |= ZMQ_POLLOUT;
        }
        self.reap_dead();
        Ok(ev)
    }

    // ---- options ----

    pub(crate) fn setsockopt(&mut self, option: i32, value: &[u8]) -> ZResult<()> {
        // New HWMs reach the pipes attached before this call, as in libzmq, which does not
        // process commands here: a pipe whose attach is still queued keeps the HWMs it was
        // made with.
        let live: Vec<PipeId> = if matches!(option, ZMQ_SNDHWM | ZMQ_RCVHWM) {
            self.pipes
                .indices()
                .into_iter()
                .filter_map(|i| self.pipes.get(i))
                .map(|p| p.id)
                .collect()
        } else {
            Vec::new()
        };
        self.process_commands()?;
        if let Some(r) = self.pattern.setsockopt(&mut self.pipes, &self.opts, option, value) {
            return r;
        }
        self.opts.set(option, value)?;
        self.pattern.options_changed(&self.opts);
        // libzmq 4.3 applies new HWMs to live pipes (both ends).
        for id in live {
            if let Some(idx) = self.pipes.idx_of(id) {
                self.pipes.at(idx).set_hwms(self.opts.sndhwm, self.opts.rcvhwm);
            }
        }
        Ok(())
    }

    /// zmq_setsockopt with a NULL value: clears string options as libzmq does.
    pub(crate) fn setsockopt_null(&mut self, option: i32) -> ZResult<()> {
        self.process_commands()?;
        // A NULL subscription of length 0 means "everything", as an empty one does.
        if matches!(option, ZMQ_SUBSCRIBE | ZMQ_UNSUBSCRIBE) {
            if let Some(r) = self.pattern.setsockopt(&mut self.pipes, &self.opts, option, &[]) {
                return r;
            }
        }
        self.opts.set_null(option)
    }

    pub(crate) fn getsockopt(&mut self, option: i32, buf: &mut [u8]) -> ZResult<usize> {
        if self.ctx_terminated {
            return err(ETERM);
        }
        // The options the socket answers itself take any buffer large enough and, as in
        // libzmq, zero the caller's bytes past the value.
        let int = |v: i32, buf: &mut [u8]| -> ZResult<usize> {
            if buf.len() < 4 {
                return err(libc::EINVAL);
            }
            buf[..4].copy_from_slice(&v.to_ne_bytes());
            buf[4..].fill(0);
            Ok(4)
        };
        match option {
            ZMQ_RCVMORE => int(self.rcvmore as i32, buf),
            // A thread-safe socket offers no descriptor (libzmq: EINVAL); zmq_poller is
            // the way to wait on it.
            ZMQ_FD if self.thread_safe() => err(libc::EINVAL),
            ZMQ_FD => int(self.mailbox.fd(), buf),
            ZMQ_EVENTS => {
                let ev = match self.events() {
                    Err(Errno(e)) if e == ETERM => return err(ETERM),
                    r => r?,
                };
                int(ev, buf)
            }
            ZMQ_THREAD_SAFE => int(self.thread_safe() as i32, buf),
            ZMQ_LAST_ENDPOINT => {
                let s = self.last_endpoint.as_bytes();
                if buf.len() < s.len() + 1 {
                    return err(libc::EINVAL);
                }
                buf[..s.len()].copy_from_slice(s);
                buf[s.len()..].fill(0);
                Ok(s.len() + 1)
            }
            _ => match self.pattern.getsockopt(option) {
                Some(r) => int(r?, buf),
                None => self.opts.get(option, buf),
            },
        }
    }

    // ---- close ----

    /// zmq_close: closes every pipe and leaves the context. An inproc peer may still read
    /// what we sent, whatever the linger (as in libzmq); network sessions finish or drop
    /// theirs per the linger (CloseSocket below).
    pub(crate) fn close(mut self) {
        for idx in self.pipes.indices() {
            if let Some(mut p) = self.pipes.remove(idx) {
                p.terminate(false);
            }
        }
        for name in std::mem::take(&mut self.binds) {
            self.ctx.inproc_unbind(&name, self.id);
        }
        // The monitor stops when the last connection has finished lingering (the slot is
        // dropped), after their events, as in libzmq.
        if !self.net.is_empty() {
            for io in self.ctx.io_mailboxes() {
                io.send(Command::CloseSocket { socket_id: self.id, linger: self.opts.linger });
            }
        }
        // The context forgets us once the I/O threads drop their tokens too.
        self.token = None;
    }

    pub(crate) fn is_ctx_terminated(&self) -> bool {
        self.ctx_terminated
    }

    /// Several threads may use this socket at once (its type says so).
    pub(crate) fn thread_safe(&self) -> bool {
        crate::options::thread_safe(self.opts.socket_type)
    }

    /// zmq_socket_monitor_pipes_stats: one ZMQ_EVENT_PIPES_STATS per pipe, with its
    /// outbound and inbound queue lengths. EINVAL unless the monitor asks for the event;
    /// EAGAIN without pipes (libzmq's answers).
    pub(crate) fn monitor_pipes_stats(&mut self) -> ZResult<()> {
        self.process_commands()?;
        if !self.monitor.wants(ZMQ_EVENT_PIPES_STATS) {
            return err(libc::EINVAL);
        }
        let idxs = self.pipes.indices();
        if idxs.is_empty() {
            return err(libc::EAGAIN);
        }
        for idx in idxs {
            let p = self.pipes.at(idx);
            let (out, inb) = p.queued();
            let endpoint = p.endpoint.clone().unwrap_or_default();
            self.monitor.event_values(ZMQ_EVENT_PIPES_STATS, &[out, inb], &endpoint, "");
        }
        Ok(())
    }

    /// zmq_connect_peer: connects a PEER and answers the routing id of its new pipe.
    pub(crate) fn connect_peer(&mut self, addr: &str) -> ZResult<u32> {
        if self.opts.socket_type != ZMQ_PEER {
            return err(libc::ENOTSUP);
        }
        // The pipe must exist when connect returns for its id to be known (libzmq: EFAULT).
        if self.opts.immediate {
            return err(libc::EFAULT);
        }
        self.connect(addr)?;
        match self.pattern.last_peer_id() {
            Some(id) => Ok(id),
            None => err(libc::EFAULT),
        }
    }

    /// zmq_disconnect_peer: closes the connection of the PEER's peer `id`.
    pub(crate) fn peer_state(&mut self, routing_id: &[u8]) -> ZResult<i32> {
        self.process_commands()?;
        self.pattern.peer_state(&mut self.pipes, routing_id)
    }

    pub(crate) fn disconnect_peer(&mut self, id: u32) -> ZResult<()> {
        if self.opts.socket_type != ZMQ_PEER {
            return err(libc::ENOTSUP);
        }
        self.process_commands()?;
        self.pattern.disconnect_peer(&mut self.pipes, id)?;
        self.reap_dead();
        Ok(())
    }
}

/// A monitor's events go out on a socket of ours (the PAIR/PUB/PUSH the application reads).
impl crate::monitor::EventSink for Socket {
    fn send_part(&mut self, part: Msg, flags: i32) -> bool {
        self.send(part, flags).is_ok()
    }

    fn finish(mut self: Box<Self>) {
        // The events already sent stay readable by the application (libzmq's monitor
        // sockets never drop them at close, whatever their linger).
        self.opts.linger = -1;
        self.close();
    }
}
