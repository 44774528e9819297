//! ipc:// addresses: file-system paths (removed again on unbind/close), Linux abstract
//! names (`ipc://@name`) and the wildcard `ipc://*` (a fresh private directory).

use crate::error::{err, ZResult};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use std::path::PathBuf;

/// Longest path a sockaddr_un holds (108 bytes with the NUL).
const MAX_PATH: usize = 107;

/// Where an ipc endpoint lives.
pub(crate) enum IpcAddr {
    Path(PathBuf),
    Abstract(Vec<u8>),
}

impl IpcAddr {
    pub(crate) fn parse(addr: &str) -> ZResult<IpcAddr> {
        if addr.is_empty() {
            return err(libc::EINVAL);
        }
        if addr.len() > MAX_PATH {
            return err(libc::ENAMETOOLONG);
        }
        Ok(match addr.strip_prefix('@') {
            Some(name) => IpcAddr::Abstract(name.as_bytes().to_vec()),
            None => IpcAddr::Path(PathBuf::from(addr)),
        })
    }

    pub(crate) fn socket_addr(&self) -> ZResult<SocketAddr> {
        match self {
            IpcAddr::Path(p) => SocketAddr::from_pathname(p).or(err(libc::EINVAL)),
            IpcAddr::Abstract(n) => SocketAddr::from_abstract_name(n).or(err(libc::EINVAL)),
        }
    }

    /// `ipc://...` as ZMQ_LAST_ENDPOINT shows it.
    pub(crate) fn endpoint_string(&self) -> String {
        match self {
            IpcAddr::Path(p) => format!("ipc://{}", p.display()),
            IpcAddr::Abstract(n) => format!("ipc://@{}", String::from_utf8_lossy(n)),
        }
    }
}

/// For `ipc://*`: a new private directory under $TMPDIR (or /tmp) holding `socket`.
pub(crate) fn wildcard() -> ZResult<(IpcAddr, PathBuf)> {
    let base = std::env::var_os("TMPDIR").map(PathBuf::from).unwrap_or_else(|| "/tmp".into());
    for attempt in 0..100u32 {
        let seed = std::process::id() as u64 ^ (attempt as u64) << 32
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
        let dir = base.join(format!("tmp{}", short_name(seed)));
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
                let path = dir.join("socket");
                if path.as_os_str().len() > MAX_PATH {
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

fn short_name(mut v: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|_| {
            let c = ALPHABET[(v % ALPHABET.len() as u64) as usize] as char;
            v = v / ALPHABET.len() as u64 ^ v.rotate_left(17);
            c
        })
        .collect()
}
