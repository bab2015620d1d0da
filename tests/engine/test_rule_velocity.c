/* test_rule_velocity.c - rule `velocity` through the real engine: an account with a week of
 * history that suddenly makes min_count transfers within the window, far above its own
 * baseline rate. Steady high volume, young accounts and short bursts stay silent. */
#include "rule_fixture.h"

#define BURST_AT (FX_T0 + 10 * FX_DAY + 12 * FX_HOUR)

/* One transfer a day from acct at noon, days first..last, to distinct counterparties. */
static void daily(struct fx *f, const char *acct, int first, int last) {
    for (int d = first; d <= last; d++) {
        char to[24];
        snprintf(to, sizeof to, "D%d", d);
        fx_tx(f, FX_T0 + d * FX_DAY + 12 * FX_HOUR, acct, to, "50");
    }
}

/* n transfers from acct to distinct new accounts, step_ms apart from ts. */
static void burst(struct fx *f, const char *acct, int n, int64_t ts, int64_t step_ms, const char *tag) {
    for (int i = 0; i < n; i++) {
        char to[24];
        snprintf(to, sizeof to, "%s%d", tag, i);
        fx_tx(f, ts + i * step_ms, acct, to, "50");
    }
}

Test(rule_velocity, quiet_account_bursting_fires) {
    struct fx f = {0};
    daily(&f, "Q", 0, 9);
    burst(&f, "Q", 20, BURST_AT, 2 * FX_MIN, "M");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "velocity", "Q"), 1);
    cr_expect_eq(vg_test_count(&a, "velocity", NULL), 1);
    const char *line = fx_find(&a, "velocity", "Q");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"count\":20");
    fx_expect_has(line, "\"tx_ids\":[\"t30\",\"t29\"");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_velocity, burst_of_nineteen_does_not_fire) {
    struct fx f = {0};
    daily(&f, "Q", 0, 9);
    burst(&f, "Q", 19, BURST_AT, 2 * FX_MIN, "M");
    cr_expect_eq(fx_count(&f, NULL, "velocity", NULL), 0);
    fx_free(&f);
}

Test(rule_velocity, account_younger_than_min_history_does_not_fire) {
    struct fx f = {0};
    daily(&f, "Q", 0, 5);
    burst(&f, "Q", 40, FX_T0 + 6 * FX_DAY + 23 * FX_HOUR, FX_MIN, "M");    /* history < 7d */
    cr_expect_eq(fx_count(&f, NULL, "velocity", NULL), 0);
    fx_free(&f);
}

Test(rule_velocity, steady_high_volume_merchant_never_fires) {
    struct fx f = {0};
    /* 30 receipts an hour, every hour for 10 days, from 200 customers. */
    for (int i = 0; i < 10 * 24 * 30; i++) {
        char from[16];
        snprintf(from, sizeof from, "C%d", i % 200);
        fx_tx(&f, FX_T0 + i * 2 * FX_MIN, from, "SHOP", "25");
    }
    cr_expect_eq(fx_count(&f, NULL, "velocity", NULL), 0);
    fx_free(&f);
}

Test(rule_velocity, window_is_inclusive_and_expires) {
    struct fx f = {0};
    daily(&f, "Q", 0, 9);
    burst(&f, "Q", 19, BURST_AT, 3 * FX_MIN, "M");                        /* BURST_AT .. +54m */
    fx_tx(&f, BURST_AT + FX_HOUR, "Q", "Z", "50");                         /* 20 in [t-1h, t] */
    cr_expect_eq(fx_count(&f, NULL, "velocity", "Q"), 1);
    fx_free(&f);

    daily(&f, "Q", 0, 9);
    burst(&f, "Q", 19, BURST_AT, 3 * FX_MIN, "M");
    fx_tx(&f, BURST_AT + FX_HOUR + 1, "Q", "Z", "50");                     /* the first left */
    cr_expect_eq(fx_count(&f, NULL, "velocity", NULL), 0);
    fx_free(&f);
}

