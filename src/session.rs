//! Sessions: the I/O-thread side of a socket's network connections.
//!
//! A `Listener` accepts connections for a bound endpoint. A `Conn` is one connection: it
//! connects (and reconnects, for zmq_connect), runs the ZMTP handshake, then moves messages
//! between its pipe to the socket and the wire: decoded messages go into the pipe a whole
//! message at a time; messages from the pipe are encoded in batches. For zmq_connect the pipe
//! outlives connections, so messages queue while disconnected, as in libzmq.
//!
//! Raw sockets (STREAM, ROUTER_RAW) skip the handshake: plain bytes both ways through the
//! raw engine, with an empty message into the pipe when the connection comes up and when it
//! goes (ZMQ_STREAM_NOTIFY), as libzmq's raw engine does.
//!
//! A failure is reported as libzmq 4.3 reports it: a protocol error raises only the event it
//! carries (if any) and, on a connecter, ends the session for good (libzmq stops
//! reconnecting); a connection error or time-out during the handshake raises
//! HANDSHAKE_FAILED_NO_DETAIL with the errno (EPIPE for an orderly close), then DISCONNECTED.

#[path = "raw.rs"]
mod raw;

use crate::consts::*;
use crate::ctx::Ctx;
use crate::io::command::Command;
use crate::io::mailbox::Mailbox;
use crate::io::thread::{Ctl, Object};
use crate::monitor::MonitorSlot;
use crate::msg::{Metadata, Msg};
use crate::options::Options;
use crate::pipe::{pipe_pair, Pipe, PipeId};
use crate::socket::pattern::recv_routing_id;
use crate::transport::ipc::{self, IpcAddr};
use crate::transport::net::Backoff;
use crate::transport::tcp;
use crate::zmtp;
use mio::event::Source;
use mio::{Interest, Registry};
use raw::RawEngine;
use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Keeps a closed socket registered with its context until its last connection is done
/// (lingering), so zmq_ctx_term waits for them as libzmq does.
pub(crate) struct SocketToken {
    pub ctx: Arc<Ctx>,
    pub id: u64,
}

impl Drop for SocketToken {
    fn drop(&mut self) {
        self.ctx.unregister_socket(self.id);
    }
}

/// What an I/O object needs to know about its socket.
#[derive(Clone)]
pub(crate) struct SocketLink {
    pub id: u64,
    pub mailbox: Arc<Mailbox>,
    /// The socket's options when the endpoint was bound or connected.
    pub opts: Arc<Options>,
    pub monitor: Arc<MonitorSlot>,
    /// Held, never read: its drop lets the context forget the socket.
    #[allow(dead_code)]
    pub token: Arc<SocketToken>,
}

impl SocketLink {
    fn event(&self, event: i32, value: u64, endpoint: &str, remote: &str) {
        self.monitor.event(event, value, endpoint, remote);
    }
}

