#!/usr/bin/env bash
# test_state_restart.sh - state.dir checkpoints end to end (contract 7 "State"): (a) replay
# with --state-dir: a fan_in whose senders are split over two halves of a file fires when the
# file, grown by its second half, is replayed again (the same input continued), and a restart
# on the unchanged file skips what the checkpoint covers; (b) Kafka: kill -9 halfway through
# a stream with patterns spanning the kill, restart, finish: no expected alert is lost;
# (c) SIGHUP with a changed watchlist while vigild replays a FIFO: new entries alert from then
# on and a fan_in straddling the reload still fires; (d) replay from a FIFO: the checkpoint a
# forked child writes mid-stream is the one a restart after kill -9 resumes from, and files a
# crash left behind are removed on start.
source "$(dirname "$0")/kafka_lib.sh"

T0=1704067200000
txn() { # id ts_offset_min from to amount
    printf '{"id":"%s","ts":%d,"from":"%s","to":"%s","amount":"%s","currency":"USD"}\n' \
        "$1" $((T0 + $2 * 60000)) "$3" "$4" "$5"
}
count() { grep -c "\"rule\":\"$1\",\"account\":\"$2\"" "$3" || true; }

# ---- (a) replay across a restart ------------------------------------------------------------
A=$KT_TMP/a
mkdir -p "$A"
for i in 1 2 3 4; do txn "p1_$i" $((i * 60)) "S$i" HUB 1000; done >"$A/in.ndjson"
"$VIGILD" --input "$A/in.ndjson" --state-dir "$A/state" --output "$A/alerts1" 2>"$A/run1.log" ||
    kt_fail "replay part 1 failed"
[ "$(count fan_in HUB "$A/alerts1")" = 0 ] || kt_fail "(a) fan_in fired on half a pattern"
ls "$A/state"/checkpoint.*.vgc >/dev/null 2>&1 || kt_fail "(a) no checkpoint written"
touch "$A/state/checkpoint.tmp" "$A/state/checkpoint.3.pending" # a crash mid-write left these
for i in 5 6 7 8; do txn "p2_$i" $((i * 60)) "S$i" HUB 1000; done >>"$A/in.ndjson" # the file grows
"$VIGILD" --input "$A/in.ndjson" --state-dir "$A/state" --output "$A/alerts2" 2>"$A/run2.log" ||
    kt_fail "replay part 2 failed"
[ "$(grep -c checkpoint_stale_removed "$A/run2.log")" = 2 ] || kt_fail "(a) leftovers not removed: $(cat "$A/run2.log")"
! ls "$A/state" | grep -qv '^checkpoint\.[0-9]*\.vgc$' || kt_fail "(a) stray files in state.dir: $(ls "$A/state")"
grep -q checkpoint_restored "$A/run2.log" || kt_fail "(a) state not restored: $(cat "$A/run2.log")"
grep -q 'skip_lines=4' "$A/run2.log" || kt_fail "(a) the grown file was not continued: $(cat "$A/run2.log")"
[ "$(count fan_in HUB "$A/alerts2")" = 1 ] || kt_fail "(a) fan_in spanning the restart did not fire"

# Same file again after a complete run: everything is covered, nothing is re-analysed.
"$VIGILD" --input "$A/in.ndjson" --state-dir "$A/state" --output "$A/alerts3" 2>"$A/run3.log" ||
    kt_fail "replay part 2 (again) failed"
grep -q 'skip_lines=8' "$A/run3.log" || kt_fail "(a) same input not skipped: $(cat "$A/run3.log")"
[ ! -s "$A/alerts3" ] || kt_fail "(a) a restart on the same file repeated alerts"
echo "(a) replay restart: ok"

# ---- (b) Kafka: kill -9 halfway, restart, finish --------------------------------------------
kt_gen_input "$KT_TMP/base.ndjson" 6000 23
# Patterns spanning the whole stream: a fan_in sender (into HUBK) and a structuring-free
# mid-size transfer every 300 records (5 h of event time), so any kill point splits them.
awk 'BEGIN { t0 = 1661990400000 }
     { print }
     NR % 300 == 0 { k++; printf "{\"id\":\"fk%d\",\"ts\":%.0f,\"from\":\"FS%d\",\"to\":\"HUBK\",\"amount\":\"900\",\"currency\":\"USD\"}\n", k, t0 + NR * 60000, k }' \
    "$KT_TMP/base.ndjson" >"$KT_TMP/in.ndjson"
