/* emit.c - a stage's alert output: the (rule, account) cooldown in event time, then
 * delivery. Rules with their own cooldown key (sanctions: per account and list entry) cool
 * per (rule, account, discriminator) in a second, small table (entries only for alerts). The cooldown table is open addressing keyed by account id (stored exactly),
 * one entry per account holding the last alert time of every rule, so a stage answers
 * "which rules are cooling for this account" with one probe. It only holds accounts that
 * alerted, and expired entries are purged when it would otherwise grow. Most accounts never
 * alert, so a bitmap of the entries' hashes (16 bits per slot, small enough to stay cached)
 * answers "no entry" without touching the table: an event costs no random read here. One
 * owner thread. */
#include "vigil/emit.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "vigil/hash.h"

struct cooldown_entry {
    uint64_t hash;                 /* 0 = empty slot */
    int64_t last_alert_ts[VG_RULE_MAX]; /* event time of the newest alert per rule, VG_TS_NONE */
    int64_t late_alert_ts[VG_RULE_MAX]; /* the last alert older than that one, VG_TS_NONE */
    int64_t newest_alert_ts;       /* max of the above, for purging */
    uint8_t account_len;
    char account[VG_ID_MAX];
};

/* A (rule, account, discriminator) cooldown of an own_cooldown rule. */
struct keyed_entry {
    uint64_t hash;                 /* 0 = empty slot */
    int64_t last_alert_ts, late_alert_ts; /* as in struct cooldown_entry, VG_TS_NONE */
    char *key;                     /* account then discriminator, malloc'd */
    uint16_t disc_len;
    uint8_t account_len;
    uint8_t rule;
};

struct vg_alert_out {
    const struct vg_config *cfg;
    vg_alert_deliver_fn deliver;
    void *opaque;
    struct cooldown_entry *slots;
    size_t capacity;               /* power of two */
    size_t used;
    uint64_t *filter;              /* bit (hash >> 20) & filter_mask set for every entry */
    size_t filter_mask;            /* capacity * FILTER_BITS_PER_SLOT - 1 */
    int64_t newest_ts;             /* newest alert time seen, for purging */
    struct keyed_entry *keyed;     /* own_cooldown rules' table, NULL until the first */
    size_t keyed_cap, keyed_used;  /* cap a power of two */
    /* single writer (the owning stage), read by stats from other threads */
    _Atomic uint64_t emitted[VG_RULE_MAX];
    _Atomic uint64_t suppressed[VG_RULE_MAX];
};

#define FILTER_BITS_PER_SLOT 16

static uint64_t key_hash(const char *account, size_t len) {
    uint64_t h = vg_hash64_id(account, len);
    return h ? h : 1;
}

/* The filter's bit for a hash: bits above the ones that pick a slot, so accounts crowding
 * one slot run do not share bits. */
static inline size_t filter_bit(const struct vg_alert_out *out, uint64_t hash) {
    return (size_t)(hash >> 20) & out->filter_mask;
}

static inline bool filter_may_hold(const struct vg_alert_out *out, uint64_t hash) {
    size_t bit = filter_bit(out, hash);
    return (out->filter[bit >> 6] >> (bit & 63)) & 1;
}

static inline void filter_add(struct vg_alert_out *out, uint64_t hash) {
    size_t bit = filter_bit(out, hash);
    out->filter[bit >> 6] |= 1ull << (bit & 63);
}

static size_t filter_bytes(size_t capacity) { return capacity * FILTER_BITS_PER_SLOT / 8; }

struct vg_alert_out *vg_alert_out_create(const struct vg_config *cfg, vg_alert_deliver_fn deliver,
                                         void *opaque) {
    struct vg_alert_out *out = calloc(1, sizeof *out);
    if (!out) return NULL;
    out->capacity = 1024;
    out->slots = vg_big_alloc(out->capacity * sizeof *out->slots);
    out->filter = vg_big_alloc(filter_bytes(out->capacity));
    if (!out->slots || !out->filter) {
        vg_alert_out_destroy(out);
        return NULL;
    }
    out->filter_mask = out->capacity * FILTER_BITS_PER_SLOT - 1;
    out->cfg = cfg;
    out->deliver = deliver;
    out->opaque = opaque;
    out->newest_ts = VG_TS_NONE;
    return out;
}

