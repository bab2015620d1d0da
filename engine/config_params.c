/* config_params.c - the `rules:` section of vigil.yaml: each rule's parameter table
 * (struct vg_param_def, rule.h) drives parsing, defaults and checks, so adding a parameter
 * to a rule file needs no change here. Also the name lists (channels, countries). */
#include "config_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/money.h"
#include "rules/rule_params.h"

/* Largest COUNT accepted: far beyond any sensible setting, far below overflow. */
#define COUNT_MAX 1000000000LL

bool vg_name_list_contains(const struct vg_name_list *list, const char *name, size_t len) {
    if (!list || !name) return false;
    for (uint32_t i = 0; i < list->count; i++) {
        if (list->lens[i] == len && strncasecmp(list->names[i], name, len) == 0) return true;
    }
    return false;
}

/* ---- one value of each parameter type ----------------------------------------------- */

/* Parses a non-negative decimal (money or ratio) into micro-units / ppm.
 * Returns VG_OK or VG_ERR_INVALID with a message. */
static int parse_decimal(struct vg_cfg_loader *ld, const yaml_node_t *node, const char *what,
                         int64_t *out) {
    const char *text;
    size_t len;
    char shown[80];
    if (vg_cfg_scalar(ld, node, &text, &len) != VG_OK) return VG_ERR_INVALID;
    int64_t v = 0;
    int rc = vg_money_parse(text, len, &v);
    if (rc == VG_ERR_RANGE)
        return vg_cfg_fail(ld, node, "%s out of range '%s'", what, vg_cfg_show(text, len, shown, sizeof shown));
    if (rc != VG_OK)
        return vg_cfg_fail(ld, node, "bad %s '%s'", what, vg_cfg_show(text, len, shown, sizeof shown));
    if (v < 0)
        return vg_cfg_fail(ld, node, "%s must not be negative, got '%s'", what,
                           vg_cfg_show(text, len, shown, sizeof shown));
    *out = v;
    return VG_OK;
}

/* Reads a YAML sequence of codes or names into a list: countries are two letters,
 * upper-cased; names are 1..VG_CHANNEL_MAX bytes, lower-cased. Duplicates are dropped.
 * A null value is the empty list. Returns VG_OK or VG_ERR_INVALID. */
static int parse_name_list(struct vg_cfg_loader *ld, const yaml_node_t *node, bool countries,
                           struct vg_name_list *out) {
    struct vg_name_list list;
    memset(&list, 0, sizeof list);
    if (vg_cfg_is_null(node)) {
        *out = list;
        return VG_OK;
    }
    if (node->type != YAML_SEQUENCE_NODE)
        return vg_cfg_fail(ld, node, "expected a list like [a, b], got a %s", vg_cfg_kind(node));
    for (yaml_node_item_t *item = node->data.sequence.items.start; item < node->data.sequence.items.top;
         item++) {
        const yaml_node_t *entry = yaml_document_get_node(ld->doc, *item);
        const char *text;
        size_t len;
        char shown[80];
        if (vg_cfg_scalar(ld, entry, &text, &len) != VG_OK) return VG_ERR_INVALID;
        char name[VG_CHANNEL_MAX + 1];
        if (countries) {
            if (len != 2 || !isalpha((unsigned char)text[0]) || !isalpha((unsigned char)text[1]))
                return vg_cfg_fail(ld, entry, "bad country code '%s' (ISO 3166 alpha-2 expected)",
                                   vg_cfg_show(text, len, shown, sizeof shown));
            for (size_t i = 0; i < len; i++) name[i] = (char)toupper((unsigned char)text[i]);
        } else {
            if (len == 0 || len > VG_CHANNEL_MAX)
                return vg_cfg_fail(ld, entry, "bad name '%s' (1 to %d bytes expected)",
                                   vg_cfg_show(text, len, shown, sizeof shown), VG_CHANNEL_MAX);
            for (size_t i = 0; i < len; i++) name[i] = (char)tolower((unsigned char)text[i]);
        }
        name[len] = '\0';
        bool seen = false;
        for (uint32_t i = 0; i < list.count && !seen; i++)
            seen = list.lens[i] == len && memcmp(list.names[i], name, len) == 0;
        if (seen) continue;
        if (list.count == VG_NAME_LIST_MAX)
            return vg_cfg_fail(ld, entry, "more than %d entries", VG_NAME_LIST_MAX);
        memcpy(list.names[list.count], name, len + 1);
        list.lens[list.count] = (uint8_t)len;
        list.count++;
    }
    *out = list;
    return VG_OK;
}

