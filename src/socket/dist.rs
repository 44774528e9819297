//! Distribution: fan one message out to many pipes (PUB, XPUB, XSUB upstream).
//!
//! The pipes live in one array split into regions, so selecting and sending never
//! searches or allocates:
//!
//! ```text
//! [0, matching)        chosen for the message being sent
//! [0, active)          writable now
//! [0, eligible)        writable, but joined or woke mid-message: active from the next one
//! [eligible, len)      at their HWM, waiting for ActivateWrite
//! ```
//!
//! `pos` maps a pipe index to its place in the array, so moves between regions are swaps.

use super::pipes::{PipeIdx, Pipes};
use crate::msg::Msg;

const NONE: usize = usize::MAX;

#[derive(Default)]
pub(crate) struct Dist {
    pipes: Vec<PipeIdx>,
    pos: Vec<usize>,
    matching: usize,
    active: usize,
    eligible: usize,
    /// Inside a multipart message.
    more: bool,
}

impl Dist {
    fn swap(&mut self, a: usize, b: usize) {
        if a != b {
            self.pipes.swap(a, b);
            self.pos[self.pipes[a]] = a;
            self.pos[self.pipes[b]] = b;
        }
    }

    fn pos_of(&self, idx: PipeIdx) -> usize {
        self.pos.get(idx).copied().unwrap_or(NONE)
    }

    pub(crate) fn has_pipe(&self, idx: PipeIdx) -> bool {
        self.pos_of(idx) != NONE
    }

    pub(crate) fn attach(&mut self, idx: PipeIdx) {
        if self.pos.len() <= idx {
            self.pos.resize(idx + 1, NONE);
        }
        debug_assert_eq!(self.pos[idx], NONE);
        self.pipes.push(idx);
        self.pos[idx] = self.pipes.len() - 1;
        // Mid-message it must not get the rest of a message it never saw the start of.
        self.swap(self.pipes.len() - 1, self.eligible);
        self.eligible += 1;
        if !self.more {
            self.swap(self.eligible - 1, self.active);
            self.active += 1;
        }
    }

    /// A pipe that was full can be written again.
    pub(crate) fn activated(&mut self, idx: PipeIdx) {
        let p = self.pos_of(idx);
        if p == NONE {
            return;
        }
        // It may never have left the active region (a NODROP check found it full).
        if p >= self.eligible {
            self.swap(p, self.eligible);
            self.eligible += 1;
        }
        let p = self.pos[idx];
        if !self.more && p >= self.active {
            self.swap(p, self.active);
            self.active += 1;
        }
    }

    pub(crate) fn terminated(&mut self, idx: PipeIdx) {
        let p = self.pos_of(idx);
        if p == NONE {
            return;
        }
        if p < self.matching {
            self.swap(p, self.matching - 1);
            self.matching -= 1;
        }
        if self.pos[idx] < self.active {
            self.swap(self.pos[idx], self.active - 1);
            self.active -= 1;
        }
        if self.pos[idx] < self.eligible {
            self.swap(self.pos[idx], self.eligible - 1);
            self.eligible -= 1;
        }
        let last = self.pipes.len() - 1;
        self.swap(self.pos[idx], last);
        self.pipes.pop();
        self.pos[idx] = NONE;
    }

    /// Selects a pipe for the next message, if it is writable.
    pub(crate) fn match_pipe(&mut self, idx: PipeIdx) {
        let p = self.pos_of(idx);
        if p == NONE || p < self.matching || p >= self.active {
            return;
        }
        self.swap(p, self.matching);
        self.matching += 1;
    }

    /// Selects every writable pipe.
    pub(crate) fn match_all(&mut self) {
        self.matching = self.active;
    }

    /// Selects exactly the writable pipes that were not selected (ZMQ_INVERT_MATCHING).
    pub(crate) fn reverse_match(&mut self) {
        let prev = self.matching;
        self.matching = 0;
        for i in prev..self.active {
            self.swap(i, self.matching);
            self.matching += 1;
        }
    }

    pub(crate) fn unmatch(&mut self) {
        self.matching = 0;
    }

    /// True if every selected pipe can take a message now (XPUB_NODROP). A full pipe
    /// stays selected and asks its reader for an ActivateWrite.
    pub(crate) fn check_hwm(&self, pipes: &mut Pipes) -> bool {
        self.pipes[..self.matching].iter().all(|&idx| pipes.at(idx).check_write())
    }

