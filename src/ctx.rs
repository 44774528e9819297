//! The context: options, the set of live sockets, and termination.

use crate::consts::*;
use crate::error::{err, ZResult, EMTHREAD, ETERM};
use crate::io::command::Command;
use crate::io::mailbox::Mailbox;
use crate::io::sched::ThreadSched;
use crate::io::thread::IoThread;
use crate::pipe::Pipe;
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::sync::Arc;

/// Context options, with libzmq's defaults.
#[derive(Clone, Debug)]
pub(crate) struct CtxOpts {
    pub io_threads: i32,
    pub max_sockets: i32,
    pub ipv6: bool,
    pub blocky: bool,
    pub max_msgsz: i32,
    pub zero_copy_recv: bool,
    pub thread_priority: i32,
    pub thread_sched_policy: i32,
    pub thread_affinity: Vec<i32>,
    pub thread_name_prefix: String,
}

impl Default for CtxOpts {
    fn default() -> Self {
        CtxOpts {
            io_threads: ZMQ_IO_THREADS_DFLT,
            max_sockets: ZMQ_MAX_SOCKETS_DFLT,
            ipv6: false,
            blocky: true,
            max_msgsz: i32::MAX,
            zero_copy_recv: true,
            thread_priority: ZMQ_THREAD_PRIORITY_DFLT,
            thread_sched_policy: ZMQ_THREAD_SCHED_POLICY_DFLT,
            thread_affinity: Vec::new(),
            thread_name_prefix: String::new(),
        }
    }
}

/// The largest socket count a context reports as its limit.
const SOCKET_LIMIT: i32 = 65535;

#[derive(Default)]
struct CtxState {
    /// Set by zmq_ctx_shutdown / zmq_ctx_term: new sockets are refused, blocked calls end.
    terminating: bool,
    /// Sockets created and not yet fully closed, by id, with their mailboxes (for Stop).
    sockets: HashMap<u64, Arc<Mailbox>>,
    next_id: u64,
}

/// A socket as inproc peers see it.
pub(crate) struct InprocPeer {
    pub mailbox: Arc<Mailbox>,
    pub socket_id: u64,
    pub socket_type: i32,
    pub sndhwm: i32,
    pub rcvhwm: i32,
    pub conflate: bool,
    /// ZMQ_ROUTING_ID when bound, for connectors that route by identity.
    pub routing_id: Vec<u8>,
    /// ZMQ_HELLO_MSG, for the types that send it (empty: none).
    pub hello_msg: Vec<u8>,
}

/// A connection made before its name was bound: the binder's end of the pipe waits here.
pub(crate) struct PendingInproc {
    pub connector: InprocPeer,
    pub pipe: Pipe,
}

#[derive(Default)]
struct Inproc {
    bound: HashMap<String, InprocPeer>,
    pending: HashMap<String, Vec<PendingInproc>>,
}

pub(crate) struct Ctx {
    opts: Mutex<CtxOpts>,
    state: Mutex<CtxState>,
    /// Signalled whenever a socket finishes closing.
    closed: Condvar,
    inproc: Mutex<Inproc>,
    /// Started with the first socket; stopped (joined) when the context terminates.
    io_threads: Mutex<Vec<IoThread>>,
    /// The process that made the context: a child of fork() inherits it without its
    /// threads, and must leave the parent's connections and fds alone (see `is_inherited`).
    pid: u32,
}

impl Ctx {
    pub(crate) fn new() -> Ctx {
        Ctx {
            opts: Mutex::new(CtxOpts::default()),
            state: Mutex::new(CtxState::default()),
            closed: Condvar::new(),
            inproc: Mutex::new(Inproc::default()),
            io_threads: Mutex::new(Vec::new()),
            pid: std::process::id(),
        }
    }

    /// True in a child of fork(): the I/O threads are the parent's and do not exist here,
    /// and every fd is shared with the parent. As in libzmq, the child may close the
    /// sockets (nothing is sent or freed) and zmq_ctx_term answers EINTR at once.
    pub(crate) fn is_inherited(&self) -> bool {
        std::process::id() != self.pid
    }

    pub(crate) fn opts(&self) -> CtxOpts {
        self.opts.lock().clone()
    }

