//! The pipe list fair queuing and load balancing share: attached pipes with the usable
//! ("active") ones first, and a round-robin cursor over those.

use super::pipes::PipeIdx;

/// `pos` entry of a pipe index not in the set.
const ABSENT: usize = usize::MAX;

#[derive(Default)]
pub(crate) struct ActiveSet {
    /// Attached pipes; the first `active` of them are usable.
    pipes: Vec<PipeIdx>,
    /// Where each pipe index sits in `pipes` (indices are small slab slots), so that
    /// activating or removing one of many pipes does not scan the list.
    pos: Vec<usize>,
    active: usize,
    current: usize,
}

impl ActiveSet {
    /// Swaps two places of `pipes`, keeping `pos` in step.
    fn swap(&mut self, a: usize, b: usize) {
        self.pipes.swap(a, b);
        self.pos[self.pipes[a]] = a;
        self.pos[self.pipes[b]] = b;
    }

    fn position(&self, idx: PipeIdx) -> Option<usize> {
        self.pos.get(idx).copied().filter(|&p| p != ABSENT)
    }

    /// A new pipe starts usable.
    pub(crate) fn attach(&mut self, idx: PipeIdx) {
        if self.pos.len() <= idx {
            self.pos.resize(idx + 1, ABSENT);
        }
        self.pipes.push(idx);
        let last = self.pipes.len() - 1;
        self.pos[idx] = last;
        self.swap(self.active, last);
        self.active += 1;
    }

    /// A pipe became usable again.
    pub(crate) fn activate(&mut self, idx: PipeIdx) {
        if let Some(pos) = self.position(idx) {
            if pos >= self.active {
                self.swap(pos, self.active);
                self.active += 1;
            }
        }
    }

    /// Forgets a pipe; true if it was the one under the cursor.
    pub(crate) fn remove(&mut self, idx: PipeIdx) -> bool {
        let Some(mut pos) = self.position(idx) else { return false };
        let was_current = pos == self.current;
        if pos < self.active {
            self.active -= 1;
            self.swap(pos, self.active);
            pos = self.active;
        }
        let last = self.pipes.len() - 1;
        self.swap(pos, last);
        self.pipes.pop();
        self.pos[idx] = ABSENT;
        if self.current >= self.active {
            self.current = 0;
        }
        was_current
    }

    /// The usable pipe under the cursor, if any.
    pub(crate) fn current(&self) -> Option<PipeIdx> {
        (self.active > 0).then(|| self.pipes[self.current])
    }

    /// Moves the cursor to the next usable pipe.
    pub(crate) fn advance(&mut self) {
        // A compare, not `% active`: a division on every message costs more than the rest.
        self.current += 1;
        if self.current >= self.active {
            self.current = 0;
        }
    }

    /// The pipe under the cursor cannot be used for now.
    pub(crate) fn deactivate_current(&mut self) {
        self.active -= 1;
        self.swap(self.current, self.active);
        if self.current >= self.active {
            self.current = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set stays consistent through attach, deactivate, activate and remove with
    /// reused indices.
    #[test]
    fn positions_follow_swaps() {
        let mut s = ActiveSet::default();
        for i in 0..5 {
            s.attach(i);
        }
        let check = |s: &ActiveSet| {
            for (p, &i) in s.pipes.iter().enumerate() {
                assert_eq!(s.pos[i], p);
            }
            assert_eq!(s.pos.iter().filter(|&&p| p != ABSENT).count(), s.pipes.len());
        };
        s.deactivate_current();
        s.advance();
        s.deactivate_current();
        check(&s);
        assert_eq!(s.active, 3);
        assert!(!s.pipes[..s.active].contains(&0));
        s.activate(0);
        assert!(s.pipes[..s.active].contains(&0));
        s.activate(0);
        assert_eq!(s.active, 4);
        check(&s);
        s.remove(3);
        s.remove(42);
        check(&s);
        assert_eq!(s.pipes.len(), 4);
        s.attach(3);
        check(&s);
        assert_eq!(s.active, 4);
        while s.active > 0 {
            s.deactivate_current();
        }
        assert_eq!(s.current(), None);
        for i in [4, 2, 0, 1, 3] {
            s.activate(i);
        }
        check(&s);
        assert_eq!(s.active, 5);
    }
}
