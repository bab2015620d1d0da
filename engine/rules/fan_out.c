/* fan_out.c - rule `fan_out`: on an OUT event, the account's OUT events in the window go to
 * >= min_counterparties distinct receivers (exact ids) and sum >= min_total. The evaluation
 * is fan_in's, mirrored (vg_fan_on_event in fan_in.c). Semantics: docs/RULES.md. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"
#include "rules/rule_window.h"

static const struct vg_param_def fan_out_params[] = {
    {VG_PARAM_COUNT, "min_counterparties", "8", offsetof(struct vg_fan_params, min_counterparties),
     "distinct receivers needed"},
    {VG_PARAM_MONEY, "min_total", "5000", offsetof(struct vg_fan_params, min_total_micros),
     "total sent needed"},
    {VG_PARAM_DURATION, "window", "72h", offsetof(struct vg_fan_params, window_ms),
     "event-time window"},
    {0},
};

static int64_t fan_out_lookback_ms(const void *params) {
    return ((const struct vg_fan_params *)params)->window_ms;
}

static bool fan_out_settled(const struct vg_window_sums *sums, const struct vg_txn *txn, enum vg_dir dir,
                            const void *params) {
    (void)txn;
    return vg_fan_settled(sums, params, VG_DIR_OUT, dir);
}

static void fan_out_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    vg_fan_on_event(ctx, params, VG_RULE_FAN_OUT, VG_DIR_OUT, out);
}

static bool fan_out_wants(const struct vg_txn *txn, enum vg_dir dir, bool late, const void *params) {
    return dir == VG_DIR_OUT;
}

const struct vg_rule_def vg_rule_fan_out = {
    .name = "fan_out",
    .description = "One account paying many distinct receivers",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_fan_params),
    .params = fan_out_params,
    .lookback_ms = fan_out_lookback_ms,
    .wants = fan_out_wants,
    .min_events = vg_fan_min_events,
    .settled = fan_out_settled,
    .on_event = fan_out_on_event,
};
