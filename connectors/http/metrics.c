/* metrics.c - the operations HTTP endpoint: GET /metrics (Prometheus text format 0.0.4)
 * and GET /healthz on libmicrohttpd's internal polling thread. Each scrape sums the
 * engine's counters once (vg_engine_stats) and renders into a fresh buffer; nothing here
 * touches the hot path and there is no global mutable state. */
#include "vigil/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vigil/common.h"
#include "vigil/daemon.h"
#include "vigil/engine.h"
#include "vigil/log.h"
#include "vigil/rule.h"
#include "vigil/txn.h"

/* Upper bounds of vigil_alert_latency_seconds; the engine's collector buckets with them
 * (engine.h). 100 us .. 1 s covers a healthy pipeline and a badly backed-up one. */
const double vg_latency_bounds_s[VG_LATENCY_BUCKETS - 1] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define LISTEN_HOST_MAX 255

struct vg_metrics {
    struct MHD_Daemon *httpd;
    struct vg_daemon *daemon;
    uint16_t port;
};

/* ---- a growing text buffer ------------------------------------------------------- */

struct text {
    char *buf;
    size_t len, cap;
    bool failed; /* out of memory: every later append is ignored */
};

static void text_reserve(struct text *t, size_t more) {
    if (t->failed || t->len + more + 1 <= t->cap) return;
    size_t cap = t->cap ? t->cap : 8192;
    while (cap < t->len + more + 1) cap *= 2;
    char *grown = realloc(t->buf, cap);
    if (!grown) {
        t->failed = true;
        return;
    }
    t->buf = grown;
    t->cap = cap;
}

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(struct text *t, const char *fmt, ...) {
    for (int attempt = 0; attempt < 2 && !t->failed; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int n = vsnprintf(t->cap ? t->buf + t->len : NULL, t->cap ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        text_reserve(t, (size_t)n);
    }
}

/* A label value with the exposition format's escapes (backslash, quote, newline). */
static void text_label_value(struct text *t, const char *value) {
    for (const char *p = value; *p; p++) {
        if (*p == '\\') text_printf(t, "\\\\");
        else if (*p == '"') text_printf(t, "\\\"");
        else if (*p == '\n') text_printf(t, "\\n");
        else text_printf(t, "%c", *p);
    }
}

static void family(struct text *t, const char *name, const char *type, const char *help) {
    text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct text *t, const char *name, uint64_t value) {
    text_printf(t, "%s %" PRIu64 "\n", name, value);
}

/* ---- rendering ------------------------------------------------------------------- */

static void render_histogram(struct text *t, const char *name, const char *help,
                             const uint64_t counts[VG_LATENCY_BUCKETS], uint64_t sum_ns) {
    family(t, name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t b = 0; b < VG_LATENCY_BUCKETS; b++) {
        cumulative += counts[b];
        if (b + 1 < VG_LATENCY_BUCKETS)
            text_printf(t, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, vg_latency_bounds_s[b], cumulative);
        else
            text_printf(t, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cumulative);
    }
    text_printf(t, "%s_sum %" PRIu64 ".%09" PRIu64 "\n", name, sum_ns / 1000000000u, sum_ns % 1000000000u);
    text_printf(t, "%s_count %" PRIu64 "\n", name, cumulative);
}

static void render_per_rule(struct text *t, const char *name, const char *help,
                            const uint64_t counts[VG_RULE_MAX]) {
    family(t, name, "counter", help);
    for (int r = 0; r < VG_RULE_MAX; r++) {
        text_printf(t, "%s{rule=\"", name);
        text_label_value(t, vg_rule_registry[r]->name);
        text_printf(t, "\"} %" PRIu64 "\n", counts[r]);
    }
}

static void render_lag(struct text *t, const struct vg_daemon *d) {
    family(t, "vigil_consumer_lag", "gauge",
           "Messages between the consumer position and the high watermark, per input partition.");
    int partitions = atomic_load_explicit(&d->lag_partitions, memory_order_acquire);
    if (partitions > (int)VG_ARRAY_LEN(d->lag)) partitions = (int)VG_ARRAY_LEN(d->lag);
    for (int p = 0; p < partitions; p++) {
        int64_t lag = atomic_load_explicit(&d->lag[p], memory_order_relaxed);
        if (lag < 0) continue; /* not known yet (no watermark or position): no sample */
        text_printf(t, "vigil_consumer_lag{topic=\"");
        text_label_value(t, d->input_topic);
        text_printf(t, "\",partition=\"%d\"} %" PRId64 "\n", p, lag);
    }
}

char *vg_metrics_render(const struct vg_daemon *d, const struct vg_engine_stats *stats,
                        size_t *len_out) {
    static const struct vg_engine_stats zero_stats;
    const struct vg_engine_stats *s = stats ? stats : &zero_stats;
    struct text t = {0};
    text_reserve(&t, 16384);

    family(&t, "vigil_up", "gauge", "1 while vigild serves metrics.");
    sample(&t, "vigil_up", 1);
    family(&t, "vigil_build_info", "gauge", "Build information; the value is always 1.");
    text_printf(&t, "vigil_build_info{version=\"%s\"} 1\n", VG_VERSION);

    family(&t, "vigil_transactions_total", "counter", "Transactions accepted into the engine.");
    sample(&t, "vigil_transactions_total", s->transactions);
    family(&t, "vigil_events_total", "counter",
           "Account-side events processed by the shards (two per transaction).");
    sample(&t, "vigil_events_total", s->events);

    render_per_rule(&t, "vigil_alerts_total", "Alerts emitted, by rule.", s->alerts);
    render_per_rule(&t, "vigil_alerts_suppressed_total",
                    "Alerts withheld by the per (rule, account) cooldown, by rule.", s->suppressed);

    family(&t, "vigil_dead_letter_total", "counter",
           "Input records refused and written to the dead-letter sink, by reason.");
    for (int r = 1; r < VG_REASON_MAX; r++) {
        text_printf(&t, "vigil_dead_letter_total{reason=\"");
        text_label_value(&t, vg_reason_name((enum vg_reason)r));
        text_printf(&t, "\"} %" PRIu64 "\n",
                    s->dead_letter[r] + atomic_load_explicit(&d->router_dead_letter[r], memory_order_relaxed));
    }

    family(&t, "vigil_late_total", "counter",
           "Records older than the newest event time minus engine.allowed_lateness (still evaluated).");
    sample(&t, "vigil_late_total", s->late);
    family(&t, "vigil_out_of_order_total", "counter",
           "Records older than the newest event time seen, late or not.");
    sample(&t, "vigil_out_of_order_total", s->out_of_order);

    family(&t, "vigil_future_records_total", "counter",
           "Records dated more than engine.max_time_jump ahead of the stream (on Kafka also beyond "
           "input.max_clock_skew of the wall clock): analysed, but they do not move the stream's time.");
    sample(&t, "vigil_future_records_total", s->future);

    render_lag(&t, d);
    if (atomic_load_explicit(&d->distributed, memory_order_relaxed)) {
        family(&t, "vigil_tasks_owned", "gauge",
               "Tasks (repartition partitions: account tasks, the last one the graph task) this instance owns.");
        sample(&t, "vigil_tasks_owned", (uint64_t)atomic_load_explicit(&d->tasks_owned, memory_order_relaxed));
        family(&t, "vigil_task_owned", "gauge", "1 for each task this instance owns.");
        for (int w = 0; w < 16; w++) {
            uint64_t bits = atomic_load_explicit(&d->task_owned_bits[w], memory_order_relaxed);
            for (int b = 0; b < 64; b++)
                if (bits >> b & 1) text_printf(&t, "vigil_task_owned{task=\"%d\"} 1\n", w * 64 + b);
        }
        family(&t, "vigil_task_restore_seconds", "gauge",
               "How long the last assignment took to restore its tasks' state from state.topic.");
        text_printf(&t, "vigil_task_restore_seconds %.6f\n",
                    (double)atomic_load_explicit(&d->task_restore_us, memory_order_relaxed) / 1e6);
    }
    family(&t, "vigil_merge_idle_releases_total", "counter",
           "Times an input partition with nothing new for input.idle_timeout stopped holding back "
           "records of the other partitions (Kafka event-time merge).");
    sample(&t, "vigil_merge_idle_releases_total", atomic_load_explicit(&d->merge_idle_releases, memory_order_relaxed));
    family(&t, "vigil_merge_forced_total", "counter",
           "Records the event-time merge released out of order because it was full.");
    sample(&t, "vigil_merge_forced_total", atomic_load_explicit(&d->merge_forced, memory_order_relaxed));

    family(&t, "vigil_tracked_accounts", "gauge", "Accounts with state held in the engine.");
    sample(&t, "vigil_tracked_accounts", s->tracked_accounts);
    family(&t, "vigil_window_events", "gauge", "Account-side events held in rule windows.");
    sample(&t, "vigil_window_events", s->window_events);
    family(&t, "vigil_state_bytes", "gauge", "Memory held by account and graph state, in bytes.");
    sample(&t, "vigil_state_bytes", s->state_bytes);

    family(&t, "vigil_ring_occupancy", "gauge",
           "Slots in use in each shard's input ring (back-pressure when it reaches capacity).");
    uint32_t shards = VG_MIN(s->shards, (uint32_t)VG_ARRAY_LEN(s->ring_used));
    for (uint32_t i = 0; i < shards; i++)
        text_printf(&t, "vigil_ring_occupancy{shard=\"%" PRIu32 "\"} %" PRIu32 "\n", i, s->ring_used[i]);
    family(&t, "vigil_ring_capacity", "gauge", "Slots per shard input ring.");
    sample(&t, "vigil_ring_capacity", s->ring_size);

    family(&t, "vigil_graph_edges", "gauge", "Transfers held by the graph stage.");
    sample(&t, "vigil_graph_edges", s->graph_edges);
    family(&t, "vigil_graph_budget_cut_total", "counter",
           "Graph searches stopped early by engine.graph_budget.");
    sample(&t, "vigil_graph_budget_cut_total", s->graph_budget_cut);
    family(&t, "vigil_scan_truncated_total", "counter",
           "Rule evaluations that saw only the newest engine.max_window_events events of an account.");
    sample(&t, "vigil_scan_truncated_total", s->scan_truncated);

    render_histogram(&t, "vigil_alert_latency_seconds",
                     "Time from reading the record that triggered an alert to handing the alert to the output.",
                     s->latency_count, s->latency_sum_ns);
    uint64_t ack_counts[VG_LATENCY_BUCKETS];
    for (size_t b = 0; b < VG_LATENCY_BUCKETS; b++)
        ack_counts[b] = atomic_load_explicit(&d->ack_latency_count[b], memory_order_relaxed);
    render_histogram(&t, "vigil_alert_ack_latency_seconds",
                     "Kafka output, at-least-once: time from reading the record that triggered an alert to "
                     "the broker acknowledging the alert.",
                     ack_counts, atomic_load_explicit(&d->ack_latency_sum_ns, memory_order_relaxed));

    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    if (len_out) *len_out = t.len;
    return t.buf;
}

/* ---- HTTP ------------------------------------------------------------------------ */

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status,
                               const char *content_type, char *body, size_t len,
                               enum MHD_ResponseMemoryMode mode) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
    if (!resp) {
        if (mode == MHD_RESPMEM_MUST_FREE) free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp); /* the connection holds its own reference */
    return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned int status, const char *text) {
    return respond(conn, status, "text/plain; charset=utf-8", (char *)text, strlen(text),
                   MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result serve_metrics(struct MHD_Connection *conn, struct vg_daemon *d) {
    struct vg_engine_stats stats;
    const struct vg_engine_stats *s = NULL;
    /* Held through the reader count: the owner waits for it before stopping the engine. */
    struct vg_engine *engine = vg_daemon_engine_acquire(d);
    if (engine) {
        vg_engine_stats(engine, &stats);
        vg_daemon_engine_release(d);
        s = &stats;
    }
    size_t len = 0;
    char *body = vg_metrics_render(d, s, &len);
    if (!body) return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    return respond(conn, MHD_HTTP_OK, PROM_CONTENT_TYPE, body, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls) {
    (void)version, (void)upload_data, (void)upload_data_size, (void)req_cls;
    struct vg_metrics *m = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (strcmp(url, "/metrics") == 0) return serve_metrics(conn, m->daemon);
    if (strcmp(url, "/healthz") == 0) {
        if (atomic_load(&m->daemon->kafka_unreachable))
            return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "kafka unreachable\n");
        if (atomic_load_explicit(&m->daemon->consuming, memory_order_acquire))
            return respond_text(conn, MHD_HTTP_OK, m->daemon->development_broker
                                                       ? "ok (kafka.brokers: embedded, a development broker "
                                                         "nothing outside this process writes to)\n"
                                                       : "ok\n");
        return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not consuming\n");
    }
    return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
    /* "Failed to bind to port 0": libmicrohttpd names its port argument, not the address it
     * was given; vg_metrics_start reports the real port and reason. */
    if (strncmp(msg, "Failed to bind to port", 22) == 0) return;
    for (char *p = msg; *p; p++)
        if (*p == '"') *p = '\'';
    vg_warn("metrics_http", "msg=\"%s\"", msg);
}

/* ---- listen address -------------------------------------------------------------- */

/* Splits "HOST:PORT" / "[V6]:PORT" / ":PORT" and resolves HOST (numeric or a name such as
 * localhost). An empty host leaves *any set: bind every interface. */
static int parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *addr_len,
                        bool *any, char *errstr, size_t errstr_size) {
    char host[LISTEN_HOST_MAX + 1];
    const char *colon, *host_start = listen;
    size_t host_len;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':') goto bad_shape;
        host_start = listen + 1;
        host_len = (size_t)(close - host_start);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon) goto bad_shape;
        host_len = (size_t)(colon - listen);
        if (memchr(listen, ':', host_len)) {
            snprintf(errstr, errstr_size, "metrics.listen: '%s': write an IPv6 host in brackets, [::1]:9464",
                     listen);
            return VG_ERR_INVALID;
        }
    }
    if (host_len > LISTEN_HOST_MAX) goto bad_shape;
    memcpy(host, host_start, host_len);
    host[host_len] = '\0';

    const char *port_text = colon + 1;
    char *end;
    errno = 0;
    unsigned long port = strtoul(port_text, &end, 10);
    if (port_text[0] < '0' || port_text[0] > '9' || *end != '\0' || errno || port > 65535) {
        snprintf(errstr, errstr_size, "metrics.listen: '%s': port must be 0..65535", listen);
        return VG_ERR_INVALID;
    }

    memset(addr, 0, sizeof *addr);
    *any = host_len == 0;
    if (*any) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_any;
        in6->sin6_port = htons((uint16_t)port);
        *addr_len = sizeof *in6;
        return VG_OK;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC}, *res = NULL;
    if (listen[0] == '[') { /* brackets hold a literal IPv6 address, nothing else */
        hints.ai_flags = AI_NUMERICHOST;
        hints.ai_family = AF_INET6;
    }
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(errstr, errstr_size, "metrics.listen: '%s': bad host '%s': %s", listen, host,
                 rc ? gai_strerror(rc) : "no address");
        return VG_ERR_INVALID;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addr_len = res->ai_addrlen;
    if (res->ai_family == AF_INET6)
        ((struct sockaddr_in6 *)addr)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)addr)->sin_port = htons((uint16_t)port);
    freeaddrinfo(res);
    return VG_OK;

