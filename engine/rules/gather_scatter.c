/* gather_scatter.c - rule `gather_scatter`: on an OUT event, the window's IN events reach
 * min_counterparties distinct senders at some point g, and the OUT events after g reach
 * min_counterparties distinct receivers; both sums >= min_total. Semantics: docs/RULES.md. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"
#include "rules/rule_window.h"

static const struct vg_param_def gather_scatter_params[] = {
    {VG_PARAM_COUNT, "min_counterparties", "5", offsetof(struct vg_gather_scatter_params, min_counterparties),
     "distinct senders and distinct receivers needed"},
    {VG_PARAM_MONEY, "min_total", "5000", offsetof(struct vg_gather_scatter_params, min_total_micros),
     "total gathered and total scattered needed"},
    {VG_PARAM_DURATION, "window", "72h", offsetof(struct vg_gather_scatter_params, window_ms),
     "event-time window"},
    {0},
};

static int64_t gather_scatter_lookback_ms(const void *params) {
    return ((const struct vg_gather_scatter_params *)params)->window_ms;
}

/* min_counterparties senders and as many receivers. */
static int64_t gather_scatter_min_events(const void *params) {
    int64_t n = ((const struct vg_gather_scatter_params *)params)->min_counterparties;
    return n > INT64_MAX / 2 ? INT64_MAX : 2 * n;
}

static bool is_out_event(const struct vg_event_view *ev, const void *params) {
    (void)params;
    return ev->dir == VG_DIR_OUT;
}

/* Evaluates the window ending at the OUT event `anchor`; returns true when an alert was
 * emitted. Scratch slot 0 holds the senders, slot 1 the receivers. */
static bool gather_scatter_eval(const struct vg_rule_ctx *ctx, const struct vg_gather_scatter_params *p,
                                size_t anchor, struct vg_alert_out *out) {
    const struct vg_event_view *ev = ctx->events;
    size_t lo = vg_rw_window_lo(ctx, anchor, p->window_ms);
    /* Cheap necessary conditions first: enough IN and OUT events, enough money in. */
    int64_t n_in = 0, n_out = 0;
    __int128 in_total = 0;
    for (size_t i = lo; i <= anchor; i++) {
        if (ev[i].dir == VG_DIR_IN) {
            n_in++;
            in_total += ev[i].amount_micros;
        } else {
            n_out++;
        }
    }
    if (n_in < p->min_counterparties || n_out < p->min_counterparties || in_total < p->min_total_micros)
        return false;
    vg_distinct_reset(ctx->scratch, 0);
    vg_distinct_reset(ctx->scratch, 1);
    /* g: the IN event at which the senders reach min_counterparties; only OUT events after
     * it count as the scatter. */
    bool gathered = p->min_counterparties <= 0;
    size_t scatter_from = lo;   /* g + 1 once gathered */
    __int128 gathered_total = 0, scattered_total = 0;
    int64_t first_ts = ev[anchor].ts_ms;
    bool seen_in = false;
    for (size_t i = lo; i <= anchor; i++) {
        const struct vg_event_view *e = &ev[i];
        if (e->dir == VG_DIR_IN) {
            if (!seen_in) first_ts = e->ts_ms;
            seen_in = true;
            gathered_total += e->amount_micros;
            vg_distinct_add(ctx->scratch, 0, e->counterparty_hash, e->counterparty, e->counterparty_len);
            if (!gathered && (int64_t)vg_distinct_count(ctx->scratch, 0) >= p->min_counterparties) {
                gathered = true;
                scatter_from = i + 1;
            }
        } else if (gathered) {
            scattered_total += e->amount_micros;
            vg_distinct_add(ctx->scratch, 1, e->counterparty_hash, e->counterparty, e->counterparty_len);
        }
    }
    int64_t senders = (int64_t)vg_distinct_count(ctx->scratch, 0);
    int64_t receivers = (int64_t)vg_distinct_count(ctx->scratch, 1);
    if (!gathered || receivers < p->min_counterparties || gathered_total < p->min_total_micros ||
        scattered_total < p->min_total_micros)
        return false;

    static _Thread_local struct vg_alert alert;
    vg_alert_init(&alert, VG_RULE_GATHER_SCATTER, ctx->account.ptr, ctx->account.len, ctx->txn);
    alert.score = vg_score_strength((double)VG_MIN(senders, receivers), (double)VG_MAX(p->min_counterparties, 1));
    alert.window_start_ms = first_ts;
    alert.window_end_ms = ev[anchor].ts_ms;
    /* Evidence: the trigger, the scatter newest first, then the gather newest first. */
    size_t cap = vg_rw_evidence_cap(ctx);
    vg_alert_add_tx(&alert, ctx->txn->id, ctx->txn->id_len);
    for (int pass = 0; pass < 2; pass++) {
        enum vg_dir dir = pass == 0 ? VG_DIR_OUT : VG_DIR_IN;
        size_t from = pass == 0 ? scatter_from : lo;
        for (size_t i = anchor + 1; i-- > from && (alert.n_tx_ids < cap || alert.n_accounts < cap);) {
            if (ev[i].dir != dir) continue;
            if (alert.n_tx_ids < cap) vg_alert_add_tx(&alert, ev[i].tx_id, ev[i].tx_id_len);
            if (alert.n_accounts < cap) vg_alert_add_account(&alert, ev[i].counterparty, ev[i].counterparty_len);
        }
    }
    vg_alert_add_metric(&alert, "senders", VG_METRIC_COUNT, senders);
    vg_alert_add_metric(&alert, "receivers", VG_METRIC_COUNT, receivers);
    vg_alert_add_metric(&alert, "gathered", VG_METRIC_MONEY, vg_rw_clamp(gathered_total));
    vg_alert_add_metric(&alert, "scattered", VG_METRIC_MONEY, vg_rw_clamp(scattered_total));
    return vg_alert_emit(out, &alert);
}

