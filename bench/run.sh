#!/usr/bin/env bash
# ferrozmq benchmark: build bench/bench.c once, run every configuration against
# ferrozmq (target/release/libzmq.so) and against the reference libzmq (Debian's
# by default), alternating the two, and print them side by side.
#
#   bash bench/run.sh            full run (best of 3 runs per library; ~2 min on 2 cores)
#   bash bench/run.sh --quick    1/10 of the counts, one repetition
#
# Environment:
#   BENCH_FILTER=REGEX   only rows whose "transport test size" matches (bash ERE),
#                        e.g. BENCH_FILTER='^tcp' or BENCH_FILTER='latency'; a
#                        raw-socket reference runs with the row it is compared with
#   BENCH_REPS=N         repetitions per library and row (default 3, quick 1)
#   BENCH_TIMEOUT=S      limit for one run in seconds (default 20)
#   BENCH_REF_LIB=PATH   the reference library (default the system libzmq.so.5)
#   BENCH_OURS_LIB=PATH  the library in the ferrozmq column
#                        (default target/release/libzmq.so)
#   BENCH_NO_BUILD=1     skip `cargo build --release` (use the existing build)
#   BENCH_CPU=N          the CPU latency and raw ping-pong runs are pinned to
#                        (default: the first one the process may use)
#
# Exit status: 0 when the table was produced and the reference library ran
# every selected row; 1 if bench.c or ferrozmq could not be built, the loader
# did not pick the library asked for, or the reference library failed. A row that fails for ferrozmq (missing symbol,
# transport not implemented, timeout, crash) is shown as "n/a (reason)" and
# never changes the exit status; nor does a draft-API row (client-server,
# radio-dish) that the reference cannot run (Debian's libzmq is built without
# the draft API).
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument: $arg (try --help)" >&2; exit 64 ;;
    esac
done

FILTER=${BENCH_FILTER:-}
if [ "$QUICK" = 1 ]; then REPS=${BENCH_REPS:-1}; else REPS=${BENCH_REPS:-3}; fi
RUN_LIMIT=${BENCH_TIMEOUT:-20}
REF_LIB=${BENCH_REF_LIB:-/usr/lib/x86_64-linux-gnu/libzmq.so.5}
# After one repetition slower than this (seconds), the others are skipped,
# so that a slow library cannot stretch the whole run.
SLOW_RUN=5

WORK=$(mktemp -d /tmp/ferrozmq-bench.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT
# Raw output collects here and is copied to target/bench/raw.log at the end,
# so two runs at once do not interleave in one file.
RAW_LOG="$WORK/raw.log"
: > "$RAW_LOG"
FINAL_LOG="$ROOT/target/bench/raw.log"

status=0
say() { printf '%s\n' "$*" >&2; }

# ------------------------------------------------------------------ build
OURS_OK=1
OURS_WHY=""
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    say "== cargo build --release"
    if ! cargo build --release >&2; then
        OURS_OK=0; OURS_WHY="cargo build failed"; status=1
    fi
fi
OURS_SO=${BENCH_OURS_LIB:-$ROOT/target/release/libzmq.so}
if [ "$OURS_OK" = 1 ] && [ ! -f "$OURS_SO" ]; then
    OURS_OK=0; OURS_WHY="$OURS_SO not found"; status=1
fi

# One directory per library, each holding libzmq.so.5 (what the binary asks
# the loader for) and libzmq.so (what -lzmq asks the linker for).
mkdir -p "$WORK/ours" "$WORK/ref"
OURS_REAL=""
if [ "$OURS_OK" = 1 ]; then
    OURS_REAL=$(realpath "$OURS_SO")
    ln -s "$OURS_REAL" "$WORK/ours/libzmq.so.5"
    ln -s "$OURS_REAL" "$WORK/ours/libzmq.so"
fi
REF_OK=1
REF_WHY=""
REF_REAL=""
if [ -e "$REF_LIB" ]; then
    REF_REAL=$(realpath "$REF_LIB")
    ln -s "$REF_REAL" "$WORK/ref/libzmq.so.5"
    ln -s "$REF_REAL" "$WORK/ref/libzmq.so"
else
    REF_OK=0; REF_WHY="$REF_LIB not found"; status=1
fi

# Compile against the repo's zmq.h when it declares everything bench.c uses,
# else against the system one (same ABI). Link against ferrozmq when there is
# one: bench.c references libzmq weakly, so a library still missing functions
# links and loads, and the missing ones are reported per row.
BENCH="$WORK/bench"
CFLAGS="-O2 -Wall -Wextra -pthread"
HEADER=""
for inc in "-I$ROOT/include" ""; do
    for libdir in "$WORK/ours" "$WORK/ref"; do
        [ -e "$libdir/libzmq.so" ] || continue
        # shellcheck disable=SC2086
        if gcc $CFLAGS $inc -o "$BENCH" bench/bench.c \
               -L"$libdir" -Wl,--no-as-needed -lzmq 2>"$WORK/cc.err"; then
            HEADER=${inc:+$ROOT/include/zmq.h}
            HEADER=${HEADER:-system <zmq.h>}
            LINKED=$libdir
            break 2
        fi
    done
done
if [ -z "$HEADER" ]; then
    say "run.sh: could not compile bench/bench.c:"
    cat "$WORK/cc.err" >&2
    exit 1
fi

# Which library does each column really load?  bench --which reads
# /proc/self/maps, so it works even where zmq_version is missing.
which_lib() { # libdir -> "version=... path=..."
    LD_LIBRARY_PATH="$1" timeout -k 2 10 "$BENCH" --which 2>/dev/null
}
if [ "$OURS_OK" = 1 ]; then
    OURS_ID=$(which_lib "$WORK/ours")
    case "$OURS_ID" in
        *"path=$OURS_REAL") ;;
        *) OURS_OK=0; OURS_WHY="loader did not pick ferrozmq ($OURS_ID)"; status=1 ;;
    esac
