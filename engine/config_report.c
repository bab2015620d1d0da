/* config_report.c - the `report:` section of vigil.yaml (include/vigil/report.h): reporting
 * entity, the FIU's code tables, the bank directory and the FIU's XSD path for vigil-goaml.
 * Every error names file, line and key like the rest of the config; no code list is built in. */
#include "config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/report.h"

const struct vg_report_map_entry *vg_report_map_get(const struct vg_report_map *m, const char *key, size_t len) {
    const struct vg_report_map_entry *def = NULL;
    for (uint32_t i = 0; i < m->n; i++) {
        if (key && vg_str_eq(m->entries[i].key, strlen(m->entries[i].key), key, len)) return &m->entries[i];
        if (strcmp(m->entries[i].key, "default") == 0) def = &m->entries[i];
    }
    return def;
}

const struct vg_report_bank *vg_report_bank_get(const struct vg_report_config *r, const char *key, size_t len) {
    const struct vg_report_bank *def = NULL;
    for (uint32_t i = 0; i < r->n_banks; i++) {
        if (key && vg_str_eq(r->banks[i].key, strlen(r->banks[i].key), key, len)) return &r->banks[i];
        if (strcmp(r->banks[i].key, "default") == 0) def = &r->banks[i];
    }
    return def;
}

bool vg_report_is_activity_code(const struct vg_report_config *r, const char *code) {
    for (uint32_t i = 0; code && i < r->n_activity_codes; i++)
        if (strcmp(r->activity_codes[i], code) == 0) return true;
    return false;
}

/* A scalar into dst[cap] (NUL-terminated). min_len 1: must not be empty. */
static int text(struct vg_cfg_loader *ld, const yaml_node_t *node, char *dst, size_t cap, size_t min_len) {
    const char *t = "";
    size_t len = 0;
    if (!vg_cfg_is_null(node) && vg_cfg_scalar(ld, node, &t, &len) != VG_OK) return VG_ERR_INVALID;
    if (len >= cap) return vg_cfg_fail(ld, node, "longer than %zu bytes", cap - 1);
    if (len < min_len) return vg_cfg_fail(ld, node, "must not be empty");
    memcpy(dst, t, len);
    dst[len] = '\0';
    return VG_OK;
}

struct text_key {
    const char *key;
    size_t offset, size, min_len;
};

#define RT(member, min) {#member, offsetof(struct vg_report_config, member), \
                         sizeof(((struct vg_report_config *)0)->member), min}

/* A mapping of plain text keys (a table of struct text_key) into r. */
static int text_keys(struct vg_cfg_loader *ld, const yaml_node_t *map, const struct text_key *keys, size_t n_keys,
                     struct vg_report_config *r) {
    if (vg_cfg_is_null(map)) return VG_OK;
    if (map->type != YAML_MAPPING_NODE) return vg_cfg_fail(ld, map, "expected a mapping, got a %s", vg_cfg_kind(map));
    if (vg_cfg_check_keys(ld, map) != VG_OK) return VG_ERR_INVALID;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, p->value);
        const char *k = (const char *)key->data.scalar.value;
        size_t klen = key->data.scalar.length, saved = vg_cfg_key_push(ld, k, klen);
        const struct text_key *tk = NULL;
        for (size_t i = 0; i < n_keys && !tk; i++) {
            const char *name = strrchr(keys[i].key, '.') ? strrchr(keys[i].key, '.') + 1 : keys[i].key;
            if (vg_str_eq(k, klen, name, strlen(name))) tk = &keys[i];
        }
        int rc;
        if (!tk) {
            char known[512] = "";
            for (size_t i = 0; i < n_keys; i++) {
                const char *name = strrchr(keys[i].key, '.') ? strrchr(keys[i].key, '.') + 1 : keys[i].key;
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", name);
            }
            rc = vg_cfg_fail(ld, key, "unknown key (takes %s)", known);
        } else {
            rc = text(ld, value, (char *)r + tk->offset, tk->size, tk->min_len);
        }
        vg_cfg_key_pop(ld, saved);
        if (rc != VG_OK) return rc;
    }
    return VG_OK;
}

static const struct text_key person_keys[] = {
    RT(reporting_person.title, 0), RT(reporting_person.first_name, 0), RT(reporting_person.last_name, 0),
    RT(reporting_person.email, 0), RT(reporting_person.occupation, 0),
};
static const struct text_key location_keys[] = {
    RT(location.address_type, 1), RT(location.address, 1), RT(location.city, 1), RT(location.zip, 0),
    RT(location.country_code, 1),
};

