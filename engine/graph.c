/* graph.c - the graph stage's temporal transaction graph: recent transfers large enough for
 * a graph rule, indexed by account, expired in FIFO order; runs the graph rules per edge.
 * Not the rules themselves (engine/rules/cycle.c, scatter_gather.c) nor the account stage.
 *
 * Threading. The graph lives on ONE dedicated thread that the engine feeds every
 * transaction in input order, so nothing here is shared and nothing is locked, and every
 * search sees exactly the transfers that preceded its trigger in the input: alerts are
 * identical whatever the number of shards. Alternatives considered: (a) a graph partitioned
 * by account across the shards - cycles and scatter/gather cross partitions, so a search
 * would need cross-shard messages whose timing depends on scheduling (results would vary
 * with the shard count); (b) one shared graph behind a lock or RCU - the searches walk many
 * nodes per edge, so readers would contend with the writer on every transaction and the
 * order of insert-vs-search would again depend on scheduling. One thread is the simplest
 * design that is deterministic; its cost is bounded by the per-search edge budget.
 *
 * Layout. Edges: a power-of-two ring of 64-byte records addressed by free-running 64-bit
 * indices; it grows by copying (indices keep their meaning). Each node keeps the index of
 * its newest out- and in-edge and each edge the previous one of its sender / receiver, so
 * the per-node lists run newest-first in arrival order and end at the first expired index.
 * The oldest edge in the ring is the oldest of both its lists, so expiry is head++ plus two
 * counter decrements. Transaction ids live in a byte ring beside it (no id straddles the
 * ring's end). Nodes: a stable array with a free list; an open-addressing, linear-probing
 * table of (node index, low 32 bits of XXH3-64) maps ids to nodes, ids are compared byte for
 * byte, and a node whose last live edge expires is deleted by backward shift. Nothing is
 * allocated per transaction; arrays only double when full (if the edge ring cannot, the
 * oldest edge is evicted and counted).
 *
 * Late records. Lists are in arrival order, not time order. Searches walk them newest
 * first and stop early using disorder_ms, a bound on how far any live edge's time lies
 * below the newest time seen before it (kept per two buckets of arrival indices, so one
 * very late record stops mattering once its bucket has expired). A transfer older than
 * watermark - window is evaluated as a trigger and then dropped again (pop_tail). */
#include "graph_internal.h"
#include "bigmem.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "rules/rule_params.h"
#include "vigil/emit.h"

#define EDGES_INITIAL 1024u
#define STRINGS_INITIAL (16u * 1024u)
#define NODES_INITIAL 256u
#define EMPTY_LIST UINT64_MAX

struct node_slot {
    uint32_t node_plus1;     /* 0 = empty */
    uint32_t hash_lo;        /* low 32 bits of the id's XXH3-64: the home slot and a quick filter */
};

struct vg_graph {
    struct vg_graph_view view;    /* first: graph_internal.h reads it through vg_graph_view() */

    uint64_t string_head;         /* oldest live byte of the tx id ring */
    uint64_t string_tail;

    struct node_slot *table;
    uint64_t table_mask;
    uint32_t node_cap;
    uint32_t node_used;           /* high-water mark of g->view.nodes */
    uint32_t node_free;           /* free list through node.head_f, VG_GRAPH_NONE = empty */
    uint64_t node_live;

    int64_t max_ts;               /* newest ts among kept edges */
    int64_t disorder_cur;         /* max lateness of edges from disorder_mark on */
    int64_t disorder_old;         /* ... and of the edges before it that may still be live */
    uint64_t disorder_mark;

    uint32_t mark_gen;
    void *scratch[VG_GRAPH_SCRATCH_SLOTS];
    size_t scratch_size[VG_GRAPH_SCRATCH_SLOTS];
    struct vg_alert *alert;

    struct vg_graph_stats stats;
};

/* ---- node table ------------------------------------------------------------------ */

static inline uint64_t id_hash(const char *id, size_t len) {
    return XXH3_64bits(id, len);
}

