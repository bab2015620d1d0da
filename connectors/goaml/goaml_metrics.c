/* goaml_metrics.c - vigil-goaml's /metrics and /healthz (goaml_metrics.h): the drafter's
 * counters and the alerts topic's lag rendered per scrape on the metrics server's thread.
 * The server itself is vigild's (connectors/http/metrics.c); this file only says what to show. */
#include "vigil/goaml_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct text {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...) {
    for (int attempt = 0; attempt < 2 && !t->failed; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if (t->buf && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + (size_t)n + 1) cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) t->failed = true;
        else {
            t->buf = b;
            t->cap = cap;
        }
    }
}

static void counter(struct text *t, const char *name, const char *help, uint64_t value) {
    put(t, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, (unsigned long long)value);
}

char *vg_goaml_metrics_render(const struct vg_goaml_metrics_ctx *ctx, size_t *len_out) {
    struct vg_goaml_stats s;
    vg_goaml_drafter_stats(ctx->drafter, &s);
    struct text t = {0};
    counter(&t, "vigil_goaml_alerts_total", "Alert lines read.", s.alerts);
    counter(&t, "vigil_goaml_bad_alerts_total", "Alert lines that could not be read.", s.bad_alerts);
    counter(&t, "vigil_goaml_cases_total", "Cases closed (drafted, rejected or not reportable).", s.cases);
    counter(&t, "vigil_goaml_drafts_written_total", "Cases written as drafts the FIU's schema accepts.", s.drafted);
    counter(&t, "vigil_goaml_drafts_rejected_total", "Drafts the FIU's schema refused (kept in rejected/).",
            s.rejected);
    counter(&t, "vigil_goaml_not_reportable_total", "Cases no report form of the schema fits (logged).",
            s.not_reportable);
    counter(&t, "vigil_goaml_write_failures_total", "Drafts that could not be written or produced.",
            s.write_failures);
    put(&t, "# HELP vigil_goaml_open_cases Cases waiting for their period to end.\n"
            "# TYPE vigil_goaml_open_cases gauge\nvigil_goaml_open_cases %llu\n",
        (unsigned long long)s.open_cases);
    if (ctx->kafka) {
        int32_t partitions[VG_GOAML_KAFKA_LAG_MAX];
        int64_t lags[VG_GOAML_KAFKA_LAG_MAX];
        size_t n = vg_goaml_kafka_lag(ctx->kafka, partitions, lags, VG_GOAML_KAFKA_LAG_MAX);
        put(&t, "# HELP vigil_goaml_consumer_lag Alerts on the topic not read yet, per partition.\n"
                "# TYPE vigil_goaml_consumer_lag gauge\n");
        for (size_t i = 0; i < n; i++) /* topic names are [a-zA-Z0-9._-]: nothing to escape */
            put(&t, "vigil_goaml_consumer_lag{topic=\"%s\",partition=\"%d\"} %lld\n", ctx->topic, (int)partitions[i],
                (long long)lags[i]);
    }
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    *len_out = t.len;
    return t.buf;
}

static char *render(void *opaque, size_t *len_out) { return vg_goaml_metrics_render(opaque, len_out); }

static bool healthy(void *opaque, const char **text) {
    (void)opaque;
    *text = "ok\n"; /* serving means the schema loaded and alerts are being read */
    return true;
}

int vg_goaml_metrics_start(vg_metrics_t **out, const char *listen, const struct vg_goaml_metrics_ctx *ctx,
                           char *errstr, size_t errstr_size) {
    struct vg_metrics_source src = {.render = render, .healthy = healthy, .opaque = (void *)ctx};
    return vg_metrics_start_source(out, listen, &src, errstr, errstr_size);
}
