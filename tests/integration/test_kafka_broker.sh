#!/usr/bin/env bash
# test_kafka_broker.sh - vigil-broker serves the Kafka protocol on loopback: kcat produces to
# and consumes from it (plain and in a consumer group), and SIGTERM stops it with exit 0.
source "$(dirname "$0")/kafka_lib.sh"

kt_start_broker --brokers 3 --topic tx:4 --topic other:1
echo "bootstrap: $BOOTSTRAP"
case "$BOOTSTRAP" in
    127.0.0.1:*,127.0.0.1:*,127.0.0.1:*) ;;
    *) kt_fail "expected three loopback listeners, got '$BOOTSTRAP'" ;;
esac

# Metadata: the topic exists with the requested partition count.
parts=$(timeout 10 kcat -b "$BOOTSTRAP" -L -t tx | grep -c 'partition [0-9]' || true)
[ "$parts" = 4 ] || kt_fail "topic tx has $parts partitions, want 4"

# Produce 200 keyed messages, read them all back.
seq 1 200 | awk '{printf "acct%d:value-%d\n", $1 % 17, $1}' >"$KT_TMP/in.txt"
timeout 15 kcat -b "$BOOTSTRAP" -P -t tx -K: <"$KT_TMP/in.txt" || kt_fail "kcat produce failed"
kt_consume tx 200 15 -f '%s\n' | sort >"$KT_TMP/out.txt"
cut -d: -f2 "$KT_TMP/in.txt" | sort | diff - "$KT_TMP/out.txt" >/dev/null ||
    kt_fail "consumed values differ from produced ones"

# Same key, same partition.
kt_consume tx 200 15 -f '%k %p\n' | sort -u | awk '{print $1}' | uniq -d >"$KT_TMP/dup.txt"
[ ! -s "$KT_TMP/dup.txt" ] || kt_fail "a key landed on two partitions"

# Consumer group (balanced consumer, offsets committed to the mock coordinator).
n=$(timeout 30 kcat -b "$BOOTSTRAP" -G itgroup tx -o beginning -c 200 -q -f '%s\n' | wc -l || true)
[ "$n" = 200 ] || kt_fail "group consumer read $n of 200"

# Auto-created topic works too.
echo hello | timeout 10 kcat -b "$BOOTSTRAP" -P -t auto_created
[ "$(kt_consume auto_created 1 10)" = hello ] || kt_fail "auto-created topic round trip"

# A partition keeps more than librdkafka's mock does on its own (5 MiB, then the oldest
# records are dropped): 12 MB produced before anyone reads, all of it read back - on a
# declared topic and on an auto-created one (raised by the broker's once-a-second check).
awk 'BEGIN { for (i = 0; i < 60000; i++) printf "%06d-%0194d\n", i, 0 }' >"$KT_TMP/big.txt"
timeout 60 kcat -b "$BOOTSTRAP" -P -t other <"$KT_TMP/big.txt" || kt_fail "kcat produce (12 MB) failed"
[ "$(kt_count other 60)" = 60000 ] || kt_fail "topic other kept $(kt_count other 60) of 60000 records"
echo warm | timeout 10 kcat -b "$BOOTSTRAP" -P -t auto_big
sleep 2.5
timeout 60 kcat -b "$BOOTSTRAP" -P -t auto_big -p 0 <"$KT_TMP/big.txt" || kt_fail "kcat produce to auto_big failed"
n=$(timeout 60 kcat -b "$BOOTSTRAP" -C -t auto_big -p 0 -o beginning -e -q -f 'x\n' | wc -l)
[ "$n" -ge 60000 ] || kt_fail "auto-created partition kept $n of 60000+ records"

# Bad usage exits 1.
rc=0; "$VG_BIN/vigil-broker" --topic ":x" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || kt_fail "bad --topic exited $rc, want 1"

kill -TERM "$BROKER_PID"
kt_wait_exit "$BROKER_PID" 5
[ "$KT_RC" = 0 ] || kt_fail "vigil-broker exited $KT_RC after SIGTERM"

# --retain-sets N: a partition keeps only its newest N message sets (one per produce batch
# here: one record per kcat run), the newest among them.
rc=0; "$VG_BIN/vigil-broker" --retain-sets 0 >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || kt_fail "--retain-sets 0 exited $rc, want 1"
kt_start_broker --retain-sets 5 --topic short:1
for i in $(seq 1 20); do
    echo "set-$i" | timeout 10 kcat -b "$BOOTSTRAP" -P -t short -p 0 || kt_fail "kcat produce $i failed"
done
timeout 20 kcat -b "$BOOTSTRAP" -C -t short -p 0 -o beginning -e -q -f '%s\n' >"$KT_TMP/short.txt" ||
    kt_fail "kcat could not read topic short"
kept=$(wc -l <"$KT_TMP/short.txt")
{ [ "$kept" -ge 1 ] && [ "$kept" -le 5 ]; } || kt_fail "--retain-sets 5 kept $kept of 20 sets"
[ "$(tail -n 1 "$KT_TMP/short.txt")" = set-20 ] || kt_fail "--retain-sets 5 lost the newest set"
kill -TERM "$BROKER_PID"
kt_wait_exit "$BROKER_PID" 5
echo "PASS test_kafka_broker"