Test(rule_velocity, disabled_is_silent) {
    struct fx f = {0};
    daily(&f, "Q", 0, 9);
    burst(&f, "Q", 30, BURST_AT, FX_MIN, "M");
    cr_expect_eq(fx_count(&f, "rules:\n  velocity:\n    enabled: false\n", "velocity", NULL), 0);
    fx_free(&f);
}

Test(rule_velocity, cooldown_then_realert) {
    struct fx f = {0};
    daily(&f, "Q", 0, 9);
    burst(&f, "Q", 20, BURST_AT, FX_MIN, "M");                            /* alert at +19m */
    burst(&f, "Q", 20, BURST_AT + 8 * FX_HOUR, FX_MIN, "N");              /* cooling */
    cr_expect_eq(fx_count(&f, NULL, "velocity", "Q"), 1);
    burst(&f, "Q", 20, BURST_AT + 25 * FX_HOUR, FX_MIN, "P");
    cr_expect_eq(fx_count(&f, NULL, "velocity", "Q"), 2);
    fx_free(&f);
}

Test(rule_velocity, changed_parameters_take_effect) {
    struct fx f = {0};
    daily(&f, "Q", 0, 9);
    burst(&f, "Q", 10, BURST_AT, FX_MIN, "M");
    cr_expect_eq(fx_count(&f, NULL, "velocity", NULL), 0);
    cr_expect_eq(fx_count(&f, "rules:\n  velocity:\n    min_count: 10\n", "velocity", "Q"), 1);
    /* factor 1000: 10 events against ~0.04 expected an hour is not 1000 times the rate */
    cr_expect_eq(fx_count(&f, "rules:\n  velocity:\n    min_count: 10\n    factor: 1000\n", "velocity", NULL), 0);
    /* min_history 11d: ten days of history are not enough */
    cr_expect_eq(fx_count(&f, "rules:\n  velocity:\n    min_count: 10\n    min_history: 11d\n", "velocity", NULL), 0);
    fx_free(&f);
}

Test(rule_velocity, late_record_completes_the_burst) {
    struct fx f = {0};
    daily(&f, "Q", 0, 9);
    burst(&f, "Q", 19, BURST_AT, FX_MIN, "M");                            /* .. +18m */
    fx_tx(&f, BURST_AT + 15 * FX_MIN, "Q", "LATE", "50");                 /* 3m late */
    cr_expect_eq(fx_count(&f, NULL, "velocity", "Q"), 1);
    fx_free(&f);
}

/* 19 burst events in [BURST_AT, BURST_AT+60m], the newest event at +64m; a 20th stamped +59m
 * arrives 5m late (the allowed lateness). Only the window ending at +60m holds twenty: the
 * late event's own lacks the one at +60m, the newest lacks the three before +4m. */
Test(rule_velocity, late_record_completes_a_window_that_is_not_the_newest) {
    struct fx f = {0};
    daily(&f, "Q", 0, 9);
    burst(&f, "Q", 3, BURST_AT, FX_MIN, "E");                             /* +0m .. +2m */
    burst(&f, "Q", 15, BURST_AT + 5 * FX_MIN, FX_MIN, "M");               /* +5m .. +19m */
    fx_tx(&f, BURST_AT + 60 * FX_MIN, "Q", "L", "50");
    fx_tx(&f, BURST_AT + 64 * FX_MIN, "Q", "N", "50");
    cr_expect_eq(fx_count(&f, NULL, "velocity", NULL), 0);
    fx_tx(&f, BURST_AT + 59 * FX_MIN, "Q", "LATE", "50");
    cr_expect_eq(fx_count(&f, NULL, "velocity", "Q"), 1);
    fx_free(&f);
}