    /// zmq_ctx_set: libzmq's validation, EINVAL for bad values and unknown options.
    pub(crate) fn set(&self, option: i32, value: i32) -> ZResult<()> {
        let mut o = self.opts.lock();
        match option {
            ZMQ_MAX_SOCKETS if value >= 1 => o.max_sockets = value,
            ZMQ_IO_THREADS if value >= 0 => o.io_threads = value,
            ZMQ_IPV6 if value >= 0 => o.ipv6 = value != 0,
            ZMQ_BLOCKY if value >= 0 => o.blocky = value != 0,
            ZMQ_MAX_MSGSZ if value >= 0 => o.max_msgsz = value,
            ZMQ_ZERO_COPY_RECV if value >= 0 => o.zero_copy_recv = value != 0,
            ZMQ_THREAD_PRIORITY if value >= 0 => o.thread_priority = value,
            ZMQ_THREAD_SCHED_POLICY if value >= 0 => o.thread_sched_policy = value,
            ZMQ_THREAD_AFFINITY_CPU_ADD if value >= 0 => {
                if !o.thread_affinity.contains(&value) {
                    o.thread_affinity.push(value)
                }
            }
            ZMQ_THREAD_AFFINITY_CPU_REMOVE if value >= 0 => {
                let Some(i) = o.thread_affinity.iter().position(|&c| c == value) else {
                    return err(libc::EINVAL);
                };
                o.thread_affinity.remove(i);
            }
            ZMQ_THREAD_NAME_PREFIX if value >= 0 => o.thread_name_prefix = value.to_string(),
            _ => return err(libc::EINVAL),
        }
        Ok(())
    }

    /// ZMQ_THREAD_NAME_PREFIX as a string (zmq_ctx_set_ext); the caller checks its length.
    pub(crate) fn set_thread_name_prefix(&self, prefix: String) {
        self.opts.lock().thread_name_prefix = prefix;
    }

    /// zmq_ctx_get.
    pub(crate) fn get(&self, option: i32) -> ZResult<i32> {
        let o = self.opts.lock();
        Ok(match option {
            ZMQ_MAX_SOCKETS => o.max_sockets,
            ZMQ_SOCKET_LIMIT => SOCKET_LIMIT,
            ZMQ_IO_THREADS => o.io_threads,
            ZMQ_IPV6 => o.ipv6 as i32,
            ZMQ_BLOCKY => o.blocky as i32,
            ZMQ_MAX_MSGSZ => o.max_msgsz,
            ZMQ_MSG_T_SIZE => 64,
            ZMQ_ZERO_COPY_RECV => o.zero_copy_recv as i32,
            ZMQ_THREAD_SCHED_POLICY => o.thread_sched_policy,
            ZMQ_THREAD_NAME_PREFIX => o.thread_name_prefix.parse().unwrap_or(0),
            _ => return err(libc::EINVAL),
        })
    }

    /// Registers a new socket: ETERM once terminating, EMFILE past ZMQ_MAX_SOCKETS.
    pub(crate) fn register_socket(&self, mailbox: Arc<Mailbox>) -> ZResult<u64> {
        let max = self.opts.lock().max_sockets as usize;
        let mut st = self.state.lock();
        if st.terminating {
            return err(ETERM);
        }
        if st.sockets.len() >= max {
            return err(libc::EMFILE);
        }
        if st.next_id == 0 {
            // First socket: the options are final now, so the I/O threads start.
            let o = self.opts.lock().clone();
            let n = o.io_threads.max(0) as usize;
            let affinity = o.thread_affinity.clone();
            let (sched, applied) =
                ThreadSched::new(o.thread_sched_policy, o.thread_priority, affinity, n);
            let mut started = Vec::with_capacity(n);
            for i in 0..n {
                started.push(IoThread::start(i, &o.thread_name_prefix, sched.clone())?);
            }
            drop(sched);
            // Each thread applies its scheduling first; one the OS refused fails this
            // socket (libzmq aborts) and the threads stop as `started` drops.
            for _ in 0..n {
                if let Ok(Err(e)) = applied.recv() {
                    return err(e);
                }
            }
            self.io_threads.lock().extend(started);
        }
        st.next_id += 1;
        let id = st.next_id;
        st.sockets.insert(id, mailbox);
        Ok(id)
    }

    /// Called once a socket has fully closed.
    pub(crate) fn unregister_socket(&self, id: u64) {
        let mut st = self.state.lock();
        st.sockets.remove(&id);
        if st.sockets.is_empty() {
            self.closed.notify_all();
        }
    }

