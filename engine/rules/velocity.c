/* velocity.c - rule `velocity`: a burst far above the account's own baseline rate.
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

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

const struct vg_rule_def vg_rule_velocity = {
    .name = "velocity",
    .description = "A burst far above the account's own baseline rate",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_velocity_params),
    .params = velocity_params,
    .lookback_ms = velocity_lookback_ms,
};
