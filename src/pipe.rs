//! A pipe: two ypipes (one per direction) between two endpoints (socket or session), with
//! high-water marks counted in whole messages and the activation protocol that wakes a
//! sleeping reader or a writer blocked at its HWM through the peer's mailbox.
//!
//! Each endpoint owns one `Pipe`. Writing publishes a whole (multipart) message at once, so a
//! reader never sees half of one; termination marks the direction closed and tells the peer.

use crate::msg::Msg;
use crate::sync::{fence, AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use crate::ypipe::{ypipe, Reader, Writer};
use parking_lot::Mutex;
use std::os::fd::RawFd;
use std::sync::{Arc, Weak};

pub(crate) type PipeId = u64;

/// A map keyed by pipe id. Ids come from one counter, not from peers, so SipHash's flood
/// resistance buys nothing here, while every command and activation pays for a lookup.
pub(crate) type PipeMap<V> = IdMap<PipeId, V>;

/// Fibonacci hashing of a pipe id: one multiply spreads sequential ids over the high
/// bits the hash table's control bytes use, and keeps them distinct in the low bits.
#[derive(Default)]
pub(crate) struct PipeIdHasher(u64);

impl std::hash::Hasher for PipeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached for u64 keys; any other key still hashes every byte.
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = (self.0 ^ id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_u32(&mut self, id: u32) {
        self.write_u64(u64::from(id));
    }

    fn write_usize(&mut self, id: usize) {
        self.write_u64(id as u64);
    }
}

/// A map keyed by a number this process hands out itself (a pipe index, a SERVER's
/// routing id): no key comes from a peer, so no flood resistance is needed either.
pub(crate) type IdMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<PipeIdHasher>>;

/// A plain std atomic even under loom: ids are not part of any protocol being modelled.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// State one direction's writer and reader share besides the queue. Each side's counter
/// sits on cache lines of its own: the read-mostly fields both sides look at on every
/// message must not bounce between the cores with either of them.
#[repr(C, align(128))]
struct Dir {
    /// Whole messages the reader has consumed, published every `lwm` messages.
    msgs_read: AtomicU64,
    _pad: [u8; 120],
    /// Whole messages the writer has flushed (for zmq_socket_monitor_pipes_stats), stored
    /// on every flush.
    msgs_flushed: AtomicU64,
    _pad2: [u8; 120],
    /// Set by a writer that found the pipe full; the reader clears it and wakes it.
    writer_asleep: AtomicBool,
    /// Capacity in whole messages (0: unlimited) and the batch for read notifications.
    hwm: AtomicUsize,
    lwm: AtomicUsize,
    /// The writer is gone and wants unread messages dropped (linger 0).
    discard: AtomicBool,
    /// The writer terminated its end (seen by a reader that attaches late).
    closed: AtomicBool,
    /// ZMQ_CONFLATE: the reader keeps only the newest message; no HWM applies.
    conflate: AtomicBool,
    /// inproc: the writer's SNDHWM and the reader's RCVHWM when the pipe was made (-1: not
    /// inproc). libzmq adds them to HWMs set later ("HWM boost"), see `Pipe::set_hwms`.
    boost_snd: AtomicI32,
    boost_rcv: AtomicI32,
}

impl Dir {
    fn new(hwm: usize) -> Arc<Dir> {
        let d = Arc::new(Dir {
            msgs_read: AtomicU64::new(0),
            _pad: [0; 120],
            msgs_flushed: AtomicU64::new(0),
            _pad2: [0; 120],
            writer_asleep: AtomicBool::new(false),
            hwm: AtomicUsize::new(0),
            lwm: AtomicUsize::new(1),
            discard: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            conflate: AtomicBool::new(false),
            boost_snd: AtomicI32::new(-1),
            boost_rcv: AtomicI32::new(-1),
        });
        d.set_hwm(hwm);
        d
    }

    fn set_hwm(&self, hwm: usize) {
        self.set_hwm_lwm(hwm, hwm);
    }

    /// The writer's limit, and the read-notification batch derived from `lwm_of`.
    fn set_hwm_lwm(&self, hwm: usize, lwm_of: usize) {
        // As libzmq: notify at half the HWM for small ones, 1024 short of it for big ones.
        let lwm = if lwm_of > 2048 { lwm_of - 1024 } else { lwm_of.div_ceil(2) };
        self.hwm.store(hwm, Ordering::Relaxed);
        self.lwm.store(lwm.max(1), Ordering::Relaxed);
    }
}

/// libzmq's HWM of a pipe whose option changed to `hwm` with `boost` (the other side's
/// value when the pipe was made, -1 for none): unlimited if either is 0, else their sum.
fn boosted(hwm: i32, boost: i32) -> usize {
    if hwm <= 0 || boost == 0 {
        0
    } else {
        hwm as usize + boost.max(0) as usize
    }
}

/// What a pipe tells the owner of its other end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PipeEvent {
    /// Messages were flushed into a pipe the reader had found empty.
    ActivateRead(PipeId),
    /// The reader drained a pipe whose writer had hit the HWM.
    ActivateWrite(PipeId),
    /// The other end terminated.
    Term(PipeId),
}