static uint32_t node_find(const struct vg_graph *g, const char *id, size_t len, uint64_t hash) {
    uint32_t lo = (uint32_t)hash;
    for (uint64_t i = lo & g->table_mask;; i = (i + 1) & g->table_mask) {
        const struct node_slot *s = &g->table[i];
        if (s->node_plus1 == 0) return VG_GRAPH_NONE;
        uint32_t n = s->node_plus1 - 1;
        if (s->hash_lo == lo && vg_str_eq(g->view.node_ids[n], g->view.nodes[n].id_len, id, len))
            return n;
    }
}

static int table_grow(struct vg_graph *g) {
    uint64_t cap = (g->table_mask + 1) * 2;
    struct node_slot *t = vg_big_alloc(cap * sizeof *t);
    if (!t) return VG_ERR_NOMEM;
    for (uint64_t i = 0; i <= g->table_mask; i++) {
        struct node_slot s = g->table[i];
        if (s.node_plus1 == 0) continue;
        uint64_t j = s.hash_lo & (cap - 1);
        while (t[j].node_plus1 != 0) j = (j + 1) & (cap - 1);
        t[j] = s;
    }
    vg_big_free(g->table, (g->table_mask + 1) * sizeof *g->table);
    g->table = t;
    g->table_mask = cap - 1;
    return VG_OK;
}

static int node_pool_grow(struct vg_graph *g) {
    uint32_t old = g->node_cap, cap = old * 2;
    struct vg_graph_node *nodes = vg_big_alloc((size_t)cap * sizeof *nodes);
    char(*ids)[VG_ID_MAX] = vg_big_alloc((size_t)cap * sizeof *ids);
    if (!nodes || !ids) {
        vg_big_free(nodes, (size_t)cap * sizeof *nodes);
        vg_big_free(ids, (size_t)cap * sizeof *ids);
        return VG_ERR_NOMEM;
    }
    memcpy(nodes, g->view.nodes, (size_t)old * sizeof *nodes);
    memcpy(ids, g->view.node_ids, (size_t)old * sizeof *ids);
    vg_big_free(g->view.nodes, (size_t)old * sizeof *nodes);
    vg_big_free(g->view.node_ids, (size_t)old * sizeof *ids);
    g->view.nodes = nodes;
    g->view.node_ids = ids;
    g->node_cap = cap;
    return VG_OK;
}

/* Returns the node of id, creating it; VG_GRAPH_NONE when memory ran out. */
static uint32_t node_get(struct vg_graph *g, const char *id, size_t len) {
    uint64_t hash = id_hash(id, len);
    uint32_t n = node_find(g, id, len, hash);
    if (n != VG_GRAPH_NONE) return n;
    if ((g->node_live + 1) * 2 > g->table_mask + 1 && table_grow(g) != VG_OK) return VG_GRAPH_NONE;
    if (g->node_free != VG_GRAPH_NONE) {
        n = g->node_free;
        g->node_free = g->view.nodes[n].head_f;
    } else {
        if (g->node_used == g->node_cap && node_pool_grow(g) != VG_OK) return VG_GRAPH_NONE;
        n = g->node_used++;
    }
    struct vg_graph_node *node = &g->view.nodes[n];
    memset(node, 0, sizeof *node);
    node->out_newest = EMPTY_LIST;
    node->in_newest = EMPTY_LIST;
    node->id_len = (uint8_t)len;
    memcpy(g->view.node_ids[n], id, len);
    uint64_t i = (uint32_t)hash & g->table_mask;
    while (g->table[i].node_plus1 != 0) i = (i + 1) & g->table_mask;
    g->table[i] = (struct node_slot){n + 1, (uint32_t)hash};
    g->node_live++;
    return n;
}

