//! The lock-free single-producer/single-consumer queue under every pipe.
//!
//! Items live in chunks of `CHUNK` slots. The writer fills slots past what it has published
//! and makes a whole batch visible with one atomic store (`flush`); the reader reads up to the
//! published count without touching shared state except to refresh that count. When the
//! reader finds the queue empty it marks itself asleep in the same atomic word, so the next
//! `flush` tells the writer to wake it: no lock, and no syscall unless the reader slept.

use crate::sync::{Arc, AtomicPtr, AtomicUsize, Ordering, UnsafeCell};
use std::mem::MaybeUninit;
use std::ptr;

/// Slots per chunk: large enough that allocation is rare, small enough to stay cache-warm.
#[cfg(not(loom))]
const CHUNK: usize = 256;
/// Under loom, tiny chunks so a model crosses chunk boundaries in a few items.
#[cfg(loom)]
const CHUNK: usize = 2;

/// Consumed chunks kept for the writer's next ones. A queue that spans several chunks
/// (a writer up to libzmq's default HWM of 1000 messages ahead spans five) then recycles
/// them: with a single spare the reader freed all but one of the chunks it finished and
/// the writer allocated them again, a 16 KiB malloc and free (and a consolidation of the
/// allocator's fast bins, ~16k instructions) every few hundred messages. At most this many
/// idle chunks stay allocated per direction.
const SPARES: usize = 4;

/// Aligned to cache lines (as libzmq's chunks are): a 64-byte item then fills exactly one
/// line, instead of straddling two that the writer and the reader, a slot apart, would
/// both be writing.
#[repr(C, align(64))]
struct Chunk<T> {
    slots: [UnsafeCell<MaybeUninit<T>>; CHUNK],
    next: AtomicPtr<Chunk<T>>,
}

impl<T> Chunk<T> {
    fn alloc() -> *mut Chunk<T> {
        Box::into_raw(Box::new(Chunk {
            slots: std::array::from_fn(|_| UnsafeCell::new(MaybeUninit::uninit())),
            next: AtomicPtr::new(ptr::null_mut()),
        }))
    }
}

/// A position in the chunk list, owned by one side.
struct Cursor<T> {
    chunk: *mut Chunk<T>,
    pos: usize,
    /// Items passed this cursor so far.
    count: usize,
}

/// Keeps a field on cache lines of its own, so the writer's and the reader's hot fields
/// never share one (false sharing would cost a cache miss per message on each side).
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Padded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// One direction of a pipe. `Writer` and `Reader` are its two unique handles.
struct Shared<T> {
    /// Owned by the writer.
    tail: Padded<UnsafeCell<Cursor<T>>>,
    /// Owned by the reader, with its cached copy of the published count.
    head: Padded<UnsafeCell<(Cursor<T>, usize)>>,
    /// `(published << 1) | reader_asleep`.
    state: Padded<AtomicUsize>,
    /// Consumed chunks kept for the writer's next ones. Only the reader fills an empty
    /// slot, only the writer empties a full one, so each chunk is in exactly one place.
    spare: [AtomicPtr<Chunk<T>>; SPARES],
}

impl<T> Shared<T> {
    /// Writer: a recycled chunk, if the reader left one.
    fn take_spare(&self) -> Option<*mut Chunk<T>> {
        for slot in &self.spare {
            if !slot.load(Ordering::Relaxed).is_null() {
                // Acquire: the reader's moves out of the chunk happen before our writes.
                let c = slot.swap(ptr::null_mut(), Ordering::Acquire);
                if !c.is_null() {
                    return Some(c);
                }
            }
        }
        None
    }

    /// Reader: keeps a chunk it has finished for the writer, or frees it if enough are
    /// kept already.
    fn put_spare(&self, c: *mut Chunk<T>) {
        for slot in &self.spare {
            // Only the reader makes a slot non-empty, so one seen empty stays empty until
            // this store (the writer only swaps full slots out).
            if slot.load(Ordering::Relaxed).is_null() {
                slot.store(c, Ordering::Release);
                return;
            }
        }
        // SAFETY: a finished chunk is referenced by nobody but us.
        drop(unsafe { Box::from_raw(c) });
    }
}

