/* cycle.c - rule `cycle`: money returning to its origin through a time-ordered ring.
 * Definition and parameters: CONTRACT.md section 5; exact semantics: docs/RULES.md.
 *
 * Search. When u -> o arrives at t, a ring exists iff the graph holds a temporal walk
 * o ~> u of at most H = max_hops - 1 transfers, each >= min_amount, with times strictly
 * increasing inside [t - window, t): any walk that repeats an account contains a loop
 * whose removal leaves a shorter walk with times still increasing, so a simple ring
 * follows (this is why no DFS over simple paths - exponential, cf. the path bundles of
 * 2SCENT, Kumar & Calders 2018, and the closing times of Blanusa et al. 2022 - is needed
 * for *existence*). Walks are found by a bidirectional, hop-layered label search:
 * forward from o keeping per account the earliest arrival (a label per improvement, so a
 * label at layer h is the best arrival over <= h hops), backward from u keeping the
 * latest departure; one more layer is expanded on the side whose frontier has the
 * smaller degree sum, until the depths sum to H. A forward label (i hops, arrival a) and a
 * backward label (j hops, departure d) meeting at one account with i + j <= H and a < d
 * give a walk; loops are cut, and the shortest ring (fewest hops) is reported. Each edge
 * looked at costs one unit of engine.graph_budget; a search that runs out is counted.
 *
 * Late transfers. A transfer x -> y at t that arrives after newer ones (within the
 * graph's reach, i.e. engine.allowed_lateness) may sit inside a ring whose closing
 * transfer is already in the graph: o ~> x -> y ~> o, times increasing, o ~> x before t
 * and y ~> o after it. When y has a qualifying out-transfer newer than t, the same label
 * search runs once more with its roots moved: forward from y (departures after t, up to
 * t + window, at least one hop), backward from x (arrivals before t, from t - window),
 * meeting at an origin o != y where the ring's last arrival minus its first departure is
 * <= window. The alert is about o, as if the ring had arrived in time order. It runs
 * whether or not the search above found a ring closing at y: that one is about y, this
 * one about another origin, and both have an alert due. */
#include <stddef.h>

#include "graph_internal.h"
#include "rules/rule_params.h"
#include "vigil/emit.h"

/* Prefetch hints for the list walks; -DVG_NO_PF builds without them (to measure). */
#ifndef VG_NO_PF
#define VG_PF(p) __builtin_prefetch(p)
#else
#define VG_PF(p) ((void)(p))
#endif
#define CYCLE_HOPS_LIMIT 16
/* Labels per side: one per edge visited (plus the root), so budget + 1 suffices; beyond
 * this cap (a budget in the millions) running out of labels counts as a budget cut. */
#define CYCLE_LABELS_MAX (1u << 20)
/* Origins a late transfer is searched for: one search each, each excluding those found. */
#define CYCLE_LATE_ORIGINS 4

static const struct vg_param_def cycle_params[] = {
    {VG_PARAM_COUNT, "max_hops", "6", offsetof(struct vg_cycle_params, max_hops),
     "longest ring (transfers) searched, 2..16"},
    {VG_PARAM_MONEY, "min_amount", "1000", offsetof(struct vg_cycle_params, min_amount_micros),
     "smallest transfer on a hop"},
    {VG_PARAM_DURATION, "window", "7d", offsetof(struct vg_cycle_params, window_ms),
     "first to last hop"},
    {0},
};

/* One improvement of an account's best arrival (forward) or departure (backward). */
struct cycle_label {
    int64_t t;            /* forward: arrival time; backward: departure time */
    uint64_t edge;        /* edge taken (forward: into node; backward: out of node) */
    uint32_t node;
    uint32_t parent;      /* label one hop closer to the root, VG_GRAPH_NONE at the root */
    uint32_t next_same;   /* older label of the same node and side */
    uint32_t hops;
};

struct cycle_search {
    struct vg_graph_ctx *ctx;
    struct vg_graph *g;
    uint32_t gen;
    uint32_t origin, closer;          /* o and u */
    int64_t t, t_low, min_amount;
    int64_t root_f, root_b;           /* forward root's arrival, backward root's departure */
    bool late;                        /* the late-transfer search (see the top) */
    int64_t window;                   /* late: last arrival - first departure <= window */
    uint32_t max_path;                /* H: hops of the path o ~> u */
    struct cycle_label *side[2];      /* 0 forward, 1 backward */
    uint32_t count[2];
    uint32_t capacity;                /* labels per side */
    uint32_t meet[2];                 /* meeting labels, VG_GRAPH_NONE until found */
    uint32_t found[CYCLE_LATE_ORIGINS];   /* late: origins already reported, not met again */
    uint32_t n_found;
};