/* Reads rules.sanctions.lists: a sequence of mappings {name, file, format}, each key a
 * non-empty scalar, names unique. A null value is no lists. Whether the format is known and
 * the file loads is the rule's prepare. Returns VG_OK or VG_ERR_INVALID. */
static int parse_list_files(struct vg_cfg_loader *ld, const yaml_node_t *node, struct vg_list_files *out) {
    memset(out, 0, sizeof *out);
    if (vg_cfg_is_null(node)) return VG_OK;
    if (node->type != YAML_SEQUENCE_NODE)
        return vg_cfg_fail(ld, node, "expected a sequence of {name, file, format}, got a %s", vg_cfg_kind(node));
    for (yaml_node_item_t *item = node->data.sequence.items.start; item < node->data.sequence.items.top; item++) {
        const yaml_node_t *map = yaml_document_get_node(ld->doc, *item);
        if (!map || map->type != YAML_MAPPING_NODE)
            return vg_cfg_fail(ld, map, "each list is a mapping {name, file, format}");
        if (out->count == VG_LIST_FILES_MAX) return vg_cfg_fail(ld, map, "more than %d lists", VG_LIST_FILES_MAX);
        struct vg_list_file *lf = &out->lists[out->count];
        for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
            const yaml_node_t *k = yaml_document_get_node(ld->doc, pair->key);
            const yaml_node_t *v = yaml_document_get_node(ld->doc, pair->value);
            const char *key, *text;
            size_t klen, len;
            char shown[80];
            if (vg_cfg_scalar(ld, k, &key, &klen) != VG_OK || vg_cfg_scalar(ld, v, &text, &len) != VG_OK)
                return VG_ERR_INVALID;
            char *dst;
            size_t cap;
            if (klen == 4 && memcmp(key, "name", 4) == 0) dst = lf->name, cap = sizeof lf->name;
            else if (klen == 4 && memcmp(key, "file", 4) == 0) dst = lf->file, cap = sizeof lf->file;
            else if (klen == 6 && memcmp(key, "format", 6) == 0) dst = lf->format, cap = sizeof lf->format;
            else return vg_cfg_fail(ld, k, "unknown key '%s' (name, file, format)", vg_cfg_show(key, klen, shown, sizeof shown));
            if (len == 0 || len >= cap)
                return vg_cfg_fail(ld, v, "'%s' must be 1..%zu bytes", vg_cfg_show(key, klen, shown, sizeof shown), cap - 1);
            memcpy(dst, text, len);
            dst[len] = '\0';
        }
        if (!lf->name[0] || !lf->file[0] || !lf->format[0])
            return vg_cfg_fail(ld, map, "a list needs name, file and format");
        for (uint32_t i = 0; i < out->count; i++)
            if (strcmp(out->lists[i].name, lf->name) == 0) return vg_cfg_fail(ld, map, "list name '%s' given twice", lf->name);
        out->count++;
    }
    return VG_OK;
}

/* Parses node as a value of def's type into params + def->offset.
 * Returns VG_OK or VG_ERR_INVALID. */
