/* test_rule_scatter_gather.c - rule `scatter_gather` through the graph stage: an origin's
 * legs to >= min_intermediaries accounts that each forward to one sink afterwards, within
 * the window, alert about the origin and the sink; fewer, misordered or too wide do not. */
#include <stdlib.h>

#include "test_graph_support.h"

static struct gt_fixture F;

/* Legs O -> M<i> at leg_ts[i], forwards M<i> -> S at fwd_ts[i] (legs first, in order). */
static void pattern(struct gt_fixture *f, int n, const int64_t *leg_ts, const int64_t *fwd_ts,
                    int64_t leg_amount, int64_t fwd_amount) {
    char m[32], id[32];
    for (int i = 0; i < n; i++) {
        snprintf(m, sizeof m, "M%d", i);
        snprintf(id, sizeof id, "leg%d", i);
        gt_tx(f, id, "O", m, leg_ts[i], leg_amount);
    }
    for (int i = 0; i < n; i++) {
        snprintf(m, sizeof m, "M%d", i);
        snprintf(id, sizeof id, "fwd%d", i);
        gt_tx(f, id, m, "S", fwd_ts[i], fwd_amount);
    }
}

Test(scatter_gather, three_intermediaries_alert_about_origin_and_sink) {
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    int64_t legs[] = {T0, T0 + HOUR, T0 + 2 * HOUR};
    int64_t fwds[] = {T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 5 * HOUR};
    pattern(&F, 2, legs, fwds, UNITS(5000), UNITS(4900));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0, "two intermediaries so far");
    gt_tx(&F, "leg2", "O", "M2", legs[2], UNITS(5000));
    gt_tx(&F, "fwd2", "M2", "S", fwds[2], UNITS(4900));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 2);

    const struct gt_alert *o = gt_find(&F, VG_RULE_SCATTER_GATHER, "O");
    const struct gt_alert *s = gt_find(&F, VG_RULE_SCATTER_GATHER, "S");
    cr_assert_not_null(o);
    cr_assert_not_null(s);
    const struct gt_alert *both[] = {o, s};
    for (int k = 0; k < 2; k++) {
        const struct gt_alert *a = both[k];
        cr_assert_eq(a->n_accounts, 4, "intermediaries and the other end");
        cr_assert(gt_has_account(a, "M0") && gt_has_account(a, "M1") && gt_has_account(a, "M2"));
        cr_assert(gt_has_account(a, k == 0 ? "S" : "O"));
        cr_assert_eq(a->n_tx_ids, 6);
        const char *want[] = {"leg0", "leg1", "leg2", "fwd0", "fwd1", "fwd2"};
        for (int i = 0; i < 6; i++) cr_assert_str_eq(a->tx_ids[i], want[i]);
        cr_assert_eq(gt_metric(a, "intermediaries"), 3);
        cr_assert_eq(gt_metric(a, "total_in_legs"), UNITS(15000));
        cr_assert_eq(gt_metric(a, "total_forwarded"), UNITS(14700));
        cr_assert_eq(a->window_start_ms, T0);
        cr_assert_eq(a->window_end_ms, T0 + 5 * HOUR);
        cr_assert(a->score >= 0.5 && a->score <= 1.0);
    }
    gt_fini(&F);
}

Test(scatter_gather, two_intermediaries_do_not) {
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    int64_t legs[] = {T0, T0 + HOUR};
    int64_t fwds[] = {T0 + 3 * HOUR, T0 + 4 * HOUR};
    pattern(&F, 2, legs, fwds, UNITS(5000), UNITS(5000));
    /* A second forward from the same intermediary adds no intermediary. */
    gt_tx(&F, "fwd1b", "M1", "S", T0 + 5 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    gt_fini(&F);
}

Test(scatter_gather, forwards_before_the_leg_do_not_count) {
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    /* M0 and M1 paid S before O paid them. */
    gt_tx(&F, "fwd0", "M0", "S", T0, UNITS(5000));
    gt_tx(&F, "fwd1", "M1", "S", T0 + HOUR, UNITS(5000));
    gt_tx(&F, "leg0", "O", "M0", T0 + 2 * HOUR, UNITS(5000));
    gt_tx(&F, "leg1", "O", "M1", T0 + 2 * HOUR, UNITS(5000));
    gt_tx(&F, "leg2", "O", "M2", T0 + 2 * HOUR, UNITS(5000));
    gt_tx(&F, "fwd2", "M2", "S", T0 + 3 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    /* Same time is not after either. */
    gt_tx(&F, "leg3", "O", "M3", T0 + 4 * HOUR, UNITS(5000));
    gt_tx(&F, "fwd3", "M3", "S", T0 + 4 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    /* A later forward from M0 counts (M0, M2), then one from M1 makes three. */
    gt_tx(&F, "fwd0b", "M0", "S", T0 + 5 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0, "M0, M2: two");
    gt_tx(&F, "fwd1b", "M1", "S", T0 + 6 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "O"), 1);
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "S"), 1);
    gt_fini(&F);
}

