#!/usr/bin/env bash
# test_kafka_event_time.sh - the same time-ordered stream gives the replay's alert ids on the
# Kafka path whatever the partitions and their timing (contract section 7, determinism):
# (a) produced all at once into 4 and into 8 partitions at random, (b) in 40 bursts 0.3 s
# apart (less than input.idle_timeout) into 8 partitions while vigild consumes, (c) keyed by
# `from` into 8 partitions, (d) 10 records dated 2099 among them (the others' alerts stay),
# (e) half of it, kill -9, restart from state.dir, the other half at once: at-least-once
# may repeat an alert id, never add or lose one, and (f) with timestamps cut to the minute
# (as AMLworld's are: most records share their time with others, ordered by id in the file).
# Alert ids, not just (rule, account).
source "$(dirname "$0")/kafka_lib.sh"
kt_start_broker --topic all4:4 --topic all8:8 --topic burst8:8 --topic keyed8:8 --topic future4:4 \
    --topic crash4:4 --topic minute8:8 --topic alerts:2 --topic transactions.dead_letter:1
kt_event_time_stream "$KT_TMP/in.ndjson"
total=$(wc -l <"$KT_TMP/in.ndjson")
kt_replay "$KT_TMP/in.ndjson" "$KT_TMP/ref"
kt_alert_ids <"$KT_TMP/ref.alerts" | sort -u >"$KT_TMP/ref.ids"
want=$(wc -l <"$KT_TMP/ref.ids")
[ "$want" -gt 80 ] && grep -q '"account":"merchant' "$KT_TMP/ref.alerts" ||
    kt_fail "reference too weak: $want alerts"

produce_random() { # TOPIC < lines
    timeout 60 kcat -b "$BOOTSTRAP" -P -t "$1" -X topic.partitioner=random -X sticky.partitioning.linger.ms=0 >/dev/null ||
        kt_fail "kcat could not produce into $1"
}

# run_case NAME INPUT_TOPIC [state-dir] : vigild on INPUT_TOPIC (own group and output topic);
# returns once it has its partitions. IDLE_TIMEOUT, when set, is input.idle_timeout.
run_case() {
    local name=$1 topic=$2
    kt_write_config "$KT_TMP/$name.yaml" "g-$name" "alerts-$name" false "$topic"
    if [ -n "${3:-}" ]; then printf 'state:\n  dir: %s\n  interval: 1s\n' "$3" >>"$KT_TMP/$name.yaml"; fi
    if [ -n "${IDLE_TIMEOUT:-}" ]; then sed -i "s/^input:/input:\n  idle_timeout: $IDLE_TIMEOUT/" "$KT_TMP/$name.yaml"; fi
    kt_start_vigild "$KT_TMP/$name.yaml" "$name"
    kt_wait_log "$name" 'kafka_assigned' 30
}

# finish_case NAME EXPECTED_UNIQUE : waits for the alerts, stops vigild, compares alert ids.
finish_case() {
    local name=$1 n=0 i
    for i in $(seq 120); do
        n=$(kt_topic_values "alerts-$name" | kt_alert_ids | sort -u | wc -l)
        [ "$n" -ge "$want" ] && break
        sleep 0.5
    done
    sleep 1.5 # anything extra would show now
    kill -TERM "$VIGILD_PID"
    kt_wait_exit "$VIGILD_PID" 30
    [ "$KT_RC" = 0 ] || kt_fail "$name: vigild exited $KT_RC after SIGTERM"
    kt_topic_values "alerts-$name" | kt_alert_ids | sort -u >"$KT_TMP/$name.ids"
    diff "$KT_TMP/ref.ids" "$KT_TMP/$name.ids" >"$KT_TMP/$name.diff" ||
        kt_fail "$name: alert ids differ from the replay's ($(grep -c '^<' "$KT_TMP/$name.diff") missing, $(grep -c '^>' "$KT_TMP/$name.diff") extra of $want)"
    echo "ok $name: $want alert ids as the replay ($(grep -o 'merge_[a-z]*=[0-9]*\|reorder_forced=[0-9]*' "$KT_TMP/$name.log" | tr '\n' ' '))"
}

