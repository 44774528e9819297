//! Messages and commands out, as a list of byte chunks for `write_vectored`.
//!
//! Headers and small bodies are packed into batch buffers; a body of `ZERO_COPY_MIN` bytes
//! or more is its own chunk, sent from the message itself. The engine encodes while
//! `buffered()` is under the batch size (ZMQ_OUT_BATCH_SIZE), then writes `io_slices()` and
//! reports what was written with `advance(n)`.

use super::command::{subscription_kind, Command};
use super::{subscriptions_as_commands, Framing, FLAG_COMMAND, FLAG_LONG, FLAG_MORE};
use crate::msg::Msg;
use std::collections::VecDeque;
use std::io::IoSlice;
use std::ops::Deref;

/// Bodies at least this long are not copied.
pub(crate) const ZERO_COPY_MIN: usize = 2048;
/// Most chunks handed to one `write_vectored`.
pub(crate) const MAX_IO_SLICES: usize = 64;

/// Appends a ZMTP 2.0/3.x frame header: flags, then a 1-octet size, or 8 with LONG.
pub(crate) fn put_frame_header(out: &mut Vec<u8>, flags: u8, size: u64) {
    if size > 255 {
        out.push(flags | FLAG_LONG);
        out.extend_from_slice(&size.to_be_bytes());
    } else {
        out.extend_from_slice(&[flags, size as u8]);
    }
}

enum Chunk {
    Bytes { buf: Vec<u8>, pos: usize },
    Body { msg: Msg, pos: usize },
}

impl Chunk {
    fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Bytes { buf, pos } => &buf[*pos..],
            Chunk::Body { msg, pos } => &msg.data()[*pos..],
        }
    }
}

pub(crate) struct Encoder {
    framing: Framing,
    /// SUB/XSUB subscriptions go as commands (ZMTP 3.1).
    sub_commands: bool,
    socket_type: i32,
    batch_size: usize,
    chunks: VecDeque<Chunk>,
    /// A sent batch buffer, kept for reuse.
    spare: Option<Vec<u8>>,
    pending: usize,
    /// The last message frame had MORE: the next one continues that message.
    in_message: bool,
}

/// Up to `MAX_IO_SLICES` chunks, ready for `write_vectored(&slices)`.
pub(crate) struct IoSlices<'a> {
    slices: [IoSlice<'a>; MAX_IO_SLICES],
    len: usize,
}

impl<'a> Deref for IoSlices<'a> {
    type Target = [IoSlice<'a>];
    fn deref(&self) -> &[IoSlice<'a>] {
        &self.slices[..self.len]
    }
}

impl Encoder {
    /// An encoder for `version` (as `Established::version`) on a socket of `socket_type`.
    pub(crate) fn new(version: (u8, u8), socket_type: i32, batch_size: usize) -> Encoder {
        Encoder {
            framing: Framing::of(version),
            sub_commands: subscriptions_as_commands(version),
            socket_type,
            batch_size: batch_size.max(1),
            chunks: VecDeque::new(),
            spare: None,
            pending: 0,
            in_message: false,
        }
    }

    /// Queues one message frame (MORE as the message says). On ZMTP 3.1, a subscription
    /// from SUB/XSUB becomes a SUBSCRIBE or CANCEL command.
    pub(crate) fn encode(&mut self, msg: Msg) {
        let more = msg.more();
        let sub = if self.sub_commands && !self.in_message {
            subscription_kind(self.socket_type, &msg)
        } else {
            None
        };
        self.in_message = more;
        if let Some(subscribe) = sub {
            let name: &[u8] = if subscribe { b"\x09SUBSCRIBE" } else { b"\x06CANCEL" };
            let size = (name.len() + msg.len() - 1) as u64;
            let before = self.tail_len();
            let tail = self.tail();
            put_frame_header(tail, FLAG_COMMAND, size);
            tail.extend_from_slice(name);
            self.pending += self.tail_len() - before;
            self.put_body(msg, 1);
            return;
        }
        let size = msg.len() as u64;
        if self.framing != Framing::V1 && msg.len() < ZERO_COPY_MIN {
            // The common small frame: header and body into the batch buffer in one go
            // (what put_frame_header and put_body do, without looking the buffer up twice).
            let tail = self.tail();
            let before = tail.len();
            put_frame_header(tail, if more { FLAG_MORE } else { 0 }, size);
            tail.extend_from_slice(msg.data());
            let added = tail.len() - before;
            self.pending += added;
            return;
        }
        let before = self.tail_len();
        match self.framing {
            Framing::V1 => {
                // The length counts the flags octet.
                let len = size + 1;
                let tail = self.tail();
                if len < 255 {
                    tail.push(len as u8);
                } else {
                    tail.push(0xff);
                    tail.extend_from_slice(&len.to_be_bytes());
                }
                tail.push(u8::from(more));
            }
            _ => put_frame_header(self.tail(), if more { FLAG_MORE } else { 0 }, size),
        }
        self.pending += self.tail_len() - before;
        self.put_body(msg, 0);
    }

