//! Compiles every `capi-tests/test_*.c` against the freshly built library and runs it.
//!
//! Each C program asserts its own outcomes and exits non-zero (or dies) on failure; this
//! harness reports every failing program at once. `CAPI_TEST=name` runs only the programs
//! whose file name contains `name`.

mod common;

use common::{compiler, profile_dir, root};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Hard limit per program: a hang fails in seconds, not at CI's timeout.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Compiles one C test program; returns the executable or the compiler's complaint.
pub fn compile(src: &Path, out: &Path, lib_dir: &Path, extra: &[&str]) -> Result<(), String> {
    let mut cmd = compiler().to_command();
    cmd.arg("-std=gnu11")
        .args(["-Wall", "-Wextra", "-Werror", "-Wno-unused-function"])
        .arg("-I")
        .arg(root().join("include"))
        .arg("-I")
        .arg(root().join("capi-tests"))
        .arg("-o")
        .arg(out)
        .arg(src)
        .args(extra)
        .arg("-L")
        .arg(lib_dir)
        .args(["-lzmq", "-lpthread"]);
    let o = cmd.output().map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// Runs a program with the library under test on the loader path, killing it at TIMEOUT.
fn run(exe: &Path, lib_dir: &Path) -> Result<(), String> {
    let lib = lib_dir.join("libzmq.so.5");
    let mut child = Command::new(exe)
        .env("LD_LIBRARY_PATH", lib_dir)
        .env("FERROZMQ_LIB", &lib)
        .env_remove("LD_PRELOAD")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let o = child.wait_with_output().map_err(|e| e.to_string())?;
            if status.success() {
                return Ok(());
            }
            return Err(format!(
                "{status}\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            return Err(format!("timed out after {TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn capi_tests() {
    let filter = std::env::var("CAPI_TEST").unwrap_or_default();
    let lib_dir = common::lib_dir("capi-lib");
    let out_dir = profile_dir().join("capi-bin");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut srcs: Vec<PathBuf> = std::fs::read_dir(root().join("capi-tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("test_") && name.ends_with(".c") && name.contains(&filter)
        })
        .collect();
    srcs.sort();
    assert!(!srcs.is_empty(), "no C tests match {filter:?}");

    // Two at a time: the machines this runs on have few cores, and many tests are timed.
    let queue = std::sync::Mutex::new(srcs.clone());
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some(src) = queue.lock().unwrap().pop() else { break };
                let name = src.file_stem().unwrap().to_string_lossy().into_owned();
                let exe = out_dir.join(&name);
                let started = Instant::now();
                let result = compile(&src, &exe, &lib_dir, &[]).and_then(|()| run(&exe, &lib_dir));
                match result {
                    Ok(()) => eprintln!("ok   {name} ({:.2?})", started.elapsed()),
                    Err(e) => {
                        eprintln!("FAIL {name}\n{e}");
                        failures.lock().unwrap().push(name);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} C tests failed: {failures:?}",
        failures.len(),
        srcs.len()
    );
}
