//! inproc://: a pipe pair straight between two sockets of one context, no I/O thread.
//!
//! Connecting before the bind works: the connector gets its end at once (so it can queue
//! messages), and the binder's end waits in the context until the name is bound.

use crate::ctx::{InprocPeer, PendingInproc};
use crate::error::ZResult;
use crate::io::command::Command;
use crate::msg::Msg;
use crate::pipe::{pipe_pair, Pipe};
use crate::socket::pattern::recv_routing_id;
use crate::socket::Options;
use crate::socket::Socket;

/// HWM of a direction: the writer's SNDHWM plus the reader's RCVHWM, 0 (no limit) if
/// either is unlimited, as libzmq does for inproc.
fn hwm_sum(sndhwm: i32, rcvhwm: i32) -> usize {
    if sndhwm > 0 && rcvhwm > 0 {
        (sndhwm as usize) + (rcvhwm as usize)
    } else {
        0
    }
}

/// The message that introduces a socket to a peer that routes by identity.
fn routing_id_msg(opts: &Options) -> Msg {
    let mut id = Msg::from_slice(&opts.routing_id);
    id.set_flags(Msg::ROUTING_ID);
    id
}

/// ZMQ_CONFLATE only applies to the socket types whose queues can be conflated.
fn effective_conflate(opts: &Options) -> bool {
    use crate::consts::*;
    opts.conflate
        && matches!(opts.socket_type, ZMQ_DEALER | ZMQ_PULL | ZMQ_PUSH | ZMQ_PUB | ZMQ_SUB)
}

pub(crate) fn peer_info(s: &Socket) -> InprocPeer {
    InprocPeer {
        mailbox: s.mailbox.clone(),
        socket_id: s.id,
        socket_type: s.socket_type(),
        sndhwm: s.opts.sndhwm,
        rcvhwm: s.opts.rcvhwm,
        conflate: effective_conflate(&s.opts),
        routing_id: s.opts.routing_id.clone(),
    }
}

pub(crate) fn connect(s: &mut Socket, name: &str) -> ZResult<()> {
    let me = peer_info(s);
    let routing_id = routing_id_msg(&s.opts);
    let pipe = s.ctx.clone().inproc_connect(name, me, |me, bound| {
        let (mut mine, theirs) = match bound {
            Some(b) => pipe_pair(
                Some(me.mailbox.clone()),
                Some(b.mailbox.clone()),
                hwm_sum(me.sndhwm, b.rcvhwm),
                hwm_sum(b.sndhwm, me.rcvhwm),
            ),
            None => pipe_pair(
                Some(me.mailbox.clone()),
                None,
                me.sndhwm.max(0) as usize,
                me.rcvhwm.max(0) as usize,
            ),
        };
        if me.conflate || bound.is_some_and(|b| b.conflate) {
            mine.set_conflate();
        }
        // The binder introduces itself now, as libzmq does, so a connecting ROUTER can
        // route to it straight away (the binder's end is not in use yet).
        let mut theirs = theirs;
        if let Some(b) = bound {
            if recv_routing_id(me.socket_type) {
                let mut id = Msg::from_slice(&b.routing_id);
                id.set_flags(Msg::ROUTING_ID);
                let _ = theirs.write(id);
                theirs.flush();
            }
        }
        // Written before the binder can see the pipe. Unknown binder: always introduce
        // ourselves; it drops the message if it does not route by identity.
        if bound.is_none_or(|b| recv_routing_id(b.socket_type)) {
            let _ = mine.write(routing_id);
            mine.flush();
        }
        (mine, theirs)
    })?;
    s.attach_pipe(pipe, false, Some(name.to_string()));
    Ok(())
}

/// Sends the binder its end of a fresh pipe (called with the context's inproc lock held).
pub(crate) fn send_bind(bound: &InprocPeer, pipe: Pipe) {
    bound.mailbox.send(Command::Bind {
        pipe: Box::new(pipe),
        // Already written by the connector (see connect).
        send_routing_id: false,
    });
}

/// At bind time: adopts a pipe a socket connected before the name existed.
pub(crate) fn accept_pending(s: &mut Socket, p: PendingInproc, name: &str) {
    let PendingInproc { connector, mut pipe } = p;
    if connector.conflate || effective_conflate(&s.opts) {
        pipe.set_conflate();
    }
    if !connector.conflate && !effective_conflate(&s.opts) {
        pipe.set_out_hwm(hwm_sum(s.opts.sndhwm, connector.rcvhwm));
        pipe.set_in_hwm(hwm_sum(connector.sndhwm, s.opts.rcvhwm));
    }
    if !recv_routing_id(s.socket_type()) {
        // The connector's introduction, which we do not want.
        let _ = pipe.read();
    }
    s.attach_pipe(pipe, recv_routing_id(connector.socket_type), Some(name.to_string()));
}
