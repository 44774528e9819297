//! The draft zmq_poller_* API: a registered set of sockets and file descriptors, polled
//! level-triggered with the same readiness checks and wait loop as zmq_poll.

use super::handle::Registry;
use super::poll::{input_socket, pollfd_of, ready, wait, zmq_fd_t};
use super::socket::{is_thread_safe, poll_fd, watch, SOCKETS};
use super::{guard, guard_int};
use crate::consts::{ZMQ_POLLERR, ZMQ_POLLIN, ZMQ_POLLOUT, ZMQ_POLLPRI};
use crate::error::{err, ZResult};
use std::cell::UnsafeCell;
use std::os::raw::{c_int, c_long, c_short, c_void};

/// Mirrors the C `zmq_poller_event_t` (defined by hand in zmq.h).
#[repr(C)]
pub struct zmq_poller_event_t {
    pub socket: *mut c_void,
    pub fd: zmq_fd_t,
    pub user_data: *mut c_void,
    pub events: c_short,
}

/// libzmq's "no fd" value, reported as the fd of socket events.
const RETIRED_FD: c_int = -1;

/// One registered object: a socket (non-NULL) or a plain fd.
struct Item {
    socket: *mut c_void,
    fd: c_int,
    user_data: *mut c_void,
    events: c_short,
    /// A thread-safe socket, whose descriptor we watch from outside while registered:
    /// the descriptor we put in `signal` for it.
    watched: Option<c_int>,
}

#[derive(Default)]
struct Poller {
    items: Vec<Item>,
    /// The pollfds of the items with events wanted, and which item each belongs to; rebuilt
    /// lazily after a registration changes.
    fds: Vec<libc::pollfd>,
    owners: Vec<usize>,
    stale: bool,
    /// zmq_poller_fd: an epoll set of the thread-safe sockets' descriptors, readable when
    /// one of them may have changed (libzmq's poller signaler), made when the first is added.
    signal: Option<std::os::fd::OwnedFd>,
}

impl Drop for Poller {
    fn drop(&mut self) {
        for item in &self.items {
            if item.watched.is_some() {
                watch(item.socket, false);
            }
        }
    }
}

impl Poller {
    fn find_socket(&self, socket: *mut c_void) -> Option<usize> {
        self.items.iter().position(|i| !i.socket.is_null() && i.socket == socket)
    }

    fn find_fd(&self, fd: c_int) -> Option<usize> {
        self.items.iter().position(|i| i.socket.is_null() && i.fd == fd)
    }

    fn add(&mut self, item: Item) -> ZResult<c_int> {
        let known = if item.socket.is_null() {
            self.find_fd(item.fd)
        } else {
            self.find_socket(item.socket)
        };
        if known.is_some() {
            return err(libc::EINVAL);
        }
        let mut item = item;
        if !item.socket.is_null() && is_thread_safe(item.socket) {
            let fd = poll_fd(item.socket)?;
            self.signal_add(fd)?;
            watch(item.socket, true);
            item.watched = Some(fd);
        }
        self.items.push(item);
        self.stale = true;
        Ok(0)
    }

    fn modify(&mut self, at: Option<usize>, events: c_short) -> ZResult<c_int> {
        let Some(at) = at else { return err(libc::EINVAL) };
        self.items[at].events = events;
        self.stale = true;
        Ok(0)
    }

