//! The timer set behind `zmq_timers_*`: ids, intervals, and which timers are due.
//!
//! It runs nothing itself. `zmq_timers_execute` asks for the due ids, then fires them one by
//! one, calling each handler with no lock or borrow held, so a handler may add, cancel or
//! reset timers (its own included) in the same set.
//!
//! Time is whole milliseconds since the set was made, like libzmq's millisecond clock: a
//! timer added at `t` with interval `i` is due once the clock reads `t + i`, and
//! `timeout` is that difference, so sleeping `timeout` ms always reaches it.

use crate::error::{err, ZResult};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// A place in the firing order: due time, then a sequence number so timers due in the same
/// millisecond fire in the order they were (re)scheduled, as libzmq's multimap does.
type Slot = (u64, u64);

struct Timer<T> {
    interval: u64,
    slot: Slot,
    payload: T,
}

/// A set of repeating timers, each carrying a `T` (the C handler and its argument).
pub(crate) struct Timers<T> {
    epoch: Instant,
    last_id: i32,
    seq: u64,
    order: BTreeMap<Slot, i32>,
    timers: HashMap<i32, Timer<T>>,
}

impl<T: Clone> Timers<T> {
    pub(crate) fn new() -> Self {
        Timers {
            epoch: Instant::now(),
            last_id: 0,
            seq: 0,
            order: BTreeMap::new(),
            timers: HashMap::new(),
        }
    }

    /// The clock the other methods take as `now`.
    pub(crate) fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Puts timer `id` (already in `timers`) at `due` in the firing order.
    fn schedule(&mut self, id: i32, due: u64) {
        self.seq += 1;
        let slot = (due, self.seq);
        if let Some(t) = self.timers.get_mut(&id) {
            self.order.remove(&t.slot);
            t.slot = slot;
            self.order.insert(slot, id);
        }
    }

    /// Adds a timer first due `interval` ms from `now`; returns its id (1, 2, ... as in
    /// libzmq). An interval too large for the clock means "never".
    pub(crate) fn add(&mut self, now: u64, interval: usize, payload: T) -> i32 {
        // Ids only grow; after i32::MAX they wrap to 1, skipping any still in use.
        let mut id = self.last_id;
        loop {
            id = if id == i32::MAX { 1 } else { id + 1 };
            if !self.timers.contains_key(&id) {
                break;
            }
        }
        self.last_id = id;
        let interval = u64::try_from(interval).unwrap_or(u64::MAX);
        self.timers.insert(id, Timer { interval, slot: (0, 0), payload });
        self.schedule(id, now.saturating_add(interval));
        id
    }

    /// Removes a timer; EINVAL if there is no such (live) timer.
    pub(crate) fn cancel(&mut self, id: i32) -> ZResult<()> {
        match self.timers.remove(&id) {
            Some(t) => {
                self.order.remove(&t.slot);
                Ok(())
            }
            None => err(libc::EINVAL),
        }
    }

    /// Changes a timer's interval and restarts it from `now`; EINVAL if there is no such timer.
    pub(crate) fn set_interval(&mut self, now: u64, id: i32, interval: usize) -> ZResult<()> {
        let Some(t) = self.timers.get_mut(&id) else {
            return err(libc::EINVAL);
        };
        t.interval = u64::try_from(interval).unwrap_or(u64::MAX);
        self.reset(now, id)
    }

    /// Restarts a timer's interval from `now`; EINVAL if there is no such timer.
    pub(crate) fn reset(&mut self, now: u64, id: i32) -> ZResult<()> {
        let Some(t) = self.timers.get(&id) else {
            return err(libc::EINVAL);
        };
        let due = now.saturating_add(t.interval);
        self.schedule(id, due);
        Ok(())
    }

    /// Milliseconds from `now` until the next timer is due (0 if one is overdue), or None
    /// when there are no timers.
    pub(crate) fn timeout(&self, now: u64) -> Option<u64> {
        self.order.keys().next().map(|&(due, _)| due.saturating_sub(now))
    }

    /// The ids due at `now`, in firing order.
    pub(crate) fn due(&self, now: u64) -> Vec<i32> {
        self.order.range(..(now.saturating_add(1), 0)).map(|(_, &id)| id).collect()
    }