fi
if [ "$REF_OK" = 1 ]; then
    REF_ID=$(which_lib "$WORK/ref")
    case "$REF_ID" in
        *"path=$REF_REAL") ;;
        *) REF_OK=0; REF_WHY="loader did not pick $REF_REAL ($REF_ID)"; status=1 ;;
    esac
fi

# --------------------------------------------------------- configurations
# transport test size count; counts take about a second each with libzmq
# 4.3.4 on a 2-core machine.
CONFIGS=(
    "inproc throughput 1 10000000"
    "inproc throughput 64 8000000"
    "inproc throughput 1024 5000000"
    "inproc throughput 65536 400000"
    "inproc latency 1 100000"
    "inproc latency 1024 100000"
    "tcp throughput 1 5000000"
    "tcp throughput 64 3000000"
    "tcp throughput 1024 500000"
    "tcp throughput 65536 40000"
    "tcp latency 1 25000"
    "tcp latency 1024 25000"
    "tcp latency-2ctx 1 25000"
    "ipc throughput 1 5000000"
    "ipc throughput 64 3000000"
    "ipc throughput 1024 600000"
    "ipc throughput 65536 40000"
    "ipc latency 1 30000"
    "ipc latency 1024 30000"
    "ipc latency-2ctx 1 30000"
    "tcp curve-throughput 64 300000"
    "tcp curve-throughput 1024 100000"
    "tcp curve-handshake 1 300"
    "tcp fanout-4 64 1000000"
    "tcp fanout-32 64 200000"
    "inproc client-server 64 4000000"
    "tcp client-server 64 1000000"
    "ipc client-server 64 1500000"
    "inproc radio-dish 64 2000000"
    "tcp radio-dish 64 1000000"
    "ipc radio-dish 64 1200000"
    "tcp idle-conns 10000 1"
    "tcp idle-conns-kb 10000 1"
    "tcp router-dealers 10 3000000"
    "tcp router-dealers 1000 2000000"
    "tcp sub-topics 10000 4000000"
    "tcp sub-setup 10000 4000000"
)
# Scale rows (tcp; SIZE is the number of connections, DEALERs or topics, and
# --quick leaves it alone): idle-conns and idle-conns-kb are the two figures
# of one bench run (connections/s accepted; RSS KB per connection, lower is
# better), as are sub-topics and sub-setup (delivered msg/s; subscriptions/s
# until the PUB filters with all of them).
bench_test() { # row test -> the bench test that produces it
    case "$1" in
        idle-conns-kb) echo idle-conns ;;
        sub-setup) echo sub-topics ;;
        *) echo "$1" ;;
    esac
}
# Rows of the draft API: a reference built without it (Debian's lacks zmq_join,
# and its CLIENT/SERVER abort in the tcp/ipc handshake) shows n/a for them
# without failing the run. Their counts are sized on ferrozmq.
is_draft() { [ "$1" = client-server ] || [ "$1" = radio-dish ]; }

