//! Contexts: zmq_ctx_new, _term, _shutdown, _set, _get and the deprecated zmq_init/zmq_term.

use super::handle::Registry;
use super::{guard, guard_int};
use crate::consts::ZMQ_THREAD_NAME_PREFIX;
use crate::ctx::Ctx;
use crate::error::err;
use std::os::raw::{c_int, c_void};
use std::sync::Arc;

/// libzmq's context tag, so a context handle is recognisable in a core dump.
pub(crate) static CONTEXTS: Registry<Arc<Ctx>> = Registry::new(0xabad_cafe);

/// The context behind a handle, or EFAULT.
pub(crate) fn ctx_of(h: *mut c_void) -> crate::error::ZResult<Arc<Ctx>> {
    // SAFETY: handles are NULL or came from CONTEXTS (stale ones read a dead tag).
    match unsafe { CONTEXTS.get(h) } {
        Some(c) => Ok(c.clone()),
        None => err(libc::EFAULT),
    }
}

#[no_mangle]
pub extern "C" fn zmq_ctx_new() -> *mut c_void {
    guard(std::ptr::null_mut(), || Ok(CONTEXTS.insert(Box::new(Arc::new(Ctx::new())))))
}

/// # Safety
/// `context` is NULL or a handle from zmq_ctx_new (a stale one is detected).
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_term(context: *mut c_void) -> c_int {
    guard_int(|| {
        let ctx = ctx_of(context)?;
        if ctx.is_inherited() {
            // A fork() child: waiting would hang (the I/O threads stayed in the parent),
            // and freeing would stop and join threads that are not ours. libzmq answers
            // EINTR, every time, and leaves the context alone.
            return err(libc::EINTR);
        }
        ctx.term();
        // SAFETY: as in ctx_of; only the first of concurrent terms gets the object back.
        drop(unsafe { CONTEXTS.remove(context) });
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_ctx_shutdown(context: *mut c_void) -> c_int {
    guard_int(|| {
        ctx_of(context)?.shutdown();
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_ctx_set(context: *mut c_void, option: c_int, optval: c_int) -> c_int {
    guard_int(|| {
        ctx_of(context)?.set(option, optval)?;
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_ctx_get(context: *mut c_void, option: c_int) -> c_int {
    guard_int(|| ctx_of(context)?.get(option))
}

/// Like zmq_ctx_set, with the value in a buffer: an int when it is sizeof(int) bytes (as in
/// libzmq, whatever the option), else a string, which only ZMQ_THREAD_NAME_PREFIX takes.
///
/// # Safety
/// `optval` points to `optvallen` readable bytes.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_set_ext(
    context: *mut c_void,
    option: c_int,
    optval: *const c_void,
    optvallen: usize,
) -> c_int {
    guard_int(|| {
        let ctx = ctx_of(context)?;
        if optval.is_null() {
            return err(if optvallen == 0 { libc::EINVAL } else { libc::EFAULT });
        }
        // SAFETY: per the contract.
        let value = unsafe { std::slice::from_raw_parts(optval as *const u8, optvallen) };
        if let Ok(int) = <[u8; 4]>::try_from(value) {
            ctx.set(option, c_int::from_ne_bytes(int))?;
        } else if option == ZMQ_THREAD_NAME_PREFIX && (1..=16).contains(&value.len()) {
            // Linux thread names hold 16 bytes; the name is a C string, so it ends at a NUL.
            let name = value.split(|&b| b == 0).next().unwrap_or_default();
            ctx.set_thread_name_prefix(String::from_utf8_lossy(name).into_owned());
        } else {
            return err(libc::EINVAL);
        }
        Ok(0)
    })
}

/// Like zmq_ctx_get, into a buffer: an int when it is sizeof(int) bytes, else the
/// ZMQ_THREAD_NAME_PREFIX string, NUL-terminated if it fits, its size stored in `*optvallen`.
///
/// # Safety
/// `optvallen` is valid and `optval` points to `*optvallen` writable bytes.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_ctx_get_ext(
    context: *mut c_void,
    option: c_int,
    optval: *mut c_void,
    optvallen: *mut usize,
) -> c_int {
    guard_int(|| {
        let ctx = ctx_of(context)?;
        if optvallen.is_null() {
            return err(libc::EFAULT);
        }
        // SAFETY: per the contract.
        let len = unsafe { *optvallen };
        if len > 0 && optval.is_null() {
            return err(libc::EFAULT);
        }
        let out = if len == 0 {
            &mut []
        } else {
            // SAFETY: per the contract.
            unsafe { std::slice::from_raw_parts_mut(optval as *mut u8, len) }
        };
        let n = if out.len() == std::mem::size_of::<c_int>() {
            out.copy_from_slice(&ctx.get(option)?.to_ne_bytes());
            out.len()
        } else if option == ZMQ_THREAD_NAME_PREFIX {
            let name = ctx.opts().thread_name_prefix;
            let name = name.as_bytes();
            if out.len() < name.len() {
                return err(libc::EINVAL);
            }
            out[..name.len()].copy_from_slice(name);
            // The terminating NUL only when there is room, as for an exact-size buffer
            // libzmq writes none.
            if out.len() > name.len() {
                out[name.len()] = 0;
                name.len() + 1
            } else {
                name.len()
            }
        } else {
            return err(libc::EINVAL);
        };
        // SAFETY: per the contract.
        unsafe { *optvallen = n };
        Ok(0)
    })
}

/// Deprecated alias of zmq_ctx_term.
#[no_mangle]
///
/// # Safety
/// As zmq_ctx_term.
pub unsafe extern "C" fn zmq_ctx_destroy(context: *mut c_void) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { zmq_ctx_term(context) }
}

/// Deprecated: a context with `io_threads` I/O threads.
#[no_mangle]
pub extern "C" fn zmq_init(io_threads: c_int) -> *mut c_void {
    if io_threads < 0 {
        super::set_errno(libc::EINVAL);
        return std::ptr::null_mut();
    }
    let ctx = zmq_ctx_new();
    if !ctx.is_null() {
        zmq_ctx_set(ctx, crate::consts::ZMQ_IO_THREADS, io_threads);
    }
    ctx
}

/// Deprecated alias of zmq_ctx_term.
#[no_mangle]
///
/// # Safety
/// As zmq_ctx_term.
pub unsafe extern "C" fn zmq_term(context: *mut c_void) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { zmq_ctx_term(context) }
}
