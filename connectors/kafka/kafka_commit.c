/* kafka_commit.c - input checkpoints of the Kafka loop: which offsets are safe once the
 * engine is done with the records before them and their alerts are acknowledged, the async
 * commits (at-least-once) and the transactions (exactly-once) that publish them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka_run.h"
#include "vigil/log.h"

/* ---- checkpoints ---------------------------------------------------------------------- */

/* Ends the checkpoint being built (if it holds any message). When every slot is pending,
 * the newest pending one is extended instead, so the ring never blocks the input. */
void kt_ckpt_close(struct kt_run *r, int64_t now_ns) {
    struct kt_ckpt *c;

    r->last_ckpt_ns = now_ns;
    if (r->since_ckpt_msgs == 0)
        return;
    if (r->ckpt_head - r->ckpt_tail == KT_CKPT_SLOTS &&
        r->ckpt[(r->ckpt_head - 1) & (KT_CKPT_SLOTS - 1)].produce_mark == KT_NO_MARK) {
        c = &r->ckpt[(r->ckpt_head - 1) & (KT_CKPT_SLOTS - 1)];
    } else {
        if (r->ckpt_head - r->ckpt_tail == KT_CKPT_SLOTS)
            return; /* all marked, acks outstanding: keep building, close later */
        c = &r->ckpt[r->ckpt_head & (KT_CKPT_SLOTS - 1)];
        c->produce_mark = KT_NO_MARK;
        c->created_ns = now_ns;
        r->ckpt_head++;
    }
    c->id = r->building_id++;
    c->end_seq = r->next_seq;
    memcpy(c->next_offset, r->consumed_next, sizeof(c->next_offset));
    r->since_ckpt_msgs = 0;
}

static void kt_ckpt_apply(struct kt_run *r, const struct kt_ckpt *c) {
    for (int p = 0; p < KT_MAX_PARTITIONS; p++)
        if (c->next_offset[p] > r->safe_next[p])
            r->safe_next[p] = c->next_offset[p];
}

/* At-least-once: retires the checkpoints whose records are processed and whose alerts and
 * dead letters are all acknowledged, oldest first. */
void kt_ckpt_advance(struct kt_run *r) {
    /* acquire: pairs with the release store in kt_on_progress. */
    uint64_t done = atomic_load_explicit(&r->out.done_seq, memory_order_acquire);

    while (r->ckpt_tail != r->ckpt_head) {
        struct kt_ckpt *c = &r->ckpt[r->ckpt_tail & (KT_CKPT_SLOTS - 1)];
        if (c->produce_mark == KT_NO_MARK) {
            if (done < c->end_seq)
                break;
            /* Every alert of records < end_seq took its number before done_seq was
             * published, so next_no now bounds them all. */
            c->produce_mark = atomic_load_explicit(&r->out.next_no, memory_order_acquire);
        }
        if (atomic_load_explicit(&r->out.acked_prefix, memory_order_acquire) < c->produce_mark)
            break;
        kt_ckpt_apply(r, c);
        r->ckpt_tail++;
    }
}

/* The committable offsets of the assigned partitions, from `next` (NULL when none); with
 * `only`, of the partitions it marks. */
static rd_kafka_topic_partition_list_t *kt_offsets(struct kt_run *r, const int64_t *next,
                                                   bool only_changed, const bool *only) {
    rd_kafka_topic_partition_list_t *list;

    if (!r->assigned || r->assigned->cnt == 0)
        return NULL;
    list = rd_kafka_topic_partition_list_new(r->assigned->cnt);
    for (int i = 0; i < r->assigned->cnt; i++) {
        int32_t p = r->assigned->elems[i].partition;
        if (p < 0 || p >= KT_MAX_PARTITIONS || next[p] < 0)
            continue;
        if ((only_changed && next[p] == r->committed_next[p]) || (only && !only[p]))
            continue;
        rd_kafka_topic_partition_list_add(list, r->assigned->elems[i].topic, p)->offset = next[p];
    }
    if (list->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(list);
        return NULL;
    }
    return list;
}

/* A synchronous commit while stopping: waits for its result no longer than the stop's bound
 * allows (a blocking rd_kafka_commit waits as long as the coordinator does not answer). */
