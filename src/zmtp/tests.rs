//! Tests of the handshake, codec and engine together; the libzmq wire tests are in
//! `wire_tests.rs`.

use super::decoder::Frame;
use super::encoder::Encoder;
use super::handshake::Established;
use super::socket_type::compatible;
use super::*;
use crate::consts::*;
use crate::msg::Msg;
use std::time::{Duration, Instant};

fn cfg(socket_type: i32, rid: &[u8]) -> HandshakeConfig {
    HandshakeConfig { socket_type, routing_id: rid.to_vec(), ..HandshakeConfig::default() }
}

/// Runs two handshakes against each other, moving `step` bytes at a time.
fn pump(a: &mut Handshake, b: &mut Handshake, step: usize) -> Result<(), (bool, ZmtpError)> {
    for _ in 0..100_000 {
        if a.is_done() && b.is_done() {
            return Ok(());
        }
        // The error's flag says whether `a` reported it.
        move_bytes(a, b, step).map_err(|e| (false, e))?;
        move_bytes(b, a, step).map_err(|e| (true, e))?;
    }
    panic!("handshakes did not finish");
}

/// Moves up to `step` bytes of `from`'s output into `to`.
fn move_bytes(from: &mut Handshake, to: &mut Handshake, step: usize) -> Result<(), ZmtpError> {
    let n = from.output().len().min(step);
    if n > 0 && !to.is_done() {
        let chunk = from.output()[..n].to_vec();
        let used = to.input(&chunk)?;
        from.advance_output(used);
    }
    Ok(())
}

fn established(a: HandshakeConfig, b: HandshakeConfig) -> (Established, Established) {
    let (mut x, mut y) = (Handshake::new(a), Handshake::new(b));
    pump(&mut x, &mut y, usize::MAX).unwrap();
    (x.finish(), y.finish())
}

fn greeting(major: u8, minor: u8, mechanism: &[u8]) -> Vec<u8> {
    let mut g = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, major, minor];
    let mut m = [0u8; 20];
    m[..mechanism.len()].copy_from_slice(mechanism);
    g.extend_from_slice(&m);
    g.extend_from_slice(&[0; 32]);
    g
}

fn ready(props: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut body = b"\x05READY".to_vec();
    for (k, v) in props {
        metadata_put(&mut body, k, v);
    }
    let mut f = Vec::new();
    encoder::put_frame_header(&mut f, FLAG_COMMAND, body.len() as u64);
    f.extend_from_slice(&body);
    f
}

fn metadata_put(out: &mut Vec<u8>, k: &[u8], v: &[u8]) {
    super::metadata::put_property(out, k, v);
}

/// Feeds a whole byte string to a handshake; returns what it used.
fn feed(hs: &mut Handshake, bytes: &[u8]) -> Result<usize, ZmtpError> {
    hs.input(bytes)
}

/// Every frame the decoder yields for `bytes`, fed `step` bytes at a time.
fn decode_all(dec: &mut Decoder, bytes: &[u8], step: usize) -> Result<Vec<Frame>, ZmtpError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    loop {
        dec.decode(&mut |f| {
            out.push(f);
            Ok(())
        })?;
        if rest.is_empty() {
            return Ok(out);
        }
        let buf = dec.read_buf();
        let n = buf.len().min(step).min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        dec.filled(n);
        rest = &rest[n..];
    }
}

fn msg(bytes: &[u8], more: bool) -> Msg {
    let mut m = Msg::from_slice(bytes);
    m.set_more(more);
    m
}

fn encoded(enc: &Encoder) -> Vec<u8> {
    enc.chunks().flat_map(|c| c.iter().copied()).collect()
}

fn as_msg(f: &Frame) -> (&[u8], bool) {
    match f {
        Frame::Message(m) => (m.data(), m.more()),
        Frame::Command(c) => panic!("expected a message, got {c:?}"),
    }
}

// ---- handshake ----

#[test]
fn greeting_and_ready_bytes_are_libzmqs() {
    // What Debian's libzmq 4.3.4 DEALER with routing id "abc" and ZMQ_METADATA
    // "X-Foo:bar" sent us, captured on the wire.
    let mut c = cfg(ZMQ_DEALER, b"abc");
    c.metadata = vec![("X-Foo".into(), b"bar".to_vec())];
    let mut hs = Handshake::new(c);
    assert_eq!(hs.output(), b"\xff\x00\x00\x00\x00\x00\x00\x00\x04\x7f");
    assert_eq!(hs.wanted(), 1);
    let g = greeting(3, 1, b"NULL");
    assert_eq!(feed(&mut hs, &g[..10]).unwrap(), 10);
    assert_eq!(&hs.output()[10..], b"\x03");
    assert_eq!(feed(&mut hs, &g[10..11]).unwrap(), 1);
    let mut expect = b"\xff\x00\x00\x00\x00\x00\x00\x00\x04\x7f\x03\x01NULL".to_vec();
    expect.resize(64, 0);
    assert_eq!(hs.output(), &expect[..]);
    assert_eq!(hs.wanted(), 53);
    assert_eq!(feed(&mut hs, &g[11..]).unwrap(), 53);
    let ready = b"\x04\x39\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER\
\x08Identity\x00\x00\x00\x03abc\x05X-Foo\x00\x00\x00\x03bar";
    assert_eq!(&hs.output()[64..], &ready[..]);
}

