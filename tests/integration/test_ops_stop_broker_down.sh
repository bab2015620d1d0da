#!/usr/bin/env bash
# test_ops_stop_broker_down.sh - SIGTERM while the Kafka cluster does not answer (contract 7,
# issue 22 part 2). (1) A vigild still starting against a bootstrap nobody listens on ends
# within a few seconds with exit 0, at-least-once and exactly-once alike. (2) With alerts in
# flight and the broker stopped (SIGSTOP: unreachable, its topics and offsets kept), the drain
# ends within engine.shutdown_timeout with exit 2 and event=shutdown_incomplete
# unacked_alerts=N > 0, having committed nothing unacknowledged: once the broker is back, a
# restart delivers every alert of the reference replay. (3) The same with exactly_once: exit 2,
# and the restart delivers every alert exactly once.
source "$(dirname "$0")/kafka_lib.sh"

# ---- 1. SIGTERM during the start, nobody listening ----------------------------------------
PORT=$(kt_free_port)
for eos in false true; do
    for after in 1 3; do
        printf 'kafka:\n  brokers: "127.0.0.1:%s"\noutput:\n  exactly_once: %s\n' "$PORT" "$eos" >"$KT_TMP/down.yaml"
        kt_start_vigild "$KT_TMP/down.yaml" down
        sleep "$after"
        kill -0 "$VIGILD_PID" 2>/dev/null || kt_fail "exactly_once=$eos: vigild ended before the SIGTERM"
        start=$(date +%s%N)
        kill -TERM "$VIGILD_PID"
        kt_wait_exit "$VIGILD_PID" 5
        [ "$KT_RC" = 0 ] || kt_fail "exactly_once=$eos: exit $KT_RC after SIGTERM, want 0"
        echo "exactly_once=$eos, SIGTERM ${after}s after start: exit 0 in $((($(date +%s%N) - start) / 1000000)) ms"
    done
done

# ---- 2. alerts in flight, broker stopped, SIGTERM: bounded, exit 2, nothing lost ----------
kt_gen_input "$KT_TMP/in.ndjson" 3000 23
kt_replay "$KT_TMP/in.ndjson" "$KT_TMP/ref"
kt_alert_ids <"$KT_TMP/ref.alerts" | sort -u >"$KT_TMP/ref.ids"
good=$(grep -c '^{"id":"t' "$KT_TMP/in.ndjson")
[ -s "$KT_TMP/ref.ids" ] || kt_fail "the reference replay has no alerts"

# Each SIGUSR1 makes the broker fail the next 100000 Produce requests (retriable): every
# alert vigild produces stays unacknowledged (librdkafka retries) until SIGUSR2.
kt_start_broker --topic transactions:2 --topic alerts:1 --topic alerts_eos:1 \
    --topic transactions.dead_letter:1 --inject-produce-errors 100000
timeout 30 kcat -b "$BOOTSTRAP" -P -t transactions -T <"$KT_TMP/in.ndjson" >/dev/null
kill -USR1 "$BROKER_PID"
MPORT=$(kt_free_port)
kt_write_config "$KT_TMP/stop.yaml" stopgroup alerts false
# state.dir: a commit may cover records whose alerts were all acknowledged before the broker
# stopped (or that had none); the restart needs their window state to give the replay's alerts.
mkdir -p "$KT_TMP/stop-state"
printf 'engine:\n  shutdown_timeout: 4s\nmetrics:\n  listen: "127.0.0.1:%s"\nstate:\n  dir: %s\n' "$MPORT" "$KT_TMP/stop-state" >>"$KT_TMP/stop.yaml"
kt_start_vigild "$KT_TMP/stop.yaml" run1
for _ in $(seq 300); do
    [ "$(kt_metric "$MPORT" vigil_transactions_total)" = "$good" ] && break
    sleep 0.1
done
[ "$(kt_metric "$MPORT" vigil_transactions_total)" = "$good" ] ||
    kt_fail "run1 did not take all $good records within 30 s"
sleep 1 # the engine hands its alerts to the producer
kill -STOP "$BROKER_PID"
start=$(date +%s%N)
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 15
took=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$BROKER_PID"
[ "$KT_RC" = 2 ] || kt_fail "exit $KT_RC after SIGTERM with the broker stopped, want 2"
# The bound (4 s) plus the engine's stop and the producer's release, far from 90 s.
[ "$took" -lt 12000 ] || kt_fail "the drain took $took ms with engine.shutdown_timeout 4s"
unacked=$(sed -nE 's/.*event=shutdown_incomplete unacked_alerts=([0-9]+).*/\1/p' "$KT_TMP/run1.log" | head -1)
[ -n "$unacked" ] && [ "$unacked" -gt 0 ] ||
    kt_fail "no event=shutdown_incomplete with unacked_alerts > 0 in run1.log"
