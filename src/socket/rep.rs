//! REP (RFC 28): requests are fair-queued; each one's envelope (the frames up to and
//! including the empty delimiter) is kept and put back in front of the reply, which goes
//! to the pipe the request came from.

use super::fq::FairQueue;
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use crate::error::{err, Errno, ZResult, EFSM};
use crate::msg::Msg;
use crate::socket::Options;

pub(crate) struct Rep {
    fq: FairQueue,
    /// A whole request has been read: only a reply may be sent.
    sending_reply: bool,
    /// The next part read starts a request (its envelope).
    request_begins: bool,
    /// The current request's envelope, delimiter last.
    envelope: Vec<Msg>,
    /// Where the reply goes; None drops it (requester gone, or its pipe full).
    reply_pipe: Option<PipeIdx>,
    /// The envelope has gone out in front of the reply.
    reply_started: bool,
}

impl Default for Rep {
    fn default() -> Rep {
        Rep {
            fq: FairQueue::default(),
            sending_reply: false,
            request_begins: true,
            envelope: Vec::new(),
            reply_pipe: None,
            reply_started: false,
        }
    }
}

impl Rep {
    /// Reads the envelope of the next well-formed request, dropping malformed ones; Ok once
    /// its body is ready to read.
    fn skip_envelope(&mut self, pipes: &mut Pipes) -> ZResult<()> {
        while self.request_begins {
            let (msg, idx) = self.fq.recv(pipes)?;
            if self.envelope.is_empty() {
                // A peer's routing id introduction is not a request.
                if msg.flags() & Msg::ROUTING_ID != 0 {
                    continue;
                }
                self.reply_pipe = Some(idx);
            }
            if msg.more() {
                let bottom = msg.is_empty();
                self.envelope.push(msg);
                if bottom {
                    self.request_begins = false;
                }
            } else {
                // The message ended before any delimiter: not a request, as libzmq drops it.
                self.envelope.clear();
                self.reply_pipe = None;
            }
        }
        Ok(())
    }
}

impl Behaviour for Rep {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options) {
        // REP is a ROUTER in libzmq and honours PROBE_ROUTER like one.
        if opts.probe_router {
            let pipe = pipes.at(idx);
            let _ = pipe.write(Msg::new());
            pipe.flush();
        }
        self.fq.attach(idx);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        if !self.sending_reply {
            return Err((Errno(EFSM), msg));
        }
        let more = msg.more();
        if !self.reply_started {
            self.reply_started = true;
            let envelope = std::mem::take(&mut self.envelope);
            if let Some(idx) = self.reply_pipe {
                let pipe = pipes.at(idx);
                // A requester that cannot take the reply loses it: REP never blocks.
                if !pipe.check_write() || envelope.into_iter().any(|part| pipe.write(part).is_err())
                {
                    self.reply_pipe = None;
                }
            }
        }
        if let Some(idx) = self.reply_pipe {
            let pipe = pipes.at(idx);
            if pipe.write(msg).is_err() {
                self.reply_pipe = None;
            } else if !more {
                pipe.flush();
            }
        }
        if !more {
            self.sending_reply = false;
            self.reply_started = false;
            self.reply_pipe = None;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        if self.sending_reply {
            return err(EFSM);
        }
        self.skip_envelope(pipes)?;
        let (msg, _) = self.fq.recv(pipes)?;
        if !msg.more() {
            self.sending_reply = true;
            self.request_begins = true;
        }
        Ok(msg)
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        !self.sending_reply && self.skip_envelope(pipes).is_ok()
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        // A reply is never refused (it is dropped if it cannot go).
        self.sending_reply
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.activated(idx);
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, _idx: PipeIdx) {}

    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.terminated(idx);
        if self.reply_pipe == Some(idx) {
            self.reply_pipe = None;
            if !self.sending_reply {
                // The request's rest went with the pipe (peer closed with linger 0).
                self.request_begins = true;
                self.envelope.clear();
            }
        }
    }
}
