//! The SOCKS5 client of ZMQ_SOCKS_PROXY (RFC 1928, with RFC 1929 username/password), as
//! libzmq 4.3's socks_connecter speaks it, as a state machine without I/O: `output` is what
//! to send, `wants` how many bytes to read next (never past the current reply, so whatever
//! the proxy relays after it stays in the socket for the engine), `input` takes them.
//! `exchange` drives it over any non-blocking `Read + Write`.
//!
//! libzmq's choices, kept here:
//! - one method offered: username/password (0x02) when ZMQ_SOCKS_USERNAME is set, else none
//!   (0x00); the proxy may answer either of the two, and 0x02 is then answered with the
//!   credentials (empty if none were set);
//! - CONNECT names the target as given to zmq_connect (the text before the last ':', without
//!   `[]`): an IPv4 or IPv6 literal as such, anything else as a domain name, never resolved
//!   here; a port that reads as 0 is an error;
//! - a reply is rejected as soon as a byte is wrong: version, status above 8, reserved byte,
//!   address type; any failure ends the attempt (the caller closes and retries later).

use crate::options::parse_inet_aton;
use std::io::{self, Read, Write};
use std::net::Ipv6Addr;

const VERSION: u8 = 0x05;
const NO_AUTH: u8 = 0x00;
const BASIC_AUTH: u8 = 0x02;
/// RFC 1929's sub-negotiation version.
const AUTH_VERSION: u8 = 0x01;
const CMD_CONNECT: u8 = 0x01;
const ATYP_IPV4: u8 = 0x01;
const ATYP_DOMAIN: u8 = 0x03;
const ATYP_IPV6: u8 = 0x04;
/// Highest reply code RFC 1928 defines; libzmq takes anything above as malformed.
const MAX_REPLY_CODE: u8 = 0x08;

/// Why an exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Error {
    /// The proxy broke the protocol (wrong version, reserved byte or address type, a reply
    /// code RFC 1928 does not define).
    Malformed,
    /// The proxy accepts no method we can speak (0xFF, or another method).
    NoAcceptableMethod(u8),
    /// The proxy refused the username and password (RFC 1929 status).
    AuthRejected(u8),
    /// The proxy refused the CONNECT (RFC 1928 reply code 1..=8).
    Refused(u8),
    /// The target cannot be put in a request: no port, port 0, or a name over 255 bytes.
    BadTarget,
    /// The proxy closed the connection before the exchange ended.
    Closed,
    /// A socket error (errno).
    Io(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    SendGreeting,
    ReadChoice,
    SendAuth,
    ReadAuthReply,
    SendRequest,
    ReadReply,
    Done,
    Failed,
}

/// One SOCKS5 exchange, from greeting to the CONNECT reply.
pub(crate) struct Client {
    state: State,
    /// The message being sent and how much of it is out.
    out: Vec<u8>,
    sent: usize,
    /// The reply being read.
    inb: Vec<u8>,
    /// The zmq_connect address after `tcp://`.
    target: String,
    username: Vec<u8>,
    password: Vec<u8>,
}

impl Client {
    /// An exchange asking the proxy to connect to `target` (`host:port`), authenticating
    /// with username/password when `username` is not empty.
    pub(crate) fn new(target: &str, username: &[u8], password: &[u8]) -> Client {
        let method = if username.is_empty() { NO_AUTH } else { BASIC_AUTH };
        Client {
            state: State::SendGreeting,
            out: vec![VERSION, 1, method],
            sent: 0,
            inb: Vec::new(),
            target: target.to_string(),
            username: username.to_vec(),
            password: password.to_vec(),
        }
    }

    /// The proxy agreed to connect: the stream now carries the target's bytes.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Bytes to send now (empty while waiting for a reply).
    pub(crate) fn output(&self) -> &[u8] {
        match self.state {
            State::SendGreeting | State::SendAuth | State::SendRequest => {
                self.out.get(self.sent..).unwrap_or_default()
            }
            _ => &[],
        }
    }