kt_replay "$KT_TMP/in.ndjson" "$KT_TMP/ref"
kt_rule_account <"$KT_TMP/ref.alerts" | sort -u >"$KT_TMP/ref.keys"
grep -q '^fan_in HUBK$' "$KT_TMP/ref.keys" || kt_fail "(b) the reference has no fan_in HUBK"

kt_start_broker --topic transactions:1 --topic transactions.dead_letter:1 --topic alerts_s:1
kt_write_config "$KT_TMP/s.yaml" group_s alerts_s false
printf 'state:\n  dir: %s/kstate\n  interval: 1s\n' "$KT_TMP" >>"$KT_TMP/s.yaml"
kt_start_vigild "$KT_TMP/s.yaml" s1
# A live stream of ~10 s: 200 records every 0.3 s.
(
    split -l 200 "$KT_TMP/in.ndjson" "$KT_TMP/part."
    for c in "$KT_TMP"/part.*; do
        timeout 10 kcat -b "$BOOTSTRAP" -P -t transactions -T <"$c" >/dev/null
        sleep 0.3
    done
) &
FEED_PID=$!
KT_PIDS+=("$FEED_PID")
# Halfway: a third of the alerts out, then one more checkpoint on disk; kill right after it.
ref_n=$(wc -l <"$KT_TMP/ref.alerts")
kt_wait_count alerts_s $((ref_n / 3)) 60
w=$(grep -c checkpoint_written "$KT_TMP/s1.log" || true)
for i in $(seq 100); do
    [ "$(grep -c checkpoint_written "$KT_TMP/s1.log" || true)" -gt "$w" ] && break
    sleep 0.05
done
grep -E "state_seek|checkpoint_snapshot" "$KT_TMP/s1.log" | tail -1
grep -q 'event=checkpoint_snapshot mode=fork .*drain_ms=.*fork_ms=' "$KT_TMP/s1.log" ||
    kt_fail "(b) no forked checkpoint: $(grep checkpoint "$KT_TMP/s1.log")"
kill -KILL "$VIGILD_PID"
wait "$VIGILD_PID" 2>/dev/null || true
before=$(kt_count alerts_s 20)
kt_start_vigild "$KT_TMP/s.yaml" s2
kt_wait_log s2 'checkpoint_restored' 20
kt_wait_log s2 'kafka_assigned' 40 # after the killed member's session times out
wait "$FEED_PID" 2>/dev/null || true
# Finished when the output stops growing for 3 s.
last=-1
for i in $(seq 60); do
    n=$(kt_count alerts_s 20)
    [ "$n" = "$last" ] && break
    last=$n
    sleep 3
done
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 20
[ "$KT_RC" = 0 ] || kt_fail "(b) vigild exited $KT_RC"
! ls "$KT_TMP/kstate" | grep -q pending || kt_fail "(b) a held checkpoint left behind: $(ls "$KT_TMP/kstate")"
kt_topic_values alerts_s | kt_rule_account | sort -u >"$KT_TMP/got.keys"
comm -23 "$KT_TMP/ref.keys" "$KT_TMP/got.keys" >"$KT_TMP/missing.keys"
[ ! -s "$KT_TMP/missing.keys" ] ||
    kt_fail "(b) $(wc -l <"$KT_TMP/missing.keys") expected (rule, account) lost: $(head -5 "$KT_TMP/missing.keys" | tr '\n' ' ')"
echo "(b) kafka kill -9: ok ($before alerts before the kill, $(kt_count alerts_s 20) after; $(wc -l <"$KT_TMP/ref.keys") expected keys all present)"

# ---- (c) SIGHUP reloads the watchlist while state is kept --------------------------------------
C=$KT_TMP/c
mkdir -p "$C"
printf 'WL1\n' >"$C/watch.txt"
cat >"$C/cfg.yaml" <<YAML
rules:
  watchlist:
    file: watch.txt
