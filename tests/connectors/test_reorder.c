/* test_reorder.c - the Kafka partition merge: releases in event-time order once no active
 * partition can still deliver an older record, keeps each partition's offset order, waits
 * for partitions that have not delivered yet however long (idleness is the caller's call),
 * forces out the oldest record only when full (counted), lets a far-future record through
 * at once, orders records of the same time by id whatever their partitions, drops a
 * revoked partition's records, and holds what arrived after a lane's idle confirmation. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/reorder.h"

static struct vg_txn txn_at(int64_t ts) {
    struct vg_txn t = {0};
    t.ts_ms = ts;
    return t;
}

static void push(struct vg_reorder *r, int32_t p, int64_t offset, int64_t ts) {
    struct vg_txn t = txn_at(ts);
    vg_reorder_push(r, p, offset, &t, 0, false, 7, -1);
}

/* Releases everything releasable now; returns how many. */
static int release(struct vg_reorder *r, int64_t *ts_out, int32_t *part_out, int max) {
    int n = 0;
    const struct vg_reorder_rec *rec;
    while (n < max && (rec = vg_reorder_peek(r, false)) != NULL) {
        ts_out[n] = rec->txn.ts_ms;
        if (part_out) part_out[n] = rec->partition;
        n++;
        vg_reorder_pop(r);
    }
    return n;
}

Test(reorder, merges_two_partitions_by_event_time) {
    struct vg_reorder *r;
    cr_assert_eq(vg_reorder_create(&r, 16, 2), VG_OK);
    push(r, 0, 10, 1);
    push(r, 0, 11, 3);
    push(r, 0, 12, 5);
    push(r, 1, 20, 2);
    push(r, 1, 21, 4);
    int64_t ts[8];
    int n = release(r, ts, NULL, 8);
    cr_assert_eq(n, 4, "4 records are safe, got %d", n);
    for (int i = 0; i < 4; i++) cr_assert_eq(ts[i], i + 1);
    /* Partition 1 is active and empty with newest time 4: ts 5 must wait for it. */
    cr_assert_null(vg_reorder_peek(r, false));
    cr_assert_eq(vg_reorder_first_offset(r, 0), 12);
    cr_assert_eq(vg_reorder_first_offset(r, 1), -1);
    push(r, 1, 22, 6);
    n = release(r, ts, NULL, 8);
    cr_assert_eq(n, 1);
    cr_assert_eq(ts[0], 5);
    cr_assert_null(vg_reorder_peek(r, false), "partition 0 (newest 5) may still send 5..6");
    vg_reorder_set_active(r, 0, false); /* caught up: nothing more to wait for */
    n = release(r, ts, NULL, 8);
    cr_assert_eq(n, 1);
    cr_assert_eq(ts[0], 6);
    cr_assert_eq(vg_reorder_count(r), 0);
    cr_assert_eq(vg_reorder_forced(r), 0);
    vg_reorder_destroy(r);
}

static void push_id(struct vg_reorder *r, int32_t p, int64_t offset, int64_t ts, const char *id) {
    struct vg_txn t = txn_at(ts);
    t.id_len = (uint8_t)strlen(id);
    memcpy(t.id, id, t.id_len);
    vg_reorder_push(r, p, offset, &t, 0, false, 7, -1);
}

/* A stream sorted by time with rising ids (AMLworld's line numbers) scattered over
 * partitions comes out in file order: equal times by id in natural order, and a record
 * waits for a partition whose newest record has its time (another of that time may come). */
Test(reorder, equal_times_leave_in_id_order_whatever_the_partition) {
    struct vg_reorder *r;
    cr_assert_eq(vg_reorder_create(&r, 16, 3), VG_OK);
    push_id(r, 0, 0, 60000, "10");
    push_id(r, 1, 0, 60000, "9");
    push_id(r, 2, 0, 60000, "11");
    const struct vg_reorder_rec *rec = vg_reorder_peek(r, false);
    cr_assert_not_null(rec);
    cr_assert_eq(rec->partition, 1, "id 9 before 10 and 11");
    vg_reorder_pop(r);
    /* Partition 1 is empty and its newest record has time 60000: "10" must wait. */
    cr_assert_null(vg_reorder_peek(r, false));
    push_id(r, 1, 1, 60000, "12");
    const char *want[] = {"10", "11", "12"};
    for (int i = 0; i < 3; i++) {
        for (int32_t p = 0; p < 3; p++) /* the last records: nothing more will come */
            if (vg_reorder_first_offset(r, p) < 0) vg_reorder_set_active(r, p, false);
        rec = vg_reorder_peek(r, false);
        cr_assert_not_null(rec, "record %d", i);
        cr_assert_eq(rec->txn.id_len, strlen(want[i]));
        cr_assert_eq(memcmp(rec->txn.id, want[i], rec->txn.id_len), 0, "record %d", i);
        vg_reorder_pop(r);
    }
    vg_reorder_destroy(r);
}