echo "broker stopped, alerts in flight: exit 2 in $took ms, unacked_alerts=$unacked"

# The broker answers again, without errors: the restart reads again what run1 could not
# commit and delivers every alert (repeats allowed: at-least-once).
kill -USR2 "$BROKER_PID"
kt_start_vigild "$KT_TMP/stop.yaml" run2
for _ in $(seq 60); do
    n=$(kt_topic_values alerts | kt_alert_ids | sort -u | comm -23 "$KT_TMP/ref.ids" - | wc -l)
    [ "$n" = 0 ] && break
    sleep 0.5
done
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 15
[ "$KT_RC" = 0 ] || kt_fail "run2 exit $KT_RC after SIGTERM, want 0"
kt_topic_values alerts | kt_alert_ids | sort -u | comm -23 "$KT_TMP/ref.ids" - >"$KT_TMP/missing"
[ ! -s "$KT_TMP/missing" ] ||
    kt_fail "$(wc -l <"$KT_TMP/missing") of $(wc -l <"$KT_TMP/ref.ids") reference alerts missing after the restart"
echo "restart: all $(wc -l <"$KT_TMP/ref.ids") reference alerts on the topic"
# ---- 3. the same with exactly_once: the open transaction is not committed in time --------
# Its alerts wait for their Produce acknowledgements (failing again), the commit runs in
# slices until the bound; the restart fences and aborts it, then delivers every alert once.
kill -USR1 "$BROKER_PID"
kt_write_config "$KT_TMP/eos.yaml" eosgroup alerts_eos true
# state.dir: under load the first transaction may commit before the broker stops (records
# without alerts need no Produce); the restart needs their window state (as above).
mkdir -p "$KT_TMP/eos-state"
printf 'engine:\n  shutdown_timeout: 4s\nmetrics:\n  listen: "127.0.0.1:%s"\nstate:\n  dir: %s\n' "$MPORT" "$KT_TMP/eos-state" >>"$KT_TMP/eos.yaml"
kt_start_vigild "$KT_TMP/eos.yaml" eos1
# The first transaction's commit waits for its alerts' acknowledgements, and the input
# waits for it: records taken and a transaction open are enough.
for _ in $(seq 300); do
    v=$(kt_metric "$MPORT" vigil_transactions_total)
    [ -n "$v" ] && [ "$v" -gt 0 ] && break
    sleep 0.1
done
[ -n "$v" ] && [ "$v" -gt 0 ] || kt_fail "eos1 took no record within 30 s"
sleep 2
kill -STOP "$BROKER_PID"
start=$(date +%s%N)
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 15
took=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$BROKER_PID"
[ "$KT_RC" = 2 ] || kt_fail "exactly_once: exit $KT_RC after SIGTERM with the broker stopped, want 2"
[ "$took" -lt 12000 ] || kt_fail "exactly_once: the drain took $took ms with engine.shutdown_timeout 4s"
grep -q 'event=shutdown_incomplete unacked_alerts=[1-9]' "$KT_TMP/eos1.log" ||
    kt_fail "exactly_once: no event=shutdown_incomplete with unacked_alerts > 0"
echo "exactly_once, broker stopped: exit 2 in $took ms"
kill -USR2 "$BROKER_PID"
kt_start_vigild "$KT_TMP/eos.yaml" eos2
for _ in $(seq 60); do
    n=$(kt_topic_values alerts_eos | kt_alert_ids | sort -u | comm -23 "$KT_TMP/ref.ids" - | wc -l)
    [ "$n" = 0 ] && break
    sleep 0.5
done
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 15
[ "$KT_RC" = 0 ] || kt_fail "eos2 exit $KT_RC after SIGTERM, want 0"
kt_topic_values alerts_eos | kt_alert_ids | sort | uniq -d >"$KT_TMP/eos.repeated"
kt_topic_values alerts_eos | kt_alert_ids | sort -u | comm -23 "$KT_TMP/ref.ids" - >"$KT_TMP/eos.missing"
[ ! -s "$KT_TMP/eos.missing" ] || kt_fail "exactly_once: $(wc -l <"$KT_TMP/eos.missing") reference alerts missing after the restart"
[ ! -s "$KT_TMP/eos.repeated" ] || kt_fail "exactly_once: $(wc -l <"$KT_TMP/eos.repeated") alerts committed twice"
echo "exactly_once restart: all $(wc -l <"$KT_TMP/ref.ids") reference alerts, none twice"
echo "ok: SIGTERM while the broker is down"
