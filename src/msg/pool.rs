//! Recycled message bodies.
//!
//! A message body is allocated by the thread that sends it and freed by another: the I/O
//! thread that wrote it out, or the thread that received it. glibc's per-thread cache only
//! helps a thread that frees what it allocated, so with bodies crossing threads every
//! allocation takes the sender's arena lock (and over 1 KiB every free does too), and the
//! two threads contend for it, futex calls and all. Here a freed body goes into a small
//! lock-free queue of its size class, and the next allocation of that class takes it from
//! there: one atomic operation on each side, no lock, no syscall.
//!
//! Classes are eight per doubling of the body size, so a body gets at most 1/8 more room
//! than asked for (none for round sizes: see HEADROOM). Each class keeps a bounded number of blocks, all classes together a bounded
//! number of bytes; a block that does not fit goes back to free, and an empty class falls
//! back to malloc, so the pool changes how often the allocator is called, never what memory
//! is available.

use crossbeam_queue::ArrayQueue;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Room in every block for what precedes the body (the message's content header), so the
/// classes are spaced over body sizes: a body of a round size (8 KiB, the receive buffer;
/// 64 KiB) takes a block with no rounding up.
pub(super) const HEADROOM: usize = 48;
/// Pooled bodies are larger than this (a body of up to 40 bytes lives in the message).
const MIN_BODY: usize = 32;
/// Largest pooled body (larger ones are mapped and unmapped by malloc per message).
const MAX_BODY: usize = 256 * 1024;
/// Classes per doubling of the body size.
const STEPS_LOG2: u32 = 3;
const CLASSES: usize = ((MAX_BODY / MIN_BODY).trailing_zeros() as usize) << STEPS_LOG2;
/// Bytes one class may keep (its blocks and its queue's slots), and blocks. A pool only
/// helps while it can take a whole burst of frees: as many bodies as were in flight at
/// once, e.g. ten connections' pipes at their HWM of 1000 (ROUTER fed by ten DEALERs).
const CLASS_BYTES: usize = 1024 * 1024;
const CLASS_BLOCKS: usize = 8192;
/// A queue slot: the block's address and the queue's sequence stamp.
const SLOT: usize = 2 * size_of::<usize>();
/// Bytes all classes together may keep: classes take their share from this when first
/// used, so a process that uses a few sizes has full pools for them and one that uses
/// every size keeps no more than this.
const POOL_BYTES: usize = 8 * 1024 * 1024;
/// Zeroed blocks larger than this come from calloc, which takes fresh pages (already zero)
/// from the OS, rather than from the pool and a memset.
const CLEAR_MAX: usize = 64 * 1024;

/// A block's address, as the queue stores it (a pointer is not `Send`).
type Block = usize;

/// Free blocks, one bounded queue per class.
struct Pool {
    /// Made when a block of the class is first freed; None once the budget is spent.
    classes: Vec<OnceLock<Option<ArrayQueue<Block>>>>,
    /// What is left of POOL_BYTES for classes not used yet.
    budget: AtomicUsize,
}

/// Set in a child of fork(): a parent's thread may have been inside a queue operation at
/// the fork, leaving a slot the child would wait on forever, so the child leaves the pool
/// alone and uses malloc and free directly (pooled blocks are malloc's, so either works).
static FORKED: AtomicBool = AtomicBool::new(false);

extern "C" fn forked() {
    FORKED.store(true, Ordering::Relaxed);
}

/// Makes `in_forked_child` true in any child of fork() from now on (once per process).
pub(crate) fn watch_fork() {
    static WATCH: std::sync::Once = std::sync::Once::new();
    WATCH.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic; if registration fails
        // (ENOMEM), a child still works unless it forks mid-operation, as before.
        unsafe { libc::pthread_atfork(None, None, Some(forked)) };
    });
}

/// True in a child of fork() made after `watch_fork`.
pub(crate) fn in_forked_child() -> bool {
    FORKED.load(Ordering::Relaxed)
}

/// The process's pool, made on first use; None in a child of fork().
fn pool() -> Option<&'static Pool> {
    static POOL: OnceLock<Pool> = OnceLock::new();
    if in_forked_child() {
        return None;
    }
    Some(POOL.get_or_init(|| {
        watch_fork();
        Pool::new(POOL_BYTES)
    }))
}