/* One code: a non-empty scalar of at most VG_REPORT_CODE_MAX - 1 bytes. */
static int code(struct vg_cfg_loader *ld, const yaml_node_t *node, char dst[VG_REPORT_CODE_MAX]) {
    return text(ld, node, dst, VG_REPORT_CODE_MAX, 1);
}

/* key -> code (or, with lists, key -> [codes]). rule_keys: keys must be rule names or
 * "default". */
static int code_map(struct vg_cfg_loader *ld, const yaml_node_t *map, struct vg_report_map *m, bool lists,
                    bool rule_keys) {
    m->n = 0;
    if (vg_cfg_is_null(map)) return VG_OK;
    if (map->type != YAML_MAPPING_NODE) return vg_cfg_fail(ld, map, "expected a mapping, got a %s", vg_cfg_kind(map));
    if (vg_cfg_check_keys(ld, map) != VG_OK) return VG_ERR_INVALID;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, p->value);
        const char *k = (const char *)key->data.scalar.value;
        size_t klen = key->data.scalar.length, saved = vg_cfg_key_push(ld, k, klen);
        int rc = VG_OK;
        if (m->n >= VG_REPORT_MAP_MAX) rc = vg_cfg_fail(ld, key, "more than %d entries", VG_REPORT_MAP_MAX);
        else if (klen == 0 || klen > VG_ID_MAX) rc = vg_cfg_fail(ld, key, "key of 1..%d bytes expected", VG_ID_MAX);
        if (rc == VG_OK && rule_keys && !vg_str_eq(k, klen, "default", 7)) {
            bool known = false;
            for (int r = 0; r < VG_RULE_MAX && !known; r++)
                known = vg_str_eq(k, klen, vg_rule_registry[r]->name, strlen(vg_rule_registry[r]->name));
            if (!known) rc = vg_cfg_fail(ld, key, "not a rule name (or default)");
        }
        if (rc == VG_OK) {
            struct vg_report_map_entry *e = &m->entries[m->n];
            memset(e, 0, sizeof *e);
            memcpy(e->key, k, klen);
            if (lists && value->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *it = value->data.sequence.items.start;
                     rc == VG_OK && it < value->data.sequence.items.top; it++) {
                    if (e->n_values >= VG_REPORT_VALUES_MAX) {
                        rc = vg_cfg_fail(ld, value, "more than %d codes", VG_REPORT_VALUES_MAX);
                        break;
                    }
                    rc = code(ld, yaml_document_get_node(ld->doc, *it), e->values[e->n_values]);
                    e->n_values++;
                }
            } else {
                rc = code(ld, value, e->values[0]);
                e->n_values = 1;
            }
            if (rc == VG_OK) m->n++;
        }
        vg_cfg_key_pop(ld, saved);
        if (rc != VG_OK) return rc;
    }
    return VG_OK;
}

/* {name, swift | code} into b (b->key untouched). */
static int bank_fields(struct vg_cfg_loader *ld, const yaml_node_t *value, struct vg_report_bank *b) {
    if (value->type != YAML_MAPPING_NODE)
    return vg_cfg_fail(ld, value, "expected a mapping {name, swift or code}, got a %s", vg_cfg_kind(value));
    if (vg_cfg_check_keys(ld, value) != VG_OK) return VG_ERR_INVALID;
    int rc = VG_OK;
    for (yaml_node_pair_t *q = value->data.mapping.pairs.start;
         q < value->data.mapping.pairs.top && rc == VG_OK; q++) {
        yaml_node_t *bk = yaml_document_get_node(ld->doc, q->key);
        yaml_node_t *bv = yaml_document_get_node(ld->doc, q->value);
        const char *f = (const char *)bk->data.scalar.value;
        size_t flen = bk->data.scalar.length, s2 = vg_cfg_key_push(ld, f, flen);
        if (vg_str_eq(f, flen, "name", 4)) rc = text(ld, bv, b->name, sizeof b->name, 1);
        else if (vg_str_eq(f, flen, "swift", 5)) rc = text(ld, bv, b->swift, sizeof b->swift, 1);
        else if (vg_str_eq(f, flen, "code", 4)) rc = text(ld, bv, b->code, sizeof b->code, 1);
        else rc = vg_cfg_fail(ld, bk, "unknown key (a bank takes name, swift, code)");
        vg_cfg_key_pop(ld, s2);
    }
    if (rc == VG_OK && b->name[0] == '\0') rc = vg_cfg_fail(ld, value, "a bank needs a name");
    if (rc == VG_OK && b->swift[0] == '\0' && b->code[0] == '\0')
        rc = vg_cfg_fail(ld, value, "a bank needs swift or code");
    return rc;
}

