/* window_sums.c - running sums over an account's window (see window_sums.h). The window is
 * a suffix of the account's ring while every event since the last rebuild came in order,
 * so it is tracked by absolute entry numbers: entries enter at the end, leave at the front.
 * Distinct counterparties are exact: an open-addressing map of (direction, counterparty) ->
 * occurrences in the window, ids compared byte for byte against the text of the newest
 * occurrence (in the window, so live in the store's log). */
#include "window_sums.h"

#include <stdlib.h>
#include <string.h>

struct vg_wslot {
    uint32_t hash;      /* low 32 bits of the counterparty id's XXH3-64 */
    uint32_t log_pos;   /* the newest occurrence in the window (its text is live) */
    uint32_t count;     /* occurrences in the window; 0 = empty slot */
    uint8_t dir;
    uint8_t len;
    uint8_t pad[2];
};

struct vg_wsums {
    struct vg_window_sums pub;
    struct vg_wsums_spec spec;
    uint64_t end_abs;   /* entries added since the rebuild: the ring holds [end_abs - n, end_abs) */
    uint64_t lo_abs;    /* the window's oldest entry */
    uint64_t lo2_abs;   /* the short window's oldest entry */
    uint64_t big_abs;   /* the newest IN >= big_min_micros (when big_ts != VG_TS_NONE) */
    int64_t big_ts;
    bool valid;
    uint32_t idle;      /* appends since the sums were last asked for */
    uint32_t cap;       /* map slots, a power of two */
    uint32_t used;
    struct vg_wslot slots[];
};

#define MIN_SLOTS 8u
#define IDLE_SLACK 64u

size_t vg_wsums_size(const struct vg_wsums *w) { return sizeof *w + (size_t)w->cap * sizeof(struct vg_wslot); }

static inline bool in_band(int64_t amount, const struct vg_wsums_spec *spec) {
    if (amount >= spec->band_threshold_micros) return false;
    return (__int128)amount * 1000000 >= (__int128)spec->band_threshold_micros * (1000000 - spec->band_margin_ppm);
}

static inline int64_t sat_sub(int64_t t, int64_t w) { return t < INT64_MIN + w ? INT64_MIN : t - w; }

static inline uint32_t home(const struct vg_wsums *w, uint32_t hash, uint8_t dir) {
    uint32_t k = (hash ^ (dir ? 0x85ebca6bu : 0u)) * 0x9e3779b1u;
    return (k ^ (k >> 15)) & (w->cap - 1);
}

static inline const char *slot_text(const struct vg_store *s, const struct vg_wslot *slot) {
    struct vg_recent_event e = {.log_pos = slot->log_pos};
    return vg_store_entry_counterparty(s, &e);
}

/* Removes slot i (linear probing: later members of its cluster move back). */
static void slot_delete(struct vg_wsums *w, uint32_t i) {
    uint32_t mask = w->cap - 1;
    for (uint32_t j = i;;) {
        j = (j + 1) & mask;
        if (w->slots[j].count == 0) break;
        uint32_t k = home(w, w->slots[j].hash, w->slots[j].dir);
        /* slot j may move to i when its home is not in (i, j] (cyclically) */
        bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (stays) continue;
        w->slots[i] = w->slots[j];
        i = j;
    }
    w->slots[i].count = 0;
    w->used--;
}

/* Doubles the map into a new block (the store frees the old one). NULL when out of memory
 * (the old block stays, unchanged). */
static struct vg_wsums *grow(struct vg_store *s, struct vg_account *a, struct vg_wsums *w) {
    uint32_t cap = w->cap * 2;
    struct vg_wsums *g = malloc(sizeof *g + (size_t)cap * sizeof(struct vg_wslot));
    if (!g) return NULL;
    memcpy(g, w, sizeof *g);
    g->cap = cap;
    memset(g->slots, 0, (size_t)cap * sizeof(struct vg_wslot));
    for (uint32_t i = 0; i < w->cap; i++) {
        if (w->slots[i].count == 0) continue;
        uint32_t j = home(g, w->slots[i].hash, w->slots[i].dir);
        while (g->slots[j].count != 0) j = (j + 1) & (cap - 1);
        g->slots[j] = w->slots[i];
    }
    vg_store_set_sums(s, a, g); /* replaces the handle's block: can't fail */
    return g;
}

/* Adds ring entry i (absolute number end_abs) at the window's end. Returns the block (it
 * may have moved) or NULL when out of memory. */
