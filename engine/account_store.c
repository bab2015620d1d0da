/* account_store.c - a shard's accounts and their recent events (see account_store.h).
 * Accounts: chunked array (stable indices, no copying on growth) behind an open-addressing
 * index with 32-bit tags. Events: a byte ring with monotonic 64-bit offsets owns each event
 * and its strings (a record never straddles the end of the buffer: a padding record fills
 * the gap; growth doubles the buffer, keeping every offset valid). Each account also keeps
 * its events as compact entries in a contiguous ring taken from per-size-class free lists,
 * sorted by (ts, seq), so a window view is a binary search and a sequential copy.
 * Expiry is lazy so that it costs no random access: the store's horizon cuts every view at
 * once; the log's tail advances over events older than it without looking at their
 * owners; an account's ring sheds its stale prefix when the account is next appended to,
 * and a sweep cursor walking the account array a few records per call returns the rings of
 * accounts whose newest event is behind the horizon. A stale entry's text may already be
 * overwritten in the log, which is why nothing reads an entry older than the horizon. */
#include "account_store.h"

#include <stdlib.h>

#include "bigmem.h"
#include "window_sums.h"

#include "vigil/hash.h"
#include <string.h>

#define CHUNK_SHIFT 14 /* 16384 accounts, ~2.7 MB: mostly one huge page */
#define CHUNK_SIZE (1u << CHUNK_SHIFT)
#define RECENT_MIN_CLASS 1   /* smallest ring: 2 events (most accounts hold one or two) */
#define SWEEP_PER_CALL 2     /* accounts the idle-ring sweep visits per vg_store_expire */
#define SWEEP_AHEAD 8        /* calls ahead that the sweep prefetches its accounts */
#define ENTRY_PREFETCH_LINES 12 /* cache lines of ring entries prefetched per event, at most */
#define RECENT_CLASSES 32
#define SLAB_BYTES ((size_t)2 << 20) /* rings are carved from huge-page slabs of this size */
#define PAD_TS INT64_MIN /* a padding record: newest_at_ms = PAD_TS, seq = its span */

struct index_slot {
    uint32_t tag;        /* high hash bits, never 0 in a used slot */
    uint32_t account;    /* index + 1; 0 = empty */
};

struct vg_store {
    /* accounts */
    struct vg_account **chunks;
    uint32_t n_chunks, chunk_capacity;
    uint32_t n_accounts;
    struct index_slot *index;
    uint32_t index_capacity;     /* power of two */
    /* event log */
    unsigned char *log;
    uint64_t log_capacity;       /* power of two */
    uint64_t log_head, log_tail; /* monotonic byte offsets */
    uint64_t n_events;           /* events in the log */
    uint64_t newest_seq;         /* highest seq appended: views rebuild seq from 32 bits */
    int64_t horizon_ms;          /* nothing older is in any view; only moves forward */
    uint32_t sweep;              /* next account the idle-ring sweep looks at */
    int64_t bucket_ms;
    /* per-account recent-event rings, pooled by size class in arrays of free rings (an
     * array, not a list threaded through the rings: taking one must not wait on a cache
     * miss in the ring itself), carved from slabs (never returned before destroy); rings
     * larger than a slab get their own block */
    struct vg_recent_event **free_recent[RECENT_CLASSES];
    uint32_t n_free[RECENT_CLASSES], free_capacity[RECENT_CLASSES];
    uint64_t recent_bytes;
    void **slabs;                /* every block: slabs and oversized rings */
    size_t *slab_sizes;
    uint32_t n_slabs, slab_capacity;
    unsigned char *slab_pos;     /* bump pointer in the current slab */
    size_t slab_left;
    /* window sums blocks (window_sums.h), by the handle accounts hold minus one; freed
     * handles are reused */
    struct vg_wsums **sums;
    uint32_t n_sums, sums_capacity;
    uint32_t *sums_free;
    uint32_t n_sums_free;
    uint64_t sums_bytes;
};

_Static_assert(sizeof(struct vg_account) == 192, "an account is three cache lines");
_Static_assert(offsetof(struct vg_account, activity.counts) == 64, "activity counts fill the second line");
_Static_assert(offsetof(struct vg_account, activity) + 8 == 64, "activity header closes the first line");
_Static_assert(offsetof(struct vg_account, id_tail) == 128, "a long id's tail on the third line");
_Static_assert(offsetof(struct vg_account, inline_ring) == 128 &&
                   sizeof(((struct vg_account *)0)->inline_ring) == 64 &&
                   VG_ACCOUNT_INLINE_EVENTS == 1u << RECENT_MIN_CLASS,
               "a short id's smallest ring fills the third line");

static inline uint32_t tag_of(uint64_t hash) {
    uint32_t t = (uint32_t)(hash >> 32);
    return t ? t : 1;
}

