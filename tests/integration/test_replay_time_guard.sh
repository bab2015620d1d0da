#!/usr/bin/env bash
# test_replay_time_guard.sh - one bad timestamp must not blind the monitor (engine.max_time_jump,
# engine/time_guard.c): the stream with 1, 10 and 100 records dated far in the future at
# random places gives the replay's alerts for every other account, counted as future in
# /metrics' counter and logged; and a stream with a real three-month gap (a backfill) gives
# the same alerts as its two halves replayed one after the other.
source "$(dirname "$0")/kafka_lib.sh"
kt_event_time_stream "$KT_TMP/in.ndjson"
total=$(wc -l <"$KT_TMP/in.ndjson")
kt_replay "$KT_TMP/in.ndjson" "$KT_TMP/ref"
kt_alert_ids <"$KT_TMP/ref.alerts" | sort -u >"$KT_TMP/ref.ids"
want=$(wc -l <"$KT_TMP/ref.ids")
[ "$want" -gt 80 ] || kt_fail "reference too weak: $want alerts"

for n in 1 10 100; do
    # Far-future records between "ghost" accounts, some large enough for the graph stage,
    # dated 2099 or later at random.
    awk -v total="$total" -v n="$n" -v seed="$n" 'BEGIN { srand(seed); for (k = 0; k < n; k++) at[1 + int(rand() * total)]++ }
        { print } (NR in at) { for (k = 0; k < at[NR]; k++) printf "{\"id\":\"f%d_%d\",\"ts\":%.0f,\"from\":\"ghost%d\",\"to\":\"ghost%d\",\"amount\":%s,\"currency\":\"USD\"}\n", NR, k, 4070908800000 + int(rand() * 1e10), int(rand() * 5), 5 + int(rand() * 5), (rand() < 0.5 ? "15000" : "40") }' \
        "$KT_TMP/in.ndjson" >"$KT_TMP/future$n.ndjson"
    [ "$(grep -c '"id":"f' "$KT_TMP/future$n.ndjson")" = "$n" ] || kt_fail "$n future records not placed"
    kt_replay "$KT_TMP/future$n.ndjson" "$KT_TMP/future$n"
    grep -v '"account":"ghost' "$KT_TMP/future$n.alerts" | kt_alert_ids | sort -u >"$KT_TMP/future$n.ids"
    diff "$KT_TMP/ref.ids" "$KT_TMP/future$n.ids" >"$KT_TMP/future$n.diff" ||
        kt_fail "$n far-future records changed the others' alerts ($(grep -c '^<' "$KT_TMP/future$n.diff") missing, $(grep -c '^>' "$KT_TMP/future$n.diff") extra of $want)"
    grep -q 'event=replay_done.* late=0 ' "$KT_TMP/future$n.log" || kt_fail "$n far-future records made records late: $(grep replay_done "$KT_TMP/future$n.log")"
    grep -q 'event=future_record' "$KT_TMP/future$n.log" || kt_fail "far-future records not logged"
    echo "ok: $n far-future records, the other accounts' $want alert ids unchanged, nothing late"
done

# A backfill with a three-month gap: the second half is the same stream 300 days later (its
# ~200 days, then ~100 days of nothing), on
# its own accounts. Confirmed as a genuine jump after a few records, with the same alerts.
awk '{ match($0, /"ts":[0-9]+/); ts = substr($0, RSTART + 5, RLENGTH - 5) + 25920000000
       sub(/"ts":[0-9]+/, sprintf("\"ts\":%.0f", ts)); sub(/"id":"/, "\"id\":\"b-"); sub(/"from":"/, "\"from\":\"b-"); sub(/"to":"/, "\"to\":\"b-"); print }' \
    "$KT_TMP/in.ndjson" >"$KT_TMP/second.ndjson"
kt_replay "$KT_TMP/second.ndjson" "$KT_TMP/second"
cat "$KT_TMP/in.ndjson" "$KT_TMP/second.ndjson" >"$KT_TMP/gap.ndjson"
kt_replay "$KT_TMP/gap.ndjson" "$KT_TMP/gap"
cat "$KT_TMP/ref.alerts" "$KT_TMP/second.alerts" | kt_alert_ids | sort -u >"$KT_TMP/halves.ids"
kt_alert_ids <"$KT_TMP/gap.alerts" | sort -u >"$KT_TMP/gap.ids"
diff "$KT_TMP/halves.ids" "$KT_TMP/gap.ids" >"$KT_TMP/gap.diff" ||
    kt_fail "the gap changed the alerts ($(grep -c '^<' "$KT_TMP/gap.diff") missing, $(grep -c '^>' "$KT_TMP/gap.diff") extra)"
grep -q 'event=time_jump_confirmed' "$KT_TMP/gap.log" || kt_fail "the jump was not confirmed"
grep -q 'event=replay_done.* late=0 ' "$KT_TMP/gap.log" || kt_fail "the gap made records late"
echo "ok: a three-month gap gives the two halves' $(wc -l <"$KT_TMP/gap.ids") alert ids"
