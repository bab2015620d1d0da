/* test_rule_gather_scatter.c - rule `gather_scatter` through the real engine: a hub gathers
 * from min_counterparties senders and only then scatters to min_counterparties receivers,
 * both sides summing to min_total, within the window. */
#include "rule_fixture.h"

/* `n` transfers between hub and distinct peers <prefix><first..>, step_ms apart from ts;
 * incoming when in, else outgoing. */
static void legs(struct fx *f, bool in, const char *prefix, int first, int n, int64_t ts, int64_t step_ms,
                 const char *hub, const char *amount) {
    for (int i = 0; i < n; i++) {
        char peer[16];
        snprintf(peer, sizeof peer, "%s%d", prefix, first + i);
        if (in) fx_tx(f, ts + i * step_ms, peer, hub, amount);
        else fx_tx(f, ts + i * step_ms, hub, peer, amount);
    }
}

Test(rule_gather_scatter, gather_then_scatter_fires) {
    struct fx f = {0};
    legs(&f, true, "S", 1, 5, FX_T0, FX_MIN, "H", "1000");
    legs(&f, false, "R", 1, 5, FX_T0 + 10 * FX_MIN, FX_MIN, "H", "1000");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "gather_scatter", "H"), 1);
    cr_expect_eq(vg_test_count(&a, "gather_scatter", NULL), 1);
    const char *line = fx_find(&a, "gather_scatter", "H");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"senders\":5");
    fx_expect_has(line, "\"receivers\":5");
    fx_expect_has(line, "\"gathered\":\"5000\"");
    fx_expect_has(line, "\"scattered\":\"5000\"");
    fx_expect_has(line, "\"tx_ids\":[\"t10\",\"t9\",\"t8\",\"t7\",\"t6\",\"t5\"");
    fx_expect_has(line, "\"S1\"");
    fx_expect_has(line, "\"R5\"");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_gather_scatter, four_receivers_do_not_fire) {
    struct fx f = {0};
    legs(&f, true, "S", 1, 5, FX_T0, FX_MIN, "H", "1000");
    legs(&f, false, "R", 1, 4, FX_T0 + 10 * FX_MIN, FX_MIN, "H", "2000");
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", NULL), 0);
    fx_free(&f);
}

Test(rule_gather_scatter, payments_before_the_gather_do_not_count) {
    struct fx f = {0};
    legs(&f, true, "S", 1, 4, FX_T0, FX_MIN, "H", "1000");
    fx_tx(&f, FX_T0 + 5 * FX_MIN, "H", "R1", "1000");               /* before the 5th sender */
    fx_tx(&f, FX_T0 + 6 * FX_MIN, "S5", "H", "1000");
    legs(&f, false, "R", 2, 4, FX_T0 + 10 * FX_MIN, FX_MIN, "H", "1000");
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", NULL), 0);
    fx_tx(&f, FX_T0 + 20 * FX_MIN, "H", "R1", "1000");              /* R1 again, after the gather */
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", "H"), 1);
    fx_free(&f);
}

Test(rule_gather_scatter, totals_one_micro_short_do_not_fire) {
    struct fx f = {0};
    legs(&f, true, "S", 1, 5, FX_T0, FX_MIN, "H", "1000");
    legs(&f, false, "R", 1, 4, FX_T0 + 10 * FX_MIN, FX_MIN, "H", "1000");
    fx_tx(&f, FX_T0 + 20 * FX_MIN, "H", "R5", "999.999999");
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", NULL), 0, "scattered short");
    fx_free(&f);

    legs(&f, true, "S", 1, 4, FX_T0, FX_MIN, "H", "1000");
    fx_tx(&f, FX_T0 + 5 * FX_MIN, "S5", "H", "999.999999");
    legs(&f, false, "R", 1, 5, FX_T0 + 10 * FX_MIN, FX_MIN, "H", "2000");
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", NULL), 0, "gathered short");
    fx_free(&f);
}

