//! Greeting, version detection and the security handshake, byte for byte as libzmq 4.3.
//!
//! We send the 10-octet signature `FF <routing-id length + 1, 8 octets BE> 7F` at once
//! (a ZMTP 1.0 peer reads it as the header of our identity frame), then:
//! - peer's first octet not FF, or its 10th octet's low bit clear: ZMTP 1.0. What we read
//!   is the header of its identity frame; we send our identity's body; v1 framing.
//! - otherwise, after its 10 octets we send our major version (3); after its 11th (the
//!   revision): 0 or 1 (ZMTP 1.0 with greeting / 2.0): our socket type octet, its socket
//!   type octet, then identity frames both ways; anything else: the rest of our 64-octet
//!   greeting, the rest of its, then the mechanism's commands (3.0 if it says minor 0).

use super::decoder::{check_partial_header, header_len, parse_header};
use super::encoder::put_frame_header;
use super::engine::Engine;
use super::heartbeat::HeartbeatConfig;
use super::mechanism::{Local, Mechanism, MechanismConfig, Peer};
use super::zap::{ZapReply, ZapRequest};
use super::{Framing, ZmtpError, DEFAULT_BATCH_SIZE};
use crate::consts::*;

/// Largest handshake command we buffer (libzmq has no limit; a READY is rarely over 1 KiB).
const MAX_HANDSHAKE_COMMAND: usize = 1 << 20;
/// Largest ZMTP 1.0/2.0 identity frame (RFC 13/15: 0..255 octets).
const MAX_IDENTITY: usize = 255;

/// Everything the handshake needs to know about our side.
#[derive(Clone, Debug)]
pub(crate) struct HandshakeConfig {
    /// ZMQ_* socket type.
    pub(crate) socket_type: i32,
    /// ZMQ_ROUTING_ID, sent as "Identity" by REQ, DEALER and ROUTER (0..255 octets).
    pub(crate) routing_id: Vec<u8>,
    /// Our role in the mechanism (PLAIN/CURVE server); NULL ignores it.
    pub(crate) as_server: bool,
    /// ZMQ_METADATA: "X-" properties, sent in this order.
    pub(crate) metadata: Vec<(String, Vec<u8>)>,
    /// ZMQ_MAXMSGSIZE, -1 for none. Applies to every frame, handshake commands included.
    pub(crate) max_msg_size: i64,
    pub(crate) mechanism: MechanismConfig,
    /// A ZAP domain is set (libzmq's zap_enabled): ZMTP 1.0/2.0 peers are refused.
    pub(crate) zap_enabled: bool,
    /// ZMQ_IN_BATCH_SIZE / ZMQ_OUT_BATCH_SIZE.
    pub(crate) in_batch_size: usize,
    pub(crate) out_batch_size: usize,
    /// ZMQ_HEARTBEAT_IVL / _TTL / _TIMEOUT.
    pub(crate) heartbeat: HeartbeatConfig,
    /// The context's ZMQ_ZERO_COPY_RECV: received bodies point into the read buffer.
    pub(crate) zero_copy_recv: bool,
}

impl Default for HandshakeConfig {
    fn default() -> HandshakeConfig {
        HandshakeConfig {
            socket_type: ZMQ_PAIR,
            routing_id: Vec::new(),
            as_server: false,
            metadata: Vec::new(),
            max_msg_size: -1,
            mechanism: MechanismConfig::Null,
            zap_enabled: false,
            in_batch_size: DEFAULT_BATCH_SIZE,
            out_batch_size: DEFAULT_BATCH_SIZE,
            heartbeat: HeartbeatConfig::default(),
            zero_copy_recv: true,
        }
    }
}

/// The outcome of a handshake.
pub(crate) struct Established {
    /// (1, 0), (2, 0), (3, 0) or (3, 1): what both sides speak.
    pub(crate) version: (u8, u8),
    /// The peer's socket type: from READY (3.x), the greeting (2.0, not checked, as libzmq
    /// does not), or -1 when unknown (1.0, or a READY without Socket-Type).
    #[cfg_attr(not(test), allow(dead_code))] // tests check what was negotiated
    pub(crate) peer_socket_type: i32,
    /// The peer's Identity property (3.x) or identity frame (1.0/2.0), even if empty.
    pub(crate) peer_routing_id: Option<Vec<u8>>,
    /// Every property the peer sent (Socket-Type, Identity, X-...), names as received.
    pub(crate) peer_metadata: Vec<(String, Vec<u8>)>,
    /// User-Id and the ZAP handler's metadata (empty without ZAP).
    pub(crate) zap_properties: Vec<(String, Vec<u8>)>,
    /// The codec for the rest of the connection, holding any handshake bytes not yet sent.
    pub(crate) engine: Engine,
}

