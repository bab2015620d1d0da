#!/usr/bin/env python3
# ref_rules.py - a slow, literal reference evaluator of docs/RULES.md (default parameters)
# for small NDJSON files: emits contract-shaped alerts (first fire per rule and account)
# so vigil-gen's patterns/decoys and vigild's results can be cross-checked. Not for speed.
"""usage: ref_rules.py INPUT.ndjson [--watchlist FILE] > alerts.ndjson"""

import bisect
import json
import sys
from collections import defaultdict
from decimal import Decimal

M = 1_000_000
MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
RATES = {"USD": 1_000_000, "EUR": 1_080_000, "GBP": 1_270_000, "JPY": 6_700, "CAD": 730_000}
P = dict(
    large_threshold=10000 * M,
    st_threshold=10000 * M, st_margin_ppm=150_000, st_min_count=3, st_window=72 * HOUR,
    fan_min=8, fan_total=5000 * M, fan_window=72 * HOUR,
    pt_min=5000 * M, pt_ratio_ppm=800_000, pt_window=48 * HOUR,
    cy_hops=6, cy_min=1000 * M, cy_window=7 * DAY,
    sg_min=3, sg_amount=1000 * M, sg_window=7 * DAY,
    gs_min=5, gs_total=5000 * M, gs_window=72 * HOUR,
    ve_window=HOUR, ve_baseline=30 * DAY, ve_history=7 * DAY, ve_factor=10, ve_count=20,
    do_dormancy=180 * DAY, do_min=5000 * M,
    hrc=("KP", "IR", "MM"), hrc_min=1000 * M,
)


def to_micros(amount, currency):
    units = Decimal(str(amount)) if not isinstance(amount, str) else Decimal(amount)
    micros = int(units * M)
    rate = RATES[currency]
    q, r = divmod(micros * rate, M)
    return q + (1 if 2 * r >= M else 0)


