//! PLAIN and CURVE from raw bytes: handshake commands to either side, ZAP replies, a genuine
//! CURVE handshake with one command corrupted, and boxed MESSAGEs (forged, truncated,
//! replayed, reordered). The first byte picks the case; see `zmtp_fuzzing::security`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| zmq::zmtp_fuzzing::security(data));