enum Stage {
    Greeting,
    /// A ZMTP 1.0/2.0 peer's identity frame.
    Identity,
    /// Mechanism commands (ZMTP 3.x).
    Mechanism,
    Done,
}

/// The handshake of one connection. Drive it with `output`/`advance_output` and `input`
/// until `is_done`, then `finish`.
pub(crate) struct Handshake {
    cfg: HandshakeConfig,
    out: Vec<u8>,
    out_pos: usize,
    greeting: [u8; 64],
    have: usize,
    stage: Stage,
    /// The minor version we announce (1; tests announce 0 to act as a 3.0 peer).
    our_minor: u8,
    version: (u8, u8),
    unversioned: bool,
    frame: FrameReader,
    mech: Option<Mechanism>,
    peer: Peer,
    /// User-Id and the metadata ZAP's handler gave, for the connection's messages.
    zap_properties: Vec<(String, Vec<u8>)>,
}

impl Handshake {
    pub(crate) fn new(cfg: HandshakeConfig) -> Handshake {
        Handshake::announcing(cfg, 1)
    }

    /// A handshake announcing ZMTP 3.`minor` (tests use 0 to be a 3.0 peer).
    pub(crate) fn announcing(cfg: HandshakeConfig, our_minor: u8) -> Handshake {
        let mut out = Vec::with_capacity(128);
        out.push(0xff);
        out.extend_from_slice(&(cfg.routing_id.len() as u64 + 1).to_be_bytes());
        out.push(0x7f);
        let max = cfg.max_msg_size;
        Handshake {
            cfg,
            out,
            out_pos: 0,
            greeting: [0; 64],
            have: 0,
            stage: Stage::Greeting,
            our_minor,
            version: (3, 1),
            unversioned: false,
            frame: FrameReader::new(Framing::V3, MAX_HANDSHAKE_COMMAND, max),
            mech: None,
            peer: Peer::default(),
            zap_properties: Vec::new(),
        }
    }

    /// Bytes to send now.
    pub(crate) fn output(&self) -> &[u8] {
        &self.out[self.out_pos..]
    }

    /// `n` bytes of `output()` were sent.
    pub(crate) fn advance_output(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
    }

    /// How many bytes may be read without reading past the handshake (0 once done). A
    /// reader that reads exactly this much never has bytes left over for the decoder.
    pub(crate) fn wanted(&self) -> usize {
        match self.stage {
            Stage::Greeting => self.greeting_need(),
            Stage::Identity | Stage::Mechanism => self.frame.need(),
            Stage::Done => 0,
        }
    }

    /// The handshake is over; `finish` may be called. Output may still be pending: it
    /// moves into the encoder.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// Takes bytes from the peer; returns how many were used. Bytes past the end of the
    /// handshake are not used: they belong to the decoder.
    pub(crate) fn input(&mut self, bytes: &[u8]) -> Result<usize, ZmtpError> {
        let mut used = 0;
        while used < bytes.len() {
            match self.stage {
                Stage::Greeting => {
                    let n = self.greeting_need().min(bytes.len() - used);
                    self.greeting[self.have..self.have + n].copy_from_slice(&bytes[used..used + n]);
                    self.have += n;
                    used += n;
                    self.on_greeting()?;
                }
                Stage::Identity | Stage::Mechanism => {
                    used += self.frame.push(&bytes[used..])?;
                    if let Some(body) = self.frame.take() {
                        self.on_frame(&body)?;
                    }
                }
                Stage::Done => break,
            }
        }
        Ok(used)
    }

    /// The connection is established. Call only once `is_done()`.
    pub(crate) fn finish(self) -> Established {
        debug_assert!(self.is_done(), "finish before the handshake is done");
        let c = &self.cfg;
        let mut engine = Engine::new(
            self.version,
            c.socket_type,
            c.in_batch_size,
            c.out_batch_size,
            c.max_msg_size,
            c.heartbeat,
            self.mech,
        );
        engine.encoder.put_raw(&self.out[self.out_pos..]);
        engine.decoder.set_zero_copy(c.zero_copy_recv);
        if self.unversioned && matches!(c.socket_type, ZMQ_PUB | ZMQ_XPUB) {
            // ZMTP 1.0 peers filter on their side and send no subscriptions: subscribe
            // them to everything, as libzmq does.
            engine.decoder.inject_subscribe_all();
        }
        Established {
            version: self.version,
            peer_socket_type: self.peer.socket_type.unwrap_or(-1),
            peer_routing_id: self.peer.routing_id,
            peer_metadata: self.peer.metadata,
            zap_properties: self.zap_properties,
            engine,
        }
    }

    /// Greeting bytes needed before the next decision.
    fn greeting_need(&self) -> usize {
        match self.have {
            0 => 1,
            1..=9 => 10 - self.have,
            10 => 1,
            _ if self.greeting[10] < 2 => 12 - self.have,
            _ => 64 - self.have,
        }
    }