class Evaluator:
    def __init__(self, watchlist):
        self.watchlist = watchlist
        self.events = defaultdict(list)     # account -> sorted [(ts, seq, dir, amount, cp, txid)]
        self.first_seen = {}
        self.last_seen = {}
        self.out_edges = defaultdict(list)  # account -> [(ts, seq, to, amount)]
        self.in_edges = defaultdict(list)   # account -> [(ts, seq, frm, amount)]
        self.fired = set()
        self.alerts = []

    def emit(self, rule, account, t, tx_ids, accounts, start):
        if (rule, account) in self.fired:
            return
        self.fired.add((rule, account))
        self.alerts.append({
            "alert_id": f"ref-{len(self.alerts)}", "rule": rule, "account": account, "severity": "medium",
            "score": 0.5, "window_start": start, "window_end": t["ts"], "detected_at": 0,
            "tx_ids": tx_ids, "accounts": sorted(set(accounts)), "metrics": {}})

    def window(self, account, ts, w):
        ev = self.events[account]
        lo = bisect.bisect_left(ev, (ts - w,))
        hi = bisect.bisect_right(ev, (ts, float("inf")))
        return ev[lo:hi]

    def account_rules(self, t, account, direction, cp):
        ts, amt, seq = t["ts"], t["amount"], t["seq"]
        # large_tx
        if direction == "out" and amt >= P["large_threshold"]:
            self.emit("large_tx", account, t, [t["id"]], [cp], ts)
        # structuring
        # band [threshold*(1-margin), threshold), compared exactly (no rounded lower bound)
        def in_band(a):
            return a * M >= P["st_threshold"] * (M - P["st_margin_ppm"]) and a < P["st_threshold"]
        if in_band(amt):
            evs = [e for e in self.window(account, ts, P["st_window"])
                   if e[2] == direction and in_band(e[3])]
            if len(evs) >= P["st_min_count"] and sum(e[3] for e in evs) >= P["st_threshold"]:
                self.emit("structuring", account, t, [e[5] for e in evs], [e[4] for e in evs], evs[0][0])
        # fan_in / fan_out
        evs = [e for e in self.window(account, ts, P["fan_window"]) if e[2] == direction]
        cps = {e[4] for e in evs}
        if len(cps) >= P["fan_min"] and sum(e[3] for e in evs) >= P["fan_total"]:
            self.emit("fan_in" if direction == "in" else "fan_out", account, t, [e[5] for e in evs], cps, evs[0][0])
        if direction == "out":
            self.pass_through(t, account)
            self.gather_scatter(t, account)
        # velocity
        first = self.first_seen[account]
        if first <= ts - P["ve_history"]:
            n = len(self.window(account, ts, P["ve_window"]))
            if n >= P["ve_count"]:
                ev = self.events[account]
                b_lo = bisect.bisect_left(ev, (ts - P["ve_window"] - P["ve_baseline"],))
                b_hi = bisect.bisect_left(ev, (ts - P["ve_window"],))
                b = b_hi - b_lo
                s = min(P["ve_baseline"], ts - P["ve_window"] - first)
                if n * s > P["ve_factor"] * b * P["ve_window"]:
                    self.emit("velocity", account, t, [t["id"]], [], ts - P["ve_window"])
        # dormant
        prev = self.prev_last.get(account)
        if prev is not None and ts - prev >= P["do_dormancy"] and amt >= P["do_min"]:
            self.emit("dormant", account, t, [t["id"]], [cp], prev)
        # watchlist
        if account in self.watchlist:
            self.emit("watchlist", account, t, [t["id"]], [cp], ts)
        # high_risk_country
        country = t.get("to_country") if direction == "out" else t.get("from_country")
        if country and country.upper() in P["hrc"] and amt >= P["hrc_min"]:
            self.emit("high_risk_country", account, t, [t["id"]], [cp], ts)

    def pass_through(self, t, account):
        ts, seq = t["ts"], t["seq"]
        evs = self.window(account, ts, P["pt_window"])
        for i, e in enumerate(evs):
            if e[2] != "in" or e[3] < P["pt_min"]:
                continue
            outs = [o for o in evs[i + 1:] if o[2] == "out" and (o[0], o[1]) <= (ts, seq)
                    and o[0] <= e[0] + P["pt_window"]]
            if sum(o[3] for o in outs) * M >= P["pt_ratio_ppm"] * e[3]:
                self.emit("pass_through", account, t, [e[5]] + [o[5] for o in outs],
                          [e[4]] + [o[4] for o in outs], e[0])
                return

    def gather_scatter(self, t, account):
        ts = t["ts"]
        evs = self.window(account, ts, P["gs_window"])
        senders, g = set(), None
        for i, e in enumerate(evs):
            if e[2] == "in":
                senders.add(e[4])
                if len(senders) >= P["gs_min"]:
                    g = i
                    break
        if g is None:
            return
        outs = [o for o in evs[g + 1:] if o[2] == "out"]
        ins_total = sum(e[3] for e in evs if e[2] == "in")
        if (len({o[4] for o in outs}) >= P["gs_min"] and sum(o[3] for o in outs) >= P["gs_total"]
                and ins_total >= P["gs_total"]):
            self.emit("gather_scatter", account, t, [e[5] for e in evs], [e[4] for e in evs], evs[0][0])

    def cycle(self, t):
        u, o, T = t["from"], t["to"], t["ts"]
        if t["amount"] < P["cy_min"] or u == o:
            return

        def dfs(node, path, last_ts, first_ts):
            if len(path) + 1 > P["cy_hops"]:
                return None
            for (ts, seq, nxt, amt) in self.out_edges[node]:
                if amt < P["cy_min"] or ts <= last_ts or ts >= T:
                    continue
                f = first_ts if first_ts is not None else ts
                if T - f > P["cy_window"]:
                    continue
                if nxt == u:
                    return path + [nxt], f
                if nxt in path:
                    continue
                r = dfs(nxt, path + [nxt], ts, f)
                if r:
                    return r
            return None

        r = dfs(o, [o], -float("inf"), None)
        if r:
            members, first = r
            self.emit("cycle", o, t, [t["id"]], members, first)

    def scatter_gather(self, t):
        m_new, sink, T = t["from"], t["to"], t["ts"]
        if t["amount"] < P["sg_amount"]:
            return
        # candidate origins: senders into m_new
        for (lts, lseq, origin, lamt) in list(self.in_edges[m_new]):
            if origin == sink or lamt < P["sg_amount"]:
                continue
            pairs = []  # (leg_ts, fwd_ts, m)
            for (ts2, seq2, m, amt2) in self.out_edges[origin]:
                if amt2 < P["sg_amount"] or m in (origin, sink):
                    continue
                for (fts, fseq, to, famt) in self.out_edges[m]:
                    if to == sink and famt >= P["sg_amount"] and fts > ts2:
                        pairs.append((ts2, fts, m))
            for (start, _, _) in pairs:
                ms = {m for (l, f, m) in pairs if l >= start and f <= start + P["sg_window"]}
                if len(ms) >= P["sg_min"]:
                    self.emit("scatter_gather", origin, t, [t["id"]], list(ms) + [sink], start)
                    self.emit("scatter_gather", sink, t, [t["id"]], list(ms) + [origin], start)
                    return

    def submit(self, t):
        self.prev_last = {}
        sides = ((t["from"], "out", t["to"]), (t["to"], "in", t["from"]))
        for account, direction, cp in sides:
            self.prev_last[account] = self.last_seen.get(account)
            self.first_seen.setdefault(account, t["ts"])
            self.last_seen[account] = max(self.last_seen.get(account, t["ts"]), t["ts"])
            bisect.insort(self.events[account], (t["ts"], t["seq"], direction, t["amount"], cp, t["id"]))
        for account, direction, cp in sides:
            self.account_rules(t, account, direction, cp)
        self.out_edges[t["from"]].append((t["ts"], t["seq"], t["to"], t["amount"]))
        self.in_edges[t["to"]].append((t["ts"], t["seq"], t["from"], t["amount"]))
        self.cycle(t)
        self.scatter_gather(t)


def main(argv):
    args = [a for a in argv[1:]]
    watch = set()
    if "--watchlist" in args:
        i = args.index("--watchlist")
        with open(args[i + 1]) as f:
            watch = {ln.strip() for ln in f if ln.strip() and not ln.startswith("#")}
        del args[i:i + 2]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    ev = Evaluator(watch)
    with open(args[0]) as f:
        for seq, line in enumerate(f):
            r = json.loads(line, parse_float=Decimal)
            t = {"seq": seq, "id": r["id"], "ts": int(r["ts"]), "from": r["from"], "to": r["to"],
                 "amount": to_micros(r["amount"], r["currency"]),
                 "from_country": r.get("from_country"), "to_country": r.get("to_country")}
            ev.submit(t)
    for a in ev.alerts:
        sys.stdout.write(json.dumps(a) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
