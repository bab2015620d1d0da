/* test_emit.c - a stage's alert output (engine/emit.c): the (rule, account) cooldown in
 * event time, kept exactly through table growth, purges and checkpoint restore, and never
 * reported for an account that did not alert (the table's presence filter may only say
 * "maybe", the table decides). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint_internal.h"
#include "vigil/emit.h"
#include "vigil/hash.h"

#define HOUR_MS 3600000LL

static size_t delivered;

static void count_delivery(void *opaque, const struct vg_alert *a, enum vg_severity severity) {
    (void)opaque, (void)a, (void)severity;
    delivered++;
}

static struct vg_config cfg;

static void setup(void) {
    cr_assert_eq(vg_config_defaults(&cfg), VG_OK);
    delivered = 0;
}

static void teardown(void) { vg_config_free(&cfg); }

/* Emits one alert of `rule` about `account` at event time ts; returns whether it passed. */
static bool emit(struct vg_alert_out *out, enum vg_rule_id rule, const char *account, int64_t ts) {
    struct vg_txn txn = {.ts_ms = ts, .id_len = 1, .id = "t"};
    struct vg_alert a;
    vg_alert_init(&a, rule, account, strlen(account), &txn);
    return vg_alert_emit(out, &a);
}

static uint32_t mask_of(struct vg_alert_out *out, const char *account, int64_t ts) {
    return vg_alert_out_cooling_mask(out, account, strlen(account), vg_hash64_id(account, strlen(account)), ts);
}

Test(emit, cooldown_holds_one_period_on_both_sides, .init = setup, .fini = teardown) {
    struct vg_alert_out *out = vg_alert_out_create(&cfg, count_delivery, NULL);
    cr_assert_not_null(out);
    int64_t t0 = 1000 * HOUR_MS, cooldown = cfg.alerts.cooldown_ms;
    cr_expect(emit(out, VG_RULE_FAN_IN, "A", t0));
    cr_expect_not(emit(out, VG_RULE_FAN_IN, "A", t0 + cooldown - 1), "inside the cooldown");
    cr_expect_not(emit(out, VG_RULE_FAN_IN, "A", t0 - cooldown + 1), "a late one inside it too");
    cr_expect(emit(out, VG_RULE_FAN_OUT, "A", t0 + 1), "another rule is its own pair");
    cr_expect(emit(out, VG_RULE_FAN_IN, "A", t0 + cooldown), "the next period");
    cr_expect_eq(mask_of(out, "A", t0 + cooldown), (1u << VG_RULE_FAN_IN) | (1u << VG_RULE_FAN_OUT));
    cr_expect_eq(mask_of(out, "B", t0), 0u, "an account that never alerted is not cooling");
    cr_expect_eq(delivered, 3);
    vg_alert_out_destroy(out);
}

/* Thousands of alerting accounts grow the table (and its filter) several times and purge
 * expired entries: every live cooldown survives, nothing else is reported as cooling. */
Test(emit, growth_and_purge_keep_every_live_cooldown, .init = setup, .fini = teardown) {
    struct vg_alert_out *out = vg_alert_out_create(&cfg, count_delivery, NULL);
    cr_assert_not_null(out);
    int64_t cooldown = cfg.alerts.cooldown_ms, t_old = 1000 * HOUR_MS, t_new = t_old + 10 * cooldown;
    char id[32];
    for (int i = 0; i < 3000; i++) { /* old period: purged once the new one crowds the table */
        snprintf(id, sizeof id, "old-%d", i);
        cr_assert(emit(out, VG_RULE_LARGE_TX, id, t_old));
    }
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "acct-%d", i);
        cr_assert(emit(out, VG_RULE_LARGE_TX, id, t_new + i));
    }
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "acct-%d", i);
        cr_assert_eq(mask_of(out, id, t_new + i + 1), 1u << VG_RULE_LARGE_TX, "%s lost its cooldown", id);
        cr_assert_not(vg_alert_out_cooling(out, VG_RULE_FAN_IN, id, strlen(id), t_new + i));
    }
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "quiet-%d", i);
        cr_assert_eq(mask_of(out, id, t_new), 0u, "%s never alerted", id);
    }
    cr_expect_eq(delivered, 23000);
    vg_alert_out_destroy(out);
}

