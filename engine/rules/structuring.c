/* structuring.c - rule `structuring`: repeated transactions just below the reporting threshold.
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

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

const struct vg_rule_def vg_rule_structuring = {
    .name = "structuring",
    .description = "Repeated transactions just below the reporting threshold",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_structuring_params),
    .params = structuring_params,
    .lookback_ms = structuring_lookback_ms,
};
