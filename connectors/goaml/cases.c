/* cases.c - grouping alerts into report cases for vigil-goaml: the alerts about one account
 * whose window_end falls within report.case_period of the case's first one make one case,
 * with every evidence transaction once. Case ids hash the account and the first alert_id, so
 * the same alerts give the same cases and file names whatever order they were read in. */
#include "vigil/goaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/hash.h"

struct open_case {
    int64_t start_ms;              /* earliest window_end of its alerts */
    size_t n, cap;
    struct vg_goaml_alert **alerts;
};

struct vg_goaml_cases {
    int64_t period_ms;
    size_t n, cap;
    struct open_case *cases;
};

struct vg_goaml_cases *vg_goaml_cases_create(int64_t case_period_ms) {
    struct vg_goaml_cases *cs = calloc(1, sizeof *cs);
    if (cs) cs->period_ms = case_period_ms;
    return cs;
}

static void case_free(struct open_case *c) {
    for (size_t i = 0; i < c->n; i++) {
        vg_goaml_alert_free(c->alerts[i]);
        free(c->alerts[i]);
    }
    free(c->alerts);
}

void vg_goaml_cases_destroy(struct vg_goaml_cases *cs) {
    if (!cs) return;
    for (size_t i = 0; i < cs->n; i++) case_free(&cs->cases[i]);
    free(cs->cases);
    free(cs);
}

size_t vg_goaml_cases_open(const struct vg_goaml_cases *cs) { return cs->n; }

int vg_goaml_cases_add(struct vg_goaml_cases *cs, struct vg_goaml_alert *a) {
    struct open_case *c = NULL;
    for (size_t i = 0; i < cs->n; i++) {
        struct open_case *o = &cs->cases[i];
        if (strcmp(o->alerts[0]->account, a->account) != 0) continue;
        for (size_t k = 0; k < o->n; k++)
            if (strcmp(o->alerts[k]->alert_id, a->alert_id) == 0) { /* a repeated alert (at-least-once) */
                vg_goaml_alert_free(a);
                free(a);
                return VG_OK;
            }
        if (a->window_end_ms < o->start_ms + cs->period_ms && a->window_end_ms > o->start_ms - cs->period_ms) c = o;
    }
    if (!c) {
        if (cs->n == cs->cap) {
            size_t cap = cs->cap ? cs->cap * 2 : 16;
            struct open_case *w = realloc(cs->cases, cap * sizeof *w);
            if (!w) return VG_ERR_NOMEM;
            cs->cases = w;
            cs->cap = cap;
        }
        c = &cs->cases[cs->n++];
        *c = (struct open_case){.start_ms = a->window_end_ms};
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct vg_goaml_alert **w = realloc(c->alerts, cap * sizeof *w);
        if (!w) return VG_ERR_NOMEM;
        c->alerts = w;
        c->cap = cap;
    }
    c->alerts[c->n++] = a;
    if (a->window_end_ms < c->start_ms) c->start_ms = a->window_end_ms;
    return VG_OK;
}

static int by_end_then_id(const void *x, const void *y) {
    const struct vg_goaml_alert *a = *(struct vg_goaml_alert *const *)x, *b = *(struct vg_goaml_alert *const *)y;
    if (a->window_end_ms != b->window_end_ms) return a->window_end_ms < b->window_end_ms ? -1 : 1;
    return strcmp(a->alert_id, b->alert_id);
}

static int by_ts_then_id(const void *x, const void *y) {
    const struct vg_goaml_tx *a = *(const struct vg_goaml_tx *const *)x, *b = *(const struct vg_goaml_tx *const *)y;
    if (a->ts_ms != b->ts_ms) return a->ts_ms < b->ts_ms ? -1 : 1;
    return strcmp(a->id, b->id);
}

static int by_id(const void *x, const void *y) {
    return strcmp((*(struct vg_goaml_case *const *)x)->id, (*(struct vg_goaml_case *const *)y)->id);
}

/* Builds the public view of c (sorted alerts, unique transactions, id). */
static int case_view(struct open_case *c, struct vg_goaml_case *out) {
    qsort(c->alerts, c->n, sizeof *c->alerts, by_end_then_id);
    size_t total = 0;
    for (size_t i = 0; i < c->n; i++) total += c->alerts[i]->n_evidence;
    const struct vg_goaml_tx **txs = malloc((total ? total : 1) * sizeof *txs);
    if (!txs) return VG_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        for (size_t k = 0; k < c->alerts[i]->n_evidence; k++) txs[n++] = &c->alerts[i]->evidence[k];
    qsort(txs, n, sizeof *txs, by_ts_then_id);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) { /* the same transaction in several alerts: once */
        bool seen = false;
        for (size_t k = u; k-- > 0 && txs[k]->ts_ms == txs[i]->ts_ms && !seen;) seen = strcmp(txs[k]->id, txs[i]->id) == 0;
        if (!seen) txs[u++] = txs[i];
    }
    const struct vg_goaml_alert *first = c->alerts[0];
    XXH3_state_t st;
    XXH3_128bits_reset(&st);
    XXH3_128bits_update(&st, first->account, strlen(first->account) + 1);
    XXH3_128bits_update(&st, first->alert_id, strlen(first->alert_id) + 1);
    XXH128_hash_t h = XXH3_128bits_digest(&st);
    *out = (struct vg_goaml_case){.account = first->account, .n_alerts = c->n, .alerts = c->alerts, .n_txs = u, .txs = txs};
    snprintf(out->id, sizeof out->id, "case-%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
    return VG_OK;
}

size_t vg_goaml_cases_close(struct vg_goaml_cases *cs, int64_t horizon_ms, vg_goaml_case_fn fn, void *opaque) {
    size_t failures = 0, n_closing = 0;
    struct vg_goaml_case *views = calloc(cs->n ? cs->n : 1, sizeof *views);
    struct vg_goaml_case **order = calloc(cs->n ? cs->n : 1, sizeof *order);
    struct open_case *closing = calloc(cs->n ? cs->n : 1, sizeof *closing);
    if (!views || !order || !closing) {
        free(views);
        free(order);
        free(closing);
        return cs->n;
    }
    size_t kept = 0;
    for (size_t i = 0; i < cs->n; i++) {
        struct open_case *c = &cs->cases[i];
        bool due = horizon_ms == INT64_MAX || c->start_ms + cs->period_ms <= horizon_ms;
        if (due && case_view(c, &views[n_closing]) == VG_OK) {
            closing[n_closing] = *c;
            order[n_closing] = &views[n_closing];
            n_closing++;
        } else {
            if (due) failures++;
            cs->cases[kept++] = *c;
        }
    }
    cs->n = kept;
    qsort(order, n_closing, sizeof *order, by_id);
    for (size_t i = 0; i < n_closing; i++)
        if (fn(opaque, order[i]) != 0) failures++;
    for (size_t i = 0; i < n_closing; i++) {
        free(views[i].txs);
        case_free(&closing[i]);
    }
    free(views);
    free(order);
    free(closing);
    return failures;
}
