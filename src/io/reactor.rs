//! The reactor of one I/O thread: a mio poll loop over I/O objects (listeners, sessions),
//! the thread's mailbox, and one ordered set of time-outs.
//!
//! The reactor knows objects only through `IoObject`. Each call into an object runs inside
//! a panic guard: a panic closes that object (after it had a chance to report) and the
//! loop goes on with the others. An object's timers and pipe routes go with it.

use crate::io::command::Command;
use crate::io::mailbox::Mailbox;
use crate::pipe::{PipeId, PipeMap};
use mio::{Events, Poll, Registry, Token};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Names one of an object's time-outs (its own numbering).
pub(crate) type TimerId = u32;

/// What the reactor should do with an object after an event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Continue,
    Close,
    /// More work is ready but the object has had its share of this turn: the reactor
    /// calls `resume` once the other objects' events have been handled.
    Yield,
}

/// Something an I/O thread runs: it owns descriptors registered with the thread's poll,
/// and perhaps pipes whose commands the reactor routes to it.
pub(crate) trait IoObject: Send {
    /// The reactor adopted the object: register descriptors, arm timers, start work.
    fn register(&mut self, ctl: &mut Ctl<'_>) -> Step;
    /// A registered descriptor is readable and/or writable; `hup`: the peer has closed
    /// (its end of the stream, or with an error), so reading must go on until EOF.
    fn ready(&mut self, ctl: &mut Ctl<'_>, readable: bool, writable: bool, hup: bool) -> Step;
    /// ActivateRead / ActivateWrite / PipeTerm for a pipe the object owns.
    fn pipe_command(&mut self, _ctl: &mut Ctl<'_>, _cmd: Command) -> Step {
        Step::Continue
    }
    /// The object yielded (`Step::Yield`) and it is its turn again.
    fn resume(&mut self, _ctl: &mut Ctl<'_>) -> Step {
        Step::Continue
    }
    /// A timer the object armed is due.
    fn timer(&mut self, _ctl: &mut Ctl<'_>, _id: TimerId) -> Step {
        Step::Continue
    }
    /// The owning socket closed (or unbound/disconnected this object's endpoint).
    fn close(&mut self, ctl: &mut Ctl<'_>, linger: i32) -> Step;
    /// The socket the object works for.
    fn socket_id(&self) -> u64;
    /// True if zmq_unbind / zmq_disconnect of `endpoint` means this object.
    fn has_endpoint(&self, endpoint: &str) -> bool;
    /// The object leaves the reactor: deregister its descriptors, release its pipes.
    fn deregister(&mut self, registry: &Registry);
    /// A panic was caught while handling this object; it is about to be closed. Report
    /// what can be reported (a monitor event).
    fn aborted(&mut self) {}
}

/// The services an object may ask of its reactor while handling an event.
pub(crate) struct Ctl<'a> {
    pub registry: &'a Registry,
    /// The same registry, for objects that hand a source over to another thread for a
    /// while (`session::direct`); None if it could not be cloned.
    pub shared: Option<&'a Arc<Registry>>,
    pub token: Token,
    pub mailbox: &'a Arc<Mailbox>,
    /// New objects to adopt (accepted connections).
    pub spawn: Vec<Box<dyn IoObject>>,
    /// Timers to arm for this object.
    pub timers: Vec<(Instant, TimerId)>,
    /// Pipe ids this object now owns (commands for them come here).
    pub pipes: Vec<PipeId>,
}

pub(crate) const MAILBOX: Token = Token(usize::MAX);

/// A slot of the reactor: the object, its generation (bumped at each reuse so stale
/// timers and tokens miss), and what must be undone when it goes.
struct Entry {
    gen: u64,
    obj: Option<Box<dyn IoObject>>,
    /// The socket the object works for (its `by_socket` key).
    socket: u64,
    timers: Vec<(Instant, TimerId)>,
    pipes: Vec<PipeId>,
    /// In `yielded`, waiting for its next turn.
    yielded: bool,
}

/// A pending time-out: (when, slot, generation of the slot, id).
type Timer = (Instant, usize, u64, TimerId);

pub(crate) struct Reactor {
    poll: Poll,
    /// One clone of the registry (a dup of the epoll descriptor) for the whole thread.
    shared: Option<Arc<Registry>>,
    mailbox: Arc<Mailbox>,
    objects: Vec<Entry>,
    free: Vec<usize>,
    by_pipe: PipeMap<usize>,
    /// The slots working for each socket, so closing a socket (or one of its endpoints)
    /// visits its objects rather than every object of the thread.
    by_socket: HashMap<u64, HashSet<usize>>,
    timers: BTreeSet<Timer>,
    /// Objects that yielded, to resume after this turn's events: (slot, generation).
    yielded: Vec<(usize, u64)>,
    stop: bool,
}

impl Reactor {
    pub(crate) fn new(poll: Poll, mailbox: Arc<Mailbox>) -> Reactor {
        let shared = poll.registry().try_clone().ok().map(Arc::new);
        Reactor {
            poll,
            shared,
            mailbox,
            objects: Vec::new(),
            free: Vec::new(),
            by_pipe: PipeMap::default(),
            by_socket: HashMap::new(),
            timers: BTreeSet::new(),
            yielded: Vec::new(),
            stop: false,
        }
    }

    pub(crate) fn run(&mut self) {
        let mut events = Events::with_capacity(256);
        let mut cmds = Vec::new();
        let mut resume = Vec::new();
        while !self.stop {
            let timeout =
                self.timers.first().map(|t| t.0.saturating_duration_since(Instant::now()));
            // Round up so a timer is never polled for just before it is due.
            let mut timeout = timeout.map(|d| d + Duration::from_micros(999));
            if !self.yielded.is_empty() {
                // Objects wait to go on: look for new events without sleeping.
                timeout = Some(Duration::ZERO);
            }
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    break;
                }
            }
            for ev in events.iter() {
                if ev.token() == MAILBOX {
                    continue;
                }
                let hup = ev.is_read_closed() || ev.is_error();
                let readable = ev.is_readable() || hup;
                let writable = ev.is_writable() || ev.is_error();
                self.with_object(ev.token().0, |obj, ctl| obj.ready(ctl, readable, writable, hup));
            }
            // Commands after I/O events: the mailbox is drained every loop (its eventfd is
            // edge-triggered, and a command may have arrived while we handled events).
            if self.mailbox.has_pending() {
                self.mailbox.take(&mut cmds);
            }
            for cmd in cmds.drain(..) {
                self.command(cmd);
            }
            self.fire_timers();
            self.resume_yielded(&mut resume);
        }
        // The context is gone: whatever is left dies with the thread.
        for slot in 0..self.objects.len() {
            self.remove(slot);
        }
    }

