//! Contexts: zmq_ctx_new, _term, _shutdown, _set, _get and the deprecated zmq_init/zmq_term.

use super::handle::Registry;
use super::{guard, guard_int};
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

#[no_mangle]
pub extern "C" fn zmq_ctx_term(context: *mut c_void) -> c_int {
    guard_int(|| {
        let ctx = ctx_of(context)?;
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

/// Deprecated alias of zmq_ctx_term.
#[no_mangle]
pub extern "C" fn zmq_ctx_destroy(context: *mut c_void) -> c_int {
    zmq_ctx_term(context)
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
        zmq_ctx_set(ctx, crate::capi::consts::ZMQ_IO_THREADS, io_threads);
    }
    ctx
}

/// Deprecated alias of zmq_ctx_term.
#[no_mangle]
pub extern "C" fn zmq_term(context: *mut c_void) -> c_int {
    zmq_ctx_term(context)
}
