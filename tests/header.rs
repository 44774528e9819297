//! Drop-in conformance of the header and the shared library, checked against Debian's libzmq
//! (package libzmq3-dev: /usr/include/zmq.h and /usr/lib/x86_64-linux-gnu/libzmq.so.5).
//!
//! - `constants_match_libzmq`: every macro both headers define has the same value and type,
//!   with and without ZMQ_BUILD_DRAFT_API; nothing libzmq defines is missing from ours; no
//!   draft macro leaks out of the ZMQ_BUILD_DRAFT_API fence.
//! - `exports_every_libzmq_symbol`: our libzmq.so exports every `zmq_*` function libzmq's does
//!   plus the draft ones, every function our header declares, nothing else, soname libzmq.so.5.
//! - `header_compiles_strictly`: capi-tests/header_types.c (layouts of zmq_msg_t,
//!   zmq_pollitem_t, zmq_poller_event_t, the callback types) compiles warning-free as C99,
//!   GNU11 and C++11, with and without drafts; every function of libzmq's header has a
//!   compatible prototype in ours; draft functions are declared only with ZMQ_BUILD_DRAFT_API.
//! - `header_is_up_to_date`: include/zmq.h is byte for byte what build.rs generates (with or
//!   without git: outside a work tree the build leaves the shipped header alone), and in a git
//!   work tree it is also committed.
//!
//! libzmq being absent is a failure, not a skip: CI installs it, and a conformance test that
//! silently passes checks nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const SYSTEM_HEADER: &str = "/usr/include/zmq.h";
const SYSTEM_INCLUDE: &str = "/usr/include";
const SYSTEM_LIBRARY: &str = "/usr/lib/x86_64-linux-gnu/libzmq.so.5";
const DRAFT: &str = "-DZMQ_BUILD_DRAFT_API";

/// Macro values that differ from Debian's libzmq 4.3.4 on purpose, as (name, libzmq 4.3.4,
/// ours), each printed as `value (C type)`. Only exactly these pairs are accepted.
const ALLOWED_DIFFERENCES: &[(&str, &str, &str)] = &[
    // We are libzmq 4.3.5.
    ("ZMQ_VERSION_PATCH", "4 (int)", "5 (int)"),
    ("ZMQ_VERSION", "40304 (int)", "40305 (int)"),
    // Draft only. libzmq 4.3.4 gave it 0x3, which is CONN_REFUSED | HANDSHAKE_FAILED and so
    // cannot be combined with them as a flag; 4.3.5 (and master) fixed it to 0x4.
    ("ZMQ_RECONNECT_STOP_AFTER_DISCONNECT", "3 (int)", "4 (int)"),
];

/// Macros libzmq's header defines (on this platform, after inclusion) that ours may lack,
/// with the reason. Platform-specific ones (`_WIN32_WINNT`, the Windows `ZMQ_EXPORT`
/// variants) need no entry: the check asks the compiler what is defined on Linux, and
/// libzmq `#undef`s `ZMQ_EXPORT` at its end. Keep this empty unless a reason is written down.
const MAY_BE_MISSING: &[(&str, &str)] = &[];

/// Macros that are not values: `ZMQ_EXPORT` expands to an attribute (and libzmq's header
/// `#undef`s it at the end), so only whether it is defined is compared.
const NOT_VALUES: &[&str] = &["ZMQ_EXPORT"];

/// Include guards: defined empty by both, not part of the API.
const INCLUDE_GUARDS: &[&str] = &["__ZMQ_H_INCLUDED__"];

/// Function-like macros whose expansion is part of the API, as (name, probe expression).
const FUNCTION_LIKE_PROBES: &[(&str, &str)] = &[("ZMQ_MAKE_VERSION", "ZMQ_MAKE_VERSION (1, 2, 3)")];

/// The 27 draft functions of libzmq 4.3.5 and master (shared/reference/api-surface.md,
/// section 1), which Debian's stable build does not export and our library must.
const DRAFT_FUNCTIONS: &[&str] = &[
    "zmq_ctx_set_ext",
    "zmq_ctx_get_ext",
    "zmq_join",
    "zmq_leave",
    "zmq_connect_peer",
    "zmq_disconnect_peer",
    "zmq_socket_get_peer_state",
    "zmq_msg_init_buffer",
    "zmq_msg_set_routing_id",
    "zmq_msg_routing_id",
    "zmq_msg_set_group",
    "zmq_msg_group",
    "zmq_socket_monitor_versioned",
    "zmq_socket_monitor_pipes_stats",
    "zmq_ppoll",
    "zmq_poller_new",
    "zmq_poller_destroy",
    "zmq_poller_size",
    "zmq_poller_add",
    "zmq_poller_modify",
    "zmq_poller_remove",
    "zmq_poller_wait",
    "zmq_poller_wait_all",
    "zmq_poller_fd",
    "zmq_poller_add_fd",
    "zmq_poller_modify_fd",
    "zmq_poller_remove_fd",
];

