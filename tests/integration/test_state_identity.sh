#!/usr/bin/env bash
# test_state_identity.sh - a checkpoint belongs to one input (issue 25 item 1, contract 2 and 7):
# a replay with the service's config never reads or writes the service's state.dir; a replay
# pointed at it with --state-dir, or at another file's state, is refused with one line and
# exit 1, nothing in the directory touched; a Kafka start on a replay's state, or with another
# group, is refused likewise; the service itself restores its own checkpoint.
source "$(dirname "$0")/kafka_lib.sh"
VIGILD=$VG_BIN/vigild

kt_gen_input "$KT_TMP/in.ndjson" 3000 7
kt_replay "$KT_TMP/in.ndjson" "$KT_TMP/ref"
sum_dir() { (cd "$1" && ls -la --time-style=+%s.%N | grep -v " \.\.$" && md5sum ./*) 2>/dev/null; }
one_line_refusal() { # LOG WORDS : exactly one error line, saying WORDS
    [ "$(grep -c . "$1")" -ge 1 ] || kt_fail "no message in $1"
    grep -q "$2" "$1" || kt_fail "refusal does not say '$2': $(cat "$1")"
    [ "$(grep -c "$2" "$1")" = 1 ] || kt_fail "refusal not one line: $(cat "$1")"
}

# The service: Kafka with state.dir, stopped after a checkpoint.
kt_start_broker --topic transactions:2 --topic transactions.dead_letter:1 --topic alerts:1
kt_write_config "$KT_TMP/svc.yaml" svc alerts false
printf 'state:\n  dir: %s/svc_state\n  interval: 1s\n' "$KT_TMP" >>"$KT_TMP/svc.yaml"
timeout 20 kcat -b "$BOOTSTRAP" -P -t transactions -T <"$KT_TMP/in.ndjson" >/dev/null
kt_start_vigild "$KT_TMP/svc.yaml" svc1
kt_wait_log svc1 'event=checkpoint_written' 40
kt_wait_count alerts 100 40
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 30
[ "$KT_RC" = 0 ] || kt_fail "service exited $KT_RC"
before=$(sum_dir "$KT_TMP/svc_state")
[ -n "$before" ] || kt_fail "the service wrote no checkpoint"

# 1. A replay with the service's config: the state.dir is neither read nor written, the
#    alerts are those of a stateless replay.
"$VIGILD" -c "$KT_TMP/svc.yaml" --input "$KT_TMP/in.ndjson" --output "$KT_TMP/r1.alerts" 2>"$KT_TMP/r1.log" ||
    kt_fail "replay with the service config failed: $(cat "$KT_TMP/r1.log")"
grep -q 'event=replay_stateless' "$KT_TMP/r1.log" || kt_fail "no replay_stateless notice"
! grep -q checkpoint_restored "$KT_TMP/r1.log" || kt_fail "a replay restored the service's checkpoint"
[ "$(sum_dir "$KT_TMP/svc_state")" = "$before" ] || kt_fail "a replay changed the service's state.dir"
diff <(kt_alert_ids <"$KT_TMP/ref.alerts" | sort) <(kt_alert_ids <"$KT_TMP/r1.alerts" | sort) >/dev/null ||
    kt_fail "replay with the service config gave other alerts than a plain replay"
printf 'input:\n  kind: file\n  file: %s\noutput:\n  file: %s\nstate:\n  dir: %s\n' "$KT_TMP/in.ndjson" \
    "$KT_TMP/r1b.alerts" "$KT_TMP/file_state" >"$KT_TMP/filemode.yaml"
"$VIGILD" -c "$KT_TMP/filemode.yaml" 2>"$KT_TMP/r1b.log" || kt_fail "input.kind: file replay failed"
[ ! -e "$KT_TMP/file_state" ] || kt_fail "an input.kind: file replay used state.dir without --state-dir"
echo "1. service config replay: stateless, state.dir untouched ($(wc -l <"$KT_TMP/r1.alerts") alerts)"

# 2. --state-dir pointing at the service's directory: refused, exit 1, untouched.
rc=0
"$VIGILD" -c "$KT_TMP/svc.yaml" --input "$KT_TMP/in.ndjson" --state-dir "$KT_TMP/svc_state" \
    --output "$KT_TMP/r2.alerts" 2>"$KT_TMP/r2.log" || rc=$?
[ "$rc" = 1 ] || kt_fail "replay on the service's state exited $rc, want 1: $(cat "$KT_TMP/r2.log")"
one_line_refusal "$KT_TMP/r2.log" 'belongs to a Kafka input'
[ "$(sum_dir "$KT_TMP/svc_state")" = "$before" ] || kt_fail "a refused replay changed the service's state.dir"
echo "2. replay on the service's state.dir: refused ($(grep -o 'state.dir .*' "$KT_TMP/r2.log" | cut -c1-100)...)"

# 3. Replay state is per file: another file, or the same path rewritten, is refused.
head -n 1000 "$KT_TMP/in.ndjson" >"$KT_TMP/a.ndjson"
tail -n 1000 "$KT_TMP/in.ndjson" >"$KT_TMP/b.ndjson"
"$VIGILD" --input "$KT_TMP/a.ndjson" --state-dir "$KT_TMP/rs" --output /dev/null 2>"$KT_TMP/r3a.log" ||
    kt_fail "replay with a fresh --state-dir failed: $(cat "$KT_TMP/r3a.log")"
ls "$KT_TMP/rs"/checkpoint.*.vgc >/dev/null || kt_fail "no checkpoint in --state-dir"
rs_before=$(sum_dir "$KT_TMP/rs")
rc=0
"$VIGILD" --input "$KT_TMP/b.ndjson" --state-dir "$KT_TMP/rs" --output /dev/null 2>"$KT_TMP/r3b.log" || rc=$?
[ "$rc" = 1 ] || kt_fail "replay of another file on a file's state exited $rc, want 1"
one_line_refusal "$KT_TMP/r3b.log" 'belongs to another input'
cp "$KT_TMP/b.ndjson" "$KT_TMP/a.ndjson" # same path, other content
rc=0
"$VIGILD" --input "$KT_TMP/a.ndjson" --state-dir "$KT_TMP/rs" --output /dev/null 2>"$KT_TMP/r3c.log" || rc=$?
[ "$rc" = 1 ] || kt_fail "replay of a rewritten file on its old state exited $rc, want 1"
one_line_refusal "$KT_TMP/r3c.log" 'earlier content'
[ "$(sum_dir "$KT_TMP/rs")" = "$rs_before" ] || kt_fail "refused replays changed --state-dir"
echo "3. replay state of another file / rewritten file: refused"

# 4. Kafka on a replay's state, or with another group on the service's: refused, exit 1.
kt_write_config "$KT_TMP/k4.yaml" svc alerts false
printf 'state:\n  dir: %s/rs\n' "$KT_TMP" >>"$KT_TMP/k4.yaml"
rc=0
timeout 30 "$VIGILD" -c "$KT_TMP/k4.yaml" >/dev/null 2>"$KT_TMP/k4.log" || rc=$?
[ "$rc" = 1 ] || kt_fail "Kafka on a replay's state exited $rc, want 1: $(cat "$KT_TMP/k4.log")"
grep -q 'belongs to a replay' "$KT_TMP/k4.log" || kt_fail "no reason: $(cat "$KT_TMP/k4.log")"
kt_write_config "$KT_TMP/k5.yaml" othergroup alerts false
printf 'state:\n  dir: %s/svc_state\n' "$KT_TMP" >>"$KT_TMP/k5.yaml"
rc=0
timeout 30 "$VIGILD" -c "$KT_TMP/k5.yaml" >/dev/null 2>"$KT_TMP/k5.log" || rc=$?
[ "$rc" = 1 ] || kt_fail "Kafka with another group on the service's state exited $rc, want 1"
grep -q 'belongs to another Kafka input' "$KT_TMP/k5.log" || kt_fail "no reason: $(cat "$KT_TMP/k5.log")"
[ "$(sum_dir "$KT_TMP/svc_state")" = "$before" ] || kt_fail "a refused Kafka start changed the state.dir"
[ "$(sum_dir "$KT_TMP/rs")" = "$rs_before" ] || kt_fail "a refused Kafka start changed the replay's state"
echo "4. Kafka on a replay's state / another group: refused"

# 5. The service restores its own checkpoint.
kt_start_vigild "$KT_TMP/svc.yaml" svc2
kt_wait_log svc2 'event=checkpoint_restored' 30
kt_wait_log svc2 'event=kafka_assigned' 30
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 30
[ "$KT_RC" = 0 ] || kt_fail "service restart exited $KT_RC"
! grep -q 'checkpoint_unverified\|state_position' "$KT_TMP/svc2.log" || kt_fail "own checkpoint not recognised"
echo "PASS test_state_identity"