Test(scatter_gather, pattern_wider_than_window_does_not) {
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    int64_t legs[] = {T0, T0 + DAY, T0 + 2 * DAY};
    int64_t fwds[] = {T0 + 3 * DAY, T0 + 4 * DAY, T0 + 7 * DAY + 1};
    pattern(&F, 3, legs, fwds, UNITS(5000), UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    gt_fini(&F);

    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    fwds[2] = T0 + 7 * DAY;   /* first leg to last forward = window exactly */
    pattern(&F, 3, legs, fwds, UNITS(5000), UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 2);
    gt_fini(&F);
}

Test(scatter_gather, amounts_below_min_do_not_count) {
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    int64_t legs[] = {T0, T0 + HOUR, T0 + 2 * HOUR};
    int64_t fwds[] = {T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 5 * HOUR};
    pattern(&F, 3, legs, fwds, UNITS(1000) - 1, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0, "legs below min_amount");
    gt_fini(&F);

    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    pattern(&F, 3, legs, fwds, UNITS(5000), UNITS(1000) - 1);
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0, "forwards below min_amount");
    gt_fini(&F);
}

Test(scatter_gather, origin_equal_to_sink_does_not) {
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    char m[32], id[32];
    for (int i = 0; i < 4; i++) {
        snprintf(m, sizeof m, "M%d", i);
        snprintf(id, sizeof id, "leg%d", i);
        gt_tx(&F, id, "O", m, T0 + i, UNITS(5000));
    }
    for (int i = 0; i < 4; i++) {
        snprintf(m, sizeof m, "M%d", i);
        snprintf(id, sizeof id, "back%d", i);
        gt_tx(&F, id, m, "O", T0 + HOUR + i, UNITS(5000));
    }
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    gt_fini(&F);
}

Test(scatter_gather, params_take_effect) {
    int64_t legs[] = {T0, T0 + HOUR, T0 + 2 * HOUR};
    int64_t fwds[] = {T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 5 * HOUR};

    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_sg(&F)->min_intermediaries = 2;
    gt_start(&F);
    pattern(&F, 2, legs, fwds, UNITS(5000), UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 2, "min_intermediaries 2");
    gt_fini(&F);

    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_sg(&F)->min_intermediaries = 4;
    gt_start(&F);
    pattern(&F, 3, legs, fwds, UNITS(5000), UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0, "min_intermediaries 4");
    gt_fini(&F);

    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_sg(&F)->min_amount_micros = UNITS(6000);
    gt_start(&F);
    pattern(&F, 3, legs, fwds, UNITS(5000), UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0, "min_amount 6000");
    gt_fini(&F);

    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_sg(&F)->window_ms = 4 * HOUR;
    gt_start(&F);
    pattern(&F, 3, legs, fwds, UNITS(5000), UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0, "5h span, 4h window");
    gt_fini(&F);

    gt_init(&F, VG_RULE_SCATTER_GATHER);
    F.cfg.rules[VG_RULE_SCATTER_GATHER].enabled = false;
    gt_start(&F);
    pattern(&F, 3, legs, fwds, UNITS(5000), UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0, "disabled");
    gt_fini(&F);
}

