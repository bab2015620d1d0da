/* dormant.c - rule `dormant`: an event (either direction) of >= min_amount on an account
 * whose previous activity is >= dormancy older. Reads the current event and the account's
 * last-seen time, not its window. Semantics: docs/RULES.md. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"
#include "rules/rule_window.h"

static const struct vg_param_def dormant_params[] = {
    {VG_PARAM_DURATION, "dormancy", "180d", offsetof(struct vg_dormant_params, dormancy_ms),
     "silence needed"},
    {VG_PARAM_MONEY, "min_amount", "5000", offsetof(struct vg_dormant_params, min_amount_micros),
     "smallest waking transaction"},
    {0},
};

static void dormant_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_dormant_params *p = params;
    const struct vg_txn *tx = ctx->txn;
    if (tx->amount_micros < p->min_amount_micros || ctx->prev_last_seen_ms == VG_TS_NONE) return;
    /* The last activity before this event in event time. When this event is late (the
     * account has newer activity), only a retained earlier event can tell; without one
     * the gap is unknown and the rule stays silent. */
    int64_t last = ctx->current > 0 ? ctx->events[ctx->current - 1].ts_ms : VG_TS_NONE;
    if (ctx->prev_last_seen_ms <= tx->ts_ms) last = VG_MAX(last, ctx->prev_last_seen_ms);
    if (last == VG_TS_NONE) return;
    int64_t gap = tx->ts_ms - last;
    if (gap < p->dormancy_ms) return;

    static _Thread_local struct vg_alert alert;
    vg_alert_init(&alert, VG_RULE_DORMANT, ctx->account.ptr, ctx->account.len, tx);
    alert.score = vg_score_strength((double)gap, (double)VG_MAX(p->dormancy_ms, 1));
    alert.window_start_ms = last;
    alert.window_end_ms = tx->ts_ms;
    vg_alert_add_tx(&alert, tx->id, tx->id_len);
    vg_alert_add_account(&alert, ctx->counterparty.ptr, ctx->counterparty.len);
    vg_alert_add_metric(&alert, "dormant_for", VG_METRIC_DURATION, gap);
    vg_alert_add_metric(&alert, "amount", VG_METRIC_MONEY, tx->amount_micros);
    vg_alert_emit(out, &alert);
}

const struct vg_rule_def vg_rule_dormant = {
    .name = "dormant",
    .description = "A long-silent account that suddenly moves money",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_dormant_params),
    .params = dormant_params,
    .lookback_ms = NULL,
    .on_event = dormant_on_event,
};
