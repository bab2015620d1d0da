#!/usr/bin/env bash
# checkpoint_bench.sh - state.dir checkpoint costs at scale: replays a generated stream that
# touches ACCOUNTS distinct accounts (default 1M) with checkpoints on, then restarts on an
# empty input; prints checkpoint size (and per million accounts), write time, restore time and
# the input stall (drain + snapshot copy). Usage: bench/checkpoint_bench.sh [BUILD_DIR] [ACCOUNTS]
set -euo pipefail
BUILD=${1:-build}
ACCOUNTS=${2:-1000000}
VIGILD=$BUILD/bin/vigild
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vg-ckpt-bench.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT

# ACCOUNTS/2 transfers, each between two accounts never seen before, one a second of event
# time (everything stays inside the windows: the state holds every event).
awk -v n=$((ACCOUNTS / 2)) 'BEGIN { t0 = 1704067200000
    for (i = 0; i < n; i++)
        printf "{\"id\":\"t%d\",\"ts\":%d,\"from\":\"acct%09d\",\"to\":\"acct%09d\",\"amount\":\"%d.50\",\"currency\":\"USD\"}\n", i, t0 + i * 1000, 2 * i, 2 * i + 1, 100 + i % 5000 }' >"$TMP/in.ndjson"
printf 'state:\n  dir: %s/state\n  interval: 1s\n' "$TMP" >"$TMP/cfg.yaml"

"$VIGILD" -c "$TMP/cfg.yaml" --input "$TMP/in.ndjson" --output /dev/null 2>"$TMP/run.log"
"$VIGILD" -c "$TMP/cfg.yaml" --input /dev/null --output /dev/null 2>"$TMP/restore.log"

awk -v accounts="$ACCOUNTS" '
    /event=checkpoint_snapshot/ { for (i = 1; i <= NF; i++) { split($i, kv, "=");
        if (kv[1] == "stall_ms" && kv[2] > stall) stall = kv[2];
        if (kv[1] == "bytes") bytes = kv[2]; } snaps++ }
    /event=checkpoint_written/ { for (i = 1; i <= NF; i++) { split($i, kv, "=");
        if (kv[1] == "write_ms") { write = kv[2]; if (kv[2] > wmax) wmax = kv[2] } } }
    /event=replay_done/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "accounts") tracked = kv[2] } }
    END {
        printf "accounts tracked        %d\n", tracked
        printf "checkpoints taken       %d (interval 1s + end of input)\n", snaps
        printf "final checkpoint size   %.1f MB (%.1f MB per million accounts)\n", bytes / 1e6, bytes / 1e6 / (tracked / 1e6)
        printf "write time (last/max)   %.1f / %.1f ms (io_uring writes + fsync + rename + dir fsync)\n", write, wmax
        printf "longest input stall     %.2f ms (drain + snapshot copy)\n", stall
    }' "$TMP/run.log"
grep -h checkpoint_snapshot "$TMP/run.log" | sed "s/^/  /"
sed -nE 's/.*event=checkpoint_restored.* restore_ms=([0-9.]+).*/restore time            \1 ms (decode into a fresh engine; file read excluded)/p' "$TMP/restore.log"
