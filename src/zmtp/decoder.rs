//! Frames in, messages and commands out.
//!
//! The engine reads into `read_target()` (the batch buffer, or the body of a large message in
//! progress, so big bodies are read once, in place), reports the count with `filled(n)`,
//! then calls `decode(sink)`. The sink takes each frame or hands it back (`Err(frame)`, e.g.
//! its pipe is full): the decoder keeps it and stops, and the next `decode` offers it again
//! first. Nothing is lost or reordered.

use super::command::{subscription_message, Command};
use super::{Framing, ZmtpError, FLAG_COMMAND, FLAG_LONG, FLAG_MORE};
use crate::consts::{ZMQ_PUB, ZMQ_XPUB};
use crate::msg::{Filling, Msg, SharedBuf, INLINE_CAP};

/// One decoded frame.
#[derive(Debug)]
pub(crate) enum Frame {
    /// A message frame; MORE is set on all but the last frame of a message.
    Message(Msg),
    Command(Command),
}

/// Why `decode` returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Every buffered byte is used: read more into `read_target()`.
    NeedInput,
    /// The sink gave a frame back: call `decode` again (before reading) when it can take it.
    Paused,
}

/// Header length as far as `hdr` (its first bytes) tells: the least it can be.
pub(super) fn header_len(framing: Framing, hdr: &[u8]) -> usize {
    match (framing, hdr.first()) {
        (_, None) => 2,
        (Framing::V1, Some(&0xff)) => 10,
        (Framing::V1, _) => 2,
        (_, Some(f)) if f & FLAG_LONG != 0 => 9,
        _ => 2,
    }
}

/// A v1 length of 0 is refused as soon as it is read, as libzmq does.
pub(super) fn check_partial_header(framing: Framing, hdr: &[u8]) -> Result<(), ZmtpError> {
    if framing == Framing::V1 && hdr.first() == Some(&0) {
        return Err(ZmtpError::proto("zero v1 length"));
    }
    Ok(())
}

/// A complete header: (MORE, COMMAND, body size). ZMTP 1.0's length counts the flags octet
/// (0 is invalid). Reserved flag bits are ignored, and COMMAND is honoured in 2.0 framing,
/// as libzmq does.
pub(super) fn parse_header(framing: Framing, hdr: &[u8]) -> Result<(bool, bool, u64), ZmtpError> {
    let long = |b: &[u8]| u64::from_be_bytes(b.try_into().expect("8 bytes"));
    match framing {
        Framing::V1 => {
            let (len, flags) = match hdr.len() {
                2 => (u64::from(hdr[0]), hdr[1]),
                _ => (long(&hdr[1..9]), hdr[9]),
            };
            let size = len.checked_sub(1).ok_or_else(|| ZmtpError::proto("zero v1 length"))?;
            Ok((flags & FLAG_MORE != 0, false, size))
        }
        _ => {
            let size = if hdr.len() == 2 { u64::from(hdr[1]) } else { long(&hdr[1..9]) };
            Ok((hdr[0] & FLAG_MORE != 0, hdr[0] & FLAG_COMMAND != 0, size))
        }
    }
}

