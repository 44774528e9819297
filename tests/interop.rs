//! Interop with Debian's real libzmq over tcp and ipc.
//!
//! `capi-tests/interop/peer.c` plays one role of an exchange (REQ client, ROUTER echo, XPUB,
//! …). It is built twice: against the system libzmq (the peer) and against ferrozmq (our
//! side). Each pair scenario runs with ferrozmq at each end, each end binding, over tcp and
//! ipc: 8 runs. Restart scenarios keep ferrozmq up while the libzmq process is SIGKILLed and
//! started again on the same endpoint. The binder prints its ZMQ_LAST_ENDPOINT; the connector
//! is started with it.
//!
//! Knobs: `INTEROP_BOTH_SYSTEM=1` builds our side against the system libzmq too (the suite
//! must pass that way: it proves the scenarios right); `INTEROP_TEST=text` runs only the runs
//! whose description contains `text`; `INTEROP_JOBS=n` runs n at once (default 6).

mod common;

use common::{describe_exit, reader, Lib, Sides, Transport, RUN_TIMEOUT};
use std::io::Write;
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Every scenario, in one place. A role is a peer.c command line without `bind|connect
/// ENDPOINT`; see the comment at the top of peer.c for roles and options.
static SCENARIOS: &[Scenario] = &[
    // Request-reply with the `shapes` payload: empty messages and parts, multipart, 20 parts,
    // ZMTP's 255/256-byte short/long frame boundary, a 70 kB body.
    Pair { name: "req-rep", a: "client type=req payload=shapes", b: "echo type=rep" },
    Pair { name: "req-router", a: "client type=req payload=shapes", b: "echo type=router" },
    Pair { name: "dealer-rep", a: "client type=dealer delim=1 payload=shapes", b: "echo type=rep" },
    Pair { name: "dealer-router", a: "client type=dealer payload=shapes", b: "echo type=router" },
    Pair { name: "pair-pair", a: "client type=pair payload=shapes", b: "echo type=pair" },
    // SUB takes A and C, never B, then drops A; XPUB must see +A, +C, -A as messages.
    Pair { name: "pub-sub", a: "sub type=sub", b: "pub type=pub" },
    Pair { name: "xpub-xsub", a: "sub type=xsub", b: "pub type=xpub expect=+A,+C,-A" },
    // 20000 numbered messages of 0..1003 bytes, in order, each checked.
    Pair { name: "push-pull", a: "pull count=20000", b: "push count=20000" },
    // 16 MiB bodies.
    Pair {
        name: "large-dealer-router",
        a: "client type=dealer payload=large",
        b: "echo type=router",
    },
    Pair {
        name: "large-push-pull",
        a: "pull count=4 size=16777216",
        b: "push count=4 size=16777216",
    },
    // Heartbeats set on one end: PING every 100 ms, drop after 400 ms without a reply, TTL
    // 500 ms. 1.2 s of silence, then a round trip; nobody reconnects, so a link dropped for
    // a missing PING or PONG fails it. On tcp the client also counts the bytes that arrived
    // while idle (PINGs or PONGs from the other end).
    Pair {
        name: "heartbeat-client",
        a: "client type=dealer idle=1200 hb_ivl=100 hb_timeout=400 hb_ttl=500 reconnect_ivl=-1",
        b: "echo type=router reconnect_ivl=-1",
    },
    Pair {
        name: "heartbeat-server",
        a: "client type=dealer idle=1200 reconnect_ivl=-1",
        b: "echo type=router hb_ivl=100 hb_timeout=400 hb_ttl=500 reconnect_ivl=-1",
    },
    // PUSH queues while its peer is dead and delivers after it is back.
    Restart {
        name: "reconnect-push",
        survivor: "push count=100",
        survivor_binds: false,
        victim: "pull count=100 hold=1",
        restarted: "pull start=100 count=100",
        trigger: (Victim, "done"),
        poke: Some(("more 100", Some("sent 200"))),
    },
    // The server dies holding a request; REQ_RELAXED lets REQ resend, REQ_CORRELATE matches
    // the reply to the resent request.
    Restart {
        name: "reconnect-req",
        survivor: "client type=req payload=one relaxed=1 correlate=1 resend=1",
        survivor_binds: false,
        victim: "echo type=rep drop=1",
        restarted: "echo type=rep",
        trigger: (Victim, "dropping"),
        poke: Some(("resend", None)),
    },
    Restart {
        name: "reconnect-dealer",
        survivor: "client type=dealer payload=one resend=1",
        survivor_binds: false,
        victim: "echo type=router drop=1",
        restarted: "echo type=router",
        trigger: (Victim, "dropping"),
        poke: Some(("resend", None)),
    },
    // ferrozmq binds: it must notice the dead connection and take the new one.
    Restart {
        name: "rebind-pull",
        survivor: "pull count=200 mark=100",
        survivor_binds: true,
        victim: "push count=100",
        restarted: "push start=100 count=100",
        trigger: (Survivor, "mark 100"),
        poke: None,
    },
    // The returning DEALER has the same routing id: ROUTER must have released it.
    Restart {
        name: "rebind-router",
        survivor: "echo type=router mandatory=1",
        survivor_binds: true,
        victim: "client type=dealer payload=basic routing_id=peer-1 hold=1",
        restarted: "client type=dealer payload=basic routing_id=peer-1",
        trigger: (Victim, "done"),
        poke: None,
    },
];