YAML
mkfifo "$C/in.fifo"
"$VIGILD" -c "$C/cfg.yaml" --input - --output "$C/alerts" <"$C/in.fifo" 2>"$C/run.log" &
CPID=$!
KT_PIDS+=("$CPID")
exec 3>"$C/in.fifo"
{ for i in 1 2 3 4; do txn "c1_$i" $((i * 60)) "S$i" HUBC 1000; done
  txn c_wl1 300 WL1 X1 10
  txn c_wl2a 301 WL2 X2 10; } >&3
sleep 1
printf 'WL1\nWL2\n' >"$C/watch.txt"
kill -HUP "$CPID"
for i in $(seq 100); do grep -q 'event=reloaded' "$C/run.log" && break; sleep 0.05; done
grep -q 'event=reloaded' "$C/run.log" || kt_fail "(c) no reload logged: $(cat "$C/run.log")"
{ for i in 5 6 7 8; do txn "c2_$i" $((400 + i * 60)) "S$i" HUBC 1000; done
  txn c_wl2b 1000 WL2 X3 10; } >&3
exec 3>&-
kt_wait_exit "$CPID" 20
[ "$KT_RC" = 0 ] || kt_fail "(c) vigild exited $KT_RC: $(cat "$C/run.log")"
[ "$(count watchlist WL1 "$C/alerts")" -ge 1 ] || kt_fail "(c) WL1 (listed from the start) did not alert"
grep -q '"c_wl2b"' "$C/alerts" || kt_fail "(c) WL2 added by SIGHUP did not alert after the reload"
! grep -q '"c_wl2a"' "$C/alerts" || kt_fail "(c) WL2 alerted before it was listed"
[ "$(count fan_in HUBC "$C/alerts")" = 1 ] || kt_fail "(c) fan_in straddling the reload did not fire"
echo "(c) SIGHUP reload: ok"

# ---- (d) replay: a forked mid-stream checkpoint is what a kill -9 leaves -----------------------
D=$KT_TMP/d
mkdir -p "$D"
printf 'state:\n  interval: 1s\n' >"$D/cfg.yaml"
mkfifo "$D/in.fifo"
"$VIGILD" -c "$D/cfg.yaml" --input - --state-dir "$D/state" --output "$D/alerts1" <"$D/in.fifo" 2>"$D/run1.log" &
DPID=$!
KT_PIDS+=("$DPID")
exec 4>"$D/in.fifo"
for i in 1 2 3 4; do txn "d1_$i" $((i * 60)) "S$i" HUBD 1000; done >&4
# The stream stays open (no end of input, so no final checkpoint): only the periodic,
# forked one can hold these four senders.
snap='event=checkpoint_snapshot lines=4 mode=fork .*stall_ms=.*drain_ms=.*fork_ms='
written='event=checkpoint_written .*mode=fork .*encode_ms=.*write_ms='
for i in $(seq 100); do
    grep -q "$snap" "$D/run1.log" &&
        [ "$(grep -c "$written" "$D/run1.log")" = "$(grep -c checkpoint_snapshot "$D/run1.log")" ] && break
    sleep 0.1
done
grep -q "$snap" "$D/run1.log" || kt_fail "(d) no forked checkpoint of the four lines: $(cat "$D/run1.log")"
[ "$(grep -c "$written" "$D/run1.log")" = "$(grep -c checkpoint_snapshot "$D/run1.log")" ] ||
    kt_fail "(d) forked checkpoint not written: $(cat "$D/run1.log")"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
exec 4>&-
for i in 5 6 7 8; do txn "d2_$i" $((i * 60)) "S$i" HUBD 1000; done >"$D/part2.ndjson"
"$VIGILD" -c "$D/cfg.yaml" --input - --state-dir "$D/state" --output "$D/alerts2" <"$D/part2.ndjson" 2>"$D/run2.log" ||
    kt_fail "(d) restart failed: $(cat "$D/run2.log")"
grep -q 'checkpoint_restored.*next_seq=4 ' "$D/run2.log" || kt_fail "(d) not restored from the forked checkpoint: $(cat "$D/run2.log")"
[ "$(count fan_in HUBD "$D/alerts2")" = 1 ] || kt_fail "(d) fan_in spanning the kill -9 did not fire"
echo "(d) forked checkpoint survives kill -9: ok"
