#!/usr/bin/env bash
# Runs the C tests listed below under valgrind: any leak or invalid access fails.
# The binaries and library links are the ones `cargo test` built (target/debug).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
bin=$target/debug/capi-bin
lib=$target/debug/capi-lib
if [ ! -d "$bin" ]; then
    cargo test --test capi >/dev/null
fi
status=0
for t in ${VALGRIND_TESTS:-test_msg test_z85 test_context test_timers test_atomic test_pair_pipeline test_reqrep test_router test_poller test_pubsub}; do
    [ -x "$bin/$t" ] || { echo "valgrind: $t not built"; status=1; continue; }
    if LD_LIBRARY_PATH=$lib FERROZMQ_LIB=$lib/libzmq.so.5 \
        valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$bin/$t" > /tmp/valgrind-$t.log 2>&1; then
        echo "valgrind ok   $t"
    else
        echo "valgrind FAIL $t"; cat /tmp/valgrind-$t.log; status=1
    fi
done
exit $status
