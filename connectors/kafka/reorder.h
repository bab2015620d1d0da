/* reorder.h - event-time merge of a topic's partitions before the engine.
 *
 * Kafka orders records within a partition only; a consumer reads partitions in chunks, so
 * a stream spread over several partitions (kcat with no key spreads records at random)
 * reaches the engine far out of event-time order, and a window rule evaluated at one
 * record would miss records of the same window still sitting in another partition. This
 * buffer holds parsed records per partition (FIFO, so offsets within a partition are
 * released in order) and releases them as a k-way merge by event time, ties by transaction
 * id in natural order (so a stream sorted by time with rising ids, as AMLworld's line
 * numbers are, comes out in its file order): the head with the smallest (time, id) goes
 * out once no active partition can still deliver one as old, i.e.
 * once every active partition (assigned, and not idle: the caller decides, see
 * kafka_run.c) has a record queued or has shown a newer time (the per-partition
 * watermark; partitions are assumed ordered, as producers of time-ordered streams make
 * them). A partition with nothing queued holds the merge until it delivers or is declared
 * idle; there is no release by elapsed time. Bounded: when full, the oldest head is
 * released anyway and counted as forced. An urgent record (a far-future one that would
 * otherwise hold its partition's later records for ever) is released as soon as it is its
 * partition's head and does not count as the partition's progress.
 *
 * One owner thread (the consumer loop); no allocation after create. */
#ifndef VIGIL_KAFKA_REORDER_H
#define VIGIL_KAFKA_REORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/txn.h"

struct vg_reorder;

/* A buffered record. */
struct vg_reorder_rec {
    struct vg_txn txn;
    int64_t offset;
    int64_t arrival_ns;
    int32_t partition;
    bool urgent;            /* released at once, not part of the partition's watermark */
    uint8_t sides;          /* VG_SIDE_* the engine routes (all of them but in distributed mode) */
    int64_t source_offset;  /* distributed mode: the record's offset in its input partition */
    int64_t stamp;          /* internal: pushes before it and it (orders arrivals) */
    uint32_t next;          /* internal: next record of the partition's queue */
};

/* capacity: records held at most; partitions: partition ids are 0..partitions-1.
 * Returns VG_OK or VG_ERR_NOMEM. */
int vg_reorder_create(struct vg_reorder **out, uint32_t capacity, int32_t partitions);
void vg_reorder_destroy(struct vg_reorder *r);

bool vg_reorder_full(const struct vg_reorder *r);
uint32_t vg_reorder_count(const struct vg_reorder *r);

/* Queues a parsed record of `partition` (caller checks vg_reorder_full first). Marks the
 * partition active. urgent: see above. */
void vg_reorder_push(struct vg_reorder *r, int32_t partition, int64_t offset, const struct vg_txn *txn,
                     int64_t arrival_ns, bool urgent, uint8_t sides, int64_t source_offset);

/* A partition's source says it has delivered everything older than ts_ms (a progress
 * marker of the repartition topic): raises its watermark as a pushed record would. */
void vg_reorder_advance(struct vg_reorder *r, int32_t partition, int64_t ts_ms);

/* Whether an empty partition may still deliver records the merge must wait for: true for
 * an assigned partition that is not idle, false once idle or unassigned. */
void vg_reorder_set_active(struct vg_reorder *r, int32_t partition, bool active);
/* A partition with nothing queued whose source says it is idle (a marker of the repartition
 * topic): it stops holding the records that arrived before this call, and holds those that
 * arrive after it until the next confirmation or its next record. A source that resumes
 * after an idle spell is one marker period ahead of the records another source delivered
 * meanwhile, so they wait for it rather than leave first. No-op while records are queued. */
void vg_reorder_confirm_idle(struct vg_reorder *r, int32_t partition);
bool vg_reorder_is_active(const struct vg_reorder *r, int32_t partition);

/* The next record to release, or NULL while the merge must wait. Releases regardless of
 * the watermark when `flush` is set (shutdown, rebalance) or when the buffer is full. */
const struct vg_reorder_rec *vg_reorder_peek(struct vg_reorder *r, bool flush);
/* Removes the record vg_reorder_peek returned. */
void vg_reorder_pop(struct vg_reorder *r);

/* Offset of the oldest record queued for `partition`, -1 when none (the consumer's
 * position for commits and checkpoints must not pass it). */
int64_t vg_reorder_first_offset(const struct vg_reorder *r, int32_t partition);

/* Drops every record queued for `partition` (revoked: the next owner reads them again). */
void vg_reorder_drop_partition(struct vg_reorder *r, int32_t partition);

/* The newest time every waiting partition has shown (records older than it may leave);
 * INT64_MAX when none is waited for. */
int64_t vg_reorder_wait_bound(const struct vg_reorder *r);
uint32_t vg_reorder_capacity(const struct vg_reorder *r);

/* Spilling (distributed mode: a lane far ahead of the others would fill the buffer). The
 * median event time of the queued records (urgent ones aside), INT64_MAX when none: the
 * caller drops what is younger and reads it again later. */
int64_t vg_reorder_spill_horizon(struct vg_reorder *r);
/* Drops `partition`'s queued records from the first one younger than horizon (urgent ones
 * before it stay) to its tail, so the partition keeps its order; its watermark becomes at
 * most horizon (its next records are younger). Returns how many it dropped; when some,
 * sets the offset of the first dropped and the source offset of the last kept (-1: none). */
/* The oldest newest-time among active partitions, queued or not (INT64_MAX: none): once it
 * has reached the spill's horizon, every lane has delivered everything up to it. O(partitions). */
int64_t vg_reorder_slowest(const struct vg_reorder *r);
uint32_t vg_reorder_truncate(struct vg_reorder *r, int32_t partition, int64_t horizon, int64_t *first_dropped_offset,
                             int64_t *last_kept_source_offset);
/* Records released out of event-time order because the buffer was full. */
uint64_t vg_reorder_forced(const struct vg_reorder *r);

#endif
