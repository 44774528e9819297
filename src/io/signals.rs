//! Our threads never take the application's signals: a signal sent to the process must
//! reach a thread of the application (libzmq blocks them in its threads too), and SIGPIPE
//! from a write to a dead peer must never be raised in one of ours.

use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow};

/// Blocks every signal in the calling thread (call first thing in a thread we start).
pub(crate) fn block_all() {
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), None);
}