static inline struct vg_log_event *event_at(const struct vg_store *s, uint64_t off) {
    return (struct vg_log_event *)(s->log + (off & (s->log_capacity - 1)));
}

static inline uint64_t event_span(uint32_t text_len) {
    return (sizeof(struct vg_log_event) + text_len + 15u) & ~(uint64_t)15u; /* 16-byte granules: a pad always has room for its 16-byte marker */
}

int vg_store_create(struct vg_store **out, int64_t bucket_ms) {
    struct vg_store *s = calloc(1, sizeof *s);
    if (!s) goto err;
    s->bucket_ms = bucket_ms > 60000 ? bucket_ms : 60000;
    s->horizon_ms = INT64_MIN;
    s->index_capacity = 1024;
    s->index = vg_big_alloc(s->index_capacity * sizeof *s->index);
    s->log_capacity = 1u << 20;
    s->log = vg_big_alloc(s->log_capacity);
    if (!s->index || !s->log) goto err;
    *out = s;
    return VG_OK;
err:
    if (s) {
        vg_big_free(s->index, s->index_capacity * sizeof *s->index);
        vg_big_free(s->log, s->log_capacity);
        free(s);
    }
    return VG_ERR_NOMEM;
}

static void recent_free_all(struct vg_store *s);

void vg_store_destroy(struct vg_store *s) {
    if (!s) return;
    for (uint32_t i = 0; i < s->n_sums; i++) free(s->sums[i]);
    free(s->sums);
    free(s->sums_free);
    recent_free_all(s);
    for (uint32_t i = 0; i < s->n_chunks; i++) vg_big_free(s->chunks[i], CHUNK_SIZE * sizeof(struct vg_account));
    free(s->chunks);
    vg_big_free(s->index, s->index_capacity * sizeof *s->index);
    vg_big_free(s->log, s->log_capacity);
    free(s);
}

struct vg_account *vg_store_account(struct vg_store *s, uint32_t index) {
    return &s->chunks[index >> CHUNK_SHIFT][index & (CHUNK_SIZE - 1)];
}

static uint32_t index_probe(const struct vg_store *s, const char *id, size_t len, uint64_t hash, bool *found) {
    uint32_t mask = s->index_capacity - 1, tag = tag_of(hash);
    for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1) & mask) {
        const struct index_slot *slot = &s->index[i];
        if (slot->account == 0) {
            *found = false;
            return i;
        }
        if (slot->tag == tag) {
            const struct vg_account *a = &s->chunks[(slot->account - 1) >> CHUNK_SHIFT][(slot->account - 1) & (CHUNK_SIZE - 1)];
            if (vg_account_id_eq(a, id, len)) {
                *found = true;
                return i;
            }
        }
    }
}

/* Doubles the index. Returns VG_OK or VG_ERR_NOMEM (index unchanged). */
static int index_grow(struct vg_store *s) {
    uint32_t capacity = s->index_capacity * 2;
    struct index_slot *slots = vg_big_alloc(capacity * sizeof *slots);
    if (!slots) return VG_ERR_NOMEM;
    struct index_slot *old = s->index;
    uint32_t old_capacity = s->index_capacity;
    s->index = slots;
    s->index_capacity = capacity;
    for (uint32_t i = 0; i < old_capacity; i++) {
        if (old[i].account == 0) continue;
        const struct vg_account *a = vg_store_account(s, old[i].account - 1);
        char id[VG_ID_MAX];
        size_t len = vg_account_id(a, id);
        uint64_t hash = vg_hash64_id(id, len);
        uint32_t j = (uint32_t)hash & (capacity - 1);
        while (slots[j].account != 0) j = (j + 1) & (capacity - 1);
        slots[j] = old[i];
    }
    vg_big_free(old, old_capacity * sizeof *old);
    return VG_OK;
}

void vg_store_prefetch_slot(const struct vg_store *s, uint64_t hash) {
    __builtin_prefetch(&s->index[(uint32_t)hash & (s->index_capacity - 1)]);
}

/* The account at hash if its index slot is in the first few probes (a hint, not a lookup:
 * ids are not compared). NULL otherwise. */
static const struct vg_account *peek_account(const struct vg_store *s, uint64_t hash) {
    uint32_t mask = s->index_capacity - 1, tag = tag_of(hash);
    for (uint32_t i = (uint32_t)hash & mask, probes = 0; probes < 4; i = (i + 1) & mask, probes++) {
        const struct index_slot *slot = &s->index[i];
        if (slot->account == 0) return NULL;
        if (slot->tag == tag)
            return &s->chunks[(slot->account - 1) >> CHUNK_SHIFT][(slot->account - 1) & (CHUNK_SIZE - 1)];
    }
    return NULL;
}

