/* test_rule_structuring.c - rule `structuring` through the real engine: min_count transfers in
 * the band [threshold*(1-margin), threshold) of one direction within the window, summing to
 * at least the threshold. Band edges, direction, window edges, cooldown, parameters. */
#include "rule_fixture.h"

Test(rule_structuring, three_in_band_outgoing_fire) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "9000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "C", "9999.999999");
    fx_tx(&f, FX_T0 + 2 * FX_HOUR, "A", "D", "8500");              /* lower band edge is in */
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "structuring", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "structuring", NULL), 1);
    const char *line = fx_find(&a, "structuring", "A");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"count\":3");
    fx_expect_has(line, "\"total\":\"27499.999999\"");
    fx_expect_has(line, "\"tx_ids\":[\"t3\",\"t2\",\"t1\"]");
    fx_expect_has(line, "\"accounts\":[\"D\",\"C\",\"B\"]");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_structuring, band_edges_do_not_count) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "9000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "C", "9000");
    fx_tx(&f, FX_T0 + 2 * FX_HOUR, "A", "D", "8499.999999");      /* below the band */
    fx_tx(&f, FX_T0 + 3 * FX_HOUR, "A", "E", "10000");            /* at threshold: not in band */
    cr_expect_eq(fx_count(&f, NULL, "structuring", NULL), 0);
    fx_free(&f);
}

Test(rule_structuring, directions_are_not_mixed) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "9000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "C", "9000");
    fx_tx(&f, FX_T0 + 2 * FX_HOUR, "D", "A", "9000");              /* A receives this one */
    cr_expect_eq(fx_count(&f, NULL, "structuring", NULL), 0);
    fx_free(&f);
}

Test(rule_structuring, receiving_in_band_fires_about_the_receiver) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "S1", "R", "9500");
    fx_tx(&f, FX_T0 + FX_HOUR, "S2", "R", "9500");
    fx_tx(&f, FX_T0 + 2 * FX_HOUR, "S3", "R", "9500");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "structuring", "R"), 1);
    cr_expect_eq(vg_test_count(&a, "structuring", NULL), 1);
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_structuring, window_is_inclusive_and_expires) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "9000");
    fx_tx(&f, FX_T0 + 36 * FX_HOUR, "A", "B", "9000");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR, "A", "B", "9000");
    cr_expect_eq(fx_count(&f, NULL, "structuring", "A"), 1);
    fx_free(&f);

    fx_tx(&f, FX_T0, "A", "B", "9000");
    fx_tx(&f, FX_T0 + 36 * FX_HOUR, "A", "B", "9000");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR + 1, "A", "B", "9000");
    cr_expect_eq(fx_count(&f, NULL, "structuring", NULL), 0);
    fx_free(&f);
}

Test(rule_structuring, disabled_is_silent) {
    struct fx f = {0};
    for (int i = 0; i < 4; i++) fx_tx(&f, FX_T0 + i * FX_HOUR, "A", "B", "9000");
    cr_expect_eq(fx_count(&f, "rules:\n  structuring:\n    enabled: false\n", "structuring", NULL), 0);
    fx_free(&f);
}

Test(rule_structuring, cooldown_then_realert) {
    struct fx f = {0};
    for (int i = 0; i < 3; i++) fx_tx(&f, FX_T0 + i * FX_HOUR, "A", "B", "9000");   /* alert at T0+2h */
    for (int i = 0; i < 3; i++) fx_tx(&f, FX_T0 + (10 + i) * FX_HOUR, "A", "B", "9000");
    fx_tx(&f, FX_T0 + 26 * FX_HOUR - 1, "A", "B", "9000");
    cr_expect_eq(fx_count(&f, NULL, "structuring", "A"), 1);
    fx_tx(&f, FX_T0 + 26 * FX_HOUR, "A", "B", "9000");
    cr_expect_eq(fx_count(&f, NULL, "structuring", "A"), 2);
    fx_free(&f);
}

Test(rule_structuring, changed_parameters_take_effect) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "4000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "B", "4500");
    const char *yaml = "rules:\n  structuring:\n    threshold: 5000\n    margin: 0.2\n    min_count: 2\n";
    cr_expect_eq(fx_count(&f, NULL, "structuring", NULL), 0);
    cr_expect_eq(fx_count(&f, yaml, "structuring", "A"), 1);
    fx_free(&f);
}

Test(rule_structuring, sum_must_reach_threshold) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "9000");
    cr_expect_eq(fx_count(&f, "rules:\n  structuring:\n    min_count: 1\n", "structuring", NULL), 0,
                 "one 9000 in band sums below 10000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "B", "9000");
    cr_expect_eq(fx_count(&f, "rules:\n  structuring:\n    min_count: 1\n", "structuring", "A"), 1);
    fx_free(&f);
}

Test(rule_structuring, band_after_currency_conversion) {
    const char *yaml = "currency:\n  rates:\n    KZT: 0.002\n";
    struct fx f = {0};
    for (int i = 0; i < 3; i++) fx_txn(&f, NULL, FX_T0 + i * FX_HOUR, "A", "B", "4250000", "KZT", NULL); /* 8500 */
    cr_expect_eq(fx_count(&f, yaml, "structuring", "A"), 1);
    fx_free(&f);
    for (int i = 0; i < 3; i++) fx_txn(&f, NULL, FX_T0 + i * FX_HOUR, "A", "B", "4249999.99", "KZT", NULL);
    cr_expect_eq(fx_count(&f, yaml, "structuring", NULL), 0);
    fx_free(&f);
}

Test(rule_structuring, late_record_completes_the_pattern) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "9000");
    fx_tx(&f, FX_T0 + 10 * FX_MIN, "A", "B", "9000");
    fx_tx(&f, FX_T0 + 7 * FX_MIN, "A", "C", "9000");               /* 3m late, arrives 3rd */
    cr_expect_eq(fx_count(&f, NULL, "structuring", "A"), 1);
    fx_free(&f);
}

/* min_count 4: only the window ending at T0+72h holds four in-band payments once the late
 * one (5m late, the allowed lateness) is in; its own window and the newest one hold three. */
Test(rule_structuring, late_record_completes_a_window_that_is_not_the_newest) {
    const char *yaml = "rules:\n  structuring:\n    min_count: 4\n";
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "9000");
    fx_tx(&f, FX_T0 + FX_MIN, "A", "B", "9000");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR, "A", "B", "9000");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR + 4 * FX_MIN, "A", "B", "9000");
    cr_expect_eq(fx_count(&f, yaml, "structuring", NULL), 0);
    fx_tx(&f, FX_T0 + 72 * FX_HOUR - FX_MIN, "A", "C", "9000");
    cr_expect_eq(fx_count(&f, yaml, "structuring", "A"), 1);
    fx_free(&f);
}