Test(emit, restored_cooldowns_suppress, .init = setup, .fini = teardown) {
    struct vg_alert_out *out = vg_alert_out_create(&cfg, count_delivery, NULL);
    cr_assert_not_null(out);
    int64_t t0 = 1000 * HOUR_MS;
    char id[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "r-%d", i);
        cr_assert_eq(vg_alert_out_restore_cooldown(out, VG_RULE_PASS_THROUGH, id, strlen(id), t0), VG_OK);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "r-%d", i);
        cr_assert_not(emit(out, VG_RULE_PASS_THROUGH, id, t0 + HOUR_MS), "%s restored but not cooling", id);
    }
    cr_expect(emit(out, VG_RULE_PASS_THROUGH, "fresh", t0 + HOUR_MS));
    cr_expect_eq(delivered, 1);
    vg_alert_out_destroy(out);
}

/* A backlog of late records read after a newer alert (a partition read late, a restore):
 * each late record more than a cooldown older than the newest alert used to alert again,
 * one alert per record. Now the first late alert of a period withholds the rest of that
 * period, on either side of it; each further period still gets its one alert. */
Test(emit, late_alerts_are_one_per_period, .init = setup, .fini = teardown) {
    struct vg_alert_out *out = vg_alert_out_create(&cfg, count_delivery, NULL);
    cr_assert_not_null(out);
    int64_t cooldown = cfg.alerts.cooldown_ms, t_new = 1000 * HOUR_MS;
    cr_assert(emit(out, VG_RULE_FAN_IN, "hub", t_new));
    /* Ten days of late records, one an hour, ascending as a partition's backlog is. */
    int64_t first = t_new - 10 * cooldown;
    size_t passed = 0;
    for (int64_t ts = first; ts < t_new - cooldown; ts += HOUR_MS) passed += emit(out, VG_RULE_FAN_IN, "hub", ts);
    cr_expect_eq(passed, 9, "one alert per late cooldown period, got %zu", passed);
    /* A late record just before the last late alert's period is withheld too (either side). */
    cr_expect_not(emit(out, VG_RULE_FAN_IN, "hub", first + 8 * cooldown - HOUR_MS));
    /* The newest alert's own period is unchanged, and the period after it opens as before. */
    cr_expect_not(emit(out, VG_RULE_FAN_IN, "hub", t_new + cooldown - 1));
    cr_expect(emit(out, VG_RULE_FAN_IN, "hub", t_new + cooldown));
    vg_alert_out_destroy(out);
}

/* The late period's mark survives a checkpoint: a restart does not reopen it. */
Test(emit, restored_late_mark_suppresses, .init = setup, .fini = teardown) {
    struct vg_alert_out *out = vg_alert_out_create(&cfg, count_delivery, NULL);
    cr_assert_not_null(out);
    int64_t cooldown = cfg.alerts.cooldown_ms, t_new = 1000 * HOUR_MS, t_late = t_new - 5 * cooldown;
    cr_assert_eq(vg_alert_out_restore_cooldown(out, VG_RULE_FAN_IN, "hub", 3, t_new), VG_OK);
    cr_assert_eq(vg_alert_out_restore_cooldown(out, VG_RULE_FAN_IN | VG_COOLDOWN_LATE, "hub", 3, t_late), VG_OK);
    cr_expect_not(emit(out, VG_RULE_FAN_IN, "hub", t_late + HOUR_MS), "inside the restored late period");
    cr_expect_not(emit(out, VG_RULE_FAN_IN, "hub", t_new - HOUR_MS), "inside the newest alert's period");
    cr_expect(emit(out, VG_RULE_FAN_IN, "hub", t_late + cooldown), "the late period after it");
    cr_expect_eq(delivered, 1);
    vg_alert_out_destroy(out);
}
