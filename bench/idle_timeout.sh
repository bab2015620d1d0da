#!/usr/bin/env bash
# idle_timeout.sh - what input.idle_timeout costs in alert latency (issue: event-time merge of
# partitions). Runs vigil-latency against a Release-or-current vigild on vigil-broker with an
# 8-partition input topic in three shapes: all 8 partitions busy; 4 busy and 4 that never
# get a record (idle from the start); 4 busy and 4 that get one record every 2 s (the worst
# case: each of their records makes the merge wait for their next one, up to idle_timeout).
# Usage: bench/idle_timeout.sh [BIN_DIR] [RATE] [SECONDS] [IDLE_TIMEOUTS...]
# Prints one line per (idle_timeout, shape): produce -> alert p50/p99/max in ms.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/bin}
RATE=${2:-10000}
SECONDS_RUN=${3:-15}
shift 3 2>/dev/null || shift $#
TIMEOUTS=("${@:-1s}")
[ ${#TIMEOUTS[@]} -gt 0 ] || TIMEOUTS=(1s)
T=$(mktemp -d "${TMPDIR:-/tmp}/vg-idle.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill -TERM "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$T"; }
trap cleanup EXIT

topics=()
for i in $(seq 0 $((${#TIMEOUTS[@]} * 3))); do topics+=(--topic "in$i:8" --topic "al$i:1"); done
"$BIN/vigil-broker" "${topics[@]}" --topic dl:1 >"$T/broker.out" 2>"$T/broker.log" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^bootstrap=' "$T/broker.out" && break; sleep 0.05; done
BOOT=$(sed -n 's/^bootstrap=//p' "$T/broker.out")

n=0
printf '%-12s %-34s %10s %10s %10s\n' idle_timeout shape p50_ms p99_ms max_ms
for idle in "${TIMEOUTS[@]}"; do
    for shape in ${SHAPES:-"8 busy" "4 busy + 4 idle" "4 busy + 4 trickle (1 rec / 2 s)"}; do
        cat >"$T/v$n.yaml" <<YAML
kafka:
  brokers: "$BOOT"
input:
  topic: in$n
  group: g$n
  idle_timeout: $idle
output:
  topic: al$n
dead_letter:
  topic: dl
YAML
        "$BIN/vigild" -c "$T/v$n.yaml" >/dev/null 2>"$T/v$n.log" &
        vpid=$!
        PIDS+=($vpid)
        for _ in $(seq 200); do grep -q kafka_assigned "$T/v$n.log" && break; sleep 0.05; done
        sleep 1.5
        case $shape in
        "8 busy") extra=(--partitions 8 --busy 8) ;;
        "4 busy + 4 idle") extra=(--partitions 8 --busy 4) ;;
        *) extra=(--partitions 8 --busy 4 --trickle-ms 2000) ;;
        esac
        out=$(timeout $((SECONDS_RUN + 90)) "$BIN/vigil-latency" --brokers "$BOOT" --topic "in$n" --alerts "al$n" \
            --rate "$RATE" --seconds "$SECONDS_RUN" --drain 20 "${extra[@]}" 2>/dev/null || true)
        kill -TERM "$vpid" 2>/dev/null || true
        wait "$vpid" 2>/dev/null || true
        p50=$(sed -nE 's/.*p50_ms=([0-9.]+).*/\1/p' <<<"$out")
        p99=$(sed -nE 's/.*p99_ms=([0-9.]+).*/\1/p' <<<"$out")
        mx=$(sed -nE 's/.*max_ms=([0-9.]+).*/\1/p' <<<"$out")
        printf '%-12s %-34s %10s %10s %10s\n' "$idle" "$shape" "${p50:-?}" "${p99:-?}" "${mx:-?}"
        n=$((n + 1))
    done
done
