//! ZAP (RFC 27) as data: what a server mechanism asks, the request frames a socket sends to
//! `inproc://zeromq.zap.01`, the reply parsed and checked as libzmq 4.3's zap_client.cpp
//! checks it, and libzmq's rules for when to ask at all. No sockets here: the connection
//! pipeline sends the frames and hands the reply back to the mechanism.

use super::metadata::parse_properties;
use super::{MonitorEvent, ZmtpError};
use crate::consts::*;
use zeroize::Zeroize;

/// The ZAP endpoint a handler binds.
pub(crate) const ZAP_ENDPOINT: &str = "inproc://zeromq.zap.01";
/// libzmq sends one request at a time per connection, always with this id.
pub(crate) const REQUEST_ID: &[u8] = b"1";
const VERSION: &[u8] = b"1.0";

/// What a server mechanism wants ZAP to judge. Credentials (a password, a key) are zeroed
/// when the request is dropped.
#[derive(Debug)]
pub(crate) struct ZapRequest {
    /// "NULL", "PLAIN" or "CURVE".
    pub(crate) mechanism: &'static str,
    /// PLAIN: username, password. CURVE: the client's long-term public key (32 octets).
    /// NULL: none.
    pub(crate) credentials: Vec<Vec<u8>>,
}

impl ZapRequest {
    pub(crate) fn new(mechanism: &'static str, credentials: Vec<Vec<u8>>) -> ZapRequest {
        ZapRequest { mechanism, credentials }
    }

    /// The request's frames, as libzmq sends them: an empty delimiter, "1.0", the request
    /// id, the socket's ZAP domain, the peer's address (IP text for tcp), the socket's own
    /// routing id, the mechanism, then the credentials. Every frame but the last has MORE.
    pub(crate) fn frames(&self, domain: &[u8], address: &[u8], routing_id: &[u8]) -> Vec<Vec<u8>> {
        let mut f = vec![
            Vec::new(),
            VERSION.to_vec(),
            REQUEST_ID.to_vec(),
            domain.to_vec(),
            address.to_vec(),
            routing_id.to_vec(),
            self.mechanism.as_bytes().to_vec(),
        ];
        f.extend(self.credentials.iter().cloned());
        f
    }
}

impl Drop for ZapRequest {
    fn drop(&mut self) {
        for c in &mut self.credentials {
            c.zeroize();
        }
    }
}

/// A well-formed ZAP reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ZapReply {
    /// 200, 300, 400 or 500.
    pub(crate) status: u16,
    /// The User-Id property of every message of the connection (`zmq_msg_gets`).
    pub(crate) user_id: Vec<u8>,
    /// Further properties for `zmq_msg_gets`; the first of duplicate names wins.
    pub(crate) metadata: Vec<(String, Vec<u8>)>,
}

fn zap_error(code: i32, what: &'static str) -> ZmtpError {
    ZmtpError::protocol(code, what)
}

/// Checks a complete reply message (all its frames), in libzmq's order: exactly 7 frames
/// (MALFORMED_REPLY), an empty delimiter (UNSPECIFIED), version "1.0" (BAD_VERSION), our
/// request id (BAD_REQUEST_ID), a status of 200/300/400/500 (INVALID_STATUS_CODE), and a
/// well-formed metadata frame (INVALID_METADATA). The status text is not looked at.
pub(crate) fn parse_reply<F: AsRef<[u8]>>(
    frames: &[F],
    request_id: &[u8],
) -> Result<ZapReply, ZmtpError> {
    if frames.len() != 7 {
        return Err(zap_error(
            ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY,
            "ZAP reply of the wrong length",
        ));
    }
    let f = |i: usize| frames[i].as_ref();
    if !f(0).is_empty() {
        return Err(zap_error(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED, "ZAP reply without delimiter"));
    }
    if f(1) != VERSION {
        return Err(zap_error(ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION, "ZAP reply of another version"));
    }
    if f(2) != request_id {
        return Err(zap_error(
            ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID,
            "ZAP reply to another request",
        ));
    }
    let status = match f(3) {
        [d @ b'2'..=b'5', b'0', b'0'] => u16::from(d - b'0') * 100,
        _ => {
            return Err(zap_error(
                ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE,
                "bad ZAP status code",
            ))
        }
    };
    let props = parse_properties(f(6))
        .map_err(|_| zap_error(ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA, "bad ZAP metadata"))?;
    let mut metadata: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, value) in props {
        let name = String::from_utf8_lossy(name).into_owned();
        if !metadata.iter().any(|(n, _)| *n == name) {
            metadata.push((name, value.to_vec()));
        }
    }
    Ok(ZapReply { status, user_id: f(5).to_vec(), metadata })
}