// ---------------------------------------------------------------------------------------------
// Paths, the compiler, processes
// ---------------------------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn our_include() -> PathBuf {
    root().join("include")
}

/// The directory cargo put this test in: target/<profile>.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent().and_then(Path::parent).expect("target dir").to_path_buf()
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = profile_dir().join("header-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Our shared library. `cargo test` leaves the cdylib in target/<profile>/deps; a `cargo
/// build` also copies it to target/<profile>. The newer of the two is the one under test.
fn our_library() -> PathBuf {
    let candidates = [profile_dir().join("deps/libzmq.so"), profile_dir().join("libzmq.so")];
    candidates
        .iter()
        .filter_map(|p| Some((std::fs::metadata(p).ok()?.modified().ok()?, p.clone())))
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("our library is not built: none of {candidates:?} exists"))
}

fn system_header() -> String {
    std::fs::read_to_string(SYSTEM_HEADER).unwrap_or_else(|e| {
        panic!(
            "{SYSTEM_HEADER}: {e}. These tests compare ferrozmq with Debian's libzmq: install \
             it with `apt-get install libzmq3-dev` (CI does)."
        )
    })
}

fn our_header() -> String {
    let path = our_include().join("zmq.h");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn compiler(cpp: bool) -> cc::Tool {
    let target = option_env!("FERROZMQ_TARGET").unwrap_or("x86_64-unknown-linux-gnu");
    cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .cpp(cpp)
        .opt_level(0)
        .debug(false)
        .host(target)
        .target(target)
        .get_compiler()
}

/// Which zmq.h a compilation sees.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Header {
    Ours,
    Libzmq,
}

impl Header {
    fn include_dir(self) -> PathBuf {
        match self {
            Header::Ours => our_include(),
            Header::Libzmq => PathBuf::from(SYSTEM_INCLUDE),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Header::Ours => "our include/zmq.h",
            Header::Libzmq => SYSTEM_HEADER,
        }
    }
}

