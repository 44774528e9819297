//! CURVE (RFC 25 over CurveZMQ, RFC 26): client and server handshakes and the boxed
//! MESSAGE traffic after them, as I/O-free state machines.
//!
//! This file owns the CurveZMQ wire layout (HELLO 200 octets, WELCOME 168, INITIATE 257 +
//! metadata, READY 30 + metadata, MESSAGE 33 + body), the short-term key pairs, the cookie,
//! the vouch, and the nonces. The boxes are NaCl's `crypto_box` (X25519, HSalsa20,
//! XSalsa20-Poly1305, MAC first) from RustCrypto crates; nothing cryptographic is written
//! here beyond putting those pieces together as libsodium's `crypto_box_beforenm` does.
//!
//! Errors carry the ZMQ_PROTOCOL_ERROR_ZMTP_* code libzmq 4.3's curve_client.cpp,
//! curve_server.cpp and curve_mechanism_base.cpp raise for the same input. Where libzmq
//! would assert (a short-term key giving an all-zero shared secret) we fail the connection
//! with CRYPTOGRAPHIC instead; where it is lax (it never looks at the vouch's copy of the
//! server key, and takes WELCOME or READY in any state) we are strict. Every secret (long-
//! and short-term keys, the cookie key, precomputed box keys, handshake plaintexts) is
//! zeroed when dropped.

use super::mechanism::{error_command, Local, Peer};
use super::zap::{self, zap_error_body, ZapReply, ZapRequest};
use super::{MonitorEvent, ZmtpError};
use crate::consts::*;
use crate::msg::Msg;
use crypto_secretbox::aead::generic_array::GenericArray;
use crypto_secretbox::aead::{AeadInPlace, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

/// Key size (public and secret), as in libsodium's crypto_box.
pub(crate) const KEY_LEN: usize = 32;
/// Poly1305 tag, first in every box (crypto_box_MACBYTES).
const MAC_LEN: usize = 16;
/// "\x07MESSAGE", then the 8-octet short nonce.
const MESSAGE_HEADER: usize = 16;

/// The flags octet boxed with each message (libzmq's msg_t flags, of which only these two
/// travel): more frames follow; the frame is a command (PING, PONG, SUBSCRIBE, ...).
pub(crate) const INNER_MORE: u8 = 1;
pub(crate) const INNER_COMMAND: u8 = 2;

/// A 32-octet secret key, zeroed on drop, never printed.
#[derive(Clone, Default)]
pub(crate) struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> SecretKey {
        SecretKey(Zeroizing::new(bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn to_static(&self) -> StaticSecret {
        StaticSecret::from(*self.0)
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &SecretKey) -> bool {
        self.0.ct_eq(&*other.0).into()
    }
}

impl Eq for SecretKey {}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// `count` random octets from the OS.
fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, ZmtpError> {
    let mut b = Zeroizing::new([0u8; N]);
    getrandom::getrandom(&mut *b).map_err(|_| ZmtpError::new(libc::EIO, "no randomness"))?;
    Ok(b)
}

/// A fresh key pair, as crypto_box_keypair: 32 random octets and their X25519 base point
/// multiple.
pub(crate) fn keypair() -> Result<([u8; KEY_LEN], SecretKey), ZmtpError> {
    let secret = SecretKey(random::<KEY_LEN>()?);
    Ok((public_of(&secret), secret))
}

/// The public key of a secret key (crypto_scalarmult_base, with X25519's clamping).
pub(crate) fn public_of(secret: &SecretKey) -> [u8; KEY_LEN] {
    PublicKey::from(&secret.to_static()).to_bytes()
}

fn crypto(what: &'static str) -> ZmtpError {
    ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, what)
}

/// A crypto_box key precomputed for one (their public, our secret) pair, as
/// crypto_box_beforenm: HSalsa20 of the X25519 shared secret. The secretbox inside zeroes
/// its key when dropped.
pub(crate) struct BoxKey(XSalsa20Poly1305);

impl BoxKey {
    /// Fails, as libsodium does, when the shared secret is all zero (a low-order public key).
    pub(crate) fn new(their_public: &[u8; KEY_LEN], ours: &SecretKey) -> Result<BoxKey, ZmtpError> {
        let shared = ours.to_static().diffie_hellman(&PublicKey::from(*their_public));
        if !shared.was_contributory() {
            return Err(crypto("public key of low order"));
        }
        let key = Zeroizing::new(salsa20::hsalsa::<crypto_secretbox::consts::U10>(
            GenericArray::from_slice(shared.as_bytes()),
            &GenericArray::default(),
        ));
        Ok(BoxKey(XSalsa20Poly1305::new(&key)))
    }

    /// A secretbox key (the cookie key): crypto_secretbox without the key exchange.
    fn secret(key: &[u8; KEY_LEN]) -> BoxKey {
        BoxKey(XSalsa20Poly1305::new(GenericArray::from_slice(key)))
    }

    /// Appends Box[plaintext] (MAC, then ciphertext) to `out`.
    pub(crate) fn seal(&self, nonce: &[u8; 24], plaintext: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; MAC_LEN]);
        out.extend_from_slice(plaintext);
        self.seal_tail(nonce, out, start);
    }

    /// Seals `out[start + MAC_LEN..]` in place, writing the MAC at `out[start..]`.
    fn seal_tail(&self, nonce: &[u8; 24], out: &mut [u8], start: usize) {
        let (mac, body) = out[start..].split_at_mut(MAC_LEN);
        // Only fails for associated data or a body over 2^38 octets; neither is possible
        // here (no AD, and frames are bounded far below that).
        match self.0.encrypt_in_place_detached(GenericArray::from_slice(nonce), b"", body) {
            Ok(tag) => mac.copy_from_slice(&tag),
            Err(_) => {
                body.zeroize();
                mac.zeroize();
            }
        }
    }

    /// Opens a box (MAC, then ciphertext); None if it is short or does not authenticate.
    pub(crate) fn open(&self, nonce: &[u8; 24], boxed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (mac, ct) = (boxed.get(..MAC_LEN)?, &boxed[MAC_LEN.min(boxed.len())..]);
        let mut plain = Zeroizing::new(ct.to_vec());
        self.0
            .decrypt_in_place_detached(
                GenericArray::from_slice(nonce),
                b"",
                &mut plain,
                GenericArray::from_slice(mac),
            )
            .ok()?;
        Some(plain)
    }
}