    /// Queues a command (PING, PONG, ...). ZMTP 1.0/2.0 have none: false, nothing queued.
    pub(crate) fn encode_command(&mut self, cmd: &Command) -> bool {
        if self.framing != Framing::V3 {
            return false;
        }
        let body = cmd.to_body();
        let before = self.tail_len();
        let tail = self.tail();
        put_frame_header(tail, FLAG_COMMAND, body.len() as u64);
        tail.extend_from_slice(&body);
        self.pending += self.tail_len() - before;
        true
    }

    /// Queues bytes as they are (what the handshake had not sent yet).
    pub(crate) fn put_raw(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.tail().extend_from_slice(bytes);
            self.pending += bytes.len();
        }
    }

    /// Bytes queued and not yet written.
    pub(crate) fn buffered(&self) -> usize {
        self.pending
    }

    pub(crate) fn has_output(&self) -> bool {
        self.pending > 0
    }

    /// A batch's worth is queued: write before encoding more.
    #[cfg(test)] // the engine drives these itself
    pub(crate) fn is_full(&self) -> bool {
        self.pending >= self.batch_size
    }

    /// The queued bytes, in order.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks.iter().map(Chunk::bytes).filter(|b| !b.is_empty())
    }

    /// The first chunks as I/O slices.
    pub(crate) fn io_slices(&self) -> IoSlices<'_> {
        let mut s = IoSlices { slices: [IoSlice::new(&[]); MAX_IO_SLICES], len: 0 };
        for c in self.chunks().take(MAX_IO_SLICES) {
            s.slices[s.len] = IoSlice::new(c);
            s.len += 1;
        }
        s
    }

    /// `n` bytes from the front were written.
    pub(crate) fn advance(&mut self, n: usize) {
        let mut n = n.min(self.pending);
        self.pending -= n;
        while let Some(front) = self.chunks.front_mut() {
            let left = front.bytes().len();
            if n < left {
                match front {
                    Chunk::Bytes { pos, .. } | Chunk::Body { pos, .. } => *pos += n,
                }
                return;
            }
            n -= left;
            if let Some(Chunk::Bytes { mut buf, .. }) = self.chunks.pop_front() {
                if self.spare.is_none() && buf.capacity() <= 4 * self.batch_size {
                    buf.clear();
                    self.spare = Some(buf);
                }
            }
        }
    }

    /// The batch buffer at the end of the queue, started if need be.
    fn tail(&mut self) -> &mut Vec<u8> {
        if !matches!(self.chunks.back(), Some(Chunk::Bytes { .. })) {
            let buf = self.spare.take().unwrap_or_else(|| Vec::with_capacity(self.batch_size));
            self.chunks.push_back(Chunk::Bytes { buf, pos: 0 });
        }
        match self.chunks.back_mut() {
            Some(Chunk::Bytes { buf, .. }) => buf,
            _ => unreachable!("a batch buffer was just pushed"),
        }
    }

    fn tail_len(&self) -> usize {
        match self.chunks.back() {
            Some(Chunk::Bytes { buf, .. }) => buf.len(),
            _ => 0,
        }
    }

    /// Queues `msg[from..]`: copied into the batch when small, else sent from `msg`.
    fn put_body(&mut self, msg: Msg, from: usize) {
        let len = msg.len() - from;
        self.pending += len;
        if len >= ZERO_COPY_MIN {
            self.chunks.push_back(Chunk::Body { msg, pos: from });
        } else if len > 0 {
            self.tail().extend_from_slice(&msg.data()[from..]);
        }
    }
}