/// The owner of a pipe end (its mailbox): where the peer's events go. The pipe knows
/// nothing about mailboxes or commands beyond this.
pub(crate) trait PipeEvents: Send + Sync {
    fn pipe_event(&self, ev: PipeEvent);

    /// The reader of `pipe`'s peer is about to sleep until messages arrive: a descriptor it
    /// may wait on as well, after which it calls `release_input` (see `session::direct`:
    /// the reader's thread then reads the connection itself). None: wait for the event.
    fn claim_input(&self, _pipe: PipeId) -> Option<RawFd> {
        None
    }

    /// Ends what `claim_input` began, on the reader's thread (`readable`: the descriptor
    /// said so). True if what was read woke the reader, which then runs its ActivateRead
    /// itself.
    fn release_input(&self, _readable: bool) -> bool {
        false
    }
}

/// Where an endpoint's events go. Shared so a pipe created before its peer exists
/// (inproc connect before bind) learns the peer's owner when the peer attaches. Held
/// weakly: a pipe waiting in its owner's mailbox (an unprocessed Bind) must not keep that
/// mailbox alive, or neither would ever be freed.
#[derive(Default)]
pub(crate) struct MailboxCell(Mutex<Option<Weak<dyn PipeEvents>>>);

impl MailboxCell {
    fn new(owner: Option<Arc<dyn PipeEvents>>) -> MailboxCell {
        MailboxCell(Mutex::new(owner.as_ref().map(Arc::downgrade)))
    }

    fn send(&self, ev: PipeEvent) {
        // Taken out so the command is queued without holding this lock; an owner that is
        // gone has nobody to tell.
        let mb = self.0.lock().as_ref().and_then(Weak::upgrade);
        if let Some(mb) = mb {
            mb.pipe_event(ev);
        }
    }
}

/// Who is at the other end of a pipe, for commands.
struct PeerRef {
    mailbox: Arc<MailboxCell>,
    id: PipeId,
}

/// One endpoint's half of a pipe pair.
pub(crate) struct Pipe {
    pub id: PipeId,
    /// Our own mailbox cell, which the peer's commands use.
    own: Arc<MailboxCell>,
    out: Writer<Msg>,
    out_dir: Arc<Dir>,
    inp: Reader<Msg>,
    in_dir: Arc<Dir>,
    peer: PeerRef,
    msgs_written: u64,
    msgs_read: u64,
    /// Whole messages read since we last told the writer (`publish_reads`).
    reads_unpublished: u64,
    /// False once a read found nothing; set again by ActivateRead.
    in_active: bool,
    /// False once a write hit the HWM; set again by ActivateWrite.
    out_active: bool,
    /// The peer terminated its end: no more writes; read what is left, then finish.
    peer_gone: bool,
    /// We terminated our end.
    closed: bool,
    /// The peer's routing id (ROUTER, STREAM...) and our integer id for it.
    pub routing_id: Vec<u8>,
    /// The endpoint string this pipe was created for (for disconnect/unbind).
    pub endpoint: Option<String>,
    /// A multipart message is partly read / written.
    reading_more: bool,
    writing_more: bool,
}

