/* evidence.c - alerts.evidence: full (see evidence.h): rendering a transaction as an alert's
 * evidence object, and a stage's FIFO store of those objects with an exact-id hash index.
 * The store grows by doubling and expires in arrival order like the account store's log;
 * it exists only when evidence: full is configured, so the default path never touches it. */
#include "vigil/evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alert.h"
#include "vigil/hash.h"
#include "vigil/money.h"

/* ---- rendering ---------------------------------------------------------------------------- */

struct ev_buf {
    char *buf;
    size_t cap, len;
    bool failed;
};

static void ev_put(struct ev_buf *o, const char *s, size_t n) {
    if (o->failed || o->cap - o->len < n) {
        o->failed = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void ev_lit(struct ev_buf *o, const char *s) { ev_put(o, s, strlen(s)); }

static void ev_str(struct ev_buf *o, const char *key, const char *s, size_t n) {
    ev_lit(o, key);
    if (o->failed) return;
    size_t w = vg_json_escape(s, n, o->buf + o->len, o->cap - o->len);
    if (w == 0) o->failed = true;
    else o->len += w;
}

/* level 0: every field sent; 1: without channel, countries and banks; 2: without names. */
static size_t render(const struct vg_txn *txn, const char *base, char *buf, size_t cap, int level) {
    struct ev_buf o = {.buf = buf, .cap = cap};
    char num[32];
    ev_str(&o, "{\"id\":", txn->id, txn->id_len);
    int n = snprintf(num, sizeof num, ",\"ts\":%lld", (long long)txn->ts_ms);
    ev_put(&o, num, (size_t)n);
    ev_str(&o, ",\"from\":", txn->from, txn->from_len);
    ev_str(&o, ",\"to\":", txn->to, txn->to_len);
    const struct vg_txn_sent *sent = &txn->sent;
    size_t amount_len = VG_MIN(sent->amount_len, sizeof sent->amount);
    size_t currency_len = VG_MIN(sent->currency_len, sizeof sent->currency);
    size_t from_bank_len = VG_MIN(sent->from_bank_len, sizeof sent->from_bank);
    size_t to_bank_len = VG_MIN(sent->to_bank_len, sizeof sent->to_bank);
    if (txn->keep_sent && amount_len) ev_str(&o, ",\"amount\":", sent->amount, amount_len);
    if (txn->keep_sent && currency_len) ev_str(&o, ",\"currency\":", sent->currency, currency_len);
    num[0] = '"';
    size_t m = vg_money_format(txn->amount_micros, num + 1);
    num[m + 1] = '"';
    ev_lit(&o, ",\"amount_base\":");
    ev_put(&o, num, m + 2);
    ev_str(&o, ",\"base_currency\":", base, strlen(base));
    if (level == 0) {
        if (txn->channel_len) ev_str(&o, ",\"channel\":", txn->channel, txn->channel_len);
        if (txn->from_country[0]) ev_str(&o, ",\"from_country\":", txn->from_country, 2);
        if (txn->to_country[0]) ev_str(&o, ",\"to_country\":", txn->to_country, 2);
        if (txn->keep_sent && from_bank_len) ev_str(&o, ",\"from_bank\":", sent->from_bank, from_bank_len);
        if (txn->keep_sent && to_bank_len) ev_str(&o, ",\"to_bank\":", sent->to_bank, to_bank_len);
    }
    if (level <= 1 && txn->has_party) { /* names as sent (contract section 3) */
        if (txn->from_name_len)
            ev_str(&o, ",\"from_name\":", txn->from_name, VG_MIN((size_t)txn->from_name_len, sizeof txn->from_name));
        if (txn->to_name_len)
            ev_str(&o, ",\"to_name\":", txn->to_name, VG_MIN((size_t)txn->to_name_len, sizeof txn->to_name));
    }
    ev_lit(&o, "}");
    return o.failed ? 0 : o.len;
}

size_t vg_evidence_render(const struct vg_txn *txn, const char *base, char *buf, size_t cap) {
    size_t n = 0;
    for (int level = 0; level <= 2 && n == 0; level++) n = render(txn, base, buf, cap, level);
    if (n == 0) { /* hostile ids escaped 6 bytes a byte: the id alone, as for an unknown one */
        struct ev_buf o = {.buf = buf, .cap = cap};
        ev_str(&o, "{\"id\":", txn->id, txn->id_len);
        ev_lit(&o, "}");
        n = o.failed ? 0 : o.len;
    }
    return n;
}

/* ---- the store ---------------------------------------------------------------------------- */

/* A kept record in the log, followed by id bytes then json bytes, padded to 8. */
struct ev_record {
    int64_t newest_ms;
    uint64_t seq;
    uint64_t hash;
    uint64_t from_hash, to_hash;  /* the transfer's accounts (checkpoints re-route by them) */
    uint16_t json_len;
    uint8_t id_len;
    uint8_t reserved[5];
};

/* Index slot: hash of the id and the record's absolute log position + 1 (0 = empty). */
struct ev_slot {
    uint64_t hash;
    uint64_t pos;
};

struct vg_evidence_store {
    int64_t horizon_ms;
    char *log;                 /* live bytes are [start, end) */
    size_t log_cap, start, end;
    uint64_t base;             /* absolute position of log[0] */
    struct ev_slot *slots;
    size_t n_slots;            /* power of two */
    size_t n_records;
};

static size_t rec_size(size_t id_len, size_t json_len) {
    return (sizeof(struct ev_record) + id_len + json_len + 7) & ~(size_t)7;
}

static struct ev_record *rec_at(const struct vg_evidence_store *s, uint64_t pos) {
    return (struct ev_record *)(s->log + (pos - s->base));
}

int vg_evidence_store_create(struct vg_evidence_store **out, int64_t horizon_ms) {
    struct vg_evidence_store *s = calloc(1, sizeof *s);
    if (!s) return VG_ERR_NOMEM;
    s->horizon_ms = horizon_ms;
    s->log_cap = 1u << 20;
    s->n_slots = 1u << 12;
    s->log = malloc(s->log_cap);
    s->slots = calloc(s->n_slots, sizeof *s->slots);
    if (!s->log || !s->slots) {
        vg_evidence_store_destroy(s);
        return VG_ERR_NOMEM;
    }
    *out = s;
    return VG_OK;
}

void vg_evidence_store_destroy(struct vg_evidence_store *s) {
    if (!s) return;
    free(s->log);
    free(s->slots);
    free(s);
}

/* Slot holding pos, or SIZE_MAX. */
static size_t slot_of_pos(const struct vg_evidence_store *s, uint64_t hash, uint64_t pos) {
    size_t mask = s->n_slots - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        if (s->slots[i].pos == 0) return SIZE_MAX;
        if (s->slots[i].pos == pos + 1) return i;
    }
}

/* Slot of the record with this id, or the empty slot where it would go. */
static size_t slot_of_id(const struct vg_evidence_store *s, uint64_t hash, const char *id, size_t len) {
    size_t mask = s->n_slots - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        const struct ev_slot *sl = &s->slots[i];
        if (sl->pos == 0) return i;
        if (sl->hash == hash) {
            const struct ev_record *r = rec_at(s, sl->pos - 1);
            if (vg_str_eq((const char *)(r + 1), r->id_len, id, len)) return i;
        }
    }
}

