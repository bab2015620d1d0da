/* scatter_gather.c - rule `scatter_gather`: an origin spraying funds through intermediaries into one sink.
 * Definition and parameters: CONTRACT.md section 5; exact semantics: docs/RULES.md.
 *
 * Search, for a new forward m -> s at t (window W covers [t - W, t]): (1) walk s's
 * in-edges once and mark every sender k with its latest qualifying forward k -> s;
 * (2) each distinct sender o of a leg o -> m before t is a candidate origin: walk o's
 * out-edges and count the distinct marked k (k not in {o, s}) reached by a leg strictly
 * before k's latest forward. At min_intermediaries, alert about o and about s. Cheap
 * degree checks skip most triggers before any walk; each edge visited costs one unit of
 * engine.graph_budget, and a search that runs out is counted.
 *
 * Late transfers. A forward that arrives after a newer forward into the same sink is also
 * judged in the window ending at that newer one; a leg o -> m that arrives after m already
 * forwarded is judged, for origin o, in the window ending at that sink's newest forward.
 * When that finds nothing, the windows ending at the sink's forwards within
 * engine.allowed_lateness after the late transfer are judged too (search_late_windows).
 * Input in time order pays one list probe for each. */
#include <stddef.h>

#include "graph_internal.h"
#include "rules/rule_params.h"
#include "vigil/emit.h"

static const struct vg_param_def scatter_gather_params[] = {
    {VG_PARAM_COUNT, "min_intermediaries", "3", offsetof(struct vg_scatter_gather_params, min_intermediaries),
     "distinct intermediaries needed"},
    {VG_PARAM_MONEY, "min_amount", "1000", offsetof(struct vg_scatter_gather_params, min_amount_micros),
     "smallest leg"},
    {VG_PARAM_DURATION, "window", "7d", offsetof(struct vg_scatter_gather_params, window_ms),
     "first leg to last forward"},
    {0},
};

struct sg_search {
    struct vg_graph_ctx *ctx;
    struct vg_graph *g;
    const struct vg_scatter_gather_params *p;
    uint32_t sink, mark_fwd, mark_mid;
    int64_t t, t_low, disorder;
};

/* Marks (mark_a, t_a = latest forward) the senders of qualifying forwards into the sink.
 * Returns how many distinct senders, or -1 when the budget ran out. */
static int64_t mark_forwarders(struct sg_search *s) {
    struct vg_graph *g = s->g;
    int64_t distinct = 0;
    for (uint64_t idx = vg_graph_node_at(g, s->sink)->in_newest; vg_graph_edge_live(g, idx);) {
        if (!vg_graph_charge(s->ctx)) return -1;
        const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
        if (e->ts_ms > s->t) {   /* newer than a late trigger: passed over with the jumps */
            idx = vg_graph_skip(g, e, idx, 1, s->t + 1);
            continue;
        }
        idx = vg_graph_prev(e, idx, 1);
        if (e->ts_ms + s->disorder < s->t_low) break;
        if (e->ts_ms < s->t_low || e->amount_micros < s->p->min_amount_micros) continue;
        struct vg_graph_node *k = vg_graph_node_at(g, e->from);
        if (k->mark_a != s->mark_fwd) {
            k->mark_a = s->mark_fwd;
            k->t_a = e->ts_ms;
            distinct++;
        } else if (e->ts_ms > k->t_a) {
            k->t_a = e->ts_ms;
        }
    }
    return distinct;
}

/* Is e a leg of origin `o` into a marked intermediary before that one's latest forward? */
static inline bool is_leg(const struct sg_search *s, const struct vg_graph_edge *e) {
    if (e->ts_ms >= s->t || e->ts_ms < s->t_low || e->amount_micros < s->p->min_amount_micros ||
        e->to == s->sink)
        return false;
    const struct vg_graph_node *k = vg_graph_node_at(s->g, e->to);
    return k->mark_a == s->mark_fwd && e->ts_ms < k->t_a;
}

/* Counts origin o's distinct intermediaries (mark_c = mark_mid, t_b = earliest leg) into
 * list. Returns the count, or -1 when the budget ran out. */
static int64_t count_intermediaries(struct sg_search *s, uint32_t o, uint32_t *list) {
    struct vg_graph *g = s->g;
    int64_t n = 0;
    for (uint64_t idx = vg_graph_node_at(g, o)->out_newest; vg_graph_edge_live(g, idx);) {
        if (!vg_graph_charge(s->ctx)) return -1;
        const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
        idx = vg_graph_prev(e, idx, 0);
        if (e->ts_ms + s->disorder < s->t_low) break;
        if (!is_leg(s, e)) continue;
        struct vg_graph_node *k = vg_graph_node_at(g, e->to);
        if (k->mark_c != s->mark_mid) {
            k->mark_c = s->mark_mid;
            k->t_b = e->ts_ms;
            list[n++] = e->to;
        } else if (e->ts_ms < k->t_b) {
            k->t_b = e->ts_ms;
        }
    }
    return n;
}

