/* test_rule_cycle.c - rule `cycle` through the graph stage: rings of 2..max_hops transfers
 * in strictly increasing time within the window are found; rings that break the time
 * order, the window, the amount or the hop limit are not; budget cuts are counted. */
#include <stdlib.h>

#include "test_graph_support.h"

static struct gt_fixture F;

static void name(char *buf, size_t cap, const char *prefix, int i) {
    snprintf(buf, cap, "%s%d", prefix, i);
}

/* A ring A0 -> A1 -> ... -> A(n-1) -> A0, one hop per hour from T0, 5000 each. */
static void ring(struct gt_fixture *f, const char *prefix, int n, int64_t start_ms, int64_t step_ms) {
    char from[32], to[32], id[48];
    for (int i = 0; i < n; i++) {
        name(from, sizeof from, prefix, i);
        name(to, sizeof to, prefix, (i + 1) % n);
        snprintf(id, sizeof id, "%s-tx%d", prefix, i);
        gt_tx(f, id, from, to, start_ms + i * step_ms, UNITS(5000));
    }
}

Test(cycle, rings_of_every_length_up_to_max_hops) {
    for (int n = 2; n <= 6; n++) {
        gt_init(&F, VG_RULE_CYCLE);
        gt_start(&F);
        ring(&F, "A", n, T0, HOUR);
        cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 1, "ring of %d", n);
        const struct gt_alert *a = gt_find(&F, VG_RULE_CYCLE, "A0");
        cr_assert_not_null(a, "alert about the origin A0 (ring of %d)", n);
        /* accounts: the other members, in ring order after the origin. */
        cr_assert_eq(a->n_accounts, (size_t)n - 1);
        for (int i = 1; i < n; i++) {
            char want[32];
            name(want, sizeof want, "A", i);
            cr_assert_str_eq(a->accounts[i - 1], want, "ring order");
        }
        cr_assert_eq(a->n_tx_ids, (size_t)n);
        for (int i = 0; i < n; i++) {
            char want[48];
            snprintf(want, sizeof want, "A-tx%d", i);
            cr_assert_str_eq(a->tx_ids[i], want, "time order");
        }
        cr_assert_eq(gt_metric(a, "hops"), n);
        cr_assert_eq(gt_metric(a, "total"), UNITS(5000) * n);
        cr_assert_eq(gt_metric(a, "min_hop"), UNITS(5000));
        cr_assert_eq(a->window_start_ms, T0);
        cr_assert_eq(a->window_end_ms, T0 + (n - 1) * HOUR);
        cr_assert(a->score >= 0.5 && a->score <= 1.0);
        gt_fini(&F);
    }
}

Test(cycle, seven_hops_need_max_hops_seven) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    ring(&F, "B", 7, T0, HOUR);
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0, "7 transfers > max_hops 6");
    gt_fini(&F);

    gt_init(&F, VG_RULE_CYCLE);
    gt_cycle(&F)->max_hops = 7;
    gt_start(&F);
    ring(&F, "B", 7, T0, HOUR);
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "B0"), 1);
    cr_assert_eq(gt_metric(gt_find(&F, VG_RULE_CYCLE, "B0"), "hops"), 7);
    gt_fini(&F);
}

Test(cycle, ring_out_of_time_order_is_not_a_cycle) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    /* B -> C happened before A -> B: money cannot have travelled A -> B -> C -> A. */
    gt_tx(&F, "t1", "B", "C", T0 + 1 * HOUR, UNITS(5000));
    gt_tx(&F, "t2", "A", "B", T0 + 2 * HOUR, UNITS(5000));
    gt_tx(&F, "t3", "C", "A", T0 + 3 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0);
    gt_fini(&F);
}

/* A transfer that arrives after the ring's closing one still completes the ring: arrival
 * order is not event time (engine.allowed_lateness). The alert is about the ring's origin,
 * with the ring's own time span. */
