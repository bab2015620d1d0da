#!/usr/bin/env python3
# metrics_watch.py - bench/run's probe of a running vigild's /metrics: waits until
# vigil_transactions_total reaches a target and reports the steady consumption rate, or
# summarises one scrape (alert latency histogram quantiles, budget cuts, tracked accounts).
#
#   metrics_watch.py wait URL TARGET TIMEOUT_S [SAVE_FILE]  -> "rate=R seconds=S first_ms=F window_records=W"
#   metrics_watch.py summary FILE [BASELINE]                -> "key=value ..." of one scrape; with
#       BASELINE (an earlier scrape) the latency quantiles cover only what happened in between
import re
import sys
import time
import urllib.request


def scrape(url):
    with urllib.request.urlopen(url, timeout=2) as r:
        return r.read().decode()


def value(text, name):
    """Sum of every sample of metric `name` (all label sets)."""
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
            found = True
    return total if found else None


def histogram_buckets(text, name):
    buckets = {}
    for line in text.splitlines():
        m = re.match(re.escape(name) + r'_bucket\{.*le="([^"]+)"\} (\S+)', line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            buckets[le] = float(m.group(2))
    return buckets


def histogram_quantiles(text, name, qs, baseline=None):
    buckets = histogram_buckets(text, name)
    base = histogram_buckets(baseline, name) if baseline else {}
    buckets = sorted((le, c - base.get(le, 0.0)) for le, c in buckets.items())
    if not buckets or buckets[-1][1] == 0:
        return {}
    total = buckets[-1][1]
    out = {}
    for q in qs:
        want, prev_le, prev_c = q * total, 0.0, 0.0
        for le, c in buckets:
            if c >= want:
                # Linear interpolation inside the bucket, as Prometheus' histogram_quantile.
                if le == float("inf"):
                    out[q] = prev_le
                else:
                    out[q] = prev_le + (le - prev_le) * ((want - prev_c) / (c - prev_c) if c > prev_c else 1)
                break
            prev_le, prev_c = le, c
    out["count"] = total
    return out


def wait(url, target, timeout, save):
    """Steady consumption rate: vigil_transactions_total sampled every ~10 ms, each sample
    stamped at the middle of its scrape. The window runs from the first sample above zero
    (group join and start-up excluded, as vigil-rawconsume excludes them) to the last sample
    below the target: the counter stops at the target, so the sample that reaches it says
    only that the end came somewhere since the previous one (up to a poll interval plus a
    scrape, ~10 % of a 0.3 s run), and ending the window there would understate the rate."""
    start = time.monotonic()
    first = None      # (time, count) of the first sample above zero
    last_below = None  # (time, count) of the newest sample still below the target
    text = ""
    while time.monotonic() - start < timeout:
        before = time.monotonic()
        try:
            text = scrape(url)
        except OSError:
            time.sleep(0.05)
            continue
        now = (before + time.monotonic()) / 2
        n = value(text, "vigil_transactions_total") or 0
        if n > 0 and first is None:
            first = (now, n)
        if n >= target:
            if save:
                # One more scrape a moment later, once the last alerts are handed off.
                time.sleep(0.3)
                try:
                    text = scrape(url)
                except OSError:
                    pass
                open(save, "w").write(text)
            end = last_below if last_below and last_below[0] > first[0] else (now, n)
            secs = end[0] - first[0]
            rate = (end[1] - first[1]) / secs if secs > 0 else 0
            print(f"rate={rate:.0f} seconds={secs:.4f} first_ms={(first[0] - start) * 1e3:.0f} "
                  f"window_records={end[1] - first[1]:.0f}")
            return 0
        if n > 0:
            last_below = (now, n)
        time.sleep(0.01)
    print(f"timeout transactions={value(text, 'vigil_transactions_total')}", file=sys.stderr)
    return 2


def summary(path, baseline_path=None):
    text = open(path).read()
    baseline = open(baseline_path).read() if baseline_path else None
    parts = []
    for metric, prefix in (("vigil_alert_latency_seconds", "engine_latency"),
                           ("vigil_alert_ack_latency_seconds", "ack_latency")):
        q = histogram_quantiles(text, metric, (0.5, 0.99, 0.999), baseline)
        for k, name in ((0.5, "p50"), (0.99, "p99"), (0.999, "p999")):
            if k in q:
                parts.append(f"{prefix}_{name}_ms={q[k] * 1e3:.3f}")
        if "count" in q:
            parts.append(f"{prefix}_count={q['count']:.0f}")
    for key, name in (("budget_cut", "vigil_graph_budget_cut_total"), ("accounts", "vigil_tracked_accounts"),
                      ("transactions", "vigil_transactions_total"), ("alerts", "vigil_alerts_total"),
                      ("state_bytes", "vigil_state_bytes")):
        v = value(text, name)
        if v is not None:
            parts.append(f"{key}={v:.0f}")
    print(" ".join(parts))
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "wait":
        sys.exit(wait(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else None))
    if len(sys.argv) in (3, 4) and sys.argv[1] == "summary":
        sys.exit(summary(sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None))
    print(__doc__ if __doc__ else "usage: see the file comment", file=sys.stderr)
    sys.exit(1)
