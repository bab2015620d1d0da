/* repartition.c - the router of distributed mode (see repartition.h): input topic in,
 * account-side events and progress markers out, exactly once, on a thread of its own. */
#include "kafka/repartition.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka/kafka_int.h"
#include "vigil/engine.h"
#include "vigil/hash.h"
#include "vigil/ingest.h"
#include "vigil/log.h"

#define RT_MAX_SOURCES 1024
#define RT_TXN_EVERY_NS (100 * 1000000LL) /* a transaction (and its markers) per 100 ms, or per
                                          * 4 x the last commit's time when that is longer */
#define RT_TXN_MAX_MSGS 50000             /* or per this many input messages */
#define RT_POLL_MS 2
#define RT_BATCH 256 /* messages taken from one input partition's queue per round */
#define RT_CALL_MS 30000                  /* bound of one transactional call */
#define RT_FIRST_FETCH_GRACE_NS (5000 * 1000000LL)
#define RT_WATERMARK_MS 500               /* bound of a live high-watermark query */
#define RT_PAUSE_FILL_PERMILLE 500        /* the task side's merge half full: rt_ahead */
#define RT_MARK_EVERY_MSGS 2000           /* markers within a transaction, so the task side
                                           * can release before the commit's end */

struct rt_source {
    bool assigned;
    int64_t next_offset;    /* after the last message forwarded; -1 = none this assignment */
    int64_t last_ts;        /* newest event time forwarded (far-future ones apart) */
    int64_t last_msg_ns;    /* when it last delivered (or was assigned) */
    int64_t assigned_ns;
    rd_kafka_queue_t *q;    /* its own fetch queue, read round-robin (rt_read_round) */
};

struct vg_router {
    struct vg_daemon *d;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    atomic_bool failed;
    char failure[256];

    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    bool in_txn;

    /* What routing needs, copied at start (a reload changes neither the topics nor the
     * routing; currency rates take effect at the next start of the router). */
    struct vg_currency_table currency;
    char input_topic[VG_TOPIC_MAX + 1];
    char out_topic[VG_TOPIC_MAX + 1];
    char dead_letter_topic[VG_TOPIC_MAX + 1];
    int partitions;            /* account tasks R; partition R is the graph task */
    int64_t graph_min;
    int64_t idle_ns;
    int64_t max_jump_ms, max_skew_ms;

    struct rt_source src[RT_MAX_SOURCES];
    uint64_t forwarded, events, dead_letters, markers, txns, aborts, pauses;
    bool paused;
    rd_kafka_message_t *batch[RT_BATCH];
    uint32_t since_mark;
    int64_t commit_ns;         /* time spent committing (markers, offsets, commit) */
    int64_t txn_every_ns;      /* the current transaction period */
    uint32_t since_txn;
    int64_t txn_started_ns;
    char *dl_buf;
};

