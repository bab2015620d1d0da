/* config_diff.c - what a SIGHUP reload changed, for the log: one reload_changed line per
 * key whose value differs (rule thresholds, windows, lists, alert settings), the size of
 * every loaded list file, or reload_unchanged. Reads two loaded configs; changes nothing. */
#include "vigil/config_diff.h"

#include <stdio.h>
#include <string.h>

#include "rules/rule_params.h"
#include "vigil/log.h"
#include "vigil/money.h"

/* "7d", "72h", "90s", "250ms": the largest unit the value is a whole number of, days only
 * from a week up (as the defaults are written: 24h, 72h, 7d, 30d). */
static void fmt_duration(int64_t ms, char *buf, size_t cap) {
    static const struct { int64_t ms; const char *unit; } units[] = {
        {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms != 0 && ms % units[i].ms == 0 && (i > 0 || ms >= 7 * units[0].ms)) {
            snprintf(buf, cap, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    snprintf(buf, cap, "%lldms", (long long)ms);
}

static void fmt_list(const struct vg_name_list *list, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < list->count && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%.*s", i ? "," : "", (int)list->lens[i], list->names[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* One parameter's value as it would be written in vigil.yaml. */
static void fmt_param(const struct vg_param_def *def, const void *params, char *buf, size_t cap) {
    const char *field = (const char *)params + def->offset;
    int64_t v = 0;
    char money[32];
    if (def->type != VG_PARAM_PATH && def->type != VG_PARAM_COUNTRIES && def->type != VG_PARAM_NAMES &&
        def->type != VG_PARAM_LIST_FILES)
        memcpy(&v, field, sizeof v);
    switch (def->type) {
    case VG_PARAM_DURATION: fmt_duration(v, buf, cap); break;
    case VG_PARAM_MONEY:
    case VG_PARAM_RATIO:
        money[vg_money_format(v, money)] = '\0';
        snprintf(buf, cap, "%s", money);
        break;
    case VG_PARAM_COUNT: snprintf(buf, cap, "%lld", (long long)v); break;
    case VG_PARAM_PATH: snprintf(buf, cap, "\"%.200s\"", field); break;
    case VG_PARAM_COUNTRIES:
    case VG_PARAM_NAMES: fmt_list((const struct vg_name_list *)(const void *)field, buf, cap); break;
    case VG_PARAM_LIST_FILES: { /* the lists log their own sizes when (re)loaded */
        const struct vg_list_files *lf = (const void *)field;
        size_t n = (size_t)snprintf(buf, cap, "[");
        for (uint32_t i = 0; i < lf->count && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s:%s", i ? "," : "", lf->lists[i].name, lf->lists[i].format);
        if (n < cap) snprintf(buf + n, cap - n, "]");
        break;
    }
    }
}

static int changed(const char *key, const char *was, const char *now) {
    if (strcmp(was, now) == 0) return 0;
    vg_info("reload_changed", "key=%s old=%s new=%s", key, was, now);
    return 1;
}

void vg_config_log_changes(const struct vg_config *old, const struct vg_config *fresh) {
    char key[128], a[512], b[512];
    int n = 0;
    fmt_duration(old->alerts.cooldown_ms, a, sizeof a);
    fmt_duration(fresh->alerts.cooldown_ms, b, sizeof b);
    n += changed("alerts.cooldown", a, b);
    snprintf(a, sizeof a, "%u", old->alerts.max_evidence);
    snprintf(b, sizeof b, "%u", fresh->alerts.max_evidence);
    n += changed("alerts.max_evidence", a, b);
    fmt_duration(old->engine.allowed_lateness_ms, a, sizeof a);
    fmt_duration(fresh->engine.allowed_lateness_ms, b, sizeof b);
    n += changed("engine.allowed_lateness", a, b);
    n += changed("currency.base", old->currency.base, fresh->currency.base);
    for (int id = 0; id < VG_RULE_MAX; id++) {
        const struct vg_rule_def *def = vg_rule_registry[id];
        const struct vg_rule_config *o = &old->rules[id], *f = &fresh->rules[id];
        snprintf(key, sizeof key, "rules.%s.enabled", def->name);
        n += changed(key, o->enabled ? "true" : "false", f->enabled ? "true" : "false");
        snprintf(key, sizeof key, "rules.%s.severity", def->name);
        n += changed(key, vg_severity_name(o->severity), vg_severity_name(f->severity));
        for (const struct vg_param_def *p = def->params; p && p->key; p++) {
            if (!o->params || !f->params) break;
            fmt_param(p, o->params, a, sizeof a);
            fmt_param(p, f->params, b, sizeof b);
            snprintf(key, sizeof key, "rules.%s.%s", def->name, p->key);
            n += changed(key, a, b);
        }
    }
    /* List files are read again on every reload, changed or not: say what they hold now. */
    const struct vg_watchlist_params *ow = old->rules[VG_RULE_WATCHLIST].params;
    const struct vg_watchlist_params *fw = fresh->rules[VG_RULE_WATCHLIST].params;
    if (fw && fw->file[0] && fresh->rules[VG_RULE_WATCHLIST].enabled)
        vg_info("reload_list", "rule=watchlist file=\"%s\" entries=%zu previous=%zu", fw->file, vg_watchlist_size(fw),
                ow ? vg_watchlist_size(ow) : (size_t)0);
    if (n == 0) vg_info("reload_unchanged", "msg=\"no threshold, window or alert setting changed\"");
}
