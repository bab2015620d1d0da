/* reorder.c - event-time merge of partitions (see reorder.h). Records live in one slab
 * with a free list; each partition is a FIFO chained through the slab. Two indexed binary
 * min-heaps over partitions make every step O(log partitions): the queued ones keyed by
 * (head event time, id), and the waiting ones (active, nothing queued) keyed by (newest
 * time pushed, id), whose top is the wait bound. A waiting partition's newest time cannot
 * change while it waits (only a push changes it, and a push ends the wait). An urgent
 * record (far-future) sorts first and leaves the partition's newest time alone. */
#include "kafka/reorder.h"

#include <stdlib.h>
#include <string.h>

#include "vigil/common.h"

#define NONE UINT32_MAX

struct part {
    uint32_t head, tail;    /* slab indices, NONE when empty */
    uint32_t count;
    int32_t pos[3];         /* place in heap QUEUED / WAITING / IDLE, -1 when not in it */
    int64_t head_ts;        /* event time of the head record (valid while count > 0) */
    int64_t last_ts;        /* newest event time pushed; INT64_MIN before the first */
    int64_t idle_at;        /* confirmed idle: the merge's clock then (holds younger records) */
    bool active;
};

enum { QUEUED = 0, WAITING = 1, IDLE = 2 };

struct pheap {
    int32_t *ids;
    int32_t len;
};

struct vg_reorder {
    struct vg_reorder_rec *recs;
    uint32_t capacity, count, free_head;
    uint32_t fresh;         /* slab records [fresh, capacity) never used yet (untouched memory) */
    struct part *parts;
    int32_t n_parts;
    struct pheap heap[3];   /* QUEUED, WAITING, IDLE */
    int64_t clock;          /* pushes so far: a record's stamp */
    int64_t *scratch;       /* capacity event times: vg_reorder_spill_horizon */
    bool peeked_forced;
    uint64_t forced;
};

/* A head's key in the queued heap: urgent records go first. */
static inline int64_t rec_key(const struct vg_reorder_rec *rec) {
    return rec->urgent ? INT64_MIN : rec->txn.ts_ms;
}

int vg_reorder_create(struct vg_reorder **out, uint32_t capacity, int32_t partitions) {
    if (capacity == 0 || capacity == NONE || partitions <= 0) return VG_ERR_INVALID;
    struct vg_reorder *r = calloc(1, sizeof *r);
    if (!r) return VG_ERR_NOMEM;
    r->recs = malloc((size_t)capacity * sizeof *r->recs);
    r->parts = calloc((size_t)partitions, sizeof *r->parts);
    r->heap[QUEUED].ids = malloc((size_t)partitions * sizeof(int32_t));
    r->heap[WAITING].ids = malloc((size_t)partitions * sizeof(int32_t));
    r->heap[IDLE].ids = malloc((size_t)partitions * sizeof(int32_t));
    r->scratch = malloc((size_t)capacity * sizeof(int64_t));
    if (!r->recs || !r->parts || !r->heap[QUEUED].ids || !r->heap[WAITING].ids || !r->heap[IDLE].ids || !r->scratch) {
        vg_reorder_destroy(r);
        return VG_ERR_NOMEM;
    }
    r->capacity = capacity;
    r->n_parts = partitions;
    r->free_head = NONE; /* records are taken from `fresh` first: the slab's pages are only
                          * touched up to the high-water mark */
    for (int32_t p = 0; p < partitions; p++)
        r->parts[p] = (struct part){.head = NONE, .tail = NONE, .pos = {-1, -1, -1}, .last_ts = INT64_MIN};
    *out = r;
    return VG_OK;
}

void vg_reorder_destroy(struct vg_reorder *r) {
    if (!r) return;
    free(r->recs);
    free(r->parts);
    free(r->heap[QUEUED].ids);
    free(r->heap[WAITING].ids);
    free(r->heap[IDLE].ids);
    free(r->scratch);
    free(r);
}

bool vg_reorder_full(const struct vg_reorder *r) { return r->count >= r->capacity; }
uint32_t vg_reorder_count(const struct vg_reorder *r) { return r->count; }
uint64_t vg_reorder_forced(const struct vg_reorder *r) { return r->forced; }

bool vg_reorder_is_active(const struct vg_reorder *r, int32_t partition) {
    return partition >= 0 && partition < r->n_parts && r->parts[partition].active;
}

