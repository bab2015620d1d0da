/* test_rule_dormant.c - rule `dormant` through the real engine: an account silent for at
 * least the dormancy period that moves at least min_amount, in either direction. */
#include "rule_fixture.h"

Test(rule_dormant, silence_of_180_days_fires) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "X", "100");
    fx_tx(&f, FX_T0 + 180 * FX_DAY, "A", "Y", "5000");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "dormant", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "dormant", NULL), 1, "X and Y were not dormant");
    const char *line = fx_find(&a, "dormant", "A");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"dormant_for\":15552000000");
    fx_expect_has(line, "\"tx_ids\":[\"t2\"]");
    fx_expect_has(line, "\"accounts\":[\"Y\"]");
    fx_expect_has(line, "\"window_start\":1704067200000");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_dormant, silence_of_179_days_does_not_fire) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "X", "100");
    fx_tx(&f, FX_T0 + 179 * FX_DAY, "A", "Y", "5000");
    cr_expect_eq(fx_count(&f, NULL, "dormant", NULL), 0);
    fx_free(&f);

    fx_tx(&f, FX_T0, "A", "X", "100");
    fx_tx(&f, FX_T0 + 180 * FX_DAY - 1, "A", "Y", "5000");
    cr_expect_eq(fx_count(&f, NULL, "dormant", NULL), 0, "one ms short of 180d");
    fx_free(&f);
}

Test(rule_dormant, activity_in_between_resets_the_silence) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "X", "100");
    fx_tx(&f, FX_T0 + 100 * FX_DAY, "Z", "A", "1");                    /* received: still activity */
    fx_tx(&f, FX_T0 + 200 * FX_DAY, "A", "Y", "5000");
    cr_expect_eq(fx_count(&f, NULL, "dormant", NULL), 0);
    fx_free(&f);
}

Test(rule_dormant, small_amount_does_not_fire) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "X", "100");
    fx_tx(&f, FX_T0 + 200 * FX_DAY, "A", "Y", "4999.999999");
    cr_expect_eq(fx_count(&f, NULL, "dormant", NULL), 0);
    fx_free(&f);
}

Test(rule_dormant, first_activity_is_not_waking) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "B", "C", "100000");
    cr_expect_eq(fx_count(&f, NULL, "dormant", NULL), 0);
    fx_free(&f);
}

Test(rule_dormant, receiving_wakes_too) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "X", "100");
    fx_tx(&f, FX_T0 + 181 * FX_DAY, "W", "A", "5000");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "dormant", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "dormant", NULL), 1);
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_dormant, disabled_is_silent) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "X", "100");
    fx_tx(&f, FX_T0 + 365 * FX_DAY, "A", "Y", "50000");
    cr_expect_eq(fx_count(&f, "rules:\n  dormant:\n    enabled: false\n", "dormant", NULL), 0);
    fx_free(&f);
}

Test(rule_dormant, changed_parameters_and_cooldown) {
    const char *yaml = "rules:\n  dormant:\n    dormancy: 1h\n    min_amount: 10\n";
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "X", "10");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "X", "10");                        /* fires: 1h silence */
    fx_tx(&f, FX_T0 + 3 * FX_HOUR, "A", "X", "10");                    /* 2h silence, cooling */
    cr_expect_eq(fx_count(&f, NULL, "dormant", NULL), 0);
    cr_expect_eq(fx_count(&f, yaml, "dormant", "A"), 1);
    fx_tx(&f, FX_T0 + 25 * FX_HOUR, "A", "X", "10");                   /* 22h silence, cooldown over */
    cr_expect_eq(fx_count(&f, yaml, "dormant", "A"), 2);
    fx_free(&f);
}

Test(rule_dormant, threshold_after_currency_conversion) {
    const char *yaml = "currency:\n  rates:\n    KZT: 0.002\n";
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "X", "100");
    fx_txn(&f, NULL, FX_T0 + 180 * FX_DAY, "A", "Y", "2500000", "KZT", NULL);      /* 5000 USD */
    fx_tx(&f, FX_T0, "B", "X", "100");
    fx_txn(&f, NULL, FX_T0 + 180 * FX_DAY, "B", "Y", "2499999.99", "KZT", NULL);   /* just below */
    struct vg_test_alerts a = fx_replay(&f, yaml, 0);
    cr_expect_eq(vg_test_count(&a, "dormant", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "dormant", "B"), 0);
    vg_test_alerts_free(&a);
    fx_free(&f);
}

/* A late record (the account already has a newer one) wakes an account when its retained
 * predecessor is a dormancy older. The account holds too few events for fan_in, fan_out,
 * velocity and gather_scatter (which keep the 72h of history enabled), and pass_through is
 * off, so no other rule asks for the window: dormant's reading of the predecessor must not
 * depend on them. */
Test(rule_dormant, late_record_judged_against_its_predecessor_alone) {
    const char *yaml = "rules:\n"
                       "  dormant: {dormancy: 1h, min_amount: 10}\n"
                       "  pass_through: {enabled: false}\n";
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "X", "10");
    fx_tx(&f, FX_T0 + 2 * FX_HOUR, "A", "X", "1");                     /* small: no alert */
    fx_tx(&f, FX_T0 + 2 * FX_HOUR - 60000, "A", "Y", "50");           /* late by 1 min, 2h - 1min after t1 */
    cr_expect_eq(fx_count(&f, yaml, "dormant", "A"), 1);
    fx_free(&f);

    fx_tx(&f, FX_T0, "A", "X", "10");
    fx_tx(&f, FX_T0 + 30 * 60000, "A", "X", "1");                      /* activity 30 min in */
    fx_tx(&f, FX_T0 + 2 * FX_HOUR, "A", "X", "1");
    fx_tx(&f, FX_T0 + 70 * 60000, "A", "Y", "50");                     /* late: only 40 min after t2 */
    cr_expect_eq(fx_count(&f, yaml, "dormant", "A"), 0, "its predecessor is 40 min old");
    fx_free(&f);
}