/* Last stage, once the account is likely cached: the lines of its live entries (the
 * newest ENTRY_PREFETCH_LINES lines' worth when there are more), one prefetch per line of
 * each contiguous part of the ring. Position and size come from the account record, so
 * nothing here waits on the ring itself. */
static inline void prefetch_lines(const char *from, const char *to) {
    for (const char *line = (const char *)((uintptr_t)from & ~(uintptr_t)63); line < to; line += 64)
        __builtin_prefetch(line);
}

void vg_store_prefetch_entries(const struct vg_store *s, uint64_t hash) {
    const struct vg_account *a = peek_account(s, hash);
    if (!a) return;
    if (a->sums) vg_wsums_prefetch_block(s, a);
    if (!a->ring || a->n_events == 0) return;
    uint32_t size = 1u << a->ring_class, count = a->n_events;
    const uint32_t per_line = 64 / sizeof(struct vg_recent_event);
    if (count > ENTRY_PREFETCH_LINES * per_line) count = ENTRY_PREFETCH_LINES * per_line;
    uint32_t first = (a->ring_start + a->n_events - count) & (size - 1); /* oldest one wanted */
    uint32_t run = VG_MIN(count, size - first);                          /* up to the wrap */
    prefetch_lines((const char *)&a->ring[first], (const char *)&a->ring[first + run]);
    if (run < count) prefetch_lines((const char *)a->ring, (const char *)&a->ring[count - run]);
}

void vg_store_prefetch_sums(const struct vg_store *s, uint64_t hash, uint64_t cp_hash, enum vg_dir dir, size_t cp_len,
                            int stage) {
    const struct vg_account *a = peek_account(s, hash);
    if (!a || !a->sums) return;
    if (stage == 0) vg_wsums_prefetch_entries(s, a, (uint32_t)cp_hash, (uint8_t)dir);
    else vg_wsums_prefetch_slots(s, a, (uint32_t)cp_hash, (uint8_t)dir, (uint8_t)cp_len);
}

void vg_store_prefetch_account(const struct vg_store *s, uint64_t hash, size_t id_len) {
    const struct vg_account *a = peek_account(s, hash);
    if (a) {
        /* the third line too: a long id's tail, or a short id's smallest ring (which an
         * append writes even when the account held nothing) */
        (void)id_len;
        __builtin_prefetch(a);
        __builtin_prefetch((const char *)a + 64);
        __builtin_prefetch((const char *)a + 128);
    }
}

struct vg_account *vg_store_find(struct vg_store *s, const char *id, size_t len, uint64_t hash) {
    bool found;
    uint32_t i = index_probe(s, id, len, hash, &found);
    return found ? vg_store_account(s, s->index[i].account - 1) : NULL;
}

uint32_t vg_store_upsert(struct vg_store *s, const char *id, size_t len, uint64_t hash) {
    bool found;
    uint32_t i = index_probe(s, id, len, hash, &found);
    if (found) return s->index[i].account - 1;
    if ((uint64_t)(s->n_accounts + 1) * 10 > (uint64_t)s->index_capacity * 7) {
        if (index_grow(s) != VG_OK) return UINT32_MAX;
        i = index_probe(s, id, len, hash, &found);
    }
    uint32_t index = s->n_accounts;
    if ((index >> CHUNK_SHIFT) >= s->n_chunks) {
        if (s->n_chunks == s->chunk_capacity) {
            uint32_t cap = s->chunk_capacity ? s->chunk_capacity * 2 : 16;
            struct vg_account **chunks = realloc(s->chunks, cap * sizeof *chunks);
            if (!chunks) return UINT32_MAX;
            s->chunks = chunks;
            s->chunk_capacity = cap;
        }
        s->chunks[s->n_chunks] = vg_big_alloc(CHUNK_SIZE * sizeof(struct vg_account));
        if (!s->chunks[s->n_chunks]) return UINT32_MAX;
        s->n_chunks++;
    }
    struct vg_account *a = vg_store_account(s, index);
    memset(a, 0, sizeof *a);
    memcpy(a->id_head, id, VG_MIN(len, (size_t)VG_ACCOUNT_ID_HEAD));
    if (len > VG_ACCOUNT_ID_HEAD) memcpy(a->id_tail, id + VG_ACCOUNT_ID_HEAD, len - VG_ACCOUNT_ID_HEAD);
    a->id_len = (uint8_t)len;
    a->first_seen_ms = INT64_MAX;
    a->last_seen_ms = VG_TS_NONE;
    a->ring = NULL;
    a->activity.newest_bucket = INT32_MIN;
    a->activity.bucket_minutes = (uint32_t)(s->bucket_ms / 60000);
    s->index[i].tag = tag_of(hash);
    s->index[i].account = index + 1;
    s->n_accounts++;
    return index;
}