/// Creates a connected pair. `hwm_ab` bounds messages from `a` to `b`, `hwm_ba` the reverse
/// (0: unlimited). A side whose owner is not known yet gets its mailbox in `attach_to`.
pub(crate) fn pipe_pair(
    a_mailbox: Option<Arc<dyn PipeEvents>>,
    b_mailbox: Option<Arc<dyn PipeEvents>>,
    hwm_ab: usize,
    hwm_ba: usize,
) -> (Pipe, Pipe) {
    let id_a = NEXT_ID.fetch_add(2, Ordering::Relaxed);
    let id_b = id_a + 1;
    let cell_a = Arc::new(MailboxCell::new(a_mailbox));
    let cell_b = Arc::new(MailboxCell::new(b_mailbox));
    let (w_ab, r_ab) = ypipe();
    let (w_ba, r_ba) = ypipe();
    let d_ab = Dir::new(hwm_ab);
    let d_ba = Dir::new(hwm_ba);
    let a = Pipe::new(
        id_a,
        cell_a.clone(),
        (w_ab, d_ab.clone()),
        (r_ba, d_ba.clone()),
        PeerRef { mailbox: cell_b.clone(), id: id_b },
    );
    let b =
        Pipe::new(id_b, cell_b, (w_ba, d_ba), (r_ab, d_ab), PeerRef { mailbox: cell_a, id: id_a });
    (a, b)
}

impl Pipe {
    fn new(
        id: PipeId,
        own: Arc<MailboxCell>,
        (out, out_dir): (Writer<Msg>, Arc<Dir>),
        (inp, in_dir): (Reader<Msg>, Arc<Dir>),
        peer: PeerRef,
    ) -> Pipe {
        Pipe {
            id,
            own,
            out,
            out_dir,
            inp,
            in_dir,
            peer,
            msgs_written: 0,
            msgs_read: 0,
            reads_unpublished: 0,
            in_active: true,
            out_active: true,
            peer_gone: false,
            closed: false,
            routing_id: Vec::new(),
            endpoint: None,
            reading_more: false,
            writing_more: false,
        }
    }

    /// Makes `mailbox` the destination of the peer's commands for this end (its owner).
    pub(crate) fn attach_to(&self, mailbox: Arc<dyn PipeEvents>) {
        *self.own.0.lock() = Some(Arc::downgrade(&mailbox));
    }

    /// The owner of the other end (None once it is gone, or before it attached).
    pub(crate) fn peer_owner(&self) -> Option<Arc<dyn PipeEvents>> {
        self.peer.mailbox.0.lock().as_ref().and_then(Weak::upgrade)
    }

    pub(crate) fn peer_id(&self) -> PipeId {
        self.peer.id
    }

    /// Changes this end's outbound capacity (e.g. when the binder learns both HWMs).
    pub(crate) fn set_out_hwm(&mut self, hwm: usize) {
        self.out_dir.set_hwm(hwm);
    }

    /// Changes the capacity of the direction we read (when the binder learns both HWMs).
    pub(crate) fn set_in_hwm(&mut self, hwm: usize) {
        self.in_dir.set_hwm(hwm);
    }

    /// inproc: remembers the HWMs both sockets had when the pipe was made, as libzmq does,
    /// for `set_hwms` later. Our SNDHWM and the peer's RCVHWM bound the way out, the peer's
    /// SNDHWM and our RCVHWM the way in.
    pub(crate) fn set_hwm_boost(&mut self, own: (i32, i32), peer: (i32, i32)) {
        self.out_dir.boost_snd.store(own.0, Ordering::Relaxed);
        self.out_dir.boost_rcv.store(peer.1, Ordering::Relaxed);
        self.in_dir.boost_snd.store(peer.0, Ordering::Relaxed);
        self.in_dir.boost_rcv.store(own.1, Ordering::Relaxed);
    }

