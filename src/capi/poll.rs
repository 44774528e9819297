//! zmq_poll and zmq_ppoll: wait on any mix of sockets and plain file descriptors. The
//! readiness checks and the wait loop here are shared with the zmq_poller_* API.
//!
//! A socket is polled through its mailbox eventfd. Checking a socket's events runs its
//! commands and leaves every empty pipe marked "reader asleep", so any later message or
//! state change signals that eventfd: the wait cannot miss one.

use super::guard_int;
use super::socket::{claim_input, poll_events, poll_fd, release_input, watch};
use crate::consts::{ZMQ_POLLERR, ZMQ_POLLIN, ZMQ_POLLOUT, ZMQ_POLLPRI};
use crate::error::{err, ZResult};
use crate::socket::InputClaim;
use std::os::raw::{c_int, c_long, c_short, c_void};
use std::time::{Duration, Instant};

/// Mirrors the C `zmq_fd_t` (typedef'd by hand in zmq.h): a plain fd on POSIX.
pub type zmq_fd_t = c_int;

/// Mirrors the C `zmq_pollitem_t` (defined by hand in zmq.h).
#[repr(C)]
pub struct zmq_pollitem_t {
    pub socket: *mut c_void,
    pub fd: zmq_fd_t,
    pub events: c_short,
    pub revents: c_short,
}

const IN: c_short = ZMQ_POLLIN as c_short;
const OUT: c_short = ZMQ_POLLOUT as c_short;
const PRI: c_short = ZMQ_POLLPRI as c_short;
const ERR: c_short = ZMQ_POLLERR as c_short;

/// The pollfd that wakes a wait for `events` on a socket (non-NULL handle) or a plain fd.
pub(crate) fn pollfd_of(socket: *mut c_void, fd: c_int, events: c_short) -> ZResult<libc::pollfd> {
    if socket.is_null() {
        let mut ev = 0;
        for (zmq, sys) in [(IN, libc::POLLIN), (OUT, libc::POLLOUT), (PRI, libc::POLLPRI)] {
            if events & zmq != 0 {
                ev |= sys;
            }
        }
        return Ok(libc::pollfd { fd, events: ev, revents: 0 });
    }
    // Any change of a socket's state signals its mailbox; with no events wanted, none matters.
    let ev = if events != 0 { libc::POLLIN } else { 0 };
    Ok(libc::pollfd { fd: poll_fd(socket)?, events: ev, revents: 0 })
}

/// The ZMQ_POLL* events among `events` ready now on a socket, or on a plain fd as `pfd` (its
/// pollfd after the last poll) says. An fd's error or hang-up shows as ZMQ_POLLERR, wanted or
/// not, as poll(2) reports it. `watching`: the caller counted itself a watcher of the socket.
pub(crate) fn ready(
    socket: *mut c_void,
    events: c_short,
    pfd: &libc::pollfd,
    watching: bool,
) -> ZResult<c_short> {
    if !socket.is_null() {
        // Also runs the socket's pending commands: ETERM surfaces here.
        return Ok(poll_events(socket, watching)? as c_short & events & (IN | OUT));
    }
    let r = pfd.revents;
    let mut ev = 0;
    for (zmq, sys) in [(IN, libc::POLLIN), (OUT, libc::POLLOUT), (PRI, libc::POLLPRI)] {
        if r & sys != 0 && events & zmq != 0 {
            ev |= zmq;
        }
    }
    if r & !(libc::POLLIN | libc::POLLOUT | libc::POLLPRI) != 0 {
        ev |= ERR;
    }
    Ok(ev)
}

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    }
}

/// Polls `fds` until `check` (given the pollfds just filled) finds something ready, returning
/// its count; Ok(0) once `timeout` ms have passed (0: one look, negative: no limit). The first
/// look does not block. With `sigmask`, that mask is in force while blocked, as in ppoll(2);
/// a signal ends the wait with EINTR.
///
/// `input_of(i)`: the socket whose input `fds[i]` waits for, if any. While blocked, a wait
/// also watches such a socket's one connection itself (`Socket::claim_input`) and reads
/// what arrives before `check` looks, so that a message wakes this thread and not the I/O
/// thread first.
pub(crate) fn wait(
    fds: &mut [libc::pollfd],
    timeout: c_long,
    sigmask: Option<&libc::sigset_t>,
    input_of: impl Fn(usize) -> *mut c_void,
    mut check: impl FnMut(&[libc::pollfd]) -> ZResult<c_int>,
) -> ZResult<c_int> {
    let mut claims = Claims::default();
    // A deadline too far to represent is no deadline.
    let deadline = if timeout > 0 {
        Instant::now().checked_add(Duration::from_millis(timeout as u64))
    } else {
        None
    };
    let forever = timeout < 0 || (timeout > 0 && deadline.is_none());
    let mask = sigmask.map_or(std::ptr::null(), |m| m as *const libc::sigset_t);
    let mut first = true;
    loop {
        let limit = match deadline {
            _ if first => Some(Duration::ZERO),
            Some(d) => Some(d.saturating_duration_since(Instant::now())),
            None if forever => None,
            None => Some(Duration::ZERO),
        };
        let ts = limit.map(timespec);
        let ts_ptr = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
        if limit != Some(Duration::ZERO) {
            claims.claim(fds.len(), &input_of);
        }
        let all = claims.pollfds(fds);
        // SAFETY: `all` is a valid array of all.len() pollfds (an empty one is never read);
        // ts_ptr and mask are NULL or point at live values.
        let rc = unsafe { libc::ppoll(all.as_mut_ptr(), all.len() as libc::nfds_t, ts_ptr, mask) };
        claims.release(fds);
        if rc < 0 {
            return err(super::get_errno());
        }
        let n = check(fds)?;
        if n > 0 || timeout == 0 {
            return Ok(n);
        }
        if !forever && deadline.is_none_or(|d| Instant::now() >= d) {
            return Ok(0);
        }
        first = false;
    }
}