Test(reorder, waits_for_a_partition_that_has_not_delivered) {
    struct vg_reorder *r;
    cr_assert_eq(vg_reorder_create(&r, 16, 3), VG_OK);
    vg_reorder_set_active(r, 2, true);
    push(r, 0, 0, 100);
    cr_assert_null(vg_reorder_peek(r, false), "partition 2 may still hold older records");
    cr_assert_null(vg_reorder_peek(r, false), "time alone never releases it");
    /* Declared idle by the caller (nothing fetched for input.idle_timeout, no lag). */
    vg_reorder_set_active(r, 2, false);
    const struct vg_reorder_rec *rec = vg_reorder_peek(r, false);
    cr_assert_not_null(rec);
    cr_assert_eq(rec->txn.ts_ms, 100);
    vg_reorder_pop(r);
    cr_assert_eq(vg_reorder_forced(r), 0, "an idle release is not a forced one");
    vg_reorder_destroy(r);
}

Test(reorder, an_urgent_record_goes_at_once_and_does_not_advance_its_partition) {
    struct vg_reorder *r;
    cr_assert_eq(vg_reorder_create(&r, 16, 2), VG_OK);
    push(r, 1, 0, 3);
    int64_t ts[4];
    vg_reorder_set_active(r, 0, true);
    cr_assert_eq(release(r, ts, NULL, 4), 0, "partition 0 has not delivered");
    struct vg_txn far = txn_at(4070908800000LL); /* 2099-01-01 */
    vg_reorder_push(r, 0, 0, &far, 0, true, 7, -1);
    push(r, 0, 1, 5);
    const struct vg_reorder_rec *rec = vg_reorder_peek(r, false);
    cr_assert_not_null(rec, "the far-future head does not hold its partition back");
    cr_assert_eq(rec->txn.ts_ms, far.ts_ms);
    vg_reorder_pop(r);
    cr_assert_eq(release(r, ts, NULL, 4), 1);
    cr_assert_eq(ts[0], 3);
    /* Partition 1 is empty with newest 3: ts 5 waits for it. */
    cr_assert_null(vg_reorder_peek(r, false));
    /* Partition 0's newest time is 5, not 2099: partition 1's 4 waits for nothing, its 6 does. */
    push(r, 1, 1, 4);
    push(r, 1, 2, 6);
    cr_assert_eq(release(r, ts, NULL, 4), 2);
    cr_assert_eq(ts[0], 4);
    cr_assert_eq(ts[1], 5);
    cr_assert_null(vg_reorder_peek(r, false), "6 waits: partition 0 showed only 5");
    cr_assert_eq(vg_reorder_forced(r), 0);
    vg_reorder_destroy(r);
}

Test(reorder, full_buffer_forces_the_oldest_out) {
    struct vg_reorder *r;
    cr_assert_eq(vg_reorder_create(&r, 3, 2), VG_OK);
    vg_reorder_set_active(r, 1, true);
    push(r, 0, 0, 30);
    push(r, 0, 1, 10);
    push(r, 0, 2, 20);
    cr_assert(vg_reorder_full(r));
    const struct vg_reorder_rec *rec = vg_reorder_peek(r, false);
    cr_assert_not_null(rec);
    cr_assert_eq(rec->offset, 0, "a partition's records leave in offset order");
    vg_reorder_pop(r);
    cr_assert_eq(vg_reorder_forced(r), 1);
    cr_assert_null(vg_reorder_peek(r, false), "no longer full: waits again");
    vg_reorder_destroy(r);
}

