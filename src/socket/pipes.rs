//! The pipes a socket owns, in a slab so patterns refer to them by index without hashing on
//! the message path. Commands name pipes by id; `by_id` maps them to indices.

use crate::pipe::{Pipe, PipeId, PipeMap};

pub(crate) type PipeIdx = usize;

#[derive(Default)]
pub(crate) struct Pipes {
    slots: Vec<Option<Pipe>>,
    free: Vec<PipeIdx>,
    by_id: PipeMap<PipeIdx>,
    /// Pipes found finished (peer gone and drained) during an operation; the socket removes
    /// them, and tells the pattern, once the operation is over.
    dead: Vec<PipeIdx>,
}

impl Pipes {
    pub(crate) fn insert(&mut self, pipe: Pipe) -> PipeIdx {
        let id = pipe.id;
        let idx = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(pipe);
                i
            }
            None => {
                self.slots.push(Some(pipe));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id, idx);
        idx
    }

    pub(crate) fn remove(&mut self, idx: PipeIdx) -> Option<Pipe> {
        let pipe = self.slots.get_mut(idx)?.take()?;
        self.by_id.remove(&pipe.id);
        self.free.push(idx);
        Some(pipe)
    }

    pub(crate) fn idx_of(&self, id: PipeId) -> Option<PipeIdx> {
        self.by_id.get(&id).copied()
    }

    pub(crate) fn get(&self, idx: PipeIdx) -> Option<&Pipe> {
        self.slots.get(idx).and_then(Option::as_ref)
    }

    /// The pipe at `idx`; patterns only hold indices of live pipes.
    pub(crate) fn at(&mut self, idx: PipeIdx) -> &mut Pipe {
        self.slots[idx].as_mut().expect("pattern holds a removed pipe")
    }

    /// The pipe, if there is exactly one.
    pub(crate) fn sole(&self) -> Option<&Pipe> {
        if self.by_id.len() != 1 {
            return None;
        }
        self.by_id.values().next().and_then(|&i| self.get(i))
    }

    pub(crate) fn mark_dead(&mut self, idx: PipeIdx) {
        if !self.dead.contains(&idx) {
            self.dead.push(idx);
        }
    }

    pub(crate) fn take_dead(&mut self) -> Vec<PipeIdx> {
        std::mem::take(&mut self.dead)
    }

    pub(crate) fn has_dead(&self) -> bool {
        !self.dead.is_empty()
    }

    pub(crate) fn indices(&self) -> Vec<PipeIdx> {
        (0..self.slots.len()).filter(|&i| self.slots[i].is_some()).collect()
    }
}
