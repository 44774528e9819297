//! Subscription tries: a compressed prefix tree (`Radix`) shared by SUB's counted trie
//! (`Trie`, here) and XPUB's per-pipe trie (`mtrie`).
//!
//! Finding every subscription that prefixes a message walks the message's bytes once:
//! O(message length + matches), independent of how many subscriptions exist. Edges carry
//! whole byte strings, so a long topic costs one node, not one per byte. Nothing here
//! recurses: topics come from the network and may be arbitrarily deep.

/// A prefix tree from byte strings to values.
pub(crate) struct Radix<V> {
    root: Node<V>,
    /// Keys holding a value.
    len: usize,
}

/// Bytes kept inside a `ShortBytes`; longer strings go to the heap.
const INLINE_BYTES: usize = 14;

/// A short byte string stored in place (16 bytes in all), else boxed. Edge labels and a
/// node's list of child first bytes are this: most are short once keys share prefixes,
/// and a walk then reads them from the node it is already at instead of chasing a
/// pointer. (The long form is boxed twice so that the whole stays 16 bytes.)
enum ShortBytes {
    Inline { len: u8, bytes: [u8; INLINE_BYTES] },
    Heap(Box<Box<[u8]>>),
}

const _: () = assert!(std::mem::size_of::<ShortBytes>() == 16);

impl ShortBytes {
    fn new(b: &[u8]) -> ShortBytes {
        if b.len() <= INLINE_BYTES {
            let mut bytes = [0; INLINE_BYTES];
            bytes[..b.len()].copy_from_slice(b);
            ShortBytes::Inline { len: b.len() as u8, bytes }
        } else {
            ShortBytes::Heap(Box::new(b.into()))
        }
    }
}

impl std::ops::Deref for ShortBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            ShortBytes::Inline { len, bytes } => &bytes[..*len as usize],
            ShortBytes::Heap(b) => b,
        }
    }
}

/// A trie node, kept small (32 bytes for SUB's counts) because matching a message visits
/// one per level and a large subscription set is mostly leaves.
struct Node<V> {
    /// The bytes on the edge into this node (empty only at the root).
    label: ShortBytes,
    value: Option<V>,
    /// None for a leaf, never an empty list.
    kids: Option<Box<Kids<V>>>,
}

struct Kids<V> {
    /// The first label byte of each node, in order: a lookup searches these few bytes
    /// instead of visiting every child it passes.
    firsts: ShortBytes,
    /// Sorted by first label byte, which is distinct among siblings. A node other than
    /// the root without a value has at least two children (otherwise it is merged away).
    nodes: Vec<Node<V>>,
}

impl<V> Node<V> {
    fn new(label: &[u8], value: Option<V>) -> Node<V> {
        Node { label: ShortBytes::new(label), value, kids: None }
    }

    fn children(&self) -> &[Node<V>] {
        self.kids.as_ref().map_or(&[], |k| &k.nodes)
    }

    fn child_mut(&mut self, pos: usize) -> &mut Node<V> {
        &mut self.kids.as_mut().expect("a node with children").nodes[pos]
    }

    /// Where the child whose label starts with `byte` is (or would go).
    #[inline]
    fn child(&self, byte: u8) -> Result<usize, usize> {
        match &self.kids {
            Some(k) => k.firsts.binary_search(&byte),
            None => Err(0),
        }
    }

    fn insert_child(&mut self, pos: usize, child: Node<V>) {
        let kids = self.kids.get_or_insert_with(|| {
            Box::new(Kids { firsts: ShortBytes::new(&[]), nodes: Vec::new() })
        });
        let mut firsts = kids.firsts.to_vec();
        firsts.insert(pos, child.label[0]);
        kids.firsts = ShortBytes::new(&firsts);
        kids.nodes.insert(pos, child);
    }

    fn remove_child(&mut self, pos: usize) {
        let Some(kids) = &mut self.kids else { return };
        kids.nodes.remove(pos);
        if kids.nodes.is_empty() {
            self.kids = None;
        } else {
            let mut firsts = kids.firsts.to_vec();
            firsts.remove(pos);
            kids.firsts = ShortBytes::new(&firsts);
        }
    }

