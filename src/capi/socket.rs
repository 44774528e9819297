//! Sockets: creation, options, endpoints, sending and receiving.

use super::ctx::ctx_of;
use super::handle::Registry;
use super::msg::zmq_msg_t;
use super::{guard, guard_int};
use crate::error::Errno;
use crate::error::{err, ZResult};
use crate::msg::Msg;
use crate::socket::safe::{SafeGuard, SafeSocket};
use crate::socket::{InputClaim, Socket};
use std::cell::UnsafeCell;
use std::ffi::CStr;
use std::mem::ManuallyDrop;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};

/// A socket behind a C handle. Most types are not thread-safe (libzmq's rule): one thread
/// uses such a socket at a time, so handing out `&mut` from the cell is sound under that
/// contract, and costs no lock. The thread-safe types (ZMQ_THREAD_SAFE) sit behind a lock.
pub(crate) struct SocketCell {
    sock: Kind,
    /// An API call on this socket panicked: its state cannot be trusted, so every later
    /// call but zmq_close fails (EFAULT) instead of running on it.
    poisoned: AtomicBool,
}

enum Kind {
    Plain(UnsafeCell<Socket>),
    Safe(SafeSocket),
}

/// A socket as one API call holds it: plainly, or locked for a thread-safe type. If the
/// call panics while holding it, dropping it during the unwind poisons the socket.
pub(crate) struct SockRef<'a> {
    inner: Held<'a>,
    poisoned: &'a AtomicBool,
}

enum Held<'a> {
    Plain(&'a mut Socket),
    /// Unlocked by SockRef's drop, out of line: the drop of every call on a plain socket
    /// then stays a few inlined instructions instead of a call into the unlock code.
    Safe(ManuallyDrop<SafeGuard<'a>>),
}

impl Drop for SockRef<'_> {
    #[inline]
    fn drop(&mut self) {
        // Cheap when no thread is panicking (a global counter is checked first).
        if std::thread::panicking() {
            self.poisoned.store(true, Ordering::Release);
        }
        if let Held::Safe(g) = &mut self.inner {
            unlock(g);
        }
    }
}

/// Releases a thread-safe socket's lock (after the poisoning above, as before).
#[inline(never)]
fn unlock(g: &mut ManuallyDrop<SafeGuard<'_>>) {
    // SAFETY: called once, from SockRef's drop; the guard is not used afterwards.
    unsafe { ManuallyDrop::drop(g) }
}

impl std::ops::Deref for SockRef<'_> {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        match &self.inner {
            Held::Plain(s) => s,
            Held::Safe(g) => g,
        }
    }
}

impl std::ops::DerefMut for SockRef<'_> {
    fn deref_mut(&mut self) -> &mut Socket {
        match &mut self.inner {
            Held::Plain(s) => s,
            Held::Safe(g) => g,
        }
    }
}

impl SockRef<'_> {
    /// Socket::send; a thread-safe socket blocks without holding its lock.
    #[inline]
    pub(crate) fn send(&mut self, msg: Msg, flags: c_int) -> Result<(), (Errno, Msg)> {
        match &mut self.inner {
            Held::Plain(s) => s.send(msg, flags),
            Held::Safe(g) => g.send(msg, flags),
        }
    }

    /// Socket::recv; a thread-safe socket blocks without holding its lock.
    #[inline]
    pub(crate) fn recv(&mut self, flags: c_int) -> ZResult<Msg> {
        match &mut self.inner {
            Held::Plain(s) => s.recv(flags),
            Held::Safe(g) => g.recv(flags),
        }
    }
}

// SAFETY: a plain socket may migrate between threads (with a memory barrier, as libzmq
// requires) but is never used by two at once; that is the C API's contract. A thread-safe
// one is only reached through its lock.
unsafe impl Sync for SocketCell {}
// SAFETY: as above.
unsafe impl Send for SocketCell {}

/// libzmq's socket tag.
pub(crate) static SOCKETS: Registry<SocketCell> = Registry::new(0xbadd_ecaf);

/// The live, unpoisoned cell behind a handle, or ENOTSOCK / EFAULT.
fn cell_of<'a>(h: *mut c_void) -> ZResult<&'a SocketCell> {
    // SAFETY: handles are NULL or came from SOCKETS (stale ones read a dead tag).
    match unsafe { SOCKETS.get(h) } {
        Some(cell) if cell.poisoned.load(Ordering::Acquire) => err(libc::EFAULT),
        Some(cell) => Ok(cell),
        None => err(libc::ENOTSOCK),
    }
}