/* Deletes node n from the table (backward-shift deletion) and frees its slot. */
static void node_delete(struct vg_graph *g, uint32_t n) {
    uint64_t mask = g->table_mask;
    uint64_t i = (uint32_t)id_hash(g->view.node_ids[n], g->view.nodes[n].id_len) & mask;
    while (g->table[i].node_plus1 != n + 1) i = (i + 1) & mask;
    for (uint64_t j = (i + 1) & mask; g->table[j].node_plus1 != 0; j = (j + 1) & mask) {
        uint64_t home = g->table[j].hash_lo & mask;
        /* Move j into the hole at i unless j's home lies cyclically in (i, j]. */
        bool home_in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!home_in_range) {
            g->table[i] = g->table[j];
            i = j;
        }
    }
    g->table[i] = (struct node_slot){0, 0};
    g->view.nodes[n].head_f = g->node_free;
    g->view.nodes[n].n_out = g->view.nodes[n].n_in = 0;
    g->node_free = n;
    g->node_live--;
}

static inline void node_release_if_idle(struct vg_graph *g, uint32_t n) {
    const struct vg_graph_node *node = &g->view.nodes[n];
    if (node->n_out == 0 && node->n_in == 0) node_delete(g, n);
}

/* ---- the tx id ring -------------------------------------------------------------- */

/* Copies the free-running range [from, to) of a power-of-two ring into a bigger one. */
static void ring_copy(char *dst, uint64_t dst_mask, const char *src, uint64_t src_mask, uint64_t from,
                      uint64_t to) {
    while (from < to) {
        uint64_t n = to - from;
        n = VG_MIN(n, src_mask + 1 - (from & src_mask));
        n = VG_MIN(n, dst_mask + 1 - (from & dst_mask));
        memcpy(dst + (from & dst_mask), src + (from & src_mask), n);
        from += n;
    }
}

/* Reserves len contiguous bytes; returns the offset or UINT64_MAX when memory ran out. */
static uint64_t string_alloc(struct vg_graph *g, size_t len) {
    for (;;) {
        uint64_t cap = g->view.string_mask + 1;
        uint64_t off = g->string_tail;
        if ((off & g->view.string_mask) + len > cap) off = (off | g->view.string_mask) + 1;
        if (off + len - g->string_head <= cap) {
            g->string_tail = off + len;
            return off;
        }
        char *bigger = vg_big_alloc(cap * 2);
        if (!bigger) return UINT64_MAX;
        ring_copy(bigger, cap * 2 - 1, g->view.strings, g->view.string_mask, g->string_head, g->string_tail);
        vg_big_free(g->view.strings, cap);
        g->view.strings = bigger;
        g->view.string_mask = cap * 2 - 1;
    }
}

/* ---- edges ----------------------------------------------------------------------- */

/* Links are 32-bit index deltas: the ring stays below 2^31 edges (128 GiB). */
#define EDGES_MAX (1ull << 31)
_Static_assert(sizeof(struct vg_graph_edge) == 64, "an edge is one cache line");

static int edges_grow(struct vg_graph *g) {
    uint64_t cap = (g->view.edge_mask + 1) * 2;
    if (cap > EDGES_MAX) return VG_ERR_NOMEM;
    struct vg_graph_edge *bigger = vg_big_alloc(cap * sizeof *bigger);
    if (!bigger) return VG_ERR_NOMEM;
    for (uint64_t i = g->view.edge_head; i < g->view.edge_tail; i++)
        bigger[i & (cap - 1)] = g->view.edges[i & g->view.edge_mask];
    vg_big_free(g->view.edges, (g->view.edge_mask + 1) * sizeof *g->view.edges);
    g->view.edges = bigger;
    g->view.edge_mask = cap - 1;
    return VG_OK;
}

static void disorder_update(struct vg_graph *g) {
    g->view.disorder_ms = VG_MAX(g->disorder_cur, g->disorder_old);
}

