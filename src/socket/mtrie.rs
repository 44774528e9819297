//! XPUB/PUB subscriptions: for each prefix, the set of pipes subscribed to it.
//!
//! A pipe is in a prefix's set at most once (a peer subscribing twice counts once here;
//! the peer's own counted trie decides when its unsubscribe travels upstream).

use super::pipes::PipeIdx;
use super::trie::Radix;

/// Outcome of removing one pipe's subscription to a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RmResult {
    /// The pipe was not subscribed to that prefix.
    NotFound,
    /// The pipe was the prefix's last subscriber.
    LastValueRemoved,
    /// Other pipes are still subscribed.
    ValuesRemain,
}

/// Pipes subscribed to one prefix. Up to two are kept in place, in the trie node itself:
/// most prefixes have one or two subscribers, and matching a message then reads them from
/// the node it is at rather than from one more allocation per match. Larger sets are
/// sorted (binary search).
enum PipeSet {
    Few { len: u8, pipes: [u32; 2] },
    Many(Vec<u32>),
}

impl PipeSet {
    fn new() -> PipeSet {
        PipeSet::Few { len: 0, pipes: [0; 2] }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            PipeSet::Few { len, pipes } => &pipes[..*len as usize],
            PipeSet::Many(v) => v,
        }
    }

    fn contains(&self, pipe: PipeIdx) -> bool {
        self.as_slice().contains(&(pipe as u32))
    }

    fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Adds `pipe`; false if it was there already.
    fn insert(&mut self, pipe: PipeIdx) -> bool {
        let p = pipe as u32;
        match self {
            PipeSet::Few { len, pipes } => {
                let n = *len as usize;
                if pipes[..n].contains(&p) {
                    return false;
                }
                if n < pipes.len() {
                    pipes[n] = p;
                    *len += 1;
                } else {
                    let mut v = pipes.to_vec();
                    v.push(p);
                    v.sort_unstable();
                    *self = PipeSet::Many(v);
                }
                true
            }
            PipeSet::Many(v) => match v.binary_search(&p) {
                Ok(_) => false,
                Err(pos) => {
                    v.insert(pos, p);
                    true
                }
            },
        }
    }

    /// Removes `pipe`; false if it was not there.
    fn remove(&mut self, pipe: PipeIdx) -> bool {
        let p = pipe as u32;
        match self {
            PipeSet::Few { len, pipes } => {
                let n = *len as usize;
                let Some(i) = pipes[..n].iter().position(|&x| x == p) else { return false };
                pipes[i] = pipes[n - 1];
                *len -= 1;
                true
            }
            PipeSet::Many(v) => match v.binary_search(&p) {
                Ok(pos) => {
                    v.remove(pos);
                    true
                }
                Err(_) => false,
            },
        }
    }
}

#[derive(Default)]
pub(crate) struct MTrie {
    tree: Radix<PipeSet>,
    /// Subscriptions held per pipe, so a pipe without any is removed without a walk.
    per_pipe: Vec<u32>,
}

impl MTrie {
    fn count(&mut self, pipe: PipeIdx) -> &mut u32 {
        if self.per_pipe.len() <= pipe {
            self.per_pipe.resize(pipe + 1, 0);
        }
        &mut self.per_pipe[pipe]
    }

    /// Subscribes `pipe` to `prefix`; true if the prefix had no subscriber before.
    pub(crate) fn add(&mut self, prefix: &[u8], pipe: PipeIdx) -> bool {
        let (set, created) = self.tree.get_or_insert_with(prefix, PipeSet::new);
        if set.insert(pipe) {
            *self.count(pipe) += 1;
        }
        created
    }

    /// Unsubscribes `pipe` from `prefix`.
    pub(crate) fn rm(&mut self, prefix: &[u8], pipe: PipeIdx) -> RmResult {
        let r = self.tree.update(prefix, |set| match set.remove(pipe) {
            false => (RmResult::NotFound, true),
            true => {
                if set.is_empty() {
                    (RmResult::LastValueRemoved, false)
                } else {
                    (RmResult::ValuesRemain, true)
                }
            }
        });
        let r = r.unwrap_or(RmResult::NotFound);
        if r != RmResult::NotFound {
            *self.count(pipe) -= 1;
        }
        r
    }

    /// Removes every subscription of `pipe` (it is going away), calling `f` with each
    /// prefix it had, in byte order, and whether it was that prefix's last subscriber.
    pub(crate) fn rm_pipe(&mut self, pipe: PipeIdx, mut f: impl FnMut(&[u8], bool)) {
        if self.per_pipe.get(pipe).is_none_or(|&n| n == 0) {
            return;
        }
        // Collected first: removal reshapes the tree. Pipes go away rarely.
        let mut prefixes = Vec::new();
        self.tree.for_each(|k, set| {
            if set.contains(pipe) {
                prefixes.push(k.to_vec());
            }
        });
        for p in prefixes {
            let r = self.rm(&p, pipe);
            f(&p, r == RmResult::LastValueRemoved);
        }
        debug_assert_eq!(self.per_pipe[pipe], 0);
    }

