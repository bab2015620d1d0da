/* velocity.c - rule `velocity`: an account active for >= min_history makes or receives
 * >= min_count events in the window and more than factor times its own rate over the
 * preceding baseline (from the activity histogram). Semantics: docs/RULES.md. */
#include <stddef.h>

#include "vigil/alert.h"
#include "account_store.h"
#include "rules/rule_params.h"
#include "rules/rule_window.h"

static const struct vg_param_def velocity_params[] = {
    {VG_PARAM_DURATION, "window", "1h", offsetof(struct vg_velocity_params, window_ms),
     "burst window"},
    {VG_PARAM_DURATION, "baseline", "30d", offsetof(struct vg_velocity_params, baseline_ms),
     "history the rate is measured over"},
    {VG_PARAM_DURATION, "min_history", "7d", offsetof(struct vg_velocity_params, min_history_ms),
     "activity span needed before the rule applies"},
    {VG_PARAM_RATIO, "factor", "10", offsetof(struct vg_velocity_params, factor_ppm),
     "how many times the baseline rate"},
    {VG_PARAM_COUNT, "min_count", "20", offsetof(struct vg_velocity_params, min_count),
     "transactions in the window needed"},
    {0},
};

static int64_t velocity_lookback_ms(const void *params) {
    return ((const struct vg_velocity_params *)params)->window_ms;
}

static int64_t velocity_min_events(const void *params) {
    return ((const struct vg_velocity_params *)params)->min_count;
}

/* velocity_eval needs first_seen <= t - min_history at the window's anchor t, and no
 * anchor (the current event, or a newer one a late event adds to) is newer than the
 * account's last_seen: an account younger than that is skipped before its view is built. */
static bool velocity_account_ready(int64_t first_seen_ms, int64_t last_seen_ms, const void *params) {
    const struct vg_velocity_params *p = params;
    return first_seen_ms <= vg_rw_sub(last_seen_ms, p->min_history_ms);
}

/* Events of the account in [from_ms, window_start) - the baseline - from the activity
 * histogram. The histogram is exact on bucket boundaries and proportional inside a bucket,
 * and the bucket holding window_start also holds the burst being judged: spread
 * proportionally, the burst would leak into its own baseline (up to a whole burst of
 * phantom events, silencing a burst at the factor boundary). So that bucket's part before
 * window_start is its exact count minus the events the view holds in [window_start,
 * bucket end); only the far edge of a long baseline stays an estimate, and only for an
 * account older than the baseline (velocity_eval counts a younger one from its start).
 * Can't fail. */
struct baseline_parts {
    uint64_t exact;         /* the baseline, when no event of the window is needed */
    uint64_t before_bucket; /* else: [from, b_lo) */
    uint64_t in_bucket;     /* and the whole bucket [b_lo, b_hi) holding window_start */
    int64_t b_hi;
};

/* Returns false when the histogram alone gives the baseline (parts->exact); true when the
 * events of the window in [window_start, parts->b_hi) must be taken off parts->in_bucket. */
static bool baseline_split(const struct vg_activity *act, int64_t from_ms, int64_t window_start,
                           struct baseline_parts *parts) {
    int64_t bucket_ms = act ? (int64_t)act->bucket_minutes * 60000 : 0;
    if (bucket_ms <= 0 || window_start <= INT64_MIN + bucket_ms || window_start >= INT64_MAX - bucket_ms) {
        parts->exact = vg_activity_count(act, from_ms, window_start);
        return false;
    }
    int64_t b_lo = window_start / bucket_ms * bucket_ms;
    if (b_lo > window_start) b_lo -= bucket_ms;             /* floor for negative times */
    if (b_lo == window_start || from_ms >= b_lo) {
        parts->exact = vg_activity_count(act, from_ms, window_start);
        return false;
    }
    parts->b_hi = b_lo + bucket_ms;
    parts->in_bucket = vg_activity_count(act, b_lo, parts->b_hi);   /* whole bucket: exact */
    parts->before_bucket = vg_activity_count(act, from_ms, b_lo);
    return true;
}

static uint64_t velocity_baseline(const struct vg_rule_ctx *ctx, int64_t from_ms, int64_t window_start) {
    struct baseline_parts parts;
    if (!baseline_split(ctx->activity, from_ms, window_start, &parts)) return parts.exact;
    size_t i = vg_rw_lower(ctx->events, ctx->n_events, window_start);
    uint64_t after = 0;
    for (; i < ctx->n_events && ctx->events[i].ts_ms < parts.b_hi; i++) after++;
    uint64_t before = parts.in_bucket > after ? parts.in_bucket - after : 0;
    return parts.before_bucket + before;
}

