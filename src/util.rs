//! Small utilities behind the C API: capabilities, atomic counters, stopwatches.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Instant;

/// Capability names `zmq_has` answers yes to: only what is implemented.
pub(crate) const HAS: &[&[u8]] = &[b"ipc", b"curve", b"draft"];

/// The object behind `zmq_atomic_counter_*`. Arithmetic wraps like libzmq's 32-bit counter:
/// decrementing 0 gives -1 and still counts as "above zero" for `dec`.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicI32);

impl Counter {
    pub(crate) fn set(&self, value: i32) {
        self.0.store(value, Ordering::Release);
    }

    /// Adds one and returns the value before.
    pub(crate) fn inc(&self) -> i32 {
        self.0.fetch_add(1, Ordering::AcqRel)
    }

    /// Subtracts one; true unless the counter is now exactly zero (libzmq's rule, which
    /// makes the last of several owners the one that sees false).
    pub(crate) fn dec(&self) -> bool {
        self.0.fetch_sub(1, Ordering::AcqRel).wrapping_sub(1) != 0
    }

    pub(crate) fn value(&self) -> i32 {
        self.0.load(Ordering::Acquire)
    }
}

/// The object behind `zmq_stopwatch_*`: a start time on the monotonic clock.
#[derive(Debug)]
pub(crate) struct Stopwatch(Instant);

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Stopwatch(Instant::now())
    }

    /// Microseconds since `start`.
    pub(crate) fn elapsed_us(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counter_follows_the_man_page() {
        let c = Counter::default();
        assert_eq!(c.value(), 0);
        assert_eq!(c.inc(), 0);
        assert_eq!(c.inc(), 1);
        assert_eq!(c.inc(), 2);
        assert_eq!(c.value(), 3);
        assert!(c.dec());
        assert!(c.dec());
        assert!(!c.dec());
        c.set(2);
        assert!(c.dec());
        assert!(!c.dec());
    }

    #[test]
    fn counter_wraps_like_libzmq() {
        let c = Counter::default();
        assert!(c.dec());
        assert_eq!(c.value(), -1);
        assert_eq!(c.inc(), -1);
        c.set(i32::MAX);
        assert_eq!(c.inc(), i32::MAX);
        assert_eq!(c.value(), i32::MIN);
        c.set(-5);
        assert!(c.dec());
        assert_eq!(c.value(), -6);
    }

    #[test]
    fn counter_is_atomic() {
        let c = Arc::new(Counter::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        c.inc();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(c.value(), 40_000);
    }

    #[test]
    fn stopwatch_counts_microseconds() {
        let w = Stopwatch::start();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let us = w.elapsed_us();
        assert!((5_000..5_000_000).contains(&us), "{us}");
        assert!(w.elapsed_us() >= us);
    }
}