#[test]
fn router_ready_has_empty_identity_and_sub_has_none() {
    // libzmq's ROUTER announces an empty Identity; SUB announces none.
    let mut hs = Handshake::new(cfg(ZMQ_ROUTER, b""));
    feed(&mut hs, &greeting(3, 1, b"NULL")).unwrap();
    assert!(hs.output().ends_with(
        b"\x04\x29\x05READY\x0bSocket-Type\x00\x00\x00\x06ROUTER\x08Identity\x00\x00\x00\x00"
    ));
    let mut hs = Handshake::new(cfg(ZMQ_SUB, b"ignored"));
    feed(&mut hs, &greeting(3, 1, b"NULL")).unwrap();
    assert!(hs.output().ends_with(b"\x04\x19\x05READY\x0bSocket-Type\x00\x00\x00\x03SUB"));
}

#[test]
fn dealer_router_round_trip() {
    let mut a = cfg(ZMQ_DEALER, b"me");
    a.metadata = vec![("X-App".into(), b"one".to_vec())];
    let (x, y) = established(a, cfg(ZMQ_ROUTER, b""));
    assert_eq!(x.version, (3, 1));
    assert_eq!(y.version, (3, 1));
    assert_eq!(x.peer_socket_type, ZMQ_ROUTER);
    assert_eq!(y.peer_socket_type, ZMQ_DEALER);
    assert_eq!(y.peer_routing_id.as_deref(), Some(&b"me"[..]));
    assert_eq!(x.peer_routing_id.as_deref(), Some(&b""[..]));
    let names: Vec<&str> = y.peer_metadata.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["Socket-Type", "Identity", "X-App"]);
    assert_eq!(y.peer_metadata[2].1, b"one");
    // Nothing left to send: the READY went out during the handshake.
    assert!(!x.engine.has_output() && !y.engine.has_output());
}

#[test]
fn every_compatible_pair_connects_and_others_fail() {
    let types = [
        ZMQ_PAIR,
        ZMQ_PUB,
        ZMQ_SUB,
        ZMQ_REQ,
        ZMQ_REP,
        ZMQ_DEALER,
        ZMQ_ROUTER,
        ZMQ_PULL,
        ZMQ_PUSH,
        ZMQ_XPUB,
        ZMQ_XSUB,
        ZMQ_SERVER,
        ZMQ_CLIENT,
        ZMQ_RADIO,
        ZMQ_DISH,
        ZMQ_GATHER,
        ZMQ_SCATTER,
        ZMQ_DGRAM,
        ZMQ_PEER,
        ZMQ_CHANNEL,
    ];
    for a in types {
        for b in types {
            let (mut x, mut y) = (Handshake::new(cfg(a, b"")), Handshake::new(cfg(b, b"")));
            let r = pump(&mut x, &mut y, usize::MAX);
            if compatible(a, b) {
                assert!(r.is_ok(), "{a} {b}");
            } else {
                let (_, e) = r.unwrap_err();
                // libzmq 4.3 closes without a handshake-failed event here.
                assert_eq!((e.errno, e.event), (libc::EINVAL, None), "{a} {b}");
            }
        }
    }
}

#[test]
fn byte_at_a_time_and_wanted_never_overshoots() {
    for step in [1, 2, 3, 7, 11, 64] {
        let (mut x, mut y) =
            (Handshake::new(cfg(ZMQ_REQ, b"id")), Handshake::new(cfg(ZMQ_REP, b"")));
        pump(&mut x, &mut y, step).unwrap();
    }
    // Reading exactly wanted() bytes, the handshake always uses all of them.
    let mut a = Handshake::new(cfg(ZMQ_PUSH, b""));
    let mut stream = greeting(3, 1, b"NULL");
    stream.extend(ready(&[(b"Socket-Type", b"PULL")]));
    stream.extend(b"\x00\x03abc");
    let mut pos = 0;
    while !a.is_done() {
        let w = a.wanted();
        assert!(w > 0);
        assert_eq!(feed(&mut a, &stream[pos..pos + w]).unwrap(), w);
        pos += w;
    }
    assert_eq!(a.wanted(), 0);
    assert_eq!(&stream[pos..], b"\x00\x03abc");
}

#[test]
fn bytes_after_the_handshake_are_left_for_the_decoder() {
    let mut hs = Handshake::new(cfg(ZMQ_PULL, b""));
    let mut stream = greeting(3, 1, b"NULL");
    stream.extend(ready(&[(b"Socket-Type", b"PUSH"), (b"X-K", b"v")]));
    let hs_len = stream.len();
    stream.extend(b"\x01\x01a\x00\x02bc");
    assert_eq!(feed(&mut hs, &stream).unwrap(), hs_len);
    assert!(hs.is_done());
    assert_eq!(feed(&mut hs, &stream[hs_len..]).unwrap(), 0);
    let mut est = hs.finish();
    assert_eq!(est.peer_metadata[1], ("X-K".to_string(), b"v".to_vec()));
    // Our greeting and READY were never taken from output(): they move to the encoder.
    assert_eq!(&encoded(&est.engine.encoder)[..10], b"\xff\0\0\0\0\0\0\0\x01\x7f");
    let frames = decode_all(&mut est.engine.decoder, &stream[hs_len..], 100).unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(as_msg(&frames[0]), (&b"a"[..], true));
    assert_eq!(as_msg(&frames[1]), (&b"bc"[..], false));
}

