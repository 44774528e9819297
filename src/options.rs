//! Socket options: storage, defaults, value checks and the byte encoding of
//! `zmq_setsockopt`/`zmq_getsockopt`. Every option a socket keeps lives here, including the
//! pattern-specific ones (ROUTER_*, XPUB_*, REQ_*, ...), which `set` accepts only on the
//! socket types libzmq accepts them on.
//!
//! The rules are libzmq 4.3.5's, checked against Debian's libzmq 4.3.4 where they are
//! observable (the two agree on every stable option):
//! - int options need a buffer of exactly `sizeof(int)`, AFFINITY and MAXMSGSIZE exactly 8;
//! - a string is returned with a NUL, its length counting the NUL; a binary value without; a
//!   larger buffer is accepted and its tail zeroed, a smaller one is EINVAL;
//! - some options tell a NULL pointer (clear) from an empty buffer (EINVAL), hence `set_null`;
//! - unknown options, bad lengths and out-of-range values give EINVAL.
//!
//! Not answered here (the socket owns the live value and answers before calling `get`):
//! ZMQ_RCVMORE, ZMQ_EVENTS, ZMQ_FD, ZMQ_LAST_ENDPOINT, ZMQ_THREAD_SAFE, ZMQ_TOPICS_COUNT.
//! ZMQ_SUBSCRIBE and ZMQ_UNSUBSCRIBE are actions the socket performs itself.
//! Options of features ferrozmq does not build (GSSAPI, NORM, WSS, VMCI) give EINVAL, as a
//! libzmq built without them does; CURVE options follow `zmq_has("curve")`.

// Wired to sockets by the socket layer; until then most of this is unused.

use crate::consts::*;
use crate::error::{err, ZResult};
use libc::EINVAL;
use std::collections::{BTreeMap, BTreeSet};
use std::mem::size_of;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::raw::c_int;
use zeroize::Zeroizing;

/// Size of a CURVE key in bytes, and of its Z85 text.
pub(crate) const CURVE_KEY_SIZE: usize = 32;
const CURVE_KEY_Z85_SIZE: usize = 40;
/// libzmq caps ZMQ_BINDTODEVICE at IFNAMSIZ.
const BINDTODEVICE_MAX: usize = 16;
/// Longest ROUTING_ID, PLAIN credential, ZAP domain, SOCKS credential and filter text.
const UCHAR_MAX: usize = 255;

/// One ZMQ_TCP_ACCEPT_FILTER entry: a network and the number of leading bits that must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TcpAcceptFilter {
    pub(crate) addr: IpAddr,
    pub(crate) mask_bits: u32,
}

impl TcpAcceptFilter {
    /// Whether a peer address is inside this network. Like libzmq, families must be equal:
    /// with ZMQ_IPV6 the filter and the peers are both IPv6 (IPv4 as v4-mapped).
    pub(crate) fn matches(&self, peer: &IpAddr) -> bool {
        fn prefix_eq(a: &[u8], b: &[u8], bits: u32) -> bool {
            let full = (bits / 8) as usize;
            let rest = bits % 8;
            if a[..full] != b[..full] {
                return false;
            }
            rest == 0 || (a[full] ^ b[full]) & (0xffu8 << (8 - rest)) == 0
        }
        match (&self.addr, peer) {
            (IpAddr::V4(f), IpAddr::V4(p)) => prefix_eq(&f.octets(), &p.octets(), self.mask_bits),
            (IpAddr::V6(f), IpAddr::V6(p)) => prefix_eq(&f.octets(), &p.octets(), self.mask_bits),
            _ => false,
        }
    }
}

/// The options of one socket. Field names follow the option names; units are libzmq's
/// (milliseconds, messages, bytes) unless a field says otherwise.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// ZMQ_TYPE: fixed at creation.
    pub(crate) socket_type: i32,

    // Queueing and I/O.
    pub(crate) sndhwm: i32,
    pub(crate) rcvhwm: i32,
    pub(crate) affinity: u64,
    pub(crate) rate: i32,
    pub(crate) recovery_ivl: i32,
    pub(crate) sndbuf: i32,
    pub(crate) rcvbuf: i32,
    pub(crate) tos: i32,
    pub(crate) linger: i32,
    pub(crate) reconnect_ivl: i32,
    pub(crate) reconnect_ivl_max: i32,
    pub(crate) backlog: i32,
    pub(crate) maxmsgsize: i64,
    pub(crate) multicast_hops: i32,
    pub(crate) multicast_maxtpdu: i32,
    pub(crate) rcvtimeo: i32,
    pub(crate) sndtimeo: i32,
    pub(crate) ipv6: bool,
    pub(crate) immediate: bool,
    pub(crate) conflate: bool,
    pub(crate) invert_matching: bool,
    pub(crate) tcp_keepalive: i32,
    pub(crate) tcp_keepalive_cnt: i32,
    pub(crate) tcp_keepalive_idle: i32,
    pub(crate) tcp_keepalive_intvl: i32,
    pub(crate) tcp_maxrt: i32,
    pub(crate) connect_timeout: i32,
    pub(crate) handshake_ivl: i32,
    pub(crate) heartbeat_ivl: i32,
    /// ZMQ_HEARTBEAT_TTL in deciseconds, the unit of the PING command on the wire.
    pub(crate) heartbeat_ttl: u16,
    pub(crate) heartbeat_timeout: i32,
    pub(crate) use_fd: i32,
    pub(crate) bindtodevice: Vec<u8>,
    pub(crate) socks_proxy: Vec<u8>,
    pub(crate) socks_username: Vec<u8>,
    pub(crate) socks_password: Vec<u8>,
    pub(crate) tcp_accept_filters: Vec<TcpAcceptFilter>,
    pub(crate) ipc_filter_pids: BTreeSet<i32>,
    pub(crate) ipc_filter_uids: BTreeSet<u32>,
    pub(crate) ipc_filter_gids: BTreeSet<u32>,

    /// ZMQ_ROUTING_ID: 0..=255 bytes, empty when not set.
    pub(crate) routing_id: Vec<u8>,

    // Security. `mechanism` and `as_server` are the combined effect of the PLAIN/CURVE
    // options, in the order they were set, as in libzmq.
    pub(crate) mechanism: i32,
    pub(crate) as_server: bool,
    pub(crate) plain_username: Vec<u8>,
    /// Secrets are wiped from memory when the options (socket, connections) go.
    pub(crate) plain_password: Zeroizing<Vec<u8>>,
    pub(crate) curve_public_key: [u8; CURVE_KEY_SIZE],
    pub(crate) curve_secret_key: Zeroizing<[u8; CURVE_KEY_SIZE]>,
    pub(crate) curve_server_key: [u8; CURVE_KEY_SIZE],
    pub(crate) zap_domain: Vec<u8>,
    pub(crate) zap_enforce_domain: bool,

    // Draft options shared by all socket types.
    pub(crate) loopback_fastpath: bool,
    pub(crate) multicast_loop: bool,
    /// ZMQ_METADATA: "X-" properties sent in the handshake; the first value set for a key wins.
    pub(crate) metadata: BTreeMap<Vec<u8>, Vec<u8>>,
    pub(crate) in_batch_size: i32,
    pub(crate) out_batch_size: i32,
    pub(crate) reconnect_stop: i32,
    pub(crate) hello_msg: Vec<u8>,
    pub(crate) disconnect_msg: Vec<u8>,
    pub(crate) hiccup_msg: Vec<u8>,
    pub(crate) priority: i32,
    pub(crate) busy_poll: i32,

    // Pattern-specific options: write-only, accepted on the types noted.
    /// ROUTER, REP.
    pub(crate) router_mandatory: bool,
    /// ROUTER, REP.
    pub(crate) router_raw: bool,
    /// ROUTER, REP.
    pub(crate) router_handover: bool,
    /// ROUTER, REP (set); every type can read it back, as in libzmq.
    pub(crate) router_notify: i32,
    /// ROUTER, REP, DEALER, REQ.
    pub(crate) probe_router: bool,
    /// REQ.
    pub(crate) req_correlate: bool,
    /// REQ.
    pub(crate) req_relaxed: bool,
    /// ROUTER, REP, STREAM: routing id for the next connect; empty when unset.
    pub(crate) connect_routing_id: Vec<u8>,
    /// STREAM.
    pub(crate) stream_notify: bool,
    /// XPUB, PUB: pass duplicate subscriptions (set by XPUB_VERBOSE and XPUB_VERBOSER).
    pub(crate) xpub_verbose: bool,
    /// XPUB, PUB: also pass duplicate unsubscriptions (set by XPUB_VERBOSER, cleared by
    /// XPUB_VERBOSE).
    pub(crate) xpub_verboser: bool,
    /// XPUB, PUB: set by XPUB_MANUAL and XPUB_MANUAL_LAST_VALUE.
    pub(crate) xpub_manual: bool,
    /// XPUB, PUB: set by XPUB_MANUAL_LAST_VALUE only.
    pub(crate) xpub_manual_last_value: bool,
    /// XPUB, PUB, RADIO.
    pub(crate) xpub_nodrop: bool,
    /// XPUB, PUB: empty means no welcome message.
    pub(crate) xpub_welcome_msg: Vec<u8>,
    /// XPUB, PUB, XSUB.
    pub(crate) only_first_subscribe: bool,
    /// XSUB.
    pub(crate) xsub_verbose_unsubscribe: bool,

    // Not options but fixed by the socket type (and ROUTER_RAW); engines and sessions read
    // them, as libzmq's do.
    /// Peers' routing ids are delivered as a first frame (ROUTER, REP).
    pub(crate) recv_routing_id: bool,
    /// No ZMTP: raw bytes on the wire (STREAM, DGRAM, ROUTER_RAW).
    pub(crate) raw_socket: bool,
}

/// Which optional features are compiled in, as `zmq_has` reports them.
#[derive(Clone, Copy)]
struct Built {
    curve: bool,
}

impl Built {
    fn now() -> Built {
        Built { curve: crate::util::HAS.contains(&&b"curve"[..]) }
    }
}

/// One family of options' setter: Ok(false) when the option is not of that family.
type Setter = fn(&mut Options, i32, Option<&[u8]>, Built) -> ZResult<bool>;

/// The int in a value of exactly `sizeof(int)` bytes.
fn as_int(value: Option<&[u8]>) -> Option<c_int> {
    let bytes: [u8; size_of::<c_int>()] = value?.try_into().ok()?;
    Some(c_int::from_ne_bytes(bytes))
}

/// The int, if present and accepted by `ok`; EINVAL otherwise.
fn int_where(int: Option<c_int>, ok: impl Fn(c_int) -> bool) -> ZResult<c_int> {
    match int {
        Some(v) if ok(v) => Ok(v),
        _ => err(EINVAL),
    }
}

/// Booleans libzmq takes only as 0 or 1.
fn bool_strict(int: Option<c_int>) -> ZResult<bool> {
    int_where(int, |v| v == 0 || v == 1).map(|v| v != 0)
}

/// Booleans libzmq takes as any int, nonzero meaning true.
fn bool_relaxed(int: Option<c_int>) -> ZResult<bool> {
    int_where(int, |_| true).map(|v| v != 0)
}

/// Pattern flags: any int >= 0, nonzero meaning true.
fn bool_nonneg(int: Option<c_int>) -> ZResult<bool> {
    int_where(int, |v| v >= 0).map(|v| v != 0)
}

/// Strings libzmq clears on (NULL, 0) and takes at 1..=max bytes otherwise.
fn string_strict(value: Option<&[u8]>, max: usize) -> ZResult<Vec<u8>> {
    match value {
        None => Ok(Vec::new()),
        Some(b) if !b.is_empty() && b.len() <= max => Ok(b.to_vec()),
        Some(_) => err(EINVAL),
    }
}