Test(scatter_gather, budget_cut_is_counted) {
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    F.cfg.engine.graph_budget = 4;
    gt_start(&F);
    int64_t legs[] = {T0, T0 + HOUR, T0 + 2 * HOUR};
    int64_t fwds[] = {T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 5 * HOUR};
    pattern(&F, 3, legs, fwds, UNITS(5000), UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    cr_assert_geq(gt_stats(&F).budget_cut, 1);
    gt_fini(&F);
}

/* Arrival order is not event time (engine.allowed_lateness): a forward or a leg that
 * arrives after newer transfers of the pattern still completes it. */
Test(scatter_gather, late_forward_or_leg_completes_the_pattern) {
    int64_t legs[] = {T0, T0 + 1, T0 + 2};
    /* fwd1 (1m) arrives after fwd2 (1m + 2ms) */
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    for (int i = 0; i < 3; i++) {
        char m[8], id[8];
        snprintf(m, sizeof m, "M%d", i);
        snprintf(id, sizeof id, "leg%d", i);
        gt_tx(&F, id, "O", m, legs[i], UNITS(5000));
    }
    gt_tx(&F, "fwd0", "M0", "S", T0 + MINUTE, UNITS(5000));
    gt_tx(&F, "fwd2", "M2", "S", T0 + MINUTE + 2, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    gt_tx(&F, "fwd1", "M1", "S", T0 + MINUTE + 1, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "O"), 1);
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "S"), 1);
    const struct gt_alert *a = gt_find(&F, VG_RULE_SCATTER_GATHER, "S");
    cr_assert_not_null(a);
    cr_assert_eq(gt_metric(a, "intermediaries"), 3);
    cr_assert_eq(a->window_start_ms, T0);
    cr_assert_eq(a->window_end_ms, T0 + MINUTE + 2);
    gt_fini(&F);

    /* leg2 arrives after every forward */
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    gt_tx(&F, "leg0", "O", "M0", legs[0], UNITS(5000));
    gt_tx(&F, "leg1", "O", "M1", legs[1], UNITS(5000));
    gt_tx(&F, "fwd0", "M0", "S", T0 + MINUTE, UNITS(5000));
    gt_tx(&F, "fwd1", "M1", "S", T0 + MINUTE + 1, UNITS(5000));
    gt_tx(&F, "fwd2", "M2", "S", T0 + MINUTE + 2, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    gt_tx(&F, "leg2", "O", "M2", legs[2], UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "O"), 1);
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "S"), 1);

    /* ... but not past the window: the late leg is 7d + 1ms before the newest forward */
    gt_tx(&F, "leg0b", "P", "N0", T0 + DAY, UNITS(5000));
    gt_tx(&F, "leg1b", "P", "N1", T0 + DAY, UNITS(5000));
    gt_tx(&F, "fwd0b", "N0", "R", T0 + DAY + 1, UNITS(5000));
    gt_tx(&F, "fwd1b", "N1", "R", T0 + DAY + 1, UNITS(5000));
    gt_tx(&F, "fwd2b", "N2", "R", T0 + 8 * DAY + 1, UNITS(5000));
    gt_tx(&F, "leg2b", "P", "N2", T0 + DAY, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "P"), 0);
    gt_fini(&F);
}

/* A fresh graph stage holding what arrives before the late leg O -> M2 of the test below:
 * legs to M0 (leg0_amount) and M1, their forwards to S, M2 -> S at T0+7d, M9 -> S at
 * T0+7d+4m. */
static void late_leg_before(int64_t leg0_amount) {
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    gt_tx(&F, "leg0", "O", "M0", T0, leg0_amount);
    gt_tx(&F, "leg1", "O", "M1", T0 + MINUTE, UNITS(5000));
    gt_tx(&F, "fwd0", "M0", "S", T0 + 2 * MINUTE, UNITS(5000));
    gt_tx(&F, "fwd1", "M1", "S", T0 + 3 * MINUTE, UNITS(5000));
    gt_tx(&F, "fwd2", "M2", "S", T0 + 7 * DAY, UNITS(5000));
    gt_tx(&F, "other", "M9", "S", T0 + 7 * DAY + 4 * MINUTE, UNITS(5000));
}

/* A late leg or forward (within engine.allowed_lateness) is placed in every window it falls
 * into: here only the window ending at an intermediate forward (T0+7d) holds the whole
 * pattern; the late transfer's own window lacks a forward and the newest one (T0+7d+4m) the
 * early legs. */