static int parse_param(struct vg_cfg_loader *ld, const struct vg_param_def *def, const yaml_node_t *node,
                       void *params) {
    char *field = (char *)params + def->offset;
    int64_t v = 0;
    switch (def->type) {
    case VG_PARAM_DURATION:
        if (vg_cfg_duration(ld, node, &v) != VG_OK) return VG_ERR_INVALID;
        break;
    case VG_PARAM_MONEY:
        if (parse_decimal(ld, node, "amount", &v) != VG_OK) return VG_ERR_INVALID;
        break;
    case VG_PARAM_RATIO:
        if (parse_decimal(ld, node, "ratio", &v) != VG_OK) return VG_ERR_INVALID;
        break;
    case VG_PARAM_COUNT:
        if (vg_cfg_integer(ld, node, 0, COUNT_MAX, &v) != VG_OK) return VG_ERR_INVALID;
        break;
    case VG_PARAM_PATH: {
        const char *text = "";
        size_t len = 0;
        if (!vg_cfg_is_null(node) && vg_cfg_scalar(ld, node, &text, &len) != VG_OK) return VG_ERR_INVALID;
        if (len >= VG_PARAM_PATH_MAX)
            return vg_cfg_fail(ld, node, "path longer than %d bytes", VG_PARAM_PATH_MAX - 1);
        memcpy(field, text, len);
        field[len] = '\0';
        return VG_OK;
    }
    case VG_PARAM_COUNTRIES:
    case VG_PARAM_NAMES: {
        struct vg_name_list list;
        if (parse_name_list(ld, node, def->type == VG_PARAM_COUNTRIES, &list) != VG_OK) return VG_ERR_INVALID;
        memcpy(field, &list, sizeof list);
        return VG_OK;
    }
    case VG_PARAM_LIST_FILES:
        return parse_list_files(ld, node, (struct vg_list_files *)(void *)field);
    default:
        return vg_cfg_fail(ld, node, "unsupported parameter type %d", (int)def->type);
    }
    memcpy(field, &v, sizeof v);
    return VG_OK;
}

/* ---- defaults ------------------------------------------------------------------------ */

/* Parses a table default ("72h", "[KP, IR, MM]", "\"\"") as a one-value YAML document
 * with the same code as file values. Returns VG_OK, VG_ERR_NOMEM or VG_ERR_INVALID. */
static int parse_default(struct vg_cfg_loader *ld, const struct vg_param_def *def, void *params) {
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) return VG_ERR_NOMEM;
    const char *text = def->default_value ? def->default_value : "";
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&parser, &doc)) {
        int rc = parser.error == YAML_MEMORY_ERROR ? VG_ERR_NOMEM : VG_ERR_INVALID;
        yaml_parser_delete(&parser);
        if (rc == VG_ERR_INVALID) vg_cfg_fail_line(ld, 0, "built-in default '%s' is not valid YAML", text);
        return rc;
    }
    yaml_parser_delete(&parser);
    yaml_document_t *saved_doc = ld->doc;
    const char *saved_name = ld->name;
    ld->doc = &doc;
    ld->name = "built-in default";
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc;
    if (root) {
        rc = parse_param(ld, def, root, params);
    } else {
        /* An empty default is the null value. */
        yaml_node_t null_node;
        memset(&null_node, 0, sizeof null_node);
        null_node.type = YAML_SCALAR_NODE;
        null_node.data.scalar.value = (yaml_char_t *)"";
        null_node.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
        rc = parse_param(ld, def, &null_node, params);
    }
    ld->doc = saved_doc;
    ld->name = saved_name;
    yaml_document_delete(&doc);
    return rc;
}

int vg_cfg_rule_defaults(struct vg_cfg_loader *ld, enum vg_rule_id id, void *params) {
    const struct vg_rule_def *def = vg_rule_registry[id];
    size_t rule_key = vg_cfg_key_push(ld, "rules", 5);
    vg_cfg_key_push(ld, def->name, strlen(def->name));
    int rc = VG_OK;
    for (const struct vg_param_def *p = def->params; p && p->key && rc == VG_OK; p++) {
        size_t k = vg_cfg_key_push(ld, p->key, strlen(p->key));
        rc = parse_default(ld, p, params);
        vg_cfg_key_pop(ld, k);
    }
    vg_cfg_key_pop(ld, rule_key);
    return rc;
}