static struct vg_graph_node *touch(struct cycle_search *s, uint32_t n) {
    struct vg_graph_node *node = vg_graph_node_at(s->g, n);
    if (node->mark_a != s->gen) {
        node->mark_a = s->gen;
        node->t_a = INT64_MAX;     /* best forward arrival */
        node->t_b = INT64_MIN;     /* best backward departure */
        node->head_f = node->head_b = VG_GRAPH_NONE;
    }
    return node;
}

static uint32_t push_label(struct cycle_search *s, int side, struct vg_graph_node *node, uint32_t n,
                           int64_t t, uint64_t edge, uint32_t parent, uint32_t hops) {
    uint32_t idx = s->count[side]++;
    uint32_t *head = side == 0 ? &node->head_f : &node->head_b;
    s->side[side][idx] = (struct cycle_label){t, edge, n, parent, *head, hops};
    *head = idx;
    if (side == 0) node->t_a = t; else node->t_b = t;
    /* Meet the other side's labels at this account. */
    const struct cycle_label *other = s->side[side ^ 1];
    for (uint32_t o = side == 0 ? node->head_b : node->head_f; o != VG_GRAPH_NONE; o = other[o].next_same) {
        int64_t arrival = side == 0 ? t : other[o].t, departure = side == 0 ? other[o].t : t;
        /* In time order the forward walk arrives where the backward one departs later;
         * in the late search the forward walk closes the ring that the backward one
         * opened at this account, within the window. */
        bool joins = s->late ? arrival - departure <= s->window : arrival < departure;
        /* Late: the ring must go on after y (forward hops >= 1); one that closes at y, the
         * new transfer its last hop, is the time-order search's. */
        if (s->late && (side == 0 ? hops : other[o].hops) == 0) joins = false;
        for (uint32_t k = 0; k < s->n_found && joins; k++) joins = s->found[k] != n;
        if (hops + other[o].hops <= s->max_path && joins) {
            s->meet[side] = idx;
            s->meet[side ^ 1] = o;
            return idx;
        }
    }
    return idx;
}

/* Expands the labels [lo, hi) of one side by one hop. Returns false when the budget ran out.
 *
 * A node's labels are expanded in push order, each with a strictly better time than the
 * last (labels are pushed only on improvement), and every label with a lower index has
 * been expanded before. Whatever an earlier expansion of the same node looked at can give
 * nothing now: its targets already hold a time at least as good (times only improve). So
 * forward, with arrival a after an earlier arrival a' (> a), only out-edges in (a, a'] can
 * push; backward, with departure d after d' (< d), only in-edges in [d', d). The newer
 * entries of the list before that range are passed over with the jump pointers, and the
 * walk stops below it as before (disorder_ms bounds what may still follow). The labels
 * pushed and their order are exactly those of a walk over the whole list. */
static bool expand(struct cycle_search *s, int side, uint32_t lo, uint32_t hi) {
    struct vg_graph *g = s->g;
    int64_t disorder = vg_graph_disorder_ms(g);
    const struct vg_graph_view *v = vg_graph_view(g);
    for (uint32_t i = lo; i < hi; i++) {
        struct cycle_label L = s->side[side][i];
        const struct vg_graph_node *x = vg_graph_node_at(g, L.node);
        /* Memory stalls dominate: start loading the next labels' nodes and newest edges. */
        if (i + 2 < hi) VG_PF(&v->nodes[s->side[side][i + 2].node]);
        if (i + 1 < hi) {
            const struct vg_graph_node *nx = &v->nodes[s->side[side][i + 1].node];
            VG_PF(&v->edges[(side == 0 ? nx->out_newest : nx->in_newest) & v->edge_mask]);
        }
        uint32_t earlier = L.next_same;
        /* Entries at or above `above` are passed over; the walk ends below `floor`. */
        int64_t above, floor;
        uint64_t idx;
        if (side == 0) {
            int64_t hi_t = earlier == VG_GRAPH_NONE ? s->t - 1 : VG_MIN(s->t - 1, s->side[0][earlier].t);
            above = hi_t + 1;
            floor = L.t;   /* departs after the arrival */
            idx = x->out_newest;
        } else {
            above = L.t;   /* arrives before the departure */
            floor = earlier == VG_GRAPH_NONE ? s->t_low : VG_MAX(s->t_low, s->side[1][earlier].t);
            idx = x->in_newest;
        }
        while (vg_graph_edge_live(g, idx)) {
            if (!vg_graph_charge(s->ctx)) return false;
            const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
            uint64_t here = idx;
            int64_t ts = e->ts_ms;
            if (ts >= above) {
                idx = vg_graph_skip(g, e, idx, side, above);
                continue;
            }
            idx = vg_graph_prev(e, idx, side);
            VG_PF(&v->edges[idx & v->edge_mask]);   /* overlaps the target node's miss */
            if (side == 0) {
                /* Forward: departs after arrival L.t (>= t_low - 1), before t. */
                if (ts + disorder <= floor) break;     /* no older entry departs late enough */
                if (ts <= floor || e->amount_micros < s->min_amount || e->to == s->origin) continue;
                struct vg_graph_node *y = touch(s, e->to);
                if (ts >= y->t_a) continue;
                if (s->count[0] == s->capacity) return !(s->ctx->cut = true);
                push_label(s, 0, y, e->to, ts, here, i, L.hops + 1);
            } else {
                /* Backward: arrives before departure L.t (<= t), at or after t_low. */
                if (ts + disorder < floor) break;
                if (ts < floor || e->amount_micros < s->min_amount || e->from == s->closer) continue;
                struct vg_graph_node *y = touch(s, e->from);
                if (ts <= y->t_b) continue;
                if (s->count[1] == s->capacity) return !(s->ctx->cut = true);
                push_label(s, 1, y, e->from, ts, here, i, L.hops + 1);
            }
            if (s->meet[0] != VG_GRAPH_NONE) return true;
        }
    }
    return true;
}