/* ---- activity histogram ----------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static void activity_add(struct vg_activity *act, int64_t ts_ms) {
    int64_t bucket_ms = (int64_t)act->bucket_minutes * 60000;
    int64_t b = floor_div(ts_ms, bucket_ms);
    if (b > INT32_MAX || b < INT32_MIN + VG_ACTIVITY_BUCKETS) return;
    if (act->newest_bucket == INT32_MIN) {
        act->newest_bucket = (int32_t)b;
    } else if (b > act->newest_bucket) {
        int64_t gap = b - act->newest_bucket;
        if (gap >= VG_ACTIVITY_BUCKETS) memset(act->counts, 0, sizeof act->counts);
        else
            for (int64_t k = act->newest_bucket + 1; k <= b; k++)
                act->counts[(uint64_t)k % VG_ACTIVITY_BUCKETS] = 0;
        act->newest_bucket = (int32_t)b;
    } else if (b <= (int64_t)act->newest_bucket - VG_ACTIVITY_BUCKETS) {
        return; /* older than the histogram reaches */
    }
    uint16_t *c = &act->counts[(uint64_t)b % VG_ACTIVITY_BUCKETS];
    if (*c < UINT16_MAX) (*c)++;
}

uint64_t vg_activity_count(const struct vg_activity *act, int64_t from_ms, int64_t to_ms) {
    if (act->newest_bucket == INT32_MIN || to_ms <= from_ms) return 0;
    int64_t bucket_ms = (int64_t)act->bucket_minutes * 60000;
    __int128 scaled = 0; /* counts x overlapping ms */
    for (int64_t b = (int64_t)act->newest_bucket - VG_ACTIVITY_BUCKETS + 1; b <= act->newest_bucket; b++) {
        int64_t lo = b * bucket_ms, hi = lo + bucket_ms;
        int64_t olo = VG_MAX(lo, from_ms), ohi = VG_MIN(hi, to_ms);
        if (ohi <= olo) continue;
        scaled += (__int128)act->counts[(uint64_t)b % VG_ACTIVITY_BUCKETS] * (ohi - olo);
    }
    return (uint64_t)((scaled + bucket_ms / 2) / bucket_ms);
}

/* ---- per-account recent-event rings ---------------------------------------------------- */

static void recent_free_all(struct vg_store *s) {
    for (uint32_t i = 0; i < s->n_accounts; i++) {
        struct vg_account *a = vg_store_account(s, i);
        a->ring = NULL;
        a->n_events = 0;
    }
    for (int c = 0; c < RECENT_CLASSES; c++) {
        free(s->free_recent[c]);
        s->free_recent[c] = NULL;
        s->n_free[c] = s->free_capacity[c] = 0;
    }
    for (uint32_t i = 0; i < s->n_slabs; i++) vg_big_free(s->slabs[i], s->slab_sizes[i]);
    free(s->slabs);
    free(s->slab_sizes);
    s->slabs = NULL;
    s->slab_sizes = NULL;
    s->n_slabs = s->slab_capacity = 0;
    s->slab_left = 0;
}

/* Remembers a block for recent_free_all. Returns VG_OK or VG_ERR_NOMEM. */
static int slab_track(struct vg_store *s, void *block, size_t size) {
    if (s->n_slabs == s->slab_capacity) {
        uint32_t cap = s->slab_capacity ? s->slab_capacity * 2 : 16;
        void **slabs = realloc(s->slabs, cap * sizeof *slabs);
        if (!slabs) return VG_ERR_NOMEM;
        s->slabs = slabs;
        size_t *sizes = realloc(s->slab_sizes, cap * sizeof *sizes);
        if (!sizes) return VG_ERR_NOMEM;
        s->slab_sizes = sizes;
        s->slab_capacity = cap;
    }
    s->slabs[s->n_slabs] = block;
    s->slab_sizes[s->n_slabs++] = size;
    return VG_OK;
}

/* Fresh memory for a ring of `bytes` (a multiple of 16): carved from the current slab, a
 * new slab when it is used up, its own block when larger than a slab. */
static void *recent_carve(struct vg_store *s, size_t bytes) {
    if (bytes > SLAB_BYTES / 4) {
        void *block = vg_big_alloc(bytes);
        if (!block) return NULL;
        if (slab_track(s, block, bytes) != VG_OK) {
            vg_big_free(block, bytes);
            return NULL;
        }
        s->recent_bytes += bytes;
        return block;
    }
    if (s->slab_left < bytes) {
        void *slab = vg_big_alloc(SLAB_BYTES);
        if (!slab) return NULL;
        if (slab_track(s, slab, SLAB_BYTES) != VG_OK) {
            vg_big_free(slab, SLAB_BYTES);
            return NULL;
        }
        s->slab_pos = slab;
        s->slab_left = SLAB_BYTES;
        s->recent_bytes += SLAB_BYTES;
    }
    void *p = s->slab_pos;
    s->slab_pos += bytes;
    s->slab_left -= bytes;
    return p;
}

