#!/usr/bin/env bash
# test_state_first_checkpoint.sh - state.dir before its first periodic checkpoint (contract 7
# "State" and "Delivery"): vigild consumes, alerts and is killed with kill -9 before any
# state.interval has passed. The restart must resume where the state it has (the empty state
# of the start) left off, not at the offsets the killed run committed: a pattern spanning the
# kill still fires and no alert is lost; with exactly_once a read_committed consumer sees
# every alert once. A clean stop then commits everything: the next start reads nothing again.
source "$(dirname "$0")/kafka_lib.sh"

T0=1704067200000
txn() { # id minute from to amount
    printf '{"id":"%s","ts":%d,"from":"%s","to":"%s","amount":"%s","currency":"USD"}\n' \
        "$1" $((T0 + $2 * 60000)) "$3" "$4" "$5"
}
count() { grep -c "\"rule\":\"$1\",\"account\":\"$2\"" || true; }

# Part 1: four senders into HUB (half a fan_in) and a large transfer; part 2 the other four
# senders and another large transfer.
for i in 1 2 3 4; do txn "a$i" "$i" "S$i" HUB 1000; done >"$KT_TMP/part1.ndjson"
txn big1 5 WHALE1 X 20000 >>"$KT_TMP/part1.ndjson"
for i in 5 6 7 8; do txn "a$i" "$i" "S$i" HUB 1000; done >"$KT_TMP/part2.ndjson"
txn big2 9 WHALE2 X 20000 >>"$KT_TMP/part2.ndjson"

kt_start_broker --topic tx_alo:2 --topic tx_eos:2 --topic transactions.dead_letter:1

produce() { # TOPIC FILE P: odd lines to partition P, even lines to the other one
    awk 'NR % 2 == 1' "$2" | timeout 20 kcat -b "$BOOTSTRAP" -P -t "$1" -p "$3" >/dev/null
    awk 'NR % 2 == 0' "$2" | timeout 20 kcat -b "$BOOTSTRAP" -P -t "$1" -p $((1 - $3)) >/dev/null
}

# scenario NAME EXACTLY_ONCE
scenario() {
    local name=$1 eos=$2 cfg="$KT_TMP/$1.yaml" rc=()
    [ "$eos" = true ] && rc=(-X isolation.level=read_committed)
    kt_write_config "$cfg" "g_$name" "alerts_$name" "$eos" "tx_$name"
    printf 'state:\n  dir: %s/state_%s\n  interval: 1h\n' "$KT_TMP" "$name" >>"$cfg"

    kt_start_vigild "$cfg" "${name}1"
    kt_wait_log "${name}1" 'event=kafka_assigned' 30
    produce "tx_$name" "$KT_TMP/part1.ndjson" 0
    kt_wait_count "alerts_$name" 1 30 "${rc[@]}" # large_tx WHALE1: part 1 processed, acknowledged
    sleep 1                                      # several commit periods (200 ms)
    kill -KILL "$VIGILD_PID"
    kt_wait_exit "$VIGILD_PID" 5
    ! grep -q 'event=checkpoint_snapshot' "$KT_TMP/${name}1.log" ||
        kt_fail "$name: a periodic checkpoint was taken: the kill is not before the first one"

    kt_start_vigild "$cfg" "${name}2"
    kt_wait_log "${name}2" 'event=kafka_assigned' 40 # after the killed member's session times out
    produce "tx_$name" "$KT_TMP/part2.ndjson" 1
    kt_wait_count "alerts_$name" 2 30 "${rc[@]}"
    sleep 2
    kill -TERM "$VIGILD_PID"
    kt_wait_exit "$VIGILD_PID" 20
    [ "$KT_RC" = 0 ] || kt_fail "$name: run 2 exited $KT_RC"
    kt_topic_values "alerts_$name" "${rc[@]}" >"$KT_TMP/$name.alerts"
    [ "$(count fan_in HUB <"$KT_TMP/$name.alerts")" -ge 1 ] ||
        kt_fail "$name: fan_in HUB (4 senders before the kill -9, 4 after) did not fire: the restart" \
            "resumed at the killed run's committed offsets without its state ($(grep -o 'consumed=[0-9]*' "$KT_TMP/${name}2.log"))"
    [ "$(count large_tx WHALE1 <"$KT_TMP/$name.alerts")" -ge 1 ] || kt_fail "$name: large_tx WHALE1 lost"
    [ "$(count large_tx WHALE2 <"$KT_TMP/$name.alerts")" -ge 1 ] || kt_fail "$name: large_tx WHALE2 lost"
    if [ "$eos" = true ]; then
        [ "$(wc -l <"$KT_TMP/$name.alerts")" = 3 ] ||
            kt_fail "$name: read_committed holds $(wc -l <"$KT_TMP/$name.alerts") alerts, want 3 (each once)"
    fi

    # The clean stop committed everything: a new start reads nothing again.
    kt_start_vigild "$cfg" "${name}3"
    kt_wait_log "${name}3" 'event=kafka_assigned' 30
    sleep 2
    kill -TERM "$VIGILD_PID"
    kt_wait_exit "$VIGILD_PID" 20
    [ "$KT_RC" = 0 ] || kt_fail "$name: run 3 exited $KT_RC"
    grep -q 'consumed=0 ' "$KT_TMP/${name}3.log" ||
        kt_fail "$name: run 3 read records again after a clean stop: $(grep kafka_stopped "$KT_TMP/${name}3.log")"
    echo "$name: ok"
}

scenario alo false
scenario eos true
echo "PASS test_state_first_checkpoint"
