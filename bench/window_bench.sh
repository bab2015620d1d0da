#!/bin/bash
# window_bench.sh - per-record cost of hub accounts (windows of 4096+ events) against
# ordinary ones (~30 events per window): two generated streams of the same record count,
# replayed alternately by vigild with all rules, medians of R runs and their ratio (target:
# hub within 1.5x of flat, issue 18). Also the bare parse of the hub stream, for scale.
#   bench/window_bench.sh [--bin DIR] [--records N] [--runs R] [--out DIR]
# Defaults: build/bin, 1000000 records, 5 runs, bench/out. Generated files are reused.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/bin
N=1000000
RUNS=5
OUT=$ROOT/bench/out
while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=$2; shift 2 ;;
    --records) N=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: $0 [--bin DIR] [--records N] [--runs R] [--out DIR]" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUT"

# One event-time second between records (72 h = 259 200 records). 100 accounts: each
# account's 72 h window holds ~2 * 259200 / 100 = 5 184 events (the view keeps 4096);
# 17 000 accounts: ~30.
gen() { # gen NAME ACCOUNTS
    local f=$OUT/window_$1.ndjson stamp="$N $2 $(cksum <"$BIN/vigil-gen" | cut -d' ' -f1)"
    if [ ! -f "$f" ] || [ "$(cat "$f.stamp" 2>/dev/null)" != "$stamp" ]; then
        "$BIN/vigil-gen" --format ndjson --transactions "$N" --accounts "$2" --seed 5 --interarrival-ms 1000 \
            --out "$f" --expected "$f.expected" --watchlist "$f.watchlist" --quiet
        echo "$stamp" >"$f.stamp"
    fi
    printf 'engine:\n  threads: 0\nrules:\n  watchlist:\n    file: "%s"\n' "$f.watchlist" >"$OUT/window_$1.yaml"
}
gen hub 100
gen flat 17000

# seconds of one run (wall, from date +%s%N)
run_s() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

hub=() flat=() parse=()
for ((i = 0; i < RUNS; i++)); do
    hub+=("$(run_s "$BIN/vigild" -c "$OUT/window_hub.yaml" --input "$OUT/window_hub.ndjson" --format ndjson --output /dev/null)")
    flat+=("$(run_s "$BIN/vigild" -c "$OUT/window_flat.yaml" --input "$OUT/window_flat.ndjson" --format ndjson --output /dev/null)")
    parse+=("$(run_s "$BIN/vigil-parse" --format ndjson --input "$OUT/window_hub.ndjson")")
done
mh=$(printf '%s\n' "${hub[@]}" | median)
mf=$(printf '%s\n' "${flat[@]}" | median)
mp=$(printf '%s\n' "${parse[@]}" | median)
echo "records=$N runs=$RUNS"
echo "hub  (100 accounts, 4096+ events per window): ${hub[*]} median $mh s"
echo "flat (17000 accounts, ~30 per window):        ${flat[*]} median $mf s"
echo "bare parse of the hub stream:                 ${parse[*]} median $mp s"
echo "hub / flat per record: $(echo "scale=2; $mh / $mf" | bc)x   (target <= 1.5)"
