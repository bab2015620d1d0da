/* dormant.c - rule `dormant`: a long-silent account that suddenly moves money.
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

static const struct vg_param_def dormant_params[] = {
    {VG_PARAM_DURATION, "dormancy", "180d", offsetof(struct vg_dormant_params, dormancy_ms),
     "silence needed"},
    {VG_PARAM_MONEY, "min_amount", "5000", offsetof(struct vg_dormant_params, min_amount_micros),
     "smallest waking transaction"},
    {0},
};

const struct vg_rule_def vg_rule_dormant = {
    .name = "dormant",
    .description = "A long-silent account that suddenly moves money",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_dormant_params),
    .params = dormant_params,
    .lookback_ms = NULL,
};
