/* test_graph.c - the graph stage's store: which transfers it keeps, expiry by watermark,
 * node reclaim, exact account ids, growth of every array, and lookups that stay right
 * through growth and churn (checked through the rules that walk it). */
#include "test_graph_support.h"

static struct gt_fixture F;

Test(graph, keeps_transfers_large_enough_for_a_rule) {
    gt_init(&F, VG_RULE_MAX);
    gt_start(&F);
    gt_tx(&F, "t1", "A", "B", T0, UNITS(1000) - 1);
    gt_tx(&F, "t2", "A", "A", T0, UNITS(5000));          /* self-transfer: never useful */
    struct vg_graph_stats s = gt_stats(&F);
    cr_assert_eq(s.edges, 0);
    cr_assert_eq(s.nodes, 0);
    gt_tx(&F, "t3", "A", "B", T0, UNITS(1000));
    gt_tx(&F, "t4", "B", "C", T0 + 1, UNITS(2000));
    s = gt_stats(&F);
    cr_assert_eq(s.edges, 2);
    cr_assert_eq(s.nodes, 3);
    cr_assert_eq(s.edges_added, 2);
    cr_assert_gt(s.bytes, 0);
    gt_fini(&F);

    /* The smallest min_amount of the enabled rules decides. */
    gt_init(&F, VG_RULE_MAX);
    gt_cycle(&F)->min_amount_micros = UNITS(500);
    gt_start(&F);
    gt_tx(&F, "t1", "A", "B", T0, UNITS(600));
    cr_assert_eq(gt_stats(&F).edges, 1);
    gt_fini(&F);

    gt_init(&F, VG_RULE_MAX);
    F.cfg.rules[VG_RULE_CYCLE].enabled = false;
    F.cfg.rules[VG_RULE_SCATTER_GATHER].enabled = false;
    gt_start(&F);
    gt_tx(&F, "t1", "A", "B", T0, UNITS(60000));
    cr_assert_eq(gt_stats(&F).edges, 0, "no graph rule enabled: nothing kept");
    gt_fini(&F);
}

Test(graph, expires_by_watermark_and_reclaims_nodes) {
    gt_init(&F, VG_RULE_MAX);
    gt_start(&F);
    gt_tx(&F, "t1", "A", "B", T0, UNITS(5000));
    gt_tx(&F, "t2", "B", "C", T0 + DAY, UNITS(5000));
    /* Longest window 7d, allowed lateness 5m: t1 lives while watermark - 7d <= T0. */
    gt_tx(&F, "t3", "X", "Y", T0 + 7 * DAY + 5 * MINUTE, UNITS(5000));
    cr_assert_eq(gt_stats(&F).edges, 3);
    gt_tx(&F, "t4", "X", "Y", T0 + 7 * DAY + 5 * MINUTE + 1, UNITS(5000));
    struct vg_graph_stats s = gt_stats(&F);
    cr_assert_eq(s.edges, 3, "t1 expired");
    cr_assert_eq(s.nodes, 4, "A reclaimed; B, C, X, Y live");
    gt_tx(&F, "t5", "P", "Q", T0 + 30 * DAY, UNITS(5000));
    s = gt_stats(&F);
    cr_assert_eq(s.edges, 1);
    cr_assert_eq(s.nodes, 2);
    gt_fini(&F);
}

Test(graph, very_late_transfer_is_evaluated_not_kept) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "t1", "A", "B", T0, UNITS(5000));
    gt_tx(&F, "t2", "B", "A", T0 + HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "A"), 1);
    gt_tx(&F, "t3", "X", "Y", T0 + 20 * DAY, UNITS(5000));
    cr_assert_eq(gt_stats(&F).edges, 1);
    gt_tx(&F, "old", "C", "D", T0 + 2 * HOUR, UNITS(5000));   /* older than the window */
    struct vg_graph_stats s = gt_stats(&F);
    cr_assert_eq(s.edges, 1);
    cr_assert_eq(s.nodes, 2);
    gt_fini(&F);
}