// SAFETY: the cursors are only touched through the unique Writer (tail) and Reader (head);
// items move from the writer's thread to the reader's, so T must be Send.
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above; the only shared mutable state is atomic.
unsafe impl<T: Send> Sync for Shared<T> {}

const ASLEEP: usize = 1;

/// Creates an empty queue and its two ends.
pub(crate) fn ypipe<T: Send>() -> (Writer<T>, Reader<T>) {
    let first = Chunk::alloc();
    let shared = Arc::new(Shared {
        tail: Padded(UnsafeCell::new(Cursor { chunk: first, pos: 0, count: 0 })),
        head: Padded(UnsafeCell::new((Cursor { chunk: first, pos: 0, count: 0 }, 0))),
        state: Padded(AtomicUsize::new(0)),
        spare: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
    });
    (Writer { shared: shared.clone() }, Reader { shared })
}

/// The producing end.
pub(crate) struct Writer<T: Send> {
    shared: Arc<Shared<T>>,
}

/// The consuming end.
pub(crate) struct Reader<T: Send> {
    shared: Arc<Shared<T>>,
}

impl<T: Send> Writer<T> {
    /// Appends an item; the reader cannot see it until `flush`.
    #[inline]
    pub(crate) fn write(&mut self, item: T) {
        // SAFETY: only the unique Writer touches the tail cursor.
        let tail = self.shared.tail.with_mut(|t| unsafe { &mut *t });
        if tail.pos == CHUNK {
            self.next_chunk(tail);
        }
        // SAFETY: slot `pos` of the tail chunk is beyond anything published, so the reader
        // does not look at it.
        unsafe { (*tail.chunk).slots[tail.pos].with_mut(|slot| (*slot).write(item)) };
        tail.pos += 1;
        tail.count += 1;
    }

    /// Links a fresh or recycled chunk after the full tail chunk and moves onto it.
    #[cold]
    #[inline(never)]
    fn next_chunk(&self, tail: &mut Cursor<T>) {
        let next = self.shared.take_spare().unwrap_or_else(Chunk::alloc);
        // SAFETY: next is a fresh or recycled chunk nobody else references.
        unsafe { (*next).next.store(ptr::null_mut(), Ordering::Relaxed) };
        // SAFETY: tail.chunk is live until the reader has passed it, which it cannot do
        // before this link is published by a later flush.
        unsafe { (*tail.chunk).next.store(next, Ordering::Release) };
        tail.chunk = next;
        tail.pos = 0;
    }

    /// Publishes everything written. Returns false if the reader was asleep and must be
    /// woken by the caller.
    #[inline]
    pub(crate) fn flush(&mut self) -> bool {
        // SAFETY: the writer owns the tail cursor.
        let written = self.shared.tail.with(|t| unsafe { (*t).count });
        let state = self.shared.state.load(Ordering::Relaxed);
        if state >> 1 == written {
            return true;
        }
        let old = self.shared.state.swap(written << 1, Ordering::AcqRel);
        old & ASLEEP == 0
    }
}

impl<T: Send> Reader<T> {
    /// True if an item is ready. If not, marks the reader asleep so that the next flush
    /// reports it; the caller then waits for the writer's wake-up.
    #[inline]
    pub(crate) fn check_read(&mut self) -> bool {
        // SAFETY: only the unique Reader touches the head cursor.
        let (head, limit) = self.shared.head.with_mut(|h| unsafe { &mut *h });
        if head.count < *limit {
            return true;
        }
        let state = self.shared.state.load(Ordering::Acquire);
        *limit = state >> 1;
        if head.count < *limit {
            return true;
        }
        if state & ASLEEP != 0 {
            return false;
        }
        match self.shared.state.compare_exchange(
            head.count << 1,
            (head.count << 1) | ASLEEP,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => false,
            Err(now) => {
                *limit = now >> 1;
                head.count < *limit
            }
        }
    }

    /// Takes the next item if one is published (marking the reader asleep if not).
    #[inline]
    pub(crate) fn read(&mut self) -> Option<T> {
        if !self.check_read() {
            return None;
        }
        // SAFETY: only the unique Reader touches the head cursor.
        let (head, _) = self.shared.head.with_mut(|h| unsafe { &mut *h });
        if head.pos == CHUNK {
            self.next_chunk(head);
        }
        // SAFETY: the slot is published and initialised; we move the item out exactly once.
        let item =
            unsafe { (*head.chunk).slots[head.pos].with_mut(|slot| (*slot).assume_init_read()) };
        head.pos += 1;
        head.count += 1;
        Some(item)
    }