/* Linear-probing delete with backward shift (no tombstones). */
static void slot_delete(struct vg_evidence_store *s, size_t i) {
    size_t mask = s->n_slots - 1;
    for (size_t j = (i + 1) & mask; s->slots[j].pos != 0; j = (j + 1) & mask) {
        size_t home = (size_t)s->slots[j].hash & mask;
        /* j's entry may move to i when its home is not in (i, j] (cyclically) */
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = (struct ev_slot){0, 0};
}

static void expire(struct vg_evidence_store *s, int64_t cutoff_ms) {
    while (s->start < s->end) {
        struct ev_record *r = (struct ev_record *)(s->log + s->start);
        if (r->newest_ms >= cutoff_ms) break;
        uint64_t pos = s->base + s->start;
        size_t i = slot_of_pos(s, r->hash, pos);
        if (i != SIZE_MAX) {
            slot_delete(s, i);
            s->n_records--;
        }
        s->start += rec_size(r->id_len, r->json_len);
    }
    if (s->start == s->end) { /* empty: restart at the front */
        s->base += s->start;
        s->start = s->end = 0;
    }
}

/* Room for need more bytes at the end: slide the live bytes to the front when at least half
 * the log is free, else double it. Returns VG_OK or VG_ERR_NOMEM. */
static int log_room(struct vg_evidence_store *s, size_t need) {
    if (s->log_cap - s->end >= need) return VG_OK;
    size_t live = s->end - s->start;
    if (s->start > 0 && live + need <= s->log_cap / 2) {
        memmove(s->log, s->log + s->start, live);
    } else {
        size_t cap = s->log_cap;
        while (cap < 2 * (live + need)) cap *= 2;
        char *log = malloc(cap);
        if (!log) return VG_ERR_NOMEM;
        memcpy(log, s->log + s->start, live);
        free(s->log);
        s->log = log;
        s->log_cap = cap;
    }
    s->base += s->start;
    s->end = live;
    s->start = 0;
    return VG_OK;
}

/* Doubles the index when it would be more than half full. Returns VG_OK or VG_ERR_NOMEM. */
static int index_room(struct vg_evidence_store *s) {
    if ((s->n_records + 1) * 2 <= s->n_slots) return VG_OK;
    size_t n = s->n_slots * 2;
    struct ev_slot *slots = calloc(n, sizeof *slots), *old = s->slots;
    if (!slots) return VG_ERR_NOMEM;
    size_t old_n = s->n_slots;
    s->slots = slots;
    s->n_slots = n;
    for (size_t i = 0; i < old_n; i++) {
        if (old[i].pos == 0) continue;
        size_t j = (size_t)old[i].hash & (n - 1);
        while (slots[j].pos != 0) j = (j + 1) & (n - 1);
        slots[j] = old[i];
    }
    free(old);
    return VG_OK;
}

int vg_evidence_store_put(struct vg_evidence_store *s, const char *id, size_t id_len, uint64_t seq,
                          uint64_t from_hash, uint64_t to_hash, int64_t newest_ms, int64_t watermark_ms,
                          const char *json, size_t json_len) {
    if (watermark_ms > INT64_MIN + s->horizon_ms) expire(s, watermark_ms - s->horizon_ms);
    uint64_t hash = vg_hash64_id(id, id_len);
    size_t i = slot_of_id(s, hash, id, id_len);
    if (s->slots[i].pos != 0 && rec_at(s, s->slots[i].pos - 1)->seq == seq) return VG_OK; /* kept already */
    size_t size = rec_size(id_len, json_len);
    if (json_len > UINT16_MAX || log_room(s, size) != VG_OK || index_room(s) != VG_OK) return VG_ERR_NOMEM;
    uint64_t pos = s->base + s->end;
    struct ev_record *r = (struct ev_record *)(s->log + s->end);
    *r = (struct ev_record){.newest_ms = newest_ms, .seq = seq, .hash = hash, .from_hash = from_hash,
                            .to_hash = to_hash, .json_len = (uint16_t)json_len, .id_len = (uint8_t)id_len};
    memcpy((char *)(r + 1), id, id_len);
    memcpy((char *)(r + 1) + id_len, json, json_len);
    s->end += size;
    i = slot_of_id(s, hash, id, id_len); /* the index may have grown */
    if (s->slots[i].pos == 0) s->n_records++;
    s->slots[i] = (struct ev_slot){hash, pos + 1};
    return VG_OK;
}

bool vg_evidence_store_find(const struct vg_evidence_store *s, const char *id, size_t id_len, struct vg_str *json) {
    size_t i = slot_of_id(s, vg_hash64_id(id, id_len), id, id_len);
    if (s->slots[i].pos == 0) return false;
    const struct ev_record *r = rec_at(s, s->slots[i].pos - 1);
    json->ptr = (const char *)(r + 1) + r->id_len;
    json->len = r->json_len;
    return true;
}

void vg_evidence_store_foreach(const struct vg_evidence_store *s,
                               void (*fn)(void *opaque, const struct vg_evidence_rec *rec), void *opaque) {
    for (size_t at = s->start; at < s->end;) {
        const struct ev_record *r = (const struct ev_record *)(s->log + at);
        uint64_t pos = s->base + at;
        at += rec_size(r->id_len, r->json_len);
        if (slot_of_pos(s, r->hash, pos) == SIZE_MAX) continue; /* superseded by a newer record */
        struct vg_evidence_rec rec = {
            .id = {(const char *)(r + 1), r->id_len}, .json = {(const char *)(r + 1) + r->id_len, r->json_len},
            .seq = r->seq, .newest_ms = r->newest_ms, .from_hash = r->from_hash, .to_hash = r->to_hash,
        };
        fn(opaque, &rec);
    }
}

void vg_evidence_store_usage(const struct vg_evidence_store *s, uint64_t *records, uint64_t *bytes) {
    *records = s->n_records;
    *bytes = s->log_cap + s->n_slots * sizeof *s->slots;
}
