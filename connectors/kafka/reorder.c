/* reorder.c - event-time merge of partitions (see reorder.h). Records live in one slab
 * with a free list; each partition is a FIFO chained through the slab; partitions with
 * queued records sit in a binary min-heap keyed by (head event time, partition id). The
 * wait bound (the oldest newest-time among active partitions with nothing queued) is
 * recomputed only when a partition enters or leaves that set. */
#include "kafka/reorder.h"

#include <stdlib.h>
#include <string.h>

#include "vigil/common.h"

#define NONE UINT32_MAX

struct part {
    uint32_t head, tail;    /* slab indices, NONE when empty */
    uint32_t count;
    int32_t heap_pos;       /* -1 when not in the heap (empty) */
    int64_t last_ts;        /* newest event time pushed; INT64_MIN before the first */
    bool active;
};

struct vg_reorder {
    struct vg_reorder_rec *recs;
    uint32_t capacity, count, free_head;
    uint32_t fresh;         /* slab records [fresh, capacity) never used yet (untouched memory) */
    struct part *parts;
    int32_t n_parts;
    int32_t *heap;          /* partition ids */
    int32_t heap_len;
    int64_t bound;          /* cached wait bound */
    bool bound_dirty;
    bool peeked_forced;
    uint64_t forced;
};

int vg_reorder_create(struct vg_reorder **out, uint32_t capacity, int32_t partitions) {
    if (capacity == 0 || capacity == NONE || partitions <= 0) return VG_ERR_INVALID;
    struct vg_reorder *r = calloc(1, sizeof *r);
    if (!r) return VG_ERR_NOMEM;
    r->recs = malloc((size_t)capacity * sizeof *r->recs);
    r->parts = calloc((size_t)partitions, sizeof *r->parts);
    r->heap = malloc((size_t)partitions * sizeof *r->heap);
    if (!r->recs || !r->parts || !r->heap) {
        vg_reorder_destroy(r);
        return VG_ERR_NOMEM;
    }
    r->capacity = capacity;
    r->n_parts = partitions;
    r->free_head = NONE; /* records are taken from `fresh` first: the slab's pages are only
                          * touched up to the high-water mark */
    for (int32_t p = 0; p < partitions; p++)
        r->parts[p] = (struct part){.head = NONE, .tail = NONE, .heap_pos = -1, .last_ts = INT64_MIN};
    r->bound_dirty = true;
    *out = r;
    return VG_OK;
}

void vg_reorder_destroy(struct vg_reorder *r) {
    if (!r) return;
    free(r->recs);
    free(r->parts);
    free(r->heap);
    free(r);
}

bool vg_reorder_full(const struct vg_reorder *r) { return r->count >= r->capacity; }
uint32_t vg_reorder_count(const struct vg_reorder *r) { return r->count; }
uint64_t vg_reorder_forced(const struct vg_reorder *r) { return r->forced; }

/* ---- heap of partitions by (head time, partition) ------------------------------------- */

static inline bool heap_less(const struct vg_reorder *r, int32_t a, int32_t b) {
    int64_t ta = r->recs[r->parts[a].head].txn.ts_ms, tb = r->recs[r->parts[b].head].txn.ts_ms;
    return ta < tb || (ta == tb && a < b);
}

static inline void heap_set(struct vg_reorder *r, int32_t pos, int32_t p) {
    r->heap[pos] = p;
    r->parts[p].heap_pos = pos;
}

static void heap_up(struct vg_reorder *r, int32_t pos) {
    int32_t p = r->heap[pos];
    while (pos > 0) {
        int32_t parent = (pos - 1) / 2;
        if (!heap_less(r, p, r->heap[parent])) break;
        heap_set(r, pos, r->heap[parent]);
        pos = parent;
    }
    heap_set(r, pos, p);
}