    /// Moves onto the chunk after the finished head chunk, which goes back to the writer.
    #[cold]
    #[inline(never)]
    fn next_chunk(&self, head: &mut Cursor<T>) {
        // SAFETY: an item beyond this chunk is published, so the writer linked the next
        // chunk (Release) before publishing it (AcqRel swap we acquired).
        let next = unsafe { (*head.chunk).next.load(Ordering::Acquire) };
        debug_assert!(!next.is_null());
        let old = std::mem::replace(&mut head.chunk, next);
        self.shared.put_spare(old);
        head.pos = 0;
    }

    /// Items published and not yet read (a snapshot).
    pub(crate) fn pending(&self) -> usize {
        // SAFETY: the reader owns the head cursor.
        let (head, _) = self.shared.head.with(|h| unsafe { &*h });
        (self.shared.state.load(Ordering::Acquire) >> 1) - head.count
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Last owner: drop every written item (published or not), then free the chunks.
        // SAFETY: `&mut self`: nobody else can reach the cursors.
        let (head, _) = self.head.with_mut(|h| unsafe { &mut *h });
        // SAFETY: as above.
        let tail = self.tail.with_mut(|t| unsafe { &mut *t });
        let mut chunk = head.chunk;
        let mut pos = head.pos;
        for _ in head.count..tail.count {
            if pos == CHUNK {
                // SAFETY: exclusive access; the chain from head to tail is intact.
                let next = unsafe { (*chunk).next.load(Ordering::Acquire) };
                // SAFETY: chunk was allocated by Chunk::alloc and is no longer referenced.
                drop(unsafe { Box::from_raw(chunk) });
                chunk = next;
                pos = 0;
            }
            // SAFETY: slots between the cursors hold initialised items.
            unsafe { (*chunk).slots[pos].with_mut(|slot| (*slot).assume_init_drop()) };
            pos += 1;
        }
        // SAFETY: the remaining chunk and the spares belong to us alone.
        drop(unsafe { Box::from_raw(chunk) });
        for slot in &self.spare {
            let spare = slot.load(Ordering::Acquire);
            if !spare.is_null() {
                // SAFETY: as above.
                drop(unsafe { Box::from_raw(spare) });
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn fifo_across_chunks() {
        let (mut w, mut r) = ypipe::<usize>();
        assert!(r.read().is_none());
        for i in 0..1000 {
            w.write(i);
        }
        assert!(r.read().is_none(), "unflushed items are invisible");
        assert!(!w.flush(), "reader was asleep");
        for i in 0..1000 {
            assert_eq!(r.read(), Some(i));
        }
        assert!(r.read().is_none());
        w.write(7);
        assert!(!w.flush());
        w.write(8);
        assert!(w.flush(), "reader awake: no wake-up needed");
        assert_eq!(r.read(), Some(7));
        assert_eq!(r.read(), Some(8));
    }

    /// Chunks the reader finishes go back to the writer (up to SPARES), so a queue that
    /// keeps spanning a few chunks allocates none after the first round.
    #[test]
    fn recycles_finished_chunks() {
        let (mut w, mut r) = ypipe::<usize>();
        let spares = |r: &Reader<usize>| {
            r.shared.spare.iter().filter(|s| !s.load(Ordering::Relaxed).is_null()).count()
        };
        let mut chunks = std::collections::HashSet::new();
        for round in 0..3 {
            for i in 0..3 * CHUNK {
                w.write(i);
                // SAFETY: test-only peek at the writer's own cursor.
                chunks.insert(w.shared.tail.with(|t| unsafe { (*t).chunk }) as usize);
            }
            w.flush();
            for i in 0..3 * CHUNK {
                assert_eq!(r.read(), Some(i));
            }
            // Every chunk the reader left waits for the writer: two after the first round
            // (three chunks), three after the others (the reader's chunk, then three).
            assert_eq!(spares(&r), if round == 0 { 2 } else { 3 }, "round {round}");
        }
        // The second round needed one chunk more; after that, none.
        assert_eq!(chunks.len(), 4);
        for i in 0..SPARES * CHUNK * 2 {
            w.write(i);
        }
        w.flush();
        assert_eq!(spares(&r), 0);
        for i in 0..SPARES * CHUNK * 2 {
            assert_eq!(r.read(), Some(i));
        }
        // No more than SPARES are kept; the rest were freed.
        assert_eq!(spares(&r), SPARES);
    }

    #[test]
    fn drops_leftovers() {
        let item = Arc::new(());
        let (mut w, mut r) = ypipe::<Arc<()>>();
        for _ in 0..600 {
            w.write(item.clone());
        }
        w.flush();
        for _ in 0..300 {
            r.read();
        }
        for _ in 0..10 {
            w.write(item.clone());
        }
        drop(w);
        drop(r);
        assert_eq!(Arc::strong_count(&item), 1);
    }

    #[test]
    fn threads_with_sleep_protocol() {
        let (mut w, mut r) = ypipe::<u64>();
        let wake = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let wake2 = wake.clone();
        const N: u64 = 200_000;
        let t = std::thread::spawn(move || {
            for i in 0..N {
                w.write(i);
                if i % 7 == 0 && !w.flush() {
                    let (m, c) = &*wake2;
                    *m.lock().unwrap() = true;
                    c.notify_one();
                }
            }
            if !w.flush() {
                let (m, c) = &*wake2;
                *m.lock().unwrap() = true;
                c.notify_one();
            }
        });
        let mut expect = 0;
        while expect < N {
            match r.read() {
                Some(v) => {
                    assert_eq!(v, expect);
                    expect += 1;
                }
                None => {
                    let (m, c) = &*wake;
                    let mut woken = m.lock().unwrap();
                    while !*woken {
                        woken = c.wait(woken).unwrap();
                    }
                    *woken = false;
                }
            }
        }
        t.join().unwrap();
    }
}

/// Model checks (`make loom`): every interleaving of a writer and a reader that sleeps
/// when it finds the queue empty.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;

    /// Chunk recycling: with five items in chunks of two, the writer may reuse the first
    /// chunk as soon as the reader has put it back, while the reader is still in the second:
    /// the reader's last reads of a chunk must happen before the writer's new writes into it
    /// (loom checks every slot access), and no item may be lost or reordered.
    #[test]
    fn loom_ypipe_recycles_chunks() {
        const N: usize = 5;
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let (mut w, mut r) = ypipe::<usize>();
            let t = loom::thread::spawn(move || {
                for i in 0..N {
                    w.write(i);
                    w.flush();
                }
                w
            });
            let mut next = 0;
            while next < N {
                match r.read() {
                    Some(v) => {
                        assert_eq!(v, next);
                        next += 1;
                    }
                    None => loom::thread::yield_now(),
                }
            }
            drop(t.join().unwrap());
        });
    }

    /// The flush/check_read handshake: every item arrives in order, each time the reader
    /// sleeps exactly one flush reports it (no lost wake-up, no wake-up without a sleep), and
    /// the chunks (2 slots under loom) are handed over and recycled safely.
    #[test]
    fn loom_ypipe_sleep_wake() {
        const N: usize = 3;
        // Bounded preemptions keep the run to seconds; 3 covers every handshake race here.
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(|| {
            let (mut w, mut r) = ypipe::<usize>();
            let wakes = Arc::new(AtomicUsize::new(0));
            let wakes2 = wakes.clone();
            let t = loom::thread::spawn(move || {
                for i in 0..N {
                    w.write(i);
                    if !w.flush() {
                        wakes2.fetch_add(1, Ordering::Release);
                    }
                }
            });
            let mut sleeps = 0;
            let mut next = 0;
            while next < N {
                match r.read() {
                    Some(v) => {
                        assert_eq!(v, next);
                        next += 1;
                    }
                    None => {
                        sleeps += 1;
                        while wakes.load(Ordering::Acquire) < sleeps {
                            loom::thread::yield_now();
                        }
                    }
                }
            }
            t.join().unwrap();
            assert_eq!(wakes.load(Ordering::Acquire), sleeps);
        });
    }
}