/// The socket behind a handle, or ENOTSOCK; a thread-safe one comes locked.
pub(crate) fn socket_of<'a>(h: *mut c_void) -> ZResult<SockRef<'a>> {
    let cell = cell_of(h)?;
    let inner = match &cell.sock {
        // SAFETY: per the threading contract above, no other reference is live.
        Kind::Plain(c) => Held::Plain(unsafe { &mut *c.get() }),
        Kind::Safe(s) => Held::Safe(ManuallyDrop::new(s.lock())),
    };
    Ok(SockRef { inner, poisoned: &cell.poisoned })
}

/// The descriptor zmq_poll and zmq_poller wait on for a socket: its ZMQ_FD, or for a
/// thread-safe socket (which refuses ZMQ_FD) its mailbox's eventfd, polled the same way.
pub(crate) fn poll_fd(h: *mut c_void) -> ZResult<c_int> {
    match &cell_of(h)?.sock {
        Kind::Safe(s) => Ok(s.fd()),
        Kind::Plain(_) => {
            let mut buf = [0u8; 4];
            socket_of(h)?.getsockopt(crate::consts::ZMQ_FD, &mut buf)?;
            Ok(c_int::from_ne_bytes(buf))
        }
    }
}

/// ZMQ_EVENTS for a poll. `watching`: the caller polls the socket's descriptor and counted
/// itself with `watch` (its own look must not wake it).
pub(crate) fn poll_events(h: *mut c_void, watching: bool) -> ZResult<c_int> {
    let mut buf = [0u8; 4];
    match &cell_of(h)?.sock {
        Kind::Safe(s) => s.lock_watching(watching).getsockopt(crate::consts::ZMQ_EVENTS, &mut buf),
        Kind::Plain(_) => socket_of(h)?.getsockopt(crate::consts::ZMQ_EVENTS, &mut buf),
    }?;
    Ok(c_int::from_ne_bytes(buf))
}

/// `Socket::claim_input`, for a poll waiting for input on a socket (never a thread-safe
/// one: other threads may be using it meanwhile).
pub(crate) fn claim_input(h: *mut c_void) -> Option<InputClaim> {
    match &cell_of(h).ok()?.sock {
        Kind::Plain(_) => socket_of(h).ok()?.claim_input(),
        Kind::Safe(_) => None,
    }
}

/// `Socket::release_input` (a handle gone meanwhile: the claim's drop hands it back).
pub(crate) fn release_input(h: *mut c_void, claim: InputClaim, readable: bool) {
    if let Ok(mut s) = socket_of(h) {
        s.release_input(claim, readable);
    }
}

/// A poll starts (`on`) or stops watching a socket's descriptor from outside. Only
/// thread-safe sockets care (their other threads must then raise it when they change
/// something); true if this one does.
pub(crate) fn watch(h: *mut c_void, on: bool) -> bool {
    // SAFETY: handles are NULL or came from SOCKETS (stale ones read a dead tag).
    match unsafe { SOCKETS.get(h) } {
        Some(SocketCell { sock: Kind::Safe(s), .. }) => {
            s.watch(on);
            true
        }
        _ => false,
    }
}

/// Whether the handle is a live thread-safe socket.
pub(crate) fn is_thread_safe(h: *mut c_void) -> bool {
    // SAFETY: as in watch.
    matches!(unsafe { SOCKETS.get(h) }, Some(SocketCell { sock: Kind::Safe(_), .. }))
}

/// A C string argument, or EINVAL for NULL / non-UTF-8.
pub(crate) fn str_arg<'a>(p: *const c_char) -> ZResult<&'a str> {
    if p.is_null() {
        return err(libc::EINVAL);
    }
    // SAFETY: the caller passes a NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_str().or(err(libc::EINVAL))
}

#[no_mangle]
pub extern "C" fn zmq_socket(context: *mut c_void, type_: c_int) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        let ctx = ctx_of(context)?;
        let s = Socket::new(ctx, type_)?;
        let sock = if s.thread_safe() {
            Kind::Safe(SafeSocket::new(s))
        } else {
            Kind::Plain(UnsafeCell::new(s))
        };
        let cell = SocketCell { sock, poisoned: AtomicBool::new(false) };
        Ok(SOCKETS.insert(Box::new(cell)))
    })
}