    /// `n` bytes of `output()` were sent.
    pub(crate) fn sent(&mut self, n: usize) {
        if self.output().is_empty() {
            return;
        }
        self.sent = (self.sent + n).min(self.out.len());
        if self.sent == self.out.len() {
            self.inb.clear();
            self.state = match self.state {
                State::SendGreeting => State::ReadChoice,
                State::SendAuth => State::ReadAuthReply,
                _ => State::ReadReply,
            };
        }
    }

    /// How many bytes to read next: what is left of the reply expected now, as far as its
    /// header tells (0 when not reading).
    pub(crate) fn wants(&self) -> usize {
        let have = self.inb.len();
        match self.state {
            State::ReadChoice | State::ReadAuthReply => 2usize.saturating_sub(have),
            State::ReadReply if have < 5 => 5 - have,
            State::ReadReply => reply_len(&self.inb).map_or(0, |n| n.saturating_sub(have)),
            _ => 0,
        }
    }

    /// Takes bytes read from the proxy; returns how many were used (the rest belongs to
    /// what follows the exchange). An error ends the exchange for good.
    pub(crate) fn input(&mut self, data: &[u8]) -> Result<usize, Error> {
        if self.state == State::Failed {
            return Err(Error::Malformed);
        }
        let mut used = 0;
        while used < data.len() {
            let n = self.wants().min(data.len() - used);
            if n == 0 {
                break;
            }
            self.inb.extend_from_slice(&data[used..used + n]);
            used += n;
            if let Err(e) = self.check() {
                self.state = State::Failed;
                return Err(e);
            }
        }
        Ok(used)
    }

    /// Validates the reply so far and moves on when it is complete.
    fn check(&mut self) -> Result<(), Error> {
        let b = &self.inb;
        match self.state {
            State::ReadChoice => {
                if b[0] != VERSION {
                    return Err(Error::Malformed);
                }
                let Some(&method) = b.get(1) else { return Ok(()) };
                match method {
                    BASIC_AUTH => {
                        let mut m = vec![AUTH_VERSION];
                        push_short(&mut m, &self.username);
                        push_short(&mut m, &self.password);
                        self.start_sending(State::SendAuth, m);
                        Ok(())
                    }
                    NO_AUTH => self.send_request(),
                    other => Err(Error::NoAcceptableMethod(other)),
                }
            }
            State::ReadAuthReply => {
                if b[0] != AUTH_VERSION {
                    return Err(Error::Malformed);
                }
                match b.get(1).copied() {
                    None => Ok(()),
                    Some(0) => self.send_request(),
                    Some(status) => Err(Error::AuthRejected(status)),
                }
            }
            State::ReadReply => {
                let bad = b[0] != VERSION
                    || b.get(1).is_some_and(|&c| c > MAX_REPLY_CODE)
                    || b.get(2).is_some_and(|&r| r != 0)
                    || b.get(3).is_some_and(|&t| ![ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6].contains(&t));
                if bad {
                    return Err(Error::Malformed);
                }
                if reply_len(b) != Some(b.len()) {
                    return Ok(());
                }
                let code = b[1];
                match code {
                    0 => {
                        self.state = State::Done;
                        Ok(())
                    }
                    code => Err(Error::Refused(code)),
                }
            }
            _ => Ok(()),
        }
    }

    fn start_sending(&mut self, state: State, msg: Vec<u8>) {
        self.out = msg;
        self.sent = 0;
        self.state = state;
    }

    /// Encodes the CONNECT request for the target.
    fn send_request(&mut self) -> Result<(), Error> {
        let (host, port) = split_target(&self.target).ok_or(Error::BadTarget)?;
        let mut m = vec![VERSION, CMD_CONNECT, 0];
        if let Some(v4) = parse_inet_aton(host) {
            m.push(ATYP_IPV4);
            m.extend_from_slice(&v4.octets());
        } else if let Some(v6) = ipv6_literal(host) {
            m.push(ATYP_IPV6);
            m.extend_from_slice(&v6.octets());
        } else {
            if host.len() > usize::from(u8::MAX) {
                return Err(Error::BadTarget);
            }
            m.push(ATYP_DOMAIN);
            push_short(&mut m, host.as_bytes());
        }
        m.extend_from_slice(&port.to_be_bytes());
        self.start_sending(State::SendRequest, m);
        Ok(())
    }

