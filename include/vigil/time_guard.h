/* time_guard.h - keeps one bad timestamp from moving the stream's newest event time.
 *
 * The newest event time seen (the "horizon clock") decides lateness and cuts every
 * account's windows, so a single record dated far ahead (a typo such as 2099, a bad clock
 * upstream, an injected record) would make every later record late and blind the rules.
 * The guard classifies each record before it moves that clock: a record more than
 * engine.max_time_jump ahead of the trusted newest time (and, on the Kafka path, also more
 * than input.max_clock_skew ahead of the wall clock) is "future": it is analysed in its own
 * accounts' windows but does not move the clock. VG_TIME_JUMP_CONFIRM future records in a
 * row (nothing in between within the trusted range) confirm a genuine jump (a backfill with
 * a gap, the whole stream moving forward): the clock then moves to the oldest of them.
 * One owner thread (the input thread); no allocation. */
#ifndef VIGIL_TIME_GUARD_H
#define VIGIL_TIME_GUARD_H

#include <stdbool.h>
#include <stdint.h>

/* Future records in a row that confirm a jump of the stream's time. */
#define VG_TIME_JUMP_CONFIRM 16

struct vg_time_guard {
    int64_t max_jump_ms;       /* engine.max_time_jump; 0 = the guard is off */
    int64_t max_skew_ms;       /* input.max_clock_skew; < 0 = no wall-clock condition (replay) */
    uint32_t run;              /* future records in a row so far */
    int64_t run_min_ms;        /* oldest event time among them */
    uint64_t future;           /* records classified future (not confirmed at the time) */
    uint64_t jumps;            /* confirmed jumps */
};

enum vg_time_verdict {
    VG_TIME_NORMAL = 0,        /* moves the newest time as usual */
    VG_TIME_FUTURE,            /* does not move it */
    VG_TIME_JUMP,              /* confirms a jump: the newest time becomes *jump_to_ms */
};

/* max_skew_ms < 0: no wall-clock condition. Can't fail. */
void vg_time_guard_init(struct vg_time_guard *g, int64_t max_jump_ms, int64_t max_skew_ms);

/* Whether ts_ms is far enough ahead of newest_ms (the trusted newest time, VG_TS_NONE before
 * the first record) to be a future record, without changing the guard. Reads the wall clock
 * only for a record already beyond the jump bound. */
bool vg_time_guard_is_future(const struct vg_time_guard *g, int64_t newest_ms, int64_t ts_ms);

/* Classifies the next record of the stream and updates the run of future records. On
 * VG_TIME_JUMP, *jump_to_ms is the new newest time (the oldest record of the run). */
enum vg_time_verdict vg_time_guard_classify(struct vg_time_guard *g, int64_t newest_ms, int64_t ts_ms,
                                            int64_t *jump_to_ms);

#endif
