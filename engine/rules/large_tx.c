/* large_tx.c - rule `large_tx`: the sender's OUT event of one transaction at or above
 * threshold (base currency, after conversion), optionally only on the listed channels.
 * Stateless: reads only the current event. Semantics: docs/RULES.md. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

static const struct vg_param_def large_tx_params[] = {
    {VG_PARAM_MONEY, "threshold", "10000", offsetof(struct vg_large_tx_params, threshold_micros),
     "amount at or above which a transaction alerts"},
    {VG_PARAM_NAMES, "channels", "[]", offsetof(struct vg_large_tx_params, channels),
     "only these channels (lower-case); empty = all"},
    {0},
};

static void large_tx_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_large_tx_params *p = params;
    const struct vg_txn *tx = ctx->txn;
    if (ctx->dir != VG_DIR_OUT || tx->amount_micros < p->threshold_micros) return;
    if (p->channels.count > 0 && !vg_name_list_contains(&p->channels, tx->channel, tx->channel_len)) return;

    static _Thread_local struct vg_alert alert;
    vg_alert_init(&alert, VG_RULE_LARGE_TX, ctx->account.ptr, ctx->account.len, tx);
    alert.score = vg_score_strength((double)tx->amount_micros, (double)p->threshold_micros);
    alert.window_start_ms = alert.window_end_ms = tx->ts_ms;
    vg_alert_add_tx(&alert, tx->id, tx->id_len);
    vg_alert_add_account(&alert, ctx->counterparty.ptr, ctx->counterparty.len);
    vg_alert_add_metric(&alert, "amount", VG_METRIC_MONEY, tx->amount_micros);
    vg_alert_add_metric(&alert, "threshold", VG_METRIC_MONEY, p->threshold_micros);
    vg_alert_emit(out, &alert);
}

const struct vg_rule_def vg_rule_large_tx = {
    .name = "large_tx",
    .description = "One transaction at or above threshold (optionally only on listed channels)",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_large_tx_params),
    .params = large_tx_params,
    .lookback_ms = NULL,
    .on_event = large_tx_on_event,
};
