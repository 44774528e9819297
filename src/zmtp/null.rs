//! The NULL mechanism (RFC 37): each side sends READY with its metadata; done when both
//! have. No ZAP yet (libzmq asks ZAP only when a ZAP domain is set).

use super::mechanism::{error_command, Local, Peer};
use super::ZmtpError;
use crate::consts::ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND;

#[derive(Default)]
pub(crate) struct Null {
    ready_sent: bool,
    ready_received: bool,
}

impl Null {
    pub(crate) fn next_command(&mut self, local: &Local<'_>) -> Option<Vec<u8>> {
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
}
