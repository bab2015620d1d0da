/* structuring.c - rule `structuring`: on an event whose amount is in the band
 * [threshold*(1-margin), threshold), counts the account's in-band events of the same
 * direction in the window; fires on >= min_count of them summing >= threshold. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"
#include "rules/rule_window.h"

static const struct vg_param_def structuring_params[] = {
    {VG_PARAM_MONEY, "threshold", "10000", offsetof(struct vg_structuring_params, threshold_micros),
     "the reporting threshold being avoided"},
    {VG_PARAM_RATIO, "margin", "0.15", offsetof(struct vg_structuring_params, margin_ppm),
     "band below threshold: [threshold*(1-margin), threshold)"},
    {VG_PARAM_COUNT, "min_count", "3", offsetof(struct vg_structuring_params, min_count),
     "transactions in the band needed"},
    {VG_PARAM_DURATION, "window", "72h", offsetof(struct vg_structuring_params, window_ms),
     "event-time window"},
    {0},
};

static int64_t structuring_lookback_ms(const void *params) {
    return ((const struct vg_structuring_params *)params)->window_ms;
}

/* True when amount lies in the band [threshold * (1 - margin), threshold), exactly. */
static int64_t structuring_min_events(const void *params) {
    return ((const struct vg_structuring_params *)params)->min_count;
}

static bool in_band(int64_t amount, const struct vg_structuring_params *p) {
    if (amount >= p->threshold_micros) return false;
    return (__int128)amount * VG_PPM >= (__int128)p->threshold_micros * (VG_PPM - p->margin_ppm);
}

struct band_trigger {
    const struct vg_structuring_params *params;
    uint8_t dir;
};

static bool is_band_trigger(const struct vg_event_view *ev, const void *arg) {
    const struct band_trigger *bt = arg;
    return ev->dir == bt->dir && in_band(ev->amount_micros, bt->params);
}

/* Evaluates the window ending at `anchor`; returns true when an alert was emitted. */
static bool structuring_eval(const struct vg_rule_ctx *ctx, const struct vg_structuring_params *p,
                             size_t anchor, struct vg_alert_out *out) {
    const struct vg_event_view *ev = ctx->events;
    uint8_t dir = ev[anchor].dir;
    size_t lo = vg_rw_window_lo(ctx, anchor, p->window_ms);
    int64_t count = 0;
    __int128 sum = 0;
    int64_t first_ts = ev[anchor].ts_ms;
    for (size_t i = lo; i <= anchor; i++) {
        if (ev[i].dir != dir || !in_band(ev[i].amount_micros, p)) continue;
        if (count == 0) first_ts = ev[i].ts_ms;
        count++;
        sum += ev[i].amount_micros;
    }
    if (count < p->min_count || sum < p->threshold_micros) return false;

    static _Thread_local struct vg_alert alert;
    vg_alert_init(&alert, VG_RULE_STRUCTURING, ctx->account.ptr, ctx->account.len, ctx->txn);
    alert.score = vg_score_strength((double)count, (double)VG_MAX(p->min_count, 1));
    alert.window_start_ms = first_ts;
    alert.window_end_ms = ev[anchor].ts_ms;
    /* Evidence: the trigger first, then the in-band events newest first. */
    size_t cap = vg_rw_evidence_cap(ctx);
    vg_alert_add_tx(&alert, ctx->txn->id, ctx->txn->id_len);
    for (size_t i = anchor + 1; i-- > lo && alert.n_tx_ids < cap;) {
        if (ev[i].dir != dir || !in_band(ev[i].amount_micros, p)) continue;
        vg_alert_add_tx(&alert, ev[i].tx_id, ev[i].tx_id_len);
        if (alert.n_accounts < cap) vg_alert_add_account(&alert, ev[i].counterparty, ev[i].counterparty_len);
    }
    vg_alert_add_metric(&alert, "count", VG_METRIC_COUNT, count);
    vg_alert_add_metric(&alert, "total", VG_METRIC_MONEY, vg_rw_clamp(sum));
    vg_alert_add_metric(&alert, "threshold", VG_METRIC_MONEY, p->threshold_micros);
    return vg_alert_emit(out, &alert);
}

static bool structuring_eval_at(const struct vg_rule_ctx *ctx, const void *params, size_t anchor,
                                struct vg_alert_out *out) {
    return structuring_eval(ctx, params, anchor, out);
}

static void structuring_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_structuring_params *p = params;
    if (!in_band(ctx->txn->amount_micros, p)) return;
    if (structuring_eval(ctx, p, ctx->current, out)) return;
    /* A late event also completes windows that end at newer in-band events. */
    struct band_trigger bt = {.params = p, .dir = (uint8_t)ctx->dir};
    vg_rw_late_windows(ctx, p->window_ms, is_band_trigger, &bt, structuring_eval_at, p, out);
}

/* The sums settle an in-order in-band event when its window's in-band events of its
 * direction are fewer than min_count or sum below the threshold. */
static bool structuring_settled(const struct vg_window_sums *sums, const struct vg_txn *txn, enum vg_dir dir,
                                const void *params) {
    (void)txn;
    const struct vg_structuring_params *p = params;
    if (sums->window_ms != p->window_ms || sums->band_threshold_micros != p->threshold_micros ||
        sums->band_margin_ppm != p->margin_ppm)
        return false;
    return sums->n_band[dir] < p->min_count || sums->sum_band[dir] < p->threshold_micros;
}

static bool structuring_wants(const struct vg_txn *txn, enum vg_dir dir, bool late, const void *params) {
    return in_band(txn->amount_micros, params);
}

const struct vg_rule_def vg_rule_structuring = {
    .name = "structuring",
    .description = "Repeated transactions just below the reporting threshold",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_structuring_params),
    .params = structuring_params,
    .lookback_ms = structuring_lookback_ms,
    .wants = structuring_wants,
    .min_events = structuring_min_events,
    .settled = structuring_settled,
    .on_event = structuring_on_event,
};