/// What to do when a server mechanism reaches the point of asking ZAP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ZapPlan {
    /// Send the request and wait for the reply (`zap_reply`).
    Ask,
    /// Go on without ZAP (`zap_skip(true)`).
    Accept,
    /// Fail the handshake: HANDSHAKE_FAILED_NO_DETAIL with EFAULT (`zap_skip(false)`).
    Refuse,
}

/// libzmq 4.3's rules, from plain_server.cpp, curve_server.cpp and null_mechanism.cpp:
/// - PLAIN always asks; without a handler it refuses.
/// - CURVE asks when a domain is set or ZMQ_ZAP_ENFORCE_DOMAIN is off; without a handler it
///   then accepts unless enforcing (the "Stonehouse" pattern: encryption without
///   authentication); with no domain and enforcing it accepts without asking.
/// - NULL asks only when a domain is set; without a handler it accepts unless enforcing.
pub(crate) fn plan(
    mechanism: &str,
    handler_bound: bool,
    domain_set: bool,
    enforce_domain: bool,
) -> ZapPlan {
    let fallback = if enforce_domain { ZapPlan::Refuse } else { ZapPlan::Accept };
    let wants = match mechanism {
        "PLAIN" => return if handler_bound { ZapPlan::Ask } else { ZapPlan::Refuse },
        "CURVE" => domain_set || !enforce_domain,
        _ => domain_set,
    };
    match (wants, handler_bound) {
        (false, _) => ZapPlan::Accept,
        (true, true) => ZapPlan::Ask,
        (true, false) => fallback,
    }
}

/// ERROR with a ZAP status code as its reason.
pub(crate) fn zap_error_body(status: u16) -> Vec<u8> {
    let mut b = b"\x05ERROR\x03".to_vec();
    b.extend_from_slice(status.to_string().as_bytes());
    b
}

/// No ZAP handler where one is required: libzmq's HANDSHAKE_FAILED_NO_DETAIL with EFAULT.
pub(crate) fn zap_unavailable() -> ZmtpError {
    ZmtpError {
        errno: libc::EFAULT,
        event: Some(MonitorEvent::NoDetail(libc::EFAULT)),
        what: "no ZAP handler",
    }
}

/// What a ZAP status does to a server, as libzmq's handle_zap_status_code: 200 goes on; 300
/// closes silently (no ERROR, as CurveZMQ says for a temporary failure); 400 and 500 send
/// ERROR with the code, then close. Every failure raises HANDSHAKE_FAILED_AUTH now.
pub(crate) fn zap_outcome<S>(
    status: u16,
    ok: S,
    send_error: impl FnOnce(u16) -> S,
    failed: S,
) -> (S, Result<(), ZmtpError>) {
    if status == 200 {
        return (ok, Ok(()));
    }
    let e = ZmtpError {
        errno: libc::EPROTO,
        event: Some(MonitorEvent::Auth(i32::from(status))),
        what: "refused by ZAP",
    };
    if status == 300 {
        (failed, Err(e))
    } else {
        (send_error(status), Err(e))
    }
}

/// ZAP's verdict for a server whose state `waiting` says it asked: the state moves to `ok`,
/// `send_error(status)` or `failed` (see `zap_outcome`). Shared by NULL, PLAIN and CURVE.
pub(crate) fn apply_reply<S>(
    state: &mut S,
    waiting: bool,
    status: u16,
    ok: S,
    send_error: impl FnOnce(u16) -> S,
    failed: S,
) -> Result<(), ZmtpError> {
    if !waiting {
        return Err(ZmtpError::protocol(
            ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED,
            "ZAP reply out of turn",
        ));
    }
    let (next, r) = zap_outcome(status, ok, send_error, failed);
    *state = next;
    r
}

