#!/usr/bin/env bash
# setup.sh - installs the Debian 12 packages vigil needs (only the missing ones), then
# configures and builds into build/. Safe to run again: it does nothing that is done.
# Usage: deploy/setup.sh [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: compiler, cmake, pkg-config. Libraries: librdkafka (Kafka + mock cluster), liburing
# (checkpoint I/O), xxhash, libyaml (config with line numbers), libmicrohttpd (metrics),
# libsystemd (sd_notify), libicu (name transliteration for sanctions screening), libxml2 (the
# UN sanctions list XML; vigil-goaml's XSD validation). Tests: criterion, clang (libFuzzer), kcat (a real Kafka client).
# Bench: gnuplot for charts. Integration tests: curl (/metrics, /healthz).
packages=(build-essential cmake pkg-config librdkafka-dev liburing-dev libxxhash-dev
          libyaml-dev libmicrohttpd-dev libsystemd-dev libicu-dev libxml2-dev libcriterion-dev clang
          libclang-rt-14-dev kcat gnuplot-nox python3 curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j"$jobs" 2>&1 | grep -E "error|warning|Error" || true
test -x build/bin/vigild || { echo "setup: build failed (see cmake --build build)" >&2; exit 1; }
echo "setup: built build/bin/vigild" >&2