/// The socket an item waiting for `events` on `socket` (NULL: a plain fd) waits for input
/// on, if any (for `wait`'s `input_of`).
pub(crate) fn input_socket(socket: *mut c_void, events: c_short) -> *mut c_void {
    if events & IN != 0 {
        socket
    } else {
        std::ptr::null_mut()
    }
}

/// The connections a blocked wait watches itself (see `wait`), and the pollfds it
/// passes to ppoll then: the caller's, followed by one per claim.
#[derive(Default)]
struct Claims {
    held: Vec<(*mut c_void, InputClaim)>,
    all: Vec<libc::pollfd>,
}

impl Claims {
    /// Claims the connection of each socket `input_of` names among `n` pollfds (once per
    /// socket), where it can be claimed.
    fn claim(&mut self, n: usize, input_of: &impl Fn(usize) -> *mut c_void) {
        for i in 0..n {
            let s = input_of(i);
            if s.is_null() || self.held.iter().any(|(h, _)| *h == s) {
                continue;
            }
            if let Some(c) = claim_input(s) {
                self.held.push((s, c));
            }
        }
    }

    /// The pollfds to wait on: `fds` alone, or with the claimed descriptors after them.
    fn pollfds<'a>(&'a mut self, fds: &'a mut [libc::pollfd]) -> &'a mut [libc::pollfd] {
        if self.held.is_empty() {
            return fds;
        }
        self.all.clear();
        self.all.extend_from_slice(fds);
        for (_, c) in &self.held {
            self.all.push(libc::pollfd { fd: c.fd, events: libc::POLLIN, revents: 0 });
        }
        &mut self.all
    }

    /// After the wait: copies the callers' results back, and reads what each claimed
    /// connection received before handing it back.
    fn release(&mut self, fds: &mut [libc::pollfd]) {
        if self.held.is_empty() {
            return;
        }
        for (pfd, got) in fds.iter_mut().zip(&self.all) {
            pfd.revents = got.revents;
        }
        let extra = &self.all[fds.len()..];
        for ((s, c), pfd) in self.held.drain(..).zip(extra) {
            release_input(s, c, pfd.revents != 0);
        }
    }
}

/// zmq_poll and zmq_ppoll: fill each item's `revents`, return how many have any.
fn poll_items(
    items: *mut zmq_pollitem_t,
    nitems: c_int,
    timeout: c_long,
    sigmask: Option<&libc::sigset_t>,
) -> ZResult<c_int> {
    if nitems < 0 {
        return err(libc::EINVAL);
    }
    if nitems > 0 && items.is_null() {
        return err(libc::EFAULT);
    }
    let items: &mut [zmq_pollitem_t] = if nitems == 0 {
        // Nothing to watch: a plain (signal-interruptible) sleep, as in libzmq.
        &mut []
    } else {
        // SAFETY: the caller passes nitems pollitems.
        unsafe { std::slice::from_raw_parts_mut(items, nitems as usize) }
    };
    let mut fds = items
        .iter()
        .map(|item| pollfd_of(item.socket, item.fd, item.events))
        .collect::<ZResult<Vec<_>>>()?;
    // Thread-safe sockets are used by other threads meanwhile: while we poll their
    // descriptor, those threads raise it whenever they change something (libzmq's
    // zmq_poll switches to its poller for them, to the same end).
    let watched = Watched(
        items
            .iter()
            .filter(|i| !i.socket.is_null() && watch(i.socket, true))
            .map(|i| i.socket)
            .collect(),
    );
    let inputs: Vec<*mut c_void> = items.iter().map(|i| input_socket(i.socket, i.events)).collect();
    let result = wait(
        &mut fds,
        timeout,
        sigmask,
        |i| inputs[i],
        |fds| {
            let mut n = 0;
            for (item, pfd) in items.iter_mut().zip(fds) {
                item.revents = ready(item.socket, item.events, pfd, true)?;
                n += (item.revents != 0) as c_int;
            }
            Ok(n)
        },
    );
    drop(watched);
    result
}

/// The thread-safe sockets a zmq_poll watches; stops watching when dropped (on any exit).
struct Watched(Vec<*mut c_void>);

impl Drop for Watched {
    fn drop(&mut self) {
        for &s in &self.0 {
            watch(s, false);
        }
    }
}

/// # Safety
/// `items` points to `nitems` pollitems.
#[no_mangle]
pub unsafe extern "C" fn zmq_poll(
    items: *mut zmq_pollitem_t,
    nitems: c_int,
    timeout: c_long,
) -> c_int {
    guard_int(|| poll_items(items, nitems, timeout, None))
}

/// zmq_poll with `sigmask` (if not NULL) as the signal mask while it waits.
///
/// # Safety
/// `items` points to `nitems` pollitems; `sigmask` is NULL or a valid signal set.
#[cfg(all(zmq_draft, unix))]
#[no_mangle]
pub unsafe extern "C" fn zmq_ppoll(
    items: *mut zmq_pollitem_t,
    nitems: c_int,
    timeout: c_long,
    sigmask: *const libc::sigset_t,
) -> c_int {
    // SAFETY: per the contract, sigmask is NULL or valid.
    guard_int(|| poll_items(items, nitems, timeout, unsafe { sigmask.as_ref() }))
}
