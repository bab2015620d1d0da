/* test_rule_fan_in.c - rule `fan_in` through the real engine: many distinct senders into one
 * account within the window fire once per cooldown, exactly at the thresholds (after currency
 * conversion) and not one sender, one micro-unit or one millisecond short. */
#include "rule_fixture.h"

/* n distinct senders S<first>..S<first+n-1> pay `to` `amount` each, `step_ms` apart from ts. */
static void senders(struct fx *f, int first, int n, int64_t ts, int64_t step_ms, const char *to,
                    const char *amount, const char *currency) {
    for (int i = 0; i < n; i++) {
        char from[16];
        snprintf(from, sizeof from, "S%d", first + i);
        fx_txn(f, NULL, ts + i * step_ms, from, to, amount, currency, NULL);
    }
}

Test(rule_fan_in, fires_at_eight_senders_and_min_total) {
    struct fx f = {0};
    senders(&f, 1, 8, FX_T0, FX_HOUR, "HUB", "625", "USD");      /* 8 x 625 = 5000 */
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "fan_in", "HUB"), 1);
    cr_expect_eq(vg_test_count(&a, "fan_in", NULL), 1, "only the hub alerts");
    const char *line = fx_find(&a, "fan_in", "HUB");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"counterparties\":8");
    fx_expect_has(line, "\"total\":\"5000\"");
    fx_expect_has(line, "\"score\":0.5000");
    fx_expect_has(line, "\"tx_ids\":[\"t8\",\"t7\"");
    fx_expect_has(line, "\"S1\"");
    fx_expect_has(line, "\"window_start\":1704067200000");
    fx_expect_has(line, "\"window_end\":1704092400000");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_fan_in, seven_senders_do_not_fire) {
    struct fx f = {0};
    senders(&f, 1, 7, FX_T0, FX_HOUR, "HUB", "5000", "USD");
    fx_tx(&f, FX_T0 + 8 * FX_HOUR, "S1", "HUB", "5000");        /* a repeat sender is not a new one */
    cr_expect_eq(fx_count(&f, NULL, "fan_in", NULL), 0);
    fx_free(&f);
}

Test(rule_fan_in, total_one_micro_short_does_not_fire) {
    struct fx f = {0};
    senders(&f, 1, 7, FX_T0, FX_HOUR, "HUB", "625", "USD");
    fx_tx(&f, FX_T0 + 7 * FX_HOUR, "S8", "HUB", "624.999999");
    cr_expect_eq(fx_count(&f, NULL, "fan_in", NULL), 0);
    fx_free(&f);
}

/* Ids are compared exactly, byte for byte: a sender that differs by a trailing U+0000, a
 * trailing space or the case of a letter is another sender, not a refused record. */
Test(rule_fan_in, ids_differing_by_a_trailing_byte_are_distinct_senders) {
    struct fx f = {0};
    senders(&f, 1, 5, FX_T0, FX_MIN, "HUB", "1000", "USD");
    fx_tx(&f, FX_T0 + FX_HOUR, "S1\\u0000", "HUB", "1000");
    fx_tx(&f, FX_T0 + FX_HOUR + 1, "S1 ", "HUB", "1000");
    cr_expect_eq(fx_count(&f, NULL, "fan_in", NULL), 0, "7 senders");
    fx_tx(&f, FX_T0 + FX_HOUR + 2, "s1", "HUB", "1000");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "fan_in", "HUB"), 1);
    const char *line = fx_find(&a, "fan_in", "HUB");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"counterparties\":8");
    fx_expect_has(line, "\"S1\\u0000\"");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_fan_in, window_is_inclusive_and_expires) {
    struct fx f = {0};
    senders(&f, 1, 7, FX_T0, FX_MIN, "HUB", "1000", "USD");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR, "S8", "HUB", "1000");        /* first sender exactly 72h back */
    cr_expect_eq(fx_count(&f, NULL, "fan_in", "HUB"), 1);
    fx_free(&f);

    senders(&f, 1, 7, FX_T0, FX_MIN, "HUB", "1000", "USD");
    fx_tx(&f, FX_T0 + 72 * FX_HOUR + 1, "S8", "HUB", "1000");    /* 1 ms later: S1 has left */
    cr_expect_eq(fx_count(&f, NULL, "fan_in", "HUB"), 0);
    fx_free(&f);
}

Test(rule_fan_in, outgoing_transfers_are_not_senders) {
    struct fx f = {0};
    senders(&f, 1, 7, FX_T0, FX_MIN, "HUB", "1000", "USD");
    fx_tx(&f, FX_T0 + FX_HOUR, "HUB", "S8", "1000");
    cr_expect_eq(fx_count(&f, NULL, "fan_in", NULL), 0);
    fx_free(&f);
}

Test(rule_fan_in, disabled_is_silent) {
    struct fx f = {0};
    senders(&f, 1, 8, FX_T0, FX_HOUR, "HUB", "1000", "USD");
    cr_expect_eq(fx_count(&f, "rules:\n  fan_in:\n    enabled: false\n", "fan_in", NULL), 0);
    fx_free(&f);
}