void vg_alert_out_destroy(struct vg_alert_out *out) {
    if (!out) return;
    for (size_t i = 0; i < out->keyed_cap; i++) free(out->keyed[i].key);
    free(out->keyed);
    vg_big_free(out->slots, out->capacity * sizeof *out->slots);
    vg_big_free(out->filter, filter_bytes(out->capacity));
    free(out);
}

void vg_alert_out_set_config(struct vg_alert_out *out, const struct vg_config *cfg) { out->cfg = cfg; }

static struct cooldown_entry *find_slot(const struct vg_alert_out *out, uint64_t hash, const char *account,
                                        size_t len) {
    size_t mask = out->capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct cooldown_entry *e = &out->slots[i];
        if (e->hash == 0) return e;
        if (e->hash == hash && vg_str_eq(e->account, e->account_len, account, len)) return e;
    }
}

/* Re-inserts live entries into a table of new_capacity, dropping those whose cooldown
 * ended before `horizon`, and rebuilds the filter from them. Returns VG_OK or
 * VG_ERR_NOMEM (table unchanged). */
static int rebuild(struct vg_alert_out *out, size_t new_capacity, int64_t horizon) {
    struct cooldown_entry *old = out->slots;
    uint64_t *old_filter = out->filter;
    size_t old_capacity = out->capacity;
    struct cooldown_entry *slots = vg_big_alloc(new_capacity * sizeof *slots);
    uint64_t *filter = vg_big_alloc(filter_bytes(new_capacity));
    if (!slots || !filter) {
        vg_big_free(slots, new_capacity * sizeof *slots);
        vg_big_free(filter, filter_bytes(new_capacity));
        return VG_ERR_NOMEM;
    }
    out->slots = slots;
    out->filter = filter;
    out->capacity = new_capacity;
    out->filter_mask = new_capacity * FILTER_BITS_PER_SLOT - 1;
    out->used = 0;
    for (size_t i = 0; i < old_capacity; i++) {
        if (old[i].hash == 0 || old[i].newest_alert_ts < horizon) continue;
        struct cooldown_entry *e = find_slot(out, old[i].hash, old[i].account, old[i].account_len);
        *e = old[i];
        filter_add(out, e->hash);
        out->used++;
    }
    vg_big_free(old, old_capacity * sizeof *old);
    vg_big_free(old_filter, filter_bytes(old_capacity));
    return VG_OK;
}

static inline bool within(int64_t alert_ts, int64_t ts_ms, int64_t cooldown_ms) {
    return alert_ts != VG_TS_NONE && ts_ms < alert_ts + cooldown_ms && ts_ms > alert_ts - cooldown_ms;
}

/* Within one cooldown, on either side, of the (rule, account)'s newest alert or of its last
 * late alert (one older than the newest): a late record more than a cooldown away from both
 * is another period and may alert again, once; the late records after it in its period are
 * withheld (a backlog read after newer records gives one alert per period, not one per
 * record). */
static inline bool entry_cooling(const struct cooldown_entry *e, enum vg_rule_id rule, int64_t ts_ms,
                                 int64_t cooldown_ms) {
    return within(e->last_alert_ts[rule], ts_ms, cooldown_ms) || within(e->late_alert_ts[rule], ts_ms, cooldown_ms);
}

static void entry_init(struct cooldown_entry *e, uint64_t hash, const char *account, size_t len) {
    e->hash = hash;
    for (int r = 0; r < VG_RULE_MAX; r++) e->last_alert_ts[r] = e->late_alert_ts[r] = VG_TS_NONE;
    e->newest_alert_ts = VG_TS_NONE;
    e->account_len = (uint8_t)len;
    memcpy(e->account, account, len);
}

/* Records an alert at ts: the newest keeps its cooldown (a late one does not reopen the
 * period after it); a late one becomes the late period's mark. */
static void entry_note(struct cooldown_entry *e, enum vg_rule_id rule, int64_t ts) {
    if (e->last_alert_ts[rule] == VG_TS_NONE || ts > e->last_alert_ts[rule]) e->last_alert_ts[rule] = ts;
    else if (ts < e->last_alert_ts[rule]) e->late_alert_ts[rule] = ts;
    if (ts > e->newest_alert_ts) e->newest_alert_ts = ts;
}