    /// Sends one part to the selected pipes; a pipe that refuses it (HWM, peer gone) drops
    /// out until it is activated again. With none selected the part is dropped.
    pub(crate) fn send_to_matching(&mut self, pipes: &mut Pipes, msg: Msg) {
        let more = msg.more();
        let mut msg = Some(msg);
        let mut i = 0;
        while i < self.matching {
            let idx = self.pipes[i];
            // The last pipe gets the original; the others share its body.
            let m = if i + 1 == self.matching {
                msg.take().expect("taken only for the last pipe")
            } else {
                msg.as_ref().expect("kept until the last pipe").clone()
            };
            let pipe = pipes.at(idx);
            match pipe.write(m) {
                Ok(()) => {
                    if !more {
                        pipe.flush();
                    }
                    i += 1;
                }
                // The pipe now at i is a new candidate: don't advance.
                Err(_) => self.deactivate(i),
            }
        }
        if !more {
            self.active = self.eligible;
        }
        self.more = more;
    }

    /// Sends one part to every writable pipe.
    pub(crate) fn send_to_all(&mut self, pipes: &mut Pipes, msg: Msg) {
        self.match_all();
        self.send_to_matching(pipes, msg);
        if !self.more {
            self.unmatch();
        }
    }

    /// The matching pipe at `i` refused a message: out of every region until activated.
    fn deactivate(&mut self, i: usize) {
        let idx = self.pipes[i];
        self.swap(i, self.matching - 1);
        self.matching -= 1;
        self.swap(self.pos[idx], self.active - 1);
        self.active -= 1;
        self.swap(self.pos[idx], self.eligible - 1);
        self.eligible -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{pipe_pair, Pipe};

    /// A socket-side pipe set with the far ends kept for reading.
    struct Rig {
        pipes: Pipes,
        far: Vec<Pipe>,
        idx: Vec<PipeIdx>,
    }

    fn rig(n: usize, hwm: usize) -> Rig {
        let mut r = Rig { pipes: Pipes::default(), far: Vec::new(), idx: Vec::new() };
        for _ in 0..n {
            let (near, far) = pipe_pair(None, None, hwm, hwm);
            r.idx.push(r.pipes.insert(near));
            r.far.push(far);
        }
        r
    }

    /// Everything readable; first stands in for the ActivateRead a flush would send.
    fn drain(p: &mut Pipe) -> Vec<Vec<u8>> {
        p.activate_read();
        let mut v = Vec::new();
        while let Some(m) = p.read() {
            v.push(m.data().to_vec());
        }
        v
    }

    fn part(data: &[u8], more: bool) -> Msg {
        let mut m = Msg::from_slice(data);
        m.set_more(more);
        m
    }

    fn check_regions(d: &Dist) {
        assert!(d.matching <= d.active && d.active <= d.eligible && d.eligible <= d.pipes.len());
        for (i, &p) in d.pipes.iter().enumerate() {
            assert_eq!(d.pos[p], i);
        }
    }

    #[test]
    fn send_to_all_reaches_every_pipe() {
        let mut r = rig(3, 0);
        let mut d = Dist::default();
        r.idx.iter().for_each(|&i| d.attach(i));
        d.send_to_all(&mut r.pipes, part(b"hello", false));
        for f in &mut r.far {
            assert_eq!(drain(f), [b"hello"]);
        }
        check_regions(&d);
    }

    #[test]
    fn only_matching_pipes_get_the_message() {
        let mut r = rig(4, 0);
        let mut d = Dist::default();
        r.idx.iter().for_each(|&i| d.attach(i));
        d.match_pipe(r.idx[1]);
        d.match_pipe(r.idx[3]);
        d.match_pipe(r.idx[3]);
        check_regions(&d);
        d.send_to_matching(&mut r.pipes, part(b"x", false));
        d.unmatch();
        let got: Vec<usize> = r.far.iter_mut().map(|f| drain(f).len()).collect();
        assert_eq!(got, [0, 1, 0, 1]);
    }

    #[test]
    fn reverse_match_selects_the_others() {
        let mut r = rig(4, 0);
        let mut d = Dist::default();
        r.idx.iter().for_each(|&i| d.attach(i));
        d.match_pipe(r.idx[0]);
        d.reverse_match();
        check_regions(&d);
        d.send_to_matching(&mut r.pipes, part(b"x", false));
        let got: Vec<usize> = r.far.iter_mut().map(|f| drain(f).len()).collect();
        assert_eq!(got, [0, 1, 1, 1]);
    }

    #[test]
    fn full_pipe_drops_until_activated() {
        let mut r = rig(2, 2);
        let mut d = Dist::default();
        r.idx.iter().for_each(|&i| d.attach(i));
        for _ in 0..5 {
            d.send_to_all(&mut r.pipes, part(b"m", false));
        }
        check_regions(&d);
        assert_eq!(d.active, 0, "both pipes full");
        assert_eq!(drain(&mut r.far[0]).len(), 2);
        // Reading woke the writer: the command would lead to activated().
        let p0 = r.pipes.at(r.idx[0]);
        assert!(p0.activate_write());
        d.activated(r.idx[0]);
        check_regions(&d);
        d.send_to_all(&mut r.pipes, part(b"again", false));
        assert_eq!(drain(&mut r.far[0]), [b"again"]);
        assert_eq!(drain(&mut r.far[1]).len(), 2);
    }

    #[test]
    fn check_hwm_keeps_full_pipe_selected() {
        let mut r = rig(2, 1);
        let mut d = Dist::default();
        r.idx.iter().for_each(|&i| d.attach(i));
        d.match_all();
        assert!(d.check_hwm(&mut r.pipes));
        d.send_to_matching(&mut r.pipes, part(b"a", false));
        d.unmatch();
        d.match_all();
        assert!(!d.check_hwm(&mut r.pipes));
        assert_eq!(d.matching, 2);
        d.unmatch();
        drain(&mut r.far[0]);
        drain(&mut r.far[1]);
        for &i in &r.idx {
            r.pipes.at(i).activate_write();
            d.activated(i);
        }
        check_regions(&d);
        d.match_all();
        assert!(d.check_hwm(&mut r.pipes));
    }

    #[test]
    fn multipart_goes_whole_to_the_same_pipes() {
        let mut r = rig(3, 0);
        let mut d = Dist::default();
        d.attach(r.idx[0]);
        d.attach(r.idx[1]);
        d.match_pipe(r.idx[0]);
        d.send_to_matching(&mut r.pipes, part(b"1", true));
        // A pipe joining mid-message waits for the next message.
        d.attach(r.idx[2]);
        check_regions(&d);
        d.send_to_matching(&mut r.pipes, part(b"2", true));
        d.send_to_matching(&mut r.pipes, part(b"3", false));
        d.unmatch();
        assert_eq!(drain(&mut r.far[0]), [&b"1"[..], b"2", b"3"]);
        assert!(drain(&mut r.far[1]).is_empty());
        assert!(drain(&mut r.far[2]).is_empty());
        d.send_to_all(&mut r.pipes, part(b"next", false));
        for f in &mut r.far {
            assert_eq!(drain(f), [b"next"]);
        }
    }

    #[test]
    fn terminated_pipes_leave_every_region() {
        let mut r = rig(5, 0);
        let mut d = Dist::default();
        r.idx.iter().for_each(|&i| d.attach(i));
        d.match_pipe(r.idx[2]);
        d.match_pipe(r.idx[4]);
        d.terminated(r.idx[2]);
        check_regions(&d);
        assert!(!d.has_pipe(r.idx[2]));
        assert_eq!((d.matching, d.active, d.eligible, d.pipes.len()), (1, 4, 4, 4));
        d.send_to_matching(&mut r.pipes, part(b"x", false));
        d.unmatch();
        assert_eq!(drain(&mut r.far[4]).len(), 1);
        d.terminated(r.idx[2]);
        for &i in &r.idx {
            d.terminated(i);
        }
        check_regions(&d);
        assert!(d.pipes.is_empty() && d.active == 0 && d.eligible == 0);
    }

    #[test]
    fn large_bodies_are_shared_not_copied() {
        let mut r = rig(3, 0);
        let mut d = Dist::default();
        r.idx.iter().for_each(|&i| d.attach(i));
        let body = vec![7u8; 1000];
        d.send_to_all(&mut r.pipes, Msg::from_vec(body.clone()));
        let got: Vec<Msg> = r.far.iter_mut().map(|f| f.read().unwrap()).collect();
        let ptr = got[0].data().as_ptr();
        assert!(got.iter().all(|m| m.data() == &body[..] && m.data().as_ptr() == ptr));
    }
}
