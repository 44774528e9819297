//! A peer's side of a connection from its first byte: greeting, version detection, the
//! NULL handshake, then whatever traffic follows. The first byte picks our socket type,
//! a ZMQ_MAXMSGSIZE and how the rest is split into reads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| zmq::zmtp_fuzzing::handshake(data));
