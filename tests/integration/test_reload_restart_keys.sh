#!/usr/bin/env bash
# test_reload_restart_keys.sh - a SIGHUP reload that changes keys a running daemon cannot
# apply (input.topic, kafka.brokers, ...): vigild says they wait for a restart and keeps
# consuming what it consumed; its checkpoints keep naming the topic they hold offsets of,
# so the restart on the new topic refuses the old topic's checkpoint (one line, exit 1:
# another input) instead of applying its state and offsets to the new topic; with a new
# state.dir it reads the new topic from its start.
source "$(dirname "$0")/kafka_lib.sh"

T0=1704067200000
txn() { # id minute from to amount
    printf '{"id":"%s","ts":%d,"from":"%s","to":"%s","amount":"%s","currency":"USD"}\n' \
        "$1" $((T0 + $2 * 60000)) "$3" "$4" "$5"
}
kt_start_broker --topic topic_a:1 --topic topic_b:1 --topic alerts:1 --topic transactions.dead_letter:1
kt_write_config "$KT_TMP/vigil.yaml" reloadgroup alerts false topic_a
printf 'state:\n  dir: %s/state\n' "$KT_TMP" >>"$KT_TMP/vigil.yaml"

kt_start_vigild "$KT_TMP/vigil.yaml" run1
kt_wait_log run1 'event=kafka_assigned' 30
{ for i in $(seq 1 9); do txn "a$i" "$i" "A$i" "B$i" 100; done; txn abig 10 WHALE_A X 20000; } |
    timeout 20 kcat -b "$BOOTSTRAP" -P -t topic_a >/dev/null
kt_wait_count alerts 1 30
sed -i 's/^  topic: topic_a$/  topic: topic_b/' "$KT_TMP/vigil.yaml"
grep -q 'topic: topic_b' "$KT_TMP/vigil.yaml" || kt_fail "test setup: topic not changed"
kill -HUP "$VIGILD_PID"
kt_wait_log run1 'event=reload_needs_restart keys=input.topic ' 10
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 20
[ "$KT_RC" = 0 ] || kt_fail "run 1 exited $KT_RC"

{ txn b1 20 B1 Y 100; txn b2 21 B2 Y 100; txn bbig 22 WHALE_B Y 30000; } |
    timeout 20 kcat -b "$BOOTSTRAP" -P -t topic_b >/dev/null
rc=0
timeout 30 "$VIGILD" -c "$KT_TMP/vigil.yaml" >/dev/null 2>"$KT_TMP/refused.log" || rc=$?
[ "$rc" = 1 ] || kt_fail "restart on topic_b with topic_a's state exited $rc, want 1"
grep -q 'belongs to another Kafka input (kafka .*topic=topic_a ' "$KT_TMP/refused.log" ||
    kt_fail "no refusal naming topic_a's checkpoint: $(cat "$KT_TMP/refused.log")"
sed -i "s|dir: $KT_TMP/state|dir: $KT_TMP/state_b|" "$KT_TMP/vigil.yaml"
kt_start_vigild "$KT_TMP/vigil.yaml" run2
kt_wait_log run2 'event=kafka_assigned' 30
! grep -q 'event=state_seek' "$KT_TMP/run2.log" || kt_fail "run 2 seeked topic_b to topic_a's offsets: $(grep state_seek "$KT_TMP/run2.log")"
kt_wait_count alerts 2 30
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 20
[ "$KT_RC" = 0 ] || kt_fail "run 2 exited $KT_RC"
kt_topic_values alerts | grep -q '"account":"WHALE_B"' || kt_fail "topic_b's large transfer did not alert"
echo "PASS test_reload_restart_keys"
