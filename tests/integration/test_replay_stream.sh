#!/usr/bin/env bash
# test_replay_stream.sh - a 500k-transaction generated stream (every typology injected, with
# decoys) replayed through the real vigild: bench/check_alerts.py must pass (every pattern
# found, no decoy fires) and the alerts must not depend on the thread count; AMLworld CSV too.
# VG_STREAM_THREADS (default "1 2 4") lists the thread counts compared.
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the repository root}"

T=$(mktemp -d "${TMPDIR:-/tmp}/vg-stream.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
THREADS=${VG_STREAM_THREADS:-1 2 4}

gen() { # $1 format, $2 file
    "$VG_BIN/vigil-gen" --format "$1" --transactions 500000 --accounts 100000 --seed 7 \
        --out "$2" --expected "$2.expected" --watchlist "$2.watchlist" --quiet || fail "vigil-gen $1"
    printf 'rules:\n  watchlist:\n    file: "%s"\n' "$2.watchlist" >"$2.yaml"
}

replay() { # $1 input, $2 format, $3 threads, $4 alerts out
    "$VG_BIN/vigild" -c "$1.yaml" --input "$1" --format "$2" --threads "$3" --output "$4" \
        --dead-letter "$4.dead" 2>"$4.log" || fail "vigild ($2, $3 threads) exited $?: $(tail -3 "$4.log")"
    [ ! -s "$4.dead" ] || fail "generated records were dead-lettered: $(head -2 "$4.dead")"
    python3 "$VG_SRC/bench/check_alerts.py" "$4" "$1.expected" >"$4.check" 2>&1 ||
        fail "check_alerts ($2, $3 threads): $(tail -15 "$4.check")"
}

same_alerts() { # alert files...: identical (rule, account, alert_id) sets
    python3 - "$@" <<'PY'
import json, sys
def key_set(path):
    keys = [(a["rule"], a["account"], a["alert_id"]) for a in map(json.loads, open(path, encoding="utf-8"))]
    assert len(keys) == len(set(keys)), f"{path}: an alert_id repeats"
    return set(keys)
base = key_set(sys.argv[1])
for other in sys.argv[2:]:
    s = key_set(other)
    if s != base:
        print(f"{sys.argv[1]} vs {other}: {len(base - s)} only in the first, {len(s - base)} only in the second",
              sorted(base ^ s)[:5], file=sys.stderr)
        sys.exit(1)
print(f"ok: {len(base)} alerts identical across {len(sys.argv) - 1} runs")
PY
}

gen ndjson "$T/s.ndjson"
runs=()
for t in $THREADS; do
    replay "$T/s.ndjson" ndjson "$t" "$T/alerts-$t.ndjson"
    runs+=("$T/alerts-$t.ndjson")
done
tail -1 "$T/alerts-${THREADS%% *}.ndjson.check"
same_alerts "${runs[@]}" || fail "alerts differ between thread counts ($THREADS)"

gen amlworld-csv "$T/s.csv"
replay "$T/s.csv" amlworld-csv 2 "$T/alerts-csv.ndjson"
tail -1 "$T/alerts-csv.ndjson.check"
echo "ok: stream replay"
