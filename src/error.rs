//! Error numbers as the C API reports them through `errno`.

use std::fmt;

/// libzmq numbers its own errors from this base so they never clash with the platform's.
pub(crate) const ZMQ_HAUSNUMERO: i32 = 156_384_712;
pub(crate) const EFSM: i32 = ZMQ_HAUSNUMERO + 51;
pub(crate) const ENOCOMPATPROTO: i32 = ZMQ_HAUSNUMERO + 52;
pub(crate) const ETERM: i32 = ZMQ_HAUSNUMERO + 53;
pub(crate) const EMTHREAD: i32 = ZMQ_HAUSNUMERO + 54;

/// An errno value: what a failing call leaves in the caller's `errno`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Errno(pub i32);

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Errno({}: {})", self.0, strerror(self.0))
    }
}

pub(crate) type ZResult<T> = Result<T, Errno>;

/// Shorthand for `Err(Errno(e))`.
pub(crate) fn err<T>(e: i32) -> ZResult<T> {
    Err(Errno(e))
}

/// The text `zmq_strerror` gives: libzmq's own words for its own errors, the C library's
/// for the rest.
pub(crate) fn strerror(e: i32) -> String {
    match e {
        EFSM => "Operation cannot be accomplished in current state".into(),
        ENOCOMPATPROTO => "The protocol is not compatible with the socket type".into(),
        ETERM => "Context was terminated".into(),
        EMTHREAD => "No thread available".into(),
        _ => std::io::Error::from_raw_os_error(e)
            .to_string()
            .split(" (os error")
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}
