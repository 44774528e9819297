//! ZMTP, the ZeroMQ wire protocol, as state machines that do no I/O.
//!
//! The engine (mio, sessions) feeds these with bytes and `Instant`s; tests and fuzzers feed
//! them directly. Nothing here reads a clock, opens a socket or spawns a thread.
//!
//! A connection goes through:
//! 1. [`Handshake`]: greeting, version detection (ZMTP 3.1 down to 1.0, as libzmq 4.3 does
//!    it) and the security mechanism (NULL so far). `finish()` gives an [`Established`].
//! 2. [`Decoder`] and [`Encoder`]: frames in the negotiated framing (v1, v2, or v3 = v2
//!    plus commands), zero-copy for large bodies.
//! 3. [`Heartbeat`]: when to PING, when the peer is gone (ZMTP 3.1 PING/PONG).
//!
//! Errors carry the errno libzmq would set and the monitor event it would raise; both
//! were checked against Debian's libzmq 4.3.4 on the wire.

mod command;
mod curve;
mod decoder;
mod encoder;
mod engine;
mod handshake;
mod heartbeat;
mod mechanism;
mod metadata;
mod null;
mod plain;
mod socket_type;
mod zap;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod wire_tests;

pub(crate) use command::{group_command, parse_group_command, Command};
pub(crate) use curve::SecretKey;
pub(crate) use decoder::{Decoder, Frame, Progress, ReadBuf};
pub(crate) use engine::Engine;
pub(crate) use handshake::{Handshake, HandshakeConfig};
pub(crate) use heartbeat::{HeartbeatAction, HeartbeatConfig};
pub(crate) use mechanism::{MechanismConfig, SecretBytes};
pub(crate) use zap::{
    parse_reply as parse_zap_reply, plan as zap_plan, ZapPlan, ZapReply, ZapRequest,
};
pub(crate) use zap::{REQUEST_ID as ZAP_REQUEST_ID, ZAP_ENDPOINT};

/// A fresh CURVE key pair (public, secret), for zmq_curve_keypair.
pub(crate) fn curve_keypair() -> Result<([u8; 32], curve::SecretKey), ZmtpError> {
    curve::keypair()
}

/// The CURVE public key of a secret key, for zmq_curve_public.
pub(crate) fn curve_public(secret: &[u8; 32]) -> [u8; 32] {
    curve::public_of(&curve::SecretKey::from_bytes(*secret))
}

use std::fmt;

/// ZMQ_IN_BATCH_SIZE / ZMQ_OUT_BATCH_SIZE defaults.
pub(crate) const DEFAULT_BATCH_SIZE: usize = 8192;

/// Frame flags on the wire (ZMTP 2.0 and 3.x).
pub(crate) const FLAG_MORE: u8 = 1;
pub(crate) const FLAG_LONG: u8 = 2;
pub(crate) const FLAG_COMMAND: u8 = 4;

/// How frames are laid out on a connection, from the negotiated version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// ZMTP 1.0: length (including the flags octet) first, then flags.
    V1,
    /// ZMTP 2.0: flags, then a 1- or 8-octet length; no commands.
    V2,
    /// ZMTP 3.x: as 2.0, plus command frames.
    V3,
}

impl Framing {
    pub(crate) fn of(version: (u8, u8)) -> Framing {
        match version.0 {
            0 | 1 => Framing::V1,
            2 => Framing::V2,
            _ => Framing::V3,
        }
    }
}

/// Subscriptions travel as SUBSCRIBE/CANCEL commands from ZMTP 3.1 on, as messages before.
pub(crate) fn subscriptions_as_commands(version: (u8, u8)) -> bool {
    version >= (3, 1)
}

/// The monitor event libzmq raises for a failed handshake (besides DISCONNECTED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MonitorEvent {
    /// ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL with a ZMQ_PROTOCOL_ERROR_* value.
    Protocol(i32),
    /// ZMQ_EVENT_HANDSHAKE_FAILED_AUTH with a ZAP status code (300, 400, 500).
    Auth(i32),
    /// ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL with an errno (EFAULT: no ZAP handler).
    NoDetail(i32),
}

/// A fatal protocol error: the connection must be closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ZmtpError {
    /// The errno libzmq leaves behind (EPROTO, EMSGSIZE, ENOMEM, EINVAL).
    pub(crate) errno: i32,
    /// The monitor event to raise, or None where libzmq only reports DISCONNECTED.
    pub(crate) event: Option<MonitorEvent>,
    /// What went wrong, for logs and tests.
    pub(crate) what: &'static str,
}

