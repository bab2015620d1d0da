#!/usr/bin/env bash
# test_cli_edges.sh - small command-line edges (issue 25 item 8): every binary's --help exits
# 0 and prints its usage on stdout; vigil-broker refuses --topic without :PARTITIONS (contract
# 8) instead of silently making one partition; vigild --threads 0 means one shard per core,
# as engine.threads: 0 does.
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the repository root}"
T=$(mktemp -d "${TMPDIR:-/tmp}/vg-cli-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

n=0
for b in "$VG_BIN"/vigil*; do
    [ -x "$b" ] && [ -f "$b" ] || continue
    rc=0
    timeout 10 "$b" --help >"$T/help.out" 2>"$T/help.err" || rc=$?
    [ "$rc" = 0 ] || fail "$(basename "$b") --help exited $rc: $(head -2 "$T/help.err")"
    grep -qi 'usage' "$T/help.out" || fail "$(basename "$b") --help printed no usage on stdout"
    n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "no binaries found in $VG_BIN"
echo "--help: $n binaries exit 0"

for arg in bad bad: :4 bad:0 bad:x; do
    rc=0
    timeout 10 "$VG_BIN/vigil-broker" --topic "$arg" >"$T/b.out" 2>"$T/b.err" || rc=$?
    [ "$rc" = 1 ] || fail "vigil-broker --topic '$arg' exited $rc, want 1"
    [ ! -s "$T/b.out" ] || fail "vigil-broker --topic '$arg' started: $(cat "$T/b.out")"
    grep -q 'NAME:PARTITIONS' "$T/b.err" || fail "no reason for --topic '$arg': $(cat "$T/b.err")"
done
echo "vigil-broker --topic without :PARTITIONS: refused"

printf '{"id":"a","ts":1,"from":"A","to":"B","amount":"20000","currency":"USD"}\n' >"$T/in.ndjson"
"$VG_BIN/vigild" --input "$T/in.ndjson" --threads 0 --output "$T/out" 2>"$T/t0.log" || fail "--threads 0 refused"
cores=$(nproc)
grep -q "event=engine_started shards=$cores " "$T/t0.log" || fail "--threads 0 did not start one shard per core ($cores): $(grep engine_started "$T/t0.log")"
grep -q large_tx "$T/out" || fail "--threads 0 replay gave no alert"
"$VG_BIN/vigild" --input "$T/in.ndjson" --threads 1 --output "$T/out" 2>"$T/t1.log"
grep -q "event=engine_started shards=1 " "$T/t1.log" || fail "--threads 1"
echo "PASS test_cli_edges"
