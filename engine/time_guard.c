/* time_guard.c - classifies records as normal or far-future against the trusted newest
 * event time, and confirms genuine jumps (see vigil/time_guard.h). Pure logic, no I/O but
 * one wall-clock read for a record already beyond the jump bound. */
#include "vigil/time_guard.h"

#include "vigil/common.h"
#include "vigil/engine.h"

void vg_time_guard_init(struct vg_time_guard *g, int64_t max_jump_ms, int64_t max_skew_ms) {
    *g = (struct vg_time_guard){.max_jump_ms = max_jump_ms, .max_skew_ms = max_skew_ms, .run_min_ms = INT64_MAX};
}

bool vg_time_guard_is_future(const struct vg_time_guard *g, int64_t newest_ms, int64_t ts_ms) {
    if (g->max_jump_ms <= 0 || newest_ms == VG_TS_NONE || newest_ms > INT64_MAX - g->max_jump_ms ||
        ts_ms <= newest_ms + g->max_jump_ms)
        return false;
    if (g->max_skew_ms < 0) return true;
    int64_t wall_ms = vg_now_wall_ms();
    return wall_ms > INT64_MAX - g->max_skew_ms || ts_ms > wall_ms + g->max_skew_ms;
}

enum vg_time_verdict vg_time_guard_classify(struct vg_time_guard *g, int64_t newest_ms, int64_t ts_ms,
                                            int64_t *jump_to_ms) {
    if (!vg_time_guard_is_future(g, newest_ms, ts_ms)) {
        g->run = 0;
        g->run_min_ms = INT64_MAX;
        return VG_TIME_NORMAL;
    }
    g->run++;
    if (ts_ms < g->run_min_ms) g->run_min_ms = ts_ms;
    if (g->run < VG_TIME_JUMP_CONFIRM) {
        g->future++;
        return VG_TIME_FUTURE;
    }
    *jump_to_ms = g->run_min_ms;
    g->run = 0;
    g->run_min_ms = INT64_MAX;
    g->jumps++;
    return VG_TIME_JUMP;
}
