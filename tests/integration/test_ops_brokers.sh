#!/usr/bin/env bash
# test_ops_brokers.sh - no silent development broker (issue 25 item 2, contract 6): in Kafka
# mode kafka.brokers must be written: without it --check-config and a start fail with one
# line naming the key (exit 1), not a healthy daemon reading an empty in-process broker;
# `embedded` written starts, says "development" in its log and in /healthz's body; the
# deployment example names a real bootstrap list and passes --check-config; --demo still runs.
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the repository root}"
T=$(mktemp -d "${TMPDIR:-/tmp}/vg-brokers-test.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
VIGILD=$VG_BIN/vigild

printf 'input:\n  topic: tx\nmetrics:\n  listen: "127.0.0.1:0"\n' >"$T/nobrokers.yaml"
for args in "-c $T/nobrokers.yaml --check-config" "-c $T/nobrokers.yaml" ""; do
    rc=0
    timeout 20 "$VIGILD" $args >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" = 1 ] || fail "vigild $args without kafka.brokers exited $rc, want 1"
    [ "$(wc -l <"$T/err")" = 1 ] || fail "vigild $args: not one line: $(cat "$T/err")"
    grep -q ': kafka.brokers: required' "$T/err" || fail "vigild $args: no reason: $(cat "$T/err")"
done
grep -q "^$T/nobrokers.yaml: kafka.brokers: " "$T/err" && fail "the no-config run named a file"
echo "missing kafka.brokers: refused (exit 1, one line)"

# The example people copy: a real bootstrap list, valid.
grep -qE '^  brokers: kafka1:9092,kafka2:9092 ' "$VG_SRC/deploy/vigil.yaml" || fail "deploy/vigil.yaml names no bootstrap list"
"$VIGILD" -c "$VG_SRC/deploy/vigil.yaml" --check-config >/dev/null || fail "deploy/vigil.yaml does not pass --check-config"

# A replay does not need kafka.brokers.
printf '{"id":"a","ts":1,"from":"A","to":"B","amount":"20000","currency":"USD"}\n' >"$T/in.ndjson"
"$VIGILD" -c "$T/nobrokers.yaml" --input "$T/in.ndjson" --output "$T/alerts" 2>/dev/null ||
    fail "replay with a config without kafka.brokers failed"
grep -q large_tx "$T/alerts" || fail "replay gave no alert"

# embedded, written: starts, and says it is a development broker in the log and /healthz.
printf 'kafka:\n  brokers: embedded\nmetrics:\n  listen: "127.0.0.1:0"\n' >"$T/embedded.yaml"
"$VIGILD" -c "$T/embedded.yaml" >/dev/null 2>"$T/emb.log" &
PID=$!
for i in $(seq 200); do grep -q 'event=kafka_assigned' "$T/emb.log" && break; sleep 0.1; done
port=$(sed -nE 's/.*event=metrics_listening .*port=([0-9]+).*/\1/p' "$T/emb.log")
[ -n "$port" ] || fail "no metrics port: $(cat "$T/emb.log")"
grep -q 'level=warn event=kafka_embedded .*[Dd]evelopment' "$T/emb.log" || fail "embedded not logged as development"
body=""
for i in $(seq 100); do
    body=$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null) && break
    sleep 0.1
done
echo "$body" | grep -q '^ok (kafka.brokers: embedded, a development broker' || fail "/healthz body: '$body'"
kill -TERM "$PID"
wait "$PID" || fail "embedded run exited $?"
PID=
echo "embedded: logged and shown in /healthz ($body)"

# The demo keeps its own config (embedded broker + synthetic stream).
timeout 60 "$VIGILD" --demo=3 >"$T/demo.out" 2>"$T/demo.err" || fail "--demo exited $?: $(tail -5 "$T/demo.err")"
grep -q 'vigild summary: ' "$T/demo.err" || fail "--demo printed no summary"
! grep -q 'event=kafka_embedded' "$T/demo.err" || fail "--demo warned about its own broker"
echo "PASS test_ops_brokers"
