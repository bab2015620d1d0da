/* config_yaml.c - the config loader's vocabulary over libyaml nodes: the dotted key path,
 * one-line "FILE:LINE: KEY: what is wrong" messages, and strict scalar readers (integers,
 * booleans, durations) plus the duplicate-key check. No section knowledge lives here. */
#include "config_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vigil/vtime.h"

#define SHOW_MAX 64                   /* bytes of a bad value or key quoted in a message */

size_t vg_cfg_key_push(struct vg_cfg_loader *ld, const char *seg, size_t len) {
    size_t old = ld->key_len;
    size_t pos = old;
    if (pos > 0 && pos < sizeof ld->key - 1) ld->key[pos++] = '.';
    size_t cut = VG_MIN(len, (size_t)SHOW_MAX);
    for (size_t i = 0; i < cut && pos < sizeof ld->key - 1; i++) {
        unsigned char c = (unsigned char)seg[i];
        ld->key[pos++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    for (int i = 0; cut < len && i < 3 && pos < sizeof ld->key - 1; i++) ld->key[pos++] = '.';
    ld->key[pos] = '\0';
    ld->key_len = pos;
    return old;
}

void vg_cfg_key_pop(struct vg_cfg_loader *ld, size_t old_len) {
    ld->key_len = old_len;
    ld->key[old_len] = '\0';
}

static int fail_va(struct vg_cfg_loader *ld, unsigned long line, const char *fmt, va_list ap) {
    unsigned nth = ld->errors++;
    if (!ld->errstr || ld->errstr_size == 0 || nth > VG_CFG_ERRORS_SHOWN) return VG_ERR_INVALID;
    char msg[512], one[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char where[32] = "";
    if (line) snprintf(where, sizeof where, ":%lu", line);
    if (nth == VG_CFG_ERRORS_SHOWN)
        snprintf(one, sizeof one, "%s: more errors not shown (fix these first)", ld->name);
    else if (ld->key_len)
        snprintf(one, sizeof one, "%s%s: %s: %s", ld->name, where, ld->key, msg);
    else
        snprintf(one, sizeof one, "%s%s: %s", ld->name, where, msg);
    /* One line each whatever a value held (a path with a newline, from a rule's prepare). */
    for (char *c = one; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    size_t used = nth ? strnlen(ld->errstr, ld->errstr_size) : 0;
    if (used + 2 < ld->errstr_size)
        snprintf(ld->errstr + used, ld->errstr_size - used, "%s%s", nth ? "\n" : "", one);
    return VG_ERR_INVALID;
}

int vg_cfg_fail_line(struct vg_cfg_loader *ld, unsigned long line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fail_va(ld, line, fmt, ap);
    va_end(ap);
    return VG_ERR_INVALID;
}

int vg_cfg_fail(struct vg_cfg_loader *ld, const yaml_node_t *node, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fail_va(ld, vg_cfg_line(node), fmt, ap);
    va_end(ap);
    return VG_ERR_INVALID;
}

const char *vg_cfg_show(const char *text, size_t len, char *buf, size_t cap) {
    size_t pos = 0;
    for (size_t i = 0; i < len && i < SHOW_MAX && pos + 4 < cap; i++) {
        unsigned char c = (unsigned char)text[i];
        buf[pos++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (len > SHOW_MAX && pos + 4 < cap) {
        memcpy(buf + pos, "...", 3);
        pos += 3;
    }
    if (cap) buf[VG_MIN(pos, cap - 1)] = '\0';
    return buf;
}

bool vg_cfg_is_null(const yaml_node_t *node) {
    if (!node) return true;
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const char *v = (const char *)node->data.scalar.value;
    size_t n = node->data.scalar.length;
    return n == 0 || vg_str_eq(v, n, "~", 1) || vg_str_eq(v, n, "null", 4) || vg_str_eq(v, n, "Null", 4) ||
           vg_str_eq(v, n, "NULL", 4);
}

const char *vg_cfg_kind(const yaml_node_t *node) {
    if (!node) return "nothing";
    switch (node->type) {
    case YAML_SCALAR_NODE: return "scalar";
    case YAML_SEQUENCE_NODE: return "list";
    case YAML_MAPPING_NODE: return "mapping";
    default: return "nothing";
    }
}

int vg_cfg_scalar(struct vg_cfg_loader *ld, const yaml_node_t *node, const char **text, size_t *len) {
    if (!node || node->type != YAML_SCALAR_NODE)
        return vg_cfg_fail(ld, node, "expected a scalar value, got a %s", vg_cfg_kind(node));
    const char *v = (const char *)node->data.scalar.value;
    size_t n = node->data.scalar.length;
    if (memchr(v, '\0', n)) return vg_cfg_fail(ld, node, "value contains a NUL byte");
    *text = v;
    *len = n;
    return VG_OK;
}

int vg_cfg_integer(struct vg_cfg_loader *ld, const yaml_node_t *node, int64_t min, int64_t max,
                   int64_t *out) {
    const char *text = NULL;
    size_t len = 0;
    char shown[80];
    if (vg_cfg_scalar(ld, node, &text, &len) != VG_OK) return VG_ERR_INVALID;
    int64_t v = 0;
    bool ok = len > 0 && len <= 18;
    for (size_t i = 0; ok && i < len; i++) {
        ok = text[i] >= '0' && text[i] <= '9';
        v = v * 10 + (text[i] - '0');
    }
    if (!ok || v < min || v > max)
        return vg_cfg_fail(ld, node, "expected an integer from %lld to %lld, got '%s'", (long long)min,
                           (long long)max, vg_cfg_show(text, len, shown, sizeof shown));
    *out = v;
    return VG_OK;
}

int vg_cfg_bool(struct vg_cfg_loader *ld, const yaml_node_t *node, bool *out) {
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    const char *text = NULL;
    size_t len = 0;
    char shown[80];
    if (vg_cfg_scalar(ld, node, &text, &len) != VG_OK) return VG_ERR_INVALID;
    for (size_t i = 0; i < VG_ARRAY_LEN(yes); i++) {
        if (vg_str_eq(text, len, yes[i], strlen(yes[i]))) {
            *out = true;
            return VG_OK;
        }
        if (vg_str_eq(text, len, no[i], strlen(no[i]))) {
            *out = false;
            return VG_OK;
        }
    }
    return vg_cfg_fail(ld, node, "expected true or false, got '%s'", vg_cfg_show(text, len, shown, sizeof shown));
}

int vg_cfg_duration(struct vg_cfg_loader *ld, const yaml_node_t *node, int64_t *out_ms) {
    const char *text = NULL;
    size_t len = 0;
    char shown[80];
    if (vg_cfg_scalar(ld, node, &text, &len) != VG_OK) return VG_ERR_INVALID;
    int64_t ms = 0;
    int rc = vg_duration_parse(text, len, &ms);
    if (len > 0 && text[0] == '-')
        return vg_cfg_fail(ld, node, "duration must not be negative, got '%s'",
                           vg_cfg_show(text, len, shown, sizeof shown));
    if (rc == VG_ERR_RANGE)
        return vg_cfg_fail(ld, node, "duration out of range '%s'", vg_cfg_show(text, len, shown, sizeof shown));
    if (rc != VG_OK || ms < 0)
        return vg_cfg_fail(ld, node, "bad duration '%s' (like 90s, 15m, 48h, 7d)",
                           vg_cfg_show(text, len, shown, sizeof shown));
    *out_ms = ms;
    return VG_OK;
}

int vg_cfg_check_keys(struct vg_cfg_loader *ld, const yaml_node_t *map) {
    yaml_node_pair_t *start = map->data.mapping.pairs.start;
    yaml_node_pair_t *top = map->data.mapping.pairs.top;
    for (yaml_node_pair_t *p = start; p < top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        if (!key || key->type != YAML_SCALAR_NODE)
            return vg_cfg_fail(ld, key, "keys must be names, got a %s", vg_cfg_kind(key));
    }
    for (yaml_node_pair_t *p = start; p < top; p++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, p->key);
        for (yaml_node_pair_t *q = start; q < p; q++) {
            yaml_node_t *earlier = yaml_document_get_node(ld->doc, q->key);
            if (vg_str_eq((const char *)key->data.scalar.value, key->data.scalar.length,
                          (const char *)earlier->data.scalar.value, earlier->data.scalar.length)) {
                size_t saved = vg_cfg_key_push(ld, (const char *)key->data.scalar.value, key->data.scalar.length);
                vg_cfg_fail(ld, key, "duplicate key (first given on line %lu)", vg_cfg_line(earlier));
                vg_cfg_key_pop(ld, saved);
                return VG_ERR_INVALID;
            }
        }
    }
    return VG_OK;
}

