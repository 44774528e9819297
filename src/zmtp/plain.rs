//! PLAIN (RFC 24): client and server handshakes, as I/O-free state machines.
//!
//! This file owns the PLAIN command layouts (HELLO with username and password, WELCOME,
//! INITIATE and READY with metadata, ERROR) and the server's pause for ZAP. As libzmq 4.3's
//! plain_server.cpp, the server always asks ZAP and refuses the connection when no handler
//! is bound (HANDSHAKE_FAILED_NO_DETAIL, EFAULT): there is no point to PLAIN without
//! something checking the password. Error codes follow plain_client.cpp / plain_server.cpp.
//! Messages are not transformed after the handshake.

use super::mechanism::{error_command, Local, Peer, SecretBytes};
use super::zap::{self, zap_error_body, ZapReply, ZapRequest};
use super::{MonitorEvent, ZmtpError};
use crate::consts::*;

/// The ERROR command's name as libzmq's PLAIN writes and expects it. libzmq spells it
/// "\x05ERROR" in C, where the hex escape swallows the 'E': the name is the five octets
/// "^RROR" (0x5E 'R' 'R' 'O' 'R') with no length octet, and its PLAIN client answers the
/// RFC's "\x05ERROR" with UNEXPECTED_COMMAND. NULL and CURVE spell it correctly.
const LIBZMQ_PLAIN_ERROR: &[u8] = b"\x5eRROR";

fn unexpected(what: &'static str) -> ZmtpError {
    ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND, what)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientState {
    SendHello,
    ExpectWelcome,
    SendInitiate,
    ExpectReady,
    Ready,
    Failed,
}

/// A PLAIN client: sends its credentials in the clear.
pub(crate) struct PlainClient {
    state: ClientState,
    username: Vec<u8>,
    password: SecretBytes,
}

impl PlainClient {
    /// Names and passwords over 255 octets are cut (libzmq refuses them at setsockopt).
    pub(crate) fn new(username: &[u8], password: SecretBytes) -> PlainClient {
        PlainClient { state: ClientState::SendHello, username: username.to_vec(), password }
    }

    pub(crate) fn next_command(&mut self, local: &Local<'_>) -> Option<Vec<u8>> {
        match self.state {
            ClientState::SendHello => {
                let user = &self.username[..self.username.len().min(255)];
                let pass = &self.password.as_bytes()[..self.password.as_bytes().len().min(255)];
                let mut b = Vec::with_capacity(8 + user.len() + pass.len());
                b.extend_from_slice(b"\x05HELLO");
                b.push(user.len() as u8);
                b.extend_from_slice(user);
                b.push(pass.len() as u8);
                b.extend_from_slice(pass);
                self.state = ClientState::ExpectWelcome;
                Some(b)
            }
            ClientState::SendInitiate => {
                let mut b = b"\x08INITIATE".to_vec();
                local.put_properties(&mut b);
                self.state = ClientState::ExpectReady;
                Some(b)
            }
            _ => None,
        }
    }

    pub(crate) fn process(
        &mut self,
        body: &[u8],
        local: &Local<'_>,
        peer: &mut Peer,
    ) -> Result<(), ZmtpError> {
        let r = self.process_inner(body, local, peer);
        if r.is_err() {
            self.state = ClientState::Failed;
        }
        r
    }