/* The sums settle an in-order OUT event when its window lacks IN or OUT events, money
 * gathered, distinct senders or distinct receivers (the scatter's are a subset of the
 * window's). */
static bool gather_scatter_settled(const struct vg_window_sums *sums, const struct vg_txn *txn, enum vg_dir dir,
                                   const void *params) {
    (void)txn;
    const struct vg_gather_scatter_params *p = params;
    int64_t k = p->min_counterparties;
    if (dir != VG_DIR_OUT || sums->window_ms != p->window_ms || k <= 0) return false;
    return sums->n[VG_DIR_IN] < k || sums->n[VG_DIR_OUT] < k || sums->sum[VG_DIR_IN] < p->min_total_micros ||
           sums->distinct[VG_DIR_IN] < k || sums->distinct[VG_DIR_OUT] < k;
}

static bool gather_scatter_eval_at(const struct vg_rule_ctx *ctx, const void *params, size_t anchor,
                                   struct vg_alert_out *out) {
    return gather_scatter_eval(ctx, params, anchor, out);
}

static void gather_scatter_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_gather_scatter_params *p = params;
    /* The trigger is an OUT event; a late event can still complete the windows that end at
     * newer OUT events, so those are evaluated too. */
    if (ctx->dir == VG_DIR_OUT && gather_scatter_eval(ctx, p, ctx->current, out)) return;
    vg_rw_late_windows(ctx, p->window_ms, is_out_event, NULL, gather_scatter_eval_at, p, out);
}

/* Triggered by OUT events; a late event may complete the window of a newer OUT. */
static bool gather_scatter_wants(const struct vg_txn *txn, enum vg_dir dir, bool late, const void *params) {
    return dir == VG_DIR_OUT || late;
}

const struct vg_rule_def vg_rule_gather_scatter = {
    .name = "gather_scatter",
    .description = "A hub that collects from many then disperses to many",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_gather_scatter_params),
    .params = gather_scatter_params,
    .lookback_ms = gather_scatter_lookback_ms,
    .wants = gather_scatter_wants,
    .min_events = gather_scatter_min_events,
    .settled = gather_scatter_settled,
    .on_event = gather_scatter_on_event,
};
