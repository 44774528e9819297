//! Messages: zmq_msg_init*, _close, _move, _copy, _data, _size, _more, _get, _set, _gets and
//! the draft routing-id and group calls. The representation is `crate::msg::Msg`.
//!
//! As libzmq's check(), a closed or unrecognisable message gives EFAULT; unlike libzmq, so
//! do the calls it asserts on (data, size), and NULL pointers, instead of aborting.

use super::{guard, guard_int};
use crate::consts::{ZMQ_GROUP_MAX_LENGTH, ZMQ_MORE, ZMQ_SHARED, ZMQ_SRCFD};
use crate::error::{err, ZResult};
use crate::msg::Msg;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;

/// The C message: 64 opaque bytes, pointer-aligned (the header spells it by hand).
#[repr(C, align(8))]
pub struct zmq_msg_t {
    pub _x: [u8; 64],
}

// A `zmq_msg_t` is a `Msg` seen from C: the casts in `Msg::from_c` and friends rely on this.
const _: () = assert!(std::mem::size_of::<Msg>() == std::mem::size_of::<zmq_msg_t>());
const _: () = assert!(std::mem::align_of::<Msg>() == std::mem::align_of::<zmq_msg_t>());

/// C's `zmq_free_fn`, a function type, so that prototypes read `zmq_free_fn *ffn` as in
/// libzmq. Rust only sees pointers to it, turned into `crate::msg::FreeFn` by `free_fn`.
#[repr(C)]
pub struct zmq_free_fn {
    _opaque: [u8; 0],
}

/// The function a `zmq_free_fn *` points to, None for NULL.
fn free_fn(ffn: *mut zmq_free_fn) -> Option<crate::msg::FreeFn> {
    // SAFETY: a C function pointer has the size of a data pointer on every target we build
    // for, and NULL maps to None through Option's niche.
    unsafe { std::mem::transmute::<*mut zmq_free_fn, Option<crate::msg::FreeFn>>(ffn) }
}

/// EFAULT for NULL or misaligned storage, which no init can use.
fn check_storage(msg: *mut zmq_msg_t) -> ZResult<()> {
    if msg.is_null() || !(msg as usize).is_multiple_of(std::mem::align_of::<zmq_msg_t>()) {
        return err(libc::EFAULT);
    }
    Ok(())
}

/// EFAULT if two distinct messages overlap (which would alias a `&mut`).
fn check_apart(a: *const zmq_msg_t, b: *const zmq_msg_t) -> ZResult<()> {
    if (a as usize).abs_diff(b as usize) < std::mem::size_of::<zmq_msg_t>() {
        return err(libc::EFAULT);
    }
    Ok(())
}

/// Runs one zmq_msg_init*: NULL or misaligned storage is EFAULT (and `make` never runs);
/// otherwise the storage gets the new message, or on failure is left closed, so a stray
/// zmq_msg_close fails cleanly instead of freeing garbage.
fn install(msg: *mut zmq_msg_t, make: impl FnOnce() -> ZResult<Msg>) -> c_int {
    guard_int(|| {
        check_storage(msg)?;
        match make() {
            // SAFETY: checked non-NULL and aligned; an init is given the storage.
            Ok(m) => unsafe { m.put_into(msg) },
            Err(e) => {
                // SAFETY: as above.
                unsafe { Msg::mark_closed(msg) };
                return Err(e);
            }
        }
        Ok(0)
    })
}

/// Initialises an empty message.
///
/// # Safety
/// `msg` must be NULL or point to a writable `zmq_msg_t` not holding a live message.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init(msg: *mut zmq_msg_t) -> c_int {
    install(msg, || Ok(Msg::new()))
}

/// Initialises a message of `size` bytes (inline when small); ENOMEM if they cannot be had.
/// The bytes are zeroed: Rust code (the encoder) reads the body as a slice, and a C caller
/// may send it without filling it.
///
/// # Safety
/// As zmq_msg_init.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init_size(msg: *mut zmq_msg_t, size: usize) -> c_int {
    install(msg, || Msg::for_c_to_fill(size))
}

/// Initialises a message over the caller's buffer without copying. With `ffn`, it is
/// called once, from whichever thread releases the last reference; without, the data is
/// constant and never freed (as libzmq). On failure `ffn` is not called.
///
/// # Safety
/// `msg` as zmq_msg_init; `data` must be valid for `size` bytes until `ffn` runs (forever
/// if `ffn` is NULL); `ffn` must be safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init_data(
    msg: *mut zmq_msg_t,
    data: *mut c_void,
    size: usize,
    ffn: *mut zmq_free_fn,
    hint: *mut c_void,
) -> c_int {
    install(msg, || {
        if data.is_null() && size != 0 {
            // libzmq asserts here; a bad pointer is EFAULT.
            return err(libc::EFAULT);
        }
        match free_fn(ffn) {
            // SAFETY: the caller vouches for data, size and ffn.
            Some(ffn) => unsafe { Msg::from_user_buffer(data as *mut u8, size, ffn, hint) },
            // SAFETY: the caller vouches for data being valid and constant.
            None => Ok(unsafe { Msg::from_const(data as *const u8, size) }),
        }
    })
}