# (a) all at once, before vigild starts
produce_random all4 <"$KT_TMP/in.ndjson"
run_case all4 all4
finish_case all4
produce_random all8 <"$KT_TMP/in.ndjson"
run_case all8 all8
finish_case all8

# (b) bursts while vigild consumes. The pauses must stay shorter than input.idle_timeout:
# 0.3 s plus a kcat start, which on a loaded 2-core machine can pass 1 s, so 5 s here.
IDLE_TIMEOUT=5s run_case burst8 burst8
split -n l/40 "$KT_TMP/in.ndjson" "$KT_TMP/burst."
for c in "$KT_TMP"/burst.*; do
    produce_random burst8 <"$c"
    sleep 0.3
done
finish_case burst8

# (c) keyed by the sender: each account's sends in one partition
awk '{ match($0, /"from":"[^"]*"/); print substr($0, RSTART + 8, RLENGTH - 9) "\t" $0 }' "$KT_TMP/in.ndjson" |
    timeout 60 kcat -b "$BOOTSTRAP" -P -t keyed8 -K $'\t' >/dev/null || kt_fail "kcat keyed"
run_case keyed8 keyed8
finish_case keyed8

# (d) ten far-future records at random places: the others' alerts are the replay's
awk -v total="$total" 'BEGIN { srand(3); for (k = 0; k < 10; k++) at[int(rand() * total)] = k }
    { print } (NR in at) { printf "{\"id\":\"f%d\",\"ts\":4070908800000,\"from\":\"ghost%d\",\"to\":\"ghost-to%d\",\"amount\":50,\"currency\":\"USD\"}\n", NR, NR, NR }' \
    "$KT_TMP/in.ndjson" >"$KT_TMP/future.ndjson"
[ "$(grep -c '"id":"f' "$KT_TMP/future.ndjson")" = 10 ] || kt_fail "future records not placed"
produce_random future4 <"$KT_TMP/future.ndjson"
run_case future4 future4
finish_case future4
grep -q 'future_record' "$KT_TMP/future4.log" || kt_fail "future records were not logged"

# (e) half, kill -9, restart from state.dir, the other half at once
half=$((total / 2))
head -n "$half" "$KT_TMP/in.ndjson" | produce_random crash4
run_case crash4 crash4 "$KT_TMP/state"
for i in $(seq 60); do # a checkpoint that covers the whole first half
    ls "$KT_TMP/state"/checkpoint.*.vgc >/dev/null 2>&1 && grep -q 'lag\|checkpoint' "$KT_TMP/crash4.log" && break
    sleep 0.5
done
sleep 3
kill -KILL "$VIGILD_PID"
wait "$VIGILD_PID" 2>/dev/null || true
first=$(kt_topic_values alerts-crash4 | kt_alert_ids | wc -l)
tail -n +$((half + 1)) "$KT_TMP/in.ndjson" | produce_random crash4
kt_start_vigild "$KT_TMP/crash4.yaml" crash4b
kt_wait_log crash4b 'kafka_assigned' 60
finish_case crash4
echo "ok: crash case had $first alert messages before the kill -9, $(kt_topic_values alerts-crash4 | wc -l) in all"

# (f) minute resolution: ties everywhere. The file has them as AMLworld's does, sorted by
# time with rising ids (natural order: version sort), which is the order the merge restores.
awk '{ match($0, /"ts":[0-9]+/); ts = int(substr($0, RSTART + 5, RLENGTH - 5) / 60000) * 60000
       sub(/"ts":[0-9]+/, sprintf("\"ts\":%.0f", ts)); match($0, /"id":"[^"]*"/)
       printf "%.0f\t%s\t%s\n", ts, substr($0, RSTART + 6, RLENGTH - 7), $0 }' "$KT_TMP/in.ndjson" |
    sort -s -t $'\t' -k1,1n -k2,2V | cut -f3- >"$KT_TMP/minute.ndjson"
kt_replay "$KT_TMP/minute.ndjson" "$KT_TMP/ref"
kt_alert_ids <"$KT_TMP/ref.alerts" | sort -u >"$KT_TMP/ref.ids"
want=$(wc -l <"$KT_TMP/ref.ids")
produce_random minute8 <"$KT_TMP/minute.ndjson"
run_case minute8 minute8
finish_case minute8