static rd_kafka_resp_err_t kt_commit_bounded(struct kt_run *r,
                                             const rd_kafka_topic_partition_list_t *list) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(r->consumer);
    rd_kafka_event_t *ev;
    rd_kafka_resp_err_t err;

    if (!q)
        return RD_KAFKA_RESP_ERR__FAIL;
    err = rd_kafka_commit_queue(r->consumer, list, q, NULL, NULL);
    if (!err) {
        ev = rd_kafka_queue_poll(q, kt_out_wait_ms(&r->out, INT32_MAX));
        if (ev) {
            err = rd_kafka_event_error(ev);
            rd_kafka_event_destroy(ev);
        } else {
            err = RD_KAFKA_RESP_ERR__TIMED_OUT;
            atomic_store(&r->out.incomplete, true);
        }
    }
    rd_kafka_queue_destroy(q);
    return err;
}

/* At-least-once: commits the safe offsets (async in the steady state, sync on revoke and
 * shutdown). */
void kt_commit(struct kt_run *r, bool sync) {
    rd_kafka_topic_partition_list_t *list;

    if (r->state)
        kt_state_published(r);
    list = kt_offsets(r, r->safe_next, !sync, r->state ? r->state_covers : NULL);
    rd_kafka_resp_err_t err;

    if (!list)
        return;
    err = sync && atomic_load(&r->out.deadline_ns) ? kt_commit_bounded(r, list)
                                                   : rd_kafka_commit(r->consumer, list, sync ? 0 : 1);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        vg_warn("kafka_commit_failed", "error=%s", rd_kafka_err2name(err));
    else
        for (int i = 0; i < list->cnt; i++)
            r->committed_next[list->elems[i].partition] = list->elems[i].offset;
    if (!err)
        vg_debug("kafka_commit", "sync=%d partitions=%d first_partition=%d offset=%lld", sync,
                 list->cnt, (int)list->elems[0].partition, (long long)list->elems[0].offset);
    rd_kafka_topic_partition_list_destroy(list);
}

/* Result of an async commit (served by consumer_poll on the input thread): a failed one is
 * sent again by the next periodic commit instead of being taken as done. */
void kt_offset_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t *offsets, void *opaque) {
    struct kt_run *r = opaque;

    if (!err || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    vg_debug("kafka_commit_failed", "error=%s async=1", rd_kafka_err2name(err));
    for (int i = 0; offsets && i < offsets->cnt; i++) {
        int32_t p = offsets->elems[i].partition;
        if (p >= 0 && p < KT_MAX_PARTITIONS && r->committed_next[p] == offsets->elems[i].offset)
            r->committed_next[p] = -1;
    }
}

/* Exactly-once: one transaction up to the newest checkpoint the engine is done with. */
void kt_txn(struct kt_run *r) {
    uint64_t done = atomic_load_explicit(&r->out.done_seq, memory_order_acquire);
    uint64_t pick = r->ckpt_tail;
    struct kt_ckpt *c;
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_resp_err_t err;

    for (uint64_t i = r->ckpt_tail; i != r->ckpt_head; i++) {
        if (r->ckpt[i & (KT_CKPT_SLOTS - 1)].end_seq > done)
            break;
        pick = i + 1;
    }
    if (pick == r->ckpt_tail)
        return;
    c = &r->ckpt[(pick - 1) & (KT_CKPT_SLOTS - 1)];
    list = kt_offsets(r, c->next_offset, false, NULL);
    if (kt_out_commit_txn(&r->out, r->consumer, c->end_seq, c->id, list) != VG_OK) {
        if (list)
            rd_kafka_topic_partition_list_destroy(list);
        return; /* kt_out_fail recorded why; the loop stops */
    }
    kt_ckpt_apply(r, c);
    r->ckpt_tail = pick;
    if (list) {
        /* Also through the group: brokers that do not persist TxnOffsetCommit (librdkafka's
         * mock cluster) then resume at the same place. Same offsets, so harmless on a real
         * broker; never ahead of the committed transaction. */
        err = rd_kafka_commit(r->consumer, list, 1);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
            vg_debug("kafka_commit_failed", "error=%s", rd_kafka_err2name(err));
        for (int i = 0; i < list->cnt; i++)
            r->committed_next[list->elems[i].partition] = list->elems[i].offset;
        rd_kafka_topic_partition_list_destroy(list);
    }
}