fn nonce(prefix: &[u8], rest: &[u8]) -> [u8; 24] {
    let mut n = [0u8; 24];
    n[..prefix.len()].copy_from_slice(prefix);
    n[prefix.len()..].copy_from_slice(rest);
    n
}

fn key_at(b: &[u8], at: usize) -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    k.copy_from_slice(&b[at..at + KEY_LEN]);
    k
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut n = [0u8; 8];
    n.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(n)
}

/// libzmq's check_basic_command_structure: a name length octet and room for the name.
fn check_command_structure(body: &[u8]) -> Result<(), ZmtpError> {
    if body.len() <= 1 || body.len() <= usize::from(body[0]) {
        return Err(ZmtpError::protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            "malformed command",
        ));
    }
    Ok(())
}

fn unexpected(what: &'static str) -> ZmtpError {
    ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND, what)
}

/// The metadata of INITIATE or READY: properties as for NULL.
fn metadata(local: &Local<'_>) -> Zeroizing<Vec<u8>> {
    let mut m = Zeroizing::new(Vec::new());
    local.put_properties(&mut m);
    m
}

/// The message phase: the precomputed C'/S' key and both directions' nonces. Our nonce is
/// the next one to use; the peer's the last one accepted (each must be greater).
pub(crate) struct Channel {
    key: BoxKey,
    send_prefix: &'static [u8; 16],
    recv_prefix: &'static [u8; 16],
    next_nonce: u64,
    peer_nonce: u64,
}

