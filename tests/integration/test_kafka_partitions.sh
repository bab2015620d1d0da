#!/usr/bin/env bash
# test_kafka_partitions.sh - a time-ordered stream scattered over six partitions at random
# (kcat without a key) and consumed as a backlog, one partition chunk after another, gives
# the same (rule, account) alerts as replaying the file: the consumer's event-time merge
# (connectors/kafka/reorder.c) hands the engine the records in time order again.
source "$(dirname "$0")/kafka_lib.sh"
kt_start_broker --topic transactions:6 --topic alerts:2 --topic transactions.dead_letter:1
# Only good records: every one of them must take part in the comparison.
kt_gen_input "$KT_TMP/all.ndjson" 4000 17
grep '^{"id":"t' "$KT_TMP/all.ndjson" >"$KT_TMP/in.ndjson"
total=$(wc -l <"$KT_TMP/in.ndjson")
kt_replay "$KT_TMP/in.ndjson" "$KT_TMP/ref"
kt_rule_account <"$KT_TMP/ref.alerts" | sort -u >"$KT_TMP/ref.keys"
[ "$(wc -l <"$KT_TMP/ref.keys")" -gt 30 ] || kt_fail "reference too weak: $(wc -l <"$KT_TMP/ref.keys") keys"
# A random partition per message (librdkafka's default for keyless records is sticky: long
# runs to one partition).
timeout 30 kcat -b "$BOOTSTRAP" -P -t transactions -X topic.partitioner=random -X sticky.partitioning.linger.ms=0 <"$KT_TMP/in.ndjson" >/dev/null ||
    kt_fail "kcat could not produce the input"
[ "$(kt_count transactions 20)" = "$total" ] || kt_fail "input topic does not hold $total messages"
# Spread: every partition holds part of the stream.
for p in 0 1 2 3 4 5; do
    n=$(timeout 20 kcat -b "$BOOTSTRAP" -C -t transactions -p "$p" -e -q -f 'x\n' | wc -l)
    [ "$n" -gt 300 ] || kt_fail "partition $p holds only $n records: not scattered"
done
kt_write_config "$KT_TMP/vigil.yaml" partgroup alerts false
kt_start_vigild "$KT_TMP/vigil.yaml" run1
kt_wait_log run1 'kafka_assigned' 20
for _ in $(seq 60); do
    kt_topic_values alerts | kt_rule_account | sort -u >"$KT_TMP/kafka.keys"
    cmp -s "$KT_TMP/ref.keys" "$KT_TMP/kafka.keys" && break
    sleep 0.5
done
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 10
[ "$KT_RC" = 0 ] || kt_fail "vigild exited $KT_RC after SIGTERM"
kt_topic_values alerts | kt_rule_account | sort -u >"$KT_TMP/kafka.keys"
diff "$KT_TMP/ref.keys" "$KT_TMP/kafka.keys" >"$KT_TMP/keys.diff" ||
    kt_fail "(rule, account) differ from replay ($(grep -c '^<' "$KT_TMP/keys.diff") missing, $(grep -c '^>' "$KT_TMP/keys.diff") extra): $(head -6 "$KT_TMP/keys.diff" | tr '\n' ' ')"
grep -o 'reorder_forced=[0-9]*' "$KT_TMP/run1.log" || true
echo "ok: $(wc -l <"$KT_TMP/ref.keys") (rule, account) pairs, same as replay, from 6 scattered partitions"
