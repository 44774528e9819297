//! Security mechanisms, a closed set: each one is a state machine that produces handshake
//! command bodies to send and consumes the peer's, and is then kept for the life of the
//! connection, because a mechanism may transform every frame after the handshake (CURVE
//! boxes each one into a MESSAGE command): NULL, PLAIN and CURVE. Servers pause for ZAP
//! (`zap_request` / `zap_reply` / `zap_skip`).

use super::command::Command;
use super::curve::{
    Channel, CurveClient, CurveServer, SecretKey, INNER_COMMAND, INNER_MORE, KEY_LEN,
};
use super::decoder::Frame;
use super::encoder::Encoder;
use super::metadata::{parse_properties, put_property};
use super::null::Null;
use super::plain::{PlainClient, PlainServer};
use super::socket_type::{compatible, sends_identity, socket_type_from_name, socket_type_name};
use super::zap::{ZapReply, ZapRequest};
use super::ZmtpError;
use crate::consts::ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED;
use crate::msg::Msg;

/// A password: zeroed on drop, never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct SecretBytes(zeroize::Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub(crate) fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(zeroize::Zeroizing::new(bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBytes(..)")
    }
}

/// The mechanism a socket demands (ZMQ_MECHANISM with its keys and credentials).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum MechanismConfig {
    #[default]
    Null,
    /// The socket asks for a mechanism this build lacks: we announce NULL and refuse every
    /// peer where libzmq would stop talking to it (never a silent fallback to NULL).
    Unbuilt,
    /// ZMQ_PLAIN_SERVER, or a client's ZMQ_PLAIN_USERNAME / ZMQ_PLAIN_PASSWORD.
    Plain { as_server: bool, username: Vec<u8>, password: SecretBytes },
    /// ZMQ_CURVE_SERVER with ZMQ_CURVE_SECRETKEY; or a client's ZMQ_CURVE_PUBLICKEY,
    /// _SECRETKEY and _SERVERKEY (a server uses only its secret key).
    Curve {
        as_server: bool,
        public_key: [u8; KEY_LEN],
        secret_key: SecretKey,
        server_key: [u8; KEY_LEN],
    },
}

impl MechanismConfig {
    /// The name in the greeting, NUL-padded to 20 octets.
    pub(crate) fn greeting_name(&self) -> [u8; 20] {
        let name: &[u8] = match self {
            MechanismConfig::Null | MechanismConfig::Unbuilt => b"NULL",
            MechanismConfig::Plain { .. } => b"PLAIN",
            MechanismConfig::Curve { .. } => b"CURVE",
        };
        let mut out = [0u8; 20];
        out[..name.len()].copy_from_slice(name);
        out
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, MechanismConfig::Null)
    }

    /// The as-server octet of our greeting (only mechanisms with roles set it).
    pub(crate) fn announces_server(&self, as_server: bool) -> bool {
        match self {
            MechanismConfig::Null | MechanismConfig::Unbuilt => false,
            MechanismConfig::Plain { .. } | MechanismConfig::Curve { .. } => as_server,
        }
    }
}

/// What we announce about ourselves.
pub(crate) struct Local<'a> {
    pub(crate) socket_type: i32,
    pub(crate) routing_id: &'a [u8],
    pub(crate) metadata: &'a [(String, Vec<u8>)],
}

impl Local<'_> {
    /// Socket-Type, Identity (REQ, DEALER and ROUTER only) and the application's X-
    /// properties, in libzmq's order. Values are cut at a NUL, as libzmq sends C strings.
    pub(crate) fn put_properties(&self, out: &mut Vec<u8>) {
        let name = socket_type_name(self.socket_type).unwrap_or("");
        put_property(out, b"Socket-Type", name.as_bytes());
        if sends_identity(self.socket_type) {
            put_property(out, b"Identity", self.routing_id);
        }
        for (k, v) in self.metadata {
            let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
            put_property(out, k.as_bytes(), &v[..end]);
        }
    }
}

