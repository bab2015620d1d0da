#!/usr/bin/env bash
# sanctions_bench.sh - what sanctions screening costs, measured in one run so the ratios share
# the machine's load: the same vigil-gen stream with and without party names (every party
# named, the UN list plus the demo list loaded in both), the named stream without lists (what
# parsing and carrying the names cost), and vigil-screen's new names per second per core
# against the UN list plus a 100,000-entry synthetic list with the lists' memory. Runs are
# interleaved, REPS times, after one unmeasured replay of each stream (the first run after a
# build or a pause pays for the host handing memory back: +10 % CPU seen); medians are
# printed (CPU = user + sys of the whole process).
#
#   bench/sanctions_bench.sh [--build DIR] [--out DIR] [--records N] [--accounts N] [--reps N]
#                            [--un FILE]
# Defaults: build, /tmp/vigil-sanctions-bench, 5000000 records, 500000 accounts, 5 reps,
# ../shared/data/un-sc-consolidated-2024-09-26.xml when it exists (else only the demo list).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
OUT=/tmp/vigil-sanctions-bench
N=5000000
ACC=500000
REPS=5
UN=$SRC/../shared/data/un-sc-consolidated-2024-09-26.xml
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2 ;;
    --out) OUT=$2 ;;
    --records) N=$2 ;;
    --accounts) ACC=$2 ;;
    --reps) REPS=$2 ;;
    --un) UN=$2 ;;
    *) echo "usage: $0 [--build DIR] [--out DIR] [--records N] [--accounts N] [--reps N] [--un FILE]" >&2; exit 1 ;;
    esac
    shift 2
done
BIN=$BUILD/bin
mkdir -p "$OUT"

echo "# streams: $N records, $ACC accounts (vigil-gen seed 20240901)"
[ -f "$OUT/named.ndjson" ] && [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$N $ACC" ] || {
    "$BIN/vigil-gen" --format ndjson --transactions "$N" --accounts "$ACC" --seed 20240901 --names \
        --sanctions-list "$OUT/demo.tsv" --out "$OUT/named.ndjson" --quiet
    "$BIN/vigil-gen" --format ndjson --transactions "$N" --accounts "$ACC" --seed 20240901 \
        --out "$OUT/plain.ndjson" --quiet
    echo "$N $ACC" >"$OUT/stamp"
}
{
    echo "rules:"
    echo "  sanctions:"
    echo "    lists:"
    [ -f "$UN" ] && echo "      - {name: un, file: \"$UN\", format: un-xml}"
    echo "      - {name: demo, file: \"$OUT/demo.tsv\", format: tsv}"
} >"$OUT/lists.yaml"
echo "rules: {}" >"$OUT/none.yaml"
[ -f "$UN" ] && echo "# lists: UN ($UN) + demo" || echo "# lists: demo only (no UN file)"

# run NAME CONFIG INPUT: one replay; appends "NAME cpu_s wall_s rss_kb" to $OUT/runs.
run() {
    /usr/bin/time -f "%U %S %e %M" -o "$OUT/.time" "$BIN/vigild" -c "$2" --input "$3" --format ndjson \
        --output /dev/null 2>/dev/null
    read -r user sys wall rss <"$OUT/.time"
    echo "$1 $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') $wall $rss" | tee -a "$OUT/runs"
}

: >"$OUT/runs"
: >"$OUT/screen"
echo "# warm-up (not counted)"
run warmup_plain "$OUT/lists.yaml" "$OUT/plain.ndjson" >/dev/null
run warmup_named "$OUT/lists.yaml" "$OUT/named.ndjson" >/dev/null
for rep in $(seq "$REPS"); do
    echo "# rep $rep"
    run plain "$OUT/lists.yaml" "$OUT/plain.ndjson"
    run named "$OUT/lists.yaml" "$OUT/named.ndjson"
    run named_nolists "$OUT/none.yaml" "$OUT/named.ndjson"
    if [ -f "$UN" ]; then
        "$BIN/vigil-screen" --list "un-xml:$UN" --synthetic 100000 --queries 100000 | tee -a "$OUT/screen"
    else
        "$BIN/vigil-screen" --list "tsv:$OUT/demo.tsv" --synthetic 100000 --queries 100000 | tee -a "$OUT/screen"
    fi
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$OUT/runs"; }
# ratio per rep (named / plain in the same rep), then their median
ratios=$(paste <(col named 2) <(col plain 2) | awk '{ printf "%.3f\n", $1 / $2 }')
parse_ratios=$(paste <(col named_nolists 2) <(col plain 2) | awk '{ printf "%.3f\n", $1 / $2 }')
echo
echo "## medians of $REPS"
printf "plain stream, lists loaded:   CPU %s s, wall %s s, RSS %s KB\n" "$(col plain 2 | median)" "$(col plain 3 | median)" "$(col plain 4 | median)"
printf "named stream, lists loaded:   CPU %s s, wall %s s, RSS %s KB\n" "$(col named 2 | median)" "$(col named 3 | median)" "$(col named 4 | median)"
printf "named stream, no lists:       CPU %s s, wall %s s, RSS %s KB\n" "$(col named_nolists 2 | median)" "$(col named_nolists 3 | median)" "$(col named_nolists 4 | median)"
printf "CPU ratio named/plain (per rep: %s): median %s\n" "$(echo $ratios)" "$(echo "$ratios" | median)"
printf "CPU ratio named without lists/plain (per rep: %s): median %s\n" "$(echo $parse_ratios)" "$(echo "$parse_ratios" | median)"
printf "new names screened per second per core: median %s\n" \
    "$(grep -o '[0-9]* names/s per core' "$OUT/screen" | awk '{ print $1 }' | median)"
grep '^list ' "$OUT/screen" | sed 's/, loaded in.*\|, built in.*//' | sort -u | sed 's/^/list memory: /'
