#!/usr/bin/env bash
# test_ops_kafka_logs.sh - Kafka start-up logs that tell the truth (issue 25 item 6): with no
# broker reachable, kafka_started is not logged (only kafka_connecting), a kafka_connect_slow
# warning comes while it waits, and each librdkafka error is logged once (not once from its
# log callback and again from its error callback, nor once per client); with a broker,
# kafka_started comes once the partitions are assigned.
source "$(dirname "$0")/kafka_lib.sh"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'kafka:\n  brokers: "127.0.0.1:%s"\n' "$PORT" >"$KT_TMP/down.yaml"
kt_start_vigild "$KT_TMP/down.yaml" down
kt_wait_log down 'event=kafka_connect_slow waited_s=1[0-9] ' 20
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 30
grep -q 'event=kafka_connecting ' "$KT_TMP/down.log" || kt_fail "no kafka_connecting"
! grep -q 'event=kafka_started' "$KT_TMP/down.log" || kt_fail "kafka_started logged without a broker"
! grep -E 'level=(warn|error) event=rdkafka .*fac=(FAIL|ERROR)' "$KT_TMP/down.log" ||
    kt_fail "broker failures logged by the log callback as well as kafka_error"
sed -nE 's/.*level=warn event=kafka_error client=[^ ]* (.*)/\1/p' "$KT_TMP/down.log" >"$KT_TMP/errors"
[ -s "$KT_TMP/errors" ] || kt_fail "no kafka_error logged with the broker down: $(cat "$KT_TMP/down.log")"
# The consumer and the producer report the same failure: once at warn within 5 s.
python3 - "$KT_TMP/down.log" <<'PY' || kt_fail "an error logged twice within 5 s: $(grep kafka_error "$KT_TMP/down.log")"
import re, sys, datetime
seen = {}
for line in open(sys.argv[1]):
    m = re.match(r'ts=(\S+) level=warn event=kafka_error client=\S+ (.*)', line)
    if not m:
        continue
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
    if m.group(2) in seen and t - seen[m.group(2)] < 5:
        sys.exit(1)
    seen[m.group(2)] = t
PY
echo "broker down: kafka_connect_slow, no kafka_started, $(wc -l <"$KT_TMP/errors") kafka_error lines, none repeated"

kt_start_broker --topic transactions:2
kt_write_config "$KT_TMP/up.yaml" logsgroup alerts false
kt_start_vigild "$KT_TMP/up.yaml" up
kt_wait_log up 'event=kafka_started topic=transactions group=logsgroup partitions=2 ' 30
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 30
[ "$(grep -c 'event=kafka_started' "$KT_TMP/up.log")" = 1 ] || kt_fail "kafka_started not exactly once"
awk '/event=kafka_started/ {s = NR} /event=kafka_assigned/ && !a {a = NR} END {exit !(s > a && a > 0)}' "$KT_TMP/up.log" ||
    kt_fail "kafka_started before the assignment"
echo "PASS test_ops_kafka_logs"
