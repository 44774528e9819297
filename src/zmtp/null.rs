//! The NULL mechanism (RFC 37): each side sends READY with its metadata; done when both
//! have. With a ZAP domain set, each side first asks ZAP (mechanism "NULL", no
//! credentials) and sends READY only once it allows, as libzmq's null_mechanism does.

use super::mechanism::{error_command, Local, Peer};
use super::zap::{self, zap_error_body, ZapReply, ZapRequest};
use super::ZmtpError;
use crate::consts::ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND;

/// Where NULL's ZAP exchange stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Zap {
    /// No ZAP domain: READY goes at once.
    #[default]
    Off,
    /// A request is due (`zap_request` gives it).
    Want,
    Asked,
    Allowed,
    /// Refused with 400/500: an ERROR with the status goes out, then nothing.
    SendError(u16),
    Failed,
}

#[derive(Default)]
pub(crate) struct Null {
    ready_sent: bool,
    ready_received: bool,
    zap: Zap,
}

impl Null {
    /// NULL for a socket with a ZAP domain: READY waits for ZAP's verdict.
    pub(crate) fn with_zap() -> Null {
        Null { zap: Zap::Want, ..Null::default() }
    }

    pub(crate) fn next_command(&mut self, local: &Local<'_>) -> Option<Vec<u8>> {
        match self.zap {
            Zap::Off | Zap::Allowed => {}
            Zap::SendError(status) => {
                self.zap = Zap::Failed;
                return Some(zap_error_body(status));
            }
            Zap::Want | Zap::Asked | Zap::Failed => return None,
        }
        if self.ready_sent {
            return None;
        }
        self.ready_sent = true;
        let mut body = b"\x05READY".to_vec();
        local.put_properties(&mut body);
        Some(body)
    }

    /// libzmq looks only at the body: a READY sent as a message frame is accepted too.
    pub(crate) fn process(
        &mut self,
        body: &[u8],
        local: &Local<'_>,
        peer: &mut Peer,
    ) -> Result<(), ZmtpError> {
        if self.ready_received {
            return Err(ZmtpError::protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND,
                "command after READY",
            ));
        }
        if let Some(props) = body.strip_prefix(b"\x05READY") {
            self.ready_received = true;
            return peer.accept_properties(props, local.socket_type);
        }
        if let Some(data) = body.strip_prefix(b"\x05ERROR") {
            return Err(error_command(data));
        }
        Err(ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND, "expected READY"))
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.ready_sent && self.ready_received
    }

    pub(crate) fn zap_request(&mut self) -> Option<ZapRequest> {
        if self.zap != Zap::Want {
            return None;
        }
        self.zap = Zap::Asked;
        Some(ZapRequest::new("NULL", Vec::new()))
    }

    pub(crate) fn zap_reply(&mut self, reply: &ZapReply) -> Result<(), ZmtpError> {
        let waiting = self.zap == Zap::Asked;
        zap::apply_reply(
            &mut self.zap,
            waiting,
            reply.status,
            Zap::Allowed,
            Zap::SendError,
            Zap::Failed,
        )
    }

    pub(crate) fn zap_skip(&mut self, accept: bool) -> Result<(), ZmtpError> {
        let waiting = matches!(self.zap, Zap::Want | Zap::Asked);
        zap::apply_skip(&mut self.zap, waiting, accept, Zap::Allowed, Zap::Failed)
    }
}
