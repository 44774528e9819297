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

/// Pipes subscribed to one prefix, sorted (binary search; sets are usually tiny).
type PipeSet = Vec<PipeIdx>;

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
        let (set, created) = self.tree.get_or_insert_with(prefix, Vec::new);
        if let Err(pos) = set.binary_search(&pipe) {
            set.insert(pos, pipe);
            *self.count(pipe) += 1;
        }
        created
    }

    /// Unsubscribes `pipe` from `prefix`.
    pub(crate) fn rm(&mut self, prefix: &[u8], pipe: PipeIdx) -> RmResult {
        let r = self.tree.update(prefix, |set| match set.binary_search(&pipe) {
            Err(_) => (RmResult::NotFound, true),
            Ok(pos) => {
                set.remove(pos);
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
            if set.binary_search(&pipe).is_ok() {
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
            set.iter().for_each(|&p| f(p));
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
