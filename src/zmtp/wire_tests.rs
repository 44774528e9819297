//! End to end: our handshake and codec, over real TCP, against Debian's libzmq.
//!
//! The peer is `wire_peer.c`, compiled here and linked with the system's `libzmq.so.5`
//! (never ours: the loader path is cleared, and the peer prints the version it runs).
//! Every wait is bounded, so a hang fails in seconds.

use super::decoder::Frame;
use super::*;
use crate::consts::*;
use crate::msg::Msg;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Proc, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

const SYSTEM_LIBZMQ: &str = "/usr/lib/x86_64-linux-gnu/libzmq.so.5";
const WAIT: Duration = Duration::from_secs(10);

/// The compiled peer. A missing system libzmq fails the test: a wire test that passes
/// without its reference proves nothing.
fn peer_exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        assert!(
            Path::new(SYSTEM_LIBZMQ).exists(),
            "the ZMTP wire tests need the reference libzmq at {SYSTEM_LIBZMQ} \
             (Debian: apt-get install libzmq3-dev)"
        );
        compile_c("wire_peer.c", &["-l:libzmq.so.5"])
    })
}

/// Compiles `src/zmtp/<source>` strictly against the system libraries `libs` (for test
/// programs that play the reference side); panics with the compiler's complaint.
pub(super) fn compile_c(source: &str, libs: &[&str]) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/zmtp").join(source);
    let stem = source.trim_end_matches(".c");
    let exe = std::env::temp_dir().join(format!("ferrozmq-{stem}-{}", std::process::id()));
    let target = "x86_64-unknown-linux-gnu";
    let cc = cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .opt_level(1)
        .host(target)
        .target(target)
        .get_compiler();
    let out = cc
        .to_command()
        .args(["-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(&src)
        .arg("-L/usr/lib/x86_64-linux-gnu")
        .args(libs)
        .output()
        .expect("run the C compiler");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    exe
}

/// A running libzmq peer, its stdout read line by line.
struct Peer {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Peer {
    fn spawn(exe: &Path, args: &[&str]) -> Peer {
        let mut child = Proc::new(exe)
            .args(args)
            .env_remove("LD_LIBRARY_PATH")
            .env_remove("LD_PRELOAD")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the libzmq peer");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut p = Peer { child, lines, seen: Vec::new() };
        let v = p.line("VERSION ");
        // Debian's library, not ours (4.3.5).
        assert_ne!(v, "4.3.5", "the peer loaded ferrozmq");
        p
    }

    /// The rest of the first line starting with `prefix`, waiting at most WAIT.
    fn line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if let Some(rest) = l.strip_prefix(prefix) {
                        return rest.to_string();
                    }
                }
                Err(_) => panic!("no {prefix:?} from the peer; saw {:?}", self.seen),
            }
        }
    }

    /// Everything it printed, once it has exited (killed after WAIT).
    fn finish(mut self) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("peer did not exit; saw {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.seen.push(l);
        }
        std::mem::take(&mut self.seen)
    }

    fn port(&mut self) -> u16 {
        let ep = self.line("PORT ");
        ep.rsplit(':').next().unwrap().parse().unwrap()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our side of a connection: a blocking TcpStream with timeouts, and the engine.
struct Wire {
    stream: TcpStream,
    engine: Engine,
    est_version: (u8, u8),
    peer_type: i32,
    peer_id: Option<Vec<u8>>,
    peer_meta: Vec<(String, Vec<u8>)>,
    frames: Vec<Frame>,
}

impl Wire {
    fn handshake(stream: TcpStream, mut hs: Handshake) -> Result<Wire, ZmtpError> {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut s = stream;
        let mut buf = [0u8; 512];
        while !hs.is_done() {
            if !hs.output().is_empty() {
                s.write_all(hs.output()).unwrap();
                let n = hs.output().len();
                hs.advance_output(n);
            }
            // Exactly what the handshake wants: nothing is left over for the decoder.
            let want = hs.wanted().min(buf.len());
            // The peer closing (or resetting) mid-handshake comes back as an error: tests
            // where both sides reject each other race on who notices first.
            let n = s.read(&mut buf[..want]).unwrap_or(0);
            if n == 0 {
                return Err(ZmtpError::new(libc::ECONNRESET, "peer closed during the handshake"));
            }
            assert_eq!(hs.input(&buf[..n])?, n);
        }
        let est = hs.finish();
        let mut w = Wire {
            stream: s,
            engine: est.engine,
            est_version: est.version,
            peer_type: est.peer_socket_type,
            peer_id: est.peer_routing_id,
            peer_meta: est.peer_metadata,
            frames: Vec::new(),
        };
        w.flush();
        Ok(w)
    }

    fn connect(port: u16, cfg: HandshakeConfig, minor: u8) -> Result<Wire, ZmtpError> {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        Wire::handshake(s, Handshake::announcing(cfg, minor))
    }

    fn flush(&mut self) {
        while self.engine.has_output() {
            let n = self.stream.write_vectored(&self.engine.io_slices()).unwrap();
            assert!(n > 0);
            self.engine.advance(n);
        }
    }

    fn send(&mut self, parts: &[&[u8]]) {
        for (i, p) in parts.iter().enumerate() {
            let mut m = Msg::from_slice(p);
            m.set_more(i + 1 < parts.len());
            self.engine.encode(m);
            if self.engine.encoder.is_full() {
                self.flush();
            }
        }
    }

    /// Reads until `n` frames (messages, or commands the engine does not handle) are in.
    fn recv(&mut self, n: usize) -> Vec<Frame> {
        let deadline = Instant::now() + WAIT;
        while self.frames.len() < n {
            assert!(Instant::now() < deadline, "timed out with {} frames", self.frames.len());
            let got = self.stream.read(self.engine.read_buf()).expect("read");
            assert!(got > 0, "peer closed");
            self.engine.filled(got, Instant::now(), &mut self.frames).unwrap();
            self.flush();
        }
        self.frames.drain(..n).collect()
    }

    /// Waits for the peer to close; false if it did not within WAIT.
    fn wait_closed(&mut self) -> bool {
        let deadline = Instant::now() + WAIT;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
                Err(_) => return true,
            }
        }
        false
    }
}

