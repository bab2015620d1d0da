#!/usr/bin/env bash
# test_kafka_pipeline.sh - vigild in Kafka mode against vigil-broker: the alerts on the output
# topic are the ones file replay gives for the same records (no loss, no duplicates), bad
# messages land on the dead-letter topic with their reason, SIGTERM drains, commits and exits
# 0 within a few seconds, a restart finds everything committed, and every alert's broker
# acknowledgement is timed in /metrics.
source "$(dirname "$0")/kafka_lib.sh"

kt_start_broker --topic transactions:1 --topic alerts:2 --topic transactions.dead_letter:1
kt_gen_input "$KT_TMP/in.ndjson" 3000 7
bad=$(kt_bad_count "$KT_TMP/in.ndjson")
total=$(wc -l <"$KT_TMP/in.ndjson")

kt_replay "$KT_TMP/in.ndjson" "$KT_TMP/ref"
kt_rule_account <"$KT_TMP/ref.alerts" | sort >"$KT_TMP/ref.keys"
ref_alerts=$(wc -l <"$KT_TMP/ref.alerts")
[ "$ref_alerts" -gt 50 ] || kt_fail "reference has only $ref_alerts alerts; test data too weak"

timeout 30 kcat -b "$BOOTSTRAP" -P -t transactions -T <"$KT_TMP/in.ndjson" >/dev/null ||
    kt_fail "kcat could not produce the input"
[ "$(kt_count transactions 20)" = "$total" ] || kt_fail "input topic does not hold $total messages"

kt_write_config "$KT_TMP/vigil.yaml" itgroup alerts false
printf 'metrics:\n  listen: "127.0.0.1:0"\n' >>"$KT_TMP/vigil.yaml"
kt_start_vigild "$KT_TMP/vigil.yaml" run1
kt_wait_count transactions.dead_letter "$bad" 60
kt_wait_count alerts "$ref_alerts" 60
sleep 1 # let a late duplicate show up if there were one

# Every alert's acknowledgement was timed (read -> acked), dead letters were not.
port=$(sed -nE 's/.*event=metrics_listening.* port=([0-9]+).*/\1/p' "$KT_TMP/run1.log" | head -n 1)
[ -n "$port" ] || kt_fail "vigild logged no metrics port"
{ printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&5 && cat <&5; } 5<>"/dev/tcp/127.0.0.1/$port" |
    tr -d '\r' >"$KT_TMP/metrics.txt" || kt_fail "could not scrape /metrics"
acked=$(awk '$1 == "vigil_alert_ack_latency_seconds_count" { print $2 }' "$KT_TMP/metrics.txt")
[ "$acked" = "$ref_alerts" ] ||
    kt_fail "vigil_alert_ack_latency_seconds_count is '${acked:-absent}', want $ref_alerts (one per alert)"
inf=$(awk '$1 == "vigil_alert_ack_latency_seconds_bucket{le=\"+Inf\"}" { print $2 }' "$KT_TMP/metrics.txt")
[ "$inf" = "$acked" ] || kt_fail "ack latency +Inf bucket '$inf' != count '$acked'"

start=$(date +%s%N)
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 10
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$KT_RC" = 0 ] || kt_fail "vigild exited $KT_RC after SIGTERM"
[ "$elapsed_ms" -lt 5000 ] || kt_fail "SIGTERM took ${elapsed_ms} ms"
echo "SIGTERM to exit: ${elapsed_ms} ms"

kt_topic_values alerts >"$KT_TMP/kafka.alerts"
kt_rule_account <"$KT_TMP/kafka.alerts" | sort >"$KT_TMP/kafka.keys"
diff "$KT_TMP/ref.keys" "$KT_TMP/kafka.keys" >"$KT_TMP/keys.diff" ||
    kt_fail "(rule, account) differ from replay: $(head -5 "$KT_TMP/keys.diff" | tr '\n' ' ')"
kt_alert_ids <"$KT_TMP/ref.alerts" | sort >"$KT_TMP/ref.ids"
kt_alert_ids <"$KT_TMP/kafka.alerts" | sort >"$KT_TMP/kafka.ids"
diff "$KT_TMP/ref.ids" "$KT_TMP/kafka.ids" >/dev/null || kt_fail "alert ids differ from replay"

# Alerts are keyed by account.
kt_topic_values alerts -f '%k|%s\n' | while IFS='|' read -r key value; do
    case "$value" in *"\"account\":\"$key\""*) ;; *) echo "$key" ;; esac
done >"$KT_TMP/badkeys"
[ ! -s "$KT_TMP/badkeys" ] || kt_fail "alert message key is not its account"

# Dead letters: exactly the bad records, each with reason, position and payload.
kt_topic_values transactions.dead_letter >"$KT_TMP/dead"
[ "$(wc -l <"$KT_TMP/dead")" = "$bad" ] || kt_fail "dead letters: $(wc -l <"$KT_TMP/dead"), want $bad"
for reason in malformed bad_timestamp missing_field oversized; do
    grep -q "\"reason\":\"$reason\"" "$KT_TMP/dead" || kt_fail "no dead letter with reason $reason"
done
grep -q '"topic":"transactions","partition":0,"offset":[0-9]*,"payload":"not json at all 9"' \
    "$KT_TMP/dead" || kt_fail "dead letter lacks topic/partition/offset/payload"

# Restart: offsets were committed, nothing is consumed or produced again.
kt_start_vigild "$KT_TMP/vigil.yaml" run2
kt_wait_log run2 'event=kafka_assigned' 30
sleep 2
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 10
[ "$KT_RC" = 0 ] || kt_fail "restarted vigild exited $KT_RC"
[ "$(kt_count alerts 20)" = "$ref_alerts" ] || kt_fail "restart produced alerts again"
[ "$(kt_count transactions.dead_letter 20)" = "$bad" ] || kt_fail "restart dead-lettered again"
grep -q 'consumed=0 ' "$KT_TMP/run2.log" || kt_fail "restart consumed records again"

echo "PASS test_kafka_pipeline ($ref_alerts alerts, $bad dead letters)"
