//! Sessions: the I/O-thread side of a socket's network connections.
//!
//! A `Session` joins one pipe to one engine at a time. For zmq_connect it owns the connect
//! target and keeps reconnecting (the pipe outlives connections, so messages queue while
//! disconnected, as in libzmq); for an accepted connection it lives as long as that one
//! connection. It decides attach/detach, reconnect and linger, and raises the monitor
//! events of the connection's life. The `Listener` accepts connections and starts a
//! session for each.
//!
//! A failure is reported as libzmq 4.3 reports it: a protocol error raises only the event it
//! carries (if any) and, on a connecter, ends the session for good (libzmq stops
//! reconnecting); a connection error or time-out during the handshake raises
//! HANDSHAKE_FAILED_NO_DETAIL with the errno (EPIPE for an orderly close), then DISCONNECTED.

mod direct;
mod link;
mod listener;
mod reconnect;
pub(crate) mod udp;
mod zap;

pub(crate) use link::{SocketLink, SocketToken};
pub(crate) use listener::Listener;

use crate::consts::*;
use crate::engine::{Established, Failure, HandshakeStep, Inbound, StreamEngine};
use crate::io::command::Command;
use crate::io::{Ctl, IoObject, Step, TimerId};
use crate::msg::{Metadata, Msg};
use crate::options::{recv_routing_id, recvs_disconnect_msg, recvs_hiccup_msg, sends_hello_msg};
use crate::pipe::{pipe_pair, Pipe};
use crate::transport::connecter::{self, Target};
use crate::transport::socks;
use crate::transport::stream::Stream;
use crate::zmtp;
use direct::{Direct, Lent};
use mio::Registry;
use reconnect::Backoff;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zap::ZapClient;

/// A session's time-outs.
mod timer {
    use crate::io::TimerId;
    pub(super) const RECONNECT: TimerId = 0;
    pub(super) const CONNECT_TIMEOUT: TimerId = 1;
    pub(super) const HANDSHAKE: TimerId = 2;
    pub(super) const LINGER: TimerId = 3;
    pub(super) const HEARTBEAT: TimerId = 4;
}

enum Origin {
    Accept,
    Connect { target: Target, backoff: Backoff, connected_before: bool },
}

enum Phase {
    /// Not connected: waiting for the reconnect timer (or just created).
    Idle,
    Connecting(Stream),
    /// Connected to the ZMQ_SOCKS_PROXY, asking it for the target.
    Socks(Stream, Box<socks::Client>),
    /// Accepted, waiting for the reactor to adopt it.
    Accepted(Stream),
    /// Connected: handshaking, then carrying messages.
    Engine(Box<StreamEngine>),
    /// Connected and idle: the engine and the pipe are lent to `direct`.
    Lent,
}

/// Bytes one connection may read plus write in a turn of its I/O thread before the others
/// get theirs. Besides fairness, it keeps a sender from filling the socket buffer with
/// megabytes that are cold in the cache by the time the reader (often on this same
/// thread) copies them out: 64 KiB messages over tcp went from ~17k to ~40k msg/s.
const TURN_BUDGET: usize = 256 * 1024;

pub(crate) struct Session {
    link: SocketLink,
    endpoint: String,
    origin: Origin,
    phase: Phase,
    /// The pipe to the socket, and decoded messages waiting for room in it.
    inbound: Inbound,
    routing_id_sent: bool,
    /// The socket ended its side (close, disconnect, unbind): send what is left and go.
    closing: bool,
    /// Closing, but queued messages still wait for a connection (linger).
    linger_pending: bool,
    /// The descriptor of the current (or last) connection, as events report it.
    fd: RawFd,
    /// The endpoints monitor events name (libzmq's endpoint pair): for a connect, none and
    /// the address connected to until connected, then the local address too.
    ev_local: String,
    ev_remote: String,
    /// A connect's address as last resolved: libzmq's events name it after a reconnection.
    resolved_remote: Option<String>,
    /// The ZAP exchange of the current handshake, while its reply is awaited.
    zap: Option<ZapClient>,
    /// The current peer speaks ZMTP 1.0/2.0 (no mechanism handshake happened).
    legacy_peer: bool,
    /// The earliest heartbeat time-out armed, so a peer's PING TTL gets a timer even when
    /// we send no PINGs ourselves.
    heartbeat_at: Option<Instant>,
    /// Where the pipe's events go (made when the reactor adopts the session); holds the
    /// engine while it is lent.
    direct: Option<Arc<Direct>>,
}

impl Session {
    fn new(link: SocketLink, endpoint: String, origin: Origin) -> Session {
        Session {
            link,
            endpoint,
            origin,
            phase: Phase::Idle,
            inbound: Inbound::default(),
            routing_id_sent: false,
            closing: false,
            linger_pending: false,
            fd: -1,
            ev_local: String::new(),
            ev_remote: String::new(),
            resolved_remote: None,
            zap: None,
            legacy_peer: false,
            heartbeat_at: None,
            direct: None,
        }
    }