Test(cycle, late_transfer_inside_a_ring_completes_it) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    /* Q -> P at 4h, P -> Q at 5h: the first hop arrives last. */
    gt_tx(&F, "t4", "P", "Q", T0 + 5 * HOUR, UNITS(5000));
    gt_tx(&F, "t5", "Q", "P", T0 + 4 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 1);
    const struct gt_alert *q = gt_find(&F, VG_RULE_CYCLE, "Q");
    cr_assert_not_null(q);
    cr_assert_eq(q->window_start_ms, T0 + 4 * HOUR);
    cr_assert_eq(q->window_end_ms, T0 + 5 * HOUR);
    cr_assert_eq(q->n_tx_ids, 2);
    cr_assert_str_eq(q->tx_ids[0], "t5");
    cr_assert_str_eq(q->tx_ids[1], "t4");
    gt_fini(&F);

    /* A -> B -> C -> A at 0, 1m, 2m; the middle hop arrives a minute late. */
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "a1", "A", "B", T0, UNITS(5000));
    gt_tx(&F, "a3", "C", "A", T0 + 2 * MINUTE, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0);
    gt_tx(&F, "a2", "B", "C", T0 + MINUTE, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "A"), 1);
    const struct gt_alert *a = gt_find(&F, VG_RULE_CYCLE, "A");
    cr_assert_not_null(a);
    cr_assert_eq(gt_metric(a, "hops"), 3);
    cr_assert(gt_has_account(a, "B") && gt_has_account(a, "C"));
    const char *want[] = {"a1", "a2", "a3"};
    for (int i = 0; i < 3; i++) cr_assert_str_eq(a->tx_ids[i], want[i]);
    cr_assert_eq(a->window_start_ms, T0);
    cr_assert_eq(a->window_end_ms, T0 + 2 * MINUTE);

    /* Still bounded: the late hop may not stretch a ring past max_hops or the window. */
    gt_tx(&F, "d1", "D", "E", T0, UNITS(5000));
    gt_tx(&F, "d3", "F", "D", T0 + 7 * DAY + 1, UNITS(5000));
    gt_tx(&F, "d2", "E", "F", T0 + HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "D"), 0);
    gt_fini(&F);
}

/* A late transfer X -> Y can close one ring (Y -> A -> X -> Y, about Y) and be the middle
 * hop of another (O -> X -> Y -> O, about O, closed by Y -> O which arrived before it): both
 * origins' money came back, so both alert. */
Test(cycle, late_transfer_closing_one_ring_and_inside_another_alerts_both_origins) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "y1", "Y", "A", T0, UNITS(5000));
    gt_tx(&F, "y2", "A", "X", T0 + HOUR, UNITS(5000));
    gt_tx(&F, "o1", "O", "X", T0 + 90 * MINUTE, UNITS(5000));
    gt_tx(&F, "o3", "Y", "O", T0 + 2 * HOUR + 2 * MINUTE, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0);
    gt_tx(&F, "xy", "X", "Y", T0 + 2 * HOUR, UNITS(5000));          /* 2m late */
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "Y"), 1);
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "O"), 1);
    const struct gt_alert *o = gt_find(&F, VG_RULE_CYCLE, "O");
    cr_assert_not_null(o);
    cr_assert_eq(gt_metric(o, "hops"), 3);
    cr_assert_eq(o->window_start_ms, T0 + 90 * MINUTE);
    cr_assert_eq(o->window_end_ms, T0 + 2 * HOUR + 2 * MINUTE);
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 2);
    gt_fini(&F);

    /* A late transfer in the middle of two rings with different origins: both alert. */
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "a", "P", "Q", T0, UNITS(5000));
    gt_tx(&F, "b", "R", "Q", T0 + 3 * MINUTE, UNITS(5000));
    gt_tx(&F, "c", "R", "P", T0 + 4 * MINUTE, UNITS(5000));
    gt_tx(&F, "d", "Q", "R", T0 + MINUTE, UNITS(5000));              /* 3m late */
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "Q"), 1, "Q -> R -> Q");
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "P"), 1, "P -> Q -> R -> P");
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 2);
    gt_fini(&F);

    /* ... and no more: with O -> X a micro-unit short there is only Y's ring. */
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "y1", "Y", "A", T0, UNITS(5000));
    gt_tx(&F, "y2", "A", "X", T0 + HOUR, UNITS(5000));
    gt_tx(&F, "o1", "O", "X", T0 + 90 * MINUTE, UNITS(1000) - 1);
    gt_tx(&F, "o3", "Y", "O", T0 + 2 * HOUR + 2 * MINUTE, UNITS(5000));
    gt_tx(&F, "xy", "X", "Y", T0 + 2 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "Y"), 1);
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 1);
    gt_fini(&F);
}

