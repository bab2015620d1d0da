#!/usr/bin/env bash
# test_ops_stop_broker_down.sh - SIGTERM while the Kafka cluster does not answer (contract 7:
# TERM drains and exits 0; systemd's TimeoutStopSec is 30 s): a vigild still starting
# against a bootstrap nobody listens on ends within a few seconds with exit 0, at-least-once
# and exactly-once alike (init_transactions alone used to wait 30 s, then exit 2).
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"

T=$(mktemp -d "${TMPDIR:-/tmp}/vg-stop-down.XXXXXX")
PID=""
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/run.log" ] && grep -v rdkafka "$T/run.log" | tail -5 >&2; exit 1; }
# A loopback port nobody listens on.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

for eos in false true; do
    for after in 1 3; do
        printf 'kafka:\n  brokers: "127.0.0.1:%s"\noutput:\n  exactly_once: %s\n' "$PORT" "$eos" >"$T/vigil.yaml"
        "$VG_BIN/vigild" -c "$T/vigil.yaml" >/dev/null 2>"$T/run.log" &
        PID=$!
        sleep "$after"
        kill -0 "$PID" 2>/dev/null || fail "exactly_once=$eos: vigild ended before the SIGTERM"
        start=$(date +%s%N)
        kill -TERM "$PID"
        for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
        kill -0 "$PID" 2>/dev/null && fail "exactly_once=$eos: still running 5 s after SIGTERM (sent ${after}s after start)"
        rc=0
        wait "$PID" || rc=$?
        PID=""
        [ "$rc" = 0 ] || fail "exactly_once=$eos: exit $rc after SIGTERM, want 0"
        echo "exactly_once=$eos, SIGTERM ${after}s after start: exit 0 in $((($(date +%s%N) - start) / 1000000)) ms"
    done
done
echo "ok: SIGTERM while the broker is down"