bad_shape:
    snprintf(errstr, errstr_size, "metrics.listen: '%s': expected HOST:PORT, [IPV6]:PORT or :PORT", listen);
    return VG_ERR_INVALID;
}

/* ---- lifecycle ------------------------------------------------------------------- */

static struct MHD_Daemon *start_httpd(struct vg_metrics *m, unsigned int flags,
                                      const struct sockaddr_storage *addr) {
    /* The server thread inherits this mask: keep process signals (SIGTERM, SIGHUP, ...)
     * for the threads that handle them. */
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    struct MHD_Daemon *httpd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, m,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, (void *)NULL, /* first, to catch every message */
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
        MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return httpd;
}

/* Why the listener could not start: binds a socket of our own to addr (as libmicrohttpd
 * would, SO_REUSEADDR) and returns bind's errno, or 0 when it binds. Can't fail otherwise. */
static int probe_bind(const struct sockaddr_storage *addr, socklen_t addr_len) {
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, why = 0;
    if (fd < 0) return errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)addr, addr_len ? addr_len : sizeof *addr) != 0) why = errno;
    close(fd);
    return why;
}

int vg_metrics_start(vg_metrics_t **out, const char *listen, struct vg_daemon *d,
                     char *errstr, size_t errstr_size) {
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    bool any = false;
    *out = NULL;
    int rc = parse_listen(listen, &addr, &addr_len, &any, errstr, errstr_size);
    if (rc != VG_OK) return rc;

    struct vg_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(errstr, errstr_size, "metrics: out of memory");
        return VG_ERR_NOMEM;
    }
    m->daemon = d;

    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (any) {
        m->httpd = start_httpd(m, flags | MHD_USE_DUAL_STACK, &addr);
        if (!m->httpd) { /* IPv6 disabled on this host: every IPv4 interface instead */
            struct sockaddr_in *in4 = (struct sockaddr_in *)&addr;
            uint16_t port_be = ((struct sockaddr_in6 *)&addr)->sin6_port;
            memset(&addr, 0, sizeof addr);
            in4->sin_family = AF_INET;
            in4->sin_addr.s_addr = htonl(INADDR_ANY);
            in4->sin_port = port_be;
            m->httpd = start_httpd(m, flags, &addr);
        }
    } else {
        m->httpd = start_httpd(m, flags | (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), &addr);
    }
    if (!m->httpd) {
        int why = probe_bind(&addr, addr_len);
        snprintf(errstr, errstr_size, "metrics.listen %s: cannot listen on port %u: %s", listen,
                 (unsigned)ntohs(((struct sockaddr_in *)&addr)->sin_port),
                 why ? strerror(why) : "the HTTP server did not start");
        free(m);
        return VG_ERR_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->httpd, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : 0;
    *out = m;
    return VG_OK;
}

uint16_t vg_metrics_port(const vg_metrics_t *m) {
    return m ? m->port : 0;
}

void vg_metrics_stop(vg_metrics_t *m) {
    if (!m) return;
    MHD_stop_daemon(m->httpd);
    free(m);
}
