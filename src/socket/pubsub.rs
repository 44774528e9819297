//! PUB, XPUB, SUB and XSUB (RFC 29).
//!
//! Subscriptions travel upstream as messages: byte 1 (subscribe) or 0 (unsubscribe), then
//! the topic. SUB and XSUB keep a counted trie of their own subscriptions, send changes to
//! every publisher, and replay the whole trie to each new one. PUB and XPUB keep, per
//! prefix, the pipes subscribed to it and send each message to the pipes a prefix of it
//! matches. XPUB also hands (un)subscriptions to the application.

use super::dist::Dist;
use super::fq::FairQueue;
use super::mtrie::{MTrie, RmResult};
use super::pattern::Behaviour;
use super::pipes::{PipeIdx, Pipes};
use super::trie::Trie;
use crate::consts::*;
use crate::error::{err, Errno, ZResult};
use crate::msg::Msg;
use crate::pipe::PipeId;
use crate::socket::Options;
use std::collections::VecDeque;

/// Whether `msg` is a subscription (true) or an unsubscription (false). (ZMTP 3.1's
/// SUBSCRIBE and CANCEL commands reach sockets in this form too: the engine converts.)
fn sub_kind(msg: &Msg) -> Option<bool> {
    match msg.data().first() {
        Some(1) => Some(true),
        Some(0) => Some(false),
        _ => None,
    }
}

/// A subscription message in the form sent upstream and delivered by XPUB.
fn sub_msg(subscribe: bool, topic: &[u8]) -> Msg {
    let mut v = Vec::with_capacity(topic.len() + 1);
    v.push(subscribe as u8);
    v.extend_from_slice(topic);
    Msg::from_vec(v)
}

/// The options that hooks without `&Options` (read_activated, terminated, has_in) need,
/// copied from the socket's options whenever they change.
#[derive(Clone, Copy)]
struct Cfg {
    verbose_subs: bool,
    verbose_unsubs: bool,
    manual: bool,
    manual_last_value: bool,
    nodrop: bool,
    invert: bool,
    only_first: bool,
    xsub_verbose_unsubs: bool,
}

impl Cfg {
    fn of(o: &Options) -> Cfg {
        Cfg {
            verbose_subs: o.xpub_verbose,
            verbose_unsubs: o.xpub_verboser,
            manual: o.xpub_manual,
            manual_last_value: o.xpub_manual_last_value,
            nodrop: o.xpub_nodrop,
            invert: o.invert_matching,
            only_first: o.only_first_subscribe,
            xsub_verbose_unsubs: o.xsub_verbose_unsubscribe,
        }
    }
}

/// Where an XPUB message for the application came from, for XPUB_MANUAL.
enum Origin {
    /// Not a subscription: leaves the manual target alone.
    User,
    /// A subscription or unsubscription read from this pipe.
    Pipe(PipeId),
    /// An unsubscription made up for a pipe that went away.
    Gone,
}

struct Pending {
    msg: Msg,
    origin: Origin,
}

/// PUB and XPUB: fan out by subscription; XPUB also receives.
pub(crate) struct XPub {
    /// PUB: subscriptions are applied but never delivered, and nothing can be received.
    is_pub: bool,
    subs: MTrie,
    /// XPUB_MANUAL: what each pipe asked for, to unsubscribe on its behalf when it goes.
    manual_subs: MTrie,
    dist: Dist,
    cfg: Cfg,
    /// Messages for the application: (un)subscriptions and user messages from XSUBs.
    pending: VecDeque<Pending>,
    /// XPUB_MANUAL: the pipe of the last subscription the application received; its
    /// ZMQ_SUBSCRIBE/UNSUBSCRIBE apply to that pipe.
    last_pipe: Option<PipeIdx>,
    more_send: bool,
    more_recv: bool,
    /// Parts after the first of an incoming message may be subscriptions too
    /// (always, unless ZMQ_ONLY_FIRST_SUBSCRIBE and the first part was not one).
    process_subscribe: bool,
}

