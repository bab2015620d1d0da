/* test_rule_pass_through.c - rule `pass_through` through the real engine: a receipt of at
 * least min_amount followed, within the window, by outgoing transfers summing to at least
 * ratio of it. Ratio and amount edges, ordering, window edges, cooldown, lateness. */
#include "rule_fixture.h"

Test(rule_pass_through, fires_at_ratio) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "X", "A", "10000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "Y", "8000");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "pass_through", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "pass_through", NULL), 1);
    const char *line = fx_find(&a, "pass_through", "A");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"received\":\"10000\"");
    fx_expect_has(line, "\"sent\":\"8000\"");
    fx_expect_has(line, "\"ratio\":0.8");
    fx_expect_has(line, "\"tx_ids\":[\"t2\",\"t1\"]");
    fx_expect_has(line, "\"accounts\":[\"X\",\"Y\"]");
    fx_expect_has(line, "\"window_start\":1704067200000,\"window_end\":1704070800000");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_pass_through, just_below_ratio_does_not_fire) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "X", "A", "10000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "Y", "7999.999999");
    cr_expect_eq(fx_count(&f, NULL, "pass_through", NULL), 0);
    fx_free(&f);
}

Test(rule_pass_through, split_outgoing_add_up) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "X", "A", "10000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "Y", "4000");
    fx_tx(&f, FX_T0 + 2 * FX_HOUR, "A", "Z", "4000");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "pass_through", "A"), 1);
    const char *line = fx_find(&a, "pass_through", "A");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"tx_ids\":[\"t3\",\"t1\",\"t2\"]");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_pass_through, small_receipt_does_not_count) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "X", "A", "4999.999999");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "Y", "4999.999999");
    cr_expect_eq(fx_count(&f, NULL, "pass_through", NULL), 0);
    fx_free(&f);
}

Test(rule_pass_through, money_sent_before_the_receipt_does_not_count) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "A", "Y", "9000");
    fx_tx(&f, FX_T0 + FX_HOUR, "X", "A", "10000");
    cr_expect_eq(fx_count(&f, NULL, "pass_through", NULL), 0);
    fx_free(&f);
}

Test(rule_pass_through, window_is_inclusive_and_expires) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "X", "A", "10000");
    fx_tx(&f, FX_T0 + 48 * FX_HOUR, "A", "Y", "8000");
    cr_expect_eq(fx_count(&f, NULL, "pass_through", "A"), 1);
    fx_free(&f);

    fx_tx(&f, FX_T0, "X", "A", "10000");
    fx_tx(&f, FX_T0 + 48 * FX_HOUR - 1, "A", "Y", "4000");
    fx_tx(&f, FX_T0 + 48 * FX_HOUR + 1, "A", "Z", "4000");       /* the receipt is out of reach */
    cr_expect_eq(fx_count(&f, NULL, "pass_through", NULL), 0);
    fx_free(&f);
}

Test(rule_pass_through, disabled_is_silent) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "X", "A", "10000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "Y", "10000");
    cr_expect_eq(fx_count(&f, "rules:\n  pass_through:\n    enabled: false\n", "pass_through", NULL), 0);
    fx_free(&f);
}

Test(rule_pass_through, cooldown_then_realert) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "X", "A", "10000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "Y", "8000");                  /* alert at T0+1h */
    fx_tx(&f, FX_T0 + 2 * FX_HOUR, "X", "A", "20000");
    fx_tx(&f, FX_T0 + 3 * FX_HOUR, "A", "Y", "20000");             /* cooling */
    fx_tx(&f, FX_T0 + 24 * FX_HOUR, "X", "A", "10000");
    fx_tx(&f, FX_T0 + 25 * FX_HOUR - 1, "A", "Y", "10000");        /* still cooling */
    cr_expect_eq(fx_count(&f, NULL, "pass_through", "A"), 1);
    fx_tx(&f, FX_T0 + 25 * FX_HOUR, "A", "Y", "10");
    cr_expect_eq(fx_count(&f, NULL, "pass_through", "A"), 2);
    fx_free(&f);
}