Test(reorder, flush_releases_everything_in_merge_order) {
    struct vg_reorder *r;
    cr_assert_eq(vg_reorder_create(&r, 8, 2), VG_OK);
    vg_reorder_set_active(r, 1, true);
    push(r, 0, 0, 5);
    push(r, 0, 1, 7);
    const struct vg_reorder_rec *rec;
    int64_t last = INT64_MIN;
    int n = 0;
    while ((rec = vg_reorder_peek(r, true)) != NULL) {
        cr_assert_geq(rec->txn.ts_ms, last);
        last = rec->txn.ts_ms;
        vg_reorder_pop(r);
        n++;
    }
    cr_assert_eq(n, 2);
    cr_assert_eq(vg_reorder_forced(r), 0, "a flush is not a forced release");
    vg_reorder_destroy(r);
}

Test(reorder, dropping_a_revoked_partition_frees_its_records) {
    struct vg_reorder *r;
    cr_assert_eq(vg_reorder_create(&r, 4, 2), VG_OK);
    push(r, 0, 0, 1);
    push(r, 1, 0, 2);
    push(r, 1, 1, 3);
    push(r, 1, 2, 4);
    cr_assert(vg_reorder_full(r));
    vg_reorder_drop_partition(r, 1);
    cr_assert_eq(vg_reorder_count(r), 1);
    cr_assert_eq(vg_reorder_first_offset(r, 1), -1);
    vg_reorder_set_active(r, 0, false);
    int64_t ts[4];
    cr_assert_eq(release(r, ts, NULL, 4), 1);
    cr_assert_eq(ts[0], 1);
    /* The freed slots are reusable. */
    for (int i = 0; i < 4; i++) push(r, 1, 10 + i, 10 + i);
    cr_assert(vg_reorder_full(r));
    vg_reorder_destroy(r);
}

/* A time-ordered stream scattered over partitions at random (what kcat without a key
 * does) and read back one partition chunk after another comes out in event-time order. */
Test(reorder, random_partitioning_of_an_ordered_stream_is_undone) {
    enum { N = 20000, P = 7, CHUNK = 300 };
    static int64_t part_ts[P][N];
    int part_len[P] = {0}, part_read[P] = {0}, part_out[P] = {0};
    srand(42);
    int64_t t = 1000;
    for (int i = 0; i < N; i++) {
        t += rand() % 3; /* ties included */
        int p = rand() % P;
        part_ts[p][part_len[p]++] = t;
    }
    struct vg_reorder *r;
    cr_assert_eq(vg_reorder_create(&r, 4096, P), VG_OK);
    for (int p = 0; p < P; p++) vg_reorder_set_active(r, p, part_len[p] > 0);
    int64_t last = INT64_MIN;
    int released = 0;
    while (released < N) {
        /* Fetch a chunk from the partition with unread records and the fewest queued (a
         * consumer's fetches rotate over partitions), ties broken at random. */
        int p = -1, start = rand() % P;
        for (int k = 0; k < P; k++) {
            int q = (start + k) % P;
            if (part_read[q] < part_len[q] && (p < 0 || part_read[q] - part_out[q] < part_read[p] - part_out[p])) p = q;
        }
        if (p < 0) p = start;
        for (int k = 0; k < CHUNK && part_read[p] < part_len[p] && !vg_reorder_full(r); k++) {
            push(r, p, part_read[p], part_ts[p][part_read[p]]);
            part_read[p]++;
        }
        if (part_read[p] == part_len[p]) vg_reorder_set_active(r, p, false);
        const struct vg_reorder_rec *rec;
        while ((rec = vg_reorder_peek(r, false)) != NULL) {
            cr_assert_geq(rec->txn.ts_ms, last, "record %d released out of order", released);
            last = rec->txn.ts_ms;
            part_out[rec->partition]++;
            vg_reorder_pop(r);
            released++;
        }
    }
    cr_assert_eq(vg_reorder_forced(r), 0);
    vg_reorder_destroy(r);
}

/* A reference model of the merge, by brute force: per partition a FIFO of times, the
 * active flag and the newest time pushed. */
#define MODEL_PARTS 12
#define MODEL_CAP 64
struct model {
    int64_t q[MODEL_PARTS][MODEL_CAP];
    int head[MODEL_PARTS], count[MODEL_PARTS];
    int64_t last[MODEL_PARTS];
    bool active[MODEL_PARTS];
};

