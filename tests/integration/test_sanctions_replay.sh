#!/usr/bin/env bash
# test_sanctions_replay.sh - rule `sanctions` through the real vigild (contract sections 3, 5
# and 7): a file of transactions with named parties replayed against a UN-format fixture
# alerts on the listed parties only, with the contract's metrics; then, on a live stdin
# replay, SIGHUP with a broken list file keeps the running lists (a listed name still
# alerts, the log names the file and line) and SIGHUP with a good file swaps in the new one.
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_TEST_DATA:?VG_TEST_DATA must point at tests/data}"

T=$(mktemp -d "${TMPDIR:-/tmp}/vg-sanctions.XXXXXX")
VPID=""
cleanup() { [ -n "$VPID" ] && kill "$VPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/live.log" ] && tail -20 "$T/live.log" >&2; exit 1; }
VIGILD="$VG_BIN/vigild"
TS=1704067200000
txn() { # id minute from to extra-json
    printf '{"id":"%s","ts":%d,"from":"%s","to":"%s","amount":"10","currency":"USD"%s}\n' \
        "$1" $((TS + $2 * 60000)) "$3" "$4" "${5:+,$5}"
}

# ---- 1. a file replay -------------------------------------------------------------------
cp "$VG_TEST_DATA/sanctions/un_small.xml" "$T/un.xml"
cat >"$T/vigil.yaml" <<YAML
rules:
  large_tx:
    enabled: false
  sanctions:
    lists:
      - {name: un, file: un.xml, format: un-xml}
      - {name: national, file: national.tsv, format: tsv}
YAML
printf 'reference\ttype\tname\taliases\tbirth_dates\tidentifiers\nKZ-1\tperson\tIvan Ivanovich Petrov\t\t1960\t\n' >"$T/national.tsv"
{
    txn a1 1 ACC-1 ACC-2 '"from_name":"Muhammad Taher Anwari","to_name":"Jane Doe"'
    txn a2 2 ACC-3 ACC-4 '"to_name":"Щербаков Александр","to_birth_date":"1970-05-14"'
    txn a3 3 ACC-5 ACC-6 '"from_name":"Әсем Қасымова"'
    txn a4 4 ACC-7 ACC-8 '"from_name":"Muhammad","to_name":"Aleksandr Shcherbakov","to_birth_date":"1990-01-01"'
    txn a5 5 ACC-1 ACC-9 '"from_name":"Muhammad Taher Anwari"'
    txn a6 6 ACC-10 ACC-11
    txn a7 7 ACC-12 ACC-13 '"to_name":"Petrov Ivan","to_birth_date":"1960-03-01"'
    txn a8 8 ACC-14 ACC-15 '"to_name":"x","to_birth_date":"1960-13-01"'
} >"$T/in.ndjson"
"$VIGILD" -c "$T/vigil.yaml" --input "$T/in.ndjson" --format ndjson --output "$T/alerts.ndjson" \
    --dead-letter "$T/dead.ndjson" 2>"$T/replay.log" || fail "replay exited $?"
n=$(grep -c '"rule":"sanctions"' "$T/alerts.ndjson" || true)
[ "$n" = 4 ] || fail "expected 4 sanctions alerts, got $n: $(cat "$T/alerts.ndjson")"
for expect in '"account":"ACC-1".*"entry":"TAi.005".*"side":"from"' \
              '"account":"ACC-4".*"entry":"TSi.001".*"entry_type":"person".*"name":"Щербаков Александр".*"side":"to"' \
              '"account":"ACC-5".*"entry":"TSi.002"' \
              '"account":"ACC-13".*"list":"national".*"entry":"KZ-1"'; do
    grep -q "$expect" "$T/alerts.ndjson" || fail "no alert matching $expect"
done
grep -q '"list":"un".*"list_version":"2024-09-26"' "$T/alerts.ndjson" || fail "no list version"
grep -q '"reason":"bad_birth_date"' "$T/dead.ndjson" || fail "bad birth date not dead-lettered"
grep -q 'event=sanctions_list_loaded list=un format=un-xml entries=4' "$T/replay.log" || fail "no load log"

# ---- 2. SIGHUP on a live replay -----------------------------------------------------------
mkfifo "$T/in.fifo"
"$VIGILD" -c "$T/vigil.yaml" --input - --format ndjson --output "$T/live.ndjson" <"$T/in.fifo" 2>"$T/live.log" &
VPID=$!
exec 3>"$T/in.fifo"
wait_alerts() { # count timeout-seconds
    for _ in $(seq 1 $(($2 * 10))); do
        [ "$(grep -c '"rule":"sanctions"' "$T/live.ndjson" 2>/dev/null || true)" -ge "$1" ] && return 0
        sleep 0.1
    done
    fail "expected $1 sanctions alerts, have: $(cat "$T/live.ndjson" 2>/dev/null)"
}
wait_log() { # pattern timeout-seconds
    for _ in $(seq 1 $(($2 * 10))); do grep -q "$1" "$T/live.log" && return 0; sleep 0.1; done
    fail "no log line matching $1"
}
txn l1 1 L-1 L-2 '"from_name":"Muhammad Taher Anwari"' >&3
wait_alerts 1 20
# break the UN list: the reload must fail with file:line and keep the running lists
printf '<?xml version="1.0"?>\n<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL>\n</INDIVIDUALS>\n' >"$T/un.xml"
printf 'reference\ttype\tname\nKZ-2\tperson\tSerik Nurlanovich Abenov\n' >"$T/national.tsv"
kill -HUP "$VPID"
wait_log 'event=reload_failed.*un.xml:[0-9][0-9]*: ' 10
txn l2 2 L-3 L-4 '"to_name":"Aleksandr Shcherbakov"' >&3
txn l3 3 L-5 L-6 '"to_name":"Serik Abenov"' >&3
wait_alerts 2 20
sleep 0.5
grep -q '"account":"L-4".*"entry":"TSi.001"' "$T/live.ndjson" || fail "the old UN list stopped matching"
! grep -q '"account":"L-6"' "$T/live.ndjson" || fail "the new national list came in with a broken UN list"
# repair: both new files are swapped in together
cp "$VG_TEST_DATA/sanctions/un_small.xml" "$T/un.xml"
kill -HUP "$VPID"
wait_log 'event=reloaded' 10
txn l4 4 L-7 L-8 '"to_name":"Serik Abenov"' >&3
wait_alerts 3 20
grep -q '"account":"L-8".*"entry":"KZ-2"' "$T/live.ndjson" || fail "the reloaded national list does not match"
exec 3>&-
wait "$VPID" || fail "live replay exited $?"
VPID=""
echo "PASS test_sanctions_replay"
