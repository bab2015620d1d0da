#!/usr/bin/env bash
# test_ops_exit_codes.sh - startup and run failures end with one key=value line naming the
# real reason and the contract's exit code (issue 25 item 5, contract 2: 1 bad config or
# usage, 2 runtime failure): the metrics port in use (2 in Kafka mode, the port named; a replay
# goes on without /metrics), a state.dir that cannot be created (1), a replay of which not one record could be read (2, with the format
# the input looks like), while an empty input and the right --format still exit 0.
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the repository root}"
T=$(mktemp -d "${TMPDIR:-/tmp}/vg-exit-test.XXXXXX")
HOLDER=
trap '[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
VIGILD=$VG_BIN/vigild
# last_line LOG EXIT WORDS : the log ends with the failure line for EXIT saying WORDS
last_line() {
    tail -n 1 "$1" | grep -q "level=error event=vigild_failed exit=$2 msg=\".*$3" ||
        fail "last line of $1 is not the failure ($2, '$3'): $(tail -n 3 "$1")"
    [ "$(grep -c 'level=error' "$1")" = 1 ] || fail "more than one error line: $(grep level=error "$1")"
}
printf '{"id":"a","ts":1,"from":"A","to":"B","amount":"20000","currency":"USD"}\n' >"$T/in.ndjson"

# Metrics port in use: exit 2 in Kafka mode, the port and the reason named, not
# libmicrohttpd's "port 0"; a replay with the same config (the service's, on its host) goes on
# without /metrics.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(120)' >"$T/port" &
HOLDER=$!
for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")
printf 'kafka:\n  brokers: embedded\nmetrics:\n  listen: "127.0.0.1:%s"\n' "$PORT" >"$T/busy.yaml"
"$VIGILD" -c "$T/busy.yaml" --input "$T/in.ndjson" --output "$T/busy.alerts" 2>"$T/busy-replay.log" ||
    fail "a replay with a taken metrics port failed: $(tail -2 "$T/busy-replay.log")"
grep -q "event=metrics_unavailable .*port $PORT: Address already in use" "$T/busy-replay.log" || fail "no metrics_unavailable warning"
grep -q large_tx "$T/busy.alerts" || fail "the replay gave no alerts"
rc=0
timeout 30 "$VIGILD" -c "$T/busy.yaml" >/dev/null 2>"$T/busy.log" || rc=$?
[ "$rc" = 2 ] || fail "metrics port in use: exit $rc, want 2"
last_line "$T/busy.log" 2 "port $PORT: Address already in use"
! grep -q 'port 0' "$T/busy.log" || fail "misleading 'port 0' message: $(cat "$T/busy.log")"
echo "metrics port in use: exit 2 ($(tail -n 1 "$T/busy.log" | sed 's/.*msg=//'))"

# A state.dir that cannot be created: exit 1 (configuration), refused before anything starts
# with one FILE:LINE: KEY: why line.
touch "$T/afile"
printf 'kafka:\n  brokers: embedded\nstate:\n  dir: %s/afile/state\n' "$T" >"$T/state.yaml"
rc=0
timeout 30 "$VIGILD" -c "$T/state.yaml" >/dev/null 2>"$T/state.log" || rc=$?
[ "$rc" = 1 ] || fail "uncreatable state.dir: exit $rc, want 1: $(cat "$T/state.log")"
[ "$(cat "$T/state.log")" = "$T/state.yaml:4: state.dir: '$T/afile/state' cannot be used: Not a directory" ] ||
    fail "uncreatable state.dir: $(cat "$T/state.log")"
rc=0
"$VIGILD" --input "$T/in.ndjson" --state-dir "$T/afile/state" --output /dev/null 2>"$T/sd.log" || rc=$?
[ "$rc" = 1 ] || fail "uncreatable --state-dir: exit $rc, want 1"
last_line "$T/sd.log" 1 "state.dir $T/afile/state: "
echo "state.dir not creatable: exit 1"

# A replay in the wrong format: exit 2 and the format it looks like.
printf 'Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering\n' >"$T/hi.csv"
for i in $(seq 50); do
    printf '2022/09/01 00:%02d,010,8000EBD30,011,8000EBD31,%d.00,US Dollar,%d.00,US Dollar,Wire,0\n' "$i" $((i * 1000)) $((i * 1000))
done >>"$T/hi.csv"
rc=0
"$VIGILD" --input "$T/hi.csv" --output "$T/a1" 2>"$T/fmt.log" || rc=$?
[ "$rc" = 2 ] || fail "csv read as ndjson: exit $rc, want 2"
last_line "$T/fmt.log" 2 "not one of 51 records could be read as ndjson.*looks like amlworld-csv: add --format amlworld-csv"
tail -n +2 "$T/hi.csv" >"$T/nohead.csv" # without its header line too
rc=0
"$VIGILD" --input "$T/nohead.csv" --output "$T/a1" 2>"$T/fmt2.log" || rc=$?
[ "$rc" = 2 ] || fail "headerless csv read as ndjson: exit $rc, want 2"
last_line "$T/fmt2.log" 2 "add --format amlworld-csv"
rc=0
"$VIGILD" --input "$T/in.ndjson" --format amlworld-csv --output "$T/a1" 2>"$T/fmt3.log" || rc=$?
[ "$rc" = 2 ] || fail "ndjson read as csv: exit $rc, want 2"
last_line "$T/fmt3.log" 2 "looks like ndjson: add --format ndjson"
"$VIGILD" --input "$T/hi.csv" --format amlworld-csv --output "$T/a2" 2>/dev/null || fail "the right --format failed"
[ -s "$T/a2" ] || fail "the right --format gave no alerts"
: >"$T/empty"
"$VIGILD" --input "$T/empty" --output "$T/a3" 2>"$T/empty.log" || fail "an empty input exited $?"
echo "unreadable replay: exit 2 with the format it looks like; right format and empty input: exit 0"
echo "PASS test_ops_exit_codes"