/* ---- the two heaps ---------------------------------------------------------------------- */

static inline int64_t heap_key(const struct vg_reorder *r, int which, int32_t p) {
    return which == QUEUED ? r->parts[p].head_ts : which == WAITING ? r->parts[p].last_ts : r->parts[p].idle_at;
}

/* Transaction ids in natural order: digit runs compare as numbers ("t9" < "t10"), the rest
 * byte by byte, and a shorter id first when one is a prefix of the other. A total order. */
static int id_cmp(const struct vg_txn *x, const struct vg_txn *y) {
    const unsigned char *a = (const unsigned char *)x->id, *b = (const unsigned char *)y->id;
    size_t i = 0, j = 0, na = x->id_len, nb = y->id_len;
    while (i < na && j < nb) {
        bool da = a[i] >= '0' && a[i] <= '9', db = b[j] >= '0' && b[j] <= '9';
        if (da && db) {
            size_t si = i, sj = j;
            while (si < na && a[si] == '0') si++;
            while (sj < nb && b[sj] == '0') sj++;
            size_t ei = si, ej = sj;
            while (ei < na && a[ei] >= '0' && a[ei] <= '9') ei++;
            while (ej < nb && b[ej] >= '0' && b[ej] <= '9') ej++;
            if (ei - si != ej - sj) return ei - si < ej - sj ? -1 : 1;
            int c = memcmp(a + si, b + sj, ei - si);
            if (c) return c;
            if (si - i != sj - j) return si - i < sj - j ? -1 : 1; /* fewer leading zeros first */
            i = ei;
            j = ej;
            continue;
        }
        if (a[i] != b[j]) return a[i] < b[j] ? -1 : 1;
        i++;
        j++;
    }
    return (na - i > 0) - (nb - j > 0);
}

/* Queued heads: by event time, then (ties) by transaction id in natural order, so records
 * of the same time leave in the order a file sorted by time with rising ids has them,
 * whatever partitions they went to; then by partition. */
static inline bool heap_less(const struct vg_reorder *r, int which, int32_t a, int32_t b) {
    int64_t ta = heap_key(r, which, a), tb = heap_key(r, which, b);
    if (ta != tb) return ta < tb;
    if (which == QUEUED && ta != INT64_MIN) {
        int c = id_cmp(&r->recs[r->parts[a].head].txn, &r->recs[r->parts[b].head].txn);
        if (c) return c < 0;
    }
    return a < b;
}

static inline void heap_set(struct vg_reorder *r, int which, int32_t pos, int32_t p) {
    r->heap[which].ids[pos] = p;
    r->parts[p].pos[which] = pos;
}

static void heap_up(struct vg_reorder *r, int which, int32_t pos) {
    int32_t *ids = r->heap[which].ids, p = ids[pos];
    while (pos > 0) {
        int32_t parent = (pos - 1) / 2;
        if (!heap_less(r, which, p, ids[parent])) break;
        heap_set(r, which, pos, ids[parent]);
        pos = parent;
    }
    heap_set(r, which, pos, p);
}

static void heap_down(struct vg_reorder *r, int which, int32_t pos) {
    int32_t *ids = r->heap[which].ids, p = ids[pos], len = r->heap[which].len;
    for (;;) {
        int32_t child = 2 * pos + 1;
        if (child >= len) break;
        if (child + 1 < len && heap_less(r, which, ids[child + 1], ids[child])) child++;
        if (!heap_less(r, which, ids[child], p)) break;
        heap_set(r, which, pos, ids[child]);
        pos = child;
    }
    heap_set(r, which, pos, p);
}

static void heap_insert(struct vg_reorder *r, int which, int32_t p) {
    if (r->parts[p].pos[which] >= 0) return;
    int32_t pos = r->heap[which].len++;
    heap_set(r, which, pos, p);
    heap_up(r, which, pos);
}

static void heap_remove(struct vg_reorder *r, int which, int32_t p) {
    int32_t pos = r->parts[p].pos[which];
    if (pos < 0) return;
    r->parts[p].pos[which] = -1;
    int32_t last = r->heap[which].ids[--r->heap[which].len];
    if (pos == r->heap[which].len) return;
    heap_set(r, which, pos, last);
    heap_up(r, which, pos);
    heap_down(r, which, r->parts[last].pos[which]);
}