static uint64_t frontier_cost(const struct cycle_search *s, int side, uint32_t lo, uint32_t hi) {
    uint64_t cost = 0;
    for (uint32_t i = lo; i < hi; i++) {
        const struct vg_graph_node *n = vg_graph_node_at(s->g, s->side[side][i].node);
        cost += side == 0 ? n->n_out : n->n_in;
    }
    return cost;
}

/* Runs the search; on success fills the ring's edges (time order, the closing one last)
 * and its accounts (ring_nodes[0] = the origin) and returns the number of edges. */
static uint32_t find_ring(struct cycle_search *s, uint64_t new_edge, uint64_t *ring_edges, uint32_t *ring_nodes) {
    struct vg_graph_node *o = touch(s, s->origin), *u = touch(s, s->closer);
    s->meet[0] = s->meet[1] = VG_GRAPH_NONE;
    s->count[0] = s->count[1] = 0;
    push_label(s, 0, o, s->origin, s->root_f, 0, VG_GRAPH_NONE, 0);
    push_label(s, 1, u, s->closer, s->root_b, 0, VG_GRAPH_NONE, 0);
    /* In time order a path o ~> u meets itself at every account on it, so the depths need
     * only sum to H. The late search's two walks meet only at the origin, so each side
     * goes up to H deep (push_label still holds the hops of a meeting to H). */
    uint32_t lo[2] = {0, 0}, hi[2] = {1, 1}, depth[2] = {0, 0};
    while (s->meet[0] == VG_GRAPH_NONE &&
           (s->late ? depth[0] < s->max_path || depth[1] < s->max_path : depth[0] + depth[1] < s->max_path)) {
        bool empty0 = lo[0] == hi[0] || (s->late && depth[0] >= s->max_path);
        bool empty1 = lo[1] == hi[1] || (s->late && depth[1] >= s->max_path);
        if (empty0 && empty1) break;
        int side = empty0 ? 1
                   : empty1 ? 0
                   : frontier_cost(s, 0, lo[0], hi[0]) <= frontier_cost(s, 1, lo[1], hi[1]) ? 0 : 1;
        uint32_t start = s->count[side];
        if (!expand(s, side, lo[side], hi[side])) return 0;
        lo[side] = start;
        hi[side] = s->count[side];
        depth[side]++;
    }
    if (s->meet[0] == VG_GRAPH_NONE) return 0;

    /* The closed walk, in time order. In time order: forward labels back to o, backward
     * labels on to u, then the new transfer u -> o. Late: backward labels from the meeting
     * account on to x, the new transfer x -> y, then forward labels from y back to it. */
    uint64_t walk[2 * CYCLE_HOPS_LIMIT + 1];
    uint32_t nodes[2 * CYCLE_HOPS_LIMIT + 2];
    uint32_t k = 0, n_fwd = 0;
    for (uint32_t l = s->meet[0]; s->side[0][l].parent != VG_GRAPH_NONE; l = s->side[0][l].parent) n_fwd++;
    if (s->late) {
        for (uint32_t l = s->meet[1]; s->side[1][l].parent != VG_GRAPH_NONE; l = s->side[1][l].parent)
            walk[k++] = s->side[1][l].edge;
        walk[k++] = new_edge;
    }
    uint32_t i = k + n_fwd;
    for (uint32_t l = s->meet[0]; s->side[0][l].parent != VG_GRAPH_NONE; l = s->side[0][l].parent)
        walk[--i] = s->side[0][l].edge;
    k += n_fwd;
    if (!s->late) {
        for (uint32_t l = s->meet[1]; s->side[1][l].parent != VG_GRAPH_NONE; l = s->side[1][l].parent)
            walk[k++] = s->side[1][l].edge;
        walk[k++] = new_edge;
    }
    nodes[0] = vg_graph_edge_at(s->g, walk[0])->from;
    for (i = 0; i < k; i++) nodes[i + 1] = vg_graph_edge_at(s->g, walk[i])->to;

    /* Cut loops on the path before the closing transfer: from each account jump to its
     * last occurrence (times stay increasing), then close the ring. */
    uint32_t last = k - 1, n = 0;
    ring_nodes[0] = nodes[0];
    for (i = 0; i < last;) {
        uint32_t j = i;
        for (uint32_t q = last; q > i; q--) {
            if (nodes[q] == nodes[i]) { j = q; break; }
        }
        if (j == last) break;
        ring_edges[n++] = walk[j];
        i = j + 1;
        ring_nodes[n] = nodes[i];
    }
    ring_edges[n++] = walk[last];
    return n;
}