static struct vg_recent_event *recent_take(struct vg_store *s, uint32_t size_class) {
    uint32_t n = s->n_free[size_class];
    if (n > 0) {
        struct vg_recent_event **pool = s->free_recent[size_class];
        if (n > 1) __builtin_prefetch(pool[n - 2], 1); /* the next one taken: cached by then */
        s->n_free[size_class] = n - 1;
        return pool[n - 1];
    }
    return recent_carve(s, (size_t)sizeof(struct vg_recent_event) << size_class);
}

/* Pools a ring for reuse. Should the pool's array fail to grow, the ring stays unused in
 * its slab until destroy (nothing is lost but the memory). */
static void recent_give(struct vg_store *s, struct vg_recent_event *ring, uint32_t size_class) {
    if (s->n_free[size_class] == s->free_capacity[size_class]) {
        uint32_t cap = s->free_capacity[size_class] ? s->free_capacity[size_class] * 2 : 1024;
        struct vg_recent_event **grown = realloc(s->free_recent[size_class], cap * sizeof *grown);
        if (!grown) return;
        s->free_recent[size_class] = grown;
        s->free_capacity[size_class] = cap;
    }
    s->free_recent[size_class][s->n_free[size_class]++] = ring;
}

static inline struct vg_recent_event *recent_at(const struct vg_account *a, uint32_t i) {
    return &a->ring[(a->ring_start + i) & ((1u << a->ring_class) - 1)];
}

/* ---- window sums blocks --------------------------------------------------------------- */

struct vg_wsums *vg_store_sums(const struct vg_store *s, const struct vg_account *a) {
    return a->sums ? s->sums[a->sums - 1] : NULL;
}

int vg_store_set_sums(struct vg_store *s, struct vg_account *a, struct vg_wsums *block) {
    if (a->sums) {
        struct vg_wsums **slot = &s->sums[a->sums - 1];
        if (block) { /* same handle, new block */
            s->sums_bytes += vg_wsums_size(block) - vg_wsums_size(*slot);
            free(*slot);
            *slot = block;
            return VG_OK;
        }
        s->sums_bytes -= vg_wsums_size(*slot);
        free(*slot);
        *slot = NULL;
        s->sums_free[s->n_sums_free++] = a->sums - 1; /* room: one per handle ever made */
        a->sums = 0;
        return VG_OK;
    }
    if (!block) return VG_OK;
    uint32_t h;
    if (s->n_sums_free > 0) {
        h = s->sums_free[--s->n_sums_free];
    } else {
        if (s->n_sums == s->sums_capacity) {
            uint32_t cap = s->sums_capacity ? s->sums_capacity * 2 : 256;
            struct vg_wsums **sums = realloc(s->sums, cap * sizeof *sums);
            if (sums) s->sums = sums;
            uint32_t *spare = sums ? realloc(s->sums_free, cap * sizeof *spare) : NULL;
            if (!spare) {
                free(block);
                return VG_ERR_NOMEM;
            }
            s->sums_free = spare;
            s->sums_capacity = cap;
        }
        h = s->n_sums++;
    }
    s->sums[h] = block;
    s->sums_bytes += vg_wsums_size(block);
    a->sums = h + 1;
    return VG_OK;
}

const char *vg_store_entry_counterparty(const struct vg_store *s, const struct vg_recent_event *e) {
    return (const char *)s->log + offsetof(struct vg_log_event, text) + (((uint64_t)e->log_pos << 4) & (s->log_capacity - 1));
}

int64_t vg_store_horizon(const struct vg_store *s) { return s->horizon_ms; }

/* Whether the ring is the one inside the account record (short ids, smallest class). */
static inline bool ring_inline(const struct vg_account *a) { return a->ring == a->inline_ring; }

/* Returns the account's ring to its pool (every entry is stale), and its window sums. */
static void recent_release(struct vg_store *s, struct vg_account *a) {
    vg_store_set_sums(s, a, NULL);
    if (!ring_inline(a)) recent_give(s, a->ring, a->ring_class);
    a->ring = NULL;
    a->ring_start = 0;
    a->n_events = 0;
}

/* Drops the entries older than the horizon: a prefix, since entries are sorted. */
static void recent_trim(const struct vg_store *s, struct vg_account *a) {
    while (a->n_events > 0 && recent_at(a, 0)->ts_ms < s->horizon_ms) {
        a->ring_start = (a->ring_start + 1) & ((1u << a->ring_class) - 1);
        a->n_events--;
    }
}

