//! The pipe list fair queuing and load balancing share: attached pipes with the usable
//! ("active") ones first, and a round-robin cursor over those.

use super::pipes::PipeIdx;

#[derive(Default)]
pub(crate) struct ActiveSet {
    /// Attached pipes; the first `active` of them are usable.
    pipes: Vec<PipeIdx>,
    active: usize,
    current: usize,
}

impl ActiveSet {
    /// A new pipe starts usable.
    pub(crate) fn attach(&mut self, idx: PipeIdx) {
        self.pipes.push(idx);
        let last = self.pipes.len() - 1;
        self.pipes.swap(self.active, last);
        self.active += 1;
    }

    /// A pipe became usable again.
    pub(crate) fn activate(&mut self, idx: PipeIdx) {
        if let Some(pos) = self.pipes.iter().position(|&p| p == idx) {
            if pos >= self.active {
                self.pipes.swap(pos, self.active);
                self.active += 1;
            }
        }
    }

    /// Forgets a pipe; true if it was the one under the cursor.
    pub(crate) fn remove(&mut self, idx: PipeIdx) -> bool {
        let Some(mut pos) = self.pipes.iter().position(|&p| p == idx) else { return false };
        let was_current = pos == self.current;
        if pos < self.active {
            self.active -= 1;
            self.pipes.swap(pos, self.active);
            pos = self.active;
        }
        self.pipes.swap_remove(pos);
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
        self.current = (self.current + 1) % self.active;
    }

    /// The pipe under the cursor cannot be used for now.
    pub(crate) fn deactivate_current(&mut self) {
        self.active -= 1;
        self.pipes.swap(self.current, self.active);
        if self.current >= self.active {
            self.current = 0;
        }
    }
}
