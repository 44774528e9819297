//! Commands between sockets, sessions and I/O threads, carried by mailboxes.
//!
//! Commands name only what lives below `io` (pipes) or what `io` defines itself (I/O
//! objects): a session or listener travels to its I/O thread as a `Box<dyn IoObject>`.

use crate::io::reactor::IoObject;
use crate::pipe::{Pipe, PipeId};

pub(crate) enum Command {
    /// The peer flushed messages into a pipe we had found empty.
    ActivateRead { pipe: PipeId },
    /// The peer read enough of a pipe that had hit its HWM for us to write again.
    ActivateWrite { pipe: PipeId },
    /// The peer closed its end of a pipe.
    PipeTerm { pipe: PipeId },
    /// A new pipe for a socket (inproc connect to a bound socket, or a network connection
    /// whose handshake completed): attach it. `send_routing_id` says whether the other
    /// side wants our routing id as the pipe's first message.
    Bind { pipe: Box<Pipe>, send_routing_id: bool },
    /// A connection behind a pipe was re-established: resend state (subscriptions).
    Hiccup { pipe: PipeId },
    /// To a socket: a connecter gave up by itself (ZMQ_RECONNECT_STOP), so the endpoint is
    /// no longer connected (zmq_disconnect then says ENOENT, as in libzmq).
    EndpointGone { endpoint: String },
    /// The context is terminating: blocking calls end with ETERM (sockets), the loop ends
    /// (I/O threads).
    Stop,
    /// To an I/O thread: run this object (a listener, or a session that connects).
    Adopt(Box<dyn IoObject>),
    /// To an I/O thread: unbind / disconnect one endpoint of a socket.
    CloseEndpoint { socket_id: u64, endpoint: String, linger: i32 },
    /// To an I/O thread: the socket closed; finish its connections within `linger` ms.
    CloseSocket { socket_id: u64, linger: i32 },
}