    /// Folds a valueless node with a single child into one node.
    fn merge_only_child(&mut self) {
        debug_assert!(self.value.is_none() && self.children().len() == 1);
        let Some(mut kids) = self.kids.take() else { return };
        let child = kids.nodes.pop().expect("one child");
        let mut label = Vec::with_capacity(self.label.len() + child.label.len());
        label.extend_from_slice(&self.label);
        label.extend_from_slice(&child.label);
        self.label = ShortBytes::new(&label);
        self.value = child.value;
        self.kids = child.kids;
    }
}

/// `rest` after `label`, if it starts with it. A byte loop: labels are mostly a byte or
/// two, where a `memcmp` call costs more than the comparison.
#[inline]
fn strip_label<'a>(rest: &'a [u8], label: &[u8]) -> Option<&'a [u8]> {
    if rest.len() < label.len() || !label.iter().zip(rest).all(|(a, b)| a == b) {
        return None;
    }
    Some(&rest[label.len()..])
}

impl<V> Default for Radix<V> {
    fn default() -> Self {
        Radix { root: Node::new(&[], None), len: 0 }
    }
}

fn common_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl<V> Radix<V> {
    /// Number of keys holding a value.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The value at `key`, created by `make` if absent; true if it was created.
    pub(crate) fn get_or_insert_with(
        &mut self,
        key: &[u8],
        make: impl FnOnce() -> V,
    ) -> (&mut V, bool) {
        let mut node = &mut self.root;
        let mut rest = key;
        while !rest.is_empty() {
            let n = node;
            match n.child(rest[0]) {
                Err(pos) => {
                    n.insert_child(pos, Node::new(rest, None));
                    node = n.child_mut(pos);
                    rest = &[];
                }
                Ok(pos) => {
                    let child = n.child_mut(pos);
                    let common = common_len(&child.label, rest);
                    if common < child.label.len() {
                        // The key leaves this edge midway: split it there (the first byte
                        // stays, so the parent's `firsts` does too).
                        let upper = Node::new(&child.label[..common], None);
                        let mut lower = std::mem::replace(child, upper);
                        lower.label = ShortBytes::new(&lower.label[common..]);
                        child.insert_child(0, lower);
                    }
                    rest = &rest[common..];
                    node = child;
                }
            }
        }
        let created = node.value.is_none();
        if created {
            node.value = Some(make());
            self.len += 1;
        }
        (node.value.as_mut().expect("just set"), created)
    }

    /// Positions of the children leading to `key`'s node, if the key has a node.
    fn path(&self, key: &[u8]) -> Option<Vec<usize>> {
        let mut path = Vec::new();
        let mut node = &self.root;
        let mut rest = key;
        while !rest.is_empty() {
            let pos = node.child(rest[0]).ok()?;
            node = &node.children()[pos];
            rest = strip_label(rest, &node.label)?;
            path.push(pos);
        }
        Some(path)
    }

    /// Runs `f` on the value at `key`, if any; `f` returns its result and whether the value
    /// stays. A value that goes is removed and the tree tidied.
    pub(crate) fn update<R>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(&mut V) -> (R, bool),
    ) -> Option<R> {
        let path = self.path(key)?;
        let Some((&last, upper)) = path.split_last() else {
            // The empty key lives at the root, which is never removed.
            let (r, keep) = f(self.root.value.as_mut()?);
            if !keep {
                self.root.value = None;
                self.len -= 1;
            }
            return Some(r);
        };
        let mut parent = &mut self.root;
        for &pos in upper {
            parent = parent.child_mut(pos);
        }
        let node = parent.child_mut(last);
        let (r, keep) = f(node.value.as_mut()?);
        if keep {
            return Some(r);
        }
        node.value = None;
        self.len -= 1;
        match node.children().len() {
            0 => {
                parent.remove_child(last);
                // The parent may be left a valueless pass-through; the root may not merge.
                if !upper.is_empty() && parent.value.is_none() && parent.children().len() == 1 {
                    parent.merge_only_child();
                }
            }
            1 => node.merge_only_child(),
            _ => {}
        }
        Some(r)
    }

    /// Calls `f` with the value of every key that is a prefix of `data`, shortest first,
    /// until `f` returns true. Returns whether it did.
    pub(crate) fn find_prefixes(&self, data: &[u8], mut f: impl FnMut(&V) -> bool) -> bool {
        let mut node = &self.root;
        let mut rest = data;
        loop {
            if let Some(v) = &node.value {
                if f(v) {
                    return true;
                }
            }
            let Some((&b, after)) = rest.split_first() else { return false };
            let Some(kids) = &node.kids else { return false };
            // A scan, not a binary search: sibling lists are short, and this one is.
            let Some(pos) = kids.firsts.iter().position(|&x| x == b) else { return false };
            node = &kids.nodes[pos];
            // The first label byte is `b`; compare the rest.
            match strip_label(after, &node.label[1..]) {
                Some(r) => rest = r,
                None => return false,
            }
        }
    }

    /// Calls `f` with every key and value, in byte order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&[u8], &V)) {
        let mut key = Vec::new();
        // (node, label length pushed onto key for it, next child to visit)
        let mut stack: Vec<(&Node<V>, usize, usize)> = vec![(&self.root, 0, 0)];
        if let Some(v) = &self.root.value {
            f(&key, v);
        }
        while let Some(top) = stack.last_mut() {
            let (node, label_len, next) = *top;
            if next == node.children().len() {
                key.truncate(key.len() - label_len);
                stack.pop();
                continue;
            }
            top.2 += 1;
            let child = &node.children()[next];
            key.extend_from_slice(&child.label);
            if let Some(v) = &child.value {
                f(&key, v);
            }
            stack.push((child, child.label.len(), 0));
        }
    }
}