/// What we learn about the peer.
#[derive(Debug, Default)]
pub(crate) struct Peer {
    /// The Socket-Type it announced, if any (libzmq accepts a READY without one).
    pub(crate) socket_type: Option<i32>,
    pub(crate) routing_id: Option<Vec<u8>>,
    /// Every property as received; the first of duplicate names wins, as in libzmq.
    pub(crate) metadata: Vec<(String, Vec<u8>)>,
}

impl Peer {
    /// Takes a property list (READY, INITIATE): the Socket-Type must be one ours may talk
    /// to (EINVAL, and no monitor event, as libzmq 4.3); the Identity is kept; names are
    /// case-sensitive, as libzmq compares them.
    pub(crate) fn accept_properties(&mut self, data: &[u8], ours: i32) -> Result<(), ZmtpError> {
        for (name, value) in parse_properties(data)? {
            if name == b"Socket-Type" {
                match socket_type_from_name(value) {
                    Some(t) if compatible(ours, t) => {
                        self.socket_type.get_or_insert(t);
                    }
                    _ => return Err(ZmtpError::new(libc::EINVAL, "incompatible Socket-Type")),
                }
            } else if name == b"Identity" && self.routing_id.is_none() {
                self.routing_id = Some(value.to_vec());
            }
            let name = String::from_utf8_lossy(name).into_owned();
            if !self.metadata.iter().any(|(n, _)| *n == name) {
                self.metadata.push((name, value.to_vec()));
            }
        }
        Ok(())
    }
}

/// A PLAIN or CURVE mechanism, client or server.
pub(crate) enum Plain {
    Client(PlainClient),
    Server(PlainServer),
}

pub(crate) enum Curve {
    Client(Box<CurveClient>),
    Server(Box<CurveServer>),
}

/// A mechanism in progress, then in the message phase.
pub(crate) enum Mechanism {
    Null(Null),
    Plain(Plain),
    Curve(Curve),
}

impl Mechanism {
    /// `zap_domain`: a ZAP domain is set (NULL then asks ZAP too). Fails only when the OS
    /// gives no randomness for CURVE's short-term keys.
    pub(crate) fn new(cfg: &MechanismConfig, zap_domain: bool) -> Result<Mechanism, ZmtpError> {
        Ok(match cfg {
            MechanismConfig::Null if zap_domain => Mechanism::Null(Null::with_zap()),
            // Unbuilt never gets here: the handshake refuses the peer first.
            MechanismConfig::Null | MechanismConfig::Unbuilt => Mechanism::Null(Null::default()),
            MechanismConfig::Plain { as_server: true, .. } => {
                Mechanism::Plain(Plain::Server(PlainServer::default()))
            }
            MechanismConfig::Plain { as_server: false, username, password } => {
                Mechanism::Plain(Plain::Client(PlainClient::new(username, password.clone())))
            }
            MechanismConfig::Curve { as_server: true, secret_key, .. } => {
                Mechanism::Curve(Curve::Server(Box::new(CurveServer::new(secret_key.clone())?)))
            }
            MechanismConfig::Curve { as_server: false, public_key, secret_key, server_key } => {
                Mechanism::Curve(Curve::Client(Box::new(CurveClient::new(
                    *public_key,
                    secret_key.clone(),
                    *server_key,
                )?)))
            }
        })
    }

    /// The body of the next command to send, if there is one now. After `zap_reply` has
    /// refused with 400 or 500, this gives the ERROR to send before closing.
    pub(crate) fn next_command(&mut self, local: &Local<'_>) -> Option<Vec<u8>> {
        match self {
            Mechanism::Null(m) => m.next_command(local),
            Mechanism::Plain(Plain::Client(m)) => m.next_command(local),
            Mechanism::Plain(Plain::Server(m)) => m.next_command(local),
            Mechanism::Curve(Curve::Client(m)) => m.next_command(local),
            Mechanism::Curve(Curve::Server(m)) => m.next_command(local),
        }
    }