    fn on_greeting(&mut self) -> Result<(), ZmtpError> {
        let g = self.greeting;
        let unversioned = match self.have {
            1 => g[0] != 0xff,
            10 => g[9] & 1 == 0,
            _ => false,
        };
        if unversioned {
            return self.start_v1_unversioned();
        }
        match self.have {
            10 => self.out.push(3),
            11 if g[10] < 2 => self.out.push(self.cfg.socket_type as u8),
            11 => {
                self.out.push(self.our_minor);
                self.out.extend_from_slice(&self.cfg.mechanism.greeting_name());
                let server = self.cfg.mechanism.announces_server(self.cfg.as_server);
                self.out.push(u8::from(server));
                self.out.extend_from_slice(&[0; 31]);
            }
            12 if g[10] < 2 => {
                self.refuse_old_peer()?;
                self.version = if g[10] == 0 { (1, 0) } else { (2, 0) };
                self.peer.socket_type = Some(i32::from(g[11]));
                self.start_identity_exchange(Framing::of(self.version));
            }
            64 => self.start_mechanism()?,
            _ => {}
        }
        Ok(())
    }

    /// ZMTP 1.0/2.0 have no security: refuse them when ours has some, as RFC 37 says.
    fn refuse_old_peer(&self) -> Result<(), ZmtpError> {
        if !self.cfg.mechanism.is_null() || self.cfg.zap_enabled {
            return Err(ZmtpError::proto("ZMTP 1.0/2.0 peer, but security is required"));
        }
        Ok(())
    }

    /// A peer without a greeting: what we read so far opens its identity frame, and our
    /// signature was the header of ours.
    fn start_v1_unversioned(&mut self) -> Result<(), ZmtpError> {
        self.refuse_old_peer()?;
        self.version = (1, 0);
        self.unversioned = true;
        self.out.extend_from_slice(&self.cfg.routing_id);
        self.frame = FrameReader::new(Framing::V1, MAX_IDENTITY, self.cfg.max_msg_size);
        let have = self.greeting[..self.have].to_vec();
        self.stage = Stage::Identity;
        let used = self.frame.push(&have)?;
        debug_assert_eq!(used, have.len());
        if let Some(body) = self.frame.take() {
            self.on_frame(&body)?;
        }
        Ok(())
    }

    fn start_identity_exchange(&mut self, framing: Framing) {
        let id = &self.cfg.routing_id;
        match framing {
            Framing::V1 => {
                let len = id.len() as u64 + 1;
                if len < 255 {
                    self.out.push(len as u8);
                } else {
                    self.out.push(0xff);
                    self.out.extend_from_slice(&len.to_be_bytes());
                }
                self.out.push(0);
            }
            _ => put_frame_header(&mut self.out, 0, id.len() as u64),
        }
        self.out.extend_from_slice(id);
        self.frame = FrameReader::new(framing, MAX_IDENTITY, self.cfg.max_msg_size);
        self.stage = Stage::Identity;
    }