/* Puts the partition in the waiting heap or takes it out, as its state says. */
static void waiting_update(struct vg_reorder *r, int32_t p) {
    if (r->parts[p].active && r->parts[p].count == 0) heap_insert(r, WAITING, p);
    else heap_remove(r, WAITING, p);
}

/* ---- queueing ---------------------------------------------------------------------------- */

void vg_reorder_push(struct vg_reorder *r, int32_t partition, int64_t offset, const struct vg_txn *txn,
                     int64_t arrival_ns, bool urgent, uint8_t sides, int64_t source_offset) {
    if (partition < 0 || partition >= r->n_parts || r->count >= r->capacity) return;
    struct part *q = &r->parts[partition];
    uint32_t i;
    if (r->free_head != NONE) {
        i = r->free_head;
        r->free_head = r->recs[i].next;
    } else {
        i = r->fresh++;
    }
    struct vg_reorder_rec *rec = &r->recs[i];
    vg_txn_copy(&rec->txn, txn);
    rec->offset = offset;
    rec->arrival_ns = arrival_ns;
    rec->partition = partition;
    rec->urgent = urgent;
    rec->sides = sides;
    rec->source_offset = source_offset;
    rec->stamp = ++r->clock;
    rec->next = NONE;
    heap_remove(r, WAITING, partition); /* a push ends the wait, before last_ts changes */
    heap_remove(r, IDLE, partition);    /* and the idleness */
    if (q->tail == NONE) {
        q->head = i;
        q->head_ts = rec_key(rec);
    } else {
        r->recs[q->tail].next = i;
    }
    q->tail = i;
    q->count++;
    r->count++;
    if (!urgent && txn->ts_ms > q->last_ts) q->last_ts = txn->ts_ms;
    q->active = true;
    heap_insert(r, QUEUED, partition);
}

void vg_reorder_advance(struct vg_reorder *r, int32_t partition, int64_t ts_ms) {
    if (partition < 0 || partition >= r->n_parts || ts_ms <= r->parts[partition].last_ts) return;
    heap_remove(r, WAITING, partition); /* its key changes */
    r->parts[partition].last_ts = ts_ms;
    waiting_update(r, partition);
}

void vg_reorder_set_active(struct vg_reorder *r, int32_t partition, bool active) {
    if (partition < 0 || partition >= r->n_parts) return;
    heap_remove(r, IDLE, partition);
    if (r->parts[partition].active == active) return;
    r->parts[partition].active = active;
    waiting_update(r, partition);
}

void vg_reorder_confirm_idle(struct vg_reorder *r, int32_t partition) {
    if (partition < 0 || partition >= r->n_parts || r->parts[partition].count > 0) return;
    vg_reorder_set_active(r, partition, false);
    r->parts[partition].idle_at = r->clock; /* not in the IDLE heap now: its key may change */
    heap_insert(r, IDLE, partition);
}

/* The oldest newest-time among active partitions with nothing queued: no record as young
 * as it can be released yet. INT64_MAX when no partition is waited for. */
static inline int64_t wait_bound(const struct vg_reorder *r) {
    return r->heap[WAITING].len ? r->parts[r->heap[WAITING].ids[0]].last_ts : INT64_MAX;
}

/* Whether every idle partition was confirmed idle after the record arrived. */
static inline bool idle_confirmed(const struct vg_reorder *r, const struct vg_reorder_rec *h) {
    return r->heap[IDLE].len == 0 || r->parts[r->heap[IDLE].ids[0]].idle_at >= h->stamp;
}

int64_t vg_reorder_wait_bound(const struct vg_reorder *r) { return wait_bound(r); }
uint32_t vg_reorder_capacity(const struct vg_reorder *r) { return r->capacity; }

const struct vg_reorder_rec *vg_reorder_peek(struct vg_reorder *r, bool flush) {
    r->peeked_forced = false;
    if (r->heap[QUEUED].len == 0) return NULL;
    const struct vg_reorder_rec *h = &r->recs[r->parts[r->heap[QUEUED].ids[0]].head];
    /* Strictly older than every waiting partition's newest time: a partition whose newest
     * record has the head's time may still deliver another of that time with a smaller id. */
    if (flush || h->urgent || (h->txn.ts_ms < wait_bound(r) && idle_confirmed(r, h))) return h;
    if (r->count >= r->capacity) {
        r->peeked_forced = true;
        return h;
    }
    return NULL;
}

