//! Commands between sockets, sessions and I/O threads, carried by mailboxes.

use crate::pipe::{Pipe, PipeId};

pub(crate) enum Command {
    /// The peer flushed messages into a pipe we had found empty.
    ActivateRead { pipe: PipeId },
    /// The peer read enough of a pipe that had hit its HWM for us to write again.
    ActivateWrite { pipe: PipeId },
    /// The peer closed its end of a pipe.
    PipeTerm { pipe: PipeId },
    /// A new pipe for a bound socket (inproc connect): attach it. `send_routing_id` says
    /// whether the connecting side wants our routing id as the pipe's first message.
    Bind { pipe: Box<Pipe>, send_routing_id: bool, peer_type: i32 },
    /// The context is terminating: blocking calls end with ETERM.
    Stop,
}
