/* test_time_guard.c - the far-future guard on the stream's newest event time
 * (engine/time_guard.c): a record beyond engine.max_time_jump does not move the time, a run
 * of VG_TIME_JUMP_CONFIRM such records confirms a jump to the oldest of them, a normal
 * record in between starts the count again, and on Kafka a record not ahead of the wall
 * clock is never held out. */
#include <criterion/criterion.h>

#include "vigil/engine.h"
#include "vigil/time_guard.h"

#define DAY_MS 86400000LL

static const int64_t t0 = 1700000000000LL; /* 2023-11-14 */

Test(time_guard, a_far_record_is_held_out_a_near_one_is_not) {
    struct vg_time_guard g;
    vg_time_guard_init(&g, 7 * DAY_MS, -1);
    int64_t to = 0;
    cr_expect_eq(vg_time_guard_classify(&g, VG_TS_NONE, t0 + 1000 * DAY_MS, &to), VG_TIME_NORMAL,
                 "the first record sets the time");
    cr_expect_eq(vg_time_guard_classify(&g, t0, t0 + 7 * DAY_MS, &to), VG_TIME_NORMAL, "at the bound");
    cr_expect_eq(vg_time_guard_classify(&g, t0, t0 + 7 * DAY_MS + 1, &to), VG_TIME_FUTURE, "just beyond it");
    cr_expect_eq(vg_time_guard_classify(&g, t0, t0 - 30 * DAY_MS, &to), VG_TIME_NORMAL, "old records are late, not future");
    cr_expect_eq(g.future, 1);
}

Test(time_guard, a_run_confirms_a_jump_to_its_oldest_record) {
    struct vg_time_guard g;
    vg_time_guard_init(&g, 7 * DAY_MS, -1);
    int64_t to = 0, jump = t0 + 90 * DAY_MS;
    for (int i = 0; i < VG_TIME_JUMP_CONFIRM - 1; i++)
        cr_assert_eq(vg_time_guard_classify(&g, t0, jump + 5 - i % 3, &to), VG_TIME_FUTURE, "record %d", i);
    cr_assert_eq(vg_time_guard_classify(&g, t0, jump + 10, &to), VG_TIME_JUMP);
    cr_expect_eq(to, jump + 3, "the oldest of the run");
    cr_expect_eq(g.jumps, 1);
}

Test(time_guard, a_normal_record_breaks_the_run) {
    struct vg_time_guard g;
    vg_time_guard_init(&g, 7 * DAY_MS, -1);
    int64_t to = 0, far = 4070908800000LL; /* 2099-01-01 */
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < VG_TIME_JUMP_CONFIRM - 1; i++)
            cr_assert_eq(vg_time_guard_classify(&g, t0, far, &to), VG_TIME_FUTURE);
        cr_assert_eq(vg_time_guard_classify(&g, t0, t0 + 1, &to), VG_TIME_NORMAL);
    }
    cr_expect_eq(g.jumps, 0);
}

Test(time_guard, on_kafka_only_records_ahead_of_the_wall_clock_are_held_out) {
    struct vg_time_guard g;
    vg_time_guard_init(&g, 7 * DAY_MS, 3600000);
    int64_t now = vg_now_wall_ms(), old = now - 400 * DAY_MS;
    /* A backfill whose second half starts three months later: both halves are in the past. */
    cr_expect_not(vg_time_guard_is_future(&g, old, old + 90 * DAY_MS));
    cr_expect_not(vg_time_guard_is_future(&g, now - 30 * DAY_MS, now + 1800000), "within the skew");
    cr_expect(vg_time_guard_is_future(&g, now - 30 * DAY_MS, now + 2 * 3600000));
    cr_expect(vg_time_guard_is_future(&g, old, 4070908800000LL));
}

Test(time_guard, zero_turns_it_off) {
    struct vg_time_guard g;
    vg_time_guard_init(&g, 0, -1);
    int64_t to = 0;
    cr_expect_eq(vg_time_guard_classify(&g, t0, 4070908800000LL, &to), VG_TIME_NORMAL);
}