/* The ring class for an account that will hold `n` entries after trimming: the next one up
 * when full, unchanged while at least a quarter used, else the smallest class at most half
 * full (a ring that held a burst gives its memory back once the burst leaves the window). */
static uint32_t recent_class_for(const struct vg_account *a, uint32_t n) {
    uint32_t c = a->ring_class;
    if (n > (1u << c)) return c + 1; /* full: double */
    if (c <= RECENT_MIN_CLASS || n * 4 > (1u << c)) return c;
    c = RECENT_MIN_CLASS;
    while ((1u << c) < 2 * n) c++;
    return c;
}

/* Makes room for one more entry in the account's ring. Returns VG_OK or VG_ERR_NOMEM. */
static int recent_reserve(struct vg_store *s, struct vg_account *a) {
    uint32_t size_class = RECENT_MIN_CLASS;
    if (a->ring) {
        recent_trim(s, a);
        size_class = recent_class_for(a, a->n_events + 1);
        if (size_class == a->ring_class) return VG_OK;
        if (size_class >= RECENT_CLASSES) return VG_ERR_NOMEM;
    }
    /* The smallest ring of a short id lives in its record's third line (no pool, no
     * separate cache line or page to fetch). */
    struct vg_recent_event *moved = size_class == RECENT_MIN_CLASS && a->id_len <= VG_ACCOUNT_ID_HEAD
                                        ? a->inline_ring
                                        : recent_take(s, size_class);
    if (!moved) return VG_ERR_NOMEM;
    if (a->ring) {
        for (uint32_t i = 0; i < a->n_events; i++) moved[i] = *recent_at(a, i);
        if (!ring_inline(a)) recent_give(s, a->ring, a->ring_class);
    }
    a->ring = moved;
    a->ring_class = (uint8_t)size_class;
    a->ring_start = 0;
    return VG_OK;
}

/* ---- event log ----------------------------------------------------------------------- */

#define LOG_MAX_BYTES ((uint64_t)1 << 36) /* ring entries address the log in 16-byte units, 32 bits */

/* Doubles the log buffer, keeping every offset valid. Returns VG_OK or VG_ERR_NOMEM.
 * Preferably in place (vg_big_grow moves the pages, no copy): a byte at offset o sat at
 * o mod old_capacity and belongs at o mod capacity, so only the live bytes whose offset has
 * the old_capacity bit set move, into the fresh upper half. Otherwise a copy. */
static int log_grow(struct vg_store *s) {
    uint64_t old_capacity = s->log_capacity, capacity = old_capacity * 2;
    if (capacity > LOG_MAX_BYTES) return VG_ERR_NOMEM;
    unsigned char *grown = vg_big_grow(s->log, old_capacity, capacity);
    if (grown) {
        for (uint64_t off = s->log_tail; off < s->log_head;) {
            uint64_t pos = off & (old_capacity - 1);
            uint64_t run = VG_MIN(s->log_head - off, old_capacity - pos); /* one side of a wrap */
            if (off & old_capacity) memcpy(grown + pos + old_capacity, grown + pos, run);
            off += run;
        }
        s->log = grown;
        s->log_capacity = capacity;
        return VG_OK;
    }
    unsigned char *log = vg_big_alloc(capacity);
    if (!log) return VG_ERR_NOMEM;
    for (uint64_t off = s->log_tail; off < s->log_head;) {
        uint64_t opos = off & (old_capacity - 1), npos = off & (capacity - 1);
        uint64_t chunk = VG_MIN(s->log_head - off, VG_MIN(old_capacity - opos, capacity - npos));
        memcpy(log + npos, s->log + opos, chunk);
        off += chunk;
    }
    vg_big_free(s->log, old_capacity);
    s->log = log;
    s->log_capacity = capacity;
    return VG_OK;
}

static int log_reserve(struct vg_store *s, uint64_t span) {
    for (;;) {
        uint64_t pos = s->log_head & (s->log_capacity - 1);
        uint64_t till_end = s->log_capacity - pos;
        uint64_t need = till_end < span ? till_end + span : span;
        if (s->log_capacity - (s->log_head - s->log_tail) < need) {
            if (log_grow(s) != VG_OK) return VG_ERR_NOMEM;
            continue;
        }
        if (till_end < span) { /* pad to the end of the buffer */
            struct vg_log_event *pad = event_at(s, s->log_head);
            pad->newest_at_ms = PAD_TS;
            pad->seq = till_end;
            s->log_head += till_end;
        }
        return VG_OK;
    }
}

/* Records one event for `account` in the log and in the account's ring. Returns VG_OK or
 * VG_ERR_NOMEM (then nothing was recorded). */