Test(cycle, equal_times_do_not_chain) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "t1", "A", "B", T0, UNITS(5000));
    gt_tx(&F, "t2", "B", "A", T0, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0);
    gt_tx(&F, "t3", "B", "A", T0 + 1, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "A"), 1);
    gt_fini(&F);
}

Test(cycle, ring_wider_than_window_is_not_found) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "t1", "A", "B", T0, UNITS(5000));
    gt_tx(&F, "t2", "B", "C", T0 + 4 * DAY, UNITS(5000));
    gt_tx(&F, "t3", "C", "A", T0 + 7 * DAY + 1, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0);
    gt_fini(&F);

    /* Exactly the window: first to last hop = 7d is inside. */
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "t1", "A", "B", T0, UNITS(5000));
    gt_tx(&F, "t2", "B", "C", T0 + 4 * DAY, UNITS(5000));
    gt_tx(&F, "t3", "C", "A", T0 + 7 * DAY, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "A"), 1);
    gt_fini(&F);
}

Test(cycle, hop_below_min_amount_breaks_the_ring) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "t1", "A", "B", T0, UNITS(5000));
    gt_tx(&F, "t2", "B", "C", T0 + HOUR, UNITS(1000) - 1);
    gt_tx(&F, "t3", "C", "A", T0 + 2 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0);
    /* The closing transfer below min_amount does not close anything either. */
    gt_tx(&F, "t4", "B", "C", T0 + 3 * HOUR, UNITS(1000));
    gt_tx(&F, "t5", "C", "A", T0 + 4 * HOUR, UNITS(1000) - 1);
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0);
    /* At min_amount exactly, it does. */
    gt_tx(&F, "t6", "C", "A", T0 + 5 * HOUR, UNITS(1000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "A"), 1);
    const struct gt_alert *a = gt_find(&F, VG_RULE_CYCLE, "A");
    cr_assert_eq(gt_metric(a, "min_hop"), UNITS(1000));
    cr_assert_eq(gt_metric(a, "total"), UNITS(7000));
    gt_fini(&F);
}

Test(cycle, params_take_effect) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_cycle(&F)->min_amount_micros = UNITS(6000);
    gt_start(&F);
    ring(&F, "A", 3, T0, HOUR);
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0, "5000 < min_amount 6000");
    gt_fini(&F);

    gt_init(&F, VG_RULE_CYCLE);
    gt_cycle(&F)->window_ms = HOUR;
    gt_start(&F);
    ring(&F, "A", 3, T0, HOUR);
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0, "2h ring, 1h window");
    ring(&F, "C", 3, T0 + 3 * HOUR, 30 * MINUTE);
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "C0"), 1);
    gt_fini(&F);
}

Test(cycle, reported_ring_repeats_no_account) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    /* o -> x -> o -> u then u -> o: the only ring is o -> u -> o. */
    gt_tx(&F, "t1", "O", "X", T0, UNITS(5000));
    gt_tx(&F, "t2", "X", "O", T0 + HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "O"), 1);   /* O -> X -> O itself */
    gt_tx(&F, "t3", "O", "U", T0 + 2 * HOUR, UNITS(5000));
    gt_tx(&F, "t4", "U", "O", T0 + 3 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "O"), 1, "cooldown");
    gt_fini(&F);

    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "t1", "X", "O", T0, UNITS(5000));       /* not part of any ring at its time */
    gt_tx(&F, "t2", "O", "X", T0 + HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 1);  /* X -> O -> X about X */
    gt_tx(&F, "t3", "X", "Y", T0 + 2 * HOUR, UNITS(5000));
    gt_tx(&F, "t4", "Y", "O", T0 + 3 * HOUR, UNITS(5000));
    const struct gt_alert *a = gt_find(&F, VG_RULE_CYCLE, "O");
    cr_assert_not_null(a, "O -> X -> Y -> O");
    cr_assert_eq(a->n_accounts, 2);
    cr_assert_str_eq(a->accounts[0], "X");
    cr_assert_str_eq(a->accounts[1], "Y");
    cr_assert_str_eq(a->tx_ids[0], "t2");
    cr_assert_str_eq(a->tx_ids[1], "t3");
    cr_assert_str_eq(a->tx_ids[2], "t4");
    gt_fini(&F);
}

