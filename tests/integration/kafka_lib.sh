# kafka_lib.sh - shared helpers for the tests/integration/test_kafka_*.sh scripts: start a
# vigil-broker on loopback, bounded waits, cleanup of every background process on exit.
# Sourced, not run; not a test itself (ctest only globs test_*.sh).

set -euo pipefail

: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the repository root}"
: "${VG_TEST_DATA:=$VG_SRC/tests/data}"

KT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vg-kafka-test.XXXXXX")
KT_PIDS=()

kt_cleanup() {
    local pid
    for pid in "${KT_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    done
    sleep 0.2
    for pid in "${KT_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done
    if [ -n "${KT_KEEP:-}" ]; then echo "kept $KT_TMP" >&2; else rm -rf "$KT_TMP"; fi
}
trap kt_cleanup EXIT

kt_fail() {
    echo "FAIL: $*" >&2
    for f in "$KT_TMP"/*.log; do
        [ -f "$f" ] || continue
        echo "---- $f (tail)" >&2
        tail -n 30 "$f" >&2
    done
    exit 1
}

# kt_start_broker ARGS... : starts vigil-broker, sets BROKER_PID and BOOTSTRAP.
kt_start_broker() {
    local out="$KT_TMP/broker.out" i
    : >"$out"
    "$VG_BIN/vigil-broker" "$@" >"$out" 2>"$KT_TMP/broker.log" &
    BROKER_PID=$!
    KT_PIDS+=("$BROKER_PID")
    for i in $(seq 100); do
        if head -n 1 "$out" | grep -q '^bootstrap='; then
            BOOTSTRAP=$(head -n 1 "$out" | sed 's/^bootstrap=//')
            return 0
        fi
        sleep 0.05
    done
    kt_fail "vigil-broker printed no bootstrap line within 5s"
}

# kt_wait_exit PID SECONDS : waits for a background child, sets KT_RC; fails on timeout.
kt_wait_exit() {
    local pid=$1 secs=$2 i
    for i in $(seq $((secs * 20))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            KT_RC=0
            wait "$pid" || KT_RC=$?
            return 0
        fi
        sleep 0.05
    done
    kt_fail "process $pid still running after ${secs}s"
}

# kt_consume TOPIC COUNT SECONDS [kcat args...] : prints up to COUNT message values.
kt_consume() {
    local topic=$1 count=$2 secs=$3
    shift 3
    timeout "$secs" kcat -b "$BOOTSTRAP" -C -t "$topic" -o beginning -c "$count" -q "$@" || true
}

# kt_count TOPIC SECONDS : number of messages in a topic now (reads to its end).
kt_count() {
    timeout "$2" kcat -b "$BOOTSTRAP" -C -t "$1" -o beginning -e -q -f 'x\n' | wc -l
}

# The daemon under test (overridable for development).
VIGILD=${VIGILD:-$VG_BIN/vigild}

# kt_gen_input FILE GOOD SEED : deterministic NDJSON stream of GOOD transactions (one a
# minute of event time among 300 accounts, every 10th a large one) with bad records mixed in:
# malformed JSON, bad timestamps, a missing field and one oversized message. Prints nothing.
kt_gen_input() {
    awk -v n="$2" -v seed="$3" 'BEGIN {
        srand(seed); t0 = 1661990400000
        split("12000 15000.5 9500 9900 20000 300", big, " ")
        for (i = 0; i < n; i++) {
            a = int(rand() * 300); b = int(rand() * 300)
            amt = (i % 10 == 0) ? big[1 + int(rand() * 6)] : sprintf("%.2f", 1 + rand() * 2000)
            printf "{\"id\":\"t%d\",\"ts\":%.0f,\"from\":\"acc%d\",\"to\":\"acc%d\",\"amount\":%s,\"currency\":\"USD\",\"channel\":\"wire\"}\n", i, t0 + i * 60000, a, b, amt
            if (i % 500 == 7) printf "{\"id\":\"bad%d\",\"ts\":\"nope\",\"from\":\"x\",\"to\":\"y\",\"amount\":1,\"currency\":\"USD\"}\n", i
            if (i % 700 == 9) printf "not json at all %d\n", i
            if (i % 1000 == 11) printf "{\"id\":\"nofrom%d\",\"ts\":%.0f,\"to\":\"y\",\"amount\":5,\"currency\":\"USD\"}\n", i, t0
        }
        printf "{\"id\":\"huge\",\"note\":\""
        for (k = 0; k < 7000; k++) printf "xxxxxxxxxx"
        printf "\"}\n"
    }' >"$1"
}

# Number of records in FILE that are not good transactions (as kt_gen_input writes them).
kt_bad_count() { grep -c -v '^{"id":"t' "$1" || true; }

# kt_write_config FILE GROUP OUTPUT_TOPIC EXACTLY_ONCE [INPUT_TOPIC] : a vigil.yaml for Kafka
# mode against $BOOTSTRAP with quick group timeouts (the mock honours session.timeout.ms).
kt_write_config() {
    cat >"$1" <<YAML
kafka:
  brokers: "$BOOTSTRAP"
  properties:
    session.timeout.ms: "6000"
    heartbeat.interval.ms: "500"
input:
  topic: ${5:-transactions}
  group: $2
output:
  topic: $3
  exactly_once: $4
dead_letter:
  topic: transactions.dead_letter
YAML
}

# kt_start_vigild CONFIG NAME : starts vigild in Kafka mode, sets VIGILD_PID; log in NAME.log.
kt_start_vigild() {
    "$VIGILD" -c "$1" >"$KT_TMP/$2.out" 2>"$KT_TMP/$2.log" &
    VIGILD_PID=$!
    KT_PIDS+=("$VIGILD_PID")
}

# kt_wait_log NAME REGEX SECONDS : waits for a line in NAME.log.
kt_wait_log() {
    local i
    for i in $(seq $(($3 * 20))); do
        grep -qE "$2" "$KT_TMP/$1.log" 2>/dev/null && return 0
        sleep 0.05
    done
    kt_fail "no '$2' in $1.log within $3s"
}

# kt_wait_count TOPIC N SECONDS [kcat args] : waits until TOPIC holds at least N messages.
kt_wait_count() {
    local topic=$1 want=$2 secs=$3 i n=0
    shift 3
    for i in $(seq $((secs * 2))); do
        n=$(timeout 10 kcat -b "$BOOTSTRAP" -C -t "$topic" -o beginning -e -q -f 'x\n' "$@" 2>/dev/null | wc -l)
        [ "$n" -ge "$want" ] && return 0
        sleep 0.5
    done
    kt_fail "topic $topic has $n messages, waited $secs s for $want"
}

# kt_topic_values TOPIC [kcat args] : every message value of TOPIC now.
kt_topic_values() {
    local topic=$1
    shift
    timeout 20 kcat -b "$BOOTSTRAP" -C -t "$topic" -o beginning -e -q -f '%s\n' "$@"
}

# Alert lines -> "rule account" (alert JSON writes alert_id, rule, account first).
kt_rule_account() { sed -nE 's/.*"rule":"([^"]*)","account":"([^"]*)".*/\1 \2/p'; }
kt_alert_ids() { sed -nE 's/.*"alert_id":"([^"]*)".*/\1/p'; }

# kt_replay INPUT OUT_PREFIX : the reference: vigild's file replay of the same records.
kt_replay() {
    timeout 60 "$VG_BIN/vigild" --input "$1" --format ndjson --output "$2.alerts" \
        --dead-letter "$2.dead" 2>"$2.log" || kt_fail "replay of $1 failed"
}

# kt_feed_slowly FILE TOPIC : produces FILE in chunks of 300 lines (KT_FEED_LINES) every 0.1 s in the
# background (a live stream); sets FEED_PID.
kt_feed_slowly() {
    local file=$1 topic=$2
    (
        split -l "${KT_FEED_LINES:-300}" "$file" "$KT_TMP/chunk."
        for c in "$KT_TMP"/chunk.*; do
            timeout 10 kcat -b "$BOOTSTRAP" -P -t "$topic" -T <"$c" >/dev/null
            sleep 0.1
        done
        rm -f "$KT_TMP"/chunk.*
    ) &
    FEED_PID=$!
    KT_PIDS+=("$FEED_PID")
}

# kt_http_get PORT PATH : the status code on the first line, then the body (bash's
# /dev/tcp, no curl needed); fails when nothing answers.
kt_http_get() {
    local reply
    reply=$({ printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&5 && cat <&5; } \
        5<>"/dev/tcp/127.0.0.1/$1" 2>/dev/null | tr -d '\r') || return 1
    [ -n "$reply" ] || return 1
    printf '%s\n' "$reply" | sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p'
    printf '%s\n' "$reply" | sed '1,/^$/d'
}

# kt_metric PORT SERIES : one sample's value on /metrics now ("" when absent or no answer).
kt_metric() {
    kt_http_get "$1" /metrics 2>/dev/null | awk -v s="$2" '$1 == s { print $2; exit }' || true
}

# kt_free_port : a loopback TCP port nobody listens on now.
kt_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# kt_event_time_stream FILE : a time-ordered NDJSON stream (~64k records over ~8 days) that
# is sensitive to the order records reach the engine: every typology from vigil-gen plus
# six merchant-like accounts paid every few minutes by 7..40 payers, whose first fan_in
# alert (trigger, window) moves if any of their records is placed late. Ties keep file order.
kt_event_time_stream() {
    local out=$1 t0=1661990400000
    "$VG_BIN/vigil-gen" --format ndjson --transactions 60000 --accounts 3000 --seed 11 --patterns 4 \
        --interarrival-ms 12000 --start-ms "$t0" --out "$KT_TMP/gen.ndjson" --quiet || kt_fail "vigil-gen"
    awk -v t0="$t0" -v span=720000000 'BEGIN { srand(5); n = 0
        for (t = t0; t < t0 + span; t += 60000 + int(rand() * 240000)) {
            h = int(rand() * 6); np = (h < 3) ? 40 : 6 + h
            printf "{\"id\":\"m%d\",\"ts\":%.0f,\"from\":\"payer%d_%d\",\"to\":\"merchant%d\",\"amount\":\"%d.%02d\",\"currency\":\"USD\",\"channel\":\"card\"}\n", n++, t, h, int(rand() * np), h, 20 + int(rand() * 200), int(rand() * 100)
        } }' >"$KT_TMP/merchants.ndjson"
    cat "$KT_TMP/gen.ndjson" "$KT_TMP/merchants.ndjson" |
        awk '{ match($0, /"ts":[0-9]+/); print substr($0, RSTART + 5, RLENGTH - 5) "\t" $0 }' |
        sort -s -n -k1,1 | cut -f2- >"$out"
    rm -f "$KT_TMP/gen.ndjson" "$KT_TMP/merchants.ndjson"
}
