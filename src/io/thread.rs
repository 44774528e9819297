//! I/O threads: one mio event loop each, started with the context's first socket as libzmq
//! does (ZMQ_IO_THREADS of them, named `ZMQbg/IO/n`). Listeners and connections (sessions
//! with their ZMTP engines) live here; inproc never touches them.
//!
//! Sockets talk to an I/O thread through its mailbox: Listen/Connect hand over new work,
//! pipe commands (ActivateRead/Write, PipeTerm) reach the connection owning the pipe, and
//! CloseEndpoint/CloseSocket end things. Time-outs (reconnect, handshake, linger, heartbeat)
//! are kept in one ordered set and passed to mio as the poll timeout.

use crate::error::{err, ZResult};
use crate::io::command::Command;
use crate::io::mailbox::Mailbox;
use crate::pipe::PipeId;
use crate::session::{Conn, Listener, Step, TimerKind};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const MAILBOX: Token = Token(usize::MAX);

pub(crate) struct IoThread {
    pub(crate) mailbox: Arc<Mailbox>,
    handle: Option<JoinHandle<()>>,
}

impl IoThread {
    pub(crate) fn start(index: usize, name_prefix: &str) -> ZResult<IoThread> {
        let poll = Poll::new().or(err(libc::EMFILE))?;
        let mailbox = Arc::new(Mailbox::new()?);
        poll.registry()
            .register(&mut SourceFd(&mailbox.fd()), MAILBOX, Interest::READABLE)
            .or(err(libc::EMFILE))?;
        let name = if name_prefix.is_empty() {
            format!("ZMQbg/IO/{index}")
        } else {
            format!("{name_prefix}/ZMQbg/IO/{index}")
        };
        let mut reactor = Reactor {
            poll,
            mailbox: mailbox.clone(),
            objects: Vec::new(),
            free: Vec::new(),
            by_pipe: HashMap::new(),
            timers: BTreeSet::new(),
            stop: false,
        };
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || reactor.run())
            .or(err(libc::EMFILE))?;
        Ok(IoThread { mailbox, handle: Some(handle) })
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        self.mailbox.send(Command::Stop);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// What lives in a slot of the reactor.
pub(crate) enum Object {
    Listener(Listener),
    Conn(Box<Conn>),
}

/// A pending time-out: (when, slot, generation of the slot, kind).
type Timer = (Instant, usize, u64, TimerKind);

/// The services an object may ask of its reactor while handling an event.
pub(crate) struct Ctl<'a> {
    pub registry: &'a Registry,
    pub token: Token,
    pub mailbox: &'a Arc<Mailbox>,
    /// New objects to add (accepted connections).
    pub spawn: Vec<Object>,
    /// Timers to arm for this object.
    pub timers: Vec<(Instant, TimerKind)>,
    /// Pipe ids this object now owns (commands for them come here).
    pub pipes: Vec<PipeId>,
}

struct Reactor {
    poll: Poll,
    mailbox: Arc<Mailbox>,
    objects: Vec<(u64, Option<Object>)>,
    free: Vec<usize>,
    by_pipe: HashMap<PipeId, usize>,
    timers: BTreeSet<Timer>,
    stop: bool,
}