# Raw-socket references (no libzmq; run once per repetition, not per library)
# and the row each is compared with: round trips against the latency row of
# the same transport (eventfd between threads for inproc), the loopback TCP
# stream against 64 KiB tcp throughput.
REFS=(
    "tcp raw-pingpong 1 25000|tcp latency 1"
    "ipc raw-pingpong 1 30000|ipc latency 1"
    "inproc raw-pingpong 1 100000|inproc latency 1"
    "tcp raw-stream 65536 40000|tcp throughput 65536"
)

# Rates (msg/s, connections/s) are better higher; latency and memory lower.
higher_is_better() {
    [ "$1" != latency ] && [ "$1" != latency-2ctx ] && [ "$1" != raw-pingpong ] &&
        [ "$1" != idle-conns-kb ]
}

# One run: prints the figure (msg/s or one-way us) on stdout, or returns
# non-zero with "call: reason" in $WORK/why. CPU seconds per million messages
# (throughput and fan-out rows) go to $WORK/cpu, empty when not reported.
run_one() { # libdir transport test size count
    local libdir=$1 transport=$2 test=$3 size=$4 count=$5 rc out err line
    out="$WORK/out" err="$WORK/err"
    LD_LIBRARY_PATH="$libdir" BENCH_WATCHDOG_S="$RUN_LIMIT" \
        timeout -k 2 $((RUN_LIMIT + 5)) \
        "$BENCH" "$transport" "$(bench_test "$test")" "$size" "$count" >"$out" 2>"$err"
    rc=$?
    {
        printf '# %s %s\n' "$(basename "$libdir")" "$transport $test $size $count"
        cat "$out" "$err"
    } >>"$RAW_LOG"
    if [ "$test" = sub-setup ]; then
        : >"$WORK/cpu"   # the run's CPU figure belongs to the sub-topics row
    else
        sed -n 's/.* cpu_s_per_M=\([0-9.]*\).*/\1/p' "$out" >"$WORK/cpu"
    fi
    if [ "$rc" = 0 ]; then
        case "$test" in
            latency|latency-2ctx|raw-pingpong) line=$(sed -n 's/.* latency_us=\([0-9.]*\).*/\1/p' "$out") ;;
            curve-handshake|idle-conns) line=$(sed -n 's/.* conn_per_s=\([0-9.]*\).*/\1/p' "$out") ;;
            idle-conns-kb) line=$(sed -n 's/.* kb_per_conn=\([0-9.-]*\).*/\1/p' "$out") ;;
            sub-setup) line=$(sed -n 's/.* subs_per_s=\([0-9.]*\).*/\1/p' "$out") ;;
            *) line=$(sed -n 's/.* msg_per_s=\([0-9.]*\).*/\1/p' "$out") ;;
        esac
        if [ -n "$line" ]; then
            printf '%s\n' "$line"
            return 0
        fi
        echo "no result line" >"$WORK/why"
        return 1
    fi
    local why
    why=$(sed -n 's/^ERROR //p' "$out" | tail -n 1)
    if [ -z "$why" ]; then
        case "$rc" in
            124|137) why="timeout: killed after $((RUN_LIMIT + 5)) s" ;;
            12[6-9]|1[3-9][0-9]|2[0-9][0-9])
                if [ "$rc" -gt 128 ]; then
                    # the library's last words (an assertion) name the cause
                    why="crash: killed by signal $((rc - 128))"
                    line=$(grep -v '^bench: ' "$err" | tail -n 1)
                    [ -z "$line" ] || why="crash ($line): killed by signal $((rc - 128))"
                else why=$(tail -n 1 "$err"); fi ;;
            *)  why=$(tail -n 1 "$err") ;;
        esac
        [ -n "$why" ] || why="exit status $rc"
    fi
    printf '%s\n' "$why" >"$WORK/why"
    return 1
}

best() { # test numbers... -> the best: highest msg/s, lowest latency
    local test=$1; shift
    if higher_is_better "$test"; then
        printf '%s\n' "$@" | sort -g | tail -n 1
    else
        printf '%s\n' "$@" | sort -g | head -n 1
    fi
}

# Percentage of CPU time the machine spent busy over one second. Other work
# on the CPUs (a compile, a test suite) skews both columns, so say so.
busy_pct() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat 2>/dev/null)
    sleep 1
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat 2>/dev/null)
    [ -n "$a" ] && [ -n "$b" ] || { echo "?"; return; }
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
        busy = y[1] - x[1]; total = busy + y[2] - x[2];
        printf "%d", (total > 0 ? 100 * busy / total : 0) }'
}

