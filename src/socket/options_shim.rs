//! Temporary stand-in for crate::options until it lands (only what the base reads).
use crate::error::{err, ZResult};

pub(crate) struct Options {
    pub socket_type: i32,
    pub routing_id: Vec<u8>,
    pub sndhwm: i32,
    pub rcvhwm: i32,
    pub sndtimeo: i32,
    pub rcvtimeo: i32,
    pub linger: i32,
}

impl Options {
    pub(crate) fn new(socket_type: i32) -> Options {
        Options { socket_type, routing_id: Vec::new(), sndhwm: 1000, rcvhwm: 1000, sndtimeo: -1, rcvtimeo: -1, linger: -1 }
    }
    pub(crate) fn set(&mut self, option: i32, value: &[u8]) -> ZResult<()> {
        let v = if value.len() == 4 { i32::from_ne_bytes(value.try_into().unwrap()) } else { return err(libc::EINVAL) };
        match option {
            23 => self.sndhwm = v,
            24 => self.rcvhwm = v,
            27 => self.rcvtimeo = v,
            28 => self.sndtimeo = v,
            17 => self.linger = v,
            _ => return err(libc::EINVAL),
        }
        Ok(())
    }
    pub(crate) fn get(&self, option: i32, buf: &mut [u8]) -> ZResult<usize> {
        let v = match option {
            16 => self.socket_type,
            23 => self.sndhwm,
            24 => self.rcvhwm,
            _ => return err(libc::EINVAL),
        };
        buf[..4].copy_from_slice(&v.to_ne_bytes());
        Ok(4)
    }
}
