#!/usr/bin/env bash
# checkpoint_bench.sh - state.dir checkpoint costs at scale, measured mid-stream: replays a
# generated stream at full speed with state.interval 1s (INTERVAL=... to change): first ACCOUNTS/2 transfers, each
# between two accounts never seen before (ACCOUNTS distinct accounts, default 1M), then EXTRA
# transfers among those accounts (default 3 x ACCOUNTS), so several checkpoints are taken
# while records are still pouring in. Prints, for those mid-stream checkpoints, the input stall
# (drain + fork) and the child's encode and write time; the final (shutdown, in-process) one
# apart; the replay rate against the same replay without checkpoints; the memory a checkpoint
# child held (copy-on-write copies + its encoded image); and the restore time.
# Usage: bench/checkpoint_bench.sh [BUILD_DIR] [ACCOUNTS] [EXTRA]
set -euo pipefail
BUILD=${1:-build}
ACCOUNTS=${2:-1000000}
EXTRA=${3:-$((ACCOUNTS * 3))}
INTERVAL=${INTERVAL:-1s}   # state.interval; production default is 30s
VIGILD=$BUILD/bin/vigild
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vg-ckpt-bench.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT

# One event-time second per transfer; the EXTRA ones pick both ends among the ACCOUNTS.
awk -v n=$((ACCOUNTS / 2)) -v m="$EXTRA" 'BEGIN { t0 = 1704067200000
    for (i = 0; i < n; i++)
        printf "{\"id\":\"t%d\",\"ts\":%.0f,\"from\":\"acct%09d\",\"to\":\"acct%09d\",\"amount\":\"%d.50\",\"currency\":\"USD\"}\n", i, t0 + i * 1000, 2 * i, 2 * i + 1, 100 + i % 5000
    for (j = 0; j < m; j++) { i = n + j
        printf "{\"id\":\"t%d\",\"ts\":%.0f,\"from\":\"acct%09d\",\"to\":\"acct%09d\",\"amount\":\"%d.50\",\"currency\":\"USD\"}\n", i, t0 + i * 1000, 2 * ((j * 7919) % n), 2 * ((j * 104729) % n) + 1, 100 + i % 5000 } }' >"$TMP/in.ndjson"
LINES=$((ACCOUNTS / 2 + EXTRA))
printf 'state:\n  dir: %s/state\n  interval: %s\n' "$TMP" "$INTERVAL" >"$TMP/cfg.yaml"
[ -z "${LOG_LEVEL:-}" ] || printf 'log:\n  level: %s\n' "$LOG_LEVEL" >>"$TMP/cfg.yaml"

# Largest parent RSS and largest checkpoint child Private_Dirty (kB) while $1 runs: a child's
# private pages are the ones the parent wrote since the fork (copied) plus the child's image.
sample_memory() {
    local pid=$1 parent=0 child=0 v c
    while kill -0 "$pid" 2>/dev/null; do
        v=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        [ -n "$v" ] && [ "$v" -gt "$parent" ] && parent=$v
        for c in $(pgrep -P "$pid" || true); do
            v=$(awk '/^Private_Dirty/ { print $2 }' "/proc/$c/smaps_rollup" 2>/dev/null || true)
            [ -n "$v" ] && [ "$v" -gt "$child" ] && child=$v
        done
        sleep 0.05
    done
    echo "$parent $child"
}

"$VIGILD" --input "$TMP/in.ndjson" --output /dev/null 2>"$TMP/plain.log"
"$VIGILD" -c "$TMP/cfg.yaml" --input "$TMP/in.ndjson" --output /dev/null 2>"$TMP/run.log" &
pid=$!
read -r parent_kb child_kb < <(sample_memory "$pid")
wait "$pid"
"$VIGILD" -c "$TMP/cfg.yaml" --input /dev/null --output /dev/null 2>"$TMP/restore.log"

rate() { sed -nE 's/.*event=replay_done.* records_per_s=([0-9]+).*/\1/p' "$1"; }
awk -v lines="$LINES" -v interval="$INTERVAL" -v plain_rate="$(rate "$TMP/plain.log")" -v parent_kb="$parent_kb" -v child_kb="$child_kb" '
    function field(name,   i, kv) { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] } return "" }
    /event=checkpoint_snapshot/ {
        if (field("lines") + 0 < lines) {
            n++; stall[n] = field("stall_ms") + 0
            if (stall[n] > smax) { smax = stall[n]; sdrain = field("drain_ms"); sfork = field("fork_ms") }
            if (field("drain_ms") + 0 > dmax) dmax = field("drain_ms") + 0
            if (field("fork_ms") + 0 > fmax) fmax = field("fork_ms") + 0
            if (field("mode") == "copy") copies++
        } else { fstall = field("stall_ms"); fcopy = field("copy_ms"); fbytes = field("bytes") }
    }
    /event=checkpoint_written/ && /mode=fork/ { w++
        if (field("encode_ms") + 0 > emax) emax = field("encode_ms") + 0
        if (field("write_ms") + 0 > wmax) wmax = field("write_ms") + 0
        if (field("background_ms") + 0 > bmax) bmax = field("background_ms") + 0
        if (field("bytes") + 0 > bmax_bytes) bmax_bytes = field("bytes") + 0 }
    /event=checkpoint_failed/ { failed++ }
    /event=replay_done/ { tracked = field("accounts"); ckpt_rate = field("records_per_s") }
    END {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (stall[j] < stall[i]) { t = stall[i]; stall[i] = stall[j]; stall[j] = t }
        printf "accounts tracked         %d, %d records\n", tracked, lines
        printf "mid-stream checkpoints   %d (interval %s; %d by in-process copy, %d failed)\n", n, interval, copies, failed
        printf "longest input stall      %.2f ms = drain %.2f + fork %.2f ms (median %.2f ms)\n", smax, sdrain, sfork, n ? stall[int((n + 1) / 2)] : 0
        printf "largest drain / fork     %.2f / %.2f ms\n", dmax, fmax
        printf "child encode / write     up to %.0f / %.0f ms, %.0f ms fork to fsynced file (largest %.1f MB)\n", emax, wmax, bmax, bmax_bytes / 1e6
        printf "final checkpoint         %.1f MB, stall %s ms (shutdown: copied in process, copy %s ms)\n", fbytes / 1e6, fstall, fcopy
        printf "replay rate              %d records/s with checkpoints, %d without\n", ckpt_rate, plain_rate
        printf "memory                   parent RSS up to %.0f MB; a child held up to %.0f MB of its own (copy-on-write copies + image)\n", parent_kb / 1024, child_kb / 1024
    }' "$TMP/run.log"
grep -h checkpoint_snapshot "$TMP/run.log" | sed -E 's/^ts=[^ ]* level=info event=checkpoint_snapshot /  /'
sed -nE 's/.*event=checkpoint_restored.* restore_ms=([0-9.]+).*/restore time             \1 ms (decode into a fresh engine; file read excluded)/p' "$TMP/restore.log"
