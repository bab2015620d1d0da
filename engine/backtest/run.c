/* run.c - backtest: one engine run over the in-memory data set. Starts the production
 * engine (engine.c, public API only) with an in-memory alert sink, submits every record in
 * file order as replay would, and collects each alert's rule, account, window and evidence
 * (resolved to data-set positions) for score.c.
 * engine/backtest/ is vigil-backtest's logic: dataset.c (labelled records in memory), run.c,
 * score.c (the figures), sweep.c (grid specs), grid.c (points run in parallel). */
#include "backtest_internal.h"

#include <stdlib.h>
#include <string.h>

#include "vigil/alert.h"
#include "vigil/engine.h"

void bt_alerts_free(struct bt_alerts *a) {
    free(a->v);
    free(a->accounts);
    free(a->evidence);
    memset(a, 0, sizeof *a);
}

/* Grows *buf (elem bytes each) to hold need elements. Returns false on allocation failure. */
static bool reserve(void **buf, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 1024;
    while (n < need) n *= 2;
    void *b = realloc(*buf, n * elem);
    if (!b) return false;
    *buf = b;
    *cap = n;
    return true;
}

/* The integer after `"key":` in an alert line, or 0. */
static int64_t json_int(const char *json, size_t len, const char *key) {
    const char *p = memmem(json, len, key, strlen(key));
    if (!p) return 0;
    p += strlen(key);
    bool neg = *p == '-';
    if (neg) p++;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    return neg ? -v : v;
}

static int hex(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0;
}

/* Reads the JSON string at *pp (on its opening quote) into out (unescaped, the \u00XX that
 * vg_json_escape writes for raw bytes back to bytes). Returns its length; *pp after it. */
static size_t json_string(const char **pp, const char *end, char *out, size_t cap) {
    const char *p = *pp + 1;
    size_t n = 0;
    while (p < end && *p != '"') {
        char c = *p++;
        if (c == '\\' && p < end) {
            char e = *p++;
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u':
                if (end - p >= 4) c = (char)(hex(p[2]) * 16 + hex(p[3]));
                p += 4;
                break;
            default: c = e; break;
            }
        }
        if (n < cap) out[n++] = c;
    }
    *pp = p < end ? p + 1 : end;
    return n;
}

/* The sink's opaque: the alerts, and the data set they resolve against. Used only by the
 * collector thread while the engine runs. */
struct bt_sink {
    struct bt_alerts alerts;
    const vg_bt_data_t *d;
};

static int sink_on_alert(void *opaque, const struct vg_alert_record *rec) {
    struct bt_sink *s = opaque;
    struct bt_alerts *a = &s->alerts;
    const vg_bt_data_t *d = s->d;
    if (a->oom) return -1;
    if (!reserve((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v) ||
        !reserve((void **)&a->accounts, &a->accounts_cap, a->accounts_len + rec->account_len, 1)) {
        a->oom = true;
        return -1;
    }
    struct bt_alert *al = &a->v[a->n];
    al->rule = rec->rule;
    al->window_start_ms = json_int(rec->json, rec->json_len, "\"window_start\":");
    al->window_end_ms = json_int(rec->json, rec->json_len, "\"window_end\":");
    al->account_off = a->accounts_len;
    al->account_len = rec->account_len;
    memcpy(a->accounts + a->accounts_len, rec->account, rec->account_len);
    a->accounts_len += rec->account_len;
    al->evidence_first = a->evidence_len;
    al->evidence_count = 0;
    const char *end = rec->json + rec->json_len;
    const char *p = memmem(rec->json, rec->json_len, "\"tx_ids\":[", 10);
    if (p) p += 10;
    while (p && p < end && *p == '"') {
        char id[VG_ID_MAX];
        size_t n = json_string(&p, end, id, sizeof id);
        int64_t at = vg_bt_data_find(d, id, n);
        if (at < 0) {
            a->unresolved++;
        } else {
            if (!reserve((void **)&a->evidence, &a->evidence_cap, a->evidence_len + 1, sizeof *a->evidence)) {
                a->oom = true;
                return -1;
            }
            a->evidence[a->evidence_len++] = (uint32_t)at;
            al->evidence_count++;
        }
        if (p < end && *p == ',') p++;
    }
    a->n++;
    return 0;
}

int vg_bt_run(const vg_bt_data_t *d, const struct vg_bt_patterns *p, const struct vg_config *cfg,
              struct vg_bt_figures *out, char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof *out);
    if (p && !vg_bt_data_has_identities(d)) {
        snprintf(errstr, errstr_size, "backtest: patterns given but the data set has no identity index");
        return VG_ERR_INVALID;
    }
    struct vg_config *run_cfg = malloc(sizeof *run_cfg);
    struct bt_sink *sink = calloc(1, sizeof *sink);
    int rc = VG_ERR_NOMEM;
    if (!run_cfg || !sink) {
        snprintf(errstr, errstr_size, "backtest: out of memory");
        goto out;
    }
    /* A shallow copy: rule params stay the caller's; only the evidence cap differs. */
    memcpy(run_cfg, cfg, sizeof *run_cfg);
    run_cfg->alerts.max_evidence = VG_EVIDENCE_MAX;
    run_cfg->state.dir[0] = '\0'; /* a backtest never reads or writes checkpoints */
    sink->d = d;
    struct vg_alert_sink alert_sink = {.opaque = sink, .on_alert = sink_on_alert};
    struct vg_engine *engine = NULL;
    int64_t t0 = vg_now_mono_ns();
    rc = vg_engine_start(&engine, run_cfg, &alert_sink, errstr, errstr_size);
    if (rc != VG_OK) goto out;
    size_t n = vg_bt_data_size(d);
    struct vg_txn txn;
    int64_t arrival = vg_now_mono_ns();
    for (size_t i = 0; i < n; i++) {
        vg_bt_data_txn(d, i, &txn);
        txn.seq = vg_engine_next_seq(engine);
        if ((i & 4095) == 0) arrival = vg_now_mono_ns();
        vg_engine_submit(engine, &txn, arrival);
    }
    vg_engine_flush(engine);
    vg_engine_drain(engine);
    rc = vg_engine_stop(engine);
    out->seconds = (double)(vg_now_mono_ns() - t0) / 1e9;
    if (rc != VG_OK || sink->alerts.oom) {
        snprintf(errstr, errstr_size, "backtest: out of memory collecting alerts");
        rc = VG_ERR_NOMEM;
        goto out;
    }
    rc = bt_score(d, p, &sink->alerts, out);
    if (rc != VG_OK) {
        snprintf(errstr, errstr_size, "backtest: out of memory scoring alerts");
        goto out;
    }
    for (int r = 0; r < VG_RULE_MAX; r++) out->rule[r].enabled = cfg->rules[r].enabled;
    out->rule[VG_BT_ALL].enabled = true;
out:
    if (sink) bt_alerts_free(&sink->alerts);
    free(sink);
    free(run_cfg);
    return rc;
}