use Scenario::{Pair, Restart};
use Who::{Survivor, Victim};

enum Scenario {
    /// Two roles, run with ferrozmq playing each, each end binding, over tcp and ipc.
    Pair { name: &'static str, a: &'static str, b: &'static str },
    /// ferrozmq's `survivor` against a libzmq `victim`, which is SIGKILLed once `trigger`
    /// prints its line and replaced by `restarted` on the same endpoint. Before the restart,
    /// `poke` is written to the survivor's stdin and its answer, if any, awaited.
    Restart {
        name: &'static str,
        survivor: &'static str,
        survivor_binds: bool,
        victim: &'static str,
        restarted: &'static str,
        trigger: (Who, &'static str),
        poke: Option<(&'static str, Option<&'static str>)>,
    },
}

#[derive(Clone, Copy)]
enum Who {
    Survivor,
    Victim,
}

/// "client type=req payload=shapes" → "REQ client"; "pull count=4" → "PULL".
fn role_label(role: &str) -> String {
    let mut words = role.split_whitespace();
    let verb = words.next().unwrap();
    let ty = words.find_map(|w| w.strip_prefix("type=")).map(str::to_uppercase);
    match (verb, ty) {
        ("client" | "echo", Some(t)) => format!("{t} {verb}"),
        (_, Some(t)) => t,
        (_, None) => verb.to_uppercase(),
    }
}

/// Roles that finish by themselves; the others serve until their stdin closes.
fn finishes_itself(role: &str) -> bool {
    let verb = role.split_whitespace().next().unwrap();
    matches!(verb, "client" | "sub" | "pull") && !role.contains("hold=1")
}

/// One running peer process: its stdout lines arrive on `lines`; stdout and stderr both go
/// to `log`, for the failure report.
struct Proc {
    label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    log: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
    finishes_itself: bool,
    killed: bool,
}

/// The processes of one run, all killed when it ends.
struct Run<'a> {
    sides: &'a Sides,
    procs: Vec<Proc>,
    deadline: Instant,
}

impl<'a> Run<'a> {
    fn new(sides: &'a Sides) -> Self {
        Run { sides, procs: Vec::new(), deadline: Instant::now() + RUN_TIMEOUT }
    }

    fn spawn(
        &mut self,
        lib: Lib,
        role: &str,
        mode: &str,
        endpoint: &str,
        note: &str,
    ) -> Result<usize, String> {
        let side = self.sides.get(lib);
        let label = format!("{} {} ({mode}{note})", side.name, role_label(role));
        let mut words = role.split_whitespace();
        let mut child = side
            .command()
            .arg(words.next().unwrap())
            .args([mode, endpoint])
            .args(words)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {label}: {e}"))?;
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let readers = vec![
            reader(child.stdout.take().unwrap(), log.clone(), Some(move |l| drop(tx.send(l)))),
            reader(child.stderr.take().unwrap(), log.clone(), None::<fn(String)>),
        ];
        self.procs.push(Proc {
            label,
            stdin: child.stdin.take(),
            child,
            lines: rx,
            log,
            readers,
            status: None,
            finishes_itself: finishes_itself(role),
            killed: false,
        });
        Ok(self.procs.len() - 1)
    }

    /// Fails as soon as any process has failed, or the run is out of time.
    fn health(&mut self) -> Result<(), String> {
        for p in self.procs.iter_mut().filter(|p| !p.killed && p.status.is_none()) {
            if let Some(st) = p.child.try_wait().map_err(|e| e.to_string())? {
                p.status = Some(st);
                if !st.success() {
                    return Err(format!("{} failed: {}", p.label, describe_exit(st)));
                }
            }
        }
        if Instant::now() > self.deadline {
            let waiting: Vec<_> = self
                .procs
                .iter()
                .filter(|p| !p.killed && p.status.is_none())
                .map(|p| p.label.as_str())
                .collect();
            return Err(format!(
                "timed out after {RUN_TIMEOUT:?} waiting for {}",
                waiting.join(", ")
            ));
        }
        Ok(())
    }

