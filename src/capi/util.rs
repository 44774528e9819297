//! Utilities: Z85, CURVE key helpers, atomic counters, stopwatch, sleep and threads.

use super::guard;
use super::handle::Registry;
use crate::error::{err, Errno, ZResult};
use crate::util::{Counter, Stopwatch};
use crate::z85;
use crate::zmtp;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_ulong, c_void};

/// C's `zmq_thread_fn`, a function type, so that the header's prototype reads
/// `zmq_thread_fn *func` as libzmq's does. Rust only sees pointers to it.
#[repr(C)]
pub struct zmq_thread_fn {
    _opaque: [u8; 0],
}

/// The function a `zmq_thread_fn *` points to. "C-unwind" so that a thread ending itself
/// with `pthread_exit` may unwind through our (destructor-free) trampoline.
type ThreadFn = unsafe extern "C-unwind" fn(arg: *mut c_void);

static COUNTERS: Registry<Counter> = Registry::new(0xa70c_0017);
static STOPWATCHES: Registry<Stopwatch> = Registry::new(0x5709_3a7c);
static THREADS: Registry<libc::pthread_t> = Registry::new(0x7ead_0001);

/// Encodes `size` bytes (a multiple of 4) as Z85 into `dest`, NUL-terminated; returns `dest`,
/// or NULL with EINVAL for a bad size.
///
/// # Safety
/// `data` points to `size` readable bytes; `dest` to `size * 5 / 4 + 1` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_z85_encode(
    dest: *mut c_char,
    data: *const u8,
    size: usize,
) -> *mut c_char {
    guard(std::ptr::null_mut(), || {
        if !size.is_multiple_of(4) {
            return err(libc::EINVAL);
        }
        if dest.is_null() || (data.is_null() && size != 0) {
            return err(libc::EFAULT);
        }
        let src: &[u8] = if size == 0 {
            &[]
        } else {
            // SAFETY: the caller gives `size` readable bytes at `data` (checked non-NULL).
            unsafe { std::slice::from_raw_parts(data, size) }
        };
        let len = size / 4 * 5;
        // SAFETY: the caller gives len + 1 writable bytes at `dest` (checked non-NULL).
        let out = unsafe { std::slice::from_raw_parts_mut(dest.cast::<u8>(), len + 1) };
        z85::encode_into(src, out).map_err(Errno::from)?;
        out[len] = 0;
        Ok(dest)
    })
}

/// Decodes a Z85 string into `dest`; returns `dest`, or NULL with EINVAL when the length is
/// not a positive multiple of 5, a character is not Z85, or a group exceeds 32 bits.
///
/// # Safety
/// `string` is NUL-terminated; `dest` has room for `strlen(string) * 4 / 5` bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_z85_decode(dest: *mut u8, string: *const c_char) -> *mut u8 {
    guard(std::ptr::null_mut(), || {
        if string.is_null() {
            return err(libc::EFAULT);
        }
        // SAFETY: the caller passes a NUL-terminated string.
        let src = unsafe { CStr::from_ptr(string) }.to_bytes();
        if src.is_empty() || !src.len().is_multiple_of(5) {
            return err(libc::EINVAL);
        }
        if dest.is_null() {
            return err(libc::EFAULT);
        }
        // SAFETY: the caller gives strlen * 4 / 5 writable bytes at `dest` (checked non-NULL).
        let out = unsafe { std::slice::from_raw_parts_mut(dest, src.len() / 5 * 4) };
        z85::decode_into(src, out).map_err(Errno::from)?;
        Ok(dest)
    })
}

/// Makes a CURVE key pair (random secret, X25519 public), each written as 40 Z85
/// characters and a NUL. EFAULT for a NULL buffer (libzmq would crash).
///
/// # Safety
/// Both pointers give 41 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_curve_keypair(
    z85_public_key: *mut c_char,
    z85_secret_key: *mut c_char,
) -> c_int {
    guard(-1, || {
        if z85_public_key.is_null() || z85_secret_key.is_null() {
            return err(libc::EFAULT);
        }
        let (public, secret) = zmtp::curve_keypair().map_err(|e| Errno(e.errno))?;
        // SAFETY: the caller gives 41 writable bytes at each (checked non-NULL).
        unsafe {
            put_z85_key(z85_public_key, &public);
            put_z85_key(z85_secret_key, secret.as_bytes());
        }
        Ok(0)
    })
}

