/* test_graph_support.h - fixture shared by the graph-stage tests (test_graph.c,
 * test_rule_cycle.c, test_rule_scatter_gather.c): a default config, an alert collector
 * and a helper that feeds one transfer to the graph as the engine would. Header-only. */
#ifndef VIGIL_TEST_GRAPH_SUPPORT_H
#define VIGIL_TEST_GRAPH_SUPPORT_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "rules/rule_params.h"
#include "vigil/config.h"
#include "vigil/emit.h"
#include "vigil/graph.h"

#define T0 1700000000000LL
#define MINUTE (60LL * 1000)
#define HOUR (60LL * MINUTE)
#define DAY (24LL * HOUR)
#define UNITS(x) ((int64_t)(x) * 1000000LL)

#define GT_MAX_ALERTS 64
#define GT_MAX_LIST 64

struct gt_metric {
    char key[32];
    int64_t value;
};

struct gt_alert {
    enum vg_rule_id rule;
    char account[VG_ID_MAX + 1];
    double score;
    int64_t window_start_ms, window_end_ms;
    size_t n_accounts, n_tx_ids, n_metrics;
    char accounts[GT_MAX_LIST][VG_ID_MAX + 1];
    char tx_ids[GT_MAX_LIST][VG_ID_MAX + 1];
    struct gt_metric metrics[VG_ALERT_METRICS_MAX];
};

struct gt_fixture {
    struct vg_config cfg;
    struct vg_alert_out *out;
    struct vg_graph *graph;
    uint64_t seq;
    int64_t newest_ts;
    size_t n_alerts;
    struct gt_alert alerts[GT_MAX_ALERTS];
};