/* Evaluates the window ending at `anchor`; returns true when an alert was emitted. */
static bool velocity_eval(const struct vg_rule_ctx *ctx, const struct vg_velocity_params *p, size_t anchor,
                          struct vg_alert_out *out) {
    const struct vg_event_view *ev = ctx->events;
    int64_t t = ev[anchor].ts_ms;
    if (ctx->first_seen_ms > vg_rw_sub(t, p->min_history_ms)) return false;
    size_t lo = vg_rw_window_lo(ctx, anchor, p->window_ms);
    int64_t n = (int64_t)(anchor + 1 - lo);
    if (n < p->min_count) return false;

    /* Baseline: events in [t - W - baseline, t - W) over the span the account existed. */
    int64_t window_start = vg_rw_sub(t, p->window_ms);
    int64_t span = VG_MIN(p->baseline_ms, window_start - ctx->first_seen_ms);
    if (span <= 0) return false;
    /* An account first seen inside the baseline has no activity before it, so its baseline
     * is everything before window_start: counted without the proportional far edge. */
    int64_t from = vg_rw_sub(window_start, p->baseline_ms);
    if (ctx->first_seen_ms >= from) from = INT64_MIN;
    uint64_t b = velocity_baseline(ctx, from, window_start);
    /* n > factor * b * W / span, exactly. */
    __int128 lhs = (__int128)n * span * VG_PPM;
    __int128 rhs = (__int128)p->factor_ppm * (__int128)b * p->window_ms;
    if (lhs <= rhs) return false;

    /* expected events per window at the baseline rate, in ppm of one event */
    int64_t expected_ppm = vg_rw_clamp((__int128)b * p->window_ms * VG_PPM / span);
    double burst_threshold = (double)expected_ppm / (double)VG_PPM * ((double)p->factor_ppm / (double)VG_PPM);
    static _Thread_local struct vg_alert alert;
    vg_alert_init(&alert, VG_RULE_VELOCITY, ctx->account.ptr, ctx->account.len, ctx->txn);
    alert.score = vg_score_strength((double)n, VG_MAX((double)VG_MAX(p->min_count, 1), burst_threshold));
    alert.window_start_ms = ev[lo].ts_ms;
    alert.window_end_ms = t;
    /* Evidence: the trigger first, then the window's events newest first. */
    size_t cap = vg_rw_evidence_cap(ctx);
    vg_alert_add_tx(&alert, ctx->txn->id, ctx->txn->id_len);
    vg_alert_add_account(&alert, ctx->counterparty.ptr, ctx->counterparty.len);
    for (size_t i = anchor + 1; i-- > lo && (alert.n_tx_ids < cap || alert.n_accounts < cap);) {
        if (alert.n_tx_ids < cap) vg_alert_add_tx(&alert, ev[i].tx_id, ev[i].tx_id_len);
        if (alert.n_accounts < cap) vg_alert_add_account(&alert, ev[i].counterparty, ev[i].counterparty_len);
    }
    vg_alert_add_metric(&alert, "count", VG_METRIC_COUNT, n);
    vg_alert_add_metric(&alert, "baseline_count", VG_METRIC_COUNT, vg_rw_clamp(b));
    vg_alert_add_metric(&alert, "baseline_span", VG_METRIC_DURATION, span);
    vg_alert_add_metric(&alert, "expected", VG_METRIC_RATIO, expected_ppm);
    return vg_alert_emit(out, &alert);
}

/* The sums settle an in-order event as velocity_eval would at it: too young, too few events
 * in the window, or a burst not above the baseline. The baseline's near bucket loses the
 * window's events in it, at most all n of them: with that bound the baseline can only be
 * underestimated, so "not above" stays true for the exact one. */
static bool velocity_settled(const struct vg_window_sums *sums, const struct vg_txn *txn, enum vg_dir dir,
                             const void *params) {
    (void)dir;
    const struct vg_velocity_params *p = params;
    if (sums->short_window_ms != p->window_ms || !sums->activity) return false;
    int64_t t = txn->ts_ms;
    if (sums->first_seen_ms > vg_rw_sub(t, p->min_history_ms)) return true;
    int64_t n = sums->n_short;
    if (n < p->min_count) return true;
    int64_t window_start = vg_rw_sub(t, p->window_ms);
    int64_t span = VG_MIN(p->baseline_ms, window_start - sums->first_seen_ms);
    if (span <= 0) return true;
    int64_t from = vg_rw_sub(window_start, p->baseline_ms);
    if (sums->first_seen_ms >= from) from = INT64_MIN;
    struct baseline_parts parts;
    uint64_t b;
    if (baseline_split(sums->activity, from, window_start, &parts))
        b = parts.before_bucket + (parts.in_bucket > (uint64_t)n ? parts.in_bucket - (uint64_t)n : 0);
    else
        b = parts.exact;
    __int128 lhs = (__int128)n * span * VG_PPM;
    __int128 rhs = (__int128)p->factor_ppm * (__int128)b * p->window_ms;
    return lhs <= rhs;
}

static bool velocity_eval_at(const struct vg_rule_ctx *ctx, const void *params, size_t anchor,
                             struct vg_alert_out *out) {
    return velocity_eval(ctx, params, anchor, out);
}

static void velocity_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_velocity_params *p = params;
    if (velocity_eval(ctx, p, ctx->current, out)) return;
    /* A late event also adds to the windows that end at newer events. */
    vg_rw_late_windows(ctx, p->window_ms, NULL, NULL, velocity_eval_at, p, out);
}

const struct vg_rule_def vg_rule_velocity = {
    .name = "velocity",
    .description = "A burst far above the account's own baseline rate",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_velocity_params),
    .params = velocity_params,
    .lookback_ms = velocity_lookback_ms,
    .min_events = velocity_min_events,
    .account_ready = velocity_account_ready,
    .settled = velocity_settled,
    .on_event = velocity_on_event,
};