/// # Safety
/// `s` is NULL or a handle from zmq_socket (a stale one gives ENOTSOCK).
#[no_mangle]
pub unsafe extern "C" fn zmq_close(s: *mut c_void) -> c_int {
    guard_int(|| {
        // SAFETY: as in socket_of.
        let Some(cell) = (unsafe { SOCKETS.remove(s) }) else { return err(libc::ENOTSOCK) };
        let sock = match cell.sock {
            Kind::Plain(c) => c.into_inner(),
            Kind::Safe(s) => s.into_socket(),
        };
        if sock.ctx.is_inherited() {
            // A fork() child closing what it inherited: its pipes, mailboxes and
            // connections are the parent's too, so nothing is sent, dropped or closed
            // (as libzmq, whose signalers ignore a child's sends).
            std::mem::forget(sock);
            return Ok(0);
        }
        if !cell.poisoned.load(Ordering::Acquire) {
            sock.close();
        } else {
            // Broken state: do not run its close logic; dropping it releases what it holds.
            drop(sock);
        }
        Ok(0)
    })
}

/// # Safety
/// `optval` points to `optvallen` readable bytes (or is NULL with length 0).
#[no_mangle]
pub unsafe extern "C" fn zmq_setsockopt(
    s: *mut c_void,
    option: c_int,
    optval: *const c_void,
    optvallen: usize,
) -> c_int {
    guard_int(|| {
        let mut sock = socket_of(s)?;
        let value: &[u8] = if optval.is_null() {
            if optvallen != 0 {
                return err(libc::EINVAL);
            }
            return sock.setsockopt_null(option).map(|()| 0);
        } else if optvallen == 0 {
            &[]
        } else {
            // SAFETY: the caller passes optvallen readable bytes.
            unsafe { std::slice::from_raw_parts(optval as *const u8, optvallen) }
        };
        sock.setsockopt(option, value)?;
        Ok(0)
    })
}

/// # Safety
/// `optval` points to `*optvallen` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_getsockopt(
    s: *mut c_void,
    option: c_int,
    optval: *mut c_void,
    optvallen: *mut usize,
) -> c_int {
    guard_int(|| {
        let mut sock = socket_of(s)?;
        if optvallen.is_null() {
            return err(libc::EFAULT);
        }
        // SAFETY: optvallen is a valid pointer per the contract.
        let len = unsafe { *optvallen };
        let buf: &mut [u8] = if len == 0 {
            &mut []
        } else if optval.is_null() {
            return err(libc::EFAULT);
        } else {
            // SAFETY: the caller passes len writable bytes.
            unsafe { std::slice::from_raw_parts_mut(optval as *mut u8, len) }
        };
        let n = sock.getsockopt(option, buf)?;
        // SAFETY: as above.
        unsafe { *optvallen = n };
        Ok(0)
    })
}

/// # Safety
/// `addr` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn zmq_bind(s: *mut c_void, addr: *const c_char) -> c_int {
    guard_int(|| {
        socket_of(s)?.bind(str_arg(addr)?)?;
        Ok(0)
    })
}

/// # Safety
/// `addr` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn zmq_connect(s: *mut c_void, addr: *const c_char) -> c_int {
    guard_int(|| {
        socket_of(s)?.connect(str_arg(addr)?)?;
        Ok(0)
    })
}

/// # Safety
/// `addr` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn zmq_unbind(s: *mut c_void, addr: *const c_char) -> c_int {
    guard_int(|| {
        socket_of(s)?.unbind(str_arg(addr)?)?;
        Ok(0)
    })
}

/// # Safety
/// `addr` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn zmq_disconnect(s: *mut c_void, addr: *const c_char) -> c_int {
    guard_int(|| {
        socket_of(s)?.disconnect(str_arg(addr)?)?;
        Ok(0)
    })
}

/// Sends a message we built; returns its size.
fn send_owned(s: *mut c_void, msg: Msg, flags: c_int) -> ZResult<c_int> {
    let mut sock = socket_of(s)?;
    let n = msg.len();
    sock.send(msg, flags).map_err(|(e, _)| e)?;
    Ok(n.min(c_int::MAX as usize) as c_int)
}