impl Pool {
    fn new(bytes: usize) -> Pool {
        Pool { classes: (0..CLASSES).map(|_| OnceLock::new()).collect(), budget: bytes.into() }
    }

    /// The queue of `class`, if it has one (it has none before a block of it was freed).
    fn queue(&self, class: usize) -> Option<&ArrayQueue<Block>> {
        self.classes[class].get().and_then(Option::as_ref)
    }

    /// The queue of `class`, taking its share of the budget the first time.
    fn queue_or_make(&self, class: usize) -> Option<&ArrayQueue<Block>> {
        let make = || {
            let size = class_size(class) + SLOT;
            let want = (CLASS_BYTES / size).clamp(1, CLASS_BLOCKS) * size;
            let take = |b: usize| Some(b - want.min(b));
            let before = self.budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, take);
            let got = want.min(before.unwrap_or_else(|b| b));
            (got >= size).then(|| ArrayQueue::new(got / size))
        };
        self.classes[class].get_or_init(make).as_ref()
    }

    fn alloc(&self, class: usize, zeroed: bool) -> *mut u8 {
        let size = class_size(class);
        if zeroed && size > CLEAR_MAX {
            return fresh(class, true);
        }
        let block = match self.queue(class).and_then(ArrayQueue::pop) {
            Some(b) => b as *mut u8,
            None => fresh(class, false),
        };
        if zeroed && !block.is_null() {
            // SAFETY: the block has `size` writable bytes and is ours alone.
            unsafe { std::ptr::write_bytes(block, 0, size) };
        }
        block
    }

    /// # Safety
    /// As `free`.
    unsafe fn free(&self, class: usize, block: *mut u8) {
        let kept = self.queue_or_make(class).is_some_and(|q| q.push(block as Block).is_ok());
        if !kept {
            // SAFETY: the caller gives up the block, which malloc or calloc allocated.
            unsafe { libc::free(block.cast()) };
        }
    }

    /// Frees every kept block (tests).
    #[cfg(test)]
    fn drain(&self) {
        for q in (0..CLASSES).filter_map(|c| self.queue(c)) {
            while let Some(b) = q.pop() {
                // SAFETY: blocks in the pool are malloc's and unused.
                unsafe { libc::free((b as *mut u8).cast()) };
            }
        }
    }
}

/// The block size of class `i`.
const fn class_size(i: usize) -> usize {
    let steps = 1 << STEPS_LOG2;
    let (e, sub) = (i >> STEPS_LOG2, i & (steps - 1));
    HEADROOM + (MIN_BODY << e) / steps * (steps + sub + 1)
}

/// The class of blocks of `size` bytes, if it is pooled.
pub(crate) fn class_of(size: usize) -> Option<usize> {
    let body = size.checked_sub(HEADROOM)?;
    if !(MIN_BODY < body && body <= MAX_BODY) {
        return None;
    }
    // 2^e <= n < 2^(e+1), with n = body - 1 so that a body equal to a class's is in it.
    let n = body - 1;
    let e = usize::BITS - 1 - n.leading_zeros();
    let sub = (n >> (e - STEPS_LOG2)) & ((1 << STEPS_LOG2) - 1);
    Some(((e - MIN_BODY.trailing_zeros()) as usize) << STEPS_LOG2 | sub)
}

/// A block of class `class` (see `class_of`), all zero if asked, from the pool or the C
/// allocator; NULL when out of memory.
pub(crate) fn alloc(class: usize, zeroed: bool) -> *mut u8 {
    match pool() {
        Some(p) => p.alloc(class, zeroed),
        None => fresh(class, zeroed),
    }
}

/// A block of class `class` from the C allocator, all zero if asked; NULL when out of
/// memory.
fn fresh(class: usize, zeroed: bool) -> *mut u8 {
    let size = class_size(class);
    // SAFETY: plain C allocation calls with a non-zero size.
    unsafe {
        if zeroed {
            libc::calloc(1, size).cast()
        } else {
            libc::malloc(size).cast()
        }
    }
}

