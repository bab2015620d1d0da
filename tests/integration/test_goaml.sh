#!/usr/bin/env bash
# test_goaml.sh - goAML drafts end to end: vigild replays a generated stream with
# alerts.evidence: full, its alerts are piped into vigil-goaml, and every case becomes one
# <report> that the test FIU schema accepts (checked again here with xmllint when present);
# the same alerts give the same case files; a configuration with a code the FIU does not
# know yields rejected/ files with the validator's messages and exit 0; and vigil-goaml
# reading the alerts topic of a running vigild (its own consumer group) drafts the same cases;
# one that keeps consuming shows its counters and lag on /metrics and writes its open cases
# when stopped.
source "$(dirname "$0")/kafka_lib.sh"

GOAML="$VG_BIN/vigil-goaml"
VIGILD="$VG_BIN/vigild"
"$VG_BIN/vigil-gen" --format ndjson --out "$KT_TMP/in.ndjson" --transactions 20000 --accounts 2000 --seed 5 --quiet

# report_config FILE REPORT_CODE OUTPUT_DIR : the report section for the test schema fiu_a.
report_config() {
    cat >>"$1" <<YAML
alerts:
  evidence: full
report:
  schema: $VG_TEST_DATA/goaml/fiu_a.xsd
  output_dir: $3
  group: goaml-it
  case_period: 72h
  rentity_id: "1234"
  submission_code: E
  entity_reference_prefix: "VIGIL-"
  reporting_person: {first_name: Aigerim, last_name: Seitkali}
  location: {address_type: B, address: "1 Abay Ave", city: Almaty, country_code: KZ}
  action: "Under review."
  report_codes: {default: $2, large_tx: CTR}
  indicators: {default: [MULE], structuring: [STRUCT], fan_in: [FANIN], fan_out: [FANOUT], large_tx: [LARGE],
               cycle: [CYCLE], velocity: [VELOC], dormant: [DORM], watchlist: [LIST], high_risk_country: [GEO]}
  transmode_codes: {default: Z, cash: A, wire: B, card: C}
  funds_codes: {default: K, cash: A}
  banks: {default: {name: Unknown institution, code: UNKNOWN}}
YAML
}

# summary LOG KEY : a number from vigil-goaml's summary line.
summary() { sed -nE "s/^vigil-goaml:.*[ :]$2=([0-9]+).*/\1/p" "$1"; }

# 1. replay | vigil-goaml: every case drafted, none rejected.
: >"$KT_TMP/replay.yaml"
report_config "$KT_TMP/replay.yaml" STR "$KT_TMP/out1"
timeout 120 "$VIGILD" -c "$KT_TMP/replay.yaml" --input "$KT_TMP/in.ndjson" --output - 2>"$KT_TMP/vigild.log" |
    tee "$KT_TMP/alerts.ndjson" | timeout 120 "$GOAML" -c "$KT_TMP/replay.yaml" 2>"$KT_TMP/goaml1.log" ||
    kt_fail "replay | vigil-goaml failed"