    fn remove(&mut self, at: Option<usize>) -> ZResult<c_int> {
        let Some(at) = at else { return err(libc::EINVAL) };
        let item = self.items.remove(at);
        if let (Some(fd), Some(ep)) = (item.watched, &self.signal) {
            use std::os::fd::AsRawFd;
            watch(item.socket, false);
            // SAFETY: plain syscall on descriptors we hold; a failure (fd already closed
            // with its socket) leaves nothing to undo.
            unsafe {
                libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut())
            };
        }
        self.stale = true;
        Ok(0)
    }

    /// Adds a thread-safe socket's descriptor to the epoll set zmq_poller_fd hands out.
    fn signal_add(&mut self, fd: c_int) -> ZResult<()> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        if self.signal.is_none() {
            // SAFETY: plain syscall; the result is checked.
            let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
            if ep < 0 {
                return err(super::get_errno());
            }
            // SAFETY: ep is a fresh descriptor we own.
            self.signal = Some(unsafe { OwnedFd::from_raw_fd(ep) });
        }
        let ep = self.signal.as_ref().map_or(-1, |f| f.as_raw_fd());
        let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: fd as u64 };
        // SAFETY: plain syscall with a live epoll descriptor and event.
        if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            let e = super::get_errno();
            if e != libc::EEXIST {
                return err(e);
            }
        }
        Ok(())
    }

    fn rebuild(&mut self) -> ZResult<()> {
        let mut fds = Vec::with_capacity(self.items.len());
        let mut owners = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate().filter(|(_, item)| item.events != 0) {
            fds.push(pollfd_of(item.socket, item.fd, item.events)?);
            owners.push(i);
        }
        (self.fds, self.owners, self.stale) = (fds, owners, false);
        Ok(())
    }

    /// Fills up to `out.len()` events; Ok(n > 0), or EAGAIN / EFAULT / EINTR / ETERM.
    fn wait(&mut self, out: &mut [zmq_poller_event_t], timeout: c_long) -> ZResult<c_int> {
        if self.stale {
            self.rebuild()?;
        }
        if self.fds.is_empty() && timeout < 0 {
            // Nothing could ever wake an endless wait: libzmq refuses it.
            return err(libc::EFAULT);
        }
        let Poller { items, fds, owners, .. } = self;
        let input_of = |k: usize| {
            let item = &items[owners[k]];
            input_socket(item.socket, item.events)
        };
        let found = wait(fds, timeout, None, input_of, |fds| {
            let mut n = 0;
            for (pfd, &i) in fds.iter().zip(owners.iter()) {
                if n == out.len() {
                    break;
                }
                let item = &items[i];
                let events = ready(item.socket, item.events, pfd, item.watched.is_some())?;
                if events != 0 {
                    out[n] = zmq_poller_event_t {
                        socket: item.socket,
                        fd: if item.socket.is_null() { item.fd } else { RETIRED_FD },
                        user_data: item.user_data,
                        events,
                    };
                    n += 1;
                }
            }
            Ok(n as c_int)
        })?;
        if found == 0 {
            return err(libc::EAGAIN);
        }
        Ok(found)
    }
}

/// A poller behind a C handle. Pollers are not thread-safe (libzmq's rule): one thread uses a
/// poller at a time, so handing out `&mut` from the cell is sound under that contract.
struct PollerCell(UnsafeCell<Poller>);

// SAFETY: the raw pointers inside are opaque values the poller only hands back to the C API;
// one thread at a time uses a poller, per the C API's contract.
unsafe impl Send for PollerCell {}
// SAFETY: as above.
unsafe impl Sync for PollerCell {}

/// libzmq's poller tag.
static POLLERS: Registry<PollerCell> = Registry::new(0xcafe_babe);

/// The poller behind a handle, or EFAULT.
fn poller_of<'a>(h: *mut c_void) -> ZResult<&'a mut Poller> {
    // SAFETY: handles are NULL or came from POLLERS (stale ones read a dead tag).
    match unsafe { POLLERS.get(h) } {
        // SAFETY: per the threading contract above, no other reference is live.
        Some(cell) => Ok(unsafe { &mut *cell.0.get() }),
        None => err(libc::EFAULT),
    }
}

/// A live socket handle, or ENOTSOCK.
fn check_socket(s: *mut c_void) -> ZResult<()> {
    // SAFETY: handles are NULL or came from SOCKETS (stale ones read a dead tag).
    match unsafe { SOCKETS.get(s) } {
        Some(_) => Ok(()),
        None => err(libc::ENOTSOCK),
    }
}

/// EBADF for the "no fd" value.
fn check_fd(fd: c_int) -> ZResult<()> {
    if fd == RETIRED_FD {
        return err(libc::EBADF);
    }
    Ok(())
}

/// EINVAL for bits that are no ZMQ_POLL* event.
fn check_events(events: c_short) -> ZResult<()> {
    if events as c_int & !(ZMQ_POLLIN | ZMQ_POLLOUT | ZMQ_POLLERR | ZMQ_POLLPRI) != 0 {
        return err(libc::EINVAL);
    }
    Ok(())
}

#[cfg(zmq_draft)]
#[no_mangle]
pub extern "C" fn zmq_poller_new() -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        Ok(POLLERS.insert(Box::new(PollerCell(UnsafeCell::new(Poller::default())))))
    })
}

/// # Safety
/// `poller_p` is NULL or points at a poller handle, which is set to NULL.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_destroy(poller_p: *mut *mut c_void) -> c_int {
    guard_int(|| {
        if poller_p.is_null() {
            return err(libc::EFAULT);
        }
        // SAFETY: per the contract; the handle is checked by remove.
        let Some(poller) = (unsafe { POLLERS.remove(*poller_p) }) else {
            return err(libc::EFAULT);
        };
        drop(poller);
        // SAFETY: as above.
        unsafe { *poller_p = std::ptr::null_mut() };
        Ok(0)
    })
}

#[cfg(zmq_draft)]
#[no_mangle]
pub extern "C" fn zmq_poller_size(poller: *mut c_void) -> c_int {
    guard_int(|| Ok(poller_of(poller)?.items.len() as c_int))
}

