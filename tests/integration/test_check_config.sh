#!/usr/bin/env bash
# test_check_config.sh - --check-config reports every error of a file in one run, each as
# FILE:LINE: KEY: why (issue 25 item 4, contract 2 and 6): a bad duration, an unknown key, a
# base currency nothing converts to, a state.dir that cannot be created and a missing
# kafka.brokers, all at once, exit 1; the daemon started with the file refuses the same way;
# a replay with it reports only the file's own errors (it needs neither brokers nor state).
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the repository root}"
T=$(mktemp -d "${TMPDIR:-/tmp}/vg-check-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
VIGILD=$VG_BIN/vigild

cat >"$T/bad.yaml" <<YAML
rules:
  fan_in:
    window: 3x
engine:
  threds: 2
currency:
  base: XYZ
state:
  dir: $T/no-such-parent/state
YAML
rc=0
"$VIGILD" -c "$T/bad.yaml" --check-config >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "--check-config exited $rc, want 1"
for want in "$T/bad.yaml:3: rules.fan_in.window: " "$T/bad.yaml:5: engine.threds: unknown key" \
    "$T/bad.yaml:7: currency.base: no built-in rate for XYZ" \
    "$T/bad.yaml:9: state.dir: '$T/no-such-parent/state' cannot be created" \
    "$T/bad.yaml: kafka.brokers: required"; do
    grep -qF "$want" "$T/err" || fail "missing '$want' in: $(cat "$T/err")"
done
[ "$(wc -l <"$T/err")" = 5 ] || fail "want 5 lines, one per error: $(cat "$T/err")"
! grep -v "^$T/bad.yaml:" "$T/err" || fail "a line not naming the file"
echo "--check-config: 5 errors in one run"

rc=0
timeout 20 "$VIGILD" -c "$T/bad.yaml" >/dev/null 2>"$T/err2" || rc=$?
[ "$rc" = 1 ] || fail "start with the bad config exited $rc, want 1"
cmp -s "$T/err" "$T/err2" || fail "start reports other errors than --check-config: $(cat "$T/err2")"

rc=0
printf '{"id":"a","ts":1,"from":"A","to":"B","amount":"1","currency":"USD"}\n' >"$T/in.ndjson"
"$VIGILD" -c "$T/bad.yaml" --input "$T/in.ndjson" --output /dev/null 2>"$T/err3" || rc=$?
[ "$rc" = 1 ] || fail "replay with the bad config exited $rc, want 1"
[ "$(wc -l <"$T/err3")" = 3 ] || fail "a replay should report the file's 3 errors only: $(cat "$T/err3")"

# Fixed file: state.dir creatable, brokers written: ok.
cat >"$T/good.yaml" <<YAML
kafka:
  brokers: kafka1:9092
state:
  dir: $T/state
YAML
"$VIGILD" -c "$T/good.yaml" --check-config >/dev/null || fail "a good config failed --check-config"
[ ! -e "$T/state" ] || fail "--check-config created state.dir"
echo "PASS test_check_config"