/// Derives the public key of a Z85 secret key, as libzmq (crypto_scalarmult_base). The
/// secret must be exactly 40 Z85 characters (EINVAL otherwise, where libzmq would decode
/// past or short of its 32-byte buffer); EFAULT for a NULL pointer.
///
/// # Safety
/// `z85_secret_key` is NUL-terminated; `z85_public_key` gives 41 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_curve_public(
    z85_public_key: *mut c_char,
    z85_secret_key: *const c_char,
) -> c_int {
    guard(-1, || {
        if z85_public_key.is_null() || z85_secret_key.is_null() {
            return err(libc::EFAULT);
        }
        // SAFETY: the caller passes a NUL-terminated string.
        let text = unsafe { CStr::from_ptr(z85_secret_key) }.to_bytes();
        if text.len() != 40 {
            return err(libc::EINVAL);
        }
        let mut raw = zeroize::Zeroizing::new([0u8; 32]);
        z85::decode_into(text, &mut *raw).map_err(Errno::from)?;
        let public = zmtp::curve_public(&raw);
        // SAFETY: the caller gives 41 writable bytes (checked non-NULL).
        unsafe { put_z85_key(z85_public_key, &public) };
        Ok(0)
    })
}

/// Writes a 32-byte key as Z85 and a NUL.
///
/// # Safety
/// `dest` gives 41 writable bytes.
unsafe fn put_z85_key(dest: *mut c_char, key: &[u8; 32]) {
    // SAFETY: per this function's contract.
    let out = unsafe { std::slice::from_raw_parts_mut(dest.cast::<u8>(), 41) };
    // 32 is a multiple of 4 and the buffer fits: encoding cannot fail.
    let _ = z85::encode_into(key, &mut out[..40]);
    out[40] = 0;
}

/// The counter behind a handle, or EFAULT.
///
/// # Safety
/// `h` is NULL or came from `zmq_atomic_counter_new` (a destroyed one is fine), and is not
/// destroyed while the reference is used.
unsafe fn counter_of<'a>(h: *mut c_void) -> ZResult<&'a Counter> {
    // SAFETY: per this function's contract; stale handles read a dead tag.
    unsafe { COUNTERS.get(h) }.ok_or(Errno(libc::EFAULT))
}

/// A new counter at 0.
#[no_mangle]
pub extern "C" fn zmq_atomic_counter_new() -> *mut c_void {
    guard(std::ptr::null_mut(), || Ok(COUNTERS.insert(Box::default())))
}

/// Sets a counter. A bad handle sets EFAULT (libzmq would crash).
///
/// # Safety
/// `counter` is NULL or came from `zmq_atomic_counter_new`; another thread must not destroy it
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_set(counter: *mut c_void, value: c_int) {
    guard((), || {
        // SAFETY: per this function's contract.
        unsafe { counter_of(counter) }?.set(value);
        Ok(())
    })
}

/// Adds one; returns the value before (-1 with EFAULT for a bad handle).
///
/// # Safety
/// `counter` is NULL or came from `zmq_atomic_counter_new`; another thread must not destroy it
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_inc(counter: *mut c_void) -> c_int {
    // SAFETY: per this function's contract.
    guard(-1, || Ok(unsafe { counter_of(counter) }?.inc()))
}

/// Subtracts one; returns 1 if the counter is not zero afterwards, else 0 (-1 with EFAULT
/// for a bad handle).
///
/// # Safety
/// `counter` is NULL or came from `zmq_atomic_counter_new`; another thread must not destroy it
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_dec(counter: *mut c_void) -> c_int {
    guard(-1, || {
        // SAFETY: per this function's contract.
        Ok(c_int::from(unsafe { counter_of(counter) }?.dec()))
    })
}

/// The counter's value (-1 with EFAULT for a bad handle).
///
/// # Safety
/// `counter` is NULL or came from `zmq_atomic_counter_new`; another thread must not destroy it
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_value(counter: *mut c_void) -> c_int {
    // SAFETY: per this function's contract.
    guard(-1, || Ok(unsafe { counter_of(counter) }?.value()))
}

/// Frees `*counter_p` and sets it to NULL. NULL or dead handles are left alone.
///
/// # Safety
/// `counter_p` is NULL or points to a readable, writable `void *`.
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_destroy(counter_p: *mut *mut c_void) {
    guard((), || {
        if counter_p.is_null() {
            return err(libc::EFAULT);
        }
        // SAFETY: the caller passes a valid `void **`.
        let h = unsafe { *counter_p };
        if h.is_null() {
            return Ok(());
        }
        // SAFETY: as in counter_of; only one of racing destroys gets the object.
        drop(unsafe { COUNTERS.remove(h) }.ok_or(Errno(libc::EFAULT))?);
        // SAFETY: as above.
        unsafe { *counter_p = std::ptr::null_mut() };
        Ok(())
    })
}

/// Starts a stopwatch.
#[no_mangle]
pub extern "C" fn zmq_stopwatch_start() -> *mut c_void {
    guard(std::ptr::null_mut(), || Ok(STOPWATCHES.insert(Box::new(Stopwatch::start()))))
}

/// Microseconds since the stopwatch started; 0 with EFAULT for a bad handle.
///
/// # Safety
/// `watch` is NULL or came from `zmq_stopwatch_start` (a stopped one is fine); another thread
/// must not stop it during the call.
#[no_mangle]
pub unsafe extern "C" fn zmq_stopwatch_intermediate(watch: *mut c_void) -> c_ulong {
    guard(0, || {
        // SAFETY: per this function's contract; stale handles read a dead tag.
        let w = unsafe { STOPWATCHES.get(watch) }.ok_or(Errno(libc::EFAULT))?;
        Ok(w.elapsed_us() as c_ulong)
    })
}

