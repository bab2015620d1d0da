#!/usr/bin/env bash
# test_ops_metrics.sh - the operations endpoint of a running vigild, as Prometheus and a
# load balancer see it: records fed through a FIFO on stdin move /metrics counters, /healthz
# is 200 while consuming, every metric the Grafana dashboard queries exists, EOF and SIGTERM
# both end the daemon with exit 0. No curl needed: HTTP goes through bash's /dev/tcp.
set -euo pipefail

: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the repository root}"
VIGILD=${VIGILD:-$VG_BIN/vigild}

T=$(mktemp -d "${TMPDIR:-/tmp}/vg-ops-test.XXXXXX")
VIGILD_PID=""
cleanup() {
    exec 3>&- 2>/dev/null || true
    if [ -n "$VIGILD_PID" ]; then kill -KILL "$VIGILD_PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/vigild.log" ] && { echo "---- vigild stderr (tail)" >&2; tail -n 30 "$T/vigild.log" >&2; }
    exit 1
}

# http_get PATH : prints the status code on the first line, then the body.
http_get() {
    local reply
    reply=$({ printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&5 && cat <&5; } \
        5<>"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null | tr -d '\r') || return 1
    [ -n "$reply" ] || return 1
    printf '%s\n' "$reply" | sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p'
    printf '%s\n' "$reply" | sed '1,/^$/d'
}

# metric SERIES : the value of one sample in the last scrape (metrics.txt), or "" if absent.
metric() {
    awk -v s="$1" '$1 == s { print $2; exit }' "$T/metrics.txt"
}

scrape() {
    http_get /metrics >"$T/scrape" || fail "cannot connect to 127.0.0.1:$PORT"
    [ "$(head -n 1 "$T/scrape")" = 200 ] || fail "/metrics status $(head -n 1 "$T/scrape")"
    tail -n +2 "$T/scrape" >"$T/metrics.txt"
}

# wait_metric SERIES VALUE SECONDS : polls /metrics until SERIES >= VALUE.
wait_metric() {
    local i v
    for i in $(seq $(($3 * 10))); do
        scrape
        v=$(metric "$1")
        if [ -n "$v" ] && awk -v a="$v" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; then return 0; fi
        sleep 0.1
    done
    fail "$1 is '${v:-absent}' after ${3}s, expected >= $2"
}

# wait_health CODE SECONDS
wait_health() {
    local i code=""
    for i in $(seq $(($2 * 10))); do
        code=$(http_get /healthz 2>/dev/null | sed -n 1p) || code=""
        [ "$code" = "$1" ] && return 0
        if ! kill -0 "$VIGILD_PID" 2>/dev/null; then fail "vigild exited while waiting for /healthz $1"; fi
        sleep 0.1
    done
    fail "/healthz is '${code:-no answer}' after ${2}s, expected $1"
}

# wait_exit SECONDS : waits for vigild, sets RC.
wait_exit() {
    local i
    for i in $(seq $(($1 * 20))); do
        if ! kill -0 "$VIGILD_PID" 2>/dev/null; then
            RC=0
            wait "$VIGILD_PID" || RC=$?
            VIGILD_PID=""
            return 0
        fi
        sleep 0.05
    done
    fail "vigild still running ${1}s after it should have ended"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_vigild NAME : vigild replaying stdin from a FIFO that fd 3 keeps open.
start_vigild() {
    PORT=$(free_port)
    cat >"$T/vigil.yaml" <<EOF
metrics:
  listen: "127.0.0.1:$PORT"
EOF
    rm -f "$T/in.fifo"
    mkfifo "$T/in.fifo"
    "$VIGILD" -c "$T/vigil.yaml" --input - --format ndjson --output "$T/$1.alerts" \
        <"$T/in.fifo" 2>"$T/vigild.log" &
    VIGILD_PID=$!
    exec 3>"$T/in.fifo" # opens once vigild has the read end
}

# records FIRST COUNT : COUNT valid NDJSON transactions with ids tFIRST.., small amounts.
records() {
    awk -v first="$1" -v n="$2" 'BEGIN {
        for (i = first; i < first + n; i++)
            printf "{\"id\":\"t%d\",\"ts\":%.0f,\"from\":\"acct%d\",\"to\":\"acct%d\",\"amount\":\"%d.25\",\"currency\":\"USD\"}\n",
                   i, 1700000000000 + i * 1000, i % 37, (i * 7 + 3) % 41, 50 + (i % 400)
    }'
}

# feed : copies stdin to vigild's FIFO; a vigild that closed its input is a failure, not
# a silent SIGPIPE.
feed() {
    cat >&3 || fail "vigild closed its input (exited?)"
}

[ -x "$VIGILD" ] || fail "no vigild at $VIGILD"

# ---- run 1: traffic moves the counters; EOF ends the daemon with 0 --------------------
start_vigild run1
wait_health 200 15

scrape
for family in vigil_transactions_total:counter vigil_alerts_total:counter \
    vigil_dead_letter_total:counter vigil_late_total:counter vigil_consumer_lag:gauge \
    vigil_tracked_accounts:gauge vigil_alert_latency_seconds:histogram vigil_up:gauge; do
    grep -qx "# TYPE ${family%%:*} ${family##*:}" "$T/metrics.txt" || fail "no '# TYPE ${family%%:*} ${family##*:}'"
    grep -q "^# HELP ${family%%:*} " "$T/metrics.txt" || fail "no HELP for ${family%%:*}"
done
[ "$(metric vigil_up)" = 1 ] || fail "vigil_up is not 1"
before=$(metric vigil_transactions_total)
[ -n "$before" ] || fail "no vigil_transactions_total sample"

# Every metric the Grafana dashboard queries is exposed.
grep -o 'vigil_[a-z_]*' "$VG_SRC/deploy/grafana-dashboard.json" | sed -E 's/_(bucket|sum|count)$//' | sort -u |
    while read -r name; do
        grep -q "^# TYPE $name " "$T/metrics.txt" || echo "$name"
    done >"$T/missing"
[ ! -s "$T/missing" ] || fail "dashboard queries metrics vigild does not expose: $(tr '\n' ' ' <"$T/missing")"

code=$(http_get /nope | sed -n 1p)
[ "$code" = 404 ] || fail "/nope answered $code, expected 404"

# 200 good records, one large transfer (large_tx), three bad ones.
records 0 200 | feed
printf '%s\n' '{"id":"big1","ts":1700000300000,"from":"whale","to":"acct1","amount":"25000","currency":"USD"}' | feed
printf '%s\n' '{"id":"bad1","ts":1700000300000,"from":"a","to":"b","currency":"USD"}' | feed
printf '%s\n' 'this is not json' | feed
printf '%s\n' '{"id":"bad3","ts":1700000300000,"from":"a","to":"b","amount":"-5","currency":"USD"}' | feed

wait_metric vigil_transactions_total $((before + 201)) 15
wait_metric 'vigil_alerts_total{rule="large_tx"}' 1 15
dead=$(awk '$1 ~ /^vigil_dead_letter_total\{/ { s += $2 } END { print s + 0 }' "$T/metrics.txt")
[ "$dead" = 3 ] || fail "vigil_dead_letter_total sums to $dead, expected 3"
[ "$(metric 'vigil_dead_letter_total{reason="missing_field"}')" = 1 ] || fail "missing amount not counted as missing_field"
[ "$(metric 'vigil_dead_letter_total{reason="malformed"}')" = 1 ] || fail "bad JSON not counted as malformed"
tracked=$(metric vigil_tracked_accounts)
[ "${tracked:-0}" -gt 0 ] || fail "vigil_tracked_accounts is '${tracked:-absent}' after traffic"
lat=$(metric vigil_alert_latency_seconds_count)
[ "${lat:-0}" -ge 1 ] || fail "no alert latency observed (vigil_alert_latency_seconds_count=${lat:-absent})"
[ "$(metric 'vigil_alert_latency_seconds_bucket{le="+Inf"}')" = "$lat" ] || fail "+Inf bucket != _count"
kill -0 "$VIGILD_PID" 2>/dev/null || fail "vigild ended while stdin is still open"

# More traffic, counters keep moving.
records 1000 50 | feed
wait_metric vigil_transactions_total $((before + 251)) 15

exec 3>&- # EOF
wait_exit 15
[ "$RC" = 0 ] || fail "vigild exited $RC after end of input"
grep -q '"rule":"large_tx"' "$T/run1.alerts" || fail "large_tx alert not in the output file"

# ---- run 2: SIGTERM while consuming (stdin still open) drains and exits 0 ----------------
start_vigild run2
wait_health 200 15
records 0 20 | feed
wait_metric vigil_transactions_total 20 15
kill -TERM "$VIGILD_PID"
wait_exit 10
[ "$RC" = 0 ] || fail "vigild exited $RC after SIGTERM"
exec 3>&-

echo "ok: metrics move with traffic, healthz, dashboard names, EOF and SIGTERM exits"