/// # Safety
/// `buf` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_send(
    s: *mut c_void,
    buf: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    guard_int(|| {
        socket_of(s)?;
        if buf.is_null() && len != 0 {
            return err(libc::EFAULT);
        }
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: the caller passes len readable bytes.
            unsafe { std::slice::from_raw_parts(buf as *const u8, len) }
        };
        send_owned(s, Msg::try_from_slice(data)?, flags)
    })
}

/// # Safety
/// `buf` points to `len` bytes that stay valid and unchanged for ever (constant data).
#[no_mangle]
pub unsafe extern "C" fn zmq_send_const(
    s: *mut c_void,
    buf: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    guard_int(|| {
        socket_of(s)?;
        if buf.is_null() && len != 0 {
            return err(libc::EFAULT);
        }
        // SAFETY: the caller promises the bytes outlive every use.
        send_owned(s, unsafe { Msg::from_const(buf as *const u8, len) }, flags)
    })
}

/// # Safety
/// `buf` points to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_recv(
    s: *mut c_void,
    buf: *mut c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    guard_int(|| {
        let mut sock = socket_of(s)?;
        if buf.is_null() && len != 0 {
            return err(libc::EFAULT);
        }
        let msg = sock.recv(flags)?;
        let n = msg.len().min(len);
        if n > 0 {
            // SAFETY: buf has len >= n writable bytes; the message is a separate allocation.
            unsafe { std::ptr::copy_nonoverlapping(msg.data().as_ptr(), buf as *mut u8, n) };
        }
        // The full size, even when truncated, as libzmq documents.
        Ok(msg.len().min(c_int::MAX as usize) as c_int)
    })
}

/// # Safety
/// `msg` points to an initialised zmq_msg_t.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_send(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> c_int {
    guard_int(|| {
        let mut sock = socket_of(s)?;
        // SAFETY: per the contract; take_from validates the struct.
        let m = unsafe { Msg::take_from(msg)? };
        let n = m.len();
        match sock.send(m, flags) {
            Ok(()) => Ok(n.min(c_int::MAX as usize) as c_int),
            Err((e, m)) => {
                // The caller still owns the message on failure.
                // SAFETY: take_from left an empty message there; nothing to release.
                unsafe { m.put_into(msg) };
                Err(e)
            }
        }
    })
}

/// # Safety
/// `msg` points to an initialised zmq_msg_t.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_recv(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> c_int {
    guard_int(|| {
        let mut sock = socket_of(s)?;
        // SAFETY: validates the struct before we block.
        unsafe { Msg::from_c(msg)? };
        let m = sock.recv(flags)?;
        let n = m.len();
        // The old content is released after the new message is in place (its free
        // function may re-enter the API).
        // SAFETY: validated above; only this thread uses the struct during the call.
        drop(unsafe { m.replace_in(msg) });
        Ok(n.min(c_int::MAX as usize) as c_int)
    })
}

/// Deprecated alias of zmq_msg_send with the arguments swapped.
///
/// # Safety
/// As zmq_msg_send.
#[no_mangle]
pub unsafe extern "C" fn zmq_sendmsg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { zmq_msg_send(msg, s, flags) }
}

/// Deprecated alias of zmq_msg_recv with the arguments swapped.
///
/// # Safety
/// As zmq_msg_recv.
#[no_mangle]
pub unsafe extern "C" fn zmq_recvmsg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { zmq_msg_recv(msg, s, flags) }
}

/// Sends `count` buffers, one message part each (deprecated). As in libzmq, every part but
/// the last goes with the caller's flags (so they form one multipart message only when
/// those include ZMQ_SNDMORE), the last without ZMQ_SNDMORE; the result is the size of the
/// last part sent.
///
/// # Safety
/// `iov` points to `count` iovecs, each describing readable memory.
#[no_mangle]
pub unsafe extern "C" fn zmq_sendiov(
    s: *mut c_void,
    iov: *mut libc::iovec,
    count: usize,
    flags: c_int,
) -> c_int {
    guard_int(|| {
        let mut sock = socket_of(s)?;
        if count == 0 || iov.is_null() {
            return err(libc::EINVAL);
        }
        // SAFETY: per the contract.
        let iovs = unsafe { std::slice::from_raw_parts(iov, count) };
        let mut sent = 0;
        for (i, v) in iovs.iter().enumerate() {
            let data: &[u8] = if v.iov_len == 0 {
                &[]
            } else {
                // SAFETY: each iovec describes readable memory.
                unsafe { std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len) }
            };
            let flags = if i + 1 == count { flags & !crate::consts::ZMQ_SNDMORE } else { flags };
            sock.send(Msg::try_from_slice(data)?, flags).map_err(|(e, _)| e)?;
            sent = data.len().min(c_int::MAX as usize) as c_int;
        }
        Ok(sent)
    })
}