Test(scatter_gather, late_transfer_completes_a_window_that_is_not_the_newest) {
    /* late leg: O -> M2 stamped T0+7d-1m arrives after M9 -> S at T0+7d+4m */
    late_leg_before(UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    gt_tx(&F, "leg2", "O", "M2", T0 + 7 * DAY - MINUTE, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "O"), 1);
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "S"), 1);
    const struct gt_alert *a = gt_find(&F, VG_RULE_SCATTER_GATHER, "S");
    cr_assert_not_null(a);
    cr_assert_eq(a->window_start_ms, T0);
    cr_assert_eq(a->window_end_ms, T0 + 7 * DAY);
    gt_fini(&F);

    /* late forward: M2 -> S stamped T0+7d-1m arrives after M9 -> S at T0+7d+4m */
    gt_init(&F, VG_RULE_SCATTER_GATHER);
    gt_start(&F);
    for (int i = 0; i < 3; i++) {
        char m[8], id[8];
        snprintf(m, sizeof m, "M%d", i);
        snprintf(id, sizeof id, "leg%d", i);
        gt_tx(&F, id, "O", m, T0 + i * MINUTE, UNITS(5000));
    }
    gt_tx(&F, "fwd0", "M0", "S", T0 + HOUR, UNITS(5000));
    gt_tx(&F, "fwd1", "M1", "S", T0 + 7 * DAY, UNITS(5000));
    gt_tx(&F, "other", "M9", "S", T0 + 7 * DAY + 4 * MINUTE, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    gt_tx(&F, "fwd2", "M2", "S", T0 + 7 * DAY - MINUTE, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "O"), 1);
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, "S"), 1);
    gt_fini(&F);

    /* ... and silent when one leg is a micro-unit short */
    late_leg_before(UNITS(1000) - 1);
    gt_tx(&F, "leg2", "O", "M2", T0 + 7 * DAY - MINUTE, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_SCATTER_GATHER, NULL), 0);
    gt_fini(&F);
}

/* ---- differential check against the literal definition ------------------------------ */

/* Origins o (only `only` when >= 0) that make sink s fire in the window [end - W, end]
 * among transfers 0..i: o has a leg into m, and >= need distinct k with a leg o -> k before
 * a forward k -> s, all in the window. Marks them in origins; returns how many. */
static int brute_force_origins(const struct gt_edge *e, int i, int n_accounts, int64_t window, int need, int m,
                               int s, int64_t end, int only, bool *origins) {
    int count = 0;
    int64_t low = end - window, min = UNITS(1000);
    for (int o = 0; o < n_accounts; o++) {
        if (o == s || (only >= 0 && o != only)) continue;
        bool leg_into_m = false;
        for (int j = 0; j <= i; j++)
            if (e[j].from == o && e[j].to == m && e[j].ts_ms >= low && e[j].ts_ms < end && e[j].amount_micros >= min)
                leg_into_m = true;
        if (!leg_into_m) continue;
        int distinct = 0;
        for (int k = 0; k < n_accounts; k++) {
            if (k == o || k == s) continue;
            bool ok = false;
            for (int a = 0; a <= i && !ok; a++) {
                if (e[a].from != o || e[a].to != k || e[a].ts_ms < low || e[a].ts_ms >= end || e[a].amount_micros < min)
                    continue;
                for (int b = 0; b <= i && !ok; b++)
                    ok = e[b].from == k && e[b].to == s && e[b].ts_ms > e[a].ts_ms && e[b].ts_ms <= end &&
                         e[b].amount_micros >= min;
            }
            distinct += ok;
        }
        if (distinct >= need) {
            origins[o] = true;
            count++;
        }
    }
    return count;
}

/* Newest forward >= min into s among transfers 0..i with ts in (t, t + window], or t. */
static int64_t brute_force_newest_forward(const struct gt_edge *e, int i, int s, int64_t t, int64_t window) {
    int64_t newest = t;
    for (int b = 0; b <= i; b++)
        if (e[b].to == s && e[b].ts_ms > newest && e[b].ts_ms - t <= window && e[b].amount_micros >= UNITS(1000))
            newest = e[b].ts_ms;
    return newest;
}

/* The late windows after the newest one: newest first, the first window ending at a forward
 * >= min into s among transfers 0..i with ts in (t, min(t + lateness, newest)) that fires. */
static int brute_force_late_windows(const struct gt_edge *e, int i, int n_accounts, int64_t window, int need,
                                    int m, int s, int64_t t, int64_t newest, int64_t lateness, int only,
                                    bool *origins) {
    int64_t below = newest;   /* next end: the newest forward time under `below` */
    for (;;) {
        int64_t end = t;
        for (int b = 0; b <= i; b++)
            if (e[b].to == s && e[b].ts_ms > end && e[b].ts_ms < below && e[b].ts_ms - t <= lateness &&
                e[b].amount_micros >= UNITS(1000))
                end = e[b].ts_ms;
        if (end == t) return 0;
        int n = brute_force_origins(e, i, n_accounts, window, need, m, s, end, only, origins);
        if (n) return n;
        below = end;
    }
}

