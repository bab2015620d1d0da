#!/usr/bin/env python3
# ref_contract.py - an independent, slow reference of CONTRACT.md sections 3-5 (inputs,
# alert suppression, the twelve rules) with the pins of docs/RULES.md, at the built-in
# defaults. For small audit streams only: brute force, no windows kept, no budgets.
"""usage: ref_contract.py INPUT [--format ndjson|amlworld-csv] [--watchlist FILE]
                        [--late-anchors newest|all]

Prints one JSON line per alert: {"rule", "account", "trigger", "window_end", "late_anchor"},
then one {"dead_letter": LINE, "reason": ...} per refused record.
Amounts are exact fractions (EXACT below). Graph rules: every origin of a ring / every
(origin, sink) pattern that the new transfer belongs to, among all transfers so far (no
expiry: records far beyond allowed_lateness may differ from vigild, which has expired
what they would need).
--late-anchors all (default): a record within allowed_lateness is also placed in every
window of its account that ends at a newer event and contains it (contract section 6:
"still placed in their windows"); newest: only the newest such window (vigild before the
rule-audit branch)."""

import json
import re
import sys
from decimal import Decimal, ROUND_HALF_EVEN
from fractions import Fraction
from pathlib import Path

M = 1_000_000
SEC, MIN, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000

# ---- defaults (contract section 5 / 6) --------------------------------------------------
P = dict(
    large_tx=dict(threshold=10000 * M, channels=[]),
    structuring=dict(threshold=10000 * M, margin_ppm=150_000, min_count=3, window=72 * HOUR),
    fan_in=dict(min_cp=8, min_total=5000 * M, window=72 * HOUR),
    fan_out=dict(min_cp=8, min_total=5000 * M, window=72 * HOUR),
    pass_through=dict(min_amount=5000 * M, ratio_ppm=800_000, window=48 * HOUR),
    cycle=dict(max_hops=6, min_amount=1000 * M, window=7 * DAY),
    scatter_gather=dict(min_inter=3, min_amount=1000 * M, window=7 * DAY),
    gather_scatter=dict(min_cp=5, min_total=5000 * M, window=72 * HOUR),
    velocity=dict(window=HOUR, baseline=30 * DAY, min_history=7 * DAY, factor_ppm=10 * M, min_count=20),
    dormant=dict(dormancy=180 * DAY, min_amount=5000 * M),
    high_risk_country=dict(countries={"KP", "IR", "MM"}, min_amount=1000 * M),
)
COOLDOWN = DAY
ALLOWED_LATENESS = 5 * MIN

# ---- currencies (docs/CURRENCIES.md table, parsed, so the reference reads the doc) ------
ALIASES = {"US Dollar": "USD", "Euro": "EUR", "Yuan": "CNY", "Yen": "JPY", "UK Pound": "GBP",
           "Rupee": "INR", "Ruble": "RUB", "Brazil Real": "BRL", "Australian Dollar": "AUD",
           "Canadian Dollar": "CAD", "Mexican Peso": "MXN", "Shekel": "ILS", "Swiss Franc": "CHF",
           "Saudi Riyal": "SAR", "Bitcoin": "XBT", "BTC": "XBT"}


def load_rates():
    doc = Path(__file__).resolve().parents[2] / "docs" / "CURRENCIES.md"
    rates = {}
    for line in doc.read_text().splitlines():
        m = re.match(r"\|\s*`([A-Z]{3})`\s*\|[^|]*\|\s*([0-9.]+)\s*\|\s*([0-9]+)\s*\|", line)
        if m:
            code, decimal, micros = m.group(1), Decimal(m.group(2)), int(m.group(3))
            assert int(decimal * M) == micros, (code, decimal, micros)
            rates[code] = micros
    assert len(rates) >= 60
    return rates


RATES = load_rates()


class Bad(Exception):
    pass


# EXACT: amounts are kept as exact fractions of a micro-unit of the base currency (the
# contract: "parsed exactly", "converted ... with currency.rates"); False reproduces the
# documented rounding of docs/CURRENCIES.md (half-even to micro-units of the input
# currency, then half away from zero to micro-units of the base).
EXACT = True


