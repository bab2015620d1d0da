#!/usr/bin/env python3
# check_alerts.py - checks vigild's alerts against vigil-gen's expectation file: every
# injected pattern must have fired (rule, account) and no decoy may have. Also validates
# that every alert line is a JSON object with all contract section 4 fields. Stdlib only.
"""usage: check_alerts.py ALERTS.ndjson EXPECTED.tsv [--quiet]

EXPECTED.tsv lines are `kind<TAB>rule<TAB>account`, kind `pattern` or `decoy`.
Exit 0 when all patterns were found, no decoy fired and every alert line is valid;
1 otherwise; 2 on usage or I/O errors."""

import json
import sys
from collections import Counter, defaultdict

RULES = ["large_tx", "structuring", "fan_in", "fan_out", "pass_through", "cycle",
         "scatter_gather", "gather_scatter", "velocity", "dormant", "watchlist",
         "high_risk_country"]
SEVERITIES = {"low", "medium", "high"}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def alert_problems(a):
    """Returns a list of what is wrong with one parsed alert (empty when valid)."""
    if not isinstance(a, dict):
        return ["not a JSON object"]
    p = []
    for key in ("alert_id", "rule", "account", "severity"):
        if not isinstance(a.get(key), str) or not a.get(key):
            p.append(f"{key}: missing or not a non-empty string")
    if isinstance(a.get("rule"), str) and a["rule"] not in RULES:
        p.append(f"rule: unknown rule {a['rule']!r}")
    if isinstance(a.get("severity"), str) and a["severity"] not in SEVERITIES:
        p.append(f"severity: {a['severity']!r} not low/medium/high")
    score = a.get("score")
    if not is_number(score) or not 0 <= score <= 1:
        p.append("score: missing or not a number in [0, 1]")
    for key in ("window_start", "window_end", "detected_at"):
        if not is_int(a.get(key)):
            p.append(f"{key}: missing or not an integer")
    if is_int(a.get("window_start")) and is_int(a.get("window_end")) and a["window_start"] > a["window_end"]:
        p.append("window_start > window_end")
    for key in ("tx_ids", "accounts"):
        v = a.get(key)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            p.append(f"{key}: missing or not an array of strings")
    if not isinstance(a.get("metrics"), dict):
        p.append("metrics: missing or not an object")
    return p


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    quiet = "--quiet" in argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    alerts_path, expected_path = args

    fired = set()
    per_rule_alerts = Counter()
    invalid = 0
    ids = Counter()
    try:
        with open(alerts_path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    a = json.loads(line)
                except ValueError as e:
                    invalid += 1
                    if invalid <= 10:
                        print(f"{alerts_path}:{n}: not JSON: {e}", file=sys.stderr)
                    continue
                problems = alert_problems(a)
                if problems:
                    invalid += 1
                    if invalid <= 10:
                        print(f"{alerts_path}:{n}: " + "; ".join(problems), file=sys.stderr)
                    continue
                ids[a["alert_id"]] += 1
                fired.add((a["rule"], a["account"]))
                per_rule_alerts[a["rule"]] += 1
        expected = []
        with open(expected_path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                parts = line.split("\t")
                if len(parts) < 3 or parts[0] not in ("pattern", "decoy") or parts[1] not in RULES:
                    print(f"{expected_path}:{n}: bad expectation line {line!r}", file=sys.stderr)
                    return 2
                expected.append((parts[0], parts[1], parts[2]))
    except OSError as e:
        print(f"check_alerts: {e}", file=sys.stderr)
        return 2

    stats = defaultdict(lambda: {"patterns": 0, "found": 0, "decoys": 0, "fired": 0})
    missed, false_hits = [], []
    for kind, rule, account in expected:
        s = stats[rule]
        hit = (rule, account) in fired
        if kind == "pattern":
            s["patterns"] += 1
            s["found"] += hit
            if not hit:
                missed.append((rule, account))
        else:
            s["decoys"] += 1
            s["fired"] += hit
            if hit:
                false_hits.append((rule, account))
    duplicates = sum(1 for c in ids.values() if c > 1)

    if not quiet:
        print(f"{'rule':<18} {'patterns':>8} {'found':>6} {'decoys':>6} {'fired':>6} {'alerts':>8}")
        for rule in RULES:
            s = stats[rule]
            print(f"{rule:<18} {s['patterns']:>8} {s['found']:>6} {s['decoys']:>6} {s['fired']:>6} "
                  f"{per_rule_alerts[rule]:>8}")
    for rule, account in missed:
        print(f"MISSED pattern {rule} {account}")
    for rule, account in false_hits:
        print(f"FIRED decoy {rule} {account}")
    if invalid:
        print(f"INVALID alert lines: {invalid}")
    if duplicates:
        print(f"DUPLICATE alert_id values: {duplicates}")
    ok = not missed and not false_hits and not invalid and not duplicates
    print(("OK" if ok else "FAIL") + f": {len(expected)} expectations, {sum(per_rule_alerts.values())} alerts, "
          f"{len(missed)} missed, {len(false_hits)} decoys fired, {invalid} invalid")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