impl XPub {
    pub(crate) fn new(socket_type: i32) -> XPub {
        XPub {
            is_pub: socket_type == ZMQ_PUB,
            subs: MTrie::default(),
            manual_subs: MTrie::default(),
            dist: Dist::default(),
            cfg: Cfg::of(&Options::new(socket_type)),
            pending: VecDeque::new(),
            last_pipe: None,
            more_send: false,
            more_recv: false,
            process_subscribe: false,
        }
    }

    /// Reads everything a peer sent: subscriptions apply at once (so the next send sees
    /// them), messages for the application queue up.
    fn read_pipe(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        let pipe = pipes.at(idx);
        let id = pipe.id;
        while let Some(msg) = pipe.read() {
            self.process_in(idx, id, msg);
        }
        if pipe.is_drained() {
            pipes.mark_dead(idx);
        }
    }

    fn process_in(&mut self, idx: PipeIdx, id: PipeId, mut msg: Msg) {
        let first = !self.more_recv;
        self.more_recv = msg.more();
        let kind = if first || self.process_subscribe { sub_kind(&msg) } else { None };
        if first {
            self.process_subscribe = !self.cfg.only_first || kind.is_some();
        }
        let Some(subscribe) = kind else {
            if !self.is_pub {
                self.pending.push_back(Pending { msg, origin: Origin::User });
            }
            return;
        };
        let topic = &msg.data()[1..];
        let notify = if self.cfg.manual {
            // Applied only when the application says so; remembered for unsubscribing.
            if subscribe {
                self.manual_subs.add(topic, idx);
            } else {
                self.manual_subs.rm(topic, idx);
            }
            true
        } else if subscribe {
            self.subs.add(topic, idx) || self.cfg.verbose_subs
        } else {
            // As libzmq: an unsubscription nobody held is passed on too.
            self.subs.rm(topic, idx) != RmResult::ValuesRemain || self.cfg.verbose_unsubs
        };
        if !notify || self.is_pub {
            return;
        }
        // Delivered as a single part whatever came around it.
        msg.reset_flags(Msg::MORE);
        let origin = if self.cfg.manual { Origin::Pipe(id) } else { Origin::User };
        self.pending.push_back(Pending { msg, origin });
    }
}