    /// The mailbox of the I/O thread a socket's network endpoints go to: one of those
    /// ZMQ_AFFINITY allows (bit n = thread n; 0 = any), spread by socket id. EMTHREAD when
    /// the context has no I/O threads (ZMQ_IO_THREADS = 0) or none in the mask.
    pub(crate) fn io_mailbox(&self, socket_id: u64, affinity: u64) -> ZResult<Arc<Mailbox>> {
        let threads = self.io_threads.lock();
        let allowed: Vec<&IoThread> = threads
            .iter()
            .enumerate()
            .filter(|(i, _)| affinity == 0 || (*i < 64 && affinity & (1 << i) != 0))
            .map(|(_, t)| t)
            .collect();
        if allowed.is_empty() {
            return err(EMTHREAD);
        }
        Ok(allowed[(socket_id as usize) % allowed.len()].mailbox.clone())
    }

    pub(crate) fn io_mailboxes(&self) -> Vec<Arc<Mailbox>> {
        self.io_threads.lock().iter().map(|t| t.mailbox.clone()).collect()
    }

    /// Binds an inproc name to a socket; returns the connections that were waiting for it.
    pub(crate) fn inproc_bind(&self, name: &str, me: InprocPeer) -> ZResult<Vec<PendingInproc>> {
        let mut ip = self.inproc.lock();
        if ip.bound.contains_key(name) {
            return err(libc::EADDRINUSE);
        }
        ip.bound.insert(name.to_string(), me);
        Ok(ip.pending.remove(name).unwrap_or_default())
    }

    pub(crate) fn inproc_unbind(&self, name: &str, socket_id: u64) {
        let mut ip = self.inproc.lock();
        if ip.bound.get(name).is_some_and(|b| b.socket_id == socket_id) {
            ip.bound.remove(name);
        }
    }

    /// Connects to an inproc name, bound or not yet. `make` builds the pipe pair (given the
    /// binder if there is one) and returns (connector's end, binder's end); the binder's
    /// end is sent to the binder or parked until the bind.
    pub(crate) fn inproc_connect(
        &self,
        name: &str,
        me: InprocPeer,
        make: impl FnOnce(&InprocPeer, Option<&InprocPeer>) -> (Pipe, Pipe),
    ) -> ZResult<Pipe> {
        let mut ip = self.inproc.lock();
        match ip.bound.get(name) {
            Some(b) => {
                let (mine, theirs) = make(&me, Some(b));
                // The connector already wrote its routing id if the binder wants one.
                b.mailbox.send(Command::Bind { pipe: Box::new(theirs), send_routing_id: false });
                Ok(mine)
            }
            None => {
                let (mine, theirs) = make(&me, None);
                ip.pending
                    .entry(name.to_string())
                    .or_default()
                    .push(PendingInproc { connector: me, pipe: theirs });
                Ok(mine)
            }
        }
    }

    /// True if a socket has bound the inproc `name`.
    pub(crate) fn inproc_is_bound(&self, name: &str) -> bool {
        self.inproc.lock().bound.contains_key(name)
    }

    /// Forgets a socket's connections to `name` still waiting for a bind; true if any.
    pub(crate) fn inproc_cancel_pending(&self, name: &str, socket_id: u64) -> bool {
        let mut ip = self.inproc.lock();
        let Some(list) = ip.pending.get_mut(name) else { return false };
        let before = list.len();
        list.retain(|p| p.connector.socket_id != socket_id);
        let found = list.len() != before;
        if list.is_empty() {
            ip.pending.remove(name);
        }
        found
    }

    /// zmq_ctx_shutdown: refuse new sockets and wake every blocked call with ETERM.
    pub(crate) fn shutdown(&self) {
        if self.is_inherited() {
            // Waking the sockets would signal eventfds the parent shares.
            return;
        }
        let mut st = self.state.lock();
        if !st.terminating {
            st.terminating = true;
            for mb in st.sockets.values() {
                mb.send(Command::Stop);
            }
        }
    }

    /// zmq_ctx_term: shut down, then wait until every socket has been closed.
    pub(crate) fn term(&self) {
        self.shutdown();
        let mut st = self.state.lock();
        while !st.sockets.is_empty() {
            self.closed.wait(&mut st);
        }
        drop(st);
        // Connections that never found their binder die with the context.
        let pending = std::mem::take(&mut self.inproc.lock().pending);
        drop(pending);
        let threads = std::mem::take(&mut *self.io_threads.lock());
        drop(threads);
    }
}
