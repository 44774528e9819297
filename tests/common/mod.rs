//! What the integration tests share: where the built library is, a directory that links
//! it under both names the linker and loader look for, and a C compiler via the cc crate.

#![allow(dead_code)] // each test binary uses its own subset

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

// The interop harness: what tests/interop.rs and tests/interop_security.rs share.

/// Hard limit per interop run; every interop process also ends itself with alarm(20).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(25);
pub const SYSTEM_LIB: &str = "/usr/lib/x86_64-linux-gnu/libzmq.so.5";

/// One build of an interop program and the environment it runs in.
pub struct Side {
    pub name: &'static str,
    pub exe: PathBuf,
    /// The ferrozmq library dir; None runs with no LD_LIBRARY_PATH, so only the system's loads.
    pub lib_dir: Option<PathBuf>,
}

impl Side {
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.env_remove("LD_PRELOAD");
        match &self.lib_dir {
            Some(dir) => {
                cmd.env("LD_LIBRARY_PATH", dir).env("FERROZMQ_LIB", dir.join("libzmq.so.5"))
            }
            None => cmd.env_remove("LD_LIBRARY_PATH").env_remove("FERROZMQ_LIB"),
        };
        cmd
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Lib {
    Ours,
    System,
}

impl Lib {
    pub fn other(self) -> Lib {
        if self == Lib::Ours {
            Lib::System
        } else {
            Lib::Ours
        }
    }
}

pub struct Sides {
    pub ours: Side,
    pub system: Side,
}

impl Sides {
    pub fn get(&self, lib: Lib) -> &Side {
        if lib == Lib::Ours {
            &self.ours
        } else {
            &self.system
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Transport {
    Tcp,
    Ipc,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Ipc => "ipc",
        }
    }

    /// What the first binder binds: an ephemeral port, or a fresh path under /tmp named
    /// after `tag`.
    pub fn endpoint(self, tag: &str) -> (String, Option<PathBuf>) {
        static N: AtomicUsize = AtomicUsize::new(0);
        match self {
            Transport::Tcp => ("tcp://127.0.0.1:*".into(), None),
            Transport::Ipc => {
                let n = N.fetch_add(1, Ordering::Relaxed);
                let path =
                    PathBuf::from(format!("/tmp/ferrozmq-{tag}-{}-{n}.ipc", std::process::id()));
                let _ = std::fs::remove_file(&path);
                (format!("ipc://{}", path.display()), Some(path))
            }
        }
    }
}

/// Copies each line of `from` to `log` (for the failure report) and, if given, hands it to
/// `on_line`, until `from` closes.
pub fn reader<R, F>(from: R, log: Arc<Mutex<String>>, mut on_line: Option<F>) -> JoinHandle<()>
where
    R: Read + Send + 'static,
    F: FnMut(String) + Send + 'static,
{
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            log.lock().unwrap().push_str(&format!("    {line}\n"));
            if let Some(f) = &mut on_line {
                f(line);
            }
        }
    })
}

/// The knobs both interop suites read: `INTEROP_BOTH_SYSTEM=1`, `INTEROP_TEST=text`,
/// `INTEROP_JOBS=n` (default 6).
pub struct Knobs {
    pub both_system: bool,
    pub filter: String,
    pub jobs: usize,
}

/// Reads the knobs, after checking the system libzmq the suites compare with is there.
pub fn knobs() -> Knobs {
    let both_system = std::env::var("INTEROP_BOTH_SYSTEM").is_ok_and(|v| v == "1");
    let filter = std::env::var("INTEROP_TEST").unwrap_or_default();
    let jobs: usize = std::env::var("INTEROP_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    assert!(
        Path::new(SYSTEM_LIB).exists() && Path::new("/usr/include/zmq.h").exists(),
        "interop needs the system libzmq and its header (Debian: libzmq3-dev)"
    );
    Knobs { both_system, filter, jobs }
}

/// Builds `source` (an interop program) against the system libzmq and, unless `both_system`,
/// against ferrozmq linked through target/<profile>/`lib_dir_name`; then each side runs
/// `version`, which must prove its library (its output is echoed after `log_prefix`).
pub fn build_sides(source: &str, lib_dir_name: &str, log_prefix: &str, both_system: bool) -> Sides {
    let file = Path::new(source).file_name().unwrap().to_string_lossy();
    let stem = Path::new(source).file_stem().unwrap().to_string_lossy();
    let out_dir = profile_dir().join("interop-bin");
    std::fs::create_dir_all(&out_dir).unwrap();
    let system_exe = out_dir.join(format!("{stem}-system"));
    compile_interop(source, &system_exe, None)
        .unwrap_or_else(|e| panic!("{file} against the system libzmq:\n{e}"));
    let system = Side { name: "libzmq", exe: system_exe.clone(), lib_dir: None };
    let ours = if both_system {
        Side { name: "libzmq-as-ours", exe: system_exe, lib_dir: None }
    } else {
        let lib_dir = lib_dir(lib_dir_name);
        let exe = out_dir.join(format!("{stem}-ferrozmq"));
        compile_interop(source, &exe, Some(&lib_dir))
            .unwrap_or_else(|e| panic!("{file} against ferrozmq:\n{e}"));
        Side { name: "ferrozmq", exe, lib_dir: Some(lib_dir) }
    };
    let sides = Sides { ours, system };
    for side in [&sides.ours, &sides.system] {
        let o = side.command().arg("version").output().unwrap();
        let text =
            format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "{} side fails its library check:\n{text}", side.name);
        eprint!("{log_prefix}: {text}");
    }
    sides
}

/// The result of each run, by index; None only if its worker died.
pub type Results<R> = Vec<Mutex<Option<Result<R, String>>>>;

/// Runs every job of `all` on `jobs` threads (runs are mostly waiting, so a few at once even
/// on 2 cores), printing an ok/FAIL line with its time as each ends.
pub fn run_all<J: Sync, R: Send>(
    all: &[J],
    jobs: usize,
    describe: impl Fn(&J) -> String + Sync,
    run: impl Fn(&J) -> Result<R, String> + Sync,
) -> Results<R> {
    let next = AtomicUsize::new(0);
    let results: Results<R> = all.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = all.get(i) else { break };
                let t = Instant::now();
                let result = run(job);
                let secs = t.elapsed().as_secs_f64();
                match &result {
                    Ok(_) => eprintln!("ok   {} ({secs:.2}s)", describe(job)),
                    Err(e) => eprintln!("FAIL {} ({secs:.2}s)\n  {e}", describe(job)),
                }
                *results[i].lock().unwrap() = Some(result);
            });
        }
    });
    results
}