impl Behaviour for XPub {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options) {
        self.cfg = Cfg::of(opts);
        self.dist.attach(idx);
        if !opts.xpub_welcome_msg.is_empty() {
            let pipe = pipes.at(idx);
            // A fresh pipe has room; if its peer is already gone the message goes too.
            let _ = pipe.write(Msg::from_slice(&opts.xpub_welcome_msg));
            pipe.flush();
        }
        // Subscriptions the peer made before we met are already queued.
        self.read_pipe(pipes, idx);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        let more = msg.more();
        if !self.more_send {
            // The first part picks the pipes; the rest of the message follows it.
            self.dist.unmatch();
            let dist = &mut self.dist;
            let target = self.last_pipe.filter(|_| self.cfg.manual && self.cfg.manual_last_value);
            if let Some(last) = target {
                // XPUB_MANUAL_LAST_VALUE: the first message after a manual subscription
                // goes to the new subscriber only.
                self.subs.match_pipes(msg.data(), |p| {
                    if p == last {
                        dist.match_pipe(p)
                    }
                });
                self.last_pipe = None;
            } else {
                self.subs.match_pipes(msg.data(), |p| dist.match_pipe(p));
            }
            if self.cfg.invert {
                self.dist.reverse_match();
            }
        }
        if self.cfg.nodrop && !self.dist.check_hwm(pipes) {
            return Err((Errno(libc::EAGAIN), msg));
        }
        self.dist.send_to_matching(pipes, msg);
        if !more {
            self.dist.unmatch();
        }
        self.more_send = more;
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        if self.is_pub {
            return err(libc::ENOTSUP);
        }
        let Some(p) = self.pending.pop_front() else {
            return err(libc::EAGAIN);
        };
        if self.cfg.manual {
            match p.origin {
                Origin::User => {}
                Origin::Gone => self.last_pipe = None,
                Origin::Pipe(id) => {
                    self.last_pipe = pipes.idx_of(id).filter(|&i| self.dist.has_pipe(i))
                }
            }
        }
        Ok(p.msg)
    }

    fn has_in(&mut self, _pipes: &mut Pipes) -> bool {
        !self.pending.is_empty()
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        // Never blocks: full pipes drop (or, with XPUB_NODROP, send says EAGAIN).
        true
    }

    fn read_activated(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        self.read_pipe(pipes, idx);
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.dist.activated(idx);
    }

    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        let (pending, is_pub) = (&mut self.pending, self.is_pub);
        let mut unsubscribe = |topic: &[u8], origin| {
            if !is_pub {
                pending.push_back(Pending { msg: sub_msg(false, topic), origin });
            }
        };
        if self.cfg.manual {
            // Every topic the peer asked for is given back, whatever was applied.
            let mut any = false;
            self.manual_subs.rm_pipe(idx, |topic, _| {
                unsubscribe(topic, Origin::Gone);
                any = true;
            });
            self.subs.rm_pipe(idx, |_, _| {});
            if any && !is_pub {
                self.last_pipe = None;
            }
        } else {
            let verbose = self.cfg.verbose_unsubs;
            self.subs.rm_pipe(idx, |topic, last| {
                if last || verbose {
                    unsubscribe(topic, Origin::User);
                }
            });
        }
        if self.last_pipe == Some(idx) {
            self.last_pipe = None;
        }
        self.dist.terminated(idx);
    }

    fn setsockopt(
        &mut self,
        _pipes: &mut Pipes,
        _opts: &Options,
        option: i32,
        value: &[u8],
    ) -> Option<ZResult<()>> {
        match option {
            // XPUB_MANUAL: apply to the pipe of the last subscription received.
            ZMQ_SUBSCRIBE | ZMQ_UNSUBSCRIBE if self.cfg.manual => {
                if let Some(p) = self.last_pipe {
                    if option == ZMQ_SUBSCRIBE {
                        self.subs.add(value, p);
                    } else {
                        self.subs.rm(value, p);
                    }
                }
                Some(Ok(()))
            }
            _ => None,
        }
    }

    fn getsockopt(&self, option: i32) -> Option<ZResult<i32>> {
        match option {
            ZMQ_TOPICS_COUNT => Some(Ok(self.subs.num_prefixes() as i32)),
            _ => None,
        }
    }

    fn options_changed(&mut self, opts: &Options) {
        self.cfg = Cfg::of(opts);
    }
}

/// SUB and XSUB: fair-queue in, filtered by subscription (SUB); XSUB also sends upstream.
pub(crate) struct XSub {
    /// SUB: drops messages no subscription matches, cannot send, subscribes by option.
    is_sub: bool,
    fq: FairQueue,
    dist: Dist,
    subs: Trie,
    cfg: Cfg,
    /// A message has_in read ahead to learn whether one passes the filter.
    prefetched: Option<Msg>,
    more_recv: bool,
    more_send: bool,
    /// Parts after the first of an outgoing message may be subscriptions too.
    process_subscribe: bool,
}

impl XSub {
    pub(crate) fn new(socket_type: i32) -> XSub {
        XSub {
            is_sub: socket_type == ZMQ_SUB,
            fq: FairQueue::default(),
            dist: Dist::default(),
            subs: Trie::default(),
            cfg: Cfg::of(&Options::new(socket_type)),
            prefetched: None,
            more_recv: false,
            more_send: false,
            process_subscribe: false,
        }
    }

    /// Whether a first part passes SUB's filter.
    fn matches(&self, msg: &Msg) -> bool {
        self.subs.check(msg.data()) != self.cfg.invert
    }

    /// Tells a publisher every current subscription, once each.
    fn send_all_subs(&self, pipes: &mut Pipes, idx: PipeIdx) {
        let pipe = pipes.at(idx);
        self.subs.apply(|topic| {
            // Beyond the HWM a subscription is dropped, as ZMQ_SUBSCRIBE's would be.
            let _ = pipe.write(sub_msg(true, topic));
        });
        pipe.flush();
    }

    /// Drops the rest of a filtered-out message (its parts are all queued already).
    fn skip_rest(&mut self, pipes: &mut Pipes, mut more: bool) {
        while more {
            match self.fq.recv(pipes) {
                Ok((m, _)) => more = m.more(),
                Err(_) => break,
            }
        }
    }
}

