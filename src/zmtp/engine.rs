//! The codec of an established connection: decoder, encoder and heartbeat together, with
//! PINGs answered and heartbeat deadlines kept. Still no I/O: the session reads into
//! `read_buf()`, writes `io_slices()`, and passes the time in.

use super::decoder::{Decoder, Frame};
use super::encoder::{Encoder, IoSlices};
use super::heartbeat::{Heartbeat, HeartbeatAction, HeartbeatConfig, Tick};
use super::mechanism::Mechanism;
use super::{Command, Framing, ZmtpError};
use crate::msg::Msg;
use std::time::Instant;

pub(crate) struct Engine {
    pub(crate) decoder: Decoder,
    pub(crate) encoder: Encoder,
    pub(crate) heartbeat: Heartbeat,
    /// The handshake's mechanism, kept for the connection's life (None for ZMTP 1.0/2.0,
    /// which have none): every frame in and out passes through it.
    mechanism: Option<Mechanism>,
}

impl Engine {
    pub(crate) fn new(
        version: (u8, u8),
        socket_type: i32,
        in_batch_size: usize,
        out_batch_size: usize,
        max_msg_size: i64,
        heartbeat: HeartbeatConfig,
        mechanism: Option<Mechanism>,
    ) -> Engine {
        // ZMTP 1.0/2.0 have no commands, hence no heartbeats (libzmq starts them only
        // after a mechanism handshake).
        let heartbeat = match Framing::of(version) {
            Framing::V3 => Heartbeat::new(heartbeat),
            _ => Heartbeat::disabled(),
        };
        Engine {
            decoder: Decoder::new(version, socket_type, in_batch_size, max_msg_size),
            encoder: Encoder::new(version, socket_type, out_batch_size),
            heartbeat,
            mechanism,
        }
    }

    /// Where the next read should land (see `Decoder::read_buf`).
    pub(crate) fn read_buf(&mut self) -> &mut [u8] {
        self.decoder.read_buf()
    }

    /// `n` bytes were read at `now`: decodes everything buffered into `frames` (messages,
    /// and commands other than PING/PONG, which are handled here).
    pub(crate) fn filled(
        &mut self,
        n: usize,
        now: Instant,
        frames: &mut Vec<Frame>,
    ) -> Result<(), ZmtpError> {
        self.decoder.filled(n);
        self.heartbeat.start(now);
        let Engine { decoder, encoder, heartbeat, mechanism, .. } = self;
        let mut failed = None;
        decoder.decode(&mut |f| {
            if failed.is_some() {
                return Ok(()); // the connection is over; drop the rest
            }
            let f = match mechanism {
                Some(m) => match m.unwrap_frame(f) {
                    Ok(f) => f,
                    Err(e) => {
                        // Stop here; what was decoded before still goes to the caller.
                        failed = Some(e);
                        return Ok(());
                    }
                },
                None => f,
            };
            if let Some(f) = on_frame(heartbeat, encoder, mechanism, f, now) {
                frames.push(f);
            }
            Ok(())
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(())
    }

    /// Handles a command from `decoder.decode` (for engines that drive the decoder
    /// themselves): PING is answered, PING and PONG count as traffic; anything else comes
    /// back to the caller.
    #[cfg(test)] // the engine drives these itself
    pub(crate) fn command(&mut self, cmd: Command, now: Instant) -> Option<Command> {
        self.heartbeat.start(now);
        let Engine { heartbeat, encoder, mechanism, .. } = self;
        match on_frame(heartbeat, encoder, mechanism, Frame::Command(cmd), now) {
            Some(Frame::Command(c)) => Some(c),
            _ => None,
        }
    }

    pub(crate) fn encode(&mut self, msg: Msg) {
        match &mut self.mechanism {
            Some(m) => m.wrap_message(msg, &mut self.encoder),
            None => self.encoder.encode(msg),
        }
    }

    pub(crate) fn has_output(&self) -> bool {
        self.encoder.has_output()
    }

    /// Bytes queued for writing.
    pub(crate) fn buffered(&self) -> usize {
        self.encoder.buffered()
    }

    pub(crate) fn io_slices(&self) -> IoSlices<'_> {
        self.encoder.io_slices()
    }

    pub(crate) fn advance(&mut self, n: usize) {
        self.encoder.advance(n);
    }

    /// Sends a PING if one is due and says when to call again, or that the peer is gone.
    /// Call it once right after the handshake, then at the time it returns, and after
    /// `filled` (traffic moves the deadlines).
    pub(crate) fn heartbeat(&mut self, now: Instant) -> HeartbeatAction {
        self.heartbeat.start(now);
        loop {
            match self.heartbeat.poll(now) {
                Tick::Ping(ping) => {
                    send_command(&mut self.mechanism, &mut self.encoder, &ping);
                }
                Tick::Expired => return HeartbeatAction::Expired,
                Tick::Next(t) => return HeartbeatAction::Next(t),
                Tick::Idle => return HeartbeatAction::Idle,
            }
        }
    }

    /// When `heartbeat` next has something to do.
    pub(crate) fn next_timer(&self) -> Option<Instant> {
        self.heartbeat.deadline()
    }
}

/// Notes traffic, answers PING; returns what the caller must see.
/// Queues a command after the handshake, through the mechanism (CURVE boxes it).
fn send_command(mech: &mut Option<Mechanism>, enc: &mut Encoder, cmd: &Command) {
    match mech {
        Some(m) => m.wrap_command(cmd, enc),
        None => enc.encode_command(cmd),
    };
}

fn on_frame(
    hb: &mut Heartbeat,
    enc: &mut Encoder,
    mech: &mut Option<Mechanism>,
    f: Frame,
    now: Instant,
) -> Option<Frame> {
    hb.received();
    match f {
        Frame::Command(Command::Ping { ttl_deciseconds, context }) => {
            let pong = hb.on_ping(ttl_deciseconds, &context, now);
            send_command(mech, enc, &pong);
            None
        }
        Frame::Command(Command::Pong { .. }) => None,
        f => Some(f),
    }
}
