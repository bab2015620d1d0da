/* registry.c - the explicit list of rules, indexed by enum vg_rule_id (Suricata style:
 * adding a typology = one file in engine/rules/ + one line here + one enum value). */
#include "vigil/rule.h"

#include <string.h>

extern const struct vg_rule_def vg_rule_large_tx;
extern const struct vg_rule_def vg_rule_structuring;
extern const struct vg_rule_def vg_rule_fan_in;
extern const struct vg_rule_def vg_rule_fan_out;
extern const struct vg_rule_def vg_rule_pass_through;
extern const struct vg_rule_def vg_rule_cycle;
extern const struct vg_rule_def vg_rule_scatter_gather;
extern const struct vg_rule_def vg_rule_gather_scatter;
extern const struct vg_rule_def vg_rule_velocity;
extern const struct vg_rule_def vg_rule_dormant;
extern const struct vg_rule_def vg_rule_watchlist;
extern const struct vg_rule_def vg_rule_high_risk_country;
extern const struct vg_rule_def vg_rule_sanctions;

const struct vg_rule_def *const vg_rule_registry[VG_RULE_MAX] = {
    [VG_RULE_LARGE_TX] = &vg_rule_large_tx,
    [VG_RULE_STRUCTURING] = &vg_rule_structuring,
    [VG_RULE_FAN_IN] = &vg_rule_fan_in,
    [VG_RULE_FAN_OUT] = &vg_rule_fan_out,
    [VG_RULE_PASS_THROUGH] = &vg_rule_pass_through,
    [VG_RULE_CYCLE] = &vg_rule_cycle,
    [VG_RULE_SCATTER_GATHER] = &vg_rule_scatter_gather,
    [VG_RULE_GATHER_SCATTER] = &vg_rule_gather_scatter,
    [VG_RULE_VELOCITY] = &vg_rule_velocity,
    [VG_RULE_DORMANT] = &vg_rule_dormant,
    [VG_RULE_WATCHLIST] = &vg_rule_watchlist,
    [VG_RULE_HIGH_RISK_COUNTRY] = &vg_rule_high_risk_country,
    [VG_RULE_SANCTIONS] = &vg_rule_sanctions,
};

int vg_rule_find(const char *name, size_t len) {
    for (int i = 0; i < VG_RULE_MAX; i++) {
        const char *n = vg_rule_registry[i]->name;
        if (strlen(n) == len && memcmp(n, name, len) == 0) return i;
    }
    return -1;
}

const char *vg_severity_name(enum vg_severity s) {
    switch (s) {
    case VG_SEVERITY_LOW: return "low";
    case VG_SEVERITY_MEDIUM: return "medium";
    case VG_SEVERITY_HIGH: return "high";
    }
    return "medium";
}

double vg_score_strength(double observed, double threshold) {
    if (threshold <= 0 || observed <= 0) return observed > 0 ? 1.0 : 0.0;
    double s = 1.0 - 0.5 * threshold / observed;
    return s < 0 ? 0 : (s > 1 ? 1 : s);
}