/// Where the next read lands: the batch buffer, or (for a body too large to pass through
/// it) straight into the message being filled.
pub(crate) enum ReadBuf<'a> {
    /// The batch buffer, from this offset on.
    Batch(&'a mut SharedBuf, usize),
    Body(&'a mut Filling),
}

enum State {
    Header {
        hdr: [u8; 10],
        len: usize,
    },
    /// A body larger than what was buffered, filling in place.
    Body {
        body: Filling,
        more: bool,
        command: bool,
    },
}

pub(crate) struct Decoder {
    framing: Framing,
    /// PUB and XPUB get SUBSCRIBE/CANCEL as `1 topic` / `0 topic` messages.
    to_subscription_msgs: bool,
    max_msg_size: i64,
    /// The batch buffer. Bodies read whole into it become messages that point into it
    /// (ZMQ_ZERO_COPY_RECV); it is replaced rather than rewritten while they live.
    buf: SharedBuf,
    zero_copy: bool,
    start: usize,
    end: usize,
    state: State,
    /// `read_target` handed out the body in progress rather than the batch buffer.
    direct: bool,
    /// A frame to offer before any other.
    held: Option<Frame>,
}

impl Decoder {
    /// A decoder for `version` (as `Established::version`), on a socket of `socket_type`,
    /// reading up to `batch_size` bytes at a time (ZMQ_IN_BATCH_SIZE); `max_msg_size` is
    /// ZMQ_MAXMSGSIZE (-1 for none) and applies to every frame.
    pub(crate) fn new(
        version: (u8, u8),
        socket_type: i32,
        batch_size: usize,
        max_msg_size: i64,
    ) -> Decoder {
        Decoder {
            framing: Framing::of(version),
            to_subscription_msgs: matches!(socket_type, ZMQ_PUB | ZMQ_XPUB),
            max_msg_size,
            buf: SharedBuf::with_capacity(batch_size.max(16)),
            zero_copy: true,
            start: 0,
            end: 0,
            state: State::Header { hdr: [0; 10], len: 0 },
            direct: false,
            held: None,
        }
    }

    /// Queues a `1` (subscribe to everything) message to come first: ZMTP 1.0 peers send no
    /// subscriptions.
    pub(crate) fn inject_subscribe_all(&mut self) {
        self.held = Some(Frame::Message(Msg::from_slice(&[1])));
    }

    /// ZMQ_ZERO_COPY_RECV: bodies over the inline size point into the receive buffer
    /// (true, libzmq's default) or are copied out of it (false).
    pub(crate) fn set_zero_copy(&mut self, on: bool) {
        self.zero_copy = on;
    }

    /// Where the next read should land, as a slice (cleared first, once).
    /// Call only after `decode` returned `NeedInput`. The fuzz targets and tests feed bytes
    /// this way; the engine reads with `read_target`.
    pub(crate) fn read_buf(&mut self) -> &mut [u8] {
        match self.read_target() {
            ReadBuf::Batch(b, from) => b.spare_mut(from),
            ReadBuf::Body(body) => body.spare_mut(),
        }
    }

    /// Where the next read should land (then report it with `filled`). Call only after
    /// `decode` returned `NeedInput`.
    pub(crate) fn read_target(&mut self) -> ReadBuf<'_> {
        let cap = self.buf.len();
        if self.start == self.end {
            if let State::Body { body, .. } = &mut self.state {
                if body.remaining() >= cap {
                    self.direct = true;
                    return ReadBuf::Body(body);
                }
            }
            self.start = 0;
            self.end = 0;
            if !self.buf.reclaim() {
                // Messages still point into it: they keep it, we take a fresh one.
                self.buf = SharedBuf::with_capacity(cap);
            }
        } else if self.start > 0 {
            if self.buf.reclaim() {
                self.buf.move_to_front(self.start..self.end);
            } else {
                let mut fresh = SharedBuf::with_capacity(cap);
                fresh.write_at(0, self.buf.get(self.start..self.end));
                self.buf = fresh;
            }
            self.end -= self.start;
            self.start = 0;
        }
        self.direct = false;
        ReadBuf::Batch(&mut self.buf, self.end)
    }

    /// `n` bytes were read into the last `read_target()` / `read_buf()`.
    pub(crate) fn filled(&mut self, n: usize) {
        if std::mem::take(&mut self.direct) {
            if let State::Body { body, .. } = &mut self.state {
                body.advance(n);
            }
        } else {
            self.end = (self.end + n).min(self.buf.initialised());
        }
    }

    /// Undecoded bytes are buffered or a frame is held: `decode` before reading.
    pub(crate) fn has_pending(&self) -> bool {
        self.held.is_some() || self.start < self.end
    }

    /// Decodes what has been read, handing each frame to `sink`, until the input is used
    /// up (`NeedInput`) or the sink gives a frame back (`Paused`).
    pub(crate) fn decode<F>(&mut self, sink: &mut F) -> Result<Progress, ZmtpError>
    where
        F: FnMut(Frame) -> Result<(), Frame>,
    {
        loop {
            let frame = match self.held.take() {
                Some(f) => f,
                None => match self.next_frame()? {
                    Some(f) => f,
                    None => return Ok(Progress::NeedInput),
                },
            };
            if let Err(f) = sink(frame) {
                self.held = Some(f);
                return Ok(Progress::Paused);
            }
        }
    }

    /// The next complete frame from the buffered bytes, if there is one.
    fn next_frame(&mut self) -> Result<Option<Frame>, ZmtpError> {
        // The common case first: a short message frame (ZMTP 2/3) with its header and body
        // both buffered becomes a message without staging the header. Anything else, or a
        // frame over ZMQ_MAXMSGSIZE (refused below), takes the general path.
        if matches!(self.state, State::Header { len: 0, .. })
            && self.framing != Framing::V1
            && self.end - self.start >= 2
        {
            let h = self.buf.get(self.start..self.start + 2);
            let (flags, size) = (h[0], usize::from(h[1]));
            if flags & (FLAG_LONG | FLAG_COMMAND) == 0
                && size <= self.end - self.start - 2
                && (self.max_msg_size < 0 || size as u64 <= self.max_msg_size as u64)
            {
                let at = self.start + 2;
                self.start = at + size;
                let mut msg = if self.zero_copy && size > INLINE_CAP {
                    self.buf.msg(at, size)
                } else {
                    Msg::try_from_slice(self.buf.get(at..at + size)).map_err(no_memory)?
                };
                msg.set_more(flags & FLAG_MORE != 0);
                return Ok(Some(Frame::Message(msg)));
            }
        }
        loop {
            match &mut self.state {
                State::Header { hdr, len } => {
                    let need = header_len(self.framing, &hdr[..*len]) - *len;
                    let n = need.min(self.end - self.start);
                    hdr[*len..*len + n].copy_from_slice(self.buf.get(self.start..self.start + n));
                    *len += n;
                    self.start += n;
                    check_partial_header(self.framing, &hdr[..*len])?;
                    if n < need {
                        return Ok(None);
                    }
                    if *len < header_len(self.framing, &hdr[..*len]) {
                        continue;
                    }
                    let (more, command, size) = parse_header(self.framing, &hdr[..*len])?;
                    *len = 0;
                    if self.max_msg_size >= 0 && size > self.max_msg_size as u64 {
                        return Err(ZmtpError::new(libc::EMSGSIZE, "frame over ZMQ_MAXMSGSIZE"));
                    }
                    let size = usize::try_from(size)
                        .map_err(|_| ZmtpError::new(libc::ENOMEM, "frame too large"))?;
                    let avail = self.end - self.start;
                    if size <= avail {
                        // Whole in the buffer: a command is parsed in place, a large body
                        // is lent rather than copied.
                        let at = self.start;
                        self.start += size;
                        if command {
                            let body = self.buf.get(at..at + size);
                            if let Some(f) = self.command_frame(Command::parse(body))? {
                                return Ok(Some(f));
                            }
                            continue;
                        }
                        let mut msg = if self.zero_copy && size > INLINE_CAP {
                            self.buf.msg(at, size)
                        } else {
                            Msg::try_from_slice(self.buf.get(at..at + size)).map_err(no_memory)?
                        };
                        msg.set_more(more);
                        return Ok(Some(Frame::Message(msg)));
                    }
                    let mut body = Filling::new(size).map_err(no_memory)?;
                    body.push(self.buf.get(self.start..self.end));
                    self.start = self.end;
                    self.state = State::Body { body, more, command };
                    return Ok(None);
                }
                State::Body { body, .. } => {
                    self.start += body.push(self.buf.get(self.start..self.end));
                    if body.remaining() > 0 {
                        return Ok(None);
                    }
                    let done =
                        std::mem::replace(&mut self.state, State::Header { hdr: [0; 10], len: 0 });
                    let State::Body { body, more, command } = done else { unreachable!() };
                    let mut msg = body.into_msg();
                    if command {
                        if let Some(f) = self.command_frame(Command::parse(msg.data()))? {
                            return Ok(Some(f));
                        }
                        continue;
                    }
                    msg.set_more(more);
                    return Ok(Some(Frame::Message(msg)));
                }
            }
        }
    }

    /// What a command becomes: dropped if malformed (as libzmq), a subscription message on
    /// PUB/XPUB, else itself.
    fn command_frame(&self, cmd: Option<Command>) -> Result<Option<Frame>, ZmtpError> {
        Ok(match cmd {
            None => None,
            Some(Command::Subscribe(t)) if self.to_subscription_msgs => {
                Some(Frame::Message(subscription_message(true, &t)?))
            }
            Some(Command::Cancel(t)) if self.to_subscription_msgs => {
                Some(Frame::Message(subscription_message(false, &t)?))
            }
            Some(c) => Some(Frame::Command(c)),
        })
    }
}

fn no_memory(_: crate::error::Errno) -> ZmtpError {
    ZmtpError::new(libc::ENOMEM, "no memory for a frame")
}
