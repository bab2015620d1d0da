#!/usr/bin/env bash
# test_state_evidence.sh - alerts.evidence: full across a restart from state.dir (contract
# sections 4 and 7): alerts are rendered when they fire, from each stage's store of evidence
# objects, so the checkpoint carries that store. A replay stopped halfway and continued from
# its checkpoint (with another shard count) gives the same alerts, each with evidence equal
# to an uninterrupted run's, including alerts that fire after the restart on transactions
# read before it.
source "$(dirname "$0")/kafka_lib.sh"

T="$KT_TMP"
"$VG_BIN/vigil-gen" --format ndjson --out "$T/in.ndjson" --transactions 30000 --accounts 2000 --seed 5 \
    --patterns 1 --watchlist "$T/watchlist.txt" --quiet
config() { printf 'alerts:\n  evidence: full\nengine:\n  threads: %d\nrules:\n  watchlist: {file: %s}\n' "$1" \
    "$T/watchlist.txt" >"$2"; }
config 2 "$T/two.yaml"
config 3 "$T/three.yaml"
timeout 120 "$VG_BIN/vigild" -c "$T/two.yaml" --input "$T/in.ndjson" --output "$T/full.ndjson" 2>"$T/full.log" ||
    kt_fail "uninterrupted replay failed"
head -n 15000 "$T/in.ndjson" >"$T/grow.ndjson"
timeout 120 "$VG_BIN/vigild" -c "$T/two.yaml" --input "$T/grow.ndjson" --state-dir "$T/state" \
    --output "$T/part1.ndjson" 2>"$T/part1.log" || kt_fail "first half failed"
cat "$T/in.ndjson" >"$T/grow.ndjson" # the same input, continued
timeout 120 "$VG_BIN/vigild" -c "$T/three.yaml" --input "$T/grow.ndjson" --state-dir "$T/state" \
    --output "$T/part2.ndjson" 2>"$T/part2.log" || kt_fail "second half failed"
grep -qE 'event=checkpoint_restored .*evidence=[1-9]' "$T/part2.log" || kt_fail "no evidence restored: $(grep checkpoint "$T/part2.log")"
python3 - "$T" <<'PY' || kt_fail "evidence differs across the restart"
import json, sys
t = sys.argv[1]
def load(name):
    return {a["alert_id"]: a for a in map(json.loads, open(f"{t}/{name}"))}
full = load("full.ndjson")
parts = load("part1.ndjson")
after = load("part2.ndjson")
parts.update(after)
if set(full) != set(parts):
    sys.exit(f"alert ids differ: {len(full)} uninterrupted, {len(parts)} across the restart")
before_ids = {json.loads(l)["id"] for l in open(f"{t}/in.ndjson").readlines()[:15000]}
spanning = 0
for k, a in full.items():
    if a["evidence"] != parts[k]["evidence"]:
        sys.exit(f"{a['rule']} alert {k}: evidence differs: {parts[k]['evidence'][:2]}... vs {a['evidence'][:2]}...")
    if any(len(e) == 1 for e in a["evidence"]):
        sys.exit(f"{a['rule']} alert {k}: an evidence object without its transaction")
    if k in after and any(e["id"] in before_ids for e in a["evidence"]):
        spanning += 1
if spanning == 0:
    sys.exit("no alert after the restart uses a transaction from before it: the test proves nothing")
print(f"ok: {len(full)} alerts, {spanning} after the restart with evidence from before it, all equal")
PY