static void heap_down(struct vg_reorder *r, int32_t pos) {
    int32_t p = r->heap[pos];
    for (;;) {
        int32_t child = 2 * pos + 1;
        if (child >= r->heap_len) break;
        if (child + 1 < r->heap_len && heap_less(r, r->heap[child + 1], r->heap[child])) child++;
        if (!heap_less(r, r->heap[child], p)) break;
        heap_set(r, pos, r->heap[child]);
        pos = child;
    }
    heap_set(r, pos, p);
}

static void heap_remove(struct vg_reorder *r, int32_t p) {
    int32_t pos = r->parts[p].heap_pos;
    r->parts[p].heap_pos = -1;
    int32_t last = r->heap[--r->heap_len];
    if (pos == r->heap_len) return;
    heap_set(r, pos, last);
    heap_up(r, pos);
    heap_down(r, r->parts[last].heap_pos);
}

/* ---- queueing ---------------------------------------------------------------------------- */

void vg_reorder_push(struct vg_reorder *r, int32_t partition, int64_t offset, const struct vg_txn *txn,
                     int64_t arrival_ns) {
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
    rec->txn = *txn;
    rec->offset = offset;
    rec->arrival_ns = arrival_ns;
    rec->partition = partition;
    rec->next = NONE;
    if (q->tail == NONE) q->head = i;
    else r->recs[q->tail].next = i;
    q->tail = i;
    q->count++;
    r->count++;
    if (txn->ts_ms > q->last_ts) q->last_ts = txn->ts_ms;
    if (!q->active || q->count == 1) r->bound_dirty = true; /* left the waiting set */
    q->active = true;
    if (q->heap_pos < 0) {
        r->heap[r->heap_len++] = partition;
        heap_up(r, r->heap_len - 1);
    }
}

void vg_reorder_set_active(struct vg_reorder *r, int32_t partition, bool active) {
    if (partition < 0 || partition >= r->n_parts || r->parts[partition].active == active) return;
    r->parts[partition].active = active;
    r->bound_dirty = true;
}

/* The oldest newest-time among active partitions with nothing queued: no record younger
 * than it can be released yet. INT64_MAX when no partition is waited for. */
static int64_t wait_bound(struct vg_reorder *r) {
    if (!r->bound_dirty) return r->bound;
    int64_t bound = INT64_MAX;
    for (int32_t p = 0; p < r->n_parts; p++)
        if (r->parts[p].active && r->parts[p].count == 0 && r->parts[p].last_ts < bound)
            bound = r->parts[p].last_ts;
    r->bound = bound;
    r->bound_dirty = false;
    return bound;
}

const struct vg_reorder_rec *vg_reorder_peek(struct vg_reorder *r, int64_t now_ns, int64_t max_hold_ns, bool flush) {
    r->peeked_forced = false;
    if (r->heap_len == 0) return NULL;
    const struct vg_reorder_rec *h = &r->recs[r->parts[r->heap[0]].head];
    if (flush || h->txn.ts_ms <= wait_bound(r)) return h;
    if (r->count >= r->capacity || now_ns - h->arrival_ns > max_hold_ns) {
        r->peeked_forced = true;
        return h;
    }
    return NULL;
}

void vg_reorder_pop(struct vg_reorder *r) {
    if (r->heap_len == 0) return;
    int32_t p = r->heap[0];
    struct part *q = &r->parts[p];
    uint32_t i = q->head;
    q->head = r->recs[i].next;
    if (q->head == NONE) q->tail = NONE;
    q->count--;
    r->count--;
    r->recs[i].next = r->free_head;
    r->free_head = i;
    if (q->count == 0) {
        heap_remove(r, p);
        if (q->active) r->bound_dirty = true; /* joins the waiting set */
    } else {
        heap_down(r, 0);
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
    if (q->heap_pos >= 0) heap_remove(r, partition);
    *q = (struct part){.head = NONE, .tail = NONE, .heap_pos = -1, .last_ts = INT64_MIN};
    r->bound_dirty = true;
    r->peeked_forced = false;
}