/// SUB/XSUB subscriptions: prefixes with a count, so subscribing twice takes two
/// unsubscribes.
#[derive(Default)]
pub(crate) struct Trie {
    tree: Radix<u32>,
}

impl Trie {
    /// Adds one subscription to `prefix`; true if it is the first.
    pub(crate) fn add(&mut self, prefix: &[u8]) -> bool {
        let (count, created) = self.tree.get_or_insert_with(prefix, || 0);
        *count = count.saturating_add(1);
        created
    }

    /// Removes one subscription to `prefix`; true if that was the last one.
    pub(crate) fn rm(&mut self, prefix: &[u8]) -> bool {
        self.tree
            .update(prefix, |count| {
                *count -= 1;
                (*count == 0, *count > 0)
            })
            .unwrap_or(false)
    }

    /// Whether some subscription is a prefix of `data`.
    pub(crate) fn check(&self, data: &[u8]) -> bool {
        self.tree.find_prefixes(data, |_| true)
    }

    /// Calls `f` once per subscribed prefix, in byte order.
    pub(crate) fn apply(&self, mut f: impl FnMut(&[u8])) {
        self.tree.for_each(|k, _| f(k));
    }

    /// Distinct prefixes subscribed.
    pub(crate) fn num_prefixes(&self) -> usize {
        self.tree.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(t: &Trie) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        t.apply(|k| v.push(k.to_vec()));
        v
    }

    /// Checks the structural invariants: sorted distinct children, no empty labels, and
    /// no valueless single-child nodes below the root.
    fn check_shape<V>(r: &Radix<V>) {
        let mut count = 0;
        let mut stack = vec![(&r.root, true)];
        while let Some((n, is_root)) = stack.pop() {
            count += n.value.is_some() as usize;
            if !is_root {
                assert!(!n.label.is_empty());
                assert!(n.value.is_some() || n.children().len() >= 2, "unmerged node");
            }
            for w in n.children().windows(2) {
                assert!(w[0].label[0] < w[1].label[0]);
            }
            if let Some(k) = &n.kids {
                assert!(!k.nodes.is_empty(), "empty child list");
                let firsts: Vec<u8> = k.nodes.iter().map(|c| c.label[0]).collect();
                assert_eq!(*k.firsts, firsts[..]);
            }
            stack.extend(n.children().iter().map(|c| (c, false)));
        }
        assert_eq!(count, r.len());
    }

