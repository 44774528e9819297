//! ferrozmq: libzmq (ZeroMQ) rewritten in Rust, exported through libzmq's C ABI.
//!
//! Everything extern "C" lives in `capi`; the rest of the crate is safe Rust organised the
//! way libzmq is: context, I/O threads, pipes, sockets, sessions and engines.

// The C API names its types and functions the C way.
#![allow(non_camel_case_types)]

pub mod capi;
pub mod consts;
pub(crate) mod ctx;
pub(crate) mod engine;
pub(crate) mod error;
pub(crate) mod io;
pub(crate) mod monitor;
pub(crate) mod msg;
pub(crate) mod options;
pub(crate) mod pipe;
pub(crate) mod session;
pub(crate) mod socket;
pub(crate) mod sync;
pub(crate) mod timers;
pub(crate) mod transport;
pub(crate) mod util;
pub(crate) mod ypipe;
pub(crate) mod z85;
pub(crate) mod zmtp;

/// For `fuzz/` only: raw-bytes entry points into the protocol state machines.
#[doc(hidden)]
pub use zmtp::fuzzing as zmtp_fuzzing;