Test(rule_fan_in, cooldown_then_realert) {
    struct fx f = {0};
    senders(&f, 1, 8, FX_T0, FX_MIN, "HUB", "1000", "USD");              /* alert at T0+7m */
    senders(&f, 9, 8, FX_T0 + FX_HOUR, FX_MIN, "HUB", "1000", "USD");    /* a second pattern: cooling */
    fx_tx(&f, FX_T0 + 7 * FX_MIN + 24 * FX_HOUR - 1, "S17", "HUB", "1000");   /* still cooling */
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "fan_in", "HUB"), 1);
    vg_test_alerts_free(&a);
    fx_tx(&f, FX_T0 + 7 * FX_MIN + 24 * FX_HOUR, "S18", "HUB", "1000");       /* cooldown over */
    a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "fan_in", "HUB"), 2);
    const char *second = a.count ? a.lines[a.count - 1] : "";
    fx_expect_has(second, "\"counterparties\":18");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_fan_in, changed_parameters_take_effect) {
    struct fx f = {0};
    senders(&f, 1, 5, FX_T0, 10 * FX_MIN, "HUB", "200", "USD");
    const char *yaml = "rules:\n  fan_in:\n    min_counterparties: 5\n    min_total: 1000\n    window: 1h\n";
    cr_expect_eq(fx_count(&f, NULL, "fan_in", NULL), 0);
    cr_expect_eq(fx_count(&f, yaml, "fan_in", "HUB"), 1);
    fx_free(&f);

    senders(&f, 1, 5, FX_T0, 20 * FX_MIN, "HUB", "200", "USD");  /* spans 80m > 1h */
    cr_expect_eq(fx_count(&f, yaml, "fan_in", NULL), 0);
    fx_free(&f);
}

Test(rule_fan_in, threshold_after_currency_conversion) {
    const char *yaml = "currency:\n  rates:\n    KZT: 0.002\n";
    struct fx f = {0};
    senders(&f, 1, 8, FX_T0, FX_MIN, "HUB", "312500", "KZT");    /* 625 USD each: 5000 */
    cr_expect_eq(fx_count(&f, yaml, "fan_in", "HUB"), 1);
    fx_free(&f);

    senders(&f, 1, 8, FX_T0, FX_MIN, "HUB", "312499", "KZT");    /* 624.998 USD each: 4999.984 */
    cr_expect_eq(fx_count(&f, yaml, "fan_in", NULL), 0);
    fx_free(&f);
}

Test(rule_fan_in, late_eighth_sender_lands_in_its_window) {
    struct fx f = {0};
    senders(&f, 1, 7, FX_T0, 10 * FX_MIN, "HUB", "1000", "USD"); /* T0 .. T0+60m */
    /* S8 is stamped 2 minutes before the newest event seen (within the 5m allowed lateness)
     * and arrives last: it belongs to the window ending at T0+60m. */
    fx_tx(&f, FX_T0 + 58 * FX_MIN, "S8", "HUB", "1000");
    cr_expect_eq(fx_count(&f, NULL, "fan_in", "HUB"), 1);
    fx_free(&f);
}

/* A record within allowed_lateness belongs to every window of the hub it falls into, not
 * only to its own and the newest one: here only the window ending at S7 (T0+72h) holds all
 * eight senders. */
Test(rule_fan_in, late_sender_completes_a_window_that_is_not_the_newest) {
    struct fx f = {0};
    senders(&f, 1, 6, FX_T0, FX_MIN, "HUB", "1000", "USD");          /* S1..S6 at T0 .. T0+5m */
    fx_tx(&f, FX_T0 + 72 * FX_HOUR, "S7", "HUB", "1000");            /* window [T0, T0+72h] */
    fx_tx(&f, FX_T0 + 72 * FX_HOUR + 4 * FX_MIN, "Z", "HUB", "1");  /* newest: S1..S4 have left */
    struct fx g = {0};
    fx_appendf(&g, "%s", f.buf);
    g.n = f.n;
    /* 5m late (the allowed lateness), arrives last: its own window lacks S7, the newest one S1 */
    fx_tx(&f, FX_T0 + 72 * FX_HOUR - FX_MIN, "S8", "HUB", "1000");
    cr_expect_eq(fx_count(&f, NULL, "fan_in", "HUB"), 1);
    fx_tx(&g, FX_T0 + 72 * FX_HOUR - FX_MIN, "S1", "HUB", "1000");   /* a repeat sender: 7 */
    cr_expect_eq(fx_count(&g, NULL, "fan_in", NULL), 0);
    fx_free(&f);
    fx_free(&g);
}

Test(rule_fan_in, same_alerts_with_shard_threads) {
    struct fx f = {0};
    senders(&f, 1, 8, FX_T0, FX_MIN, "HUB", "1000", "USD");
    senders(&f, 101, 8, FX_T0, FX_MIN, "HUB2", "1000", "USD");
    struct vg_test_alerts a = fx_replay(&f, NULL, 4);
    cr_expect_eq(vg_test_count(&a, "fan_in", "HUB"), 1);
    cr_expect_eq(vg_test_count(&a, "fan_in", "HUB2"), 1);
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_fan_in, account_ids_compared_exactly) {
    struct fx f = {0};
    senders(&f, 1, 7, FX_T0, FX_MIN, "HUB", "1000", "USD");
    fx_tx(&f, FX_T0 + FX_HOUR, "s1", "HUB", "1000");             /* differs from S1 only by case */
    cr_expect_eq(fx_count(&f, NULL, "fan_in", "HUB"), 1);
    fx_free(&f);
}