/* History starts at day 0 noon, so min_history (7d) is reached at H = day 7 noon. 19 burst
 * events in [H-32m, H+4m], then one stamped H-1m arrives late (5m behind the newest): the
 * late event itself is a minute short of the account's min_history, but it completes the
 * window ending at H+4m, which is old enough. The check that skips young accounts before
 * their window is read must go by the account's newest event, not the late one. */
Test(rule_velocity, late_record_of_a_young_moment_completes_an_old_enough_window) {
    struct fx f = {0};
    const int64_t h = FX_T0 + 7 * FX_DAY + 12 * FX_HOUR;
    daily(&f, "Q", 0, 6);
    burst(&f, "Q", 19, h - 32 * FX_MIN, 2 * FX_MIN, "M");                 /* H-32m .. H+4m */
    cr_expect_eq(fx_count(&f, NULL, "velocity", NULL), 0);
    fx_tx(&f, h - FX_MIN, "Q", "LATE", "50");
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "velocity", "Q"), 1);
    const char *line = fx_find(&a, "velocity", "Q");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"count\":20");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

/* b baseline transfers on day 0, then 20 within a minute ending at day 8: span = 8d - 1h =
 * 191h, so 20 * 191h > 10 * b * 1h holds for b <= 381 and fails from 382 (docs/RULES.md).
 * The burst shares its histogram bucket with the window's start and must not count as its
 * own baseline. */
static void young_account_at_factor_edge(struct fx *f, int b) {
    for (int i = 0; i < b; i++) {
        char to[24];
        snprintf(to, sizeof to, "B%d", i);
        fx_tx(f, FX_T0 + (i % 60) * FX_SEC, "Q", to, "50");
    }
    burst(f, "Q", 20, FX_T0 + 8 * FX_DAY - 19 * FX_SEC, FX_SEC, "M");
}

/* An account first seen right at the baseline's far edge (t - 1h - 30d), which falls a minute
 * before the end of an activity-histogram bucket (1442 minutes wide at the defaults): its b
 * baseline events all lie in that last minute. span = 30d = 720h, so 20 * 720h > 10 * b * 1h
 * holds for b <= 1439 and fails from 1440; the bucket must count whole, not in proportion to
 * its minute inside the baseline. */
static void account_born_at_far_edge(struct fx *f, int b) {
    const int64_t bucket = 1442 * FX_MIN;
    int64_t far = (FX_T0 / bucket + 2) * bucket - FX_MIN;
    for (int i = 0; i < b; i++) {
        char to[24];
        snprintf(to, sizeof to, "B%d", i % 50);
        fx_tx(f, far + (int64_t)i * 59 * FX_SEC / b, "Q", to, "50");
    }
    burst(f, "Q", 20, far + FX_HOUR + 30 * FX_DAY - 19 * FX_MIN, FX_MIN, "M");
}

Test(rule_velocity, factor_boundary_is_exact_for_an_account_born_at_the_baseline_edge) {
    struct fx f = {0};
    account_born_at_far_edge(&f, 1439);
    cr_expect_eq(fx_count(&f, NULL, "velocity", "Q"), 1);
    fx_free(&f);
    account_born_at_far_edge(&f, 1440);
    cr_expect_eq(fx_count(&f, NULL, "velocity", NULL), 0);
    fx_free(&f);
}

Test(rule_velocity, factor_boundary_is_exact_for_a_young_account) {
    struct fx f = {0};
    young_account_at_factor_edge(&f, 381);
    struct vg_test_alerts a = fx_replay(&f, NULL, 0);
    cr_expect_eq(vg_test_count(&a, "velocity", "Q"), 1);
    const char *line = fx_find(&a, "velocity", "Q");
    if (line) fx_expect_has(line, "\"baseline_count\":381");
    vg_test_alerts_free(&a);
    fx_free(&f);

    young_account_at_factor_edge(&f, 382);
    cr_expect_eq(fx_count(&f, NULL, "velocity", NULL), 0);
    fx_free(&f);
}
