/* test_metrics.c - the operations endpoint as Prometheus and a load balancer see it:
 * every contract metric family with HELP/TYPE, a label for every rule and dead-letter
 * reason, cumulative histogram buckets, lag per partition, /healthz 503 -> 200, 404s,
 * listen-address parsing, and counters that move with a real engine's traffic. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vigil/common.h"
#include "vigil/config.h"
#include "vigil/daemon.h"
#include "vigil/engine.h"
#include "vigil/metrics.h"
#include "vigil/rule.h"
#include "vigil/txn.h"

/* ---- a raw HTTP/1.0 client --------------------------------------------------------- */

struct http_reply {
    int status;
    char *raw;          /* whole response, NUL-terminated */
    const char *body;   /* into raw */
};

static struct http_reply http_request(int family, uint16_t port, const char *method, const char *path) {
    struct http_reply r = {0};
    int fd = socket(family, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    int rc;
    if (family == AF_INET6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        a.sin6_addr = in6addr_loopback;
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    }
    cr_assert_eq(rc, 0, "connect to port %u failed", port);
    char req[256];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, path);
    cr_assert_eq(write(fd, req, (size_t)n), n);
    size_t cap = 65536, len = 0;
    r.raw = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) r.raw = realloc(r.raw, cap *= 2);
        ssize_t got = read(fd, r.raw + len, cap - len - 1);
        if (got <= 0) break;
        len += (size_t)got;
    }
    close(fd);
    r.raw[len] = '\0';
    cr_assert(sscanf(r.raw, "HTTP/1.%*d %d", &r.status) == 1, "no status line in '%s'", r.raw);
    const char *sep = strstr(r.raw, "\r\n\r\n");
    cr_assert_not_null(sep);
    r.body = sep + 4;
    return r;
}

static bool has_header(const struct http_reply *r, const char *line) {
    size_t head_len = (size_t)(r->body - r->raw);
    for (const char *p = r->raw; p < r->raw + head_len; p = strstr(p, "\r\n") + 2) {
        if (strncasecmp(p, line, strlen(line)) == 0) return true;
        if (!strstr(p, "\r\n")) break;
    }
    return false;
}

/* ---- helpers over an exposition ----------------------------------------------------- */

/* True when text holds exactly this line. */
static bool has_line(const char *text, const char *line) {
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0')) return true;
    return false;
}

