//! CURVE tests: known answers from libsodium, handshakes in memory (with and without the
//! ZAP pause), message boxing, and hostile input (truncated, forged, replayed, reordered,
//! oversized, wrong keys, bad vouch), each an error and never a panic.
//!
//! The known answers were computed by `curve_kat.c` (libsodium 1.0.18 as Debian ships it,
//! the library libzmq uses) and are pasted below; `kat_generator_agrees` rebuilds and reruns
//! it where libsodium's header is installed, so a changed vector cannot go unnoticed.

use super::*;
use crate::zmtp::mechanism::{Curve as CurveMech, Local, Mechanism, Peer};
use crate::zmtp::zap::ZapReply;

const CLIENT_PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

const KAT: &[(&str, &str)] = &[
    ("client_public", "bb88471d65e2659b30c55a5321cebb5aab2b70a398645c26dca2b2fcb43fc518"),
    ("cn_public", "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c"),
    ("sn_public", "5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b"),
    (
        "hello_box",
        "6e3f26f72fe2f05db20de7881ee6a08fc432afe73b138226f5930879c93bdd4d8586425a3a8d6bc5\
         d83598a3017e0f1792ff0381360d168b6fe1c5e0bb752b0d365e13ea8e8a29ce1c5052c8c63eced7",
    ),
    ("message_box", "fa0a681cc7dcd8d8d0b244a4adaa4735232731a3f5fd"),
    ("ready_box", "ed4484097ee55a8ddb79423e0b90dbbe"),
    (
        "cookie_box",
        "4dc5eddba7cb6e33756bd7bbfac19633890fca404162376058ac6b8ba33d2980137f3abce1686948\
         6f958001f65f82516648758d416afd0723c6a37704a5cb937813607fff70068d87afc9f81ac62f1b",
    ),
    ("low_order_rc", "-1"),
];

fn kat(name: &str) -> Vec<u8> {
    let h = KAT.iter().find(|(n, _)| *n == name).unwrap().1;
    (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect()
}

fn key(z85: &str) -> [u8; KEY_LEN] {
    crate::z85::decode(z85.as_bytes()).unwrap().try_into().unwrap()
}

fn secret(z85: &str) -> SecretKey {
    SecretKey::from_bytes(key(z85))
}

fn ramp(start: u8) -> SecretKey {
    let mut b = [0u8; KEY_LEN];
    for (i, x) in b.iter_mut().enumerate() {
        *x = start + i as u8;
    }
    SecretKey::from_bytes(b)
}

fn local() -> Local<'static> {
    Local { socket_type: ZMQ_DEALER, routing_id: b"", metadata: &[] }
}

fn code(e: ZmtpError) -> i32 {
    match e.event {
        Some(MonitorEvent::Protocol(c)) => c,
        other => panic!("{e}: {other:?}"),
    }
}

/// The fixed-key pair of the known-answer tests: short-term secrets 1..=32 and 33..=64.
fn fixed_pair() -> (CurveClient, CurveServer) {
    let (cn, sn) = (ramp(1), ramp(33));
    let client = CurveClient::with_short_term(
        key(CLIENT_PUBLIC),
        secret(CLIENT_SECRET),
        key(SERVER_PUBLIC),
        public_of(&cn),
        cn,
    );
    let server = CurveServer::with_short_term(secret(SERVER_SECRET), public_of(&sn), sn);
    (client, server)
}

fn random_pair() -> (CurveClient, CurveServer) {
    let client =
        CurveClient::new(key(CLIENT_PUBLIC), secret(CLIENT_SECRET), key(SERVER_PUBLIC)).unwrap();
    (client, CurveServer::new(secret(SERVER_SECRET)).unwrap())
}

/// The commands of a handshake, recorded: HELLO, WELCOME, INITIATE, READY.
struct Transcript {
    hello: Vec<u8>,
    welcome: Vec<u8>,
    initiate: Vec<u8>,
    ready: Vec<u8>,
}

