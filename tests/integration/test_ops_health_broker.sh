#!/usr/bin/env bash
# test_ops_health_broker.sh - a lost broker shows within seconds (issue 25 item 3,
# deploy/README.md "Health"): with the broker stopped (SIGSTOP: connections stay up, nothing
# answers) /healthz turns 503 and WATCHDOG=1 stops within the documented ~5 s (asserted with
# a margin: 12 s, far below the ~45 s of a group session timeout), then 200 and pings again
# after SIGCONT; with the broker killed, 503 again. systemd is played by a Python datagram
# socket (NOTIFY_SOCKET, WATCHDOG_USEC).
source "$(dirname "$0")/kafka_lib.sh"

BOUND=12
kt_start_broker --topic transactions:2 --topic alerts:1 --topic transactions.dead_letter:1
MPORT=$(kt_free_port)
kt_write_config "$KT_TMP/h.yaml" healthgroup alerts false
printf 'metrics:\n  listen: "127.0.0.1:%s"\n' "$MPORT" >>"$KT_TMP/h.yaml"

python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        for line in s.recv(4096).decode().split("\n"):
            if line:
                f.write("%.3f %s\n" % (time.monotonic(), line))
' "$KT_TMP/notify.sock" "$KT_TMP/notify.txt" &
KT_PIDS+=("$!")
for _ in $(seq 50); do [ -S "$KT_TMP/notify.sock" ] && break; sleep 0.1; done

NOTIFY_SOCKET="$KT_TMP/notify.sock" WATCHDOG_USEC=1000000 kt_start_vigild "$KT_TMP/h.yaml" h

# health_code : /healthz status now ("none" when nothing answers).
health_code() {
    local reply
    reply=$(kt_http_get "$MPORT" /healthz 2>/dev/null) || reply=none
    printf '%s\n' "${reply%%$'\n'*}"
}
# wait_health CODE SECONDS : prints how many ms it took; fails after SECONDS.
wait_health() {
    local start i
    start=$(date +%s%N)
    for i in $(seq $(($2 * 10))); do
        if [ "$(health_code)" = "$1" ]; then
            echo $((($(date +%s%N) - start) / 1000000))
            return 0
        fi
        sleep 0.1
    done
    kt_fail "/healthz is $(health_code) after ${2}s, want $1"
}
pings() { grep -c 'WATCHDOG=1' "$KT_TMP/notify.txt" || true; }

ms=$(wait_health 200 30)
echo "$(date +%T.%N) healthy after $ms ms"
grep -q 'READY=1' "$KT_TMP/notify.txt" || kt_fail "no READY=1 while /healthz is 200"
sleep 1.5
[ "$(pings)" -gt 0 ] || kt_fail "no WATCHDOG=1 while healthy"

# 1. Broker stopped: unreachable although every TCP connection stays up.
echo "$(date +%T.%N) SIGSTOP"
kill -STOP "$BROKER_PID"
ms=$(wait_health 503 "$BOUND")
kt_http_get "$MPORT" /healthz | grep -q 'unreachable' || kt_fail "/healthz 503 does not say the broker is unreachable"
sleep 1.2 # a ping already on its way when the verdict changed
before=$(pings)
sleep 2.5
[ "$(pings)" = "$before" ] || kt_fail "WATCHDOG=1 still sent while the broker is stopped"
echo "broker stopped: /healthz 503 after $ms ms, WATCHDOG=1 withheld"

kill -CONT "$BROKER_PID"
ms=$(wait_health 200 "$BOUND")
before=$(pings)
sleep 2.5
[ "$(pings)" -gt "$before" ] || kt_fail "no WATCHDOG=1 after the broker came back"
echo "broker continued: /healthz 200 after $ms ms, pings again"

# 2. Broker killed: connections refused.
kill -KILL "$BROKER_PID"
ms=$(wait_health 503 "$BOUND")
echo "broker killed: /healthz 503 after $ms ms"
grep -q 'event=kafka_unreachable' "$KT_TMP/h.log" || kt_fail "no event=kafka_unreachable logged"

# The stop stays bounded with nobody answering (engine.shutdown_timeout, default 20 s).
kill -TERM "$VIGILD_PID"
kt_wait_exit "$VIGILD_PID" 30
echo "ok: /healthz and the watchdog follow the broker"