bool vg_alert_out_cooling(const struct vg_alert_out *out, enum vg_rule_id rule, const char *account,
                          size_t account_len, int64_t ts_ms) {
    if (out->used == 0) return false;
    uint64_t hash = key_hash(account, account_len);
    if (!filter_may_hold(out, hash)) return false;
    const struct cooldown_entry *e = find_slot(out, hash, account, account_len);
    return e->hash != 0 && entry_cooling(e, rule, ts_ms, out->cfg->alerts.cooldown_ms);
}

uint32_t vg_alert_out_cooling_mask(const struct vg_alert_out *out, const char *account, size_t account_len,
                                   uint64_t account_hash, int64_t ts_ms) {
    uint64_t hash = account_hash ? account_hash : 1;
    if (out->used == 0 || !filter_may_hold(out, hash)) return 0;
    const struct cooldown_entry *e = find_slot(out, hash, account, account_len);
    if (e->hash == 0) return 0;
    uint32_t mask = 0;
    for (int r = 0; r < VG_RULE_MAX; r++)
        if (entry_cooling(e, (enum vg_rule_id)r, ts_ms, out->cfg->alerts.cooldown_ms)) mask |= 1u << r;
    return mask;
}

void vg_alert_out_prefetch(const struct vg_alert_out *out, uint64_t account_hash) {
    uint64_t hash = account_hash ? account_hash : 1;
    if (out->used && filter_may_hold(out, hash)) __builtin_prefetch(&out->slots[hash & (out->capacity - 1)]);
}

/* ---- own_cooldown rules: (rule, account, discriminator) -------------------------------- */

static uint64_t keyed_hash(uint8_t rule, const char *account, size_t len, const char *disc, size_t dlen) {
    uint64_t h = vg_hash64(disc, dlen) * 0x9E3779B97F4A7C15ULL ^ vg_hash64_id(account, len) ^ rule;
    return h ? h : 1;
}

static struct keyed_entry *keyed_find(const struct vg_alert_out *out, uint64_t hash, uint8_t rule, const char *account,
                                      size_t len, const char *disc, size_t dlen) {
    size_t mask = out->keyed_cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct keyed_entry *e = &out->keyed[i];
        if (e->hash == 0) return e;
        if (e->hash == hash && e->rule == rule && vg_str_eq(e->key, e->account_len, account, len) &&
            vg_str_eq(e->key + e->account_len, e->disc_len, disc, dlen))
            return e;
    }
}

/* Re-inserts the entries into a table of cap slots, dropping (and freeing) those whose
 * newest mark is older than horizon. Returns VG_OK or VG_ERR_NOMEM (table unchanged). */
static int keyed_rebuild(struct vg_alert_out *out, size_t cap, int64_t horizon) {
    struct keyed_entry *old = out->keyed, *slots = calloc(cap, sizeof *slots);
    size_t old_cap = out->keyed_cap;
    if (!slots) return VG_ERR_NOMEM;
    out->keyed = slots;
    out->keyed_cap = cap;
    out->keyed_used = 0;
    for (size_t i = 0; i < old_cap; i++) {
        struct keyed_entry *o = &old[i];
        if (o->hash == 0) continue;
        if (VG_MAX(o->last_alert_ts, o->late_alert_ts) < horizon) {
            free(o->key);
            continue;
        }
        *keyed_find(out, o->hash, o->rule, o->key, o->account_len, o->key + o->account_len, o->disc_len) = *o;
        out->keyed_used++;
    }
    free(old);
    return VG_OK;
}

