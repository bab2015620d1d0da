/* cycle.c - rule `cycle`: money returning to its origin through a time-ordered ring.
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

static const struct vg_param_def cycle_params[] = {
    {VG_PARAM_COUNT, "max_hops", "6", offsetof(struct vg_cycle_params, max_hops),
     "longest ring (transfers) searched, 2..16"},
    {VG_PARAM_MONEY, "min_amount", "1000", offsetof(struct vg_cycle_params, min_amount_micros),
     "smallest transfer on a hop"},
    {VG_PARAM_DURATION, "window", "7d", offsetof(struct vg_cycle_params, window_ms),
     "first to last hop"},
    {0},
};

static int64_t cycle_lookback_ms(const void *params) {
    return ((const struct vg_cycle_params *)params)->window_ms;
}

const struct vg_rule_def vg_rule_cycle = {
    .name = "cycle",
    .description = "Money returning to its origin through a time-ordered ring",
    .stage = VG_STAGE_GRAPH,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_cycle_params),
    .params = cycle_params,
    .lookback_ms = cycle_lookback_ms,
};
