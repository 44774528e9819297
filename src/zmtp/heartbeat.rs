//! ZMTP 3.1 heartbeats, with libzmq 4.3's timing:
//! - with ZMQ_HEARTBEAT_IVL set, a PING goes out every interval (traffic or not), carrying
//!   our ZMQ_HEARTBEAT_TTL;
//! - after a PING, if nothing at all arrives within ZMQ_HEARTBEAT_TIMEOUT (default: the
//!   interval), the connection is dead;
//! - after the peer's PING with a non-zero TTL, if nothing arrives within that TTL, the
//!   connection is dead;
//! - anything received cancels both deadlines; a PING is answered with a PONG.

use super::command::Command;
use std::time::{Duration, Instant};

/// ZMQ_HEARTBEAT_IVL / _TTL / _TIMEOUT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeartbeatConfig {
    /// Milliseconds between PINGs; 0: none.
    pub(crate) ivl_ms: i32,
    /// What our PINGs tell the peer, in tenths of a second (as options store it).
    pub(crate) ttl_deciseconds: u16,
    /// Milliseconds to wait for traffic after a PING; -1: the interval; 0: no limit.
    pub(crate) timeout_ms: i32,
}

impl Default for HeartbeatConfig {
    fn default() -> HeartbeatConfig {
        HeartbeatConfig { ivl_ms: 0, ttl_deciseconds: 0, timeout_ms: -1 }
    }
}

/// What the heartbeat wants now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tick {
    /// Send this PING, then ask again.
    Ping(Command),
    /// The peer is gone: close the connection.
    Expired,
    /// Nothing to do before this time.
    Next(Instant),
    /// No deadline at all.
    Idle,
}

/// What the engine's heartbeat wants now (PINGs are queued by the engine itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeartbeatAction {
    /// The peer is gone: close the connection.
    Expired,
    /// Call again at this time.
    Next(Instant),
    /// No timer needed until more traffic arrives.
    Idle,
}

#[derive(Debug)]
pub(crate) struct Heartbeat {
    ivl: Option<Duration>,
    timeout: Option<Duration>,
    ttl_deciseconds: u16,
    started: bool,
    next_ping: Option<Instant>,
    /// After our PING: traffic must arrive by then.
    timeout_at: Option<Instant>,
    /// After the peer's PING: traffic must arrive by then.
    ttl_at: Option<Instant>,
}

impl Heartbeat {
    pub(crate) fn new(cfg: HeartbeatConfig) -> Heartbeat {
        let ms = |v: i32| (v > 0).then(|| Duration::from_millis(v as u64));
        let ivl = ms(cfg.ivl_ms);
        let timeout = ivl.and(if cfg.timeout_ms == -1 { ivl } else { ms(cfg.timeout_ms) });
        Heartbeat {
            ivl,
            timeout,
            ttl_deciseconds: cfg.ttl_deciseconds,
            started: false,
            next_ping: None,
            timeout_at: None,
            ttl_at: None,
        }
    }

    /// No PINGs, but the peer's TTL is still honoured (ZMTP 1.0/2.0 have no PINGs at all).
    pub(crate) fn disabled() -> Heartbeat {
        Heartbeat::new(HeartbeatConfig::default())
    }

    /// The handshake completed at `now`: the first PING is due one interval later.
    pub(crate) fn start(&mut self, now: Instant) {
        if !self.started {
            self.started = true;
            self.next_ping = self.ivl.map(|i| now + i);
        }
    }

    /// Something arrived from the peer: it is alive.
    pub(crate) fn received(&mut self) {
        self.timeout_at = None;
        self.ttl_at = None;
    }

    /// The peer's PING arrived at `now`: honour its TTL; returns the PONG to send.
    pub(crate) fn on_ping(
        &mut self,
        ttl_deciseconds: u16,
        context: &[u8],
        now: Instant,
    ) -> Command {
        self.received();
        if ttl_deciseconds > 0 && self.ttl_at.is_none() {
            self.ttl_at = Some(now + Duration::from_millis(u64::from(ttl_deciseconds) * 100));
        }
        let n = context.len().min(super::command::PING_CONTEXT_MAX);
        Command::Pong { context: context[..n].to_vec() }
    }

