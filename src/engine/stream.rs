//! The stream engine: one connected tcp/ipc stream, its ZMTP handshake and codec (or the
//! raw codec of STREAM sockets), and the batching between the wire and the session's pipe.

use super::inbound::Inbound;
use super::raw::RawEngine;
use super::Failure;
use crate::transport::stream::Stream;
use crate::zmtp;
use mio::{Interest, Registry, Token};
use std::io::{self, IoSlice, Read, Write};
use std::time::Instant;

/// What the session learns when the handshake completes.
pub(crate) struct Established {
    /// The peer's routing id (empty if it sent none).
    pub peer_routing_id: Vec<u8>,
    /// Every property the peer sent in its handshake, then User-Id and the ZAP handler's
    /// metadata.
    pub peer_metadata: Vec<(String, Vec<u8>)>,
    /// A ZMTP 1.0/2.0 peer: no security handshake took place (libzmq then reports the
    /// handshake as failed when the connection ends, never as succeeded).
    pub legacy: bool,
}

/// Where a handshake stands after `StreamEngine::handshake`.
pub(crate) enum HandshakeStep {
    /// Waiting for the peer (or for a ZAP verdict).
    Pending,
    /// The mechanism waits for ZAP: the session asks the handler (or decides without one)
    /// and answers with `zap_reply` / `zap_skip`.
    Zap(zmtp::ZapRequest),
    Done(Established),
}

enum State {
    Handshake(Box<zmtp::Handshake>),
    Zmtp(Box<zmtp::Engine>),
    Raw(Box<RawEngine>),
}

pub(crate) struct StreamEngine {
    stream: Stream,
    state: State,
    registered: bool,
    /// WRITABLE is part of the registration: only while output waits for room (see
    /// `sync_interest`).
    out_interest: bool,
    read_ready: bool,
    write_ready: bool,
    /// The peer has closed its end: read until EOF, even after a short read.
    hup: bool,
    /// The last part taken from the pipe had MORE set.
    out_more: bool,
    /// ZMQ_OUT_BATCH_SIZE: bytes encoded before a write.
    out_batch: usize,
    /// A protocol error found after messages that still wait for room in the pipe: it
    /// ends the connection once they are delivered, as libzmq (which stops decoding at a
    /// full pipe) only meets the bad frame after them.
    pending_error: Option<Failure>,
    /// Bytes this turn may still read plus write (`start_turn`).
    budget: usize,
    /// Bytes were read since the last direct send (`take_input_seen`): the credit that
    /// lets the next one go (see `session::direct`).
    input_seen: bool,
}

impl StreamEngine {
    fn new(stream: Stream, state: State, out_batch: usize) -> StreamEngine {
        StreamEngine {
            stream,
            state,
            registered: false,
            out_interest: false,
            read_ready: true,
            write_ready: true,
            hup: false,
            out_more: false,
            out_batch: out_batch.max(1),
            pending_error: None,
            budget: usize::MAX,
            input_seen: false,
        }
    }

    /// A ZMTP connection, starting with its handshake.
    pub(crate) fn zmtp(stream: Stream, hs: zmtp::Handshake, out_batch: usize) -> StreamEngine {
        StreamEngine::new(stream, State::Handshake(Box::new(hs)), out_batch)
    }

    /// A raw connection (STREAM, ROUTER_RAW): plain bytes both ways, no handshake.
    pub(crate) fn raw(stream: Stream, in_batch: usize, out_batch: usize) -> StreamEngine {
        StreamEngine::new(stream, State::Raw(Box::new(RawEngine::new(in_batch))), out_batch)
    }

    pub(crate) fn stream(&self) -> &Stream {
        &self.stream
    }