fn body(f: &Frame) -> (&[u8], bool) {
    match f {
        Frame::Message(m) => (m.data(), m.more()),
        Frame::Command(c) => panic!("expected a message, got {c:?}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cfg(socket_type: i32) -> HandshakeConfig {
    HandshakeConfig { socket_type, ..HandshakeConfig::default() }
}

#[test]
fn wire_dealer_to_libzmq_router() {
    let exe = peer_exe();
    let mut peer = Peer::spawn(exe, &["6", "bind", "echo", "502", "20"]);
    let mut c = cfg(ZMQ_DEALER);
    c.routing_id = b"ours".to_vec();
    c.metadata = vec![("X-Hello".into(), b"world".to_vec())];
    let mut w = Wire::connect(peer.port(), c, 1).unwrap();
    assert_eq!(w.est_version, (3, 1));
    assert_eq!(w.peer_type, ZMQ_ROUTER);
    assert_eq!(w.peer_id.as_deref(), Some(&b""[..]));
    assert_eq!(w.peer_meta[0], ("Socket-Type".into(), b"ROUTER".to_vec()));

    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    w.send(&[b"", b"hello"]);
    w.send(&[&big]);
    for i in 0..500u32 {
        w.send(&[&i.to_le_bytes()]);
    }
    w.flush();
    let f = w.recv(503);
    assert_eq!(body(&f[0]), (&b""[..], true));
    assert_eq!(body(&f[1]), (&b"hello"[..], false));
    assert_eq!(body(&f[2]), (&big[..], false));
    for i in 0..500u32 {
        assert_eq!(body(&f[3 + i as usize]), (&i.to_le_bytes()[..], false));
    }
    assert_eq!(peer.line("META "), "DEALER world");
    assert_eq!(peer.line("RID "), hex(b"ours"));
    peer.line("ECHOED");
    let log = peer.finish();
    assert!(log.iter().any(|l| l == "EVENT 1000 0"), "{log:?}");
}

#[test]
fn wire_libzmq_pair_connects_to_us() {
    let exe = peer_exe();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let mut peer = Peer::spawn(exe, &["0", &ep, "client", "30", "20"]);
    let (s, _) = listener.accept().unwrap();
    let mut w = Wire::handshake(s, Handshake::new(cfg(ZMQ_PAIR))).unwrap();
    assert_eq!((w.est_version, w.peer_type), ((3, 1), ZMQ_PAIR));
    // Echo: every frame goes back as it came, MORE and all.
    for f in w.recv(30) {
        let Frame::Message(m) = f else { panic!("command") };
        w.engine.encode(m);
    }
    w.flush();
    assert_eq!(peer.line("GOOD "), "30");
}

fn sub_to_xpub(minor: u8) {
    let exe = peer_exe();
    let mut peer = Peer::spawn(exe, &["9", "bind", "xpub", "3", "20"]);
    let mut w = Wire::connect(peer.port(), cfg(ZMQ_SUB), minor).unwrap();
    assert_eq!(w.est_version, (3, minor));
    // SUBSCRIBE/CANCEL commands on 3.1, messages on 3.0: libzmq takes both.
    w.send(&[b"\x01ab"]);
    w.send(&[b"\x01zz"]);
    w.send(&[b"\x00zz"]);
    w.flush();
    assert_eq!(peer.line("SUB "), "016162");
    assert_eq!(peer.line("SUB "), "017a7a");
    assert_eq!(peer.line("SUB "), "007a7a");
    for f in w.recv(3) {
        assert_eq!(body(&f), (&b"ab-data"[..], false));
    }
    peer.finish();
}

#[test]
fn wire_sub_to_libzmq_xpub_zmtp_3_1() {
    sub_to_xpub(1);
}

#[test]
fn wire_sub_to_libzmq_xpub_as_zmtp_3_0() {
    sub_to_xpub(0);
}

#[test]
fn wire_libzmq_sub_to_our_xpub() {
    let exe = peer_exe();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let mut peer = Peer::spawn(exe, &["2", &ep, "recv", "2", "20", "sub=ab"]);
    let (s, _) = listener.accept().unwrap();
    let mut w = Wire::handshake(s, Handshake::new(cfg(ZMQ_XPUB))).unwrap();
    // libzmq's SUBSCRIBE command, as the XPUB socket must see it.
    let f = w.recv(1);
    assert_eq!(body(&f[0]), (&b"\x01ab"[..], false));
    w.send(&[b"zz-no"]);
    w.send(&[b"ab-1"]);
    w.send(&[b"ab-2"]);
    w.flush();
    assert_eq!(peer.line("MSG "), hex(b"ab-1"));
    assert_eq!(peer.line("MSG "), hex(b"ab-2"));
    peer.finish();
}

#[test]
fn wire_heartbeats_both_ways() {
    let exe = peer_exe();
    let args = ["0", "bind", "idle", "0", "4", "hb=100", "hbttl=1000", "hbto=400"];
    let mut peer = Peer::spawn(exe, &args);
    let mut c = cfg(ZMQ_PAIR);
    c.heartbeat = HeartbeatConfig { ivl_ms: 150, ttl_deciseconds: 20, timeout_ms: 1000 };
    let mut w = Wire::connect(peer.port(), c, 1).unwrap();
    w.stream.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let (mut pings, mut pongs, mut ctx_pongs) = (0, 0, 0);
    w.engine
        .encoder
        .encode_command(&Command::Ping { ttl_deciseconds: 0, context: b"ctx".to_vec() });
    let start = Instant::now();
    // For 1.2 s we answer libzmq's PINGs and send ours.
    while start.elapsed() < Duration::from_millis(1200) {
        let now = Instant::now();
        assert_ne!(w.engine.heartbeat(now), HeartbeatAction::Expired);
        w.flush();
        let n = match w.stream.read(w.engine.read_buf()) {
            Ok(0) => panic!("libzmq closed while we were answering"),
            Ok(n) => n,
            Err(_) => 0,
        };
        w.engine.decoder.filled(n);
        let mut cmds = Vec::new();
        w.engine
            .decoder
            .decode(&mut |f| {
                cmds.push(f);
                Ok(())
            })
            .unwrap();
        for f in cmds {
            let Frame::Command(cmd) = f else { panic!("a message") };
            match &cmd {
                Command::Ping { ttl_deciseconds, context } => {
                    assert_eq!((*ttl_deciseconds, context.len()), (10, 0));
                    pings += 1;
                }
                // Answers to our heartbeat PINGs (no context) and to the one with "ctx".
                Command::Pong { context } if context.is_empty() => pongs += 1,
                Command::Pong { context } => {
                    assert_eq!(context, b"ctx");
                    ctx_pongs += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
            w.engine.command(cmd, now);
        }
    }
    assert!(pings >= 6, "{pings} PINGs from libzmq");
    assert_eq!(ctx_pongs, 1);
    assert!(pongs >= 5, "{pongs} PONGs from libzmq");
    // Silent now: libzmq's next PING goes unanswered and it closes after its timeout.
    w.stream.set_read_timeout(Some(WAIT)).unwrap();
    let silent = Instant::now();
    assert!(w.wait_closed());
    assert!(silent.elapsed() < Duration::from_millis(2000));
    let log = peer.finish();
    let disconnects = log.iter().filter(|l| l.starts_with("EVENT 200 ")).count();
    assert_eq!(disconnects, 1, "{log:?}");
}

#[test]
fn wire_incompatible_socket_type() {
    let exe = peer_exe();
    let mut peer = Peer::spawn(exe, &["8", "bind", "idle", "0", "2"]);
    let port = peer.port();
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut keep = s.try_clone().unwrap();
    let e = Wire::handshake(s, Handshake::new(cfg(ZMQ_PUSH))).err().unwrap();
    // Usually we reject libzmq's READY first (EINVAL); sometimes libzmq has already closed
    // on ours and its READY never reaches us.
    assert!(matches!(e.errno, libc::EINVAL | libc::ECONNRESET), "{e}");
    assert_eq!(e.event, None);
    // libzmq refuses our PUSH too, closing without a handshake-failed event.
    keep.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 64];
    assert!(matches!(keep.read(&mut buf), Ok(0) | Err(_)));
    let log = peer.finish();
    assert!(log.iter().any(|l| l.starts_with("EVENT 200 ")), "{log:?}");
    assert!(!log.iter().any(|l| l.starts_with("EVENT 2000 ") || l.starts_with("EVENT 800 ")));
}

#[test]
fn wire_libzmq_enforces_maxmsgsize_on_our_frames() {
    let exe = peer_exe();
    let mut peer = Peer::spawn(exe, &["7", "bind", "recv", "1", "3", "maxmsg=1000"]);
    let mut w = Wire::connect(peer.port(), cfg(ZMQ_PUSH), 1).unwrap();
    w.send(&[&[7u8; 1000]]);
    w.flush();
    assert_eq!(peer.line("MSG ").len(), 2000);
    w.send(&[&[7u8; 1001]]);
    w.flush();
    assert!(w.wait_closed());
    peer.finish();
}
