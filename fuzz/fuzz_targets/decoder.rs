//! Post-handshake traffic: the first byte picks the framing (ZMTP 1.0, 2.0, 3.0, 3.1), the
//! socket type, a ZMQ_MAXMSGSIZE and how the rest is split into reads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| zmq::zmtp_fuzzing::decoder(data));