/* The value of the sample whose name-and-labels is exactly series; fails if absent. */
static double sample_value(const char *text, const char *series) {
    size_t n = strlen(series);
    for (const char *p = text; (p = strstr(p, series)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ') return strtod(p + n + 1, NULL);
    cr_assert_fail("no sample '%s'", series);
    return 0;
}

static void assert_family(const char *text, const char *name, const char *type) {
    char line[256];
    snprintf(line, sizeof line, "# TYPE %s %s", name, type);
    cr_assert(has_line(text, line), "missing '%s'", line);
    snprintf(line, sizeof line, "# HELP %s ", name);
    cr_assert_not_null(strstr(text, line), "missing HELP for %s", name);
}

/* Every sample line is "name{labels} value" or "name value", nothing else. */
static void assert_well_formed(const char *text) {
    cr_assert(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
        if (*p == '#') continue;
        cr_assert(p[0] == 'v', "sample not named vigil_*: %.60s", p);
        const char *sp = strchr(p, ' ');
        const char *nl = strchr(p, '\n');
        cr_assert(sp && sp < nl, "sample without value: %.60s", p);
        char *end;
        strtod(sp + 1, &end);
        cr_assert(end == nl, "bad value: %.60s", p);
    }
}

static const char *const counters[] = {
    "vigil_transactions_total", "vigil_alerts_total", "vigil_alerts_suppressed_total",
    "vigil_dead_letter_total", "vigil_late_total", "vigil_out_of_order_total",
    "vigil_graph_budget_cut_total", "vigil_scan_truncated_total", "vigil_events_total",
    "vigil_future_records_total", "vigil_merge_idle_releases_total", "vigil_merge_forced_total",
};
static const char *const gauges[] = {
    "vigil_up", "vigil_build_info", "vigil_consumer_lag", "vigil_tracked_accounts",
    "vigil_window_events", "vigil_state_bytes", "vigil_ring_occupancy", "vigil_ring_capacity",
    "vigil_graph_edges",
};

static void assert_all_families(const char *text) {
    for (size_t i = 0; i < VG_ARRAY_LEN(counters); i++) assert_family(text, counters[i], "counter");
    for (size_t i = 0; i < VG_ARRAY_LEN(gauges); i++) assert_family(text, gauges[i], "gauge");
    assert_family(text, "vigil_alert_latency_seconds", "histogram");
}

static char *render(struct vg_daemon *d, const struct vg_engine_stats *s) {
    size_t len = 0;
    char *text = vg_metrics_render(d, s, &len);
    cr_assert_not_null(text);
    cr_assert_eq(strlen(text), len);
    return text;
}

/* ---- rendering ------------------------------------------------------------------------ */

Test(metrics_render, every_family_rule_and_reason_at_zero_without_engine) {
    static struct vg_daemon d;
    char *text = render(&d, NULL);
    assert_well_formed(text);
    assert_all_families(text);
    cr_assert(has_line(text, "vigil_up 1"));
    cr_assert(has_line(text, "vigil_build_info{version=\"" VG_VERSION "\"} 1"));
    cr_assert(has_line(text, "vigil_transactions_total 0"));
    char series[128];
    for (int r = 0; r < VG_RULE_MAX; r++) {
        snprintf(series, sizeof series, "vigil_alerts_total{rule=\"%s\"} 0", vg_rule_registry[r]->name);
        cr_assert(has_line(text, series), "missing %s", series);
        snprintf(series, sizeof series, "vigil_alerts_suppressed_total{rule=\"%s\"} 0",
                 vg_rule_registry[r]->name);
        cr_assert(has_line(text, series), "missing %s", series);
    }
    for (int r = 1; r < VG_REASON_MAX; r++) {
        snprintf(series, sizeof series, "vigil_dead_letter_total{reason=\"%s\"} 0",
                 vg_reason_name((enum vg_reason)r));
        cr_assert(has_line(text, series), "missing %s", series);
    }
    cr_assert_null(strstr(text, "reason=\"none\""), "VG_REASON_NONE is not a reason");
    cr_assert(has_line(text, "vigil_alert_latency_seconds_bucket{le=\"+Inf\"} 0"));
    cr_assert(has_line(text, "vigil_alert_latency_seconds_count 0"));
    cr_assert(has_line(text, "vigil_alert_latency_seconds_sum 0.000000000"));
    cr_assert_null(strstr(text, "vigil_consumer_lag{"), "no partitions, no lag samples");
    free(text);
}

Test(metrics_render, counters_gauges_and_ring_from_stats) {
    static struct vg_daemon d;
    static struct vg_engine_stats s;
    s.transactions = 12345;
    s.events = 24690;
    s.alerts[VG_RULE_FAN_IN] = 7;
    s.suppressed[VG_RULE_LARGE_TX] = 3;
    s.dead_letter[VG_REASON_MISSING_FIELD] = 5;
    s.late = 11;
    s.out_of_order = 13;
    s.tracked_accounts = 900;
    s.window_events = 4000;
    s.state_bytes = 1u << 20;
    s.graph_edges = 77;
    s.graph_budget_cut = 2;
    s.scan_truncated = 4;
    s.shards = 3;
    s.ring_used[0] = 10;
    s.ring_used[1] = 0;
    s.ring_used[2] = 8192;
    s.ring_size = 8192;
    char *text = render(&d, &s);
    assert_well_formed(text);
    cr_assert_eq(sample_value(text, "vigil_transactions_total"), 12345);
    cr_assert_eq(sample_value(text, "vigil_events_total"), 24690);
    cr_assert_eq(sample_value(text, "vigil_alerts_total{rule=\"fan_in\"}"), 7);
    cr_assert_eq(sample_value(text, "vigil_alerts_total{rule=\"fan_out\"}"), 0);
    cr_assert_eq(sample_value(text, "vigil_alerts_suppressed_total{rule=\"large_tx\"}"), 3);
    cr_assert_eq(sample_value(text, "vigil_dead_letter_total{reason=\"missing_field\"}"), 5);
    cr_assert_eq(sample_value(text, "vigil_late_total"), 11);
    cr_assert_eq(sample_value(text, "vigil_out_of_order_total"), 13);
    cr_assert_eq(sample_value(text, "vigil_tracked_accounts"), 900);
    cr_assert_eq(sample_value(text, "vigil_window_events"), 4000);
    cr_assert_eq(sample_value(text, "vigil_state_bytes"), 1 << 20);
    cr_assert_eq(sample_value(text, "vigil_graph_edges"), 77);
    cr_assert_eq(sample_value(text, "vigil_graph_budget_cut_total"), 2);
    cr_assert_eq(sample_value(text, "vigil_scan_truncated_total"), 4);
    cr_assert_eq(sample_value(text, "vigil_ring_occupancy{shard=\"0\"}"), 10);
    cr_assert_eq(sample_value(text, "vigil_ring_occupancy{shard=\"1\"}"), 0);
    cr_assert_eq(sample_value(text, "vigil_ring_occupancy{shard=\"2\"}"), 8192);
    cr_assert_null(strstr(text, "shard=\"3\""), "only the running shards");
    cr_assert_eq(sample_value(text, "vigil_ring_capacity"), 8192);
    free(text);
}

Test(metrics_render, histogram_buckets_are_cumulative) {
    static struct vg_daemon d;
    static struct vg_engine_stats s;
    s.latency_count[0] = 1;                      /* <= 100 us */
    s.latency_count[3] = 2;                      /* <= 1 ms */
    s.latency_count[12] = 4;                     /* <= 1 s */
    s.latency_count[VG_LATENCY_BUCKETS - 1] = 5; /* > 1 s */
    s.latency_sum_ns = 7500000123ull;            /* 7.500000123 s */
    char *text = render(&d, &s);
    assert_well_formed(text);
    cr_assert(has_line(text, "vigil_alert_latency_seconds_bucket{le=\"0.0001\"} 1"));
    cr_assert(has_line(text, "vigil_alert_latency_seconds_bucket{le=\"0.00025\"} 1"));
    cr_assert(has_line(text, "vigil_alert_latency_seconds_bucket{le=\"0.001\"} 3"));
    cr_assert(has_line(text, "vigil_alert_latency_seconds_bucket{le=\"0.5\"} 3"));
    cr_assert(has_line(text, "vigil_alert_latency_seconds_bucket{le=\"1\"} 7"));
    cr_assert(has_line(text, "vigil_alert_latency_seconds_bucket{le=\"+Inf\"} 12"));
    cr_assert(has_line(text, "vigil_alert_latency_seconds_count 12"));
    cr_assert(has_line(text, "vigil_alert_latency_seconds_sum 7.500000123"));
    /* Every bound once, in increasing order, +Inf last. */
    const char *prev = text;
    for (size_t b = 0; b + 1 < VG_LATENCY_BUCKETS; b++) {
        char series[96];
        snprintf(series, sizeof series, "vigil_alert_latency_seconds_bucket{le=\"%g\"}", vg_latency_bounds_s[b]);
        const char *at = strstr(text, series);
        cr_assert(at && at > prev, "bucket %g missing or out of order", vg_latency_bounds_s[b]);
        prev = at;
        if (b > 0) cr_assert_gt(vg_latency_bounds_s[b], vg_latency_bounds_s[b - 1]);
    }
    cr_assert_gt(strstr(text, "le=\"+Inf\""), prev);
    free(text);
}

Test(metrics_render, ack_latency_comes_from_the_daemon) {
    static struct vg_daemon d;
    atomic_store(&d.ack_latency_count[4], 3);                      /* <= 2.5 ms */
    atomic_store(&d.ack_latency_count[VG_LATENCY_BUCKETS - 1], 1); /* > 1 s */
    atomic_store(&d.ack_latency_sum_ns, 2000000000ull);
    char *text = render(&d, NULL);
    assert_well_formed(text);
    assert_family(text, "vigil_alert_ack_latency_seconds", "histogram");
    cr_assert(has_line(text, "vigil_alert_ack_latency_seconds_bucket{le=\"0.001\"} 0"));
    cr_assert(has_line(text, "vigil_alert_ack_latency_seconds_bucket{le=\"0.0025\"} 3"));
    cr_assert(has_line(text, "vigil_alert_ack_latency_seconds_bucket{le=\"1\"} 3"));
    cr_assert(has_line(text, "vigil_alert_ack_latency_seconds_bucket{le=\"+Inf\"} 4"));
    cr_assert(has_line(text, "vigil_alert_ack_latency_seconds_count 4"));
    cr_assert(has_line(text, "vigil_alert_ack_latency_seconds_sum 2.000000000"));
    cr_assert(has_line(text, "vigil_alert_latency_seconds_count 0"), "the engine's histogram stays apart");
    free(text);
}

Test(metrics_render, consumer_lag_per_partition_with_topic) {
    static struct vg_daemon d;
    strcpy(d.input_topic, "transactions");
    atomic_store(&d.lag[0], 0);
    atomic_store(&d.lag[1], 42);
    atomic_store(&d.lag[2], -1); /* not known yet */
    atomic_store(&d.lag_partitions, 3);
    char *text = render(&d, NULL);
    assert_well_formed(text);
    cr_assert_eq(sample_value(text, "vigil_consumer_lag{topic=\"transactions\",partition=\"0\"}"), 0);
    cr_assert_eq(sample_value(text, "vigil_consumer_lag{topic=\"transactions\",partition=\"1\"}"), 42);
    cr_assert_null(strstr(text, "partition=\"2\""), "unknown lag is no sample, not -1");
    free(text);

    strcpy(d.input_topic, "odd\"name\\x");
    text = render(&d, NULL);
    cr_assert_not_null(strstr(text, "vigil_consumer_lag{topic=\"odd\\\"name\\\\x\",partition=\"1\"} 42"),
                       "label values are escaped");
    free(text);
}

/* ---- the HTTP server ------------------------------------------------------------------ */

Test(metrics_http, metrics_healthz_and_404_over_loopback) {
    static struct vg_daemon d;
    char err[256] = "";
    vg_metrics_t *m = NULL;
    cr_assert_eq(vg_metrics_start(&m, "127.0.0.1:0", &d, err, sizeof err), VG_OK, "%s", err);
    uint16_t port = vg_metrics_port(m);
    cr_assert_neq(port, 0, "an ephemeral port is reported");

    struct http_reply r = http_request(AF_INET, port, "GET", "/metrics");
    cr_assert_eq(r.status, 200);
    cr_assert(has_header(&r, "Content-Type: text/plain; version=0.0.4"), "%s", r.raw);
    assert_well_formed(r.body);
    assert_all_families(r.body);
    cr_assert(has_line(r.body, "vigil_transactions_total 0"), "zeros without an engine");
    free(r.raw);

    r = http_request(AF_INET, port, "GET", "/healthz");
    cr_assert_eq(r.status, 503);
    cr_assert_str_eq(r.body, "not consuming\n");
    free(r.raw);
    atomic_store(&d.consuming, true);
    r = http_request(AF_INET, port, "GET", "/healthz");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "ok\n");
    free(r.raw);
    atomic_store(&d.consuming, false);
    r = http_request(AF_INET, port, "GET", "/healthz");
    cr_assert_eq(r.status, 503, "health follows the consumer both ways");
    free(r.raw);

    const char *missing[] = {"/", "/metrics/", "/metricsx", "/health", "/healthz?x", "/../metrics"};
    for (size_t i = 0; i < VG_ARRAY_LEN(missing); i++) {
        r = http_request(AF_INET, port, "GET", missing[i]);
        /* MHD strips "?x" from the path: /healthz?x is /healthz (503 here). */
        if (strcmp(missing[i], "/healthz?x") == 0) cr_assert_eq(r.status, 503);
        else cr_assert_eq(r.status, 404, "%s -> %d", missing[i], r.status);
        free(r.raw);
    }
    r = http_request(AF_INET, port, "POST", "/metrics");
    cr_assert_eq(r.status, 405);
    free(r.raw);
    r = http_request(AF_INET, port, "HEAD", "/metrics");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "", "HEAD has no body");
    free(r.raw);

    vg_metrics_stop(m);
    vg_metrics_stop(NULL);
}