impl Reactor {
    fn run(&mut self) {
        let mut events = Events::with_capacity(256);
        let mut cmds = Vec::new();
        while !self.stop {
            let timeout =
                self.timers.first().map(|t| t.0.saturating_duration_since(Instant::now()));
            // Round up so a timer is never polled for just before it is due.
            let timeout = timeout.map(|d| d + Duration::from_micros(999));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    break;
                }
            }
            for ev in events.iter() {
                if ev.token() == MAILBOX {
                    continue;
                }
                let slot = ev.token().0;
                self.with_object(slot, |obj, ctl| match obj {
                    Object::Listener(l) => l.ready(ctl),
                    Object::Conn(c) => c.ready(
                        ctl,
                        ev.is_readable() || ev.is_read_closed(),
                        ev.is_writable() || ev.is_error(),
                    ),
                });
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
        }
        // The context is gone: whatever is left dies with the thread.
        self.objects.clear();
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Stop => self.stop = true,
            Command::Listen(l) => {
                self.insert(Object::Listener(*l));
            }
            Command::Connect(c) => {
                let slot = self.insert(Object::Conn(Box::new(Conn::connecter(*c))));
                self.with_object(slot, |obj, ctl| {
                    if let Object::Conn(c) = obj {
                        c.start_connect(ctl)
                    } else {
                        Step::Continue
                    }
                });
            }
            Command::ActivateRead { pipe }
            | Command::ActivateWrite { pipe }
            | Command::PipeTerm { pipe } => {
                if let Some(&slot) = self.by_pipe.get(&pipe) {
                    self.with_object(slot, |obj, ctl| match obj {
                        Object::Conn(c) => c.pipe_command(ctl, cmd),
                        Object::Listener(_) => Step::Continue,
                    });
                }
            }
            Command::CloseEndpoint { socket_id, endpoint, linger } => {
                for slot in 0..self.objects.len() {
                    self.with_object(slot, |obj, ctl| match obj {
                        Object::Listener(l) if l.owned_by(socket_id, &endpoint) => Step::Close,
                        Object::Conn(c) if c.owned_by(socket_id, &endpoint) => c.close(ctl, linger),
                        _ => Step::Continue,
                    });
                }
            }
            Command::CloseSocket { socket_id, linger } => {
                for slot in 0..self.objects.len() {
                    self.with_object(slot, |obj, ctl| match obj {
                        Object::Listener(l) if l.socket_id() == socket_id => Step::Close,
                        Object::Conn(c) if c.socket_id() == socket_id => c.close(ctl, linger),
                        _ => Step::Continue,
                    });
                }
            }
            // Commands meant for sockets never reach an I/O thread.
            Command::Bind { .. } | Command::Hiccup { .. } => {}
        }
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(&t) = self.timers.first() {
            if t.0 > now {
                break;
            }
            self.timers.pop_first();
            let (_, slot, gen, kind) = t;
            if self.objects.get(slot).is_some_and(|o| o.0 == gen) {
                self.with_object(slot, |obj, ctl| match obj {
                    Object::Conn(c) => c.timer(ctl, kind),
                    Object::Listener(_) => Step::Continue,
                });
            }
        }
    }

    fn insert(&mut self, obj: Object) -> usize {
        let slot = match self.free.pop() {
            Some(s) => {
                self.objects[s].0 += 1;
                self.objects[s].1 = Some(obj);
                s
            }
            None => {
                self.objects.push((0, Some(obj)));
                self.objects.len() - 1
            }
        };
        self.with_object(slot, |obj, ctl| match obj {
            Object::Listener(l) => l.register(ctl),
            Object::Conn(c) => c.register(ctl),
        });
        slot
    }

    /// Runs `f` on the object in `slot` with a control block, then applies what it asked:
    /// new objects, timers, pipe ownership, or its own removal.
    fn with_object(&mut self, slot: usize, f: impl FnOnce(&mut Object, &mut Ctl<'_>) -> Step) {
        let Some((gen, Some(obj))) = self.objects.get_mut(slot) else { return };
        let gen = *gen;
        let mut ctl = Ctl {
            registry: self.poll.registry(),
            token: Token(slot),
            mailbox: &self.mailbox,
            spawn: Vec::new(),
            timers: Vec::new(),
            pipes: Vec::new(),
        };
        let step = f(obj, &mut ctl);
        let Ctl { spawn, timers, pipes, .. } = ctl;
        for (when, kind) in timers {
            self.timers.insert((when, slot, gen, kind));
        }
        for p in pipes {
            self.by_pipe.insert(p, slot);
        }
        if let Step::Close = step {
            if let Some(mut obj) = self.objects[slot].1.take() {
                match &mut obj {
                    Object::Listener(l) => l.deregister(self.poll.registry()),
                    Object::Conn(c) => {
                        c.deregister(self.poll.registry());
                        for id in c.pipe_ids() {
                            self.by_pipe.remove(&id);
                        }
                    }
                }
            }
            self.objects[slot].0 += 1;
            self.free.push(slot);
        }
        for obj in spawn {
            self.insert(obj);
        }
    }
}