Test(rule_gather_scatter, window_is_inclusive_and_expires) {
    struct fx f = {0};
    legs(&f, true, "S", 1, 5, FX_T0, FX_MIN, "H", "1000");
    legs(&f, false, "R", 1, 4, FX_T0 + FX_HOUR, FX_MIN, "H", "1000");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR, "H", "R5", "1000");
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", "H"), 1);
    fx_free(&f);

    legs(&f, true, "S", 1, 5, FX_T0, FX_MIN, "H", "1000");
    legs(&f, false, "R", 1, 4, FX_T0 + FX_HOUR, FX_MIN, "H", "1000");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR + 1, "H", "R5", "1000");       /* S1 has left the window */
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", NULL), 0);
    fx_free(&f);
}

Test(rule_gather_scatter, disabled_is_silent) {
    struct fx f = {0};
    legs(&f, true, "S", 1, 5, FX_T0, FX_MIN, "H", "1000");
    legs(&f, false, "R", 1, 5, FX_T0 + 10 * FX_MIN, FX_MIN, "H", "1000");
    cr_expect_eq(fx_count(&f, "rules:\n  gather_scatter:\n    enabled: false\n", "gather_scatter", NULL), 0);
    fx_free(&f);
}

Test(rule_gather_scatter, cooldown_then_realert) {
    struct fx f = {0};
    legs(&f, true, "S", 1, 5, FX_T0, FX_MIN, "H", "1000");
    legs(&f, false, "R", 1, 5, FX_T0 + 10 * FX_MIN, FX_MIN, "H", "1000");  /* alert at T0+14m */
    legs(&f, true, "S", 6, 5, FX_T0 + FX_HOUR, FX_MIN, "H", "1000");
    legs(&f, false, "R", 6, 5, FX_T0 + 2 * FX_HOUR, FX_MIN, "H", "1000");
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", "H"), 1);
    fx_tx(&f, FX_T0 + 14 * FX_MIN + 24 * FX_HOUR, "H", "R11", "1000");
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", "H"), 2);
    fx_free(&f);
}

Test(rule_gather_scatter, changed_parameters_take_effect) {
    const char *yaml = "rules:\n  gather_scatter:\n    min_counterparties: 3\n    min_total: 300\n";
    struct fx f = {0};
    legs(&f, true, "S", 1, 3, FX_T0, FX_MIN, "H", "100");
    legs(&f, false, "R", 1, 3, FX_T0 + 10 * FX_MIN, FX_MIN, "H", "100");
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", NULL), 0);
    cr_expect_eq(fx_count(&f, yaml, "gather_scatter", "H"), 1);
    fx_free(&f);
}

Test(rule_gather_scatter, late_sender_completes_the_gather) {
    struct fx f = {0};
    legs(&f, true, "S", 1, 4, FX_T0, FX_MIN, "H", "1000");
    legs(&f, false, "R", 1, 5, FX_T0 + 10 * FX_MIN, FX_MIN, "H", "1000");
    fx_tx(&f, FX_T0 + 11 * FX_MIN, "S5", "H", "1000");              /* 3m late: gather then 3 outs */
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", NULL), 0, "only R3..R5 follow the gather");
    fx_tx(&f, FX_T0 + 15 * FX_MIN, "H", "R6", "1000");
    fx_tx(&f, FX_T0 + 12 * FX_MIN, "H", "R7", "1000");              /* 3m late */
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", "H"), 1);
    fx_free(&f);
}

/* The late out belongs to the window ending at R4 (T0+72h), the only one holding both the
 * gather (S1..S5 from T0) and five receivers; the newest window has lost S1..S4. */
Test(rule_gather_scatter, late_receiver_completes_a_window_that_is_not_the_newest) {
    struct fx f = {0};
    legs(&f, true, "S", 1, 5, FX_T0, FX_MIN, "H", "1000");            /* T0 .. T0+4m */
    legs(&f, false, "R", 1, 3, FX_T0 + FX_HOUR, FX_MIN, "H", "1000");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR, "H", "R4", "1000");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR + 4 * FX_MIN, "H", "Z", "1");      /* newest */
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", NULL), 0, "four receivers so far");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR - FX_MIN, "H", "R5", "1000");      /* 5m late, arrives last */
    cr_expect_eq(fx_count(&f, NULL, "gather_scatter", "H"), 1);
    fx_free(&f);
}
