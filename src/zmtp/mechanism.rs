//! Security mechanisms, a closed set: each one is a state machine that produces handshake
//! command bodies to send and consumes the peer's, and is then kept for the life of the
//! connection, because a mechanism may transform every frame after the handshake (CURVE
//! boxes each one into a MESSAGE command). NULL now; PLAIN and CURVE slot in as further
//! variants of `MechanismConfig` and `Mechanism`.

use super::decoder::Frame;
use super::encoder::Encoder;
use super::metadata::{parse_properties, put_property};
use super::null::Null;
use super::socket_type::{compatible, sends_identity, socket_type_from_name, socket_type_name};
use super::ZmtpError;
use crate::msg::Msg;

/// The mechanism a socket demands (ZMQ_MECHANISM with its keys and credentials).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum MechanismConfig {
    #[default]
    Null,
    /// The socket asks for a mechanism this build lacks: we announce NULL and refuse every
    /// peer where libzmq would stop talking to it (never a silent fallback to NULL).
    Unbuilt,
}

impl MechanismConfig {
    /// The name in the greeting, NUL-padded to 20 octets.
    pub(crate) fn greeting_name(&self) -> [u8; 20] {
        let name: &[u8] = match self {
            MechanismConfig::Null | MechanismConfig::Unbuilt => b"NULL",
        };
        let mut out = [0u8; 20];
        out[..name.len()].copy_from_slice(name);
        out
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, MechanismConfig::Null)
    }

    /// The as-server octet of our greeting (only mechanisms with roles set it).
    pub(crate) fn announces_server(&self, _as_server: bool) -> bool {
        match self {
            MechanismConfig::Null | MechanismConfig::Unbuilt => false,
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

/// A mechanism in progress.
pub(crate) enum Mechanism {
    Null(Null),
}

impl Mechanism {
    pub(crate) fn new(cfg: &MechanismConfig) -> Mechanism {
        match cfg {
            // Unbuilt never gets here: the handshake refuses the peer first.
            MechanismConfig::Null | MechanismConfig::Unbuilt => Mechanism::Null(Null::default()),
        }
    }

    /// The body of the next command to send, if there is one now.
    pub(crate) fn next_command(&mut self, local: &Local<'_>) -> Option<Vec<u8>> {
        match self {
            Mechanism::Null(m) => m.next_command(local),
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
        }
    }

    /// Both sides have said all they had to: messages may flow.
    pub(crate) fn is_ready(&self) -> bool {
        match self {
            Mechanism::Null(m) => m.is_ready(),
        }
    }

    /// After the handshake, every frame read passes through here: a mechanism that boxes
    /// traffic opens it (and rejects what it cannot open); NULL passes frames through.
    pub(crate) fn unwrap_frame(&mut self, f: Frame) -> Result<Frame, ZmtpError> {
        match self {
            Mechanism::Null(_) => Ok(f),
        }
    }

    /// After the handshake, every message sent passes through here on its way into the
    /// encoder (boxed by mechanisms that encrypt).
    pub(crate) fn wrap_message(&mut self, msg: Msg, enc: &mut Encoder) {
        match self {
            Mechanism::Null(_) => enc.encode(msg),
        }
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