/* Gathers the evidence of origin o (legs, then forwards after each one's earliest leg),
 * fills one alert about o and one about the sink, and emits both. */
static void fire(struct sg_search *s, uint32_t o, const uint32_t *list, int64_t n, struct vg_alert_out *out) {
    struct vg_graph *g = s->g;
    const struct vg_graph_node *origin = vg_graph_node_at(g, o), *sink = vg_graph_node_at(g, s->sink);
    uint64_t *evidence = vg_graph_scratch(g, 2, ((size_t)origin->n_out + sink->n_in) * sizeof(uint64_t));
    if (!evidence) {
        s->ctx->cut = true;   /* no memory for the evidence: counted, never silent */
        return;
    }
    size_t n_evidence = 0;
    int64_t legs = 0, forwarded = 0, start = s->t, end = s->t_low;
    for (uint64_t idx = origin->out_newest; vg_graph_edge_live(g, idx);) {
        const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
        uint64_t here = idx;
        idx = vg_graph_prev(e, idx, 0);
        if (e->ts_ms + s->disorder < s->t_low) break;
        if (!is_leg(s, e) || vg_graph_node_at(g, e->to)->mark_c != s->mark_mid) continue;
        evidence[n_evidence++] = here;
        legs += e->amount_micros;
        start = VG_MIN(start, e->ts_ms);
    }
    for (uint64_t idx = sink->in_newest; vg_graph_edge_live(g, idx);) {
        const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
        uint64_t here = idx;
        idx = vg_graph_prev(e, idx, 1);
        if (e->ts_ms + s->disorder < s->t_low) break;
        if (e->ts_ms > s->t || e->ts_ms < s->t_low || e->amount_micros < s->p->min_amount_micros) continue;
        const struct vg_graph_node *k = vg_graph_node_at(g, e->from);
        if (k->mark_c != s->mark_mid || e->ts_ms <= k->t_b) continue;
        evidence[n_evidence++] = here;
        forwarded += e->amount_micros;
        end = VG_MAX(end, e->ts_ms);
    }

    struct vg_alert *a = s->ctx->alert;
    for (int about_sink = 0; about_sink < 2; about_sink++) {
        struct vg_str account = vg_graph_node_id(g, about_sink ? s->sink : o);
        struct vg_str other = vg_graph_node_id(g, about_sink ? o : s->sink);
        vg_alert_init(a, VG_RULE_SCATTER_GATHER, account.ptr, account.len, s->ctx->txn);
        vg_graph_alert_add_edges(g, a, evidence, n_evidence);
        for (int64_t i = 0; i < n; i++) {
            struct vg_str id = vg_graph_node_id(g, list[i]);
            vg_alert_add_account(a, id.ptr, id.len);
        }
        vg_alert_add_account(a, other.ptr, other.len);
        a->window_start_ms = start;
        a->window_end_ms = end;
        vg_alert_add_metric(a, "intermediaries", VG_METRIC_COUNT, n);
        vg_alert_add_metric(a, "total_in_legs", VG_METRIC_MONEY, legs);
        vg_alert_add_metric(a, "total_forwarded", VG_METRIC_MONEY, forwarded);
        a->score = vg_score_strength((double)n, (double)VG_MAX(s->p->min_intermediaries, 1));
        vg_alert_emit(out, a);
    }
}

/* Newest forward >= min_amount into `sink` with ts in (t, t + window], or t when none: the
 * end of the window a late transfer at t completes. Walks the sink's newest entries only
 * while they may still be newer than t (one entry for input in time order). */
static int64_t newest_forward_after(const struct vg_graph *g, uint32_t sink, int64_t t,
                                    const struct vg_scatter_gather_params *p, uint32_t limit) {
    int64_t disorder = vg_graph_disorder_ms(g), newest = t;
    for (uint64_t idx = vg_graph_node_at((struct vg_graph *)g, sink)->in_newest; vg_graph_edge_live(g, idx) && limit--;) {
        const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
        if (e->ts_ms > newest && e->ts_ms - t <= p->window_ms && e->amount_micros >= p->min_amount_micros)
            newest = e->ts_ms;
        if (e->ts_ms + disorder <= t) break;
        idx = vg_graph_prev(e, idx, 1);
    }
    return newest;
}

