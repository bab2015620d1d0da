#!/usr/bin/env bash
# test_kafka_eos_state.sh - output.exactly_once together with state.dir (contract 7): a kill -9
# after transactions were committed past the newest state checkpoint. The restart resumes
# from the checkpoint, so it reads those records again to rebuild the state; their alerts and
# dead letters were committed by the killed run and must not be committed a second time,
# while a pattern whose first half is only in those records still fires after the restart.
# A read_committed consumer then sees the alerts of one uninterrupted replay, exactly once.
source "$(dirname "$0")/kafka_lib.sh"

T0=1661990400000
txn() { # id minute from to amount
    printf '{"id":"%s","ts":%d,"from":"%s","to":"%s","amount":"%s","currency":"USD"}\n' \
        "$1" $((T0 + $2 * 60000)) "$3" "$4" "$5"
}
kt_gen_input "$KT_TMP/base.ndjson" 3000 5
head -n 1500 "$KT_TMP/base.ndjson" >"$KT_TMP/half1.ndjson"
# half2: the rest plus the first four senders of a fan_in into HUBX, half3 (after the
# restart) the other four: it fires only if the restart rebuilt half2 into the state.
{ tail -n +1501 "$KT_TMP/base.ndjson"
  for i in 1 2 3 4; do txn "fx$i" $((2990 + i)) "FX$i" HUBX 900; done; } >"$KT_TMP/half2.ndjson"
for i in 5 6 7 8; do txn "fx$i" $((3000 + i)) "FX$i" HUBX 900; done >"$KT_TMP/half3.ndjson"
cat "$KT_TMP/half1.ndjson" "$KT_TMP/half2.ndjson" "$KT_TMP/half3.ndjson" >"$KT_TMP/all.ndjson"
cat "$KT_TMP/half1.ndjson" "$KT_TMP/half2.ndjson" >"$KT_TMP/first2.ndjson"
kt_replay "$KT_TMP/all.ndjson" "$KT_TMP/ref"
kt_replay "$KT_TMP/half1.ndjson" "$KT_TMP/ref1"
kt_replay "$KT_TMP/first2.ndjson" "$KT_TMP/ref12"
kt_alert_ids <"$KT_TMP/ref.alerts" | sort >"$KT_TMP/ref.ids"
grep -q '"rule":"fan_in","account":"HUBX"' "$KT_TMP/ref.alerts" || kt_fail "the reference has no fan_in HUBX"
! grep -q '"rule":"fan_in","account":"HUBX"' "$KT_TMP/ref12.alerts" || kt_fail "fan_in HUBX fires before half3"
n1=$(wc -l <"$KT_TMP/ref1.alerts")
n12=$(wc -l <"$KT_TMP/ref12.alerts")
n_all=$(wc -l <"$KT_TMP/ref.ids")
bad1=$(kt_bad_count "$KT_TMP/half1.ndjson")
bad12=$(kt_bad_count "$KT_TMP/base.ndjson") # half1 + half2 hold all of base
RC=(-X isolation.level=read_committed)

kt_start_broker --topic transactions:1 --topic alerts:2 --topic transactions.dead_letter:1
kt_write_config "$KT_TMP/vigil.yaml" eosstate alerts true
# No periodic checkpoint: the only one is the shutdown checkpoint of run 1.
printf 'state:\n  dir: %s/state\n  interval: 1h\n' "$KT_TMP" >>"$KT_TMP/vigil.yaml"

# Run 1: half1, SIGTERM: its final checkpoint covers exactly half1.
kt_start_vigild "$KT_TMP/vigil.yaml" run1
kt_wait_log run1 'event=kafka_assigned' 30
timeout 30 kcat -b "$BOOTSTRAP" -P -t transactions -T <"$KT_TMP/half1.ndjson" >/dev/null
kt_wait_count alerts "$n1" 60 "${RC[@]}"
kt_wait_count transactions.dead_letter "$bad1" 60 "${RC[@]}"
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 20
[ "$KT_RC" = 0 ] || kt_fail "run 1 exited $KT_RC"
grep -q 'event=checkpoint_written' "$KT_TMP/run1.log" || kt_fail "run 1 wrote no checkpoint"

# Run 2: half2's alerts and dead letters are committed in transactions, then kill -9 before
# any checkpoint covers them.
kt_start_vigild "$KT_TMP/vigil.yaml" run2
kt_wait_log run2 'event=kafka_assigned' 30
kt_wait_log run2 'event=state_seek partition=0 offset=' 1
timeout 30 kcat -b "$BOOTSTRAP" -P -t transactions -T <"$KT_TMP/half2.ndjson" >/dev/null
kt_wait_count alerts "$n12" 60 "${RC[@]}"
kt_wait_count transactions.dead_letter "$bad12" 60 "${RC[@]}"
sleep 0.5
kill -KILL "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 5
! grep -q 'event=checkpoint_written' "$KT_TMP/run2.log" || kt_fail "run 2 wrote a checkpoint"

# Run 3: restores run 1's checkpoint, reads half2 again for the state, then half3.
kt_start_vigild "$KT_TMP/vigil.yaml" run3
kt_wait_log run3 'event=kafka_assigned' 40 # after the killed member's session times out
timeout 30 kcat -b "$BOOTSTRAP" -P -t transactions -T <"$KT_TMP/half3.ndjson" >/dev/null
kt_wait_count alerts "$n_all" 60 "${RC[@]}"
sleep 2 # a repeated alert of half2 would show up by now
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 20
[ "$KT_RC" = 0 ] || kt_fail "run 3 exited $KT_RC"

# One read of the topic for every check below (two reads could differ under load).
kt_topic_values alerts "${RC[@]}" >"$KT_TMP/out.alerts"
kt_alert_ids <"$KT_TMP/out.alerts" | sort >"$KT_TMP/out.ids"
diff "$KT_TMP/ref.ids" "$KT_TMP/out.ids" >"$KT_TMP/ids.diff" ||
    kt_fail "read_committed alerts differ from one replay of the stream:" \
        "$(grep -c '^>' "$KT_TMP/ids.diff") extra (repeated), $(grep -c '^<' "$KT_TMP/ids.diff") missing"
grep -q '"rule":"fan_in","account":"HUBX"' "$KT_TMP/out.alerts" ||
    kt_fail "fan_in HUBX, half before the kill and half after, did not fire"
grep -q 'event=state_replay partition=0 ' "$KT_TMP/run3.log" ||
    kt_fail "run 3 did not log the records it read again (state_replay)"
dl=$(kt_count transactions.dead_letter 20)
[ "$dl" = "$bad12" ] || kt_fail "dead letters: $dl, want $bad12 (each once)"
echo "PASS test_kafka_eos_state ($n_all alerts exactly once across kill -9; $(grep -o 'replayed=[0-9]* alerts_not_repeated=[0-9]*' "$KT_TMP/run3.log"))"
