/* watchlist.c - rule `watchlist`: a party's account id is on the watchlist file.
 * Definition and parameters: CONTRACT.md section 5. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"

static const struct vg_param_def watchlist_params[] = {
    {VG_PARAM_PATH, "file", "\"\"", offsetof(struct vg_watchlist_params, file),
     "list file: one id per line, # comments; reloaded on SIGHUP"},
    {0},
};

const struct vg_rule_def vg_rule_watchlist = {
    .name = "watchlist",
    .description = "A party's account id is on the watchlist file",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_watchlist_params),
    .params = watchlist_params,
    .lookback_ms = NULL,
};