    /// ZMQ_SNDHWM/ZMQ_RCVHWM changed on a live pipe: what libzmq 4.3's `set_hwms` plus
    /// `send_hwms_to_peer` give. Each limit (and read batch) is the new value plus the
    /// connect-time boost (inproc), unlimited if either is 0. A writer already stopped at
    /// its HWM stays stopped until the reader catches up, as in libzmq.
    pub(crate) fn set_hwms(&mut self, sndhwm: i32, rcvhwm: i32) {
        if self.out_dir.conflate.load(Ordering::Relaxed) {
            return;
        }
        let d = &self.out_dir;
        d.set_hwm_lwm(
            boosted(sndhwm, d.boost_rcv.load(Ordering::Relaxed)),
            boosted(sndhwm, d.boost_snd.load(Ordering::Relaxed)),
        );
        let d = &self.in_dir;
        d.set_hwm_lwm(
            boosted(rcvhwm, d.boost_rcv.load(Ordering::Relaxed)),
            boosted(rcvhwm, d.boost_snd.load(Ordering::Relaxed)),
        );
    }

    /// ZMQ_CONFLATE for both directions: only the newest message is kept.
    pub(crate) fn set_conflate(&mut self) {
        for d in [&self.in_dir, &self.out_dir] {
            d.conflate.store(true, Ordering::Relaxed);
            d.set_hwm(0);
        }
    }

    /// True if a message (or the next part of one) can be read now.
    #[inline]
    pub(crate) fn check_read(&mut self) -> bool {
        if !self.in_active {
            return false;
        }
        if self.inp.check_read() {
            return true;
        }
        self.ran_dry();
        false
    }

    /// check_read found nothing: inactive until ActivateRead; tell the writer how far we got.
    // Out of line, as every rare branch here: the message path is then small enough to
    // inline into the patterns.
    #[cold]
    #[inline(never)]
    fn ran_dry(&mut self) {
        self.in_active = false;
        self.publish_reads();
    }

    /// Reads one part. None when nothing is ready (the pipe is then inactive until the
    /// peer's ActivateRead).
    #[inline]
    pub(crate) fn read(&mut self) -> Option<Msg> {
        if !self.check_read() {
            return None;
        }
        let mut msg = self.inp.read()?;
        if self.in_dir.conflate.load(Ordering::Relaxed) {
            msg = self.newest(msg);
        }
        self.reading_more = msg.more();
        // A routing id is not counted against the HWM (libzmq neither), so an inproc
        // connector's introduction does not take a slot of its SNDHWM.
        if !msg.more() && msg.flags() & Msg::ROUTING_ID == 0 {
            self.msgs_read += 1;
            // A count since the last report rather than msgs_read % lwm: no division per
            // message, and a report made because the pipe ran dry restarts the batch.
            self.reads_unpublished += 1;
            if self.reads_unpublished >= self.in_dir.lwm.load(Ordering::Relaxed) as u64 {
                self.publish_reads();
            }
        }
        Some(msg)
    }

    /// ZMQ_CONFLATE: older messages are superseded by the newest one queued.
    #[cold]
    #[inline(never)]
    fn newest(&mut self, mut msg: Msg) -> Msg {
        while let Some(newer) = self.inp.read() {
            msg = newer;
        }
        msg
    }

    /// Tells the writer how far we have read, and wakes it if it sleeps at its HWM.
    #[inline(never)]
    fn publish_reads(&mut self) {
        self.reads_unpublished = 0;
        if self.in_dir.hwm.load(Ordering::Relaxed) == 0 {
            return;
        }
        // Store our count, then look at the writer's flag; the writer does the mirror image
        // (check_write). The SeqCst fences between each store and load make sure at least
        // one of the two sees the other's store, so a writer at its HWM is never left
        // asleep. (SeqCst loads and stores alone promise that too, but only fences say it in
        // the terms loom checks.)
        self.in_dir.msgs_read.store(self.msgs_read, Ordering::Release);
        fence(Ordering::SeqCst);
        if self.in_dir.writer_asleep.load(Ordering::Relaxed)
            && self.in_dir.writer_asleep.swap(false, Ordering::AcqRel)
            && !self.peer_gone
        {
            self.peer.mailbox.send(PipeEvent::ActivateWrite(self.peer.id));
        }
    }