Test(cycle, budget_cut_is_counted) {
    gt_init(&F, VG_RULE_CYCLE);
    F.cfg.engine.graph_budget = 10;
    gt_start(&F);
    /* The origin fans out to 40 accounts, the closer receives from 40: both sides are
     * too wide for a budget of 10. */
    char acct[32], id[32];
    for (int i = 0; i < 40; i++) {
        snprintf(acct, sizeof acct, "F%d", i);
        snprintf(id, sizeof id, "f%d", i);
        gt_tx(&F, id, "O", acct, T0 + i, UNITS(2000));
        snprintf(acct, sizeof acct, "G%d", i);
        snprintf(id, sizeof id, "g%d", i);
        gt_tx(&F, id, acct, "U", T0 + i, UNITS(2000));
    }
    gt_tx(&F, "r1", "O", "M", T0 + HOUR, UNITS(5000));
    gt_tx(&F, "r2", "M", "U", T0 + 2 * HOUR, UNITS(5000));
    struct vg_graph_stats before = gt_stats(&F);
    gt_tx(&F, "r3", "U", "O", T0 + 3 * HOUR, UNITS(5000));
    struct vg_graph_stats after = gt_stats(&F);
    cr_assert_eq(after.budget_cut, before.budget_cut + 1);
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0);
    gt_fini(&F);

    /* The default budget finds it. */
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    for (int i = 0; i < 40; i++) {
        snprintf(acct, sizeof acct, "F%d", i);
        snprintf(id, sizeof id, "f%d", i);
        gt_tx(&F, id, "O", acct, T0 + i, UNITS(2000));
        snprintf(acct, sizeof acct, "G%d", i);
        snprintf(id, sizeof id, "g%d", i);
        gt_tx(&F, id, acct, "U", T0 + i, UNITS(2000));
    }
    gt_tx(&F, "r1", "O", "M", T0 + HOUR, UNITS(5000));
    gt_tx(&F, "r2", "M", "U", T0 + 2 * HOUR, UNITS(5000));
    gt_tx(&F, "r3", "U", "O", T0 + 3 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "O"), 1);
    cr_assert_eq(gt_stats(&F).budget_cut, 0);
    gt_fini(&F);
}

Test(cycle, late_transfer_does_not_hide_a_ring) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_cycle(&F)->max_hops = 3;
    gt_start(&F);
    /* U receives from many, so the search goes forward from O through X, whose newest
     * out-edge (by arrival) is a late one, older than the X -> U hop behind it. */
    char acct[32], id[32];
    for (int i = 0; i < 6; i++) {
        snprintf(acct, sizeof acct, "S%d", i);
        snprintf(id, sizeof id, "s%d", i);
        gt_tx(&F, id, acct, "U", T0 + i, UNITS(2000));
    }
    gt_tx(&F, "t1", "O", "X", T0 + 10 * HOUR, UNITS(5000));
    gt_tx(&F, "t2", "X", "U", T0 + 12 * HOUR, UNITS(5000));
    gt_tx(&F, "late", "X", "Q", T0 + 2 * HOUR, UNITS(5000));
    gt_tx(&F, "t3", "U", "O", T0 + 13 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "O"), 1);
    gt_fini(&F);
}

Test(cycle, late_closing_transfer_is_still_evaluated) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "t1", "A", "B", T0, UNITS(5000));
    gt_tx(&F, "t2", "B", "C", T0 + HOUR, UNITS(5000));
    gt_tx(&F, "other", "X", "Y", T0 + 10 * HOUR, UNITS(5000));
    gt_tx(&F, "t3", "C", "A", T0 + 2 * HOUR, UNITS(5000));   /* 8h late */
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "A"), 1);
    gt_fini(&F);
}