/// Drives both sides; `zap` answers the server's request (None: skip, accepting).
fn drive(
    c: &mut CurveClient,
    s: &mut CurveServer,
    zap: Option<u16>,
) -> Result<Transcript, ZmtpError> {
    let l = local();
    let (mut cp, mut sp) = (Peer::default(), Peer::default());
    let hello = c.next_command(&l).expect("HELLO");
    assert!(c.next_command(&l).is_none());
    s.process(&hello, &l, &mut sp)?;
    let welcome = s.next_command(&l).expect("WELCOME");
    c.process(&welcome, &l, &mut cp)?;
    let initiate = c.next_command(&l).expect("INITIATE");
    s.process(&initiate, &l, &mut sp)?;
    assert!(s.next_command(&l).is_none(), "READY before ZAP");
    let req = s.zap_request().expect("a ZAP request");
    assert_eq!(req.mechanism, "CURVE");
    assert_eq!(req.credentials, vec![key(CLIENT_PUBLIC).to_vec()]);
    match zap {
        Some(status) => s.zap_reply(&ZapReply { status, user_id: vec![], metadata: vec![] })?,
        None => s.zap_skip(true)?,
    }
    let ready = s.next_command(&l).expect("READY");
    c.process(&ready, &l, &mut cp)?;
    assert!(c.is_ready() && s.is_ready());
    assert_eq!(cp.socket_type, Some(ZMQ_DEALER));
    assert_eq!(sp.socket_type, Some(ZMQ_DEALER));
    Ok(Transcript { hello, welcome, initiate, ready })
}

#[test]
fn kat_keys() {
    assert_eq!(public_of(&secret(CLIENT_SECRET)).to_vec(), kat("client_public"));
    assert_eq!(key(CLIENT_PUBLIC).to_vec(), kat("client_public"));
    assert_eq!(public_of(&secret(SERVER_SECRET)), key(SERVER_PUBLIC));
    assert_eq!(public_of(&ramp(1)).to_vec(), kat("cn_public"));
    assert_eq!(public_of(&ramp(33)).to_vec(), kat("sn_public"));
    // libsodium refuses a low-order public key; so do we.
    assert_eq!(KAT.last(), Some(&("low_order_rc", "-1")));
    assert!(BoxKey::new(&[0; KEY_LEN], &ramp(1)).is_err());
}

#[test]
fn kat_hello() {
    let (mut c, _) = fixed_pair();
    let hello = c.next_command(&local()).unwrap();
    assert_eq!(hello.len(), 200);
    assert_eq!(&hello[..8], b"\x05HELLO\x01\x00");
    assert_eq!(hello[8..80], [0; 72]);
    assert_eq!(hello[80..112].to_vec(), kat("cn_public"));
    assert_eq!(hello[112..120], 1u64.to_be_bytes());
    assert_eq!(hello[120..].to_vec(), kat("hello_box"));
}

#[test]
fn kat_message_ready_cookie() {
    let (cn, sn) = (ramp(1), ramp(33));
    let mut ch = Channel {
        key: BoxKey::new(&public_of(&sn), &cn).unwrap(),
        send_prefix: b"CurveZMQMESSAGEC",
        recv_prefix: b"CurveZMQMESSAGES",
        next_nonce: 3,
        peer_nonce: 0,
    };
    let mut out = Vec::new();
    ch.encode(INNER_MORE, b"hello", &mut out).unwrap();
    assert_eq!(&out[..16], b"\x07MESSAGE\x00\x00\x00\x00\x00\x00\x00\x03");
    assert_eq!(out[16..].to_vec(), kat("message_box"));

    let k = BoxKey::new(&public_of(&cn), &sn).unwrap();
    let mut ready = Vec::new();
    k.seal(&nonce(b"CurveZMQREADY---", &1u64.to_be_bytes()), b"", &mut ready);
    assert_eq!(ready, kat("ready_box"));

    let plain: Vec<u8> = (0..64).collect();
    let mut cookie = Vec::new();
    BoxKey::secret(&[0x42; 32]).seal(&nonce(b"COOKIE--", &[0xaa; 16]), &plain, &mut cookie);
    assert_eq!(cookie, kat("cookie_box"));
    // And it opens again.
    let opened = BoxKey::secret(&[0x42; 32]).open(&nonce(b"COOKIE--", &[0xaa; 16]), &cookie);
    assert_eq!(opened.unwrap().as_slice(), &plain[..]);
}