    fn process_inner(
        &mut self,
        body: &[u8],
        local: &Local<'_>,
        peer: &mut Peer,
    ) -> Result<(), ZmtpError> {
        if body.starts_with(b"\x07WELCOME") {
            if self.state != ClientState::ExpectWelcome {
                return Err(unexpected("WELCOME out of turn"));
            }
            if body.len() != 8 {
                return Err(ZmtpError::protocol(
                    ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME,
                    "WELCOME with data",
                ));
            }
            self.state = ClientState::SendInitiate;
            return Ok(());
        }
        if let Some(props) = body.strip_prefix(b"\x05READY") {
            if self.state != ClientState::ExpectReady {
                return Err(unexpected("READY out of turn"));
            }
            // libzmq raises INVALID_METADATA and keeps parse_metadata's errno.
            peer.accept_properties(props, local.socket_type).map_err(|mut e| {
                e.event = Some(MonitorEvent::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA));
                e
            })?;
            self.state = ClientState::Ready;
            return Ok(());
        }
        // libzmq's name first; the RFC's too, from other implementations.
        let error =
            body.strip_prefix(LIBZMQ_PLAIN_ERROR).or_else(|| body.strip_prefix(b"\x05ERROR"));
        if let Some(data) = error {
            if !matches!(self.state, ClientState::ExpectWelcome | ClientState::ExpectReady) {
                return Err(unexpected("ERROR out of turn"));
            }
            return Err(error_command(data));
        }
        Err(unexpected("expected WELCOME, READY or ERROR"))
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.state == ClientState::Ready
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServerState {
    ExpectHello,
    /// HELLO parsed; the ZAP request is waiting to be taken (false) or answered.
    Zap {
        requested: bool,
    },
    SendWelcome,
    ExpectInitiate,
    SendReady,
    SendError(u16),
    Ready,
    Failed,
}

/// A PLAIN server: hands the credentials to ZAP and waits for its verdict.
pub(crate) struct PlainServer {
    state: ServerState,
    username: Vec<u8>,
    password: SecretBytes,
}

impl Default for PlainServer {
    fn default() -> PlainServer {
        PlainServer {
            state: ServerState::ExpectHello,
            username: Vec::new(),
            password: SecretBytes::default(),
        }
    }
}

impl PlainServer {
    pub(crate) fn next_command(&mut self, local: &Local<'_>) -> Option<Vec<u8>> {
        match self.state {
            ServerState::SendWelcome => {
                self.state = ServerState::ExpectInitiate;
                Some(b"\x07WELCOME".to_vec())
            }
            ServerState::SendReady => {
                let mut b = b"\x05READY".to_vec();
                local.put_properties(&mut b);
                self.state = ServerState::Ready;
                Some(b)
            }
            ServerState::SendError(status) => {
                self.state = ServerState::Failed;
                let mut b = zap_error_body(status);
                b.splice(..6, LIBZMQ_PLAIN_ERROR.iter().copied());
                Some(b)
            }
            _ => None,
        }
    }

    pub(crate) fn process(
        &mut self,
        body: &[u8],
        local: &Local<'_>,
        peer: &mut Peer,
    ) -> Result<(), ZmtpError> {
        let r = match self.state {
            ServerState::ExpectHello => self.hello(body),
            ServerState::ExpectInitiate => {
                let Some(props) = body.strip_prefix(b"\x08INITIATE") else {
                    return Err(unexpected("expected INITIATE"));
                };
                // As libzmq: no monitor event for bad metadata here.
                peer.accept_properties(props, local.socket_type).map(|()| {
                    self.state = ServerState::SendReady;
                })
            }
            _ => {
                Err(ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED, "command out of turn"))
            }
        };
        if r.is_err() {
            self.state = ServerState::Failed;
        }
        r
    }