/* ---- differential check against the literal definition ------------------------------ */

static const struct gt_edge *bf_edges;
static int bf_n, bf_max_path, bf_origin, bf_closer;
static int64_t bf_t, bf_low, bf_min;
static bool bf_on_path[16];

/* Is there a simple path node ~> closer with strictly increasing times after `after`? */
static bool bf_dfs(int node, int64_t after, int depth) {
    if (node == bf_closer) return depth >= 1;
    if (depth == bf_max_path) return false;
    for (int i = 0; i < bf_n; i++) {
        const struct gt_edge *e = &bf_edges[i];
        if (e->from != node || e->ts_ms <= after || e->ts_ms >= bf_t || e->ts_ms < bf_low ||
            e->amount_micros < bf_min || bf_on_path[e->to])
            continue;
        bf_on_path[e->to] = true;
        bool found = bf_dfs(e->to, e->ts_ms, depth + 1);
        bf_on_path[e->to] = false;
        if (found) return true;
    }
    return false;
}

/* Late transfers: is there a ring through transfer `bf_i` (x -> y at t) among transfers
 * 0..bf_i, not necessarily closed by it? Forward from y (times after t), then backward from x
 * (times before t) to the account z the forward walk reached; no account twice. */
static int bf_i, bf_max_hops;
static int64_t bf_window;

static bool bf_back(int node, int64_t before, int hops, int z, int64_t arrival) {
    if (node == z) return hops + 1 >= 2 && arrival - before <= bf_window;
    if (hops + 1 >= bf_max_hops) return false;
    for (int i = 0; i < bf_i; i++) {
        const struct gt_edge *e = &bf_edges[i];
        if (e->to != node || e->ts_ms >= before || e->amount_micros < bf_min || arrival - e->ts_ms > bf_window ||
            (bf_on_path[e->from] && e->from != z))
            continue;
        bf_on_path[e->from] = true;
        bool found = bf_back(e->from, e->ts_ms, hops + 1, z, arrival);
        if (e->from != z) bf_on_path[e->from] = false;
        if (found) return true;
    }
    return false;
}

static bool bf_fwd(int node, int64_t after, int hops) {
    const struct gt_edge *t = &bf_edges[bf_i];
    /* close here: node is the origin z, reached at `after` (t itself when hops == 0) */
    bool z_on_back = bf_on_path[node];
    if (node == t->from) return hops >= 1 && after - t->ts_ms <= bf_window;   /* z = x */
    {
        bf_on_path[node] = false;   /* the backward walk must end at z */
        bool found = bf_back(t->from, t->ts_ms, hops, node, after);
        bf_on_path[node] = z_on_back;
        if (found) return true;
    }
    if (hops + 2 >= bf_max_hops + 1) return false;
    for (int i = 0; i < bf_i; i++) {
        const struct gt_edge *e = &bf_edges[i];
        if (e->from != node || e->ts_ms <= after || e->amount_micros < bf_min || e->ts_ms - t->ts_ms > bf_window ||
            (bf_on_path[e->to] && e->to != t->from))
            continue;
        bool was = bf_on_path[e->to];
        bf_on_path[e->to] = true;
        bool found = bf_fwd(e->to, e->ts_ms, hops + 1);
        bf_on_path[e->to] = was;
        if (found) return true;
    }
    return false;
}

/* Does the alert's evidence form a valid ring about its account (time order, window,
 * amounts, hop limit, no account twice)? */
static bool bf_valid_ring(const struct gt_alert *a, const struct gt_edge *edges, int max_hops, int64_t window) {
    size_t n = a->n_tx_ids;
    if (n < 2 || (int)n > max_hops) return false;
    int origin = atoi(a->account + 1);
    bool seen[16] = {0};
    int at = origin;
    int64_t prev = INT64_MIN, first = 0;
    for (size_t k = 0; k < n; k++) {
        const struct gt_edge *e = &edges[atoi(a->tx_ids[k] + 1)];
        if (e->from != at || seen[at] || e->ts_ms <= prev || e->amount_micros < UNITS(1000)) return false;
        if (k == 0) first = e->ts_ms;
        seen[at] = true;
        at = e->to;
        prev = e->ts_ms;
    }
    return at == origin && prev - first <= window;
}