    /// True if a message can be written without exceeding the HWM.
    #[inline]
    pub(crate) fn check_write(&mut self) -> bool {
        if !self.out_active || self.peer_gone || self.closed {
            return false;
        }
        if self.writing_more {
            return true;
        }
        let hwm = self.out_dir.hwm.load(Ordering::Relaxed) as u64;
        if hwm == 0 || self.msgs_written - self.out_dir.msgs_read.load(Ordering::Acquire) < hwm {
            return true;
        }
        self.check_write_full(hwm)
    }

    /// check_write at the HWM: sleep unless the reader caught up meanwhile.
    #[cold]
    #[inline(never)]
    fn check_write_full(&mut self, hwm: u64) -> bool {
        // The mirror image of publish_reads: flag, fence, then look at the reader's count.
        self.out_dir.writer_asleep.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if self.msgs_written - self.out_dir.msgs_read.load(Ordering::Acquire) < hwm {
            // The reader caught up meanwhile; if it already cleared the flag a spurious
            // ActivateWrite may follow, which is harmless.
            self.out_dir.writer_asleep.store(false, Ordering::Relaxed);
            return true;
        }
        self.out_active = false;
        false
    }

    /// Writes one part, or gives it back if the pipe is full or closed.
    #[inline]
    pub(crate) fn write(&mut self, msg: Msg) -> Result<(), Msg> {
        if !self.check_write() {
            return Err(msg);
        }
        self.write_checked(msg);
        Ok(())
    }

    /// Writes one part after `check_write` said yes (nothing since has written to this
    /// pipe). The message moves straight into the queue: a caller that checks first does
    /// not copy it in and out of a `Result` on the way.
    #[inline]
    pub(crate) fn write_checked(&mut self, msg: Msg) {
        debug_assert!(self.check_write());
        let more = msg.more();
        let counted = !more && msg.flags() & Msg::ROUTING_ID == 0;
        self.out.write(msg);
        self.writing_more = more;
        if counted {
            self.msgs_written += 1;
        }
    }

    /// Publishes what was written; wakes the peer if it was asleep on this pipe.
    #[inline]
    pub(crate) fn flush(&mut self) {
        if self.flush_quiet() {
            self.peer.mailbox.send(PipeEvent::ActivateRead(self.peer.id));
        }
    }

    /// `flush` by a writer on the reader's own thread: true if the reader was asleep on
    /// the pipe, which it then activates itself rather than through its mailbox.
    #[inline]
    pub(crate) fn flush_quiet(&mut self) -> bool {
        // One relaxed store per batch, for pipe statistics.
        self.out_dir.msgs_flushed.store(self.msgs_written, Ordering::Relaxed);
        !self.out.flush() && !self.peer_gone
    }

    /// Messages queued (outbound: written by us, not yet read by the peer, as far as its
    /// last report; inbound: flushed by the peer, not yet read by us), as libzmq's pipe
    /// statistics count them.
    pub(crate) fn queued(&self) -> (u64, u64) {
        let out = self.msgs_written.saturating_sub(self.out_dir.msgs_read.load(Ordering::Acquire));
        let inb = self.in_dir.msgs_flushed.load(Ordering::Relaxed).saturating_sub(self.msgs_read);
        (out, inb)
    }

    /// Handles the peer's ActivateRead.
    pub(crate) fn activate_read(&mut self) -> bool {
        let was = self.in_active;
        self.in_active = true;
        !was
    }

    /// Handles the peer's ActivateWrite.
    pub(crate) fn activate_write(&mut self) -> bool {
        let was = self.out_active;
        self.out_active = !self.peer_gone && !self.closed;
        !was && self.out_active
    }