impl ZmtpError {
    pub(crate) fn new(errno: i32, what: &'static str) -> ZmtpError {
        ZmtpError { errno, event: None, what }
    }

    pub(crate) fn protocol(code: i32, what: &'static str) -> ZmtpError {
        ZmtpError { errno: libc::EPROTO, event: Some(MonitorEvent::Protocol(code)), what }
    }

    pub(crate) fn proto(what: &'static str) -> ZmtpError {
        ZmtpError::new(libc::EPROTO, what)
    }

    /// The monitor event to raise before DISCONNECTED, as (ZMQ_EVENT_*, value), if any.
    pub(crate) fn monitor_event(&self) -> Option<(i32, u64)> {
        use crate::consts::{
            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL,
            ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
        };
        match self.event? {
            MonitorEvent::Protocol(code) => {
                Some((ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, code as u64))
            }
            MonitorEvent::Auth(status) => Some((ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, status as u64)),
            MonitorEvent::NoDetail(errno) => {
                Some((ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, errno as u64))
            }
        }
    }
}

impl fmt::Display for ZmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (errno {}, event {:?})", self.what, self.errno, self.event)
    }
}

/// Entry points for `fuzz/`: the module is otherwise crate-private, and cargo-fuzz builds a
/// separate crate, so these few functions are public. They take raw bytes and must never
/// panic, whatever the bytes.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;
    use crate::consts::*;

    /// Splits `data` into a config byte and input: drives a handshake with the input fed in
    /// pieces, then the decoder with whatever follows, as the engine would.
    pub fn handshake(data: &[u8]) {
        let Some((&sel, rest)) = data.split_first() else { return };
        let types = [ZMQ_PAIR, ZMQ_PUB, ZMQ_SUB, ZMQ_REQ, ZMQ_DEALER, ZMQ_ROUTER, ZMQ_XPUB];
        let cfg = HandshakeConfig {
            socket_type: types[usize::from(sel & 7) % types.len()],
            routing_id: b"fz".to_vec(),
            // Bounded so the fuzzer does not trip over huge (valid) allocations.
            max_msg_size: if sel & 8 != 0 { 300 } else { 1 << 20 },
            ..HandshakeConfig::default()
        };
        let step = usize::from(sel >> 4) + 1;
        let mut hs = Handshake::new(cfg);
        let mut pos = 0;
        while pos < rest.len() && !hs.is_done() {
            let end = (pos + step).min(rest.len());
            match hs.input(&rest[pos..end]) {
                Ok(n) => pos += n,
                Err(_) => return,
            }
            let n = hs.output().len();
            hs.advance_output(n);
        }
        if hs.is_done() {
            let mut est = hs.finish();
            feed(&mut est.engine.decoder, &rest[pos..], step);
        }
    }

    /// Decodes `data` as post-handshake traffic; the first byte picks the framing, the
    /// socket type and how the input is split.
    pub fn decoder(data: &[u8]) {
        let Some((&sel, rest)) = data.split_first() else { return };
        let version = [(1, 0), (2, 0), (3, 0), (3, 1)][usize::from(sel & 3)];
        let socket_type = if sel & 4 != 0 { ZMQ_XPUB } else { ZMQ_DEALER };
        let max = if sel & 8 != 0 { 1000 } else { 1 << 20 };
        let mut dec = Decoder::new(version, socket_type, 64, max);
        feed(&mut dec, rest, usize::from(sel >> 4) * 7 + 1);
    }

    /// Splits `data` into bodies, each prefixed with a 2-octet big-endian length (the last
    /// one takes what is left).
    fn bodies(mut data: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        while data.len() >= 2 {
            let n = usize::from(u16::from_be_bytes([data[0], data[1]])).min(data.len() - 2);
            out.push(&data[2..2 + n]);
            data = &data[2 + n..];
        }
        out
    }

    /// PLAIN and CURVE from raw bytes. The first byte picks the case:
    /// - 0, 1: a PLAIN server or client fed the bodies (`bodies` framing) as commands, the
    ///   server's ZAP request answered with a reply parsed from the last body;
    /// - 2: a CURVE server fed the bodies as commands;
    /// - 3: a genuine CURVE handshake between fixed keys in which one command (picked by
    ///   bits 2-3) is XORed with the first body, then the other bodies as MESSAGEs to the
    ///   side picked by bit 4, and genuine messages with one of them corrupted.
    pub fn security(data: &[u8]) {
        use super::curve::{public_of, CurveClient, CurveServer, SecretKey};
        use super::mechanism::{Curve, Local, Mechanism, Peer, Plain, SecretBytes};
        use super::plain::{PlainClient, PlainServer};
        let Some((&sel, rest)) = data.split_first() else { return };
        let bodies = bodies(rest);
        let local = Local { socket_type: ZMQ_DEALER, routing_id: b"fz", metadata: &[] };
        let key = |b: u8| SecretKey::from_bytes([b; 32]);
        let mut peer = Peer::default();
        let answer = |m: &mut Mechanism| {
            if m.zap_request().is_some() {
                let frames = bodies.last().map_or(Vec::new(), |b| bodies_of(b));
                match zap::parse_reply(&frames, zap::REQUEST_ID) {
                    Ok(r) => m.zap_reply(&r).is_ok(),
                    Err(_) => m.zap_skip(sel & 0x80 != 0).is_ok(),
                }
            } else {
                true
            }
        };
        let mut drive = |mut m: Mechanism| {
            let _ = m.next_command(&local);
            for b in &bodies {
                if m.process(b, &local, &mut peer).is_err() || !answer(&mut m) {
                    return;
                }
                while m.next_command(&local).is_some() {}
                if m.is_ready() {
                    let _ = m.decode_frame_msg(b);
                }
            }
        };
        match sel & 3 {
            0 => drive(Mechanism::Plain(Plain::Server(PlainServer::default()))),
            1 => drive(Mechanism::Plain(Plain::Client(PlainClient::new(
                b"user",
                SecretBytes::new(b"pass".to_vec()),
            )))),
            2 => drive(Mechanism::Curve(Curve::Server(Box::new(CurveServer::with_short_term(
                key(2),
                public_of(&key(3)),
                key(3),
            ))))),
            _ => {
                let client = CurveClient::with_short_term(
                    public_of(&key(1)),
                    key(1),
                    public_of(&key(2)),
                    public_of(&key(4)),
                    key(4),
                );
                let server = CurveServer::with_short_term(key(2), public_of(&key(3)), key(3));
                let mut c = Mechanism::Curve(Curve::Client(Box::new(client)));
                let mut s = Mechanism::Curve(Curve::Server(Box::new(server)));
                let corrupt = usize::from(sel >> 2) & 3;
                let xor = bodies.first().copied().unwrap_or_default();
                let (mut cp, mut sp) = (Peer::default(), Peer::default());
                for step in 0..4 {
                    let (from, to, p) = if step % 2 == 0 {
                        (&mut c, &mut s, &mut sp)
                    } else {
                        (&mut s, &mut c, &mut cp)
                    };
                    let Some(mut cmd) = from.next_command(&local) else { return };
                    if step == corrupt {
                        for (i, x) in xor.iter().enumerate() {
                            if let Some(b) = cmd.get_mut(i) {
                                *b ^= x;
                            }
                        }
                    }
                    if to.process(&cmd, &local, p).is_err() {
                        return;
                    }
                    if step == 2 && to.zap_skip(true).is_err() {
                        return;
                    }
                }
                let (tx, rx) = if sel & 0x10 != 0 { (&mut s, &mut c) } else { (&mut c, &mut s) };
                let mut wire = Vec::new();
                for (i, b) in bodies.iter().enumerate().skip(1) {
                    let _ = rx.decode_frame_msg(b);
                    wire.clear();
                    if tx.encode_frame(i as u8, b, &mut wire).is_err() {
                        return;
                    }
                    let at = b.len() % wire.len().max(1);
                    if let Some(x) = wire.get_mut(at) {
                        *x ^= (i as u8) & 0x0f;
                    }
                    let _ = rx.decode_frame_msg(&wire);
                }
            }
        }
    }

    /// A ZAP reply's frames from `bodies` framing.
    fn bodies_of(data: &[u8]) -> Vec<Vec<u8>> {
        bodies(data).into_iter().map(<[u8]>::to_vec).collect()
    }

    fn feed(dec: &mut Decoder, mut data: &[u8], step: usize) {
        let mut refuse = false;
        loop {
            // Refuse every other frame once, to exercise pausing and resuming.
            let r = dec.decode(&mut |f| {
                refuse = !refuse;
                if refuse {
                    Err(f)
                } else {
                    Ok(())
                }
            });
            match r {
                Err(_) => return,
                Ok(Progress::Paused) => continue,
                Ok(Progress::NeedInput) => {}
            }
            if data.is_empty() {
                return;
            }
            let buf = dec.read_buf();
            let n = buf.len().min(step).min(data.len());
            buf[..n].copy_from_slice(&data[..n]);
            dec.filled(n);
            data = &data[n..];
        }
    }
}