#[cfg(zmq_draft)]
#[no_mangle]
pub extern "C" fn zmq_poller_add(
    poller: *mut c_void,
    socket: *mut c_void,
    user_data: *mut c_void,
    events: c_short,
) -> c_int {
    guard_int(|| {
        let p = poller_of(poller)?;
        check_socket(socket)?;
        check_events(events)?;
        p.add(Item { socket, fd: RETIRED_FD, user_data, events, watched: None })
    })
}

#[cfg(zmq_draft)]
#[no_mangle]
pub extern "C" fn zmq_poller_modify(
    poller: *mut c_void,
    socket: *mut c_void,
    events: c_short,
) -> c_int {
    guard_int(|| {
        let p = poller_of(poller)?;
        check_socket(socket)?;
        check_events(events)?;
        p.modify(p.find_socket(socket), events)
    })
}

#[cfg(zmq_draft)]
#[no_mangle]
pub extern "C" fn zmq_poller_remove(poller: *mut c_void, socket: *mut c_void) -> c_int {
    guard_int(|| {
        let p = poller_of(poller)?;
        check_socket(socket)?;
        p.remove(p.find_socket(socket))
    })
}

#[cfg(zmq_draft)]
#[no_mangle]
pub extern "C" fn zmq_poller_add_fd(
    poller: *mut c_void,
    fd: zmq_fd_t,
    user_data: *mut c_void,
    events: c_short,
) -> c_int {
    guard_int(|| {
        let p = poller_of(poller)?;
        check_fd(fd)?;
        check_events(events)?;
        p.add(Item { socket: std::ptr::null_mut(), fd, user_data, events, watched: None })
    })
}

#[cfg(zmq_draft)]
#[no_mangle]
pub extern "C" fn zmq_poller_modify_fd(
    poller: *mut c_void,
    fd: zmq_fd_t,
    events: c_short,
) -> c_int {
    guard_int(|| {
        let p = poller_of(poller)?;
        check_fd(fd)?;
        check_events(events)?;
        p.modify(p.find_fd(fd), events)
    })
}

#[cfg(zmq_draft)]
#[no_mangle]
pub extern "C" fn zmq_poller_remove_fd(poller: *mut c_void, fd: zmq_fd_t) -> c_int {
    guard_int(|| {
        let p = poller_of(poller)?;
        check_fd(fd)?;
        p.remove(p.find_fd(fd))
    })
}

/// One event: 0 and `*event` filled, or -1 with `*event` cleared.
///
/// # Safety
/// `event` is NULL or points at a writable zmq_poller_event_t.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_wait(
    poller: *mut c_void,
    event: *mut zmq_poller_event_t,
    timeout: c_long,
) -> c_int {
    // SAFETY: per the contract.
    let rc = unsafe { zmq_poller_wait_all(poller, event, 1, timeout) };
    if rc < 0 && !event.is_null() {
        // A caller that ignores the result must not act on a stale event.
        // SAFETY: per the contract.
        unsafe {
            *event = zmq_poller_event_t {
                socket: std::ptr::null_mut(),
                fd: RETIRED_FD,
                user_data: std::ptr::null_mut(),
                events: 0,
            }
        };
    }
    rc.min(0)
}

/// Up to `n_events` events; returns how many (never 0: a timeout is EAGAIN).
///
/// # Safety
/// `events` is NULL or points at `n_events` writable zmq_poller_event_t.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_wait_all(
    poller: *mut c_void,
    events: *mut zmq_poller_event_t,
    n_events: c_int,
    timeout: c_long,
) -> c_int {
    guard_int(|| {
        let p = poller_of(poller)?;
        if events.is_null() {
            return err(libc::EFAULT);
        }
        if n_events < 0 {
            return err(libc::EINVAL);
        }
        // SAFETY: per the contract.
        let out = unsafe { std::slice::from_raw_parts_mut(events, n_events as usize) };
        p.wait(out, timeout)
    })
}

/// The poller's own descriptor, readable when one of its thread-safe sockets may be ready
/// (then zmq_poller_wait tells which). As in libzmq, it exists once a thread-safe socket
/// has been added: EINVAL before.
///
/// # Safety
/// `fd` is NULL or points at a writable zmq_fd_t.
#[cfg(zmq_draft)]
#[no_mangle]
pub unsafe extern "C" fn zmq_poller_fd(poller: *mut c_void, fd: *mut zmq_fd_t) -> c_int {
    guard_int(|| {
        use std::os::fd::AsRawFd;
        let p = poller_of(poller)?;
        let Some(ep) = &p.signal else { return err(libc::EINVAL) };
        if fd.is_null() {
            return err(libc::EFAULT);
        }
        // SAFETY: per the contract.
        unsafe { *fd = ep.as_raw_fd() };
        Ok(0)
    })
}