    /// Handles the peer's PipeTerm. Returns true if the pipe is finished now (nothing left
    /// to read, or the peer asked for its messages to be dropped).
    pub(crate) fn peer_terminated(&mut self) -> bool {
        self.peer_gone = true;
        self.out_active = false;
        // Re-check the queue: every message the peer sent was flushed before its PipeTerm.
        self.in_active = true;
        self.in_dir.discard.load(Ordering::Acquire) || self.inp.pending() == 0
    }

    /// True once the peer is gone and everything it sent has been read.
    pub(crate) fn is_drained(&self) -> bool {
        self.peer_gone && (self.inp.pending() == 0 || self.in_dir.discard.load(Ordering::Acquire))
    }

    /// The peer terminated before we attached (its PipeTerm went nowhere).
    pub(crate) fn peer_closed_early(&self) -> bool {
        self.in_dir.closed.load(Ordering::Acquire)
    }

    pub(crate) fn peer_gone(&self) -> bool {
        self.peer_gone
    }

    /// Closes our end: the peer may still read what we flushed unless `discard`, and is told
    /// with a PipeTerm command. Idempotent.
    pub(crate) fn terminate(&mut self, discard: bool) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.out_active = false;
        if discard {
            self.out_dir.discard.store(true, Ordering::Release);
        }
        self.out_dir.closed.store(true, Ordering::Release);
        // Never leave half a multipart message visible; unflushed parts die with the queue.
        if !self.peer_gone {
            self.peer.mailbox.send(PipeEvent::Term(self.peer.id));
        }
    }
}

/// Model checks (`make loom`) of the HWM and activation flags: a writer that stops at the
/// HWM and sleeps until ActivateWrite, a reader that sleeps until ActivateRead.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    /// An end's owner: collects the peer's events and wakes its thread (the mailbox is
    /// modelled on its own in io::mailbox).
    struct Inbox {
        events: crate::sync::Mutex<Vec<PipeEvent>>,
        ready: loom::sync::Notify,
    }

    impl Inbox {
        fn new() -> Inbox {
            Inbox { events: crate::sync::Mutex::new(Vec::new()), ready: loom::sync::Notify::new() }
        }
    }

    impl PipeEvents for Inbox {
        fn pipe_event(&self, ev: PipeEvent) {
            self.events.lock().push(ev);
            self.ready.notify();
        }
    }

    /// Sleeps until the peer's events arrive, then applies its activations.
    fn wait_for_peer(inbox: &Inbox, pipe: &mut Pipe) {
        loop {
            let events = std::mem::take(&mut *inbox.events.lock());
            if events.is_empty() {
                inbox.ready.wait();
                continue;
            }
            for ev in events {
                match ev {
                    PipeEvent::ActivateRead(_) => {
                        pipe.activate_read();
                    }
                    PipeEvent::ActivateWrite(_) => {
                        pipe.activate_write();
                    }
                    PipeEvent::Term(_) => unreachable!(),
                }
            }
            return;
        }
    }

    /// HWM 1 with two messages: the writer hits the HWM, and neither side may sleep forever
    /// (a lost ActivateRead or ActivateWrite, which loom reports as a deadlock) or see
    /// messages out of order.
    #[test]
    fn loom_pipe_hwm_activation() {
        const N: u8 = 2;
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(|| {
            let in_w = Arc::new(Inbox::new());
            let in_r = Arc::new(Inbox::new());
            let (mut w, mut r) = pipe_pair(
                Some(in_w.clone() as Arc<dyn PipeEvents>),
                Some(in_r.clone() as Arc<dyn PipeEvents>),
                1,
                1,
            );
            let t = loom::thread::spawn(move || {
                for i in 0..N {
                    let mut msg = Msg::from_slice(&[i]);
                    loop {
                        match w.write(msg) {
                            Ok(()) => break,
                            Err(m) => {
                                msg = m;
                                wait_for_peer(&in_w, &mut w);
                            }
                        }
                    }
                    w.flush();
                }
                w
            });
            let mut next = 0;
            while next < N {
                match r.read() {
                    Some(m) => {
                        assert_eq!(m.data(), &[next]);
                        next += 1;
                    }
                    None => wait_for_peer(&in_r, &mut r),
                }
            }
            drop(t.join().unwrap());
        });
    }
}