/* ---- rules.<name> --------------------------------------------------------------------- */

static int parse_severity(struct vg_cfg_loader *ld, const yaml_node_t *node, enum vg_severity *out) {
    const char *text;
    size_t len;
    char shown[80];
    if (vg_cfg_scalar(ld, node, &text, &len) != VG_OK) return VG_ERR_INVALID;
    static const enum vg_severity all[] = {VG_SEVERITY_LOW, VG_SEVERITY_MEDIUM, VG_SEVERITY_HIGH};
    for (size_t i = 0; i < VG_ARRAY_LEN(all); i++) {
        const char *name = vg_severity_name(all[i]);
        if (vg_str_eq(text, len, name, strlen(name))) {
            *out = all[i];
            return VG_OK;
        }
    }
    return vg_cfg_fail(ld, node, "bad severity '%s' (low, medium or high)", vg_cfg_show(text, len, shown, sizeof shown));
}

/* Index of key in the rule's table, or -1. */
static int param_index(const struct vg_rule_def *def, const char *key, size_t len) {
    for (int i = 0; def->params && def->params[i].key && i < VG_CFG_PARAMS_MAX; i++) {
        if (vg_str_eq(key, len, def->params[i].key, strlen(def->params[i].key))) return i;
    }
    return -1;
}

int vg_cfg_rule_parse(struct vg_cfg_loader *ld, enum vg_rule_id id, struct vg_rule_config *rc,
                      yaml_node_t *map) {
    const struct vg_rule_def *def = vg_rule_registry[id];
    ld->rule_line[id] = vg_cfg_line(map);
    if (vg_cfg_is_null(map)) return VG_OK;
    if (map->type != YAML_MAPPING_NODE)
        return vg_cfg_fail(ld, map, "expected a mapping, got a %s", vg_cfg_kind(map));
    if (vg_cfg_check_keys(ld, map) != VG_OK) return VG_ERR_INVALID;
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *key_node = yaml_document_get_node(ld->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, pair->value);
        const char *key = (const char *)key_node->data.scalar.value;
        size_t key_len = key_node->data.scalar.length;
        size_t saved = vg_cfg_key_push(ld, key, key_len);
        int err;
        int idx;
        if (vg_str_eq(key, key_len, "enabled", 7)) {
            err = vg_cfg_bool(ld, value, &rc->enabled);
        } else if (vg_str_eq(key, key_len, "severity", 8)) {
            err = parse_severity(ld, value, &rc->severity);
        } else if ((idx = param_index(def, key, key_len)) >= 0) {
            ld->param_line[id][idx] = vg_cfg_line(value);
            err = parse_param(ld, &def->params[idx], value, rc->params);
        } else {
            char known[512];
            size_t n = (size_t)snprintf(known, sizeof known, "enabled, severity");
            for (const struct vg_param_def *p = def->params; p && p->key && n < sizeof known; p++)
                n += (size_t)snprintf(known + n, sizeof known - n, ", %s", p->key);
            err = vg_cfg_fail(ld, key_node, "unknown key (rule %s takes %s)", def->name, known);
        }
        vg_cfg_key_pop(ld, saved);
        if (err != VG_OK) return err;
    }
    return VG_OK;
}

unsigned long vg_cfg_param_line(const struct vg_cfg_loader *ld, enum vg_rule_id id, const char *key,
                                size_t key_len) {
    int idx = param_index(vg_rule_registry[id], key, key_len);
    if (idx >= 0 && ld->param_line[id][idx]) return ld->param_line[id][idx];
    return ld->rule_line[id];
}

/* ---- relations between parameters ----------------------------------------------------- */