/// No ZAP exchange for a server that was about to ask: go on (`accept`) to `ok`, or fail as
/// libzmq does without a required handler.
pub(crate) fn apply_skip<S>(
    state: &mut S,
    waiting: bool,
    accept: bool,
    ok: S,
    failed: S,
) -> Result<(), ZmtpError> {
    if !waiting {
        return Err(ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED, "no ZAP pending"));
    }
    if accept {
        *state = ok;
        Ok(())
    } else {
        *state = failed;
        Err(zap_unavailable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zmtp::metadata::put_property;
    use crate::zmtp::MonitorEvent;

    fn reply(status: &[u8], meta: &[u8]) -> Vec<Vec<u8>> {
        vec![
            vec![],
            b"1.0".to_vec(),
            b"1".to_vec(),
            status.to_vec(),
            b"OK".to_vec(),
            b"anonymous".to_vec(),
            meta.to_vec(),
        ]
    }

    fn code(r: Result<ZapReply, ZmtpError>) -> i32 {
        match r.unwrap_err().event {
            Some(MonitorEvent::Protocol(c)) => c,
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn request_frames() {
        let r = ZapRequest::new("PLAIN", vec![b"admin".to_vec(), b"pw".to_vec()]);
        let f = r.frames(b"global", b"127.0.0.1", b"IDENT");
        let want: Vec<&[u8]> =
            vec![b"", b"1.0", b"1", b"global", b"127.0.0.1", b"IDENT", b"PLAIN", b"admin", b"pw"];
        assert_eq!(f, want);
        let f = ZapRequest::new("NULL", vec![]).frames(b"", b"", b"");
        assert_eq!(f.len(), 7);
    }

    #[test]
    fn replies() {
        let mut meta = Vec::new();
        put_property(&mut meta, b"Hello", b"World");
        put_property(&mut meta, b"Hello", b"Again");
        let r = parse_reply(&reply(b"200", &meta), REQUEST_ID).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.user_id, b"anonymous");
        assert_eq!(r.metadata, vec![("Hello".to_string(), b"World".to_vec())]);
        for s in [300, 400, 500] {
            let r = parse_reply(&reply(s.to_string().as_bytes(), b""), REQUEST_ID).unwrap();
            assert_eq!(r.status, s);
        }
    }

    #[test]
    fn malformed_replies() {
        let good = reply(b"200", b"");
        assert_eq!(
            code(parse_reply(&good[..6], REQUEST_ID)),
            ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY
        );
        let mut long = good.clone();
        long.push(vec![]);
        assert_eq!(code(parse_reply(&long, REQUEST_ID)), ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY);
        let mut r = good.clone();
        r[0] = b"x".to_vec();
        assert_eq!(code(parse_reply(&r, REQUEST_ID)), ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED);
        let mut r = good.clone();
        r[1] = b"2.0".to_vec();
        assert_eq!(code(parse_reply(&r, REQUEST_ID)), ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION);
        assert_eq!(code(parse_reply(&good, b"2")), ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID);
        for s in [&b"201"[..], b"600", b"100", b"20", b"2000", b""] {
            let r = reply(s, b"");
            assert_eq!(
                code(parse_reply(&r, REQUEST_ID)),
                ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE
            );
        }
        let r = reply(b"200", b"\x05Hello\x00\x00\x00\x09World");
        assert_eq!(code(parse_reply(&r, REQUEST_ID)), ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA);
    }

    #[test]
    fn plans() {
        use ZapPlan::*;
        assert_eq!(plan("PLAIN", true, false, false), Ask);
        assert_eq!(plan("PLAIN", false, true, false), Refuse);
        assert_eq!(plan("CURVE", true, false, false), Ask);
        assert_eq!(plan("CURVE", false, false, false), Accept);
        assert_eq!(plan("CURVE", false, true, true), Refuse);
        assert_eq!(plan("CURVE", true, false, true), Accept);
        assert_eq!(plan("NULL", true, false, false), Accept);
        assert_eq!(plan("NULL", true, true, false), Ask);
        assert_eq!(plan("NULL", false, true, false), Accept);
        assert_eq!(plan("NULL", false, true, true), Refuse);
    }
}