    /// Gives the objects that yielded their next turn (`scratch`: a reused list).
    fn resume_yielded(&mut self, scratch: &mut Vec<(usize, u64)>) {
        std::mem::swap(scratch, &mut self.yielded);
        for (slot, gen) in scratch.drain(..) {
            // Not if the object went in the meantime (its slot may hold another by now).
            let Some(e) = self.objects.get_mut(slot) else { continue };
            if e.gen == gen {
                e.yielded = false;
                self.with_object(slot, |obj, ctl| obj.resume(ctl));
            }
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Stop => self.stop = true,
            Command::Adopt(obj) => {
                self.insert(obj);
            }
            Command::ActivateRead { pipe }
            | Command::ActivateWrite { pipe }
            | Command::PipeTerm { pipe } => {
                if let Some(&slot) = self.by_pipe.get(&pipe) {
                    self.with_object(slot, |obj, ctl| obj.pipe_command(ctl, cmd));
                }
            }
            Command::CloseEndpoint { socket_id, endpoint, linger } => {
                for slot in self.slots_of(socket_id) {
                    self.with_object(slot, |obj, ctl| {
                        if obj.socket_id() == socket_id && obj.has_endpoint(&endpoint) {
                            obj.close(ctl, linger)
                        } else {
                            Step::Continue
                        }
                    });
                }
            }
            Command::CloseSocket { socket_id, linger } => {
                for slot in self.slots_of(socket_id) {
                    self.with_object(slot, |obj, ctl| {
                        if obj.socket_id() == socket_id {
                            obj.close(ctl, linger)
                        } else {
                            Step::Continue
                        }
                    });
                }
            }
            // Commands meant for sockets never reach an I/O thread.
            Command::Bind { .. } | Command::Hiccup { .. } | Command::EndpointGone { .. } => {}
        }
    }

