//! The reconnect interval of a connecting session, as libzmq computes it: the current base
//! plus a random jitter below ZMQ_RECONNECT_IVL; the base doubles after each failed attempt
//! up to ZMQ_RECONNECT_IVL_MAX (when that is set above ZMQ_RECONNECT_IVL), and starts again
//! at ZMQ_RECONNECT_IVL for each new connecting round (after a connection was made).

use crate::options::Options;

pub(crate) struct Backoff {
    current: i32,
    rng: u64,
}
impl Backoff {
    pub(crate) fn new(opts: &Options) -> Backoff {
        Backoff { current: opts.reconnect_ivl, rng: crate::transport::ipc::random_seed() | 1 }
    }

    /// Starts a new round at ZMQ_RECONNECT_IVL.
    pub(crate) fn reset(&mut self, opts: &Options) {
        self.current = opts.reconnect_ivl;
    }

    /// The interval to wait now (also the CONNECT_RETRIED value); advances the base.
    pub(crate) fn next(&mut self, opts: &Options) -> i32 {
        let ivl = opts.reconnect_ivl.max(1);
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let jitter = (self.rng % ivl as u64) as i32;
        let interval = self.current.saturating_add(jitter);
        if opts.reconnect_ivl_max > 0 && opts.reconnect_ivl_max > opts.reconnect_ivl {
            self.current = self.current.saturating_mul(2).min(opts.reconnect_ivl_max);
        }
        interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consts::*;

    #[test]
    fn backoff_as_libzmq() {
        let mut o = Options::new(ZMQ_PUSH);
        o.reconnect_ivl = 100;
        o.reconnect_ivl_max = 400;
        let mut b = Backoff::new(&o);
        for base in [100, 200, 400, 400, 400] {
            let v = b.next(&o);
            assert!((base..base + 100).contains(&v), "{v} for base {base}");
        }
        b.reset(&o);
        assert!(b.next(&o) < 200);
        // No maximum (or one not above the interval): no back-off.
        o.reconnect_ivl_max = 50;
        let mut b = Backoff::new(&o);
        assert!(b.next(&o) < 200 && b.next(&o) < 200 && b.next(&o) < 200);
    }
}