impl Behaviour for XSub {
    fn attach(&mut self, pipes: &mut Pipes, idx: PipeIdx, opts: &Options) {
        self.cfg = Cfg::of(opts);
        self.fq.attach(idx);
        self.dist.attach(idx);
        self.send_all_subs(pipes, idx);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg, _opts: &Options) -> Result<(), (Errno, Msg)> {
        if self.is_sub {
            return Err((Errno(libc::ENOTSUP), msg));
        }
        let first = !self.more_send;
        self.more_send = msg.more();
        if first {
            self.process_subscribe = !self.cfg.only_first;
        } else if !self.process_subscribe {
            self.dist.send_to_all(pipes, msg);
            return Ok(());
        }
        match sub_kind(&msg) {
            Some(true) => {
                // Duplicates go upstream too: XPUB decides what is new (and
                // XPUB_VERBOSE behind a proxy needs them).
                self.subs.add(&msg.data()[1..]);
                self.process_subscribe = true;
                self.dist.send_to_all(pipes, msg);
            }
            Some(false) => {
                self.process_subscribe = true;
                // Upstream hears of it only when the last of our subscriptions goes. (As
                // libzmq: dropping the last part of a multipart message leaves the message
                // open, to be completed by the next one.)
                if self.subs.rm(&msg.data()[1..]) || self.cfg.xsub_verbose_unsubs {
                    self.dist.send_to_all(pipes, msg);
                }
            }
            // Anything else goes upstream as it is.
            None => self.dist.send_to_all(pipes, msg),
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> ZResult<Msg> {
        if let Some(m) = self.prefetched.take() {
            self.more_recv = m.more();
            return Ok(m);
        }
        loop {
            let (msg, _) = self.fq.recv(pipes)?;
            // The first part decides for the whole message.
            if self.more_recv || !self.is_sub || self.matches(&msg) {
                self.more_recv = msg.more();
                return Ok(msg);
            }
            self.skip_rest(pipes, msg.more());
        }
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.more_recv || self.prefetched.is_some() {
            return true;
        }
        if !self.is_sub {
            return self.fq.has_in(pipes);
        }
        // Only a message that passes the filter counts: read ahead until one does.
        while let Ok((msg, _)) = self.fq.recv(pipes) {
            if self.matches(&msg) {
                self.prefetched = Some(msg);
                return true;
            }
            self.skip_rest(pipes, msg.more());
        }
        false
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        // XSUB never blocks sending (full pipes drop); SUB cannot send.
        !self.is_sub
    }

    fn read_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.activated(idx);
    }

    fn write_activated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.dist.activated(idx);
    }

    fn hiccuped(&mut self, pipes: &mut Pipes, idx: PipeIdx) {
        // Reconnected: the new peer behind the pipe knows none of our subscriptions.
        self.send_all_subs(pipes, idx);
    }

    fn terminated(&mut self, _pipes: &mut Pipes, idx: PipeIdx) {
        self.fq.terminated(idx);
        self.dist.terminated(idx);
    }

    fn setsockopt(
        &mut self,
        pipes: &mut Pipes,
        _opts: &Options,
        option: i32,
        value: &[u8],
    ) -> Option<ZResult<()>> {
        match option {
            ZMQ_SUBSCRIBE if self.is_sub => {
                self.subs.add(value);
                self.dist.send_to_all(pipes, sub_msg(true, value));
                Some(Ok(()))
            }
            ZMQ_UNSUBSCRIBE if self.is_sub => {
                // Upstream hears of it only when the last of our subscriptions goes.
                if self.subs.rm(value) {
                    self.dist.send_to_all(pipes, sub_msg(false, value));
                }
                Some(Ok(()))
            }
            _ => None,
        }
    }

    fn getsockopt(&self, option: i32) -> Option<ZResult<i32>> {
        match option {
            ZMQ_TOPICS_COUNT => Some(Ok(self.subs.num_prefixes() as i32)),
            _ => None,
        }
    }

    fn options_changed(&mut self, opts: &Options) {
        self.cfg = Cfg::of(opts);
    }
}