    fn hello(&mut self, body: &[u8]) -> Result<(), ZmtpError> {
        if body.len() <= 1 || body.len() <= usize::from(body[0]) {
            return Err(ZmtpError::protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
                "malformed command",
            ));
        }
        let Some(rest) = body.strip_prefix(b"\x05HELLO") else {
            return Err(unexpected("expected HELLO"));
        };
        let malformed = || {
            ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO, "malformed HELLO")
        };
        let (&ulen, rest) = rest.split_first().ok_or_else(malformed)?;
        let user = rest.get(..usize::from(ulen)).ok_or_else(malformed)?;
        let rest = &rest[user.len()..];
        let (&plen, pass) = rest.split_first().ok_or_else(malformed)?;
        if pass.len() != usize::from(plen) {
            return Err(malformed());
        }
        self.username = user.to_vec();
        self.password = SecretBytes::new(pass.to_vec());
        self.state = ServerState::Zap { requested: false };
        Ok(())
    }

    /// The ZAP request with username and password, once HELLO has arrived.
    pub(crate) fn zap_request(&mut self) -> Option<ZapRequest> {
        if self.state != (ServerState::Zap { requested: false }) {
            return None;
        }
        self.state = ServerState::Zap { requested: true };
        let pass = self.password.as_bytes().to_vec();
        Some(ZapRequest::new("PLAIN", vec![self.username.clone(), pass]))
    }

    pub(crate) fn zap_reply(&mut self, reply: &ZapReply) -> Result<(), ZmtpError> {
        let waiting = matches!(self.state, ServerState::Zap { .. });
        let (ok, failed) = (ServerState::SendWelcome, ServerState::Failed);
        zap::apply_reply(&mut self.state, waiting, reply.status, ok, ServerState::SendError, failed)
    }

    /// No ZAP exchange: go on only when told to accept (the pipeline decides with
    /// `zap::plan`).
    pub(crate) fn zap_skip(&mut self, accept: bool) -> Result<(), ZmtpError> {
        let waiting = matches!(self.state, ServerState::Zap { .. });
        zap::apply_skip(
            &mut self.state,
            waiting,
            accept,
            ServerState::SendWelcome,
            ServerState::Failed,
        )
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.state == ServerState::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::super::zap::ZapReply;
    use super::*;

    fn local() -> Local<'static> {
        Local { socket_type: ZMQ_DEALER, routing_id: b"", metadata: &[] }
    }

    fn ok_reply(status: u16) -> ZapReply {
        ZapReply { status, user_id: b"admin".to_vec(), metadata: vec![] }
    }

    /// Runs both sides to completion, answering ZAP with `status` (None: skip, accepting).
    fn run(
        client: &mut PlainClient,
        server: &mut PlainServer,
        status: Option<u16>,
    ) -> Result<(), ZmtpError> {
        let l = local();
        let (mut cp, mut sp) = (Peer::default(), Peer::default());
        for _ in 0..10 {
            while let Some(b) = client.next_command(&l) {
                server.process(&b, &l, &mut sp)?;
            }
            if let Some(req) = server.zap_request() {
                assert_eq!(req.mechanism, "PLAIN");
                assert_eq!(req.credentials[0], b"admin");
                assert_eq!(req.credentials[1], b"secret");
                match status {
                    Some(s) => server.zap_reply(&ok_reply(s))?,
                    None => server.zap_skip(true)?,
                }
            }
            while let Some(b) = server.next_command(&l) {
                client.process(&b, &l, &mut cp)?;
            }
            if client.is_ready() && server.is_ready() {
                assert_eq!(cp.socket_type, Some(ZMQ_DEALER));
                assert_eq!(sp.socket_type, Some(ZMQ_DEALER));
                return Ok(());
            }
        }
        panic!("no progress");
    }

    fn pair() -> (PlainClient, PlainServer) {
        (PlainClient::new(b"admin", SecretBytes::new(b"secret".to_vec())), PlainServer::default())
    }

    #[test]
    fn handshake_with_zap_allow() {
        let (mut c, mut s) = pair();
        run(&mut c, &mut s, Some(200)).unwrap();
        let (mut c, mut s) = pair();
        run(&mut c, &mut s, None).unwrap();
    }

    #[test]
    fn server_waits_for_zap() {
        let (mut c, mut s) = pair();
        let l = local();
        let mut p = Peer::default();
        let hello = c.next_command(&l).unwrap();
        assert_eq!(hello, b"\x05HELLO\x05admin\x06secret");
        s.process(&hello, &l, &mut p).unwrap();
        assert!(s.next_command(&l).is_none(), "WELCOME before the ZAP reply");
        assert!(s.zap_request().is_some());
        assert!(s.zap_request().is_none(), "one request only");
        assert!(s.next_command(&l).is_none());
        s.zap_reply(&ok_reply(200)).unwrap();
        assert_eq!(s.next_command(&l).unwrap(), b"\x07WELCOME");
    }

    #[test]
    fn zap_denials() {
        for (status, error_sent) in [(300, false), (400, true), (500, true)] {
            let (mut c, mut s) = pair();
            let e = run(&mut c, &mut s, Some(status)).unwrap_err();
            assert_eq!(e.event, Some(MonitorEvent::Auth(i32::from(status))));
            let next = s.next_command(&local());
            assert_eq!(next.is_some(), error_sent, "status {status}");
            if let Some(b) = next {
                assert_eq!(b, format!("^RROR\x03{status}").as_bytes());
                let e = c.process(&b, &local(), &mut Peer::default()).unwrap_err();
                assert_eq!(e.event, Some(MonitorEvent::Auth(i32::from(status))));
            }
            assert!(s.next_command(&local()).is_none());
        }
        let (_, mut s) = pair();
        let l = local();
        s.process(b"\x05HELLO\x00\x00", &l, &mut Peer::default()).unwrap();
        let e = s.zap_skip(false).unwrap_err();
        assert_eq!(e.event, Some(MonitorEvent::NoDetail(libc::EFAULT)));
    }

    #[test]
    fn malformed_hello() {
        let l = local();
        let cases: &[(&[u8], i32)] = &[
            (b"", ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
            (b"\x05HELL", ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
            (b"\x05READY", ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
            (b"\x05HELLO", ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO),
            (b"\x05HELLO\x05adm", ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO),
            (b"\x05HELLO\x01a", ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO),
            (b"\x05HELLO\x01a\x02b", ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO),
            (b"\x05HELLO\x01a\x01bc", ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO),
        ];
        for (body, code) in cases {
            let mut s = PlainServer::default();
            let e = s.process(body, &l, &mut Peer::default()).unwrap_err();
            assert_eq!(e.event, Some(MonitorEvent::Protocol(*code)), "{body:?}");
            assert!(s.zap_request().is_none());
        }
    }

    #[test]
    fn client_errors() {
        let l = local();
        let mut c = PlainClient::new(b"u", SecretBytes::default());
        c.next_command(&l);
        let e = c.process(b"\x05READY", &l, &mut Peer::default()).unwrap_err();
        assert_eq!(
            e.event,
            Some(MonitorEvent::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND))
        );

        let mut c = PlainClient::new(b"u", SecretBytes::default());
        c.next_command(&l);
        let e = c.process(b"\x07WELCOMEx", &l, &mut Peer::default()).unwrap_err();
        assert_eq!(
            e.event,
            Some(MonitorEvent::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME))
        );

        let mut c = PlainClient::new(b"u", SecretBytes::default());
        c.next_command(&l);
        c.process(b"\x07WELCOME", &l, &mut Peer::default()).unwrap();
        c.next_command(&l).unwrap();
        let e = c.process(b"\x05READY\x01", &l, &mut Peer::default()).unwrap_err();
        assert_eq!(e.event, Some(MonitorEvent::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA)));

        let mut c = PlainClient::new(b"u", SecretBytes::default());
        c.next_command(&l);
        let e = c.process(b"\x05ERROR\x09", &l, &mut Peer::default()).unwrap_err();
        assert_eq!(
            e.event,
            Some(MonitorEvent::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR))
        );

        // libzmq's spelling of ERROR and the RFC's both carry the status.
        for error in [&b"^RROR\x03400"[..], b"\x05ERROR\x03400"] {
            let mut c = PlainClient::new(b"u", SecretBytes::default());
            c.next_command(&l);
            let e = c.process(error, &l, &mut Peer::default()).unwrap_err();
            assert_eq!(e.event, Some(MonitorEvent::Auth(400)));
        }
    }
}