    /// Sends and reads as far as `io` allows without blocking. Ok(true) once the proxy has
    /// connected to the target, Ok(false) to wait for readiness.
    pub(crate) fn exchange(&mut self, io: &mut (impl Read + Write)) -> Result<bool, Error> {
        let mut buf = [0u8; 512];
        loop {
            if self.is_done() {
                return Ok(true);
            }
            if self.state == State::Failed {
                return Err(Error::Malformed);
            }
            if !self.output().is_empty() {
                match io.write(self.output()) {
                    Ok(0) => return self.fail(Error::Closed),
                    Ok(n) => self.sent(n),
                    Err(e) => match io_wait(&e) {
                        Some(true) => return Ok(false),
                        Some(false) => {}
                        None => return self.fail(Error::Io(errno(&e))),
                    },
                }
                continue;
            }
            let want = self.wants().min(buf.len());
            if want == 0 {
                return self.fail(Error::Malformed);
            }
            match io.read(&mut buf[..want]) {
                Ok(0) => return self.fail(Error::Closed),
                Ok(n) => {
                    self.input(&buf[..n])?;
                }
                Err(e) => match io_wait(&e) {
                    Some(true) => return Ok(false),
                    Some(false) => {}
                    None => return self.fail(Error::Io(errno(&e))),
                },
            }
        }
    }

    fn fail(&mut self, e: Error) -> Result<bool, Error> {
        self.state = State::Failed;
        Err(e)
    }
}

/// Some(true) to wait for readiness, Some(false) to retry at once (EINTR), None for an error.
fn io_wait(e: &io::Error) -> Option<bool> {
    match e.kind() {
        io::ErrorKind::WouldBlock => Some(true),
        io::ErrorKind::Interrupted => Some(false),
        _ => None,
    }
}

fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// A length-prefixed field (RFC 1929 credentials, RFC 1928 domain names): at most 255 bytes.
fn push_short(m: &mut Vec<u8>, field: &[u8]) {
    let field = &field[..field.len().min(usize::from(u8::MAX))];
    m.push(field.len() as u8);
    m.extend_from_slice(field);
}

/// The whole length of a CONNECT reply, once its header says (4 bytes, plus the length byte
/// of a domain name).
fn reply_len(b: &[u8]) -> Option<usize> {
    match *b.get(3)? {
        ATYP_IPV4 => Some(4 + 4 + 2),
        ATYP_IPV6 => Some(4 + 16 + 2),
        ATYP_DOMAIN => b.get(4).map(|&n| 4 + 1 + usize::from(n) + 2),
        _ => None,
    }
}

/// `host:port` split at the last ':', `[v6]` brackets dropped, the port read like atoi()
/// and refused when it comes out as 0 (as libzmq's socks_connecter parses it).
fn split_target(target: &str) -> Option<(&str, u16)> {
    let colon = target.rfind(':')?;
    let host = &target[..colon];
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) if colon >= 2 => inner,
        _ => host,
    };
    match atoi(&target[colon + 1..]) as u16 {
        0 => None,
        port => Some((host, port)),
    }
}

/// C's atoi(): blanks, a sign, digits; saturating like glibc's strtol before the cast to
/// int (the caller's cast to a port wraps as libzmq's does).
fn atoi(s: &str) -> i32 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    (if neg { -v } else { v }) as i32
}

