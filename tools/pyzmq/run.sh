#!/usr/bin/env bash
# pyzmq on ferrozmq: build and install ferrozmq, build pyzmq from source against that install,
# check that the extension really loads ferrozmq's libzmq.so.5, run pyzmq's own test suite,
# then (where Debian's libzmq is installed) the same suite against it, and the reproducers in
# repro/ against both libraries. Everything goes into one work directory; nothing in the
# checkout is written (the default builds a `git archive` of HEAD).
#
#   bash tools/pyzmq/run.sh                      # fresh temp dir, everything
#   WORK=/tmp/fzpy bash tools/pyzmq/run.sh       # reuse a work dir: finished steps are skipped
#
# Settings (environment):
#   WORK              work directory (default: a new mktemp -d). Reusing one is safe: each step
#                     leaves a stamp; FORCE=1 redoes every step.
#   SRC=head|worktree build `git archive HEAD` (default) or the checkout as it is (cargo's
#                     build.rs then rewrites include/zmq.h in the checkout if it is stale)
#   CARGO_TARGET_DIR  cargo's target dir (default $WORK/target; share one to save rebuilds)
#   PYZMQ_VERSION     the pyzmq sdist to test (default 27.3.0)
#   TEST_TIMEOUT      per-test limit in seconds, pytest-timeout (default 60)
#   SUITE_TIMEOUT     limit for one whole pytest run in seconds (default 1800)
#   PYTEST_ARGS       extra pytest arguments, e.g. "--deselect tests/test_x.py::test_y"
#   REFERENCE=auto|0|1  also build pyzmq against the system libzmq (pkg-config) and run the
#                     same suite and reproducers on it (auto: when pkg-config finds one)
#   EXTRAS=1|0        also run the tests pyzmq skips only for lack of CURVE or for version
#                     4.3.5 (NULL/PLAIN/ZAP auth, steerable proxy), with those guards removed
#   STRICT=1          exit non-zero unless every test of the ferrozmq run passed or was skipped
#                     as expected-skips.txt allows (summary.py's verdict); `make pyzmq` sets it
#
# Needs: cargo, a C compiler, make, git, python3 with venv, pkg-config, and PyPI.
# Bounded: every long step runs under `timeout`.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/ferrozmq-pyzmq.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
PREFIX=$WORK/fz
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$WORK/target}
SRC=${SRC:-head}
PYZMQ_VERSION=${PYZMQ_VERSION:-27.3.0}
TEST_TIMEOUT=${TEST_TIMEOUT:-60}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-1800}
PYTEST_ARGS=${PYTEST_ARGS:-}
REFERENCE=${REFERENCE:-auto}
EXTRAS=${EXTRAS:-1}
STRICT=${STRICT:-0}
FORCE=${FORCE:-0}
# Pinned, so a new release of a test dependency cannot turn CI red overnight.
TEST_DEPS="pytest==9.2.0 pytest-timeout==2.4.0 pytest-asyncio==1.5.0 pytest-rerunfailures==16.7
           tornado==6.6.1 cython==3.3.1 setuptools numpy==2.4.6"

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }
done_() { [ "$FORCE" != 1 ] && [ -f "$WORK/.stamp-$1" ] && [ "$(cat "$WORK/.stamp-$1")" = "$2" ]; }
stamp() { printf '%s' "$2" > "$WORK/.stamp-$1"; }

echo "work dir: $WORK"
for t in cargo make git cc python3 pkg-config readelf timeout; do
    command -v "$t" >/dev/null || die "needs $t"
done

# ---------------------------------------------------------------- 1. ferrozmq -> $PREFIX
if [ "$SRC" = head ]; then
    COMMIT=$(git -C "$ROOT" rev-parse HEAD)
    SRCDIR=$WORK/src
    if ! done_ src "$COMMIT"; then
        log "ferrozmq source: git archive $COMMIT"
        rm -rf "$SRCDIR" && mkdir -p "$SRCDIR"
        git -C "$ROOT" archive HEAD | tar -x -C "$SRCDIR"
        stamp src "$COMMIT"
    fi
    KEY=$COMMIT
