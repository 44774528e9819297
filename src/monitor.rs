//! Socket monitoring: events about a socket's connections, sent as messages on an inproc
//! PAIR (or PUB/PUSH) socket the application connects to, in libzmq's formats.
//!
//! Version 1 (zmq_socket_monitor): frame 1 = u16 event + u32 value (native byte order,
//! 6 bytes), frame 2 = one endpoint: the local one for events of a bound endpoint, the remote
//! one for events of a connect. Version 2 (draft): u64 event, u64 value count, the values as
//! u64 frames, then the local and the remote endpoint.
//!
//! The monitor stops (MONITOR_STOPPED, then its socket closes) when the application stops it
//! or when the last user of the slot goes: the socket and its lingering connections, so the
//! events of a closing socket's connections come first, as in libzmq.

use crate::consts::*;
use crate::msg::Msg;
use parking_lot::Mutex;

/// Where a monitor's events go: the monitor socket, which the socket layer provides.
pub(crate) trait EventSink: Send {
    /// Sends one part without blocking (ZMQ_DONTWAIT, ZMQ_SNDMORE in `flags`); false if the
    /// socket cannot take it now.
    fn send_part(&mut self, part: Msg, flags: i32) -> bool;
    /// The monitor ends: close the socket, keeping the events already sent readable.
    fn finish(self: Box<Self>);
}

struct Monitor {
    socket: Box<dyn EventSink>,
    events: u64,
    version: i32,
}

/// A socket's monitor, shared with the I/O objects that raise its events.
#[derive(Default)]
pub(crate) struct MonitorSlot(Mutex<Option<Monitor>>);

impl MonitorSlot {
    /// Starts monitoring through `socket` (already bound); replaces any previous monitor.
    pub(crate) fn start(&self, socket: Box<dyn EventSink>, events: u64, version: i32) {
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
        m.socket.finish();
    }

    /// An event of a bound endpoint or of a connection accepted through one: version 1
    /// shows the local endpoint.
    pub(crate) fn event(&self, event: i32, value: u64, local: &str, remote: &str) {
        self.raise(event, value, local, remote, false);
    }

    /// An event of a connecting endpoint or of its connection: version 1 shows the remote
    /// endpoint (the address given to zmq_connect).
    pub(crate) fn event_connect(&self, event: i32, value: u64, local: &str, remote: &str) {
        self.raise(event, value, local, remote, true);
    }

    /// True if the monitor asks for `event`.
    pub(crate) fn wants(&self, event: i32) -> bool {
        self.0.lock().as_ref().is_some_and(|m| m.events & event as u64 != 0)
    }

    /// An event with several values (ZMQ_EVENT_PIPES_STATS): version 2 only, as libzmq.
    pub(crate) fn event_values(&self, event: i32, values: &[u64], local: &str, remote: &str) {
        let mut guard = self.0.lock();
        if let Some(m) = guard.as_mut() {
            if m.events & event as u64 != 0 && m.version != 1 {
                send_event(m, event as u64, values, local, remote);
            }
        }
    }

    fn raise(&self, event: i32, value: u64, local: &str, remote: &str, connect: bool) {
        let mut guard = self.0.lock();
        if let Some(m) = guard.as_mut() {
            if m.events & event as u64 != 0 {
                if m.version == 1 {
                    let endpoint = if connect { remote } else { local };
                    send_event(m, event as u64, &[value], endpoint, "");
                } else {
                    send_event(m, event as u64, &[value], local, remote);
                }
            }
        }
    }
}

impl Drop for MonitorSlot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends one event without blocking (an event the monitor socket cannot take is dropped).
/// Version 1: `endpoint` goes in frame 2 and `remote` is unused.
fn send_event(m: &mut Monitor, event: u64, values: &[u64], endpoint: &str, remote: &str) {
    let mut parts: Vec<Msg> = Vec::with_capacity(4 + values.len());
    if m.version == 1 {
        let mut head = [0u8; 6];
        head[..2].copy_from_slice(&(event as u16).to_ne_bytes());
        head[2..].copy_from_slice(&(values.first().copied().unwrap_or(0) as u32).to_ne_bytes());
        parts.push(Msg::from_slice(&head));
        parts.push(Msg::from_slice(endpoint.as_bytes()));
    } else {
        parts.push(Msg::from_slice(&event.to_ne_bytes()));
        parts.push(Msg::from_slice(&(values.len() as u64).to_ne_bytes()));
        for v in values {
            parts.push(Msg::from_slice(&v.to_ne_bytes()));
        }
        parts.push(Msg::from_slice(endpoint.as_bytes()));
        parts.push(Msg::from_slice(remote.as_bytes()));
    }
    let n = parts.len();
    for (i, p) in parts.into_iter().enumerate() {
        let flags = ZMQ_DONTWAIT | if i + 1 < n { ZMQ_SNDMORE } else { 0 };
        if !m.socket.send_part(p, flags) {
            return;
        }
    }
}
