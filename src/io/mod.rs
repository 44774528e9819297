//! Threads' plumbing: mailboxes and the commands they carry.

pub(crate) mod command;
pub(crate) mod mailbox;
pub(crate) mod thread;