/* The partition the merge must release next, or -1 while it must wait. */
static int model_next(const struct model *m) {
    int best = -1;
    for (int p = 0; p < MODEL_PARTS; p++)
        if (m->count[p] && (best < 0 || m->q[p][m->head[p]] < m->q[best][m->head[best]])) best = p;
    if (best < 0) return -1;
    for (int p = 0; p < MODEL_PARTS; p++)
        if (m->active[p] && m->count[p] == 0 && m->last[p] <= m->q[best][m->head[best]]) return -1;
    return best;
}

Test(reorder, random_operations_match_a_brute_force_model) {
    /* Pushes, releases, activity changes and revocations in random order over a dozen
     * partitions: every peek must agree with the model on whether to wait and on which
     * partition's head goes next (ties between partitions, whose records here have equal
     * ids, broken by the lower partition id). */
    struct vg_reorder *r;
    cr_assert_eq(vg_reorder_create(&r, MODEL_PARTS * MODEL_CAP, MODEL_PARTS), VG_OK);
    struct model m = {0};
    for (int p = 0; p < MODEL_PARTS; p++) m.last[p] = INT64_MIN;
    srand(12345);
    int64_t offset = 0;
    for (int step = 0; step < 200000; step++) {
        int p = rand() % MODEL_PARTS, op = rand() % 100;
        if (op < 45 && m.count[p] < MODEL_CAP) { /* push a time >= the partition's newest */
            int64_t ts = (m.last[p] == INT64_MIN ? 0 : m.last[p]) + rand() % 7;
            push(r, p, offset++, ts);
            m.q[p][(m.head[p] + m.count[p]++) % MODEL_CAP] = ts;
            m.last[p] = ts;
            m.active[p] = true;
        } else if (op < 90) { /* release one */
            int want = model_next(&m);
            const struct vg_reorder_rec *rec = vg_reorder_peek(r, false);
            if (want < 0) {
                cr_assert_null(rec, "step %d: must wait", step);
                continue;
            }
            cr_assert_not_null(rec, "step %d: partition %d's head is releasable", step, want);
            cr_assert_eq(rec->partition, want, "step %d", step);
            cr_assert_eq(rec->txn.ts_ms, m.q[want][m.head[want]], "step %d", step);
            vg_reorder_pop(r);
            m.head[want] = (m.head[want] + 1) % MODEL_CAP;
            m.count[want]--;
        } else if (op < 98) { /* caught up / lagging again */
            bool active = rand() % 2;
            vg_reorder_set_active(r, p, active);
            m.active[p] = active;
        } else { /* revoked */
            vg_reorder_drop_partition(r, p);
            m.count[p] = 0;
            m.head[p] = 0;
            m.last[p] = INT64_MIN;
            m.active[p] = false;
        }
        int total = 0;
        for (int q = 0; q < MODEL_PARTS; q++) total += m.count[q];
        cr_assert_eq(vg_reorder_count(r), (uint32_t)total, "step %d", step);
    }
    vg_reorder_destroy(r);
}

/* Distributed mode: a lane with nothing queued is moved by its source's progress marker
 * (vg_reorder_advance): records strictly older than every waiting lane's marker leave, one
 * of the marker's own time waits (the source may still send another of that time), and a
 * marker never moves a lane back. */
Test(reorder, a_marker_moves_an_empty_lane) {
    struct vg_reorder *r;
    int64_t ts[4];
    cr_assert_eq(vg_reorder_create(&r, 16, 2), VG_OK);
    vg_reorder_set_active(r, 1, true);
    push(r, 0, 0, 100);
    push(r, 0, 1, 200);
    cr_expect_eq(release(r, ts, NULL, 4), 0, "lane 1 has said nothing yet");
    vg_reorder_advance(r, 1, 100);
    cr_expect_eq(release(r, ts, NULL, 4), 0, "a marker of the head's own time holds it");
    vg_reorder_advance(r, 1, 150);
    cr_assert_eq(release(r, ts, NULL, 4), 1);
    cr_expect_eq(ts[0], 100);
    vg_reorder_advance(r, 1, 120);
    cr_expect_eq(release(r, ts, NULL, 4), 0, "an older marker does not move the lane back");
    vg_reorder_set_active(r, 1, false); /* the source is idle */
    cr_assert_eq(release(r, ts, NULL, 4), 1);
    cr_expect_eq(ts[0], 200);
    vg_reorder_destroy(r);
}

