# kafka_lib.sh - shared helpers for the tests/integration/test_kafka_*.sh scripts: start a
# vigil-broker on loopback, bounded waits, cleanup of every background process on exit.
# Sourced, not run; not a test itself (ctest only globs test_*.sh).

set -euo pipefail

: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the repository root}"
: "${VG_TEST_DATA:=$VG_SRC/tests/data}"

KT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vg-kafka-test.XXXXXX")
KT_PIDS=()

kt_cleanup() {
    local pid
    for pid in "${KT_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    done
    sleep 0.2
    for pid in "${KT_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$KT_TMP"
}
trap kt_cleanup EXIT

kt_fail() {
    echo "FAIL: $*" >&2
    for f in "$KT_TMP"/*.log; do
        [ -f "$f" ] || continue
        echo "---- $f (tail)" >&2
        tail -n 30 "$f" >&2
    done
    exit 1
}

# kt_start_broker ARGS... : starts vigil-broker, sets BROKER_PID and BOOTSTRAP.
kt_start_broker() {
    local out="$KT_TMP/broker.out" i
    : >"$out"
    "$VG_BIN/vigil-broker" "$@" >"$out" 2>"$KT_TMP/broker.log" &
    BROKER_PID=$!
    KT_PIDS+=("$BROKER_PID")
    for i in $(seq 100); do
        if head -n 1 "$out" | grep -q '^bootstrap='; then
            BOOTSTRAP=$(head -n 1 "$out" | sed 's/^bootstrap=//')
            return 0
        fi
        sleep 0.05
    done
    kt_fail "vigil-broker printed no bootstrap line within 5s"
}

# kt_wait_exit PID SECONDS : waits for a background child, sets KT_RC; fails on timeout.
kt_wait_exit() {
    local pid=$1 secs=$2 i
    for i in $(seq $((secs * 20))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            KT_RC=0
            wait "$pid" || KT_RC=$?
            return 0
        fi
        sleep 0.05
    done
    kt_fail "process $pid still running after ${secs}s"
}

# kt_consume TOPIC COUNT SECONDS [kcat args...] : prints up to COUNT message values.
kt_consume() {
    local topic=$1 count=$2 secs=$3
    shift 3
    timeout "$secs" kcat -b "$BOOTSTRAP" -C -t "$topic" -o beginning -c "$count" -q "$@" || true
}

# kt_count TOPIC SECONDS : number of messages in a topic now (reads to its end).
kt_count() {
    timeout "$2" kcat -b "$BOOTSTRAP" -C -t "$1" -o beginning -e -q -f 'x\n' | wc -l
}
