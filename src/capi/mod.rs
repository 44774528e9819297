//! The C boundary: every `extern "C"` function of libzmq's API, and nothing else.
//!
//! Each entry point validates its arguments, runs the call inside a panic guard, and turns a
//! failure into `-1` (or NULL) with the calling thread's `errno` set, as libzmq does.

pub use crate::consts;
pub mod ctx;
pub mod errors;
pub(crate) mod handle;
pub mod msg;
pub mod poll;
pub mod poller;
pub mod proxy;
pub mod socket;
pub mod timers;
pub mod util;

use crate::error::{Errno, ZResult};
use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Sets the calling thread's C `errno`, which C programs read directly.
pub(crate) fn set_errno(e: i32) {
    // SAFETY: __errno_location returns a valid pointer to this thread's errno.
    unsafe { *libc::__errno_location() = e };
}

/// Reads the calling thread's C `errno`.
pub(crate) fn get_errno() -> i32 {
    // SAFETY: as above.
    unsafe { *libc::__errno_location() }
}

/// Runs one API call: a panic becomes `fail` with `EFAULT` instead of unwinding into C (and
/// poisons the socket the call was using, see `socket::SocketCell`), and
/// an error becomes `fail` with its errno.
pub(crate) fn guard<T>(fail: T, f: impl FnOnce() -> ZResult<T>) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(Errno(e))) => {
            set_errno(e);
            fail
        }
        Err(_) => {
            // A socket the call was using was poisoned as its SockRef unwound.
            set_errno(libc::EFAULT);
            fail
        }
    }
}

/// `guard` for the common `int` return: -1 on failure.
pub(crate) fn guard_int(f: impl FnOnce() -> ZResult<c_int>) -> c_int {
    guard(-1, f)
}
