//! Threads' plumbing: mailboxes, the commands they carry, and the I/O threads whose
//! reactor drives I/O objects (listeners, sessions) through the `IoObject` trait. Nothing
//! here knows what those objects are.

pub(crate) mod command;
pub(crate) mod mailbox;
pub(crate) mod reactor;
pub(crate) mod sched;
pub(crate) mod signals;
pub(crate) mod thread;

pub(crate) use reactor::{Ctl, IoObject, Step, TimerId};