Test(rule_pass_through, changed_parameters_take_effect) {
    const char *yaml = "rules:\n  pass_through:\n    min_amount: 1000\n    ratio: 0.5\n    window: 1h\n";
    struct fx f = {0};
    fx_tx(&f, FX_T0, "X", "A", "2000");
    fx_tx(&f, FX_T0 + FX_HOUR, "A", "Y", "1000");
    cr_expect_eq(fx_count(&f, NULL, "pass_through", NULL), 0);
    cr_expect_eq(fx_count(&f, yaml, "pass_through", "A"), 1);
    fx_free(&f);

    fx_tx(&f, FX_T0, "X", "A", "2000");
    fx_tx(&f, FX_T0 + FX_HOUR + 1, "A", "Y", "1000");
    cr_expect_eq(fx_count(&f, yaml, "pass_through", NULL), 0);
    fx_free(&f);
}

Test(rule_pass_through, threshold_after_currency_conversion) {
    const char *yaml = "currency:\n  rates:\n    KZT: 0.002\n";
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "X", "A", "2500000", "KZT", NULL);        /* 5000 USD */
    fx_txn(&f, NULL, FX_T0 + FX_HOUR, "A", "Y", "4000", "USD", NULL);
    cr_expect_eq(fx_count(&f, yaml, "pass_through", "A"), 1);
    fx_free(&f);
    fx_txn(&f, NULL, FX_T0, "X", "A", "2499999.99", "KZT", NULL);     /* 4999.99998 USD */
    fx_txn(&f, NULL, FX_T0 + FX_HOUR, "A", "Y", "4000", "USD", NULL);
    cr_expect_eq(fx_count(&f, yaml, "pass_through", NULL), 0);
    fx_free(&f);
}

Test(rule_pass_through, late_receipt_lands_before_the_payment) {
    struct fx f = {0};
    fx_tx(&f, FX_T0 + 3 * FX_MIN, "P", "Q", "10");                  /* newest event time seen */
    fx_tx(&f, FX_T0 + 2 * FX_MIN, "A", "Y", "8000");
    fx_tx(&f, FX_T0, "X", "A", "10000");                             /* 3m late, arrives last */
    cr_expect_eq(fx_count(&f, NULL, "pass_through", "A"), 1);
    fx_free(&f);
}

/* The late payment and the one at T0+48h pass on 80% of the receipt at T0: only the window
 * ending at T0+48h holds all three; the newest payment's window has lost the receipt. */
Test(rule_pass_through, late_payment_completes_a_window_that_is_not_the_newest) {
    struct fx f = {0};
    fx_tx(&f, FX_T0, "X", "A", "5000");
    fx_tx(&f, FX_T0 + 48 * FX_HOUR, "A", "Y", "2000");
    fx_tx(&f, FX_T0 + 48 * FX_HOUR + 4 * FX_MIN, "A", "Z", "1");       /* newest */
    fx_tx(&f, FX_T0 + 48 * FX_HOUR - FX_MIN, "A", "W", "1999.999999"); /* 5m late, arrives last */
    cr_expect_eq(fx_count(&f, NULL, "pass_through", NULL), 0, "one micro-unit short of 80%");
    fx_free(&f);
    fx_tx(&f, FX_T0, "X", "A", "5000");
    fx_tx(&f, FX_T0 + 48 * FX_HOUR, "A", "Y", "2000");
    fx_tx(&f, FX_T0 + 48 * FX_HOUR + 4 * FX_MIN, "A", "Z", "1");
    fx_tx(&f, FX_T0 + 48 * FX_HOUR - FX_MIN, "A", "W", "2000");
    cr_expect_eq(fx_count(&f, NULL, "pass_through", "A"), 1);
    fx_free(&f);
}
