//! zmq_proxy, zmq_proxy_steerable and the deprecated zmq_device.
//!
//! The proxy moves whole messages between two sockets, each direction only while the
//! receiving side can take them (so a full backend stalls that direction, not the other),
//! copies every part to the capture socket if there is one, and obeys a control socket.

use super::guard_int;
use super::socket::socket_of;
use crate::consts::*;
use crate::error::{err, ZResult};
use crate::msg::Msg;
use std::os::raw::{c_int, c_void};

#[derive(Default, Clone, Copy)]
struct Stats {
    msg_in: u64,
    bytes_in: u64,
    msg_out: u64,
    bytes_out: u64,
}

fn events(h: *mut c_void) -> ZResult<i32> {
    let mut buf = [0u8; 4];
    socket_of(h)?.getsockopt(ZMQ_EVENTS, &mut buf)?;
    Ok(i32::from_ne_bytes(buf))
}

/// Moves one whole message from `from` to `to`, copying each part to `capture`.
fn forward(
    from: *mut c_void,
    to: *mut c_void,
    capture: *mut c_void,
    from_stats: &mut Stats,
    to_stats: &mut Stats,
) -> ZResult<()> {
    loop {
        let msg = socket_of(from)?.recv(ZMQ_DONTWAIT)?;
        let more = msg.more();
        let len = msg.len() as u64;
        from_stats.msg_in += 1;
        from_stats.bytes_in += len;
        let flags = if more { ZMQ_SNDMORE } else { 0 };
        if !capture.is_null() {
            socket_of(capture)?.send(msg.clone(), flags).map_err(|(e, _)| e)?;
        }
        socket_of(to)?.send(msg, flags).map_err(|(e, _)| e)?;
        to_stats.msg_out += 1;
        to_stats.bytes_out += len;
        if !more {
            return Ok(());
        }
    }
}

/// Handles one control command; returns false on TERMINATE.
fn control(ctl: *mut c_void, paused: &mut bool, fe: &Stats, be: &Stats) -> ZResult<bool> {
    let msg = socket_of(ctl)?.recv(ZMQ_DONTWAIT)?;
    match msg.data() {
        b"PAUSE" => *paused = true,
        b"RESUME" => *paused = false,
        b"TERMINATE" => return Ok(false),
        b"STATISTICS" => {
            let vals = [
                fe.msg_in,
                fe.bytes_in,
                fe.msg_out,
                fe.bytes_out,
                be.msg_in,
                be.bytes_in,
                be.msg_out,
                be.bytes_out,
            ];
            let mut sock = socket_of(ctl)?;
            for (i, v) in vals.iter().enumerate() {
                let flags = if i + 1 < vals.len() { ZMQ_SNDMORE } else { 0 };
                sock.send(Msg::from_slice(&v.to_ne_bytes()), flags).map_err(|(e, _)| e)?;
            }
        }
        _ => {}
    }
    Ok(true)
}

fn proxy(fe: *mut c_void, be: *mut c_void, capture: *mut c_void, ctl: *mut c_void) -> ZResult<()> {
    socket_of(fe)?;
    socket_of(be)?;
    if !capture.is_null() {
        socket_of(capture)?;
    }
    if !ctl.is_null() {
        socket_of(ctl)?;
    }
    let (mut fs, mut bs) = (Stats::default(), Stats::default());
    let mut paused = false;
    loop {
        let mut progressed = false;
        if !ctl.is_null() && events(ctl)? & ZMQ_POLLIN != 0 {
            if !control(ctl, &mut paused, &fs, &bs)? {
                return Ok(());
            }
            progressed = true;
        }
        if !paused {
            let fe_ev = events(fe)?;
            let be_ev = if be == fe { fe_ev } else { events(be)? };
            // A single socket as both ends (a REP echo device) is not writable until it
            // has read the request: libzmq forwards on input alone then.
            if fe_ev & ZMQ_POLLIN != 0 && (be_ev & ZMQ_POLLOUT != 0 || be == fe) {
                forward(fe, be, capture, &mut fs, &mut bs)?;
                progressed = true;
            }
            if be != fe && be_ev & ZMQ_POLLIN != 0 && fe_ev & ZMQ_POLLOUT != 0 {
                forward(be, fe, capture, &mut bs, &mut fs)?;
                progressed = true;
            }
        }
        if !progressed {
            wait(fe, be, ctl, paused)?;
        }
    }
}

/// Blocks until one of the sockets signals a change (EINTR / ETERM end the proxy).
fn wait(fe: *mut c_void, be: *mut c_void, ctl: *mut c_void, paused: bool) -> ZResult<()> {
    let mut fds = Vec::with_capacity(3);
    let socks: &[*mut c_void] = if paused { &[ctl] } else { &[fe, be, ctl] };
    for &h in socks {
        if h.is_null() {
            continue;
        }
        // Thread-safe sockets refuse ZMQ_FD; their mailbox's descriptor serves the same.
        let fd = super::socket::poll_fd(h)?;
        fds.push(libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
    }
    // SAFETY: fds is a valid array of pollfd.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
    if rc < 0 {
        return err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINTR));
    }
    Ok(())
}

/// Runs until the context terminates: always returns -1 (ETERM, or EINTR on a signal).
#[no_mangle]
pub extern "C" fn zmq_proxy(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
) -> c_int {
    guard_int(|| {
        proxy(frontend, backend, capture, std::ptr::null_mut())?;
        Ok(0)
    })
}

/// As zmq_proxy, with a control socket: PAUSE, RESUME, TERMINATE (returns 0), STATISTICS.
#[no_mangle]
pub extern "C" fn zmq_proxy_steerable(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> c_int {
    guard_int(|| {
        proxy(frontend, backend, capture, control)?;
        Ok(0)
    })
}

/// Deprecated: zmq_proxy without capture; the device type is ignored.
#[no_mangle]
pub extern "C" fn zmq_device(type_: c_int, frontend: *mut c_void, backend: *mut c_void) -> c_int {
    let _ = type_;
    zmq_proxy(frontend, backend, std::ptr::null_mut())
}