static int store_event(struct vg_store *s, uint32_t account, int64_t ts_ms, int64_t amount_micros,
                       int64_t newest_at_ms, uint64_t seq, uint64_t counterparty_hash, uint8_t dir,
                       const char *counterparty, uint8_t counterparty_len, const char *tx_id, uint8_t tx_id_len) {
    struct vg_account *a = vg_store_account(s, account);
    uint64_t span = event_span((uint32_t)counterparty_len + tx_id_len);
    if (recent_reserve(s, a) != VG_OK || log_reserve(s, span) != VG_OK) return VG_ERR_NOMEM;
    uint64_t off = s->log_head;
    struct vg_log_event *ev = event_at(s, off);
    *ev = (struct vg_log_event){
        .newest_at_ms = newest_at_ms, .seq = seq, .counterparty_len = counterparty_len, .tx_id_len = tx_id_len,
    };
    vg_copy_short(ev->text, counterparty, counterparty_len);
    vg_copy_short(ev->text + counterparty_len, tx_id, tx_id_len);
    /* Entries stay sorted by (ts, seq): a record arriving out of order moves back past the
     * newer ones (few, since disorder is bounded), so views are a binary search away. */
    struct vg_recent_event entry = {
        .ts_ms = ts_ms, .amount_micros = amount_micros, .seq_low = (uint32_t)seq, .log_pos = (uint32_t)(off >> 4),
        .counterparty_hash = (uint32_t)counterparty_hash,
        .counterparty_len = counterparty_len, .tx_id_len = tx_id_len, .dir = dir,
    };
    if (seq > s->newest_seq) s->newest_seq = seq;
    uint32_t pos = a->n_events++;
    while (pos > 0) {
        const struct vg_recent_event *prev = recent_at(a, pos - 1);
        if (prev->ts_ms < ts_ms || (prev->ts_ms == ts_ms && (int32_t)(prev->seq_low - (uint32_t)seq) <= 0)) break;
        *recent_at(a, pos) = *prev;
        pos--;
    }
    *recent_at(a, pos) = entry;
    s->n_events++;
    s->log_head += span;
    return VG_OK;
}

int vg_store_append(struct vg_store *s, uint32_t account, const struct vg_txn *txn, enum vg_dir dir,
                    uint64_t counterparty_hash, int64_t newest_ms) {
    struct vg_account *a = vg_store_account(s, account);
    if (txn->ts_ms < a->first_seen_ms) a->first_seen_ms = txn->ts_ms;
    if (txn->ts_ms > a->last_seen_ms) a->last_seen_ms = txn->ts_ms;
    activity_add(&a->activity, txn->ts_ms);
    const char *cp = dir == VG_DIR_OUT ? txn->to : txn->from;
    uint8_t cp_len = dir == VG_DIR_OUT ? txn->to_len : txn->from_len;
    return store_event(s, account, txn->ts_ms, txn->amount_micros, newest_ms, txn->seq, counterparty_hash,
                       (uint8_t)dir, cp, cp_len, txn->id, txn->id_len);
}

void vg_store_expire(struct vg_store *s, int64_t horizon_ms) {
    if (horizon_ms > s->horizon_ms) s->horizon_ms = horizon_ms;
    while (s->log_tail < s->log_head) {
        const struct vg_log_event *ev = event_at(s, s->log_tail);
        if (ev->newest_at_ms == PAD_TS) {
            s->log_tail += ev->seq;
            continue;
        }
        /* Arrived before the horizon, so its ts (<= newest_at) is too: every entry that
         * refers to these bytes is stale. */
        if (ev->newest_at_ms >= s->horizon_ms) break;
        s->log_tail += event_span((uint32_t)ev->counterparty_len + ev->tx_id_len);
        s->n_events--;
    }
    if (s->n_accounts == 0) return;
    for (int k = 0; k < SWEEP_PER_CALL; k++) {
        if (s->sweep >= s->n_accounts) s->sweep = 0;
        struct vg_account *a = vg_store_account(s, s->sweep++);
        if (a->ring && a->last_seen_ms < s->horizon_ms) recent_release(s, a);
    }
    /* The sweep's accounts are cold: ask for those it reaches SWEEP_AHEAD calls from now
     * (their first lines hold ring and last_seen), so the reads above never wait on memory. */
    for (uint32_t k = 0, ahead = s->sweep + SWEEP_AHEAD * SWEEP_PER_CALL; k < SWEEP_PER_CALL; k++)
        if (ahead + k < s->n_accounts) __builtin_prefetch(vg_store_account(s, ahead + k));
}

