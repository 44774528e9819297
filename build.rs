//! Gives the shared library libzmq's soname and regenerates `include/zmq.h` with cbindgen.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));

    // The loader resolves `-lzmq` binaries by soname; anything else makes them fall back to
    // the system libzmq. The version script keeps every non-`zmq_*` symbol local.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libzmq.so.5");
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        root.join("src/capi/libzmq.vers").display()
    );

    // The C test harness compiles for the same target.
    println!("cargo:rustc-env=FERROZMQ_TARGET={}", env::var("TARGET").unwrap_or_default());

    // The draft API is always compiled in; the header fences it behind ZMQ_BUILD_DRAFT_API.
    println!("cargo:rustc-cfg=zmq_draft");

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");

    if env::var_os("FERROZMQ_SKIP_HEADER").is_some() {
        return;
    }
    let mut config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("read cbindgen.toml");
    config.after_includes =
        Some(fs::read_to_string(root.join("src/capi/zmq_head.h")).expect("read zmq_head.h"));
    config.trailer =
        Some(fs::read_to_string(root.join("src/capi/zmq_tail.h")).expect("read zmq_tail.h"));
    let bindings = cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .expect("cbindgen failed to generate zmq.h");
    // The header this build generates, which tests/header.rs compares with include/zmq.h.
    let generated = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR")).join("zmq.h");
    bindings.write_to_file(&generated);
    println!("cargo:rustc-env=FERROZMQ_GENERATED_HEADER={}", generated.display());
    // A git work tree keeps the committed header current (the header test then asks for it to
    // be committed); a tree without git (an archive) keeps the header it came with, so the
    // test can tell a stale one. Only rewritten when it changes: builds stay incremental.
    if root.join(".git").exists() {
        bindings.write_to_file(root.join("include/zmq.h"));
    }
}
