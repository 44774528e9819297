"""Summary of run.sh's pytest runs, and the verdict on the ferrozmq one.

usage: python summary.py WORK EXPECTED_SKIPS

Prints each run's counts (from its junit.xml), the tests whose outcome differs from the
reference run if there is one, and checks the ferrozmq run: every test passed, or was skipped
as an entry of EXPECTED_SKIPS allows. Exit status 0 only then; 1 otherwise.
"""

import fnmatch
import pathlib
import sys
import xml.etree.ElementTree as ET

work = pathlib.Path(sys.argv[1])
skips_file = pathlib.Path(sys.argv[2])


def outcomes(name):
    """{test id: (outcome, skip reason)} of run-NAME, or None when it did not run."""
    p = work / f"run-{name}" / "junit.xml"
    if not p.exists():
        return None
    tests = {}
    for tc in ET.parse(p).iter("testcase"):
        # A skipped module has no classname: its id is the module. A test that fails and
        # then errors in teardown appears twice: merged, counted once.
        cls, name_ = tc.get("classname") or "", tc.get("name") or ""
        key = f"{cls}::{name_}" if cls else name_
        kinds, reason = tests.get(key, (set(), ""))
        for c in tc:
            kinds.add(c.tag)
            if c.tag == "skipped":
                reason = f"{c.get('message', '')} {c.text or ''}"
        tests[key] = (kinds, reason)
    result = {}
    for key, (kinds, reason) in tests.items():
        if "failure" in kinds:
            kind = "failed"
        elif "error" in kinds:
            kind = "error"
        elif "skipped" in kinds:
            kind = "skipped"
        else:
            kind = "passed"
        result[key] = (kind, reason)
    return result


def load_skips():
    entries = []
    for n, line in enumerate(skips_file.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#") or line.startswith(("deselect ", "rerun ")):
            continue  # run.sh passes these to pytest (not run; run again after a failure)
        parts = [p.strip() for p in line.split(" | ")]
        if len(parts) != 3 or not all(parts):
            sys.exit(f"{skips_file}:{n}: expected 'pattern | reason text | why', got {line!r}")
        entries.append((n, *parts))
    return entries


def matches(key, pattern):
    """fnmatch with only * and ? as wildcards: [ is literal (parametrised test ids)."""
    return fnmatch.fnmatchcase(key, pattern.replace("[", "[[]"))


def counts(run):
    c = {k: 0 for k in ("passed", "failed", "skipped", "error")}
    for kind, _ in run.values():
        c[kind] += 1
    return c


runs = {n: outcomes(n) for n in ("ferrozmq", "reference")}
for n, r in runs.items():
    if r is not None:
        c = counts(r)
        print(f"{n:>10}: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped, "
              f"{c['error']} errors  ({work}/run-{n}/pytest.log)")
f, ref = runs["ferrozmq"], runs["reference"]
if f and ref:
    diff = sorted(k for k in set(f) | set(ref) if f.get(k, ("-",))[0] != ref.get(k, ("-",))[0])
    print(f"tests whose outcome differs (ferrozmq / reference): {len(diff)}")
    for k in diff:
        print(f"  {f.get(k, ('-',))[0]:>8} / {ref.get(k, ('-',))[0]:<8} {k}")

if f is None:
    print("verdict: FAIL: the ferrozmq run left no junit.xml (it did not run, or was killed)")
    sys.exit(1)
entries = load_skips()
used = set()
bad = []
for key, (kind, reason) in sorted(f.items()):
    if kind in ("failed", "error"):
        bad.append(f"  {kind:>8} {key}")
    elif kind == "skipped":
        match = next((e for e in entries if matches(key, e[1]) and e[2] in reason), None)
        if match:
            used.add(match[0])
        else:
            bad.append(f"  unexpected skip {key}: {' '.join(reason.split())}")
for n, pattern, _, why in entries:
    if n not in used:
        print(f"  note: {skips_file.name}:{n} ({pattern}: {why}) matched no skip: remove it?")
# pytest-rerunfailures prints "<node id> RERUN" in -v output for each attempt that failed.
log = work / "run-ferrozmq" / "pytest.log"
reruns = [l.split()[0] for l in log.read_text(errors="replace").splitlines() if " RERUN " in l]
for t in sorted(set(reruns)):
    print(f"  note: {t} failed {reruns.count(t)} time(s) and was run again")
c = counts(f)
allowed = c["skipped"] - sum(1 for b in bad if b.startswith("  unexpected skip"))
if bad:
    print("verdict: FAIL: tests that failed, errored or were skipped without an entry in "
          f"{skips_file.name}:")
    print("\n".join(bad))
    sys.exit(1)
deselected = sum(1 for line in skips_file.read_text().splitlines() if line.startswith("deselect "))
print(f"verdict: ok: every pyzmq test passed but {allowed} skipped and {deselected} not run, "
      f"as {skips_file.name} allows")
print(f"pyzmq: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped")