    /// Takes one frame body from the peer.
    pub(crate) fn process(
        &mut self,
        body: &[u8],
        local: &Local<'_>,
        peer: &mut Peer,
    ) -> Result<(), ZmtpError> {
        match self {
            Mechanism::Null(m) => m.process(body, local, peer),
            Mechanism::Plain(Plain::Client(m)) => m.process(body, local, peer),
            Mechanism::Plain(Plain::Server(m)) => m.process(body, local, peer),
            Mechanism::Curve(Curve::Client(m)) => m.process(body, local, peer),
            Mechanism::Curve(Curve::Server(m)) => m.process(body, local, peer),
        }
    }

    /// Both sides have said all they had to: messages may flow.
    pub(crate) fn is_ready(&self) -> bool {
        match self {
            Mechanism::Null(m) => m.is_ready(),
            Mechanism::Plain(Plain::Client(m)) => m.is_ready(),
            Mechanism::Plain(Plain::Server(m)) => m.is_ready(),
            Mechanism::Curve(Curve::Client(m)) => m.is_ready(),
            Mechanism::Curve(Curve::Server(m)) => m.is_ready(),
        }
    }

    /// A server that has reached the point of asking ZAP gives its request here, once. The
    /// handshake then waits: the pipeline decides with `zap::plan` and either sends the
    /// request (`ZapRequest::frames`) and later calls `zap_reply`, or calls `zap_skip`.
    pub(crate) fn zap_request(&mut self) -> Option<ZapRequest> {
        match self {
            Mechanism::Null(m) => m.zap_request(),
            Mechanism::Plain(Plain::Server(m)) => m.zap_request(),
            Mechanism::Curve(Curve::Server(m)) => m.zap_request(),
            _ => None,
        }
    }

