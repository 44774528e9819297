//! I/O threads: one reactor each, started with the context's first socket as libzmq does
//! (ZMQ_IO_THREADS of them, named `ZMQbg/IO/n`). Listeners and sessions live here; inproc
//! never touches them.
//!
//! Sockets talk to an I/O thread through its mailbox: `Adopt` hands over new work, pipe
//! commands (ActivateRead/Write, PipeTerm) reach the object owning the pipe, and
//! CloseEndpoint/CloseSocket end things.

use crate::error::{err, ZResult};
use crate::io::command::Command;
use crate::io::mailbox::Mailbox;
use crate::io::reactor::{Reactor, MAILBOX};
use mio::unix::SourceFd;
use mio::{Interest, Poll};
use std::sync::Arc;
use std::thread::JoinHandle;

pub(crate) struct IoThread {
    pub(crate) mailbox: Arc<Mailbox>,
    handle: Option<JoinHandle<()>>,
}

impl IoThread {
    pub(crate) fn start(
        index: usize,
        name_prefix: &str,
        sched: super::sched::ThreadSched,
    ) -> ZResult<IoThread> {
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
        let mut reactor = Reactor::new(poll, mailbox.clone());
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                // Signals are the application's: never delivered to our threads.
                crate::io::signals::block_all();
                sched.apply();
                reactor.run()
            })
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