/* Expires the oldest edge. Can't fail; the graph must not be empty. */
static void expire_head(struct vg_graph *g) {
    const struct vg_graph_edge *e = &g->view.edges[g->view.edge_head & g->view.edge_mask];
    uint32_t from = e->from, to = e->to;
    g->string_head = e->tx_id_off + e->tx_id_len;
    g->view.edge_head++;
    g->view.nodes[from].n_out--;
    g->view.nodes[to].n_in--;
    node_release_if_idle(g, from);
    if (to != from) node_release_if_idle(g, to);
    if (g->view.edge_head == g->view.edge_tail) g->string_head = g->string_tail;
    if (g->view.edge_head >= g->disorder_mark) {
        /* Every edge before the mark is gone: the old bucket now covers [mark, tail). */
        g->disorder_old = g->disorder_cur;
        g->disorder_cur = 0;
        g->disorder_mark = g->view.edge_tail;
        disorder_update(g);
    }
}

/* Removes the newest edge (a very late transfer evaluated but not kept). Can't fail. */
static void pop_tail(struct vg_graph *g) {
    uint64_t idx = --g->view.edge_tail;
    const struct vg_graph_edge *e = &g->view.edges[idx & g->view.edge_mask];
    struct vg_graph_node *from = &g->view.nodes[e->from], *to = &g->view.nodes[e->to];
    from->out_newest = vg_graph_prev(e, idx, 0);
    from->n_out--;
    to->in_newest = vg_graph_prev(e, idx, 1);
    to->n_in--;
    g->string_tail = e->tx_id_off;
    g->stats.edges_added--;
    uint32_t f = e->from, t = e->to;
    node_release_if_idle(g, f);
    node_release_if_idle(g, t);
}

/* Links new edge idx after `newest`, the list's newest entry (maybe expired or none), with
 * Myers' skew-binary jump: twice the span of the predecessor's jump plus one when that
 * jump and the one after it have equal spans, else one position. */
static void link_init(const struct vg_graph *g, uint64_t idx, uint64_t newest, int dir, struct vg_graph_link *link,
                      uint8_t *level) {
    *link = (struct vg_graph_link){0, 0};
    *level = 1;
    if (!vg_graph_edge_live(g, newest)) return;
    link->prev = link->jump = (uint32_t)(idx - newest);
    const struct vg_graph_edge *p = vg_graph_edge_at(g, newest);
    uint64_t jp = vg_graph_link_target(newest, dir == 0 ? p->out.jump : p->in.jump);
    if (!vg_graph_edge_live(g, jp)) return;
    const struct vg_graph_edge *q = vg_graph_edge_at(g, jp);
    uint8_t lp = dir == 0 ? p->level_out : p->level_in, lq = dir == 0 ? q->level_out : q->level_in;
    uint64_t jq = vg_graph_link_target(jp, dir == 0 ? q->out.jump : q->in.jump);
    if (lp != lq || lp >= 32 || !vg_graph_edge_live(g, jq)) return;
    link->jump = (uint32_t)(idx - jq);
    *level = (uint8_t)(lp + 1);
}

/* Appends the edge of txn; returns its index or UINT64_MAX when memory ran out. A future
 * transfer (ahead of the stream's trusted time) leaves the disorder bound alone. */
