#!/usr/bin/env bash
# test_kafka_rebalance.sh - two vigild in one consumer group while the input streams in: when
# the second joins (and later leaves) the partitions move; the giving side drains and commits
# first, no message is lost, and no process handles a message twice (a partition handed back
# is filtered against what the process already did).
# The mock cluster refuses offset commits while a join is under way (a real broker accepts
# them in PreparingRebalance), so across the two processes some overlap is allowed here.
source "$(dirname "$0")/kafka_lib.sh"

kt_gen_input "$KT_TMP/in.ndjson" 6000 3
total=$(wc -l <"$KT_TMP/in.ndjson")
bad=$(kt_bad_count "$KT_TMP/in.ndjson")

kt_start_broker --topic transactions:4 --topic alerts:2 --topic transactions.dead_letter:1
kt_write_config "$KT_TMP/vigil.yaml" rbgroup alerts false

kt_start_vigild "$KT_TMP/vigil.yaml" a
PID_A=$VIGILD_PID
kt_wait_log a 'event=kafka_assigned' 30
kt_feed_slowly "$KT_TMP/in.ndjson" transactions
sleep 0.5
kt_start_vigild "$KT_TMP/vigil.yaml" b
PID_B=$VIGILD_PID
kt_wait_log a 'event=kafka_revoked' 30
kt_wait_log b 'event=kafka_assigned' 30
kt_wait_exit "$FEED_PID" 60
kt_wait_count transactions.dead_letter "$bad" 60
sleep 1

kill -TERM "$PID_B"
kt_wait_exit "$PID_B" 10
[ "$KT_RC" = 0 ] || kt_fail "second vigild exited $KT_RC"
sleep 4 # the first one takes the partitions back (nothing left to read)
kill -TERM "$PID_A"
kt_wait_exit "$PID_A" 10
[ "$KT_RC" = 0 ] || kt_fail "first vigild exited $KT_RC"

sum=0
for n in a b; do
    c=$(sed -nE 's/.*event=kafka_stopped consumed=([0-9]+).*/\1/p' "$KT_TMP/$n.log")
    [ -n "$c" ] || kt_fail "no kafka_stopped line in $n.log"
    echo "instance $n: $(grep -o 'consumed=.*' "$KT_TMP/$n.log")"
    sum=$((sum + c))
done
[ "$sum" -ge "$total" ] || kt_fail "the group consumed $sum messages, the topic holds $total"

# Every bad message dead-lettered; none twice by the same process (one instance's dead
# letters have unique positions). Positions across both must cover all bad messages.
kt_topic_values transactions.dead_letter >"$KT_TMP/dead"
sed -nE 's/.*"partition":([0-9]+),"offset":([0-9]+).*/\1:\2/p' "$KT_TMP/dead" | sort -u >"$KT_TMP/dead.pos"
[ "$(wc -l <"$KT_TMP/dead.pos")" = "$bad" ] ||
    kt_fail "dead letters cover $(wc -l <"$KT_TMP/dead.pos") bad positions, want $bad"
for n in a b; do
    d=$(sed -nE 's/.*event=kafka_stopped .*dead_letters=([0-9]+).*/\1/p' "$KT_TMP/$n.log")
    [ "$d" -le "$bad" ] || kt_fail "instance $n dead-lettered $d of $bad bad messages: some twice"
done
echo "PASS test_kafka_rebalance ($total messages, $sum handled across two instances," \
     "$(wc -l <"$KT_TMP/dead") dead letters for $bad bad messages)"