static struct vg_wsums *add_entry(struct vg_store *s, struct vg_account *a, struct vg_wsums *w, uint32_t i) {
    const struct vg_recent_event *e = vg_store_entry(a, i);
    if ((w->used + 1) * 4 > w->cap * 3 && !(w = grow(s, a, w))) return NULL;
    const char *text = vg_store_entry_counterparty(s, e);
    uint32_t mask = w->cap - 1;
    uint32_t j = home(w, e->counterparty_hash, e->dir);
    for (;; j = (j + 1) & mask) {
        struct vg_wslot *slot = &w->slots[j];
        if (slot->count == 0) {
            *slot = (struct vg_wslot){.hash = e->counterparty_hash, .log_pos = e->log_pos, .count = 1,
                                      .dir = e->dir, .len = e->counterparty_len};
            w->used++;
            w->pub.distinct[e->dir]++;
            break;
        }
        if (slot->hash == e->counterparty_hash && slot->dir == e->dir && slot->len == e->counterparty_len &&
            vg_str_eq(slot_text(s, slot), slot->len, text, e->counterparty_len)) {
            slot->count++;
            slot->log_pos = e->log_pos;
            break;
        }
    }
    w->pub.n[e->dir]++;
    w->pub.n_short++;
    w->pub.sum[e->dir] += e->amount_micros;
    if (in_band(e->amount_micros, &w->spec)) {
        w->pub.n_band[e->dir]++;
        w->pub.sum_band[e->dir] += e->amount_micros;
    }
    if (e->dir == VG_DIR_IN && e->amount_micros >= w->spec.big_min_micros) {
        w->big_abs = w->end_abs;
        w->big_ts = e->ts_ms;
    }
    w->end_abs++;
    return w;
}

/* Takes the window's oldest entry e out. Its counterparty has a slot; when one slot only
 * has its hash and length, that is it, without reading the (cold) id bytes. False when it
 * can't be told apart (its text is gone and two live counterparties match). */
static bool remove_entry(const struct vg_store *s, struct vg_wsums *w, const struct vg_recent_event *e) {
    uint32_t mask = w->cap - 1, found = UINT32_MAX, matches = 0;
    for (uint32_t j = home(w, e->counterparty_hash, e->dir); w->slots[j].count != 0; j = (j + 1) & mask) {
        const struct vg_wslot *slot = &w->slots[j];
        if (slot->hash != e->counterparty_hash || slot->dir != e->dir || slot->len != e->counterparty_len) continue;
        found = j;
        matches++;
    }
    if (matches > 1 && e->ts_ms >= vg_store_horizon(s)) { /* live text: compare exactly */
        const char *text = vg_store_entry_counterparty(s, e);
        found = UINT32_MAX;
        matches = 0;
        for (uint32_t j = home(w, e->counterparty_hash, e->dir); w->slots[j].count != 0; j = (j + 1) & mask) {
            const struct vg_wslot *slot = &w->slots[j];
            if (slot->hash == e->counterparty_hash && slot->dir == e->dir && slot->len == e->counterparty_len &&
                vg_str_eq(slot_text(s, slot), slot->len, text, e->counterparty_len)) {
                found = j;
                matches = 1;
                break;
            }
        }
    }
    if (found == UINT32_MAX || matches > 1) return false;
    w->pub.n[e->dir]--;
    w->pub.sum[e->dir] -= e->amount_micros;
    if (in_band(e->amount_micros, &w->spec)) {
        w->pub.n_band[e->dir]--;
        w->pub.sum_band[e->dir] -= e->amount_micros;
    }
    if (--w->slots[found].count == 0) {
        slot_delete(w, found);
        w->pub.distinct[e->dir]--;
    }
    w->lo_abs++;
    return true;
}

/* ---- cache hints for an upcoming event (the shard loop's software pipeline) ---------- */

void vg_wsums_prefetch_block(const struct vg_store *s, const struct vg_account *a) {
    const struct vg_wsums *w = a ? vg_store_sums(s, a) : NULL; /* handle -> block: a small, hot array */
    if (!w) return;
    for (size_t off = 0; off < offsetof(struct vg_wsums, slots); off += 64) __builtin_prefetch((const char *)w + off);
    __builtin_prefetch((const char *)w + offsetof(struct vg_wsums, slots) - 1);
}

/* The window's oldest entries (in the ring; the entry prefetch covers the newest only) and
 * the new counterparty's home slot. Reads the block's header (prefetched a stage before). */
