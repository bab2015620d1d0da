/* high_risk_country.c - rule `high_risk_country`: a transaction to or from a high-risk jurisdiction.
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

static const struct vg_param_def high_risk_country_params[] = {
    {VG_PARAM_COUNTRIES, "countries", "[KP, IR, MM]", offsetof(struct vg_high_risk_country_params, countries),
     "ISO 3166 alpha-2 codes"},
    {VG_PARAM_MONEY, "min_amount", "1000", offsetof(struct vg_high_risk_country_params, min_amount_micros),
     "smallest transaction considered"},
    {0},
};

const struct vg_rule_def vg_rule_high_risk_country = {
    .name = "high_risk_country",
    .description = "A transaction to or from a high-risk jurisdiction",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_MEDIUM,
    .params_size = sizeof(struct vg_high_risk_country_params),
    .params = high_risk_country_params,
    .lookback_ms = NULL,
};