void vg_reorder_pop(struct vg_reorder *r) {
    if (r->heap[QUEUED].len == 0) return;
    int32_t p = r->heap[QUEUED].ids[0];
    struct part *q = &r->parts[p];
    uint32_t i = q->head;
    q->head = r->recs[i].next;
    if (q->head == NONE) q->tail = NONE;
    q->count--;
    r->count--;
    r->recs[i].next = r->free_head;
    r->free_head = i;
    if (q->count == 0) {
        heap_remove(r, QUEUED, p);
        waiting_update(r, p); /* joins the waiting set when active */
    } else {
        q->head_ts = rec_key(&r->recs[q->head]);
        heap_down(r, QUEUED, 0);
    }
    if (r->peeked_forced) r->forced++;
    r->peeked_forced = false;
}

int64_t vg_reorder_first_offset(const struct vg_reorder *r, int32_t partition) {
    if (partition < 0 || partition >= r->n_parts || r->parts[partition].head == NONE) return -1;
    return r->recs[r->parts[partition].head].offset;
}

void vg_reorder_drop_partition(struct vg_reorder *r, int32_t partition) {
    if (partition < 0 || partition >= r->n_parts) return;
    struct part *q = &r->parts[partition];
    while (q->head != NONE) {
        uint32_t i = q->head;
        q->head = r->recs[i].next;
        r->recs[i].next = r->free_head;
        r->free_head = i;
        r->count--;
    }
    heap_remove(r, QUEUED, partition);
    heap_remove(r, WAITING, partition);
    heap_remove(r, IDLE, partition);
    *q = (struct part){.head = NONE, .tail = NONE, .pos = {-1, -1, -1}, .last_ts = INT64_MIN};
    r->peeked_forced = false;
}

/* ---- spilling ---------------------------------------------------------------------------- */

static int cmp_ts(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Rare (a spill frees half the buffer): a sort of at most `capacity` times is simplest. */
int64_t vg_reorder_slowest(const struct vg_reorder *r) {
    int64_t slowest = INT64_MAX;
    for (int32_t p = 0; p < r->n_parts; p++)
        if (r->parts[p].active && r->parts[p].last_ts < slowest) slowest = r->parts[p].last_ts;
    return slowest;
}

int64_t vg_reorder_spill_horizon(struct vg_reorder *r) {
    uint32_t n = 0;
    for (int32_t p = 0; p < r->n_parts; p++)
        for (uint32_t i = r->parts[p].head; i != NONE; i = r->recs[i].next)
            if (!r->recs[i].urgent) r->scratch[n++] = r->recs[i].txn.ts_ms;
    if (n == 0) return INT64_MAX;
    qsort(r->scratch, n, sizeof(int64_t), cmp_ts);
    return r->scratch[n / 2];
}

uint32_t vg_reorder_truncate(struct vg_reorder *r, int32_t partition, int64_t horizon, int64_t *first_dropped_offset,
                             int64_t *last_kept_source_offset) {
    if (partition < 0 || partition >= r->n_parts) return 0;
    struct part *q = &r->parts[partition];
    uint32_t prev = NONE, i = q->head, n = 0;
    while (i != NONE && (r->recs[i].urgent || r->recs[i].txn.ts_ms <= horizon)) {
        prev = i;
        i = r->recs[i].next;
    }
    if (i == NONE) return 0;
    *first_dropped_offset = r->recs[i].offset;
    *last_kept_source_offset = prev != NONE ? r->recs[prev].source_offset : -1;
    while (i != NONE) {
        uint32_t next = r->recs[i].next;
        r->recs[i].next = r->free_head;
        r->free_head = i;
        i = next;
        n++;
    }
    q->count -= n;
    r->count -= n;
    q->tail = prev;
    if (prev == NONE) {
        q->head = NONE;
        heap_remove(r, QUEUED, partition);
    } else {
        r->recs[prev].next = NONE;
    }
    heap_remove(r, WAITING, partition); /* its key changes */
    if (horizon < q->last_ts) q->last_ts = horizon;
    waiting_update(r, partition);
    r->peeked_forced = false;
    return n;
}
