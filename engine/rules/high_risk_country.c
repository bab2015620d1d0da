/* high_risk_country.c - rule `high_risk_country`: a transfer >= min_amount whose other end
 * is in a listed country: the sender's OUT event when to_country is listed, the receiver's
 * IN event when from_country is. Stateless. Semantics: docs/RULES.md. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"
#include "rules/rule_window.h"

static const struct vg_param_def high_risk_country_params[] = {
    {VG_PARAM_COUNTRIES, "countries", "[KP, IR, MM]", offsetof(struct vg_high_risk_country_params, countries),
     "ISO 3166 alpha-2 codes"},
    {VG_PARAM_MONEY, "min_amount", "1000", offsetof(struct vg_high_risk_country_params, min_amount_micros),
     "smallest transaction considered"},
    {0},
};

static void high_risk_country_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_high_risk_country_params *p = params;
    const struct vg_txn *tx = ctx->txn;
    if (tx->amount_micros < p->min_amount_micros) return;
    /* The sender deals with the receiving country, the receiver with the sending one. */
    const char *country = ctx->dir == VG_DIR_OUT ? tx->to_country : tx->from_country;
    if (country[0] == '\0' || !vg_name_list_contains(&p->countries, country, 2)) return;

    static _Thread_local struct vg_alert alert;
    vg_alert_init(&alert, VG_RULE_HIGH_RISK_COUNTRY, ctx->account.ptr, ctx->account.len, tx);
    alert.score = vg_score_strength((double)tx->amount_micros, (double)VG_MAX(p->min_amount_micros, 1));
    alert.window_start_ms = alert.window_end_ms = tx->ts_ms;
    vg_alert_add_tx(&alert, tx->id, tx->id_len);
    vg_alert_add_account(&alert, ctx->counterparty.ptr, ctx->counterparty.len);
    vg_alert_add_metric(&alert, "amount", VG_METRIC_MONEY, tx->amount_micros);
    vg_alert_add_metric(&alert, "country", VG_METRIC_CODE, vg_metric_code(country, 2));
    vg_alert_emit(out, &alert);
}

const struct vg_rule_def vg_rule_high_risk_country = {
    .name = "high_risk_country",
    .description = "A transaction to or from a high-risk jurisdiction",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_high_risk_country_params),
    .params = high_risk_country_params,
    .lookback_ms = NULL,
    .on_event = high_risk_country_on_event,
};
