#!/usr/bin/env bash
# test_kafka_eos.sh - output.exactly_once: alerts and dead letters go out in Kafka
# transactions together with the input offsets; after a kill -9 and a restart a
# read_committed consumer sees every alert exactly once (no loss, no duplicate).
# The crash lands between transactions: librdkafka 2.0's mock cluster neither hides aborted
# transactions nor stores transactional offset commits, so a crash inside a transaction can
# only be judged against a real broker.
source "$(dirname "$0")/kafka_lib.sh"

kt_gen_input "$KT_TMP/all.ndjson" 3000 5
head -n 1500 "$KT_TMP/all.ndjson" >"$KT_TMP/half1.ndjson"
tail -n +1501 "$KT_TMP/all.ndjson" >"$KT_TMP/half2.ndjson"
kt_replay "$KT_TMP/half1.ndjson" "$KT_TMP/ref1"
kt_replay "$KT_TMP/half2.ndjson" "$KT_TMP/ref2"
# Each run starts without account state, so the expected output is the two halves' replays.
cat "$KT_TMP/ref1.alerts" "$KT_TMP/ref2.alerts" | kt_alert_ids | sort >"$KT_TMP/ref.ids"
n1=$(wc -l <"$KT_TMP/ref1.alerts")
n_all=$(wc -l <"$KT_TMP/ref.ids")
bad1=$(kt_bad_count "$KT_TMP/half1.ndjson")
bad_all=$(kt_bad_count "$KT_TMP/all.ndjson")
RC=(-X isolation.level=read_committed)

kt_start_broker --topic transactions:1 --topic alerts:2 --topic transactions.dead_letter:1
kt_write_config "$KT_TMP/vigil.yaml" eosgroup alerts true

kt_start_vigild "$KT_TMP/vigil.yaml" run1
kt_wait_log run1 'event=kafka_assigned' 30
timeout 30 kcat -b "$BOOTSTRAP" -P -t transactions -T <"$KT_TMP/half1.ndjson" >/dev/null
kt_wait_count alerts "$n1" 60 "${RC[@]}"
kt_wait_count transactions.dead_letter "$bad1" 60 "${RC[@]}"
sleep 1
kill -KILL "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 5

kt_start_vigild "$KT_TMP/vigil.yaml" run2
kt_wait_log run2 'event=kafka_assigned' 30
timeout 30 kcat -b "$BOOTSTRAP" -P -t transactions -T <"$KT_TMP/half2.ndjson" >/dev/null
kt_wait_count alerts "$n_all" 60 "${RC[@]}"
kt_wait_count transactions.dead_letter "$bad_all" 60 "${RC[@]}"
sleep 1
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 10
[ "$KT_RC" = 0 ] || kt_fail "vigild exited $KT_RC after SIGTERM"
grep -q 'mode=exactly_once' "$KT_TMP/run2.log" || kt_fail "not in exactly-once mode"

kt_topic_values alerts "${RC[@]}" | kt_alert_ids | sort >"$KT_TMP/out.ids"
diff "$KT_TMP/ref.ids" "$KT_TMP/out.ids" >"$KT_TMP/ids.diff" ||
    kt_fail "read_committed alerts differ from the expected ones (duplicates or loss):" \
        "$(grep -c '^>' "$KT_TMP/ids.diff") extra, $(grep -c '^<' "$KT_TMP/ids.diff") missing"
dl=$(kt_count transactions.dead_letter 20)
[ "$dl" = "$bad_all" ] || kt_fail "dead letters: $dl, want $bad_all"
echo "PASS test_kafka_eos ($n_all alerts exactly once, $dl dead letters)"