impl Channel {
    fn take_nonce(&mut self) -> Result<u64, ZmtpError> {
        let n = self.next_nonce;
        // A nonce must never repeat: stop at the end of the space (never reached in
        // practice: 2^64 messages).
        self.next_nonce = n.checked_add(1).ok_or_else(|| crypto("nonces exhausted"))?;
        Ok(n)
    }

    /// Appends the MESSAGE command body carrying `flags` (INNER_*) and `body` to `out`.
    /// libzmq 4.3 sends this body as a frame without MORE or COMMAND flags.
    pub(crate) fn encode(
        &mut self,
        flags: u8,
        body: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ZmtpError> {
        let n = self.take_nonce()?;
        out.reserve(MESSAGE_HEADER + MAC_LEN + 1 + body.len());
        out.extend_from_slice(b"\x07MESSAGE");
        out.extend_from_slice(&n.to_be_bytes());
        let start = out.len();
        out.extend_from_slice(&[0; MAC_LEN]);
        out.push(flags & (INNER_MORE | INNER_COMMAND));
        out.extend_from_slice(body);
        self.key.seal_tail(&nonce(self.send_prefix, &n.to_be_bytes()), out, start);
        Ok(())
    }

    /// Opens a MESSAGE command body: (flags, body). A nonce not above the last one is
    /// INVALID_SEQUENCE (replayed or reordered); it is only recorded once the box opens.
    pub(crate) fn decode(&mut self, cmd: &[u8]) -> Result<(u8, Msg), ZmtpError> {
        check_command_structure(cmd)?;
        if !cmd.starts_with(b"\x07MESSAGE") {
            return Err(unexpected("expected MESSAGE"));
        }
        if cmd.len() < MESSAGE_HEADER + MAC_LEN + 1 {
            return Err(ZmtpError::protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE,
                "MESSAGE too short",
            ));
        }
        let n = u64_at(cmd, 8);
        if n <= self.peer_nonce {
            return Err(ZmtpError::protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE,
                "MESSAGE nonce not increasing",
            ));
        }
        let nonce = nonce(self.recv_prefix, &cmd[8..16]);
        let mac = &cmd[MESSAGE_HEADER..MESSAGE_HEADER + MAC_LEN];
        // Opened in place in the message handed back (flags octet first, then cut off):
        // one allocation and one copy of the body, no more.
        let mut plain = Msg::try_from_slice(&cmd[MESSAGE_HEADER + MAC_LEN..])
            .map_err(|_| ZmtpError::proto("out of memory"))?;
        let ok = self.key.0.decrypt_in_place_detached(
            GenericArray::from_slice(&nonce),
            b"",
            plain.data_mut(),
            GenericArray::from_slice(mac),
        );
        if ok.is_err() {
            return Err(crypto("MESSAGE does not authenticate"));
        }
        self.peer_nonce = n;
        let flags = plain.data()[0] & (INNER_MORE | INNER_COMMAND);
        plain.trim_front(1);
        Ok((flags, plain))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientState {
    SendHello,
    ExpectWelcome,
    SendInitiate,
    ExpectReady,
    Ready,
    Failed,
}

/// A CURVE client: knows the server's long-term public key S and its own pair (C, c).
pub(crate) struct CurveClient {
    state: ClientState,
    public: [u8; KEY_LEN],
    secret: SecretKey,
    server_key: [u8; KEY_LEN],
    cn_public: [u8; KEY_LEN],
    cn_secret: SecretKey,
    cn_server: [u8; KEY_LEN],
    cookie: [u8; 96],
    /// Our nonce before the channel exists (HELLO is 1, INITIATE 2, as libzmq).
    next_nonce: u64,
    channel: Option<Channel>,
}

impl CurveClient {
    pub(crate) fn new(
        public: [u8; KEY_LEN],
        secret: SecretKey,
        server_key: [u8; KEY_LEN],
    ) -> Result<CurveClient, ZmtpError> {
        let (cn_public, cn_secret) = keypair()?;
        Ok(CurveClient::with_short_term(public, secret, server_key, cn_public, cn_secret))
    }

