#!/usr/bin/env bash
# test_ops_output.sh - output a person can read (issue 25 item 6, contract 2): --output-format
# text gives one line per alert with the figures and their units ("200 days", the country);
# text is the default on a terminal only (files and pipes get NDJSON); the demo prints text
# on a terminal and consumes all it produced before its summary; a SIGHUP reload logs what
# changed (thresholds, list sizes).
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the repository root}"
T=$(mktemp -d "${TMPDIR:-/tmp}/vg-output-test.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
VIGILD=$VG_BIN/vigild
# on_tty ARGS... : runs vigild with stdout and stderr on a pseudo-terminal, prints what it wrote
on_tty() {
    python3 - "$VIGILD" "$@" <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        b = os.read(fd, 65536)
    except OSError:
        break
    if not b:
        break
    out += b
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

T0=1661990400000
DAY=86400000
{
    printf '{"id":"d1","ts":%d,"from":"SLEEPER","to":"X","amount":"100","currency":"USD"}\n' $T0
    printf '{"id":"d2","ts":%d,"from":"SLEEPER","to":"Y","amount":"6000","currency":"USD"}\n' $((T0 + 200 * DAY))
    printf '{"id":"k1","ts":%d,"from":"SENDER","to":"Z","amount":"2000","currency":"USD","to_country":"kp"}\n' $((T0 + 200 * DAY + 1000))
} >"$T/in.ndjson"

# A pipe and a file get NDJSON by default.
"$VIGILD" --input "$T/in.ndjson" 2>/dev/null | python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
assert lines and all(json.loads(l)["alert_id"] for l in lines), lines' || fail "a pipe did not get NDJSON"
"$VIGILD" --input "$T/in.ndjson" --output "$T/file.out" 2>/dev/null
head -c 1 "$T/file.out" | grep -q '{' || fail "a file did not get NDJSON"

# --output-format text: one readable line per alert, figures with units.
"$VIGILD" --input "$T/in.ndjson" --output-format text --output "$T/text.out" 2>/dev/null
cat "$T/text.out"
grep -qE '^2023-03-20 00:00Z  MEDIUM  dormant +SLEEPER  dormant for 200 days, amount 6000 USD  \(1 tx' "$T/text.out" ||
    fail "dormant line: $(grep dormant "$T/text.out")"
grep -qE 'high_risk_country +SENDER  amount 2000 USD, country KP' "$T/text.out" || fail "high_risk_country line"
[ "$(wc -l <"$T/text.out")" = "$(wc -l <"$T/file.out")" ] || fail "not one text line per alert"
grep -q '"country":"KP"' "$T/file.out" || fail "high_risk_country alert does not name the country"
rc=0
"$VIGILD" --input "$T/in.ndjson" --output-format yaml >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "--output-format yaml exited $rc, want 1"

# A terminal gets text by default; --output-format json overrides.
on_tty --input "$T/in.ndjson" >"$T/tty.out" || fail "replay on a terminal failed"
grep -q 'dormant for 200 days' "$T/tty.out" || fail "a terminal did not get text: $(head -3 "$T/tty.out")"
! grep -q '"alert_id"' "$T/tty.out" || fail "a terminal got NDJSON"
on_tty --input "$T/in.ndjson" --output-format json >"$T/tty2.out" || fail "json on a terminal failed"
grep -q '"alert_id"' "$T/tty2.out" || fail "--output-format json on a terminal"
echo "text on a terminal, NDJSON for files and pipes: ok"

# The demo on a terminal: alerts as text lines, all it produced consumed before the summary.
on_tty --demo=8 >"$T/demo.out" || fail "demo on a terminal failed: $(tail -5 "$T/demo.out")"
produced=$(sed -nE 's/.*event=demo_feed_stopped produced=([0-9]+).*/\1/p' "$T/demo.out")
summary=$(sed -nE 's/^vigild summary: ([0-9]+) transactions.*/\1/p' "$T/demo.out")
[ -n "$produced" ] && [ "$produced" -gt 0 ] || fail "demo produced nothing: $(tail -5 "$T/demo.out")"
[ "$summary" = "$produced" ] || fail "demo summary counts $summary transactions of $produced produced"
grep -qE '^20[0-9-]+ [0-9:]+Z  (LOW|MEDIUM|HIGH) ' "$T/demo.out" || fail "demo printed no text alert lines"
! grep -q '"alert_id"' "$T/demo.out" || fail "demo printed NDJSON on a terminal"
echo "demo: text alerts, $summary of $produced transactions consumed before the summary"

# A reload logs what changed.
printf 'WL1\n' >"$T/watch.txt"
printf 'rules:\n  fan_in:\n    window: 72h\n  watchlist:\n    file: watch.txt\n' >"$T/cfg.yaml"
mkfifo "$T/in.fifo"
"$VIGILD" -c "$T/cfg.yaml" --input - --output /dev/null <"$T/in.fifo" 2>"$T/reload.log" &
PID=$!
exec 3>"$T/in.fifo"
for i in $(seq 50); do grep -q event=engine_started "$T/reload.log" && break; sleep 0.1; done
printf 'rules:\n  fan_in:\n    window: 48h\n    min_total: 7000\n  watchlist:\n    file: watch.txt\n' >"$T/cfg.yaml"
printf 'WL1\nWL2\nWL3\n' >"$T/watch.txt"
kill -HUP "$PID"
for i in $(seq 100); do grep -q 'event=reloaded' "$T/reload.log" && break; sleep 0.05; done
exec 3>&-
wait "$PID" || fail "reloading replay exited $?"
PID=
grep -q 'event=reload_changed key=rules.fan_in.window old=72h new=48h' "$T/reload.log" || fail "window change not logged: $(grep reload "$T/reload.log")"
grep -q 'event=reload_changed key=rules.fan_in.min_total old=5000 new=7000' "$T/reload.log" || fail "threshold change not logged"
grep -q 'event=reload_list rule=watchlist .*entries=3 previous=1' "$T/reload.log" || fail "list size not logged: $(grep reload "$T/reload.log")"
[ "$(grep -c 'event=reload_changed' "$T/reload.log")" = 2 ] || fail "unchanged keys logged: $(grep reload_changed "$T/reload.log")"
echo "reload: changes logged"
echo "PASS test_ops_output"