    #[test]
    fn empty_trie_matches_nothing() {
        let t = Trie::default();
        assert!(!t.check(b""));
        assert!(!t.check(b"abc"));
        assert_eq!(t.num_prefixes(), 0);
    }

    #[test]
    fn empty_prefix_matches_everything() {
        let mut t = Trie::default();
        assert!(t.add(b""));
        assert!(t.check(b""));
        assert!(t.check(b"anything"));
        assert!(t.rm(b""));
        assert!(!t.check(b"anything"));
    }

    #[test]
    fn prefix_matching() {
        let mut t = Trie::default();
        t.add(b"abc");
        assert!(t.check(b"abc"));
        assert!(t.check(b"abcdef"));
        assert!(!t.check(b"ab"));
        assert!(!t.check(b"abd"));
        assert!(!t.check(b"xabc"));
        t.add(b"ab");
        assert!(t.check(b"ab"));
        assert!(t.check(b"abd"));
        assert!(!t.check(b"a"));
        check_shape(&t.tree);
    }

    #[test]
    fn counted_subscriptions() {
        let mut t = Trie::default();
        assert!(t.add(b"topic"));
        assert!(!t.add(b"topic"));
        assert!(!t.rm(b"topic"));
        assert!(t.check(b"topic"));
        assert!(t.rm(b"topic"));
        assert!(!t.check(b"topic"));
        assert!(!t.rm(b"topic"), "removing an absent prefix");
        assert_eq!(t.num_prefixes(), 0);
        check_shape(&t.tree);
    }

    #[test]
    fn split_and_merge_keep_the_tree_tidy() {
        let mut t = Trie::default();
        for k in [&b"romane"[..], b"romanus", b"romulus", b"rubens", b"ruber", b"rubicon", b"r"] {
            t.add(k);
            check_shape(&t.tree);
        }
        assert_eq!(t.num_prefixes(), 7);
        assert_eq!(
            keys(&t),
            [&b"r"[..], b"romane", b"romanus", b"romulus", b"rubens", b"ruber", b"rubicon"]
        );
        assert!(t.rm(b"romanus"));
        check_shape(&t.tree);
        assert!(!keys(&t).contains(&b"romanus".to_vec()));
        assert!(t.check(b"romane!"));
        assert!(t.rm(b"r"));
        assert!(t.rm(b"rubens"));
        assert!(t.rm(b"ruber"));
        check_shape(&t.tree);
        assert_eq!(keys(&t), [&b"romane"[..], b"romulus", b"rubicon"]);
        for k in [&b"romane"[..], b"romulus", b"rubicon"] {
            assert!(t.rm(k));
            check_shape(&t.tree);
        }
        assert!(t.tree.root.kids.is_none());
    }

    #[test]
    fn absent_keys_inside_edges() {
        let mut t = Trie::default();
        t.add(b"abcdef");
        assert!(!t.rm(b"abc"));
        assert!(!t.rm(b"abcdefg"));
        assert!(!t.rm(b"abx"));
        assert!(t.check(b"abcdef"));
        assert_eq!(t.num_prefixes(), 1);
    }

    #[test]
    fn long_labels_split_and_merge() {
        // Labels past the inline size live on the heap; splitting one may leave either
        // part inline, and merging may take the result back to the heap.
        let base = [b'x'; 40];
        let key = |tail: &[u8]| [&base[..], tail].concat();
        let mut t = Trie::default();
        t.add(&key(b"-one"));
        t.add(&key(b"-two"));
        t.add(&base[..10]);
        t.add(&key(&[b'y'; 30]));
        check_shape(&t.tree);
        assert!(t.check(&key(b"-one!")));
        assert!(t.check(&base[..12]));
        assert!(!t.check(&base[..9]));
        assert!(t.rm(&base[..10]));
        assert!(t.rm(&key(b"-two")));
        check_shape(&t.tree);
        assert!(!t.check(&base[..12]));
        assert!(t.check(&key(b"-one")));
        assert!(t.check(&key(&[b'y'; 31])));
        assert!(!t.check(&key(b"-two")));
        assert_eq!(keys(&t), [key(b"-one"), key(&[b'y'; 30])]);
    }