/// Reruns the generator with libsodium (and libzmq for Z85). A missing reference fails the
/// test rather than skipping it (libzmq3-dev brings both).
#[test]
fn kat_generator_agrees() {
    use std::path::Path;
    use std::process::Command;
    assert!(
        Path::new("/usr/include/sodium.h").exists()
            && Path::new("/usr/lib/x86_64-linux-gnu/libzmq.so.5").exists(),
        "the CurveZMQ reference needs libsodium's headers and the system libzmq \
         (Debian: apt-get install libzmq3-dev)"
    );
    let exe = crate::zmtp::wire_tests::compile_c("curve_kat.c", &["-lsodium", "-l:libzmq.so.5"]);
    let run = Command::new(&exe).env_remove("LD_LIBRARY_PATH").output().expect("run the generator");
    let _ = std::fs::remove_file(&exe);
    assert!(run.status.success());
    let text = String::from_utf8(run.stdout).unwrap();
    let lines: Vec<(&str, &str)> = text.lines().map(|l| l.split_once(' ').unwrap()).collect();
    assert_eq!(lines.len(), KAT.len());
    for ((n1, v1), (n2, v2)) in lines.iter().zip(KAT) {
        assert_eq!(n1, n2);
        assert_eq!(v1.to_string(), v2.replace(' ', ""), "{n1}");
    }
}

#[test]
fn handshake_and_messages() {
    for zap in [Some(200), None] {
        let (mut c, mut s) = random_pair();
        let t = drive(&mut c, &mut s, zap).unwrap();
        assert_eq!(t.hello.len(), 200);
        assert_eq!(t.welcome.len(), 168);
        assert!(t.initiate.len() >= 257);
        assert!(t.ready.len() >= 30);
        let mut m = Mechanism::Curve(CurveMech::Client(Box::new(c)));
        let mut n = Mechanism::Curve(CurveMech::Server(Box::new(s)));
        assert!(m.boxes_messages());
        for (i, body) in [&b""[..], b"x", &[7u8; 100_000]].iter().enumerate() {
            let flags = (i as u8) % 4;
            let mut wire = Vec::new();
            m.encode_frame(flags, body, &mut wire).unwrap();
            assert_eq!(wire.len(), 33 + body.len());
            assert_eq!(n.decode_frame(&wire).unwrap(), (flags, body.to_vec()));
            // And back.
            wire.clear();
            n.encode_frame(flags, body, &mut wire).unwrap();
            assert_eq!(m.decode_frame(&wire).unwrap(), (flags, body.to_vec()));
        }
    }
}

#[test]
fn messages_before_ready_are_refused() {
    let (c, _) = random_pair();
    let mut m = Mechanism::Curve(CurveMech::Client(Box::new(c)));
    assert!(m.encode_frame(0, b"x", &mut Vec::new()).is_err());
    assert!(m.decode_frame(b"\x07MESSAGE").is_err());
}