    pub(crate) fn with_short_term(
        public: [u8; KEY_LEN],
        secret: SecretKey,
        server_key: [u8; KEY_LEN],
        cn_public: [u8; KEY_LEN],
        cn_secret: SecretKey,
    ) -> CurveClient {
        CurveClient {
            state: ClientState::SendHello,
            public,
            secret,
            server_key,
            cn_public,
            cn_secret,
            cn_server: [0; KEY_LEN],
            cookie: [0; 96],
            next_nonce: 1,
            channel: None,
        }
    }

    pub(crate) fn next_command(&mut self, local: &Local<'_>) -> Option<Vec<u8>> {
        let r = match self.state {
            ClientState::SendHello => self.hello(),
            ClientState::SendInitiate => self.initiate(local),
            _ => return None,
        };
        match r {
            Ok(body) => Some(body),
            // Only a server key of low order gets here: nothing can be sent; the peer
            // times the handshake out, and our next `process` reports the failure.
            Err(_) => {
                self.state = ClientState::Failed;
                None
            }
        }
    }

    fn hello(&mut self) -> Result<Vec<u8>, ZmtpError> {
        let key = BoxKey::new(&self.server_key, &self.cn_secret)?;
        let n = self.next_nonce;
        self.next_nonce += 1;
        let mut body = Vec::with_capacity(200);
        body.extend_from_slice(b"\x05HELLO\x01\x00");
        body.extend_from_slice(&[0; 72]); // anti-amplification padding
        body.extend_from_slice(&self.cn_public);
        body.extend_from_slice(&n.to_be_bytes());
        key.seal(&nonce(b"CurveZMQHELLO---", &n.to_be_bytes()), &[0; 64], &mut body);
        self.state = ClientState::ExpectWelcome;
        Ok(body)
    }

    fn initiate(&mut self, local: &Local<'_>) -> Result<Vec<u8>, ZmtpError> {
        // Vouch: Box[C' + S](C->S'), long-term secret to the server's short-term key.
        let vouch_key = BoxKey::new(&self.cn_server, &self.secret)?;
        let vouch_nonce = random::<16>()?;
        let mut vouch_plain = Zeroizing::new([0u8; 64]);
        vouch_plain[..32].copy_from_slice(&self.cn_public);
        vouch_plain[32..].copy_from_slice(&self.server_key);
        let mut plain = Zeroizing::new(Vec::with_capacity(128 + 64));
        plain.extend_from_slice(&self.public);
        plain.extend_from_slice(&*vouch_nonce);
        vouch_key.seal(&nonce(b"VOUCH---", &*vouch_nonce), &*vouch_plain, &mut plain);
        plain.extend_from_slice(&metadata(local));

        let channel = self.channel.as_ref().ok_or_else(|| crypto("no WELCOME"))?;
        let n = self.next_nonce;
        self.next_nonce += 1;
        let mut body = Vec::with_capacity(113 + MAC_LEN + plain.len());
        body.extend_from_slice(b"\x08INITIATE");
        body.extend_from_slice(&self.cookie);
        body.extend_from_slice(&n.to_be_bytes());
        channel.key.seal(&nonce(b"CurveZMQINITIATE", &n.to_be_bytes()), &plain, &mut body);
        self.state = ClientState::ExpectReady;
        Ok(body)
    }

    pub(crate) fn process(
        &mut self,
        body: &[u8],
        local: &Local<'_>,
        peer: &mut Peer,
    ) -> Result<(), ZmtpError> {
        let r = self.process_inner(body, local, peer);
        if r.is_err() {
            self.state = ClientState::Failed;
        }
        r
    }