void vg_wsums_prefetch_entries(const struct vg_store *s, const struct vg_account *a, uint32_t cp_hash,
                               uint8_t dir) {
    const struct vg_wsums *w = a ? vg_store_sums(s, a) : NULL;
    if (!w || !w->valid || !a->ring) return;
    uint64_t base = w->end_abs - a->n_events;
    if (w->lo_abs >= base && w->lo_abs < w->end_abs) __builtin_prefetch(vg_store_entry(a, (uint32_t)(w->lo_abs - base)));
    if (w->lo2_abs >= base && w->lo2_abs < w->end_abs)
        __builtin_prefetch(vg_store_entry(a, (uint32_t)(w->lo2_abs - base)));
    __builtin_prefetch(&w->slots[home(w, cp_hash, dir)], 1);
}

/* Last: the slot of the counterparty leaving the window (from its entry, prefetched a
 * stage before) and the log text the new counterparty's slot will be compared against. */
void vg_wsums_prefetch_slots(const struct vg_store *s, const struct vg_account *a, uint32_t cp_hash, uint8_t dir,
                             uint8_t cp_len) {
    const struct vg_wsums *w = a ? vg_store_sums(s, a) : NULL;
    if (!w || !w->valid || !a->ring) return;
    uint64_t base = w->end_abs - a->n_events;
    if (w->lo_abs >= base && w->lo_abs < w->end_abs) {
        const struct vg_recent_event *e = vg_store_entry(a, (uint32_t)(w->lo_abs - base));
        __builtin_prefetch(&w->slots[home(w, e->counterparty_hash, e->dir)], 1);
    }
    uint32_t mask = w->cap - 1;
    for (uint32_t j = home(w, cp_hash, dir), probes = 0; probes < 4 && w->slots[j].count; j = (j + 1) & mask, probes++)
        if (w->slots[j].hash == cp_hash && w->slots[j].dir == dir && w->slots[j].len == cp_len) {
            __builtin_prefetch(slot_text(s, &w->slots[j]));
            break;
        }
}

void vg_wsums_before_append(struct vg_store *s, struct vg_account *a, int64_t ts_ms, bool late) {
    struct vg_wsums *w = vg_store_sums(s, a);
    if (!w || !w->valid || late) return;
    uint64_t oldest = w->lo_abs < w->lo2_abs ? w->lo_abs : w->lo2_abs;
    if (!a->ring || a->n_events < w->end_abs - oldest) { /* entries gone unseen: start over */
        w->valid = false;
        return;
    }
    int64_t from = sat_sub(ts_ms, w->spec.window_ms);
    int64_t from2 = sat_sub(ts_ms, w->spec.short_window_ms);
    int64_t horizon = vg_store_horizon(s);
    if (horizon > from) from = horizon;
    if (horizon > from2) from2 = horizon;
    /* after the append the view keeps the newest max_events */
    uint64_t keep_from = w->end_abs + 1 > w->spec.max_events ? w->end_abs + 1 - w->spec.max_events : 0;
    uint64_t base = w->end_abs - a->n_events;
    for (; w->lo2_abs < w->end_abs; w->lo2_abs++) {
        const struct vg_recent_event *e = vg_store_entry(a, (uint32_t)(w->lo2_abs - base));
        if (w->lo2_abs >= keep_from && e->ts_ms >= from2) break;
        w->pub.n_short--;
    }
    while (w->lo_abs < w->end_abs) {
        const struct vg_recent_event *e = vg_store_entry(a, (uint32_t)(w->lo_abs - base));
        if (w->lo_abs >= keep_from && e->ts_ms >= from) break;
        if (!remove_entry(s, w, e)) {
            w->valid = false;
            return;
        }
    }
}

void vg_wsums_after_append(struct vg_store *s, struct vg_account *a, bool late, bool appended) {
    struct vg_wsums *w = vg_store_sums(s, a);
    if (!w || !w->valid) return;
    uint64_t oldest = w->lo_abs < w->lo2_abs ? w->lo_abs : w->lo2_abs;
    if (late || !appended || !a->ring || a->n_events < w->end_abs - oldest + 1) {
        w->valid = false;
        return;
    }
    if (!(w = add_entry(s, a, w, a->n_events - 1))) {
        vg_store_sums(s, a)->valid = false; /* (grow failed: the block is unchanged) */
        return;
    }
    /* Unasked for longer than a rebuild would take (the window's events): they go, so an
     * account whose events no rule settles pays at most twice the upkeep it needed. */
    if (++w->idle > IDLE_SLACK + w->pub.n[0] + w->pub.n[1]) vg_store_set_sums(s, a, NULL);
}

