/* test_rule_high_risk_country.c - rule `high_risk_country` through the real engine: a
 * transfer of at least min_amount to a listed country alerts about the sender, from a listed
 * country about the receiver. */
#include "rule_fixture.h"

Test(rule_high_risk_country, sending_to_listed_country_fires_about_sender) {
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "1000", "USD", "\"from_country\":\"US\",\"to_country\":\"KP\"");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "high_risk_country", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "high_risk_country", NULL), 1);
    const char *line = fx_find(&a, "high_risk_country", "A");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"accounts\":[\"B\"]");
    fx_expect_has(line, "\"amount\":\"1000\"");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_high_risk_country, receiving_from_listed_country_fires_about_receiver) {
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "X", "A", "5000", "USD", "\"from_country\":\"IR\",\"to_country\":\"DE\"");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "high_risk_country", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "high_risk_country", NULL), 1);
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_high_risk_country, below_min_amount_or_unlisted_does_not_fire) {
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "999.999999", "USD", "\"to_country\":\"KP\"");
    fx_txn(&f, NULL, FX_T0, "C", "D", "50000", "USD", "\"from_country\":\"FR\",\"to_country\":\"US\"");
    fx_txn(&f, NULL, FX_T0, "E", "F", "50000", "USD", NULL);
    cr_expect_eq(fx_count(&f, NULL, "high_risk_country", NULL), 0);
    fx_free(&f);
}

Test(rule_high_risk_country, disabled_is_silent) {
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "5000", "USD", "\"to_country\":\"MM\"");
    cr_expect_eq(fx_count(&f, "rules:\n  high_risk_country:\n    enabled: false\n", "high_risk_country", NULL), 0);
    fx_free(&f);
}

Test(rule_high_risk_country, cooldown_then_realert) {
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "5000", "USD", "\"to_country\":\"KP\"");
    fx_txn(&f, NULL, FX_T0 + FX_HOUR, "A", "C", "5000", "USD", "\"to_country\":\"IR\"");
    fx_txn(&f, NULL, FX_T0 + 24 * FX_HOUR - 1, "A", "C", "5000", "USD", "\"to_country\":\"IR\"");
    cr_expect_eq(fx_count(&f, NULL, "high_risk_country", "A"), 1);
    fx_txn(&f, NULL, FX_T0 + 24 * FX_HOUR, "A", "D", "5000", "USD", "\"to_country\":\"MM\"");
    cr_expect_eq(fx_count(&f, NULL, "high_risk_country", "A"), 2);
    fx_free(&f);
}

Test(rule_high_risk_country, changed_parameters_take_effect) {
    const char *yaml = "rules:\n  high_risk_country:\n    countries: [FR]\n    min_amount: 10\n";
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "10", "USD", "\"to_country\":\"FR\"");
    fx_txn(&f, NULL, FX_T0, "C", "D", "5000", "USD", "\"to_country\":\"KP\"");
    struct vg_test_alerts a = fx_replay(&f, yaml, 0);
    cr_expect_eq(vg_test_count(&a, "high_risk_country", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "high_risk_country", NULL), 1);
    vg_test_alerts_free(&a);
    cr_expect_eq(fx_count(&f, NULL, "high_risk_country", NULL), 1, "defaults: only KP");
    fx_free(&f);
}

Test(rule_high_risk_country, threshold_after_currency_conversion) {
    const char *yaml = "currency:\n  rates:\n    KZT: 0.002\n";
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "500000", "KZT", "\"to_country\":\"KP\"");      /* 1000 USD */
    fx_txn(&f, NULL, FX_T0, "C", "D", "499999.99", "KZT", "\"to_country\":\"KP\"");   /* just below */
    struct vg_test_alerts a = fx_replay(&f, yaml, 0);
    cr_expect_eq(vg_test_count(&a, "high_risk_country", "A"), 1);
    cr_expect_eq(vg_test_count(&a, "high_risk_country", "C"), 0);
    vg_test_alerts_free(&a);
    fx_free(&f);
}
