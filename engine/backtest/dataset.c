/* dataset.c - backtest: the labelled transactions held in memory, packed (fixed fields plus
 * their strings back to back, ~80 bytes a record instead of a 230-byte vg_txn), with the
 * label of each, an index from transaction id to position (to resolve alert evidence) and
 * one from a transaction's identity to position (to find a patterns file's lines). */
#include "vigil/backtest.h"

#include <stdlib.h>
#include <string.h>

#include "vigil/hash.h"

struct bt_rec {
    int64_t ts_ms;
    int64_t amount_micros;
    uint64_t str_off;          /* id, from, to, channel back to back in strings */
    uint8_t id_len, from_len, to_len, channel_len;
    char from_country[2];
    char to_country[2];
};

struct vg_bt_data {
    struct bt_rec *recs;
    uint8_t *labels;
    size_t n, cap;
    char *strings;
    size_t str_len, str_cap;
    struct vg_bt_data_counts counts;
    /* Ids that are all decimal numbers (AMLworld's line numbers) index a dense array,
     * by_number[id] = position + 1; other ids a hash table. */
    bool ids_numeric;
    uint64_t max_number;
    uint32_t *by_number;
    /* Open addressing, slot = position + 1 (0 = empty), power-of-two sizes. */
    uint32_t *id_slots;
    uint32_t *key_slots;
    uint32_t *key_next;        /* next position with the same identity, + 1 */
    size_t mask;
};

vg_bt_data_t *vg_bt_data_new(void) {
    struct vg_bt_data *d = calloc(1, sizeof *d);
    if (d) d->ids_numeric = true;
    return d;
}

/* The value of a decimal id without leading zeros, below 2^32 - 1; else UINT64_MAX. */
static uint64_t id_number(const char *id, size_t len) {
    if (len == 0 || len > 10 || (id[0] == '0' && len > 1)) return UINT64_MAX;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (id[i] < '0' || id[i] > '9') return UINT64_MAX;
        v = v * 10 + (uint64_t)(id[i] - '0');
    }
    return v < UINT32_MAX ? v : UINT64_MAX;
}

void vg_bt_data_free(vg_bt_data_t *d) {
    if (!d) return;
    free(d->recs);
    free(d->labels);
    free(d->strings);
    free(d->by_number);
    free(d->id_slots);
    free(d->key_slots);
    free(d->key_next);
    free(d);
}

int vg_bt_data_append(vg_bt_data_t *d, const struct vg_txn *t, bool laundering) {
    if (d->n == UINT32_MAX - 1) return VG_ERR_NOMEM; /* positions are 32-bit in the indexes */
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4096;
        struct bt_rec *r = realloc(d->recs, cap * sizeof *r);
        if (!r) return VG_ERR_NOMEM;
        d->recs = r;
        uint8_t *l = realloc(d->labels, cap);
        if (!l) return VG_ERR_NOMEM;
        d->labels = l;
        d->cap = cap;
    }
    size_t need = (size_t)t->id_len + t->from_len + t->to_len + t->channel_len;
    if (d->str_len + need > d->str_cap) {
        size_t cap = d->str_cap ? d->str_cap * 2 : 1u << 20;
        while (cap < d->str_len + need) cap *= 2;
        char *s = realloc(d->strings, cap);
        if (!s) return VG_ERR_NOMEM;
        d->strings = s;
        d->str_cap = cap;
    }
    struct bt_rec *r = &d->recs[d->n];
    r->ts_ms = t->ts_ms;
    r->amount_micros = t->amount_micros;
    r->str_off = d->str_len;
    r->id_len = t->id_len;
    r->from_len = t->from_len;
    r->to_len = t->to_len;
    r->channel_len = t->channel_len;
    memcpy(r->from_country, t->from_country, 2);
    memcpy(r->to_country, t->to_country, 2);
    char *p = d->strings + d->str_len;
    memcpy(p, t->id, t->id_len);
    p += t->id_len;
    memcpy(p, t->from, t->from_len);
    p += t->from_len;
    memcpy(p, t->to, t->to_len);
    p += t->to_len;
    memcpy(p, t->channel, t->channel_len);
    d->str_len += need;
    d->labels[d->n] = laundering;
    if (d->ids_numeric) {
        uint64_t v = id_number(t->id, t->id_len);
        if (v == UINT64_MAX) d->ids_numeric = false;
        else if (v > d->max_number) d->max_number = v;
    }
    d->n++;
    d->counts.transactions++;
    if (laundering) d->counts.laundering++;
    return VG_OK;
}

