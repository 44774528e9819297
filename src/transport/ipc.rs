//! ipc:// addresses: file-system paths, Linux abstract names (`ipc://@name`) and the
//! wildcard `ipc://*` (a fresh private directory holding `socket`), as libzmq 4.3 handles
//! them: a path's file is removed before binding (a previous process may have left it) but
//! left in place on unbind and close; only the wildcard's file and directory are removed.

use crate::error::{err, Errno, ZResult};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use std::path::PathBuf;

/// A sockaddr_un holds 108 bytes with the terminating NUL: longer is ENAMETOOLONG.
const SUN_PATH: usize = 108;

/// Where an ipc endpoint lives.
pub(crate) enum IpcAddr {
    Path(PathBuf),
    Abstract(Vec<u8>),
}

impl IpcAddr {
    pub(crate) fn parse(addr: &str) -> ZResult<IpcAddr> {
        if addr.is_empty() || addr == "@" {
            return err(libc::EINVAL);
        }
        if addr.len() >= SUN_PATH {
            return err(libc::ENAMETOOLONG);
        }
        Ok(match addr.strip_prefix('@') {
            Some(name) => IpcAddr::Abstract(name.as_bytes().to_vec()),
            None => IpcAddr::Path(PathBuf::from(addr)),
        })
    }

    /// The address for socket2 (abstract names start with a NUL byte there).
    pub(crate) fn sockaddr(&self) -> ZResult<socket2::SockAddr> {
        use std::os::unix::ffi::OsStrExt;
        let r = match self {
            IpcAddr::Path(p) => socket2::SockAddr::unix(p),
            IpcAddr::Abstract(n) => {
                let mut bytes = vec![0u8];
                bytes.extend_from_slice(n);
                socket2::SockAddr::unix(std::ffi::OsStr::from_bytes(&bytes))
            }
        };
        r.or(err(libc::ENAMETOOLONG))
    }

    /// `ipc://...` as ZMQ_LAST_ENDPOINT shows it.
    pub(crate) fn endpoint_string(&self) -> String {
        match self {
            IpcAddr::Path(p) => format!("ipc://{}", p.display()),
            IpcAddr::Abstract(n) => format!("ipc://@{}", String::from_utf8_lossy(n)),
        }
    }
}

/// Starts a non-blocking connect. Ok with `true` when it completed at once (as Unix
/// sockets usually do), `false` while in progress; a failure comes with the socket opened
/// for it, if any (libzmq reports closing it).
pub(crate) fn start_connect(
    a: &IpcAddr,
) -> Result<(mio::net::UnixStream, bool), (Errno, Option<socket2::Socket>)> {
    let os = |e: std::io::Error| Errno(e.raw_os_error().unwrap_or(libc::EIO));
    let sa = a.sockaddr().map_err(|e| (e, None))?;
    let sock = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM.cloexec(), None)
        .map_err(|e| (os(e), None))?;
    if let Err(e) = sock.set_nonblocking(true) {
        return Err((os(e), Some(sock)));
    }
    let done = match sock.connect(&sa) {
        Ok(()) => true,
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EINTR)) => false,
        Err(e) => return Err((os(e), Some(sock))),
    };
    Ok((mio::net::UnixStream::from_std(sock.into()), done))
}

/// A Unix socket address as libzmq prints it in monitor events: `ipc://path`, `ipc://@name`,
/// or just `ipc://` for an unnamed (connecting) socket.
pub(crate) fn endpoint_of(addr: &SocketAddr) -> String {
    if let Some(p) = addr.as_pathname() {
        format!("ipc://{}", p.display())
    } else if let Some(n) = addr.as_abstract_name() {
        format!("ipc://@{}", String::from_utf8_lossy(n))
    } else {
        "ipc://".to_string()
    }
}

/// For `ipc://*`: a new directory `tmpXXXXXX` (mode 0700) in the first of $TMPDIR, $TEMPDIR,
/// $TMP that is a directory, else in the current directory as libzmq does, holding `socket`.
/// Returns the socket's path and the directory to remove with it.
pub(crate) fn wildcard() -> ZResult<(IpcAddr, PathBuf)> {
    let base = ["TMPDIR", "TEMPDIR", "TMP"]
        .iter()
        .filter_map(std::env::var_os)
        .map(PathBuf::from)
        .find(|p| p.is_dir())
        .unwrap_or_default();
    let mut seed = random_seed();
    for _ in 0..100 {
        let dir = base.join(format!("tmp{}", short_name(&mut seed)));
        let made = {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().mode(0o700).create(&dir)
        };
        match made {
            Ok(()) => {
                let path = dir.join("socket");
                if path.as_os_str().len() >= SUN_PATH {
                    let _ = std::fs::remove_dir(&dir);
                    return err(libc::ENAMETOOLONG);
                }
                return Ok((IpcAddr::Path(path), dir));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return err(e.raw_os_error().unwrap_or(libc::EACCES)),
        }
    }
    err(libc::EEXIST)
}

/// Per-process randomness without a dependency: std's hasher keys are random.
pub(crate) fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// Six characters from mkdtemp's alphabet, advancing the xorshift state.
fn short_name(state: &mut u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            ALPHABET[(*state % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert!(IpcAddr::parse(&"a".repeat(107)).is_ok());
        assert_eq!(IpcAddr::parse(&"a".repeat(108)).err().unwrap().0, libc::ENAMETOOLONG);
        assert_eq!(IpcAddr::parse("@").err().unwrap().0, libc::EINVAL);
        assert_eq!(IpcAddr::parse("@x").unwrap().endpoint_string(), "ipc://@x");
    }

    #[test]
    fn unnamed() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(endpoint_of(&a.local_addr().unwrap()), "ipc://");
    }
}