/* True when node y has an out-transfer >= min_amount in (t, t + window] - the late search
 * can only find a ring through such a transfer. Walks y's newest entries only while they
 * may still be newer than t (one entry for input in time order), at most `limit`. */
static bool has_later_out(const struct vg_graph *g, uint32_t y, int64_t t, int64_t window, int64_t min_amount,
                          uint32_t limit) {
    int64_t disorder = vg_graph_disorder_ms(g);
    for (uint64_t idx = vg_graph_node_at((struct vg_graph *)g, y)->out_newest; vg_graph_edge_live(g, idx) && limit--;) {
        const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
        if (e->ts_ms > t && e->ts_ms - t <= window && e->amount_micros >= min_amount) return true;
        if (e->ts_ms + disorder <= t) return false;
        idx = vg_graph_prev(e, idx, 0);
    }
    return false;
}

/* Fills and emits the alert for a ring of `hops` edges (time order) whose members[0] is the
 * origin. */
static void emit_ring(struct vg_graph_ctx *ctx, const struct vg_cycle_params *p, const uint64_t *ring,
                      const uint32_t *members, uint32_t hops, struct vg_alert_out *out) {
    struct vg_graph *g = ctx->g;
    const struct vg_txn *txn = ctx->txn;
    const struct vg_graph_edge *first = vg_graph_edge_at(g, ring[0]), *closing = vg_graph_edge_at(g, ring[hops - 1]);
    struct vg_str origin = vg_graph_node_id(g, members[0]);
    struct vg_alert *a = ctx->alert;
    vg_alert_init(a, VG_RULE_CYCLE, origin.ptr, origin.len, txn);
    int64_t total = 0, min_hop = INT64_MAX, max_hop = 0;
    for (uint32_t i = 0; i < hops; i++) {
        const struct vg_graph_edge *e = vg_graph_edge_at(g, ring[i]);
        struct vg_str id = vg_graph_edge_tx_id(g, e);
        vg_alert_add_tx(a, id.ptr, id.len);
        total += e->amount_micros;
        min_hop = VG_MIN(min_hop, e->amount_micros);
        max_hop = VG_MAX(max_hop, e->amount_micros);
    }
    /* The other ring members in ring order (the origin is the alert's own account). */
    for (uint32_t i = 1; i < hops; i++) {
        struct vg_str id = vg_graph_node_id(g, members[i]);
        vg_alert_add_account(a, id.ptr, id.len);
    }
    a->window_start_ms = first->ts_ms;
    a->window_end_ms = closing->ts_ms;
    vg_alert_add_metric(a, "hops", VG_METRIC_COUNT, hops);
    vg_alert_add_metric(a, "total", VG_METRIC_MONEY, total);
    vg_alert_add_metric(a, "min_hop", VG_METRIC_MONEY, min_hop);
    /* 0.5 at the bare threshold, growing with the money moved and with how evenly it
     * moved (laundering rings pass on nearly the whole amount at every hop). */
    double strength = vg_score_strength((double)total, (double)hops * (double)p->min_amount_micros);
    double evenness = (double)min_hop / (double)max_hop;
    a->score = 0.5 + 0.25 * (2.0 * strength - 1.0) + 0.25 * evenness;
    vg_alert_emit(out, a);
}

