//! The raw wire "engine" of STREAM sockets (and ZMQ_ROUTER_RAW): no greeting, no framing.
//! Each read becomes one message; each message is written as plain bytes.

use crate::msg::Msg;
use std::collections::VecDeque;
use std::io::IoSlice;

pub(crate) struct RawEngine {
    inbuf: Vec<u8>,
    out: VecDeque<Msg>,
    /// Bytes of the front message already written.
    out_off: usize,
    buffered: usize,
}

impl RawEngine {
    pub(crate) fn new(batch: usize) -> RawEngine {
        RawEngine { inbuf: vec![0; batch.max(512)], out: VecDeque::new(), out_off: 0, buffered: 0 }
    }

    pub(crate) fn read_buf(&mut self) -> &mut [u8] {
        &mut self.inbuf
    }

    /// `n` bytes arrived: one message.
    pub(crate) fn filled(&mut self, n: usize) -> Msg {
        Msg::from_slice(&self.inbuf[..n])
    }

    pub(crate) fn encode(&mut self, msg: Msg) {
        self.buffered += msg.len();
        if !msg.is_empty() {
            self.out.push_back(msg);
        }
    }

    pub(crate) fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    pub(crate) fn buffered(&self) -> usize {
        self.buffered
    }

    pub(crate) fn io_slices(&self) -> Vec<IoSlice<'_>> {
        self.out
            .iter()
            .enumerate()
            .map(|(i, m)| IoSlice::new(if i == 0 { &m.data()[self.out_off..] } else { m.data() }))
            .take(64)
            .collect()
    }

    pub(crate) fn advance(&mut self, mut n: usize) {
        self.buffered = self.buffered.saturating_sub(n);
        while n > 0 {
            let Some(front) = self.out.front() else { break };
            let left = front.len() - self.out_off;
            if n >= left {
                n -= left;
                self.out.pop_front();
                self.out_off = 0;
            } else {
                self.out_off += n;
                n = 0;
            }
        }
        if self.out.is_empty() {
            self.buffered = 0;
        }
    }
}