/* What transfer i should fire (docs/RULES.md, late transfers included): as a forward m -> s,
 * the window ending at it, else the one ending at s's newest later forward, else the first
 * of those ending within the lateness after it; as a late leg o -> m, for each sink m
 * forwarded to after it, the same windows of that sink, origin o only. Returns the number of
 * (origin, sink) alerts pairs; marks the origins and the sinks. */
static int brute_force_expected(const struct gt_edge *e, int i, int n_accounts, int64_t window, int64_t lateness,
                                int need, bool *origins, bool *sinks) {
    int m = e[i].from, s = e[i].to, count = 0;
    int64_t t = e[i].ts_ms;
    for (int a = 0; a < n_accounts; a++) origins[a] = sinks[a] = false;
    if (e[i].amount_micros < UNITS(1000)) return 0;
    int n = brute_force_origins(e, i, n_accounts, window, need, m, s, t, -1, origins);
    if (n == 0) {
        int64_t end = brute_force_newest_forward(e, i, s, t, window);
        if (end != t) n = brute_force_origins(e, i, n_accounts, window, need, m, s, end, -1, origins);
        if (end != t && n == 0)
            n = brute_force_late_windows(e, i, n_accounts, window, need, m, s, t, end, lateness, -1, origins);
    }
    if (n) sinks[s] = true;
    count += n;
    for (int sink = 0; sink < n_accounts; sink++) {
        bool forwarded_after = false;
        for (int b = 0; b < i; b++)
            forwarded_after |= e[b].from == s && e[b].to == sink && sink != m && e[b].ts_ms > t &&
                               e[b].ts_ms - t <= window && e[b].amount_micros >= UNITS(1000);
        if (!forwarded_after) continue;
        int64_t end = brute_force_newest_forward(e, i, sink, t, window);
        int k = brute_force_origins(e, i, n_accounts, window, need, s, sink, end, m, origins);
        if (k == 0) k = brute_force_late_windows(e, i, n_accounts, window, need, s, sink, t, end, lateness, m, origins);
        if (k) sinks[sink] = true;
        count += k;
    }
    return count;
}

Test(scatter_gather, matches_brute_force_on_random_graphs) {
    enum { N_EDGES = 90, N_ACCOUNTS = 6 };
    struct gt_edge edges[N_EDGES];
    bool origins[N_ACCOUNTS], sinks[N_ACCOUNTS];
    int fired_total = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        int need = 2 + (int)(seed % 2);
        gt_random_edges(seed, edges, N_EDGES, N_ACCOUNTS);
        gt_init(&F, VG_RULE_SCATTER_GATHER);
        gt_sg(&F)->min_intermediaries = need;
        gt_sg(&F)->window_ms = 12 * HOUR;
        F.cfg.engine.allowed_lateness_ms = 5 * HOUR;   /* no needed edge ever expires */
        F.cfg.alerts.cooldown_ms = -1000 * DAY;
        gt_start(&F);
        for (int i = 0; i < N_EDGES; i++) {
            char id[16], from[8], to[8];
            snprintf(id, sizeof id, "t%d", i);
            snprintf(from, sizeof from, "a%d", edges[i].from);
            snprintf(to, sizeof to, "a%d", edges[i].to);
            F.n_alerts = 0;   /* judge this transfer alone */
            size_t before = F.n_alerts;
            gt_tx(&F, id, from, to, edges[i].ts_ms, edges[i].amount_micros);
            int expected = brute_force_expected(edges, i, N_ACCOUNTS, 12 * HOUR, 5 * HOUR, need, origins, sinks);
            cr_assert_eq(F.n_alerts - before, (size_t)expected * 2, "seed %llu transfer %d",
                         (unsigned long long)seed, i);
            for (size_t a = before; a < F.n_alerts; a += 2) {
                int o = atoi(F.alerts[a].account + 1);
                cr_assert(origins[o], "origin a%d expected", o);
                int sink = atoi(F.alerts[a + 1].account + 1);
                cr_assert(sinks[sink], "sink a%d expected", sink);
                cr_assert_geq(gt_metric(&F.alerts[a], "intermediaries"), need);
            }
            fired_total += expected;
        }
        cr_assert_eq(gt_stats(&F).budget_cut, 0);
        gt_fini(&F);
    }
    cr_assert_gt(fired_total, 50, "the random graphs do contain patterns");
}