    fn start_mechanism(&mut self) -> Result<(), ZmtpError> {
        let g = self.greeting;
        let unbuilt = self.cfg.mechanism == MechanismConfig::Unbuilt;
        if g[12..32] != self.cfg.mechanism.greeting_name() || unbuilt {
            return Err(ZmtpError::protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH,
                "mechanism mismatch",
            ));
        }
        // Revision 2 or over 3 is taken as 3.1, as libzmq does; 3.0 only when it says so.
        let theirs = if g[10] == 3 && g[11] == 0 { (3, 0) } else { (3, 1) };
        self.version = theirs.min((3, self.our_minor));
        self.stage = Stage::Mechanism;
        let mut mech = Mechanism::new(&self.cfg.mechanism, self.cfg.zap_enabled)?;
        self.send_commands(&mut mech);
        self.mech = Some(mech);
        Ok(())
    }

    fn send_commands(&mut self, mech: &mut Mechanism) {
        let local = Local {
            socket_type: self.cfg.socket_type,
            routing_id: &self.cfg.routing_id,
            metadata: &self.cfg.metadata,
        };
        while let Some(body) = mech.next_command(&local) {
            put_frame_header(&mut self.out, super::FLAG_COMMAND, body.len() as u64);
            self.out.extend_from_slice(&body);
        }
    }

    /// The ZAP request the mechanism waits on, once (see `zap::plan` for whether to send it):
    /// the handshake then pauses until `zap_reply` or `zap_skip`.
    pub(crate) fn zap_request(&mut self) -> Option<ZapRequest> {
        self.mech.as_mut()?.zap_request()
    }

    /// ZAP's verdict. 200: the handshake goes on, and every message of the connection will
    /// carry User-Id and the handler's metadata. Otherwise the error to close with; for 400
    /// and 500 an ERROR command is in `output()` first, to be sent before closing.
    pub(crate) fn zap_reply(&mut self, reply: &ZapReply) -> Result<(), ZmtpError> {
        let r = self.resume(|m| m.zap_reply(reply));
        if r.is_ok() {
            let props = &mut self.zap_properties;
            props.push(("User-Id".to_string(), reply.user_id.clone()));
            for (k, v) in &reply.metadata {
                if !props.iter().any(|(n, _)| n == k) {
                    props.push((k.clone(), v.clone()));
                }
            }
        }
        r
    }

    /// No ZAP exchange: go on (`accept`) or fail as libzmq does without a handler.
    pub(crate) fn zap_skip(&mut self, accept: bool) -> Result<(), ZmtpError> {
        self.resume(|m| m.zap_skip(accept))
    }

    /// Applies a ZAP outcome to the mechanism, then sends what it has to say next.
    fn resume(
        &mut self,
        f: impl FnOnce(&mut Mechanism) -> Result<(), ZmtpError>,
    ) -> Result<(), ZmtpError> {
        let Some(mut mech) = self.mech.take() else {
            return Err(ZmtpError::proto("no mechanism"));
        };
        let r = f(&mut mech);
        self.send_commands(&mut mech);
        if r.is_ok() && mech.is_ready() {
            self.stage = Stage::Done;
        }
        self.mech = Some(mech);
        r
    }

    fn on_frame(&mut self, body: &[u8]) -> Result<(), ZmtpError> {
        match self.stage {
            Stage::Identity => {
                self.peer.routing_id = Some(body.to_vec());
                self.stage = Stage::Done;
            }
            Stage::Mechanism => {
                let Some(mut mech) = self.mech.take() else { return Ok(()) };
                let local = Local {
                    socket_type: self.cfg.socket_type,
                    routing_id: &self.cfg.routing_id,
                    metadata: &self.cfg.metadata,
                };
                mech.process(body, &local, &mut self.peer)?;
                self.send_commands(&mut mech);
                if mech.is_ready() {
                    self.stage = Stage::Done;
                }
                self.mech = Some(mech);
            }
            _ => {}
        }
        Ok(())
    }
}

/// Reads one whole frame (header and body) during the handshake, in v1 or v2/v3 framing,
/// never taking a byte past it.
struct FrameReader {
    framing: Framing,
    hdr: [u8; 10],
    hdr_len: usize,
    /// Body size, once the header is complete.
    size: Option<usize>,
    body: Vec<u8>,
    limit: usize,
    max_msg_size: i64,
    complete: bool,
}

impl FrameReader {
    fn new(framing: Framing, limit: usize, max_msg_size: i64) -> FrameReader {
        FrameReader {
            framing,
            hdr: [0; 10],
            hdr_len: 0,
            size: None,
            body: Vec::new(),
            limit,
            max_msg_size,
            complete: false,
        }
    }

    fn hdr_total(&self) -> usize {
        header_len(self.framing, &self.hdr[..self.hdr_len])
    }

    /// Bytes still needed for this frame.
    fn need(&self) -> usize {
        match self.size {
            None => self.hdr_total() - self.hdr_len,
            Some(size) => size - self.body.len(),
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Result<usize, ZmtpError> {
        let mut used = 0;
        while !self.complete && used < bytes.len() {
            let n = self.need().min(bytes.len() - used);
            match self.size {
                None => {
                    self.hdr[self.hdr_len..self.hdr_len + n]
                        .copy_from_slice(&bytes[used..used + n]);
                    self.hdr_len += n;
                    check_partial_header(self.framing, &self.hdr[..self.hdr_len])?;
                    if self.hdr_len == self.hdr_total() {
                        self.header_done()?;
                    }
                }
                Some(_) => self.body.extend_from_slice(&bytes[used..used + n]),
            }
            used += n;
            self.complete = self.size.is_some() && self.need() == 0;
        }
        Ok(used)
    }

    fn header_done(&mut self) -> Result<(), ZmtpError> {
        let (_, _, size) = parse_header(self.framing, &self.hdr[..self.hdr_len])?;
        if self.max_msg_size >= 0 && size > self.max_msg_size as u64 {
            return Err(ZmtpError::new(libc::EMSGSIZE, "handshake frame over ZMQ_MAXMSGSIZE"));
        }
        if size > self.limit as u64 {
            return Err(ZmtpError::proto("handshake frame too large"));
        }
        self.size = Some(size as usize);
        self.body.reserve(size as usize);
        Ok(())
    }

    /// The body of the frame just completed, readying for the next one.
    fn take(&mut self) -> Option<Vec<u8>> {
        if !self.complete {
            return None;
        }
        let body = std::mem::take(&mut self.body);
        self.hdr_len = 0;
        self.size = None;
        self.complete = false;
        Some(body)
    }
}