    fn process_inner(
        &mut self,
        body: &[u8],
        local: &Local<'_>,
        peer: &mut Peer,
    ) -> Result<(), ZmtpError> {
        if self.state == ClientState::Failed {
            return Err(crypto("CURVE handshake failed"));
        }
        if body.starts_with(b"\x07WELCOME") {
            if self.state != ClientState::ExpectWelcome {
                return Err(unexpected("WELCOME out of turn"));
            }
            return self.welcome(body);
        }
        if body.starts_with(b"\x05READY") {
            if self.state != ClientState::ExpectReady {
                return Err(unexpected("READY out of turn"));
            }
            return self.ready(body, local, peer);
        }
        if let Some(data) = body.strip_prefix(b"\x05ERROR") {
            if !matches!(self.state, ClientState::ExpectWelcome | ClientState::ExpectReady) {
                return Err(unexpected("ERROR out of turn"));
            }
            return Err(error_command(data));
        }
        Err(unexpected("expected WELCOME, READY or ERROR"))
    }

    fn welcome(&mut self, body: &[u8]) -> Result<(), ZmtpError> {
        // libzmq reports a WELCOME of the wrong size as CRYPTOGRAPHIC too.
        if body.len() != 168 {
            return Err(crypto("WELCOME of the wrong size"));
        }
        let key = BoxKey::new(&self.server_key, &self.cn_secret)?;
        let plain = key
            .open(&nonce(b"WELCOME-", &body[8..24]), &body[24..])
            .ok_or_else(|| crypto("WELCOME does not open: wrong server key?"))?;
        self.cn_server = key_at(&plain, 0);
        self.cookie.copy_from_slice(&plain[32..128]);
        let key = BoxKey::new(&self.cn_server, &self.cn_secret)?;
        self.channel = Some(Channel {
            key,
            send_prefix: b"CurveZMQMESSAGEC",
            recv_prefix: b"CurveZMQMESSAGES",
            next_nonce: 0,
            peer_nonce: 0,
        });
        self.state = ClientState::SendInitiate;
        Ok(())
    }