#[test]
fn zap_denials() {
    for (status, error_sent) in [(300, false), (400, true), (500, true)] {
        let (mut c, mut s) = random_pair();
        let e = drive(&mut c, &mut s, Some(status)).err().unwrap();
        assert_eq!(e.event, Some(MonitorEvent::Auth(i32::from(status))));
        let next = s.next_command(&local());
        assert_eq!(next.is_some(), error_sent);
        if let Some(b) = next {
            let e = c.process(&b, &local(), &mut Peer::default()).unwrap_err();
            assert_eq!(e.event, Some(MonitorEvent::Auth(i32::from(status))));
        }
        assert!(s.next_command(&local()).is_none() && !s.is_ready());
    }
    let (mut c, mut s) = random_pair();
    let l = local();
    s.process(&c.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    c.process(&s.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    s.process(&c.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    let _ = s.zap_request().unwrap();
    let e = s.zap_skip(false).unwrap_err();
    assert_eq!((e.errno, e.event), (libc::EFAULT, Some(MonitorEvent::NoDetail(libc::EFAULT))));
}

/// A fresh pair, run up to (not including) the server's INITIATE.
fn up_to_initiate() -> (CurveClient, CurveServer, Vec<u8>) {
    let (mut c, mut s) = random_pair();
    let l = local();
    s.process(&c.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    c.process(&s.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    let init = c.next_command(&l).unwrap();
    (c, s, init)
}

#[test]
fn hostile_handshake_commands() {
    let l = local();
    let (mut c, mut s) = random_pair();
    let t = drive(&mut c, &mut s, None).unwrap();

    // Truncated or extended, each command at many lengths: an error, never a panic.
    for cut in 0..t.hello.len() + 2 {
        let mut h = t.hello.clone();
        h.resize(cut, 0);
        let (_, mut s) = random_pair();
        assert!(s.process(&h, &l, &mut Peer::default()).is_err() || cut == 200, "{cut}");
    }
    for cut in (0..t.welcome.len()).chain([169, 400]) {
        let mut w = t.welcome.clone();
        w.resize(cut, 0);
        let (mut c, _) = random_pair();
        c.next_command(&l);
        let e = c.process(&w, &l, &mut Peer::default()).unwrap_err();
        if cut >= 8 {
            assert_eq!(code(e), ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, "{cut}");
        }
    }
    for cut in 0..t.initiate.len() {
        let (_, mut s, mut init) = up_to_initiate();
        init.truncate(cut);
        assert!(s.process(&init, &l, &mut Peer::default()).is_err(), "{cut}");
    }
    for cut in 0..t.ready.len() {
        let (mut c, mut s, init) = up_to_initiate();
        s.process(&init, &l, &mut Peer::default()).unwrap();
        s.zap_skip(true).unwrap();
        let mut ready = s.next_command(&l).unwrap();
        ready.truncate(cut);
        assert!(c.process(&ready, &l, &mut Peer::default()).is_err(), "{cut}");
    }

    // Sizes and codes as libzmq reports them.
    let (_, mut s) = random_pair();
    let mut big = t.hello.clone();
    big.push(0);
    assert_eq!(
        code(s.process(&big, &l, &mut Peer::default()).unwrap_err()),
        ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO
    );
    let (_, mut s) = random_pair();
    let mut v2 = t.hello.clone();
    v2[6] = 2;
    assert_eq!(
        code(s.process(&v2, &l, &mut Peer::default()).unwrap_err()),
        ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO
    );
    let (_, mut s) = random_pair();
    assert_eq!(
        code(s.process(b"\x05READY", &l, &mut Peer::default()).unwrap_err()),
        ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND
    );
    let (_, mut s, init) = up_to_initiate();
    assert_eq!(
        code(s.process(&init[..256], &l, &mut Peer::default()).unwrap_err()),
        ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE
    );
    let (mut c, _, _) = up_to_initiate();
    assert_eq!(
        code(c.process(&t.welcome, &l, &mut Peer::default()).unwrap_err()),
        ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND
    );
    let (mut c, mut s, init) = up_to_initiate();
    s.process(&init, &l, &mut Peer::default()).unwrap();
    s.zap_skip(true).unwrap();
    let ready = s.next_command(&l).unwrap();
    assert_eq!(
        code(c.process(&ready[..29], &l, &mut Peer::default()).unwrap_err()),
        ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY
    );
}

#[test]
fn forged_handshake_commands() {
    let l = local();
    // Every bit of HELLO's key, nonce and box is authenticated.
    let (mut c, _) = random_pair();
    let hello = c.next_command(&l).unwrap();
    for bit in (80 * 8..200 * 8).step_by(7) {
        let mut h = hello.clone();
        h[bit / 8] ^= 1 << (bit % 8);
        let (_, mut s) = random_pair();
        let e = s.process(&h, &l, &mut Peer::default()).unwrap_err();
        assert_eq!(code(e), ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, "bit {bit}");
    }
    // WELCOME: nonce and box.
    for bit in (8 * 8..168 * 8).step_by(5) {
        let (mut c, mut s) = random_pair();
        s.process(&c.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
        let mut w = s.next_command(&l).unwrap();
        w[bit / 8] ^= 1 << (bit % 8);
        let e = c.process(&w, &l, &mut Peer::default()).unwrap_err();
        assert_eq!(code(e), ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, "bit {bit}");
    }
    // INITIATE: cookie, nonce, box.
    let (_, _, init) = up_to_initiate();
    for bit in (9 * 8..init.len() * 8).step_by(11) {
        let (_, mut s, mut i) = up_to_initiate();
        i[bit / 8] ^= 1 << (bit % 8);
        let e = s.process(&i, &l, &mut Peer::default()).unwrap_err();
        assert_eq!(code(e), ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, "bit {bit}");
        assert!(s.zap_request().is_none());
    }
    // READY: nonce and box.
    for bit in (6 * 8..30 * 8).step_by(3) {
        let (mut c, mut s, init) = up_to_initiate();
        s.process(&init, &l, &mut Peer::default()).unwrap();
        s.zap_skip(true).unwrap();
        let mut r = s.next_command(&l).unwrap();
        r[bit / 8] ^= 1 << (bit % 8);
        let e = c.process(&r, &l, &mut Peer::default()).unwrap_err();
        assert_eq!(code(e), ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, "bit {bit}");
    }
}

#[test]
fn replayed_initiate_and_keys() {
    let l = local();
    // An INITIATE replayed to another connection: its cookie is not that server's.
    let (_, _, init) = up_to_initiate();
    let (_, mut s, _) = up_to_initiate();
    assert_eq!(
        code(s.process(&init, &l, &mut Peer::default()).unwrap_err()),
        ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
    );

    // A client with the wrong server key: the server cannot open HELLO.
    let (other_pub, _) = keypair().unwrap();
    let mut c = CurveClient::new(key(CLIENT_PUBLIC), secret(CLIENT_SECRET), other_pub).unwrap();
    let (_, mut s) = random_pair();
    let e = s.process(&c.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap_err();
    assert_eq!(code(e), ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC);

    // A low-order server key: no HELLO, and the client reports failure.
    let mut c = CurveClient::new(key(CLIENT_PUBLIC), secret(CLIENT_SECRET), [0; 32]).unwrap();
    assert!(c.next_command(&l).is_none());
    assert!(c.process(b"\x07WELCOME", &l, &mut Peer::default()).is_err());

    // A low-order short-term key in HELLO.
    let (mut c, _) = random_pair();
    let mut h = c.next_command(&l).unwrap();
    h[80..112].fill(0);
    let (_, mut s) = random_pair();
    assert_eq!(
        code(s.process(&h, &l, &mut Peer::default()).unwrap_err()),
        ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
    );
}

#[test]
fn bad_vouch() {
    let l = local();
    // The long-term public key claimed is not the one the vouch was boxed with.
    let (other_pub, _) = keypair().unwrap();
    let mut c = CurveClient::new(other_pub, secret(CLIENT_SECRET), key(SERVER_PUBLIC)).unwrap();
    let (_, mut s) = random_pair();
    s.process(&c.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    c.process(&s.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    let e = s.process(&c.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap_err();
    assert_eq!(code(e), ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC);
    assert!(s.zap_request().is_none());

    // A vouch naming another server.
    let (mut c, mut s) = random_pair();
    s.process(&c.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    c.process(&s.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    c.server_key = other_pub;
    let e = s.process(&c.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap_err();
    assert_eq!(code(e), ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE);

    // A vouch for another connection's short-term key.
    let (mut c, mut s) = random_pair();
    s.process(&c.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    c.process(&s.next_command(&l).unwrap(), &l, &mut Peer::default()).unwrap();
    let real = c.cn_public;
    c.cn_public = other_pub;
    let mut init = c.next_command(&l).unwrap();
    c.cn_public = real;
    // Re-box INITIATE with the real short-term key so only the vouch is wrong.
    let ch = c.channel.as_ref().unwrap();
    let plain = ch.key.open(&nonce(b"CurveZMQINITIATE", &init[105..113]), &init[113..]).unwrap();
    init.truncate(113);
    ch.key.seal(&nonce(b"CurveZMQINITIATE", &2u64.to_be_bytes()), &plain, &mut init);
    let e = s.process(&init, &l, &mut Peer::default()).unwrap_err();
    assert_eq!(code(e), ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE);
}

fn ready_channels() -> (Mechanism, Mechanism) {
    let (mut c, mut s) = random_pair();
    drive(&mut c, &mut s, Some(200)).unwrap();
    (
        Mechanism::Curve(CurveMech::Client(Box::new(c))),
        Mechanism::Curve(CurveMech::Server(Box::new(s))),
    )
}

#[test]
fn hostile_messages() {
    let (mut c, mut s) = ready_channels();
    let mut m1 = Vec::new();
    let mut m2 = Vec::new();
    c.encode_frame(0, b"one", &mut m1).unwrap();
    c.encode_frame(0, b"two", &mut m2).unwrap();
    assert_eq!(m1[8..16], 3u64.to_be_bytes(), "client messages start after HELLO and INITIATE");

    // Forged: every bit of nonce and box.
    for bit in 8 * 8..m1.len() * 8 {
        let mut f = m1.clone();
        f[bit / 8] ^= 1 << (bit % 8);
        let e = s.decode_frame(&f).unwrap_err();
        let want = if bit < 16 * 8 && f[8..16] < m1[8..16] {
            ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE
        } else {
            ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
        };
        assert_eq!(code(e), want, "bit {bit}");
    }
    // Reordered: the second first, then the first is refused.
    assert_eq!(s.decode_frame(&m2).unwrap(), (0, b"two".to_vec()));
    assert_eq!(code(s.decode_frame(&m1).unwrap_err()), ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE);
    // Replayed.
    assert_eq!(code(s.decode_frame(&m2).unwrap_err()), ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE);
    // Truncated.
    let mut m3 = Vec::new();
    c.encode_frame(0, b"three", &mut m3).unwrap();
    for cut in 0..m3.len() {
        let e = s.decode_frame(&m3[..cut]).unwrap_err();
        let want = match cut {
            0..=7 => [ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED; 2],
            8..=32 => [ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE; 2],
            _ => [ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC; 2],
        };
        assert!(want.contains(&code(e)), "cut {cut}");
    }
    // Oversized: trailing octets, or a huge body, do not authenticate.
    let mut long = m3.clone();
    long.push(0);
    assert_eq!(code(s.decode_frame(&long).unwrap_err()), ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC);
    let mut huge = m3[..16].to_vec();
    huge.resize(1 << 20, 0x55);
    assert_eq!(code(s.decode_frame(&huge).unwrap_err()), ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC);
    // Not a MESSAGE; the server's own message reflected back (wrong direction's nonce).
    assert_eq!(
        code(s.decode_frame(b"\x07MESSAGX.........").unwrap_err()),
        ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND
    );
    let mut back = Vec::new();
    s.encode_frame(0, b"x", &mut back).unwrap();
    back[8..16].copy_from_slice(&100u64.to_be_bytes());
    assert_eq!(code(s.decode_frame(&back).unwrap_err()), ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC);
    // The good message still goes through after all that.
    assert_eq!(s.decode_frame(&m3).unwrap(), (0, b"three".to_vec()));
}

#[test]
fn random_bytes_never_panic() {
    let l = local();
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..100 {
        let len = (next() % 300) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let prefixes: [&[u8]; 5] =
            [b"\x05HELLO", b"\x07WELCOME", b"\x08INITIATE", b"\x05READY", b"\x05ERROR"];
        let p = prefixes[(next() % 5) as usize];
        if b.len() >= p.len() {
            b[..p.len()].copy_from_slice(p);
        }
        let (mut c, mut s) = random_pair();
        c.next_command(&l);
        let _ = c.process(&b, &l, &mut Peer::default());
        let _ = s.process(&b, &l, &mut Peer::default());
        let (mut cm, mut sm) = ready_channels();
        let _ = cm.decode_frame(&b);
        let _ = sm.decode_frame(&b);
    }
}

/// The fuzz entry point on its seeds and on pseudo-random inputs: never a panic.
#[test]
fn fuzz_entry_never_panics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/security");
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(inputs.len() >= 5);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..64u64 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let base = inputs[(i as usize) % 7.min(inputs.len())].clone();
        let mut m = base;
        let at = (seed as usize) % m.len().max(1);
        if let Some(b) = m.get_mut(at) {
            *b ^= (seed >> 32) as u8;
        }
        m.truncate((seed >> 40) as usize % 600 + 1);
        inputs.push(m);
    }
    for input in &inputs {
        crate::zmtp::fuzzing::security(input);
    }
}

/// The engine's hooks: a boxed message keeps its MORE flag, a boxed command comes out as a
/// command, and a bad box is an error.
#[test]
fn unwrap_frame_hook() {
    use crate::msg::Msg;
    use crate::zmtp::{Command, Frame};
    let (mut c, mut s) = ready_channels();
    let mut wire = Vec::new();
    c.encode_frame(INNER_MORE, b"hi", &mut wire).unwrap();
    match s.unwrap_frame(Frame::Message(Msg::from_vec(wire))).unwrap() {
        Frame::Message(m) => assert!(m.data() == b"hi" && m.more()),
        _ => panic!("not a message"),
    }
    let ping = Command::Ping { ttl_deciseconds: 20, context: b"ctx".to_vec() };
    let mut wire = Vec::new();
    c.encode_frame(INNER_COMMAND, &ping.to_body(), &mut wire).unwrap();
    match s.unwrap_frame(Frame::Message(Msg::from_vec(wire.clone()))).unwrap() {
        Frame::Command(got) => assert_eq!(got, ping),
        _ => panic!("not a command"),
    }
    // Replayed.
    assert!(s.unwrap_frame(Frame::Message(Msg::from_vec(wire))).is_err());
}
