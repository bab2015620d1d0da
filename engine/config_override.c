/* config_override.c - turns one "section.key=value" setting given outside vigil.yaml (the
 * backtest's --sweep points) into a one-key YAML document, so config.c reads it with the very
 * code that reads the file. Builds nodes with libyaml's document API: nothing is re-parsed. */
#include "config_internal.h"

#include <string.h>

int vg_cfg_override_doc(struct vg_cfg_loader *ld, yaml_document_t *doc, const char *key, const char *value) {
    size_t key_len = key ? strlen(key) : 0;
    char shown[80];
    bool bad = key_len == 0 || key[0] == '.' || key[key_len - 1] == '.' || strstr(key, "..") != NULL;
    if (bad) return vg_cfg_fail_line(ld, 0, "bad key '%s' (like rules.fan_in.min_counterparties)",
                                     vg_cfg_show(key ? key : "", key_len, shown, sizeof shown));
    if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1)) return VG_ERR_NOMEM;
    /* The first node added is the root; each segment but the last opens a nested mapping. */
    int map = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    const char *seg = key;
    while (map) {
        const char *dot = strchr(seg, '.');
        size_t seg_len = dot ? (size_t)(dot - seg) : strlen(seg);
        int k = yaml_document_add_scalar(doc, NULL, (const yaml_char_t *)seg, (int)seg_len, YAML_PLAIN_SCALAR_STYLE);
        int v = dot ? yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE)
                    : yaml_document_add_scalar(doc, NULL, (const yaml_char_t *)(value ? value : ""),
                                               (int)strlen(value ? value : ""), YAML_PLAIN_SCALAR_STYLE);
        if (!k || !v || !yaml_document_append_mapping_pair(doc, map, k, v)) break;
        if (!dot) return VG_OK;
        map = v;
        seg = dot + 1;
    }
    yaml_document_delete(doc);
    vg_cfg_fail_line(ld, 0, "out of memory");
    return VG_ERR_NOMEM;
}