else
    SRCDIR=$ROOT
    KEY=worktree-$(date +%s)   # a work tree may have changed: always rebuild
fi
if ! done_ install "$KEY"; then
    log "build + install ferrozmq into $PREFIX (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    # The Makefile's install recipe reads the library from $(RELEASE); point it at our target dir.
    timeout 2400 make -C "$SRCDIR" install PREFIX="$PREFIX" RELEASE="$CARGO_TARGET_DIR/release" \
        > "$WORK/ferrozmq-build.log" 2>&1 || { tail -30 "$WORK/ferrozmq-build.log"; die "ferrozmq build failed"; }
    stamp install "$KEY"
fi
readelf -d "$PREFIX/lib/libzmq.so.5" | grep -q 'SONAME.*\[libzmq.so.5\]' || die "no soname libzmq.so.5"
echo "installed: $(ls "$PREFIX/lib" | tr '\n' ' ')"

# ---------------------------------------------------------------- 2. pyzmq sdist
SDIST=$WORK/sdist/pyzmq-$PYZMQ_VERSION.tar.gz
BOOT=$WORK/venv-boot
if ! done_ sdist "$PYZMQ_VERSION"; then
    log "download the pyzmq $PYZMQ_VERSION sdist"
    rm -rf "$WORK/sdist" "$BOOT"; mkdir -p "$WORK/sdist"
    python3 -m venv "$BOOT"
    timeout 900 "$BOOT/bin/pip" download -q --no-binary pyzmq --no-deps -d "$WORK/sdist" "pyzmq==$PYZMQ_VERSION"
    [ -f "$SDIST" ] || die "no $SDIST"
    tar -xzf "$SDIST" -C "$WORK/sdist"
    stamp sdist "$PYZMQ_VERSION"
fi
TESTSRC=$WORK/sdist/pyzmq-$PYZMQ_VERSION

# build_pyzmq VENV LABEL ENV...: a venv with the test deps and pyzmq built from the sdist
build_pyzmq() {
    local venv=$1 label=$2; shift 2
    if done_ "venv-$label" "$PYZMQ_VERSION $PREFIX $TEST_DEPS $*"; then return; fi
    log "venv $venv: pyzmq $PYZMQ_VERSION from source against $label"
    rm -rf "$venv"
    python3 -m venv "$venv"
    timeout 900 "$venv/bin/pip" install -q --upgrade pip
    timeout 900 "$venv/bin/pip" install -q $TEST_DEPS
    # --no-cache-dir: a wheel cached from a build against another libzmq must not be reused.
    env "$@" PYZMQ_NO_BUNDLE=1 timeout 1800 "$venv/bin/pip" install -v --no-cache-dir --no-deps \
        --force-reinstall "$SDIST" > "$WORK/pyzmq-build-$label.log" 2>&1 \
        || { tail -30 "$WORK/pyzmq-build-$label.log"; die "pyzmq build against $label failed"; }
    grep -i 'looking for libzmq.*- \|found libzmq' "$WORK/pyzmq-build-$label.log" | sed 's/^ */  cmake: /' || true
    stamp "venv-$label" "$PYZMQ_VERSION $PREFIX $TEST_DEPS $*"
}

# check_load VENV EXPECTED_VERSION EXPECTED_LIB_DIR: the extension needs libzmq.so.5 and loads it from there
check_load() {
    local venv=$1 want=$2 dir=$3 so
    so=$(ls "$venv"/lib/python3*/site-packages/zmq/backend/cython/_zmq*.so)
    readelf -d "$so" | grep -q 'NEEDED.*\[libzmq.so.5\]' || die "$so does not need libzmq.so.5"
    "$venv/bin/python" - "$want" "$dir" <<'EOF'
import os, sys, zmq
want, d = sys.argv[1], os.path.realpath(sys.argv[2])
libs = {l.split()[-1] for l in open('/proc/self/maps') if 'libzmq.so' in l}
print(f"  pyzmq {zmq.pyzmq_version()} loads {sorted(libs)}, zmq_version() = {zmq.zmq_version()}")
print("  zmq.has:", {c: bool(zmq.has(c)) for c in ('ipc', 'curve', 'pgm', 'tipc', 'norm', 'gssapi', 'draft')})
assert zmq.zmq_version() == want, f"expected libzmq {want}, got {zmq.zmq_version()}"
assert libs and all(os.path.realpath(l).startswith(d + '/') for l in libs), f"expected a libzmq from {d}"
EOF
}