#[test]
fn handshake_failures_report_what_libzmq_reports() {
    let run = |stream: &[u8]| {
        let mut hs = Handshake::new(cfg(ZMQ_PULL, b""));
        let mut pos = 0;
        while pos < stream.len() {
            match hs.input(&stream[pos..]) {
                Ok(0) => return None,
                Ok(n) => pos += n,
                Err(e) => return Some(e),
            }
        }
        None
    };
    let g = greeting(3, 1, b"NULL");
    let with = |tail: &[u8]| [&g[..], tail].concat();
    let proto = |code| Some(MonitorEvent::Protocol(code));

    // Mechanism mismatch, exact and case-sensitive.
    for m in [&b"PLAIN"[..], b"CURVE", b"null", b"NULL2"] {
        let e = run(&greeting(3, 1, m)).unwrap();
        assert_eq!(e.event, proto(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH));
    }
    // Anything but READY/ERROR first.
    let e = run(&with(b"\x04\x07\x04PING\x00\x00")).unwrap();
    assert_eq!(e.event, proto(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
    let e = run(&with(b"\x00\x03abc")).unwrap();
    assert_eq!(e.event, proto(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
    let e = run(&with(b"\x04\x00")).unwrap();
    assert_eq!(e.event, proto(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
    let e = run(&with(b"\x04\x04\x05REA")).unwrap();
    assert_eq!(e.event, proto(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
    // ERROR: a ZAP status code is an auth failure; other reasons raise nothing.
    let e = run(&with(b"\x04\x0a\x05ERROR\x03400")).unwrap();
    assert_eq!((e.errno, e.event), (libc::EPROTO, Some(MonitorEvent::Auth(400))));
    let e = run(&with(b"\x04\x0a\x05ERROR\x03abc")).unwrap();
    assert_eq!((e.errno, e.event), (libc::EPROTO, None));
    let e = run(&with(b"\x04\x0a\x05ERROR\x09abc")).unwrap();
    assert_eq!(e.event, proto(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR));
    assert_eq!(
        e.monitor_event(),
        Some((
            ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR as u64
        ))
    );
    // Bad metadata or socket type: EPROTO / EINVAL and no event.
    let e = run(&with(b"\x04\x09\x05READY\x05ab")).unwrap();
    assert_eq!((e.errno, e.event), (libc::EPROTO, None));
    let e = run(&with(&ready(&[(b"Socket-Type", b"PULL")]))).unwrap();
    assert_eq!((e.errno, e.event), (libc::EINVAL, None));
    let e = run(&with(&ready(&[(b"Socket-Type", b"NOPE")]))).unwrap();
    assert_eq!((e.errno, e.event), (libc::EINVAL, None));
}

#[test]
fn lenient_where_libzmq_is() {
    let done = |stream: &[u8]| {
        let mut hs = Handshake::new(cfg(ZMQ_PULL, b""));
        let n = hs.input(stream).unwrap();
        assert!(hs.is_done());
        (n, hs.finish())
    };
    let g = greeting(3, 1, b"NULL");
    let r = ready(&[(b"Socket-Type", b"PUSH")]);
    // READY as a message frame, in a long frame, with MORE set, without Socket-Type, with
    // a lowercase name (just another property), and as-server set.
    done(&[&g[..], b"\x00", &r[1..]].concat());
    let mut long = vec![0x06];
    long.extend_from_slice(&(r.len() as u64 - 2).to_be_bytes());
    long.extend_from_slice(&r[2..]);
    done(&[&g[..], &long[..]].concat());
    done(&[&g[..], b"\x05", &r[1..]].concat());
    let (_, est) = done(&[&g[..], &ready(&[])[..]].concat());
    assert_eq!(est.peer_socket_type, -1);
    let (_, est) = done(&[&g[..], &ready(&[(b"socket-type", b"PUB")])[..]].concat());
    assert_eq!(est.peer_socket_type, -1);
    assert_eq!(est.peer_metadata[0].0, "socket-type");
    let mut gs = g.clone();
    gs[32] = 1;
    done(&[&gs[..], &r[..]].concat());
    // Revision 2 or 4: treated as 3.1, as libzmq does.
    for rev in [2, 4] {
        let (_, est) = done(&[&greeting(rev, 0, b"NULL")[..], &r[..]].concat());
        assert_eq!(est.version, (3, 1));
    }
    // Duplicate properties: the first wins.
    let (_, est) = done(
        &[&g[..], &ready(&[(b"Socket-Type", b"PUSH"), (b"X-A", b"1"), (b"X-A", b"2")])[..]]
            .concat(),
    );
    assert_eq!(est.peer_metadata.len(), 2);
    assert_eq!(est.peer_metadata[1].1, b"1");
}

#[test]
fn max_msg_size_applies_to_handshake_commands() {
    // libzmq refuses a READY over ZMQ_MAXMSGSIZE (no event, just a disconnect).
    let mut c = cfg(ZMQ_PULL, b"");
    c.max_msg_size = 10;
    let mut hs = Handshake::new(c);
    let stream = [&greeting(3, 1, b"NULL")[..], &ready(&[(b"Socket-Type", b"PUSH")])[..]].concat();
    let e = hs.input(&stream).unwrap_err();
    assert_eq!((e.errno, e.event), (libc::EMSGSIZE, None));
    // A huge announced command is refused before anything is buffered.
    let mut hs = Handshake::new(cfg(ZMQ_PULL, b""));
    let mut s = greeting(3, 1, b"NULL");
    s.extend_from_slice(b"\x06\x7f\xff\xff\xff\xff\xff\xff\xff");
    assert_eq!(hs.input(&s).unwrap_err().errno, libc::EPROTO);
}

#[test]
fn zmtp_3_0_peer() {
    let c = cfg(ZMQ_XSUB, b"");
    let mut ours = Handshake::new(c.clone());
    let mut old = Handshake::announcing(cfg(ZMQ_XPUB, b""), 0);
    pump(&mut ours, &mut old, usize::MAX).unwrap();
    let (mut a, mut b) = (ours.finish(), old.finish());
    assert_eq!((a.version, b.version), ((3, 0), (3, 0)));
    // Subscriptions go as messages to a 3.0 peer.
    a.engine.encode(Msg::from_slice(b"\x01topic"));
    assert_eq!(encoded(&a.engine.encoder), b"\x00\x06\x01topic");
    let frames = decode_all(&mut b.engine.decoder, &encoded(&a.engine.encoder), 3).unwrap();
    assert_eq!(as_msg(&frames[0]), (&b"\x01topic"[..], false));
}

#[test]
fn zmtp_2_0_peer() {
    // A libzmq 3.x/4.0 DEALER ("me"), as our ROUTER sees it; we answer as libzmq 4.3
    // does: major 3, our socket type, our identity frame.
    let mut hs = Handshake::new(cfg(ZMQ_ROUTER, b"rt"));
    let peer = b"\xff\x00\x00\x00\x00\x00\x00\x00\x03\x7f\x01\x05\x00\x02me";
    let n = hs.input(&[&peer[..], b"\x01\x00\x00\x02hi"].concat()).unwrap();
    assert_eq!(n, peer.len());
    assert!(hs.is_done());
    assert_eq!(hs.output(), b"\xff\x00\x00\x00\x00\x00\x00\x00\x03\x7f\x03\x06\x00\x02rt");
    let mut est = hs.finish();
    assert_eq!(est.version, (2, 0));
    assert_eq!(est.peer_socket_type, ZMQ_DEALER);
    assert_eq!(est.peer_routing_id.as_deref(), Some(&b"me"[..]));
    let frames = decode_all(&mut est.engine.decoder, b"\x01\x00\x00\x02hi", 1).unwrap();
    assert_eq!(as_msg(&frames[0]), (&b""[..], true));
    assert_eq!(as_msg(&frames[1]), (&b"hi"[..], false));
    // No commands in 2.0: no PING, and subscriptions are plain messages.
    assert!(!est
        .engine
        .encoder
        .encode_command(&Command::Ping { ttl_deciseconds: 0, context: vec![] }));
    est.engine.advance(usize::MAX);
    est.engine.encode(msg(b"x", false));
    assert_eq!(encoded(&est.engine.encoder), b"\x00\x01x");

    // A 2.0 peer is refused when security (or ZAP) is required, without an event.
    let mut c = cfg(ZMQ_ROUTER, b"");
    c.zap_enabled = true;
    let mut hs = Handshake::new(c);
    let e = hs.input(peer).unwrap_err();
    assert_eq!((e.errno, e.event), (libc::EPROTO, None));
}

#[test]
fn zmtp_1_0_peers() {
    // Unversioned, short identity frame: our signature was our identity frame's header.
    let mut hs = Handshake::new(cfg(ZMQ_PUB, b"xy"));
    assert_eq!(hs.input(b"\x01\x00\x04\x00abc").unwrap(), 2);
    assert!(hs.is_done());
    assert_eq!(hs.output(), b"\xff\x00\x00\x00\x00\x00\x00\x00\x03\x7fxy");
    let mut est = hs.finish();
    assert_eq!(est.version, (1, 0));
    assert_eq!(est.peer_routing_id.as_deref(), Some(&b""[..]));
    // PUB: a 1.0 peer sends no subscriptions, so it is subscribed to everything first.
    let frames = decode_all(&mut est.engine.decoder, b"\x04\x00abc", 1).unwrap();
    assert_eq!(as_msg(&frames[0]), (&b"\x01"[..], false));
    assert_eq!(as_msg(&frames[1]), (&b"abc"[..], false));
    est.engine.advance(usize::MAX);
    est.engine.encode(msg(b"hello", true));
    assert_eq!(encoded(&est.engine.encoder), b"\x06\x01hello");

    // Unversioned, long identity header (FF, 8-octet length, flags with bit 0 clear).
    let mut hs = Handshake::new(cfg(ZMQ_PULL, b""));
    let stream = b"\xff\x00\x00\x00\x00\x00\x00\x00\x04\x00abc\x02\x00z";
    assert_eq!(hs.input(stream).unwrap(), 13);
    let est = hs.finish();
    assert_eq!(est.peer_routing_id.as_deref(), Some(&b"abc"[..]));

    // Revision 0: greeting, then 1.0 framing.
    let mut hs = Handshake::new(cfg(ZMQ_PULL, b""));
    let stream = b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x00\x08\x03\x00id";
    assert_eq!(hs.input(stream).unwrap(), stream.len());
    let est = hs.finish();
    assert_eq!((est.version, est.peer_socket_type), ((1, 0), ZMQ_PUSH));

    // A zero length is invalid; HTTP is a (bounded) 1.0 identity frame that never ends.
    let mut hs = Handshake::new(cfg(ZMQ_PULL, b""));
    assert_eq!(hs.input(b"\x00\x00").unwrap_err().errno, libc::EPROTO);
    let mut hs = Handshake::new(cfg(ZMQ_PULL, b""));
    assert_eq!(hs.input(b"GET / HTTP/1.1\r\n\r\n").unwrap(), 18);
    assert!(!hs.is_done() && hs.wanted() <= 255);
}

// ---- decoder ----

fn frame_bytes(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    encoder::put_frame_header(&mut v, flags, body.len() as u64);
    v.extend_from_slice(body);
    v
}

#[test]
fn decoder_every_size_boundary() {
    for size in [0, 1, 39, 40, 41, 254, 255, 256, 8191, 8192, 8193, 20_000, 1 << 20] {
        let body: Vec<u8> = (0..size).map(|i| (i * 7 + 3) as u8).collect();
        let wire = frame_bytes(0, &body);
        assert_eq!(wire.len(), body.len() + if size > 255 { 9 } else { 2 });
        for step in [1, 5, 4096, usize::MAX] {
            if size > 9000 && step < 4096 {
                continue;
            }
            let mut dec = Decoder::new((3, 1), ZMQ_PULL, 8192, -1);
            let frames = decode_all(&mut dec, &wire, step).unwrap();
            assert_eq!(frames.len(), 1, "size {size} step {step}");
            assert_eq!(as_msg(&frames[0]), (&body[..], false));
        }
    }
}

#[test]
fn decoder_more_and_command_flags() {
    let mut wire = frame_bytes(FLAG_MORE, b"a");
    wire.extend(frame_bytes(FLAG_COMMAND, b"\x04PING\x00\x05ctx"));
    wire.extend(frame_bytes(FLAG_MORE, &[7; 300]));
    wire.extend(frame_bytes(0, b"z"));
    wire.extend(frame_bytes(FLAG_COMMAND, b"\x09SUBSCRIBEt"));
    // Reserved bits are ignored, as libzmq does.
    wire.extend(frame_bytes(0xf8, b"r"));
    let mut dec = Decoder::new((3, 1), ZMQ_DEALER, 8192, -1);
    let f = decode_all(&mut dec, &wire, 1).unwrap();
    assert_eq!(f.len(), 6);
    assert_eq!(as_msg(&f[0]), (&b"a"[..], true));
    assert!(
        matches!(&f[1], Frame::Command(Command::Ping { ttl_deciseconds: 5, context }) if context == b"ctx")
    );
    assert_eq!(as_msg(&f[2]), (&[7u8; 300][..], true));
    assert_eq!(as_msg(&f[3]), (&b"z"[..], false));
    assert!(matches!(&f[4], Frame::Command(Command::Subscribe(t)) if t == b"t"));
    assert_eq!(as_msg(&f[5]), (&b"r"[..], false));
}

#[test]
fn decoder_subscriptions_become_messages_on_pub_and_xpub() {
    let mut wire = frame_bytes(FLAG_COMMAND, b"\x09SUBSCRIBEab");
    wire.extend(frame_bytes(FLAG_COMMAND, b"\x06CANCELab"));
    wire.extend(frame_bytes(FLAG_COMMAND, b"\x09SUBSCRIB"));
    wire.extend(frame_bytes(0, b"\x01cd"));
    for t in [ZMQ_PUB, ZMQ_XPUB] {
        let mut dec = Decoder::new((3, 1), t, 8192, -1);
        let f = decode_all(&mut dec, &wire, 3).unwrap();
        // The malformed command is dropped, as libzmq does.
        assert_eq!(f.len(), 3);
        assert_eq!(as_msg(&f[0]), (&b"\x01ab"[..], false));
        assert_eq!(as_msg(&f[1]), (&b"\x00ab"[..], false));
        assert_eq!(as_msg(&f[2]), (&b"\x01cd"[..], false));
    }
}

#[test]
fn decoder_max_size_and_absurd_lengths() {
    let mut dec = Decoder::new((3, 1), ZMQ_PULL, 8192, 10);
    assert_eq!(decode_all(&mut dec, &frame_bytes(0, &[1; 10]), 3).unwrap().len(), 1);
    let e = decode_all(&mut dec, &frame_bytes(0, &[1; 11]), 3).unwrap_err();
    assert_eq!((e.errno, e.event), (libc::EMSGSIZE, None));
    // Max applies to commands too.
    let mut dec = Decoder::new((3, 1), ZMQ_PULL, 8192, 10);
    let e = decode_all(&mut dec, &frame_bytes(FLAG_COMMAND, b"\x04PING\x00\x00ctxctx"), 1);
    assert_eq!(e.unwrap_err().errno, libc::EMSGSIZE);
    // Just over 2^32 with a max just under: refused from the header alone.
    let mut dec = Decoder::new((3, 1), ZMQ_PULL, 8192, (1 << 32) + 4);
    let mut wire = vec![FLAG_LONG];
    wire.extend_from_slice(&((1u64 << 32) + 5).to_be_bytes());
    assert_eq!(decode_all(&mut dec, &wire, 1).unwrap_err().errno, libc::EMSGSIZE);
    // 2^63 and 2^64-1 without a max: an error, not an allocation.
    for len in [1u64 << 63, u64::MAX, (1 << 63) - 1] {
        let mut dec = Decoder::new((3, 1), ZMQ_PULL, 8192, -1);
        let mut wire = vec![FLAG_LONG];
        wire.extend_from_slice(&len.to_be_bytes());
        assert_eq!(decode_all(&mut dec, &wire, 4).unwrap_err().errno, libc::ENOMEM);
    }
    // ZMTP 1.0: a zero length is invalid.
    let mut dec = Decoder::new((1, 0), ZMQ_PULL, 8192, -1);
    assert_eq!(decode_all(&mut dec, b"\x00", 1).unwrap_err().errno, libc::EPROTO);
}

#[test]
fn decoder_reads_large_bodies_in_place() {
    let size = 100_000;
    let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let wire = frame_bytes(FLAG_MORE, &body);
    let mut dec = Decoder::new((3, 1), ZMQ_PULL, 8192, -1);
    // First read: the header and the start of the body, through the batch buffer.
    let buf = dec.read_buf();
    assert_eq!(buf.len(), 8192);
    buf.copy_from_slice(&wire[..8192]);
    dec.filled(8192);
    let mut out = Vec::new();
    assert_eq!(
        dec.decode(&mut |f| {
            out.push(f);
            Ok(())
        })
        .unwrap(),
        Progress::NeedInput
    );
    assert!(out.is_empty());
    // Then the rest goes straight into the message: one read of exactly what is missing.
    let mut pos = 8192;
    let buf = dec.read_buf();
    assert_eq!(buf.len(), wire.len() - pos);
    buf[..50_000].copy_from_slice(&wire[pos..pos + 50_000]);
    dec.filled(50_000);
    pos += 50_000;
    dec.decode(&mut |f| {
        out.push(f);
        Ok(())
    })
    .unwrap();
    let buf = dec.read_buf();
    assert_eq!(buf.len(), wire.len() - pos);
    let n = buf.len() - 100;
    buf[..n].copy_from_slice(&wire[pos..pos + n]);
    dec.filled(n);
    pos += n;
    dec.decode(&mut |f| {
        out.push(f);
        Ok(())
    })
    .unwrap();
    assert!(out.is_empty());
    // The last 100 bytes are under a batch: the batch buffer again, with the next frame.
    let mut tail = wire[pos..].to_vec();
    tail.extend(frame_bytes(0, b"next"));
    let buf = dec.read_buf();
    assert_eq!(buf.len(), 8192);
    buf[..tail.len()].copy_from_slice(&tail);
    dec.filled(tail.len());
    dec.decode(&mut |f| {
        out.push(f);
        Ok(())
    })
    .unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(as_msg(&out[0]), (&body[..], true));
    assert_eq!(as_msg(&out[1]), (&b"next"[..], false));
}

#[test]
fn decoder_pauses_and_resumes_without_loss() {
    let mut wire = Vec::new();
    for i in 0..200u32 {
        wire.extend(frame_bytes(if i % 3 == 0 { FLAG_MORE } else { 0 }, &i.to_be_bytes()));
    }
    let mut dec = Decoder::new((3, 1), ZMQ_PULL, 64, -1);
    let mut got = Vec::new();
    let mut rest = &wire[..];
    let mut refuse = 0u32;
    loop {
        let p = dec
            .decode(&mut |f| {
                refuse += 1;
                if refuse.is_multiple_of(4) {
                    return Err(f);
                }
                got.push(f);
                Ok(())
            })
            .unwrap();
        if p == Progress::Paused {
            assert!(dec.has_pending());
            continue;
        }
        if rest.is_empty() {
            break;
        }
        let buf = dec.read_buf();
        let n = buf.len().min(rest.len()).min(37);
        buf[..n].copy_from_slice(&rest[..n]);
        dec.filled(n);
        rest = &rest[n..];
    }
    assert_eq!(got.len(), 200);
    for (i, f) in got.iter().enumerate() {
        assert_eq!(as_msg(f), (&(i as u32).to_be_bytes()[..], i % 3 == 0));
    }
}

#[test]
fn decoder_v1_framing() {
    let mut wire = b"\x02\x01a\x01\x00".to_vec();
    wire.push(0xff);
    wire.extend_from_slice(&301u64.to_be_bytes());
    wire.push(0);
    wire.extend_from_slice(&[9; 300]);
    let mut dec = Decoder::new((1, 0), ZMQ_PULL, 8192, -1);
    let f = decode_all(&mut dec, &wire, 2).unwrap();
    assert_eq!(as_msg(&f[0]), (&b"a"[..], true));
    assert_eq!(as_msg(&f[1]), (&b""[..], false));
    assert_eq!(as_msg(&f[2]), (&[9u8; 300][..], false));
}

// ---- encoder ----

#[test]
fn encoder_frame_bytes() {
    let mut enc = Encoder::new((3, 1), ZMQ_DEALER, 8192);
    enc.encode(msg(b"", true));
    enc.encode(msg(&[5; 255], true));
    enc.encode(msg(&[6; 256], false));
    let out = encoded(&enc);
    assert_eq!(&out[..4], b"\x01\x00\x01\xff");
    assert_eq!(&out[4 + 255..4 + 255 + 9], b"\x02\x00\x00\x00\x00\x00\x00\x01\x00");
    assert_eq!(out.len(), 2 + 2 + 255 + 9 + 256);
    assert_eq!(enc.buffered(), out.len());
    // Over 2^32: the 8-octet size.
    let mut h = Vec::new();
    encoder::put_frame_header(&mut h, FLAG_MORE, (1 << 32) + 1);
    assert_eq!(h, b"\x03\x00\x00\x00\x01\x00\x00\x00\x01");
    let cmd = Command::Ping { ttl_deciseconds: 1, context: b"c".to_vec() };
    let mut enc = Encoder::new((3, 0), ZMQ_DEALER, 8192);
    assert!(enc.encode_command(&cmd));
    assert_eq!(encoded(&enc), b"\x04\x08\x04PING\x00\x01c");
}

#[test]
fn encoder_packs_small_messages_and_sends_large_bodies_in_place() {
    let mut enc = Encoder::new((3, 1), ZMQ_PUSH, 8192);
    for i in 0..500u32 {
        enc.encode(msg(&i.to_be_bytes(), false));
    }
    assert_eq!(enc.chunks().count(), 1);
    assert_eq!(enc.buffered(), 500 * 6);
    assert!(!enc.is_full());
    let big: Vec<u8> = (0..50_000u32).map(|i| i as u8).collect();
    let m = Msg::from_slice(&big);
    let body_ptr = m.data().as_ptr();
    enc.encode(m);
    enc.encode(msg(b"after", false));
    let chunks: Vec<&[u8]> = enc.chunks().collect();
    assert_eq!(chunks.len(), 3);
    // The large body is the message's own buffer, not a copy.
    assert_eq!(chunks[1].as_ptr(), body_ptr);
    assert!(enc.is_full());
    assert_eq!(enc.io_slices().len(), 3);
    // Partial writes across chunk boundaries.
    let all = encoded(&enc);
    let mut sent = Vec::new();
    while enc.has_output() {
        let first = enc.chunks().next().unwrap();
        let n = first.len().min(4097);
        sent.extend_from_slice(&first[..n]);
        enc.advance(n);
    }
    assert_eq!(sent, all);
    assert_eq!(enc.buffered(), 0);
    // The decoder gets back exactly what went in.
    let mut dec = Decoder::new((3, 1), ZMQ_PULL, 8192, -1);
    let f = decode_all(&mut dec, &sent, 3000).unwrap();
    assert_eq!(f.len(), 502);
    assert_eq!(as_msg(&f[500]).0, &big[..]);
    assert_eq!(as_msg(&f[501]).0, b"after");
}

#[test]
fn encoder_subscriptions_by_version() {
    for t in [ZMQ_SUB, ZMQ_XSUB] {
        let mut enc = Encoder::new((3, 1), t, 8192);
        enc.encode(msg(b"\x01ab", false));
        enc.encode(msg(b"\x00ab", false));
        enc.encode(msg(b"\x01", false));
        // Not subscriptions: other first bytes, and any part of a multipart message.
        enc.encode(msg(b"\x02ab", false));
        enc.encode(msg(b"\x01m", true));
        enc.encode(msg(b"\x01n", false));
        assert_eq!(
            encoded(&enc),
            b"\x04\x0c\x09SUBSCRIBEab\x04\x09\x06CANCELab\x04\x0a\x09SUBSCRIBE\
\x00\x03\x02ab\x01\x02\x01m\x00\x02\x01n"
        );
        for v in [(3, 0), (2, 0)] {
            let mut enc = Encoder::new(v, t, 8192);
            enc.encode(msg(b"\x01ab", false));
            assert_eq!(encoded(&enc), b"\x00\x03\x01ab");
        }
    }
    // Other sockets' messages are never rewritten.
    let mut enc = Encoder::new((3, 1), ZMQ_DEALER, 8192);
    enc.encode(msg(b"\x01ab", false));
    assert_eq!(encoded(&enc), b"\x00\x03\x01ab");
    // A long topic: the command's size counts the name; the topic is sent in place.
    let topic = vec![b'x'; 5000];
    let mut enc = Encoder::new((3, 1), ZMQ_SUB, 8192);
    enc.encode(Msg::from_slice(&[&[1u8][..], &topic[..]].concat()));
    let out = encoded(&enc);
    assert_eq!(&out[..9], &[&[6u8][..], &(5010u64).to_be_bytes()[..]].concat()[..]);
    let mut dec = Decoder::new((3, 1), ZMQ_XPUB, 8192, -1);
    let f = decode_all(&mut dec, &out, 1000).unwrap();
    assert_eq!(as_msg(&f[0]).0, &[&[1u8][..], &topic[..]].concat()[..]);
}

#[test]
fn encoder_io_slices_are_capped() {
    let mut enc = Encoder::new((3, 1), ZMQ_PUSH, 8192);
    for _ in 0..100 {
        enc.encode(Msg::from_slice(&[1; 3000]));
    }
    assert_eq!(enc.io_slices().len(), encoder::MAX_IO_SLICES);
    let total: usize = enc.io_slices().iter().map(|s| s.len()).sum();
    enc.advance(total);
    assert!(enc.has_output());
}

// ---- engine ----

#[test]
fn engine_answers_ping_and_sends_heartbeats() {
    let mut c = cfg(ZMQ_PAIR, b"");
    c.heartbeat = HeartbeatConfig { ivl_ms: 100, ttl_deciseconds: 30, timeout_ms: -1 };
    let (mut a, mut b) = established(c, cfg(ZMQ_PAIR, b""));
    let t0 = Instant::now();
    assert_eq!(a.engine.heartbeat(t0), HeartbeatAction::Next(t0 + Duration::from_millis(100)));
    assert_eq!(b.engine.heartbeat(t0), HeartbeatAction::Idle);
    let t1 = t0 + Duration::from_millis(100);
    assert!(matches!(a.engine.heartbeat(t1), HeartbeatAction::Next(_)));
    let wire = encoded(&a.engine.encoder);
    assert_eq!(wire, b"\x04\x07\x04PING\x00\x1e");
    a.engine.advance(wire.len());
    // b answers, and now expects traffic within a's TTL.
    let mut frames = Vec::new();
    let buf = b.engine.read_buf();
    buf[..wire.len()].copy_from_slice(&wire);
    b.engine.filled(wire.len(), t1, &mut frames).unwrap();
    assert!(frames.is_empty());
    let pong = encoded(&b.engine.encoder);
    assert_eq!(pong, b"\x04\x05\x04PONG");
    assert_eq!(b.engine.next_timer(), Some(t1 + Duration::from_millis(3000)));
    assert_eq!(b.engine.heartbeat(t1 + Duration::from_millis(3000)), HeartbeatAction::Expired);
    // a got its PONG in time: no expiry at the timeout.
    let buf = a.engine.read_buf();
    buf[..pong.len()].copy_from_slice(&pong);
    a.engine.filled(pong.len(), t1, &mut frames).unwrap();
    assert!(matches!(
        a.engine.heartbeat(t1 + Duration::from_millis(199)),
        HeartbeatAction::Next(_)
    ));
    // Without an answer to the next PING, a gives up one timeout later.
    assert!(matches!(
        a.engine.heartbeat(t1 + Duration::from_millis(200)),
        HeartbeatAction::Next(_)
    ));
    assert_eq!(a.engine.heartbeat(t1 + Duration::from_millis(300)), HeartbeatAction::Expired);
}

#[test]
fn engine_passes_other_commands_and_messages() {
    let (_, mut b) = established(cfg(ZMQ_DEALER, b""), cfg(ZMQ_DEALER, b""));
    let mut wire = frame_bytes(FLAG_COMMAND, b"\x05ERROR\x02no");
    wire.extend(frame_bytes(FLAG_COMMAND, b"\x04PONGxx"));
    wire.extend(frame_bytes(0, b"m"));
    let buf = b.engine.read_buf();
    buf[..wire.len()].copy_from_slice(&wire);
    let mut frames = Vec::new();
    b.engine.filled(wire.len(), Instant::now(), &mut frames).unwrap();
    assert_eq!(frames.len(), 2);
    assert!(matches!(&frames[0], Frame::Command(Command::Error(r)) if r == b"no"));
    assert_eq!(as_msg(&frames[1]), (&b"m"[..], false));
    let ping = Command::Ping { ttl_deciseconds: 0, context: b"abc".to_vec() };
    assert_eq!(b.engine.command(ping, Instant::now()), None);
    assert_eq!(encoded(&b.engine.encoder), b"\x04\x08\x04PONGabc");
}

// ---- round trips and quick fuzzing ----

/// xorshift64*: deterministic, dependency-free randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn random_messages_round_trip_in_every_version() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for version in [(1, 0), (2, 0), (3, 0), (3, 1)] {
        let mut enc = Encoder::new(version, ZMQ_DEALER, 512);
        let mut dec = Decoder::new(version, ZMQ_DEALER, 512, -1);
        let mut sent = Vec::new();
        for _ in 0..300 {
            let len = match rng.below(10) {
                0 => rng.below(70_000),
                1..=3 => rng.below(300),
                _ => rng.below(40),
            } as usize;
            let m = msg(&rng.bytes(len), rng.below(2) == 0);
            sent.push((m.data().to_vec(), m.more()));
            enc.encode(m);
        }
        let wire = encoded(&enc);
        let step = rng.below(3000) as usize + 1;
        let got = decode_all(&mut dec, &wire, step).unwrap();
        assert_eq!(got.len(), sent.len(), "{version:?}");
        for (f, (body, more)) in got.iter().zip(&sent) {
            assert_eq!(as_msg(f), (&body[..], *more));
        }
    }
}

#[test]
fn quick_fuzz_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    let mut good = greeting(3, 1, b"NULL");
    good.extend(ready(&[(b"Socket-Type", b"ROUTER"), (b"Identity", b"x")]));
    good.extend(frame_bytes(FLAG_MORE, b"abc"));
    good.extend(frame_bytes(FLAG_COMMAND, b"\x04PING\x00\x01ctx"));
    good.extend(frame_bytes(0, &[1; 300]));
    seeds.push(good);
    seeds.push(b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x01\x05\x00\x02me\x01\x00".to_vec());
    seeds.push(b"\x01\x00\x04\x00abc".to_vec());
    for i in 0..20_000u32 {
        let mut data = if i % 2 == 0 {
            let n = rng.below(200) as usize;
            rng.bytes(n)
        } else {
            seeds[(i as usize / 2) % seeds.len()].clone()
        };
        // Mutate: flip, insert, truncate.
        for _ in 0..rng.below(6) {
            if data.is_empty() {
                break;
            }
            let p = rng.below(data.len() as u64) as usize;
            match rng.below(3) {
                0 => data[p] ^= 1 << rng.below(8),
                1 => data.insert(p, rng.next() as u8),
                _ => data.truncate(p),
            }
        }
        let mut input = vec![rng.next() as u8];
        input.extend_from_slice(&data);
        fuzzing::handshake(&input);
        fuzzing::decoder(&input);
    }
}

/// ZMQ_ZERO_COPY_RECV: bodies read whole point into the receive buffer, which is replaced
/// (never rewritten) while they live; with the option off they are copies.
#[test]
fn zero_copy_bodies_survive_later_reads() {
    fn frame(fill: u8) -> Vec<u8> {
        let mut f = vec![0u8, 100];
        f.extend(std::iter::repeat_n(fill, 100));
        f
    }
    for zero_copy in [true, false] {
        let mut dec = Decoder::new((3, 1), ZMQ_DEALER, 256, -1);
        dec.set_zero_copy(zero_copy);
        let mut kept = Vec::new();
        for round in 0..4u8 {
            // Two whole frames per read, then decode them.
            let bytes: Vec<u8> = [frame(round * 2), frame(round * 2 + 1)].concat();
            let buf = dec.read_buf();
            buf[..bytes.len()].copy_from_slice(&bytes);
            dec.filled(bytes.len());
            dec.decode(&mut |f| {
                if let Frame::Message(m) = f {
                    kept.push(m);
                }
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(kept.len(), 8);
        for (i, m) in kept.iter().enumerate() {
            assert_eq!(m.data(), &[i as u8; 100][..], "zero_copy={zero_copy} message {i}");
        }
        // The first two share a buffer when lent, and none is reported as shared.
        let same = kept[0].data().as_ptr() as usize + 102 == kept[1].data().as_ptr() as usize;
        assert_eq!(same, zero_copy);
        assert!(kept.iter().all(|m| !m.is_shared()));
        drop(kept);
        // With nothing lent any more the buffer is reused in place.
        let p = dec.read_buf().as_ptr();
        dec.filled(0);
        assert_eq!(dec.read_buf().as_ptr(), p);
    }
}