    /// A session for zmq_connect: connects once adopted, and reconnects. `pipe` is the
    /// session's end of the socket's pipe (None with ZMQ_IMMEDIATE: made on connection).
    pub(crate) fn connecter(
        link: SocketLink,
        endpoint: String,
        target: Target,
        pipe: Option<Pipe>,
    ) -> Session {
        let backoff = Backoff::new(&link.opts);
        let origin = Origin::Connect { target, backoff, connected_before: false };
        let mut s = Session::new(link, endpoint, origin);
        s.ev_remote = s.endpoint.clone();
        s.inbound.pipe = pipe;
        s
    }

    /// A session for a connection a listener accepted (ACCEPTED names its endpoints).
    pub(crate) fn accepted(link: SocketLink, endpoint: &str, stream: Stream) -> Session {
        let mut s = Session::new(link, endpoint.to_string(), Origin::Accept);
        (s.ev_local, s.ev_remote) = stream.names();
        s.event(ZMQ_EVENT_ACCEPTED, stream.fd() as u64);
        s.phase = Phase::Accepted(stream);
        s
    }

    /// Raises a monitor event with this connection's endpoints.
    fn event(&self, event: i32, value: u64) {
        let m = &self.link.monitor;
        match self.origin {
            Origin::Accept => m.event(event, value, &self.ev_local, &self.ev_remote),
            Origin::Connect { .. } => {
                m.event_connect(event, value, &self.ev_local, &self.ev_remote)
            }
        }
    }