    /// Waits for process `i` to print a line starting with `prefix`; returns the rest.
    fn expect_line(&mut self, i: usize, prefix: &str) -> Result<String, String> {
        loop {
            match self.procs[i].lines.recv_timeout(Duration::from_millis(10)) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return Ok(rest.trim().to_string());
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => self.health()?,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let st = self.procs[i].child.wait().map_err(|e| e.to_string())?;
                    self.procs[i].status = Some(st);
                    self.health()?;
                    return Err(format!(
                        "{} ended ({}) without printing '{prefix}'",
                        self.procs[i].label,
                        describe_exit(st)
                    ));
                }
            }
        }
    }

    fn send_line(&mut self, i: usize, line: &str) -> Result<(), String> {
        let p = &mut self.procs[i];
        let stdin = p.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("writing to {}: {e}", p.label))
    }

    fn kill(&mut self, i: usize) {
        let p = &mut self.procs[i];
        p.killed = true;
        let _ = p.child.kill(); // SIGKILL
        p.status = p.child.wait().ok();
        p.label.push_str(", SIGKILLed");
    }

    /// Waits for the processes that finish by themselves, then closes the others' stdin
    /// (their cue to check their totals and exit) and waits for them: all must exit 0.
    fn finish(&mut self) -> Result<(), String> {
        let pending = |procs: &[Proc], all: bool| {
            procs.iter().any(|p| !p.killed && p.status.is_none() && (all || p.finishes_itself))
        };
        // Polling for exits, bounded by the run's deadline (health() fails past it).
        while pending(&self.procs, false) {
            self.health()?;
            std::thread::sleep(Duration::from_millis(5));
        }
        for p in &mut self.procs {
            p.stdin = None;
        }
        while pending(&self.procs, true) {
            self.health()?;
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Kills what is left and returns every process's output.
    fn stop(&mut self) -> String {
        let mut out = String::new();
        for p in &mut self.procs {
            if p.status.is_none() && !p.killed {
                let _ = p.child.kill();
                p.status = p.child.wait().ok();
                p.label.push_str(", still running: stopped by the harness");
            }
            for r in p.readers.drain(..) {
                let _ = r.join();
            }
            let status = p.status.map(describe_exit).unwrap_or_default();
            out.push_str(&format!("  --- {}: {status}\n{}", p.label, p.log.lock().unwrap()));
        }
        out
    }
}

/// One run of a scenario: which library plays what, and over which transport.
struct Job {
    scenario: &'static Scenario,
    transport: Transport,
    /// Pair scenarios: the library playing `a`, and whether `a` binds.
    a_lib: Lib,
    a_binds: bool,
}

impl Job {
    fn name(&self) -> &'static str {
        match self.scenario {
            Pair { name, .. } | Restart { name, .. } => name,
        }
    }

    fn describe(&self, sides: &Sides) -> String {
        let mode = |binds: bool| if binds { "binds" } else { "connects" };
        let what = match self.scenario {
            Pair { a, b, .. } => format!(
                "{} {} {}, {} {} {}",
                sides.get(self.a_lib).name,
                role_label(a),
                mode(self.a_binds),
                sides.get(self.a_lib.other()).name,
                role_label(b),
                mode(!self.a_binds)
            ),
            Restart { survivor, survivor_binds, victim, .. } => format!(
                "{} {} {}, {} {} {}, is killed and {} again",
                sides.ours.name,
                role_label(survivor),
                mode(*survivor_binds),
                sides.system.name,
                role_label(victim),
                mode(!survivor_binds),
                mode(!survivor_binds)
            ),
        };
        format!("{:<20} {}  {what}", self.name(), self.transport.name())
    }

    fn run(&self, sides: &Sides) -> Result<(), String> {
        let (endpoint, ipc_path) = self.transport.endpoint("interop");
        let mut run = Run::new(sides);
        let result = match self.scenario {
            Pair { a, b, .. } => self.pair(&mut run, a, b, &endpoint),
            Restart { survivor, survivor_binds, victim, restarted, trigger, poke, .. } => restart(
                &mut run,
                survivor,
                *survivor_binds,
                victim,
                restarted,
                *trigger,
                *poke,
                &endpoint,
            ),
        };
        let logs = run.stop();
        if let Some(path) = ipc_path {
            let _ = std::fs::remove_file(path);
        }
        result.map_err(|e| format!("{e}\n{logs}"))
    }

    fn pair(&self, run: &mut Run, a: &str, b: &str, endpoint: &str) -> Result<(), String> {
        let (binder, binder_lib, connector) =
            if self.a_binds { (a, self.a_lib, b) } else { (b, self.a_lib.other(), a) };
        let i = run.spawn(binder_lib, binder, "bind", endpoint, "")?;
        let endpoint = run.expect_line(i, "endpoint ")?;
        run.spawn(binder_lib.other(), connector, "connect", &endpoint, "")?;
        run.finish()
    }
}