/// Exactly 8 bytes, native endian.
fn as_8_bytes(value: Option<&[u8]>) -> ZResult<[u8; 8]> {
    match value.and_then(|b| b.try_into().ok()) {
        Some(b) => Ok(b),
        None => err(EINVAL),
    }
}

fn put_int(buf: &mut [u8], v: c_int) -> ZResult<usize> {
    if buf.len() != size_of::<c_int>() {
        return err(EINVAL);
    }
    buf.copy_from_slice(&v.to_ne_bytes());
    Ok(buf.len())
}

fn put_8_bytes(buf: &mut [u8], v: [u8; 8]) -> ZResult<usize> {
    if buf.len() != v.len() {
        return err(EINVAL);
    }
    buf.copy_from_slice(&v);
    Ok(buf.len())
}

/// Binary value: the buffer must hold it; libzmq zeroes the rest of the buffer.
fn put_bytes(buf: &mut [u8], v: &[u8]) -> ZResult<usize> {
    if buf.len() < v.len() {
        return err(EINVAL);
    }
    buf[..v.len()].copy_from_slice(v);
    buf[v.len()..].fill(0);
    Ok(v.len())
}

/// String value: as binary, plus the NUL, which the returned length counts.
fn put_string(buf: &mut [u8], v: &[u8]) -> ZResult<usize> {
    if buf.len() <= v.len() {
        return err(EINVAL);
    }
    put_bytes(buf, v)?;
    Ok(v.len() + 1)
}

impl Options {
    /// libzmq's defaults, with the per-type adjustments its socket constructors make.
    pub(crate) fn new(socket_type: i32) -> Options {
        let is = |types: &[i32]| types.contains(&socket_type);
        Options {
            socket_type,
            sndhwm: 1000,
            rcvhwm: 1000,
            affinity: 0,
            rate: 100,
            recovery_ivl: 10000,
            sndbuf: -1,
            rcvbuf: -1,
            tos: 0,
            // Subscribers drop pending subscriptions at close rather than wait.
            linger: if is(&[ZMQ_SUB, ZMQ_XSUB, ZMQ_DISH]) { 0 } else { -1 },
            reconnect_ivl: 100,
            reconnect_ivl_max: 0,
            backlog: 100,
            maxmsgsize: -1,
            multicast_hops: 1,
            multicast_maxtpdu: 1500,
            rcvtimeo: -1,
            sndtimeo: -1,
            ipv6: false,
            immediate: false,
            conflate: false,
            invert_matching: false,
            tcp_keepalive: -1,
            tcp_keepalive_cnt: -1,
            tcp_keepalive_idle: -1,
            tcp_keepalive_intvl: -1,
            tcp_maxrt: 0,
            connect_timeout: 0,
            handshake_ivl: 30000,
            heartbeat_ivl: 0,
            heartbeat_ttl: 0,
            heartbeat_timeout: -1,
            use_fd: -1,
            bindtodevice: Vec::new(),
            socks_proxy: Vec::new(),
            socks_username: Vec::new(),
            socks_password: Vec::new(),
            tcp_accept_filters: Vec::new(),
            ipc_filter_pids: BTreeSet::new(),
            ipc_filter_uids: BTreeSet::new(),
            ipc_filter_gids: BTreeSet::new(),
            routing_id: Vec::new(),
            mechanism: ZMQ_NULL,
            as_server: false,
            plain_username: Vec::new(),
            plain_password: Zeroizing::new(Vec::new()),
            curve_public_key: [0; CURVE_KEY_SIZE],
            curve_secret_key: Zeroizing::new([0; CURVE_KEY_SIZE]),
            curve_server_key: [0; CURVE_KEY_SIZE],
            zap_domain: Vec::new(),
            zap_enforce_domain: false,
            loopback_fastpath: false,
            multicast_loop: true,
            metadata: BTreeMap::new(),
            in_batch_size: 8192,
            out_batch_size: 8192,
            reconnect_stop: 0,
            hello_msg: Vec::new(),
            disconnect_msg: Vec::new(),
            hiccup_msg: Vec::new(),
            priority: 0,
            busy_poll: 0,
            router_mandatory: false,
            router_raw: false,
            router_handover: false,
            router_notify: 0,
            probe_router: false,
            req_correlate: false,
            req_relaxed: false,
            connect_routing_id: Vec::new(),
            stream_notify: true,
            xpub_verbose: false,
            xpub_verboser: false,
            xpub_manual: false,
            xpub_manual_last_value: false,
            xpub_nodrop: false,
            xpub_welcome_msg: Vec::new(),
            only_first_subscribe: false,
            xsub_verbose_unsubscribe: false,
            // REP and REQ are built on ROUTER and DEALER in libzmq and inherit their traits.
            recv_routing_id: is(&[ZMQ_ROUTER, ZMQ_REP]),
            raw_socket: is(&[ZMQ_STREAM, ZMQ_DGRAM]),
        }
    }

    fn type_is(&self, types: &[i32]) -> bool {
        types.contains(&self.socket_type)
    }

    /// `zmq_setsockopt` with a non-NULL `optval` of `value.len()` bytes.
    pub(crate) fn set(&mut self, option: i32, value: &[u8]) -> ZResult<()> {
        self.set_value(option, Some(value), Built::now())
    }

    /// `zmq_setsockopt` with `optval == NULL` and `optvallen == 0`, which clears some string
    /// and filter options. (NULL with a nonzero length is the caller's EINVAL.)
    pub(crate) fn set_null(&mut self, option: i32) -> ZResult<()> {
        self.set_value(option, None, Built::now())
    }

    /// `zmq_getsockopt`: writes into `buf` (the caller's buffer, `*optvallen` bytes) and
    /// returns the length to store back in `*optvallen`. On error `buf` is untouched.
    pub(crate) fn get(&self, option: i32, buf: &mut [u8]) -> ZResult<usize> {
        self.get_value(option, buf, Built::now())
    }

    /// Sets one option: each family's setter in turn, EINVAL if none knows it.
    fn set_value(&mut self, option: i32, value: Option<&[u8]>, built: Built) -> ZResult<()> {
        let setters: [Setter; 5] = [
            Options::set_queue_and_timing,
            Options::set_connection,
            Options::set_security,
            Options::set_misc,
            Options::set_pattern,
        ];
        for set in setters {
            if set(self, option, value, built)? {
                return Ok(());
            }
        }
        // Everything else: read-only or runtime options, socket actions (SUBSCRIBE),
        // features not built (GSSAPI, NORM, WSS, VMCI, CURVE without curve), unknown.
        err(EINVAL)
    }

