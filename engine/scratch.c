/* scratch.c - per-worker scratch memory for rules: exact distinct-id sets that reset in
 * O(1) by bumping a generation, sized once for the largest window a rule may see. */
#include "scratch.h"

#include <stdlib.h>
#include <string.h>

int vg_scratch_init(struct vg_scratch *s, size_t max_items) {
    memset(s, 0, sizeof *s);
    size_t cap = 64;
    while (cap < max_items * 2 + 2) cap <<= 1;
    for (int i = 0; i < VG_DISTINCT_SETS; i++) {
        s->sets[i].slots = calloc(cap, sizeof *s->sets[i].slots);
        if (!s->sets[i].slots) {
            vg_scratch_free(s);
            return VG_ERR_NOMEM;
        }
        s->sets[i].capacity = cap;
        s->sets[i].generation = 1;
        s->sets[i].limit = cap / 2;
    }
    return VG_OK;
}

void vg_scratch_free(struct vg_scratch *s) {
    for (int i = 0; i < VG_DISTINCT_SETS; i++) {
        free(s->sets[i].slots);
        s->sets[i].slots = NULL;
    }
}

void vg_distinct_reset(struct vg_scratch *s, int slot) {
    struct vg_distinct_set *set = &s->sets[slot];
    set->count = 0;
    if (++set->generation == 0) { /* wrapped: really clear once every 4 billion resets */
        memset(set->slots, 0, set->capacity * sizeof *set->slots);
        set->generation = 1;
    }
}

bool vg_distinct_add(struct vg_scratch *s, int slot, uint64_t hash, const char *id, size_t len) {
    struct vg_distinct_set *set = &s->sets[slot];
    size_t mask = set->capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct vg_distinct_slot *e = &set->slots[i];
        if (e->generation != set->generation) {
            if (set->count >= set->limit) return false; /* full: treat as seen (never happens when sized) */
            *e = (struct vg_distinct_slot){.hash = hash, .id = id, .len = (uint32_t)len, .generation = set->generation};
            set->count++;
            return true;
        }
        if (e->hash == hash && vg_str_eq(e->id, e->len, id, len)) return false;
    }
}

size_t vg_distinct_count(const struct vg_scratch *s, int slot) { return s->sets[slot].count; }
