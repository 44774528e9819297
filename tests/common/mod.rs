//! What the integration tests share: where the built library is, a directory that links
//! it under both names the linker and loader look for, and a C compiler via the cc crate.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory cargo put the library in (target/<profile>), found from the test binary.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent().and_then(Path::parent).expect("target dir").to_path_buf()
}

/// The library under test. deps/ always has what cargo just built; the uplifted copy in
/// target/<profile> may be left over from an earlier `cargo build`: take the newer.
pub fn built_library() -> PathBuf {
    [profile_dir().join("libzmq.so"), profile_dir().join("deps/libzmq.so")]
        .into_iter()
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .expect("libzmq.so not built")
}

/// target/<profile>/<name> holding `libzmq.so` and `libzmq.so.5` links to the library under
/// test, so the linker and the loader both find ours before the system's. Each test binary
/// uses its own name, so concurrent binaries never relink under each other.
pub fn lib_dir(name: &str) -> PathBuf {
    let built = built_library();
    let dir = profile_dir().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for lib in ["libzmq.so", "libzmq.so.5"] {
        let link = dir.join(lib);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&built, &link).unwrap();
    }
    dir
}

pub fn compiler() -> cc::Tool {
    let target = option_env!("FERROZMQ_TARGET").unwrap_or("x86_64-unknown-linux-gnu");
    cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .opt_level(1)
        .debug(true)
        .host(target)
        .target(target)
        .get_compiler()
}

/// Builds one of the interop programs in capi-tests/interop/ (`source`, relative to the
/// repository): against ferrozmq's header and library in `ferrozmq`, or, with None, against
/// /usr/include/zmq.h and the system's libzmq.so.5 by its file name. Built aside and renamed,
/// so a concurrent cargo test never runs a half-written file.
pub fn compile_interop(source: &str, out: &Path, ferrozmq: Option<&Path>) -> Result<(), String> {
    let mut cmd = compiler().to_command();
    cmd.arg("-std=gnu11").args(["-Wall", "-Wextra", "-Werror", "-Wno-unused-function"]);
    if ferrozmq.is_some() {
        cmd.arg("-DINTEROP_FERROZMQ").arg("-I").arg(root().join("include"));
    }
    cmd.arg(root().join(source));
    match ferrozmq {
        Some(dir) => cmd.arg("-L").arg(dir).arg("-lzmq"),
        None => cmd.args(["-L/usr/lib/x86_64-linux-gnu", "-l:libzmq.so.5"]),
    };
    cmd.arg("-lpthread");
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    cmd.arg("-o").arg(&tmp);
    let o = cmd.output().map_err(|e| e.to_string())?;
    if o.status.success() {
        std::fs::rename(&tmp, out).map_err(|e| e.to_string())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// An exit status in words, naming the signals the interop programs die of.
pub fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (_, Some(14)) => "killed by SIGALRM (its 20 s alarm)".into(),
        (_, Some(6)) => "killed by SIGABRT".into(),
        (_, Some(9)) => "killed by SIGKILL".into(),
        (_, Some(11)) => "killed by SIGSEGV".into(),
        (_, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}
