//! Small utilities behind the C API.

/// Capability names `zmq_has` answers yes to: only what is implemented.
pub(crate) const HAS: &[&[u8]] = &[];
