//! Every constant of libzmq 4.3.5's zmq.h, with libzmq's values. cbindgen turns each
//! `pub const` here into a `#define`; the draft ones are fenced by ZMQ_BUILD_DRAFT_API.
//! The rest of the crate uses these names, so an option or socket type has one home.

use std::os::raw::c_int;

/*  Context options.  */
pub const ZMQ_IO_THREADS: c_int = 1;
pub const ZMQ_MAX_SOCKETS: c_int = 2;
pub const ZMQ_SOCKET_LIMIT: c_int = 3;
pub const ZMQ_THREAD_PRIORITY: c_int = 3;
pub const ZMQ_THREAD_SCHED_POLICY: c_int = 4;
pub const ZMQ_MAX_MSGSZ: c_int = 5;
pub const ZMQ_MSG_T_SIZE: c_int = 6;
pub const ZMQ_THREAD_AFFINITY_CPU_ADD: c_int = 7;
pub const ZMQ_THREAD_AFFINITY_CPU_REMOVE: c_int = 8;
pub const ZMQ_THREAD_NAME_PREFIX: c_int = 9;

/*  Default values for context options.  */
pub const ZMQ_IO_THREADS_DFLT: c_int = 1;
pub const ZMQ_MAX_SOCKETS_DFLT: c_int = 1023;
pub const ZMQ_THREAD_PRIORITY_DFLT: c_int = -1;
pub const ZMQ_THREAD_SCHED_POLICY_DFLT: c_int = -1;

pub const ZMQ_IPV6: c_int = 42;
pub const ZMQ_BLOCKY: c_int = 70;

#[cfg(zmq_draft)]
pub const ZMQ_ZERO_COPY_RECV: c_int = 10;
