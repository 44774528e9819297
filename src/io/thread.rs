//! I/O threads: one mio event loop each, started with the context's first socket as libzmq
//! does (ZMQ_IO_THREADS of them, named `ZMQbg/IO/n`). Network engines and sessions run on
//! them; inproc never touches them. Stopping wakes the loop through its mio Waker.

use crate::error::{err, ZResult};
use mio::{Events, Poll, Token, Waker};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

const WAKER: Token = Token(0);

pub(crate) struct IoThread {
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl IoThread {
    pub(crate) fn start(index: usize, name_prefix: &str) -> ZResult<IoThread> {
        let poll = Poll::new().or(err(libc::EMFILE))?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER).or(err(libc::EMFILE))?);
        let stop = Arc::new(AtomicBool::new(false));
        let name = if name_prefix.is_empty() {
            format!("ZMQbg/IO/{index}")
        } else {
            format!("{name_prefix}/ZMQbg/IO/{index}")
        };
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || run(poll, flag))
            .or(err(libc::EMFILE))?;
        Ok(IoThread { waker, stop, handle: Some(handle) })
    }
}

fn run(mut poll: Poll, stop: Arc<AtomicBool>) {
    let mut events = Events::with_capacity(256);
    while !stop.load(Ordering::Acquire) {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.waker.wake();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
