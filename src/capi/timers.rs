//! Timers: zmq_timers_new, _destroy, _add, _cancel, _set_interval, _reset, _timeout, _execute.
//!
//! Like libzmq's, a timer set is for one thread at a time; the mutex only keeps misuse from
//! other threads sound. It is never held while a handler runs, so handlers may call back
//! into the same set, even destroy it.

use super::handle::Registry;
use super::{guard, guard_int};
use crate::error::{err, Errno, ZResult};
use crate::timers::Timers;
use parking_lot::Mutex;
use std::os::raw::{c_int, c_long, c_void};
use std::sync::Arc;

/// C's `zmq_timer_fn`, a function type, so that the header's prototype reads
/// `zmq_timer_fn *handler` like libzmq's `zmq_timer_fn handler`. Rust only sees pointers to
/// it, turned into `TimerFn` by `timer_fn`.
#[repr(C)]
pub struct zmq_timer_fn {
    _opaque: [u8; 0],
}

/// The function a `zmq_timer_fn *` points to.
type TimerFn = unsafe extern "C" fn(timer_id: c_int, arg: *mut c_void);

/// The function behind a `zmq_timer_fn *`, None for NULL.
fn timer_fn(f: *mut zmq_timer_fn) -> Option<TimerFn> {
    // SAFETY: a C function pointer has the size of a data pointer on every target we build
    // for, and NULL maps to None through Option's niche.
    unsafe { std::mem::transmute::<*mut zmq_timer_fn, Option<TimerFn>>(f) }
}

/// What a timer runs: the C handler and its argument (kept as an address so the set stays
/// `Send` without an unsafe impl).
#[derive(Clone, Copy)]
struct Handler {
    func: TimerFn,
    arg: usize,
}

type Set = Arc<Mutex<Timers<Handler>>>;

/// libzmq's tag for timer sets.
static TIMERS: Registry<Set> = Registry::new(0xcafe_dada);

/// The set behind a handle, or EFAULT.
///
/// # Safety
/// `h` is NULL or came from `zmq_timers_new` (a destroyed one is fine), and no other thread
/// destroys it meanwhile.
unsafe fn set_of(h: *mut c_void) -> ZResult<Set> {
    // SAFETY: per this function's contract; stale handles read a dead tag, and the Arc is
    // cloned before the reference could go stale.
    unsafe { TIMERS.get(h) }.cloned().ok_or(Errno(libc::EFAULT))
}

// Every call below takes a handle with `set_of`'s contract: NULL, live or destroyed, and not
// destroyed by another thread during the call (timer sets belong to one thread at a time).

/// A new, empty timer set.
#[no_mangle]
pub extern "C" fn zmq_timers_new() -> *mut c_void {
    guard(std::ptr::null_mut(), || Ok(TIMERS.insert(Box::new(Arc::new(Mutex::new(Timers::new()))))))
}

/// Destroys `*timers_p` and sets it to NULL; EFAULT if it is not a live timer set.
///
/// # Safety
/// `timers_p` is NULL or points to a readable, writable `void *`.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_destroy(timers_p: *mut *mut c_void) -> c_int {
    guard_int(|| {
        if timers_p.is_null() {
            return err(libc::EFAULT);
        }
        // SAFETY: the caller passes a valid `void **`.
        let h = unsafe { *timers_p };
        // SAFETY: as in set_of; only one of racing destroys gets the object. A running
        // zmq_timers_execute keeps its own Arc and stops after the current handler.
        drop(unsafe { TIMERS.remove(h) }.ok_or(Errno(libc::EFAULT))?);
        // SAFETY: as above.
        unsafe { *timers_p = std::ptr::null_mut() };
        Ok(0)
    })
}