fmt_fig() { # test value
    if higher_is_better "$1"; then LC_ALL=C printf '%.0f' "$2"; else LC_ALL=C printf '%.2f' "$2"; fi
}

# ------------------------------------------------------------------ header
NCPU=$(nproc 2>/dev/null || echo '?')
IDLE_CHECK=$(busy_pct)
echo "ferrozmq benchmark ($([ "$QUICK" = 1 ] && echo quick || echo full) mode, best of $REPS run(s) per library and row; $NCPU CPUs)"
if [ "$OURS_OK" = 1 ]; then echo "  ferrozmq: $OURS_ID"; else echo "  ferrozmq: n/a ($OURS_WHY)"; fi
if [ "$REF_OK" = 1 ]; then echo "  libzmq:   $REF_ID"; else echo "  libzmq:   n/a ($REF_WHY)"; fi
echo "  bench.c compiled against $HEADER, linked against $(basename "$LINKED") ($(basename "$(readlink "$LINKED/libzmq.so" 2>/dev/null || echo '?')"))"
echo "  throughput: PUSH->PULL in one process, msg/s from the receiver's first to last message"
echo "  latency:    REQ<->REP in one process, microseconds one-way = mean round trip / 2;"
echo "              the process (both ends, I/O threads) pinned to one CPU;"
echo "              latency-2ctx: the REQ in a context of its own (as in two processes)"
echo "  fanout-N:   PUB -> N SUBs (tcp, XPUB_NODROP so none dropped), aggregate msg/s delivered"
echo "  client-server, radio-dish: throughput as above with the draft thread-safe sockets"
echo "              (RADIO with XPUB_NODROP, one DISH joined to group \"g\"); a reference"
echo "              without the draft API shows n/a there and does not fail the run"
echo "  cpu s/M:    process CPU seconds (user+sys, getrusage) per million messages, best run"
echo "  curve-*:    CURVE on both ends (no ZAP handler); throughput as above, handshake:"
echo "              connections/s, each a new DEALER: connect, handshake, one round trip, close"
echo "  idle-conns: 10,000 raw ZMTP clients (a forked process) connect to one ROUTER and"
echo "              send one message each: conn/s until the ROUTER has them all;"
echo "              idle-conns-kb: the ROUTER process's RSS growth per connection (KB)"
echo "  router-dealers N: one ROUTER fed by N DEALERs (2 sender threads), msg/s at the ROUTER"
echo "  sub-topics: PUB -> SUB subscribed to 10,000 topics, 1 in 4 messages matching none,"
echo "              delivered msg/s; sub-setup: subscriptions/s until the PUB filters with all"
echo "  ratio > 1 means ferrozmq is better: rates (msg/s, conn/s) ours/theirs, latency and"
echo "              memory theirs/ours"
if [ "$IDLE_CHECK" != "?" ] && [ "$IDLE_CHECK" -ge 15 ]; then
    echo "  WARNING: the CPUs were ${IDLE_CHECK}% busy just before the run; other"
    echo "  processes compete with the benchmark and the figures will be noisy"
fi
echo
ROW_FMT='%-9s %-16s %6s %-6s %-34s %-16s %-5s %8s %8s\n'
# shellcheck disable=SC2059
printf "$ROW_FMT" transport test size unit ferrozmq libzmq ratio "cpu s/M" "cpu s/M"
# shellcheck disable=SC2059
printf "$ROW_FMT" "" "" "" "" "" "" "" ferrozmq libzmq
# shellcheck disable=SC2059
printf "$ROW_FMT" --------- ---------------- ------ ------ ---------------------------------- ---------------- ----- -------- --------

