//! Z85 (ZeroMQ RFC 32): every 4 bytes, read as a big-endian number, become 5 printable
//! base-85 digits. CURVE keys travel in this form (40 characters for 32 bytes).

use crate::error::Errno;

/// The 85 digits in order of value, as RFC 32 lists them.
const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Marks bytes that are not Z85 digits in `DIGIT`.
const NOT_A_DIGIT: u8 = 0xff;

/// The value of every byte as a digit; built from the alphabet so the two cannot disagree.
const DIGIT: [u8; 256] = {
    let mut table = [NOT_A_DIGIT; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Why a block cannot be encoded or a string decoded. The C API reports all as EINVAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Z85Error {
    /// Binary length not a multiple of 4, or text length not a positive multiple of 5.
    Length,
    /// A character outside the alphabet.
    Char,
    /// A group of 5 digits worth more than 0xffffffff.
    Overflow,
}

impl From<Z85Error> for Errno {
    fn from(_: Z85Error) -> Self {
        Errno(libc::EINVAL)
    }
}

/// Writes the Z85 text of `src` to the front of `dst` (no NUL) and returns its length,
/// `src.len() * 5 / 4`.
///
/// Panics if `dst` is shorter than that; callers size it with the length rule.
pub(crate) fn encode_into(src: &[u8], dst: &mut [u8]) -> Result<usize, Z85Error> {
    if !src.len().is_multiple_of(4) {
        return Err(Z85Error::Length);
    }
    let len = src.len() / 4 * 5;
    assert!(dst.len() >= len, "z85: output buffer too short");
    for (group, out) in src.chunks_exact(4).zip(dst.chunks_exact_mut(5)) {
        let mut value = u32::from_be_bytes([group[0], group[1], group[2], group[3]]);
        // Least significant digit last: fill from the right.
        for slot in out.iter_mut().rev() {
            *slot = ALPHABET[(value % 85) as usize];
            value /= 85;
        }
    }
    Ok(len)
}

/// Decodes Z85 text into the front of `dst` and returns the byte count, `src.len() * 4 / 5`.
///
/// Groups are written as they decode, so on a bad character the groups before it are already
/// in `dst`, as libzmq leaves them. Empty text is rejected, as libzmq rejects it.
/// Panics if `dst` is too short.
pub(crate) fn decode_into(src: &[u8], dst: &mut [u8]) -> Result<usize, Z85Error> {
    if src.is_empty() || !src.len().is_multiple_of(5) {
        return Err(Z85Error::Length);
    }
    let len = src.len() / 5 * 4;
    assert!(dst.len() >= len, "z85: output buffer too short");
    for (group, out) in src.chunks_exact(5).zip(dst.chunks_exact_mut(4)) {
        let mut value: u64 = 0;
        for &c in group {
            let digit = DIGIT[c as usize];
            if digit == NOT_A_DIGIT {
                return Err(Z85Error::Char);
            }
            value = value * 85 + u64::from(digit);
        }
        // Five digits reach 85^5 - 1, past what four bytes hold.
        let value = u32::try_from(value).map_err(|_| Z85Error::Overflow)?;
        out.copy_from_slice(&value.to_be_bytes());
    }
    Ok(len)
}

/// The Z85 text of `src`, for callers inside the crate (CURVE key options).
pub(crate) fn encode(src: &[u8]) -> Result<String, Z85Error> {
    let mut out = vec![0; src.len() / 4 * 5];
    encode_into(src, &mut out)?;
    // Every byte written comes from the ASCII alphabet.
    Ok(out.into_iter().map(char::from).collect())
}

/// The bytes Z85 text stands for, for callers inside the crate (CURVE key options).
pub(crate) fn decode(src: &[u8]) -> Result<Vec<u8>, Z85Error> {
    let mut out = vec![0; src.len() / 5 * 4];
    decode_into(src, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: [u8; 8] = [0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b];

    #[test]
    fn rfc_vector() {
        assert_eq!(encode(&HELLO).unwrap(), "HelloWorld");
        assert_eq!(decode(b"HelloWorld").unwrap(), HELLO);
    }

    #[test]
    fn alphabet_is_85_distinct_printables() {
        let mut seen = [false; 256];
        for &c in ALPHABET {
            assert!(c.is_ascii_graphic());
            assert!(!seen[c as usize]);
            seen[c as usize] = true;
        }
    }

    #[test]
    fn extremes() {
        assert_eq!(encode(&[0; 4]).unwrap(), "00000");
        assert_eq!(encode(&[0xff; 4]).unwrap(), "%nSc0");
        assert_eq!(decode(b"%nSc0").unwrap(), [0xff; 4]);
        assert_eq!(decode(b"%nSc1"), Err(Z85Error::Overflow));
        assert_eq!(decode(b"#####"), Err(Z85Error::Overflow));
        assert_eq!(encode(&[]).unwrap(), "");
    }

    #[test]
    fn round_trips() {
        // A simple generator is enough to cover every byte value in every position.
        let mut x: u32 = 0x1234_5678;
        for len in (4..=256).step_by(4) {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let text = encode(&data).unwrap();
            assert_eq!(text.len(), len / 4 * 5);
            assert_eq!(decode(text.as_bytes()).unwrap(), data);
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(encode(&all).unwrap().as_bytes()).unwrap(), all);
    }

    #[test]
    fn curve_key_length() {
        let key = [0x5a; 32];
        let text = encode(&key).unwrap();
        assert_eq!(text.len(), 40);
        assert_eq!(decode(text.as_bytes()).unwrap(), key);
    }

    #[test]
    fn bad_length() {
        for len in [1, 2, 3, 5, 7, 33] {
            assert_eq!(encode(&vec![0; len]), Err(Z85Error::Length));
        }
        for text in ["", "H", "Hell", "HelloW", "HelloWorld!"] {
            assert_eq!(decode(text.as_bytes()), Err(Z85Error::Length), "{text:?}");
        }
    }

    #[test]
    fn bad_characters() {
        for bad in
            [b' ', b'"', b'\'', b',', b';', b'\\', b'_', b'`', b'|', b'~', 0, 0x7f, 0x80, 0xff]
        {
            let mut text = *b"HelloWorld";
            text[7] = bad;
            assert_eq!(decode(&text), Err(Z85Error::Char), "byte {bad:#x}");
        }
    }

    #[test]
    fn partial_output_on_error() {
        let mut out = [0xaa; 8];
        assert_eq!(decode_into(b"HelloWor d", &mut out), Err(Z85Error::Char));
        assert_eq!(out[..4], HELLO[..4]);
        assert_eq!(out[4..], [0xaa; 4]);
    }

    #[test]
    fn errno_is_einval() {
        assert_eq!(Errno::from(Z85Error::Char), Errno(libc::EINVAL));
    }
}
