/* graph_internal.h - the temporal graph's layout as graph-stage rules (engine/rules/cycle.c,
 * scatter_gather.c) see it: nodes, edges, adjacency walks, per-search scratch marks and the
 * visited-edge budget. Only engine/graph*.c and graph rules include this; others use graph.h. */
#ifndef VIGIL_GRAPH_INTERNAL_H
#define VIGIL_GRAPH_INTERNAL_H

#include "vigil/alert.h"
#include "vigil/graph.h"

/* "No node" / "no label" sentinel for 32-bit indices. */
#define VG_GRAPH_NONE UINT32_MAX

/* One transfer. Edges live in a FIFO ring addressed by a free-running 64-bit index
 * (slot = index & mask); an index below g->edge_head is expired, which is also how the
 * per-node lists end: they run newest-to-oldest through the `out` / `in` links, and the
 * oldest edge of the whole graph is the oldest of both its lists, so expiring it is just
 * head++ (no unlinking). Links are 32-bit backward deltas of the index (0 = none; the ring
 * never holds 2^31 edges, so a live target always fits). Besides the older neighbour each
 * link has a skew-binary jump pointer (Myers 1983, "An applicative random-access stack"):
 * from any entry, the first older entry of the list that satisfies a monotone condition
 * (such as "time below X") is reached in O(log n) steps, so a search that needs a hub's
 * edges below some time does not walk the hub's newer ones. 64 bytes: one cache line. */
struct vg_graph_link {
    uint32_t prev;           /* index - older entry of the list, 0 = none */
    uint32_t jump;           /* index - an older entry 2^level - 1 positions down, 0 = none */
};

struct vg_graph_edge {
    int64_t ts_ms;
    int64_t amount_micros;
    uint64_t seq;
    uint64_t tx_id_off;      /* free-running offset of the tx id in the string ring */
    struct vg_graph_link out;   /* in the list of `from`'s out-edges */
    struct vg_graph_link in;    /* in the list of `to`'s in-edges */
    uint32_t from;           /* node indices */
    uint32_t to;
    uint8_t tx_id_len;
    uint8_t level_out, level_in;   /* jump spans 2^level - 1 list positions */
};

/* One account. Stable index into g->nodes (the hash table maps id -> index). The scratch
 * fields belong to the search running now: they are valid only while a mark equals the
 * generation the search took from vg_graph_new_mark(). 64 bytes. */
struct vg_graph_node {
    uint64_t out_newest;     /* newest out-edge index (end of list when expired) */
    uint64_t in_newest;
    uint32_t n_out;          /* live out-/in-edges; the node is reclaimed at 0 + 0 */
    uint32_t n_in;
    uint32_t mark_a, mark_b, mark_c;   /* search generations */
    uint32_t head_f, head_b;           /* cycle: newest forward / backward label */
    uint8_t id_len;
    int64_t t_a, t_b;                  /* search scratch times */
};

struct vg_graph;

/* What a graph rule sees for one new edge. */
struct vg_graph_ctx {
    struct vg_graph *g;
    const struct vg_config *cfg;
    const struct vg_txn *txn;
    uint64_t edge;           /* index of the new edge */
    uint32_t from, to;       /* its node indices */
    uint32_t budget_left;    /* edge visits left in the current search */
    bool cut;                /* the current search ran out of budget */
    struct vg_alert *alert;  /* preallocated alert to fill */
};

/* Internals the rules read directly (the graph.c struct begins with these fields). */
struct vg_graph_view {
    struct vg_graph_edge *edges;
    uint64_t edge_mask;
    uint64_t edge_head;      /* oldest live edge */
    uint64_t edge_tail;      /* next edge index */
    struct vg_graph_node *nodes;
    char (*node_ids)[VG_ID_MAX];
    char *strings;           /* tx id ring */
    uint64_t string_mask;
    /* Bound on how far a live edge's ts lies below the ts of any edge that arrived before
     * it (0 for input in time order). Walking a list newest-first, once
     * ts + disorder_ms < lower bound, no older entry can reach the bound. */
    int64_t disorder_ms;
};

static inline const struct vg_graph_view *vg_graph_view(const struct vg_graph *g) {
    return (const struct vg_graph_view *)(const void *)g;
}

