/* large_tx.c - rule `large_tx`: one transaction at or above threshold (optionally only on listed channels).
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

static const struct vg_param_def large_tx_params[] = {
    {VG_PARAM_MONEY, "threshold", "10000", offsetof(struct vg_large_tx_params, threshold_micros),
     "amount at or above which a transaction alerts"},
    {VG_PARAM_NAMES, "channels", "[]", offsetof(struct vg_large_tx_params, channels),
     "only these channels (lower-case); empty = all"},
    {0},
};

const struct vg_rule_def vg_rule_large_tx = {
    .name = "large_tx",
    .description = "One transaction at or above threshold (optionally only on listed channels)",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_large_tx_params),
    .params = large_tx_params,
    .lookback_ms = NULL,
};