/* First ring index with ts >= ts_ms (entries are sorted). */
static uint32_t ring_lower(const struct vg_account *a, int64_t ts_ms) {
    uint32_t lo = 0, hi = a->n_events;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (vg_store_entry(a, mid)->ts_ms < ts_ms) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Recomputes the account's sums from its ring for the window ending at its newest entry. */
static struct vg_wsums *rebuild(struct vg_store *s, struct vg_account *a, const struct vg_wsums_spec *spec) {
    struct vg_wsums *w = vg_store_sums(s, a);
    if (w) {
        memset(w->slots, 0, (size_t)w->cap * sizeof(struct vg_wslot));
    } else {
        w = malloc(sizeof *w + MIN_SLOTS * sizeof(struct vg_wslot));
        if (!w) return NULL;
        w->cap = MIN_SLOTS;
        memset(w->slots, 0, MIN_SLOTS * sizeof(struct vg_wslot));
        if (vg_store_set_sums(s, a, w) != VG_OK) return NULL;
    }
    w->pub = (struct vg_window_sums){.window_ms = spec->window_ms, .big_min_micros = spec->big_min_micros,
                                     .short_window_ms = spec->short_window_ms,
                                     .band_threshold_micros = spec->band_threshold_micros,
                                     .band_margin_ppm = spec->band_margin_ppm};
    w->spec = *spec;
    w->used = 0;
    w->idle = 0;
    w->big_ts = VG_TS_NONE;
    w->big_abs = 0;
    w->valid = false;
    uint32_t n = a->ring ? a->n_events : 0;
    w->end_abs = 0;
    w->lo_abs = 0;
    w->lo2_abs = 0;
    if (n == 0) {
        w->valid = true;
        return w;
    }
    int64_t t = vg_store_entry(a, n - 1)->ts_ms;
    int64_t horizon = vg_store_horizon(s);
    int64_t from = sat_sub(t, spec->window_ms);
    if (horizon > from) from = horizon;
    uint32_t keep_from = n > spec->max_events ? n - spec->max_events : 0;
    uint32_t lo = ring_lower(a, from);
    if (lo < keep_from) lo = keep_from;
    /* the newest event is always in: when it is older than the horizon the rules read a
     * view of it alone, and the in-order upkeep adds it whatever its time */
    if (lo > n - 1) lo = n - 1;
    int64_t from2 = sat_sub(t, spec->short_window_ms);
    if (horizon > from2) from2 = horizon;
    uint32_t lo2 = ring_lower(a, from2);
    if (lo2 < keep_from) lo2 = keep_from;
    if (lo2 > n - 1) lo2 = n - 1;
    /* the entries before the window count as added and removed */
    w->end_abs = lo;
    w->lo_abs = lo;
    for (uint32_t i = lo; i < n; i++)
        if (!(w = add_entry(s, a, w, i))) return NULL;
    w->lo2_abs = lo2;
    w->pub.n_short = n - lo2;
    /* the newest large receipt a view of any window holds (not older than the horizon) */
    uint32_t big_lo = ring_lower(a, horizon);
    if (big_lo < keep_from) big_lo = keep_from;
    if (w->big_ts == VG_TS_NONE)
        for (uint32_t i = lo; i-- > big_lo;) {
            const struct vg_recent_event *e = vg_store_entry(a, i);
            if (e->dir == VG_DIR_IN && e->amount_micros >= spec->big_min_micros) {
                w->big_abs = i;
                w->big_ts = e->ts_ms;
                break;
            }
        }
    w->valid = true;
    return w;
}

const struct vg_window_sums *vg_wsums_get(struct vg_store *s, struct vg_account *a, const struct vg_wsums_spec *spec) {
    struct vg_wsums *w = vg_store_sums(s, a);
    if (!w || !w->valid || w->spec.window_ms != spec->window_ms || w->spec.big_min_micros != spec->big_min_micros ||
        w->spec.max_events != spec->max_events || w->spec.short_window_ms != spec->short_window_ms ||
        w->spec.band_threshold_micros != spec->band_threshold_micros || w->spec.band_margin_ppm != spec->band_margin_ppm) {
        w = rebuild(s, a, spec);
        if (!w) {
            if ((w = vg_store_sums(s, a))) w->valid = false;
            return NULL;
        }
    }
    w->idle = 0;
    uint64_t keep_from = w->end_abs > w->spec.max_events ? w->end_abs - w->spec.max_events : 0;
    bool big_in_view = w->big_ts != VG_TS_NONE && w->big_ts >= vg_store_horizon(s) && w->big_abs >= keep_from;
    w->pub.big_in_ts = big_in_view ? w->big_ts : VG_TS_NONE;
    return &w->pub;
}