Test(cycle, matches_brute_force_on_random_graphs) {
    enum { N_EDGES = 80, N_ACCOUNTS = 7 };
    struct gt_edge edges[N_EDGES];
    int fired_total = 0, late_only = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        int max_hops = 2 + (int)(seed % 5);
        gt_random_edges(seed, edges, N_EDGES, N_ACCOUNTS);
        gt_init(&F, VG_RULE_CYCLE);
        gt_cycle(&F)->max_hops = max_hops;
        gt_cycle(&F)->window_ms = 12 * HOUR;
        F.cfg.engine.allowed_lateness_ms = 5 * HOUR;   /* no needed edge ever expires */
        F.cfg.alerts.cooldown_ms = -1000 * DAY;        /* judge every trigger */
        gt_start(&F);
        for (int i = 0; i < N_EDGES; i++) {
            char id[16], from[8], to[8];
            snprintf(id, sizeof id, "t%d", i);
            snprintf(from, sizeof from, "a%d", edges[i].from);
            snprintf(to, sizeof to, "a%d", edges[i].to);
            F.n_alerts = 0;   /* judge this transfer alone */
            size_t before = F.n_alerts;
            gt_tx(&F, id, from, to, edges[i].ts_ms, edges[i].amount_micros);
            bool fired = F.n_alerts > before;

            bf_edges = edges;
            bf_n = i;   /* the transfers before this one */
            bf_max_path = max_hops - 1;
            bf_origin = edges[i].to;
            bf_closer = edges[i].from;
            bf_t = edges[i].ts_ms;
            bf_low = bf_t - 12 * HOUR;
            bf_min = UNITS(1000);
            memset(bf_on_path, 0, sizeof bf_on_path);
            bf_on_path[bf_origin] = true;
            bool closing = edges[i].amount_micros >= bf_min && bf_dfs(bf_origin, bf_low - 1, 0);
            /* or a ring through it that closes later (it arrived late) */
            bf_i = i;
            bf_max_hops = max_hops;
            bf_window = 12 * HOUR;
            memset(bf_on_path, 0, sizeof bf_on_path);
            bf_on_path[edges[i].from] = bf_on_path[edges[i].to] = true;
            bool through = edges[i].amount_micros >= bf_min && (closing || bf_fwd(edges[i].to, edges[i].ts_ms, 0));
            cr_assert(!through || fired, "seed %llu transfer %d (max_hops %d): a ring through it was missed",
                      (unsigned long long)seed, i, max_hops);
            if (fired) {
                /* The ring closing at it is reported first, about its receiver; a late
                 * transfer may add some about other origins whose rings it sits inside. */
                cr_assert_leq(F.n_alerts - before, 5);
                if (closing) {
                    cr_assert_str_eq(F.alerts[before].account, to);
                    cr_assert_geq(F.alerts[before].window_start_ms, bf_low);
                }
                for (size_t k = before; k < F.n_alerts; k++) {
                    const struct gt_alert *a = &F.alerts[k];
                    if (k > before) cr_assert_str_neq(a->account, to, "later alerts are about other origins");
                    for (size_t j = before; j < k; j++) cr_assert_str_neq(a->account, F.alerts[j].account);
                    /* Without a ring through it, only a ring that already existed (loops
                     * cut away its own hop) may be reported. */
                    cr_assert(bf_valid_ring(a, edges, max_hops, 12 * HOUR), "seed %llu transfer %d: invalid ring",
                              (unsigned long long)seed, i);
                    cr_assert_leq(gt_metric(a, "hops"), max_hops);
                    fired_total++;
                }
                late_only += !through;
            }
        }
        cr_assert_eq(gt_stats(&F).budget_cut, 0);
        gt_fini(&F);
    }
    cr_assert_gt(fired_total, 100, "the random graphs do contain rings");
    cr_log_info("cycle differential: %d alerts, %d on a late transfer with no ring through it", fired_total,
                late_only);
}
