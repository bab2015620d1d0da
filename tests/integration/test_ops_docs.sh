#!/usr/bin/env bash
# test_ops_docs.sh - docs a user can follow from a clone (issue 25 item 7): the README links
# the project's own interface doc (not a file outside the repository) and every relative link
# resolves; one metrics port across the examples; the unit's Documentation= names files
# deploy/README.md installs; every metric a running vigild serves is documented in
# deploy/README.md and docs/INTERFACE.md and shown by the Grafana dashboard; the alerting rules are valid (promtool when
# installed) and use only served metrics; deploy/README.md installs a Release build and
# lists, for the production host, the runtime packages vigild links against and no -dev one.
set -euo pipefail
: "${VG_BIN:?VG_BIN must point at build/bin}"
: "${VG_SRC:?VG_SRC must point at the repository root}"
T=$(mktemp -d "${TMPDIR:-/tmp}/vg-docs-test.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$VG_SRC"
DEPLOY=deploy/README.md
IFACE=docs/INTERFACE.md

grep -q '](docs/INTERFACE.md)' README.md || fail "README does not link docs/INTERFACE.md"
! grep -q 'shared/CONTRACT' README.md docs/*.md deploy/README.md || fail "a doc links the contract outside the repository"
python3 - README.md "$IFACE" "$DEPLOY" docs/ARCHITECTURE.md <<'PY' || fail "broken relative links"
import os, re, sys
bad = []
for doc in sys.argv[1:]:
    for target in re.findall(r'\]\(([^)\s]+)\)', open(doc).read()):
        if re.match(r'[a-z]+:', target) or target.startswith('#'):
            continue
        path = os.path.normpath(os.path.join(os.path.dirname(doc), target.split('#')[0]))
        if not os.path.exists(path):
            bad.append(f"{doc}: {target}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
echo "links: ok"

# One metrics port (9092 is Kafka's).
ports=$(grep -ohE '(listen|targets|127\.0\.0\.1|localhost|vigil-host)[^ ]*:9[0-9]{3}\b' README.md "$IFACE" "$DEPLOY" deploy/vigil.yaml |
    grep -oE '9[0-9]{3}$' | grep -v 9092 | sort -u)
[ "$ports" = 9464 ] || fail "metrics ports in the examples: $(echo $ports)"

# The unit's documentation is installed by deploy/README.md.
for url in $(sed -n 's/^Documentation=//p' deploy/vigil.service); do
    case "$url" in
    file:///usr/local/share/doc/vigil/*) grep -qF "${url#file://}" "$DEPLOY" || fail "$url is not installed by $DEPLOY" ;;
    http*) ;;
    *) fail "Documentation=$url is neither installed nor a web page" ;;
    esac
done

# Release build, runtime-only packages for the production host.
grep -q 'CMAKE_BUILD_TYPE=Release' "$DEPLOY" || fail "$DEPLOY does not build Release"
grep -q 'build-release/bin/vigild /usr/local/bin/vigild' "$DEPLOY" || fail "$DEPLOY does not install the Release binary"
runtime=$(grep -E '^apt-get install librdkafka1 ' "$DEPLOY") || fail "no runtime package line in $DEPLOY"
! echo "$runtime" | grep -q -- '-dev' || fail "runtime line installs -dev packages: $runtime"
for lib in rdkafka uring xxhash yaml microhttpd systemd icuuc xml2; do
    path=$(ldd "$VG_BIN/vigild" | awk -v l="lib$lib" 'index($1, l) == 1 {print $3; exit}')
    [ -n "$path" ] || fail "vigild does not link lib$lib?"
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -z "$pkg" ] || echo "$runtime" | grep -qw -- "$pkg" || fail "runtime line lacks $pkg (for lib$lib)"
done
echo "deploy: Release build, runtime packages, documentation installed: ok"

# Every metric served (Kafka mode, the development broker) is documented.
printf 'kafka:\n  brokers: embedded\nmetrics:\n  listen: "127.0.0.1:0"\n' >"$T/cfg.yaml"
"$VG_BIN/vigild" -c "$T/cfg.yaml" >/dev/null 2>"$T/run.log" &
PID=$!
for i in $(seq 200); do grep -q 'event=kafka_started' "$T/run.log" && break; sleep 0.1; done
port=$(sed -nE 's/.*event=metrics_listening .*port=([0-9]+).*/\1/p' "$T/run.log")
[ -n "$port" ] || fail "no metrics port"
curl -fsS "http://127.0.0.1:$port/metrics" >"$T/metrics" || fail "no /metrics"
kill -TERM "$PID"
wait "$PID" || true
PID=
sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$T/metrics" | sort -u >"$T/families"
[ "$(wc -l <"$T/families")" -ge 10 ] || fail "too few metric families: $(cat "$T/families")"
while read -r m; do
    grep -q "\`$m\`" "$DEPLOY" || fail "$m is served but not in $DEPLOY"
    grep -q "\`$m" "$IFACE" || fail "$m is served but not in $IFACE"
    grep -q "$m" deploy/grafana-dashboard.json || fail "$m is served but no dashboard panel shows it"
done <"$T/families"
echo "metrics: $(wc -l <"$T/families") families, all documented"

# The alerting rules.
awk '/^```yaml$/ {grab = 0} /^groups:$/ {grab = 1} grab && /^```$/ {exit} grab' "$DEPLOY" >"$T/rules.yml"
grep -q 'expr:' "$T/rules.yml" || fail "no alerting rules in $DEPLOY"
python3 - "$T/rules.yml" "$T/families" <<'PY' || fail "alerting rules"
import re, sys
text = open(sys.argv[1]).read()
served = set(open(sys.argv[2]).read().split())
for expr in re.findall(r'expr: (.*)', text):
    assert expr.count('(') == expr.count(')'), expr
    assert not re.search(r'\bfor \d', expr), "'for' belongs to the rule, not the expression: " + expr
    for m in re.findall(r'\b(vigil_[a-z_]+)', expr):
        fam = re.sub(r'_(bucket|sum|count)$', '', m)
        assert m in served or fam in served, f"{m} is not served: {expr}"
PY
if command -v promtool >/dev/null; then
    promtool check rules "$T/rules.yml" || fail "promtool refuses the alerting rules"
    echo "alerting rules: promtool check rules ok"
else
    echo "alerting rules: structure and metrics ok (promtool not installed: Debian's prometheus package)"
fi
echo "PASS test_ops_docs"
