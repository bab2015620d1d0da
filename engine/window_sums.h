/* window_sums.h - per-account running sums over the window that ends at the account's
 * newest event (struct vg_window_sums, vigil/rule.h): counts and amounts per direction,
 * exact distinct counterparties (a small per-account map of multiplicities), the newest
 * large receipt. Updated on each in-order append and as events leave the window, so an
 * event costs O(1) amortised whatever the window holds; a late record or a config change
 * invalidates them and the next in-order event rebuilds them from the account's ring.
 * The blocks hang off the account (vg_store_sums); one shard thread owns them. */
#ifndef VIGIL_WINDOW_SUMS_H
#define VIGIL_WINDOW_SUMS_H

#include "account_store.h"

/* What the sums are kept for (derived from the config by the shard). */
struct vg_wsums_spec {
    int64_t window_ms;      /* 0: no sums */
    int64_t big_min_micros; /* big_in_ts threshold; INT64_MAX: not kept */
    int64_t short_window_ms;/* n_short's window */
    int64_t band_threshold_micros; /* n_band's band; INT64_MIN: none */
    int64_t band_margin_ppm;
    uint32_t max_events;    /* the view's bound (engine.max_window_events) */
};

/* Bytes of a block (for the store's accounting). */
size_t vg_wsums_size(const struct vg_wsums *w);

/* Before the store appends an event of time ts_ms to the account (after vg_store_expire):
 * when the account has valid sums and the event is in order (late = false), moves their
 * window to end at ts_ms, dropping what leaves it. A late event needs nothing here. */
/* Cache hints for an upcoming event of account `a` (NULL: none) with counterparty hash
 * cp_hash (low 32 bits), direction dir and counterparty length cp_len, in pipeline order a
 * few messages apart: the block's header, then the window's oldest entries and the new
 * counterparty's slot, then the leaving counterparty's slot and the text the new one is
 * compared against. Each reads only what the one before asked for; none changes anything. */
void vg_wsums_prefetch_block(const struct vg_store *s, const struct vg_account *a);
void vg_wsums_prefetch_entries(const struct vg_store *s, const struct vg_account *a, uint32_t cp_hash, uint8_t dir);
void vg_wsums_prefetch_slots(const struct vg_store *s, const struct vg_account *a, uint32_t cp_hash, uint8_t dir,
                             uint8_t cp_len);

void vg_wsums_before_append(struct vg_store *s, struct vg_account *a, int64_t ts_ms, bool late);

/* After the append: adds the appended event (the ring's newest entry when in order) to the
 * sums, or invalidates them (late, or the append failed: appended = false). */
void vg_wsums_after_append(struct vg_store *s, struct vg_account *a, bool late, bool appended);

/* The sums for the account's newest event (in order, just appended), rebuilt from its
 * ring when missing, invalid or kept for another spec. NULL when out of memory. */
const struct vg_window_sums *vg_wsums_get(struct vg_store *s, struct vg_account *a, const struct vg_wsums_spec *spec);

#endif