    fn handshake_config(&self) -> zmtp::HandshakeConfig {
        let o = &self.link.opts;
        let mechanism = match o.mechanism {
            ZMQ_NULL => zmtp::MechanismConfig::Null,
            ZMQ_PLAIN => zmtp::MechanismConfig::Plain {
                as_server: o.as_server,
                username: o.plain_username.clone(),
                password: zmtp::SecretBytes::new(o.plain_password.to_vec()),
            },
            ZMQ_CURVE => zmtp::MechanismConfig::Curve {
                as_server: o.as_server,
                public_key: o.curve_public_key,
                secret_key: zmtp::SecretKey::from_bytes(*o.curve_secret_key),
                server_key: o.curve_server_key,
            },
            // Never a silent fallback to NULL for a mechanism we lack (GSSAPI).
            _ => zmtp::MechanismConfig::Unbuilt,
        };
        zmtp::HandshakeConfig {
            socket_type: o.socket_type,
            routing_id: o.routing_id.clone(),
            as_server: o.as_server,
            metadata: o
                .metadata
                .iter()
                .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.clone()))
                .collect(),
            max_msg_size: o.maxmsgsize,
            mechanism,
            zap_enabled: !o.zap_domain.is_empty(),
            in_batch_size: o.in_batch_size.max(1) as usize,
            out_batch_size: o.out_batch_size.max(1) as usize,
            heartbeat: zmtp::HeartbeatConfig {
                ivl_ms: o.heartbeat_ivl,
                ttl_deciseconds: o.heartbeat_ttl,
                timeout_ms: o.heartbeat_timeout,
            },
            zero_copy_recv: self.link.token.ctx.opts().zero_copy_recv,
        }
    }

    fn is_connected(&self) -> bool {
        matches!(self.phase, Phase::Engine(_))
    }

    /// Connected and past the handshake: messages flow.
    fn is_active(&self) -> bool {
        matches!(&self.phase, Phase::Engine(e) if !e.is_handshaking())
    }

    /// The connection is up: register it and start the handshake, or for a raw socket, go
    /// straight to traffic.
    fn begin(&mut self, ctl: &mut Ctl<'_>, stream: Stream) -> Step {
        self.fd = stream.fd();
        let o = &self.link.opts;
        let out_batch = o.out_batch_size.max(1) as usize;
        let mut engine = if o.raw_socket {
            Box::new(StreamEngine::raw(stream, o.in_batch_size.max(1) as usize, out_batch))
        } else {
            let hs = zmtp::Handshake::new(self.handshake_config());
            Box::new(StreamEngine::zmtp(stream, hs, out_batch))
        };
        if engine.register(ctl.registry, ctl.token).is_err() {
            self.event(ZMQ_EVENT_DISCONNECTED, self.fd as u64);
            return Step::Close;
        }
        let raw = engine.is_raw();
        self.phase = Phase::Engine(engine);
        if raw {
            self.raw_established(ctl);
        } else if self.link.opts.handshake_ivl > 0 {
            let ivl = Duration::from_millis(self.link.opts.handshake_ivl as u64);
            ctl.timers.push((Instant::now() + ivl, timer::HANDSHAKE));
        }
        self.drive(ctl)
    }

    /// Starts (or restarts) an outgoing connection, as libzmq's connecters do: CONNECT_DELAYED
    /// while it is in progress, straight on when it completed at once (ipc); a failed attempt
    /// closes its socket (CLOSED) and waits to retry, unless ZMQ_RECONNECT_STOP says stop.
    fn start_connect(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let Origin::Connect { target, .. } = &self.origin else { return Step::Continue };
        let proxy = self.socks_proxy();
        let started = match connecter::start(proxy.as_ref().unwrap_or(target), &self.link.opts) {
            Ok(s) => s,
            Err((errno, fd)) => {
                if let Some(fd) = fd {
                    self.event(ZMQ_EVENT_CLOSED, fd as u64);
                }
                return self.connect_failed(ctl, errno);
            }
        };
        if proxy.is_some() {
            // libzmq's socks connecter names the proxy as given in every event.
            self.ev_remote =
                format!("tcp://{}", String::from_utf8_lossy(&self.link.opts.socks_proxy));
        } else if started.resolved.is_some() {
            self.resolved_remote = started.resolved;
        }
        let mut stream = started.stream;
        self.fd = stream.fd();
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        if ctl.registry.register(stream.source(), ctl.token, interest).is_err() {
            self.event(ZMQ_EVENT_CLOSED, self.fd as u64);
            return self.connect_failed(ctl, libc::ENOMEM);
        }
        self.phase = Phase::Connecting(stream);
        if started.done {
            return self.connect_done(ctl);
        }
        self.event(ZMQ_EVENT_CONNECT_DELAYED, libc::EINPROGRESS as u64);
        // (libzmq's socks connecter has no connect time-out.)
        if self.link.opts.connect_timeout > 0 && proxy.is_none() {
            let when =
                Instant::now() + Duration::from_millis(self.link.opts.connect_timeout as u64);
            ctl.timers.push((when, timer::CONNECT_TIMEOUT));
        }
        Step::Continue
    }

    /// A connection attempt failed with `errno` (its socket already reported CLOSED).
    fn connect_failed(&mut self, ctl: &mut Ctl<'_>, errno: i32) -> Step {
        if errno == libc::ECONNREFUSED
            && self.link.opts.reconnect_stop & ZMQ_RECONNECT_STOP_CONN_REFUSED != 0
            && self.socks_proxy().is_none()
        {
            self.give_up();
            return Step::Close;
        }
        // libzmq 4.3.5: an ipc connect refused after the socket's first zmq_disconnect
        // stops when ZMQ_RECONNECT_STOP_AFTER_DISCONNECT is set.
        let ipc = matches!(&self.origin, Origin::Connect { target: Target::Ipc(_), .. });
        if errno == libc::ECONNREFUSED
            && ipc
            && self.link.opts.reconnect_stop & ZMQ_RECONNECT_STOP_AFTER_DISCONNECT != 0
            && self.link.disconnected.load(std::sync::atomic::Ordering::Relaxed)
        {
            self.give_up();
            return Step::Close;
        }
        self.schedule_reconnect(ctl)
    }

    /// An outgoing connection completed (or failed).
    fn connect_done(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let Phase::Connecting(stream) = &self.phase else { return Step::Continue };
        match connecter::finish(stream, &self.link.opts) {
            Ok(false) => Step::Continue, // spurious wake-up: still in progress
            Err(errno) => {
                let fd = stream.fd();
                self.drop_connection(ctl);
                self.event(ZMQ_EVENT_CLOSED, fd as u64);
                self.connect_failed(ctl, errno)
            }
            Ok(true) => {
                let Phase::Connecting(stream) = std::mem::replace(&mut self.phase, Phase::Idle)
                else {
                    return Step::Continue;
                };
                if let (Some(_), Origin::Connect { target, .. }) =
                    (self.socks_proxy(), &self.origin)
                {
                    let o = &self.link.opts;
                    let client = socks::Client::new(
                        &socks_target(target),
                        &o.socks_username,
                        &o.socks_password,
                    );
                    self.phase = Phase::Socks(stream, Box::new(client));
                    return self.socks_progress(ctl);
                }
                self.connected(ctl, stream)
            }
        }
    }

    /// The stream reaches the peer: CONNECTED, then the engine takes it.
    fn connected(&mut self, ctl: &mut Ctl<'_>, mut stream: Stream) -> Step {
        self.ev_local = stream.names().0;
        self.event(ZMQ_EVENT_CONNECTED, self.fd as u64);
        // Registered for the connect; the engine registers it again as its own.
        let _ = ctl.registry.deregister(stream.source());
        if let Origin::Connect { backoff, .. } = &mut self.origin {
            backoff.reset(&self.link.opts);
        }
        self.begin(ctl, stream)
    }

    /// Where to connect instead of a tcp target when ZMQ_SOCKS_PROXY is set.
    fn socks_proxy(&self) -> Option<Target> {
        let proxy = &self.link.opts.socks_proxy;
        match &self.origin {
            Origin::Connect { target: Target::Tcp { .. }, .. } if !proxy.is_empty() => {
                let addr = String::from_utf8_lossy(proxy).into_owned();
                Some(Target::Tcp { addr, source: None })
            }
            _ => None,
        }
    }

    /// Runs the SOCKS exchange as far as the stream allows. A failure closes the connection
    /// and retries later, as libzmq does (no CONNECTED, no reconnect-stop).
    fn socks_progress(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let Phase::Socks(stream, client) = &mut self.phase else { return Step::Continue };
        match client.exchange(stream) {
            Ok(false) => Step::Continue,
            Ok(true) => match std::mem::replace(&mut self.phase, Phase::Idle) {
                Phase::Socks(stream, _) => self.connected(ctl, stream),
                _ => Step::Continue,
            },
            Err(_) => {
                self.drop_connection(ctl);
                self.event(ZMQ_EVENT_CLOSED, self.fd as u64);
                self.schedule_reconnect(ctl)
            }
        }
    }

    /// Closes the current connection (if any) and forgets it.
    fn drop_connection(&mut self, ctl: &mut Ctl<'_>) {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Connecting(mut s) | Phase::Accepted(mut s) | Phase::Socks(mut s, _) => {
                let _ = ctl.registry.deregister(s.source());
            }
            Phase::Engine(mut e) => e.deregister(ctl.registry),
            Phase::Idle | Phase::Lent => {}
        }
    }

    /// ZMQ_RECONNECT_STOP ended this connecter: the socket forgets the endpoint.
    fn give_up(&self) {
        let endpoint = self.endpoint.clone();
        self.link.mailbox.send(Command::EndpointGone { endpoint });
    }

    fn schedule_reconnect(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let opts = self.link.opts.clone();
        // ZMQ_RECONNECT_IVL 0 means no reconnection too (libzmq 4.3 only retries above 0).
        if (self.closing && !self.linger_pending) || opts.reconnect_ivl <= 0 {
            return Step::Close;
        }
        let Origin::Connect { backoff, .. } = &mut self.origin else { return Step::Close };
        // libzmq's jittered exponential back-off up to ZMQ_RECONNECT_IVL_MAX.
        let ivl = backoff.next(&opts);
        self.event(ZMQ_EVENT_CONNECT_RETRIED, ivl as u64);
        ctl.timers.push((Instant::now() + Duration::from_millis(ivl as u64), timer::RECONNECT));
        Step::Continue
    }

    /// Makes all the progress possible now; then, idle, lends the engine to `direct`.
    fn drive(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let step = self.drive_now(ctl);
        if let Phase::Engine(engine) = &mut self.phase {
            engine.sync_interest(ctl.registry, ctl.token);
        }
        if matches!(step, Step::Continue) {
            self.lend();
        }
        step
    }

    /// Lends the engine and pipe of an established connection to `direct`, so that the
    /// socket's thread can send on it until the session's next event.
    fn lend(&mut self) {
        let Some(direct) = &self.direct else { return };
        if self.closing || self.inbound.pipe.is_none() {
            return;
        }
        if !matches!(&self.phase, Phase::Engine(e) if !e.is_handshaking()) {
            return;
        }
        let Phase::Engine(engine) = std::mem::replace(&mut self.phase, Phase::Lent) else {
            return;
        };
        let inbound = std::mem::take(&mut self.inbound);
        direct.lend(Lent { engine, inbound, claimed: false });
    }

    /// Takes back what `lend` lent: every event of the session starts here.
    fn reclaim(&mut self) {
        if !matches!(self.phase, Phase::Lent) {
            return;
        }
        let Some(lent) = self.direct.as_ref().and_then(|d| d.reclaim()) else {
            // Not reached: only `lend` leaves the phase Lent.
            self.phase = Phase::Idle;
            return;
        };
        self.phase = Phase::Engine(lent.engine);
        self.inbound = lent.inbound;
    }

    fn drive_now(&mut self, ctl: &mut Ctl<'_>) -> Step {
        loop {
            let Phase::Engine(engine) = &mut self.phase else { return Step::Continue };
            if !engine.is_handshaking() {
                break;
            }
            match engine.handshake() {
                Ok(HandshakeStep::Pending) => return Step::Continue,
                Ok(HandshakeStep::Zap(req)) => {
                    if let Err(e) = self.start_zap(ctl, req) {
                        return self.disconnected(ctl, e);
                    }
                }
                Ok(HandshakeStep::Done(est)) => self.established(ctl, est),
                Err(e) => return self.disconnected(ctl, e),
            }
        }
        match self.pump() {
            Ok(step) => {
                self.arm_heartbeat(ctl);
                step
            }
            Err(e) => self.disconnected(ctl, e),
        }
    }

    /// Arms a heartbeat time-out if the engine's next deadline comes before the one armed
    /// (traffic such as a peer's PING with a TTL can bring it forward).
    fn arm_heartbeat(&mut self, ctl: &mut Ctl<'_>) {
        let Phase::Engine(engine) = &self.phase else { return };
        if let Some(t) = engine.heartbeat_deadline() {
            if self.heartbeat_at.is_none_or(|armed| t < armed) {
                self.heartbeat_at = Some(t);
                ctl.timers.push((t, timer::HEARTBEAT));
            }
        }
    }

    /// The mechanism waits for ZAP: ask the handler, or decide without one as libzmq does
    /// for this mechanism (`zmtp::zap_plan`).
    fn start_zap(&mut self, ctl: &mut Ctl<'_>, req: zmtp::ZapRequest) -> Result<(), Failure> {
        let Phase::Engine(engine) = &mut self.phase else { return Ok(()) };
        let o = &self.link.opts;
        let bound = zap::handler_bound(&self.link);
        let domain_set = !o.zap_domain.is_empty();
        match zmtp::zap_plan(req.mechanism, bound, domain_set, o.zap_enforce_domain) {
            zmtp::ZapPlan::Ask => match ZapClient::connect(&self.link, ctl) {
                Some(mut client) => {
                    let address = engine.stream().peer_address();
                    let frames = req.frames(&o.zap_domain, address.as_bytes(), &o.routing_id);
                    match client.send(frames) {
                        None => {
                            self.zap = Some(client);
                            Ok(())
                        }
                        // Answered at once (the handler runs on another thread: rare).
                        Some(Ok(reply)) => engine.zap_reply(&reply),
                        Some(Err(e)) => Err(Failure::Protocol(e)),
                    }
                }
                // The handler went away in between.
                None => engine.zap_skip(false),
            },
            zmtp::ZapPlan::Accept => engine.zap_skip(true),
            zmtp::ZapPlan::Refuse => engine.zap_skip(false),
        }
    }

    /// The ZAP handler wrote to us: its verdict, once whole, goes to the handshake.
    fn zap_activated(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let Some(client) = &mut self.zap else { return Step::Continue };
        let Some(reply) = client.on_activate() else { return Step::Continue };
        self.zap = None;
        let Phase::Engine(engine) = &mut self.phase else { return Step::Continue };
        let r = match reply {
            Ok(reply) => engine.zap_reply(&reply),
            Err(e) => Err(Failure::Protocol(e)),
        };
        match r {
            Ok(()) => self.drive(ctl),
            Err(e) => self.disconnected(ctl, e),
        }
    }

    /// Moves messages both ways until nothing more can move.
    fn pump(&mut self) -> Result<Step, Failure> {
        let Phase::Engine(engine) = &mut self.phase else { return Ok(Step::Continue) };
        engine.start_turn(TURN_BUDGET);
        loop {
            let progress = engine.pump(&mut self.inbound)?;
            if self.closing && engine.out_drained(&mut self.inbound) {
                return Ok(Step::Close);
            }
            if !progress {
                return Ok(Step::Continue);
            }
            if engine.turn_spent() {
                return Ok(Step::Yield);
            }
        }
    }

    /// The properties every message from this connection carries: the peer's (from its
    /// handshake), its address, and our fd (ZMQ_SRCFD).
    fn set_metadata(&mut self, peer: &[(String, Vec<u8>)]) {
        let Phase::Engine(engine) = &self.phase else { return };
        let peer_address = engine.stream().peer_address();
        let mut meta = Metadata::new();
        for (k, v) in peer {
            meta.insert(k.as_bytes(), v);
        }
        if !peer_address.is_empty() {
            meta.insert(b"Peer-Address", peer_address.as_bytes());
        }
        meta.insert(b"__fd", self.fd.to_string().as_bytes());
        self.inbound.metadata = Some(Arc::new(meta));
    }

    /// Creates the pipe to the socket (accepted connections, ZMQ_IMMEDIATE) and hands the
    /// socket its end, with the peer's routing id already in it for sockets that take one.
    fn new_pipe(&mut self, ctl: &mut Ctl<'_>, routing_id: &[u8]) {
        let o = &self.link.opts;
        let owner: Arc<dyn crate::pipe::PipeEvents> = match &self.direct {
            Some(d) => d.clone(),
            None => ctl.mailbox.clone(),
        };
        let (mut mine, mut theirs) =
            pipe_pair(Some(owner), None, o.rcvhwm.max(0) as usize, o.sndhwm.max(0) as usize);
        if o.conflate
            && matches!(o.socket_type, ZMQ_DEALER | ZMQ_PULL | ZMQ_PUSH | ZMQ_PUB | ZMQ_SUB)
        {
            mine.set_conflate();
        }
        theirs.endpoint = Some(self.endpoint.clone());
        ctl.pipes.push(mine.id);
        self.inbound.pipe = Some(mine);
        self.routing_id_sent = false;
        self.send_routing_id(routing_id);
        self.link.mailbox.send(Command::Bind { pipe: Box::new(theirs), send_routing_id: false });
    }

    /// Writes the peer's routing id into the pipe once per pipe, for sockets that take one
    /// (not STREAM: it makes up its peers' ids itself; ROUTER_RAW gets an empty one, which
    /// makes ROUTER generate one).
    fn send_routing_id(&mut self, id: &[u8]) {
        let t = self.link.opts.socket_type;
        if self.routing_id_sent || !recv_routing_id(t) || t == ZMQ_STREAM {
            return;
        }
        if let Some(pipe) = &mut self.inbound.pipe {
            let mut m = Msg::from_slice(id);
            m.set_flags(Msg::ROUTING_ID);
            let _ = pipe.write(m);
            pipe.flush();
            self.routing_id_sent = true;
        }
    }

    /// The handshake finished: the pipe, the metadata, the heartbeat.
    fn established(&mut self, ctl: &mut Ctl<'_>, est: Established) {
        self.set_metadata(&est.peer_metadata);
        let reconnected = match &mut self.origin {
            Origin::Connect { connected_before, .. } => std::mem::replace(connected_before, true),
            Origin::Accept => false,
        };
        if self.inbound.pipe.is_none() {
            self.new_pipe(ctl, &est.peer_routing_id);
        } else {
            self.send_routing_id(&est.peer_routing_id);
            if let (true, Some(pipe)) = (reconnected, &self.inbound.pipe) {
                // Subscriptions and the like must be sent again to the new peer.
                self.link.mailbox.send(Command::Hiccup { pipe: pipe.peer_id() });
            }
        }
        let o = &self.link.opts;
        if o.router_notify & ZMQ_NOTIFY_CONNECT != 0 {
            // The socket gets [peer's routing id, ""] for the new peer.
            self.inbound.notify();
        }
        if sends_hello_msg(o.socket_type) && !o.hello_msg.is_empty() {
            let hello = Msg::from_slice(&o.hello_msg);
            if let Phase::Engine(engine) = &mut self.phase {
                engine.send_first(hello);
            }
        }
        // libzmq raises SUCCEEDED only after a ZMTP 3 mechanism handshake.
        self.legacy_peer = est.legacy;
        if !est.legacy {
            self.event(ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0);
        }
        self.heartbeat(ctl);
    }

    /// A handshaked ZMTP connection ended: what libzmq then delivers to the socket, in its
    /// order: ROUTER_NOTIFY's [id, ""], then DISCONNECT_MSG (accepted peers) or HICCUP_MSG
    /// (connections we made; the pipe stays for the reconnection).
    fn notify_lost(&mut self) {
        self.inbound.drop_partial();
        let o = self.link.opts.clone();
        if o.router_notify & ZMQ_NOTIFY_DISCONNECT != 0 {
            self.inbound.notify();
        }
        let accepted = matches!(self.origin, Origin::Accept);
        let last_words = if accepted && recvs_disconnect_msg(o.socket_type) {
            &o.disconnect_msg
        } else if !accepted && recvs_hiccup_msg(o.socket_type) {
            &o.hiccup_msg
        } else {
            return;
        };
        if !last_words.is_empty() {
            self.inbound.push(Msg::from_slice(last_words));
            self.inbound.deliver();
        }
    }

    /// Sends a due PING and arms the next heartbeat time-out; Close if the peer is gone.
    fn heartbeat(&mut self, ctl: &mut Ctl<'_>) -> Option<Failure> {
        let Phase::Engine(engine) = &mut self.phase else { return None };
        match engine.heartbeat(Instant::now()) {
            zmtp::HeartbeatAction::Expired => Some(Failure::Timeout),
            zmtp::HeartbeatAction::Next(when) => {
                if self.heartbeat_at.is_none_or(|armed| when < armed) {
                    self.heartbeat_at = Some(when);
                    ctl.timers.push((when, timer::HEARTBEAT));
                }
                None
            }
            zmtp::HeartbeatAction::Idle => None,
        }
    }

    /// A raw connection is up: the pipe exists from now on (if not since zmq_connect), and
    /// the socket hears of the peer (libzmq raises no HANDSHAKE_SUCCEEDED for it).
    fn raw_established(&mut self, ctl: &mut Ctl<'_>) {
        self.set_metadata(&[]);
        if self.inbound.pipe.is_none() {
            self.new_pipe(ctl, &[]);
        } else {
            self.send_routing_id(&[]);
        }
        if self.link.opts.stream_notify {
            self.inbound.notify();
        }
    }

    /// The connection failed or ended: report, then reconnect (zmq_connect) or finish.
    fn disconnected(&mut self, ctl: &mut Ctl<'_>, why: Failure) -> Step {
        let (handshaking, raw, mid_message) = match &self.phase {
            Phase::Engine(e) => (e.is_handshaking(), e.is_raw(), e.mid_message_out()),
            _ => (false, false, false),
        };
        // ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED: a peer that drops or never answers the
        // handshake is not reconnected to (libzmq treats it as a protocol error).
        let mut stop_handshake = false;
        match &why {
            // Raised where libzmq detects it; errors without an event raise none.
            Failure::Protocol(e) => {
                if let Some((event, value)) = e.monitor_event() {
                    self.event(event, value);
                }
            }
            Failure::Timeout if handshaking => {
                self.event(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, libc::EAGAIN as u64);
                stop_handshake = true;
            }
            // libzmq's raw engine has no mechanism, and a ZMTP 1.0/2.0 peer never did a
            // mechanism handshake: to libzmq such a connection that breaks failed it.
            Failure::Io(errno) if handshaking || raw || self.legacy_peer => {
                self.event(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, *errno as u64);
                stop_handshake = true;
            }
            _ => {}
        }
        stop_handshake &= self.link.opts.reconnect_stop & ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED != 0;
        if raw && self.link.opts.stream_notify {
            self.inbound.notify();
        }
        if !handshaking && !raw && self.is_connected() {
            self.notify_lost();
        }
        self.drop_connection(ctl);
        self.zap = None;
        self.legacy_peer = false;
        self.heartbeat_at = None;
        self.event(ZMQ_EVENT_DISCONNECTED, self.fd as u64);
        self.inbound.drop_partial();
        // A new round of connecting: libzmq's next connecter names the address as resolved.
        self.ev_local.clear();
        if let Some(r) = self.resolved_remote.take() {
            self.ev_remote = r;
        }
        // After a protocol error libzmq ends a connecter's session: no reconnect.
        let reconnect = matches!(self.origin, Origin::Connect { .. })
            && (!self.closing || self.linger_pending)
            && !matches!(why, Failure::Protocol(_))
            && !stop_handshake;
        if !reconnect {
            if stop_handshake && matches!(self.origin, Origin::Connect { .. }) {
                self.give_up();
            }
            return Step::Close;
        }
        if let Some(pipe) = &mut self.inbound.pipe {
            // Drop the rest of a message half sent to the old peer.
            let mut more = mid_message;
            while more {
                match pipe.read() {
                    Some(m) => more = m.more(),
                    None => break,
                }
            }
            if self.link.opts.immediate {
                if let Some(mut p) = self.inbound.pipe.take() {
                    p.terminate(false);
                }
                self.routing_id_sent = false;
            }
        }
        self.schedule_reconnect(ctl)
    }
}

