#!/usr/bin/env bash
# test_state_first_checkpoint.sh - state.dir before its first checkpoint (contract 7 "State"
# and "Delivery"): vigild consumes, alerts and is killed with kill -9 before any checkpoint
# is on disk. A restart has no state to resume, so it must read again everything the killed
# run consumed rather than start at offsets that run committed: a pattern spanning the kill
# still fires and no alert is lost. Once a checkpoint exists, offsets are committed as
# before: a clean restart reads nothing again.
source "$(dirname "$0")/kafka_lib.sh"

T0=1704067200000
txn() { # id minute from to amount
    printf '{"id":"%s","ts":%d,"from":"%s","to":"%s","amount":"%s","currency":"USD"}\n' \
        "$1" $((T0 + $2 * 60000)) "$3" "$4" "$5"
}
count() { grep -c "\"rule\":\"$1\",\"account\":\"$2\"" || true; }

kt_start_broker --topic transactions:2 --topic alerts:1 --topic transactions.dead_letter:1
kt_write_config "$KT_TMP/vigil.yaml" firstckpt alerts false
printf 'state:\n  dir: %s/state\n  interval: 1h\n' "$KT_TMP" >>"$KT_TMP/vigil.yaml"

# Part 1: four senders into HUB (half a fan_in) and a large transfer, on both partitions.
for i in 1 2 3 4; do txn "a$i" "$i" "S$i" HUB 1000; done >"$KT_TMP/part1.ndjson"
txn big1 5 WHALE1 X 20000 >>"$KT_TMP/part1.ndjson"
# Part 2: the other four senders, on both partitions again.
for i in 5 6 7 8; do txn "a$i" "$i" "S$i" HUB 1000; done >"$KT_TMP/part2.ndjson"
txn big2 9 WHALE2 X 20000 >>"$KT_TMP/part2.ndjson"
produce() { # FILE P: odd lines to partition P, even lines to the other one
    awk 'NR % 2 == 1' "$1" | timeout 20 kcat -b "$BOOTSTRAP" -P -t transactions -p "$2" >/dev/null
    awk 'NR % 2 == 0' "$1" | timeout 20 kcat -b "$BOOTSTRAP" -P -t transactions -p $((1 - $2)) >/dev/null
}

kt_start_vigild "$KT_TMP/vigil.yaml" run1
kt_wait_log run1 'event=kafka_assigned' 30
produce "$KT_TMP/part1.ndjson" 0
kt_wait_count alerts 1 30          # large_tx WHALE1: part 1 processed and acknowledged
sleep 1                            # several commit periods (200 ms)
kill -KILL "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 5
! ls "$KT_TMP/state" | grep -q '\.vgc$' || kt_fail "a checkpoint exists already: $(ls "$KT_TMP/state")"

kt_start_vigild "$KT_TMP/vigil.yaml" run2
kt_wait_log run2 'event=kafka_assigned' 40 # after the killed member's session times out
produce "$KT_TMP/part2.ndjson" 1
kt_wait_count alerts 2 30          # WHALE2 (and WHALE1 again: at-least-once)
sleep 2
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 20
[ "$KT_RC" = 0 ] || kt_fail "run 2 exited $KT_RC"
kt_topic_values alerts >"$KT_TMP/alerts"
[ "$(count fan_in HUB <"$KT_TMP/alerts")" -ge 1 ] ||
    kt_fail "fan_in HUB (4 senders before the kill -9, 4 after) did not fire: the restart resumed" \
        "at the killed run's committed offsets without its state: $(grep -o 'consumed=[0-9]*' "$KT_TMP/run2.log")"
[ "$(count large_tx WHALE1 <"$KT_TMP/alerts")" -ge 1 ] || kt_fail "large_tx WHALE1 lost"
[ "$(count large_tx WHALE2 <"$KT_TMP/alerts")" -ge 1 ] || kt_fail "large_tx WHALE2 lost"
echo "no checkpoint yet: ok"

# Run 2's final checkpoint holds both partitions, so its offsets were committed at close.
kt_start_vigild "$KT_TMP/vigil.yaml" run3
kt_wait_log run3 'event=kafka_assigned' 30
sleep 2
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 20
[ "$KT_RC" = 0 ] || kt_fail "run 3 exited $KT_RC"
grep -q 'consumed=0 ' "$KT_TMP/run3.log" || kt_fail "run 3 read records again after a clean stop: $(grep kafka_stopped "$KT_TMP/run3.log")"
echo "PASS test_state_first_checkpoint"
