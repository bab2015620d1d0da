#!/usr/bin/env bash
# test_replay_bad_input.sh - bad input through the real vigild (contract sections 2 and 3):
# one record of every malformed class, NDJSON and AMLworld CSV, each must land in
# --dead-letter with its reason while the good records' alerts all come out and vigild
# exits 0; plus the command line's exit codes (--check-config, usage, --version, --help).
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"

T=$(mktemp -d "${TMPDIR:-/tmp}/vg-bad-input.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
VIGILD="$VG_BIN/vigild"

# ---- NDJSON: the table of bad records, interleaved with good ones ---------------------------
python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
TS = 1704067200000
def rec(**kw):
    return json.dumps(kw, separators=(",", ":")).encode()
def good(name, amount, i):
    # a large transfer from its own account: exactly one large_tx alert about `name`
    return rec(id="g-" + name, ts=TS + i * 60000, **{"from": name}, to="R-" + name, amount=amount, currency="USD")
base = dict(id="x", ts=TS, to="B", amount=1, currency="USD")
def bad(**over):
    d = dict(base, **{"from": "BAD"})
    for k, v in over.items():
        if v is DROP: d.pop(k)
        else: d[k] = v
    return rec(**d)
DROP = object()
BAD_TABLE = [
    ("malformed", b'{"id":"b1",'),
    ("malformed", b"not json at all"),
    ("malformed", b"[1,2,3]"),
    ("malformed", b'{"id":"x","id":"y","ts":1704067200000,"from":"BAD","to":"B","amount":1,"currency":"USD"}'),
    ("malformed", b'{"id":"\xff","ts":1704067200000,"from":"BAD","to":"B","amount":1,"currency":"USD"}'),
    ("missing_field", bad(id=DROP)),
    ("missing_field", bad(ts=DROP)),
    ("missing_field", rec(id="x", ts=TS, to="B", amount=1, currency="USD")),
    ("missing_field", bad(to=DROP)),
    ("missing_field", bad(amount=DROP)),
    ("missing_field", bad(currency=DROP)),
    ("missing_field", bad(id=None)),
    ("bad_type", bad(id=5)),
    ("bad_type", bad(to=["B"])),
    ("bad_id", bad(**{"from": "BAD" + "x" * 62})),    # 65 bytes
    ("bad_id", bad(to="y" * 65)),
    ("bad_id", bad(id="i" * 65)),
    ("bad_id", bad(**{"from": ""})),
    ("bad_id", bad(id="")),
    ("amount_not_positive", bad(amount=-5)),
    ("amount_not_positive", bad(amount=0)),
    ("amount_not_positive", bad(amount="0.000000")),
    ("bad_amount", bad(amount="NaN")),
    ("bad_amount", bad(amount="1.2.3")),
    ("bad_amount", bad(amount="12abc")),
    ("amount_overflow", bad(amount=99999999999999999999)),
    ("amount_overflow", bad(amount="9000000000000", currency="XBT")),  # fits, not once converted
    ("unknown_currency", bad(currency="ZZZ")),
    ("bad_timestamp", bad(ts="2024-13-01T00:00:00Z")),
    ("bad_timestamp", bad(ts="yesterday")),
    ("bad_country", bad(to_country="USA")),
    ("bad_country", bad(from_country="1x")),
]
lines, expect_dead, expect_alerts = [], [], []
def add_good(name, amount):
    lines.append(good(name, amount, len(lines)))
    expect_alerts.append(name)
add_good("G0", "15000")
for reason, payload in BAD_TABLE:
    lines.append(payload)
    expect_dead.append((len(lines), reason, payload))
    if len(lines) % 7 == 0:
        add_good("G%d" % len(lines), 12000)
lines.append(b"")                                           # blank: skipped, not a dead letter
lines.append(good("CRLF", 30000, 99) + b"\r"); expect_alerts.append("CRLF")  # CRLF is fine
# a record of exactly 64 KiB is accepted; one byte more is refused as oversized
def padded(name, size):
    head = good(name, 25000, 100)[:-1] + b',"pad":"'
    return head + b"p" * (size - len(head) - 2) + b'"}'
lines.append(padded("PAD", 65536)); expect_alerts.append("PAD")
lines.append(padded("BADPAD", 65537)); expect_dead.append((len(lines), "oversized", None))
# filler (no alerts: every account appears once) so that an oversized record straddles the
# reader's first 4 MiB + 64 KiB buffer, then a 5 MiB record (bigger than the buffer)
size = sum(len(l) + 1 for l in lines)
i = 0
while size < (4 << 20) + (64 << 10) - 30000:
    l = rec(id="f%d" % i, ts=TS + i, **{"from": "F%d" % i}, to="FT%d" % i, amount="1.5", currency="EUR")
    lines.append(l); size += len(l) + 1; i += 1
lines.append(padded("BADSTRADDLE", 70000)); expect_dead.append((len(lines), "oversized", None))
add_good("AFTER1", 11000)
lines.append(padded("BADHUGE", 5 << 20)); expect_dead.append((len(lines), "oversized", None))
add_good("AFTER2", 11000)
lines.append(bad(currency="ZZZ")); expect_dead.append((len(lines), "unknown_currency", lines[-1]))
lines.append(good("LAST", 40000, 200)); expect_alerts.append("LAST")   # no final newline
with open(f"{T}/in.ndjson", "wb") as f:
    f.write(b"\n".join(lines))
with open(f"{T}/expect_dead.json", "w") as f:
    json.dump([(n, r, p.decode("utf-8") if p is not None and p.isascii() else None) for n, r, p in expect_dead], f)
with open(f"{T}/expect_alerts.json", "w") as f:
    json.dump(expect_alerts, f)
PY

check_run() { # $1 alerts file, $2 dead-letter file, $3 label
python3 - "$T" "$1" "$2" "$3" <<'PY'
import json, sys
T, alerts_path, dead_path, label = sys.argv[1:]
expect_dead = json.load(open(f"{T}/expect_dead.json"))
expect_alerts = json.load(open(f"{T}/expect_alerts.json"))
problems = []
dead = [json.loads(l) for l in open(dead_path, encoding="utf-8")]
if len(dead) != len(expect_dead):
    problems.append(f"{len(dead)} dead letters, expected {len(expect_dead)}")
got = {d.get("line"): d for d in dead}
for line, reason, payload in expect_dead:
    d = got.get(line)
    if d is None:
        problems.append(f"line {line} ({reason}) not dead-lettered"); continue
    if d.get("reason") != reason:
        problems.append(f"line {line}: reason {d.get('reason')!r}, expected {reason!r} ({d.get('detail')})")
    if not isinstance(d.get("detail"), str) or not d["detail"]:
        problems.append(f"line {line}: no detail")
    if not isinstance(d.get("payload"), str):
        problems.append(f"line {line}: no payload")
    elif payload is not None and d["payload"] != payload:
        problems.append(f"line {line}: payload {d['payload'][:80]!r} is not the record")
alerts = [json.loads(l) for l in open(alerts_path, encoding="utf-8")]
large = sorted(a["account"] for a in alerts if a["rule"] == "large_tx")
if large != sorted(expect_alerts):
    problems.append(f"large_tx alerts about {large}, expected {sorted(expect_alerts)}")
others = [(a["rule"], a["account"]) for a in alerts if a["rule"] != "large_tx"]
if others:
    problems.append(f"unexpected alerts {others[:5]}")
if any(a["account"].startswith("BAD") for a in alerts):
    problems.append("a refused record produced an alert")
if problems:
    print(f"{label}:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"ok: {label}: {len(dead)} dead letters with their reasons, {len(alerts)} alerts")
PY
}

"$VIGILD" --input "$T/in.ndjson" --output "$T/alerts.ndjson" --dead-letter "$T/dead.ndjson" 2>"$T/err.log" ||
    fail "vigild exited $? on bad NDJSON input: $(tail -3 "$T/err.log")"
check_run "$T/alerts.ndjson" "$T/dead.ndjson" "ndjson file" || fail "ndjson file"
"$VIGILD" --input - --output - --dead-letter "$T/dead-stdin.ndjson" <"$T/in.ndjson" >"$T/alerts-stdin.ndjson" 2>"$T/err.log" ||
    fail "vigild exited $? reading stdin: $(tail -3 "$T/err.log")"
check_run "$T/alerts-stdin.ndjson" "$T/dead-stdin.ndjson" "ndjson stdin" || fail "ndjson stdin"

# ---- AMLworld CSV -----------------------------------------------------------------------
H='Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering'
OK=',011,8000EBD31,15000.00,US Dollar'
cat >"$T/in.csv" <<EOF
$H
2022/09/01 00:20,010,8000EBD30,011,8000EBD31,15000.00,US Dollar,15000.00,US Dollar,Wire,0
2022/09/01 00:21,010,BAD0000
2022/09/01 00:21,010,BAD0001$OK,15000.00,US Dollar,Wire,0,extra
2022/13/01 00:21,010,BAD0002$OK,15000.00,US Dollar,Wire,0
2022-09-01 00:21,010,BAD0003$OK,15000.00,US Dollar,Wire,0
2022/09/01 00:22,010,BAD0004$OK,15000.00,Dogecoin,Wire,0
2022/09/01 00:22,010,BAD0005$OK,-5,US Dollar,Wire,0
2022/09/01 00:22,010,BAD0006$OK,0.00,US Dollar,Wire,0
2022/09/01 00:22,010,BAD0007$OK,abc,US Dollar,Wire,0
2022/09/01 00:22,010,BAD0008$OK,1.2.3,US Dollar,Wire,0
2022/09/01 00:22,010,BAD0009$OK,99999999999999999999,US Dollar,Wire,0
2022/09/01 00:22,010,$OK,15000,US Dollar,Wire,0
2022/09/01 00:22,010,BAD$(printf 'A%.0s' $(seq 62))$OK,15000,US Dollar,Wire,0
2022/09/01 00:23,012,8000EBD40,011,8000EBD31,20000.00,Euro,20000.00,Euro,Cash,0
EOF
cat >"$T/expect_csv.txt" <<'EOF'
3 malformed
4 malformed
5 bad_timestamp
6 bad_timestamp
7 unknown_currency
8 amount_not_positive
9 amount_not_positive
10 bad_amount
11 bad_amount
12 amount_overflow
13 bad_id
14 bad_id
EOF
"$VIGILD" --input "$T/in.csv" --format amlworld-csv --output "$T/alerts-csv.ndjson" --dead-letter "$T/dead-csv.ndjson" \
    2>"$T/err.log" || fail "vigild exited $? on bad CSV input: $(tail -3 "$T/err.log")"
python3 - "$T" <<'PY' || fail "amlworld csv"
import json, sys
T = sys.argv[1]
want = dict(tuple(l.split()) for l in open(f"{T}/expect_csv.txt"))
dead = [json.loads(l) for l in open(f"{T}/dead-csv.ndjson")]
got = {str(d["line"]): d["reason"] for d in dead}
assert got == want, f"dead letters {got}, expected {want}"
alerts = [json.loads(l) for l in open(f"{T}/alerts-csv.ndjson")]
large = sorted((a["account"], tuple(a["tx_ids"])) for a in alerts if a["rule"] == "large_tx")
# account = <bank without leading zeros>:<account>; tx id = the data line number
assert large == [("10:8000EBD30", ("1",)), ("12:8000EBD40", ("14",))], large
assert not any("BAD" in a["account"] for a in alerts), "a refused CSV record alerted"
print(f"ok: amlworld csv: {len(dead)} dead letters, {len(alerts)} alerts")
PY

# ---- command line exit codes -------------------------------------------------------------
expect_exit() { # $1 code, rest: command; stderr kept in $T/cmd.err, stdout in $T/cmd.out
    local want=$1; shift
    local got=0
    "$@" >"$T/cmd.out" 2>"$T/cmd.err" || got=$?
    [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want: $(head -3 "$T/cmd.err")"
}
printf 'kafka:\n  brokers: k1:9092\nrules:\n  large_tx:\n    threshold: 5000\nalerts:\n  cooldown: 1h\n' >"$T/good.yaml"
printf 'rules:\n  large_tx:\n    threshold: 5000\n  fan_in:\n    window: 3x\nkafka:\n  brokers: k1:9092\n' >"$T/bad.yaml"
printf 'engine:\n  threads: 2\n  bogus_key: 1\n' >"$T/unknown.yaml"
printf 'rules:\n  watchlist:\n    file: %s/missing-list.txt\n' "$T" >"$T/nolist.yaml"
expect_exit 0 "$VIGILD" -c "$T/good.yaml" --check-config
expect_exit 1 "$VIGILD" --check-config   # the built-in defaults name no kafka.brokers
grep -q "kafka.brokers: required" "$T/cmd.err" || fail "no kafka.brokers error: $(cat "$T/cmd.err")"
expect_exit 1 "$VIGILD" -c "$T/bad.yaml" --check-config
grep -q "bad.yaml:5: rules.fan_in.window" "$T/cmd.err" || fail "config error lacks file:line: key: $(cat "$T/cmd.err")"
[ "$(wc -l <"$T/cmd.err")" -eq 1 ] || fail "config error is not one line: $(cat "$T/cmd.err")"
expect_exit 1 "$VIGILD" -c "$T/unknown.yaml" --check-config
grep -q "unknown.yaml:3: engine.bogus_key" "$T/cmd.err" || fail "unknown key error: $(cat "$T/cmd.err")"
expect_exit 1 "$VIGILD" -c "$T/nolist.yaml" --check-config
grep -q "nolist.yaml:3: rules.watchlist.file" "$T/cmd.err" || fail "missing list error: $(cat "$T/cmd.err")"
expect_exit 1 "$VIGILD" -c "$T/does-not-exist.yaml" --check-config
# A base currency with no built-in rate and nothing linking it is an error (every other
# currency would be dead-lettered), named with file and line; `ZMW: 1` under currency.rates
# makes a single-currency deployment explicit: valid, with a warning, other currencies then
# dead-letter.
printf 'currency:\n  base: ZMW\nkafka:\n  brokers: k1:9092\n' >"$T/zmw.yaml"
expect_exit 1 "$VIGILD" -c "$T/zmw.yaml" --check-config
grep -q "^$T/zmw.yaml:2: currency.base: no built-in rate for ZMW" "$T/cmd.err" ||
    fail "no error for an unconvertible base currency: $(cat "$T/cmd.err")"
printf 'currency:\n  base: ZMW\n  rates:\n    ZMW: 1\nkafka:\n  brokers: k1:9092\n' >"$T/zmw-only.yaml"
expect_exit 0 "$VIGILD" -c "$T/zmw-only.yaml" --check-config
grep -q "event=currency_base_unlinked file=$T/zmw-only.yaml line=2 key=currency.base" "$T/cmd.err" ||
    fail "no warning for a single-currency base: $(cat "$T/cmd.err")"
printf 'currency:\n  base: ZMW\n  rates:\n    USD: 26.5\nkafka:\n  brokers: k1:9092\n' >"$T/zmw-linked.yaml"
expect_exit 0 "$VIGILD" -c "$T/zmw-linked.yaml" --check-config
grep -q "currency_base_unlinked" "$T/cmd.err" && fail "warned although currency.rates links ZMW to USD"
expect_exit 0 "$VIGILD" -c "$T/good.yaml" --check-config
grep -q "currency_base_unlinked" "$T/cmd.err" && fail "warned for the default base"
printf '%s\n' '{"id":"z1","ts":1661990400000,"from":"a","to":"b","amount":5,"currency":"ZMW"}' \
    '{"id":"z2","ts":1661990400000,"from":"a","to":"b","amount":5,"currency":"USD"}' >"$T/zmw.ndjson"
expect_exit 0 "$VIGILD" -c "$T/zmw-only.yaml" --input "$T/zmw.ndjson" --output "$T/zmw.alerts" --dead-letter "$T/zmw.dead"
[ "$(wc -l <"$T/zmw.dead")" = 1 ] && grep -q '"unknown_currency"' "$T/zmw.dead" ||
    fail "under a single-currency base the USD record should be the one dead letter: $(cat "$T/zmw.dead")"
expect_exit 1 "$VIGILD" -c "$T/bad.yaml" --input "$T/in.ndjson" --output "$T/x.ndjson"
[ ! -s "$T/x.ndjson" ] || fail "a bad config still produced alerts"
expect_exit 0 "$VIGILD" --version
grep -q "^vigild [0-9]" "$T/cmd.out" || fail "--version prints '$(cat "$T/cmd.out")'"
expect_exit 0 "$VIGILD" --help
grep -q -- "--check-config" "$T/cmd.out" || fail "--help does not describe the options"
expect_exit 1 "$VIGILD" --no-such-option
expect_exit 1 "$VIGILD" stray-argument
expect_exit 1 "$VIGILD" --version extra    # --version does not hide a stray word
expect_exit 1 "$VIGILD" --help extra
expect_exit 1 "$VIGILD" --input "$T/in.ndjson" --format xml
expect_exit 0 "$VIGILD" --input "$T/in.ndjson" --output "$T/x.ndjson" --threads 0   # one per core
expect_exit 1 "$VIGILD" --input "$T/in.ndjson" --output "$T/x.ndjson" --threads 2x   # not silently 2
expect_exit 1 "$VIGILD" --input "$T/in.ndjson" --output "$T/x.ndjson" --threads -2   # not silently ignored
expect_exit 1 "$VIGILD" --demo=5x
expect_exit 1 "$VIGILD" --input "$T/no-such-input.ndjson" --output "$T/x.ndjson"
grep -q "no-such-input.ndjson" "$T/cmd.err" || fail "unreadable input error does not name the file"
expect_exit 1 "$VIGILD" --input "$T" --output "$T/x.ndjson"
expect_exit 1 "$VIGILD" --input "$T/in.csv" --output "$T/no-such-dir/out.ndjson"
expect_exit 1 "$VIGILD" --input "$T/in.csv" --output "$T/x.ndjson" --dead-letter "$T/no-such-dir/dead.ndjson"
echo "ok: command line exit codes"
