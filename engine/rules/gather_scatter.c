/* gather_scatter.c - rule `gather_scatter`: a hub that collects from many then disperses to many.
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

static const struct vg_param_def gather_scatter_params[] = {
    {VG_PARAM_COUNT, "min_counterparties", "5", offsetof(struct vg_gather_scatter_params, min_counterparties),
     "distinct senders and distinct receivers needed"},
    {VG_PARAM_MONEY, "min_total", "5000", offsetof(struct vg_gather_scatter_params, min_total_micros),
     "total gathered and total scattered needed"},
    {VG_PARAM_DURATION, "window", "72h", offsetof(struct vg_gather_scatter_params, window_ms),
     "event-time window"},
    {0},
};

static int64_t gather_scatter_lookback_ms(const void *params) {
    return ((const struct vg_gather_scatter_params *)params)->window_ms;
}

const struct vg_rule_def vg_rule_gather_scatter = {
    .name = "gather_scatter",
    .description = "A hub that collects from many then disperses to many",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_gather_scatter_params),
    .params = gather_scatter_params,
    .lookback_ms = gather_scatter_lookback_ms,
};