static inline bool vg_graph_edge_live(const struct vg_graph *g, uint64_t idx) {
    const struct vg_graph_view *v = vg_graph_view(g);
    return idx >= v->edge_head && idx < v->edge_tail;
}

static inline const struct vg_graph_edge *vg_graph_edge_at(const struct vg_graph *g, uint64_t idx) {
    const struct vg_graph_view *v = vg_graph_view(g);
    return &v->edges[idx & v->edge_mask];
}

/* Older neighbour / jump target of edge idx in its sender's out-list (dir 0) or its
 * receiver's in-list (dir 1); UINT64_MAX (never live) when there is none. */
static inline uint64_t vg_graph_link_target(uint64_t idx, uint32_t delta) {
    return delta ? idx - delta : UINT64_MAX;
}

static inline uint64_t vg_graph_prev(const struct vg_graph_edge *e, uint64_t idx, int dir) {
    return vg_graph_link_target(idx, dir == 0 ? e->out.prev : e->in.prev);
}

/* The next entry to look at after edge idx (ts e->ts_ms >= bound, so it is skipped) on the
 * way to the first entry with ts < bound: the jump target when every entry it passes over
 * is known to have ts >= bound (they arrived after it, so their ts is at least its ts
 * minus disorder_ms), else the older neighbour. */
static inline uint64_t vg_graph_skip(const struct vg_graph *g, const struct vg_graph_edge *e, uint64_t idx, int dir,
                                     int64_t bound) {
    uint64_t j = vg_graph_link_target(idx, dir == 0 ? e->out.jump : e->in.jump);
    if (vg_graph_edge_live(g, j) && vg_graph_edge_at(g, j)->ts_ms - vg_graph_view(g)->disorder_ms >= bound)
        return j;
    return vg_graph_prev(e, idx, dir);
}

static inline struct vg_graph_node *vg_graph_node_at(struct vg_graph *g, uint32_t node) {
    return &vg_graph_view(g)->nodes[node];
}

static inline struct vg_str vg_graph_node_id(const struct vg_graph *g, uint32_t node) {
    const struct vg_graph_view *v = vg_graph_view(g);
    return (struct vg_str){v->node_ids[node], v->nodes[node].id_len};
}

static inline struct vg_str vg_graph_edge_tx_id(const struct vg_graph *g, const struct vg_graph_edge *e) {
    const struct vg_graph_view *v = vg_graph_view(g);
    return (struct vg_str){v->strings + (e->tx_id_off & v->string_mask), e->tx_id_len};
}

static inline int64_t vg_graph_disorder_ms(const struct vg_graph *g) {
    return vg_graph_view(g)->disorder_ms;
}

/* Starts a rule search: resets the budget to engine.graph_budget and counts the search. */
void vg_graph_search_begin(struct vg_graph_ctx *ctx);
/* Ends it: counts a budget cut if the search ran out. */
void vg_graph_search_end(struct vg_graph_ctx *ctx);

/* Charges one edge visit; returns false (and marks the search cut) when the budget is
 * spent: the caller stops searching. */
static inline bool vg_graph_charge(struct vg_graph_ctx *ctx) {
    if (VG_UNLIKELY(ctx->budget_left == 0)) {
        ctx->cut = true;
        return false;
    }
    ctx->budget_left--;
    return true;
}

/* A fresh search generation for the node marks (never 0). Only between search_begin and
 * search_end, at most one per edge visited (search_begin clears all marks before the
 * counter could wrap). */
uint32_t vg_graph_new_mark(struct vg_graph *g);

/* Scratch buffer `slot` (0..VG_GRAPH_SCRATCH_SLOTS-1) owned by the graph, at least
 * `bytes` long, reused by every search (it only grows, when the budget grows). Returns
 * NULL when it cannot grow: the caller skips the search. */
#define VG_GRAPH_SCRATCH_SLOTS 3
void *vg_graph_scratch(struct vg_graph *g, int slot, size_t bytes);

/* Adds the tx ids of edges (sorted by (ts, seq) in place) to the alert. */
void vg_graph_alert_add_edges(struct vg_graph *g, struct vg_alert *a, uint64_t *edges, size_t n);

#endif