/* Searches the window [end - window, end] for origins sending through >= min_intermediaries
 * accounts into `sink`: the senders of legs into m (or only `origin` when it is not
 * VG_GRAPH_NONE). Fires for each origin found; returns true when one was. */
static bool search(struct vg_graph_ctx *ctx, const struct vg_scatter_gather_params *p, uint32_t m_node,
                   uint32_t sink_node, uint32_t origin, int64_t end, struct vg_alert_out *out) {
    const struct vg_txn *txn = ctx->txn;
    struct vg_graph *g = ctx->g;
    int64_t need = VG_MAX(p->min_intermediaries, 1);
    const struct vg_graph_node *m = vg_graph_node_at(g, m_node), *sink = vg_graph_node_at(g, sink_node);
    if (m->n_in == 0 || (int64_t)sink->n_in < need) return false;   /* no leg, or too few forwards */
    struct vg_str sink_id = vg_graph_node_id(g, sink_node);
    bool sink_cooling = vg_alert_out_cooling(out, VG_RULE_SCATTER_GATHER, sink_id.ptr, sink_id.len, txn->ts_ms);
    bool fired = false;

    vg_graph_search_begin(ctx);
    struct sg_search s = {
        .ctx = ctx,
        .g = g,
        .p = p,
        .sink = sink_node,
        .t = end,
        .t_low = end < INT64_MIN + p->window_ms ? INT64_MIN : end - p->window_ms,
        .disorder = vg_graph_disorder_ms(g),
    };
    s.mark_fwd = vg_graph_new_mark(g);
    uint32_t mark_origin = vg_graph_new_mark(g);
    if (mark_forwarders(&s) < need) goto done;

    for (uint64_t idx = m->in_newest; vg_graph_edge_live(g, idx);) {
        if (!vg_graph_charge(ctx)) break;
        const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
        if (e->ts_ms >= s.t) {
            idx = vg_graph_skip(g, e, idx, 1, s.t);
            continue;
        }
        idx = vg_graph_prev(e, idx, 1);
        if (e->ts_ms + s.disorder < s.t_low) break;
        if (e->ts_ms < s.t_low || e->amount_micros < p->min_amount_micros || e->from == s.sink) continue;
        if (origin != VG_GRAPH_NONE && e->from != origin) continue;
        struct vg_graph_node *o = vg_graph_node_at(g, e->from);
        if (o->mark_b == mark_origin) continue;
        o->mark_b = mark_origin;
        if ((int64_t)o->n_out < need) continue;
        struct vg_str origin_id = vg_graph_node_id(g, e->from);
        if (sink_cooling &&
            vg_alert_out_cooling(out, VG_RULE_SCATTER_GATHER, origin_id.ptr, origin_id.len, txn->ts_ms))
            continue;
        /* Intermediaries of o: at most one per out-edge. */
        uint32_t *list = vg_graph_scratch(g, 0, ((size_t)o->n_out + 1) * sizeof *list);
        if (!list) {
            ctx->cut = true;   /* no memory for the search: counted, never silent */
            break;
        }
        s.mark_mid = vg_graph_new_mark(g);
        int64_t n = count_intermediaries(&s, e->from, list);
        if (n < 0) break;
        if (n >= need) {
            fire(&s, e->from, list, n, out);
            fired = true;
        }
    }
done:
    vg_graph_search_end(ctx);
    return fired;
}

/* Sinks a late leg o -> m can still feed: m's forwards in (t, t + window], at most this many. */
#define SG_LATE_SINKS 16
/* Windows judged for a late transfer besides the newest one, at most this many per sink. */
#define SG_LATE_WINDOWS 16

/* A late transfer at t also completes windows ending at the sink's other forwards after it.
 * Judges, newest first until one fires, those ending at a forward >= min_amount in
 * (t, t + allowed_lateness] before `newest` (the end already judged): a transfer that late
 * is placed in all its windows (contract section 6). More than SG_LATE_WINDOWS distinct
 * ends (a sink flooded within the lateness): the newest ones are judged and the rest is
 * counted as a budget cut. Returns true when an alert was emitted. */
