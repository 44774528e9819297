//! Metadata properties: `name-length name value-length(4, BE) value`, as READY, INITIATE
//! and ZAP replies carry them.

use super::ZmtpError;

/// Appends one property. Names are at most 255 octets (longer ones are cut, as a name
/// never comes from the wire here).
pub(crate) fn put_property(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    let name = &name[..name.len().min(255)];
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
}

/// A property: name and value.
pub(crate) type Property<'a> = (&'a [u8], &'a [u8]);

/// Splits a property list, as libzmq's parse_metadata does: a truncated property, or one
/// stray octet at the end, is EPROTO. Names are not checked (libzmq accepts any octets).
pub(crate) fn parse_properties(mut data: &[u8]) -> Result<Vec<Property<'_>>, ZmtpError> {
    let bad = || ZmtpError::proto("malformed metadata");
    let mut props = Vec::new();
    while !data.is_empty() {
        let (&name_len, rest) = data.split_first().ok_or_else(bad)?;
        let name = rest.get(..usize::from(name_len)).ok_or_else(bad)?;
        let rest = &rest[name.len()..];
        let len = rest.get(..4).ok_or_else(bad)?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let value = rest.get(4..).and_then(|r| r.get(..len)).ok_or_else(bad)?;
        props.push((name, value));
        data = &rest[4 + len..];
    }
    Ok(props)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut v = Vec::new();
        put_property(&mut v, b"Socket-Type", b"DEALER");
        put_property(&mut v, b"Identity", b"");
        put_property(&mut v, b"X-Bin", &[0, 1, 2]);
        // The bytes of RFC 37's worked example, then ours.
        assert_eq!(&v[..22], b"\x0bSocket-Type\x00\x00\x00\x06DEALER");
        let p = parse_properties(&v).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0], (&b"Socket-Type"[..], &b"DEALER"[..]));
        assert_eq!(p[1], (&b"Identity"[..], &b""[..]));
        assert_eq!(p[2], (&b"X-Bin"[..], &[0u8, 1, 2][..]));
    }

    #[test]
    fn truncation_is_an_error() {
        let mut v = Vec::new();
        put_property(&mut v, b"Socket-Type", b"PUB");
        assert!(parse_properties(&[]).unwrap().is_empty());
        for cut in 1..v.len() {
            assert!(parse_properties(&v[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = v.clone();
        extra.push(1);
        assert!(parse_properties(&extra).is_err());
        // A value length near 2^32 must not overflow anything.
        assert!(parse_properties(b"\x01A\xff\xff\xff\xffxyz").is_err());
        // An empty name is accepted, as libzmq does.
        assert_eq!(parse_properties(b"\x00\x00\x00\x00\x00").unwrap().len(), 1);
    }
}
