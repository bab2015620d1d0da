#!/usr/bin/env bash
# test_rule_audit.sh - the rules against an independent reference of the contract: every
# adversarial case of tests/audit/cases.py (thresholds and one micro-unit below, window
# edges, n vs n-1, conversions, late records, id and encoding edge cases, decoys) replayed
# through the real vigild and through tests/audit/ref_contract.py; any difference fails.
# One known limit is allowed (docs/RULES.md): dormant on a late record that is older than a
# newer activity of the same account (the store keeps no second-newest activity time).
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the source tree}"
exec python3 "$VG_SRC/tests/audit/run_audit.py" --vigild "$VG_BIN/vigild" --known do_late_waking