Test(metrics_http, listen_forms) {
    static struct vg_daemon d;
    char err[256];
    vg_metrics_t *m = NULL;

    cr_assert_eq(vg_metrics_start(&m, ":0", &d, err, sizeof err), VG_OK, "%s", err);
    struct http_reply r = http_request(AF_INET, vg_metrics_port(m), "GET", "/healthz");
    cr_assert_eq(r.status, 503, "':PORT' listens on IPv4 too");
    free(r.raw);
    vg_metrics_stop(m);

    cr_assert_eq(vg_metrics_start(&m, "0.0.0.0:0", &d, err, sizeof err), VG_OK, "%s", err);
    vg_metrics_stop(m);
    cr_assert_eq(vg_metrics_start(&m, "localhost:0", &d, err, sizeof err), VG_OK, "%s", err);
    vg_metrics_stop(m);

    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool have_v6 = probe >= 0 && bind(probe, (struct sockaddr *)&lo6, sizeof lo6) == 0;
    if (probe >= 0) close(probe);
    if (have_v6) {
        cr_assert_eq(vg_metrics_start(&m, "[::1]:0", &d, err, sizeof err), VG_OK, "%s", err);
        r = http_request(AF_INET6, vg_metrics_port(m), "GET", "/healthz");
        cr_assert_eq(r.status, 503);
        free(r.raw);
        vg_metrics_stop(m);
    }

    /* A port in use is an I/O error that names the address. */
    cr_assert_eq(vg_metrics_start(&m, "127.0.0.1:0", &d, err, sizeof err), VG_OK, "%s", err);
    char busy[64];
    snprintf(busy, sizeof busy, "127.0.0.1:%u", vg_metrics_port(m));
    vg_metrics_t *second = NULL;
    cr_assert_eq(vg_metrics_start(&second, busy, &d, err, sizeof err), VG_ERR_IO);
    cr_assert_null(second);
    cr_assert_not_null(strstr(err, busy), "%s", err);
    vg_metrics_stop(m);
}