/* banks: "<from_bank/to_bank as sent>": {name, swift | code} */
static int banks(struct vg_cfg_loader *ld, const yaml_node_t *map, struct vg_report_config *r) {
    r->n_banks = 0;
    if (vg_cfg_is_null(map)) return VG_OK;
    if (map->type != YAML_MAPPING_NODE) return vg_cfg_fail(ld, map, "expected a mapping, got a %s", vg_cfg_kind(map));
    if (vg_cfg_check_keys(ld, map) != VG_OK) return VG_ERR_INVALID;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, p->value);
        const char *k = (const char *)key->data.scalar.value;
        size_t klen = key->data.scalar.length, saved = vg_cfg_key_push(ld, k, klen);
        int rc = VG_OK;
        if (r->n_banks >= VG_REPORT_BANKS_MAX) rc = vg_cfg_fail(ld, key, "more than %d banks", VG_REPORT_BANKS_MAX);
        else if (klen == 0 || klen > VG_ID_MAX) rc = vg_cfg_fail(ld, key, "key of 1..%d bytes expected", VG_ID_MAX);
        struct vg_report_bank *b = &r->banks[r->n_banks];
        if (rc == VG_OK) {
            memset(b, 0, sizeof *b);
            memcpy(b->key, k, klen);
        }
        if (rc == VG_OK) rc = bank_fields(ld, value, b);
        if (rc == VG_OK) r->n_banks++;
        vg_cfg_key_pop(ld, saved);
        if (rc != VG_OK) return rc;
    }
    return VG_OK;
}

/* activity_codes: [code, ...] (a single code is a list of one). */
static int activity_codes(struct vg_cfg_loader *ld, const yaml_node_t *value, struct vg_report_config *r) {
    r->n_activity_codes = 0;
    if (vg_cfg_is_null(value)) return VG_OK;
    if (value->type != YAML_SEQUENCE_NODE) {
        r->n_activity_codes = 1;
        return code(ld, value, r->activity_codes[0]);
    }
    for (yaml_node_item_t *it = value->data.sequence.items.start; it < value->data.sequence.items.top; it++) {
        if (r->n_activity_codes >= VG_REPORT_VALUES_MAX)
            return vg_cfg_fail(ld, value, "more than %d codes", VG_REPORT_VALUES_MAX);
        if (code(ld, yaml_document_get_node(ld->doc, *it), r->activity_codes[r->n_activity_codes]) != VG_OK)
            return VG_ERR_INVALID;
        r->n_activity_codes++;
    }
    return VG_OK;
}

static const struct text_key plain_keys[] = {
    RT(schema, 1), RT(output_dir, 1), RT(output_topic, 0), RT(group, 1), RT(rentity_id, 1), RT(rentity_branch, 0),
    RT(submission_code, 1), RT(entity_reference_prefix, 0), RT(reporting_user_code, 0), RT(action, 0),
    RT(clients, 0),
};

static int relative_to_config(struct vg_cfg_loader *ld, const yaml_node_t *map, char *path, size_t cap);