static void cycle_on_edge(struct vg_graph_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_cycle_params *p = params;
    const struct vg_txn *txn = ctx->txn;
    struct vg_graph *g = ctx->g;
    if (txn->amount_micros < p->min_amount_micros || p->max_hops < 2) return;
    uint32_t cap = (uint32_t)VG_MIN((uint64_t)ctx->cfg->engine.graph_budget + 2, CYCLE_LABELS_MAX);
    struct cycle_search s = {
        .ctx = ctx,
        .g = g,
        .min_amount = p->min_amount_micros,
        .window = p->window_ms,
        .max_path = (uint32_t)VG_MIN(p->max_hops, CYCLE_HOPS_LIMIT) - 1,
        .side = {vg_graph_scratch(g, 0, cap * sizeof(struct cycle_label)),
                 vg_graph_scratch(g, 1, cap * sizeof(struct cycle_label))},
        .capacity = cap,
    };
    uint64_t ring[CYCLE_HOPS_LIMIT];
    uint32_t members[CYCLE_HOPS_LIMIT + 1];
    uint32_t hops = 0;

    /* The new transfer u -> o closes a ring o ~> u, all earlier and within the window. */
    const struct vg_graph_node *o = vg_graph_node_at(g, ctx->to), *u = vg_graph_node_at(g, ctx->from);
    struct vg_str origin = vg_graph_node_id(g, ctx->to);
    if (o->n_out > 0 && u->n_in > 0 &&       /* else nothing can lead back */
        !vg_alert_out_cooling(out, VG_RULE_CYCLE, origin.ptr, origin.len, txn->ts_ms)) {
        vg_graph_search_begin(ctx);
        s.gen = vg_graph_new_mark(g);
        s.origin = ctx->to;
        s.closer = ctx->from;
        s.t = txn->ts_ms;
        s.t_low = txn->ts_ms < INT64_MIN + 1 + p->window_ms ? INT64_MIN + 1 : txn->ts_ms - p->window_ms;
        s.root_f = s.t_low - 1;
        s.root_b = s.t;
        if (s.side[0] && s.side[1])
            hops = find_ring(&s, ctx->edge, ring, members);
        else
            ctx->cut = true;   /* no memory for the search: counted, never silent */
        vg_graph_search_end(ctx);
        if (hops > 0) emit_ring(ctx, p, ring, members, hops, out);
    }

    /* A late transfer x -> y inside rings that close after it (see the top): other origins
     * than y, so judged even when the ring closing at y was found; one search per origin,
     * each excluding the origins found before, up to CYCLE_LATE_ORIGINS. */
    bool late = o->n_out > 0 && u->n_in > 0 && txn->ts_ms < INT64_MAX - p->window_ms - 1 &&
                txn->ts_ms > INT64_MIN + 1 + p->window_ms &&
                has_later_out(g, ctx->to, txn->ts_ms, p->window_ms, p->min_amount_micros, ctx->cfg->engine.graph_budget);
    for (s.n_found = 0; late && s.n_found < CYCLE_LATE_ORIGINS; s.found[s.n_found++] = members[0]) {
        hops = 0;
        vg_graph_search_begin(ctx);
        s.gen = vg_graph_new_mark(g);
        s.late = true;
        s.origin = ctx->to;      /* y: the forward root */
        s.closer = ctx->from;    /* x: the backward root */
        s.t = txn->ts_ms + p->window_ms + 1;
        s.t_low = txn->ts_ms - p->window_ms;
        s.root_f = s.root_b = txn->ts_ms;
        if (s.side[0] && s.side[1])
            hops = find_ring(&s, ctx->edge, ring, members);
        else
            ctx->cut = true;
        vg_graph_search_end(ctx);
        if (hops == 0) break;
        emit_ring(ctx, p, ring, members, hops, out);
    }
}

static int64_t cycle_lookback_ms(const void *params) {
    return ((const struct vg_cycle_params *)params)->window_ms;
}

const struct vg_rule_def vg_rule_cycle = {
    .name = "cycle",
    .description = "Money returning to its origin through a time-ordered ring",
    .stage = VG_STAGE_GRAPH,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_cycle_params),
    .params = cycle_params,
    .lookback_ms = cycle_lookback_ms,
    .on_edge = cycle_on_edge,
};
