/* scatter_gather.c - rule `scatter_gather`: an origin spraying funds through intermediaries into one sink.
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

static const struct vg_param_def scatter_gather_params[] = {
    {VG_PARAM_COUNT, "min_intermediaries", "3", offsetof(struct vg_scatter_gather_params, min_intermediaries),
     "distinct intermediaries needed"},
    {VG_PARAM_MONEY, "min_amount", "1000", offsetof(struct vg_scatter_gather_params, min_amount_micros),
     "smallest leg"},
    {VG_PARAM_DURATION, "window", "7d", offsetof(struct vg_scatter_gather_params, window_ms),
     "first leg to last forward"},
    {0},
};

static int64_t scatter_gather_lookback_ms(const void *params) {
    return ((const struct vg_scatter_gather_params *)params)->window_ms;
}

const struct vg_rule_def vg_rule_scatter_gather = {
    .name = "scatter_gather",
    .description = "An origin spraying funds through intermediaries into one sink",
    .stage = VG_STAGE_GRAPH,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_scatter_gather_params),
    .params = scatter_gather_params,
    .lookback_ms = scatter_gather_lookback_ms,
};