/* Fails with "rules.<rule>.<key>: message" at the line key was written on. */
static int fail_param(struct vg_cfg_loader *ld, enum vg_rule_id id, const char *key, const char *msg) {
    const char *rule = vg_rule_registry[id]->name;
    size_t saved = vg_cfg_key_push(ld, "rules", 5);
    vg_cfg_key_push(ld, rule, strlen(rule));
    vg_cfg_key_push(ld, key, strlen(key));
    vg_cfg_fail_line(ld, vg_cfg_param_line(ld, id, key, strlen(key)), "%s", msg);
    vg_cfg_key_pop(ld, saved);
    return VG_ERR_INVALID;
}

#define REQUIRE(cond, key, msg)                                                              \
    do {                                                                                     \
        if (!(cond)) return fail_param(ld, id, key, msg);                                    \
    } while (0)

int vg_cfg_rule_check(struct vg_cfg_loader *ld, enum vg_rule_id id, const void *params) {
    switch (id) {
    case VG_RULE_LARGE_TX: {
        const struct vg_large_tx_params *p = params;
        REQUIRE(p->threshold_micros > 0, "threshold", "must be greater than 0");
        break;
    }
    case VG_RULE_STRUCTURING: {
        const struct vg_structuring_params *p = params;
        REQUIRE(p->threshold_micros > 0, "threshold", "must be greater than 0");
        REQUIRE(p->margin_ppm > 0 && p->margin_ppm < 1000000, "margin", "must be between 0 and 1 (exclusive)");
        REQUIRE(p->min_count >= 1, "min_count", "must be at least 1");
        REQUIRE(p->window_ms > 0, "window", "must be longer than 0");
        break;
    }
    case VG_RULE_FAN_IN:
    case VG_RULE_FAN_OUT: {
        const struct vg_fan_params *p = params;
        REQUIRE(p->min_counterparties >= 1, "min_counterparties", "must be at least 1");
        REQUIRE(p->window_ms > 0, "window", "must be longer than 0");
        break;
    }
    case VG_RULE_PASS_THROUGH: {
        const struct vg_pass_through_params *p = params;
        REQUIRE(p->ratio_ppm > 0 && p->ratio_ppm <= 1000000, "ratio", "must be greater than 0 and at most 1");
        REQUIRE(p->window_ms > 0, "window", "must be longer than 0");
        break;
    }
    case VG_RULE_CYCLE: {
        const struct vg_cycle_params *p = params;
        REQUIRE(p->max_hops >= 2 && p->max_hops <= 16, "max_hops", "must be between 2 and 16");
        REQUIRE(p->window_ms > 0, "window", "must be longer than 0");
        break;
    }
    case VG_RULE_SCATTER_GATHER: {
        const struct vg_scatter_gather_params *p = params;
        REQUIRE(p->min_intermediaries >= 1, "min_intermediaries", "must be at least 1");
        REQUIRE(p->window_ms > 0, "window", "must be longer than 0");
        break;
    }
    case VG_RULE_GATHER_SCATTER: {
        const struct vg_gather_scatter_params *p = params;
        REQUIRE(p->min_counterparties >= 1, "min_counterparties", "must be at least 1");
        REQUIRE(p->window_ms > 0, "window", "must be longer than 0");
        break;
    }
    case VG_RULE_VELOCITY: {
        const struct vg_velocity_params *p = params;
        REQUIRE(p->window_ms > 0, "window", "must be longer than 0");
        REQUIRE(p->baseline_ms > p->window_ms, "baseline", "must be longer than window");
        REQUIRE(p->factor_ppm > 0, "factor", "must be greater than 0");
        REQUIRE(p->min_count >= 1, "min_count", "must be at least 1");
        break;
    }
    case VG_RULE_DORMANT: {
        const struct vg_dormant_params *p = params;
        REQUIRE(p->dormancy_ms > 0, "dormancy", "must be longer than 0");
        break;
    }
    default:
        break;
    }
    return VG_OK;
}