Test(metrics_http, bad_listen_addresses_are_refused) {
    static struct vg_daemon d;
    const char *bad[] = {"", "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536",
                         "127.0.0.1:-1", "127.0.0.1:94 64", "::1:9464", "[::1]9464", "[::1:9464",
                         "[127.0.0.1]:9464", "999.1.1.1:9464", "127.0.0.1:+80"};
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        char err[256] = "";
        vg_metrics_t *m = (vg_metrics_t *)&d; /* must be reset to NULL */
        cr_assert_eq(vg_metrics_start(&m, bad[i], &d, err, sizeof err), VG_ERR_INVALID, "'%s' accepted", bad[i]);
        cr_assert_null(m);
        cr_assert_not_null(strstr(err, "metrics.listen"), "'%s': %s", bad[i], err);
    }
}

/* ---- with a running engine -------------------------------------------------------------- */

static int count_alert(void *opaque, const struct vg_alert_record *alert) {
    (void)alert;
    atomic_fetch_add((_Atomic uint64_t *)opaque, 1);
    return 0;
}

static void make_txn(struct vg_txn *t, uint64_t seq, const char *id, const char *from, const char *to,
                     int64_t ts_ms, int64_t amount_units) {
    memset(t, 0, sizeof *t);
    t->seq = seq;
    t->ts_ms = ts_ms;
    t->amount_micros = amount_units * VG_MICROS_PER_UNIT;
    t->id_len = (uint8_t)strlen(id);
    memcpy(t->id, id, t->id_len);
    t->from_len = (uint8_t)strlen(from);
    memcpy(t->from, from, t->from_len);
    t->to_len = (uint8_t)strlen(to);
    memcpy(t->to, to, t->to_len);
}

