#!/usr/bin/env bash
# test_kafka_distributed.sh - several vigild processes on one stream (input.repartition_topic):
# the instances consume the input topic in one group, republish each record's account-side
# events to the repartition topic keyed by account, and own the accounts of the repartition
# partitions (tasks) the task group gives them; each task's state lives in state.topic and
# moves with the task. The union of their alerts must have exactly the alert ids of one
# process replaying the same file (contract section 7: "across N instances", whatever
# rebalances happened; at-least-once may repeat an id, never add or lose one):
# (a) three instances, all in the groups before the stream arrives;
# (b) three instances on a live stream, one killed with SIGKILL half way: the survivors take
#     its tasks over from the state topic;
# (c) three instances on a live stream, a fourth joins half way: tasks move with their state.
source "$(dirname "$0")/kafka_lib.sh"
R=6 # account tasks; the repartition topic has R + 1 partitions (the last: the graph task)
kt_start_broker --brokers 3 --topic in-a:8 --topic in-b:8 --topic in-c:8 \
    --topic rep-a:$((R + 1)) --topic state-a:$((R + 1)) --topic alerts-a:2 \
    --topic rep-b:$((R + 1)) --topic state-b:$((R + 1)) --topic alerts-b:2 \
    --topic rep-c:$((R + 1)) --topic state-c:$((R + 1)) --topic alerts-c:2 \
    --topic transactions.dead_letter:1
kt_event_time_stream "$KT_TMP/in.ndjson"
kt_replay "$KT_TMP/in.ndjson" "$KT_TMP/ref"
kt_alert_ids <"$KT_TMP/ref.alerts" | sort -u >"$KT_TMP/ref.ids"
want=$(wc -l <"$KT_TMP/ref.ids")
[ "$want" -gt 80 ] || kt_fail "reference too weak: $want alerts"

# instance CASE NAME : vigild NAME of case CASE (groups g-CASE, g-CASE.tasks; its own instance id).
instance() {
    local c=$1 name=$1$2
    kt_write_config "$KT_TMP/$name.yaml" "g-$c" "alerts-$c" false "in-$c"
    sed -i "s/^input:/input:\n  repartition_topic: rep-$c\n  repartition_partitions: $R\n  instance_id: $name/" \
        "$KT_TMP/$name.yaml"
    printf 'state:\n  topic: state-%s\n  interval: 2s\n' "$c" >>"$KT_TMP/$name.yaml"
    kt_start_vigild "$KT_TMP/$name.yaml" "$name"
    eval "PID_$name=\$VIGILD_PID"
}

# finish CASE NAMES... : waits for the alerts, stops the named instances, compares alert ids.
finish() {
    local c=$1 n=0 i name pid
    shift
    for i in $(seq 240); do
        n=$(kt_topic_values "alerts-$c" | kt_alert_ids | sort -u | wc -l)
        [ "$n" -ge "$want" ] && break
        sleep 0.5
    done
    sleep 2 # anything extra would show now
    for name in "$@"; do
        eval "pid=\$PID_$name"
        kill -TERM "$pid"
        kt_wait_exit "$pid" 40
        [ "$KT_RC" = 0 ] || kt_fail "$c: instance $name exited $KT_RC after SIGTERM"
    done
    kt_topic_values "alerts-$c" >"$KT_TMP/$c.alerts"
    kt_alert_ids <"$KT_TMP/$c.alerts" | sort >"$KT_TMP/$c.all"
    sort -u "$KT_TMP/$c.all" >"$KT_TMP/$c.ids"
    diff "$KT_TMP/ref.ids" "$KT_TMP/$c.ids" >"$KT_TMP/$c.diff" ||
        kt_fail "$c: alert ids differ from the replay's ($(grep -c '^<' "$KT_TMP/$c.diff") missing, $(grep -c '^>' "$KT_TMP/$c.diff") extra of $want)"
    for name in "$@"; do
        grep -q 'router_stopped.*forwarded=[1-9]' "$KT_TMP/$name.log" || kt_fail "$c: instance $name routed nothing"
        echo "  $name: $(grep -o 'router_stopped.*forwarded=[0-9]*' "$KT_TMP/$name.log" | grep -o 'forwarded=[0-9]*') $(grep -o 'kafka_stopped.*' "$KT_TMP/$name.log" | grep -o 'consumed=[0-9]*\|alerts=[0-9]*\|reorder_forced=[0-9]*' | tr '\n' ' ') restores=$(grep -c tasks_assigned "$KT_TMP/$name.log")"
    done
    echo "ok $c: $want alert ids as the replay ($(wc -l <"$KT_TMP/$c.all") alerts in all)"
}

only() { [ -z "${ONLY:-}" ] || [ "$ONLY" = "$1" ]; }

# (a) all in the groups before the stream is read, produced at once (random partitions)
only a && { timeout 60 kcat -b "$BOOTSTRAP" -P -t in-a -X topic.partitioner=random \
    -X sticky.partitioning.linger.ms=0 <"$KT_TMP/in.ndjson" >/dev/null || kt_fail "kcat could not produce"; }
only a && instance a 1
only a && instance a 2
only a && instance a 3
only a && for n in a1 a2 a3; do kt_wait_log "$n" 'tasks_assigned' 60; done
only a && finish a a1 a2 a3

# (b) SIGKILL one of three half way through a live stream
if only b; then
    instance b 1
    instance b 2
    instance b 3
    for n in b1 b2 b3; do kt_wait_log "$n" 'tasks_assigned' 60; done
    kt_feed_slowly "$KT_TMP/in.ndjson" in-b
    sleep 12
    kill -KILL "$PID_b2"
    finish b b1 b3
fi

# (c) a fourth joins half way through a live stream
if only c; then
    instance c 1
    instance c 2
    instance c 3
    for n in c1 c2 c3; do kt_wait_log "$n" 'tasks_assigned' 60; done
    kt_feed_slowly "$KT_TMP/in.ndjson" in-c
    sleep 12
    instance c 4
    finish c c1 c2 c3 c4
fi