/// What the reactor should do with an object after an event.
pub(crate) enum Step {
    Continue,
    Close,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKind {
    Reconnect,
    ConnectTimeout,
    Handshake,
    Linger,
    Heartbeat,
}

// ---------------------------------------------------------------------------------------
// Streams

pub(crate) enum Stream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Stream {
    fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }
    fn source(&mut self) -> &mut dyn Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }
    /// The connection's endpoints as libzmq names them in events: (local, remote).
    fn names(&self) -> (String, String) {
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
    fn peer_address(&self) -> String {
        match self {
            Stream::Tcp(s) => s.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
            Stream::Unix(_) => String::new(),
        }
    }
    fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Stream::Tcp(s) => s.take_error(),
            Stream::Unix(s) => s.take_error(),
        }
    }
    fn is_connected(&self) -> bool {
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
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Listeners

pub(crate) enum ListenSock {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
}

/// Removes an ipc socket file (and the directory `ipc://*` made) when the listener goes.
pub(crate) struct IpcCleanup {
    pub path: PathBuf,
    pub dir: Option<PathBuf>,
}

impl IpcCleanup {
    /// Removes the file, then the directory (libzmq's order and its error).
    fn remove(&self) -> io::Result<()> {
        std::fs::remove_file(&self.path)?;
        if let Some(d) = &self.dir {
            std::fs::remove_dir(d)?;
        }
        Ok(())
    }
}

pub(crate) struct Listener {
    pub sock: ListenSock,
    pub link: SocketLink,
    /// The endpoint as bound (for unbind) and as resolved (for events and pipes).
    pub endpoint: String,
    pub resolved: String,
    /// Held, never read: its drop removes the socket file.
    #[allow(dead_code)]
    pub cleanup: Option<IpcCleanup>,
}

impl Listener {
    fn fd(&self) -> RawFd {
        match &self.sock {
            ListenSock::Tcp(l) => l.as_raw_fd(),
            ListenSock::Unix(l) => l.as_raw_fd(),
        }
    }

    pub(crate) fn register(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let r = match &mut self.sock {
            ListenSock::Tcp(l) => ctl.registry.register(l, ctl.token, Interest::READABLE),
            ListenSock::Unix(l) => ctl.registry.register(l, ctl.token, Interest::READABLE),
        };
        if r.is_err() {
            return Step::Close;
        }
        Step::Continue
    }

    pub(crate) fn deregister(&mut self, registry: &Registry) {
        let _ = match &mut self.sock {
            ListenSock::Tcp(l) => registry.deregister(l),
            ListenSock::Unix(l) => registry.deregister(l),
        };
        if let Some(c) = self.cleanup.take() {
            if let Err(e) = c.remove() {
                let code = e.raw_os_error().unwrap_or(libc::EIO) as u64;
                self.link.event(ZMQ_EVENT_CLOSE_FAILED, code, &self.resolved, "");
                return;
            }
        }
        self.link.event(ZMQ_EVENT_CLOSED, self.fd() as u64, &self.resolved, "");
    }

    pub(crate) fn socket_id(&self) -> u64 {
        self.link.id
    }

    pub(crate) fn owned_by(&self, socket_id: u64, endpoint: &str) -> bool {
        self.link.id == socket_id && (self.endpoint == endpoint || self.resolved == endpoint)
    }

    /// Accepts every pending connection.
    pub(crate) fn ready(&mut self, ctl: &mut Ctl<'_>) -> Step {
        loop {
            let accepted = match &self.sock {
                ListenSock::Tcp(l) => l.accept().map(|(s, addr)| (Stream::Tcp(s), Some(addr))),
                ListenSock::Unix(l) => l.accept().map(|(s, _)| (Stream::Unix(s), None)),
            };
            match accepted {
                Ok((stream, addr)) => {
                    if let (Some(addr), false) =
                        (addr, self.link.opts.tcp_accept_filters.is_empty())
                    {
                        if !self.link.opts.tcp_accept_filters.iter().any(|f| f.matches(&addr.ip()))
                        {
                            // libzmq closes it and reports the accept as failed.
                            let code = libc::EAGAIN as u64;
                            self.link.event(ZMQ_EVENT_ACCEPT_FAILED, code, &self.resolved, "");
                            continue;
                        }
                    }
                    if let Stream::Tcp(s) = &stream {
                        tcp::tune(socket2::SockRef::from(s), &self.link.opts);
                    }
                    let conn = Conn::accepted(self.link.clone(), self.resolved.clone(), stream);
                    ctl.spawn.push(Object::Conn(Box::new(conn)));
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
}

// ---------------------------------------------------------------------------------------
// Connections

/// Where to connect.
pub(crate) enum Target {
    Tcp { addr: String, source: Option<String> },
    Ipc(IpcAddr),
}

/// A zmq_connect handed to an I/O thread.
pub(crate) struct ConnectSpec {
    pub link: SocketLink,
    pub endpoint: String,
    pub target: Target,
    /// The session's end of the socket's pipe; None with ZMQ_IMMEDIATE (made on connect).
    pub pipe: Option<Pipe>,
}

enum Origin {
    Accept,
    Connect { target: Target, backoff: Backoff, connected_before: bool },
}

enum Phase {
    /// Not connected: waiting for the reconnect timer (or just created).
    Idle,
    Connecting(Stream),
    /// Accepted, waiting for the reactor to adopt it.
    Accepted(Stream),
    Handshake(Stream, Box<zmtp::Handshake>),
    Active(Stream, Codec),
    /// Closing for good.
    Done,
}

/// What turns messages into bytes and back on an established connection.
enum Codec {
    Zmtp(Box<zmtp::Engine>),
    Raw(Box<RawEngine>),
}

impl Codec {
    fn has_output(&self) -> bool {
        match self {
            Codec::Zmtp(e) => e.has_output(),
            Codec::Raw(r) => r.has_output(),
        }
    }

    fn buffered(&self) -> usize {
        match self {
            Codec::Zmtp(e) => e.buffered(),
            Codec::Raw(r) => r.buffered(),
        }
    }

    fn encode(&mut self, msg: Msg) {
        match self {
            Codec::Zmtp(e) => e.encode(msg),
            Codec::Raw(r) => r.encode(msg),
        }
    }

    /// Writes as much queued output as `stream` takes in one call.
    fn write_to(&mut self, stream: &mut Stream) -> io::Result<usize> {
        let n = match self {
            Codec::Zmtp(e) => {
                let slices = e.io_slices();
                stream.write_vectored(&slices)?
            }
            Codec::Raw(r) => {
                let mut slices = [IoSlice::new(&[]); 32];
                let k = r.io_slices(&mut slices);
                stream.write_vectored(&slices[..k])?
            }
        };
        match self {
            Codec::Zmtp(e) => e.advance(n),
            Codec::Raw(r) => r.advance(n),
        }
        Ok(n)
    }
}

/// Why a connection ended.
pub(crate) enum Failure {
    /// Malformed or refused input: the connection (and a connecter's session) is over.
    Protocol(zmtp::ZmtpError),
    /// The handshake or the heartbeat timed out.
    Timeout,
    /// The connection broke: the errno (EPIPE for an orderly close by the peer).
    Io(i32),
}

impl Failure {
    fn io(e: &io::Error) -> Failure {
        Failure::Io(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

/// ZMTP 3 greeting size: a v3 peer has told its mechanism once this much has arrived.
const GREETING_SIZE: usize = 64;

pub(crate) struct Conn {
    link: SocketLink,
    endpoint: String,
    origin: Origin,
    phase: Phase,
    pipe: Option<Pipe>,
    /// Pipe ids this connection has owned (to forget their routing when it closes).
    pipe_ids: Vec<PipeId>,
    routing_id_sent: bool,
    /// The socket ended its side (close, disconnect, unbind): send what is left and go.
    closing: bool,
    /// Whole decoded messages waiting for room in the pipe.
    pending_in: VecDeque<Vec<Msg>>,
    /// Parts of a message still arriving.
    partial_in: Vec<Msg>,
    /// Scratch for the frames one read decodes into.
    frames: Vec<zmtp::Frame>,
    /// The last part read from the pipe had MORE set.
    out_more: bool,
    read_ready: bool,
    write_ready: bool,
    metadata: Option<Arc<Metadata>>,
    fd: RawFd,
    peer_address: String,
    registered: bool,
    /// For a socket needing a mechanism we lack: the peer's greeting bytes so far, and the
    /// first of them, to refuse the peer where libzmq would stop.
    greeting_in: usize,
    greeting_head: [u8; 11],
    /// The endpoints monitor events name (libzmq's endpoint pair): for a connect, none and
    /// the address connected to until connected, then the local address too.
    ev_local: String,
    ev_remote: String,
    /// A connect's address as last resolved: libzmq's events name it after a reconnection.
    resolved_remote: Option<String>,
    /// Closing, but queued messages still wait for a connection (linger).
    linger_pending: bool,
}

impl Conn {
    fn new(link: SocketLink, endpoint: String, origin: Origin) -> Conn {
        Conn {
            link,
            endpoint,
            origin,
            phase: Phase::Idle,
            pipe: None,
            pipe_ids: Vec::new(),
            routing_id_sent: false,
            closing: false,
            pending_in: VecDeque::new(),
            partial_in: Vec::new(),
            frames: Vec::new(),
            out_more: false,
            read_ready: false,
            write_ready: false,
            metadata: None,
            fd: -1,
            peer_address: String::new(),
            registered: false,
            greeting_in: 0,
            greeting_head: [0; 11],
            ev_local: String::new(),
            ev_remote: String::new(),
            resolved_remote: None,
            linger_pending: false,
        }
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

    /// A connection a listener accepted (ACCEPTED names its endpoints).
    fn accepted(link: SocketLink, endpoint: String, stream: Stream) -> Conn {
        let mut c = Conn::new(link, endpoint, Origin::Accept);
        (c.ev_local, c.ev_remote) = stream.names();
        c.event(ZMQ_EVENT_ACCEPTED, stream.fd() as u64);
        c.phase = Phase::Accepted(stream);
        c
    }

    /// Plain bytes, no ZMTP: STREAM sockets and ROUTER_RAW.
    fn is_raw(&self) -> bool {
        self.link.opts.raw_socket
    }

    /// Only NULL is built. A socket set up for PLAIN or CURVE must not fall back to it: its
    /// connections fail as they would between libzmq and a peer without that mechanism. We
    /// announce NULL (all we speak), so a libzmq peer reports MECHANISM_MISMATCH too, and
    /// we fail with MECHANISM_MISMATCH once the peer's greeting is in (a ZMTP 1.0/2.0 peer
    /// is refused as libzmq refuses one when security is on: no event).
    fn mechanism_unsupported(&self) -> bool {
        self.link.opts.mechanism != ZMQ_NULL
    }

    pub(crate) fn connecter(spec: ConnectSpec) -> Conn {
        let backoff = Backoff::new(&spec.link.opts);
        let mut c = Conn::new(
            spec.link,
            spec.endpoint,
            Origin::Connect { target: spec.target, backoff, connected_before: false },
        );
        c.ev_remote = c.endpoint.clone();
        c.pipe = spec.pipe;
        c
    }

    fn handshake(&self) -> zmtp::Handshake {
        let o = &self.link.opts;
        zmtp::Handshake::new(zmtp::HandshakeConfig {
            socket_type: o.socket_type,
            routing_id: o.routing_id.clone(),
            as_server: o.as_server,
            metadata: o
                .metadata
                .iter()
                .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.clone()))
                .collect(),
            max_msg_size: o.maxmsgsize,
            mechanism: zmtp::MechanismConfig::Null,
            zap_enabled: !o.zap_domain.is_empty(),
            in_batch_size: o.in_batch_size.max(1) as usize,
            out_batch_size: o.out_batch_size.max(1) as usize,
            heartbeat: zmtp::HeartbeatConfig {
                ivl_ms: o.heartbeat_ivl,
                ttl_deciseconds: o.heartbeat_ttl,
                timeout_ms: o.heartbeat_timeout,
            },
        })
    }

    pub(crate) fn socket_id(&self) -> u64 {
        self.link.id
    }

    pub(crate) fn owned_by(&self, socket_id: u64, endpoint: &str) -> bool {
        self.link.id == socket_id && self.endpoint == endpoint
    }

    pub(crate) fn pipe_ids(&self) -> Vec<PipeId> {
        self.pipe_ids.clone()
    }

    fn stream(&mut self) -> Option<&mut Stream> {
        match &mut self.phase {
            Phase::Connecting(s)
            | Phase::Accepted(s)
            | Phase::Handshake(s, _)
            | Phase::Active(s, _) => Some(s),
            _ => None,
        }
    }

    /// Called once when the reactor adopts this connection.
    pub(crate) fn register(&mut self, ctl: &mut Ctl<'_>) -> Step {
        if let Some(p) = &mut self.pipe {
            p.attach_to(ctl.mailbox.clone());
            ctl.pipes.push(p.id);
            self.pipe_ids.push(p.id);
            // The socket may have closed its end before we attached: its PipeTerm went
            // nowhere, and lingering waits for it.
            if p.peer_closed_early() {
                p.peer_terminated();
            }
        }
        if matches!(self.phase, Phase::Accepted(_)) {
            return self.start_accepted(ctl);
        }
        Step::Continue
    }

    fn start_accepted(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let Phase::Accepted(mut stream) = std::mem::replace(&mut self.phase, Phase::Idle) else {
            return Step::Continue;
        };
        self.fd = stream.fd();
        let interest = Interest::READABLE | Interest::WRITABLE;
        if ctl.registry.register(stream.source(), ctl.token, interest).is_err() {
            self.event(ZMQ_EVENT_DISCONNECTED, self.fd as u64);
            return Step::Close;
        }
        self.registered = true;
        self.begin(ctl, stream)
    }

    /// The connection is up (and registered): start the handshake, or for a raw socket,
    /// go straight to traffic.
    fn begin(&mut self, ctl: &mut Ctl<'_>, stream: Stream) -> Step {
        self.read_ready = true;
        self.write_ready = true;
        self.greeting_in = 0;
        self.greeting_head = [0; 11];
        if self.is_raw() {
            let raw = RawEngine::new(self.link.opts.in_batch_size.max(1) as usize);
            self.phase = Phase::Active(stream, Codec::Raw(Box::new(raw)));
            self.raw_established(ctl);
        } else {
            self.phase = Phase::Handshake(stream, Box::new(self.handshake()));
            if self.link.opts.handshake_ivl > 0 {
                let ivl = Duration::from_millis(self.link.opts.handshake_ivl as u64);
                ctl.timers.push((Instant::now() + ivl, TimerKind::Handshake));
            }
        }
        self.drive(ctl)
    }

    pub(crate) fn deregister(&mut self, registry: &Registry) {
        let registered = self.registered;
        if let Some(s) = self.stream() {
            if registered {
                let _ = registry.deregister(s.source());
            }
        }
        self.registered = false;
        self.phase = Phase::Done;
        if let Some(mut p) = self.pipe.take() {
            p.terminate(false);
        }
    }

    /// Starts (or restarts) an outgoing connection, as libzmq's connecters do: CONNECT_DELAYED
    /// while it is in progress, straight on when it completed at once (ipc); a failed attempt
    /// closes its socket (CLOSED) and waits to retry, unless ZMQ_RECONNECT_STOP says stop.
    pub(crate) fn start_connect(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let Origin::Connect { target, .. } = &self.origin else { return Step::Continue };
        let started = match target {
            Target::Tcp { addr, source } => {
                let full = match source {
                    Some(src) => format!("{src};{addr}"),
                    None => addr.clone(),
                };
                match tcp::start_connect(&full, &self.link.opts) {
                    Ok((s, done, dst)) => {
                        self.resolved_remote = Some(tcp::endpoint_string(&dst));
                        Ok((Stream::Tcp(s), done))
                    }
                    Err((e, sock)) => Err((e, sock.map(|s| s.as_raw_fd()))),
                }
            }
            Target::Ipc(a) => match ipc::start_connect(a) {
                Ok((s, done)) => Ok((Stream::Unix(s), done)),
                Err((e, sock)) => Err((e, sock.map(|s| s.as_raw_fd()))),
            },
        };
        let (stream, done) = match started {
            Ok(v) => v,
            Err((e, fd)) => {
                if let Some(fd) = fd {
                    self.event(ZMQ_EVENT_CLOSED, fd as u64);
                }
                return self.connect_failed(ctl, e.0);
            }
        };
        let token = ctl.token;
        self.fd = stream.fd();
        self.phase = Phase::Connecting(stream);
        let Some(stream) = self.stream() else { return Step::Continue };
        self.registered = ctl
            .registry
            .register(stream.source(), token, Interest::READABLE | Interest::WRITABLE)
            .is_ok();
        if done {
            return self.connect_done(ctl);
        }
        self.event(ZMQ_EVENT_CONNECT_DELAYED, libc::EINPROGRESS as u64);
        if self.link.opts.connect_timeout > 0 {
            let when =
                Instant::now() + Duration::from_millis(self.link.opts.connect_timeout as u64);
            ctl.timers.push((when, TimerKind::ConnectTimeout));
        }
        Step::Continue
    }

    /// A connection attempt failed with `errno` (its socket already reported CLOSED).
    fn connect_failed(&mut self, ctl: &mut Ctl<'_>, errno: i32) -> Step {
        if errno == libc::ECONNREFUSED
            && self.link.opts.reconnect_stop & ZMQ_RECONNECT_STOP_CONN_REFUSED != 0
        {
            return Step::Close;
        }
        self.schedule_reconnect(ctl)
    }

    /// An outgoing connection completed (or failed).
    fn connect_done(&mut self, ctl: &mut Ctl<'_>) -> Step {
        let Phase::Connecting(stream) = &self.phase else { return Step::Continue };
        let error = match stream.take_error() {
            Ok(None) => None,
            Ok(Some(e)) | Err(e) => Some(e.raw_os_error().unwrap_or(libc::ECONNREFUSED)),
        };
        if error.is_none() && !stream.is_connected() {
            return Step::Continue; // spurious wake-up: still in progress
        }
        if let Some(errno) = error {
            let fd = stream.fd();
            self.drop_stream(ctl);
            self.event(ZMQ_EVENT_CLOSED, fd as u64);
            return self.connect_failed(ctl, errno);
        }
        if let Stream::Tcp(s) = stream {
            tcp::tune(socket2::SockRef::from(s), &self.link.opts);
        }
        self.ev_local = stream.names().0;
        self.event(ZMQ_EVENT_CONNECTED, self.fd as u64);
        let Phase::Connecting(stream) = std::mem::replace(&mut self.phase, Phase::Idle) else {
            return Step::Continue;
        };
        if let Origin::Connect { backoff, .. } = &mut self.origin {
            backoff.reset(&self.link.opts);
        }
        self.begin(ctl, stream)
    }

    fn drop_stream(&mut self, ctl: &mut Ctl<'_>) {
        let registered = self.registered;
        if let Some(s) = self.stream() {
            if registered {
                let _ = ctl.registry.deregister(s.source());
            }
        }
        self.registered = false;
        self.phase = Phase::Idle;
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
        ctl.timers.push((Instant::now() + Duration::from_millis(ivl as u64), TimerKind::Reconnect));
        Step::Continue
    }

    /// Readiness from the reactor.
    pub(crate) fn ready(&mut self, ctl: &mut Ctl<'_>, readable: bool, writable: bool) -> Step {
        if matches!(self.phase, Phase::Connecting(_)) {
            return self.connect_done(ctl);
        }
        self.read_ready |= readable;
        self.write_ready |= writable;
        self.drive(ctl)
    }

    /// Makes all the progress possible now.
    fn drive(&mut self, ctl: &mut Ctl<'_>) -> Step {
        loop {
            match &mut self.phase {
                Phase::Handshake(..) => match self.handshake_io(ctl) {
                    Ok(true) => continue, // established: fall into the active pump
                    Ok(false) => return Step::Continue,
                    Err(e) => return self.disconnected(ctl, e),
                },
                Phase::Active(..) => {
                    return match self.pump() {
                        Ok(step) => step,
                        Err(e) => self.disconnected(ctl, e),
                    };
                }
                _ => return Step::Continue,
            }
        }
    }

    /// Runs the handshake as far as the socket allows. Ok(true) once established.
    fn handshake_io(&mut self, ctl: &mut Ctl<'_>) -> Result<bool, Failure> {
        let refuse = self.mechanism_unsupported();
        let Phase::Handshake(stream, hs) = &mut self.phase else { return Ok(false) };
        loop {
            // Send what the handshake has to say.
            while self.write_ready && !hs.output().is_empty() {
                match stream.write(hs.output()) {
                    Ok(n) => hs.advance_output(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.write_ready = false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(Failure::io(&e)),
                }
            }
            if hs.is_done() {
                // Unsent handshake bytes move into the encoder with `finish`.
                break;
            }
            if !self.read_ready {
                return Ok(false);
            }
            let mut buf = [0u8; 512];
            let want = hs.wanted().clamp(1, buf.len());
            match stream.read(&mut buf[..want]) {
                Ok(0) => return Err(Failure::Io(libc::EPIPE)),
                Ok(n) => {
                    let used = hs.input(&buf[..n]).map_err(Failure::Protocol)?;
                    debug_assert_eq!(used, n, "handshake asked for exactly what it needs");
                    if refuse {
                        refuse_peer(&mut self.greeting_head, &mut self.greeting_in, &buf[..n])?;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.read_ready = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Failure::io(&e)),
            }
        }
        self.established(ctl);
        Ok(true)
    }

    /// The properties every message from this connection carries: the peer's (from its
    /// handshake), its address, and our fd (ZMQ_SRCFD).
    fn set_metadata(&mut self, peer: &[(String, Vec<u8>)]) {
        let mut meta = Metadata::new();
        for (k, v) in peer {
            meta.insert(k.as_bytes(), v);
        }
        if !self.peer_address.is_empty() {
            meta.insert(b"Peer-Address", self.peer_address.as_bytes());
        }
        meta.insert(b"__fd", self.fd.to_string().as_bytes());
        self.metadata = Some(Arc::new(meta));
    }

    /// Creates the pipe to the socket (accepted connections, ZMQ_IMMEDIATE) and hands the
    /// socket its end, with the peer's routing id already in it for sockets that take one.
    fn new_pipe(&mut self, ctl: &mut Ctl<'_>, routing_id: &[u8]) {
        let o = &self.link.opts;
        let (mut mine, mut theirs) = pipe_pair(
            Some(ctl.mailbox.clone()),
            None,
            o.rcvhwm.max(0) as usize,
            o.sndhwm.max(0) as usize,
        );
        if o.conflate
            && matches!(o.socket_type, ZMQ_DEALER | ZMQ_PULL | ZMQ_PUSH | ZMQ_PUB | ZMQ_SUB)
        {
            mine.set_conflate();
        }
        theirs.endpoint = Some(self.endpoint.clone());
        ctl.pipes.push(mine.id);
        self.pipe_ids.push(mine.id);
        self.pipe = Some(mine);
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
        if let Some(pipe) = &mut self.pipe {
            let mut m = Msg::from_slice(id);
            m.set_flags(Msg::ROUTING_ID);
            let _ = pipe.write(m);
            pipe.flush();
            self.routing_id_sent = true;
        }
    }

    /// The handshake finished: set up the engine, the pipe, the metadata.
    fn established(&mut self, ctl: &mut Ctl<'_>) {
        let Phase::Handshake(stream, hs) = std::mem::replace(&mut self.phase, Phase::Idle) else {
            return;
        };
        let est = hs.finish();
        self.peer_address = stream.peer_address();
        self.set_metadata(&est.peer_metadata);
        let reconnected = match &mut self.origin {
            Origin::Connect { connected_before, .. } => std::mem::replace(connected_before, true),
            Origin::Accept => false,
        };
        let peer_id = est.peer_routing_id.clone().unwrap_or_default();
        if self.pipe.is_none() {
            self.new_pipe(ctl, &peer_id);
        } else {
            self.send_routing_id(&peer_id);
            if let (true, Some(pipe)) = (reconnected, &self.pipe) {
                // Subscriptions and the like must be sent again to the new peer.
                self.link.mailbox.send(Command::Hiccup { pipe: pipe.peer_id() });
            }
        }
        self.event(ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0);
        let mut engine = Box::new(est.engine);
        if let zmtp::HeartbeatAction::Next(when) = engine.heartbeat(Instant::now()) {
            ctl.timers.push((when, TimerKind::Heartbeat));
        }
        self.phase = Phase::Active(stream, Codec::Zmtp(engine));
    }

    /// A raw connection is up: the pipe exists from now on (if not since zmq_connect), and
    /// the socket hears of the peer (libzmq raises no HANDSHAKE_SUCCEEDED for it).
    fn raw_established(&mut self, ctl: &mut Ctl<'_>) {
        let Phase::Active(stream, _) = &self.phase else { return };
        self.peer_address = stream.peer_address();
        self.set_metadata(&[]);
        if self.pipe.is_none() {
            self.new_pipe(ctl, &[]);
        } else {
            self.send_routing_id(&[]);
        }
        self.notify();
    }

    /// ZMQ_STREAM_NOTIFY: an empty message tells the socket a raw peer came or went.
    fn notify(&mut self) {
        if !self.link.opts.stream_notify {
            return;
        }
        let mut m = Msg::new();
        m.set_metadata(self.metadata.clone());
        self.pending_in.push_back(vec![m]);
        deliver(&mut self.pipe, &mut self.pending_in);
    }

    /// Moves messages both ways until nothing more can move.
    fn pump(&mut self) -> Result<Step, Failure> {
        loop {
            let a = self.pump_in()?;
            let b = self.pump_out()?;
            if self.closing && self.out_drained() {
                return Ok(Step::Close);
            }
            if !a && !b {
                return Ok(Step::Continue);
            }
        }
    }

    /// True once the socket's side is gone and everything it sent has been written.
    fn out_drained(&mut self) -> bool {
        let Phase::Active(_, codec) = &self.phase else { return true };
        if codec.has_output() {
            return false;
        }
        match &mut self.pipe {
            None => true,
            Some(p) => p.peer_gone() && !p.check_read(),
        }
    }

    /// Delivers queued messages, then reads and decodes. Ok(progress).
    fn pump_in(&mut self) -> Result<bool, Failure> {
        // Messages already decoded go first, in order.
        if !deliver(&mut self.pipe, &mut self.pending_in) {
            return Ok(false);
        }
        match &self.phase {
            Phase::Active(_, Codec::Raw(_)) => self.pump_in_raw(),
            Phase::Active(_, Codec::Zmtp(_)) => self.pump_in_zmtp(),
            _ => Ok(false),
        }
    }

    fn pump_in_zmtp(&mut self) -> Result<bool, Failure> {
        let mut progress = false;
        let Phase::Active(stream, Codec::Zmtp(engine)) = &mut self.phase else { return Ok(false) };
        while self.read_ready && self.pending_in.is_empty() {
            let buf = engine.read_buf();
            match stream.read(buf) {
                Ok(0) => return Err(Failure::Io(libc::EPIPE)),
                Ok(n) => {
                    progress = true;
                    // Reused across reads: no allocation per batch.
                    let mut frames = std::mem::take(&mut self.frames);
                    frames.clear();
                    engine.filled(n, Instant::now(), &mut frames).map_err(Failure::Protocol)?;
                    let mut wrote = false;
                    let mut peer_error = false;
                    for f in frames.drain(..) {
                        match f {
                            zmtp::Frame::Message(mut m) => {
                                if let Some(meta) = &self.metadata {
                                    m.set_metadata(Some(meta.clone()));
                                }
                                let more = m.more();
                                // Fast path: a single-part message with nothing queued ahead
                                // goes straight into the pipe (no per-message allocation).
                                if !more && self.partial_in.is_empty() && self.pending_in.is_empty()
                                {
                                    if let Some(p) = &mut self.pipe {
                                        if p.check_write() {
                                            let _ = p.write(m);
                                            wrote = true;
                                        } else {
                                            self.pending_in.push_back(vec![m]);
                                        }
                                    }
                                    continue;
                                }
                                // Parts wait until their message is whole: a connection
                                // dying mid-message must not leave half of it in the pipe.
                                self.partial_in.push(m);
                                if !more {
                                    self.pending_in.push_back(std::mem::take(&mut self.partial_in));
                                }
                            }
                            // PING/PONG are handled by the engine; an ERROR ends the
                            // connection; anything else is ignored, as libzmq does.
                            zmtp::Frame::Command(zmtp::Command::Error(_)) => {
                                peer_error = true;
                                break;
                            }
                            zmtp::Frame::Command(_) => {}
                        }
                    }
                    frames.clear();
                    self.frames = frames;
                    if wrote {
                        if let Some(p) = &mut self.pipe {
                            p.flush();
                        }
                    }
                    if peer_error {
                        return Err(Failure::Protocol(zmtp::ZmtpError::proto("ERROR")));
                    }
                    if !deliver(&mut self.pipe, &mut self.pending_in) {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.read_ready = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Failure::io(&e)),
            }
        }
        Ok(progress)
    }

    /// Each read is one message, written straight into the pipe while it has room.
    fn pump_in_raw(&mut self) -> Result<bool, Failure> {
        let mut progress = false;
        let mut wrote = false;
        let Phase::Active(stream, Codec::Raw(raw)) = &mut self.phase else { return Ok(false) };
        let result = loop {
            if !self.read_ready || !self.pending_in.is_empty() {
                break Ok(progress);
            }
            match stream.read(raw.read_buf()) {
                Ok(0) => break Err(Failure::Io(libc::EPIPE)),
                Ok(n) => {
                    progress = true;
                    let mut m = raw.filled(n);
                    m.set_metadata(self.metadata.clone());
                    if let Some(p) = &mut self.pipe {
                        if p.check_write() {
                            let _ = p.write(m);
                            wrote = true;
                        } else {
                            self.pending_in.push_back(vec![m]);
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.read_ready = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(Failure::io(&e)),
            }
        };
        if wrote {
            if let Some(p) = &mut self.pipe {
                p.flush();
            }
        }
        result
    }

    /// Encodes messages from the pipe and writes them. Ok(progress).
    fn pump_out(&mut self) -> Result<bool, Failure> {
        let mut progress = false;
        let Phase::Active(stream, codec) = &mut self.phase else { return Ok(false) };
        let batch = self.link.opts.out_batch_size.max(1) as usize;
        loop {
            if !codec.has_output() {
                let Some(pipe) = &mut self.pipe else { break };
                let mut n = 0;
                while codec.buffered() < batch {
                    match pipe.read() {
                        Some(m) => {
                            self.out_more = m.more();
                            codec.encode(m);
                            n += 1;
                        }
                        None => break,
                    }
                }
                if n == 0 || !codec.has_output() {
                    break;
                }
            }
            if !self.write_ready {
                break;
            }
            match codec.write_to(stream) {
                Ok(0) => return Err(Failure::Io(libc::EPIPE)),
                Ok(_) => progress = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.write_ready = false;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Failure::io(&e)),
            }
        }
        Ok(progress)
    }

    /// A pipe command routed to this connection.
    pub(crate) fn pipe_command(&mut self, ctl: &mut Ctl<'_>, cmd: Command) -> Step {
        let Some(pipe) = &mut self.pipe else { return Step::Continue };
        match cmd {
            Command::ActivateRead { .. } => {
                pipe.activate_read();
            }
            Command::ActivateWrite { .. } => {
                pipe.activate_write();
            }
            Command::PipeTerm { .. } => {
                // The socket is done with this connection (close, disconnect, or a STREAM's
                // empty message): write what it sent, then go.
                // Not connected yet, queued messages wait for the socket's linger (the
                // CloseSocket/CloseEndpoint that follows decides).
                let finished = pipe.peer_terminated();
                self.closing = true;
                if !matches!(self.phase, Phase::Active(..)) && finished {
                    return Step::Close;
                }
            }
            _ => {}
        }
        self.drive(ctl)
    }

    /// The socket closed, or unbound/disconnected this endpoint.
    pub(crate) fn close(&mut self, ctl: &mut Ctl<'_>, linger: i32) -> Step {
        self.closing = true;
        if linger == 0 {
            return Step::Close;
        }
        if !matches!(self.phase, Phase::Active(..)) {
            // Not connected: messages queued for this peer wait for a connection (libzmq keeps
            // connecting while lingering); with none queued there is nothing to wait for.
            let queued = self.pipe.as_mut().is_some_and(|p| p.check_read());
            if !queued {
                return Step::Close;
            }
        }
        self.linger_pending = true;
        if linger > 0 {
            ctl.timers
                .push((Instant::now() + Duration::from_millis(linger as u64), TimerKind::Linger));
        }
        if let Some(p) = &mut self.pipe {
            p.terminate(false);
            // Our side stays readable: whatever the socket queued is still sent.
        }
        self.drive(ctl)
    }

    pub(crate) fn timer(&mut self, ctl: &mut Ctl<'_>, kind: TimerKind) -> Step {
        match kind {
            TimerKind::Reconnect => {
                if matches!(self.phase, Phase::Idle) && (!self.closing || self.linger_pending) {
                    return self.start_connect(ctl);
                }
                Step::Continue
            }
            TimerKind::ConnectTimeout => {
                if matches!(self.phase, Phase::Connecting(_)) {
                    let fd = self.fd;
                    self.drop_stream(ctl);
                    self.event(ZMQ_EVENT_CLOSED, fd as u64);
                    return self.schedule_reconnect(ctl);
                }
                Step::Continue
            }
            TimerKind::Handshake => {
                if matches!(self.phase, Phase::Handshake(..)) {
                    return self.disconnected(ctl, Failure::Timeout);
                }
                Step::Continue
            }
            TimerKind::Linger => Step::Close,
            TimerKind::Heartbeat => {
                let now = Instant::now();
                let Phase::Active(_, Codec::Zmtp(engine)) = &mut self.phase else {
                    return Step::Continue;
                };
                match engine.heartbeat(now) {
                    zmtp::HeartbeatAction::Expired => self.disconnected(ctl, Failure::Timeout),
                    zmtp::HeartbeatAction::Next(when) => {
                        ctl.timers.push((when, TimerKind::Heartbeat));
                        self.drive(ctl)
                    }
                    zmtp::HeartbeatAction::Idle => self.drive(ctl),
                }
            }
        }
    }

    /// The connection failed or ended: report, then reconnect (zmq_connect) or finish.
    fn disconnected(&mut self, ctl: &mut Ctl<'_>, why: Failure) -> Step {
        let handshaking = matches!(self.phase, Phase::Handshake(..));
        // libzmq's raw engine has no mechanism, so to libzmq every raw connection that
        // breaks failed its handshake.
        let raw = matches!(self.phase, Phase::Active(_, Codec::Raw(_)));
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
            Failure::Io(errno) if handshaking || raw => {
                self.event(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, *errno as u64);
                stop_handshake = true;
            }
            _ => {}
        }
        stop_handshake &= self.link.opts.reconnect_stop & ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED != 0;
        if raw {
            self.notify();
        }
        let fd = self.fd;
        self.drop_stream(ctl);
        self.event(ZMQ_EVENT_DISCONNECTED, fd as u64);
        self.partial_in.clear();
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
            return Step::Close;
        }
        if let Some(pipe) = &mut self.pipe {
            // Drop the rest of a message half sent to the old peer.
            while self.out_more {
                match pipe.read() {
                    Some(m) => self.out_more = m.more(),
                    None => break,
                }
            }
            self.out_more = false;
            if self.link.opts.immediate {
                if let Some(mut p) = self.pipe.take() {
                    p.terminate(false);
                }
                self.routing_id_sent = false;
            }
        }
        self.schedule_reconnect(ctl)
    }
}

/// For a socket set to a mechanism we lack: takes the peer's next greeting bytes and fails
/// where libzmq would stop talking to that peer. A ZMTP 1.0/2.0 peer (no 0xFF first, an even
/// 10th octet, or major version 0 or 1) is refused without an event, as libzmq refuses one
/// when security is on; a ZMTP 3 peer with MECHANISM_MISMATCH once its greeting is in.
fn refuse_peer(head: &mut [u8; 11], seen: &mut usize, bytes: &[u8]) -> Result<(), Failure> {
    for &b in bytes {
        if let Some(slot) = head.get_mut(*seen) {
            *slot = b;
        }
        *seen += 1;
        let old = match *seen {
            1 => head[0] != 0xff,
            10 => head[9] & 1 == 0,
            11 => head[10] < 2,
            _ => false,
        };
        if old {
            let e = zmtp::ZmtpError::proto("ZMTP 1.0/2.0 peer, but security is required");
            return Err(Failure::Protocol(e));
        }
    }
    if *seen >= GREETING_SIZE {
        return Err(Failure::Protocol(zmtp::ZmtpError::protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
            "mechanism not built",
        )));
    }
    Ok(())
}

/// Writes whole queued messages into the pipe; false if it is full (the rest waits for
/// ActivateWrite).
fn deliver(pipe: &mut Option<Pipe>, pending: &mut VecDeque<Vec<Msg>>) -> bool {
    let Some(pipe) = pipe else {
        pending.clear();
        return true;
    };
    let mut wrote = false;
    let mut ok = true;
    while let Some(parts) = pending.front_mut() {
        if !pipe.check_write() {
            ok = false;
            break;
        }
        for m in parts.drain(..) {
            // Only the first part can meet the HWM; the rest follow it.
            let _ = pipe.write(m);
        }
        pending.pop_front();
        wrote = true;
    }
    if wrote {
        pipe.flush();
    }
    ok
}
