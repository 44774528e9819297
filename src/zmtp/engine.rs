//! The codec of an established connection: decoder, encoder and heartbeat together, with
//! PINGs answered and heartbeat deadlines kept. Still no I/O: the session reads into
//! `read_target()`, writes `io_slices()`, and passes the time in.

use super::decoder::{Decoder, Frame};
use super::encoder::{Encoder, IoSlices};
use super::heartbeat::{Heartbeat, HeartbeatAction, HeartbeatConfig, Tick};
use super::mechanism::Mechanism;
use super::{Command, Framing, ZmtpError};
use crate::consts::{ZMQ_DISH, ZMQ_RADIO};
use crate::msg::Msg;
use std::time::Instant;

pub(crate) struct Engine {
    pub(crate) decoder: Decoder,
    pub(crate) encoder: Encoder,
    pub(crate) heartbeat: Heartbeat,
    /// The handshake's mechanism, kept for the connection's life (None for ZMTP 1.0/2.0,
    /// which have none): every frame in and out passes through it.
    mechanism: Option<Mechanism>,
    /// RADIO/DISH framing: a RADIO sends each message as a group frame then the body; a
    /// DISH joins them again (and a RADIO receives JOIN/LEAVE as pipe commands).
    groups: Groups,
}

/// How RADIO and DISH carry groups on ZMTP (libzmq's radio/dish sessions).
enum Groups {
    None,
    Radio,
    /// A DISH, with the group frame of the message in progress.
    Dish(Option<Msg>),
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
            groups: match socket_type {
                ZMQ_RADIO => Groups::Radio,
                ZMQ_DISH => Groups::Dish(None),
                _ => Groups::None,
            },
        }
    }

    /// Where the next read should land (see `Decoder::read_buf`).
    #[cfg(test)]
    pub(crate) fn read_buf(&mut self) -> &mut [u8] {
        self.decoder.read_buf()
    }

    /// Where the next read should land (see `Decoder::read_target`).
    pub(crate) fn read_target(&mut self) -> super::ReadBuf<'_> {
        self.decoder.read_target()
    }

    /// `n` bytes were read at `now`: decodes everything buffered into `frames` (messages,
    /// and commands other than PING/PONG, which are handled here).
    #[cfg(test)]
    pub(crate) fn filled(
        &mut self,
        n: usize,
        now: Instant,
        frames: &mut Vec<Frame>,
    ) -> Result<(), ZmtpError> {
        self.filled_into(n, now, &mut |f| {
            frames.push(f);
            true
        })
    }

    /// Bytes read are not all decoded yet: the sink had no room (`filled_into`). Call
    /// `filled_into(0, ..)` once it has, before reading more.
    pub(crate) fn has_input(&self) -> bool {
        self.decoder.has_pending()
    }

    /// `filled`, handing each frame to `sink` as it is decoded. A sink that answers false
    /// has no room for more: decoding stops after that frame, and the rest stays buffered
    /// as bytes (no message is built for it) until the next call.
    pub(crate) fn filled_into<F: FnMut(Frame) -> bool>(
        &mut self,
        n: usize,
        now: Instant,
        sink: &mut F,
    ) -> Result<(), ZmtpError> {
        self.decoder.filled(n);
        self.heartbeat.start(now);
        let Engine { decoder, encoder, heartbeat, mechanism, groups } = self;
        // Messages that need no unboxing and carry no group go straight to the caller.
        let plain = matches!(groups, Groups::None)
            && !mechanism.as_ref().is_some_and(|m| m.boxes_messages());
        let mut failed = None;
        let mut full = false;
        decoder.decode(&mut |f| {
            if failed.is_some() {
                return Ok(()); // the connection is over; drop the rest
            }
            if full {
                // Held as it came, before the mechanism sees it: unwrapping is stateful.
                return Err(f);
            }
            if plain && matches!(f, Frame::Message(_)) {
                heartbeat.received();
                full = !sink(f);
                return Ok(());
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
                match groups.inbound(f) {
                    Ok(Some(f)) => full = !sink(f),
                    Ok(None) => {}
                    Err(e) => failed = Some(e),
                }
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
        if msg.flags() & Msg::COMMAND != 0 {
            // A DISH's JOIN/LEAVE: a command frame (none on ZMTP 1.0/2.0, as libzmq).
            if let Some(cmd) = Command::parse(msg.data()) {
                send_command(&mut self.mechanism, &mut self.encoder, &cmd);
            }
            return;
        }
        if matches!(self.groups, Groups::Radio) {
            let mut group = Msg::from_slice(msg.group());
            group.set_more(true);
            self.encode_frame(group);
        }
        self.encode_frame(msg);
    }

    fn encode_frame(&mut self, msg: Msg) {
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

impl Groups {
    /// What a decoded frame becomes for a RADIO or DISH (as libzmq's radio and dish
    /// sessions do): a RADIO's JOIN/LEAVE commands become pipe commands, a DISH's group
    /// frame and body one message with that group. A DISH given anything but a group frame
    /// with MORE (at most 255 octets) then a one-frame body drops the connection, as libzmq.
    fn inbound(&mut self, f: Frame) -> Result<Option<Frame>, ZmtpError> {
        match (self, f) {
            (Groups::Radio, Frame::Command(Command::Other { name, data }))
                if name == b"JOIN" || name == b"LEAVE" =>
            {
                let m = super::command::group_command(name == b"JOIN", &data)
                    .map_err(|_| ZmtpError::new(libc::ENOMEM, "no memory for a JOIN"))?;
                Ok(Some(Frame::Message(m)))
            }
            (Groups::Dish(pending), Frame::Message(m)) => match pending.take() {
                None => {
                    if !m.more() || m.len() > crate::msg::GROUP_MAX_LENGTH {
                        return Err(ZmtpError::proto("RADIO group frame malformed"));
                    }
                    *pending = Some(m);
                    Ok(None)
                }
                Some(group) => {
                    let mut body = m;
                    // A NUL ends the group, as libzmq's copy of it does.
                    let g = group.data();
                    let g = &g[..g.iter().position(|&b| b == 0).unwrap_or(g.len())];
                    if body.more() || body.set_group(g).is_err() {
                        return Err(ZmtpError::proto("RADIO message malformed"));
                    }
                    Ok(Some(Frame::Message(body)))
                }
            },
            (_, f) => Ok(Some(f)),
        }
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
