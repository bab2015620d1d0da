/* account_store.h - one shard's per-account state: an open-addressing table of accounts
 * (ids stored exactly, stable indices in chunked arrays), a FIFO byte log owning every
 * recent event (with its counterparty and tx id bytes), and per account a small contiguous
 * ring of compact event entries, sorted by (ts, seq), so a window is read without chasing
 * pointers whatever the arrival order.
 * Everything is owned by one shard thread; nothing here is thread-safe.
 * Records are flat (offsets and indices, no pointers) so they can be checkpointed. */
#ifndef VIGIL_ACCOUNT_STORE_H
#define VIGIL_ACCOUNT_STORE_H

#include "vigil/rule.h"
#include "vigil/txn.h"

#define VG_ACTIVITY_BUCKETS 32

/* Per-account event counts in coarse event-time buckets (velocity baselines). */
struct vg_activity {
    int32_t newest_bucket;          /* bucket index (ts / bucket_ms) of counts[newest % N] */
    uint32_t bucket_minutes;        /* bucket width */
    uint16_t counts[VG_ACTIVITY_BUCKETS]; /* saturating */
};

/* Compact copy of a live event, kept contiguous per account for fast window reads: 32
 * bytes, two to a cache line. */
struct vg_recent_event {
    int64_t ts_ms;
    int64_t amount_micros;
    uint32_t seq_low;               /* low 32 bits of seq: orders equal ts (wrapping compare) */
    uint32_t log_pos;               /* the event's log offset / 16, mod 2^32 (log <= 64 GB) */
    uint32_t counterparty_hash;     /* low 32 bits of the counterparty's XXH3-64 */
    uint8_t counterparty_len;
    uint8_t tx_id_len;
    uint8_t dir;
    uint8_t reserved;
};

/* One account, three cache lines (64-byte aligned). An event reads and writes the first
 * two: seen times, ring position, the id's length and first VG_ACCOUNT_ID_HEAD bytes, the
 * handle of its window sums (engine/window_sums.h), then the activity histogram (its header
 * closes the first line, its counts fill the second). The third line holds the rest of a
 * longer id; for an id of at most VG_ACCOUNT_ID_HEAD bytes it holds instead the account's
 * smallest ring (VG_ACCOUNT_INLINE_EVENTS entries; `ring` then points at `inline_ring`), so
 * an account holding one or two events is read and written without leaving its record's
 * page. Use vg_account_id / vg_account_id_eq for the id. */
#define VG_ACCOUNT_ID_HEAD 18
#define VG_ACCOUNT_INLINE_EVENTS 2
struct vg_account {
    int64_t first_seen_ms;          /* earliest event time seen */
    int64_t last_seen_ms;           /* newest event time seen */
    struct vg_recent_event *ring;   /* recent events, 1 << ring_class entries; NULL when none
                                     * (rebuilt on restore) */
    uint32_t ring_start;            /* index of the oldest entry */
    uint32_t n_events;              /* entries in the ring; a prefix may be stale (older
                                     * than the store's horizon) until the next append */
    uint8_t ring_class;
    uint8_t id_len;
    char id_head[VG_ACCOUNT_ID_HEAD];
    uint32_t sums;                  /* window sums block + 1 (vg_store_sums); 0 = none */
    struct vg_activity activity;    /* header on the first line, counts on the second */
    union {
        struct {
            char id_tail[VG_ID_MAX - VG_ACCOUNT_ID_HEAD]; /* ids longer than the head */
            uint8_t reserved[18];
        };
        struct vg_recent_event inline_ring[VG_ACCOUNT_INLINE_EVENTS]; /* ids up to the head */
    };
} __attribute__((aligned(64)));

/* Copies the account's id into out; returns its length. */
static inline size_t vg_account_id(const struct vg_account *a, char out[VG_ID_MAX]) {
    size_t head = a->id_len < VG_ACCOUNT_ID_HEAD ? a->id_len : VG_ACCOUNT_ID_HEAD;
    __builtin_memcpy(out, a->id_head, head);
    for (size_t i = head; i < a->id_len; i++) out[i] = a->id_tail[i - VG_ACCOUNT_ID_HEAD];
    return a->id_len;
}

/* Whether the account's id is exactly id[0..len). Reads the third line only for ids
 * longer than VG_ACCOUNT_ID_HEAD. */
static inline bool vg_account_id_eq(const struct vg_account *a, const char *id, size_t len) {
    if (a->id_len != len) return false;
    if (len <= VG_ACCOUNT_ID_HEAD) return vg_str_eq(a->id_head, len, id, len);
    return vg_str_eq(a->id_head, VG_ACCOUNT_ID_HEAD, id, VG_ACCOUNT_ID_HEAD) &&
           vg_str_eq(a->id_tail, len - VG_ACCOUNT_ID_HEAD, id + VG_ACCOUNT_ID_HEAD, len - VG_ACCOUNT_ID_HEAD);
}

/* One event's record in the log: what expiry and checkpoints need beyond the account's
 * window entry (which holds ts, amount, direction). Followed by counterparty bytes then tx
 * id bytes. */