def amount_micros(text):
    """Decimal text -> micro-units of its own currency (a Fraction when EXACT)."""
    if not re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", text):
        raise Bad("bad_amount")
    d = Decimal(text)
    if EXACT:
        q = Fraction(d) * M
    else:
        q = int((d * M).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    if q <= 0:
        raise Bad("amount_not_positive")
    if q >= 2 ** 63:
        raise Bad("amount_overflow")
    return q


def convert(micros, currency):
    code = ALIASES.get(currency, currency)
    if not re.fullmatch(r"[A-Z]{3}", currency) and currency not in ALIASES:
        raise Bad("unknown_currency")
    if code not in RATES:
        raise Bad("unknown_currency")
    if EXACT:
        return micros * RATES[code] / M
    prod = micros * RATES[code]
    q, r = divmod(prod, M)
    if 2 * r >= M:
        q += 1
    if q <= 0:
        raise Bad("amount_not_positive")
    return q


def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_ms(y, mo, d, h, mi, s):
    import calendar
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1] and h <= 23 and mi <= 59 and s <= 60):
        raise Bad("bad_timestamp")
    return (((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s) * 1000


def rfc3339_ms(s):
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", s)
    if not m:
        raise Bad("bad_timestamp")
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    ms = civil_ms(y, mo, d, h, mi, sec)
    if m.group(7):
        ms += int((m.group(7)[1:] + "000")[:3])     # truncated to the millisecond
    off = m.group(8)
    if off not in ("Z", "z"):
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            raise Bad("bad_timestamp")
        delta = (oh * 60 + om) * MIN
        ms += -delta if off[0] == "+" else delta
    return ms


def id_ok(v):
    return isinstance(v, str) and 1 <= len(v.encode()) <= 64


def parse_ndjson(line, seq):
    try:
        r = json.loads(line, parse_float=lambda x: ("num", x), parse_int=lambda x: ("num", x))
    except Exception:
        raise Bad("malformed")
    if not isinstance(r, dict):
        raise Bad("malformed")
    for k in ("id", "ts", "from", "to", "amount", "currency"):
        if r.get(k) is None:
            raise Bad("missing_field")
    for k in ("id", "from", "to"):
        if not id_ok(r[k]):
            raise Bad("bad_id")
    ts = r["ts"]
    if isinstance(ts, str):
        ts = rfc3339_ms(ts)
    elif isinstance(ts, tuple):
        t = ts[1]
        if re.fullmatch(r"-?[0-9]+(\.0+)?", t):
            ts = int(t.split(".")[0])
        else:
            raise Bad("bad_timestamp")
    else:
        raise Bad("bad_type")
    a = r["amount"]
    if isinstance(a, tuple):
        micros = amount_micros(a[1])
    elif isinstance(a, str):
        micros = amount_micros(a)
    else:
        raise Bad("bad_type")
    if not isinstance(r["currency"], str):
        raise Bad("bad_type")
    base = convert(micros, r["currency"])
    t = {"seq": seq, "id": r["id"], "ts": ts, "from": r["from"], "to": r["to"], "amount": base,
         "channel": (r.get("channel") or "").lower(), "from_country": None, "to_country": None}
    for k in ("from_country", "to_country"):
        v = r.get(k)
        if v is not None:
            if not (isinstance(v, str) and re.fullmatch(r"[A-Za-z]{2}", v)):
                raise Bad("bad_country")
            t[k] = v.upper()
    return t


def parse_csv(line, data_line, seq):
    cols = line.rstrip("\r\n").split(",")
    if len(cols) != 11:
        raise Bad("malformed")
    m = re.fullmatch(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2})", cols[0])
    if not m:
        raise Bad("bad_timestamp")
    ts = civil_ms(*(int(g) for g in m.groups()), 0)

    def acct(bank, account):
        if not bank or not account:
            raise Bad("bad_id")
        bank = bank.lstrip("0") or "0"
        v = bank + ":" + account
        if len(v.encode()) > 64:
            raise Bad("bad_id")
        return v
    frm, to = acct(cols[1], cols[2]), acct(cols[3], cols[4])
    base = convert(amount_micros(cols[7]), cols[8])
    return {"seq": seq, "id": str(data_line), "ts": ts, "from": frm, "to": to, "amount": base,
            "channel": cols[9].lower(), "from_country": None, "to_country": None}


# ---- evaluation ---------------------------------------------------------------------------

class Ref:
    def __init__(self, watchlist=(), late_anchors="all"):
        self.watch = set(watchlist)
        self.late_anchors = late_anchors
        self.ev = {}          # account -> list of events sorted by (ts, seq)
        self.edges = []       # every transfer so far (graph rules filter by amount)
        self.last_alert = {}  # (rule, account) -> newest alert trigger ts
        self.alerts = []
        self.newest = None

    # cooldown: symmetric in event time around the newest alert (docs/RULES.md)
    def cooling(self, rule, account, ts):
        last = self.last_alert.get((rule, account))
        return last is not None and last - COOLDOWN < ts < last + COOLDOWN

    def emit(self, rule, account, trig, window_end, late_anchor=False):
        if self.cooling(rule, account, trig["ts"]):
            return False
        k = (rule, account)
        self.last_alert[k] = max(self.last_alert.get(k, trig["ts"]), trig["ts"])
        self.alerts.append({"rule": rule, "account": account, "trigger": trig["id"],
                            "window_end": window_end, "late_anchor": late_anchor})
        return True

    # ---- account stage ----
    @staticmethod
    def window(evs, a, w):
        ta = evs[a]["ts"]
        return [e for e in evs[: a + 1] if e["ts"] >= ta - w]

    def r_structuring(self, evs, a):
        p = P["structuring"]
        band = lambda x: x < p["threshold"] and x * M >= p["threshold"] * (M - p["margin_ppm"])
        if not band(evs[a]["amount"]):
            return False
        d = evs[a]["dir"]
        win = [e for e in self.window(evs, a, p["window"]) if e["dir"] == d and band(e["amount"])]
        return len(win) >= p["min_count"] and sum(e["amount"] for e in win) >= p["threshold"]

    def r_fan(self, evs, a, rule, d):
        p = P[rule]
        if evs[a]["dir"] != d:
            return False
        win = [e for e in self.window(evs, a, p["window"]) if e["dir"] == d]
        return len({e["cp"] for e in win}) >= p["min_cp"] and sum(e["amount"] for e in win) >= p["min_total"]

    def r_pass_through(self, evs, a):
        p = P["pass_through"]
        if evs[a]["dir"] != "out":
            return False
        win = self.window(evs, a, p["window"])
        for i, e in enumerate(win):
            if e["dir"] != "in" or e["amount"] < p["min_amount"]:
                continue
            sent = sum(o["amount"] for o in win[i + 1:] if o["dir"] == "out" and o["ts"] <= e["ts"] + p["window"])
            if sent * M >= p["ratio_ppm"] * e["amount"]:
                return True
        return False

    def r_gather_scatter(self, evs, a):
        p = P["gather_scatter"]
        if evs[a]["dir"] != "out":
            return False
        win = self.window(evs, a, p["window"])
        senders, g = set(), None
        for i, e in enumerate(win):
            if e["dir"] == "in":
                senders.add(e["cp"])
                if len(senders) >= p["min_cp"]:
                    g = i
                    break
        if g is None:
            return False
        outs = [e for e in win[g + 1:] if e["dir"] == "out"]
        gathered = sum(e["amount"] for e in win if e["dir"] == "in")
        return (len({e["cp"] for e in outs}) >= p["min_cp"] and gathered >= p["min_total"]
                and sum(e["amount"] for e in outs) >= p["min_total"])

    def r_velocity(self, evs, a):
        p = P["velocity"]
        t = evs[a]["ts"]
        first = min(e["ts"] for e in evs)
        if first > t - p["min_history"]:
            return False
        n = len(self.window(evs, a, p["window"]))
        if n < p["min_count"]:
            return False
        ws = t - p["window"]
        span = min(p["baseline"], ws - first)
        if span <= 0:
            return False
        b = sum(1 for e in evs if ws - p["baseline"] <= e["ts"] < ws)
        return n * span * M > p["factor_ppm"] * b * p["window"]

    ANCHOR_RULES = ("structuring", "fan_in", "fan_out", "pass_through", "gather_scatter", "velocity")

    def eval_anchor(self, rule, evs, a):
        if rule == "structuring":
            return self.r_structuring(evs, a)
        if rule == "fan_in":
            return self.r_fan(evs, a, "fan_in", "in")
        if rule == "fan_out":
            return self.r_fan(evs, a, "fan_out", "out")
        if rule == "pass_through":
            return self.r_pass_through(evs, a)
        if rule == "gather_scatter":
            return self.r_gather_scatter(evs, a)
        if rule == "velocity":
            return self.r_velocity(evs, a)
        raise AssertionError(rule)

    def is_trigger(self, rule, anchor, cur):
        if rule == "structuring":
            p = P["structuring"]
            return anchor["dir"] == cur["dir"] and anchor["amount"] < p["threshold"] and \
                anchor["amount"] * M >= p["threshold"] * (M - p["margin_ppm"])
        if rule == "fan_in":
            return anchor["dir"] == "in"
        if rule in ("fan_out", "pass_through", "gather_scatter"):
            return anchor["dir"] == "out"
        return True

    RULE_WINDOW = {"structuring": "window", "fan_in": "window", "fan_out": "window",
                   "pass_through": "window", "gather_scatter": "window", "velocity": "window"}

    def account_side(self, t, account, d, cp):
        evs = self.ev.setdefault(account, [])
        prev = [e for e in evs]
        e = {"ts": t["ts"], "seq": t["seq"], "dir": d, "amount": t["amount"], "cp": cp, "id": t["id"]}
        evs.append(e)
        evs.sort(key=lambda x: (x["ts"], x["seq"]))
        cur = evs.index(e)
        amt, ts = t["amount"], t["ts"]
        # stateless rules
        p = P["large_tx"]
        if d == "out" and amt >= p["threshold"] and (not p["channels"] or t["channel"] in p["channels"]):
            self.emit("large_tx", account, t, ts)
        p = P["high_risk_country"]
        c = t["to_country"] if d == "out" else t["from_country"]
        if c and c in p["countries"] and amt >= p["min_amount"]:
            self.emit("high_risk_country", account, t, ts)
        if account in self.watch:
            self.emit("watchlist", account, t, ts)
        p = P["dormant"]
        earlier = [x["ts"] for x in prev if x["ts"] <= ts]
        if earlier and amt >= p["min_amount"] and ts - max(earlier) >= p["dormancy"]:
            self.emit("dormant", account, t, ts)
        # windowed rules: the window ending at this event, then (late) the newer ones
        for rule in self.ANCHOR_RULES:
            w = P[rule]["window"]
            if self.cooling(rule, account, ts):
                continue
            if self.eval_anchor(rule, evs, cur):
                self.emit(rule, account, t, ts)
                continue
            later = [i for i in range(cur + 1, len(evs)) if evs[i]["ts"] <= ts + w]
            beyond = self.newest is not None and ts < self.newest - ALLOWED_LATENESS
            if self.late_anchors == "newest":
                # only the newest event that could trigger the rule (vigild before rule-audit)
                later = [i for i in later if self.is_trigger(rule, evs[i], e)][-1:]
            elif beyond:
                # beyond allowed_lateness the contract only asks for the record's own
                # evaluation; vigild also judges the newest window holding it and those
                # ending within allowed_lateness after it (a choice, docs/RULES.md)
                trig = [i for i in later if self.is_trigger(rule, evs[i], e)]
                later = sorted(set(trig[-1:] + [i for i in trig if evs[i]["ts"] <= ts + ALLOWED_LATENESS]))
            for i in reversed(later):
                if self.eval_anchor(rule, evs, i):
                    self.emit(rule, account, t, evs[i]["ts"], late_anchor=True)
                    break

    # ---- graph stage ----
    def cycle(self, t, edges):
        p = P["cycle"]
        if t["amount"] < p["min_amount"] or t["from"] == t["to"]:
            return
        E = [e for e in edges if e["amount"] >= p["min_amount"] and e["from"] != e["to"]]
        new = t
        H = p["max_hops"]
        found = []   # (origin, first_ts, last_ts, hops)

        # backward from x: paths ... -> x with strictly decreasing times below t
        def back(node, before, path_nodes, hops, first):
            yield node, first, path_nodes, hops
            if hops + 1 >= H:
                return
            for e in E:
                if e["to"] == node and e["ts"] < before and e["from"] not in path_nodes:
                    yield from back(e["from"], e["ts"], path_nodes | {e["from"]}, hops + 1, e["ts"])

        def fwd(node, after, path_nodes, hops, last):
            yield node, last, path_nodes, hops
            if hops + 1 >= H:
                return
            for e in E:
                if e["from"] == node and e["ts"] > after and e["to"] not in path_nodes:
                    yield from fwd(e["to"], e["ts"], path_nodes | {e["to"]}, hops + 1, e["ts"])

        x, y = new["from"], new["to"]
        fwds = list(fwd(y, new["ts"], {y}, 0, new["ts"]))
        for (o, first, bnodes, bh) in back(x, new["ts"], {x}, 0, new["ts"]):
            for (z, last, fnodes, fh) in fwds:
                if z != o or bh + fh + 1 < 2 or bh + fh + 1 > H:
                    continue
                if (bnodes & fnodes) != {o} and not (bh == 0 and fh == 0):
                    continue
                if o == x and o == y:
                    continue
                if last - first > p["window"]:
                    continue
                found.append((o, first, last, bh + fh + 1, fh == 0))
        if not found:
            return
        # every origin of a ring the new transfer belongs to (with input in time order that
        # is only the receiver: the new transfer closes the ring)
        for o in sorted({f[0] for f in found}):
            last = max(f[2] for f in found if f[0] == o)
            self.emit("cycle", o, t, last, late_anchor=not any(f[4] for f in found if f[0] == o))

    def scatter_gather(self, t, edges):
        p = P["scatter_gather"]
        if t["amount"] < p["min_amount"]:
            return
        E = [e for e in edges if e["amount"] >= p["min_amount"] and e["from"] != e["to"]]
        W = p["window"]

        def pattern(o, s, must):
            """Is there a window [L, L+W] holding >= min_inter intermediaries of o into s,
            with the transfer `must` part of the evidence?"""
            legs = [e for e in E if e["from"] == o and e["to"] not in (o, s)]
            fwds = [e for e in E if e["to"] == s and e["from"] not in (o, s)]
            starts = sorted({e["ts"] for e in legs})
            for L in starts:
                R = L + W
                inter = set()
                uses_must = False
                for k in {e["to"] for e in legs}:
                    kl = [e for e in legs if e["to"] == k and L <= e["ts"] <= R]
                    kf = [e for e in fwds if e["from"] == k and L <= e["ts"] <= R]
                    if kl and kf and min(e["ts"] for e in kl) < max(e["ts"] for e in kf):
                        inter.add(k)
                        el = min(e["ts"] for e in kl)
                        if any(e is must for e in kf if e["ts"] > el) or (
                                any(e is must for e in kl) and must["ts"] < max(e["ts"] for e in kf)):
                            uses_must = True
                if len(inter) >= p["min_inter"] and uses_must:
                    return R
            return None

        fired = set()
        m, s = t["from"], t["to"]
        # as a forward m -> s: origins are senders into m
        for o in sorted({e["from"] for e in E if e["to"] == m and e["from"] != s}):
            if pattern(o, s, t) is not None and (o, s) not in fired:
                fired.add((o, s))
        # as a leg o -> m: sinks are receivers of m
        o, mm = t["from"], t["to"]
        for s2 in sorted({e["to"] for e in E if e["from"] == mm and e["to"] != o}):
            if pattern(o, s2, t) is not None and (o, s2) not in fired:
                fired.add((o, s2))
        for (o, s) in sorted(fired):
            self.emit("scatter_gather", o, t, t["ts"])
            self.emit("scatter_gather", s, t, t["ts"])

    def submit(self, t):
        if self.newest is None or t["ts"] > self.newest:
            self.newest = t["ts"]
        self.account_side(t, t["from"], "out", t["to"])
        self.account_side(t, t["to"], "in", t["from"])
        self.edges.append(t)
        self.cycle(t, self.edges)
        self.scatter_gather(t, self.edges)


def run(path, fmt="ndjson", watchlist=(), late_anchors="all"):
    ref = Ref(watchlist, late_anchors)
    dead = []
    seq = 0
    data_line = 0
    header_checked = False
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            try:
                if fmt == "amlworld-csv":
                    if not header_checked:
                        header_checked = True
                        if line.startswith("Timestamp,From Bank,Account,To Bank,Account,"):
                            continue
                    data_line += 1
                    t = parse_csv(line, data_line, seq)
                else:
                    t = parse_ndjson(line, seq)
            except Bad as b:
                dead.append((lineno, str(b)))
                continue
            ref.submit(t)
            seq += 1
    return ref.alerts, dead


def main(argv):
    args = argv[1:]
    fmt, watch, late = "ndjson", [], "all"
    if "--format" in args:
        i = args.index("--format"); fmt = args[i + 1]; del args[i:i + 2]
    if "--watchlist" in args:
        i = args.index("--watchlist")
        watch = [ln.split("#")[0].strip() for ln in open(args[i + 1])]
        watch = [w for w in watch if w]
        del args[i:i + 2]
    if "--late-anchors" in args:
        i = args.index("--late-anchors"); late = args[i + 1]; del args[i:i + 2]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    alerts, dead = run(args[0], fmt, watch, late)
    for a in alerts:
        print(json.dumps(a))
    for d in dead:
        print(json.dumps({"dead_letter": d[0], "reason": d[1]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