static uint64_t edge_push(struct vg_graph *g, const struct vg_txn *txn, bool future) {
    if (g->view.edge_tail - g->view.edge_head > g->view.edge_mask && edges_grow(g) != VG_OK) {
        expire_head(g);    /* bounded memory wins over completeness, and it is counted */
        g->stats.evicted++;
    }
    uint32_t from = node_get(g, txn->from, txn->from_len);
    if (from == VG_GRAPH_NONE) return UINT64_MAX;
    uint32_t to = node_get(g, txn->to, txn->to_len);
    if (to == VG_GRAPH_NONE) {
        node_release_if_idle(g, from);
        return UINT64_MAX;
    }
    uint64_t off = string_alloc(g, txn->id_len);
    if (off == UINT64_MAX) {
        node_release_if_idle(g, from);
        node_release_if_idle(g, to);
        return UINT64_MAX;
    }
    memcpy(g->view.strings + (off & g->view.string_mask), txn->id, txn->id_len);

    uint64_t idx = g->view.edge_tail++;
    struct vg_graph_edge *e = &g->view.edges[idx & g->view.edge_mask];
    struct vg_graph_node *nf = &g->view.nodes[from], *nt = &g->view.nodes[to];
    *e = (struct vg_graph_edge){
        .ts_ms = txn->ts_ms,
        .amount_micros = txn->amount_micros,
        .seq = txn->seq,
        .tx_id_off = off,
        .from = from,
        .to = to,
        .tx_id_len = txn->id_len,
    };
    link_init(g, idx, nf->out_newest, 0, &e->out, &e->level_out);
    link_init(g, idx, nt->in_newest, 1, &e->in, &e->level_in);
    nf->out_newest = idx;
    nf->n_out++;
    nt->in_newest = idx;
    nt->n_in++;
    if (future) {
        /* max_ts and the disorder bound follow the trusted stream only */
    } else if (g->view.edge_tail - 1 == g->view.edge_head || g->max_ts == VG_TS_NONE) {
        g->max_ts = txn->ts_ms;
    } else if (txn->ts_ms < g->max_ts) {
        g->disorder_cur = VG_MAX(g->disorder_cur, g->max_ts - txn->ts_ms);
        disorder_update(g);
    } else {
        g->max_ts = txn->ts_ms;
    }
    g->stats.edges_added++;
    return idx;
}

/* ---- rules' view of the graph ------------------------------------------------------ */

/* Smallest min_amount and longest window over the enabled graph rules; false if none. */
static bool graph_limits(const struct vg_config *cfg, int64_t *min_amount, int64_t *window_ms) {
    bool any = false;
    *min_amount = INT64_MAX;
    *window_ms = 0;
    if (cfg->rules[VG_RULE_CYCLE].enabled) {
        const struct vg_cycle_params *p = vg_config_params(cfg, VG_RULE_CYCLE);
        *min_amount = VG_MIN(*min_amount, p->min_amount_micros);
        *window_ms = VG_MAX(*window_ms, p->window_ms);
        any = true;
    }
    if (cfg->rules[VG_RULE_SCATTER_GATHER].enabled) {
        const struct vg_scatter_gather_params *p = vg_config_params(cfg, VG_RULE_SCATTER_GATHER);
        *min_amount = VG_MIN(*min_amount, p->min_amount_micros);
        *window_ms = VG_MAX(*window_ms, p->window_ms);
        any = true;
    }
    return any;
}

void vg_graph_search_begin(struct vg_graph_ctx *ctx) {
    struct vg_graph *g = ctx->g;
    ctx->budget_left = ctx->cfg->engine.graph_budget;
    ctx->cut = false;
    g->stats.searches++;
    /* A search takes at most one mark per edge it visits: wrap here, never mid-search. */
    if (VG_UNLIKELY(g->mark_gen > UINT32_MAX - (uint64_t)ctx->budget_left - 16)) {
        for (uint32_t i = 0; i < g->node_used; i++)
            g->view.nodes[i].mark_a = g->view.nodes[i].mark_b = g->view.nodes[i].mark_c = 0;
        g->mark_gen = 0;
    }
}

void vg_graph_search_end(struct vg_graph_ctx *ctx) {
    if (ctx->cut) ctx->g->stats.budget_cut++;
}

uint32_t vg_graph_new_mark(struct vg_graph *g) {
    return ++g->mark_gen;
}

void *vg_graph_scratch(struct vg_graph *g, int slot, size_t bytes) {
    if (g->scratch_size[slot] < bytes) {
        size_t size = VG_MAX(bytes, g->scratch_size[slot] * 2);
        void *p = realloc(g->scratch[slot], size);
        if (!p) return NULL;
        g->scratch[slot] = p;
        g->scratch_size[slot] = size;
    }
    return g->scratch[slot];
}