    /// The slots of a socket's objects as they are now (closing may remove some).
    fn slots_of(&self, socket_id: u64) -> Vec<usize> {
        self.by_socket.get(&socket_id).map(|s| s.iter().copied().collect()).unwrap_or_default()
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(&t) = self.timers.first() {
            if t.0 > now {
                break;
            }
            self.timers.pop_first();
            let (when, slot, gen, id) = t;
            let Some(e) = self.objects.get_mut(slot) else { continue };
            if e.gen != gen {
                continue;
            }
            if let Some(i) = e.timers.iter().position(|&x| x == (when, id)) {
                e.timers.swap_remove(i);
            }
            self.with_object(slot, |obj, ctl| obj.timer(ctl, id));
        }
    }

    fn insert(&mut self, obj: Box<dyn IoObject>) -> usize {
        let socket = obj.socket_id();
        let slot = match self.free.pop() {
            Some(s) => {
                let e = &mut self.objects[s];
                e.gen += 1;
                e.obj = Some(obj);
                e.socket = socket;
                s
            }
            None => {
                self.objects.push(Entry {
                    gen: 0,
                    obj: Some(obj),
                    socket,
                    timers: Vec::new(),
                    pipes: Vec::new(),
                    yielded: false,
                });
                self.objects.len() - 1
            }
        };
        self.by_socket.entry(socket).or_default().insert(slot);
        self.with_object(slot, |obj, ctl| obj.register(ctl));
        slot
    }