    fn ready(&mut self, body: &[u8], local: &Local<'_>, peer: &mut Peer) -> Result<(), ZmtpError> {
        if body.len() < 30 {
            return Err(ZmtpError::protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY,
                "READY too short",
            ));
        }
        let channel = self.channel.as_mut().ok_or_else(|| crypto("no WELCOME"))?;
        let n = u64_at(body, 6);
        let plain = channel
            .key
            .open(&nonce(b"CurveZMQREADY---", &body[6..14]), &body[14..])
            .ok_or_else(|| crypto("READY does not open"))?;
        channel.peer_nonce = n;
        channel.next_nonce = self.next_nonce;
        peer.accept_properties(&plain, local.socket_type).map_err(|mut e| {
            e.event = Some(MonitorEvent::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA));
            e.errno = libc::EPROTO;
            e
        })?;
        self.state = ClientState::Ready;
        Ok(())
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.state == ClientState::Ready
    }

    pub(crate) fn channel(&mut self) -> Option<&mut Channel> {
        if self.state == ClientState::Ready {
            self.channel.as_mut()
        } else {
            None
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServerState {
    ExpectHello,
    SendWelcome,
    ExpectInitiate,
    /// INITIATE checked; the ZAP request is waiting to be taken (false) or answered.
    Zap {
        requested: bool,
    },
    SendReady,
    /// A ZAP status (400, 500) to send in ERROR before closing.
    SendError(u16),
    Ready,
    Failed,
}

/// A CURVE server: knows its long-term secret key s.
pub(crate) struct CurveServer {
    state: ServerState,
    secret: SecretKey,
    cn_public: [u8; KEY_LEN],
    cn_secret: SecretKey,
    /// C', from HELLO.
    cn_client: [u8; KEY_LEN],
    /// C, from INITIATE: what ZAP authenticates.
    client_key: [u8; KEY_LEN],
    /// Per connection, fresh for each WELCOME, as libzmq does.
    cookie_key: SecretKey,
    channel: Option<Channel>,
    /// The peer nonce of HELLO/INITIATE, carried into the channel.
    peer_nonce: u64,
}

impl CurveServer {
    pub(crate) fn new(secret: SecretKey) -> Result<CurveServer, ZmtpError> {
        let (cn_public, cn_secret) = keypair()?;
        Ok(CurveServer::with_short_term(secret, cn_public, cn_secret))
    }

    pub(crate) fn with_short_term(
        secret: SecretKey,
        cn_public: [u8; KEY_LEN],
        cn_secret: SecretKey,
    ) -> CurveServer {
        CurveServer {
            state: ServerState::ExpectHello,
            secret,
            cn_public,
            cn_secret,
            cn_client: [0; KEY_LEN],
            client_key: [0; KEY_LEN],
            cookie_key: SecretKey::default(),
            channel: None,
            peer_nonce: 0,
        }
    }

    pub(crate) fn next_command(&mut self, local: &Local<'_>) -> Option<Vec<u8>> {
        match self.state {
            ServerState::SendWelcome => match self.welcome() {
                Ok(b) => {
                    self.state = ServerState::ExpectInitiate;
                    Some(b)
                }
                Err(_) => {
                    self.state = ServerState::Failed;
                    None
                }
            },
            ServerState::SendReady => {
                let channel = self.channel.as_mut()?;
                let n = channel.take_nonce().ok()?;
                let mut body = Vec::with_capacity(64);
                body.extend_from_slice(b"\x05READY");
                body.extend_from_slice(&n.to_be_bytes());
                channel.key.seal(
                    &nonce(b"CurveZMQREADY---", &n.to_be_bytes()),
                    &metadata(local),
                    &mut body,
                );
                self.state = ServerState::Ready;
                Some(body)
            }
            ServerState::SendError(status) => {
                self.state = ServerState::Failed;
                Some(zap_error_body(status))
            }
            _ => None,
        }
    }

    fn welcome(&mut self) -> Result<Vec<u8>, ZmtpError> {
        self.cookie_key = SecretKey(random::<KEY_LEN>()?);
        let cookie_nonce = random::<16>()?;
        let mut cookie_plain = Zeroizing::new([0u8; 64]);
        cookie_plain[..32].copy_from_slice(&self.cn_client);
        cookie_plain[32..].copy_from_slice(self.cn_secret.as_bytes());
        let mut plain = Zeroizing::new(Vec::with_capacity(128));
        plain.extend_from_slice(&self.cn_public);
        plain.extend_from_slice(&*cookie_nonce);
        BoxKey::secret(self.cookie_key.as_bytes()).seal(
            &nonce(b"COOKIE--", &*cookie_nonce),
            &*cookie_plain,
            &mut plain,
        );
        let welcome_nonce = random::<16>()?;
        let mut body = Vec::with_capacity(168);
        body.extend_from_slice(b"\x07WELCOME");
        body.extend_from_slice(&*welcome_nonce);
        BoxKey::new(&self.cn_client, &self.secret)?.seal(
            &nonce(b"WELCOME-", &*welcome_nonce),
            &plain,
            &mut body,
        );
        Ok(body)
    }

    pub(crate) fn process(
        &mut self,
        body: &[u8],
        local: &Local<'_>,
        peer: &mut Peer,
    ) -> Result<(), ZmtpError> {
        let r = match self.state {
            ServerState::ExpectHello => self.hello(body),
            ServerState::ExpectInitiate => self.initiate(body, local, peer),
            ServerState::Failed => Err(crypto("CURVE handshake failed")),
            _ => {
                Err(ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED, "command out of turn"))
            }
        };
        if r.is_err() {
            self.state = ServerState::Failed;
        }
        r
    }

    fn hello(&mut self, body: &[u8]) -> Result<(), ZmtpError> {
        check_command_structure(body)?;
        if !body.starts_with(b"\x05HELLO") {
            return Err(unexpected("expected HELLO"));
        }
        let malformed =
            |what| ZmtpError::protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO, what);
        if body.len() != 200 {
            return Err(malformed("HELLO of the wrong size"));
        }
        if body[6..8] != [1, 0] {
            return Err(malformed("HELLO of an unknown version"));
        }
        self.cn_client = key_at(body, 80);
        let key = BoxKey::new(&self.cn_client, &self.secret)?;
        key.open(&nonce(b"CurveZMQHELLO---", &body[112..120]), &body[120..200])
            .ok_or_else(|| crypto("HELLO does not open: wrong server key?"))?;
        self.peer_nonce = u64_at(body, 112);
        self.state = ServerState::SendWelcome;
        Ok(())
    }

    fn initiate(
        &mut self,
        body: &[u8],
        local: &Local<'_>,
        peer: &mut Peer,
    ) -> Result<(), ZmtpError> {
        check_command_structure(body)?;
        if !body.starts_with(b"\x08INITIATE") {
            return Err(unexpected("expected INITIATE"));
        }
        if body.len() < 257 {
            return Err(ZmtpError::protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE,
                "INITIATE too short",
            ));
        }
        let cookie = BoxKey::secret(self.cookie_key.as_bytes())
            .open(&nonce(b"COOKIE--", &body[9..25]), &body[25..105])
            .ok_or_else(|| crypto("INITIATE cookie does not open"))?;
        let mut expect = Zeroizing::new([0u8; 64]);
        expect[..32].copy_from_slice(&self.cn_client);
        expect[32..].copy_from_slice(self.cn_secret.as_bytes());
        if !bool::from(cookie.ct_eq(&expect[..])) {
            return Err(crypto("INITIATE cookie is not ours"));
        }
        let key = BoxKey::new(&self.cn_client, &self.cn_secret)?;
        let plain = key
            .open(&nonce(b"CurveZMQINITIATE", &body[105..113]), &body[113..])
            .ok_or_else(|| crypto("INITIATE does not open"))?;
        let client_key = key_at(&plain, 0);
        let vouch = BoxKey::new(&client_key, &self.cn_secret)?
            .open(&nonce(b"VOUCH---", &plain[32..48]), &plain[48..128])
            .ok_or_else(|| crypto("INITIATE vouch does not open"))?;
        let mut vouched = Zeroizing::new([0u8; 64]);
        vouched[..32].copy_from_slice(&self.cn_client);
        vouched[32..].copy_from_slice(&public_of(&self.secret));
        if !bool::from(vouch.ct_eq(&vouched[..])) {
            return Err(ZmtpError::protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE,
                "vouch is not for this connection",
            ));
        }
        peer.accept_properties(&plain[128..], local.socket_type)?;
        self.client_key = client_key;
        self.channel = Some(Channel {
            key,
            send_prefix: b"CurveZMQMESSAGES",
            recv_prefix: b"CurveZMQMESSAGEC",
            next_nonce: 1,
            peer_nonce: u64_at(body, 105),
        });
        self.state = ServerState::Zap { requested: false };
        Ok(())
    }

    /// The ZAP request for the client's long-term key, once INITIATE has been accepted.
    pub(crate) fn zap_request(&mut self) -> Option<ZapRequest> {
        if self.state != (ServerState::Zap { requested: false }) {
            return None;
        }
        self.state = ServerState::Zap { requested: true };
        Some(ZapRequest::new("CURVE", vec![self.client_key.to_vec()]))
    }

    pub(crate) fn zap_reply(&mut self, reply: &ZapReply) -> Result<(), ZmtpError> {
        let waiting = matches!(self.state, ServerState::Zap { .. });
        let (ok, failed) = (ServerState::SendReady, ServerState::Failed);
        zap::apply_reply(&mut self.state, waiting, reply.status, ok, ServerState::SendError, failed)
    }

    /// No ZAP exchange: go on only when told to accept (the pipeline decides with
    /// `zap::plan`).
    pub(crate) fn zap_skip(&mut self, accept: bool) -> Result<(), ZmtpError> {
        let waiting = matches!(self.state, ServerState::Zap { .. });
        zap::apply_skip(
            &mut self.state,
            waiting,
            accept,
            ServerState::SendReady,
            ServerState::Failed,
        )
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.state == ServerState::Ready
    }

    pub(crate) fn channel(&mut self) -> Option<&mut Channel> {
        if self.state == ServerState::Ready {
            self.channel.as_mut()
        } else {
            None
        }
    }
}

#[cfg(test)]
#[path = "curve_tests.rs"]
mod tests;
