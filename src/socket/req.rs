//! REQ (RFC 28): a DEALER that alternates strictly between sending a request and receiving
//! its reply, adds the empty delimiter (and with REQ_CORRELATE a request id) in front of
//! each request, and takes the reply only from the pipe the request went to.

use super::dealer::Dealer;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use super::router::random_u32;
use crate::error::{err, Errno, ZResult, EFSM};
use crate::msg::Msg;
use crate::socket::Options;

pub(crate) struct Req {
    dealer: Dealer,
    /// A whole request went out: only its reply may be read.
    receiving_reply: bool,
    /// The next part sent starts a request / the next part read starts a reply.
    message_begins: bool,
    /// The pipe the request went to; None accepts a reply from any (it went away).
    reply_pipe: Option<PipeIdx>,
    /// Id of the last request (REQ_CORRELATE), native byte order on the wire as libzmq.
    request_id: u32,
    /// Copies of options for has_in/has_out, which get no `Options`.
    relaxed: bool,
    correlate: bool,
}

impl Default for Req {
    fn default() -> Req {
        Req {
            dealer: Dealer::default(),
            receiving_reply: false,
            message_begins: true,
            reply_pipe: None,
            request_id: random_u32(),
            relaxed: false,
            correlate: false,
        }
    }
}

impl Req {
    /// Sends one envelope frame of a new request; records the pipe it went to.
    fn send_frame(&mut self, pipes: &mut Pipes, mut frame: Msg) -> Result<(), Errno> {
        frame.set_more(true);
        match self.dealer.lb.send(pipes, frame) {
            Ok(Some(idx)) => {
                self.reply_pipe = Some(idx);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err((e, _)) => Err(e),
        }
    }

    /// Next part from the reply pipe; parts from other pipes are dropped.
    fn recv_reply_pipe(&mut self, pipes: &mut Pipes) -> ZResult<Msg> {
        loop {
            let (msg, idx) = self.dealer.fq.recv(pipes)?;
            if self.reply_pipe.is_none_or(|p| p == idx) {
                return Ok(msg);
            }
        }
    }

    /// Drops the rest of a message whose first parts did not match.
    fn drop_rest(&mut self, pipes: &mut Pipes, mut more: bool) -> ZResult<()> {
        while more {
            more = self.recv_reply_pipe(pipes)?.more();
        }
        Ok(())
    }

    /// Consumes the reply header (request id if correlating, then the delimiter), dropping
    /// messages that lack it; Ok once the reply body is ready to read.
    fn skip_header(&mut self, pipes: &mut Pipes, correlate: bool) -> ZResult<()> {
        while self.message_begins {
            if correlate {
                let id = self.recv_reply_pipe(pipes)?;
                if !id.more() || id.data() != self.request_id.to_ne_bytes() {
                    self.drop_rest(pipes, id.more())?;
                    continue;
                }
            }
            let bottom = self.recv_reply_pipe(pipes)?;
            if !bottom.more() || !bottom.is_empty() {
                self.drop_rest(pipes, bottom.more())?;
                continue;
            }
            self.message_begins = false;
        }
        Ok(())
    }
}

impl Behaviour for Req {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options) {
        self.options_changed(opts);
        self.dealer.attach(pipes, idx, opts);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg, opts: &Options) -> Result<(), (Errno, Msg)> {
        if self.receiving_reply {
            if !opts.req_relaxed {
                return Err((Errno(EFSM), msg));
            }
            // REQ_RELAXED: give up on the outstanding reply and start over.
            self.receiving_reply = false;
            self.message_begins = true;
        }
        if self.message_begins {
            self.reply_pipe = None;
            if opts.req_correlate {
                self.request_id = self.request_id.wrapping_add(1);
                let id = Msg::from_slice(&self.request_id.to_ne_bytes());
                if let Err(e) = self.send_frame(pipes, id) {
                    return Err((e, msg));
                }
            }
            if let Err(e) = self.send_frame(pipes, Msg::new()) {
                return Err((e, msg));
            }
            self.message_begins = false;
            // Whatever is queued answers an earlier request: drop it now so that a late
            // reply is never taken for the answer to this one.
            while self.dealer.fq.recv(pipes).is_ok() {}
        }
        let more = msg.more();
        self.dealer.lb.send(pipes, msg)?;
        if !more {
            self.receiving_reply = true;
            self.message_begins = true;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> ZResult<Msg> {
        if !self.receiving_reply {
            return err(EFSM);
        }
        self.skip_header(pipes, opts.req_correlate)?;
        let msg = self.recv_reply_pipe(pipes)?;
        if !msg.more() {
            self.receiving_reply = false;
            self.message_begins = true;
        }
        Ok(msg)
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        // Precise: stray and stale messages are dropped here rather than reported.
        self.receiving_reply && self.skip_header(pipes, self.correlate).is_ok()
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        (!self.receiving_reply || self.relaxed) && self.dealer.lb.has_out(pipes)
    }

    fn read_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.dealer.read_activated(pipes, idx);
    }

    fn write_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.dealer.write_activated(pipes, idx);
    }

    fn terminated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        if self.reply_pipe == Some(idx) {
            self.reply_pipe = None;
        }
        self.dealer.terminated(pipes, idx);
    }

    fn options_changed(&mut self, opts: &Options) {
        self.relaxed = opts.req_relaxed;
        self.correlate = opts.req_correlate;
    }
}