impl IoObject for Session {
    /// Adopted by the reactor: an accepted connection starts its handshake; a connecter
    /// connects.
    fn register(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let reactor = ctl.shared.map(|r| (r.clone(), ctl.token));
        let direct = Arc::new(Direct::new(ctl.mailbox.clone(), reactor));
        self.direct = Some(direct.clone());
        if let Some(p) = &mut self.inbound.pipe {
            p.attach_to(direct);
            ctl.pipes.push(p.id);
            // The socket may have closed its end before we attached: its PipeTerm went
            // nowhere, and lingering waits for it.
            if p.peer_closed_early() {
                p.peer_terminated();
            }
        }
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Accepted(stream) => self.begin(ctl, stream),
            Phase::Idle if matches!(self.origin, Origin::Connect { .. }) => self.start_connect(ctl),
            other => {
                self.phase = other;
                Step::Continue
            }
        }
    }

    /// Readiness from the reactor.
    fn resume(&mut self, ctl: &mut Ctl<'_>) -> Step {
        self.reclaim();
        self.drive(ctl)
    }

    fn ready(&mut self, ctl: &mut Ctl<'_>, readable: bool, writable: bool, hup: bool) -> Step {
        self.reclaim();
        match &mut self.phase {
            Phase::Connecting(_) => self.connect_done(ctl),
            Phase::Socks(..) => self.socks_progress(ctl),
            Phase::Engine(e) => {
                e.ready(readable, writable, hup);
                self.drive(ctl)
            }
            _ => Step::Continue,
        }
    }

    /// A pipe command routed to this session.
    fn pipe_command(&mut self, ctl: &mut Ctl<'_>, cmd: Command) -> Step {
        self.reclaim();
        if let Command::ActivateRead { pipe } | Command::PipeTerm { pipe } = cmd {
            if self.zap.as_ref().is_some_and(|z| z.owns(pipe)) {
                return match cmd {
                    Command::ActivateRead { .. } => self.zap_activated(ctl),
                    // The handler closed without answering: the handshake time-out decides.
                    _ => Step::Continue,
                };
            }
        }
        let Some(pipe) = &mut self.inbound.pipe else { return Step::Continue };
        let ours = match cmd {
            Command::ActivateRead { pipe: id }
            | Command::ActivateWrite { pipe: id }
            | Command::PipeTerm { pipe: id } => id == pipe.id,
            _ => false,
        };
        if !ours {
            return Step::Continue;
        }
        match cmd {
            Command::ActivateRead { .. } => {
                pipe.activate_read();
            }
            Command::ActivateWrite { .. } => {
                pipe.activate_write();
            }
            Command::PipeTerm { .. } => {
                // The socket is done with this connection (close, disconnect, or a STREAM's
                // empty message): write what it sent, then go. Not connected yet, queued
                // messages wait for the socket's linger (the CloseSocket/CloseEndpoint that
                // follows decides).
                let finished = pipe.peer_terminated();
                self.closing = true;
                if !self.is_active() && finished {
                    return Step::Close;
                }
            }
            _ => {}
        }
        self.drive(ctl)
    }

    fn timer(&mut self, ctl: &mut Ctl<'_>, id: TimerId) -> Step {
        self.reclaim();
        match id {
            timer::RECONNECT => {
                if matches!(self.phase, Phase::Idle) && (!self.closing || self.linger_pending) {
                    return self.start_connect(ctl);
                }
                Step::Continue
            }
            timer::CONNECT_TIMEOUT => {
                if matches!(self.phase, Phase::Connecting(_)) {
                    self.drop_connection(ctl);
                    self.event(ZMQ_EVENT_CLOSED, self.fd as u64);
                    return self.schedule_reconnect(ctl);
                }
                Step::Continue
            }
            timer::HANDSHAKE => match &self.phase {
                Phase::Engine(e) if e.is_handshaking() => self.disconnected(ctl, Failure::Timeout),
                _ => Step::Continue,
            },
            timer::LINGER => Step::Close,
            timer::HEARTBEAT => {
                self.heartbeat_at = None;
                if !self.is_connected() {
                    return Step::Continue;
                }
                match self.heartbeat(ctl) {
                    Some(f) => self.disconnected(ctl, f),
                    None => self.drive(ctl),
                }
            }
            _ => Step::Continue,
        }
    }

    /// The socket closed, or unbound/disconnected this endpoint.
    fn close(&mut self, ctl: &mut Ctl<'_>, linger: i32) -> Step {
        self.reclaim();
        self.closing = true;
        if matches!(self.phase, Phase::Idle) && matches!(self.origin, Origin::Connect { .. }) {
            // Between attempts: libzmq's connecter makes its pending attempt, which closes
            // (CLOSED) before the session ends; a monitor waiting for CLOSED gets it here too.
            if self.fd >= 0 {
                self.event(ZMQ_EVENT_CLOSED, self.fd as u64);
            }
        }
        if linger == 0 {
            return Step::Close;
        }
        if !self.is_active() {
            // Not connected: messages queued for this peer wait for a connection (libzmq keeps
            // connecting while lingering); with none queued there is nothing to wait for.
            let queued = self.inbound.pipe.as_mut().is_some_and(|p| p.check_read());
            if !queued {
                return Step::Close;
            }
        }
        self.linger_pending = true;
        if linger > 0 {
            let when = Instant::now() + Duration::from_millis(linger as u64);
            ctl.timers.push((when, timer::LINGER));
        }
        if let Some(p) = &mut self.inbound.pipe {
            p.terminate(false);
            // Our side stays readable: whatever the socket queued is still sent.
        }
        self.drive(ctl)
    }

    fn socket_id(&self) -> u64 {
        self.link.id
    }

    fn has_endpoint(&self, endpoint: &str) -> bool {
        self.endpoint == endpoint
    }

    fn deregister(&mut self, registry: &Registry) {
        self.reclaim();
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Connecting(mut s) | Phase::Accepted(mut s) | Phase::Socks(mut s, _) => {
                let _ = registry.deregister(s.source());
            }
            Phase::Engine(mut e) => e.deregister(registry),
            Phase::Idle | Phase::Lent => {}
        }
        if let Some(mut p) = self.inbound.pipe.take() {
            p.terminate(false);
        }
    }

    /// A bug closed this connection: the monitor hears of it as a disconnection.
    fn aborted(&mut self) {
        self.reclaim();
        if self.is_connected() {
            self.event(ZMQ_EVENT_DISCONNECTED, self.fd as u64);
        }
    }
}

/// The address a SOCKS request names: the zmq_connect address after `tcp://`, whole (libzmq
/// hands the proxy its text, source part included).
fn socks_target(target: &Target) -> String {
    match target {
        Target::Tcp { addr, source: Some(src) } => format!("{src};{addr}"),
        Target::Tcp { addr, source: None } => addr.clone(),
        Target::Ipc(_) => String::new(),
    }
}
