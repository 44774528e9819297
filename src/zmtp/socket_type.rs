//! Socket-Type names on the wire and which pairs may talk (libzmq's check_socket_type).

use crate::consts::*;

/// The name a socket type announces in its READY/INITIATE metadata.
pub(crate) fn socket_type_name(t: i32) -> Option<&'static str> {
    Some(match t {
        ZMQ_PAIR => "PAIR",
        ZMQ_PUB => "PUB",
        ZMQ_SUB => "SUB",
        ZMQ_REQ => "REQ",
        ZMQ_REP => "REP",
        ZMQ_DEALER => "DEALER",
        ZMQ_ROUTER => "ROUTER",
        ZMQ_PULL => "PULL",
        ZMQ_PUSH => "PUSH",
        ZMQ_XPUB => "XPUB",
        ZMQ_XSUB => "XSUB",
        ZMQ_STREAM => "STREAM",
        ZMQ_SERVER => "SERVER",
        ZMQ_CLIENT => "CLIENT",
        ZMQ_RADIO => "RADIO",
        ZMQ_DISH => "DISH",
        ZMQ_GATHER => "GATHER",
        ZMQ_SCATTER => "SCATTER",
        ZMQ_DGRAM => "DGRAM",
        ZMQ_PEER => "PEER",
        ZMQ_CHANNEL => "CHANNEL",
        _ => return None,
    })
}

/// The socket type a name stands for (exact, case-sensitive, as libzmq compares).
pub(crate) fn socket_type_from_name(name: &[u8]) -> Option<i32> {
    (0..=ZMQ_CHANNEL).find(|&t| socket_type_name(t).is_some_and(|n| n.as_bytes() == name))
}

/// Whether a socket of type `ours` accepts a peer of type `theirs` (RFC 37, libzmq 4.3).
pub(crate) fn compatible(ours: i32, theirs: i32) -> bool {
    let ok: &[i32] = match ours {
        ZMQ_PAIR => &[ZMQ_PAIR],
        ZMQ_PUB | ZMQ_XPUB => &[ZMQ_SUB, ZMQ_XSUB],
        ZMQ_SUB | ZMQ_XSUB => &[ZMQ_PUB, ZMQ_XPUB],
        ZMQ_REQ => &[ZMQ_REP, ZMQ_ROUTER],
        ZMQ_REP => &[ZMQ_REQ, ZMQ_DEALER],
        ZMQ_DEALER => &[ZMQ_REP, ZMQ_DEALER, ZMQ_ROUTER],
        ZMQ_ROUTER => &[ZMQ_REQ, ZMQ_DEALER, ZMQ_ROUTER],
        ZMQ_PULL => &[ZMQ_PUSH],
        ZMQ_PUSH => &[ZMQ_PULL],
        ZMQ_SERVER => &[ZMQ_CLIENT],
        ZMQ_CLIENT => &[ZMQ_SERVER],
        ZMQ_RADIO => &[ZMQ_DISH],
        ZMQ_DISH => &[ZMQ_RADIO],
        ZMQ_GATHER => &[ZMQ_SCATTER],
        ZMQ_SCATTER => &[ZMQ_GATHER],
        ZMQ_DGRAM => &[ZMQ_DGRAM],
        ZMQ_PEER => &[ZMQ_PEER],
        ZMQ_CHANNEL => &[ZMQ_CHANNEL],
        // STREAM speaks no ZMTP.
        _ => &[],
    };
    ok.contains(&theirs)
}

/// Types that announce an Identity property (libzmq sends it for these only).
pub(crate) fn sends_identity(t: i32) -> bool {
    matches!(t, ZMQ_REQ | ZMQ_DEALER | ZMQ_ROUTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in 0..=ZMQ_CHANNEL {
            let n = socket_type_name(t).unwrap();
            assert_eq!(socket_type_from_name(n.as_bytes()), Some(t));
        }
        assert_eq!(socket_type_name(21), None);
        assert_eq!(socket_type_from_name(b"dealer"), None);
        assert_eq!(socket_type_from_name(b""), None);
    }

    #[test]
    fn table_is_symmetric_and_matches_rfc() {
        for a in 0..=ZMQ_CHANNEL {
            for b in 0..=ZMQ_CHANNEL {
                assert_eq!(compatible(a, b), compatible(b, a), "{a} {b}");
            }
        }
        assert!(compatible(ZMQ_REQ, ZMQ_ROUTER));
        assert!(!compatible(ZMQ_REQ, ZMQ_REQ));
        assert!(compatible(ZMQ_XPUB, ZMQ_XSUB));
        assert!(!compatible(ZMQ_PUB, ZMQ_PUB));
        assert!(!compatible(ZMQ_STREAM, ZMQ_STREAM));
        assert!(compatible(ZMQ_CLIENT, ZMQ_SERVER));
        assert!(!compatible(ZMQ_PUSH, ZMQ_PUSH));
    }
}