    #[test]
    fn wide_nodes() {
        // More children than fit in place: the first-byte list moves to the heap and back.
        let mut t = Trie::default();
        for a in 0..40u8 {
            for b in (0..20u8).rev() {
                assert!(t.add(&[a, b * 7]));
            }
        }
        check_shape(&t.tree);
        assert!(t.check(&[39, 133, 1]));
        assert!(!t.check(&[39, 134]));
        assert!(!t.check(&[40, 0]));
        for a in (0..40u8).filter(|a| a % 3 != 0) {
            for b in 0..20u8 {
                assert!(t.rm(&[a, b * 7]));
            }
            check_shape(&t.tree);
        }
        assert_eq!(t.num_prefixes(), 14 * 20);
        assert!(t.check(&[39, 0]));
        assert!(!t.check(&[38, 0]));
        for b in 0..19u8 {
            assert!(t.rm(&[0, b * 7]));
        }
        check_shape(&t.tree);
        assert!(t.check(&[0, 133]));
        assert_eq!(keys(&t)[0], [0, 133]);
    }

    #[test]
    fn binary_keys() {
        let mut t = Trie::default();
        t.add(&[0, 1, 255]);
        t.add(&[0, 0]);
        assert!(t.check(&[0, 1, 255, 7]));
        assert!(t.check(&[0, 0]));
        assert!(!t.check(&[0, 1]));
        assert_eq!(keys(&t), [vec![0, 0], vec![0, 1, 255]]);
    }

    #[test]
    fn deep_chains_do_not_recurse() {
        // Each key extends the last: a path 3000 nodes deep, walked on a 64 KiB stack that
        // recursion per node would overflow.
        let t = std::thread::Builder::new().stack_size(64 * 1024).spawn(|| {
            let mut t = Trie::default();
            let key = vec![b'a'; 3000];
            for n in 1..=key.len() {
                t.add(&key[..n]);
            }
            assert!(t.check(&key));
            let mut count = 0;
            t.apply(|_| count += 1);
            assert_eq!(count, 3000);
            for n in (1..=key.len()).rev() {
                assert!(t.rm(&key[..n]));
            }
            assert_eq!(t.num_prefixes(), 0);
        });
        t.unwrap().join().unwrap();
    }

    #[test]
    fn matches_a_naive_model() {
        // Pseudo-random adds and removes over a small alphabet, checked against a list.
        let mut t = Trie::default();
        let mut model: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut seed = 0x2545_f491_u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for _ in 0..20000 {
            let len = (next() % 5) as usize;
            let key: Vec<u8> = (0..len).map(|_| b'a' + (next() % 3) as u8).collect();
            let pos = model.iter().position(|(k, _)| *k == key);
            if next() % 2 == 0 {
                let first = t.add(&key);
                assert_eq!(first, pos.is_none());
                match pos {
                    Some(p) => model[p].1 += 1,
                    None => model.push((key, 1)),
                }
            } else {
                let last = t.rm(&key);
                match pos {
                    Some(p) => {
                        model[p].1 -= 1;
                        assert_eq!(last, model[p].1 == 0);
                        if model[p].1 == 0 {
                            model.remove(p);
                        }
                    }
                    None => assert!(!last),
                }
            }
            let probe: Vec<u8> = (0..(next() % 6)).map(|_| b'a' + (next() % 3) as u8).collect();
            assert_eq!(t.check(&probe), model.iter().any(|(k, _)| probe.starts_with(k)));
            assert_eq!(t.num_prefixes(), model.len());
        }
        check_shape(&t.tree);
        let mut sorted: Vec<Vec<u8>> = model.into_iter().map(|(k, _)| k).collect();
        sorted.sort();
        assert_eq!(keys(&t), sorted);
    }
}
