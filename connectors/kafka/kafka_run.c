/* kafka_run.c - Kafka mode of vigild: the consumer loop feeding the engine through the
 * event-time merge of partitions, rebalances, back-pressure, lag, start and shutdown.
 * Offsets and commits: kafka_commit.c; state.dir checkpoints: kafka_state.c; output side:
 * kafka_out.c. */
#include "kafka/kafka_run.h"
#include "kafka/kafka_health.h"
#include "kafka/reorder.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "vigil/checkpoint.h"
#include "vigil/ingest.h"
#include "vigil/log.h"

static void kt_reorder_forget_unassigned(struct kt_run *r);
static void kt_lanes_drop(struct kt_run *r, int32_t p);
static void kt_reorder_activity(struct kt_run *r, int64_t now);
static void kt_starve(struct kt_run *r, int32_t p);

void kt_fatal(struct kt_run *r, const char *what, const char *why) {
    if (!r->fatal) {
        r->fatal = true;
        snprintf(r->fatal_msg, sizeof(r->fatal_msg), "%s: %s", what, why);
        vg_error("kafka_fatal", "msg=\"%s\"", r->fatal_msg);
    }
}

/* Makes everything consumed so far committed: drain the engine, wait for the acks, commit
 * (or run the final transaction). Used on revoke and at shutdown. After a failure nothing
 * past the failure is committed. */
static void kt_quiesce(struct kt_run *r) {
    int64_t now;

    if (!kt_failing(r))
        kt_release(r, true); /* what waits in the merge buffer was read: process it first */
    now = vg_now_mono_ns();
    kt_ckpt_close(r, now);
    if (kt_failing(r)) {
        /* Commit only what was already safe before the failure. */
        if (!r->out.transactional) {
            kt_ckpt_advance(r);
            kt_commit(r, true);
        }
        return;
    }
    vg_engine_flush(r->engine);
    vg_engine_drain(r->engine);
    kt_ckpt_close(r, now); /* nothing new, but keeps the ring invariant simple */
    if (r->out.transactional) {
        kt_txn(r);
        return;
    }
    /* Stopping, the wait ends with engine.shutdown_timeout (kt_out_wait_ms). */
    int wait_ms = kt_out_wait_ms(&r->out, KT_QUIESCE_ACK_MS);
    if (!kt_out_wait_acked(&r->out, wait_ms)) {
        if (atomic_load(&r->out.deadline_ns))
            atomic_store(&r->out.incomplete, true);
        vg_warn("kafka_acks_pending", "msg=\"alerts not acknowledged in %d ms; committing only "
                                      "what is safe\"", wait_ms);
    }
    kt_ckpt_advance(r);
    kt_commit(r, true);
}

/* ---- assignment, fetcher, lag --------------------------------------------------------- */

/* A partition queue ran empty after holding at least half a prefetch threshold, so
 * librdkafka may be sleeping out its 1 s queue-full back-off while the backlog waits. A
 * seek of each such lagging partition to its current position (the offset after the last
 * message this assignment returned) restarts its fetch at once: nothing prefetched is
 * discarded (its queue is empty), a fetch in flight is only fetched again, and nothing is
 * skipped or read twice. Partitions with no position yet in this assignment are left
 * alone (any seek wakes the whole broker thread anyway). At most one scan per
 * KT_KICK_GAP_NS. */
static void kt_kick_fetcher(struct kt_run *r, int64_t now) {
    rd_kafka_topic_partition_list_t *pos, *lagging;
    rd_kafka_error_t *error;
    bool any_full = false;

    if (!r->kick_fetcher || !r->assigned || r->assigned->cnt == 0 ||
        now - r->last_kick_ns < KT_KICK_GAP_NS)
        return;
    for (int i = 0; i < r->assigned->cnt && !any_full; i++) {
        int32_t p = r->assigned->elems[i].partition;
        any_full = p >= 0 && p < KT_MAX_PARTITIONS && r->was_full[p];
    }
    if (!any_full)
        return;
    pos = rd_kafka_topic_partition_list_copy(r->assigned);
    lagging = rd_kafka_topic_partition_list_new(pos->cnt);
    if (rd_kafka_position(r->consumer, pos) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < pos->cnt; i++) {
            int64_t lo = -1, hi = -1;
            int32_t p = pos->elems[i].partition;
            /* Only partitions that reached the prefetch threshold (a live stream read as
             * it comes never does, and a seek would throw away the fetch in flight) and
             * are read to empty (a seek discards what librdkafka prefetched). */
            if (p < 0 || p >= KT_MAX_PARTITIONS || !r->part_queue[p] || !r->was_full[p] ||
                r->pending[p].next < r->pending[p].count ||
                rd_kafka_queue_length(r->part_queue[p]) > 0)
                continue;
            r->was_full[p] = false; /* read to empty: kicked now, or caught up */
            /* Distributed mode: a spill that ended seeks back (kt_spill_end); librdkafka's
             * position may not show that seek yet, and a kick to it would undo it. */
            if (r->lanes && r->read_next[p] >= 0)
                pos->elems[i].offset = r->read_next[p];
            if (pos->elems[i].err || pos->elems[i].offset < 0 ||
                rd_kafka_get_watermark_offsets(r->consumer, pos->elems[i].topic,
                                               pos->elems[i].partition, &lo, &hi) ||
                hi <= pos->elems[i].offset)
                continue; /* nothing read yet, or nothing more there (cached watermark) */
            rd_kafka_topic_partition_list_add(lagging, pos->elems[i].topic,
                                              pos->elems[i].partition)->offset =
                pos->elems[i].offset;
        }
    }
    if (lagging->cnt > 0) {
        error = rd_kafka_seek_partitions(r->consumer, lagging, 0); /* 0: asynchronous */
        if (error) {
            vg_debug("kafka_fetcher_kick_failed", "msg=\"%s\"", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        } else {
            r->kicks++;
            vg_debug("kafka_fetcher_kick", "partitions=%d", lagging->cnt);
        }
    }
    r->last_kick_ns = now;
    rd_kafka_topic_partition_list_destroy(lagging);
    rd_kafka_topic_partition_list_destroy(pos);
}

/* Reads partition p from its own queue from now on (see struct kt_run). Called before the
 * partition is assigned, so librdkafka's fetch start (which forwards a partition's queue to
 * the consumer queue unless the application set the forwarding) leaves it alone. */
static void kt_partition_open(struct kt_run *r, const char *topic, int32_t p) {
    rd_kafka_queue_t *q;

    if (r->part_queue[p])
        return;
    q = rd_kafka_queue_get_partition(r->consumer, topic, p);
    if (!q) {
        kt_fatal(r, "assignment", "no queue for an assigned partition");
        return;
    }
    rd_kafka_queue_forward(q, NULL);
    rd_kafka_queue_io_event_enable(q, r->wake_fd[1], "p", 1);
    r->part_queue[p] = q;
    kt_starve(r, p);
}

/* Partition p is no longer assigned: what was taken from its queue and not handled is
 * dropped unread (its offsets were never counted as consumed; the next owner reads it). */
static void kt_partition_close(struct kt_run *r, int32_t p) {
    struct kt_pending *pd = &r->pending[p];

    while (pd->next < pd->count)
        rd_kafka_message_destroy(pd->msgs[pd->next++]);
    pd->next = pd->count = 0;
    if (!r->part_queue[p])
        return;
    rd_kafka_queue_io_event_enable(r->part_queue[p], -1, NULL, 0);
    rd_kafka_queue_destroy(r->part_queue[p]);
    r->part_queue[p] = NULL;
}

static void kt_partition_close_all(struct kt_run *r) {
    for (int32_t p = 0; p < KT_MAX_PARTITIONS; p++)
        kt_partition_close(r, p);
}

