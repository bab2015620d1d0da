/* pass_through.c - rule `pass_through`: funds received and sent on quickly (rapid movement).
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

static const struct vg_param_def pass_through_params[] = {
    {VG_PARAM_MONEY, "min_amount", "5000", offsetof(struct vg_pass_through_params, min_amount_micros),
     "smallest receipt considered"},
    {VG_PARAM_RATIO, "ratio", "0.8", offsetof(struct vg_pass_through_params, ratio_ppm),
     "share of the receipt that must leave"},
    {VG_PARAM_DURATION, "window", "48h", offsetof(struct vg_pass_through_params, window_ms),
     "time after the receipt"},
    {0},
};

static int64_t pass_through_lookback_ms(const void *params) {
    return ((const struct vg_pass_through_params *)params)->window_ms;
}

const struct vg_rule_def vg_rule_pass_through = {
    .name = "pass_through",
    .description = "Funds received and sent on quickly (rapid movement)",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_pass_through_params),
    .params = pass_through_params,
    .lookback_ms = pass_through_lookback_ms,
};
