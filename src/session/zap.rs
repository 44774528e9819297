//! The session's side of ZAP (RFC 27): an inproc pipe to the handler bound at
//! `inproc://zeromq.zap.01`, one request out, one reply in. The request's content and the
//! reply's meaning belong to `zmtp::zap`; this only carries frames.

use super::link::SocketLink;
use crate::consts::ZMQ_DEALER;
use crate::ctx::InprocPeer;
use crate::io::Ctl;
use crate::msg::Msg;
use crate::options::Options;
use crate::pipe::{Pipe, PipeId};
use crate::transport::inproc;
use crate::zmtp::{self, ZapReply, ZmtpError};

/// The handler's inproc name.
fn handler_name() -> &'static str {
    zmtp::ZAP_ENDPOINT.trim_start_matches("inproc://")
}

/// True if a ZAP handler is bound in the socket's context.
pub(crate) fn handler_bound(link: &SocketLink) -> bool {
    link.token.ctx.inproc_is_bound(handler_name())
}

pub(crate) struct ZapClient {
    pipe: Pipe,
    /// Parts of the reply read so far.
    parts: Vec<Vec<u8>>,
}

impl ZapClient {
    /// Connects to the handler (as a DEALER would, with an empty routing id, unlimited
    /// queues) if one is bound now.
    pub(crate) fn connect(link: &SocketLink, ctl: &mut Ctl<'_>) -> Option<ZapClient> {
        let me = InprocPeer {
            mailbox: ctl.mailbox.clone(),
            socket_id: link.id,
            socket_type: ZMQ_DEALER,
            sndhwm: 0,
            rcvhwm: 0,
            conflate: false,
            routing_id: Vec::new(),
            hello_msg: Vec::new(),
        };
        let opts = Options::new(ZMQ_DEALER);
        let pipe = inproc::connect_bound(&link.token.ctx, me, &opts, handler_name())?;
        ctl.pipes.push(pipe.id);
        Some(ZapClient { pipe, parts: Vec::new() })
    }

    pub(crate) fn owns(&self, pipe: PipeId) -> bool {
        self.pipe.id == pipe
    }

    /// Sends one request (every frame but the last with MORE), then looks for the reply
    /// once: finding the pipe empty is what makes the handler's flush wake us later.
    pub(crate) fn send(&mut self, frames: Vec<Vec<u8>>) -> Option<Result<ZapReply, ZmtpError>> {
        let n = frames.len();
        for (i, f) in frames.into_iter().enumerate() {
            let mut m = Msg::from_vec(f);
            m.set_more(i + 1 < n);
            let _ = self.pipe.write(m);
        }
        self.pipe.flush();
        self.read_reply()
    }

    /// The handler flushed something: the reply, once it is whole.
    pub(crate) fn on_activate(&mut self) -> Option<Result<ZapReply, ZmtpError>> {
        self.pipe.activate_read();
        self.read_reply()
    }

    fn read_reply(&mut self) -> Option<Result<ZapReply, ZmtpError>> {
        while let Some(m) = self.pipe.read() {
            let more = m.more();
            self.parts.push(m.data().to_vec());
            if !more {
                let parts = std::mem::take(&mut self.parts);
                return Some(zmtp::parse_zap_reply(&parts, zmtp::ZAP_REQUEST_ID));
            }
        }
        None
    }
}

impl Drop for ZapClient {
    fn drop(&mut self) {
        self.pipe.terminate(false);
    }
}