/* Distributed mode: a source confirmed idle lets go what arrived before the confirmation,
 * and holds what arrives after it until it confirms again or delivers: two routers'
 * transactions land at different times, and the first records after a quiet spell must
 * not leave before the other source had the chance to deliver older ones. */
Test(reorder, an_idle_confirmation_holds_only_what_arrived_before_it) {
    struct vg_reorder *r;
    int64_t ts[4];
    int32_t part[4];
    cr_assert_eq(vg_reorder_create(&r, 16, 3), VG_OK);
    vg_reorder_confirm_idle(r, 1);
    vg_reorder_confirm_idle(r, 2);
    push(r, 0, 0, 100);
    cr_expect_eq(release(r, ts, NULL, 4), 0, "lanes 1 and 2 were confirmed idle before the record came");
    vg_reorder_confirm_idle(r, 1);
    cr_expect_eq(release(r, ts, NULL, 4), 0, "lane 2 not yet");
    vg_reorder_confirm_idle(r, 2);
    cr_assert_eq(release(r, ts, NULL, 4), 1, "both confirmed since");
    cr_expect_eq(ts[0], 100);
    push(r, 0, 1, 300);
    vg_reorder_confirm_idle(r, 0);
    cr_expect_eq(vg_reorder_count(r), 1, "a lane with records queued is not idle: no-op");
    push(r, 2, 0, 200); /* lane 2 resumes with an older record */
    cr_expect_eq(release(r, ts, NULL, 4), 0, "lane 1 was last confirmed before both records came");
    vg_reorder_confirm_idle(r, 1);
    cr_assert_eq(release(r, ts, part, 4), 1, "the older record first; lane 2, empty and active, then waits by time");
    cr_expect_eq(ts[0], 200);
    cr_expect_eq(part[0], 2);
    vg_reorder_confirm_idle(r, 2);
    cr_assert_eq(release(r, ts, NULL, 4), 1);
    cr_expect_eq(ts[0], 300);
    push(r, 0, 2, 400);
    cr_expect_eq(release(r, ts, NULL, 4), 0);
    vg_reorder_set_active(r, 1, false); /* unassigned: holds nothing any more */
    vg_reorder_set_active(r, 2, false);
    cr_expect_eq(release(r, ts, NULL, 4), 1);
    vg_reorder_destroy(r);
}

/* Spilling: the median queued time is the horizon; truncating a lane drops its records
 * younger than it (and every later one, so the lane keeps its order), caps its watermark
 * at the horizon, and reports where to read again. */
Test(reorder, truncating_a_lane_keeps_its_order_and_caps_its_watermark) {
    struct vg_reorder *r;
    int64_t ts[8], first = -1, kept = -2;
    int32_t part[8];
    cr_assert_eq(vg_reorder_create(&r, 8, 2), VG_OK);
    for (int i = 0; i < 6; i++) { /* lane 0 runs ahead: 100..600 at offsets 10..15 */
        struct vg_txn t = txn_at(100 * (i + 1));
        vg_reorder_push(r, 0, 10 + i, &t, 0, false, 7, 1000 + i);
    }
    struct vg_txn t = txn_at(150);
    vg_reorder_push(r, 1, 3, &t, 0, false, 7, 50);
    vg_reorder_advance(r, 1, 150);
    cr_expect_eq(vg_reorder_spill_horizon(r), 300, "the median of 100,150,200,...,600");
    cr_assert_eq(vg_reorder_truncate(r, 0, 300, &first, &kept), 3);
    cr_expect_eq(first, 13, "offset of 400, the first dropped");
    cr_expect_eq(kept, 1002, "source offset of 300, the last kept");
    cr_expect_eq(vg_reorder_count(r), 4);
    cr_expect_eq(vg_reorder_truncate(r, 1, 300, &first, &kept), 0, "lane 1 holds nothing younger");
    cr_assert_eq(release(r, ts, part, 8), 2, "100 and 150: lane 1, empty, has shown 150 only");
    cr_expect_eq(ts[1], 150);
    cr_expect_eq(part[1], 1);
    vg_reorder_advance(r, 1, 1000);
    cr_assert_eq(release(r, ts, NULL, 8), 2);
    cr_expect_eq(ts[1], 300);
    cr_expect_eq(vg_reorder_wait_bound(r), 300, "lane 0, empty, waits at the horizon");
    cr_expect_eq(vg_reorder_truncate(r, 0, 300, &first, &kept), 0);
    vg_reorder_destroy(r);
}