# run_suite VENV NAME: pyzmq's tests (a copy, away from the sdist's zmq/ sources) -> $WORK/run-NAME
run_suite() {
    local venv=$1 name=$2 dir=$WORK/run-$2 rc=0
    log "pyzmq test suite on $name (per test ${TEST_TIMEOUT}s, whole run ${SUITE_TIMEOUT}s)"
    rm -rf "$dir"; mkdir -p "$dir"
    cp -r "$TESTSRC/tests" "$TESTSRC/pytest.ini" "$dir/"
    ( cd "$dir" && PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" FZ_RERUN="$RERUN" \
        timeout -k 30 "$SUITE_TIMEOUT" "$venv/bin/pytest" -p no:cacheprovider -p fz_rerun \
        --timeout "$TEST_TIMEOUT" -v -rfEs --junitxml=junit.xml $DESELECT $PYTEST_ARGS tests \
        > pytest.log 2>&1 ) || rc=$?
    [ "$rc" = 124 ] && echo "  the whole run hit SUITE_TIMEOUT: see $dir/pytest.log for the last test"
    tail -1 "$dir/pytest.log"
    return "$rc"
}

# The tests expected-skips.txt says not to run, and those it lets run again after a failure
# (fz_rerun.py), with its reasons.
DESELECT=$(sed -n 's/^deselect \([^ |]*\) | .*/--deselect \1/p' "$HERE/expected-skips.txt")
RERUN=$(sed -n 's/^rerun \([^ |]*\) | .*/\1/p' "$HERE/expected-skips.txt" | tr '\n' ' ')

VENV=$WORK/venv
build_pyzmq "$VENV" ferrozmq ZMQ_PREFIX="$PREFIX" PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" ZMQ_DRAFT_API=1
log "check that pyzmq loads ferrozmq"
check_load "$VENV" 4.3.5 "$PREFIX/lib"

SUITE_RC=0
run_suite "$VENV" ferrozmq || SUITE_RC=$?

# ---------------------------------------------------------------- reference: system libzmq
REF_VENV=$WORK/venv-ref
if [ "$REFERENCE" = auto ]; then
    if env -u PKG_CONFIG_PATH pkg-config --exists libzmq 2>/dev/null; then REFERENCE=1; else REFERENCE=0; fi
fi
if [ "$REFERENCE" = 1 ]; then
    REF_LIBDIR=$(env -u PKG_CONFIG_PATH pkg-config --variable=libdir libzmq)
    REF_VERSION=$(env -u PKG_CONFIG_PATH pkg-config --modversion libzmq)
    build_pyzmq "$REF_VENV" reference -u ZMQ_PREFIX -u PKG_CONFIG_PATH
    log "check that the reference pyzmq loads the system libzmq $REF_VERSION"
    check_load "$REF_VENV" "$REF_VERSION" "$REF_LIBDIR"
    run_suite "$REF_VENV" reference || true
else
    rm -rf "$WORK/run-reference"   # an earlier run's results would be summarised as this one's
fi

# ---------------------------------------------------------------- extras: guards removed
if [ "$EXTRAS" = 1 ]; then
    log "extras: tests pyzmq skips for lack of CURVE or for libzmq >= 4.3.5, guards removed"
    for name in ferrozmq reference; do
        venv=$VENV; [ "$name" = reference ] && { [ "$REFERENCE" = 1 ] || continue; venv=$REF_VENV; }
        dir=$WORK/extras-$name
        rm -rf "$dir"; mkdir -p "$dir"; cp -r "$TESTSRC/tests" "$TESTSRC/pytest.ini" "$dir/"
        if "$venv/bin/python" - "$dir/tests" <<'EOF'
import sys, pathlib
t = pathlib.Path(sys.argv[1])
edits = {  # the guard that skips, what replaces it, how many times
    'test_auth.py': ('            zmq.curve_keypair()\n', '            pass\n', 1),
    'test_security.py': ('            zmq.curve_keypair()\n', '            pass\n', 1),
    'test_proxy_steerable.py': ('zmq.zmq_version_info() >= (4, 3, 5)', 'False', -1),
}
for f, (old, new, count) in edits.items():
    p = t / f; s = p.read_text()
    if old not in s:
        sys.exit(f"  {f}: guard not found (another pyzmq version?): extras skipped")
    p.write_text(s.replace(old, new, count))
EOF
        then
            ( cd "$dir" && timeout -k 30 600 "$venv/bin/pytest" -p no:cacheprovider --timeout "$TEST_TIMEOUT" \
                -v -rfE tests/test_auth.py tests/test_security.py tests/test_proxy_steerable.py \
                -k "null or allow or deny or plain or steerable" > pytest.log 2>&1 ) || true
            echo "  $name: $(tail -1 "$dir/pytest.log")"
            grep '^FAILED' "$dir/pytest.log" | sed 's/^/    /' || true
        fi
    done
fi

# ---------------------------------------------------------------- reproducers
log "reproducers (repro/): exit 0 = behaves as libzmq"
mkdir -p "$WORK/repro"
printf '  %-28s %-10s %s\n' reproducer ferrozmq reference
for c in "$HERE"/repro/*.c; do
    b=$WORK/repro/$(basename "$c" .c)
    cc -pthread -o "$b" "$c" -I"$PREFIX/include" -L"$PREFIX/lib" -lzmq
    r1=0; LD_LIBRARY_PATH=$PREFIX/lib timeout 60 "$b" > "$b.ferrozmq.out" 2>&1 || r1=$?
    r2=-
    if [ "$REFERENCE" = 1 ]; then   # no rpath: without LD_LIBRARY_PATH the system libzmq loads
        r2=0; env -u LD_LIBRARY_PATH timeout 60 "$b" > "$b.reference.out" 2>&1 || r2=$?
    fi
    printf '  %-28s %-10s %s\n' "$(basename "$c")" "$r1" "$r2"
done
for py in "$HERE"/repro/*.py; do
    o=$WORK/repro/$(basename "$py" .py)
    r1=0; timeout 120 "$VENV/bin/python" "$py" > "$o.ferrozmq.out" 2>&1 || r1=$?
    r2=-
    if [ "$REFERENCE" = 1 ]; then r2=0; timeout 120 "$REF_VENV/bin/python" "$py" > "$o.reference.out" 2>&1 || r2=$?; fi
    printf '  %-28s %-10s %s\n' "$(basename "$py")" "$r1" "$r2"
done
echo "  (outputs: $WORK/repro/*.out)"

# ---------------------------------------------------------------- summary
log "summary"
VERDICT=0
"$VENV/bin/python" "$HERE/summary.py" "$WORK" "$HERE/expected-skips.txt" || VERDICT=$?
# pytest's own status: 1 is "some tests failed" (the verdict says which); anything else means
# the run itself broke (124: SUITE_TIMEOUT, 2: interrupted, 3/4: internal or usage error, 5: no
# tests collected).
if [ "$SUITE_RC" != 0 ] && [ "$SUITE_RC" != 1 ]; then
    echo "verdict: FAIL: pytest exited $SUITE_RC on ferrozmq (see $WORK/run-ferrozmq/pytest.log)"
    VERDICT=1
fi
if [ "$STRICT" = 1 ]; then exit "$VERDICT"; fi
exit 0
