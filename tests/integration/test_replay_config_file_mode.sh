#!/usr/bin/env bash
# test_replay_config_file_mode.sh - file mode from the config alone (contract 6: input.kind
# file): `vigild -c vigil.yaml` with input.kind: file replays input.file in input.format,
# writes output.file and dead_letter.file, and exits 0 at the end of the input, giving the
# alerts of the same replay through --input; command-line options still win. A kind: file
# without input.file is a config error with file, line and key.
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"

T=$(mktemp -d "${TMPDIR:-/tmp}/vg-file-mode.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
VIGILD="$VG_BIN/vigild"
ids() { sed -nE 's/.*"alert_id":"([^"]*)".*/\1/p' "$1" | sort; }

"$VG_BIN/vigil-gen" --format amlworld-csv --out "$T/in.csv" --transactions 20000 --seed 3 --quiet
printf 'not,a,valid,line\n' >>"$T/in.csv"
"$VIGILD" --input "$T/in.csv" --format amlworld-csv --output "$T/ref.alerts" --dead-letter "$T/ref.dead" 2>"$T/ref.log" ||
    fail "reference replay failed: $(tail -2 "$T/ref.log")"
[ -s "$T/ref.alerts" ] || fail "the reference has no alerts"
[ "$(wc -l <"$T/ref.dead")" = 1 ] || fail "the reference has $(wc -l <"$T/ref.dead") dead letters, want 1"

cat >"$T/vigil.yaml" <<YAML
input:
  kind: file
  file: $T/in.csv
  format: amlworld-csv
output:
  file: $T/out.alerts
dead_letter:
  file: $T/out.dead
YAML
"$VIGILD" -c "$T/vigil.yaml" --check-config >/dev/null || fail "--check-config refused the file-mode config"
timeout 60 "$VIGILD" -c "$T/vigil.yaml" >"$T/stdout" 2>"$T/run.log" ||
    fail "vigild -c (input.kind: file) exited $?: $(tail -3 "$T/run.log")"
grep -q 'event=kafka_started\|event=embedded_broker' "$T/run.log" && fail "input.kind: file ran Kafka mode"
[ -f "$T/out.alerts" ] || fail "output.file not written"
diff <(ids "$T/ref.alerts") <(ids "$T/out.alerts") >/dev/null || fail "file-mode alerts differ from --input"
[ "$(wc -l <"$T/out.dead")" = 1 ] || fail "dead_letter.file holds $(wc -l <"$T/out.dead" 2>/dev/null) records, want 1"
[ ! -s "$T/stdout" ] || fail "alerts went to stdout instead of output.file"

# Options win over the config: --output -.
timeout 60 "$VIGILD" -c "$T/vigil.yaml" --output - >"$T/stdout2" 2>/dev/null || fail "--output - run failed"
diff <(ids "$T/ref.alerts") <(ids "$T/stdout2") >/dev/null || fail "--output - did not override output.file"

# kind: file without input.file
printf 'input:\n  kind: file\n' >"$T/nofile.yaml"
rc=0
"$VIGILD" -c "$T/nofile.yaml" --check-config 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "kind file without input.file: exit $rc, want 1"
grep -q "nofile.yaml:2: input: kind file needs input.file" "$T/err" || fail "message: $(cat "$T/err")"
echo "ok: input.kind file replays input.file to output.file and dead_letter.file"
