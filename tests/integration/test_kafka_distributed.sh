#!/usr/bin/env bash
# test_kafka_distributed.sh - several vigild processes on one stream (input.repartition_topic):
# the instances consume the input topic in one group, republish each record's account-side
# events to the repartition topic keyed by account, and own the accounts of the repartition
# partitions (tasks) the task group gives them. The union of their alerts must have exactly
# the alert ids of one process replaying the same file (contract section 7: "across N
# instances"), not just the same (rule, account) pairs.
source "$(dirname "$0")/kafka_lib.sh"
R=6 # account tasks; the repartition topic has R + 1 partitions (the last: the graph task)
kt_start_broker --brokers 3 --topic in8:8 --topic rep:$((R + 1)) --topic alerts:2 \
    --topic transactions.dead_letter:1
kt_event_time_stream "$KT_TMP/in.ndjson"
kt_replay "$KT_TMP/in.ndjson" "$KT_TMP/ref"
kt_alert_ids <"$KT_TMP/ref.alerts" | sort -u >"$KT_TMP/ref.ids"
want=$(wc -l <"$KT_TMP/ref.ids")
[ "$want" -gt 80 ] || kt_fail "reference too weak: $want alerts"

# instance NAME : vigild NAME in the shared groups (its own instance id), alerts to `alerts`.
instance() {
    local name=$1
    kt_write_config "$KT_TMP/$name.yaml" dist alerts false in8
    sed -i "s/^input:/input:\n  repartition_topic: rep\n  repartition_partitions: $R\n  instance_id: $name/" \
        "$KT_TMP/$name.yaml"
    kt_start_vigild "$KT_TMP/$name.yaml" "$name"
    eval "PID_$name=\$VIGILD_PID"
}

# (a) three instances, all in the groups before the stream arrives
instance a
instance b
instance c
for n in a b c; do kt_wait_log "$n" 'kafka_assigned' 60; kt_wait_log "$n" 'router_assigned' 60; done
sleep 8 # the last joins settle (eager rebalances)
timeout 60 kcat -b "$BOOTSTRAP" -P -t in8 -X topic.partitioner=random -X sticky.partitioning.linger.ms=0 \
    <"$KT_TMP/in.ndjson" >/dev/null || kt_fail "kcat could not produce"
n=0
for i in $(seq 240); do
    n=$(kt_topic_values alerts | kt_alert_ids | sort -u | wc -l)
    [ "$n" -ge "$want" ] && break
    sleep 0.5
done
sleep 2
for n in a b c; do
    eval "pid=\$PID_$n"
    kill -TERM "$pid"
    kt_wait_exit "$pid" 30
    [ "$KT_RC" = 0 ] || kt_fail "instance $n exited $KT_RC after SIGTERM"
done
kt_topic_values alerts | kt_alert_ids | sort -u >"$KT_TMP/three.ids"
diff "$KT_TMP/ref.ids" "$KT_TMP/three.ids" >"$KT_TMP/three.diff" ||
    kt_fail "three instances: alert ids differ from the replay's ($(grep -c '^<' "$KT_TMP/three.diff") missing, $(grep -c '^>' "$KT_TMP/three.diff") extra of $want)"
for n in a b c; do
    grep -q 'kafka_stopped.*consumed=[1-9]' "$KT_TMP/$n.log" || kt_fail "instance $n consumed nothing"
    grep -q 'router_stopped.*forwarded=[1-9]' "$KT_TMP/$n.log" || kt_fail "instance $n routed nothing"
    echo "  $n: $(grep -o 'router_stopped.*forwarded=[0-9]*' "$KT_TMP/$n.log" | grep -o 'forwarded=[0-9]*') $(grep -o 'kafka_stopped.*' "$KT_TMP/$n.log" | grep -o 'consumed=[0-9]*\|alerts=[0-9]*\|reorder_forced=[0-9]*' | tr '\n' ' ')"
done
echo "ok three instances: $want alert ids as the replay"
