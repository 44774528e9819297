//! What the single-part draft sockets (SERVER, CLIENT, GATHER, PEER, CHANNEL...) share: a
//! fair-queued inbound side that hands out whole single-part messages only, and the
//! ZMQ_SNDMORE refusal.

use super::fq::FairQueue;
use super::pipes::{PipeIdx, Pipes};
use crate::error::{Errno, ZResult};
use crate::msg::Msg;

/// A multipart message is refused with EINVAL (the caller keeps it), as libzmq does.
pub(crate) fn refuse_multipart(msg: Msg) -> Result<Msg, (Errno, Msg)> {
    if msg.more() {
        return Err((Errno(libc::EINVAL), msg));
    }
    Ok(msg)
}

/// Fair-queued input that skips routing-id introductions and drops multipart messages (a
/// peer that is not a single-part socket sent them), as libzmq's xrecv of these types does.
/// One message may be read ahead so that has_in answers exactly.
/// The pipe index of a message whose pipe has gone.
pub(crate) const ORPHAN: PipeIdx = PipeIdx::MAX;

#[derive(Default)]
pub(crate) struct SingleIn {
    fq: FairQueue,
    ahead: Option<(Msg, PipeIdx)>,
}

impl SingleIn {
    pub(crate) fn attach(&mut self, idx: PipeIdx) {
        self.fq.attach(idx);
    }

    pub(crate) fn activated(&mut self, idx: PipeIdx) {
        self.fq.activated(idx);
    }

    pub(crate) fn terminated(&mut self, idx: PipeIdx) {
        // A message read ahead stays deliverable: it was whole before its pipe went.
        self.fq.terminated(idx);
    }

    fn fetch(&mut self, pipes: &mut Pipes) -> ZResult<(Msg, PipeIdx)> {
        loop {
            let (msg, idx) = self.fq.recv(pipes)?;
            if msg.flags() & Msg::ROUTING_ID != 0 {
                continue;
            }
            if msg.more() {
                // The rest of its parts are in the pipe already (published together).
                let mut more = true;
                while more {
                    match self.fq.recv(pipes) {
                        Ok((m, _)) => more = m.more(),
                        Err(_) => break,
                    }
                }
                continue;
            }
            return Ok((msg, idx));
        }
    }

    /// The next message and the pipe it came from; EAGAIN when none is ready.
    pub(crate) fn recv(&mut self, pipes: &mut Pipes) -> ZResult<(Msg, PipeIdx)> {
        match self.ahead.take() {
            Some(m) => Ok(m),
            None => self.fetch(pipes),
        }
    }

    pub(crate) fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.ahead.is_some() {
            return true;
        }
        match self.fetch(pipes) {
            Ok(m) => {
                self.ahead = Some(m);
                true
            }
            Err(_) => false,
        }
    }

    /// The message read ahead from pipe `idx`, if any, as its pipe goes: what must outlive
    /// the pipe (its routing id) goes onto the message now, and the message is no longer
    /// counted as the pipe's (its slot may be reused).
    pub(crate) fn orphan_ahead(&mut self, idx: PipeIdx) -> Option<&mut Msg> {
        match &mut self.ahead {
            Some((m, i)) if *i == idx => {
                *i = ORPHAN;
                Some(m)
            }
            _ => None,
        }
    }
}
