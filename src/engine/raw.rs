//! The raw wire "engine" of STREAM sockets (and ZMQ_ROUTER_RAW): no greeting, no framing.
//! Each read becomes one message, as libzmq's raw decoder does; each message is written as
//! plain bytes. No I/O here either: the session reads into `read_buf` and writes the slices.

use crate::msg::Msg;
use std::collections::VecDeque;
use std::io::IoSlice;

pub(crate) struct RawEngine {
    inbuf: Box<[u8]>,
    out: VecDeque<Msg>,
    /// Bytes of the front message already written.
    out_off: usize,
    /// Bytes queued and not yet written.
    buffered: usize,
}

impl RawEngine {
    /// `batch`: ZMQ_IN_BATCH_SIZE, the most one read (hence one message) takes.
    pub(crate) fn new(batch: usize) -> RawEngine {
        RawEngine {
            inbuf: vec![0; batch.max(1)].into_boxed_slice(),
            out: VecDeque::new(),
            out_off: 0,
            buffered: 0,
        }
    }

    pub(crate) fn read_buf(&mut self) -> &mut [u8] {
        &mut self.inbuf
    }

    /// `n` bytes were read into `read_buf`: one message.
    pub(crate) fn filled(&mut self, n: usize) -> Msg {
        Msg::from_slice(&self.inbuf[..n.min(self.inbuf.len())])
    }

    pub(crate) fn encode(&mut self, msg: Msg) {
        // Nothing to write for an empty message.
        if !msg.is_empty() {
            self.buffered += msg.len();
            self.out.push_back(msg);
        }
    }

    pub(crate) fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    pub(crate) fn buffered(&self) -> usize {
        self.buffered
    }

    /// Fills `slices` with what to write next; returns how many it used.
    pub(crate) fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (i, m) in self.out.iter().take(slices.len()).enumerate() {
            let data = if i == 0 { &m.data()[self.out_off..] } else { m.data() };
            slices[i] = IoSlice::new(data);
            n += 1;
        }
        n
    }

    /// `n` bytes from the front were written.
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_writes_resume_where_they_stopped() {
        let mut e = RawEngine::new(16);
        e.encode(Msg::from_slice(b"hello"));
        e.encode(Msg::new());
        e.encode(Msg::from_slice(b"world"));
        assert_eq!(e.buffered(), 10);
        let mut s = [IoSlice::new(&[]); 8];
        assert_eq!(e.io_slices(&mut s), 2);
        e.advance(3);
        let mut s = [IoSlice::new(&[]); 8];
        let n = e.io_slices(&mut s);
        let bytes: Vec<u8> = s[..n].iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(bytes, b"loworld");
        e.advance(7);
        assert!(!e.has_output());
        assert_eq!(e.buffered(), 0);
    }

    #[test]
    fn one_read_one_message() {
        let mut e = RawEngine::new(4);
        assert_eq!(e.read_buf().len(), 4);
        e.read_buf()[..3].copy_from_slice(b"abc");
        assert_eq!(e.filled(3).data(), b"abc");
    }
}