#[allow(clippy::too_many_arguments)]
fn restart(
    run: &mut Run,
    survivor: &str,
    survivor_binds: bool,
    victim: &str,
    restarted: &str,
    trigger: (Who, &str),
    poke: Option<(&str, Option<&str>)>,
    first: &str,
) -> Result<(), String> {
    let (s, v, endpoint);
    // watch=1: the survivor reports each ZMQ_EVENT_DISCONNECTED of its socket monitor.
    let survivor = &format!("{survivor} watch=1");
    if survivor_binds {
        s = run.spawn(Lib::Ours, survivor, "bind", first, "")?;
        endpoint = run.expect_line(s, "endpoint ")?;
        v = run.spawn(Lib::System, victim, "connect", &endpoint, "")?;
    } else {
        v = run.spawn(Lib::System, victim, "bind", first, "")?;
        endpoint = run.expect_line(v, "endpoint ")?;
        s = run.spawn(Lib::Ours, survivor, "connect", &endpoint, "")?;
    }
    run.expect_line(if let Survivor = trigger.0 { s } else { v }, trigger.1)?;
    run.kill(v);
    // Wait until the survivor has seen the connection die: a message sent into a connection
    // its sender has not yet seen close is lost, and no pattern promises otherwise.
    run.expect_line(s, "disconnected")?;
    if let Some((line, answer)) = poke {
        run.send_line(s, line)?;
        if let Some(answer) = answer {
            run.expect_line(s, answer)?;
        }
    }
    // A restarted binder binds the exact endpoint the first one reported.
    let mode = if survivor_binds { "connect" } else { "bind" };
    run.spawn(Lib::System, restarted, mode, &endpoint, ", restarted")?;
    run.finish()
}

#[test]
fn interop() {
    let common::Knobs { both_system, filter, jobs } = common::knobs();
    let sides =
        common::build_sides("capi-tests/interop/peer.c", "interop-lib", "interop", both_system);

    // Round-robin over scenarios, so that CPU-heavy runs (16 MiB) and idle ones (heartbeats,
    // restarts) share the workers instead of arriving together.
    let mut per_scenario: Vec<Vec<Job>> = SCENARIOS
        .iter()
        .map(|scenario| {
            let mut jobs = Vec::new();
            for transport in [Transport::Tcp, Transport::Ipc] {
                match scenario {
                    Pair { .. } => {
                        for a_lib in [Lib::Ours, Lib::System] {
                            for a_binds in [true, false] {
                                jobs.push(Job { scenario, transport, a_lib, a_binds });
                            }
                        }
                    }
                    Restart { .. } => {
                        jobs.push(Job { scenario, transport, a_lib: Lib::Ours, a_binds: false })
                    }
                }
            }
            jobs.reverse();
            jobs
        })
        .collect();
    let mut all = Vec::new();
    while per_scenario.iter().any(|j| !j.is_empty()) {
        all.extend(per_scenario.iter_mut().filter_map(Vec::pop));
    }
    all.retain(|j| j.describe(&sides).contains(&filter));
    assert!(!all.is_empty(), "no interop run matches {filter:?}");

    let started = Instant::now();
    let results = common::run_all(&all, jobs, |job| job.describe(&sides), |job| job.run(&sides));

    // One line per scenario, then the failed runs.
    eprintln!(
        "\ninterop summary ({} vs {}, {:.1}s):",
        sides.ours.name,
        sides.system.name,
        started.elapsed().as_secs_f64()
    );
    let mut failed = Vec::new();
    for scenario in SCENARIOS {
        let runs: Vec<usize> =
            (0..all.len()).filter(|&i| std::ptr::eq(all[i].scenario, scenario)).collect();
        if runs.is_empty() {
            continue;
        }
        let bad: Vec<usize> = runs
            .iter()
            .copied()
            .filter(|&i| results[i].lock().unwrap().as_ref().is_some_and(|r| r.is_err()))
            .collect();
        let name = all[runs[0]].name();
        eprintln!("  {:<20} {}/{} passed", name, runs.len() - bad.len(), runs.len());
        // The symptom of the first failed run: the harness's reason and the peer's own words.
        if let Some(&i) = bad.first() {
            if let Some(Err(e)) = &*results[i].lock().unwrap() {
                let peer = e.lines().find(|l| l.trim_start().starts_with("FAIL [")).unwrap_or("");
                eprintln!(
                    "  {:<20}   first failure: {}: {}\n  {:<20}   {}",
                    "",
                    all[i].describe(&sides),
                    e.lines().next().unwrap_or(""),
                    "",
                    peer.trim()
                );
            }
        }
        failed.extend(bad.into_iter().map(|i| all[i].describe(&sides)));
    }
    assert!(
        failed.is_empty(),
        "{} of {} interop runs failed:\n{}",
        failed.len(),
        all.len(),
        failed.join("\n")
    );
}