alerts=$(wc -l <"$KT_TMP/alerts.ndjson")
[ "$alerts" -gt 10 ] || kt_fail "only $alerts alerts: test data too weak"
grep '"evidence":\[{"id":' "$KT_TMP/alerts.ndjson" >/dev/null || kt_fail "alerts carry no evidence objects"
drafted=$(summary "$KT_TMP/goaml1.log" drafted)
[ "$(summary "$KT_TMP/goaml1.log" alerts)" = "$alerts" ] || kt_fail "vigil-goaml did not read every alert"
[ "$(summary "$KT_TMP/goaml1.log" rejected)" = 0 ] || kt_fail "drafts rejected: $(ls "$KT_TMP/out1/rejected")"
[ "${drafted:-0}" -gt 0 ] || kt_fail "no drafts"
ls "$KT_TMP/out1" | grep -E '^case-[0-9a-f]{32}\.xml$' | sort >"$KT_TMP/names1"
[ "$(wc -l <"$KT_TMP/names1")" = "$drafted" ] || kt_fail "$drafted drafted, $(wc -l <"$KT_TMP/names1") files"
[ -z "$(find "$KT_TMP/out1" -name '*.tmp')" ] || kt_fail "temp files left behind"
if command -v xmllint >/dev/null; then
    for f in "$KT_TMP"/out1/*.xml; do
        xmllint --noout --schema "$VG_TEST_DATA/goaml/fiu_a.xsd" "$f" 2>>"$KT_TMP/xmllint.log" ||
            kt_fail "xmllint refuses $f: $(tail -n 3 "$KT_TMP/xmllint.log")"
    done
fi
# Every evidence transaction of every alert is in the drafts (each once per case).
want=$(grep -o '"evidence":\[.*\]' "$KT_TMP/alerts.ndjson" | grep -oE '\{"id":"[^"]*"' | sort -u | wc -l)
got=$(cat "$KT_TMP"/out1/*.xml | sed -nE 's/.*<transactionnumber>(.*)<\/transactionnumber>.*/\1/p' | sort -u | wc -l)
[ "$want" = "$got" ] || kt_fail "alerts name $want evidence transactions, drafts hold $got"

# 2. the same alerts again, from a file: the same case files.
timeout 60 "$GOAML" -c "$KT_TMP/replay.yaml" --input "$KT_TMP/alerts.ndjson" --output-dir "$KT_TMP/out2" \
    2>"$KT_TMP/goaml2.log" || kt_fail "vigil-goaml --input failed"
ls "$KT_TMP/out2" | grep -E '^case-' | sort >"$KT_TMP/names2"
cmp -s "$KT_TMP/names1" "$KT_TMP/names2" || kt_fail "case files differ between two runs on the same alerts"

# 3. a code FIU A does not know: rejected/ with the validator's messages, exit 0.
: >"$KT_TMP/bad.yaml"
report_config "$KT_TMP/bad.yaml" NOT-A-CODE "$KT_TMP/out3"
timeout 60 "$GOAML" -c "$KT_TMP/bad.yaml" --input "$KT_TMP/alerts.ndjson" 2>"$KT_TMP/goaml3.log" ||
    kt_fail "vigil-goaml exited non-zero on rejected drafts"