    pub(crate) fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(self.stream.source(), token, Interest::READABLE)?;
        self.registered = true;
        self.out_interest = false;
        Ok(())
    }

    /// Asks the reactor for writable events only while output waits for room. A unix
    /// socket signals room after every read its peer makes: registered for good, each
    /// message sent woke this I/O thread once more for nothing (and took the engine back
    /// from a direct send). Adding the interest with output waiting is safe with
    /// edge-triggered epoll: a socket writable by then is reported at once.
    pub(crate) fn sync_interest(&mut self, registry: &Registry, token: Token) {
        if !self.registered {
            return;
        }
        let waiting = !self.write_ready
            && match &self.state {
                State::Handshake(hs) => !hs.output().is_empty(),
                _ => self.has_output(),
            };
        if waiting == self.out_interest {
            return;
        }
        let interest =
            if waiting { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
        if registry.reregister(self.stream.source(), token, interest).is_ok() {
            self.out_interest = waiting;
        }
    }

    /// Quiet: the reactor reports nothing but a hang-up or an error (the descriptor is
    /// watched by the socket's thread, `session::direct`); back to READABLE otherwise,
    /// which reports bytes already waiting at once. A modification, not a removal and a
    /// new registration: half the cost, and nothing to allocate.
    pub(crate) fn set_quiet(
        &mut self,
        registry: &Registry,
        token: Token,
        quiet: bool,
    ) -> io::Result<()> {
        // PRIORITY (out-of-band data, which ZMTP never sends) is the one interest that
        // stays silent on a connection: an interest set cannot be empty.
        let interest = if quiet { Interest::PRIORITY } else { Interest::READABLE };
        registry.reregister(self.stream.source(), token, interest)?;
        self.out_interest = false;
        Ok(())
    }

    pub(crate) fn deregister(&mut self, registry: &Registry) {
        if std::mem::take(&mut self.registered) {
            let _ = registry.deregister(self.stream.source());
        }
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        matches!(self.state, State::Handshake(_))
    }

    pub(crate) fn is_raw(&self) -> bool {
        matches!(self.state, State::Raw(_))
    }

    /// Readiness from the reactor (edge-triggered: kept until an operation says EAGAIN, or
    /// comes back short).
    ///
    /// A read that returns less than it asked for has emptied the socket's queue, and a
    /// write that takes less than it was given has filled its buffer: with edge-triggered
    /// epoll, bytes (or room) arriving after that come with a new event, so the readiness
    /// is dropped there and the EAGAIN call that would only confirm it is saved (one
    /// syscall per message on a request-reply exchange). Except after the peer closed:
    /// its FIN may have been reported with the data, so reading goes on to EOF.
    pub(crate) fn ready(&mut self, readable: bool, writable: bool, hup: bool) {
        self.read_ready |= readable;
        self.write_ready |= writable;
        self.hup |= hup;
    }

    /// Queues `m` ahead of anything the pipe holds: ZMQ_HELLO_MSG, first on each connection.
    pub(crate) fn send_first(&mut self, m: crate::msg::Msg) {
        if let State::Zmtp(e) = &mut self.state {
            e.encode(m);
        }
    }

    /// The last message sent to this peer was cut off mid-way.
    pub(crate) fn mid_message_out(&self) -> bool {
        self.out_more
    }

    /// Runs the handshake as far as the stream allows; the outcome once it has just
    /// finished (the engine then carries messages).
    pub(crate) fn handshake(&mut self) -> Result<HandshakeStep, Failure> {
        let State::Handshake(hs) = &mut self.state else { return Ok(HandshakeStep::Pending) };
        loop {
            if let Some(req) = hs.zap_request() {
                return Ok(HandshakeStep::Zap(req));
            }
            // Send what the handshake has to say.
            while self.write_ready && !hs.output().is_empty() {
                match self.stream.write(hs.output()) {
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
                return Ok(HandshakeStep::Pending);
            }
            let mut buf = [0u8; 512];
            let want = hs.wanted().clamp(1, buf.len());
            match self.stream.read(&mut buf[..want]) {
                Ok(0) => return Err(Failure::Io(libc::EPIPE)),
                Ok(n) => {
                    let used = hs.input(&buf[..n]).map_err(Failure::Protocol)?;
                    debug_assert_eq!(used, n, "handshake asked for exactly what it needs");
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.read_ready = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Failure::io(&e)),
            }
        }
        let State::Handshake(hs) =
            std::mem::replace(&mut self.state, State::Raw(Box::new(RawEngine::new(1))))
        else {
            return Ok(HandshakeStep::Pending);
        };
        let est = hs.finish();
        let legacy = est.version < (3, 0);
        self.state = State::Zmtp(Box::new(est.engine));
        let mut peer_metadata = est.peer_metadata;
        for (k, v) in est.zap_properties {
            if !peer_metadata.iter().any(|(n, _)| *n == k) {
                peer_metadata.push((k, v));
            }
        }
        Ok(HandshakeStep::Done(Established {
            peer_routing_id: est.peer_routing_id.unwrap_or_default(),
            peer_metadata,
            legacy,
        }))
    }

    /// ZAP's verdict for the pending request. A refusal ends the connection; for 400 and
    /// 500 the ERROR command goes out first (as far as the socket takes it now).
    pub(crate) fn zap_reply(&mut self, reply: &zmtp::ZapReply) -> Result<(), Failure> {
        let State::Handshake(hs) = &mut self.state else { return Ok(()) };
        let r = hs.zap_reply(reply);
        self.settle(r)
    }

    /// No ZAP exchange: go on (`accept`) or fail as libzmq does without a handler.
    pub(crate) fn zap_skip(&mut self, accept: bool) -> Result<(), Failure> {
        let State::Handshake(hs) = &mut self.state else { return Ok(()) };
        let r = hs.zap_skip(accept);
        self.settle(r)
    }

    /// After a ZAP outcome: on failure, send what the handshake has left to say (an
    /// ERROR) without waiting, then fail.
    fn settle(&mut self, r: Result<(), zmtp::ZmtpError>) -> Result<(), Failure> {
        let Err(e) = r else { return Ok(()) };
        if let State::Handshake(hs) = &mut self.state {
            while !hs.output().is_empty() {
                match self.stream.write(hs.output()) {
                    Ok(n) if n > 0 => hs.advance_output(n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    _ => break,
                }
            }
        }
        Err(Failure::Protocol(e))
    }

    /// A new turn of the reactor: `pump` reads and writes about `budget` bytes at most, so
    /// one busy connection does not hold the thread (nor push its data out of the cache
    /// before the peer reads it) while others wait.
    pub(crate) fn start_turn(&mut self, budget: usize) {
        self.budget = budget;
    }

    /// This turn's budget is used up: yield, and go on with a new turn later.
    pub(crate) fn turn_spent(&self) -> bool {
        self.budget == 0
    }

    /// Encodes what the pipe holds and writes it, from the socket's thread (see
    /// `session::direct`); the pipe's reader was asleep and is woken here. Ok(true) when
    /// nothing is left for the I/O thread: the pipe ran dry (its next flush comes back
    /// here), or the rest waits for room in the socket buffer with the reactor already
    /// asked for the writable event that brings the I/O thread.
    pub(crate) fn send_direct(
        &mut self,
        inb: &mut Inbound,
        budget: usize,
    ) -> Result<bool, Failure> {
        let Some(pipe) = &mut inb.pipe else { return Ok(false) };
        pipe.activate_read();
        self.budget = budget;
        self.pump_out(inb)?;
        if !self.write_ready {
            // The writable event finishes it, if the reactor is asked for one already;
            // if not, the I/O thread's pump asks.
            return Ok(self.out_interest);
        }
        let dry = !self.has_output() && inb.pipe.as_mut().is_some_and(|p| !p.check_read());
        Ok(dry && self.budget > 0)
    }

    /// A failure met off the I/O thread (a direct send): the next `pump` reports it.
    pub(crate) fn fail_later(&mut self, f: Failure) {
        self.pending_error.get_or_insert(f);
    }

    /// True if bytes came in since the last call (the last direct send).
    pub(crate) fn take_input_seen(&mut self) -> bool {
        std::mem::take(&mut self.input_seen)
    }

    /// Nothing is known to wait on the connection, and only its readability is asked of
    /// the reactor: the socket's thread may wait for the bytes instead (`session::direct`).
    pub(crate) fn input_idle(&self) -> bool {
        self.registered
            && !self.out_interest
            && !self.read_ready
            && !self.hup
            && self.pending_error.is_none()
            && !matches!(&self.state, State::Zmtp(e) if e.has_input())
    }

    /// The socket's thread saw the connection readable (`session::direct`): moves messages
    /// both ways, within `budget` bytes, as a turn of the I/O thread would.
    pub(crate) fn receive_direct(
        &mut self,
        inb: &mut Inbound,
        budget: usize,
    ) -> Result<(), Failure> {
        self.read_ready = true;
        self.start_turn(budget);
        while self.pump(inb)? && !self.turn_spent() {}
        Ok(())
    }

    /// Moves messages both ways once: delivers what waits, reads and decodes, then
    /// encodes from the pipe and writes. Ok(progress).
    pub(crate) fn pump(&mut self, inb: &mut Inbound) -> Result<bool, Failure> {
        let a = self.pump_in(inb)?;
        let b = self.pump_out(inb)?;
        Ok(a || b)
    }

    /// True once everything taken from a finished pipe has been written.
    pub(crate) fn out_drained(&mut self, inb: &mut Inbound) -> bool {
        let has_output = match &self.state {
            State::Zmtp(e) => e.has_output(),
            State::Raw(r) => r.has_output(),
            State::Handshake(_) => false,
        };
        if has_output {
            return false;
        }
        match &mut inb.pipe {
            None => true,
            Some(p) => p.peer_gone() && !p.check_read(),
        }
    }

    /// Sends a PING if one is due; says when to come back, or that the peer is gone.
    pub(crate) fn heartbeat(&mut self, now: Instant) -> zmtp::HeartbeatAction {
        match &mut self.state {
            State::Zmtp(e) => e.heartbeat(now),
            _ => zmtp::HeartbeatAction::Idle,
        }
    }

    /// When the heartbeat next needs attention (a PING due, or a peer's TTL running out
    /// since its PING); None when nothing is pending.
    pub(crate) fn heartbeat_deadline(&self) -> Option<Instant> {
        match &self.state {
            State::Zmtp(e) => e.next_timer(),
            _ => None,
        }
    }

    fn pump_in(&mut self, inb: &mut Inbound) -> Result<bool, Failure> {
        // Messages already decoded go first, in order.
        if !inb.deliver() {
            return Ok(false);
        }
        if let Some(f) = self.pending_error.take() {
            return Err(f);
        }
        match self.state {
            State::Zmtp(_) => self.pump_in_zmtp(inb),
            State::Raw(_) => self.pump_in_raw(inb),
            State::Handshake(_) => Ok(false),
        }
    }

    fn pump_in_zmtp(&mut self, inb: &mut Inbound) -> Result<bool, Failure> {
        let mut progress = false;
        while inb.is_clear() {
            let State::Zmtp(engine) = &mut self.state else { break };
            // Bytes already buffered go first: what the handshake read beyond itself (or a
            // ZMTP 1.0 subscriber's implied subscription), or what an earlier read left
            // undecoded when the pipe filled.
            let n = if engine.has_input() {
                0
            } else {
                if !self.read_ready || self.budget == 0 {
                    break;
                }
                let (got, asked) = match engine.read_target() {
                    zmtp::ReadBuf::Batch(buf, from) => {
                        let asked = buf.len() - from;
                        (self.stream.recv_batch(buf, from), asked)
                    }
                    zmtp::ReadBuf::Body(body) => (self.stream.recv_body(body), body.remaining()),
                };
                match got {
                    Ok(0) => return Err(Failure::Io(libc::EPIPE)),
                    Ok(n) => {
                        self.input_seen = true;
                        self.budget = self.budget.saturating_sub(n);
                        if n < asked && !self.hup {
                            self.read_ready = false; // the queue is empty (see `ready`)
                        }
                        n
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.read_ready = false;
                        continue;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Failure::io(&e)),
                }
            };
            progress = true;
            let failure = decode_into(engine, n, inb);
            inb.flush();
            if let Some(e) = failure {
                // Everything decoded before the error reaches the socket first.
                if inb.deliver() {
                    return Err(Failure::Protocol(e));
                }
                self.pending_error = Some(Failure::Protocol(e));
                return Ok(progress);
            }
            if !inb.deliver() {
                break;
            }
        }
        Ok(progress)
    }

    /// Each read is one message, written straight into the pipe while it has room.
    fn pump_in_raw(&mut self, inb: &mut Inbound) -> Result<bool, Failure> {
        let mut progress = false;
        let result = loop {
            let State::Raw(raw) = &mut self.state else { break Ok(progress) };
            if !self.read_ready || !inb.is_clear() || self.budget == 0 {
                break Ok(progress);
            }
            match self.stream.read(raw.read_buf()) {
                Ok(0) => break Err(Failure::Io(libc::EPIPE)),
                Ok(n) => {
                    progress = true;
                    self.input_seen = true;
                    self.budget = self.budget.saturating_sub(n);
                    inb.push(raw.filled(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.read_ready = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(Failure::io(&e)),
            }
        };
        inb.flush();
        result
    }

    /// Encodes messages from the pipe and writes them. Ok(progress).
    fn pump_out(&mut self, inb: &mut Inbound) -> Result<bool, Failure> {
        let mut progress = false;
        loop {
            if !self.has_output() {
                let Some(pipe) = &mut inb.pipe else { break };
                let mut n = 0;
                while self.buffered() < self.out_batch {
                    match pipe.read() {
                        Some(m) => {
                            self.out_more = m.more();
                            match &mut self.state {
                                State::Zmtp(e) => e.encode(m),
                                State::Raw(r) => r.encode(m),
                                State::Handshake(_) => {}
                            }
                            n += 1;
                        }
                        None => break,
                    }
                }
                if n == 0 || !self.has_output() {
                    break;
                }
            }
            if !self.write_ready || self.budget == 0 {
                break;
            }
            match self.write() {
                Ok((0, _)) => return Err(Failure::Io(libc::EPIPE)),
                Ok((n, offered)) => {
                    progress = true;
                    self.budget = self.budget.saturating_sub(n);
                    if n < offered {
                        self.write_ready = false; // the buffer is full (see `ready`)
                    }
                }
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

    fn has_output(&self) -> bool {
        match &self.state {
            State::Zmtp(e) => e.has_output(),
            State::Raw(r) => r.has_output(),
            State::Handshake(_) => false,
        }
    }

    fn buffered(&self) -> usize {
        match &self.state {
            State::Zmtp(e) => e.buffered(),
            State::Raw(r) => r.buffered(),
            State::Handshake(_) => 0,
        }
    }

    /// Writes as much queued output as the stream takes in one call: (written, offered).
    fn write(&mut self) -> io::Result<(usize, usize)> {
        let total = |s: &[IoSlice<'_>]| s.iter().map(|b| b.len()).sum::<usize>();
        match &mut self.state {
            State::Zmtp(e) => {
                let slices = e.io_slices();
                let offered = total(&slices);
                let n = self.stream.write_vectored(&slices)?;
                e.advance(n);
                Ok((n, offered))
            }
            State::Raw(r) => {
                let mut slices = [IoSlice::new(&[]); 32];
                let k = r.io_slices(&mut slices);
                let offered = total(&slices[..k]);
                let n = self.stream.write_vectored(&slices[..k])?;
                r.advance(n);
                Ok((n, offered))
            }
            State::Handshake(_) => Ok((0, 0)),
        }
    }
}

/// Decodes the `n` bytes just read (0: what is already buffered) straight into the pipe
/// side; the error that ends the connection, if any (what came before it is kept).
fn decode_into(engine: &mut zmtp::Engine, n: usize, inb: &mut Inbound) -> Option<zmtp::ZmtpError> {
    let mut failure = None;
    let decoded = engine.filled_into(n, Instant::now(), &mut |f| take_frame(f, inb, &mut failure));
    failure.or(decoded.err())
}

/// Hands one decoded frame to the pipe side; an ERROR command from the peer ends the
/// connection (what came before it is kept, what follows is dropped). PING/PONG were
/// answered by the codec; other commands are ignored, as libzmq does. False once the pipe
/// is full: the decoder keeps the rest as bytes, as libzmq's stops at a full pipe, rather
/// than each as a message queued here.
fn take_frame(f: zmtp::Frame, inb: &mut Inbound, failure: &mut Option<zmtp::ZmtpError>) -> bool {
    if failure.is_some() {
        return true;
    }
    match f {
        zmtp::Frame::Message(m) => inb.push(m),
        zmtp::Frame::Command(zmtp::Command::Error(_)) => {
            *failure = Some(zmtp::ZmtpError::proto("ERROR"));
            true
        }
        zmtp::Frame::Command(_) => true,
    }
}