/// Gives back a block `alloc(class, _)` returned.
///
/// # Safety
/// `block` came from `alloc(class, _)` and nothing uses it any more.
pub(crate) unsafe fn free(class: usize, block: *mut u8) {
    match pool() {
        // SAFETY: passed on from the caller.
        Some(p) => unsafe { p.free(class, block) },
        // SAFETY: the caller gives up the block, which malloc or calloc allocated.
        None => unsafe { libc::free(block.cast()) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pooled_size_fits_its_class() {
        let (min, max) = (HEADROOM + MIN_BODY, HEADROOM + MAX_BODY);
        for size in (min + 1..=max).step_by(7).chain([min + 1, max]) {
            let c = class_of(size).expect("pooled");
            assert!(class_size(c) >= size, "size {size} class {c}");
            // At most 1/8 of the body larger than asked for.
            assert!(class_size(c) - size <= (size - HEADROOM) / 8, "size {size} class {c}");
            if c > 0 {
                assert!(class_size(c - 1) < size, "size {size} fits a smaller class");
            }
        }
        // Round bodies take blocks of exactly their size.
        for body in [64, 1024, 8192, 65536] {
            assert_eq!(class_size(class_of(HEADROOM + body).unwrap()), HEADROOM + body);
        }
        assert_eq!(class_of(min), None);
        assert_eq!(class_of(5), None);
        assert_eq!(class_of(max + 1), None);
        assert_eq!(class_of(max), Some(CLASSES - 1));
        assert_eq!(class_size(CLASSES - 1), max);
    }

    #[test]
    fn blocks_are_reused_and_each_class_is_bounded() {
        // A pool of the test's own: the process's is shared with the other tests.
        let pool = Pool::new(POOL_BYTES);
        for size in [100, 1500, 40_000, HEADROOM + MAX_BODY] {
            let c = class_of(size).unwrap();
            // The first block freed makes the class's queue.
            // SAFETY: from alloc(c), given back once.
            unsafe { pool.free(c, pool.alloc(c, false)) };
            let kept = pool.queue(c).expect("made on the first free").capacity();
            let blocks: Vec<*mut u8> = (0..kept + 3).map(|_| pool.alloc(c, false)).collect();
            assert!(blocks.iter().all(|b| !b.is_null()));
            for &b in &blocks {
                // SAFETY: each came from alloc(c) and is given back once.
                unsafe { pool.free(c, b) };
            }
            let q = pool.queue(c).expect("made on the first free");
            assert!(q.len() <= CLASS_BLOCKS && q.len() * (class_size(c) + SLOT) <= CLASS_BYTES);
            assert_eq!(q.len(), q.capacity(), "full: the rest went back to free");
            // Larger zeroed blocks come fresh from calloc instead.
            let zeroed = class_size(c) <= CLEAR_MAX;
            let again = pool.alloc(c, zeroed);
            assert!(blocks.contains(&again), "a freed block is handed out again");
            // SAFETY: the block has class_size(c) bytes.
            let bytes = unsafe { std::slice::from_raw_parts(again, class_size(c)) };
            assert!(!zeroed || bytes.iter().all(|&b| b == 0), "a zeroed block is cleared");
            // SAFETY: as above.
            unsafe { pool.free(c, again) };
        }
        pool.drain();
    }

    #[test]
    fn all_classes_together_keep_at_most_the_budget() {
        let pool = Pool::new(3 * CLASS_BYTES / 2);
        let mut kept = 0;
        for c in (0..CLASSES).rev() {
            let n = (CLASS_BYTES / class_size(c)).min(CLASS_BLOCKS);
            let blocks: Vec<*mut u8> = (0..n).map(|_| pool.alloc(c, false)).collect();
            for b in blocks {
                // SAFETY: from alloc(c), given back once.
                unsafe { pool.free(c, b) };
            }
            kept += pool.queue(c).map_or(0, |q| q.len() * (class_size(c) + SLOT));
        }
        assert!(kept <= 3 * CLASS_BYTES / 2, "kept {kept}");
        assert!(pool.queue(CLASSES - 1).is_some(), "the first class used got its share");
        assert!(pool.queue(0).is_none(), "the last ones found the budget spent");
        pool.drain();
    }
}
