/* scratch.h - layout of the per-worker scratch memory behind vg_distinct_* (rule.h). */
#ifndef VIGIL_SCRATCH_H
#define VIGIL_SCRATCH_H

#include "vigil/rule.h"

struct vg_distinct_slot {
    uint64_t hash;
    const char *id;
    uint32_t len;
    uint32_t generation;   /* slot is live when equal to the set's generation */
};

struct vg_distinct_set {
    struct vg_distinct_slot *slots;
    size_t capacity;       /* power of two */
    size_t limit;          /* most items it takes */
    size_t count;
    uint32_t generation;
};

struct vg_scratch {
    struct vg_distinct_set sets[VG_DISTINCT_SETS];
};

/* Sizes the sets for max_items ids each. Returns VG_OK or VG_ERR_NOMEM. */
int vg_scratch_init(struct vg_scratch *s, size_t max_items);
void vg_scratch_free(struct vg_scratch *s);

#endif