int vg_cfg_parse_report(struct vg_cfg_loader *ld, const yaml_node_t *map, struct vg_config *cfg) {
    struct vg_report_config *r = cfg->report;
    if (!r && !(r = cfg->report = calloc(1, sizeof *r))) return vg_cfg_fail(ld, map, "out of memory");
    vg_report_defaults(r);
    r->present = true;
    if (vg_cfg_is_null(map)) return VG_OK;
    if (map->type != YAML_MAPPING_NODE) return vg_cfg_fail(ld, map, "expected a mapping, got a %s", vg_cfg_kind(map));
    if (vg_cfg_check_keys(ld, map) != VG_OK) return VG_ERR_INVALID;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, p->value);
        const char *k = (const char *)key->data.scalar.value;
        size_t klen = key->data.scalar.length, saved = vg_cfg_key_push(ld, k, klen);
        int rc = VG_OK;
        const struct text_key *tk = NULL;
        for (size_t i = 0; i < VG_ARRAY_LEN(plain_keys) && !tk; i++)
            if (vg_str_eq(k, klen, plain_keys[i].key, strlen(plain_keys[i].key))) tk = &plain_keys[i];
        if (tk) {
            rc = text(ld, value, (char *)r + tk->offset, tk->size, tk->min_len);
        } else if (vg_str_eq(k, klen, "metrics_listen", 14)) {
            rc = text(ld, value, r->metrics_listen, sizeof r->metrics_listen, 0);
            const char *colon = strrchr(r->metrics_listen, ':');
            bool ok = colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
                      strlen(colon + 1) <= 5 && atoi(colon + 1) <= 65535;
            if (rc == VG_OK && r->metrics_listen[0] && !ok)
                rc = vg_cfg_fail(ld, value, "expected HOST:PORT, got '%s'", r->metrics_listen);
        } else if (vg_str_eq(k, klen, "case_period", 11)) {
            rc = vg_cfg_duration(ld, value, &r->case_period_ms);
            if (rc == VG_OK && r->case_period_ms <= 0) rc = vg_cfg_fail(ld, value, "must be positive");
        } else if (vg_str_eq(k, klen, "currency_local", 14)) {
            rc = text(ld, value, r->currency_local, sizeof r->currency_local, 0);
            bool iso = strlen(r->currency_local) == 3;
            for (int i = 0; iso && i < 3; i++) iso = r->currency_local[i] >= 'A' && r->currency_local[i] <= 'Z';
            if (rc == VG_OK && r->currency_local[0] && !iso)
                rc = vg_cfg_fail(ld, value, "an ISO 4217 code like KZT expected");
        } else if (vg_str_eq(k, klen, "default_country", 15)) {
            rc = text(ld, value, r->default_country, sizeof r->default_country, 0);
            bool ok = strlen(r->default_country) == 2 && r->default_country[0] >= 'A' && r->default_country[0] <= 'Z' &&
                      r->default_country[1] >= 'A' && r->default_country[1] <= 'Z';
            if (rc == VG_OK && r->default_country[0] && !ok)
                rc = vg_cfg_fail(ld, value, "an ISO 3166 alpha-2 code like KZ expected");
        } else if (vg_str_eq(k, klen, "reporting_person", 16)) {
            rc = text_keys(ld, value, person_keys, VG_ARRAY_LEN(person_keys), r);
        } else if (vg_str_eq(k, klen, "location", 8)) {
            rc = text_keys(ld, value, location_keys, VG_ARRAY_LEN(location_keys), r);
        } else if (vg_str_eq(k, klen, "report_codes", 12)) {
            rc = code_map(ld, value, &r->report_codes, false, true);
        } else if (vg_str_eq(k, klen, "indicators", 10)) {
            rc = code_map(ld, value, &r->indicators, true, true);
        } else if (vg_str_eq(k, klen, "transmode_codes", 15)) {
            rc = code_map(ld, value, &r->transmode_codes, false, false);
        } else if (vg_str_eq(k, klen, "funds_codes", 11)) {
            rc = code_map(ld, value, &r->funds_codes, false, false);
        } else if (vg_str_eq(k, klen, "banks", 5)) {
            rc = banks(ld, value, r);
        } else if (vg_str_eq(k, klen, "institution", 11)) {
            memset(&r->institution, 0, sizeof r->institution);
            bool empty = vg_cfg_is_null(value) ||
                         (value->type == YAML_MAPPING_NODE && value->data.mapping.pairs.start == value->data.mapping.pairs.top);
            if (!empty) rc = bank_fields(ld, value, &r->institution); /* {} = not set */
        } else if (vg_str_eq(k, klen, "activity_codes", 14)) {
            rc = activity_codes(ld, value, r);
        } else {
            rc = vg_cfg_fail(ld, key,
                             "unknown key (report takes schema, output_dir, output_topic, group, metrics_listen, case_period, "
                             "rentity_id, rentity_branch, submission_code, entity_reference_prefix, "
                             "currency_local, default_country, reporting_user_code, reporting_person, location, action, "
                             "report_codes, indicators, transmode_codes, funds_codes, banks, institution, clients, "
                             "activity_codes)");
        }
        vg_cfg_key_pop(ld, saved);
        if (rc != VG_OK) return rc;
    }
    if (relative_to_config(ld, map, r->schema, sizeof r->schema) != VG_OK ||
        relative_to_config(ld, map, r->clients, sizeof r->clients) != VG_OK)
        return VG_ERR_INVALID;
    return VG_OK;
}

/* A relative report.schema / report.clients is relative to the config file, as rule files
 * are. */
static int relative_to_config(struct vg_cfg_loader *ld, const yaml_node_t *map, char *path, size_t cap) {
    const char *slash = ld->name ? strrchr(ld->name, '/') : NULL;
    if (!path[0] || path[0] == '/' || !slash) return VG_OK;
    char joined[2048];
    int n = snprintf(joined, sizeof joined, "%.*s/%s", (int)(slash - ld->name), ld->name, path);
    if (n < 0 || (size_t)n >= cap) return vg_cfg_fail(ld, map, "path '%s' longer than %zu bytes", joined, cap - 1);
    memcpy(path, joined, (size_t)n + 1);
    return VG_OK;
}

void vg_report_defaults(struct vg_report_config *r) {
    memset(r, 0, sizeof *r);
    strcpy(r->output_dir, "reports");
    strcpy(r->group, "vigil-goaml");
    strcpy(r->submission_code, "E");
    r->case_period_ms = 72 * 3600 * VG_MS_PER_SECOND;
}