void vg_bt_data_add_refused(vg_bt_data_t *d, bool laundering) {
    d->counts.refused++;
    if (laundering) d->counts.refused_laundering++;
}

void vg_bt_data_bad_label(vg_bt_data_t *d) { d->counts.bad_labels++; }

void vg_bt_data_counts(const vg_bt_data_t *d, struct vg_bt_data_counts *out) { *out = d->counts; }
size_t vg_bt_data_size(const vg_bt_data_t *d) { return d->n; }
bool vg_bt_data_label(const vg_bt_data_t *d, size_t i) { return d->labels[i] != 0; }

void vg_bt_data_txn(const vg_bt_data_t *d, size_t i, struct vg_txn *out) {
    const struct bt_rec *r = &d->recs[i];
    vg_txn_clear(out); /* base fields only: the party details stay unread (has_party 0) */
    out->seq = i;
    out->ts_ms = r->ts_ms;
    out->amount_micros = r->amount_micros;
    out->id_len = r->id_len;
    out->from_len = r->from_len;
    out->to_len = r->to_len;
    out->channel_len = r->channel_len;
    memcpy(out->from_country, r->from_country, 2);
    memcpy(out->to_country, r->to_country, 2);
    const char *p = d->strings + r->str_off;
    memcpy(out->id, p, r->id_len);
    p += r->id_len;
    memcpy(out->from, p, r->from_len);
    p += r->from_len;
    memcpy(out->to, p, r->to_len);
    p += r->to_len;
    memcpy(out->channel, p, r->channel_len);
}

/* Hash of what a patterns-file line identifies: time, parties, base amount, channel. */
static uint64_t key_hash(int64_t ts_ms, int64_t amount, const char *from, size_t from_len, const char *to,
                         size_t to_len, const char *channel, size_t channel_len) {
    uint64_t h = vg_hash64(from, from_len) * 31 + vg_hash64(to, to_len);
    h = h * 31 + vg_hash64(channel, channel_len);
    h ^= (uint64_t)ts_ms * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t)amount * 0xC2B2AE3D27D4EB4FULL;
    return h ^ (h >> 29);
}

static uint64_t rec_key_hash(const vg_bt_data_t *d, const struct bt_rec *r) {
    const char *p = d->strings + r->str_off + r->id_len;
    return key_hash(r->ts_ms, r->amount_micros, p, r->from_len, p + r->from_len, r->to_len,
                    p + r->from_len + r->to_len, r->channel_len);
}

int vg_bt_data_seal(vg_bt_data_t *d) {
    size_t size = 1024;
    while (size < d->n * 2) size *= 2;
    d->mask = size - 1;
    if (d->ids_numeric && d->max_number <= (uint64_t)d->n * 4 + 1024) {
        d->by_number = calloc(d->max_number + 1, sizeof *d->by_number);
        if (!d->by_number) return VG_ERR_NOMEM;
        for (size_t i = 0; i < d->n; i++) {
            const struct bt_rec *r = &d->recs[i];
            uint64_t v = id_number(d->strings + r->str_off, r->id_len);
            if (d->by_number[v])
                d->counts.duplicate_ids++;
            else
                d->by_number[v] = (uint32_t)i + 1;
        }
        return VG_OK;
    }
    d->id_slots = calloc(size, sizeof *d->id_slots);
    if (!d->id_slots) return VG_ERR_NOMEM;
    for (size_t i = 0; i < d->n; i++) {
        const struct bt_rec *r = &d->recs[i];
        const char *id = d->strings + r->str_off;
        size_t slot = vg_hash64(id, r->id_len) & d->mask;
        bool dup = false;
        while (d->id_slots[slot] && !dup) {
            const struct bt_rec *o = &d->recs[d->id_slots[slot] - 1];
            dup = vg_str_eq(d->strings + o->str_off, o->id_len, id, r->id_len);
            slot = (slot + 1) & d->mask;
        }
        if (dup)
            d->counts.duplicate_ids++;
        else
            d->id_slots[slot] = (uint32_t)i + 1;
    }
    return VG_OK;
}