/// Adds a timer that calls `handler(id, arg)` every `interval` ms; returns its id (> 0).
/// EFAULT for a bad set or a NULL handler, as libzmq.
///
/// # Safety
/// `timers` is NULL or came from `zmq_timers_new`, as for `set_of`. `handler` is NULL or a
/// function of `zmq_timer_fn`'s type that may be called with `arg`
/// whenever `zmq_timers_execute` runs.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_add(
    timers: *mut c_void,
    interval: usize,
    handler: *mut zmq_timer_fn,
    arg: *mut c_void,
) -> c_int {
    guard_int(|| {
        // SAFETY: per this function's contract.
        let set = unsafe { set_of(timers) }?;
        let Some(func) = timer_fn(handler) else {
            return err(libc::EFAULT);
        };
        let mut t = set.lock();
        let now = t.now();
        Ok(t.add(now, interval, Handler { func, arg: arg as usize }))
    })
}

/// Cancels a timer; EINVAL if there is no such timer (or it was cancelled already).
///
/// # Safety
/// `timers` is NULL or came from `zmq_timers_new`, as for `set_of`.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_cancel(timers: *mut c_void, timer_id: c_int) -> c_int {
    guard_int(|| {
        // SAFETY: per this function's contract.
        unsafe { set_of(timers) }?.lock().cancel(timer_id)?;
        Ok(0)
    })
}

/// Gives a timer a new interval, counted from now; EINVAL if there is no such timer.
///
/// # Safety
/// `timers` is NULL or came from `zmq_timers_new`, as for `set_of`.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_set_interval(
    timers: *mut c_void,
    timer_id: c_int,
    interval: usize,
) -> c_int {
    guard_int(|| {
        // SAFETY: per this function's contract.
        let set = unsafe { set_of(timers) }?;
        let mut t = set.lock();
        let now = t.now();
        t.set_interval(now, timer_id, interval)?;
        Ok(0)
    })
}

/// Restarts a timer's interval from now; EINVAL if there is no such timer.
///
/// # Safety
/// `timers` is NULL or came from `zmq_timers_new`, as for `set_of`.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_reset(timers: *mut c_void, timer_id: c_int) -> c_int {
    guard_int(|| {
        // SAFETY: per this function's contract.
        let set = unsafe { set_of(timers) }?;
        let mut t = set.lock();
        let now = t.now();
        t.reset(now, timer_id)?;
        Ok(0)
    })
}

/// Milliseconds until the next timer is due (0 if overdue), or -1 if there are no timers
/// (or, with EFAULT, no such set).
///
/// # Safety
/// `timers` is NULL or came from `zmq_timers_new`, as for `set_of`.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_timeout(timers: *mut c_void) -> c_long {
    guard(-1, || {
        // SAFETY: per this function's contract.
        let set = unsafe { set_of(timers) }?;
        let t = set.lock();
        Ok(match t.timeout(t.now()) {
            Some(ms) => c_long::try_from(ms).unwrap_or(c_long::MAX),
            None => -1,
        })
    })
}

/// Runs the handler of every timer due now, once each, in due order, and schedules each
/// again one interval from now. Timers added by handlers wait for the next call.
///
/// # Safety
/// `timers` is NULL or came from `zmq_timers_new`, as for `set_of`.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_execute(timers: *mut c_void) -> c_int {
    guard_int(|| {
        // SAFETY: per this function's contract.
        let set = unsafe { set_of(timers) }?;
        let (now, due) = {
            let t = set.lock();
            let now = t.now();
            (now, t.due(now))
        };
        for id in due {
            // The lock is released at the end of this statement, before the handler runs.
            let Some(h) = set.lock().fire(now, id) else {
                continue;
            };
            // SAFETY: the handler and argument are what the caller registered with
            // zmq_timers_add, which promised the call is valid.
            unsafe { (h.func)(id, h.arg as *mut c_void) };
            // A handler may have destroyed the set: then its other timers must not run.
            // SAFETY: the handle may be dead now, which set_of's contract allows.
            if !unsafe { set_of(timers) }.is_ok_and(|now_set| Arc::ptr_eq(&now_set, &set)) {
                break;
            }
        }
        Ok(0)
    })
}