    /// Queues, timing, reconnection, TCP tuning and heartbeats. Ok(false): not one of these.
    fn set_queue_and_timing(
        &mut self,
        option: i32,
        value: Option<&[u8]>,
        _built: Built,
    ) -> ZResult<bool> {
        let int = as_int(value);
        match option {
            ZMQ_SNDHWM => self.sndhwm = int_where(int, |v| v >= 0)?,
            ZMQ_RCVHWM => self.rcvhwm = int_where(int, |v| v >= 0)?,
            ZMQ_AFFINITY => self.affinity = u64::from_ne_bytes(as_8_bytes(value)?),
            ZMQ_MAXMSGSIZE => self.maxmsgsize = i64::from_ne_bytes(as_8_bytes(value)?),
            ZMQ_ROUTING_ID => match value {
                // A leading zero byte is reserved by the docs, but libzmq accepts it.
                Some(b) if (1..=UCHAR_MAX).contains(&b.len()) => self.routing_id = b.to_vec(),
                _ => return err(EINVAL),
            },
            ZMQ_RATE => self.rate = int_where(int, |v| v > 0)?,
            ZMQ_RECOVERY_IVL => self.recovery_ivl = int_where(int, |v| v >= 0)?,
            ZMQ_SNDBUF => self.sndbuf = int_where(int, |v| v >= -1)?,
            ZMQ_RCVBUF => self.rcvbuf = int_where(int, |v| v >= -1)?,
            ZMQ_TOS => self.tos = int_where(int, |v| v >= 0)?,
            ZMQ_LINGER => self.linger = int_where(int, |v| v >= -1)?,
            ZMQ_CONNECT_TIMEOUT => self.connect_timeout = int_where(int, |v| v >= 0)?,
            ZMQ_TCP_MAXRT => self.tcp_maxrt = int_where(int, |v| v >= 0)?,
            ZMQ_RECONNECT_STOP => self.reconnect_stop = int_where(int, |_| true)?,
            ZMQ_RECONNECT_IVL => self.reconnect_ivl = int_where(int, |v| v >= -1)?,
            ZMQ_RECONNECT_IVL_MAX => self.reconnect_ivl_max = int_where(int, |v| v >= 0)?,
            ZMQ_BACKLOG => self.backlog = int_where(int, |v| v >= 0)?,
            ZMQ_MULTICAST_HOPS => self.multicast_hops = int_where(int, |v| v > 0)?,
            ZMQ_MULTICAST_MAXTPDU => self.multicast_maxtpdu = int_where(int, |v| v > 0)?,
            ZMQ_RCVTIMEO => self.rcvtimeo = int_where(int, |v| v >= -1)?,
            ZMQ_SNDTIMEO => self.sndtimeo = int_where(int, |v| v >= -1)?,
            ZMQ_IPV4ONLY => self.ipv6 = !bool_strict(int)?,
            ZMQ_IPV6 => self.ipv6 = bool_strict(int)?,
            ZMQ_IMMEDIATE => self.immediate = bool_strict(int)?,
            ZMQ_CONFLATE => self.conflate = bool_strict(int)?,
            ZMQ_INVERT_MATCHING => self.invert_matching = bool_relaxed(int)?,
            ZMQ_TCP_KEEPALIVE => self.tcp_keepalive = int_where(int, |v| (-1..=1).contains(&v))?,
            ZMQ_TCP_KEEPALIVE_CNT => self.tcp_keepalive_cnt = int_where(int, |v| v >= -1)?,
            ZMQ_TCP_KEEPALIVE_IDLE => self.tcp_keepalive_idle = int_where(int, |v| v >= -1)?,
            ZMQ_TCP_KEEPALIVE_INTVL => self.tcp_keepalive_intvl = int_where(int, |v| v >= -1)?,
            ZMQ_HANDSHAKE_IVL => self.handshake_ivl = int_where(int, |v| v >= 0)?,
            ZMQ_HEARTBEAT_IVL => self.heartbeat_ivl = int_where(int, |v| v >= 0)?,
            ZMQ_HEARTBEAT_TTL => {
                // Milliseconds in, deciseconds kept (truncating, as libzmq does).
                let ms = int_where(int, |v| (0..=i32::from(u16::MAX)).contains(&(v / 100)))?;
                self.heartbeat_ttl = (ms / 100) as u16;
            }
            ZMQ_HEARTBEAT_TIMEOUT => self.heartbeat_timeout = int_where(int, |v| v >= 0)?,
            ZMQ_USE_FD => self.use_fd = int_where(int, |v| v >= -1)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Where and how connections are made and accepted: proxy, device, accept filters. Ok(false): not one of these.
    fn set_connection(
        &mut self,
        option: i32,
        value: Option<&[u8]>,
        _built: Built,
    ) -> ZResult<bool> {
        let int = as_int(value);
        let len = value.map_or(0, <[u8]>::len);
        match option {
            ZMQ_SOCKS_PROXY => self.socks_proxy = string_strict(value, usize::MAX)?,
            ZMQ_SOCKS_USERNAME | ZMQ_SOCKS_PASSWORD => {
                // Here an empty buffer clears as NULL does.
                let v = if len == 0 { Vec::new() } else { string_strict(value, UCHAR_MAX)? };
                if option == ZMQ_SOCKS_USERNAME {
                    self.socks_username = v;
                } else {
                    self.socks_password = v;
                }
            }
            ZMQ_BINDTODEVICE => self.bindtodevice = string_strict(value, BINDTODEVICE_MAX)?,
            ZMQ_TCP_ACCEPT_FILTER => {
                let text = string_strict(value, UCHAR_MAX)?;
                if value.is_none() {
                    self.tcp_accept_filters.clear();
                } else {
                    let filter = parse_tcp_accept_filter(c_str(&text), self.ipv6)?;
                    self.tcp_accept_filters.push(filter);
                }
            }
            ZMQ_IPC_FILTER_PID => match value {
                None => self.ipc_filter_pids.clear(),
                Some(_) => {
                    self.ipc_filter_pids.insert(int_where(int, |_| true)?);
                }
            },
            ZMQ_IPC_FILTER_UID | ZMQ_IPC_FILTER_GID => {
                let set = if option == ZMQ_IPC_FILTER_UID {
                    &mut self.ipc_filter_uids
                } else {
                    &mut self.ipc_filter_gids
                };
                match value {
                    None => set.clear(),
                    // uid_t and gid_t are unsigned 32-bit on Linux.
                    Some(_) => {
                        set.insert(int_where(int, |_| true)? as u32);
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Security mechanisms and ZAP. Ok(false): not one of these.
    fn set_security(&mut self, option: i32, value: Option<&[u8]>, built: Built) -> ZResult<bool> {
        let int = as_int(value);
        match option {
            ZMQ_PLAIN_SERVER => {
                self.as_server = bool_strict(int)?;
                self.mechanism = if self.as_server { ZMQ_PLAIN } else { ZMQ_NULL };
            }
            ZMQ_PLAIN_USERNAME | ZMQ_PLAIN_PASSWORD => match value {
                // NULL switches the mechanism off but keeps the stored credential.
                None => self.mechanism = ZMQ_NULL,
                Some(b) if (1..=UCHAR_MAX).contains(&b.len()) => {
                    if option == ZMQ_PLAIN_USERNAME {
                        self.plain_username = b.to_vec();
                    } else {
                        self.plain_password = Zeroizing::new(b.to_vec());
                    }
                    self.as_server = false;
                    self.mechanism = ZMQ_PLAIN;
                }
                Some(_) => return err(EINVAL),
            },
            ZMQ_ZAP_DOMAIN => match value {
                // Unlike the other strings, neither NULL nor empty is accepted.
                Some(b) if (1..=UCHAR_MAX).contains(&b.len()) => self.zap_domain = b.to_vec(),
                _ => return err(EINVAL),
            },
            ZMQ_CURVE_SERVER if built.curve => {
                self.as_server = bool_strict(int)?;
                self.mechanism = if self.as_server { ZMQ_CURVE } else { ZMQ_NULL };
            }
            ZMQ_CURVE_PUBLICKEY | ZMQ_CURVE_SECRETKEY | ZMQ_CURVE_SERVERKEY if built.curve => {
                let dest = match option {
                    ZMQ_CURVE_PUBLICKEY => &mut self.curve_public_key,
                    ZMQ_CURVE_SECRETKEY => &mut *self.curve_secret_key,
                    _ => &mut self.curve_server_key,
                };
                set_curve_key(dest, value.unwrap_or_default())?;
                self.mechanism = ZMQ_CURVE;
                if option == ZMQ_CURVE_SERVERKEY {
                    self.as_server = false;
                }
            }
            ZMQ_ZAP_ENFORCE_DOMAIN => self.zap_enforce_domain = bool_relaxed(int)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Metadata, batching and the remaining socket-wide options. Ok(false): not one of these.
    fn set_misc(&mut self, option: i32, value: Option<&[u8]>, _built: Built) -> ZResult<bool> {
        let int = as_int(value);
        match option {
            ZMQ_LOOPBACK_FASTPATH => self.loopback_fastpath = bool_relaxed(int)?,
            ZMQ_MULTICAST_LOOP => self.multicast_loop = bool_relaxed(int)?,
            ZMQ_METADATA => {
                // "X-key:value"; libzmq refuses a 4-byte value, taking it for an int.
                let b = value.unwrap_or_default();
                if b.is_empty() || int.is_some() {
                    return err(EINVAL);
                }
                let colon = b.iter().position(|&c| c == b':');
                match colon {
                    Some(at) if at != 0 && at != b.len() - 1 => {
                        let (key, val) = (&b[..at], &b[at + 1..]);
                        if !key.starts_with(b"X-") || key.len() > UCHAR_MAX {
                            return err(EINVAL);
                        }
                        self.metadata.entry(key.to_vec()).or_insert_with(|| val.to_vec());
                    }
                    _ => return err(EINVAL),
                }
            }
            ZMQ_IN_BATCH_SIZE => self.in_batch_size = int_where(int, |v| v > 0)?,
            ZMQ_OUT_BATCH_SIZE => self.out_batch_size = int_where(int, |v| v > 0)?,
            ZMQ_HELLO_MSG => self.hello_msg = value.unwrap_or_default().to_vec(),
            ZMQ_DISCONNECT_MSG => self.disconnect_msg = value.unwrap_or_default().to_vec(),
            ZMQ_HICCUP_MSG => self.hiccup_msg = value.unwrap_or_default().to_vec(),
            ZMQ_PRIORITY => self.priority = int_where(int, |v| v >= 0)?,
            ZMQ_BUSY_POLL => self.busy_poll = int_where(int, |_| true)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Pattern-specific options; a type not listed falls through to EINVAL. Ok(false): not one of these.
    fn set_pattern(&mut self, option: i32, value: Option<&[u8]>, _built: Built) -> ZResult<bool> {
        let int = as_int(value);
        match option {
            ZMQ_ROUTER_MANDATORY if self.type_is(&[ZMQ_ROUTER, ZMQ_REP]) => {
                self.router_mandatory = bool_nonneg(int)?
            }
            ZMQ_ROUTER_RAW if self.type_is(&[ZMQ_ROUTER, ZMQ_REP]) => {
                self.router_raw = bool_nonneg(int)?;
                if self.router_raw {
                    // libzmq never turns these back on when ROUTER_RAW is cleared.
                    self.recv_routing_id = false;
                    self.raw_socket = true;
                }
            }
            ZMQ_ROUTER_HANDOVER if self.type_is(&[ZMQ_ROUTER, ZMQ_REP]) => {
                self.router_handover = bool_nonneg(int)?
            }
            ZMQ_ROUTER_NOTIFY if self.type_is(&[ZMQ_ROUTER, ZMQ_REP]) => {
                let all = ZMQ_NOTIFY_CONNECT | ZMQ_NOTIFY_DISCONNECT;
                self.router_notify = int_where(int, |v| (0..=all).contains(&v))?
            }
            ZMQ_PROBE_ROUTER if self.type_is(&[ZMQ_ROUTER, ZMQ_REP, ZMQ_DEALER, ZMQ_REQ]) => {
                self.probe_router = bool_nonneg(int)?
            }
            ZMQ_REQ_CORRELATE if self.type_is(&[ZMQ_REQ]) => self.req_correlate = bool_nonneg(int)?,
            ZMQ_REQ_RELAXED if self.type_is(&[ZMQ_REQ]) => self.req_relaxed = bool_nonneg(int)?,
            ZMQ_CONNECT_ROUTING_ID if self.type_is(&[ZMQ_ROUTER, ZMQ_REP, ZMQ_STREAM]) => {
                // Any nonzero length: unlike ROUTING_ID there is no 255-byte cap.
                match value {
                    Some(b) if !b.is_empty() => self.connect_routing_id = b.to_vec(),
                    _ => return err(EINVAL),
                }
            }
            ZMQ_STREAM_NOTIFY if self.type_is(&[ZMQ_STREAM]) => {
                self.stream_notify = bool_strict(int)?
            }
            ZMQ_XPUB_VERBOSE if self.type_is(&[ZMQ_XPUB, ZMQ_PUB]) => {
                self.xpub_verbose = bool_nonneg(int)?;
                self.xpub_verboser = false;
            }
            ZMQ_XPUB_VERBOSER if self.type_is(&[ZMQ_XPUB, ZMQ_PUB]) => {
                self.xpub_verbose = bool_nonneg(int)?;
                self.xpub_verboser = self.xpub_verbose;
            }
            ZMQ_XPUB_MANUAL if self.type_is(&[ZMQ_XPUB, ZMQ_PUB]) => {
                self.xpub_manual = bool_nonneg(int)?
            }
            ZMQ_XPUB_MANUAL_LAST_VALUE if self.type_is(&[ZMQ_XPUB, ZMQ_PUB]) => {
                self.xpub_manual = bool_nonneg(int)?;
                self.xpub_manual_last_value = self.xpub_manual;
            }
            ZMQ_XPUB_NODROP if self.type_is(&[ZMQ_XPUB, ZMQ_PUB, ZMQ_RADIO]) => {
                self.xpub_nodrop = bool_nonneg(int)?
            }
            ZMQ_XPUB_WELCOME_MSG if self.type_is(&[ZMQ_XPUB, ZMQ_PUB]) => {
                self.xpub_welcome_msg = value.unwrap_or_default().to_vec()
            }
            ZMQ_ONLY_FIRST_SUBSCRIBE if self.type_is(&[ZMQ_XPUB, ZMQ_PUB, ZMQ_XSUB]) => {
                self.only_first_subscribe = bool_nonneg(int)?
            }
            ZMQ_XSUB_VERBOSE_UNSUBSCRIBE if self.type_is(&[ZMQ_XSUB]) => {
                self.xsub_verbose_unsubscribe = bool_relaxed(int)?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn get_value(&self, option: i32, buf: &mut [u8], built: Built) -> ZResult<usize> {
        match option {
            ZMQ_TYPE => put_int(buf, self.socket_type),
            ZMQ_SNDHWM => put_int(buf, self.sndhwm),
            ZMQ_RCVHWM => put_int(buf, self.rcvhwm),
            ZMQ_AFFINITY => put_8_bytes(buf, self.affinity.to_ne_bytes()),
            ZMQ_MAXMSGSIZE => put_8_bytes(buf, self.maxmsgsize.to_ne_bytes()),
            ZMQ_ROUTING_ID => put_bytes(buf, &self.routing_id),
            ZMQ_RATE => put_int(buf, self.rate),
            ZMQ_RECOVERY_IVL => put_int(buf, self.recovery_ivl),
            ZMQ_SNDBUF => put_int(buf, self.sndbuf),
            ZMQ_RCVBUF => put_int(buf, self.rcvbuf),
            ZMQ_TOS => put_int(buf, self.tos),
            ZMQ_LINGER => put_int(buf, self.linger),
            ZMQ_CONNECT_TIMEOUT => put_int(buf, self.connect_timeout),
            ZMQ_TCP_MAXRT => put_int(buf, self.tcp_maxrt),
            ZMQ_RECONNECT_STOP => put_int(buf, self.reconnect_stop),
            ZMQ_RECONNECT_IVL => put_int(buf, self.reconnect_ivl),
            ZMQ_RECONNECT_IVL_MAX => put_int(buf, self.reconnect_ivl_max),
            ZMQ_BACKLOG => put_int(buf, self.backlog),
            ZMQ_MULTICAST_HOPS => put_int(buf, self.multicast_hops),
            ZMQ_MULTICAST_MAXTPDU => put_int(buf, self.multicast_maxtpdu),
            ZMQ_RCVTIMEO => put_int(buf, self.rcvtimeo),
            ZMQ_SNDTIMEO => put_int(buf, self.sndtimeo),
            ZMQ_IPV4ONLY => put_int(buf, c_int::from(!self.ipv6)),
            ZMQ_IPV6 => put_int(buf, c_int::from(self.ipv6)),
            ZMQ_IMMEDIATE => put_int(buf, c_int::from(self.immediate)),
            ZMQ_CONFLATE => put_int(buf, c_int::from(self.conflate)),
            ZMQ_INVERT_MATCHING => put_int(buf, c_int::from(self.invert_matching)),
            ZMQ_TCP_KEEPALIVE => put_int(buf, self.tcp_keepalive),
            ZMQ_TCP_KEEPALIVE_CNT => put_int(buf, self.tcp_keepalive_cnt),
            ZMQ_TCP_KEEPALIVE_IDLE => put_int(buf, self.tcp_keepalive_idle),
            ZMQ_TCP_KEEPALIVE_INTVL => put_int(buf, self.tcp_keepalive_intvl),
            ZMQ_HANDSHAKE_IVL => put_int(buf, self.handshake_ivl),
            ZMQ_HEARTBEAT_IVL => put_int(buf, self.heartbeat_ivl),
            ZMQ_HEARTBEAT_TTL => put_int(buf, c_int::from(self.heartbeat_ttl) * 100),
            ZMQ_HEARTBEAT_TIMEOUT => put_int(buf, self.heartbeat_timeout),
            ZMQ_USE_FD => put_int(buf, self.use_fd),
            ZMQ_SOCKS_PROXY => put_string(buf, &self.socks_proxy),
            ZMQ_SOCKS_USERNAME => put_string(buf, &self.socks_username),
            ZMQ_SOCKS_PASSWORD => put_string(buf, &self.socks_password),
            ZMQ_BINDTODEVICE => put_string(buf, &self.bindtodevice),
            ZMQ_MECHANISM => put_int(buf, self.mechanism),
            ZMQ_PLAIN_SERVER => {
                put_int(buf, c_int::from(self.as_server && self.mechanism == ZMQ_PLAIN))
            }
            ZMQ_PLAIN_USERNAME => put_string(buf, &self.plain_username),
            ZMQ_PLAIN_PASSWORD => put_string(buf, &self.plain_password),
            ZMQ_ZAP_DOMAIN => put_string(buf, &self.zap_domain),
            ZMQ_CURVE_SERVER if built.curve => {
                put_int(buf, c_int::from(self.as_server && self.mechanism == ZMQ_CURVE))
            }
            ZMQ_CURVE_PUBLICKEY if built.curve => put_curve_key(buf, &self.curve_public_key),
            ZMQ_CURVE_SECRETKEY if built.curve => put_curve_key(buf, &self.curve_secret_key),
            ZMQ_CURVE_SERVERKEY if built.curve => put_curve_key(buf, &self.curve_server_key),
            ZMQ_ZAP_ENFORCE_DOMAIN => put_int(buf, c_int::from(self.zap_enforce_domain)),
            ZMQ_LOOPBACK_FASTPATH => put_int(buf, c_int::from(self.loopback_fastpath)),
            ZMQ_MULTICAST_LOOP => put_int(buf, c_int::from(self.multicast_loop)),
            ZMQ_ROUTER_NOTIFY => put_int(buf, self.router_notify),
            ZMQ_IN_BATCH_SIZE => put_int(buf, self.in_batch_size),
            ZMQ_OUT_BATCH_SIZE => put_int(buf, self.out_batch_size),
            ZMQ_PRIORITY => put_int(buf, self.priority),
            // ZMQ_BUSY_POLL: libzmq 4.3.5 stores it but its getter always ends in EINVAL.
            // Write-only pattern options, ZMQ_METADATA, the *_MSG options, filters, and the
            // runtime options the socket answers (RCVMORE, EVENTS, FD, LAST_ENDPOINT,
            // THREAD_SAFE, TOPICS_COUNT) all land here.
            _ => err(EINVAL),
        }
    }
}

/// The bytes before the first NUL, as C string functions see them.
fn c_str(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// A CURVE key: 32 raw bytes, or Z85 text of 40 bytes (41 with its NUL). As in libzmq the
/// text is read up to its first NUL and decodes into the front of the key.
fn set_curve_key(dest: &mut [u8; CURVE_KEY_SIZE], value: &[u8]) -> ZResult<()> {
    match value.len() {
        CURVE_KEY_SIZE => dest.copy_from_slice(value),
        n if n == CURVE_KEY_Z85_SIZE || n == CURVE_KEY_Z85_SIZE + 1 => {
            // An empty text (all NULs) leaves the key as it is, as this code always did.
            let text = c_str(value);
            let decoded = if text.is_empty() {
                Vec::new()
            } else {
                crate::z85::decode(text).or(err(EINVAL))?
            };
            dest[..decoded.len()].copy_from_slice(&decoded);
        }
        _ => return err(EINVAL),
    }
    Ok(())
}

/// A CURVE key is read back raw into 32 bytes or as Z85 text into 41; no other size.
fn put_curve_key(buf: &mut [u8], key: &[u8; CURVE_KEY_SIZE]) -> ZResult<usize> {
    match buf.len() {
        CURVE_KEY_SIZE => buf.copy_from_slice(key),
        n if n == CURVE_KEY_Z85_SIZE + 1 => {
            let text = crate::z85::encode(key).or(err(EINVAL))?;
            buf[..CURVE_KEY_Z85_SIZE].copy_from_slice(text.as_bytes());
            buf[CURVE_KEY_Z85_SIZE] = 0;
        }
        _ => return err(EINVAL),
    }
    Ok(buf.len())
}

/// Parses a ZMQ_TCP_ACCEPT_FILTER value, "address[/bits]", the way libzmq's resolver does
/// without DNS: numeric IPv4 in inet_aton's forms, IPv6 (optionally in brackets, with a
/// zone) only when ZMQ_IPV6 is on, in which case IPv4 becomes v4-mapped IPv6.
fn parse_tcp_accept_filter(text: &[u8], ipv6: bool) -> ZResult<TcpAcceptFilter> {
    let text = std::str::from_utf8(text).or(err(EINVAL))?;
    let (addr, mask) = match text.rfind('/') {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    if mask == Some("") {
        return err(EINVAL);
    }
    let addr = addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(addr);
    let addr = match addr.rfind('%') {
        Some(at) => {
            if !zone_exists(&addr[at + 1..]) {
                return err(EINVAL);
            }
            &addr[..at]
        }
        None => addr,
    };
    let addr = if let Some(v4) = parse_inet_aton(addr) {
        if ipv6 {
            IpAddr::V6(v4.to_ipv6_mapped())
        } else {
            IpAddr::V4(v4)
        }
    } else {
        match addr.parse::<Ipv6Addr>() {
            Ok(v6) if ipv6 => IpAddr::V6(v6),
            _ => return err(EINVAL),
        }
    };
    let full = if addr.is_ipv6() { 128 } else { 32 };
    let mask_bits = match mask {
        None => full,
        Some("0") => 0,
        // strtol: "8x" is 8; "00", "abc" and negatives are below 1 and refused.
        Some(m) => match strtol(m) {
            bits @ 1.. if bits <= i64::from(full) => bits as u32,
            _ => return err(EINVAL),
        },
    };
    Ok(TcpAcceptFilter { addr, mask_bits })
}

/// A zone id after '%': a nonzero number, or the name of an existing interface.
fn zone_exists(zone: &str) -> bool {
    match zone.as_bytes().first() {
        None => false,
        Some(c) if c.is_ascii_alphabetic() => {
            !zone.contains('/') && std::path::Path::new("/sys/class/net").join(zone).exists()
        }
        Some(_) => strtol(zone) != 0,
    }
}

/// C's strtol in base 10, saturating: leading spaces, a sign, digits, then anything.
fn strtol(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}

/// IPv4 as glibc's numeric resolver reads it: 1 to 4 dot-separated parts, each decimal,
/// octal (leading 0) or hex (0x), the last part filling the remaining bytes.
pub(crate) fn parse_inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or(p.strip_prefix("0X")) {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        // "0x" alone is 0 in inet_aton; an empty part is not.
        if digits.is_empty() && radix != 16 {
            return None;
        }
        if !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        nums.push(if digits.is_empty() { 0 } else { u32::from_str_radix(digits, radix).ok()? });
    }
    let (last, head) = nums.split_last()?;
    if head.iter().any(|&n| n > 0xff) {
        return None;
    }
    let tail_bits = 8 * (4 - head.len() as u32);
    if tail_bits < 32 && *last >> tail_bits != 0 {
        return None;
    }
    let v = head.iter().fold(0u32, |acc, &n| (acc << 8) | n);
    let v = if head.is_empty() { *last } else { (v << tail_bits) | last };
    Some(Ipv4Addr::from(v))
}

/// Socket types several threads may use at once (ZMQ_THREAD_SAFE; libzmq's list).
pub(crate) fn thread_safe(socket_type: i32) -> bool {
    matches!(
        socket_type,
        ZMQ_SERVER
            | ZMQ_CLIENT
            | ZMQ_RADIO
            | ZMQ_DISH
            | ZMQ_GATHER
            | ZMQ_SCATTER
            | ZMQ_PEER
            | ZMQ_CHANNEL
    )
}

/// Socket types that take each peer's routing id as the first message of its pipe.
pub(crate) fn recv_routing_id(socket_type: i32) -> bool {
    matches!(socket_type, ZMQ_ROUTER | ZMQ_STREAM | ZMQ_SERVER | ZMQ_PEER)
}

/// Socket types that greet each new peer with ZMQ_HELLO_MSG (libzmq's can_send_hello_msg;
/// REP and REQ inherit it from ROUTER and DEALER there).
pub(crate) fn sends_hello_msg(socket_type: i32) -> bool {
    matches!(
        socket_type,
        ZMQ_ROUTER | ZMQ_REP | ZMQ_DEALER | ZMQ_REQ | ZMQ_SERVER | ZMQ_CLIENT | ZMQ_PEER
    )
}

/// Socket types that receive ZMQ_DISCONNECT_MSG when an accepted peer goes.
pub(crate) fn recvs_disconnect_msg(socket_type: i32) -> bool {
    matches!(socket_type, ZMQ_ROUTER | ZMQ_REP | ZMQ_SERVER | ZMQ_PEER)
}

/// Socket types that receive ZMQ_HICCUP_MSG when a connection they made breaks.
pub(crate) fn recvs_hiccup_msg(socket_type: i32) -> bool {
    matches!(socket_type, ZMQ_DEALER | ZMQ_REQ | ZMQ_CLIENT | ZMQ_PEER)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const ALL_TYPES: [i32; 21] = [
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
        ZMQ_STREAM,
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

    fn int(v: i32) -> [u8; 4] {
        v.to_ne_bytes()
    }

    fn get_int(o: &Options, option: i32) -> i32 {
        let mut buf = [0u8; 4];
        assert_eq!(o.get(option, &mut buf), Ok(4), "option {option}");
        i32::from_ne_bytes(buf)
    }

    fn einval<T: std::fmt::Debug>(r: ZResult<T>) {
        assert_eq!(r.unwrap_err().0, EINVAL);
    }

    fn with_curve() -> Built {
        Built { curve: true }
    }

    #[test]
    fn defaults_match_libzmq() {
        let o = Options::new(ZMQ_DEALER);
        for (option, want) in [
            (ZMQ_TYPE, ZMQ_DEALER),
            (ZMQ_SNDHWM, 1000),
            (ZMQ_RCVHWM, 1000),
            (ZMQ_RATE, 100),
            (ZMQ_RECOVERY_IVL, 10000),
            (ZMQ_SNDBUF, -1),
            (ZMQ_RCVBUF, -1),
            (ZMQ_LINGER, -1),
            (ZMQ_RECONNECT_IVL, 100),
            (ZMQ_BACKLOG, 100),
            (ZMQ_RECONNECT_IVL_MAX, 0),
            (ZMQ_MULTICAST_HOPS, 1),
            (ZMQ_RCVTIMEO, -1),
            (ZMQ_SNDTIMEO, -1),
            (ZMQ_TCP_KEEPALIVE, -1),
            (ZMQ_TCP_KEEPALIVE_CNT, -1),
            (ZMQ_TCP_KEEPALIVE_IDLE, -1),
            (ZMQ_TCP_KEEPALIVE_INTVL, -1),
            (ZMQ_IMMEDIATE, 0),
            (ZMQ_IPV6, 0),
            (ZMQ_IPV4ONLY, 1),
            (ZMQ_MECHANISM, ZMQ_NULL),
            (ZMQ_PLAIN_SERVER, 0),
            (ZMQ_CONFLATE, 0),
            (ZMQ_TOS, 0),
            (ZMQ_HANDSHAKE_IVL, 30000),
            (ZMQ_INVERT_MATCHING, 0),
            (ZMQ_HEARTBEAT_IVL, 0),
            (ZMQ_HEARTBEAT_TTL, 0),
            (ZMQ_HEARTBEAT_TIMEOUT, -1),
            (ZMQ_CONNECT_TIMEOUT, 0),
            (ZMQ_TCP_MAXRT, 0),
            (ZMQ_MULTICAST_MAXTPDU, 1500),
            (ZMQ_USE_FD, -1),
            (ZMQ_ZAP_ENFORCE_DOMAIN, 0),
            (ZMQ_LOOPBACK_FASTPATH, 0),
            (ZMQ_MULTICAST_LOOP, 1),
            (ZMQ_IN_BATCH_SIZE, 8192),
            (ZMQ_OUT_BATCH_SIZE, 8192),
            (ZMQ_RECONNECT_STOP, 0),
        ] {
            assert_eq!(get_int(&o, option), want, "option {option}");
        }
        let mut b8 = [0xaau8; 8];
        assert_eq!(o.get(ZMQ_AFFINITY, &mut b8), Ok(8));
        assert_eq!(u64::from_ne_bytes(b8), 0);
        assert_eq!(o.get(ZMQ_MAXMSGSIZE, &mut b8), Ok(8));
        assert_eq!(i64::from_ne_bytes(b8), -1);
        let mut buf = [0xaau8; 8];
        assert_eq!(o.get(ZMQ_ROUTING_ID, &mut buf), Ok(0));
        assert_eq!(buf, [0; 8]);
        for option in [
            ZMQ_ZAP_DOMAIN,
            ZMQ_PLAIN_USERNAME,
            ZMQ_PLAIN_PASSWORD,
            ZMQ_SOCKS_PROXY,
            ZMQ_SOCKS_USERNAME,
            ZMQ_SOCKS_PASSWORD,
            ZMQ_BINDTODEVICE,
        ] {
            let mut one = [0xaau8; 1];
            assert_eq!(o.get(option, &mut one), Ok(1), "option {option}");
            assert_eq!(one, [0]);
        }
    }

    #[test]
    fn linger_defaults_to_zero_on_subscribers_only() {
        for t in ALL_TYPES {
            let want = if [ZMQ_SUB, ZMQ_XSUB, ZMQ_DISH].contains(&t) { 0 } else { -1 };
            assert_eq!(get_int(&Options::new(t), ZMQ_LINGER), want, "type {t}");
            assert_eq!(get_int(&Options::new(t), ZMQ_TYPE), t);
        }
    }

    #[test]
    fn int_options_need_exact_length() {
        let mut o = Options::new(ZMQ_DEALER);
        einval(o.set(ZMQ_SNDHWM, &[0, 0, 0]));
        einval(o.set(ZMQ_SNDHWM, &5i64.to_ne_bytes()));
        einval(o.set_null(ZMQ_SNDHWM));
        assert_eq!(o.set(ZMQ_SNDHWM, &int(5)), Ok(()));
        einval(o.get(ZMQ_SNDHWM, &mut [0u8; 8]));
        einval(o.get(ZMQ_SNDHWM, &mut [0u8; 3]));
        assert_eq!(get_int(&o, ZMQ_SNDHWM), 5);
    }

    #[test]
    fn eight_byte_options_need_exact_length() {
        let mut o = Options::new(ZMQ_DEALER);
        einval(o.set(ZMQ_AFFINITY, &int(1)));
        einval(o.set(ZMQ_AFFINITY, &[0u8; 16]));
        assert_eq!(o.set(ZMQ_AFFINITY, &5u64.to_ne_bytes()), Ok(()));
        assert_eq!(o.set(ZMQ_MAXMSGSIZE, &(-7i64).to_ne_bytes()), Ok(()));
        einval(o.get(ZMQ_AFFINITY, &mut [0u8; 4]));
        einval(o.get(ZMQ_AFFINITY, &mut [0u8; 16]));
        let mut b = [0u8; 8];
        o.get(ZMQ_AFFINITY, &mut b).unwrap();
        assert_eq!(u64::from_ne_bytes(b), 5);
        o.get(ZMQ_MAXMSGSIZE, &mut b).unwrap();
        assert_eq!(i64::from_ne_bytes(b), -7);
    }

    #[test]
    fn ranges() {
        let mut o = Options::new(ZMQ_DEALER);
        // (option, lowest accepted value), checked against Debian's libzmq.
        for (option, min) in [
            (ZMQ_SNDHWM, 0),
            (ZMQ_RCVHWM, 0),
            (ZMQ_RATE, 1),
            (ZMQ_RECOVERY_IVL, 0),
            (ZMQ_SNDBUF, -1),
            (ZMQ_RCVBUF, -1),
            (ZMQ_LINGER, -1),
            (ZMQ_RECONNECT_IVL, -1),
            (ZMQ_BACKLOG, 0),
            (ZMQ_RECONNECT_IVL_MAX, 0),
            (ZMQ_MULTICAST_HOPS, 1),
            (ZMQ_RCVTIMEO, -1),
            (ZMQ_SNDTIMEO, -1),
            (ZMQ_TCP_KEEPALIVE_CNT, -1),
            (ZMQ_TCP_KEEPALIVE_IDLE, -1),
            (ZMQ_TCP_KEEPALIVE_INTVL, -1),
            (ZMQ_TOS, 0),
            (ZMQ_HANDSHAKE_IVL, 0),
            (ZMQ_HEARTBEAT_IVL, 0),
            (ZMQ_HEARTBEAT_TIMEOUT, 0),
            (ZMQ_CONNECT_TIMEOUT, 0),
            (ZMQ_TCP_MAXRT, 0),
            (ZMQ_MULTICAST_MAXTPDU, 1),
            (ZMQ_USE_FD, -1),
            (ZMQ_IN_BATCH_SIZE, 1),
            (ZMQ_OUT_BATCH_SIZE, 1),
        ] {
            einval(o.set(option, &int(min - 1)));
            assert_eq!(o.set(option, &int(min)), Ok(()), "option {option}");
            assert_eq!(o.set(option, &int(70000)), Ok(()), "option {option}");
            assert_eq!(get_int(&o, option), 70000);
        }
        assert_eq!(o.set(ZMQ_RECONNECT_STOP, &int(-3)), Ok(()));
        assert_eq!(get_int(&o, ZMQ_RECONNECT_STOP), -3);
        einval(o.set(ZMQ_TCP_KEEPALIVE, &int(2)));
        einval(o.set(ZMQ_TCP_KEEPALIVE, &int(-2)));
        assert_eq!(o.set(ZMQ_TCP_KEEPALIVE, &int(1)), Ok(()));
    }

    #[test]
    fn heartbeat_ttl_is_kept_in_deciseconds() {
        let mut o = Options::new(ZMQ_DEALER);
        o.set(ZMQ_HEARTBEAT_TTL, &int(150)).unwrap();
        assert_eq!(get_int(&o, ZMQ_HEARTBEAT_TTL), 100);
        o.set(ZMQ_HEARTBEAT_TTL, &int(-50)).unwrap();
        assert_eq!(get_int(&o, ZMQ_HEARTBEAT_TTL), 0);
        einval(o.set(ZMQ_HEARTBEAT_TTL, &int(-100)));
        o.set(ZMQ_HEARTBEAT_TTL, &int(6_553_599)).unwrap();
        assert_eq!(get_int(&o, ZMQ_HEARTBEAT_TTL), 6_553_500);
        einval(o.set(ZMQ_HEARTBEAT_TTL, &int(6_553_600)));
    }

    #[test]
    fn booleans_strict_and_relaxed() {
        let mut o = Options::new(ZMQ_DEALER);
        for option in [ZMQ_IMMEDIATE, ZMQ_CONFLATE, ZMQ_IPV6, ZMQ_IPV4ONLY, ZMQ_PLAIN_SERVER] {
            einval(o.set(option, &int(2)));
            einval(o.set(option, &int(-1)));
            assert_eq!(o.set(option, &int(1)), Ok(()));
        }
        for option in
            [ZMQ_INVERT_MATCHING, ZMQ_ZAP_ENFORCE_DOMAIN, ZMQ_LOOPBACK_FASTPATH, ZMQ_MULTICAST_LOOP]
        {
            assert_eq!(o.set(option, &int(-1)), Ok(()));
            assert_eq!(get_int(&o, option), 1);
            assert_eq!(o.set(option, &int(0)), Ok(()));
            assert_eq!(get_int(&o, option), 0);
        }
        o.set(ZMQ_IPV4ONLY, &int(0)).unwrap();
        assert_eq!(get_int(&o, ZMQ_IPV6), 1);
        assert_eq!(get_int(&o, ZMQ_IPV4ONLY), 0);
    }

    #[test]
    fn routing_id() {
        let mut o = Options::new(ZMQ_DEALER);
        einval(o.set(ZMQ_ROUTING_ID, b""));
        einval(o.set_null(ZMQ_ROUTING_ID));
        einval(o.set(ZMQ_ROUTING_ID, &[b'x'; 256]));
        assert_eq!(o.set(ZMQ_ROUTING_ID, &[b'x'; 255]), Ok(()));
        // A leading zero byte is accepted, as libzmq does.
        assert_eq!(o.set(ZMQ_ROUTING_ID, b"\0ab"), Ok(()));
        o.set(ZMQ_IDENTITY, b"abc").unwrap();
        einval(o.get(ZMQ_ROUTING_ID, &mut [0u8; 2]));
        let mut buf = [0xaau8; 8];
        assert_eq!(o.get(ZMQ_ROUTING_ID, &mut buf), Ok(3));
        assert_eq!(&buf, b"abc\0\0\0\0\0");
    }

    #[test]
    fn strings_come_back_with_nul() {
        let mut o = Options::new(ZMQ_DEALER);
        einval(o.get(ZMQ_ZAP_DOMAIN, &mut []));
        o.set(ZMQ_ZAP_DOMAIN, b"abc").unwrap();
        einval(o.get(ZMQ_ZAP_DOMAIN, &mut [0u8; 3]));
        let mut buf = [0xaau8; 4];
        assert_eq!(o.get(ZMQ_ZAP_DOMAIN, &mut buf), Ok(4));
        assert_eq!(&buf, b"abc\0");
        let mut buf = [0xaau8; 8];
        assert_eq!(o.get(ZMQ_ZAP_DOMAIN, &mut buf), Ok(4));
        assert_eq!(&buf, b"abc\0\0\0\0\0");
        // A NUL given with the value is kept, as libzmq keeps it.
        o.set(ZMQ_ZAP_DOMAIN, b"abc\0").unwrap();
        assert_eq!(o.get(ZMQ_ZAP_DOMAIN, &mut buf), Ok(5));
        einval(o.set(ZMQ_ZAP_DOMAIN, b""));
        einval(o.set_null(ZMQ_ZAP_DOMAIN));
        einval(o.set(ZMQ_ZAP_DOMAIN, &[b'z'; 256]));
    }

    #[test]
    fn null_clears_where_empty_is_refused() {
        let mut o = Options::new(ZMQ_DEALER);
        o.set(ZMQ_SOCKS_PROXY, &[b'p'; 300]).unwrap();
        einval(o.get(ZMQ_SOCKS_PROXY, &mut [0u8; 8]));
        einval(o.set(ZMQ_SOCKS_PROXY, b""));
        o.set_null(ZMQ_SOCKS_PROXY).unwrap();
        assert!(o.socks_proxy.is_empty());

        o.set(ZMQ_BINDTODEVICE, &[b'd'; 16]).unwrap();
        einval(o.set(ZMQ_BINDTODEVICE, &[b'd'; 17]));
        einval(o.set(ZMQ_BINDTODEVICE, b""));
        o.set_null(ZMQ_BINDTODEVICE).unwrap();
        assert!(o.bindtodevice.is_empty());

        // SOCKS credentials also take an empty buffer as "clear".
        o.set(ZMQ_SOCKS_USERNAME, b"u").unwrap();
        o.set(ZMQ_SOCKS_USERNAME, b"").unwrap();
        assert!(o.socks_username.is_empty());
        einval(o.set(ZMQ_SOCKS_PASSWORD, &[b'p'; 256]));
        o.set(ZMQ_SOCKS_PASSWORD, &[b'p'; 255]).unwrap();
        o.set_null(ZMQ_SOCKS_PASSWORD).unwrap();
        assert!(o.socks_password.is_empty());

        o.set(ZMQ_IPC_FILTER_UID, &int(1000)).unwrap();
        o.set(ZMQ_IPC_FILTER_PID, &int(-1)).unwrap();
        o.set(ZMQ_IPC_FILTER_GID, &int(7)).unwrap();
        einval(o.set(ZMQ_IPC_FILTER_UID, &[0u8; 8]));
        einval(o.set(ZMQ_IPC_FILTER_UID, b""));
        assert!(o.ipc_filter_uids.contains(&1000) && o.ipc_filter_pids.contains(&-1));
        o.set_null(ZMQ_IPC_FILTER_UID).unwrap();
        assert!(o.ipc_filter_uids.is_empty());
        einval(o.get(ZMQ_IPC_FILTER_UID, &mut [0u8; 4]));
    }

    #[test]
    fn plain_sets_the_mechanism() {
        let mut o = Options::new(ZMQ_DEALER);
        einval(o.set(ZMQ_PLAIN_USERNAME, b""));
        einval(o.set(ZMQ_PLAIN_USERNAME, &[b'u'; 256]));
        o.set(ZMQ_PLAIN_USERNAME, b"u").unwrap();
        assert_eq!(get_int(&o, ZMQ_MECHANISM), ZMQ_PLAIN);
        assert_eq!(get_int(&o, ZMQ_PLAIN_SERVER), 0);
        o.set_null(ZMQ_PLAIN_USERNAME).unwrap();
        assert_eq!(get_int(&o, ZMQ_MECHANISM), ZMQ_NULL);
        let mut buf = [0u8; 8];
        assert_eq!(o.get(ZMQ_PLAIN_USERNAME, &mut buf), Ok(2));
        o.set(ZMQ_PLAIN_SERVER, &int(1)).unwrap();
        assert_eq!(get_int(&o, ZMQ_MECHANISM), ZMQ_PLAIN);
        assert_eq!(get_int(&o, ZMQ_PLAIN_SERVER), 1);
        // Setting a credential makes the socket a PLAIN client again.
        o.set(ZMQ_PLAIN_PASSWORD, b"p").unwrap();
        assert_eq!(get_int(&o, ZMQ_PLAIN_SERVER), 0);
        o.set(ZMQ_PLAIN_SERVER, &int(0)).unwrap();
        assert_eq!(get_int(&o, ZMQ_MECHANISM), ZMQ_NULL);
    }

    #[test]
    fn unbuilt_features_are_einval() {
        let mut o = Options::new(ZMQ_DEALER);
        let built = Built { curve: false };
        einval(o.set_value(ZMQ_CURVE_SERVER, Some(&int(1)), built));
        einval(o.set_value(ZMQ_CURVE_PUBLICKEY, Some(&[0u8; 32]), built));
        einval(o.get_value(ZMQ_CURVE_SERVER, &mut [0u8; 4], built));
        einval(o.get_value(ZMQ_CURVE_PUBLICKEY, &mut [0u8; 32], built));
        for option in [
            ZMQ_GSSAPI_SERVER,
            ZMQ_GSSAPI_PLAINTEXT,
            ZMQ_GSSAPI_PRINCIPAL_NAMETYPE,
            ZMQ_NORM_MODE,
            ZMQ_NORM_PUSH,
            ZMQ_WSS_TRUST_SYSTEM,
            ZMQ_VMCI_CONNECT_TIMEOUT,
        ] {
            einval(o.set(option, &int(0)));
            einval(o.get(option, &mut [0u8; 4]));
        }
        einval(o.set(ZMQ_GSSAPI_PRINCIPAL, b"p"));
        einval(o.set(ZMQ_WSS_HOSTNAME, b"h"));
        einval(o.set(ZMQ_VMCI_BUFFER_SIZE, &1u64.to_ne_bytes()));
    }

    #[test]
    fn curve_keys_when_built() {
        let z85 = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
        let raw: [u8; 32] = [
            0xbb, 0x88, 0x47, 0x1d, 0x65, 0xe2, 0x65, 0x9b, 0x30, 0xc5, 0x5a, 0x53, 0x21, 0xce,
            0xbb, 0x5a, 0xab, 0x2b, 0x70, 0xa3, 0x98, 0x64, 0x5c, 0x26, 0xdc, 0xa2, 0xb2, 0xfc,
            0xb4, 0x3f, 0xc5, 0x18,
        ];
        let b = with_curve();
        let mut o = Options::new(ZMQ_DEALER);
        let mut k41 = [0xaau8; 41];
        assert_eq!(o.get_value(ZMQ_CURVE_PUBLICKEY, &mut k41, b), Ok(41));
        assert_eq!(&k41[..], &b"0000000000000000000000000000000000000000\0"[..]);
        einval(o.get_value(ZMQ_CURVE_PUBLICKEY, &mut [0u8; 40], b));
        einval(o.get_value(ZMQ_CURVE_PUBLICKEY, &mut [0u8; 64], b));

        o.set_value(ZMQ_CURVE_PUBLICKEY, Some(z85), b).unwrap();
        assert_eq!(get_int(&o, ZMQ_MECHANISM), ZMQ_CURVE);
        let mut k32 = [0u8; 32];
        assert_eq!(o.get_value(ZMQ_CURVE_PUBLICKEY, &mut k32, b), Ok(32));
        assert_eq!(k32, raw);
        o.get_value(ZMQ_CURVE_PUBLICKEY, &mut k41, b).unwrap();
        assert_eq!(&k41[..40], &z85[..]);
        assert_eq!(k41[40], 0);

        let mut with_nul = z85.to_vec();
        with_nul.push(0);
        o.set_value(ZMQ_CURVE_SECRETKEY, Some(&with_nul), b).unwrap();
        assert_eq!(*o.curve_secret_key, raw);
        *with_nul.last_mut().unwrap() = b'x';
        einval(o.set_value(ZMQ_CURVE_SECRETKEY, Some(&with_nul), b));
        einval(o.set_value(ZMQ_CURVE_SECRETKEY, Some(b"abcd"), b));
        let mut bad = *z85;
        bad[3] = b' ';
        einval(o.set_value(ZMQ_CURVE_SECRETKEY, Some(&bad), b));
        o.set_value(ZMQ_CURVE_SECRETKEY, Some(&[7u8; 32]), b).unwrap();
        assert_eq!(*o.curve_secret_key, [7u8; 32]);

        o.set_value(ZMQ_CURVE_SERVER, Some(&int(1)), b).unwrap();
        assert_eq!(o.get_value(ZMQ_CURVE_SERVER, &mut k41[..4], b), Ok(4));
        assert_eq!(k41[..4], int(1));
        assert_eq!(get_int(&o, ZMQ_PLAIN_SERVER), 0);
        einval(o.set_value(ZMQ_CURVE_SERVER, Some(&int(2)), b));
        // Giving a server key makes the socket a client.
        o.set_value(ZMQ_CURVE_SERVERKEY, Some(z85), b).unwrap();
        assert!(!o.as_server);
        o.set_value(ZMQ_CURVE_SERVER, Some(&int(0)), b).unwrap();
        assert_eq!(get_int(&o, ZMQ_MECHANISM), ZMQ_NULL);
    }

    #[test]
    fn z85_round_trip() {
        let data: Vec<u8> = (0..32).collect();
        let text = crate::z85::encode(&data).unwrap();
        assert_eq!(crate::z85::decode(text.as_bytes()).unwrap(), data);
        assert_eq!(crate::z85::encode(&[0x86, 0x4f, 0xd2, 0x6f]).unwrap(), "Hello");
        assert!(crate::z85::decode(b"%%%%%").is_err());
        assert!(crate::z85::decode(b"abcd").is_err());
    }

    #[test]
    fn metadata() {
        let mut o = Options::new(ZMQ_DEALER);
        o.set(ZMQ_METADATA, b"X-a:b").unwrap();
        o.set(ZMQ_METADATA, b"X-a:bc").unwrap();
        assert_eq!(o.metadata.get(&b"X-a"[..]).map(Vec::as_slice), Some(&b"b"[..]));
        for bad in [&b"X-a:"[..], b"X-ab:", b"Y-a:b", b":abc", b"x-a:bc", b"X-ab", b""] {
            einval(o.set(ZMQ_METADATA, bad));
        }
        einval(o.get(ZMQ_METADATA, &mut [0u8; 64]));
    }

    /// The draft options of hello/disconnect/hiccup messages, notifications and socket
    /// priorities, as libzmq 4.3.5 takes them.
    #[test]
    fn connection_message_drafts() {
        let mut r = Options::new(ZMQ_ROUTER);
        r.set(ZMQ_ROUTER_NOTIFY, &int(ZMQ_NOTIFY_CONNECT | ZMQ_NOTIFY_DISCONNECT)).unwrap();
        einval(r.set(ZMQ_ROUTER_NOTIFY, &int(4)));
        einval(Options::new(ZMQ_DEALER).set(ZMQ_ROUTER_NOTIFY, &int(1)));
        r.set(ZMQ_HELLO_MSG, b"hi").unwrap();
        r.set(ZMQ_DISCONNECT_MSG, b"bye").unwrap();
        assert_eq!((&r.hello_msg[..], &r.disconnect_msg[..]), (&b"hi"[..], &b"bye"[..]));
        r.set_null(ZMQ_HELLO_MSG).unwrap();
        assert!(r.hello_msg.is_empty());
        let mut d = Options::new(ZMQ_DEALER);
        d.set(ZMQ_HICCUP_MSG, b"oops").unwrap();
        d.set(ZMQ_PRIORITY, &int(3)).unwrap();
        einval(d.set(ZMQ_PRIORITY, &int(-1)));
        d.set(ZMQ_BUSY_POLL, &int(1)).unwrap();
        assert_eq!((d.priority, d.busy_poll), (3, 1));
    }

    #[test]
    fn runtime_and_unknown_options_are_einval_here() {
        let mut o = Options::new(ZMQ_SUB);
        for option in [
            ZMQ_RCVMORE,
            ZMQ_EVENTS,
            ZMQ_FD,
            ZMQ_LAST_ENDPOINT,
            ZMQ_THREAD_SAFE,
            ZMQ_TOPICS_COUNT,
            ZMQ_BLOCKY,
            10,
            26,
            200,
            -1,
        ] {
            einval(o.get(option, &mut [0u8; 4]));
            einval(o.set(option, &int(1)));
        }
        einval(o.set(ZMQ_SUBSCRIBE, b"a"));
        einval(o.set(ZMQ_UNSUBSCRIBE, b"a"));
        einval(o.set(ZMQ_TYPE, &int(1)));
        einval(o.set(ZMQ_MECHANISM, &int(1)));
    }

    /// Which types accept each pattern option, as probed on Debian's libzmq (and, for the
    /// draft-only XSUB_VERBOSE_UNSUBSCRIBE, as libzmq 4.3.5's source).
    #[test]
    fn pattern_options_per_type() {
        let table: &[(i32, &[i32])] = &[
            (ZMQ_ROUTER_MANDATORY, &[ZMQ_ROUTER, ZMQ_REP]),
            (ZMQ_ROUTER_RAW, &[ZMQ_ROUTER, ZMQ_REP]),
            (ZMQ_ROUTER_HANDOVER, &[ZMQ_ROUTER, ZMQ_REP]),
            (ZMQ_PROBE_ROUTER, &[ZMQ_ROUTER, ZMQ_REP, ZMQ_DEALER, ZMQ_REQ]),
            (ZMQ_REQ_CORRELATE, &[ZMQ_REQ]),
            (ZMQ_REQ_RELAXED, &[ZMQ_REQ]),
            (ZMQ_STREAM_NOTIFY, &[ZMQ_STREAM]),
            (ZMQ_XPUB_VERBOSE, &[ZMQ_XPUB, ZMQ_PUB]),
            (ZMQ_XPUB_VERBOSER, &[ZMQ_XPUB, ZMQ_PUB]),
            (ZMQ_XPUB_MANUAL, &[ZMQ_XPUB, ZMQ_PUB]),
            (ZMQ_XPUB_MANUAL_LAST_VALUE, &[ZMQ_XPUB, ZMQ_PUB]),
            (ZMQ_XPUB_NODROP, &[ZMQ_XPUB, ZMQ_PUB, ZMQ_RADIO]),
            (ZMQ_ONLY_FIRST_SUBSCRIBE, &[ZMQ_XPUB, ZMQ_PUB, ZMQ_XSUB]),
            (ZMQ_XSUB_VERBOSE_UNSUBSCRIBE, &[ZMQ_XSUB]),
        ];
        for &(option, accepted) in table {
            for t in ALL_TYPES {
                let mut o = Options::new(t);
                let r = o.set(option, &int(1));
                if accepted.contains(&t) {
                    assert_eq!(r, Ok(()), "option {option} on type {t}");
                    // Write-only.
                    einval(o.get(option, &mut [0u8; 4]));
                } else {
                    assert!(r.is_err(), "option {option} on type {t}");
                }
            }
        }
        for (option, accepted) in [
            (ZMQ_CONNECT_ROUTING_ID, &[ZMQ_ROUTER, ZMQ_REP, ZMQ_STREAM][..]),
            (ZMQ_XPUB_WELCOME_MSG, &[ZMQ_XPUB, ZMQ_PUB][..]),
        ] {
            for t in ALL_TYPES {
                let r = Options::new(t).set(option, b"ab");
                assert_eq!(r.is_ok(), accepted.contains(&t), "option {option} on type {t}");
            }
        }
        // Every type can set INVERT_MATCHING.
        for t in ALL_TYPES {
            let mut o = Options::new(t);
            o.set(ZMQ_INVERT_MATCHING, &int(1)).unwrap();
        }
    }

    #[test]
    fn pattern_option_values() {
        let mut r = Options::new(ZMQ_ROUTER);
        r.set(ZMQ_ROUTER_MANDATORY, &int(2)).unwrap();
        assert!(r.router_mandatory);
        einval(r.set(ZMQ_ROUTER_MANDATORY, &int(-1)));
        einval(r.set(ZMQ_ROUTER_MANDATORY, &1i64.to_ne_bytes()));
        assert!(r.recv_routing_id && !r.raw_socket);
        r.set(ZMQ_ROUTER_RAW, &int(7)).unwrap();
        assert!(r.router_raw && r.raw_socket && !r.recv_routing_id);
        einval(r.set(ZMQ_CONNECT_ROUTING_ID, b""));
        einval(r.set_null(ZMQ_CONNECT_ROUTING_ID));
        r.set(ZMQ_CONNECT_ROUTING_ID, &[b'y'; 400]).unwrap();
        r.set(ZMQ_CONNECT_RID, b"\0a").unwrap();
        assert_eq!(r.connect_routing_id, b"\0a");

        let mut s = Options::new(ZMQ_STREAM);
        assert!(s.stream_notify && s.raw_socket);
        einval(s.set(ZMQ_STREAM_NOTIFY, &int(2)));
        s.set(ZMQ_STREAM_NOTIFY, &int(0)).unwrap();
        assert!(!s.stream_notify);

        let mut x = Options::new(ZMQ_XPUB);
        x.set(ZMQ_XPUB_VERBOSER, &int(1)).unwrap();
        assert!(x.xpub_verbose && x.xpub_verboser);
        x.set(ZMQ_XPUB_VERBOSE, &int(2)).unwrap();
        assert!(x.xpub_verbose && !x.xpub_verboser);
        einval(x.set(ZMQ_XPUB_VERBOSE, &int(-1)));
        x.set(ZMQ_XPUB_MANUAL_LAST_VALUE, &int(1)).unwrap();
        assert!(x.xpub_manual && x.xpub_manual_last_value);
        x.set(ZMQ_XPUB_MANUAL, &int(0)).unwrap();
        assert!(!x.xpub_manual && x.xpub_manual_last_value);
        x.set(ZMQ_XPUB_WELCOME_MSG, b"hello").unwrap();
        x.set_null(ZMQ_XPUB_WELCOME_MSG).unwrap();
        assert!(x.xpub_welcome_msg.is_empty());

        let mut q = Options::new(ZMQ_REQ);
        einval(q.set(ZMQ_REQ_CORRELATE, &int(-1)));
        q.set(ZMQ_REQ_RELAXED, &int(3)).unwrap();
        assert!(q.req_relaxed);
    }

    #[test]
    fn type_traits() {
        assert!(Options::new(ZMQ_REP).recv_routing_id);
        assert!(!Options::new(ZMQ_REQ).recv_routing_id);
        assert!(!Options::new(ZMQ_PUB).raw_socket);
        assert!(Options::new(ZMQ_DGRAM).raw_socket);
    }

    #[test]
    fn tcp_accept_filters() {
        let mut o = Options::new(ZMQ_DEALER);
        for ok in [&b"127.0.0.1"[..], b"10.0.0.0/8", b"10.0.0.0/0", b"10.0.0.0/8x", b"10.1"] {
            assert_eq!(o.set(ZMQ_TCP_ACCEPT_FILTER, ok), Ok(()), "{ok:?}");
        }
        for bad in [
            &b"10.0.0.0/33"[..],
            b"10.0.0.0/",
            b"10.0.0.0/abc",
            b"10.0.0.0/-1",
            b"10.0.0.0/00",
            b"localhost",
            b"::1",
            b"[::1]",
            b"*",
            b"10.0.0.1:80",
            b" 10.0.0.1",
            b"\0",
            b"",
            b"256.0.0.1",
        ] {
            einval(o.set(ZMQ_TCP_ACCEPT_FILTER, bad));
        }
        assert_eq!(o.tcp_accept_filters.len(), 5);
        assert_eq!(o.tcp_accept_filters[4].addr, "10.0.0.1".parse::<IpAddr>().unwrap());
        o.set_null(ZMQ_TCP_ACCEPT_FILTER).unwrap();
        assert!(o.tcp_accept_filters.is_empty());

        o.set(ZMQ_IPV6, &int(1)).unwrap();
        for ok in [&b"::1"[..], b"::1/128", b"[::1]", b"127.0.0.1/33", b"fe80::1%lo", b"fe80::1%3"]
        {
            assert_eq!(o.set(ZMQ_TCP_ACCEPT_FILTER, ok), Ok(()), "{ok:?}");
        }
        for bad in [&b"::1/129"[..], b"fe80::1%", b"fe80::1%0", b"fe80::1%no-such-if0"] {
            einval(o.set(ZMQ_TCP_ACCEPT_FILTER, bad));
        }
        let mapped = &o.tcp_accept_filters[3];
        assert_eq!(mapped.mask_bits, 33);
        assert!(mapped.matches(&"::ffff:127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn tcp_accept_filter_matching() {
        let f = parse_tcp_accept_filter(b"192.168.1.0/23", false).unwrap();
        assert!(f.matches(&"192.168.0.9".parse().unwrap()));
        assert!(f.matches(&"192.168.1.255".parse().unwrap()));
        assert!(!f.matches(&"192.168.2.1".parse().unwrap()));
        assert!(!f.matches(&"::ffff:192.168.1.1".parse().unwrap()));
        let any = parse_tcp_accept_filter(b"1.2.3.4/0", false).unwrap();
        assert!(any.matches(&"9.9.9.9".parse().unwrap()));
    }

    #[test]
    fn inet_aton_forms() {
        let p = |s| parse_inet_aton(s).map(|a| a.to_string());
        assert_eq!(p("10.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(p("10.1.2").as_deref(), Some("10.1.0.2"));
        assert_eq!(p("167772161").as_deref(), Some("10.0.0.1"));
        assert_eq!(p("0x7f.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(p("010.0.0.1").as_deref(), Some("8.0.0.1"));
        assert_eq!(p("1.2.3.4.5"), None);
        assert_eq!(p("1..2"), None);
        assert_eq!(p("08.1.1.1"), None);
        assert_eq!(p("1.2.3.256"), None);
        assert_eq!(p("1.65536").as_deref(), Some("1.1.0.0"));
        assert_eq!(p("1.16777216"), None);
        assert_eq!(p("0x").as_deref(), Some("0.0.0.0"));
    }
}

/// Where every option `zmq_setsockopt` accepts has its effect, and a test that holds the
/// code to it: an option stored and never read lies to the user (for some, about security).
/// `set` here is `Options::set`; ZMQ_SUBSCRIBE/ZMQ_UNSUBSCRIBE act in the patterns instead.
#[cfg(test)]
mod effects {
    use super::*;

    enum Effect {
        /// Read outside this file through these `Options` fields.
        Fields(&'static [&'static str]),
        /// For transports not built: libzmq built without them accepts and ignores it too.
        /// The schemes must not be parsed (zmq_bind/zmq_connect: EPROTONOSUPPORT).
        UnbuiltTransport(&'static [&'static str]),
        /// Windows only in libzmq, which on Linux accepts it and does nothing.
        WindowsOnly,
    }
    use Effect::*;

    const MULTICAST: &[&str] = &["pgm", "epgm", "norm"];

    const TABLE: &[(i32, &str, Effect)] = &[
        (ZMQ_AFFINITY, "AFFINITY", Fields(&["affinity"])),
        (ZMQ_ROUTING_ID, "ROUTING_ID", Fields(&["routing_id"])),
        (ZMQ_RATE, "RATE", UnbuiltTransport(MULTICAST)),
        (ZMQ_RECOVERY_IVL, "RECOVERY_IVL", UnbuiltTransport(MULTICAST)),
        (ZMQ_SNDBUF, "SNDBUF", Fields(&["sndbuf"])),
        (ZMQ_RCVBUF, "RCVBUF", Fields(&["rcvbuf"])),
        (ZMQ_LINGER, "LINGER", Fields(&["linger"])),
        (ZMQ_RECONNECT_IVL, "RECONNECT_IVL", Fields(&["reconnect_ivl"])),
        (ZMQ_BACKLOG, "BACKLOG", Fields(&["backlog"])),
        (ZMQ_RECONNECT_IVL_MAX, "RECONNECT_IVL_MAX", Fields(&["reconnect_ivl_max"])),
        (ZMQ_MAXMSGSIZE, "MAXMSGSIZE", Fields(&["maxmsgsize"])),
        (ZMQ_SNDHWM, "SNDHWM", Fields(&["sndhwm"])),
        (ZMQ_RCVHWM, "RCVHWM", Fields(&["rcvhwm"])),
        (ZMQ_MULTICAST_HOPS, "MULTICAST_HOPS", Fields(&["multicast_hops"])),
        (ZMQ_RCVTIMEO, "RCVTIMEO", Fields(&["rcvtimeo"])),
        (ZMQ_SNDTIMEO, "SNDTIMEO", Fields(&["sndtimeo"])),
        (ZMQ_IPV4ONLY, "IPV4ONLY", Fields(&["ipv6"])),
        (ZMQ_ROUTER_MANDATORY, "ROUTER_MANDATORY", Fields(&["router_mandatory"])),
        (ZMQ_TCP_KEEPALIVE, "TCP_KEEPALIVE", Fields(&["tcp_keepalive"])),
        (ZMQ_TCP_KEEPALIVE_CNT, "TCP_KEEPALIVE_CNT", Fields(&["tcp_keepalive_cnt"])),
        (ZMQ_TCP_KEEPALIVE_IDLE, "TCP_KEEPALIVE_IDLE", Fields(&["tcp_keepalive_idle"])),
        (ZMQ_TCP_KEEPALIVE_INTVL, "TCP_KEEPALIVE_INTVL", Fields(&["tcp_keepalive_intvl"])),
        (ZMQ_TCP_ACCEPT_FILTER, "TCP_ACCEPT_FILTER", Fields(&["tcp_accept_filters"])),
        (ZMQ_IMMEDIATE, "IMMEDIATE", Fields(&["immediate"])),
        (ZMQ_XPUB_VERBOSE, "XPUB_VERBOSE", Fields(&["xpub_verbose"])),
        // ROUTER_RAW's effect is the raw engine (and no routing-id frames).
        (ZMQ_ROUTER_RAW, "ROUTER_RAW", Fields(&["raw_socket"])),
        (ZMQ_IPV6, "IPV6", Fields(&["ipv6"])),
        (ZMQ_PLAIN_SERVER, "PLAIN_SERVER", Fields(&["mechanism", "as_server"])),
        (ZMQ_PLAIN_USERNAME, "PLAIN_USERNAME", Fields(&["plain_username"])),
        (ZMQ_PLAIN_PASSWORD, "PLAIN_PASSWORD", Fields(&["plain_password"])),
        (ZMQ_CURVE_SERVER, "CURVE_SERVER", Fields(&["mechanism", "as_server"])),
        (ZMQ_CURVE_PUBLICKEY, "CURVE_PUBLICKEY", Fields(&["curve_public_key"])),
        (ZMQ_CURVE_SECRETKEY, "CURVE_SECRETKEY", Fields(&["curve_secret_key"])),
        (ZMQ_CURVE_SERVERKEY, "CURVE_SERVERKEY", Fields(&["curve_server_key"])),
        (ZMQ_PROBE_ROUTER, "PROBE_ROUTER", Fields(&["probe_router"])),
        (ZMQ_REQ_CORRELATE, "REQ_CORRELATE", Fields(&["req_correlate"])),
        (ZMQ_REQ_RELAXED, "REQ_RELAXED", Fields(&["req_relaxed"])),
        (ZMQ_CONFLATE, "CONFLATE", Fields(&["conflate"])),
        (ZMQ_ZAP_DOMAIN, "ZAP_DOMAIN", Fields(&["zap_domain"])),
        (ZMQ_ROUTER_HANDOVER, "ROUTER_HANDOVER", Fields(&["router_handover"])),
        (ZMQ_TOS, "TOS", Fields(&["tos"])),
        (ZMQ_CONNECT_ROUTING_ID, "CONNECT_ROUTING_ID", Fields(&["connect_routing_id"])),
        (ZMQ_HANDSHAKE_IVL, "HANDSHAKE_IVL", Fields(&["handshake_ivl"])),
        (ZMQ_SOCKS_PROXY, "SOCKS_PROXY", Fields(&["socks_proxy"])),
        (ZMQ_XPUB_NODROP, "XPUB_NODROP", Fields(&["xpub_nodrop"])),
        (ZMQ_XPUB_MANUAL, "XPUB_MANUAL", Fields(&["xpub_manual"])),
        (ZMQ_XPUB_WELCOME_MSG, "XPUB_WELCOME_MSG", Fields(&["xpub_welcome_msg"])),
        (ZMQ_STREAM_NOTIFY, "STREAM_NOTIFY", Fields(&["stream_notify"])),
        (ZMQ_INVERT_MATCHING, "INVERT_MATCHING", Fields(&["invert_matching"])),
        (ZMQ_HEARTBEAT_IVL, "HEARTBEAT_IVL", Fields(&["heartbeat_ivl"])),
        (ZMQ_HEARTBEAT_TTL, "HEARTBEAT_TTL", Fields(&["heartbeat_ttl"])),
        (ZMQ_HEARTBEAT_TIMEOUT, "HEARTBEAT_TIMEOUT", Fields(&["heartbeat_timeout"])),
        (ZMQ_XPUB_VERBOSER, "XPUB_VERBOSER", Fields(&["xpub_verboser"])),
        (ZMQ_CONNECT_TIMEOUT, "CONNECT_TIMEOUT", Fields(&["connect_timeout"])),
        (ZMQ_TCP_MAXRT, "TCP_MAXRT", Fields(&["tcp_maxrt"])),
        (ZMQ_MULTICAST_MAXTPDU, "MULTICAST_MAXTPDU", UnbuiltTransport(MULTICAST)),
        (ZMQ_USE_FD, "USE_FD", Fields(&["use_fd"])),
        (ZMQ_BINDTODEVICE, "BINDTODEVICE", Fields(&["bindtodevice"])),
        (ZMQ_IPC_FILTER_PID, "IPC_FILTER_PID", Fields(&["ipc_filter_pids"])),
        (ZMQ_IPC_FILTER_UID, "IPC_FILTER_UID", Fields(&["ipc_filter_uids"])),
        (ZMQ_IPC_FILTER_GID, "IPC_FILTER_GID", Fields(&["ipc_filter_gids"])),
        (ZMQ_ZAP_ENFORCE_DOMAIN, "ZAP_ENFORCE_DOMAIN", Fields(&["zap_enforce_domain"])),
        (ZMQ_LOOPBACK_FASTPATH, "LOOPBACK_FASTPATH", WindowsOnly),
        (ZMQ_METADATA, "METADATA", Fields(&["metadata"])),
        (ZMQ_MULTICAST_LOOP, "MULTICAST_LOOP", Fields(&["multicast_loop"])),
        (ZMQ_IN_BATCH_SIZE, "IN_BATCH_SIZE", Fields(&["in_batch_size"])),
        (ZMQ_OUT_BATCH_SIZE, "OUT_BATCH_SIZE", Fields(&["out_batch_size"])),
        (ZMQ_SOCKS_USERNAME, "SOCKS_USERNAME", Fields(&["socks_username"])),
        (ZMQ_SOCKS_PASSWORD, "SOCKS_PASSWORD", Fields(&["socks_password"])),
        (ZMQ_RECONNECT_STOP, "RECONNECT_STOP", Fields(&["reconnect_stop"])),
        (ZMQ_ROUTER_NOTIFY, "ROUTER_NOTIFY", Fields(&["router_notify"])),
        (ZMQ_HELLO_MSG, "HELLO_MSG", Fields(&["hello_msg"])),
        (ZMQ_DISCONNECT_MSG, "DISCONNECT_MSG", Fields(&["disconnect_msg"])),
        (ZMQ_HICCUP_MSG, "HICCUP_MSG", Fields(&["hiccup_msg"])),
        (ZMQ_PRIORITY, "PRIORITY", Fields(&["priority"])),
        (ZMQ_BUSY_POLL, "BUSY_POLL", Fields(&["busy_poll"])),
        (ZMQ_XPUB_MANUAL_LAST_VALUE, "XPUB_MANUAL_LAST_VALUE", Fields(&["xpub_manual_last_value"])),
        (ZMQ_ONLY_FIRST_SUBSCRIBE, "ONLY_FIRST_SUBSCRIBE", Fields(&["only_first_subscribe"])),
        (
            ZMQ_XSUB_VERBOSE_UNSUBSCRIBE,
            "XSUB_VERBOSE_UNSUBSCRIBE",
            Fields(&["xsub_verbose_unsubscribe"]),
        ),
    ];

    /// Whether `set` takes the option on some socket type with some plausible value.
    fn accepted(option: i32) -> bool {
        let z85 = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
        let probes: [&[u8]; 8] = [
            &1i32.to_ne_bytes(),
            &0i32.to_ne_bytes(),
            &1u64.to_ne_bytes(),
            b"abc",
            b"X-a:b",
            b"127.0.0.1",
            &[1u8; 32],
            z85,
        ];
        let built = Built { curve: true };
        super::tests::ALL_TYPES.iter().any(|&t| {
            probes.iter().any(|p| Options::new(t).set_value(option, Some(p), built).is_ok())
                || Options::new(t).set_value(option, None, built).is_ok()
        })
    }

    /// Every `.field` read in the crate's non-test sources outside this file.
    fn sources() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                if p.is_dir() {
                    walk(&p, out);
                } else if name.ends_with(".rs")
                    && !name.ends_with("tests.rs")
                    && name != "options.rs"
                {
                    let text = std::fs::read_to_string(&p).unwrap();
                    // Test modules sit at the end of a file; what they read is no effect.
                    let text = match text.find("#[cfg(test)]") {
                        Some(at) => text[..at].to_string(),
                        None => text,
                    };
                    out.push((p.display().to_string(), text));
                }
            }
        }
        let mut out = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
        out
    }

    /// Whether `text` reads `.field` (a whole word, not the target of a plain assignment).
    fn reads(text: &str, field: &str) -> bool {
        let pat = format!(".{field}");
        text.match_indices(&pat).any(|(at, _)| {
            let rest = &text[at + pat.len()..];
            let whole = !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_');
            let t = rest.trim_start();
            let assigned = t.starts_with('=') && !t.starts_with("==");
            whole && !assigned
        })
    }

    fn options_fields() -> Vec<String> {
        let text = include_str!("options.rs");
        let start = text.find("pub(crate) struct Options {").unwrap();
        let body = &text[start..start + text[start..].find("\n}").unwrap()];
        body.lines()
            .filter_map(|l| l.trim().strip_prefix("pub(crate) "))
            .filter_map(|l| l.split(':').next())
            .filter(|f| !f.contains(' '))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_accepted_option_has_an_effect() {
        let src = sources();
        let fields = options_fields();
        let mut offenders = Vec::new();
        // The table covers exactly what `set` accepts.
        for option in 0..=1100 {
            let listed = TABLE.iter().any(|e| e.0 == option);
            if accepted(option) && !listed {
                offenders.push(format!("option {option}: accepted but not in the table"));
            }
            if listed && !accepted(option) {
                offenders.push(format!("option {option}: in the table but refused"));
            }
        }
        let check_fields = |name: &str, fs: &[&str], offenders: &mut Vec<String>| {
            for f in fs {
                assert!(fields.iter().any(|x| x == f), "{name}: no field {f}");
            }
            let read = fs.iter().any(|f| src.iter().any(|(_, text)| reads(text, f)));
            if !read {
                offenders.push(format!("ZMQ_{name}: stored in {fs:?}, read nowhere"));
            }
            read
        };
        for (_, name, effect) in TABLE {
            match effect {
                Fields(fs) => {
                    check_fields(name, fs, &mut offenders);
                }
                UnbuiltTransport(schemes) => {
                    // A built transport has its arm in transport::parse (read as text: the
                    // options layer does not import the transport one).
                    for scheme in *schemes {
                        let arm = format!("\"{scheme}\" =>");
                        if src.iter().any(|(_, text)| text.contains(&arm)) {
                            offenders.push(format!("ZMQ_{name}: {scheme} is built: wire it"));
                        }
                    }
                }
                WindowsOnly => {}
            }
        }
        assert!(offenders.is_empty(), "options without effect:\n{}", offenders.join("\n"));
    }

    #[test]
    fn field_scan_sees_reads_not_writes() {
        assert!(reads("if o.linger > 0 {", "linger"));
        assert!(reads("f(&opts.socks_proxy)", "socks_proxy"));
        assert!(!reads("o.linger_x", "linger"));
        assert!(!reads("self.linger = 3;", "linger"));
        assert!(reads("self.linger == 3", "linger"));
        // The transport arms the unbuilt-transport check looks for exist for built ones.
        assert!(sources().iter().any(|(_, text)| text.contains("\"tcp\" =>")));
    }
}
