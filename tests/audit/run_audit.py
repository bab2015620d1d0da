#!/usr/bin/env python3
# run_audit.py - replays every audit case (tests/audit/cases.py) through vigild and through
# ref_contract.py and prints the cases whose (rule, account) alert counts differ.
"""usage: run_audit.py [--vigild build/bin/vigild] [--only SUBSTRING] [--show] [--late newest|all]
                    [--known CASE]...   (a difference in CASE is reported but does not fail)"""

import collections
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cases  # noqa: E402
import ref_contract  # noqa: E402


def vigild_alerts(vigild, path, fmt, config=None):
    cmd = [vigild, "--input", path, "--format", fmt, "--output", "-", "--dead-letter", path + ".dl"]
    if config:
        cmd[1:1] = ["-c", config]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    alerts = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    dead = [json.loads(l) for l in open(path + ".dl") if l.strip()] if os.path.exists(path + ".dl") else []
    # Contract 2: exit 2 when not one record could be read (every record dead-lettered).
    unreadable = r.returncode == 2 and "not one of" in r.stderr and dead
    if r.returncode != 0 and not unreadable:
        raise RuntimeError(f"vigild rc={r.returncode}: {r.stderr[-500:]}")
    return alerts, dead


def main(argv):
    vigild = os.path.join(HERE, "..", "..", "build", "bin", "vigild")
    only, show, late = None, False, "all"
    known = set()
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--vigild": vigild = args.pop(0)
        elif a == "--only": only = args.pop(0)
        elif a == "--show": show = True
        elif a == "--late": late = args.pop(0)
        elif a == "--known": known.add(args.pop(0))
    tmp = tempfile.mkdtemp(prefix="vigil-audit-")
    n_diff = 0
    n = 0
    for case in cases.all_cases():
        if only and only not in case["name"]:
            continue
        n += 1
        ext = "csv" if case["format"] == "amlworld-csv" else "ndjson"
        path = os.path.join(tmp, case["name"] + "." + ext)
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(case["text"])
        config = None
        watch = ()
        if case.get("watchlist") is not None:
            wl = path + ".watch"
            open(wl, "w").write(case["watchlist"])
            config = path + ".yaml"
            open(config, "w").write(f"rules:\n  watchlist:\n    file: {wl}\n")
            watch = [l.split(" #")[0].strip() for l in case["watchlist"].splitlines()]
            watch = [w for w in watch if w and not w.startswith("#")]
        got, got_dead = vigild_alerts(vigild, path, case["format"], config)
        want, want_dead = ref_contract.run(path, case["format"], watch, late)
        g = collections.Counter((a["rule"], a["account"]) for a in got)
        w = collections.Counter((a["rule"], a["account"]) for a in want)
        gd = sorted((d["line"], d["reason"]) for d in got_dead)
        wd = sorted(want_dead)
        exp = case.get("expect")
        exp_ok = True
        if exp is not None:
            exp_ok = set(w) == set(exp)
        diff = g != w or gd != wd or not exp_ok
        if diff and case["name"] not in known:
            n_diff += 1
        if diff or show:
            tag = ("KNOWN " if case["name"] in known else "DIFF ") if diff else "ok   "
            print(tag + case["name"] + ("" if exp_ok else "  [ref != case expectation]"))
            if case.get("note"):
                print("     note:", case["note"])
            for k in sorted(set(g) | set(w)):
                if g[k] != w[k] or show:
                    print(f"     {k[0]:18s} {k[1]!r:30s} vigild={g[k]} ref={w[k]}")
            if exp is not None and not exp_ok:
                print("     case expects:", sorted(exp), " ref:", sorted(set(w)))
            if gd != wd:
                print("     dead letters vigild:", gd, " ref:", wd)
    print(f"{n} cases, {n_diff} differ (tmp {tmp})" + (f", known differences allowed: {sorted(known)}" if known else ""))
    return 1 if n_diff else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
