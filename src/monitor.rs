//! Socket monitoring: events about a socket's connections, sent as messages on an inproc
//! PAIR (or PUB/PUSH) socket the application connects to, in libzmq's formats.
//!
//! Version 1 (zmq_socket_monitor): frame 1 = u16 event + u32 value (native byte order,
//! 6 bytes), frame 2 = the endpoint. Version 2 (draft): u64 event, u64 value count, the
//! values as u64 frames, then the local and the remote endpoint.

use crate::capi::consts::*;
use crate::msg::Msg;
use crate::socket::Socket;
use parking_lot::Mutex;

struct Monitor {
    socket: Socket,
    events: u64,
    version: i32,
}

/// A socket's monitor, shared with the I/O objects that raise its events.
#[derive(Default)]
pub(crate) struct MonitorSlot(Mutex<Option<Monitor>>);

impl MonitorSlot {
    /// Starts monitoring through `socket` (already bound); replaces any previous monitor.
    pub(crate) fn start(&self, socket: Socket, events: u64, version: i32) {
        let old = self.0.lock().replace(Monitor { socket, events, version });
        if let Some(old) = old {
            Self::stop_monitor(old);
        }
    }

    /// Stops monitoring: MONITOR_STOPPED if it was asked for, then the socket closes.
    pub(crate) fn stop(&self) {
        let old = self.0.lock().take();
        if let Some(old) = old {
            Self::stop_monitor(old);
        }
    }

    fn stop_monitor(mut m: Monitor) {
        if m.events & ZMQ_EVENT_MONITOR_STOPPED as u64 != 0 {
            send_event(&mut m, ZMQ_EVENT_MONITOR_STOPPED as u64, &[0], "", "");
        }
        m.socket.close();
    }

    /// Raises one event (dropped if no monitor asked for it or its socket cannot take it).
    pub(crate) fn event(&self, event: i32, value: u64, local: &str, remote: &str) {
        let mut guard = self.0.lock();
        if let Some(m) = guard.as_mut() {
            if m.events & event as u64 != 0 {
                send_event(m, event as u64, &[value], local, remote);
            }
        }
    }

    pub(crate) fn is_active(&self) -> bool {
        self.0.lock().is_some()
    }
}

fn send_event(m: &mut Monitor, event: u64, values: &[u64], local: &str, remote: &str) {
    let mut parts: Vec<Msg> = Vec::with_capacity(4 + values.len());
    if m.version == 1 {
        let mut head = [0u8; 6];
        head[..2].copy_from_slice(&(event as u16).to_ne_bytes());
        head[2..].copy_from_slice(&(values.first().copied().unwrap_or(0) as u32).to_ne_bytes());
        parts.push(Msg::from_slice(&head));
        parts.push(Msg::from_slice(local.as_bytes()));
    } else {
        parts.push(Msg::from_slice(&event.to_ne_bytes()));
        parts.push(Msg::from_slice(&(values.len() as u64).to_ne_bytes()));
        for v in values {
            parts.push(Msg::from_slice(&v.to_ne_bytes()));
        }
        parts.push(Msg::from_slice(local.as_bytes()));
        parts.push(Msg::from_slice(remote.as_bytes()));
    }
    let n = parts.len();
    for (i, p) in parts.into_iter().enumerate() {
        let flags = ZMQ_DONTWAIT | if i + 1 < n { ZMQ_SNDMORE } else { 0 };
        if m.socket.send(p, flags).is_err() {
            return;
        }
    }
}