static bool search_late_windows(struct vg_graph_ctx *ctx, const struct vg_scatter_gather_params *p, uint32_t m_node,
                                uint32_t sink_node, uint32_t origin, int64_t t, int64_t newest,
                                struct vg_alert_out *out) {
    struct vg_graph *g = ctx->g;
    int64_t lateness = ctx->cfg->engine.allowed_lateness_ms > 0 ? ctx->cfg->engine.allowed_lateness_ms : 0;
    int64_t near = VG_MIN(newest - 1, t > INT64_MAX - lateness ? INT64_MAX : t + lateness);
    if (near <= t) return false;
    int64_t ends[SG_LATE_WINDOWS];   /* distinct, newest first */
    uint32_t n = 0, limit = ctx->cfg->engine.graph_budget;
    bool more = false;
    int64_t disorder = vg_graph_disorder_ms(g);
    for (uint64_t idx = vg_graph_node_at(g, sink_node)->in_newest; vg_graph_edge_live(g, idx) && limit--;) {
        const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
        int64_t ts = e->ts_ms;
        if (ts > t && ts <= near && e->amount_micros >= p->min_amount_micros) {
            uint32_t k = 0;
            while (k < n && ends[k] > ts) k++;
            if (k == n || ends[k] != ts) {
                if (n == SG_LATE_WINDOWS) more = true;
                if (k < SG_LATE_WINDOWS) {
                    uint32_t last = n < SG_LATE_WINDOWS ? n : SG_LATE_WINDOWS - 1;
                    for (uint32_t j = last; j > k; j--) ends[j] = ends[j - 1];
                    ends[k] = ts;
                    if (n < SG_LATE_WINDOWS) n++;
                }
            }
        }
        if (ts + disorder <= t) break;
        idx = vg_graph_prev(e, idx, 1);
    }
    if (more) {   /* counted, never silent */
        vg_graph_search_begin(ctx);
        ctx->cut = true;
        vg_graph_search_end(ctx);
    }
    for (uint32_t k = 0; k < n; k++)
        if (search(ctx, p, m_node, sink_node, origin, ends[k], out)) return true;
    return false;
}

static void scatter_gather_on_edge(struct vg_graph_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_scatter_gather_params *p = params;
    const struct vg_txn *txn = ctx->txn;
    struct vg_graph *g = ctx->g;
    if (txn->amount_micros < p->min_amount_micros) return;
    int64_t t = txn->ts_ms;
    uint32_t limit = ctx->cfg->engine.graph_budget;
    if (t > INT64_MAX - p->window_ms) return;

    /* The new transfer as a forward m -> s: the window ending at it, and when it is late,
     * the window ending at the sink's newest forward that still contains it. */
    if (!search(ctx, p, ctx->from, ctx->to, VG_GRAPH_NONE, t, out)) {
        int64_t end = newest_forward_after(g, ctx->to, t, p, limit);
        if (end != t && !search(ctx, p, ctx->from, ctx->to, VG_GRAPH_NONE, end, out))
            search_late_windows(ctx, p, ctx->from, ctx->to, VG_GRAPH_NONE, t, end, out);
    }

    /* The new transfer as a late leg o -> m: m already forwarded after it. One window per
     * sink, ending at that sink's newest forward after the leg. */
    uint32_t sinks[SG_LATE_SINKS], n_sinks = 0;
    int64_t disorder = vg_graph_disorder_ms(g);
    for (uint64_t idx = vg_graph_node_at(g, ctx->to)->out_newest; vg_graph_edge_live(g, idx) && limit--;) {
        const struct vg_graph_edge *e = vg_graph_edge_at(g, idx);
        if (e->ts_ms > t && e->ts_ms - t <= p->window_ms && e->amount_micros >= p->min_amount_micros &&
            e->to != ctx->from && n_sinks < SG_LATE_SINKS) {
            bool known = false;
            for (uint32_t k = 0; k < n_sinks && !known; k++) known = sinks[k] == e->to;
            if (!known) sinks[n_sinks++] = e->to;
        }
        if (e->ts_ms + disorder <= t) break;
        idx = vg_graph_prev(e, idx, 0);
    }
    for (uint32_t k = 0; k < n_sinks; k++) {
        int64_t end = newest_forward_after(g, sinks[k], t, p, limit);
        if (!search(ctx, p, ctx->to, sinks[k], ctx->from, end, out))
            search_late_windows(ctx, p, ctx->to, sinks[k], ctx->from, t, end, out);
    }
}

static int64_t scatter_gather_lookback_ms(const void *params) {
    return ((const struct vg_scatter_gather_params *)params)->window_ms;
}

const struct vg_rule_def vg_rule_scatter_gather = {
    .name = "scatter_gather",
    .description = "An origin spraying funds through intermediaries into one sink",
    .stage = VG_STAGE_GRAPH,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_scatter_gather_params),
    .params = scatter_gather_params,
    .lookback_ms = scatter_gather_lookback_ms,
    .on_edge = scatter_gather_on_edge,
};