size_t vg_store_view(struct vg_store *s, uint32_t account, int64_t cutoff_ms, size_t max,
                     struct vg_event_view *out, bool *truncated) {
    struct vg_account *a = vg_store_account(s, account);
    *truncated = false;
    if (!a->ring) return 0;
    if (cutoff_ms < s->horizon_ms) cutoff_ms = s->horizon_ms; /* stale entries' text may be gone */
    uint32_t count = a->n_events;
    uint32_t lo = 0, hi = count; /* first entry with ts >= cutoff (entries are sorted) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (recent_at(a, mid)->ts_ms < cutoff_ms) lo = mid + 1;
        else hi = mid;
    }
    if (count - lo > max) { /* keep the newest `max` */
        lo = count - (uint32_t)max;
        *truncated = true;
    }
    size_t n = 0;
    uint64_t mask = s->log_capacity - 1;
    const char *texts = (const char *)s->log + offsetof(struct vg_log_event, text);
    for (uint32_t i = lo; i < count; i++) {
        const struct vg_recent_event *e = recent_at(a, i);
        const char *text = texts + (((uint64_t)e->log_pos << 4) & mask);
        out[n++] = (struct vg_event_view){
            .ts_ms = e->ts_ms,
            .amount_micros = e->amount_micros,
            .seq = s->newest_seq - (uint32_t)((uint32_t)s->newest_seq - e->seq_low),
            .counterparty_hash = e->counterparty_hash,
            .counterparty = text,
            .tx_id = text + e->counterparty_len,
            .counterparty_len = e->counterparty_len,
            .tx_id_len = e->tx_id_len,
            .dir = e->dir,
        };
    }
    return n;
}

void vg_store_get_stats(const struct vg_store *s, struct vg_store_stats *out) {
    out->accounts = s->n_accounts;
    out->events = s->n_events;
    out->bytes = (uint64_t)s->n_chunks * CHUNK_SIZE * sizeof(struct vg_account) +
                 (uint64_t)s->index_capacity * sizeof(struct index_slot) + s->log_capacity + s->recent_bytes +
                 s->sums_bytes + (uint64_t)s->sums_capacity * (sizeof *s->sums + sizeof *s->sums_free);
}

void vg_store_foreach_account(struct vg_store *s, void (*fn)(void *opaque, const struct vg_account *a),
                              void *opaque) {
    for (uint32_t i = 0; i < s->n_accounts; i++) fn(opaque, vg_store_account(s, i));
}

/* ---- checkpoint support (engine/checkpoint.c) ------------------------------------------- */

#include "checkpoint_internal.h"

void vg_store_foreach_event(struct vg_store *s, void (*fn)(void *opaque, const struct vg_store_event *ev),
                            void *opaque) {
    uint64_t mask = s->log_capacity - 1;
    for (uint32_t i = 0; i < s->n_accounts; i++) {
        const struct vg_account *a = vg_store_account(s, i);
        if (!a->ring) continue;
        for (uint32_t k = 0; k < a->n_events; k++) {
            const struct vg_recent_event *e = recent_at(a, k);
            if (e->ts_ms < s->horizon_ms) continue; /* stale: its log bytes may be reused */
            const struct vg_log_event *ev = (const struct vg_log_event *)(s->log + (((uint64_t)e->log_pos << 4) & mask));
            struct vg_store_event rec = {
                .ts_ms = e->ts_ms, .amount_micros = e->amount_micros, .newest_at_ms = ev->newest_at_ms,
                .seq = ev->seq, .account = i, .dir = e->dir,
                .counterparty = {ev->text, ev->counterparty_len},
                .tx_id = {ev->text + ev->counterparty_len, ev->tx_id_len},
            };
            rec.counterparty_hash = vg_hash64_id(rec.counterparty.ptr, rec.counterparty.len);
            fn(opaque, &rec);
        }
    }
}

uint32_t vg_store_restore_account(struct vg_store *s, const char *id, size_t len, int64_t first_seen_ms,
                                  int64_t last_seen_ms, const struct vg_activity *activity) {
    uint32_t index = vg_store_upsert(s, id, len, vg_hash64_id(id, len));
    if (index == UINT32_MAX) return UINT32_MAX;
    struct vg_account *a = vg_store_account(s, index);
    a->first_seen_ms = first_seen_ms;
    a->last_seen_ms = last_seen_ms;
    a->activity = *activity;
    return index;
}

int vg_store_restore_event(struct vg_store *s, uint32_t account, int64_t ts_ms, int64_t amount_micros,
                           int64_t newest_at_ms, uint64_t seq, uint64_t counterparty_hash, uint8_t dir,
                           const char *counterparty, uint8_t counterparty_len, const char *tx_id,
                           uint8_t tx_id_len) {
    vg_store_set_sums(s, vg_store_account(s, account), NULL); /* rebuilt from the ring when next asked */
    return store_event(s, account, ts_ms, amount_micros, newest_at_ms, seq, counterparty_hash, dir, counterparty,
                       counterparty_len, tx_id, tx_id_len);
}