# why n/a: full reason -> the rows it happened in, in order of appearance
declare -A WHY_ROWS=()
WHY_ORDER=()
note_failure() { # side reason row
    local key="$1: $(printf '%s' "$2" | sed -E -e 's#ferrozmq-bench-[0-9]+-[0-9a-f]+\.ipc#ferrozmq-bench-*.ipc#g' \
        -e 's#(inproc://bench-[a-z]+)-[0-9]+#\1-*#g')"
    if [ -z "${WHY_ROWS[$key]+set}" ]; then
        WHY_ORDER+=("$key")
        WHY_ROWS[$key]="$3"
    else
        WHY_ROWS[$key]+=", $3"
    fi
}
RATIOS=()
# best figure per "transport test size", for the raw-reference ratios
declare -A BEST_OURS=() BEST_REF=()
min_cpu() { # current candidate -> the smaller (empty counts as none)
    if [ -z "$1" ]; then printf '%s' "$2"
    elif [ -z "$2" ]; then printf '%s' "$1"
    else awk -v a="$1" -v b="$2" 'BEGIN { print (b < a ? b : a) }'; fi
}
t_start=$(date +%s)
for cfg in "${CONFIGS[@]}"; do
    read -r transport test size count <<<"$cfg"
    if [ -n "$FILTER" ] && ! [[ "$transport $test $size" =~ $FILTER ]]; then
        continue
    fi
    if [ "$QUICK" = 1 ]; then count=$(( count / 10 )); fi
    [ "$count" -ge 2 ] || count=2

    ours_vals=() ref_vals=()
    ours_fail="" ref_fail=""
    ours_cpu="" ref_cpu=""
    [ "$OURS_OK" = 1 ] || ours_fail="see header"
    [ "$REF_OK" = 1 ] || ref_fail="see header"
    for ((rep = 1; rep <= REPS; rep++)); do
        # alternate the libraries so slow drift on the machine hits both
        for side in ours ref; do
            if [ "$side" = ours ]; then
                [ -z "$ours_fail" ] || continue
                [ "$rep" = 1 ] || [ "${ours_slow:-0}" = 0 ] || continue
            else
                [ -z "$ref_fail" ] || continue
                [ "$rep" = 1 ] || [ "${ref_slow:-0}" = 0 ] || continue
            fi
            t0=$(date +%s%N)
            if v=$(run_one "$WORK/$side" "$transport" "$test" "$size" "$count"); then
                slow=$(( ($(date +%s%N) - t0) / 1000000000 >= SLOW_RUN ))
                c=$(cat "$WORK/cpu")
                if [ "$side" = ours ]; then
                    ours_vals+=("$v"); ours_slow=$slow; ours_cpu=$(min_cpu "$ours_cpu" "$c")
                else
                    ref_vals+=("$v"); ref_slow=$slow; ref_cpu=$(min_cpu "$ref_cpu" "$c")
                fi
            else
                why=$(cat "$WORK/why")
                if [ "$side" = ours ]; then ours_fail=$why; else ref_fail=$why; fi
            fi
        done
    done
    ours_slow=0 ref_slow=0

    ours_cell="" ref_cell="" ratio="-"
    ours_best="" ref_best=""
    # A run that fails after others succeeded still counts: the figure is
    # marked "!" and the failure listed under the table.
    if [ ${#ours_vals[@]} -gt 0 ]; then
        ours_best=$(best "$test" "${ours_vals[@]}"); ours_cell=$(fmt_fig "$test" "$ours_best")
        BEST_OURS["$transport $test $size"]=$ours_best
    else
        ours_cell="n/a (${ours_fail##*: })"
    fi
    if [ -n "$ours_fail" ] && [ "$OURS_OK" = 1 ]; then
        note_failure ferrozmq "$ours_fail" "$transport $test $size"
        [ ${#ours_vals[@]} -eq 0 ] || ours_cell="$ours_cell !"
    fi
    if [ ${#ref_vals[@]} -gt 0 ]; then
        ref_best=$(best "$test" "${ref_vals[@]}"); ref_cell=$(fmt_fig "$test" "$ref_best")
        BEST_REF["$transport $test $size"]=$ref_best
    else
        ref_cell="n/a (${ref_fail##*: })"
    fi
    if [ -n "$ref_fail" ]; then
        is_draft "$test" || status=1
        if [ "$REF_OK" = 1 ]; then
            note_failure libzmq "$ref_fail" "$transport $test $size"
            [ ${#ref_vals[@]} -eq 0 ] || ref_cell="$ref_cell !"
        fi
    fi
    if [ -n "$ours_best" ] && [ -n "$ref_best" ]; then
        if higher_is_better "$test"; then
            ratio=$(awk -v a="$ours_best" -v b="$ref_best" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
        else
            ratio=$(awk -v a="$ref_best" -v b="$ours_best" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
        fi
        RATIOS+=("$ratio")
    fi
    # a cell shows the end of the reason, cut to fit; the full one is below
    [ ${#ours_cell} -le 34 ] || ours_cell="${ours_cell:0:32}.)"
    [ ${#ref_cell} -le 16 ] || ref_cell="${ref_cell:0:14}.)"
    case "$test" in
        latency|latency-2ctx) unit=us ;;
        curve-handshake|idle-conns) unit=conn/s ;;
        idle-conns-kb) unit=KB ;;
        sub-setup) unit=sub/s ;;
        *) unit=msg/s ;;
    esac
    # shellcheck disable=SC2059
    printf "$ROW_FMT" "$transport" "$test" "$size" "$unit" "$ours_cell" "$ref_cell" "$ratio" \
        "${ours_cpu:--}" "${ref_cpu:--}"
done

# ------------------------------------------------------- raw references
# Run when the row they are compared with ran, or when the filter names them.
REF_ROWS=()
for entry in "${REFS[@]}"; do
    cfg=${entry%%|*} versus=${entry#*|}
    read -r transport test size count <<<"$cfg"
    if [ -n "$FILTER" ] && ! [[ "$transport $test $size" =~ $FILTER ]] &&
        ! [[ "$versus" =~ $FILTER ]]; then
        continue
    fi
    REF_ROWS+=("$entry")
done
if [ ${#REF_ROWS[@]} -gt 0 ]; then
    # bench itself needs some libzmq to load, though these runs never call it
    if [ "$REF_OK" = 1 ]; then raw_dir="$WORK/ref"; else raw_dir="$WORK/ours"; fi
    RAW_FMT='%-9s %-16s %6s %-6s %-12s %-21s %-12s %s\n'
    echo
    echo "raw-socket references (no libzmq, same run; best of $REPS): our figure / theirs"
    echo "  (latency: how many times the raw round trip, lower is better; stream: fraction"
    echo "   of the raw loopback bandwidth, higher is better)"
    # shellcheck disable=SC2059
    printf "$RAW_FMT" transport test size unit raw "compared with" "ferrozmq/raw" "libzmq/raw"
    # shellcheck disable=SC2059
    printf "$RAW_FMT" --------- ---------------- ------ ------ ------------ --------------------- ------------ ----------
    for entry in "${REF_ROWS[@]}"; do
        cfg=${entry%%|*} versus=${entry#*|}
        read -r transport test size count <<<"$cfg"
        if [ "$QUICK" = 1 ]; then count=$(( count / 10 )); fi
        [ "$count" -ge 2 ] || count=2
        vals=() fail=""
        for ((rep = 1; rep <= REPS; rep++)); do
            if v=$(run_one "$raw_dir" "$transport" "$test" "$size" "$count"); then
                vals+=("$v")
            else
                fail=$(cat "$WORK/why")
            fi
        done
        unit=us; [ "$test" = raw-pingpong ] || unit=msg/s
        if [ ${#vals[@]} -eq 0 ]; then
            # shellcheck disable=SC2059
            printf "$RAW_FMT" "$transport" "$test" "$size" "$unit" "n/a" "$versus" - -
            note_failure raw "$fail" "$transport $test $size"
            continue
        fi
        raw_best=$(best "$test" "${vals[@]}")
        vs() { # figure -> ratio to raw_best, or -
            [ -n "$1" ] || { echo -; return; }
            awk -v a="$1" -v b="$raw_best" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
        }
        # shellcheck disable=SC2059
        printf "$RAW_FMT" "$transport" "$test" "$size" "$unit" "$(fmt_fig "$test" "$raw_best")" \
            "$versus" "$(vs "${BEST_OURS[$versus]:-}")" "$(vs "${BEST_REF[$versus]:-}")"
    done
fi
echo
if [ ${#RATIOS[@]} -gt 0 ]; then
    printf '%s\n' "${RATIOS[@]}" | awk '$1 > 0 { s += log($1); n++ }
        END { if (n) printf "geometric mean of ratios over %d row(s): %.2f\n", n, exp(s / n) }'
fi
if [ ${#WHY_ORDER[@]} -gt 0 ]; then
    echo "failures (n/a, or \"!\": a later run of the row failed):"
    for key in "${WHY_ORDER[@]}"; do
        printf '  %s\n      in: %s\n' "$key" "${WHY_ROWS[$key]}"
    done
fi
mkdir -p "$(dirname "$FINAL_LOG")" && cp "$RAW_LOG" "$FINAL_LOG.$$" && mv -f "$FINAL_LOG.$$" "$FINAL_LOG"
echo "raw output: $FINAL_LOG ($(( $(date +%s) - t_start )) s of runs)"
if [ "$IDLE_CHECK" != "?" ]; then
    echo "CPU busy (other processes) just before: ${IDLE_CHECK}%, just after: $(busy_pct)%"
fi
exit "$status"