Test(metrics_http, counters_move_with_engine_traffic) {
    static struct vg_daemon d;
    static struct vg_config cfg;
    char err[256] = "";
    cr_assert_eq(vg_config_defaults(&cfg), VG_OK);
    cfg.engine.threads = 2;
    static _Atomic uint64_t alerts;
    struct vg_alert_sink sink = {.opaque = (void *)&alerts, .on_alert = count_alert};
    struct vg_engine *engine = NULL;
    cr_assert_eq(vg_engine_start(&engine, &cfg, &sink, err, sizeof err), VG_OK, "%s", err);
    atomic_store(&d.engine, engine);

    vg_metrics_t *m = NULL;
    cr_assert_eq(vg_metrics_start(&m, "127.0.0.1:0", &d, err, sizeof err), VG_OK, "%s", err);
    struct http_reply r = http_request(AF_INET, vg_metrics_port(m), "GET", "/metrics");
    cr_assert_eq(sample_value(r.body, "vigil_transactions_total"), 0);
    free(r.raw);

    uint64_t seq = vg_engine_next_seq(engine);
    struct vg_txn t;
    make_txn(&t, seq++, "t1", "alice", "bob", 1700000000000, 50);
    vg_engine_submit(engine, &t, vg_now_mono_ns());
    make_txn(&t, seq++, "t2", "bob", "carol", 1700000001000, 60);
    vg_engine_submit(engine, &t, vg_now_mono_ns());
    make_txn(&t, seq++, "t3", "carol", "dave", 1700000002000, 25000); /* large_tx */
    vg_engine_submit(engine, &t, vg_now_mono_ns());
    vg_engine_dead_letter(engine, VG_REASON_BAD_AMOUNT);
    vg_engine_flush(engine);
    vg_engine_drain(engine);

    r = http_request(AF_INET, vg_metrics_port(m), "GET", "/metrics");
    cr_assert_eq(r.status, 200);
    assert_well_formed(r.body);
    cr_assert_eq(sample_value(r.body, "vigil_transactions_total"), 3, "%s", r.body);
    cr_assert_eq(sample_value(r.body, "vigil_dead_letter_total{reason=\"bad_amount\"}"), 1);
    cr_assert_eq(sample_value(r.body, "vigil_alerts_total{rule=\"large_tx\"}"), 1);
    cr_assert_eq(sample_value(r.body, "vigil_alert_latency_seconds_count"), (double)atomic_load(&alerts));
    cr_assert_geq(sample_value(r.body, "vigil_tracked_accounts"), 4);
    cr_assert_gt(sample_value(r.body, "vigil_ring_capacity"), 0);
    cr_assert(has_line(r.body, "vigil_ring_occupancy{shard=\"1\"} 0"), "two shards, drained");
    free(r.raw);

    /* Stop order while both end together: metrics first (see metrics.h). */
    vg_metrics_stop(m);
    atomic_store(&d.engine, NULL);
    cr_assert_eq(vg_engine_stop(engine), 0);
    vg_config_free(&cfg);
}