    /// Calls `f` for each pipe subscribed to some prefix of `data`; a pipe subscribed to
    /// several such prefixes is passed once per prefix.
    pub(crate) fn match_pipes(&self, data: &[u8], mut f: impl FnMut(PipeIdx)) {
        self.tree.find_prefixes(data, |set| {
            set.as_slice().iter().for_each(|&p| f(p as PipeIdx));
            false
        });
    }

    /// Distinct prefixes with at least one subscriber.
    pub(crate) fn num_prefixes(&self) -> usize {
        self.tree.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matched(m: &MTrie, data: &[u8]) -> Vec<PipeIdx> {
        let mut v = Vec::new();
        m.match_pipes(data, |p| v.push(p));
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn add_reports_first_subscriber() {
        let mut m = MTrie::default();
        assert!(m.add(b"a", 1));
        assert!(!m.add(b"a", 2));
        assert!(!m.add(b"a", 1), "same pipe twice");
        assert_eq!(m.num_prefixes(), 1);
        assert_eq!(matched(&m, b"abc"), [1, 2]);
    }

    #[test]
    fn rm_results() {
        let mut m = MTrie::default();
        m.add(b"a", 1);
        m.add(b"a", 2);
        assert_eq!(m.rm(b"a", 3), RmResult::NotFound);
        assert_eq!(m.rm(b"b", 1), RmResult::NotFound);
        assert_eq!(m.rm(b"a", 1), RmResult::ValuesRemain);
        assert_eq!(m.rm(b"a", 1), RmResult::NotFound);
        assert_eq!(m.rm(b"a", 2), RmResult::LastValueRemoved);
        assert_eq!(m.num_prefixes(), 0);
        assert!(matched(&m, b"a").is_empty());
    }

    #[test]
    fn matching_collects_all_prefixes() {
        let mut m = MTrie::default();
        m.add(b"", 0);
        m.add(b"ab", 1);
        m.add(b"abc", 2);
        m.add(b"abd", 3);
        m.add(b"abc", 1);
        assert_eq!(matched(&m, b"abcz"), [0, 1, 2]);
        assert_eq!(matched(&m, b"abd"), [0, 1, 3]);
        assert_eq!(matched(&m, b"a"), [0]);
        assert_eq!(matched(&m, b"xyz"), [0]);
    }

    #[test]
    fn rm_pipe_reports_each_prefix() {
        let mut m = MTrie::default();
        m.add(b"b", 1);
        m.add(b"a", 1);
        m.add(b"a", 2);
        m.add(b"", 1);
        let mut seen = Vec::new();
        m.rm_pipe(1, |p, last| seen.push((p.to_vec(), last)));
        assert_eq!(seen, [(b"".to_vec(), true), (b"a".to_vec(), false), (b"b".to_vec(), true)]);
        assert_eq!(matched(&m, b"abc"), [2]);
        assert_eq!(m.num_prefixes(), 1);
        // A pipe with nothing subscribed, known or not, is a no-op.
        m.rm_pipe(1, |_, _| panic!("no subscriptions left"));
        m.rm_pipe(99, |_, _| panic!("unknown pipe"));
    }

    #[test]
    fn small_and_large_pipe_sets() {
        // Sets of up to two pipes live in the node; a third moves them to the heap.
        assert!(std::mem::size_of::<Option<PipeSet>>() <= 24);
        let mut m = MTrie::default();
        m.add(b"t", 7);
        m.add(b"t", 3);
        assert!(!m.add(b"t", 7));
        assert_eq!(matched(&m, b"t"), [3, 7]);
        assert_eq!(m.rm(b"t", 7), RmResult::ValuesRemain);
        m.add(b"t", 9);
        m.add(b"t", 1);
        m.add(b"t", 5);
        assert_eq!(matched(&m, b"t"), [1, 3, 5, 9]);
        assert_eq!(m.rm(b"t", 4), RmResult::NotFound);
        for p in [3, 9, 1] {
            assert_eq!(m.rm(b"t", p), RmResult::ValuesRemain);
        }
        assert_eq!(matched(&m, b"t"), [5]);
        let mut seen = Vec::new();
        m.rm_pipe(5, |p, last| seen.push((p.to_vec(), last)));
        assert_eq!(seen, [(b"t".to_vec(), true)]);
        assert_eq!(m.num_prefixes(), 0);
    }

    #[test]
    fn many_pipes_one_topic() {
        let mut m = MTrie::default();
        for p in (0..1000).rev() {
            m.add(b"news", p);
        }
        assert_eq!(matched(&m, b"news!").len(), 1000);
        for p in 0..999 {
            assert_eq!(m.rm(b"news", p), RmResult::ValuesRemain);
        }
        assert_eq!(m.rm(b"news", 999), RmResult::LastValueRemoved);
    }
}