/* The entry of (rule, account, disc), created when absent (NULL when out of memory). */
static struct keyed_entry *keyed_get(struct vg_alert_out *out, uint8_t rule, const char *account, size_t len,
                                     const char *disc, size_t dlen) {
    if ((out->keyed_used + 1) * 2 > out->keyed_cap) {
        size_t cap = out->keyed_cap ? out->keyed_cap : 64;
        int64_t horizon = out->newest_ts == VG_TS_NONE ? VG_TS_NONE : out->newest_ts - out->cfg->alerts.cooldown_ms;
        if (keyed_rebuild(out, cap, horizon) != VG_OK) return NULL;
        if ((out->keyed_used + 1) * 2 > out->keyed_cap && keyed_rebuild(out, cap * 2, VG_TS_NONE) != VG_OK) return NULL;
    }
    uint64_t hash = keyed_hash(rule, account, len, disc, dlen);
    struct keyed_entry *e = keyed_find(out, hash, rule, account, len, disc, dlen);
    if (e->hash) return e;
    char *key = malloc(len + dlen + 1);
    if (!key) return NULL;
    memcpy(key, account, len);
    memcpy(key + len, disc, dlen);
    *e = (struct keyed_entry){.hash = hash, .last_alert_ts = VG_TS_NONE, .late_alert_ts = VG_TS_NONE, .key = key,
                              .disc_len = (uint16_t)dlen, .account_len = (uint8_t)len, .rule = rule};
    out->keyed_used++;
    return e;
}

/* Same periods as entry_cooling / entry_note, per discriminator. Returns true when the
 * alert may go (and notes it). Out of memory: it goes, unnoted. */
static bool keyed_take(struct vg_alert_out *out, const struct vg_alert *a, int64_t ts) {
    size_t len = VG_MIN(a->account.len, (size_t)VG_ID_MAX), dlen = VG_MIN(a->discriminator.len, (size_t)UINT16_MAX);
    struct keyed_entry *e = keyed_get(out, (uint8_t)a->rule, a->account.ptr, len, a->discriminator.ptr, dlen);
    if (!e) return true;
    int64_t cooldown = out->cfg->alerts.cooldown_ms;
    if (within(e->last_alert_ts, ts, cooldown) || within(e->late_alert_ts, ts, cooldown)) return false;
    if (e->last_alert_ts == VG_TS_NONE || ts > e->last_alert_ts) e->last_alert_ts = ts;
    else if (ts < e->last_alert_ts) e->late_alert_ts = ts;
    if (ts > out->newest_ts) out->newest_ts = ts;
    return true;
}

static inline void bump(_Atomic uint64_t *c) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

bool vg_alert_emit(struct vg_alert_out *out, const struct vg_alert *a) {
    int64_t ts = a->trigger_ts_ms;
    if (VG_UNLIKELY(vg_rule_registry[a->rule]->own_cooldown)) { /* per (account, discriminator): sanctions */
        if (!keyed_take(out, a, ts)) {
            bump(&out->suppressed[a->rule]);
            return false;
        }
        bump(&out->emitted[a->rule]);
        out->deliver(out->opaque, a, out->cfg->rules[a->rule].severity);
        return true;
    }
    size_t len = VG_MIN(a->account.len, (size_t)VG_ID_MAX);
    uint64_t hash = key_hash(a->account.ptr, len);
    struct cooldown_entry *e = find_slot(out, hash, a->account.ptr, len);
    if (e->hash != 0 && entry_cooling(e, a->rule, ts, out->cfg->alerts.cooldown_ms)) {
        bump(&out->suppressed[a->rule]);
        return false;
    }
    if (e->hash == 0) {
        if ((out->used + 1) * 4 > out->capacity * 3) {
            /* Purge entries whose cooldown is over; grow if still crowded. */
            int64_t horizon = out->newest_ts == VG_TS_NONE ? VG_TS_NONE
                                                           : out->newest_ts - out->cfg->alerts.cooldown_ms;
            size_t cap = out->capacity;
            if (rebuild(out, cap, horizon) == VG_OK && (out->used + 1) * 2 > cap) rebuild(out, cap * 2, VG_TS_NONE);
            e = find_slot(out, hash, a->account.ptr, len);
        }
        entry_init(e, hash, a->account.ptr, len);
        filter_add(out, hash);
        out->used++;
    }
    entry_note(e, a->rule, ts);
    if (ts > out->newest_ts) out->newest_ts = ts;
    bump(&out->emitted[a->rule]);
    out->deliver(out->opaque, a, out->cfg->rules[a->rule].severity);
    return true;
}

