/* drafter.c - vigil-goaml's pipeline, one alert line at a time: parse, group into cases, and
 * for each closed case render the goAML report, validate it against the FIU's XSD, then
 * publish it (a file in report.output_dir, or the caller's Kafka producer) or put it in
 * rejected/ with the validator's messages. Failures are counted and logged, never fatal. */
#include "vigil/goaml.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/log.h"

struct vg_goaml_drafter {
    const struct vg_report_config *r;
    const struct vg_currency_table *rates;
    int64_t lateness_ms;
    vg_goaml_publish_fn publish;
    void *opaque;
    struct vg_goaml_validator *validator;
    struct vg_goaml_clients *clients;   /* report.clients, or NULL */
    bool schema_has_activity;
    struct vg_goaml_cases *cases;
    int64_t newest_end_ms;
    int64_t fixed_clock_ms;          /* 0: wall clock */
    struct {                         /* read by the metrics thread (vg_goaml_drafter_stats) */
        _Atomic uint64_t alerts, bad_alerts, cases, drafted, rejected, not_reportable, write_failures, open_cases;
    } stats;
};

static inline void count(_Atomic uint64_t *c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }

int vg_goaml_drafter_create(struct vg_goaml_drafter **out, const struct vg_report_config *r,
                            const struct vg_currency_table *rates, int64_t lateness_ms, vg_goaml_publish_fn publish,
                            void *opaque, char *errstr, size_t errstr_size) {
    if (!r || !r->present) {
        snprintf(errstr, errstr_size, "report: the section is missing (reporting entity, code tables, schema)");
        return VG_ERR_INVALID;
    }
    if (!r->schema[0]) {
        snprintf(errstr, errstr_size, "report.schema: the FIU's XSD file is required");
        return VG_ERR_INVALID;
    }
    struct vg_goaml_drafter *d = calloc(1, sizeof *d);
    if (!d || !(d->cases = vg_goaml_cases_create(r->case_period_ms))) {
        free(d);
        snprintf(errstr, errstr_size, "out of memory");
        return VG_ERR_NOMEM;
    }
    *d = (struct vg_goaml_drafter){.r = r, .rates = rates, .lateness_ms = lateness_ms, .publish = publish,
                                   .opaque = opaque, .cases = d->cases, .newest_end_ms = INT64_MIN};
    char why[4096];
    if (vg_goaml_validator_create(&d->validator, r->schema, why, sizeof why) != VG_OK) {
        snprintf(errstr, errstr_size, "report.schema: %s", why);
        vg_goaml_drafter_destroy(d);
        return VG_ERR_INVALID;
    }
    d->schema_has_activity = vg_goaml_validator_declares(d->validator, "activity");
    if (r->clients[0]) {
        int rc = vg_goaml_clients_load(&d->clients, r->clients, why, sizeof why);
        if (rc != VG_OK) {
            snprintf(errstr, errstr_size, "report.clients: %s", why);
            vg_goaml_drafter_destroy(d);
            return rc;
        }
        vg_info("goaml_clients_loaded", "file=\"%s\" accounts=%zu", r->clients, vg_goaml_clients_count(d->clients));
    }
    *out = d;
    return VG_OK;
}

