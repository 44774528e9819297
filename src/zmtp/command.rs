//! ZMTP 3.x commands after the handshake: `name-length name data` in a command frame; and
//! the one place where subscriptions change form between messages and commands.

use super::ZmtpError;
use crate::consts::{ZMQ_SUB, ZMQ_XSUB};
use crate::error::ZResult;
use crate::msg::Msg;

/// Longest PING context a PONG echoes (RFC 37).
pub(crate) const PING_CONTEXT_MAX: usize = 16;

/// A command frame, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// Heartbeat request: the sender's TTL in tenths of a second, and a context to echo
    /// (cut to 16 octets, as libzmq does before echoing).
    Ping {
        ttl_deciseconds: u16,
        context: Vec<u8>,
    },
    /// Heartbeat reply.
    Pong {
        context: Vec<u8>,
    },
    /// From a SUB/XSUB peer (ZMTP 3.1).
    Subscribe(Vec<u8>),
    Cancel(Vec<u8>),
    /// ERROR: the reason (at most 255 octets).
    Error(Vec<u8>),
    /// Any other command (READY, JOIN, LEAVE, a mechanism's, ...): name and data.
    Other {
        name: Vec<u8>,
        data: Vec<u8>,
    },
}

impl Command {
    /// Parses a command frame's body; None if it is malformed (no room for the name it
    /// announces, or empty). libzmq drops such commands without closing the connection.
    pub(crate) fn parse(body: &[u8]) -> Option<Command> {
        let (&len, rest) = body.split_first()?;
        let name = rest.get(..usize::from(len))?;
        let data = &rest[name.len()..];
        Some(match name {
            b"PING" => {
                // A PING too short for its TTL is answered with an empty context, where
                // libzmq would echo bytes from beyond the frame.
                let ttl = data.get(..2).map_or(0, |t| u16::from_be_bytes([t[0], t[1]]));
                let ctx = data.get(2..).unwrap_or_default();
                let context = ctx[..ctx.len().min(PING_CONTEXT_MAX)].to_vec();
                Command::Ping { ttl_deciseconds: ttl, context }
            }
            b"PONG" => Command::Pong { context: data.to_vec() },
            b"SUBSCRIBE" => Command::Subscribe(data.to_vec()),
            b"CANCEL" => Command::Cancel(data.to_vec()),
            b"ERROR" => {
                let (&n, reason) = data.split_first()?;
                Command::Error(reason.get(..usize::from(n))?.to_vec())
            }
            _ => Command::Other { name: name.to_vec(), data: data.to_vec() },
        })
    }

    /// The command's name, as on the wire.
    pub(crate) fn name(&self) -> &[u8] {
        match self {
            Command::Ping { .. } => b"PING",
            Command::Pong { .. } => b"PONG",
            Command::Subscribe(_) => b"SUBSCRIBE",
            Command::Cancel(_) => b"CANCEL",
            Command::Error(_) => b"ERROR",
            Command::Other { name, .. } => name,
        }
    }

    /// The frame body: name and data.
    pub(crate) fn to_body(&self) -> Vec<u8> {
        let name = self.name();
        let name = &name[..name.len().min(255)];
        let mut b = Vec::with_capacity(1 + name.len() + 18);
        b.push(name.len() as u8);
        b.extend_from_slice(name);
        match self {
            Command::Ping { ttl_deciseconds, context } => {
                b.extend_from_slice(&ttl_deciseconds.to_be_bytes());
                b.extend_from_slice(&context[..context.len().min(PING_CONTEXT_MAX)]);
            }
            Command::Pong { context } => b.extend_from_slice(context),
            Command::Subscribe(t) | Command::Cancel(t) => b.extend_from_slice(t),
            Command::Error(reason) => {
                let r = &reason[..reason.len().min(255)];
                b.push(r.len() as u8);
                b.extend_from_slice(r);
            }
            Command::Other { data, .. } => b.extend_from_slice(data),
        }
        b
    }
}

/// Subscriptions. SUB and XSUB send a `1 topic` (subscribe) or `0 topic` (cancel)
/// message; from ZMTP 3.1 on, the wire carries it as a SUBSCRIBE or CANCEL command, and
/// PUB/XPUB receive it as the same message again.
///
/// Whether the single-frame message `msg`, sent by a socket of `socket_type`, is a
/// subscription (Some(true)) or a cancellation (Some(false)). The topic is `msg[1..]`.
pub(crate) fn subscription_kind(socket_type: i32, msg: &Msg) -> Option<bool> {
    if !matches!(socket_type, ZMQ_SUB | ZMQ_XSUB) || msg.more() {
        return None;
    }
    match msg.data().first() {
        Some(1) => Some(true),
        Some(0) => Some(false),
        _ => None,
    }
}

