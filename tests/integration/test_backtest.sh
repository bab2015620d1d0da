#!/usr/bin/env bash
# test_backtest.sh - vigil-backtest end to end on vigil-gen output: an AMLworld CSV with
# labels and a patterns file (uncatchable attempts included) must give the figures the
# construction implies, the same alerts per rule as vigild replaying the file, a JSON report
# that keeps its schema, a sweep whose fan_in counts never grow with min_counterparties, a
# PNG, and clear errors (unknown sweep key, broken patterns file) with exit code 1.
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"

T=$(mktemp -d "${TMPDIR:-/tmp}/vg-backtest.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$VG_BIN/vigil-gen" --format amlworld-csv --transactions 100000 --accounts 20000 --seed 11 --patterns 3 \
    --uncatchable --out "$T/t.csv" --patterns-out "$T/t_Patterns.txt" --watchlist "$T/wl.txt" --quiet ||
    fail "vigil-gen"
printf 'rules:\n  watchlist:\n    file: "%s"\n' "$T/wl.txt" >"$T/vigil.yaml"

# One run at the configured thresholds.
"$VG_BIN/vigil-backtest" -c "$T/vigil.yaml" --input "$T/t.csv" --format amlworld-csv \
    --patterns "$T/t_Patterns.txt" --report "$T/r.json" --plot "$T/r.png" >"$T/out.txt" 2>"$T/err.txt" ||
    fail "vigil-backtest exited $?: $(tail -3 "$T/err.txt")"
grep -q '^ALL ' "$T/out.txt" || fail "no overall row in the text report: $(head -20 "$T/out.txt")"
grep -q '^STACK ' "$T/out.txt" || fail "no STACK typology row"
head -c 8 "$T/r.png" | od -An -c | grep -q 'P   N   G' || fail "--plot did not write a PNG"

# The same file through vigild: alerts per rule must equal the backtest's.
"$VG_BIN/vigild" -c "$T/vigil.yaml" --input "$T/t.csv" --format amlworld-csv --output "$T/alerts.ndjson" \
    2>"$T/vigild.log" || fail "vigild exited $?"

python3 - "$T/r.json" "$T/alerts.ndjson" "$T/t.csv" <<'PY' || fail "report check"
import collections, json, sys
r = json.load(open(sys.argv[1]))
alerts = collections.Counter(json.loads(l)["rule"] for l in open(sys.argv[2]))
rows = [l.rstrip("\n").split(",") for l in open(sys.argv[3])][1:]
laundering = sum(1 for row in rows if row[-1] == "1")

# Schema: the keys a script relies on, with their types.
top = {"tool": str, "version": str, "input": str, "format": str, "patterns": str, "config": str,
       "transactions": int, "laundering": int, "refused": int, "refused_laundering": int, "bad_labels": int,
       "duplicate_ids": int, "definitions": dict, "typologies": list, "pattern_txns_unmatched": int, "points": list}
for k, t in top.items():
    assert isinstance(r.get(k), t), f"top-level {k}: {r.get(k)!r} is not {t.__name__}"
assert r["tool"] == "vigil-backtest" and r["format"] == "amlworld-csv"
for k in ("precision", "tx_recall_evidence", "tx_recall_account", "attempts", "alerts_per_10k"):
    assert isinstance(r["definitions"].get(k), str), f"definitions.{k} missing"
rule_keys = {"rule": str, "enabled": bool, "alerts": int, "alerts_laundering": int, "accounts": int,
             "precision": (int, float), "tx_evidence": int, "tx_recall_evidence": (int, float), "tx_account": int,
             "tx_recall_account": (int, float), "alerts_per_10k": (int, float), "attempts": dict}
assert len(r["points"]) == 1
p = r["points"][0]
assert p["settings"] == {}, p["settings"]
for row in p["rules"] + [p["overall"]]:
    for k, t in rule_keys.items():
        assert isinstance(row.get(k), t), f"{row.get('rule')}.{k}: {row.get(k)!r}"
    assert 0 <= row["precision"] <= 1 and 0 <= row["tx_recall_evidence"] <= 1
    for name, a in row["attempts"].items():
        assert set(a) == {"evidence", "recall_evidence", "account", "recall_account"}, a

# Figures: what the file and vigild say.
assert r["transactions"] == len(rows), (r["transactions"], len(rows))
assert r["laundering"] == laundering, (r["laundering"], laundering)
assert r["refused"] == 0 and r["pattern_txns_unmatched"] == 0
by_rule = {row["rule"]: row for row in p["rules"]}
for rule, row in by_rule.items():
    assert row["alerts"] == alerts.get(rule, 0), f"{rule}: backtest {row['alerts']}, vigild {alerts.get(rule, 0)}"
assert p["overall"]["alerts"] == sum(alerts.values())
typ = {t["name"]: t["attempts"] for t in r["typologies"]}
assert typ["STACK"] == typ["BIPARTITE"] == typ["RANDOM"] == 3, typ
caught = p["overall"]["attempts"]
for name in ("STACK", "BIPARTITE", "RANDOM", "HIGH-RISK-COUNTRY"):  # no rule / no countries in CSV
    assert caught[name]["evidence"] == 0 and caught[name]["account"] == 0, (name, caught[name])
for name in ("FAN-IN", "FAN-OUT", "CYCLE", "SCATTER-GATHER", "GATHER-SCATTER", "STRUCTURING", "LARGE-TX",
             "PASS-THROUGH", "DORMANT", "VELOCITY", "WATCHLIST"):
    assert caught[name]["recall_evidence"] == 1.0, (name, caught[name])
# Decoys are labelled 0 and never fire: the rules the background cannot trigger are exact.
for rule in ("structuring", "fan_out", "pass_through", "cycle", "scatter_gather", "gather_scatter", "dormant"):
    assert by_rule[rule]["alerts"] > 0 and by_rule[rule]["precision"] == 1.0, (rule, by_rule[rule])
assert p["overall"]["tx_recall_evidence"] < 1.0, "uncatchable attempts keep recall below 1"
PY

# A sweep: fan_in alerts never grow with min_counterparties; other rules do not move.
"$VG_BIN/vigil-backtest" -c "$T/vigil.yaml" --input "$T/t.csv" --format amlworld-csv \
    --sweep rules.fan_in.min_counterparties=4..12:4 --sweep rules.fan_in.window=24h,72h \
    --report "$T/s.json" --quiet 2>"$T/s.err" || fail "sweep exited $?: $(tail -3 "$T/s.err")"
python3 - "$T/s.json" <<'PY' || fail "sweep check"
import json, sys
r = json.load(open(sys.argv[1]))
pts = r["points"]
assert len(pts) == 6, len(pts)
def fan(p): return next(x for x in p["rules"] if x["rule"] == "fan_in")["alerts"]
for window in ("24h", "72h"):
    row = [p for p in pts if p["settings"]["rules.fan_in.window"] == window]
    counts = [fan(p) for p in sorted(row, key=lambda p: int(p["settings"]["rules.fan_in.min_counterparties"]))]
    assert counts == sorted(counts, reverse=True), (window, counts)
    assert counts[0] > counts[-1], (window, counts)
others = {tuple((x["rule"], x["alerts"]) for x in p["rules"] if x["rule"] != "fan_in") for p in pts}
assert len(others) == 1, others
PY

# Errors: an unknown swept key, a broken patterns file, --patterns with NDJSON.
set +e
"$VG_BIN/vigil-backtest" --input "$T/t.csv" --format amlworld-csv --sweep rules.fan_in.min_countrparties=4..6 \
    >/dev/null 2>"$T/e1"
rc=$?
set -e
[ "$rc" = 1 ] || fail "unknown sweep key: exit $rc"
grep -q 'rules.fan_in.min_countrparties: unknown key' "$T/e1" || fail "unknown key not named: $(cat "$T/e1")"
printf 'BEGIN LAUNDERING ATTEMPT - STACK\n2022/09/01 00:00,1,A,2,B,1.00,US Dollar,1.00,US Dollar,ACH,1\nEND LAUNDERING ATTEMPT - CYCLE\n' \
    >"$T/bad_Patterns.txt"
set +e
"$VG_BIN/vigil-backtest" --input "$T/t.csv" --format amlworld-csv --patterns "$T/bad_Patterns.txt" >/dev/null 2>"$T/e2"
rc=$?
set -e
[ "$rc" = 1 ] || fail "broken patterns file: exit $rc"
grep -q 'bad_Patterns.txt:3: END does not match the BEGIN STACK on line 1' "$T/e2" || fail "$(cat "$T/e2")"
set +e
"$VG_BIN/vigil-backtest" --input "$T/t.csv" --format ndjson --patterns "$T/t_Patterns.txt" >/dev/null 2>"$T/e3"
rc=$?
set -e
[ "$rc" = 1 ] || fail "--patterns with ndjson: exit $rc"

# NDJSON with labels: the same figures as the CSV for labels and laundering counts.
"$VG_BIN/vigil-gen" --format ndjson --labels --transactions 20000 --accounts 5000 --seed 5 --uncatchable \
    --out "$T/l.ndjson" --quiet || fail "vigil-gen ndjson"
"$VG_BIN/vigil-backtest" --input "$T/l.ndjson" --report "$T/l.json" --quiet || fail "ndjson backtest"
python3 - "$T/l.json" "$T/l.ndjson" <<'PY' || fail "ndjson check"
import json, sys
r = json.load(open(sys.argv[1]))
n = sum(1 for l in open(sys.argv[2]) if json.loads(l)["label"])
assert r["laundering"] == n > 0, (r["laundering"], n)
hr = next(x for x in r["points"][0]["rules"] if x["rule"] == "high_risk_country")
assert hr["alerts"] > 0 and hr["precision"] == 1.0, hr  # NDJSON carries countries
PY
echo "ok"