struct vg_log_event {
    int64_t newest_at_ms;           /* the stream's newest event time when this arrived */
    uint64_t seq;
    uint8_t counterparty_len;
    uint8_t tx_id_len;
    uint8_t reserved[6];
    char text[];
};

/* A live event as checkpoints see it (vg_store_foreach_event). */
struct vg_store_event {
    int64_t ts_ms;
    int64_t amount_micros;
    int64_t newest_at_ms;
    uint64_t seq;
    uint64_t counterparty_hash;
    uint32_t account;               /* owner's index */
    uint8_t dir;
    struct vg_str counterparty;
    struct vg_str tx_id;
};

struct vg_store;

struct vg_store_stats {
    uint64_t accounts;
    uint64_t events;
    uint64_t bytes;
};

/* bucket_ms: activity histogram bucket width. Returns VG_OK or VG_ERR_NOMEM. */
int vg_store_create(struct vg_store **out, int64_t bucket_ms);
void vg_store_destroy(struct vg_store *s);

/* Finds or creates the account; returns its index, or UINT32_MAX when out of memory. */
uint32_t vg_store_upsert(struct vg_store *s, const char *id, size_t len, uint64_t hash);
struct vg_account *vg_store_account(struct vg_store *s, uint32_t index);
/* Cache hints for an upcoming event (software pipelining by the shard loop): the index
 * slot of `hash`, then (once that slot is likely cached) the account record's three lines
 * (an event touches all three: the third holds a long id's tail or a short id's smallest
 * ring; id_len is not needed any more). */
void vg_store_prefetch_slot(const struct vg_store *s, uint64_t hash);
void vg_store_prefetch_account(const struct vg_store *s, uint64_t hash, size_t id_len);
/* ... then, once the account is likely cached, its live ring entries (and its window
 * sums block's header, when it has one) ... */
void vg_store_prefetch_entries(const struct vg_store *s, uint64_t hash);
/* ... and last, for an account with window sums, in two stages (0, then 1) a message
 * apart: what their upkeep for an event with this counterparty (cp_hash, cp_len) and
 * direction will read (engine/window_sums.h). */
void vg_store_prefetch_sums(const struct vg_store *s, uint64_t hash, uint64_t cp_hash, enum vg_dir dir, size_t cp_len,
                            int stage);
/* Looks an account up without creating it; NULL when unknown. */
struct vg_account *vg_store_find(struct vg_store *s, const char *id, size_t len, uint64_t hash);

/* Records one account-side event (updates first/last seen, activity, the chain).
 * Returns VG_OK or VG_ERR_NOMEM (the event is then not in the window). */
int vg_store_append(struct vg_store *s, uint32_t account, const struct vg_txn *txn, enum vg_dir dir,
                    uint64_t counterparty_hash, int64_t newest_ms);

/* Moves the store's horizon to `horizon_ms` (it never moves back): events older than it
 * leave every view at once. The log drops the events that arrived when the stream's newest
 * time was before it (FIFO, sequential, no account touched); an account's ring drops its
 * stale prefix at its next append, and a sweep of a few accounts per call returns the rings
 * of accounts gone quiet. */
void vg_store_expire(struct vg_store *s, int64_t horizon_ms);

/* Collects the account's events with ts >= max(cutoff_ms, horizon), sorted by (ts, seq) (the ring is
 * kept in that order, so this is a binary search and a copy); at most `max`, the newest by
 * event time. Returns the count; *truncated set when `max` cut it. A view's seq is rebuilt
 * from 32 bits against the store's newest seq (exact for events less than 2^32 records
 * older than the newest); its counterparty_hash holds the low 32 bits of the hash. */
size_t vg_store_view(struct vg_store *s, uint32_t account, int64_t cutoff_ms, size_t max,
                     struct vg_event_view *out, bool *truncated);

void vg_store_get_stats(const struct vg_store *s, struct vg_store_stats *out);

/* ---- what engine/window_sums.c reads and keeps per account ------------------------ */

/* Entry i (0 = oldest) of the account's ring; i < a->n_events. */
static inline const struct vg_recent_event *vg_store_entry(const struct vg_account *a, uint32_t i) {
    return &a->ring[(a->ring_start + i) & ((1u << a->ring_class) - 1)];
}
/* The counterparty bytes of an entry (valid while its ts >= vg_store_horizon). */
const char *vg_store_entry_counterparty(const struct vg_store *s, const struct vg_recent_event *e);
/* Nothing older than this is in any view; an older entry's text may be overwritten. */
int64_t vg_store_horizon(const struct vg_store *s);
/* The account's window sums block (NULL when none). The store frees it when the account's
 * ring is released (every event expired) and at destroy. */
struct vg_wsums;
struct vg_wsums *vg_store_sums(const struct vg_store *s, const struct vg_account *a);
/* Gives the account a block (malloc'ed; ownership passes to the store, which frees a
 * previous one) or none (NULL). Returns VG_OK or VG_ERR_NOMEM (then `block` is freed and the
 * account has none). */
int vg_store_set_sums(struct vg_store *s, struct vg_account *a, struct vg_wsums *block);

/* Visits every account (checkpointing, tests). */
void vg_store_foreach_account(struct vg_store *s, void (*fn)(void *opaque, const struct vg_account *a),
                              void *opaque);

#endif
