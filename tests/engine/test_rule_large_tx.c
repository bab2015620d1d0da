/* test_rule_large_tx.c - rule `large_tx` through the real engine: one transfer at or above the
 * threshold (in the base currency, after conversion) alerts about the sender, optionally only
 * on listed channels, once per cooldown. */
#include "rule_fixture.h"

Test(rule_large_tx, fires_at_threshold_about_the_sender) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "10000");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "large_tx", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "large_tx", "B"), 0, "the receiver's side does not alert");
    const char *line = fx_find(&a, "large_tx", "A");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"tx_ids\":[\"t1\"]");
    fx_expect_has(line, "\"accounts\":[\"B\"]");
    fx_expect_has(line, "\"amount\":\"10000\"");
    fx_expect_has(line, "\"score\":0.5000");
    fx_expect_has(line, "\"window_start\":1704067200000,\"window_end\":1704067200000");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_large_tx, one_micro_below_does_not_fire) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "9999.999999");
    cr_expect_eq(fx_count(&f, NULL, "large_tx", NULL), 0);
    fx_free(&f);
}

Test(rule_large_tx, score_grows_with_amount) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "40000");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    const char *line = fx_find(&a, "large_tx", "A");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"score\":0.8750");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_large_tx, no_window_state_small_transfers_never_add_up) {
    struct fx f = {0};
    for (int i = 0; i < 5; i++) fx_tx(&f, FX_T0 + i * FX_MIN, "A", "B", "9000");
    cr_expect_eq(fx_count(&f, NULL, "large_tx", NULL), 0);
    fx_free(&f);
}

Test(rule_large_tx, disabled_is_silent) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "50000");
    cr_expect_eq(fx_count(&f, "rules:\n  large_tx:\n    enabled: false\n", "large_tx", NULL), 0);
    fx_free(&f);
}

Test(rule_large_tx, cooldown_then_realert) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "10000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "C", "20000");
    fx_tx(&f, FX_T0 + 24 * FX_HOUR - 1, "A", "D", "30000");
    fx_tx(&f, FX_T0 + FX_HOUR, "X", "B", "10000");            /* another account is not cooling */
    cr_expect_eq(fx_count(&f, NULL, "large_tx", "A"), 1);
    cr_expect_eq(fx_count(&f, NULL, "large_tx", "X"), 1);
    fx_tx(&f, FX_T0 + 24 * FX_HOUR, "A", "E", "10000");
    cr_expect_eq(fx_count(&f, NULL, "large_tx", "A"), 2);
    fx_free(&f);
}

Test(rule_large_tx, late_record_a_cooldown_older_is_another_period) {
    struct fx f = {0};
    fx_tx(&f, FX_T0 + 48 * FX_HOUR, "A", "B", "10000");
    fx_tx(&f, FX_T0 + 24 * FX_HOUR + 1, "A", "C", "20000"); /* late, inside the cooldown before it */
    cr_expect_eq(fx_count(&f, "engine:\n  allowed_lateness: 30d\n", "large_tx", "A"), 1);
    fx_tx(&f, FX_T0 + 24 * FX_HOUR, "A", "D", "20000");     /* exactly one cooldown older */
    cr_expect_eq(fx_count(&f, "engine:\n  allowed_lateness: 30d\n", "large_tx", "A"), 2);
    fx_tx(&f, FX_T0 + 60 * FX_HOUR, "A", "E", "20000");     /* the newest alert still cools */
    cr_expect_eq(fx_count(&f, "engine:\n  allowed_lateness: 30d\n", "large_tx", "A"), 2);
    fx_free(&f);
}

Test(rule_large_tx, changed_threshold_takes_effect) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "B", "5000");
    cr_expect_eq(fx_count(&f, NULL, "large_tx", NULL), 0);
    cr_expect_eq(fx_count(&f, "rules:\n  large_tx:\n    threshold: 5000\n", "large_tx", "A"), 1);
    cr_expect_eq(fx_count(&f, "rules:\n  large_tx:\n    threshold: 5000.000001\n", "large_tx", NULL), 0);
    fx_free(&f);
}

Test(rule_large_tx, channels_filter) {
    const char *yaml = "rules:\n  large_tx:\n    channels: [cash]\n";
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "20000", "USD", "\"channel\":\"wire\"");
    fx_txn(&f, NULL, FX_T0, "C", "B", "20000", "USD", NULL);
    fx_txn(&f, NULL, FX_T0, "D", "B", "10000", "USD", "\"channel\":\"cash\"");
    struct vg_test_alerts a = fx_replay(&f, yaml, 0);
    cr_expect_eq(vg_test_count(&a, "large_tx", NULL), 1);
    cr_expect_eq(vg_test_count(&a, "large_tx", "D"), 1);
    vg_test_alerts_free(&a);
    cr_expect_eq(fx_count(&f, NULL, "large_tx", NULL), 3, "no channel list: all channels");
    fx_free(&f);
}

Test(rule_large_tx, threshold_after_currency_conversion) {
    const char *yaml = "currency:\n  rates:\n    KZT: 0.002\n";
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "5000000", "KZT", NULL);       /* 10000 USD */
    fx_txn(&f, NULL, FX_T0, "C", "B", "4999999.99", "KZT", NULL);    /* 9999.99998 USD */
    struct vg_test_alerts a = fx_replay(&f, yaml, 0);
    cr_expect_eq(vg_test_count(&a, "large_tx", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "large_tx", "C"), 0);
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_large_tx, converted_amount_just_below_is_not_rounded_up) {
    /* Built-in rates: EUR 1.08, KZT 0.0021, XBT 60000. Each "below" amount is worth less
     * than 10000 USD by under a micro-unit (or, for satoshis, under a cent). */
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "E1", "B", "9259.25926", "EUR", NULL);       /* 10000.0000008 USD */
    fx_txn(&f, NULL, FX_T0, "E2", "B", "9259.259259", "EUR", NULL);      /* 9999.99999972 USD */
    fx_txn(&f, NULL, FX_T0, "K1", "B", "4761904.761905", "KZT", NULL);   /* 10000.0000000005 USD */
    fx_txn(&f, NULL, FX_T0, "K2", "B", "4761904.761904", "KZT", NULL);   /* 9999.9999999984 USD */
    fx_txn(&f, NULL, FX_T0, "X1", "B", "0.16666667", "XBT", NULL);       /* 10000.0002 USD */
    fx_txn(&f, NULL, FX_T0, "X2", "B", "0.16666666", "XBT", NULL);       /* 9999.9996 USD */
    fx_txn(&f, NULL, FX_T0, "U2", "B", "9999.9999995", "USD", NULL);
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "large_tx", "E1"), 1);
    cr_expect_eq(vg_test_count(&a, "large_tx", "K1"), 1);
    cr_expect_eq(vg_test_count(&a, "large_tx", "X1"), 1);
    cr_expect_eq(vg_test_count(&a, "large_tx", "E2"), 0);
    cr_expect_eq(vg_test_count(&a, "large_tx", "K2"), 0);
    cr_expect_eq(vg_test_count(&a, "large_tx", "X2"), 0);
    cr_expect_eq(vg_test_count(&a, "large_tx", "U2"), 0);
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_large_tx, late_record_is_evaluated) {
    struct fx f = {0};
    fx_tx(&f, FX_T0 + FX_HOUR, "X", "Y", "10");
    fx_tx(&f, FX_T0 + FX_HOUR - 2 * FX_MIN, "A", "B", "10000");
    cr_expect_eq(fx_count(&f, NULL, "large_tx", "A"), 1);
    fx_free(&f);
}
