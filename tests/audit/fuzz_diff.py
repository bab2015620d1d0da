#!/usr/bin/env python3
# fuzz_diff.py - random small streams (few accounts, amounts and times clustered around the
# default thresholds and windows, optional bounded disorder) through vigild and
# ref_contract.py; prints the seeds whose (rule, account) sets differ.
"""usage: fuzz_diff.py PROFILE N [--seed0 S] [--disorder MS] [--late newest|all] [--counts]
                    [--vigild PATH]
PROFILE: graph | account | velocity | velocity_young | edge_graph | edge_account | dormant"""

import collections
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_contract  # noqa: E402

T0 = 1704067200000
MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
VIGILD = os.path.join(HERE, "..", "..", "build", "bin", "vigild")


def gen(profile, rng, disorder):
    recs = []
    if profile == "graph":
        accts = [f"N{k}" for k in range(rng.randint(3, 7))]
        n = rng.randint(8, 40)
        span = rng.choice([2 * DAY, 7 * DAY, 9 * DAY])
        amounts = ["1000", "999.999999", "1500", "925.925926:EUR", "5000"]
        for _ in range(n):
            a, b = rng.sample(accts, 2)
            ts = T0 + rng.randrange(0, span // MIN) * MIN if rng.random() < 0.8 else T0 + rng.choice([0, 7 * DAY, 7 * DAY + 1, HOUR])
            amt = rng.choice(amounts)
            recs.append((ts, a, b, amt))
    elif profile == "account":
        hubs = ["H0", "H1"]
        cps = [f"C{k}" for k in range(rng.randint(4, 12))]
        n = rng.randint(10, 60)
        span = rng.choice([3 * DAY, 4 * DAY, 2 * DAY])
        amounts = ["625", "624.999999", "1000", "8500", "8499.999999", "9999.999999", "5000", "4000", "3999.999999",
                   "7870.370370:EUR", "2000", "10000"]
        for _ in range(n):
            h = rng.choice(hubs)
            c = rng.choice(cps + hubs)
            if c == h:
                continue
            ts = T0 + rng.randrange(0, span // MIN) * MIN if rng.random() < 0.85 else T0 + rng.choice([0, 72 * HOUR, 48 * HOUR, 72 * HOUR + 1, 48 * HOUR + 1])
            amt = rng.choice(amounts)
            recs.append((ts, h, c, amt) if rng.random() < 0.5 else (ts, c, h, amt))
    elif profile in ("velocity", "velocity_young"):
        hist_span = rng.choice([6 * DAY, 7 * DAY, 8 * DAY, 20 * DAY]) if profile == "velocity_young" else \
            rng.choice([6 * DAY, 7 * DAY, 8 * DAY, 20 * DAY, 31 * DAY, 40 * DAY])
        n_hist = rng.randint(1, 400)
        for _ in range(n_hist):
            ts = T0 + rng.randrange(0, hist_span // MIN) * MIN
            recs.append((ts, "A", f"C{rng.randrange(50)}", "1"))
        recs.append((T0, "A", "C0", "1"))
        for _ in range(rng.randint(1, 3)):
            start = T0 + hist_span + rng.randrange(0, 2 * DAY // MIN) * MIN
            for _ in range(rng.randint(15, 60)):
                ts = start + rng.randrange(0, rng.choice([30, 60, 61, 90]) * 60) * 1000
                recs.append((ts, "A", f"C{rng.randrange(50)}", "1") if rng.random() < 0.5 else (ts, f"C{rng.randrange(50)}", "A", "1"))
    elif profile in ("edge_graph", "edge_account"):
        # two clusters of times, around the start and the end of a default window, so that
        # bounded disorder lands records in windows that are not the newest
        w = 7 * DAY if profile == "edge_graph" else rng.choice([72 * HOUR, 48 * HOUR])
        if profile == "edge_graph":
            accts = [f"N{k}" for k in range(rng.randint(3, 6))]
            amounts = ["1000", "999.999999", "1500"]
        else:
            accts = ["H0"] + [f"C{k}" for k in range(rng.randint(5, 10))]
            amounts = ["625", "1000", "9000", "5000", "2000", "4000", "1"]
        for _ in range(rng.randint(8, 40)):
            if profile == "edge_graph":
                a, b = rng.sample(accts, 2)
            else:
                c = rng.choice(accts[1:])
                a, b = ("H0", c) if rng.random() < 0.5 else (c, "H0")
            base = T0 if rng.random() < 0.5 else T0 + w
            ts = base + rng.randrange(-6, 7) * MIN + rng.choice([0, 0, 1, -1])
            recs.append((ts, a, b, rng.choice(amounts)))
    elif profile == "dormant":
        accts = [f"D{k}" for k in range(4)]
        for _ in range(rng.randint(3, 14)):
            a, b = rng.sample(accts, 2)
            ts = T0 + rng.choice([0, 180 * DAY, 180 * DAY - 1, 180 * DAY + 1, 360 * DAY, 200 * DAY, 20 * DAY])
            ts += rng.choice([0, 0, MIN, -MIN])
            recs.append((ts, a, b, rng.choice(["5000", "4999.999999", "4629.62963:EUR", "4629.629629:EUR", "1"])))
    else:
        raise SystemExit("profile?")
    recs.sort(key=lambda r: r[0])
    if disorder:
        # bounded disorder: move records later in the input by less than `disorder` ms
        keyed = [(r[0] + rng.randrange(0, disorder), i, r) for i, r in enumerate(recs)]
        keyed.sort()
        recs = [r for _, _, r in keyed]
    lines = []
    for i, (ts, a, b, amt) in enumerate(recs):
        cur = "USD"
        if ":" in amt:
            amt, cur = amt.split(":")
        lines.append(json.dumps({"id": f"t{i}", "ts": ts, "from": a, "to": b, "amount": amt, "currency": cur}))
    return "\n".join(lines) + "\n"


def main(argv):
    profile, n = argv[1], int(argv[2])
    seed0, disorder, late = 0, 0, "all"
    args = [a for a in argv[3:] if a != "--counts"]
    while args:
        a = args.pop(0)
        if a == "--seed0": seed0 = int(args.pop(0))
        elif a == "--disorder": disorder = int(args.pop(0))
        elif a == "--late": late = args.pop(0)
        elif a == "--vigild":
            global VIGILD
            VIGILD = args.pop(0)
    tmp = tempfile.mkdtemp(prefix="vigil-fuzz-")
    bad = 0
    for seed in range(seed0, seed0 + n):
        rng = random.Random(seed)
        text = gen(profile, rng, disorder)
        path = os.path.join(tmp, f"{profile}-{seed}.ndjson")
        open(path, "w").write(text)
        r = subprocess.run([VIGILD, "--input", path, "--format", "ndjson", "--output", "-"],
                           capture_output=True, text=True, timeout=60)
        got = collections.Counter((a["rule"], a["account"]) for a in map(json.loads, r.stdout.splitlines()))
        want_alerts, _ = ref_contract.run(path, "ndjson", (), late)
        want = collections.Counter((a["rule"], a["account"]) for a in want_alerts)
        if "--counts" in argv and got != want and set(got) == set(want):
            print(f"seed {seed}: counts differ {path}")
            for k in sorted(set(got) | set(want)):
                if got[k] != want[k]:
                    print(f"    {k[0]:16s} {k[1]:8s} vigild={got[k]} ref={want[k]}")
        if set(got) != set(want):
            bad += 1
            print(f"seed {seed}: {path}")
            for k in sorted(set(got) | set(want)):
                if (k in got) != (k in want):
                    print(f"    {k[0]:16s} {k[1]:8s} vigild={got[k]} ref={want[k]}")
    print(f"{profile}: {n} seeds, {bad} differ")


if __name__ == "__main__":
    main(sys.argv)