Test(graph, ids_are_compared_exactly) {
    /* 64-byte ids that differ only in the last byte, and ids that are prefixes of
     * each other, are different accounts: Y -> X1 then X2 -> Y is no ring. */
    char x1[65], x2[65];
    memset(x1, 'x', 64);
    x1[64] = '\0';
    memcpy(x2, x1, sizeof x1);
    x2[63] = 'y';
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    gt_tx(&F, "t1", "Y", x1, T0, UNITS(5000));
    gt_tx(&F, "t2", x2, "Y", T0 + HOUR, UNITS(5000));
    gt_tx(&F, "t3", "Y", "acct1", T0 + 2 * HOUR, UNITS(5000));
    gt_tx(&F, "t4", "acct12", "Y", T0 + 3 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), 0);
    cr_assert_eq(gt_stats(&F).nodes, 5);
    /* The same bytes are the same account. */
    gt_tx(&F, "t5", x1, "Y", T0 + 4 * HOUR, UNITS(5000));
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, "Y"), 1);
    gt_fini(&F);
}

Test(graph, grows_and_finds_rings_across_growth) {
    gt_init(&F, VG_RULE_CYCLE);
    gt_start(&F);
    /* Two ring hops first, then enough traffic (long ids) to grow the edge ring, the
     * string ring, the node pool and the table many times over, then the closing hop. */
    gt_tx(&F, "first-hop-with-a-long-transaction-id-000000000000000000000000000", "R0", "R1", T0,
          UNITS(5000));
    gt_tx(&F, "second", "R1", "R2", T0 + 1, UNITS(5000));
    char from[48], to[48], id[65];
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        snprintf(from, sizeof from, "bulk-sender-%d", i);
        snprintf(to, sizeof to, "bulk-receiver-%d", i % 50000);
        snprintf(id, sizeof id, "bulk-transaction-with-a-long-id-%020d", i);
        gt_tx(&F, id, from, to, T0 + 2 + i, UNITS(1000));
    }
    struct vg_graph_stats s = gt_stats(&F);
    cr_assert_eq(s.edges, (uint64_t)n + 2);
    cr_assert_eq(s.nodes, (uint64_t)n + 50000 + 3);
    gt_tx(&F, "close", "R2", "R0", T0 + 3 + n, UNITS(5000));
    const struct gt_alert *a = gt_find(&F, VG_RULE_CYCLE, "R0");
    cr_assert_not_null(a);
    cr_assert_str_eq(a->tx_ids[0], "first-hop-with-a-long-transaction-id-000000000000000000000000000");
    cr_assert_str_eq(a->tx_ids[1], "second");
    cr_assert_str_eq(a->tx_ids[2], "close");
    /* Everything expires; every node is reclaimed. */
    gt_tx(&F, "end", "E0", "E1", T0 + 60 * DAY, UNITS(5000));
    s = gt_stats(&F);
    cr_assert_eq(s.edges, 1);
    cr_assert_eq(s.nodes, 2);
    gt_fini(&F);
}

Test(graph, table_stays_consistent_under_churn) {
    /* A sliding 1h window over a chain of transfers one minute apart: nodes are created
     * and deleted continuously (backward-shift deletion), and rings formed at any point
     * are still found. */
    gt_init(&F, VG_RULE_CYCLE);
    gt_cycle(&F)->window_ms = HOUR;
    F.cfg.engine.allowed_lateness_ms = 0;
    gt_start(&F);
    char from[32], to[32], id[32];
    size_t rings = 0;
    for (int i = 0; i < 20000; i++) {
        int64_t ts = T0 + (int64_t)i * MINUTE;
        snprintf(from, sizeof from, "c%d", i);
        snprintf(to, sizeof to, "c%d", i + 1);
        snprintf(id, sizeof id, "t%d", i);
        gt_tx(&F, id, from, to, ts, UNITS(5000));
        if (i % 997 == 0 && i > 10) {
            /* Close a 4-transfer ring c(i-2) -> c(i-1) -> c(i) -> c(i+1) -> c(i-2). */
            snprintf(from, sizeof from, "c%d", i + 1);
            snprintf(to, sizeof to, "c%d", i - 2);
            snprintf(id, sizeof id, "close%d", i);
            gt_tx(&F, id, from, to, ts + 1, UNITS(5000));
            rings++;
            snprintf(to, sizeof to, "c%d", i - 2);
            const struct gt_alert *a = gt_find(&F, VG_RULE_CYCLE, to);
            cr_assert_not_null(a, "ring at %d", i);
            cr_assert_eq(gt_metric(a, "hops"), 4);
        }
        struct vg_graph_stats s = gt_stats(&F);
        cr_assert_leq(s.edges, 64, "1h of one-minute transfers plus closers");
    }
    cr_assert_eq(gt_count(&F, VG_RULE_CYCLE, NULL), rings);
    gt_fini(&F);
}