/// Microseconds since the stopwatch started, and frees it; 0 with EFAULT for a bad handle.
///
/// # Safety
/// `watch` is NULL or came from `zmq_stopwatch_start` (a stopped one is fine); another thread
/// must not stop it during the call.
#[no_mangle]
pub unsafe extern "C" fn zmq_stopwatch_stop(watch: *mut c_void) -> c_ulong {
    guard(0, || {
        // SAFETY: per this function's contract; only one of racing stops gets the object.
        let w = unsafe { STOPWATCHES.remove(watch) }.ok_or(Errno(libc::EFAULT))?;
        Ok(w.elapsed_us() as c_ulong)
    })
}

/// Sleeps `seconds`. Like libzmq's usleep, a signal handled meanwhile ends it early.
#[no_mangle]
pub extern "C" fn zmq_sleep(seconds: c_int) {
    if seconds <= 0 {
        return;
    }
    let ts = libc::timespec { tv_sec: libc::time_t::from(seconds), tv_nsec: 0 };
    // SAFETY: ts is a valid timespec; the remainder pointer may be NULL.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}

/// What a new thread needs, boxed across pthread_create.
struct Start {
    func: ThreadFn,
    arg: *mut c_void,
}

/// The new thread's entry: blocks all signals and names itself as libzmq's threads do, then
/// runs the user's function. Nothing here owns a destructor while `func` runs, so a
/// `pthread_exit` inside it unwinds through cleanly.
extern "C-unwind" fn thread_main(start: *mut c_void) -> *mut c_void {
    // SAFETY: `start` is the Box<Start> zmq_threadstart leaked for this thread alone.
    let Start { func, arg } = *unsafe { Box::from_raw(start.cast::<Start>()) };
    // SAFETY: sigfillset writes into our local set, which pthread_sigmask then reads; the
    // name is a NUL-terminated string under 16 bytes. Failures are harmless and ignored.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
        libc::pthread_setname_np(libc::pthread_self(), c"ZMQapp".as_ptr());
    }
    // SAFETY: the caller of zmq_threadstart promised func(arg) is a valid call.
    unsafe { func(arg) };
    std::ptr::null_mut()
}

/// Runs `func(arg)` on a new OS thread (default pthread stack, all signals blocked, named
/// "ZMQapp" as in libzmq); returns a handle for `zmq_threadclose`, or NULL with errno set:
/// EINVAL for a NULL function, or pthread_create's error.
///
/// # Safety
/// `func` must be safe to call with `arg` on another thread.
#[no_mangle]
pub unsafe extern "C" fn zmq_threadstart(
    func: *mut zmq_thread_fn,
    arg: *mut c_void,
) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        // SAFETY: a C function pointer has the size of a data pointer on every target we
        // build for, and NULL maps to None through Option's niche.
        let func = unsafe { std::mem::transmute::<*mut zmq_thread_fn, Option<ThreadFn>>(func) };
        let Some(func) = func else {
            return err(libc::EINVAL);
        };
        let start = Box::into_raw(Box::new(Start { func, arg })).cast::<c_void>();
        // SAFETY: pthread_create wants an `extern "C"` entry; "C-unwind" has the same calling
        // convention and only differs in what unwinding may do.
        let entry: extern "C" fn(*mut c_void) -> *mut c_void = unsafe {
            std::mem::transmute::<
                extern "C-unwind" fn(*mut c_void) -> *mut c_void,
                extern "C" fn(*mut c_void) -> *mut c_void,
            >(thread_main)
        };
        let mut tid: libc::pthread_t = 0;
        // SAFETY: tid is writable, NULL attributes mean the defaults, and `start` is handed
        // to the new thread, which frees it.
        let rc = unsafe { libc::pthread_create(&mut tid, std::ptr::null(), entry, start) };
        if rc != 0 {
            // SAFETY: no thread was made, so `start` is still ours.
            drop(unsafe { Box::from_raw(start.cast::<Start>()) });
            return err(rc);
        }
        Ok(THREADS.insert(Box::new(tid)))
    })
}

/// Waits for a thread from `zmq_threadstart` to finish and frees its handle. A bad handle
/// sets EFAULT (libzmq would crash).
///
/// # Safety
/// `thread` is NULL or a handle from `zmq_threadstart`.
#[no_mangle]
pub unsafe extern "C" fn zmq_threadclose(thread: *mut c_void) {
    guard((), || {
        // SAFETY: handles are NULL or came from THREADS; only one close gets the thread id.
        let tid = unsafe { THREADS.remove(thread) }.ok_or(Errno(libc::EFAULT))?;
        // SAFETY: tid is a joinable thread nobody else joins (we just took it).
        let rc = unsafe { libc::pthread_join(*tid, std::ptr::null_mut()) };
        if rc != 0 {
            return err(rc);
        }
        Ok(())
    })
}
