/* test_rule_fan_out.c - rule `fan_out` through the real engine: one account paying many
 * distinct receivers within the window fires once per cooldown, exactly at the thresholds
 * (after currency conversion); receipts never count. */
#include "rule_fixture.h"

/* `from` pays n distinct receivers R<first>..R<first+n-1> `amount` each, `step_ms` apart. */
static void receivers(struct fx *f, int first, int n, int64_t ts, int64_t step_ms, const char *from,
                      const char *amount, const char *currency) {
    for (int i = 0; i < n; i++) {
        char to[16];
        snprintf(to, sizeof to, "R%d", first + i);
        fx_txn(f, NULL, ts + i * step_ms, from, to, amount, currency, NULL);
    }
}

Test(rule_fan_out, fires_at_eight_receivers_and_min_total) {
    struct fx f = {0};
    receivers(&f, 1, 8, FX_T0, FX_HOUR, "SRC", "625", "USD");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "fan_out", "SRC"), 1);
    cr_expect_eq(vg_test_count(&a, "fan_out", NULL), 1);
    cr_expect_eq(vg_test_count(&a, "fan_in", NULL), 0);
    const char *line = fx_find(&a, "fan_out", "SRC");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"counterparties\":8");
    fx_expect_has(line, "\"total\":\"5000\"");
    fx_expect_has(line, "\"R8\"");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_fan_out, just_below_does_not_fire) {
    struct fx f = {0};
    receivers(&f, 1, 7, FX_T0, FX_HOUR, "SRC", "5000", "USD");
    fx_tx(&f, FX_T0 + 8 * FX_HOUR, "SRC", "R1", "5000");
    cr_expect_eq(fx_count(&f, NULL, "fan_out", NULL), 0, "7 distinct receivers");
    fx_free(&f);

    receivers(&f, 1, 7, FX_T0, FX_HOUR, "SRC", "625", "USD");
    fx_tx(&f, FX_T0 + 8 * FX_HOUR, "SRC", "R8", "624.999999");
    cr_expect_eq(fx_count(&f, NULL, "fan_out", NULL), 0, "total one micro short");
    fx_free(&f);
}

Test(rule_fan_out, window_expires) {
    struct fx f = {0};
    receivers(&f, 1, 7, FX_T0, FX_MIN, "SRC", "1000", "USD");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR, "SRC", "R8", "1000");
    cr_expect_eq(fx_count(&f, NULL, "fan_out", "SRC"), 1);
    fx_free(&f);

    receivers(&f, 1, 7, FX_T0, FX_MIN, "SRC", "1000", "USD");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR + 1, "SRC", "R8", "1000");
    cr_expect_eq(fx_count(&f, NULL, "fan_out", NULL), 0);
    fx_free(&f);
}

Test(rule_fan_out, receipts_are_not_receivers) {
    struct fx f = {0};
    receivers(&f, 1, 7, FX_T0, FX_MIN, "SRC", "1000", "USD");
    fx_tx(&f, FX_T0 + FX_HOUR, "R8", "SRC", "1000");
    cr_expect_eq(fx_count(&f, NULL, "fan_out", NULL), 0);
    fx_free(&f);
}

Test(rule_fan_out, disabled_is_silent) {
    struct fx f = {0};
    receivers(&f, 1, 8, FX_T0, FX_HOUR, "SRC", "1000", "USD");
    cr_expect_eq(fx_count(&f, "rules:\n  fan_out:\n    enabled: false\n", "fan_out", NULL), 0);
    fx_free(&f);
}

Test(rule_fan_out, cooldown_then_realert) {
    struct fx f = {0};
    receivers(&f, 1, 8, FX_T0, FX_MIN, "SRC", "1000", "USD");            /* alert at T0+7m */
    receivers(&f, 9, 8, FX_T0 + FX_HOUR, FX_MIN, "SRC", "1000", "USD");
    cr_expect_eq(fx_count(&f, NULL, "fan_out", "SRC"), 1);
    fx_tx(&f, FX_T0 + 7 * FX_MIN + 24 * FX_HOUR, "SRC", "R17", "1000");
    cr_expect_eq(fx_count(&f, NULL, "fan_out", "SRC"), 2);
    fx_free(&f);
}

Test(rule_fan_out, changed_parameters_take_effect) {
    struct fx f = {0};
    receivers(&f, 1, 3, FX_T0, FX_MIN, "SRC", "100", "USD");
    cr_expect_eq(fx_count(&f, NULL, "fan_out", NULL), 0);
    cr_expect_eq(fx_count(&f, "rules:\n  fan_out:\n    min_counterparties: 3\n    min_total: 300\n",
                          "fan_out", "SRC"), 1);
    fx_free(&f);
}

Test(rule_fan_out, threshold_after_currency_conversion) {
    const char *yaml = "currency:\n  rates:\n    KZT: 0.002\n";
    struct fx f = {0};
    receivers(&f, 1, 8, FX_T0, FX_MIN, "SRC", "312500", "KZT");
    cr_expect_eq(fx_count(&f, yaml, "fan_out", "SRC"), 1);
    fx_free(&f);
    receivers(&f, 1, 8, FX_T0, FX_MIN, "SRC", "312499", "KZT");
    cr_expect_eq(fx_count(&f, yaml, "fan_out", NULL), 0);
    fx_free(&f);
}

Test(rule_fan_out, late_receiver_lands_in_its_window) {
    struct fx f = {0};
    receivers(&f, 1, 7, FX_T0, 10 * FX_MIN, "SRC", "1000", "USD");
    fx_tx(&f, FX_T0 + 57 * FX_MIN, "SRC", "R8", "1000");          /* 3m late, arrives last */
    cr_expect_eq(fx_count(&f, NULL, "fan_out", "SRC"), 1);
    fx_free(&f);
}

Test(rule_fan_out, late_receiver_completes_a_window_that_is_not_the_newest) {
    struct fx f = {0};
    receivers(&f, 1, 6, FX_T0, FX_MIN, "SRC", "1000", "USD");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR, "SRC", "R7", "1000");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR + 4 * FX_MIN, "SRC", "Z", "1");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR - FX_MIN, "SRC", "R8", "1000");  /* 5m late, arrives last */
    cr_expect_eq(fx_count(&f, NULL, "fan_out", "SRC"), 1);
    fx_free(&f);
}