/// The message PUB/XPUB receive for a SUBSCRIBE (`1 topic`) or CANCEL (`0 topic`).
pub(crate) fn subscription_message(subscribe: bool, topic: &[u8]) -> Result<Msg, ZmtpError> {
    let mut m = Msg::with_size(topic.len() + 1)
        .map_err(|_| ZmtpError::new(libc::ENOMEM, "no memory for a subscription"))?;
    let d = m.data_mut();
    d[0] = u8::from(subscribe);
    d[1..].copy_from_slice(topic);
    Ok(m)
}

/// RADIO/DISH (RFC 48): a DISH's join or leave travels in its pipe in the form libzmq's
/// DISH session hands to the wire, a command-flagged `\x04JOIN group` / `\x05LEAVE group`
/// message, and on ZMTP (3.0 and 3.1 alike, as libzmq 4.3 sends it) as that command frame.
pub(crate) fn group_command(join: bool, group: &[u8]) -> ZResult<Msg> {
    let name: &[u8] = if join { b"\x04JOIN" } else { b"\x05LEAVE" };
    let mut m = Msg::with_size(name.len() + group.len())?;
    let d = m.data_mut();
    d[..name.len()].copy_from_slice(name);
    d[name.len()..].copy_from_slice(group);
    m.set_flags(Msg::COMMAND);
    Ok(m)
}

/// A JOIN (true) or LEAVE (false) from a DISH, and its group; None for anything else.
pub(crate) fn parse_group_command(msg: &Msg) -> Option<(bool, &[u8])> {
    if msg.flags() & Msg::COMMAND == 0 {
        return None;
    }
    let d = msg.data();
    if let Some(g) = d.strip_prefix(b"\x04JOIN") {
        Some((true, g))
    } else {
        d.strip_prefix(b"\x05LEAVE").map(|g| (false, g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(c: Command) {
        assert_eq!(Command::parse(&c.to_body()), Some(c));
    }

    #[test]
    fn round_trips() {
        rt(Command::Ping { ttl_deciseconds: 20, context: b"ctx".to_vec() });
        rt(Command::Ping { ttl_deciseconds: 0, context: vec![] });
        rt(Command::Pong { context: b"0123456789abcdef".to_vec() });
        rt(Command::Subscribe(b"topic".to_vec()));
        rt(Command::Subscribe(vec![]));
        rt(Command::Cancel(vec![0, 1, 2]));
        rt(Command::Error(b"no".to_vec()));
        rt(Command::Other { name: b"JOIN".to_vec(), data: b"group".to_vec() });
    }

    #[test]
    fn wire_bytes() {
        // What libzmq 4.3 sends: a PING with a TTL of 2 s and no context.
        let ping = Command::Ping { ttl_deciseconds: 20, context: vec![] };
        assert_eq!(ping.to_body(), b"\x04PING\x00\x14");
        assert_eq!(Command::Subscribe(b"ab".to_vec()).to_body(), b"\x09SUBSCRIBEab");
        assert_eq!(Command::Cancel(b"ab".to_vec()).to_body(), b"\x06CANCELab");
        assert_eq!(Command::Error(b"x".to_vec()).to_body(), b"\x05ERROR\x01x");
    }

    #[test]
    fn lenient_and_malformed() {
        assert_eq!(Command::parse(b""), None);
        assert_eq!(Command::parse(b"\x09SUBSCRIB"), None);
        assert_eq!(Command::parse(b"\x05ERROR\x09abc"), None);
        assert_eq!(
            Command::parse(b"\x04PING"),
            Some(Command::Ping { ttl_deciseconds: 0, context: vec![] })
        );
        // A long context is cut to what PONG may echo.
        let p = Command::parse(b"\x04PING\x00\x0a0123456789abcdefXYZ").unwrap();
        assert_eq!(p, Command::Ping { ttl_deciseconds: 10, context: b"0123456789abcdef".to_vec() });
        assert_eq!(Command::parse(b"\x00"), Some(Command::Other { name: vec![], data: vec![] }));
    }
}