/// Receives up to `*count` parts of a message into malloc()ed buffers the caller frees
/// (deprecated). Returns the number of parts, as libzmq does; on an error after some parts
/// `*count` still says how many were stored.
///
/// # Safety
/// `iov` points to `*count` writable iovecs.
#[no_mangle]
pub unsafe extern "C" fn zmq_recviov(
    s: *mut c_void,
    iov: *mut libc::iovec,
    count: *mut usize,
    flags: c_int,
) -> c_int {
    guard_int(|| {
        let mut sock = socket_of(s)?;
        if count.is_null() || iov.is_null() {
            return err(libc::EINVAL);
        }
        // SAFETY: per the contract.
        let max = unsafe { *count };
        let mut n = 0usize;
        let result = loop {
            if n == max {
                break Ok(());
            }
            let m = match sock.recv(flags) {
                Ok(m) => m,
                Err(e) => break Err(e),
            };
            // SAFETY: plain allocation; the caller frees it with free().
            let buf = unsafe { libc::malloc(m.len().max(1)) } as *mut u8;
            if buf.is_null() {
                break err(libc::ENOMEM);
            }
            // SAFETY: buf holds m.len() bytes.
            unsafe { std::ptr::copy_nonoverlapping(m.data().as_ptr(), buf, m.len()) };
            // SAFETY: iov has max entries and n < max.
            unsafe {
                (*iov.add(n)).iov_base = buf as *mut c_void;
                (*iov.add(n)).iov_len = m.len();
            }
            n += 1;
            if !m.more() {
                break Ok(());
            }
        };
        // SAFETY: per the contract.
        unsafe { *count = n };
        result?;
        Ok(n.min(c_int::MAX as usize) as c_int)
    })
}

/// Starts (or with a NULL address stops) monitoring a socket: events arrive on a socket of
/// `type_` bound to the inproc `addr`, in format `version`.
fn monitor(
    s: *mut c_void,
    addr: *const c_char,
    events: u64,
    version: c_int,
    type_: c_int,
) -> c_int {
    guard_int(|| {
        let sock = socket_of(s)?;
        if sock.is_ctx_terminated() {
            return err(crate::error::ETERM);
        }
        // libzmq checks the version-1 event mask first, even when stopping.
        if version == 1 && events >> 16 != 0 {
            return err(libc::EINVAL);
        }
        if addr.is_null() {
            sock.monitor.stop();
            return Ok(0);
        }
        let addr = str_arg(addr)?;
        match addr.split_once("://") {
            Some(("inproc", _)) => {}
            Some(_) => return err(libc::EPROTONOSUPPORT),
            None => return err(libc::EINVAL),
        }
        use crate::consts::*;
        if !(version == 1 || version == 2)
            || (version == 1 && events & !(ZMQ_EVENT_ALL as u64) != 0)
            || !matches!(type_, ZMQ_PAIR | ZMQ_PUB | ZMQ_PUSH)
        {
            return err(libc::EINVAL);
        }
        sock.monitor.stop();
        let mut m = Socket::new(sock.ctx.clone(), type_)?;
        m.setsockopt(ZMQ_LINGER, &0i32.to_ne_bytes())?;
        if let Err(e) = m.bind(addr) {
            m.close();
            return Err(e);
        }
        sock.monitor.start(Box::new(m), events, version);
        Ok(0)
    })
}

/// # Safety
/// `addr` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn zmq_socket_monitor(
    s: *mut c_void,
    addr: *const c_char,
    events: c_int,
) -> c_int {
    monitor(s, addr, events as u32 as u64, 1, crate::consts::ZMQ_PAIR)
}

