/* fan_in.c - rule `fan_in`: on an IN event, the account's IN events in the window come from
 * >= min_counterparties distinct senders (exact ids) and sum >= min_total. Also holds the
 * fan evaluation fan_out shares (vg_fan_on_event). Semantics: docs/RULES.md. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"
#include "rules/rule_window.h"

static const struct vg_param_def fan_in_params[] = {
    {VG_PARAM_COUNT, "min_counterparties", "8", offsetof(struct vg_fan_params, min_counterparties),
     "distinct senders needed"},
    {VG_PARAM_MONEY, "min_total", "5000", offsetof(struct vg_fan_params, min_total_micros),
     "total received needed"},
    {VG_PARAM_DURATION, "window", "72h", offsetof(struct vg_fan_params, window_ms),
     "event-time window"},
    {0},
};

static int64_t fan_in_lookback_ms(const void *params) {
    return ((const struct vg_fan_params *)params)->window_ms;
}

/* Distinct senders need at least as many events (shared with fan_out). */
int64_t vg_fan_min_events(const void *params) {
    return ((const struct vg_fan_params *)params)->min_counterparties;
}

/* The sums settle an in-order event: vg_fan_eval at it would find fewer events, less money
 * or fewer distinct counterparties than needed (shared with fan_out). */
bool vg_fan_settled(const struct vg_window_sums *sums, const struct vg_fan_params *p, enum vg_dir rule_dir,
                    enum vg_dir dir) {
    if (dir != rule_dir) return true; /* on_event does nothing */
    if (sums->window_ms != p->window_ms) return false;
    return sums->n[dir] < p->min_counterparties || sums->sum[dir] < p->min_total_micros ||
           sums->distinct[dir] < p->min_counterparties;
}

static bool fan_in_settled(const struct vg_window_sums *sums, const struct vg_txn *txn, enum vg_dir dir,
                           const void *params) {
    (void)txn;
    return vg_fan_settled(sums, params, VG_DIR_IN, dir);
}

static bool is_in_event(const struct vg_event_view *ev, const void *params) {
    (void)params;
    return ev->dir == VG_DIR_IN;
}

static bool is_out_event(const struct vg_event_view *ev, const void *params) {
    (void)params;
    return ev->dir == VG_DIR_OUT;
}

/* Evaluates the window ending at `anchor` over the events of direction dir. Shared with
 * fan_out (declared in rule_window.h). Returns true when an alert was emitted. */
bool vg_fan_eval(const struct vg_rule_ctx *ctx, const struct vg_fan_params *p, enum vg_rule_id rule,
                 enum vg_dir dir, size_t anchor, struct vg_alert_out *out) {
    const struct vg_event_view *ev = ctx->events;
    size_t lo = vg_rw_window_lo(ctx, anchor, p->window_ms);
    /* Counts and sums first: they are cheap and usually decide; hashing only if they pass. */
    int64_t n_tx = 0;
    __int128 total = 0;
    size_t first = anchor;
    for (size_t i = anchor + 1; i-- > lo;) {
        if (ev[i].dir != dir) continue;
        first = i;
        n_tx++;
        total += ev[i].amount_micros;
    }
    if (n_tx < p->min_counterparties || total < p->min_total_micros) return false;
    vg_distinct_reset(ctx->scratch, 0);
    for (size_t i = first; i <= anchor; i++)
        if (ev[i].dir == dir)
            vg_distinct_add(ctx->scratch, 0, ev[i].counterparty_hash, ev[i].counterparty, ev[i].counterparty_len);
    int64_t first_ts = ev[first].ts_ms;
    int64_t counterparties = (int64_t)vg_distinct_count(ctx->scratch, 0);
    if (counterparties < p->min_counterparties || total < p->min_total_micros) return false;

    static _Thread_local struct vg_alert alert;
    vg_alert_init(&alert, rule, ctx->account.ptr, ctx->account.len, ctx->txn);
    alert.score = vg_score_strength((double)counterparties, (double)VG_MAX(p->min_counterparties, 1));
    alert.window_start_ms = first_ts;
    alert.window_end_ms = ev[anchor].ts_ms;
    /* Evidence: the trigger first, then the window's transfers newest first. */
    size_t cap = vg_rw_evidence_cap(ctx);
    vg_alert_add_tx(&alert, ctx->txn->id, ctx->txn->id_len);
    vg_alert_add_account(&alert, ctx->counterparty.ptr, ctx->counterparty.len);
    for (size_t i = anchor + 1; i-- > lo && (alert.n_tx_ids < cap || alert.n_accounts < cap);) {
        if (ev[i].dir != dir) continue;
        if (alert.n_tx_ids < cap) vg_alert_add_tx(&alert, ev[i].tx_id, ev[i].tx_id_len);
        if (alert.n_accounts < cap) vg_alert_add_account(&alert, ev[i].counterparty, ev[i].counterparty_len);
    }
    vg_alert_add_metric(&alert, "counterparties", VG_METRIC_COUNT, counterparties);
    vg_alert_add_metric(&alert, "transactions", VG_METRIC_COUNT, n_tx);
    vg_alert_add_metric(&alert, "total", VG_METRIC_MONEY, vg_rw_clamp(total));
    return vg_alert_emit(out, &alert);
}

struct fan_eval_args {
    const struct vg_fan_params *params;
    enum vg_rule_id rule;
    enum vg_dir dir;
};

static bool fan_eval_at(const struct vg_rule_ctx *ctx, const void *arg, size_t anchor, struct vg_alert_out *out) {
    const struct fan_eval_args *a = arg;
    return vg_fan_eval(ctx, a->params, a->rule, a->dir, anchor, out);
}

/* Runs fan_in (dir IN) or fan_out (dir OUT) for the current event, and when it is late, for
 * the windows of newer events it falls into (vg_rw_late_windows). */
void vg_fan_on_event(const struct vg_rule_ctx *ctx, const struct vg_fan_params *p, enum vg_rule_id rule,
                     enum vg_dir dir, struct vg_alert_out *out) {
    if (ctx->dir != dir) return;
    if (vg_fan_eval(ctx, p, rule, dir, ctx->current, out)) return;
    struct fan_eval_args args = {.params = p, .rule = rule, .dir = dir};
    vg_rw_late_windows(ctx, p->window_ms, dir == VG_DIR_IN ? is_in_event : is_out_event, NULL, fan_eval_at, &args, out);
}

static void fan_in_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    vg_fan_on_event(ctx, params, VG_RULE_FAN_IN, VG_DIR_IN, out);
}

static bool fan_in_wants(const struct vg_txn *txn, enum vg_dir dir, bool late, const void *params) {
    return dir == VG_DIR_IN;
}

const struct vg_rule_def vg_rule_fan_in = {
    .name = "fan_in",
    .description = "Many distinct senders into one account",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_fan_params),
    .params = fan_in_params,
    .lookback_ms = fan_in_lookback_ms,
    .wants = fan_in_wants,
    .min_events = vg_fan_min_events,
    .settled = fan_in_settled,
    .on_event = fan_in_on_event,
};
