//! Errors, version and capabilities: zmq_errno, zmq_strerror, zmq_version, zmq_has.

use super::get_errno;
use crate::error::{EFSM, EMTHREAD, ENOCOMPATPROTO, ETERM};
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

/// The calling thread's errno.
#[no_mangle]
pub extern "C" fn zmq_errno() -> c_int {
    get_errno()
}

/// Text for an error number: libzmq's for its own errors, the C library's for the rest.
#[no_mangle]
pub extern "C" fn zmq_strerror(errnum: c_int) -> *const c_char {
    let own: Option<&'static CStr> = match errnum {
        EFSM => Some(c"Operation cannot be accomplished in current state"),
        ENOCOMPATPROTO => Some(c"The protocol is not compatible with the socket type"),
        ETERM => Some(c"Context was terminated"),
        EMTHREAD => Some(c"No thread available"),
        _ => None,
    };
    match own {
        Some(s) => s.as_ptr(),
        // SAFETY: strerror returns a pointer to a static or thread-local string.
        None => unsafe { libc::strerror(errnum) },
    }
}

/// The library's version: 4.3.5.
///
/// # Safety
/// Each pointer is NULL or points to a writable int.
#[no_mangle]
pub unsafe extern "C" fn zmq_version(major: *mut c_int, minor: *mut c_int, patch: *mut c_int) {
    for (p, v) in [(major, 4), (minor, 3), (patch, 5)] {
        if !p.is_null() {
            // SAFETY: caller passes writable ints (or NULL, skipped).
            unsafe { *p = v };
        }
    }
}

/// Capabilities compiled in. The answer follows what is built: a transport or mechanism that
/// is not implemented yet says no, as a libzmq compiled without it would.
///
/// # Safety
/// `capability` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn zmq_has(capability: *const c_char) -> c_int {
    if capability.is_null() {
        return 0;
    }
    // SAFETY: caller passes a NUL-terminated string.
    let cap = unsafe { CStr::from_ptr(capability) }.to_bytes();
    c_int::from(crate::util::HAS.contains(&cap))
}
