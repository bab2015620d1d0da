#!/usr/bin/env bash
# backtest_bench.sh - times a 9-point vigil-backtest sweep over the 5 M-record AMLworld-format
# bench stream against 9 separate vigild replays of the same points, in the same run, and
# checks that both give the same alerts per rule at every point.
# Usage: bench/backtest_bench.sh [BUILD_BIN_DIR] [WORK_DIR]   (defaults: build/bin, /tmp/vg-backtest-bench)
set -euo pipefail
BIN=${1:-build/bin}
W=${2:-/tmp/vg-backtest-bench}
mkdir -p "$W"
if [ ! -s "$W/t.csv" ]; then
    "$BIN/vigil-gen" --format amlworld-csv --transactions 5000000 --accounts 500000 --seed 20220901 \
        --patterns 50 --uncatchable --out "$W/t.csv" --patterns-out "$W/t_Patterns.txt" --watchlist "$W/wl.txt" --quiet
fi
printf 'rules:\n  watchlist:\n    file: "%s"\n' "$W/wl.txt" >"$W/base.yaml"
now() { date +%s.%N; }

t0=$(now)
"$BIN/vigil-backtest" -c "$W/base.yaml" --input "$W/t.csv" --format amlworld-csv --patterns "$W/t_Patterns.txt" \
    --sweep rules.fan_in.min_counterparties=4..12 --report "$W/sweep.json" --quiet
t1=$(now)
for k in 4 5 6 7 8 9 10 11 12; do
    printf 'rules:\n  watchlist:\n    file: "%s"\n  fan_in:\n    min_counterparties: %s\n' "$W/wl.txt" "$k" >"$W/p$k.yaml"
    "$BIN/vigild" -c "$W/p$k.yaml" --input "$W/t.csv" --format amlworld-csv --output "$W/alerts$k.ndjson" 2>"$W/p$k.log"
done
t2=$(now)
python3 - "$W" <<'PY'
import collections, json, sys
w = sys.argv[1]
r = json.load(open(f"{w}/sweep.json"))
for p in r["points"]:
    k = p["settings"]["rules.fan_in.min_counterparties"]
    got = {x["rule"]: x["alerts"] for x in p["rules"] if x["alerts"]}
    want = collections.Counter(json.loads(l)["rule"] for l in open(f"{w}/alerts{k}.ndjson"))
    assert got == dict(want), (k, got, dict(want))
print("alerts per rule: sweep == separate replays at all 9 points")
PY
echo "sweep (read once, 9 points): $(echo "$t1 - $t0" | bc) s"
echo "9 separate vigild replays:   $(echo "$t2 - $t1" | bc) s"
uptime
