/* config_diff.h - logging what a config reload changed (engine/config_diff.c). */
#ifndef VIGIL_CONFIG_DIFF_H
#define VIGIL_CONFIG_DIFF_H

#include "vigil/config.h"

/* Logs one reload_changed line per key whose value differs between old and fresh (as it
 * would be written in vigil.yaml), reload_list for each loaded list file with its size,
 * or reload_unchanged. Can't fail. */
void vg_config_log_changes(const struct vg_config *old, const struct vg_config *fresh);

#endif