/// Initialises a message holding a copy of `buf`.
///
/// # Safety
/// `msg` as zmq_msg_init; `buf` must be valid for `size` bytes (or NULL if `size` is 0).
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init_buffer(
    msg: *mut zmq_msg_t,
    buf: *const c_void,
    size: usize,
) -> c_int {
    install(msg, || {
        if buf.is_null() && size != 0 {
            return err(libc::EFAULT);
        }
        if size > isize::MAX as usize {
            // No allocation can be that large (and no slice may be).
            return err(libc::ENOMEM);
        }
        let bytes: &[u8] = if size == 0 {
            &[]
        } else {
            // SAFETY: the caller vouches for size readable bytes at buf.
            unsafe { std::slice::from_raw_parts(buf as *const u8, size) }
        };
        Msg::try_from_slice(bytes)
    })
}

/// Releases a message; EFAULT if it is not open (closing twice included).
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t` (initialised or closed).
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_close(msg: *mut zmq_msg_t) -> c_int {
    guard_int(|| {
        // Marked closed before the drop, which may run a free function that re-enters.
        // SAFETY: the caller's pointer; validated inside.
        drop(unsafe { Msg::close_in_place(msg)? });
        Ok(0)
    })
}

/// Moves `src` into `dest`, releasing what `dest` held; `src` becomes empty. Both must be
/// initialised (EFAULT otherwise), as in libzmq.
///
/// # Safety
/// Both must be NULL or point to `zmq_msg_t`s.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_move(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int {
    guard_int(|| {
        // SAFETY: the caller's pointers; validated inside.
        unsafe { Msg::from_c(src)? };
        // SAFETY: as above.
        unsafe { Msg::from_c(dest)? };
        if dest == src {
            return Ok(0);
        }
        check_apart(dest, src)?;
        // SAFETY: both validated and, checked above, disjoint.
        let (d, s) = unsafe { (Msg::from_c_mut(dest)?, Msg::from_c_mut(src)?) };
        let old = std::mem::replace(d, std::mem::take(s));
        // Dropped after both structs are consistent: a free function may re-enter.
        drop(old);
        Ok(0)
    })
}

/// Makes `dest` a copy of `src` (sharing a large body, which both then report as shared),
/// releasing what `dest` held. Both must be initialised (EFAULT otherwise), as in libzmq.
///
/// # Safety
/// Both must be NULL or point to `zmq_msg_t`s.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_copy(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int {
    guard_int(|| {
        // SAFETY: the caller's pointers; validated inside.
        unsafe { Msg::from_c(src)? };
        // SAFETY: as above.
        unsafe { Msg::from_c(dest)? };
        if dest == src {
            return Ok(0);
        }
        check_apart(dest, src)?;
        // SAFETY: both validated and, checked above, disjoint.
        let (d, s) = unsafe { (Msg::from_c_mut(dest)?, Msg::from_c_mut(src)?) };
        let copy = s.clone();
        // libzmq marks both sides shared, and the mark stays after either is closed.
        s.set_flags(copy.flags() & Msg::SHARED);
        let old = std::mem::replace(d, copy);
        drop(old);
        Ok(0)
    })
}

/// The message body: inside the `zmq_msg_t` for small messages. NULL with EFAULT if the
/// message is not open.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_data(msg: *mut zmq_msg_t) -> *mut c_void {
    guard(ptr::null_mut(), || {
        // SAFETY: the caller's pointer; validated inside.
        let m = unsafe { Msg::from_c_mut(msg)? };
        Ok(m.data_ptr() as *mut c_void)
    })
}

/// The body's length; 0 with EFAULT if the message is not open.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_size(msg: *const zmq_msg_t) -> usize {
    // SAFETY: the caller's pointer; validated inside.
    guard(0, || Ok(unsafe { Msg::from_c(msg)? }.len()))
}

/// 1 if more frames follow; works after zmq_msg_close, as documented.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_more(msg: *const zmq_msg_t) -> c_int {
    // SAFETY: forwarded.
    unsafe { zmq_msg_get(msg, ZMQ_MORE) }
}

/// An integer property: ZMQ_MORE, ZMQ_SRCFD (the "__fd" metadata, -1 if absent),
/// ZMQ_SHARED; EINVAL for any other.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_get(msg: *const zmq_msg_t, property: c_int) -> c_int {
    guard_int(|| match property {
        // SAFETY: the caller's pointer; validated inside.
        ZMQ_MORE => Ok((unsafe { Msg::c_flags(msg)? } & Msg::MORE != 0) as c_int),
        ZMQ_SRCFD => {
            // SAFETY: forwarded.
            let fd = unsafe { zmq_msg_gets(msg, c"__fd".as_ptr()) };
            if fd.is_null() {
                return Ok(-1);
            }
            // SAFETY: gets returned a NUL-terminated string owned by the message.
            let s = unsafe { CStr::from_ptr(fd) };
            Ok(s.to_str().ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0))
        }
        // SAFETY: the caller's pointer; validated inside.
        ZMQ_SHARED => match unsafe { Msg::from_c(msg) } {
            Ok(m) => Ok(m.is_shared() as c_int),
            // A closed message still answers from its flags, as libzmq's does.
            // SAFETY: as above.
            Err(_) => Ok((unsafe { Msg::c_flags(msg)? } & Msg::SHARED != 0) as c_int),
        },
        _ => err(libc::EINVAL),
    })
}

/// Sets an integer property: there are none, so always EINVAL (as libzmq).
#[no_mangle]
pub extern "C" fn zmq_msg_set(msg: *mut zmq_msg_t, property: c_int, optval: c_int) -> c_int {
    let _ = (msg, property, optval);
    guard_int(|| err(libc::EINVAL))
}

/// A metadata property of the connection the message came from, or NULL with EINVAL if it
/// has none. The string lives as long as the message.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`; `property` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_gets(
    msg: *const zmq_msg_t,
    property: *const c_char,
) -> *const c_char {
    guard(ptr::null(), || {
        if property.is_null() {
            return err(libc::EFAULT);
        }
        // A message that is not open has no metadata: EINVAL, as libzmq for a closed one.
        // SAFETY: the caller's pointer; validated inside.
        let m = match unsafe { Msg::from_c(msg) } {
            Ok(m) => m,
            // SAFETY: as above; this only tells a closed struct from a bad pointer.
            Err(_) => return unsafe { Msg::c_flags(msg) }.and_then(|_| err(libc::EINVAL)),
        };
        // SAFETY: the caller passes a NUL-terminated string.
        let name = unsafe { CStr::from_ptr(property) };
        match m.metadata().and_then(|md| md.get(name.to_bytes())) {
            Some(v) => Ok(v.as_ptr()),
            None => err(libc::EINVAL),
        }
    })
}