uint64_t vg_alert_out_emitted(const struct vg_alert_out *out, enum vg_rule_id rule) {
    return atomic_load_explicit(&out->emitted[rule], memory_order_relaxed);
}
uint64_t vg_alert_out_suppressed(const struct vg_alert_out *out, enum vg_rule_id rule) {
    return atomic_load_explicit(&out->suppressed[rule], memory_order_relaxed);
}

/* ---- checkpoint support (engine/checkpoint.c) ------------------------------------------- */

#include "checkpoint_internal.h"

void vg_alert_out_foreach_cooldown(const struct vg_alert_out *out,
                                   void (*fn)(void *opaque, uint8_t rule, const char *account,
                                              size_t len, int64_t last_alert_ts),
                                   void *opaque) {
    for (size_t i = 0; i < out->capacity; i++) {
        const struct cooldown_entry *e = &out->slots[i];
        if (e->hash == 0) continue;
        for (int r = 0; r < VG_RULE_MAX; r++) {
            if (e->last_alert_ts[r] != VG_TS_NONE) fn(opaque, (uint8_t)r, e->account, e->account_len, e->last_alert_ts[r]);
            if (e->late_alert_ts[r] != VG_TS_NONE)
                fn(opaque, (uint8_t)(r | VG_COOLDOWN_LATE), e->account, e->account_len, e->late_alert_ts[r]);
        }
    }
}

int vg_alert_out_restore_cooldown(struct vg_alert_out *out, uint8_t rule, const char *account, size_t len,
                                  int64_t last_alert_ts) {
    bool late = rule & VG_COOLDOWN_LATE;
    rule &= (uint8_t)~VG_COOLDOWN_LATE;
    if (rule >= VG_RULE_MAX || len == 0 || len > VG_ID_MAX || last_alert_ts == VG_TS_NONE) return VG_ERR_INVALID;
    if ((out->used + 1) * 4 > out->capacity * 3 && rebuild(out, out->capacity * 2, VG_TS_NONE) != VG_OK)
        return VG_ERR_NOMEM;
    uint64_t hash = key_hash(account, len);
    struct cooldown_entry *e = find_slot(out, hash, account, len);
    if (e->hash == 0) {
        entry_init(e, hash, account, len);
        filter_add(out, hash);
        out->used++;
    }
    if (late) e->late_alert_ts[rule] = last_alert_ts;
    else if (last_alert_ts > e->last_alert_ts[rule]) e->last_alert_ts[rule] = last_alert_ts;
    if (last_alert_ts > e->newest_alert_ts) e->newest_alert_ts = last_alert_ts;
    if (last_alert_ts > out->newest_ts) out->newest_ts = last_alert_ts;
    return VG_OK;
}

void vg_alert_out_foreach_keyed_cooldown(const struct vg_alert_out *out,
                                         void (*fn)(void *opaque, uint8_t rule, const char *account, size_t len,
                                                    const char *disc, size_t disc_len, int64_t last_alert_ts,
                                                    int64_t late_alert_ts),
                                         void *opaque) {
    for (size_t i = 0; i < out->keyed_cap; i++) {
        const struct keyed_entry *e = &out->keyed[i];
        if (e->hash)
            fn(opaque, e->rule, e->key, e->account_len, e->key + e->account_len, e->disc_len, e->last_alert_ts,
               e->late_alert_ts);
    }
}

int vg_alert_out_restore_keyed_cooldown(struct vg_alert_out *out, uint8_t rule, const char *account, size_t len,
                                        const char *disc, size_t disc_len, int64_t last_alert_ts,
                                        int64_t late_alert_ts) {
    if (rule >= VG_RULE_MAX || len == 0 || len > VG_ID_MAX || disc_len > UINT16_MAX || last_alert_ts == VG_TS_NONE)
        return VG_ERR_INVALID;
    struct keyed_entry *e = keyed_get(out, rule, account, len, disc, disc_len);
    if (!e) return VG_ERR_NOMEM;
    if (e->last_alert_ts == VG_TS_NONE || last_alert_ts > e->last_alert_ts) e->last_alert_ts = last_alert_ts;
    if (late_alert_ts != VG_TS_NONE) e->late_alert_ts = late_alert_ts;
    if (last_alert_ts > out->newest_ts) out->newest_ts = last_alert_ts;
    return VG_OK;
}