    /// The handler's verdict (see `zap::parse_reply`). 200: the handshake goes on. 300, 400,
    /// 500: Err with HANDSHAKE_FAILED_AUTH and the status; for 400 and 500, send what
    /// `next_command` then gives (an ERROR with the status) before closing, as libzmq does.
    pub(crate) fn zap_reply(&mut self, reply: &ZapReply) -> Result<(), ZmtpError> {
        match self {
            Mechanism::Null(m) => m.zap_reply(reply),
            Mechanism::Plain(Plain::Server(m)) => m.zap_reply(reply),
            Mechanism::Curve(Curve::Server(m)) => m.zap_reply(reply),
            _ => Err(ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED, "no ZAP pending")),
        }
    }

    /// No ZAP exchange: go on (`accept`), or fail with NO_DETAIL/EFAULT as libzmq does
    /// when a required handler is missing.
    pub(crate) fn zap_skip(&mut self, accept: bool) -> Result<(), ZmtpError> {
        match self {
            Mechanism::Null(m) => m.zap_skip(accept),
            Mechanism::Plain(Plain::Server(m)) => m.zap_skip(accept),
            Mechanism::Curve(Curve::Server(m)) => m.zap_skip(accept),
            _ => Err(ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED, "no ZAP pending")),
        }
    }

    /// Whether message frames are boxed (CURVE). For NULL and PLAIN the pipeline may keep
    /// its zero-copy path.
    pub(crate) fn boxes_messages(&self) -> bool {
        matches!(self, Mechanism::Curve(_))
    }

    fn channel(&mut self) -> Result<Option<&mut Channel>, ZmtpError> {
        let ch = match self {
            Mechanism::Curve(Curve::Client(m)) => m.channel(),
            Mechanism::Curve(Curve::Server(m)) => m.channel(),
            _ => return Ok(None),
        };
        ch.map(Some).ok_or_else(|| ZmtpError::proto("message before the handshake is done"))
    }

    /// Appends what goes on the wire for one frame of the message phase. `flags` is
    /// `curve::INNER_MORE` / `INNER_COMMAND`. NULL and PLAIN: the body unchanged (the
    /// flags travel in the frame header). CURVE: a MESSAGE command body, which libzmq
    /// sends as a frame without MORE or COMMAND (both are inside the box).
    pub(crate) fn encode_frame(
        &mut self,
        flags: u8,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ZmtpError> {
        match self.channel()? {
            Some(ch) => ch.encode(flags, body, out),
            None => {
                out.extend_from_slice(body);
                Ok(())
            }
        }
    }

    /// Opens one frame of the message phase: (flags, body). NULL and PLAIN: the body
    /// unchanged, flags 0 (they come from the frame header). CURVE: the MESSAGE is checked
    /// (structure, strictly increasing nonce, MAC) and unboxed.
    pub(crate) fn decode_frame_msg(&mut self, frame_body: &[u8]) -> Result<(u8, Msg), ZmtpError> {
        match self.channel()? {
            Some(ch) => ch.decode(frame_body),
            None => Ok((0, Msg::from_slice(frame_body))),
        }
    }

    #[cfg(test)]
    pub(crate) fn decode_frame(&mut self, frame_body: &[u8]) -> Result<(u8, Vec<u8>), ZmtpError> {
        self.decode_frame_msg(frame_body).map(|(f, m)| (f, m.data().to_vec()))
    }

    /// After the handshake, every frame read passes through here: CURVE opens its MESSAGE
    /// boxes (and rejects what it cannot open; a boxed command comes out as a command);
    /// NULL and PLAIN pass frames through.
    pub(crate) fn unwrap_frame(&mut self, f: Frame) -> Result<Frame, ZmtpError> {
        if !self.boxes_messages() {
            return Ok(f);
        }
        let (flags, mut m) = match &f {
            Frame::Message(m) => self.decode_frame_msg(m.data())?,
            // libzmq sends MESSAGE as a plain frame; a command frame is checked the same way.
            Frame::Command(c) => self.decode_frame_msg(&c.to_body())?,
        };
        if flags & INNER_COMMAND != 0 {
            return Command::parse(m.data())
                .map(Frame::Command)
                .ok_or_else(|| ZmtpError::proto("malformed boxed command"));
        }
        m.set_more(flags & INNER_MORE != 0);
        Ok(Frame::Message(m))
    }

    /// After the handshake, every message sent passes through here on its way into the
    /// encoder: CURVE boxes it into a MESSAGE (sent as a frame without flags, as libzmq).
    pub(crate) fn wrap_message(&mut self, msg: Msg, enc: &mut Encoder) {
        if !self.boxes_messages() {
            return enc.encode(msg);
        }
        let flags = if msg.more() { INNER_MORE } else { 0 };
        let mut out = Vec::with_capacity(msg.data().len() + 33);
        // Fails only once 2^64 nonces are used, which no connection lives to see.
        if self.encode_frame(flags, msg.data(), &mut out).is_ok() {
            enc.encode(Msg::from_vec(out));
        }
    }

    /// A command (PING, PONG, SUBSCRIBE, ...) after the handshake: CURVE boxes it with the
    /// command flag inside; others send it as a command frame. Returns what
    /// `Encoder::encode_command` returns for an unboxed command (true when boxed).
    pub(crate) fn wrap_command(&mut self, cmd: &Command, enc: &mut Encoder) -> bool {
        if !self.boxes_messages() {
            return enc.encode_command(cmd);
        }
        let mut out = Vec::new();
        if self.encode_frame(INNER_COMMAND, &cmd.to_body(), &mut out).is_ok() {
            enc.encode(Msg::from_vec(out));
        }
        true
    }
}

/// An ERROR command's body after its name: libzmq raises HANDSHAKE_FAILED_AUTH when the
/// reason is a ZAP status code ("300", "400", "500"), and no event for other reasons.
pub(crate) fn error_command(data: &[u8]) -> ZmtpError {
    use crate::consts::ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR as MALFORMED;
    let reason = match data.split_first() {
        Some((&n, rest)) if usize::from(n) <= rest.len() => &rest[..usize::from(n)],
        _ => return ZmtpError::protocol(MALFORMED, "malformed ERROR command"),
    };
    let mut e = ZmtpError::proto("peer sent ERROR");
    if let [d @ b'3'..=b'5', b'0', b'0'] = reason {
        e.event = Some(super::MonitorEvent::Auth(i32::from(d - b'0') * 100));
    }
    e
}