/// Compiles `src` into `out` (an object file with `-c` in `flags`, else an executable that
/// needs no library). Returns the compiler's complaint on failure.
fn compile(
    cpp: bool,
    header: Header,
    flags: &[&str],
    src: &Path,
    out: &Path,
) -> Result<(), String> {
    let mut cmd = compiler(cpp).to_command();
    cmd.arg("-I").arg(header.include_dir()).args(flags);
    if cpp {
        cmd.args(["-x", "c++"]);
    }
    cmd.arg(src).arg("-o").arg(out);
    let o = cmd.output().map_err(|e| format!("cannot run the compiler: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// Runs a tool and returns its standard output, panicking with its complaint otherwise.
fn tool_output(program: &str, args: &[&str], file: &Path) -> String {
    let o = Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (binutils): {e}"));
    assert!(
        o.status.success(),
        "{program} {args:?} {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs jobs on their own threads (each mostly waits for a compiler) and returns the results
/// in order.
fn parallel<T: Send>(jobs: Vec<Box<dyn FnOnce() -> T + Send + '_>>) -> Vec<T> {
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs.into_iter().map(|job| s.spawn(job)).collect();
        handles.into_iter().map(|h| h.join().expect("job panicked")).collect()
    })
}

/// The first `max` lines of a long compiler complaint.
fn head(text: &str, max: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = lines.iter().take(max).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > max {
        out.push_str(&format!("\n... ({} more lines)", lines.len() - max));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A small reader for zmq.h: macros and `ZMQ_EXPORT` prototypes
// ---------------------------------------------------------------------------------------------

/// The header's logical lines: backslash-newlines joined, comments removed (a comment's
/// newlines are kept, so a directive never swallows the line after its comment).
fn logical_lines(src: &str) -> Vec<String> {
    let joined = src.replace("\\\r\n", "").replace("\\\n", "");
    let mut out = String::with_capacity(joined.len());
    let mut chars = joined.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                out.push(c);
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                    } else if d == c || d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push(' ');
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if d == '\n' {
                        out.push('\n');
                    }
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out.lines().map(str::to_owned).collect()
}

/// A preprocessor directive on a logical line: (keyword, rest).
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let end = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len());
    Some((&rest[..end], rest[end..].trim()))
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

#[derive(Debug)]
struct Define {
    name: String,
    body: String,
    function_like: bool,
}

/// Every `#define` of a header, in order, whatever `#if` it sits in.
fn parse_defines(src: &str) -> Vec<Define> {
    let mut defines = Vec::new();
    for line in logical_lines(src) {
        let Some(("define", rest)) = directive(&line) else { continue };
        let end = rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len());
        let (name, after) = rest.split_at(end);
        if name.is_empty() {
            continue;
        }
        defines.push(Define {
            name: name.to_owned(),
            body: after.trim().to_owned(),
            function_like: after.starts_with('('),
        });
    }
    defines
}

#[derive(Debug, Clone)]
struct Prototype {
    name: String,
    ret: String,
    args: String,
    /// Declared inside `#ifdef ZMQ_BUILD_DRAFT_API`.
    draft: bool,
}

/// Every `ZMQ_EXPORT <ret> <name> (<args>);` declaration of a header, which may span lines.
fn parse_prototypes(src: &str) -> Vec<Prototype> {
    let mut protos = Vec::new();
    // One entry per open #if: whether it is the draft fence.
    let mut conditions: Vec<bool> = Vec::new();
    let mut pending: Option<(String, bool)> = None;
    for line in logical_lines(src) {
        if let Some((keyword, rest)) = directive(&line) {
            match keyword {
                "ifdef" => conditions.push(rest == "ZMQ_BUILD_DRAFT_API"),
                "if" => conditions.push(
                    !rest.contains('!')
                        && rest.replace(['(', ')', ' '], "").contains("definedZMQ_BUILD_DRAFT_API"),
                ),
                "ifndef" => conditions.push(false),
                "else" | "elif" => {
                    if let Some(top) = conditions.last_mut() {
                        *top = false;
                    }
                }
                "endif" => {
                    conditions.pop();
                }
                _ => {}
            }
            continue;
        }
        let draft = conditions.iter().any(|&d| d);
        let mut text = line.as_str();
        loop {
            if pending.is_none() {
                let Some(at) = find_word(text, "ZMQ_EXPORT") else { break };
                text = &text[at + "ZMQ_EXPORT".len()..];
                pending = Some((String::new(), draft));
            }
            let (decl, _) = pending.as_mut().unwrap();
            match text.find(';') {
                Some(end) => {
                    decl.push(' ');
                    decl.push_str(&text[..end]);
                    text = &text[end + 1..];
                    let (decl, draft) = pending.take().unwrap();
                    if let Some(p) = parse_prototype(&decl, draft) {
                        protos.push(p);
                    }
                }
                None => {
                    decl.push(' ');
                    decl.push_str(text);
                    break;
                }
            }
        }
    }
    protos
}

/// Where `word` occurs as a whole identifier in `text`.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// `<ret> <name> (<args>)` -> a prototype; None for anything else (a variable, say).
fn parse_prototype(decl: &str, draft: bool) -> Option<Prototype> {
    let decl = decl.split_whitespace().collect::<Vec<_>>().join(" ");
    let open = decl.find('(')?;
    let close = decl.rfind(')')?;
    let head = decl[..open].trim_end();
    let name_at = head.rfind(|c: char| !is_ident_char(c)).map_or(0, |i| i + 1);
    let name = &head[name_at..];
    let ret = head[..name_at].trim();
    if name.is_empty() || ret.is_empty() || close < open {
        return None;
    }
    Some(Prototype {
        name: name.to_owned(),
        ret: ret.to_owned(),
        args: decl[open + 1..close].trim().to_owned(),
        draft,
    })
}

// ---------------------------------------------------------------------------------------------
// 1. Constants
// ---------------------------------------------------------------------------------------------

/// How a macro is probed: its value, or only whether it is defined.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Probe {
    Value,
    Defined,
}

/// The probe program: for each macro, one line `NAME=<value> (<C type>)`, `NAME defined` or
/// `NAME undefined`. Strings print as `"..."`, so string-valued macros compare as strings.
fn constants_program(names: &BTreeMap<String, Probe>) -> String {
    let mut c = String::from(
        r#"/* Generated by tests/header.rs (constants_match_libzmq). */
#include <stdio.h>
#include <zmq.h>

static void show_int (const char *name, const char *type, long long value)
{
    printf ("%s=%lld (%s)\n", name, value, type);
}

static void show_str (const char *name, const char *type, const char *value)
{
    printf ("%s=\"%s\" (%s)\n", name, value, type);
}

#define TYPE_NAME(x)                                                                       \
    _Generic ((x), int: "int", unsigned int: "unsigned int", long: "long",                 \
              unsigned long: "unsigned long", long long: "long long",                      \
              unsigned long long: "unsigned long long", char *: "char *",                  \
              const char *: "const char *", default: "other")
#define SHOW(name, x)                                                                      \
    _Generic ((x), char *: show_str, const char *: show_str, default: show_int) (          \
      name, TYPE_NAME (x), (x))

int main (void)
{
"#,
    );
    for (name, probe) in names {
        let show = match probe {
            Probe::Value => format!("SHOW (\"{name}\", ({name}));"),
            Probe::Defined => format!("puts (\"{name} defined\");"),
        };
        c.push_str(&format!(
            "#ifdef {name}\n    {show}\n#else\n    puts (\"{name} undefined\");\n#endif\n"
        ));
    }
    for (name, expr) in FUNCTION_LIKE_PROBES {
        c.push_str(&format!(
            "#ifdef {name}\n    SHOW (\"{expr}\", ({expr}));\n#else\n    \
             puts (\"{expr} undefined\");\n#endif\n"
        ));
    }
    c.push_str("    return 0;\n}\n");
    c
}

/// Compiles and runs the probe against one header; returns name -> value (None: undefined).
fn probe_constants(
    src: &Path,
    dir: &Path,
    header: Header,
    draft: bool,
) -> BTreeMap<String, Option<String>> {
    let exe = dir.join(format!("constants-{header:?}-{}", if draft { "draft" } else { "stable" }));
    let mut flags = vec!["-std=gnu11"];
    if draft {
        flags.push(DRAFT);
    }
    if let Err(e) = compile(false, header, &flags, src, &exe) {
        panic!(
            "the constants probe {} does not compile against {} ({flags:?}):\n{}",
            src.display(),
            header.name(),
            head(&e, 40)
        );
    }
    let o = Command::new(&exe).output().expect("run the constants probe");
    assert!(o.status.success(), "{} failed: {:?}", exe.display(), o);
    let mut values = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        if let Some(name) = line.strip_suffix(" undefined") {
            values.insert(name.to_owned(), None);
        } else if let Some(name) = line.strip_suffix(" defined") {
            values.insert(name.to_owned(), Some("defined".to_owned()));
        } else if let Some((name, value)) = line.split_once('=') {
            values.insert(name.to_owned(), Some(value.to_owned()));
        } else {
            panic!("unexpected probe output line {line:?}");
        }
    }
    values
}

#[test]
fn constants_match_libzmq() {
    let libzmq_defines = parse_defines(&system_header());
    let our_defines = parse_defines(&our_header());

    // Object-like macros each header defines somewhere, with a non-empty body in every
    // definition (empty ones, like ZMQ_HAVE_TIMERS, are compared by whether they are defined).
    let mut probes: BTreeMap<String, Probe> = BTreeMap::new();
    let mut textual: [BTreeSet<String>; 2] = Default::default();
    for (i, defines) in [&libzmq_defines, &our_defines].into_iter().enumerate() {
        for d in defines {
            if d.function_like || INCLUDE_GUARDS.contains(&d.name.as_str()) {
                continue;
            }
            textual[i].insert(d.name.clone());
            let probe = if d.body.is_empty() || NOT_VALUES.contains(&d.name.as_str()) {
                Probe::Defined
            } else {
                Probe::Value
            };
            // A macro empty in one definition and not in another is only checked for being
            // defined: its value cannot be printed from the empty one.
            let entry = probes.entry(d.name.clone()).or_insert(probe);
            if *entry != probe {
                *entry = Probe::Defined;
            }
        }
    }
    let [libzmq_names, our_names] = &textual;
    assert!(
        libzmq_names.len() > 200,
        "only {} macros read from {SYSTEM_HEADER}",
        libzmq_names.len()
    );
    assert!(our_names.len() > 100, "only {} macros read from our zmq.h", our_names.len());

    let dir = scratch("constants");
    let src = dir.join("constants.c");
    std::fs::write(&src, constants_program(&probes)).unwrap();
    let configs = [
        (Header::Libzmq, false),
        (Header::Ours, false),
        (Header::Libzmq, true),
        (Header::Ours, true),
    ];
    let jobs = configs
        .iter()
        .map(|&(header, draft)| {
            let (src, dir) = (&src, &dir);
            Box::new(move || probe_constants(src, dir, header, draft))
                as Box<dyn FnOnce() -> BTreeMap<String, Option<String>> + Send + '_>
        })
        .collect();
    let results = parallel(jobs);
    let (libzmq_stable, ours_stable, libzmq_draft, ours_draft) =
        (&results[0], &results[1], &results[2], &results[3]);

    let mut problems = Vec::new();
    // Notes and findings are sets: what holds with and without drafts is said once.
    let mut notes = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for (label, libzmq, ours) in [
        ("without drafts", libzmq_stable, ours_stable),
        ("with ZMQ_BUILD_DRAFT_API (besides the above)", libzmq_draft, ours_draft),
    ] {
        let mut differ = Vec::new();
        let mut missing = Vec::new();
        for (name, theirs) in libzmq {
            // Values are compared whenever both compilations define the macro, also when only
            // one header spells it out (the errno fallbacks come from <errno.h> on Linux).
            match (theirs, &ours[name]) {
                (Some(a), Some(b)) if a != b => {
                    if ALLOWED_DIFFERENCES.iter().any(|&(n, x, y)| n == name && x == a && y == b) {
                        notes.insert(format!("{name}: libzmq {a}, ours {b} (intended)"));
                    } else if seen.insert(format!("differ {name} {a} {b}")) {
                        differ.push(format!("  {name}: libzmq {a}, ours {b}"));
                    }
                }
                (Some(a), None) => {
                    if let Some((_, why)) = MAY_BE_MISSING.iter().find(|(n, _)| n == name) {
                        notes.insert(format!("{name} is not defined by ours: allowed, {why}"));
                    } else if seen.insert(format!("missing {name}")) {
                        missing.push(format!("  {name} (libzmq: {a})"));
                    }
                }
                // Draft names defined without drafts are reported below, as leaks.
                (None, Some(b)) if libzmq_draft[name].is_none() && libzmq_names.contains(name) => {
                    notes.insert(format!("{name} is defined by ours ({b}), not by libzmq"));
                }
                _ => {}
            }
        }
        if !differ.is_empty() {
            problems.push(format!(
                "{} macros have a different value {label}, as value (C type):\n{}",
                differ.len(),
                differ.join("\n")
            ));
        }
        if !missing.is_empty() {
            problems.push(format!(
                "{} macros libzmq defines {label} are missing from ours:\n{}",
                missing.len(),
                missing.join("\n")
            ));
        }
    }

    // Draft macros must stay behind the fence: a program that does not ask for drafts must
    // not see them (pyzmq's zmq_compat.h defines fallbacks for exactly those names).
    let leaked: Vec<String> = libzmq_draft
        .iter()
        .filter(|(name, v)| {
            v.is_some() && libzmq_stable[*name].is_none() && ours_stable[*name].is_some()
        })
        .map(|(name, _)| format!("  {name}"))
        .collect();
    if !leaked.is_empty() {
        problems.push(format!(
            "{} draft macros are defined by ours without ZMQ_BUILD_DRAFT_API:\n{}",
            leaked.len(),
            leaked.join("\n")
        ));
    }

    let extra: Vec<&str> = our_names
        .iter()
        .filter(|n| !libzmq_names.contains(*n) && ours_draft.get(*n).is_some_and(Option::is_some))
        .map(String::as_str)
        .collect();
    eprintln!(
        "compared {} macros of libzmq's zmq.h with ours; ours also defines {} libzmq 4.3.4 does \
         not: {}",
        libzmq_names.len(),
        extra.len(),
        extra.join(" ")
    );
    for note in &notes {
        eprintln!("note: {note}");
    }
    assert!(
        problems.is_empty(),
        "include/zmq.h differs from libzmq's zmq.h:\n{}",
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Exported symbols
// ---------------------------------------------------------------------------------------------

/// `nm -D --defined-only`: name (version suffix removed) -> symbol type letter.
fn dynamic_symbols(lib: &Path) -> BTreeMap<String, char> {
    let out = tool_output("nm", &["-D", "--defined-only"], lib);
    let mut symbols = BTreeMap::new();
    for line in out.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (kind, name) = match fields.as_slice() {
            [_, kind, name] | [kind, name] => (kind, name),
            _ => continue,
        };
        let name = name.split('@').next().unwrap_or(name);
        symbols.insert(name.to_owned(), kind.chars().next().unwrap_or('?'));
    }
    symbols
}

#[test]
fn exports_every_libzmq_symbol() {
    assert!(
        Path::new(SYSTEM_LIBRARY).exists(),
        "{SYSTEM_LIBRARY} not found: install Debian's libzmq with `apt-get install libzmq3-dev` \
         (CI does); this test compares our exports with it"
    );
    let lib = our_library();
    let libzmq: BTreeSet<String> = dynamic_symbols(Path::new(SYSTEM_LIBRARY))
        .into_iter()
        .filter(|(name, kind)| *kind == 'T' && name.starts_with("zmq_"))
        .map(|(name, _)| name)
        .collect();
    assert!(libzmq.len() >= 70, "only {} zmq_* functions found in {SYSTEM_LIBRARY}", libzmq.len());
    let ours = dynamic_symbols(&lib);

    let mut problems = Vec::new();
    let mut report = |what: String, names: Vec<String>| {
        if !names.is_empty() {
            problems.push(format!("{} {what}:\n  {}", names.len(), names.join("\n  ")));
        }
    };

    report(
        format!("functions Debian's libzmq exports are missing from {}", lib.display()),
        libzmq.iter().filter(|n| !ours.contains_key(*n)).cloned().collect(),
    );
    report(
        "draft functions (api-surface.md section 1) are not exported".into(),
        DRAFT_FUNCTIONS.iter().filter(|n| !ours.contains_key(**n)).map(|n| n.to_string()).collect(),
    );
    // Absolute symbols ('A') are version nodes of a version script, not code or data.
    report(
        "exported symbols are not zmq_* (the version script must keep them local)".into(),
        ours.iter()
            .filter(|(name, kind)| **kind != 'A' && !name.starts_with("zmq_"))
            .map(|(name, kind)| format!("{kind} {name}"))
            .collect(),
    );
    report(
        "zmq_* symbols are not functions ('T')".into(),
        ours.iter()
            .filter(|(name, kind)| name.starts_with("zmq_") && **kind != 'T')
            .map(|(name, kind)| format!("{kind} {name}"))
            .collect(),
    );
    // What the header promises, the library must have, or programs fail to link.
    let declared = parse_prototypes(&our_header());
    report(
        "functions declared in our include/zmq.h are not exported".into(),
        declared.iter().filter(|p| !ours.contains_key(&p.name)).map(|p| p.name.clone()).collect(),
    );

    let dynamic = tool_output("readelf", &["-d"], &lib);
    let soname = dynamic.lines().find(|l| l.contains("(SONAME)")).map(str::trim);
    if !soname.is_some_and(|l| l.ends_with("Library soname: [libzmq.so.5]")) {
        problems.push(format!("the soname must be libzmq.so.5; readelf -d says {soname:?}"));
    }

    let known: BTreeSet<&str> =
        libzmq.iter().map(String::as_str).chain(DRAFT_FUNCTIONS.iter().copied()).collect();
    let extra: Vec<&str> = ours
        .keys()
        .map(String::as_str)
        .filter(|n| n.starts_with("zmq_") && !known.contains(n))
        .collect();
    eprintln!(
        "{}: {} symbols; Debian's libzmq: {} zmq_* functions; draft: {}; exported beyond \
         both: {:?}",
        lib.display(),
        ours.len(),
        libzmq.len(),
        DRAFT_FUNCTIONS.len(),
        extra
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 3. Strict compilation and prototypes
// ---------------------------------------------------------------------------------------------

/// One compilation of capi-tests/header_types.c.
#[derive(Clone)]
struct Variant {
    cpp: bool,
    std: &'static str,
    draft: bool,
}

impl Variant {
    fn flags(&self, pedantic: bool) -> Vec<&'static str> {
        let mut flags = vec!["-c", self.std, "-Wall", "-Wextra", "-Werror"];
        if pedantic {
            flags.push("-pedantic");
        }
        if self.draft {
            flags.push(DRAFT);
        }
        flags
    }

    fn label(&self) -> String {
        format!(
            "{} {}{}",
            if self.cpp { "g++" } else { "gcc" },
            self.std,
            if self.draft { " -DZMQ_BUILD_DRAFT_API" } else { "" }
        )
    }
}

/// The `error:` lines of a compiler complaint, without the directories, at most `max`.
fn errors_only(stderr: &str, max: usize) -> String {
    let lines: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains("error:"))
        .map(|l| match l.split_once(':') {
            Some((path, rest)) if path.starts_with('/') => {
                format!("{}:{rest}", path.rsplit_once('/').map_or(path, |(_, file)| file))
            }
            _ => l.to_owned(),
        })
        .collect();
    head(&lines.join("\n"), max)
}

/// Compiles header_types.c for one variant: first against libzmq's header, to learn whether
/// -pedantic is achievable at all (dropped, with a note, if libzmq's own header fails it),
/// then against ours with the same flags. Returns (variant, note, our compiler's errors).
fn compile_types(v: &Variant, dir: &Path) -> (String, Option<String>, Result<(), String>) {
    let src = root().join("capi-tests/header_types.c");
    let tag = v.label().replace([' ', '+', '='], "_");
    let obj = |h: Header| dir.join(format!("types-{tag}-{h:?}.o"));
    let libzmq = |pedantic: bool| {
        compile(v.cpp, Header::Libzmq, &v.flags(pedantic), &src, &obj(Header::Libzmq))
    };
    let mut pedantic = !v.cpp;
    let mut note = None;
    if let Err(strict) = libzmq(pedantic) {
        let wrong = |e: &str| {
            Err(format!(
                "header_types.c does not compile against libzmq's own header, so the test file \
                 is wrong:\n{}",
                errors_only(e, 20)
            ))
        };
        if !pedantic {
            return (v.label(), None, wrong(&strict));
        }
        if let Err(e) = libzmq(false) {
            return (v.label(), None, wrong(&e));
        }
        pedantic = false;
        note = Some(format!(
            "{}: -pedantic dropped, libzmq's own header fails it:\n{}",
            v.label(),
            errors_only(&strict, 6)
        ));
    }
    let label = format!("{}{}", v.label(), if pedantic { " -pedantic" } else { "" });
    let ours = compile(v.cpp, Header::Ours, &v.flags(pedantic), &src, &obj(Header::Ours));
    (label, note, ours.map_err(|e| errors_only(&e, 25)))
}

/// A generated C file with one checked item per line, and the items its errors point at.
struct Generated {
    text: String,
    /// line number -> the function that line checks
    lines: BTreeMap<usize, String>,
}

impl Generated {
    fn new(comment: &str) -> Generated {
        Generated { text: format!("/* {comment} */\n#include <zmq.h>\n"), lines: BTreeMap::new() }
    }

    fn raw(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn item(&mut self, name: &str, line: &str) {
        self.lines.insert(self.text.lines().count() + 1, name.to_owned());
        self.raw(line);
    }

    /// Compiles it against `header`; on failure, a readable account: the functions the
    /// header does not declare, then each other function with the compiler's first complaint.
    fn check(&self, path: &Path, cpp: bool, header: Header, flags: &[&str]) -> Result<(), String> {
        std::fs::write(path, &self.text).unwrap();
        let obj = path.with_extension("o");
        let stderr = match compile(cpp, header, flags, path, &obj) {
            Ok(()) => return Ok(()),
            Err(stderr) => stderr,
        };
        let file = format!("{}:", path.file_name().unwrap().to_string_lossy());
        let mut undeclared = BTreeSet::new();
        let mut other: BTreeMap<String, String> = BTreeMap::new();
        for line in stderr.lines().filter(|l| l.contains(" error: ")) {
            let Some((_, at)) = line.split_once(&file) else { continue };
            let Some(name) = at
                .split(':')
                .next()
                .and_then(|n| n.parse().ok())
                .and_then(|n: usize| self.lines.get(&n))
            else {
                continue;
            };
            let message = line.split_once(" error: ").map_or(line, |(_, m)| m);
            if message.contains("undeclared") || message.contains("was not declared") {
                undeclared.insert(name.clone());
            } else {
                other.entry(name.clone()).or_insert_with(|| message.to_owned());
            }
        }
        let mut out = Vec::new();
        if !undeclared.is_empty() {
            out.push(format!(
                "  not declared ({}): {}",
                undeclared.len(),
                undeclared.into_iter().collect::<Vec<_>>().join(" ")
            ));
        }
        for (name, message) in &other {
            out.push(format!("  {name}: {message}"));
        }
        if out.is_empty() {
            out.push(head(&stderr, 20));
        }
        Err(out.join("\n"))
    }
}

/// Assigns each function of libzmq's header to a pointer of exactly libzmq's type: an
/// undeclared function or an incompatible prototype in ours is an error.
fn prototype_checks(protos: &[Prototype]) -> Generated {
    let mut g = Generated::new(
        "Generated by tests/header.rs (header_compiles_strictly): every function of libzmq's \
         zmq.h, assigned to a pointer of the type libzmq declares it with.",
    );
    for draft in [false, true] {
        if draft {
            g.raw("#ifdef ZMQ_BUILD_DRAFT_API");
        }
        for p in protos.iter().filter(|p| p.draft == draft) {
            let args = if p.args.is_empty() { "void" } else { &p.args };
            g.item(
                &p.name,
                &format!(
                    "typedef {} (*check_{n}_t) ({args}); check_{n}_t check_{n} = {n};",
                    p.ret,
                    n = p.name
                ),
            );
        }
        if draft {
            g.raw("#endif");
        }
    }
    g
}

/// Declares each draft function's name as a variable: an error means the header declares the
/// function although ZMQ_BUILD_DRAFT_API is not defined.
fn draft_fence_checks() -> Generated {
    let mut g = Generated::new(
        "Generated by tests/header.rs (header_compiles_strictly): without ZMQ_BUILD_DRAFT_API, \
         no draft function is declared, so these names are free.",
    );
    for name in DRAFT_FUNCTIONS {
        g.item(name, &format!("int {name} = 0;"));
    }
    g
}

#[test]
fn header_compiles_strictly() {
    let libzmq_protos = parse_prototypes(&system_header());
    assert!(
        libzmq_protos.iter().filter(|p| !p.draft).count() >= 70,
        "only {} stable prototypes read from {SYSTEM_HEADER}",
        libzmq_protos.iter().filter(|p| !p.draft).count()
    );
    let dir = scratch("strict");

    let mut variants = Vec::new();
    for draft in [false, true] {
        for std in ["-std=c99", "-std=gnu11"] {
            variants.push(Variant { cpp: false, std, draft });
        }
        variants.push(Variant { cpp: true, std: "-std=c++11", draft });
    }

    let protos = prototype_checks(&libzmq_protos);
    let fence = draft_fence_checks();
    enum Job {
        Types((String, Option<String>, Result<(), String>)),
        Checks(String, Result<(), String>),
    }
    let mut jobs: Vec<Box<dyn FnOnce() -> Job + Send + '_>> = Vec::new();
    for v in &variants {
        let dir = &dir;
        jobs.push(Box::new(move || Job::Types(compile_types(v, dir))));
    }
    let c_flags = ["-c", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-pedantic"];
    let cpp_flags = ["-c", "-std=c++11", "-Wall", "-Wextra", "-Werror"];
    for header in [Header::Libzmq, Header::Ours] {
        for (draft, cpp) in [(false, false), (true, false), (false, true), (true, true)] {
            let (protos, dir) = (&protos, &dir);
            jobs.push(Box::new(move || {
                let mut flags = if cpp { cpp_flags.to_vec() } else { c_flags.to_vec() };
                if draft {
                    flags.push(DRAFT);
                }
                let file = dir.join(format!(
                    "prototypes-{header:?}-{}-{}.c",
                    if cpp { "cpp" } else { "c" },
                    if draft { "draft" } else { "stable" }
                ));
                let label = format!(
                    "prototypes of libzmq's {} functions, {} against {}",
                    if draft { "stable and draft" } else { "stable" },
                    if cpp { "as C++11" } else { "as C" },
                    header.name()
                );
                Job::Checks(label, protos.check(&file, cpp, header, &flags))
            }));
        }
        let (fence, dir) = (&fence, &dir);
        jobs.push(Box::new(move || {
            let label =
                format!("draft functions fenced by ZMQ_BUILD_DRAFT_API in {}", header.name());
            Job::Checks(
                label,
                fence.check(&dir.join(format!("fence-{header:?}.c")), false, header, &c_flags),
            )
        }));
    }

    let mut problems = Vec::new();
    // Variants failing with the same errors are reported together.
    let mut types_failures: Vec<(Vec<String>, String)> = Vec::new();
    for job in parallel(jobs) {
        match job {
            Job::Types((label, note, result)) => {
                if let Some(note) = note {
                    eprintln!("note: {note}");
                }
                if let Err(errors) = result {
                    match types_failures.iter_mut().find(|(_, e)| *e == errors) {
                        Some((labels, _)) => labels.push(label),
                        None => types_failures.push((vec![label], errors)),
                    }
                }
            }
            Job::Checks(_, Ok(())) => {}
            Job::Checks(label, Err(e)) => problems.push(format!("{label}:\n{e}")),
        }
    }
    for (labels, errors) in types_failures.into_iter().rev() {
        problems.insert(
            0,
            format!("capi-tests/header_types.c fails with {}:\n{errors}", labels.join(", ")),
        );
    }
    eprintln!(
        "compiled header_types.c in {} variants; checked {} prototypes of libzmq's zmq.h",
        variants.len(),
        libzmq_protos.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// 4. The committed header is the generated one
// ---------------------------------------------------------------------------------------------

#[test]
fn header_is_up_to_date() {
    let root = root();
    let committed = root.join("include/zmq.h");
    // What build.rs generated for this build, whether or not it also rewrote include/zmq.h.
    let generated = option_env!("FERROZMQ_GENERATED_HEADER").unwrap_or_else(|| {
        panic!("the build did not generate zmq.h (FERROZMQ_SKIP_HEADER set?): nothing to compare")
    });
    let generated = std::fs::read_to_string(generated).expect("read the generated zmq.h");
    let ours = std::fs::read_to_string(&committed).expect("read include/zmq.h");
    if ours != generated {
        let first = ours.lines().zip(generated.lines()).position(|(a, b)| a != b);
        let line = first.unwrap_or(ours.lines().count().min(generated.lines().count()));
        panic!(
            "include/zmq.h is not the header src/capi generates (first difference at line {}):\n\
             include/zmq.h: {:?}\ngenerated:     {:?}\nregenerate it with a build in a git \
             work tree and commit it",
            line + 1,
            ours.lines().nth(line).unwrap_or("<end of file>"),
            generated.lines().nth(line).unwrap_or("<end of file>")
        );
    }
    // In a git work tree the build rewrote include/zmq.h itself: it must also be committed.
    if !root.join(".git").exists() {
        return;
    }
    let git = |args: &[&str]| Command::new("git").arg("-C").arg(&root).args(args).output();
    let tracked = git(&["ls-files", "--error-unmatch", "--", "include/zmq.h"])
        .expect("run git in a git work tree");
    assert!(
        tracked.status.success(),
        "include/zmq.h is not committed; it must be (see DESIGN.md, Layout)"
    );
    let o = git(&["diff", "--exit-code", "HEAD", "--", "include/zmq.h"]).expect("git diff");
    assert!(
        o.status.success(),
        "include/zmq.h differs from the committed one: build.rs regenerated it from src/capi, so \
         commit the new header with the change that caused it.\n{}",
        head(&String::from_utf8_lossy(&o.stdout), 60)
    );
}
