//! What an I/O object knows about the socket it works for.

use crate::ctx::Ctx;
use crate::io::mailbox::Mailbox;
use crate::monitor::MonitorSlot;
use crate::options::Options;
use std::sync::Arc;

/// Keeps a closed socket registered with its context until its last connection is done
/// (lingering), so zmq_ctx_term waits for them as libzmq does.
pub(crate) struct SocketToken {
    pub ctx: Arc<Ctx>,
    pub id: u64,
}

impl Drop for SocketToken {
    fn drop(&mut self) {
        self.ctx.unregister_socket(self.id);
    }
}

/// The socket's side as its listeners and sessions see it.
#[derive(Clone)]
pub(crate) struct SocketLink {
    pub id: u64,
    pub mailbox: Arc<Mailbox>,
    /// The socket's options when the endpoint was bound or connected.
    pub opts: Arc<Options>,
    pub monitor: Arc<MonitorSlot>,
    /// zmq_disconnect was called on the socket (ZMQ_RECONNECT_STOP_AFTER_DISCONNECT).
    pub disconnected: Arc<std::sync::atomic::AtomicBool>,
    /// Its drop lets the context forget the socket once every I/O object is done; it also
    /// leads to the context (ZAP's handler lives in its inproc registry).
    pub token: Arc<SocketToken>,
}

impl SocketLink {
    pub(crate) fn event(&self, event: i32, value: u64, endpoint: &str, remote: &str) {
        self.monitor.event(event, value, endpoint, remote);
    }
}
