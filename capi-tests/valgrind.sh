#!/usr/bin/env bash
# Runs the C tests listed below under valgrind: any leak or invalid access fails.
# The binaries and library links are the ones `cargo test` built (target/debug).
# VALGRIND_TESTS="test_a test_b" runs only those.
#
# Only "definitely lost" blocks count as leak errors: every leak has such a root (blocks lost
# only through it are "indirectly lost" and shown with it), so this misses nothing and lets
# valgrind.supp name a known library leak by its root alone. Each suppression used is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
bin=$target/debug/capi-bin
lib=$target/debug/capi-lib
if [ ! -d "$bin" ]; then
    cargo test --test capi >/dev/null
fi
# Every C test, the network ones (tcp, ipc, monitor, hostile peers, STREAM) included.
all="test_msg test_z85 test_context test_timers test_atomic test_utils test_pair_pipeline
     test_reqrep test_router test_poller test_poll_term test_pubsub test_pubsub_x
     test_pubsub_tcp test_ipc test_tcp test_monitor test_metadata test_stream test_hostile"
status=0
for t in ${VALGRIND_TESTS:-$all}; do
    [ -x "$bin/$t" ] || { echo "valgrind: $t not built"; status=1; continue; }
    log=/tmp/valgrind-$t.log
    started=$(date +%s)
    if LD_LIBRARY_PATH=$lib FERROZMQ_LIB=$lib/libzmq.so.5 \
        valgrind -q -s --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite --suppressions=capi-tests/valgrind.supp \
        --error-exitcode=99 "$bin/$t" > "$log" 2>&1; then
        echo "valgrind ok   $t ($(( $(date +%s) - started ))s)"
        grep -o 'used_suppression: .*' "$log" | sed 's/^/              known leak, /' || true
    else
        echo "valgrind FAIL $t"; cat "$log"; status=1
    fi
done
exit $status