void vg_goaml_drafter_set_clock(struct vg_goaml_drafter *d, int64_t submission_ms) { d->fixed_clock_ms = submission_ms; }

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* rejected/<case>.xml and rejected/<case>.errors.txt (the validator's messages). */
static void reject(struct vg_goaml_drafter *d, const struct vg_goaml_case *c, const char *xml, size_t len,
                   const char *messages) {
    char dir[1100], name[64], err[512];
    snprintf(dir, sizeof dir, "%s/rejected", d->r->output_dir);
    snprintf(name, sizeof name, "%s.errors.txt", c->id);
    int rc = vg_goaml_write_file(dir, name, messages, strlen(messages), err, sizeof err);
    snprintf(name, sizeof name, "%s.xml", c->id);
    if (rc == VG_OK) rc = vg_goaml_write_file(dir, name, xml, len, err, sizeof err);
    if (rc != VG_OK) {
        count(&d->stats.write_failures);
        vg_error("goaml_write_failed", "case=%s msg=\"%s\"", c->id, err);
    }
    count(&d->stats.rejected);
    size_t first = strcspn(messages, "\n");
    vg_warn("goaml_rejected", "case=%s account=\"%s\" dir=%s first=\"%.*s\"", c->id, c->account, dir, (int)first,
            messages);
}

static int on_case(void *opaque, const struct vg_goaml_case *c) {
    struct vg_goaml_drafter *d = opaque;
    count(&d->stats.cases);
    char *xml = NULL, why[512];
    size_t len = 0;
    struct vg_goaml_render_ctx ctx = {.r = d->r, .rates = d->rates, .clients = d->clients,
                                      .schema_has_activity = d->schema_has_activity,
                                      .submission_ms = d->fixed_clock_ms ? d->fixed_clock_ms : wall_ms()};
    int rc = vg_goaml_render(&ctx, c, &xml, &len, why, sizeof why);
    if (rc == VG_ERR_INVALID) {
        count(&d->stats.not_reportable);
        vg_warn("goaml_not_reportable", "case=%s account=\"%s\" alerts=%zu msg=\"%s\"", c->id, c->account, c->n_alerts,
                why);
        return 0;
    }
    if (rc != VG_OK) {
        count(&d->stats.write_failures);
        vg_error("goaml_render_failed", "case=%s msg=\"out of memory\"", c->id);
        return -1;
    }
    char *messages = NULL;
    if (vg_goaml_validate(d->validator, xml, len, &messages) != VG_OK) {
        reject(d, c, xml, len, messages ? messages : "invalid\n");
    } else {
        char name[64];
        snprintf(name, sizeof name, "%s.xml", c->id);
        rc = d->publish ? d->publish(d->opaque, c->id, xml, len)
                        : vg_goaml_write_file(d->r->output_dir, name, xml, len, why, sizeof why);
        if (rc != VG_OK) {
            count(&d->stats.write_failures);
            vg_error("goaml_write_failed", "case=%s msg=\"%s\"", c->id, d->publish ? "publish failed" : why);
        } else {
            count(&d->stats.drafted);
            vg_info("goaml_drafted", "case=%s account=\"%s\" alerts=%zu transactions=%zu", c->id, c->account,
                    c->n_alerts, c->n_txs);
        }
    }
    free(messages);
    free(xml);
    return rc == VG_OK ? 0 : -1;
}

void vg_goaml_drafter_line(struct vg_goaml_drafter *d, const char *line, size_t len) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ')) len--;
    if (len == 0) return;
    struct vg_goaml_alert *a = malloc(sizeof *a);
    char why[256];
    if (!a || vg_goaml_alert_parse(line, len, a, why, sizeof why) != VG_OK) {
        count(&d->stats.bad_alerts);
        vg_warn("goaml_bad_alert", "msg=\"%s\"", a ? why : "out of memory");
        free(a);
        return;
    }
    count(&d->stats.alerts);
    int64_t end = a->window_end_ms;
    if (vg_goaml_cases_add(d->cases, a) != VG_OK) {
        vg_goaml_alert_free(a);
        free(a);
        count(&d->stats.bad_alerts);
        vg_error("goaml_out_of_memory", "msg=\"alert dropped\"");
        return;
    }
    if (end > d->newest_end_ms) d->newest_end_ms = end;
    /* A case is complete once the stream is a case period (plus lateness) past its end. */
    int64_t horizon = d->newest_end_ms - d->r->case_period_ms - d->lateness_ms;
    vg_goaml_cases_close(d->cases, horizon, on_case, d);
    atomic_store_explicit(&d->stats.open_cases, vg_goaml_cases_open(d->cases), memory_order_relaxed);
}

void vg_goaml_drafter_flush(struct vg_goaml_drafter *d) {
    vg_goaml_cases_close(d->cases, INT64_MAX, on_case, d);
    atomic_store_explicit(&d->stats.open_cases, vg_goaml_cases_open(d->cases), memory_order_relaxed);
}

size_t vg_goaml_drafter_open_cases(const struct vg_goaml_drafter *d) { return vg_goaml_cases_open(d->cases); }

void vg_goaml_drafter_stats(const struct vg_goaml_drafter *d, struct vg_goaml_stats *out) {
    *out = (struct vg_goaml_stats){
        .alerts = atomic_load_explicit(&d->stats.alerts, memory_order_relaxed),
        .bad_alerts = atomic_load_explicit(&d->stats.bad_alerts, memory_order_relaxed),
        .cases = atomic_load_explicit(&d->stats.cases, memory_order_relaxed),
        .drafted = atomic_load_explicit(&d->stats.drafted, memory_order_relaxed),
        .rejected = atomic_load_explicit(&d->stats.rejected, memory_order_relaxed),
        .not_reportable = atomic_load_explicit(&d->stats.not_reportable, memory_order_relaxed),
        .write_failures = atomic_load_explicit(&d->stats.write_failures, memory_order_relaxed),
        .open_cases = atomic_load_explicit(&d->stats.open_cases, memory_order_relaxed),
    };
}

void vg_goaml_drafter_destroy(struct vg_goaml_drafter *d) {
    if (!d) return;
    vg_goaml_cases_destroy(d->cases);
    vg_goaml_validator_destroy(d->validator);
    vg_goaml_clients_destroy(d->clients);
    free(d);
}
