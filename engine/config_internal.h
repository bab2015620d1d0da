/* config_internal.h - what engine/config.c and engine/config_params.c share while walking a
 * libyaml document: the loader state, error formatting ("FILE:LINE: KEY: what is wrong")
 * and scalar helpers. Private to the config loader; nothing else includes it. */
#ifndef VIGIL_CONFIG_INTERNAL_H
#define VIGIL_CONFIG_INTERNAL_H

#include <yaml.h>

#include "vigil/config.h"

#define VG_CFG_KEY_MAX 256
#define VG_CFG_PARAMS_MAX 16     /* most parameters any one rule table has */
#define VG_CFG_ERRORS_SHOWN 50   /* errors listed in errstr; more are counted */

struct vg_cfg_loader {
    yaml_document_t *doc;
    const char *name;            /* file name used in messages */
    char *errstr;                /* every error, one line each ('\n' between them) */
    size_t errstr_size;
    unsigned errors;             /* errors reported so far (the first VG_CFG_ERRORS_SHOWN shown) */
    unsigned checks;             /* VG_CONFIG_CHECK_* */
    char key[VG_CFG_KEY_MAX];    /* dotted path of the node being read */
    size_t key_len;
    /* Where each rule and each of its parameters was written (0 = not in the file), so
     * checks made after parsing (prepare, relations) still name a line. */
    unsigned long rule_line[VG_RULE_MAX];
    unsigned long param_line[VG_RULE_MAX][VG_CFG_PARAMS_MAX];
};

/* Appends ".seg" (or "seg" at the root) to the key path, with unprintable bytes replaced
 * and long segments cut. Returns the previous length for vg_cfg_key_pop. Can't fail. */
size_t vg_cfg_key_push(struct vg_cfg_loader *ld, const char *seg, size_t len);
void vg_cfg_key_pop(struct vg_cfg_loader *ld, size_t old_len);

/* Adds the line "NAME:LINE: KEY: message" (LINE omitted when 0, KEY when empty) to errstr:
 * the loader goes on after an error so that one run reports every error it can find.
 * Returns VG_ERR_INVALID so callers can `return vg_cfg_fail(...)`. */
int vg_cfg_fail_line(struct vg_cfg_loader *ld, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, taking the line from node (NULL: no line). */
int vg_cfg_fail(struct vg_cfg_loader *ld, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 1-based line of a node, 0 for NULL. */
static inline unsigned long vg_cfg_line(const yaml_node_t *node) {
    return node ? (unsigned long)node->start_mark.line + 1 : 0;
}

/* A printable, length-bounded rendering of text for messages ("abc", cut with "..."). */
const char *vg_cfg_show(const char *text, size_t len, char *buf, size_t cap);

/* True when the node is a YAML null (empty plain scalar, ~, null). */
bool vg_cfg_is_null(const yaml_node_t *node);

/* Name of the node's kind for "expected a scalar, got a mapping" messages. */
const char *vg_cfg_kind(const yaml_node_t *node);

/* The text of a scalar node. Fails (with a message) on a non-scalar or a value that
 * contains a NUL byte. Returns VG_OK or VG_ERR_INVALID. */
int vg_cfg_scalar(struct vg_cfg_loader *ld, const yaml_node_t *node, const char **text, size_t *len);

/* Parses a non-negative decimal integer scalar within [min, max].
 * Returns VG_OK or VG_ERR_INVALID with a message. */
int vg_cfg_integer(struct vg_cfg_loader *ld, const yaml_node_t *node, int64_t min, int64_t max,
                   int64_t *out);

/* Parses true/false (also yes/no/on/off). Returns VG_OK or VG_ERR_INVALID. */
int vg_cfg_bool(struct vg_cfg_loader *ld, const yaml_node_t *node, bool *out);

/* Parses a duration scalar ("90s", "7d"). Returns VG_OK or VG_ERR_INVALID. */
int vg_cfg_duration(struct vg_cfg_loader *ld, const yaml_node_t *node, int64_t *out_ms);

/* Checks a mapping for keys given twice and keys that are not scalars.
 * Returns VG_OK or VG_ERR_INVALID naming the second occurrence. */
int vg_cfg_check_keys(struct vg_cfg_loader *ld, const yaml_node_t *map);

/* Reads the `currency:` mapping into cfg->currency (config_currency.c).
 * Returns VG_OK or VG_ERR_INVALID. */
int vg_cfg_parse_currency(struct vg_cfg_loader *ld, const yaml_node_t *map, struct vg_config *cfg);

/* Reads the `report:` mapping into cfg->report (config_report.c), allocating it.
 * Returns VG_OK or VG_ERR_INVALID. */
int vg_cfg_parse_report(struct vg_cfg_loader *ld, const yaml_node_t *map, struct vg_config *cfg);
/* Builds a one-key YAML document {seg1: {seg2: ... value}} from a dotted key and a plain
 * scalar (config_override.c). Returns VG_OK (doc to delete), VG_ERR_INVALID (bad key, with a
 * message) or VG_ERR_NOMEM. */
int vg_cfg_override_doc(struct vg_cfg_loader *ld, yaml_document_t *doc, const char *key, const char *value);

/* ---- rule parameters (config_params.c) ---------------------------------------------- */

/* Fills every parameter of rule id with its table default. Returns VG_OK, VG_ERR_NOMEM or
 * VG_ERR_INVALID (a broken built-in default: a programming error, reported in errstr). */
int vg_cfg_rule_defaults(struct vg_cfg_loader *ld, enum vg_rule_id id, void *params);

/* Reads one `rules.<name>` mapping (enabled, severity, the rule's parameters) on top of
 * what rc holds. The key path must already be "rules.<name>".
 * Returns VG_OK or VG_ERR_INVALID. */
int vg_cfg_rule_parse(struct vg_cfg_loader *ld, enum vg_rule_id id, struct vg_rule_config *rc,
                      yaml_node_t *map);

/* Relations between a rule's parameters (cycle max_hops 2..16, velocity baseline > window,
 * ...). Returns VG_OK or VG_ERR_INVALID naming the key and its line. */
int vg_cfg_rule_check(struct vg_cfg_loader *ld, enum vg_rule_id id, const void *params);

/* Line where rules.<name>.<key> was written, else the rule's line, else 0. */
unsigned long vg_cfg_param_line(const struct vg_cfg_loader *ld, enum vg_rule_id id, const char *key,
                                size_t key_len);

#endif
