/* fan_in.c - rule `fan_in`: many distinct senders into one account.
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

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

const struct vg_rule_def vg_rule_fan_in = {
    .name = "fan_in",
    .description = "Many distinct senders into one account",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_fan_params),
    .params = fan_in_params,
    .lookback_ms = fan_in_lookback_ms,
};