static int edge_order(const void *a, const void *b, void *opaque) {
    const struct vg_graph *g = opaque;
    const struct vg_graph_edge *x = vg_graph_edge_at(g, *(const uint64_t *)a);
    const struct vg_graph_edge *y = vg_graph_edge_at(g, *(const uint64_t *)b);
    if (x->ts_ms != y->ts_ms) return x->ts_ms < y->ts_ms ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

void vg_graph_alert_add_edges(struct vg_graph *g, struct vg_alert *a, uint64_t *edges, size_t n) {
    qsort_r(edges, n, sizeof *edges, edge_order, g);
    for (size_t i = 0; i < n; i++) {
        struct vg_str id = vg_graph_edge_tx_id(g, vg_graph_edge_at(g, edges[i]));
        vg_alert_add_tx(a, id.ptr, id.len);
    }
}

/* ---- public API ------------------------------------------------------------------ */

int vg_graph_create(struct vg_graph **out, const struct vg_config *cfg) {
    (void)cfg;   /* sizes start small and double: the window's volume is not known up front */
    struct vg_graph *g = calloc(1, sizeof *g);
    if (!g) return VG_ERR_NOMEM;
    g->view.edges = vg_big_alloc(EDGES_INITIAL * sizeof *g->view.edges);
    g->view.edge_mask = EDGES_INITIAL - 1;
    g->view.strings = vg_big_alloc(STRINGS_INITIAL);
    g->view.string_mask = STRINGS_INITIAL - 1;
    g->view.nodes = vg_big_alloc(NODES_INITIAL * sizeof *g->view.nodes);
    g->view.node_ids = vg_big_alloc(NODES_INITIAL * sizeof *g->view.node_ids);
    g->node_cap = NODES_INITIAL;
    g->node_free = VG_GRAPH_NONE;
    g->table = vg_big_alloc(NODES_INITIAL * 2 * sizeof *g->table);
    g->table_mask = NODES_INITIAL * 2 - 1;
    g->alert = malloc(sizeof *g->alert);
    g->max_ts = VG_TS_NONE;
    if (!g->view.edges || !g->view.strings || !g->view.nodes || !g->view.node_ids || !g->table || !g->alert)
        goto err;
    *out = g;
    return VG_OK;
err:
    vg_graph_destroy(g);
    return VG_ERR_NOMEM;
}

void vg_graph_destroy(struct vg_graph *g) {
    if (!g) return;
    if (g->view.edges) vg_big_free(g->view.edges, (g->view.edge_mask + 1) * sizeof *g->view.edges);
    if (g->view.strings) vg_big_free(g->view.strings, g->view.string_mask + 1);
    if (g->view.nodes) vg_big_free(g->view.nodes, (size_t)g->node_cap * sizeof *g->view.nodes);
    if (g->view.node_ids) vg_big_free(g->view.node_ids, (size_t)g->node_cap * sizeof *g->view.node_ids);
    if (g->table) vg_big_free(g->table, (g->table_mask + 1) * sizeof *g->table);
    free(g->alert);
    for (int i = 0; i < VG_GRAPH_SCRATCH_SLOTS; i++) free(g->scratch[i]);
    free(g);
}

void vg_graph_on_txn(struct vg_graph *g, const struct vg_config *cfg, const struct vg_txn *txn,
                     int64_t newest_ms, struct vg_alert_out *out) {
    int64_t min_amount, window_ms;
    bool any = graph_limits(cfg, &min_amount, &window_ms);
    int64_t reach = window_ms + cfg->engine.allowed_lateness_ms;
    int64_t cutoff = newest_ms == VG_TS_NONE || newest_ms < INT64_MIN + reach ? INT64_MIN : newest_ms - reach;
    bool future = newest_ms != VG_TS_NONE && txn->ts_ms > newest_ms;

    /* Self-transfers can be no part of a ring (no repeated account) nor of a scatter. */
    if (any && txn->amount_micros >= min_amount && txn->from_len > 0 && txn->to_len > 0 &&
        !vg_str_eq(txn->from, txn->from_len, txn->to, txn->to_len)) {
        uint64_t idx = edge_push(g, txn, future);
        if (idx == UINT64_MAX) {
            g->stats.dropped++;
        } else {
            const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
            struct vg_graph_ctx ctx = {
                .g = g, .cfg = cfg, .txn = txn, .edge = idx, .from = e->from, .to = e->to,
                .alert = g->alert,
            };
            for (int r = 0; r < VG_RULE_MAX; r++) {
                const struct vg_rule_def *def = vg_rule_registry[r];
                if (def->stage != VG_STAGE_GRAPH || !def->on_edge || !cfg->rules[r].enabled) continue;
                def->on_edge(&ctx, cfg->rules[r].params, out);
            }
            /* Older than anything a later trigger may reach: evaluated, not kept. */
            if (txn->ts_ms < cutoff) pop_tail(g);
        }
    }
    while (g->view.edge_head < g->view.edge_tail) {
        int64_t head_ts = vg_graph_edge_at(g, g->view.edge_head)->ts_ms;
        if (any && head_ts >= cutoff) {
            /* A far-future edge (beyond the stream's trusted time) at the head would stop
             * FIFO expiry for good: once an expired edge waits behind it, it goes. */
            if (newest_ms == VG_TS_NONE || head_ts <= newest_ms || g->view.edge_head + 1 >= g->view.edge_tail ||
                vg_graph_edge_at(g, g->view.edge_head + 1)->ts_ms >= cutoff)
                break;
            g->stats.future_dropped++;
        }
        expire_head(g);
    }
}

void vg_graph_stats(const struct vg_graph *g, struct vg_graph_stats *out) {
    *out = g->stats;
    out->edges = g->view.edge_tail - g->view.edge_head;
    out->nodes = g->node_live;
    out->bytes = sizeof *g + sizeof *g->alert + (g->view.edge_mask + 1) * sizeof(struct vg_graph_edge) +
                 (g->view.string_mask + 1) + (g->table_mask + 1) * sizeof(struct node_slot) +
                 (uint64_t)g->node_cap * (sizeof(struct vg_graph_node) + VG_ID_MAX);
    for (int i = 0; i < VG_GRAPH_SCRATCH_SLOTS; i++) out->bytes += g->scratch_size[i];
}

/* ---- checkpoint support (engine/checkpoint.c) ------------------------------------------- */

#include "checkpoint_internal.h"

void vg_graph_foreach_edge(const struct vg_graph *g,
                           void (*fn)(void *opaque, const struct vg_graph_edge_rec *edge), void *opaque) {
    for (uint64_t i = g->view.edge_head; i < g->view.edge_tail; i++) {
        const struct vg_graph_edge *e = vg_graph_edge_at(g, i);
        struct vg_graph_edge_rec rec = {
            .ts_ms = e->ts_ms, .amount_micros = e->amount_micros, .seq = e->seq,
            .from = vg_graph_node_id(g, e->from), .to = vg_graph_node_id(g, e->to),
            .tx_id = vg_graph_edge_tx_id(g, e),
        };
        fn(opaque, &rec);
    }
}

int vg_graph_restore_edge(struct vg_graph *g, const struct vg_graph_edge_rec *edge) {
    if (edge->from.len == 0 || edge->from.len > VG_ID_MAX || edge->to.len == 0 || edge->to.len > VG_ID_MAX ||
        edge->tx_id.len > VG_ID_MAX)
        return VG_ERR_INVALID;
    struct vg_txn txn = {.seq = edge->seq, .ts_ms = edge->ts_ms, .amount_micros = edge->amount_micros,
                         .id_len = (uint8_t)edge->tx_id.len, .from_len = (uint8_t)edge->from.len,
                         .to_len = (uint8_t)edge->to.len};
    memcpy(txn.id, edge->tx_id.ptr, edge->tx_id.len);
    memcpy(txn.from, edge->from.ptr, edge->from.len);
    memcpy(txn.to, edge->to.ptr, edge->to.len);
    return edge_push(g, &txn, false) == UINT64_MAX ? VG_ERR_NOMEM : VG_OK;
}