    /// What to do at `now`.
    pub(crate) fn poll(&mut self, now: Instant) -> Tick {
        if self.timeout_at.is_some_and(|t| t <= now) || self.ttl_at.is_some_and(|t| t <= now) {
            return Tick::Expired;
        }
        if let (Some(ivl), Some(at)) = (self.ivl, self.next_ping) {
            if at <= now {
                self.next_ping = Some(now + ivl);
                if self.timeout_at.is_none() {
                    self.timeout_at = self.timeout.map(|t| now + t);
                }
                let ttl = self.ttl_deciseconds;
                return Tick::Ping(Command::Ping { ttl_deciseconds: ttl, context: Vec::new() });
            }
        }
        match self.deadline() {
            Some(t) => Tick::Next(t),
            None => Tick::Idle,
        }
    }

    /// The earliest time `poll` has something to do.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        [self.next_ping, self.timeout_at, self.ttl_at].into_iter().flatten().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn ping(ttl: u16) -> Tick {
        Tick::Ping(Command::Ping { ttl_deciseconds: ttl, context: vec![] })
    }

    #[test]
    fn off_by_default() {
        let t0 = Instant::now();
        let mut h = Heartbeat::new(HeartbeatConfig::default());
        h.start(t0);
        assert_eq!(h.poll(t0 + ms(100_000)), Tick::Idle);
        assert_eq!(h.deadline(), None);
    }

    #[test]
    fn pings_every_interval_and_times_out_without_traffic() {
        let t0 = Instant::now();
        let cfg = HeartbeatConfig { ivl_ms: 100, ttl_deciseconds: 20, timeout_ms: 250 };
        let mut h = Heartbeat::new(cfg);
        h.start(t0);
        assert_eq!(h.poll(t0), Tick::Next(t0 + ms(100)));
        assert_eq!(h.poll(t0 + ms(100)), ping(20));
        // Next PING at 200, timeout at 350.
        assert_eq!(h.poll(t0 + ms(100)), Tick::Next(t0 + ms(200)));
        assert_eq!(h.poll(t0 + ms(200)), ping(20));
        // The timeout was armed by the first PING and is not pushed back by the second.
        assert_eq!(h.poll(t0 + ms(300)), ping(20));
        assert_eq!(h.poll(t0 + ms(300)), Tick::Next(t0 + ms(350)));
        assert_eq!(h.poll(t0 + ms(350)), Tick::Expired);
    }

    #[test]
    fn traffic_cancels_the_timeout() {
        let t0 = Instant::now();
        let mut h = Heartbeat::new(HeartbeatConfig { ivl_ms: 100, ..Default::default() });
        h.start(t0);
        assert_eq!(h.poll(t0 + ms(100)), ping(0));
        h.received();
        // Timeout defaults to the interval; it was cancelled, the next PING re-arms it.
        assert_eq!(h.poll(t0 + ms(199)), Tick::Next(t0 + ms(200)));
        assert_eq!(h.poll(t0 + ms(200)), ping(0));
        assert_eq!(h.poll(t0 + ms(299)), Tick::Next(t0 + ms(300)));
        assert_eq!(h.poll(t0 + ms(300)), Tick::Expired);
    }

    #[test]
    fn zero_timeout_never_expires() {
        let t0 = Instant::now();
        let cfg = HeartbeatConfig { ivl_ms: 10, ttl_deciseconds: 0, timeout_ms: 0 };
        let mut h = Heartbeat::new(cfg);
        h.start(t0);
        for i in 1..50 {
            assert_eq!(h.poll(t0 + ms(10 * i)), ping(0));
        }
    }

    #[test]
    fn honours_the_peer_ttl_and_echoes_context() {
        let t0 = Instant::now();
        let mut h = Heartbeat::disabled();
        h.start(t0);
        let pong = h.on_ping(15, b"0123456789abcdefXYZ", t0);
        assert_eq!(pong, Command::Pong { context: b"0123456789abcdef".to_vec() });
        assert_eq!(h.poll(t0 + ms(1499)), Tick::Next(t0 + ms(1500)));
        // Another PING is traffic too: the deadline restarts from it (libzmq cancels its
        // TTL timer on every message, then the PING re-arms it).
        h.on_ping(15, b"", t0 + ms(1000));
        assert_eq!(h.poll(t0 + ms(1500)), Tick::Next(t0 + ms(2500)));
        assert_eq!(h.poll(t0 + ms(2500)), Tick::Expired);
        h.received();
        assert_eq!(h.poll(t0 + ms(5000)), Tick::Idle);
        // TTL 0: no deadline.
        h.on_ping(0, b"", t0);
        assert_eq!(h.poll(t0 + ms(100_000)), Tick::Idle);
    }
}