static inline void gt_str(char *dst, struct vg_str s) {
    size_t n = VG_MIN(s.len, (size_t)VG_ID_MAX);
    memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

static inline void gt_collect(void *opaque, const struct vg_alert *a, enum vg_severity severity) {
    (void)severity;
    struct gt_fixture *f = opaque;
    cr_assert_lt(f->n_alerts, GT_MAX_ALERTS);
    struct gt_alert *c = &f->alerts[f->n_alerts++];
    memset(c, 0, sizeof *c);
    c->rule = a->rule;
    gt_str(c->account, a->account);
    c->score = a->score;
    c->window_start_ms = a->window_start_ms;
    c->window_end_ms = a->window_end_ms;
    c->n_accounts = a->n_accounts;
    c->n_tx_ids = a->n_tx_ids;
    for (size_t i = 0; i < VG_MIN(a->n_accounts, (size_t)GT_MAX_LIST); i++) gt_str(c->accounts[i], a->accounts[i]);
    for (size_t i = 0; i < VG_MIN(a->n_tx_ids, (size_t)GT_MAX_LIST); i++) gt_str(c->tx_ids[i], a->tx_ids[i]);
    c->n_metrics = a->n_metrics;
    for (size_t i = 0; i < a->n_metrics; i++) {
        snprintf(c->metrics[i].key, sizeof c->metrics[i].key, "%s", a->metrics[i].key);
        c->metrics[i].value = a->metrics[i].value;
    }
}

/* Only `rule` of the graph rules enabled (VG_RULE_MAX: both). */
static inline void gt_init(struct gt_fixture *f, enum vg_rule_id rule) {
    memset(f, 0, sizeof *f);
    cr_assert_eq(vg_config_defaults(&f->cfg), VG_OK);
    if (rule != VG_RULE_MAX) {
        f->cfg.rules[VG_RULE_CYCLE].enabled = rule == VG_RULE_CYCLE;
        f->cfg.rules[VG_RULE_SCATTER_GATHER].enabled = rule == VG_RULE_SCATTER_GATHER;
    }
    f->newest_ts = VG_TS_NONE;
}

/* Creates the output and graph after the test has adjusted f->cfg. */
static inline void gt_start(struct gt_fixture *f) {
    f->out = vg_alert_out_create(&f->cfg, gt_collect, f);
    cr_assert_not_null(f->out);
    cr_assert_eq(vg_graph_create(&f->graph, &f->cfg), VG_OK);
}

static inline void gt_fini(struct gt_fixture *f) {
    vg_graph_destroy(f->graph);
    vg_alert_out_destroy(f->out);
    vg_config_free(&f->cfg);
}

static inline struct vg_cycle_params *gt_cycle(struct gt_fixture *f) {
    return f->cfg.rules[VG_RULE_CYCLE].params;
}

static inline struct vg_scatter_gather_params *gt_sg(struct gt_fixture *f) {
    return f->cfg.rules[VG_RULE_SCATTER_GATHER].params;
}

/* Feeds one transfer; the stream's newest event time follows it, as the engine computes it. */
static inline void gt_tx(struct gt_fixture *f, const char *id, const char *from, const char *to, int64_t ts_ms,
                  int64_t amount_micros) {
    struct vg_txn t;
    memset(&t, 0, sizeof t);
    cr_assert(strlen(id) <= VG_ID_MAX && strlen(from) <= VG_ID_MAX && strlen(to) <= VG_ID_MAX);
    t.seq = f->seq++;
    t.ts_ms = ts_ms;
    t.amount_micros = amount_micros;
    t.id_len = (uint8_t)strlen(id);
    t.from_len = (uint8_t)strlen(from);
    t.to_len = (uint8_t)strlen(to);
    memcpy(t.id, id, t.id_len);
    memcpy(t.from, from, t.from_len);
    memcpy(t.to, to, t.to_len);
    if (f->newest_ts == VG_TS_NONE || ts_ms > f->newest_ts) f->newest_ts = ts_ms;
    vg_graph_on_txn(f->graph, &f->cfg, &t, f->newest_ts, f->out);
}

static inline size_t gt_count(const struct gt_fixture *f, enum vg_rule_id rule, const char *account) {
    size_t n = 0;
    for (size_t i = 0; i < f->n_alerts; i++)
        if (f->alerts[i].rule == rule && (!account || strcmp(f->alerts[i].account, account) == 0)) n++;
    return n;
}

static inline const struct gt_alert *gt_find(const struct gt_fixture *f, enum vg_rule_id rule, const char *account) {
    for (size_t i = 0; i < f->n_alerts; i++)
        if (f->alerts[i].rule == rule && strcmp(f->alerts[i].account, account) == 0) return &f->alerts[i];
    return NULL;
}

static inline int64_t gt_metric(const struct gt_alert *a, const char *key) {
    for (size_t i = 0; i < a->n_metrics; i++)
        if (strcmp(a->metrics[i].key, key) == 0) return a->metrics[i].value;
    cr_assert_fail("metric %s missing", key);
    return -1;
}

static inline bool gt_has_account(const struct gt_alert *a, const char *account) {
    for (size_t i = 0; i < VG_MIN(a->n_accounts, (size_t)GT_MAX_LIST); i++)
        if (strcmp(a->accounts[i], account) == 0) return true;
    return false;
}

static inline struct vg_graph_stats gt_stats(const struct gt_fixture *f) {
    struct vg_graph_stats s;
    vg_graph_stats(f->graph, &s);
    return s;
}

/* ---- random transfers for differential tests ----------------------------------------- */

struct gt_edge {
    int from, to;
    int64_t ts_ms, amount_micros;
};

static inline uint64_t gt_rand(uint64_t *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return *state >> 33;
}

/* n transfers among n_accounts, roughly 30 min apart with up to +-2h of disorder (late
 * records), amounts 500 / 1000 / 3000 units. */
static inline void gt_random_edges(uint64_t seed, struct gt_edge *edges, int n, int n_accounts) {
    uint64_t st = seed * 2654435761ULL + 1;
    static const int64_t amounts[] = {UNITS(500), UNITS(1000), UNITS(3000)};
    for (int i = 0; i < n; i++) {
        edges[i].from = (int)(gt_rand(&st) % (uint64_t)n_accounts);
        do edges[i].to = (int)(gt_rand(&st) % (uint64_t)n_accounts); while (edges[i].to == edges[i].from);
        edges[i].ts_ms = T0 + i * 30 * MINUTE + (int64_t)(gt_rand(&st) % (4 * 60)) * MINUTE - 2 * HOUR;
        edges[i].amount_micros = amounts[gt_rand(&st) % 3];
    }
}

#endif