static void kt_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts, void *opaque) {
    struct kt_run *r = opaque;
    rd_kafka_error_t *error = NULL;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            if (parts->elems[i].partition >= KT_MAX_PARTITIONS) {
                kt_fatal(r, "assignment", "input topic has more partitions than supported (1024)");
                break;
            }
        }
        if (r->tasks_on)
            kt_tasks_assign(r, parts); /* the tasks' state, and where each resumes */
        kt_state_initial(r, parts);
        kt_state_seek(r, parts);
        for (int i = 0; i < parts->cnt && !r->fatal; i++)
            kt_partition_open(r, parts->elems[i].topic, parts->elems[i].partition);
        if (r->cooperative) {
            error = rd_kafka_incremental_assign(rk, parts);
            if (!r->assigned)
                r->assigned = rd_kafka_topic_partition_list_new(parts->cnt);
            for (int i = 0; i < parts->cnt; i++)
                rd_kafka_topic_partition_list_add(r->assigned, parts->elems[i].topic,
                                                  parts->elems[i].partition);
        } else {
            rd_kafka_assign(rk, parts);
            if (r->assigned)
                rd_kafka_topic_partition_list_destroy(r->assigned);
            r->assigned = rd_kafka_topic_partition_list_copy(parts);
        }
        kt_reorder_forget_unassigned(r);
        if (r->tasks_on && !r->fatal)
            kt_tasks_initial(r, parts);
        /* A new partition holds the merge until it delivers or is idle for idle_timeout. */
        for (int i = 0; i < parts->cnt; i++)
            if (parts->elems[i].partition >= 0 && parts->elems[i].partition < KT_MAX_PARTITIONS)
                r->last_fetch_ns[parts->elems[i].partition] = vg_now_mono_ns();
        vg_info("kafka_assigned", "partitions=%d", parts->cnt);
        if (!r->started) { /* connected: the group gave this member its partitions */
            r->started = true;
            vg_info("kafka_started", "topic=%s group=%s partitions=%d connect_ms=%lld", r->topic,
                    r->group, parts->cnt, (long long)((vg_now_mono_ns() - r->connect_ns) / 1000000));
        }
        atomic_store(&r->d->consuming, true);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        atomic_store(&r->d->consuming, false);
        vg_info("kafka_revoked", "partitions=%d", parts->cnt);
        for (int i = 0; r->lanes && i < parts->cnt; i++)
            if (parts->elems[i].partition >= 0 && parts->elems[i].partition < KT_MAX_PARTITIONS)
                kt_lanes_drop(r, parts->elems[i].partition);
        /* Everything consumed from these partitions is processed, its alerts acknowledged
         * and its offsets committed before another member may read them. */
        kt_quiesce(r);
        if (r->tasks_on && !kt_failing(r) && kt_tasks_save(r, parts) != VG_OK)
            kt_fatal(r, "task state", "could not store the revoked tasks' state in state.topic");
        if (r->tasks_on)
            kt_tasks_revoked(r);
        if (r->cooperative) {
            error = rd_kafka_incremental_unassign(rk, parts);
            for (int i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_list_del(r->assigned, parts->elems[i].topic,
                                                  parts->elems[i].partition);
                if (parts->elems[i].partition >= 0 && parts->elems[i].partition < KT_MAX_PARTITIONS)
                    kt_partition_close(r, parts->elems[i].partition);
            }
        } else {
            rd_kafka_assign(rk, NULL);
            if (r->assigned)
                rd_kafka_topic_partition_list_destroy(r->assigned);
            r->assigned = NULL;
            kt_partition_close_all(r);
        }
        kt_reorder_forget_unassigned(r);
    } else {
        vg_warn("kafka_rebalance_error", "error=%s", rd_kafka_err2name(err));
        rd_kafka_assign(rk, NULL);
        if (r->assigned)
            rd_kafka_topic_partition_list_destroy(r->assigned);
        r->assigned = NULL;
        kt_partition_close_all(r);
        atomic_store(&r->d->consuming, false);
    }
    if (error) {
        vg_warn("kafka_rebalance_error", "msg=\"%s\"", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

/* Publishes per-partition lag from the watermarks cached by fetch responses (no I/O). */
static void kt_publish_lag(struct kt_run *r) {
    int top = 0;

    if (!r->assigned)
        return;
    for (int i = 0; i < r->assigned->cnt; i++) {
        int32_t p = r->assigned->elems[i].partition;
        int64_t lo = -1, hi = -1, lag;
        if (p < 0 || p >= (int32_t)VG_ARRAY_LEN(r->d->lag))
            continue;
        if (rd_kafka_get_watermark_offsets(r->consumer, r->assigned->elems[i].topic, p, &lo,
                                           &hi) || hi < 0)
            continue;
        lag = r->consumed_next[p] >= 0 ? hi - r->consumed_next[p] : hi - VG_MAX(lo, 0);
        atomic_store_explicit(&r->d->lag[p], VG_MAX(lag, 0), memory_order_relaxed);
        top = VG_MAX(top, p + 1);
    }
    atomic_store_explicit(&r->d->lag_partitions, top, memory_order_release);
}

/* Periodic work that must go on even while the input waits for engine room. */
static void kt_service(struct kt_run *r, int64_t now) {
    char why[200];

    if (!r->out.transactional) {
        kt_out_poll(&r->out);
        kt_ckpt_advance(r);
        if (now - r->last_commit_ns >= KT_COMMIT_EVERY_NS) {
            r->last_commit_ns = now;
            kt_commit(r, false);
        }
    } else if (now - r->last_txn_ns >= KT_TXN_EVERY_NS) {
        r->last_txn_ns = now;
        kt_txn(r);
    }
    if (now - r->last_lag_ns >= KT_LAG_EVERY_NS) {
        r->last_lag_ns = now;
        kt_publish_lag(r);
        atomic_store_explicit(&r->d->merge_forced, vg_reorder_forced(r->reorder), memory_order_relaxed);
    }
    if (rd_kafka_fatal_error(r->out.rk, why, sizeof(why)))
        kt_fatal(r, "producer", why);
    if (vg_router_failed(r->router, why, sizeof(why)))
        kt_fatal(r, "router", why);
    if (rd_kafka_fatal_error(r->consumer, why, sizeof(why)))
        kt_fatal(r, "consumer", why);
}

/* ---- input ---------------------------------------------------------------------------- */

/* Queues one record; while the engine is full, waits and keeps servicing the output. The
 * consumer is not polled meanwhile, so librdkafka stops prefetching at its queue
 * thresholds (bounded memory). Partitions are not paused: a pause/resume discards every
 * prefetched message and the fetch restarts only after librdkafka's back-off (0.6 s
 * measured), which cost more than the whole engine stall it answered. Returns VG_OK, or
 * VG_ERR_IO when the run is failing (the record was not queued). */
static int kt_submit(struct kt_run *r, struct vg_txn *txn, int64_t arrival_ns, unsigned sides) {
    int rc;

    txn->seq = r->next_seq;
    rc = vg_engine_try_submit_sides(r->engine, txn, arrival_ns, sides);
    while (rc == VG_ERR_FULL) {
        struct timespec wait_ts = {0, 100000};
        if (kt_failing(r))
            return VG_ERR_IO;
        nanosleep(&wait_ts, NULL);
        rc = vg_engine_try_submit_sides(r->engine, txn, arrival_ns, sides);
        if (rc == VG_ERR_FULL)
            kt_service(r, vg_now_mono_ns());
    }
    if (rc != VG_OK) {
        kt_fatal(r, "engine", "refused a record");
        return VG_ERR_IO;
    }
    r->next_seq++;
    return VG_OK;
}

/* ---- event-time merge (reorder.h) ------------------------------------------------------- */

static bool kt_spill(struct kt_run *r);

/* consumed_next stops at the oldest record of the partition still in the merge buffer. */
static void kt_sync_position(struct kt_run *r, int32_t p) {
    int64_t first = -1;
    for (int32_t l = p * r->lanes_per_part; l < (p + 1) * r->lanes_per_part; l++) {
        int64_t o = vg_reorder_first_offset(r->reorder, l);
        if (o >= 0 && (first < 0 || o < first))
            first = o;
    }
    r->consumed_next[p] = first >= 0 ? first : r->read_next[p];
    if (r->lanes && r->rewind[p] >= 0 && r->rewind[p] < r->consumed_next[p])
        r->consumed_next[p] = r->rewind[p]; /* dropped records are read again from there */
}

/* Before records of other partitions may pass partition p: whether the broker's high
 * watermark, asked now, is no further than the consumer's position. The cached watermark is
 * as old as the last fetch response; a consumer starved of CPU, or a fetch that lags, would
 * otherwise call a partition idle while its records wait at the broker, and they would
 * arrive late. At most one query per partition every KT_ASK_EVERY_NS (in between, and
 * when the broker does not answer, the partition is waited for). */
static bool kt_caught_up_now(struct kt_run *r, const char *topic, int32_t p, int64_t pos, int64_t now) {
    int64_t lo = -1, hi = -1;
    if (now - r->asked_ns[p] < KT_ASK_EVERY_NS)
        return false;
    r->asked_ns[p] = now;
    if (rd_kafka_query_watermark_offsets(r->consumer, topic, p, &lo, &hi, KT_ASK_MS))
        return false;
    return hi <= lo || pos >= hi;
}

/* Which partitions the merge waits for (the alignment of Flink's watermarks with
 * idleness, or Kafka Streams' max.task.idle.ms): every assigned partition with nothing
 * queued, until it has fetched nothing new for input.idle_timeout AND is not known to lag
 * (its position has reached the high watermark cached from fetch responses). A partition
 * known to lag is always waited for: its records are on the way, and releasing past them
 * would make them late. Called between batches and from the idle loop (every
 * KT_IDLE_POLL_MS at most), so idleness is noticed within that much of the timeout. */
static void kt_reorder_activity(struct kt_run *r, int64_t now) {
    rd_kafka_topic_partition_list_t *quiet = NULL;
    int64_t idle_ns = r->d->cfg->input.idle_timeout_ms * 1000000LL;

    if (!r->assigned || r->lanes) /* lanes: the sources' markers say when they are idle */
        return;
    for (int i = 0; i < r->assigned->cnt; i++) {
        int32_t p = r->assigned->elems[i].partition;
        if (p < 0 || p >= KT_MAX_PARTITIONS)
            continue;
        if (vg_reorder_first_offset(r->reorder, p) >= 0 || now - r->last_fetch_ns[p] < idle_ns) {
            vg_reorder_set_active(r->reorder, p, true);
            continue;
        }
        if (!quiet)
            quiet = rd_kafka_topic_partition_list_new(r->assigned->cnt);
        rd_kafka_topic_partition_list_add(quiet, r->assigned->elems[i].topic, p);
    }
    if (!quiet)
        return;
    /* The consumer's position (past control records of transactional producers too) against
     * the cached high watermark; an unknown watermark counts as no known lag. */
    if (rd_kafka_position(r->consumer, quiet) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < quiet->cnt; i++)
            quiet->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
    }
    for (int i = 0; i < quiet->cnt; i++) {
        int32_t p = quiet->elems[i].partition;
        int64_t lo = -1, hi = -1, pos = VG_MAX(quiet->elems[i].offset, r->read_next[p]);
        bool known = !rd_kafka_get_watermark_offsets(r->consumer, quiet->elems[i].topic, p, &lo, &hi) && hi >= 0;
        bool lagging = known && hi > lo && pos >= 0 && pos < hi;
        /* Nothing read yet in this assignment: the position is unknown until a message is
         * consumed (and the watermark until the first fetch answers), so a partition that
         * may hold records is waited for up to KT_FIRST_FETCH_GRACE_NS since it was
         * assigned; one fully consumed before a restart then stops holding the others. */
        if (pos < 0 && (!known || hi > lo))
            lagging = now - r->last_fetch_ns[p] < VG_MAX(KT_FIRST_FETCH_GRACE_NS, idle_ns);
        if (!lagging && pos >= 0 && vg_reorder_count(r->reorder) > 0 && vg_reorder_is_active(r->reorder, p) &&
            !kt_caught_up_now(r, quiet->elems[i].topic, p, pos, now))
            lagging = true;
        if (!lagging && vg_reorder_count(r->reorder) > 0 && vg_reorder_is_active(r->reorder, p)) {
            vg_debug("merge_partition_idle", "partition=%d quiet_ms=%lld position=%lld read_next=%lld high_watermark=%lld "
                     "queued=%u", p, (long long)((now - r->last_fetch_ns[p]) / 1000000), (long long)quiet->elems[i].offset,
                     (long long)r->read_next[p], (long long)hi, vg_reorder_count(r->reorder));
            r->idle_releases++;
            atomic_store_explicit(&r->d->merge_idle_releases, r->idle_releases, memory_order_relaxed);
        }
        vg_reorder_set_active(r->reorder, p, lagging);
    }
    rd_kafka_topic_partition_list_destroy(quiet);
}

/* Hands the engine the record vg_reorder_peek returned and takes it out of the merge.
 * Returns VG_OK, or VG_ERR_IO when the run is failing (the record stays). */
static int kt_release_head(struct kt_run *r, const struct vg_reorder_rec *rec) {
    struct vg_txn txn;
    vg_txn_copy(&txn, &rec->txn);
    int32_t p = rec->partition / r->lanes_per_part;
    uint64_t seq = r->next_seq;

    if (kt_submit(r, &txn, rec->arrival_ns, rec->sides) != VG_OK)
        return VG_ERR_IO;
    if (r->lanes)
        r->lane_done[rec->partition] = rec->source_offset;
    if (rec->offset < r->replay_until[p]) {
        if (kt_out_mute(&r->out, seq) != VG_OK)
            return VG_ERR_IO;
        r->replayed++;
    }
    vg_reorder_pop(r->reorder);
    kt_sync_position(r, p);
    r->consumed++;
    r->since_ckpt_msgs++;
    return VG_OK;
}

/* Hands the engine every record the merge lets go (all of them with `flush`: rebalance,
 * shutdown) without reading more. Returns VG_OK, or VG_ERR_IO when the run is failing. */
int kt_release(struct kt_run *r, bool flush) {
    const struct vg_reorder_rec *rec;

    if (!flush && r->lanes && vg_reorder_full(r->reorder))
        kt_spill(r); /* rather than release out of order */
    while ((rec = vg_reorder_peek(r->reorder, flush)) != NULL) {
        int32_t p = rec->partition / r->lanes_per_part;
        if (kt_release_head(r, rec) != VG_OK)
            return VG_ERR_IO;
        if (r->lanes || vg_reorder_first_offset(r->reorder, p) < 0)
            kt_starve(r, p);
    }
    return VG_OK;
}

/* Partitions handed back by a rebalance: nothing of theirs may wait in the buffer. */
static void kt_reorder_forget_unassigned(struct kt_run *r) {
    int32_t parts = r->lanes ? r->d->cfg->input.repartition_partitions + 1 : KT_MAX_PARTITIONS;
    for (int32_t p = 0; p < parts; p++) {
        bool assigned = false;
        for (int i = 0; r->assigned && i < r->assigned->cnt; i++)
            if (r->assigned->elems[i].partition == p)
                assigned = true;
        if (!r->lanes) {
            if (!assigned)
                vg_reorder_set_active(r->reorder, p, false);
            continue;
        }
        /* A lane of an assigned partition holds the merge until its source's marker says
         * how far it is or that it is idle. */
        for (int32_t l = p * r->lanes_per_part; l < (p + 1) * r->lanes_per_part; l++)
            if (!assigned || vg_reorder_first_offset(r->reorder, l) < 0)
                vg_reorder_set_active(r->reorder, l, assigned);
    }
}

/* Distributed mode, on revoke: what waits in the merge of partition p is dropped and read
 * again (by the next owner, or by this one from the committed offset): released now, out of
 * its lanes' order, it would change what the windows see. */
static void kt_lanes_drop(struct kt_run *r, int32_t p) {
    kt_sync_position(r, p);
    for (int32_t l = p * r->lanes_per_part; l < (p + 1) * r->lanes_per_part; l++) {
        vg_reorder_drop_partition(r->reorder, l);
        r->lane_read[l] = r->lane_done[l]; /* what was dropped is read again */
        r->skipping[l] = false;
    }
    r->read_next[p] = r->consumed_next[p];
    r->rewind[p] = -1;
}

/* A message of the repartition topic (distributed mode): a progress marker moves its lane;
 * an event is parsed into its lane. Returns true when a record was queued. */
static bool kt_lane_message(struct kt_run *r, rd_kafka_message_t *m, int32_t *lane, uint8_t *sides,
                            int64_t *source_offset, int64_t *ts_ms) {
    rd_kafka_headers_t *hdrs = NULL;
    const void *v;
    size_t n;
    int32_t src;

    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(hdrs, VG_HDR_SRC, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || n != 4) {
        *lane = -1;
        return false;
    }
    src = (int32_t)vg_be32(v);
    if (src < 0 || src >= r->lanes_per_part) {
        *lane = -1;
        return false;
    }
    *lane = m->partition * r->lanes_per_part + src;
    if (rd_kafka_header_get_last(hdrs, VG_HDR_MARK, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && n == 8) {
        int64_t ts = (int64_t)vg_be64(v);
        bool idle = rd_kafka_header_get_last(hdrs, VG_HDR_IDLE, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && n == 1 &&
                    *(const uint8_t *)v;
        if (r->skipping[*lane]) { /* records of it were dropped: it has not passed the horizon */
            if (ts != INT64_MIN)
                vg_reorder_advance(r->reorder, *lane, VG_MIN(ts, r->horizon));
            *sides = 0;
            return true;
        }
        if (ts != INT64_MIN)
            vg_reorder_advance(r->reorder, *lane, ts);
        if (idle)
            vg_reorder_confirm_idle(r->reorder, *lane);
        else if (vg_reorder_first_offset(r->reorder, *lane) < 0)
            vg_reorder_set_active(r->reorder, *lane, true);
        *sides = 0;
        return true;
    }
    if (rd_kafka_header_get_last(hdrs, VG_HDR_SIDE, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || n != 1) {
        *lane = -1;
        return false;
    }
    *sides = *(const uint8_t *)v & VG_SIDE_ALL;
    if (rd_kafka_header_get_last(hdrs, VG_HDR_OFF, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || n != 8) {
        *lane = -1;
        return false;
    }
    *source_offset = (int64_t)vg_be64(v);
    *ts_ms = rd_kafka_header_get_last(hdrs, VG_HDR_TS, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && n == 8
                 ? (int64_t)vg_be64(v) : INT64_MIN;
    return true;
}

/* A record of a lane younger than the spill's horizon, or of a lane that had records
 * dropped: not queued; its repartition partition is read again from the first such. */
static void kt_skip(struct kt_run *r, int32_t p, int32_t lane, int64_t offset) {
    r->skipping[lane] = true;
    if (r->rewind[p] < 0 || offset < r->rewind[p])
        r->rewind[p] = offset;
    r->read_next[p] = offset + 1;
    kt_sync_position(r, p);
}

/* The merge is full (distributed mode): instead of releasing its oldest record out of
 * order, drops every lane's records younger than the median queued time (see struct
 * kt_run, "Spilling"). Returns false when that frees nothing (then the merge forces). */
static bool kt_spill(struct kt_run *r) {
    int64_t horizon = VG_MIN(vg_reorder_spill_horizon(r->reorder), r->horizon);
    uint64_t dropped = 0;
    if (horizon == INT64_MAX)
        return false;
    for (int32_t l = 0; l < r->n_lanes; l++) {
        int64_t first = -1, kept = -1;
        uint32_t n = vg_reorder_truncate(r->reorder, l, horizon, &first, &kept);
        if (!n)
            continue;
        int32_t p = l / r->lanes_per_part;
        dropped += n;
        r->skipping[l] = true;
        r->lane_read[l] = kept >= 0 ? kept : r->lane_done[l]; /* read again past what stays */
        if (r->rewind[p] < 0 || first < r->rewind[p])
            r->rewind[p] = first;
        kt_sync_position(r, p);
    }
    if (!dropped)
        return false;
    r->horizon = horizon;
    r->spills++;
    r->spilled += dropped;
    vg_debug("merge_spilled", "horizon_ms=%lld wait_bound_ms=%lld dropped=%llu queued=%u", (long long)horizon,
             (long long)vg_reorder_wait_bound(r->reorder), (unsigned long long)dropped, vg_reorder_count(r->reorder));
    return true;
}

/* Ends a spill once every active lane has reached its horizon:
 * the partitions with dropped records are read again from the first of them. Records
 * between there and the position are copies for the lanes that kept theirs (lane_read). */
static void kt_spill_end(struct kt_run *r) {
    if (!r->lanes || r->horizon == INT64_MAX || vg_reorder_slowest(r->reorder) < r->horizon)
        return;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    for (int32_t p = 0; p < r->n_lanes / r->lanes_per_part; p++) {
        if (r->rewind[p] < 0)
            continue;
        struct kt_pending *pd = &r->pending[p];
        while (pd->next < pd->count) /* taken from the queue before the seek: read again */
            rd_kafka_message_destroy(pd->msgs[pd->next++]);
        pd->next = pd->count = 0;
        rd_kafka_topic_partition_list_add(parts, r->topic, p)->offset = r->rewind[p];
        r->read_next[p] = r->rewind[p];
        r->was_full[p] = false;
        r->rewind[p] = -1;
        kt_sync_position(r, p);
        kt_starve(r, p);
    }
    for (int32_t l = 0; l < r->n_lanes; l++)
        r->skipping[l] = false;
    vg_debug("merge_spill_end", "horizon_ms=%lld partitions=%d queued=%u", (long long)r->horizon, parts->cnt,
             vg_reorder_count(r->reorder));
    r->horizon = INT64_MAX;
    if (parts->cnt) {
        /* Asynchronous, as kt_kick_fetcher's: the seek bumps the partition's op version, and
         * librdkafka discards what it fetched before (purged from the partition's queue). */
        rd_kafka_error_t *error = rd_kafka_seek_partitions(r->consumer, parts, 0);
        if (error) {
            kt_fatal(r, "spill", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

/* Parses one message into the merge, or dead-letters it. arrival_ns: when it was taken
 * from librdkafka. Returns true when the record was queued in the merge. */
static bool kt_handle_message(struct kt_run *r, rd_kafka_message_t *m, int64_t arrival_ns) {
    int32_t p = m->partition;
    struct vg_txn txn;
    struct vg_parse_error perr;

    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            vg_warn("kafka_consume_error", "error=%s msg=\"%s\"", rd_kafka_err2name(m->err),
                    rd_kafka_message_errstr(m));
        return false;
    }
    if (p < 0 || p >= KT_MAX_PARTITIONS) {
        kt_fatal(r, "consume", "partition id out of range");
        return false;
    }
    /* Never process a record twice in one process (a rebalance that hands a partition
     * back before the commit landed). */
    if (m->offset < r->read_next[p]) {
        r->skipped_duplicates++;
        return false;
    }
    int32_t lane = p;
    uint8_t sides = VG_SIDE_ALL;
    int64_t source_offset = -1, lane_ts = INT64_MIN;
    if (r->lanes) {
        bool ok = kt_lane_message(r, m, &lane, &sides, &source_offset, &lane_ts);
        if (ok && sides == 0) { /* a marker: nothing for the engine */
            r->read_next[p] = m->offset + 1;
            kt_sync_position(r, p);
            return false;
        }
        if (!ok) {
            kt_fatal(r, "repartition topic", "a message without vigil's headers (vg-src, vg-side): "
                     "input.repartition_topic must be written by vigild only");
            return false;
        }
        if (source_offset <= r->lane_read[lane]) { /* in the state already, or a copy */
            r->read_next[p] = m->offset + 1;
            kt_sync_position(r, p);
            r->lane_copies++;
            return false;
        }
        if (r->skipping[lane] || (lane_ts != INT64_MIN && lane_ts > r->horizon &&
                                  !vg_engine_is_future(r->engine, lane_ts))) {
            kt_skip(r, p, lane, m->offset); /* spilling: read again later, unparsed now */
            return false;
        }
    }
    memset(&perr, 0, sizeof(perr));
    if (m->len > VG_RECORD_MAX) {
        perr.reason = VG_REASON_OVERSIZED;
        snprintf(perr.detail, sizeof(perr.detail), "message of %zu bytes, at most %d", m->len,
                 VG_RECORD_MAX);
    } else if (vg_ndjson_parse_sent(m->payload ? m->payload : "", m->payload ? m->len : 0, &r->d->cfg->currency,
                                    r->d->cfg->alerts.evidence == VG_EVIDENCE_FULL, &txn, &perr) == VG_OK) {
        perr.reason = VG_REASON_NONE;
    }
    if (perr.reason == VG_REASON_NONE) {
        bool urgent = vg_engine_is_future(r->engine, txn.ts_ms);
        if (r->lanes && vg_reorder_full(r->reorder))
            kt_spill(r);
        if (r->lanes && (r->skipping[lane] || (!urgent && txn.ts_ms > r->horizon))) {
            kt_skip(r, p, lane, m->offset); /* younger than the spill's horizon: read again later */
            return false;
        }
        if (vg_reorder_full(r->reorder) && kt_release(r, false) != VG_OK)
            return false; /* failing: not read, offset stays before it */
        /* A far-future record (time_guard.h) would hold its partition's later records until
         * every other partition reached its date: it goes through at once instead. */
        vg_reorder_push(r->reorder, lane, m->offset, &txn, arrival_ns, urgent, sides, source_offset);
        if (r->lanes)
            r->lane_read[lane] = source_offset;
        r->last_fetch_ns[p] = arrival_ns;
        r->read_next[p] = m->offset + 1;
        kt_sync_position(r, p);
        return true;
    }
    if (m->offset < r->replay_until[p])
        r->replayed++; /* its dead letter was committed by the previous run */
    else if (kt_out_dead_letter(&r->out, perr.reason, perr.detail, m, r->building_id) != VG_OK)
        return false;
    vg_engine_dead_letter(r->engine, perr.reason);
    r->dead_letters++;
    r->read_next[p] = m->offset + 1;
    kt_sync_position(r, p);
    r->consumed++;
    r->since_ckpt_msgs++;
    return false;
}

/* ---- reading the partition queues -------------------------------------------------------- */

static void kt_starve(struct kt_run *r, int32_t p) {
    if (p < 0 || p >= KT_MAX_PARTITIONS || r->is_starving[p] || !r->part_queue[p])
        return;
    r->is_starving[p] = true;
    r->starving[r->n_starving++] = p;
}

/* Cache hints for a message's payload (a typical record spans three lines). */
static inline void kt_prefetch_payload(const rd_kafka_message_t *m) {
    const char *at = m->payload;
    if (!at)
        return;
    for (size_t off = 0; off < m->len && off < 256; off += 64)
        __builtin_prefetch(at + off);
}

/* Reads partition p until one more of its records waits in the merge (dead letters and
 * duplicates are handled on the way), its queue is empty or the merge is full. Returns
 * how many messages it read. */
static uint32_t kt_refill(struct kt_run *r, int32_t p) {
    struct kt_pending *pd = &r->pending[p];
    uint32_t read = 0;
    bool queued = false;

    /* Lanes: a partition interleaves its sources, so the one a lane waits for may be
     * further in: read on, a batch at a time (the merge releases in between, and the
     * router pauses while the merge fills, repartition.c). */
    while ((!queued || (r->lanes && read < KT_PULL_BATCH)) && r->part_queue[p] && !vg_reorder_full(r->reorder) &&
           !kt_failing(r)) {
        rd_kafka_message_t *m;
        if (pd->next == pd->count) {
            ssize_t n = rd_kafka_consume_batch_queue(r->part_queue[p], 0, pd->msgs, KT_PULL_BATCH);
            if (n <= 0) {
                pd->next = pd->count = 0;
                break;
            }
            pd->next = 0;
            pd->count = (uint32_t)n;
            pd->arrival_ns = vg_now_mono_ns(); /* one clock read per batch */
            /* The broker thread wrote these on another core: ask for every message
             * header now, and each payload one message ahead (below), so the parse
             * does not stall on them one by one. */
            for (ssize_t k = 0; k < n; k++)
                __builtin_prefetch(pd->msgs[k]);
            if (r->kick_fetcher && n == KT_PULL_BATCH && !r->was_full[p]) {
                uint64_t in_queue = rd_kafka_queue_length(r->part_queue[p]) + (uint64_t)n;
                if (in_queue >= r->kick_msgs || in_queue * pd->msgs[0]->len >= r->kick_bytes)
                    r->was_full[p] = true;
            }
        }
        m = pd->msgs[pd->next++];
        if (pd->next < pd->count)
            kt_prefetch_payload(pd->msgs[pd->next]);
        queued = kt_handle_message(r, m, pd->arrival_ns);
        rd_kafka_message_destroy(m);
        read++;
    }
    r->msgs_read += read;
    return read;
}

/* Reads every starving partition; those still without a record stay starving. Returns
 * how many messages it read. */
static uint32_t kt_refill_starving(struct kt_run *r) {
    uint32_t read = 0;
    int32_t kept = 0, n = r->n_starving;

    for (int32_t i = 0; i < n; i++) {
        int32_t p = r->starving[i];
        if (r->lanes || vg_reorder_first_offset(r->reorder, p) < 0)
            read += kt_refill(r, p);
        if (r->part_queue[p] && (r->lanes || vg_reorder_first_offset(r->reorder, p) < 0))
            r->starving[kept++] = p;
        else
            r->is_starving[p] = false;
    }
    /* kt_starve may have appended while we read (a release for room in the merge). */
    for (int32_t i = n; i < r->n_starving; i++)
        r->starving[kept++] = r->starving[i];
    r->n_starving = kept;
    return read;
}

/* The busy path: feeds the merge from the partition queues and hands the engine what it
 * lets go, refilling each released record's partition at once, until about `budget`
 * messages were read or the merge must wait. Returns how many messages it read. */
/* Distributed mode: tells the router how full the merge is and how far its waiting lanes
 * are (repartition.c pauses a router whose sources run ahead while the merge fills). */
static void kt_publish_merge(struct kt_run *r) {
    if (!r->lanes)
        return;
    atomic_store_explicit(&r->d->merge_floor_ms, vg_reorder_wait_bound(r->reorder), memory_order_relaxed);
    atomic_store_explicit(&r->d->merge_fill_permille,
                          (unsigned)((uint64_t)vg_reorder_count(r->reorder) * 1000 / vg_reorder_capacity(r->reorder)),
                          memory_order_relaxed);
}

static uint32_t kt_pump(struct kt_run *r, uint32_t budget) {
    const struct vg_reorder_rec *rec;
    uint32_t read = kt_refill_starving(r);

    while (read < budget && !kt_failing(r)) {
        if (r->lanes && vg_reorder_full(r->reorder))
            kt_spill(r); /* rather than release out of order */
        if ((rec = vg_reorder_peek(r->reorder, false)) == NULL)
            break;
        int32_t p = rec->partition / r->lanes_per_part;
        /* The partition's next record joins the merge before its head leaves (records stay
         * where they are in the merge's slab, so rec remains valid): the pop then moves
         * the partition once within the heap instead of out of it and back in. */
        read += kt_refill(r, p);
        if (kt_release_head(r, rec) != VG_OK)
            break;
        if (r->lanes || vg_reorder_first_offset(r->reorder, p) < 0)
            kt_starve(r, p);
    }
    kt_spill_end(r);
    kt_publish_merge(r);
    return read;
}

/* Serves the consumer queue: rebalance and commit callbacks, errors. Messages only reach
 * it for a partition assigned before its queue was opened, which kt_partition_open rules
 * out; one that does is still handled, never dropped. */
static void kt_serve_consumer_queue(struct kt_run *r) {
    rd_kafka_message_t *m;

    while ((m = rd_kafka_consumer_poll(r->consumer, 0)) != NULL) {
        if (!m->err && m->partition >= 0 && m->partition < KT_MAX_PARTITIONS)
            r->msgs_read++;
        kt_handle_message(r, m, vg_now_mono_ns());
        rd_kafka_message_destroy(m);
        if (kt_failing(r))
            break;
    }
}

/* Sleeps until librdkafka puts something on a queue the loop found empty, or timeout_ms.
 * Returns true when woken by input. */
static bool kt_wait_input(struct kt_run *r, int timeout_ms) {
    struct pollfd pfd = {.fd = r->wake_fd[0], .events = POLLIN};
    char drain[256];
    bool woken = poll(&pfd, 1, timeout_ms) > 0;

    while (woken && read(r->wake_fd[0], drain, sizeof(drain)) > 0)
        ;
    return woken;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static int kt_start_embedded(struct kt_run *r, const struct vg_config *cfg, char *errstr,
                             size_t errstr_size) {
    if (vg_mock_broker_start(&r->mock, 1, errstr, errstr_size) ||
        vg_mock_broker_create_topic(r->mock, cfg->input.topic, 4, errstr, errstr_size) ||
        vg_mock_broker_create_topic(r->mock, cfg->output.topic, 4, errstr, errstr_size) ||
        vg_mock_broker_create_topic(r->mock, cfg->dead_letter.topic, 1, errstr, errstr_size) ||
        (cfg->input.repartition_topic[0] &&
         vg_mock_broker_create_topic(r->mock, cfg->input.repartition_topic, cfg->input.repartition_partitions + 1,
                                     errstr, errstr_size)) ||
        (cfg->input.repartition_topic[0] && cfg->state.topic[0] &&
         vg_mock_broker_create_topic(r->mock, cfg->state.topic, cfg->input.repartition_partitions + 1, errstr,
                                     errstr_size)))
        return VG_ERR_INVALID;
    vg_info("embedded_broker", "bootstrap=%s", vg_mock_broker_bootstrap(r->mock));
    return VG_OK;
}

/* Whether the fetcher needs kicking (librdkafka without fetch.queue.backoff.ms) and after
 * how much: half of the effective queued.min.messages / queued.max.messages.kbytes. */
static void kt_fetcher_setup(struct kt_run *r, const rd_kafka_conf_t *conf) {
    char value[64];
    size_t size = sizeof(value);

    r->kick_fetcher = rd_kafka_conf_get(conf, "fetch.queue.backoff.ms", value, &size) !=
                      RD_KAFKA_CONF_OK;
    r->kick_msgs = 100000 / 2; /* librdkafka's defaults, should a lookup fail */
    r->kick_bytes = 65536ull * 1024 / 2;
    size = sizeof(value);
    if (rd_kafka_conf_get(conf, "queued.min.messages", value, &size) == RD_KAFKA_CONF_OK)
        r->kick_msgs = strtoull(value, NULL, 10) / 2;
    size = sizeof(value);
    if (rd_kafka_conf_get(conf, "queued.max.messages.kbytes", value, &size) == RD_KAFKA_CONF_OK)
        r->kick_bytes = strtoull(value, NULL, 10) * 1024 / 2;
}

/* Partitions of the input topic, asked through the producer (already connected); 0 when
 * the cluster does not know the topic yet. */
static int kt_input_partitions(struct kt_run *r, const char *topic) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(r->out.rk, topic, NULL);
    int partitions = 0;

    /* Up to 5 s in slices: a SIGTERM while the broker does not answer ends the start. */
    for (int waited = 0; t && waited < 5000 && !atomic_load(&r->d->stop_requested); waited += 250) {
        if (rd_kafka_metadata(r->out.rk, 0, t, &md, 250) != RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        if (md->topic_cnt == 1 && !md->topics[0].err)
            partitions = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        md = NULL;
        break;
    }
    if (t)
        rd_kafka_topic_destroy(t);
    return partitions;
}

/* Distributed mode: the repartition topic must have input.repartition_partitions + 1
 * partitions (the last is the graph task); the merge gets a lane per (partition, input
 * partition). */
/* Records the merge holds in distributed mode: KT_LANE_RECORDS, or VIGIL_MERGE_RECORDS
 * (1,024 to 4,194,304; ~1.7 KB each) where memory is short or a skewed backlog spills too
 * often (deploy/README.md). */
static uint32_t kt_lane_records(void) {
    const char *v = getenv("VIGIL_MERGE_RECORDS");
    char *end;
    unsigned long n = v ? strtoul(v, &end, 10) : 0;
    if (!v || !*v || *end || n < 1024 || n > 4194304) {
        if (v)
            vg_warn("merge_records_ignored", "value=\"%s\" msg=\"VIGIL_MERGE_RECORDS must be 1024 to 4194304\"", v);
        return KT_LANE_RECORDS;
    }
    return (uint32_t)n;
}

static int kt_lanes_setup(struct kt_run *r, char *errstr, size_t errstr_size) {
    const struct vg_config *cfg = r->d->cfg;
    int want = cfg->input.repartition_partitions + 1;
    int sources = kt_input_partitions(r, cfg->input.topic);
    int have = kt_input_partitions(r, r->topic);

    if (sources <= 0) {
        snprintf(errstr, errstr_size, "input.topic %s: not found on the cluster (distributed mode needs its "
                 "partition count)", cfg->input.topic);
        return VG_ERR_INVALID;
    }
    if (have != want) {
        snprintf(errstr, errstr_size, "input.repartition_topic %s: %s %d partitions, input.repartition_partitions "
                 "%d needs %d (one per account task and one for the graph task); create it with "
                 "cleanup.policy=delete and that count", r->topic, have ? "has" : "not found, needs", have ? have : want,
                 cfg->input.repartition_partitions, want);
        return VG_ERR_INVALID;
    }
    if (cfg->state.topic[0] && (have = kt_input_partitions(r, cfg->state.topic)) != want) {
        snprintf(errstr, errstr_size, "state.topic %s: %s %d partitions, needs %d (one per task); create it with "
                 "cleanup.policy=compact and that count", cfg->state.topic, have ? "has" : "not found, needs",
                 have ? have : want, want);
        return VG_ERR_INVALID;
    }
    if (!cfg->state.topic[0])
        vg_warn("distributed_without_state", "msg=\"no state.topic: a task that moves to another instance starts "
                "with empty windows\"");
    if ((int64_t)want * sources > KT_MAX_LANES) {
        snprintf(errstr, errstr_size, "input.repartition_partitions + 1 (%d) x input partitions (%d) exceeds %d lanes",
                 want, sources, KT_MAX_LANES);
        return VG_ERR_INVALID;
    }
    vg_reorder_destroy(r->reorder);
    r->reorder = NULL;
    r->lane_done = malloc((size_t)want * (size_t)sources * sizeof(*r->lane_done));
    r->lane_read = malloc((size_t)want * (size_t)sources * sizeof(*r->lane_read));
    r->skipping = calloc((size_t)want * (size_t)sources, sizeof(*r->skipping));
    r->rewind = malloc((size_t)want * sizeof(*r->rewind));
    for (int64_t l = 0; r->lane_done && r->lane_read && l < (int64_t)want * sources; l++)
        r->lane_done[l] = r->lane_read[l] = -1;
    for (int32_t q = 0; r->rewind && q < want; q++)
        r->rewind[q] = -1;
    r->horizon = INT64_MAX;
    r->n_lanes = want * sources;
    if (!r->lane_done || !r->lane_read || !r->skipping || !r->rewind ||
        vg_reorder_create(&r->reorder, kt_lane_records(), want * sources) != VG_OK) {
        snprintf(errstr, errstr_size, "out of memory (event-time merge of %d lanes)", want * sources);
        return VG_ERR_INVALID;
    }
    r->lanes_per_part = sources;
    vg_info("distributed_mode", "input=%s input_partitions=%d repartition_topic=%s partitions=%d task_group=%s "
            "merge_records=%u", cfg->input.topic, sources, r->topic, want, r->group, vg_reorder_capacity(r->reorder));
    return VG_OK;
}

static int kt_start_consumer(struct kt_run *r, const char *bootstrap, char *errstr,
                             size_t errstr_size) {
    const struct vg_config *cfg = r->d->cfg;
    rd_kafka_conf_t *conf = kt_conf_new(cfg, bootstrap, KT_CONSUMER, errstr, errstr_size);
    rd_kafka_topic_partition_list_t *topics;
    rd_kafka_resp_err_t err;

    if (!conf)
        return VG_ERR_INVALID;
    kt_conf_size_prefetch(conf, cfg, kt_input_partitions(r, r->topic));
    if (r->lanes && (rd_kafka_conf_set(conf, "group.id", r->group, errstr, errstr_size) != RD_KAFKA_CONF_OK ||
                     rd_kafka_conf_set(conf, "isolation.level", "read_committed", errstr, errstr_size) !=
                         RD_KAFKA_CONF_OK)) {
        rd_kafka_conf_destroy(conf);
        return VG_ERR_INVALID;
    }
    kt_fetcher_setup(r, conf);
    rd_kafka_conf_set_opaque(conf, r);
    rd_kafka_conf_set_rebalance_cb(conf, kt_rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, kt_offset_commit_cb);
    kt_health_conf(r, conf); /* /healthz and the watchdog follow the brokers */
    r->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!r->consumer) {
        rd_kafka_conf_destroy(conf);
        return VG_ERR_INVALID;
    }
    conf = NULL; /* owned by r->consumer */
    r->cooperative = !strcmp(rd_kafka_rebalance_protocol(r->consumer), "COOPERATIVE");
    rd_kafka_poll_set_consumer(r->consumer);
    r->consumer_queue = rd_kafka_queue_get_consumer(r->consumer);
    if (!r->consumer_queue) {
        snprintf(errstr, errstr_size, "no consumer queue");
        return VG_ERR_INVALID;
    }
    rd_kafka_queue_io_event_enable(r->consumer_queue, r->wake_fd[1], "c", 1);
    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, r->topic, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(r->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errstr_size, "subscribe to %s: %s", r->topic,
                 rd_kafka_err2str(err));
        return VG_ERR_INVALID;
    }
    return VG_OK;
}

/* The loop's periodic work: reloads, checkpoint boundaries, the output side, state
 * checkpoints, progress reports the oldest checkpoint waits for. */
static void kt_periodic(struct kt_run *r, int64_t now, bool idle) {
    struct vg_daemon *d = r->d;

    kt_serve_consumer_queue(r);
    kt_reorder_activity(r, now);
    kt_release(r, false);
    if (atomic_exchange(&d->reload_requested, false)) {
        kt_ckpt_close(r, now);
        vg_daemon_apply_reload(d);
    }
    if (r->since_ckpt_msgs >= KT_CKPT_EVERY_MSGS || now - r->last_ckpt_ns >= KT_CKPT_EVERY_NS)
        kt_ckpt_close(r, now);
    kt_service(r, now);
    if (r->state) {
        kt_state_release(r);
        if (now - r->last_state_ns >= d->cfg->state.interval_ms * 1000000LL)
            kt_state_take(r, now, false);
    }
    if (r->tasks_on && r->assigned && now - r->last_state_ns >= d->cfg->state.interval_ms * 1000000LL) {
        r->last_state_ns = now;
        kt_tasks_checkpoint(r);
    }
    /* The engine reports progress every few thousand records; when a checkpoint has
     * waited too long (slow input) or the input is idle, make it report now. */
    if (r->ckpt_tail != r->ckpt_head) {
        struct kt_ckpt *oldest = &r->ckpt[r->ckpt_tail & (KT_CKPT_SLOTS - 1)];
        if (oldest->produce_mark == KT_NO_MARK &&
            atomic_load_explicit(&r->out.done_seq, memory_order_acquire) < oldest->end_seq &&
            (idle || now - oldest->created_ns >= KT_FORCE_PROGRESS_NS))
            vg_engine_drain(r->engine);
    }
}

/* Runs the loop until stop, deadline or failure. */
static void kt_loop(struct kt_run *r) {
    struct vg_daemon *d = r->d;
    int64_t deadline = d->run_for_ms > 0 ? vg_now_mono_ns() + d->run_for_ms * 1000000 : 0;
    bool busy = false; /* the last pass read messages: read again without waiting */
    bool idle = false; /* a wait ended without input: the input is quiet */
    uint64_t demo_produced = 0;
    bool demo_draining = false;

    for (;;) {
        uint32_t read;
        int64_t now;

        if (atomic_load(&d->stop_requested) || kt_failing(r))
            break;
        /* While records stream in, the clock and the periodic work run once per
         * KT_PERIODIC_EVERY_MSGS records rather than per record (the input thread shares
         * the cores with the shards). */
        now = vg_now_mono_ns();
        if (deadline && now >= deadline) {
            if (demo_draining || !r->feed)
                break;
            /* The demo's summary covers everything it produced: stop the feed, then read
             * the rest (bounded). */
            demo_produced = vg_kafka_demo_feed_stop(r->feed);
            r->feed = NULL;
            demo_draining = true;
            deadline = vg_now_mono_ns() + KT_DEMO_DRAIN_NS;
        }
        if (demo_draining && r->consumed >= demo_produced)
            break;
        if (!r->started && now >= r->slow_connect_ns) {
            r->slow_connect_ns = now + KT_SLOW_CONNECT_NS;
            vg_warn("kafka_connect_slow", "waited_s=%lld bootstrap=%s topic=%s group=%s msg=\"no partitions "
                    "assigned yet: brokers unreachable, topic missing, or the group still rebalancing\"",
                    (long long)((now - r->connect_ns) / 1000000000), r->d->cfg->kafka.brokers,
                    r->topic, r->group);
        }
        kt_periodic(r, now, idle);

        read = kt_pump(r, KT_PERIODIC_EVERY_MSGS);
        if (read > 0) {
            busy = true;
            idle = false;
            continue;
        }
        if (busy) {
            /* The queues ran dry (or the merge waits): publish what is ready. */
            now = vg_now_mono_ns();
            kt_reorder_activity(r, now);
            kt_release(r, false);
            kt_spill_end(r);
            kt_ckpt_close(r, now);
            vg_engine_flush(r->engine);
            kt_kick_fetcher(r, now);
            busy = false;
            continue;
        }
        idle = !kt_wait_input(r, KT_IDLE_POLL_MS);
    }
}

/* A client left running until the process exits: not a leak to report. */
static void kt_leave_to_exit(rd_kafka_t *rk) {
#if defined(__SANITIZE_ADDRESS__)
    __lsan_ignore_object(rk);
#else
    (void)rk;
#endif
}

/* Leaves the group (the revoke commits what is safe) without waiting past the stop's bound:
 * a coordinator that does not answer would hold rd_kafka_consumer_close indefinitely.
 * Sets consumer_closed when the close completed. */
static void kt_close_consumer(struct kt_run *r) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(r->consumer);
    rd_kafka_error_t *error;

    kt_out_begin_stop(&r->out);
    /* The drain already ran into the bound (the cluster does not answer): a close would
     * only wait for it too. The group drops this member after session.timeout.ms. */
    if (kt_out_stop_expired(&r->out) || atomic_load(&r->out.incomplete)) {
        atomic_store(&r->out.incomplete, true);
        vg_warn("kafka_close_skipped", "msg=\"engine.shutdown_timeout: the cluster does not answer; "
                "not leaving the group\"");
        if (q)
            rd_kafka_queue_destroy(q);
        return;
    }
    if (!q)
        return;
    error = rd_kafka_consumer_close_queue(r->consumer, q);
    if (error) {
        vg_warn("kafka_close_failed", "msg=\"%s\"", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        rd_kafka_queue_destroy(q);
        return;
    }
    while (!rd_kafka_consumer_closed(r->consumer)) {
        int wait_ms = kt_out_wait_ms(&r->out, 100);
        rd_kafka_event_t *ev;
        if (wait_ms == 0) {
            /* librdkafka 2.0 can hang destroying a consumer whose close is under way, so
             * the client is left to the process exit (r->consumer_abandoned). */
            atomic_store(&r->out.incomplete, true);
            r->consumer_abandoned = true;
            vg_warn("kafka_close_incomplete", "msg=\"engine.shutdown_timeout ran out leaving the group\"");
            break;
        }
        ev = rd_kafka_queue_poll(q, wait_ms);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
            kt_rebalance_cb(r->consumer, rd_kafka_event_error(ev),
                            rd_kafka_event_topic_partition_list(ev), r);
        rd_kafka_event_destroy(ev);
    }
    r->consumer_closed = rd_kafka_consumer_closed(r->consumer);
    rd_kafka_queue_destroy(q);
}

static int kt_run(struct vg_daemon *d, bool demo, uint32_t rate_per_s, uint64_t seed,
                  char *errstr, size_t errstr_size) {
    struct kt_run *r;
    const struct vg_config *cfg = d->cfg;
    const char *bootstrap = cfg->kafka.brokers;
    struct vg_alert_sink sink;
    int exit_code = 2, rc;

    r = calloc(1, sizeof(*r));
    if (r)
        r->ckpt = calloc(KT_CKPT_SLOTS, sizeof(*r->ckpt));
    if (!r || !r->ckpt || vg_reorder_create(&r->reorder, KT_REORDER_RECORDS, KT_MAX_PARTITIONS) != VG_OK) {
        if (r)
            free(r->ckpt);
        free(r);
        snprintf(errstr, errstr_size, "out of memory");
        return 2;
    }
    r->d = d;
    r->wake_fd[0] = r->wake_fd[1] = -1;
    r->pending = calloc(KT_MAX_PARTITIONS, sizeof(*r->pending));
    if (!r->pending || pipe2(r->wake_fd, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(errstr, errstr_size, "input wake-up pipe: out of resources");
        goto out;
    }
    for (int p = 0; p < KT_MAX_PARTITIONS; p++) {
        r->consumed_next[p] = r->read_next[p] = r->safe_next[p] = r->committed_next[p] = r->restored_next[p] = -1;
        r->replay_until[p] = -1;
    }
    if (!d->input_topic[0])
        snprintf(d->input_topic, sizeof(d->input_topic), "%s", cfg->input.topic);
    r->lanes_per_part = 1;
    r->lanes = cfg->input.repartition_topic[0] != '\0';
    snprintf(r->topic, sizeof(r->topic), "%s", r->lanes ? cfg->input.repartition_topic : cfg->input.topic);
    if (r->lanes) { /* the lag /metrics shows is the tasks' */
        snprintf(d->input_topic, sizeof(d->input_topic), "%s", r->topic);
        atomic_store(&d->distributed, true);
    }
    if (!r->lanes)
        snprintf(r->group, sizeof(r->group), "%s", cfg->input.group);
    else if (cfg->input.repartition_group[0])
        snprintf(r->group, sizeof(r->group), "%s", cfg->input.repartition_group);
    else
        snprintf(r->group, sizeof(r->group), "%.*s.tasks", VG_TOPIC_MAX - 6, cfg->input.group);

    if (!strcmp(cfg->kafka.brokers, "embedded")) {
        if (kt_start_embedded(r, cfg, errstr, errstr_size))
            goto out;
        bootstrap = vg_mock_broker_bootstrap(r->mock);
    }
    r->out_ready = true; /* kt_out_destroy copes with a half-initialised output */
    if (kt_out_init(&r->out, cfg, bootstrap, d->print_alerts, &d->stop_requested, errstr, errstr_size)) {
        if (atomic_load(&d->stop_requested)) { /* SIGTERM before anything was consumed */
            exit_code = 0;
            errstr[0] = '\0';
        }
        goto out;
    }
    r->out.ack_latency_count = d->ack_latency_count;
    r->out.ack_latency_sum_ns = &d->ack_latency_sum_ns;
    /* Delivery reports wake the loop (kt_service polls them): the collector polls the
     * producer only while alerts flow, and commits wait for these acknowledgements. */
    r->out_queue = rd_kafka_queue_get_main(r->out.rk);
    if (r->out_queue)
        rd_kafka_queue_io_event_enable(r->out_queue, r->wake_fd[1], "o", 1);
    sink = kt_out_sink(&r->out);
    if (r->lanes && cfg->state.dir[0]) {
        snprintf(errstr, errstr_size, "state.dir keeps one process's state on its own disk; with "
                 "input.repartition_topic the tasks' state lives in state.topic");
        exit_code = 1;
        goto out;
    }
    if (r->lanes && kt_lanes_setup(r, errstr, errstr_size) != VG_OK)
        goto out;
    if (r->lanes && cfg->state.topic[0]) {
        if (kt_tasks_open(r, bootstrap, errstr, errstr_size) != VG_OK)
            goto out;
        r->tasks_on = true;
    }
    if (cfg->state.dir[0]) {
        if (kt_state_open(r, &sink, errstr, errstr_size)) {
            exit_code = 1;
            goto out;
        }
    } else if (vg_engine_start(&r->engine, cfg, &sink, errstr, errstr_size)) {
        goto out;
    }
    r->next_seq = vg_engine_next_seq(r->engine);
    /* A live stream's time is close to wall time: a record far ahead of the stream counts
     * as far-future only when it is also ahead of the wall clock (time_guard.h). */
    vg_engine_use_wall_clock(r->engine, cfg->input.max_clock_skew_ms);
    /* release: /metrics and reload readers load it with acquire. */
    atomic_store_explicit(&d->engine, r->engine, memory_order_release);
    if (r->lanes && vg_router_start(&r->router, d, bootstrap, errstr, errstr_size) != VG_OK)
        goto out;
    if (kt_start_consumer(r, bootstrap, errstr, errstr_size))
        goto out;
    if (demo && vg_kafka_demo_feed_start(&r->feed, bootstrap, cfg->input.topic, rate_per_s, seed,
                                         errstr, errstr_size))
        goto out;
    r->connect_ns = vg_now_mono_ns();
    r->slow_connect_ns = r->connect_ns + KT_SLOW_CONNECT_NS;
    vg_info("kafka_connecting", "bootstrap=%s topic=%s group=%s output=%s mode=%s fetcher_kick=%d",
            bootstrap, r->topic, r->group, cfg->output.topic,
            cfg->output.exactly_once ? "exactly_once" : "at_least_once", r->kick_fetcher);

    r->last_ckpt_ns = r->last_commit_ns = r->last_txn_ns = r->last_state_ns = vg_now_mono_ns();
    errstr[0] = '\0'; /* what set-up calls left there (tolerated) is not why the run ends */
    kt_loop(r);

    /* Shutdown: stop feeding, then drain + commit, then leave the group (the revoke
     * callback commits again, which is a no-op by then). */
    vg_kafka_demo_feed_stop(r->feed);
    r->feed = NULL;
    atomic_store(&d->consuming, false);
    kt_out_begin_stop(&r->out); /* engine.shutdown_timeout bounds the drain from here */
    vg_router_stop(r->router); /* its last transaction: what it forwarded is committed */
    r->router = NULL;
    for (int i = 0; r->lanes && r->assigned && i < r->assigned->cnt; i++)
        if (r->assigned->elems[i].partition >= 0 && r->assigned->elems[i].partition < KT_MAX_PARTITIONS)
            kt_lanes_drop(r, r->assigned->elems[i].partition);
    kt_quiesce(r);
    if (r->tasks_on && !kt_failing(r) && !kt_out_stop_expired(&r->out) && kt_tasks_save(r, r->assigned) != VG_OK)
        kt_fatal(r, "task state", "could not store the tasks' state at shutdown");
    if (kt_out_stop_expired(&r->out))
        vg_warn("checkpoint_skipped", "msg=\"engine.shutdown_timeout ran out; keeping the previous checkpoint\"");
    else
        kt_state_final(r);
    exit_code = kt_failing(r) ? 2 : 0;

out:
    vg_kafka_demo_feed_stop(r->feed);
    vg_router_stop(r->router);
    r->router = NULL;
    if (r->consumer) {
        kt_close_consumer(r);
        if (kt_failing(r))
            exit_code = 2;
        /* Queue handles go before the client; librdkafka stops writing to the pipe. */
        kt_partition_close_all(r);
        if (r->consumer_queue) {
            rd_kafka_queue_io_event_enable(r->consumer_queue, -1, NULL, 0);
            rd_kafka_queue_destroy(r->consumer_queue);
        }
    }
    if (r->engine) {
        vg_daemon_detach_engine(d);
        rc = vg_engine_stop(r->engine);
        r->engine = NULL;
        if (rc && exit_code == 0)
            exit_code = 2;
    }
    if (exit_code == 2 && errstr[0] == '\0' && kt_failing(r))
        snprintf(errstr, errstr_size, "%s", r->fatal ? r->fatal_msg : r->out.failure);
    if (r->out_queue) {
        rd_kafka_queue_io_event_enable(r->out_queue, -1, NULL, 0);
        rd_kafka_queue_destroy(r->out_queue);
    }
    if (r->out_ready && atomic_load(&r->out.incomplete)) {
        /* engine.shutdown_timeout ran out: say what the restart delivers again. */
        unsigned long long unacked = (unsigned long long)kt_out_unacked(&r->out);
        vg_error("shutdown_incomplete", "unacked_alerts=%llu timeout_ms=%lld msg=\"engine.shutdown_timeout "
                 "ran out; offsets committed only up to what was acknowledged: a restart delivers "
                 "the rest\"", unacked, (long long)(r->out.stop_timeout_ns / 1000000));
        snprintf(errstr, errstr_size, "engine.shutdown_timeout ran out with %llu alerts unacknowledged "
                 "(nothing past them committed)", unacked);
        exit_code = 2;
    }
    if (r->out_ready)
        kt_out_destroy(&r->out, kt_out_wait_ms(&r->out, 5000));
    if (r->consumer && r->consumer_abandoned)
        kt_leave_to_exit(r->consumer);
    else if (r->consumer)
        rd_kafka_destroy_flags(r->consumer, r->consumer_closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    if (r->assigned)
        rd_kafka_topic_partition_list_destroy(r->assigned);
    vg_mock_broker_destroy(r->mock);
    vg_info("kafka_stopped", "consumed=%llu dead_letters=%llu alerts=%llu duplicates_skipped=%llu "
            "replayed=%llu alerts_not_repeated=%llu fetcher_kicks=%llu reorder_forced=%llu lane_copies_skipped=%llu "
            "spills=%llu spilled=%llu exit=%d",
            (unsigned long long)r->consumed, (unsigned long long)r->dead_letters,
            (unsigned long long)atomic_load(&r->out.alerts_produced),
            (unsigned long long)r->skipped_duplicates, (unsigned long long)r->replayed,
            (unsigned long long)r->out.alerts_muted, (unsigned long long)r->kicks,
            (unsigned long long)(r->reorder ? vg_reorder_forced(r->reorder) : 0), (unsigned long long)r->lane_copies,
            (unsigned long long)r->spills, (unsigned long long)r->spilled, exit_code);
    vg_checkpointer_destroy(r->state); /* deletes a checkpoint still held */
    kt_tasks_close(r);
    vg_reorder_destroy(r->reorder);
    free(r->lane_done);
    free(r->lane_read);
    free(r->skipping);
    free(r->rewind);
    for (int i = 0; i < 2; i++)
        if (r->wake_fd[i] >= 0)
            close(r->wake_fd[i]);
    free(r->pending);
    free(r->ckpt);
    free(r);
    return exit_code;
}

int vg_kafka_run(struct vg_daemon *d, char *errstr, size_t errstr_size) {
    if (errstr_size)
        errstr[0] = '\0';
    return kt_run(d, false, 0, 0, errstr, errstr_size);
}

int vg_kafka_run_demo(struct vg_daemon *d, uint32_t rate_per_s, uint64_t seed, char *errstr,
                      size_t errstr_size) {
    if (errstr_size)
        errstr[0] = '\0';
    return kt_run(d, true, rate_per_s, seed, errstr, errstr_size);
}