/// # Safety
/// `group` is NULL or a NUL-terminated string.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_join(s: *mut c_void, group: *const c_char) -> c_int {
    guard_int(|| {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let g = (!group.is_null()).then(|| unsafe { CStr::from_ptr(group) }.to_bytes());
        socket_of(s)?.join(g)?;
        Ok(0)
    })
}

/// # Safety
/// `group` is NULL or a NUL-terminated string.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_leave(s: *mut c_void, group: *const c_char) -> c_int {
    guard_int(|| {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let g = (!group.is_null()).then(|| unsafe { CStr::from_ptr(group) }.to_bytes());
        socket_of(s)?.leave(g)?;
        Ok(0)
    })
}

/// Connects a PEER socket and returns the routing id of the new peer (0 on error).
///
/// # Safety
/// `addr` is NULL or a NUL-terminated string.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_connect_peer(s: *mut c_void, addr: *const c_char) -> u32 {
    guard(0, || {
        let mut sock = socket_of(s)?;
        if sock.opts.socket_type != crate::consts::ZMQ_PEER {
            return err(libc::ENOTSUP);
        }
        sock.connect_peer(str_arg(addr)?)
    })
}

/// Closes a PEER socket's connection to the peer with `routing_id`.
#[cfg(zmq_draft)]
#[no_mangle]
pub extern "C" fn zmq_disconnect_peer(s: *mut c_void, routing_id: u32) -> c_int {
    guard_int(|| {
        socket_of(s)?.disconnect_peer(routing_id)?;
        Ok(0)
    })
}

/// # Safety
/// `routing_id` points to `routing_id_size` readable bytes.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_socket_get_peer_state(
    s: *mut c_void,
    routing_id: *const c_void,
    routing_id_size: usize,
) -> c_int {
    guard_int(|| {
        let mut sock = socket_of(s)?;
        let id: &[u8] = if routing_id.is_null() || routing_id_size == 0 {
            &[]
        } else {
            // SAFETY: the caller passes `routing_id_size` readable bytes at `routing_id`.
            unsafe { std::slice::from_raw_parts(routing_id.cast::<u8>(), routing_id_size) }
        };
        sock.peer_state(id)
    })
}

/// # Safety
/// `addr` is NULL or a NUL-terminated string.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_socket_monitor_versioned(
    s: *mut c_void,
    addr: *const c_char,
    events: u64,
    event_version: c_int,
    type_: c_int,
) -> c_int {
    monitor(s, addr, events, event_version, type_)
}

#[cfg(zmq_draft)]
#[no_mangle]
pub extern "C" fn zmq_socket_monitor_pipes_stats(s: *mut c_void) -> c_int {
    guard_int(|| {
        socket_of(s)?.monitor_pipes_stats()?;
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::ctx::{zmq_ctx_new, zmq_ctx_term};
    use crate::capi::get_errno;

    /// A panic inside an API call on a socket (injected here through the same guard and
    /// handle lookup every call uses) poisons that socket: later calls fail with EFAULT
    /// instead of running on broken state, other sockets carry on, and close still works.
    #[test]
    fn a_panicking_call_poisons_its_socket() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let ctx = zmq_ctx_new();
        let a = zmq_socket(ctx, crate::consts::ZMQ_PAIR);
        let b = zmq_socket(ctx, crate::consts::ZMQ_PAIR);
        assert!(!a.is_null() && !b.is_null());
        let r = guard_int(|| {
            let _s = socket_of(a)?;
            panic!("injected");
        });
        std::panic::set_hook(hook);
        assert_eq!((r, get_errno()), (-1, libc::EFAULT));
        let buf = [0u8; 1];
        // SAFETY: valid handles and a readable buffer.
        unsafe {
            assert_eq!(zmq_send(a, buf.as_ptr().cast(), 1, crate::consts::ZMQ_DONTWAIT), -1);
            assert_eq!(get_errno(), libc::EFAULT);
            // The other socket is untouched (EAGAIN: no peer), and both close.
            assert_eq!(zmq_send(b, buf.as_ptr().cast(), 1, crate::consts::ZMQ_DONTWAIT), -1);
            assert_eq!(get_errno(), libc::EAGAIN);
            assert_eq!(zmq_close(a), 0);
            assert_eq!(zmq_close(b), 0);
            assert_eq!(zmq_ctx_term(ctx), 0);
        }
    }
}
