//! PLAIN, CURVE and ZAP interop with Debian's real libzmq over tcp and ipc.
//!
//! `capi-tests/interop/secure.c` plays one end of a secured link: a ROUTER server with its
//! own ZAP handler (fixed policy) or a DEALER client; see the comment at its top. It is built
//! against the system libzmq and against ferrozmq. Every case runs over tcp and ipc three
//! ways: libzmq at both ends (the reference), ferrozmq server with a libzmq client, and a
//! libzmq server with a ferrozmq client. Each process checks its own outcome (the reply or its
//! absence, the monitor event named in the case, User-Id and ZAP metadata); the harness then
//! compares what each process of a mixed run reported (handshake events and their values,
//! DISCONNECTED after a failure, the ZAP request, message properties) with the same role in
//! the reference run: any difference fails the test.
//!
//! Knobs: `INTEROP_BOTH_SYSTEM=1` plays "ferrozmq" with the system libzmq too (the suite must
//! pass that way: it proves the cases and the comparison stable); `INTEROP_TEST=text` runs
//! only the cases whose description contains `text`; `INTEROP_JOBS=n` runs n at once
//! (default 6).

mod common;

use common::{describe_exit, reader, Lib, Side, Sides, Transport, RUN_TIMEOUT};
use std::collections::BTreeSet;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Every case: the server's and the client's secure.c arguments (mechanism first, then
/// options; see secure.c). Expectations were checked with libzmq at both ends.
static CASES: &[Case] = &[
    // PLAIN through ZAP: admin/password is allowed, User-Id and metadata reach the server.
    // (Not here: PLAIN without a handler. libzmq 4.3.4's server then sometimes neither
    // closes nor raises an event, libzmq at both ends, about one run in four.)
    Case { name: "plain-allow", server: "plain user_id=admin", client: "plain", racy: &[] },
    Case {
        name: "plain-wrong-password",
        server: "plain expect=fail event=HANDSHAKE_FAILED_AUTH:400",
        client: "plain pass=wrong expect=fail event=HANDSHAKE_FAILED_AUTH:400",
        racy: &[],
    },
    // CURVE: the known client key is allowed; multipart with empty parts and the 255/256
    // frame boundary, then boxed frames over 64 KiB and 1 MiB.
    Case {
        name: "curve-multipart",
        server: "curve user_id=curve-client",
        client: "curve payload=multipart",
        racy: &[],
    },
    Case {
        name: "curve-large",
        server: "curve user_id=curve-client",
        client: "curve payload=large",
        racy: &[],
    },
    // A valid key pair ZAP does not know: 400 on both ends.
    Case {
        name: "curve-unknown-client-key",
        server: "curve expect=fail event=HANDSHAKE_FAILED_AUTH:400",
        client: "curve clientkey=unknown expect=fail event=HANDSHAKE_FAILED_AUTH:400",
        racy: &[],
    },
    // The client boxes its HELLO for another key: the server cannot open it and closes.
    Case {
        name: "curve-wrong-server-key",
        server: "curve expect=fail event=HANDSHAKE_FAILED_PROTOCOL:ZMTP_CRYPTOGRAPHIC",
        client: "curve serverkey=wrong expect=fail event=HANDSHAKE_FAILED_NO_DETAIL",
        // The server drops the connection; over ipc the client may see EPIPE or ECONNRESET
        // depending on whether its last write crossed the close (libzmq varies the same).
        racy: &["event HANDSHAKE_FAILED_NO_DETAIL:32", "event HANDSHAKE_FAILED_NO_DETAIL:104"],
    },
    // No ZAP handler: CURVE encrypts without authenticating.
    Case {
        name: "curve-no-handler",
        server: "curve zap=0",
        client: "curve payload=multipart",
        racy: &[],
    },
    // NULL with a ZAP domain asks ZAP too.
    Case {
        name: "null-zap-allow",
        server: "null domain=global user_id=anonymous",
        client: "null",
        racy: &[],
    },
    Case {
        name: "null-zap-deny",
        server: "null domain=deny expect=fail event=HANDSHAKE_FAILED_AUTH:400",
        client: "null expect=fail event=HANDSHAKE_FAILED_AUTH:400",
        // The client reconnects after the refusal; an attempt that meets the server as it
        // closes sees only the closed connection (seen once in a loaded run, over ipc).
        racy: &["event HANDSHAKE_FAILED_NO_DETAIL:32", "event HANDSHAKE_FAILED_NO_DETAIL:104"],
    },
    // Both ends check the peer's greeting; one that closes first can leave the other with
    // only the closed connection (NO_DETAIL, EPIPE) on that attempt.
    Case {
        name: "mechanism-mismatch",
        server: concat!(
            "plain expect=fail ",
            "event=HANDSHAKE_FAILED_PROTOCOL:ZMTP_MECHANISM_MISMATCH|HANDSHAKE_FAILED_NO_DETAIL"
        ),
        client: concat!(
            "curve expect=fail ",
            "event=HANDSHAKE_FAILED_PROTOCOL:ZMTP_MECHANISM_MISMATCH|HANDSHAKE_FAILED_NO_DETAIL"
        ),
        racy: &[
            "event HANDSHAKE_FAILED_PROTOCOL:ZMTP_MECHANISM_MISMATCH",
            "event HANDSHAKE_FAILED_NO_DETAIL:32",
            "event HANDSHAKE_FAILED_NO_DETAIL:104",
        ],
    },
];

struct Case {
    name: &'static str,
    server: &'static str,
    client: &'static str,
    /// Lines of `signature` that depend on timing, left out of the comparison.
    racy: &'static [&'static str],
}