int vg_bt_data_index_identities(vg_bt_data_t *d) {
    if (d->key_slots) return VG_OK;
    d->key_slots = calloc(d->mask + 1, sizeof *d->key_slots);
    d->key_next = calloc(d->n ? d->n : 1, sizeof *d->key_next);
    if (!d->key_slots || !d->key_next) return VG_ERR_NOMEM;
    /* Identity chains: the first record of an identity sits in the table, the others follow
     * through key_next in file order. Appending at the chain's end walks it; chains are
     * short (identical records are rare), so this stays linear in practice. */
    for (size_t i = 0; i < d->n; i++) {
        const struct bt_rec *r = &d->recs[i];
        size_t slot = rec_key_hash(d, r) & d->mask;
        for (;;) {
            uint32_t s = d->key_slots[slot];
            if (!s) {
                d->key_slots[slot] = (uint32_t)i + 1;
                break;
            }
            const struct bt_rec *o = &d->recs[s - 1];
            const char *a = d->strings + r->str_off + r->id_len, *b = d->strings + o->str_off + o->id_len;
            size_t rest = (size_t)r->from_len + r->to_len + r->channel_len;
            bool same = o->ts_ms == r->ts_ms && o->amount_micros == r->amount_micros && o->from_len == r->from_len &&
                        o->to_len == r->to_len && o->channel_len == r->channel_len && memcmp(a, b, rest) == 0;
            if (same) {
                uint32_t at = s - 1;
                while (d->key_next[at]) at = d->key_next[at] - 1;
                d->key_next[at] = (uint32_t)i + 1;
                break;
            }
            slot = (slot + 1) & d->mask;
        }
    }
    return VG_OK;
}

bool vg_bt_data_has_identities(const vg_bt_data_t *d) { return d->key_slots != NULL; }

int64_t vg_bt_data_find(const vg_bt_data_t *d, const char *id, size_t len) {
    if (d->by_number) {
        uint64_t v = id_number(id, len);
        return v <= d->max_number ? (int64_t)d->by_number[v] - 1 : -1;
    }
    if (!d->id_slots) return -1;
    size_t slot = vg_hash64(id, len) & d->mask;
    while (d->id_slots[slot]) {
        const struct bt_rec *o = &d->recs[d->id_slots[slot] - 1];
        if (vg_str_eq(d->strings + o->str_off, o->id_len, id, len)) return d->id_slots[slot] - 1;
        slot = (slot + 1) & d->mask;
    }
    return -1;
}

int64_t vg_bt_data_match(const vg_bt_data_t *d, const struct vg_txn *k, int64_t after) {
    if (!d->key_slots) return -1;
    if (after >= 0) return (int64_t)d->key_next[after] - 1;
    size_t slot = key_hash(k->ts_ms, k->amount_micros, k->from, k->from_len, k->to, k->to_len, k->channel,
                           k->channel_len) & d->mask;
    while (d->key_slots[slot]) {
        uint32_t s = d->key_slots[slot];
        const struct bt_rec *o = &d->recs[s - 1];
        const char *p = d->strings + o->str_off + o->id_len;
        if (o->ts_ms == k->ts_ms && o->amount_micros == k->amount_micros &&
            vg_str_eq(p, o->from_len, k->from, k->from_len) &&
            vg_str_eq(p + o->from_len, o->to_len, k->to, k->to_len) &&
            vg_str_eq(p + o->from_len + o->to_len, o->channel_len, k->channel, k->channel_len))
            return s - 1;
        slot = (slot + 1) & d->mask;
    }
    return -1;
}