    /// Runs `f` on the object in `slot` with a control block, then applies what it asked:
    /// new objects, timers, pipe ownership, or its own removal. A panic in `f` closes the
    /// object; the reactor carries on.
    fn with_object(
        &mut self,
        slot: usize,
        f: impl FnOnce(&mut dyn IoObject, &mut Ctl<'_>) -> Step,
    ) {
        let Some(Entry { gen, obj: Some(obj), .. }) = self.objects.get_mut(slot) else { return };
        let gen = *gen;
        let mut ctl = Ctl {
            registry: self.poll.registry(),
            shared: self.shared.as_ref(),
            token: Token(slot),
            mailbox: &self.mailbox,
            spawn: Vec::new(),
            timers: Vec::new(),
            pipes: Vec::new(),
        };
        let step = match catch_unwind(AssertUnwindSafe(|| f(obj.as_mut(), &mut ctl))) {
            Ok(step) => step,
            Err(_) => {
                let _ = catch_unwind(AssertUnwindSafe(|| obj.aborted()));
                Step::Close
            }
        };
        let Ctl { spawn, timers, pipes, .. } = ctl;
        let e = &mut self.objects[slot];
        for (when, id) in timers {
            self.timers.insert((when, slot, gen, id));
            e.timers.push((when, id));
        }
        for p in pipes {
            self.by_pipe.insert(p, slot);
            e.pipes.push(p);
        }
        match step {
            Step::Close => self.remove(slot),
            Step::Yield if !e.yielded => {
                e.yielded = true;
                self.yielded.push((slot, gen))
            }
            _ => {}
        }
        for obj in spawn {
            self.insert(obj);
        }
    }

    /// Takes an object out of its slot: deregistered, its timers cancelled and its pipe
    /// routes forgotten, so a closed connection holds no memory.
    fn remove(&mut self, slot: usize) {
        let e = &mut self.objects[slot];
        let Some(mut obj) = e.obj.take() else { return };
        if let Some(slots) = self.by_socket.get_mut(&e.socket) {
            // A set: closing a socket with n connections stays O(n), not O(n^2).
            slots.remove(&slot);
            if slots.is_empty() {
                self.by_socket.remove(&e.socket);
            }
        }
        for (when, id) in e.timers.drain(..) {
            self.timers.remove(&(when, slot, e.gen, id));
        }
        for p in e.pipes.drain(..) {
            if self.by_pipe.get(&p) == Some(&slot) {
                self.by_pipe.remove(&p);
            }
        }
        e.timers.shrink_to(4);
        e.pipes.shrink_to(2);
        e.yielded = false;
        e.gen += 1;
        self.free.push(slot);
        let registry = self.poll.registry();
        // A broken object must not take the thread down on its way out either.
        let _ = catch_unwind(AssertUnwindSafe(move || {
            obj.deregister(registry);
            drop(obj);
        }));
    }

    #[cfg(test)]
    fn live_timers(&self) -> usize {
        self.timers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    /// A test object: panics in the callback `panic_in` names, reports the rest.
    struct Probe {
        panic_in: &'static str,
        events: mpsc::Sender<&'static str>,
        drops: Arc<AtomicUsize>,
        socket: u64,
    }

    impl Probe {
        fn hit(&self, what: &'static str) -> Step {
            if self.panic_in == what {
                panic!("injected panic in {what}");
            }
            let _ = self.events.send(what);
            Step::Continue
        }
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl IoObject for Probe {
        fn register(&mut self, ctl: &mut Ctl<'_>) -> Step {
            ctl.timers.push((Instant::now() + Duration::from_millis(20), 1));
            ctl.timers.push((Instant::now() + Duration::from_secs(30), 2));
            self.hit("register")
        }
        fn ready(&mut self, _: &mut Ctl<'_>, _: bool, _: bool, _: bool) -> Step {
            self.hit("ready")
        }
        fn timer(&mut self, _: &mut Ctl<'_>, _: TimerId) -> Step {
            self.hit("timer")
        }
        fn close(&mut self, _: &mut Ctl<'_>, _: i32) -> Step {
            let _ = self.hit("close");
            Step::Close
        }
        fn socket_id(&self) -> u64 {
            self.socket
        }
        fn has_endpoint(&self, _: &str) -> bool {
            true
        }
        fn deregister(&mut self, _: &Registry) {
            let _ = self.events.send("deregister");
        }
        fn aborted(&mut self) {
            let _ = self.events.send("aborted");
        }
    }

    /// Yields `turns` times (from register, then from each resume), then settles.
    struct Yielder {
        turns: usize,
        events: mpsc::Sender<&'static str>,
    }

    impl Yielder {
        fn step(&mut self, what: &'static str) -> Step {
            let _ = self.events.send(what);
            if self.turns == 0 {
                return Step::Continue;
            }
            self.turns -= 1;
            Step::Yield
        }
    }

    impl IoObject for Yielder {
        fn register(&mut self, _: &mut Ctl<'_>) -> Step {
            self.step("register")
        }
        fn resume(&mut self, _: &mut Ctl<'_>) -> Step {
            self.step("resume")
        }
        fn ready(&mut self, _: &mut Ctl<'_>, _: bool, _: bool, _: bool) -> Step {
            Step::Continue
        }
        fn close(&mut self, _: &mut Ctl<'_>, _: i32) -> Step {
            Step::Close
        }
        fn socket_id(&self) -> u64 {
            3
        }
        fn has_endpoint(&self, _: &str) -> bool {
            true
        }
        fn deregister(&mut self, _: &Registry) {}
    }

    /// An object that yields is resumed once per turn until it stops yielding; one that
    /// closed in between is not resumed (nor is whatever took its slot).
    #[test]
    fn a_yielding_object_is_resumed_each_turn() {
        let mut r = reactor();
        let (tx, rx) = mpsc::channel();
        let mut scratch = Vec::new();
        r.command(Command::Adopt(Box::new(Yielder { turns: 2, events: tx.clone() })));
        assert_eq!(drain(&rx), ["register"]);
        r.resume_yielded(&mut scratch);
        assert_eq!(drain(&rx), ["resume"]);
        r.resume_yielded(&mut scratch);
        assert_eq!(drain(&rx), ["resume"]);
        r.resume_yielded(&mut scratch);
        assert!(drain(&rx).is_empty());
        assert!(r.yielded.is_empty());
        // Yielded, then closed before its turn: it is not resumed, and the slot's next
        // tenant is resumed for its own yield only (once).
        let mut r = reactor();
        r.command(Command::Adopt(Box::new(Yielder { turns: 5, events: tx.clone() })));
        r.command(Command::CloseSocket { socket_id: 3, linger: 0 });
        r.command(Command::Adopt(Box::new(Yielder { turns: 1, events: tx.clone() })));
        assert_eq!(drain(&rx), ["register", "register"]);
        assert_eq!(r.objects.len(), 1, "the slot is reused");
        r.resume_yielded(&mut scratch);
        assert_eq!(drain(&rx), ["resume"]);
        r.resume_yielded(&mut scratch);
        assert!(drain(&rx).is_empty());
    }

    fn reactor() -> Reactor {
        let poll = Poll::new().unwrap();
        Reactor::new(poll, Arc::new(Mailbox::new().unwrap()))
    }

    fn drain(rx: &mpsc::Receiver<&'static str>) -> Vec<&'static str> {
        rx.try_iter().collect()
    }

    #[test]
    fn a_panicking_object_is_closed_and_the_others_go_on() {
        // Keep the test output quiet: the injected panics are expected.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let mut r = reactor();
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let good = Probe { panic_in: "", events: tx.clone(), drops: drops.clone(), socket: 7 };
        let bad = Probe { panic_in: "timer", events: tx.clone(), drops: drops.clone(), socket: 7 };
        r.command(Command::Adopt(Box::new(good)));
        r.command(Command::Adopt(Box::new(bad)));
        assert_eq!(drain(&rx), ["register", "register"]);
        assert_eq!(r.live_timers(), 4);
        std::thread::sleep(Duration::from_millis(30));
        r.fire_timers();
        // The good one saw its timer; the bad one panicked, reported, and was removed with
        // its other timer.
        assert_eq!(drain(&rx), ["timer", "aborted", "deregister"]);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(r.live_timers(), 1);
        // A panic in register is contained too, and its timers never outlive it.
        let worse =
            Probe { panic_in: "register", events: tx.clone(), drops: drops.clone(), socket: 7 };
        r.command(Command::Adopt(Box::new(worse)));
        assert_eq!(drain(&rx), ["aborted", "deregister"]);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert_eq!(r.live_timers(), 1);
        // The survivor still takes commands.
        r.command(Command::CloseSocket { socket_id: 7, linger: 0 });
        assert_eq!(drain(&rx), ["close", "deregister"]);
        assert_eq!(r.live_timers(), 0);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
        std::panic::set_hook(hook);
    }

    /// Closing a socket reaches its objects (found through `by_socket`) and no other's,
    /// and forgets a socket once its last object is gone.
    #[test]
    fn close_socket_reaches_only_that_sockets_objects() {
        let mut r = reactor();
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        for socket in [7, 8, 7] {
            let p = Probe { panic_in: "", events: tx.clone(), drops: drops.clone(), socket };
            r.command(Command::Adopt(Box::new(p)));
        }
        assert_eq!(drain(&rx), ["register"; 3]);
        r.command(Command::CloseSocket { socket_id: 8, linger: 0 });
        assert_eq!(drain(&rx), ["close", "deregister"]);
        assert!(!r.by_socket.contains_key(&8));
        r.command(Command::CloseEndpoint { socket_id: 9, endpoint: "tcp://x:1".into(), linger: 0 });
        assert!(drain(&rx).is_empty());
        r.command(Command::CloseSocket { socket_id: 7, linger: 0 });
        assert_eq!(drain(&rx), ["close", "deregister", "close", "deregister"]);
        assert!(r.by_socket.is_empty());
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }
}