/// One running secure.c process: its stdout lines, and stdout with stderr for the report.
struct Proc {
    label: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    log: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Proc {
    fn spawn(
        side: &Side,
        role: &str,
        args: &str,
        mode: &str,
        endpoint: &str,
    ) -> Result<Proc, String> {
        let label = format!("{} {role}", side.name);
        let mut words = args.split_whitespace();
        let mech = words.next().unwrap();
        let mut child = side
            .command()
            .args([role, mech, mode, endpoint])
            .args(words)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {label}: {e}"))?;
        let log = Arc::new(Mutex::new(String::new()));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            reader(
                child.stdout.take().unwrap(),
                log.clone(),
                Some({
                    let lines = lines.clone();
                    move |l| lines.lock().unwrap().push(l)
                }),
            ),
            reader(child.stderr.take().unwrap(), log.clone(), None::<fn(String)>),
        ];
        Ok(Proc { label, child, lines, log, readers })
    }

    /// Waits until the process prints a line starting with `prefix`; returns the rest.
    fn expect_line(&mut self, prefix: &str, deadline: Instant) -> Result<String, String> {
        loop {
            if let Some(rest) =
                self.lines.lock().unwrap().iter().find_map(|l| l.strip_prefix(prefix))
            {
                return Ok(rest.trim().to_string());
            }
            if let Some(st) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!(
                    "{} ended ({}) without printing '{prefix}'",
                    self.label,
                    describe_exit(st)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!("{} did not print '{prefix}' in time", self.label));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for the process to exit 0 by `deadline`, then for its output.
    fn finish(&mut self, deadline: Instant) -> Result<Vec<String>, String> {
        loop {
            if let Some(st) = self.child.try_wait().map_err(|e| e.to_string())? {
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                if !st.success() {
                    return Err(format!("{} failed: {}", self.label, describe_exit(st)));
                }
                return Ok(self.lines.lock().unwrap().clone());
            }
            if Instant::now() > deadline {
                return Err(format!("{} still running after {RUN_TIMEOUT:?}", self.label));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn close_stdin(&mut self) {
        self.child.stdin = None;
    }

    /// Kills it if still running; returns its output for the failure report.
    fn stop(&mut self) -> String {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.label.push_str(", stopped by the harness");
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        format!("  --- {}:\n{}", self.label, self.log.lock().unwrap())
    }
}

/// What both processes of a run reported, reduced to what must not depend on the library at
/// the other end: see `signature`.
struct Outcome {
    server: BTreeSet<String>,
    client: BTreeSet<String>,
}

/// One run of a case: which library plays which end, and over which transport.
struct Job {
    case: &'static Case,
    transport: Transport,
    server: Lib,
    client: Lib,
}

impl Job {
    fn is_reference(&self) -> bool {
        self.server == Lib::System && self.client == Lib::System
    }

    fn describe(&self, sides: &Sides) -> String {
        format!(
            "{:<26} {}  {} server, {} client",
            self.case.name,
            self.transport.name(),
            sides.get(self.server).name,
            sides.get(self.client).name
        )
    }

    fn run(&self, sides: &Sides) -> Result<Outcome, String> {
        let (endpoint, ipc_path) = self.transport.endpoint("secinterop");
        let deadline = Instant::now() + RUN_TIMEOUT;
        let mut procs = Vec::new();
        let result = self.exchange(sides, &endpoint, deadline, &mut procs);
        let logs: String = procs.iter_mut().map(Proc::stop).collect();
        if let Some(path) = ipc_path {
            let _ = std::fs::remove_file(path);
        }
        result.map_err(|e| format!("{e}\n{logs}"))
    }

    fn exchange(
        &self,
        sides: &Sides,
        endpoint: &str,
        deadline: Instant,
        procs: &mut Vec<Proc>,
    ) -> Result<Outcome, String> {
        procs.push(Proc::spawn(
            sides.get(self.server),
            "server",
            self.case.server,
            "bind",
            endpoint,
        )?);
        let endpoint = procs[0].expect_line("endpoint ", deadline)?;
        procs.push(Proc::spawn(
            sides.get(self.client),
            "client",
            self.case.client,
            "connect",
            &endpoint,
        )?);
        // The client ends by itself; the server serves until its stdin closes.
        let client_lines = procs[1].finish(deadline)?;
        procs[0].close_stdin();
        let server_lines = procs[0].finish(deadline)?;
        let pids = [procs[0].child.id(), procs[1].child.id()];
        Ok(Outcome {
            server: signature(&server_lines, self.case.server, pids),
            client: signature(&client_lines, self.case.client, pids),
        })
    }
}

/// What a process reported that a library at the other end must not change: every
/// handshake event with its value, DISCONNECTED when the handshake was to fail (the failing
/// side closes, both sides see it), each distinct ZAP request and the message properties.
/// Addresses keep no process id (ipc addresses carry the peer's).
fn signature(lines: &[String], args: &str, pids: [u32; 2]) -> BTreeSet<String> {
    let failing = args.contains("expect=fail");
    let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
    lines
        .iter()
        .filter(|l| {
            l.starts_with("zap ")
                || l.starts_with("meta ")
                || l.starts_with("event HANDSHAKE_")
                || (failing && *l == "event DISCONNECTED")
        })
        .map(|l| {
            l.split(' ')
                .map(|word| match word.split_once('=') {
                    Some((key @ ("address" | "Peer-Address"), value)) => {
                        let parts: Vec<&str> = value
                            .split(':')
                            .map(|p| if pids.iter().any(|pid| pid == p) { "PID" } else { p })
                            .collect();
                        format!("{key}={}", parts.join(":"))
                    }
                    _ => word.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The lines of `ours` missing from `reference` and the other way round, as a sentence.
fn difference(ours: &BTreeSet<String>, reference: &BTreeSet<String>) -> Option<String> {
    let extra: Vec<&String> = ours.difference(reference).collect();
    let missing: Vec<&String> = reference.difference(ours).collect();
    if extra.is_empty() && missing.is_empty() {
        return None;
    }
    let mut s = String::new();
    if !extra.is_empty() {
        s.push_str(&format!("reported {extra:?}"));
    }
    if !missing.is_empty() {
        if !s.is_empty() {
            s.push_str("; ");
        }
        s.push_str(&format!("did not report {missing:?}"));
    }
    Some(s)
}

#[test]
fn interop_security() {
    let common::Knobs { both_system, filter, jobs } = common::knobs();
    // Each side proves its library and that it speaks CURVE.
    let sides = common::build_sides(
        "capi-tests/interop/secure.c",
        "interop-security-lib",
        "interop_security",
        both_system,
    );

    let mut all = Vec::new();
    for case in CASES {
        for transport in [Transport::Tcp, Transport::Ipc] {
            for (server, client) in
                [(Lib::System, Lib::System), (Lib::Ours, Lib::System), (Lib::System, Lib::Ours)]
            {
                all.push(Job { case, transport, server, client });
            }
        }
    }
    // A run selected by the filter keeps its reference run, to be compared with.
    let selected = |j: &Job| j.describe(&sides).contains(&filter);
    let wanted: BTreeSet<(&str, &str)> =
        all.iter().filter(|j| selected(j)).map(|j| (j.case.name, j.transport.name())).collect();
    all.retain(|j| {
        wanted.contains(&(j.case.name, j.transport.name())) && (j.is_reference() || selected(j))
    });
    assert!(!all.is_empty(), "no security interop run matches {filter:?}");

    let started = Instant::now();
    let results = common::run_all(&all, jobs, |job| job.describe(&sides), |job| job.run(&sides));

    // Every mixed run against its reference, role by role.
    let mut failed = Vec::new();
    let mut differences = Vec::new();
    for (i, job) in all.iter().enumerate() {
        let result = results[i].lock().unwrap();
        let outcome = match result.as_ref().unwrap() {
            Ok(o) => o,
            Err(e) => {
                let first = e.lines().next().unwrap_or("");
                let peer = e.lines().find(|l| l.trim_start().starts_with("FAIL [")).unwrap_or("");
                failed.push(format!("{}: {first}\n      {}", job.describe(&sides), peer.trim()));
                continue;
            }
        };
        if job.is_reference() {
            continue;
        }
        let Some(reference) = all.iter().position(|r| {
            r.is_reference() && std::ptr::eq(r.case, job.case) && r.transport == job.transport
        }) else {
            continue;
        };
        let reference = results[reference].lock().unwrap();
        let Some(Ok(reference)) = reference.as_ref() else { continue };
        let stable = |set: &BTreeSet<String>| -> BTreeSet<String> {
            set.iter().filter(|l| !job.case.racy.contains(&l.as_str())).cloned().collect()
        };
        for (role, lib, ours, theirs) in [
            ("server", job.server, &outcome.server, &reference.server),
            ("client", job.client, &outcome.client, &reference.client),
        ] {
            if let Some(d) = difference(&stable(ours), &stable(theirs)) {
                differences.push(format!(
                    "{}: the {} {role} {d} where libzmq's {role} facing libzmq did",
                    job.describe(&sides),
                    sides.get(lib).name
                ));
            }
        }
    }

    eprintln!(
        "\nsecurity interop summary ({} vs {}, {} runs, {:.1}s):",
        sides.ours.name,
        sides.system.name,
        all.len(),
        started.elapsed().as_secs_f64()
    );
    // What libzmq reports at each end, per case: the expectations the mixed runs meet.
    for job in all.iter().filter(|j| j.is_reference() && j.transport == Transport::Tcp) {
        let i = all.iter().position(|j2| std::ptr::eq(j2, job)).unwrap();
        if let Some(Ok(o)) = results[i].lock().unwrap().as_ref() {
            let events = |set: &BTreeSet<String>| {
                set.iter().filter_map(|l| l.strip_prefix("event ")).collect::<Vec<_>>().join(", ")
            };
            eprintln!(
                "  {:<26} server: {}\n  {:<26} client: {}",
                job.case.name,
                events(&o.server),
                "",
                events(&o.client)
            );
        }
    }
    for d in &differences {
        eprintln!("  DIFFERENCE {d}");
    }
    for f in &failed {
        eprintln!("  FAILED {f}");
    }
    assert!(
        failed.is_empty() && differences.is_empty(),
        "{} of {} security interop runs failed, {} differences from libzmq:\n{}\n{}",
        failed.len(),
        all.len(),
        differences.len(),
        failed.join("\n"),
        differences.join("\n")
    );
}