    /// If timer `id` still exists and is still due at `now`, schedules its next run at
    /// `now + interval` and returns its payload for the caller to run. A handler run earlier
    /// in the same round may have cancelled or reset it; then it does not fire.
    pub(crate) fn fire(&mut self, now: u64, id: i32) -> Option<T> {
        let t = self.timers.get(&id)?;
        if t.slot.0 > now {
            return None;
        }
        let (payload, due) = (t.payload.clone(), now.saturating_add(t.interval));
        self.schedule(id, due);
        Some(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fires everything due at `now` the way zmq_timers_execute does; returns what ran.
    fn execute(t: &mut Timers<&'static str>, now: u64) -> Vec<(i32, &'static str)> {
        let mut ran = Vec::new();
        for id in t.due(now) {
            if let Some(p) = t.fire(now, id) {
                ran.push((id, p));
            }
        }
        ran
    }

    #[test]
    fn ids_count_from_one() {
        let mut t = Timers::new();
        assert_eq!(t.add(0, 10, "a"), 1);
        assert_eq!(t.add(0, 10, "b"), 2);
        t.cancel(2).unwrap();
        assert_eq!(t.add(0, 10, "c"), 3);
    }

    #[test]
    fn ids_wrap_past_live_ones() {
        let mut t = Timers::new();
        assert_eq!(t.add(0, 10, "a"), 1);
        t.last_id = i32::MAX - 1;
        assert_eq!(t.add(0, 10, "b"), i32::MAX);
        assert_eq!(t.add(0, 10, "c"), 2);
    }

    #[test]
    fn timeout_counts_down() {
        let mut t = Timers::new();
        assert_eq!(t.timeout(0), None);
        t.add(100, 50, "a");
        t.add(100, 20, "b");
        assert_eq!(t.timeout(100), Some(20));
        assert_eq!(t.timeout(115), Some(5));
        assert_eq!(t.timeout(500), Some(0));
    }

    #[test]
    fn fires_when_due_and_repeats() {
        let mut t = Timers::new();
        let a = t.add(0, 10, "a");
        assert!(execute(&mut t, 9).is_empty());
        assert_eq!(execute(&mut t, 10), [(a, "a")]);
        assert!(execute(&mut t, 10).is_empty());
        assert_eq!(t.timeout(10), Some(10));
        // Late by 15: runs once, next due 10 after this run.
        assert_eq!(execute(&mut t, 35), [(a, "a")]);
        assert_eq!(t.timeout(35), Some(10));
    }

    #[test]
    fn order_is_due_time_then_insertion() {
        let mut t = Timers::new();
        let a = t.add(0, 20, "a");
        let b = t.add(0, 10, "b");
        let c = t.add(0, 10, "c");
        assert_eq!(execute(&mut t, 20), [(b, "b"), (c, "c"), (a, "a")]);
    }

    #[test]
    fn zero_interval_runs_once_per_execute() {
        let mut t = Timers::new();
        let a = t.add(0, 0, "a");
        assert_eq!(execute(&mut t, 0), [(a, "a")]);
        assert_eq!(execute(&mut t, 0), [(a, "a")]);
        assert_eq!(t.timeout(0), Some(0));
    }

    #[test]
    fn cancel_and_bad_ids() {
        let mut t = Timers::new();
        let a = t.add(0, 10, "a");
        assert!(t.cancel(99).is_err());
        assert!(t.cancel(0).is_err());
        assert!(t.cancel(-1).is_err());
        t.cancel(a).unwrap();
        assert_eq!(t.cancel(a), err(libc::EINVAL));
        assert_eq!(t.reset(0, a), err(libc::EINVAL));
        assert_eq!(t.set_interval(0, a, 5), err(libc::EINVAL));
        assert_eq!(t.timeout(0), None);
        assert!(execute(&mut t, 100).is_empty());
    }

    #[test]
    fn reset_and_set_interval_restart_from_now() {
        let mut t = Timers::new();
        let a = t.add(0, 10, "a");
        t.reset(8, a).unwrap();
        assert_eq!(t.timeout(8), Some(10));
        assert!(execute(&mut t, 10).is_empty());
        t.set_interval(12, a, 30).unwrap();
        assert_eq!(t.timeout(12), Some(30));
        assert_eq!(execute(&mut t, 42), [(a, "a")]);
        assert_eq!(t.timeout(42), Some(30));
    }

    #[test]
    fn changes_between_due_and_fire_are_honoured() {
        // What a handler does to later timers in the same round.
        let mut t = Timers::new();
        let a = t.add(0, 10, "a");
        let b = t.add(0, 10, "b");
        let c = t.add(0, 10, "c");
        let due = t.due(10);
        assert_eq!(due, [a, b, c]);
        assert_eq!(t.fire(10, a), Some("a"));
        t.cancel(b).unwrap();
        t.reset(10, c).unwrap();
        let d = t.add(10, 0, "d");
        assert_eq!(t.fire(10, b), None);
        assert_eq!(t.fire(10, c), None);
        assert!(!due.contains(&d));
    }

    #[test]
    fn a_handler_may_cancel_itself() {
        let mut t = Timers::new();
        let a = t.add(0, 10, "a");
        assert_eq!(t.fire(10, a), Some("a"));
        t.cancel(a).unwrap();
        assert_eq!(t.timeout(10), None);
    }

    #[test]
    fn huge_intervals_mean_never() {
        let mut t = Timers::new();
        let a = t.add(5, usize::MAX, "a");
        assert_eq!(t.timeout(5), Some(u64::MAX - 5));
        assert!(execute(&mut t, 1 << 40).is_empty());
        t.set_interval(5, a, usize::MAX).unwrap();
        assert!(execute(&mut t, u64::MAX - 1).is_empty());
    }

    #[test]
    fn clock_starts_near_zero() {
        let t: Timers<()> = Timers::new();
        assert!(t.now() < 1000);
    }
}