/// The routing id a SERVER or PEER socket set, 0 if none (or if the message is not open).
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_routing_id(msg: *mut zmq_msg_t) -> u32 {
    // SAFETY: the caller's pointer; validated inside.
    guard(0, || Ok(unsafe { Msg::from_c(msg)? }.routing_id()))
}

/// Sets the routing id to send to; EINVAL for 0.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_set_routing_id(msg: *mut zmq_msg_t, routing_id: u32) -> c_int {
    guard_int(|| {
        // SAFETY: the caller's pointer; validated inside.
        let m = unsafe { Msg::from_c_mut(msg)? };
        if routing_id == 0 {
            return err(libc::EINVAL);
        }
        m.set_routing_id(routing_id);
        Ok(0)
    })
}

/// The group (RADIO/DISH), "" if none; valid while the message lives where it is. NULL
/// with EFAULT if the message is not open.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_group(msg: *mut zmq_msg_t) -> *const c_char {
    // SAFETY: the caller's pointer; validated inside.
    guard(ptr::null(), || Ok(unsafe { Msg::from_c(msg)? }.group_cstr().as_ptr()))
}

/// Sets the group; EINVAL if longer than ZMQ_GROUP_MAX_LENGTH (255).
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`; `group` NULL or a C string.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_set_group(msg: *mut zmq_msg_t, group: *const c_char) -> c_int {
    guard_int(|| {
        // SAFETY: the caller's pointer; validated inside.
        let m = unsafe { Msg::from_c_mut(msg)? };
        if group.is_null() {
            return err(libc::EFAULT);
        }
        // Bounded, so an unterminated string is not read past the limit + 1.
        // SAFETY: the caller passes a C string; strnlen stops at its NUL.
        let len = unsafe { libc::strnlen(group, ZMQ_GROUP_MAX_LENGTH as usize + 1) };
        // SAFETY: len bytes before the NUL (or the limit) are readable.
        let bytes = unsafe { std::slice::from_raw_parts(group as *const u8, len) };
        m.set_group(bytes)?;
        Ok(0)
    })
}
