//! zmq_poll: waits on any mix of sockets and plain file descriptors.
//!
//! A socket is polled through its mailbox eventfd. Checking a socket's events runs its
//! commands and leaves every empty pipe marked "reader asleep", so any later message or
//! state change signals that eventfd: the wait cannot miss one.

use super::guard_int;
use super::socket::socket_of;
use crate::capi::consts::{ZMQ_POLLERR, ZMQ_POLLIN, ZMQ_POLLOUT, ZMQ_POLLPRI};
use crate::error::{err, ZResult};
use std::os::raw::{c_int, c_long, c_short, c_void};
use std::time::{Duration, Instant};

/// Mirrors the C `zmq_pollitem_t` (defined by hand in zmq.h).
#[repr(C)]
pub struct zmq_pollitem_t {
    pub socket: *mut c_void,
    pub fd: c_int,
    pub events: c_short,
    pub revents: c_short,
}

fn poll_events(zmq: c_short) -> c_short {
    let mut ev = 0;
    if zmq & ZMQ_POLLIN as c_short != 0 {
        ev |= libc::POLLIN;
    }
    if zmq & ZMQ_POLLOUT as c_short != 0 {
        ev |= libc::POLLOUT;
    }
    if zmq & ZMQ_POLLPRI as c_short != 0 {
        ev |= libc::POLLPRI;
    }
    ev
}

/// One pass over the items: fills `revents`, returns how many have any.
fn check(items: &mut [zmq_pollitem_t], fds: &[libc::pollfd]) -> ZResult<c_int> {
    let mut n = 0;
    for (item, pfd) in items.iter_mut().zip(fds) {
        item.revents = 0;
        if !item.socket.is_null() {
            let sock = socket_of(item.socket)?;
            let mut buf = [0u8; 4];
            sock.getsockopt(crate::capi::consts::ZMQ_EVENTS, &mut buf)?;
            let ev = i32::from_ne_bytes(buf) as c_short;
            item.revents = ev & item.events & (ZMQ_POLLIN | ZMQ_POLLOUT) as c_short;
        } else {
            let r = pfd.revents;
            if r & libc::POLLIN != 0 && item.events & ZMQ_POLLIN as c_short != 0 {
                item.revents |= ZMQ_POLLIN as c_short;
            }
            if r & libc::POLLOUT != 0 && item.events & ZMQ_POLLOUT as c_short != 0 {
                item.revents |= ZMQ_POLLOUT as c_short;
            }
            if r & libc::POLLPRI != 0 && item.events & ZMQ_POLLPRI as c_short != 0 {
                item.revents |= ZMQ_POLLPRI as c_short;
            }
            if r & !(libc::POLLIN | libc::POLLOUT | libc::POLLPRI) != 0 {
                item.revents |= ZMQ_POLLERR as c_short;
            }
        }
        if item.revents != 0 {
            n += 1;
        }
    }
    Ok(n)
}

fn poll_impl(items: &mut [zmq_pollitem_t], timeout: c_long) -> ZResult<c_int> {
    let mut fds = Vec::with_capacity(items.len());
    for item in items.iter() {
        if item.socket.is_null() {
            fds.push(libc::pollfd { fd: item.fd, events: poll_events(item.events), revents: 0 });
        } else {
            let sock = socket_of(item.socket)?;
            let mut buf = [0u8; 4];
            sock.getsockopt(crate::capi::consts::ZMQ_FD, &mut buf)?;
            fds.push(libc::pollfd { fd: i32::from_ne_bytes(buf), events: libc::POLLIN, revents: 0 });
        }
    }
    let deadline = (timeout > 0).then(|| Instant::now() + Duration::from_millis(timeout as u64));
    let mut first = true;
    loop {
        let wait_ms: c_int = if first {
            0
        } else {
            match deadline {
                None if timeout < 0 => -1,
                None => 0,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    (left.as_millis() as c_int).max(1)
                }
            }
        };
        // SAFETY: fds is a valid array of fds.len() pollfd structs.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
        if rc < 0 {
            return err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINTR));
        }
        let n = check(items, &fds)?;
        if n > 0 || timeout == 0 {
            return Ok(n);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(0);
        }
        first = false;
    }
}

/// # Safety
/// `items` points to `nitems` pollitems.
#[no_mangle]
pub unsafe extern "C" fn zmq_poll(items: *mut zmq_pollitem_t, nitems: c_int, timeout: c_long) -> c_int {
    guard_int(|| {
        if nitems < 0 {
            return err(libc::EINVAL);
        }
        if nitems == 0 {
            if timeout > 0 {
                std::thread::sleep(Duration::from_millis(timeout as u64));
            }
            return Ok(0);
        }
        if items.is_null() {
            return err(libc::EFAULT);
        }
        // SAFETY: per the contract.
        let items = unsafe { std::slice::from_raw_parts_mut(items, nitems as usize) };
        poll_impl(items, timeout)
    })
}
