//! inproc://: a pipe pair straight between two sockets of one context, no I/O thread.
//!
//! Connecting before the bind works: the connector gets its end at once (so it can queue
//! messages), and the binder's end waits in the context until the name is bound.

use crate::ctx::{Ctx, InprocPeer, PendingInproc};
use crate::error::ZResult;
use crate::io::mailbox::Mailbox;
use crate::msg::Msg;
use crate::options::{recv_routing_id, sends_hello_msg, Options};
use crate::pipe::{pipe_pair, Pipe};
use std::sync::Arc;

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

/// How a socket presents itself to inproc peers.
pub(crate) fn peer_info(socket_id: u64, mailbox: &Arc<Mailbox>, opts: &Options) -> InprocPeer {
    InprocPeer {
        mailbox: mailbox.clone(),
        socket_id,
        socket_type: opts.socket_type,
        sndhwm: opts.sndhwm,
        rcvhwm: opts.rcvhwm,
        conflate: effective_conflate(opts),
        routing_id: opts.routing_id.clone(),
        hello_msg: if sends_hello_msg(opts.socket_type) {
            opts.hello_msg.clone()
        } else {
            Vec::new()
        },
    }
}

/// ZMQ_HELLO_MSG into a new pipe, after any routing id (libzmq greets inproc peers too).
fn send_hello(pipe: &mut Pipe, hello: &[u8]) {
    if !hello.is_empty() {
        let _ = pipe.write(Msg::from_slice(hello));
        pipe.flush();
    }
}

/// Connects `me` to the inproc `name`, bound or not yet: gives the connector's end of the
/// new pipe (the binder's end goes to the binder, or waits in the context for the bind).
pub(crate) fn connect(ctx: &Ctx, me: InprocPeer, opts: &Options, name: &str) -> ZResult<Pipe> {
    let routing_id = routing_id_msg(opts);
    ctx.inproc_connect(name, me, |me, bound| {
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
        } else if let Some(b) = bound {
            mine.set_hwm_boost((me.sndhwm, me.rcvhwm), (b.sndhwm, b.rcvhwm));
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
            send_hello(&mut theirs, &b.hello_msg);
        }
        // Written before the binder can see the pipe. Unknown binder: always introduce
        // ourselves; it drops the message if it does not route by identity.
        if bound.is_none_or(|b| recv_routing_id(b.socket_type)) {
            let _ = mine.write(routing_id);
            mine.flush();
        }
        send_hello(&mut mine, &me.hello_msg);
        (mine, theirs)
    })
}

/// Connects `me` to `name` only if something is bound there now, as libzmq's ZAP client
/// does (no handler: None, and nothing waits for a later bind).
pub(crate) fn connect_bound(ctx: &Ctx, me: InprocPeer, opts: &Options, name: &str) -> Option<Pipe> {
    if !ctx.inproc_is_bound(name) {
        return None;
    }
    connect(ctx, me, opts, name).ok()
}

/// At bind time: readies a pipe a socket connected before the name existed, for the binder
/// with options `opts`. Gives the pipe and whether the connector wants our routing id.
pub(crate) fn accept_pending(opts: &Options, p: PendingInproc) -> (Pipe, bool) {
    let PendingInproc { connector, mut pipe } = p;
    if connector.conflate || effective_conflate(opts) {
        pipe.set_conflate();
    }
    if !connector.conflate && !effective_conflate(opts) {
        pipe.set_out_hwm(hwm_sum(opts.sndhwm, connector.rcvhwm));
        pipe.set_in_hwm(hwm_sum(connector.sndhwm, opts.rcvhwm));
        pipe.set_hwm_boost((opts.sndhwm, opts.rcvhwm), (connector.sndhwm, connector.rcvhwm));
    }
    if !recv_routing_id(opts.socket_type) {
        // The connector's introduction, which we do not want.
        let _ = pipe.read();
    }
    // Our introduction, then our greeting, in that order.
    if recv_routing_id(connector.socket_type) {
        let _ = pipe.write(routing_id_msg(opts));
        pipe.flush();
    }
    if sends_hello_msg(opts.socket_type) {
        send_hello(&mut pipe, &opts.hello_msg);
    }
    (pipe, false)
}