uint32_t vg_be32(const void *p) {
    const unsigned char *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint64_t vg_be64(const void *p) {
    const unsigned char *b = p;
    return (uint64_t)vg_be32(b) << 32 | vg_be32(b + 4);
}

static void put_be32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

static void put_be64(unsigned char *b, uint64_t v) {
    put_be32(b, (uint32_t)(v >> 32));
    put_be32(b + 4, (uint32_t)v);
}

int32_t vg_repartition_of(const char *account, size_t len, int partitions) {
    return vg_task_of(account, len, partitions);
}

static void rt_fail(struct vg_router *rt, const char *fmt, const char *detail) {
    if (atomic_exchange(&rt->failed, true))
        return;
    snprintf(rt->failure, sizeof(rt->failure), fmt, detail);
    vg_error("router_failed", "msg=\"%s\"", rt->failure);
}

bool vg_router_failed(struct vg_router *rt, char *why, size_t why_size) {
    if (!rt || !atomic_load(&rt->failed))
        return false;
    snprintf(why, why_size, "%s", rt->failure);
    return true;
}

/* ---- producing ---------------------------------------------------------------------------- */

static int rt_produce(struct vg_router *rt, const char *topic, int32_t partition, const void *key, size_t key_len,
                      const void *value, size_t value_len, rd_kafka_headers_t *hdrs) {
    rd_kafka_resp_err_t err;
    for (;;) {
        err = rd_kafka_producev(rt->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(rt->producer, 10); /* the queue drains as the broker acknowledges */
    }
    if (err) {
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        rt_fail(rt, "produce to the repartition topic: %s", rd_kafka_err2str(err));
        return VG_ERR_IO;
    }
    return VG_OK;
}

static rd_kafka_headers_t *rt_event_headers(const rd_kafka_message_t *m, int64_t ts_ms, uint8_t sides) {
    unsigned char src[4], off[8], ts[8];
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    put_be32(src, (uint32_t)m->partition);
    put_be64(off, (uint64_t)m->offset);
    put_be64(ts, (uint64_t)ts_ms);
    rd_kafka_header_add(h, VG_HDR_SIDE, -1, &sides, 1);
    rd_kafka_header_add(h, VG_HDR_SRC, -1, src, 4);
    rd_kafka_header_add(h, VG_HDR_OFF, -1, off, 8);
    rd_kafka_header_add(h, VG_HDR_TS, -1, ts, 8);
    return h;
}

/* One input record: its events to the partitions of their accounts (and the graph task). */
static int rt_route(struct vg_router *rt, const rd_kafka_message_t *m, const struct vg_txn *txn) {
    int32_t p_out = vg_repartition_of(txn->from, txn->from_len, rt->partitions);
    int32_t p_in = vg_repartition_of(txn->to, txn->to_len, rt->partitions);
    int rc;

    if (p_out == p_in) {
        rc = rt_produce(rt, rt->out_topic, p_out, txn->from, txn->from_len, m->payload, m->len,
                        rt_event_headers(m, txn->ts_ms, VG_SIDE_OUT | VG_SIDE_IN));
        rt->events++;
    } else {
        rc = rt_produce(rt, rt->out_topic, p_out, txn->from, txn->from_len, m->payload, m->len,
                        rt_event_headers(m, txn->ts_ms, VG_SIDE_OUT));
        if (rc == VG_OK)
            rc = rt_produce(rt, rt->out_topic, p_in, txn->to, txn->to_len, m->payload, m->len,
                            rt_event_headers(m, txn->ts_ms, VG_SIDE_IN));
        rt->events += 2;
    }
    if (rc == VG_OK && txn->amount_micros >= rt->graph_min) {
        rc = rt_produce(rt, rt->out_topic, rt->partitions, txn->from, txn->from_len, m->payload, m->len,
                        rt_event_headers(m, txn->ts_ms, VG_SIDE_GRAPH));
        rt->events++;
    }
    return rc;
}

/* Whether ts is far ahead of what the source delivered so far and of the wall clock (the
 * engine's time guard in short: such a record must not become the source's progress). */
static bool rt_is_future(const struct vg_router *rt, const struct rt_source *s, int64_t ts) {
    if (rt->max_jump_ms <= 0 || s->last_ts == INT64_MIN)
        return false;
    return ts > s->last_ts + rt->max_jump_ms && ts > vg_now_wall_ms() + rt->max_skew_ms;
}

static int rt_markers(struct vg_router *rt, int64_t now);

static void rt_handle(struct vg_router *rt, const rd_kafka_message_t *m, int64_t now) {
    struct vg_txn txn;
    struct vg_parse_error perr;
    struct rt_source *s;

    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            vg_warn("router_consume_error", "error=%s msg=\"%s\"", rd_kafka_err2name(m->err),
                    rd_kafka_message_errstr(m));
        return;
    }
    if (m->partition < 0 || m->partition >= RT_MAX_SOURCES) {
        rt_fail(rt, "%s", "input topic has more partitions than supported (1024)");
        return;
    }
    s = &rt->src[m->partition];
    if (!s->assigned || (s->next_offset >= 0 && m->offset < s->next_offset))
        return; /* a revoked partition's leftover, or read twice */
    memset(&perr, 0, sizeof(perr));
    if (m->len > VG_RECORD_MAX) {
        perr.reason = VG_REASON_OVERSIZED;
        snprintf(perr.detail, sizeof(perr.detail), "message of %zu bytes, at most %d", m->len, VG_RECORD_MAX);
    } else if (vg_ndjson_parse(m->payload ? m->payload : "", m->payload ? m->len : 0, &rt->currency, &txn,
                               &perr) == VG_OK) {
        perr.reason = VG_REASON_NONE;
    }
    if (perr.reason == VG_REASON_NONE) {
        if (rt_route(rt, m, &txn) != VG_OK)
            return;
        if (!rt_is_future(rt, s, txn.ts_ms) && txn.ts_ms > s->last_ts)
            s->last_ts = txn.ts_ms;
        rt->forwarded++;
    } else {
        size_t n = kt_dead_letter_render(rt->dl_buf, KT_DEAD_LETTER_MAX, perr.reason, perr.detail, m);
        if (n == 0 || rt_produce(rt, rt->dead_letter_topic, RD_KAFKA_PARTITION_UA, m->key, m->key ? m->key_len : 0,
                                 rt->dl_buf, n, NULL) != VG_OK) {
            rt_fail(rt, "%s", "dead letter could not be produced");
            return;
        }
        rt->dead_letters++;
        if (perr.reason > VG_REASON_NONE && perr.reason < VG_REASON_MAX)
            atomic_fetch_add_explicit(&rt->d->router_dead_letter[perr.reason], 1, memory_order_relaxed);
    }
    s->next_offset = m->offset + 1;
    s->last_msg_ns = now;
    rt->since_txn++;
    if (++rt->since_mark >= RT_MARK_EVERY_MSGS) {
        rt->since_mark = 0;
        rt_markers(rt, now);
    }
}

/* ---- transactions --------------------------------------------------------------------- */

static bool rt_txn_ok(struct vg_router *rt, const char *what, rd_kafka_error_t *error) {
    if (!error)
        return true;
    vg_warn("router_txn_error", "call=%s error=%s retriable=%d abortable=%d fatal=%d", what,
            rd_kafka_error_name(error), rd_kafka_error_is_retriable(error),
            rd_kafka_error_txn_requires_abort(error), rd_kafka_error_is_fatal(error));
    if (rd_kafka_error_is_fatal(error))
        rt_fail(rt, "transaction: %s", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return false;
}

static void rt_begin(struct vg_router *rt) {
    if (rt->in_txn || atomic_load(&rt->failed))
        return;
    if (rt_txn_ok(rt, "begin_transaction", rd_kafka_begin_transaction(rt->producer))) {
        rt->in_txn = true;
        rt->txn_started_ns = vg_now_mono_ns();
        rt->since_txn = 0;
    } else {
        rt_fail(rt, "%s", "begin_transaction failed");
    }
}

/* Whether the broker's high watermark of input partition p, asked now, is no further than
 * pos (or the consumer's position, which moves past control records). The watermark cached
 * from fetch responses is as old as the last fetch, and a router starved of CPU (or whose
 * fetches lag) would call a partition idle while records of it wait at the broker: the
 * task side would then let other sources' younger records pass them. Asked only of a
 * partition the cached figures call idle, once per marker round; no answer = not idle. */
static bool rt_source_caught_up(struct vg_router *rt, int32_t p, int64_t pos) {
    int64_t lo = -1, hi = -1;
    if (rd_kafka_query_watermark_offsets(rt->consumer, rt->input_topic, p, &lo, &hi, RT_WATERMARK_MS))
        return false;
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, rt->input_topic, p);
    if (!rd_kafka_position(rt->consumer, tp) && tp->elems[0].offset > pos)
        pos = tp->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(tp);
    return hi <= lo || (pos >= 0 && pos >= hi);
}

/* Whether an assigned partition is idle: nothing new for idle_timeout and no known lag
 * (kafka_run.c's rule for one process). One not read yet in this assignment, whose end is
 * not known to be reached, is waited for up to RT_FIRST_FETCH_GRACE_NS since assignment: a
 * consumer that starts slowly must not declare a partition full of records idle. */
static bool rt_source_idle(struct vg_router *rt, int32_t p, int64_t now) {
    struct rt_source *s = &rt->src[p];
    int64_t lo = -1, hi = -1, pos = s->next_offset;
    if (now - s->last_msg_ns < rt->idle_ns)
        return false;
    bool known = !rd_kafka_get_watermark_offsets(rt->consumer, rt->input_topic, p, &lo, &hi) && hi >= 0;
    if (pos < 0) {
        rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(tp, rt->input_topic, p);
        if (!rd_kafka_position(rt->consumer, tp) && tp->elems[0].offset >= 0)
            pos = tp->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(tp);
    }
    if (pos < 0 && (!known || hi > lo))
        return now - s->assigned_ns >= VG_MAX(RT_FIRST_FETCH_GRACE_NS, rt->idle_ns);
    if (known && hi > lo && pos >= 0 && pos < hi)
        return false;
    return rt_source_caught_up(rt, p, pos);
}

/* A marker per assigned input partition to every repartition partition. */
static int rt_markers(struct vg_router *rt, int64_t now) {
    for (int32_t p = 0; p < RT_MAX_SOURCES; p++) {
        struct rt_source *s = &rt->src[p];
        if (!s->assigned)
            continue;
        uint8_t idle = rt_source_idle(rt, p, now) ? 1 : 0;
        if (s->last_ts == INT64_MIN && !idle)
            continue; /* nothing to say yet: the task side waits for this source */
        unsigned char src[4], mark[8];
        put_be32(src, (uint32_t)p);
        put_be64(mark, (uint64_t)s->last_ts);
        for (int32_t q = 0; q <= rt->partitions; q++) {
            rd_kafka_headers_t *h = rd_kafka_headers_new(3);
            rd_kafka_header_add(h, VG_HDR_SRC, -1, src, 4);
            rd_kafka_header_add(h, VG_HDR_MARK, -1, mark, 8);
            rd_kafka_header_add(h, VG_HDR_IDLE, -1, &idle, 1);
            if (rt_produce(rt, rt->out_topic, q, NULL, 0, NULL, 0, h) != VG_OK)
                return VG_ERR_IO;
            rt->markers++;
        }
    }
    return VG_OK;
}

/* Puts every assigned partition back to the last committed offset (after an abort). */
static void rt_rewind(struct vg_router *rt) {
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
    for (int32_t p = 0; p < RT_MAX_SOURCES; p++)
        if (rt->src[p].assigned)
            rd_kafka_topic_partition_list_add(parts, rt->input_topic, p);
    if (parts->cnt && !rd_kafka_committed(rt->consumer, parts, RT_CALL_MS)) {
        for (int i = 0; i < parts->cnt; i++) {
            struct rt_source *s = &rt->src[parts->elems[i].partition];
            if (parts->elems[i].offset < 0)
                parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
            s->next_offset = -1;
        }
        rd_kafka_error_t *error = rd_kafka_seek_partitions(rt->consumer, parts, RT_CALL_MS);
        if (error) {
            rt_fail(rt, "rewind after an aborted transaction: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    } else if (parts->cnt) {
        rt_fail(rt, "%s", "rewind after an aborted transaction: committed offsets unknown");
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

/* Markers, the consumed offsets and commit. On an abortable error the transaction is
 * aborted and the input read again from the last commit. */
static void rt_commit(struct vg_router *rt, int64_t now) {
    rd_kafka_topic_partition_list_t *offsets;
    rd_kafka_consumer_group_metadata_t *cgmd;
    rd_kafka_error_t *error = NULL;
    bool ok;

    if (!rt->in_txn || atomic_load(&rt->failed))
        return;
    int64_t t0 = vg_now_mono_ns();
    if (rt_markers(rt, now) != VG_OK)
        return;
    offsets = rd_kafka_topic_partition_list_new(16);
    for (int32_t p = 0; p < RT_MAX_SOURCES; p++)
        if (rt->src[p].assigned && rt->src[p].next_offset >= 0)
            rd_kafka_topic_partition_list_add(offsets, rt->input_topic, p)->offset = rt->src[p].next_offset;
    ok = true;
    if (offsets->cnt) {
        cgmd = rd_kafka_consumer_group_metadata(rt->consumer);
        error = rd_kafka_send_offsets_to_transaction(rt->producer, offsets, cgmd, RT_CALL_MS);
        rd_kafka_consumer_group_metadata_destroy(cgmd);
        if (error && rd_kafka_error_txn_requires_abort(error)) {
            rt_txn_ok(rt, "send_offsets_to_transaction", error);
            ok = false;
        } else if (!rt_txn_ok(rt, "send_offsets_to_transaction", error)) {
            rt_fail(rt, "%s", "send_offsets_to_transaction failed");
        }
    }
    rd_kafka_topic_partition_list_destroy(offsets);
    if (ok && !atomic_load(&rt->failed)) {
        error = rd_kafka_commit_transaction(rt->producer, RT_CALL_MS);
        if (error && rd_kafka_error_txn_requires_abort(error)) {
            rt_txn_ok(rt, "commit_transaction", error);
            ok = false;
        } else if (!rt_txn_ok(rt, "commit_transaction", error)) {
            rt_fail(rt, "%s", "commit_transaction failed");
        }
    }
    if (!ok && !atomic_load(&rt->failed)) {
        rt->aborts++;
        if (!rt_txn_ok(rt, "abort_transaction", rd_kafka_abort_transaction(rt->producer, RT_CALL_MS)))
            rt_fail(rt, "%s", "abort_transaction failed");
        rt_rewind(rt);
    }
    rt->in_txn = false;
    rt->txns++;
    /* A commit blocks the router (librdkafka flushes, then ends the transaction): while
     * they are slow, fewer and larger transactions keep it under a fifth of its time. */
    int64_t took = vg_now_mono_ns() - t0;
    rt->commit_ns += took;
    rt->txn_every_ns = VG_MAX(RT_TXN_EVERY_NS, 4 * took);
}

/* Back-pressure (the alignment of Flink's watermarks): while this instance's merge is more
 * than half full, a router whose own sources are all past the time its waiting lanes have
 * reached stops reading: the records it would add could only wait for slower sources, and
 * a full merge would have to release records out of order. The slowest sources' routers
 * never pause (they are the floor). */
static bool rt_ahead(struct vg_router *rt) {
    if (atomic_load_explicit(&rt->d->merge_fill_permille, memory_order_relaxed) < RT_PAUSE_FILL_PERMILLE)
        return false;
    int64_t floor = atomic_load_explicit(&rt->d->merge_floor_ms, memory_order_relaxed);
    bool any = false;
    for (int32_t p = 0; p < RT_MAX_SOURCES; p++) {
        const struct rt_source *s = &rt->src[p];
        if (!s->assigned)
            continue;
        if (s->last_ts == INT64_MIN || s->last_ts <= floor)
            return false; /* this source may be what the merge waits for */
        any = true;
    }
    return any;
}

/* ---- the consumer ----------------------------------------------------------------------- */

static void rt_close_queue(struct rt_source *s) {
    if (s->q)
        rd_kafka_queue_destroy(s->q);
    s->q = NULL;
}

/* One round: a batch from each assigned partition's queue (none while rt_ahead: librdkafka
 * stops fetching once the queues hold their limit). Returns the messages read. */
static uint32_t rt_read_round(struct vg_router *rt) {
    uint32_t read = 0;
    bool ahead = rt_ahead(rt);
    if (ahead != rt->paused) {
        rt->paused = ahead;
        if (ahead)
            rt->pauses++;
    }
    if (ahead)
        return 0;
    for (int32_t p = 0; p < RT_MAX_SOURCES && !atomic_load(&rt->failed); p++) {
        if (!rt->src[p].q)
            continue;
        ssize_t n = rd_kafka_consume_batch_queue(rt->src[p].q, 0, rt->batch, RT_BATCH);
        int64_t now = vg_now_mono_ns();
        for (ssize_t k = 0; k < n; k++) {
            rt_handle(rt, rt->batch[k], now);
            rd_kafka_message_destroy(rt->batch[k]);
        }
        if (n > 0)
            read += (uint32_t)n;
    }
    return read;
}

static void rt_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                            void *opaque) {
    struct vg_router *rt = opaque;
    bool cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    rd_kafka_error_t *error = NULL;
    int64_t now = vg_now_mono_ns();

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            int32_t p = parts->elems[i].partition;
            if (p < 0 || p >= RT_MAX_SOURCES)
                continue;
            rt_close_queue(&rt->src[p]);
            rt->src[p] = (struct rt_source){.assigned = true, .next_offset = -1, .last_ts = INT64_MIN,
                                            .last_msg_ns = now, .assigned_ns = now};
            /* Each partition is read from its own queue, a batch per round, so that a
             * backlog reaches the repartition topic interleaved (a burst of one partition
             * would make the task side hold the others' records back for it). */
            rt->src[p].q = rd_kafka_queue_get_partition(rk, parts->elems[i].topic, p);
            if (rt->src[p].q)
                rd_kafka_queue_forward(rt->src[p].q, NULL);
        }
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        rt->paused = false;
        vg_info("router_assigned", "topic=%s partitions=%d", rt->input_topic, parts->cnt);
    } else {
        /* What was forwarded from these partitions is committed before another member
         * reads them (its transaction holds their offsets). */
        rt_commit(rt, now);
        rt_begin(rt);
        for (int i = 0; i < parts->cnt; i++) {
            int32_t p = parts->elems[i].partition;
            if (p >= 0 && p < RT_MAX_SOURCES) {
                rt->src[p].assigned = false;
                rt_close_queue(&rt->src[p]);
            }
        }
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
        vg_info("router_revoked", "partitions=%d", parts->cnt);
    }
    if (error) {
        vg_warn("router_rebalance_error", "msg=\"%s\"", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

static void *rt_main(void *arg) {
    struct vg_router *rt = arg;
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t err;

    rd_kafka_topic_partition_list_add(topics, rt->input_topic, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(rt->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err)
        rt_fail(rt, "subscribe to the input topic: %s", rd_kafka_err2str(err));
    rt_begin(rt);
    while (!atomic_load(&rt->stop) && !atomic_load(&rt->failed)) {
        uint32_t read = rt_read_round(rt);
        /* Rebalances and errors (and messages of a partition whose queue is not ours yet);
         * waits a little when the partitions had nothing. */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rt->consumer, read ? 0 : RT_POLL_MS);
        int64_t now = vg_now_mono_ns();
        if (m) {
            rt_handle(rt, m, now);
            rd_kafka_message_destroy(m);
        }
        rd_kafka_poll(rt->producer, 0);
        if (rt->in_txn && (now - rt->txn_started_ns >= rt->txn_every_ns || rt->since_txn >= RT_TXN_MAX_MSGS)) {
            rt_commit(rt, now);
            rt_begin(rt);
        }
    }
    if (!atomic_load(&rt->failed)) {
        rt_commit(rt, vg_now_mono_ns());
        rt_begin(rt); /* the revoke of the close commits into it */
    }
    rd_kafka_consumer_close(rt->consumer);
    for (int32_t p = 0; p < RT_MAX_SOURCES; p++)
        rt_close_queue(&rt->src[p]);
    if (rt->in_txn && !atomic_load(&rt->failed))
        rt_commit(rt, vg_now_mono_ns());
    else if (rt->in_txn)
        rd_kafka_error_destroy(rd_kafka_abort_transaction(rt->producer, RT_CALL_MS));
    rd_kafka_flush(rt->producer, RT_CALL_MS);
    vg_info("router_stopped", "forwarded=%llu events=%llu dead_letters=%llu markers=%llu transactions=%llu "
            "aborted=%llu commit_ms=%lld pauses=%llu", (unsigned long long)rt->forwarded, (unsigned long long)rt->events,
            (unsigned long long)rt->dead_letters, (unsigned long long)rt->markers, (unsigned long long)rt->txns,
            (unsigned long long)rt->aborts, (long long)(rt->commit_ns / 1000000), (unsigned long long)rt->pauses);
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static void rt_destroy(struct vg_router *rt) {
    if (rt->consumer)
        rd_kafka_destroy(rt->consumer);
    if (rt->producer)
        rd_kafka_destroy(rt->producer);
    free(rt->dl_buf);
    free(rt);
}

int vg_router_start(struct vg_router **out, struct vg_daemon *d, const char *bootstrap, char *errstr,
                    size_t errstr_size) {
    const struct vg_config *cfg = d->cfg;
    struct vg_router *rt = calloc(1, sizeof(*rt));
    rd_kafka_conf_t *conf;
    rd_kafka_error_t *error;
    char txn_id[512], base_id[400];

    *out = NULL;
    if (!rt || !(rt->dl_buf = malloc(KT_DEAD_LETTER_MAX))) {
        free(rt);
        snprintf(errstr, errstr_size, "out of memory");
        return VG_ERR_INVALID;
    }
    rt->d = d;
    rt->currency = cfg->currency;
    snprintf(rt->input_topic, sizeof(rt->input_topic), "%s", cfg->input.topic);
    snprintf(rt->out_topic, sizeof(rt->out_topic), "%s", cfg->input.repartition_topic);
    snprintf(rt->dead_letter_topic, sizeof(rt->dead_letter_topic), "%s", cfg->dead_letter.topic);
    rt->partitions = cfg->input.repartition_partitions;
    rt->graph_min = vg_engine_graph_min_amount(cfg);
    rt->idle_ns = cfg->input.idle_timeout_ms * 1000000LL;
    rt->max_jump_ms = cfg->engine.max_time_jump_ms;
    rt->max_skew_ms = cfg->input.max_clock_skew_ms;
    rt->txn_every_ns = RT_TXN_EVERY_NS;

    /* The consumer of the input group: read_committed, offsets only through transactions. */
    conf = kt_conf_new(cfg, bootstrap, KT_CONSUMER, errstr, errstr_size);
    if (!conf)
        goto err;
    /* librdkafka's own prefetch (the input loop's small per-partition queues suit its
     * merge, not a router): librdkafka < 2.2 pauses a partition whose queue is full for up
     * to 1 s, which capped a router at ~7 k records/s. */
    if (rd_kafka_conf_set(conf, "isolation.level", "read_committed", errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "queued.min.messages", "20000", errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "queued.max.messages.kbytes", "8192", errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "client.id", "vigild-router", errstr, errstr_size) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        goto err;
    }
    rd_kafka_conf_set_opaque(conf, rt);
    rd_kafka_conf_set_rebalance_cb(conf, rt_rebalance_cb);
    rt->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!rt->consumer) {
        rd_kafka_conf_destroy(conf);
        goto err;
    }
    rd_kafka_poll_set_consumer(rt->consumer);

    /* The transactional producer: its own id, so that it never fences the alert producer. */
    conf = kt_conf_new(cfg, bootstrap, KT_TXN_PRODUCER, errstr, errstr_size);
    if (!conf)
        goto err;
    kt_transactional_id(cfg, base_id, sizeof(base_id));
    snprintf(txn_id, sizeof(txn_id), "%s-router", base_id);
    if (rd_kafka_conf_set(conf, "transactional.id", txn_id, errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "linger.ms", "5", errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "client.id", "vigild-router", errstr, errstr_size) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        goto err;
    }
    rt->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (!rt->producer) {
        rd_kafka_conf_destroy(conf);
        goto err;
    }
    if ((error = rd_kafka_init_transactions(rt->producer, RT_CALL_MS))) {
        snprintf(errstr, errstr_size, "router init_transactions (transactional.id %s): %s", txn_id,
                 rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        goto err;
    }
    if (pthread_create(&rt->thread, NULL, rt_main, rt) != 0) {
        snprintf(errstr, errstr_size, "router thread: %s", strerror(errno));
        goto err;
    }
    rt->thread_started = true;
    vg_info("router_started", "input=%s repartition_topic=%s partitions=%d graph_partition=%d transactional_id=%s",
            rt->input_topic, rt->out_topic, rt->partitions, rt->partitions, txn_id);
    *out = rt;
    return VG_OK;

err:
    rt_destroy(rt);
    return VG_ERR_INVALID;
}

void vg_router_stop(struct vg_router *rt) {
    if (!rt)
        return;
    atomic_store(&rt->stop, true);
    if (rt->thread_started)
        pthread_join(rt->thread, NULL);
    rt_destroy(rt);
}