/// An IPv6 literal as getaddrinfo(AI_NUMERICHOST) takes it: with an optional `%zone` that
/// names an interface or is a number.
fn ipv6_literal(host: &str) -> Option<Ipv6Addr> {
    let (addr, zone) = match host.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (host, None),
    };
    let v6 = addr.parse::<Ipv6Addr>().ok()?;
    match zone {
        None => Some(v6),
        Some(z) if !z.is_empty() && z.bytes().all(|c| c.is_ascii_digit()) => Some(v6),
        Some(z) if !z.is_empty() && !z.contains('/') => {
            std::path::Path::new("/sys/class/net").join(z).exists().then_some(v6)
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the client against scripted proxy replies (one message each) and returns what
    /// it sent, message by message.
    fn run(mut c: Client, replies: &[&[u8]]) -> (Vec<Vec<u8>>, Result<(), Error>) {
        let mut sent = Vec::new();
        for reply in replies {
            let out = c.output().to_vec();
            c.sent(out.len());
            sent.push(out);
            if let Err(e) = c.input(reply) {
                return (sent, Err(e));
            }
        }
        (sent, Ok(()))
    }

    const CHOICE_NONE: &[u8] = &[5, 0];
    const OK_V4: &[u8] = &[5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];

    #[test]
    fn no_auth_ipv4_target() {
        let (sent, r) = run(Client::new("10.1.2.3:5555", b"", b""), &[CHOICE_NONE, OK_V4]);
        assert_eq!(r, Ok(()));
        assert_eq!(sent[0], [5, 1, 0]);
        assert_eq!(sent[1], [5, 1, 0, 1, 10, 1, 2, 3, 0x15, 0xb3]);
    }

    #[test]
    fn done_after_reply() {
        let mut c = Client::new("10.1.2.3:5555", b"", b"");
        run_to_end(&mut c, &[CHOICE_NONE, OK_V4]);
        assert!(c.is_done());
        assert!(c.output().is_empty());
        assert_eq!(c.wants(), 0);
    }

    fn run_to_end(c: &mut Client, replies: &[&[u8]]) {
        for reply in replies {
            let n = c.output().len();
            c.sent(n);
            c.input(reply).unwrap();
        }
    }

    #[test]
    fn username_password() {
        let c = Client::new("example.org:80", b"user", b"secret");
        let (sent, r) = run(c, &[&[5, 2], &[1, 0], OK_V4]);
        assert_eq!(r, Ok(()));
        assert_eq!(sent[0], [5, 1, 2]);
        assert_eq!(sent[1], b"\x01\x04user\x06secret");
        assert_eq!(sent[2], b"\x05\x01\x00\x03\x0bexample.org\x00\x50");
    }

    #[test]
    fn proxy_may_pick_either_method() {
        // Offered none, asked for a password: libzmq sends empty credentials.
        let (sent, r) = run(Client::new("h:1", b"", b""), &[&[5, 2], &[1, 0], OK_V4]);
        assert_eq!(r, Ok(()));
        assert_eq!(sent[1], [1, 0, 0]);
        // Offered a password, told none is needed: straight to the request.
        let (sent, r) = run(Client::new("h:1", b"u", b""), &[CHOICE_NONE, OK_V4]);
        assert_eq!(r, Ok(()));
        assert_eq!(sent[1], [5, 1, 0, 3, 1, b'h', 0, 1]);
    }

    #[test]
    fn targets_as_libzmq_sends_them() {
        let req = |t: &str| {
            let mut c = Client::new(t, b"", b"");
            c.sent(3);
            c.input(CHOICE_NONE).unwrap();
            c.output().to_vec()
        };
        let mut v6 = vec![5, 1, 0, 4];
        v6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v6.extend_from_slice(&[0, 7]);
        assert_eq!(req("[::1]:7"), v6);
        assert_eq!(req("::1:7")[3], ATYP_IPV6); // "::1" before the last ':'
        assert_eq!(req("[::1%lo]:7"), v6);
        assert_eq!(req("localhost:7"), b"\x05\x01\x00\x03\x09localhost\x00\x07");
        // inet_aton forms count as IPv4, as getaddrinfo(AI_NUMERICHOST) reads them.
        assert_eq!(req("127.1:65535"), [5, 1, 0, 1, 127, 0, 0, 1, 0xff, 0xff]);
        // The port as atoi() reads it, wrapped to 16 bits.
        assert_eq!(req("h:-1")[6..], [0xff, 0xff]);
        assert_eq!(req("h:70000")[6..], [0x11, 0x70]);
        assert_eq!(req("[x]:1")[3..6], [3, 1, b'x']);
        assert_eq!(req("[]:1")[3..5], [3, 0]);
        assert_eq!(req(":1")[3..5], [3, 0]);
        assert_eq!(req("[:1")[3..6], [3, 1, b'[']);
    }

    #[test]
    fn unusable_targets_fail_after_the_choice() {
        for t in ["h:0", "h:x", "h", "h:65536"] {
            assert_eq!(run(Client::new(t, b"", b""), &[CHOICE_NONE]).1, Err(Error::BadTarget));
        }
        let long = format!("{}:1", "a".repeat(256));
        assert_eq!(run(Client::new(&long, b"", b""), &[CHOICE_NONE]).1, Err(Error::BadTarget));
        let max = format!("{}:1", "a".repeat(255));
        assert_eq!(run(Client::new(&max, b"", b""), &[CHOICE_NONE]).1, Ok(()));
    }

    #[test]
    fn refusals() {
        let r = run(Client::new("h:1", b"", b""), &[&[5, 0xff]]).1;
        assert_eq!(r, Err(Error::NoAcceptableMethod(0xff)));
        let r = run(Client::new("h:1", b"", b""), &[&[5, 1]]).1;
        assert_eq!(r, Err(Error::NoAcceptableMethod(1)));
        let r = run(Client::new("h:1", b"u", b"p"), &[&[5, 2], &[1, 1]]).1;
        assert_eq!(r, Err(Error::AuthRejected(1)));
        for code in 1..=8 {
            let reply = [5, code, 0, 1, 0, 0, 0, 0, 0, 0];
            let r = run(Client::new("h:1", b"", b""), &[CHOICE_NONE, &reply]).1;
            assert_eq!(r, Err(Error::Refused(code)));
        }
    }

    #[test]
    fn wrong_versions_and_fields() {
        let bad_replies: &[&[&[u8]]] = &[
            &[&[4, 0]],
            &[&[0x48, 0x54]], // an HTTP proxy's "HT"
            &[&[5, 2], &[5, 0]],
            &[CHOICE_NONE, &[4, 0, 0, 1, 0, 0, 0, 0, 0, 0]],
            &[CHOICE_NONE, &[5, 9, 0, 1, 0, 0, 0, 0, 0, 0]],
            &[CHOICE_NONE, &[5, 0, 1, 1, 0, 0, 0, 0, 0, 0]],
            &[CHOICE_NONE, &[5, 0, 0, 2, 0, 0, 0, 0, 0, 0]],
            &[CHOICE_NONE, &[5, 0, 0, 0xff]],
        ];
        for replies in bad_replies {
            let r = run(Client::new("h:1", b"", b""), replies).1;
            assert_eq!(r, Err(Error::Malformed), "{replies:?}");
        }
        // Rejected at the first wrong byte, before the rest arrives.
        let mut c = Client::new("h:1", b"", b"");
        c.sent(3);
        assert_eq!(c.input(&[6]), Err(Error::Malformed));
        assert_eq!(c.input(&[5, 0]), Err(Error::Malformed));
        assert!(!c.is_done());
    }

    #[test]
    fn replies_in_pieces_and_with_trailing_bytes() {
        let mut c = Client::new("h:1", b"u", b"p");
        c.sent(1);
        assert_eq!(c.output(), [1, 2]);
        c.sent(2);
        assert_eq!(c.wants(), 2);
        assert_eq!(c.input(&[5]), Ok(1));
        assert_eq!(c.wants(), 1);
        // Bytes beyond the message are left alone.
        assert_eq!(c.input(&[2, 9, 9]), Ok(1));
        assert_eq!(c.output(), [1, 1, b'u', 1, b'p']);
        c.sent(5);
        assert_eq!(c.input(&[1, 0]), Ok(2));
        let n = c.output().len();
        c.sent(n);
        // A domain-name reply: 5 bytes first, then the rest the length byte announces.
        assert_eq!(c.wants(), 5);
        assert_eq!(c.input(&[5, 0, 0, 3]), Ok(4));
        assert_eq!(c.wants(), 1);
        assert_eq!(c.input(&[3]), Ok(1));
        assert_eq!(c.wants(), 5);
        assert_eq!(c.input(b"abc\x00\x01ZMTP"), Ok(5));
        assert!(c.is_done());
        assert_eq!(c.input(b"more"), Ok(0));
        // IPv6 reply length.
        let mut c = Client::new("h:1", b"", b"");
        run_to_end(&mut c, &[CHOICE_NONE]);
        c.sent(c.output().len());
        let mut reply = vec![5, 0, 0, 4];
        reply.extend_from_slice(&[0; 18]);
        assert_eq!(c.input(&reply[..5]), Ok(5));
        assert_eq!(c.wants(), 17);
        assert_eq!(c.input(&reply[5..]), Ok(17));
        assert!(c.is_done());
    }

    #[test]
    fn truncated_replies_wait() {
        let mut c = Client::new("h:1", b"", b"");
        run_to_end(&mut c, &[CHOICE_NONE]);
        c.sent(c.output().len());
        assert_eq!(c.input(&OK_V4[..9]), Ok(9));
        assert!(!c.is_done());
        assert_eq!(c.wants(), 1);
    }

    #[test]
    fn long_credentials_are_capped() {
        let long = vec![b'x'; 300];
        let mut c = Client::new("h:1", &long, &long);
        c.sent(3);
        c.input(&[5, 2]).unwrap();
        assert_eq!(c.output().len(), 1 + 1 + 255 + 1 + 255);
    }

    /// A non-blocking stream in memory: reads what the proxy "sent", would-block when empty,
    /// takes writes at most `chunk` bytes at a time.
    struct Mock {
        incoming: Vec<u8>,
        written: Vec<u8>,
        chunk: usize,
        eof: bool,
    }

    impl Read for Mock {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.incoming.is_empty() {
                return if self.eof { Ok(0) } else { Err(io::ErrorKind::WouldBlock.into()) };
            }
            let n = buf.len().min(self.incoming.len());
            buf[..n].copy_from_slice(&self.incoming[..n]);
            self.incoming.drain(..n);
            Ok(n)
        }
    }

    impl Write for Mock {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.chunk);
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn exchange_over_a_stream() {
        let mut c = Client::new("h:1", b"", b"");
        let mut io = Mock { incoming: Vec::new(), written: Vec::new(), chunk: 2, eof: false };
        assert_eq!(c.exchange(&mut io), Ok(false));
        assert_eq!(io.written, [5, 1, 0]);
        io.incoming.extend_from_slice(CHOICE_NONE);
        io.incoming.extend_from_slice(OK_V4);
        io.incoming.extend_from_slice(b"\xffZMTP");
        assert_eq!(c.exchange(&mut io), Ok(true));
        assert_eq!(io.written[3..], [5, 1, 0, 3, 1, b'h', 0, 1]);
        // What the target sent after the reply is still unread.
        assert_eq!(io.incoming, b"\xffZMTP");
    }

    #[test]
    fn exchange_failures() {
        let mut c = Client::new("h:1", b"", b"");
        let mut io = Mock { incoming: vec![5], written: Vec::new(), chunk: 64, eof: true };
        assert_eq!(c.exchange(&mut io), Err(Error::Closed));
        assert_eq!(c.exchange(&mut io), Err(Error::Malformed));

        let mut c = Client::new("h:1", b"", b"");
        let mut io = Mock { incoming: vec![5, 0xff], written: Vec::new(), chunk: 64, eof: false };
        assert_eq!(c.exchange(&mut io), Err(Error::NoAcceptableMethod(0xff)));
    }

    #[test]
    fn hostile_bytes_never_panic() {
        // Every reply prefix of random bytes, at every step: errors or waits, never panics.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let auth = next() % 2 == 0;
            let mut c = Client::new("host.example:99", if auth { b"u" } else { b"" }, b"p");
            for _ in 0..6 {
                let n = c.output().len();
                c.sent(n);
                let len = (next() % 12) as usize;
                let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                // Bias towards plausible headers to get deep into the machine.
                if let Some(b) = bytes.first_mut() {
                    *b = [5, 1, *b][(next() % 3) as usize];
                }
                if c.input(&bytes).is_err() {
                    assert!(c.input(&[5]).is_err());
                    break;
                }
            }
        }
    }
}
