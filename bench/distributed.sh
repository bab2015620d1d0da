#!/usr/bin/env bash
# distributed.sh - what the repartition hop of several instances costs (issue: scale-out on
# Kafka). On one vigil-broker it runs, on the same N-record stream (8 input partitions):
# one process (no repartition topic), then 1, 2 and 3 instances in distributed mode. For
# each: wall time from the first record produced to the last account-side event processed
# (vigil_events_total summed over the instances reaching 2 N), and the CPU time every vigild
# process used (user + sys from /proc), per record. On a 2-core machine more instances
# cannot be faster; the CPU per record says what each record costs in distributed mode, so
# what N machines would give. Not a test: asserts nothing.
# Usage: bench/distributed.sh [BIN_DIR] [RECORDS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/bin}
N=${2:-300000}
R=8
T=$(mktemp -d "${TMPDIR:-/tmp}/vg-dist.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill -TERM "$p" 2>/dev/null || true; done; sleep 0.5; [ -n "${KEEP:-}" ] || rm -rf "$T"; }
trap cleanup EXIT

topics=()
for c in 0 1 2 3; do
    topics+=(--topic "in$c:8" --topic "rep$c:$((R + 1))" --topic "st$c:$((R + 1))" --topic "al$c:2")
done
"$BIN/vigil-broker" "${topics[@]}" --topic dl:1 >"$T/broker.out" 2>"$T/broker.log" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^bootstrap=' "$T/broker.out" && break; sleep 0.05; done
BOOT=$(sed -n 's/^bootstrap=//p' "$T/broker.out")

"$BIN/vigil-gen" --format ndjson --transactions "$N" --accounts $((N / 10)) --seed 7 --patterns 3 \
    --out "$T/in.ndjson" --quiet
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cpu_s() { # PID: user + sys seconds so far
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
metric_sum() { # NAME PORTS...: the samples (every label set) summed over the instances
    local name=$1 p sum=0 v
    shift
    for p in "$@"; do
        v=$(curl -sf "http://127.0.0.1:$p/metrics" 2>/dev/null |
            awk -v s="$name" '$1 == s || index($1, s "{") == 1 { t += $2 } END { printf "%.0f", t }') || v=0
        sum=$(awk -v a="$sum" -v b="${v:-0}" 'BEGIN { printf "%.0f", a + b }')
    done
    echo "$sum"
}

printf '%-26s %10s %12s %14s %12s\n' setup wall_s records_per_s cpu_us_per_rec alerts
# run CASE INSTANCES DISTRIBUTED
run() {
    local c=$1 n=$2 dist=$3 i ports=() pids=() t0 t1 events=0 cpu=0 alerts
    for i in $(seq "$n"); do
        local p
        p=$(port)
        ports+=("$p")
        {
            printf 'kafka:\n  brokers: "%s"\n  properties:\n    session.timeout.ms: "6000"\n    heartbeat.interval.ms: "500"\ninput:\n  topic: in%s\n  group: g%s\n' \
                "$BOOT" "$c" "$c"
            if [ "$dist" = 1 ]; then
                printf '  repartition_topic: rep%s\n  repartition_partitions: %s\nstate:\n  topic: st%s\n' "$c" "$R" "$c"
            fi
            printf 'output:\n  topic: al%s\ndead_letter:\n  topic: dl\nmetrics:\n  listen: 127.0.0.1:%s\n' "$c" "$p"
        } >"$T/c$c-$i.yaml"
        "$BIN/vigild" -c "$T/c$c-$i.yaml" >/dev/null 2>"$T/c$c-$i.log" &
        pids+=($!)
        PIDS+=($!)
    done
    for i in $(seq "$n"); do
        for _ in $(seq 600); do
            grep -q 'kafka_assigned' "$T/c$c-$i.log" && break
            sleep 0.05
        done
    done
    sleep 8 # the groups settle (eager rebalances as the instances join)
    for i in "${pids[@]}"; do cpu=$(awk -v a="$cpu" -v b="$(cpu_s "$i")" 'BEGIN { printf "%.3f", a - b }'); done
    t0=$(date +%s.%N)
    "$BIN/vigil-produce" --brokers "$BOOT" --topic "in$c" --input "$T/in.ndjson" >/dev/null 2>&1
    for _ in $(seq 3000); do
        events=$(metric_sum vigil_events_total "${ports[@]}")
        [ "$events" -ge $((2 * N)) ] && break
        sleep 0.1
    done
    t1=$(date +%s.%N)
    for i in "${pids[@]}"; do cpu=$(awk -v a="$cpu" -v b="$(cpu_s "$i")" 'BEGIN { printf "%.3f", a + b }'); done
    alerts=$(metric_sum vigil_alerts_total "${ports[@]}")
    for i in "${pids[@]}"; do kill -TERM "$i"; done
    for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
    local label="1 process"
    [ "$dist" = 1 ] && label="$n instance(s), distributed"
    awk -v l="$label" -v t0="$t0" -v t1="$t1" -v n="$N" -v cpu="$cpu" -v e="$events" -v a="$alerts" 'BEGIN {
        w = t1 - t0; printf "%-26s %10.2f %12.0f %14.2f %12s%s\n", l, w, n / w, cpu * 1e6 / n, a,
        (e < 2 * n ? "  (incomplete: " e " of " 2 * n " events)" : "") }'
}
for c in ${CASES:-0 1 2 3}; do
    case $c in 0) run 0 1 0 ;; *) run "$c" "$c" 1 ;; esac
done