rejected=$(summary "$KT_TMP/goaml3.log" rejected)
[ "${rejected:-0}" -gt 0 ] || kt_fail "nothing rejected with report_code NOT-A-CODE"
grep -hE "^line [0-9]+: element 'report_code':.*NOT-A-CODE" "$KT_TMP"/out3/rejected/*.errors.txt >/dev/null ||
    kt_fail "rejected/ messages do not name line, element and value"
[ "$(ls "$KT_TMP"/out3/rejected/*.xml | wc -l)" = "$rejected" ] || kt_fail "rejected drafts not kept"

# 4. from Kafka: vigild's alerts topic read in vigil-goaml's own consumer group.
kt_start_broker --topic transactions:1 --topic alerts:1 --topic transactions.dead_letter:1
kt_write_config "$KT_TMP/kafka.yaml" vigil-it alerts false
report_config "$KT_TMP/kafka.yaml" STR "$KT_TMP/out4"
timeout 30 kcat -b "$BOOTSTRAP" -P -t transactions -T <"$KT_TMP/in.ndjson" >/dev/null || kt_fail "kcat produce failed"
kt_start_vigild "$KT_TMP/kafka.yaml" vigild
kt_wait_count alerts "$alerts" 90
timeout 120 "$GOAML" -c "$KT_TMP/kafka.yaml" --kafka --once 2>"$KT_TMP/goaml4.log" || kt_fail "vigil-goaml --kafka failed"
[ "$(summary "$KT_TMP/goaml4.log" alerts)" = "$alerts" ] || kt_fail "vigil-goaml read $(summary "$KT_TMP/goaml4.log" alerts) of $alerts alerts"
ls "$KT_TMP/out4" | grep -E '^case-' | sort >"$KT_TMP/names4"
cmp -s "$KT_TMP/names1" "$KT_TMP/names4" || kt_fail "drafts from Kafka differ from the replay's"
# its group committed: a second run finds nothing new
timeout 60 "$GOAML" -c "$KT_TMP/kafka.yaml" --kafka --once --output-dir "$KT_TMP/out5" 2>"$KT_TMP/goaml5.log" ||
    kt_fail "second vigil-goaml --kafka failed"
[ "$(summary "$KT_TMP/goaml5.log" alerts)" = 0 ] || kt_fail "the consumer group did not commit"

# 5. /metrics of a vigil-goaml that keeps consuming (its own group again: reads everything;
# cases of 1h close as the alerts move on, the last ones stay open until it stops)
kt_write_config "$KT_TMP/metrics.yaml" vigil-it alerts false
report_config "$KT_TMP/metrics.yaml" STR "$KT_TMP/out6"
sed -i -e 's/^  group: goaml-it$/  group: goaml-metrics\n  metrics_listen: "127.0.0.1:0"/' \
    -e 's/^  case_period: 72h$/  case_period: 1h/' "$KT_TMP/metrics.yaml"
"$GOAML" -c "$KT_TMP/metrics.yaml" --kafka 2>"$KT_TMP/goaml6.log" &
GOAML_PID=$!
KT_PIDS+=("$GOAML_PID")
kt_wait_log goaml6 'event=metrics_listening .*port=[1-9]' 10
port=$(sed -nE 's/.*event=metrics_listening .*port=([0-9]+).*/\1/p' "$KT_TMP/goaml6.log" | head -n 1)
metric() { sed -nE "s/^$1 ([0-9]+)$/\1/p" "$KT_TMP/metrics.txt"; }
for i in $(seq 120); do
    curl -sf "http://127.0.0.1:$port/metrics" >"$KT_TMP/metrics.txt" || kt_fail "GET /metrics failed"
    [ "$(metric vigil_goaml_alerts_total)" = "$alerts" ] && break
    sleep 0.5
done
[ "$(metric vigil_goaml_alerts_total)" = "$alerts" ] || kt_fail "/metrics: alerts $(metric vigil_goaml_alerts_total), want $alerts"
written=$(metric vigil_goaml_drafts_written_total)
[ "${written:-0}" -gt 0 ] || kt_fail "/metrics: no drafts written yet"
[ "$written" = "$(ls "$KT_TMP/out6" | grep -c '^case-')" ] || kt_fail "/metrics: $written written, $(ls "$KT_TMP/out6" | grep -c '^case-') files"
[ "$(metric vigil_goaml_open_cases)" -gt 0 ] || kt_fail "/metrics: no open case while consuming"
[ "$(metric vigil_goaml_drafts_rejected_total)" = 0 ] || kt_fail "/metrics: rejected drafts"
[ "$(metric vigil_goaml_not_reportable_total)" = 0 ] || kt_fail "/metrics: not reportable"
grep -qE '^vigil_goaml_consumer_lag\{topic="alerts",partition="0"\} 0$' "$KT_TMP/metrics.txt" ||
    kt_fail "/metrics: no zero lag for alerts/0: $(grep lag "$KT_TMP/metrics.txt")"
grep -q '^# TYPE vigil_goaml_drafts_rejected_total counter$' "$KT_TMP/metrics.txt" || kt_fail "/metrics: no TYPE lines"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] || kt_fail "/healthz not 200"
kill -TERM "$GOAML_PID"
kt_wait_exit "$GOAML_PID" 30
[ "$KT_RC" = 0 ] || kt_fail "vigil-goaml exited $KT_RC on SIGTERM"
[ "$(summary "$KT_TMP/goaml6.log" drafted)" -gt "$written" ] || kt_fail "the open cases were not written at SIGTERM"
echo "ok: $alerts alerts -> $drafted drafts; rejected with a foreign code: $rejected; /metrics scraped"
