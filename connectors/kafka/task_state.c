/* task_state.c - distributed mode's task state (state.topic): each task's window state
 * (a checkpoint image of its accounts, or of the graph for the graph task) is kept in a
 * compacted topic on the same cluster, partition = task, so whichever instance the task
 * group gives a task to restores it from there, seeks to the position stored with it and
 * only then consumes (the Kafka Streams changelog idea, with whole images instead of a
 * change log: the engine's state is already a compact image).
 *
 * Records of task T: "T/meta" = "gen slot chunks bytes position" (text) and the image in
 * chunks "T/<slot>/<i>" of at most TS_CHUNK bytes, header vg-gen = generation. Two slots
 * (gen % 2): a save that dies half way overwrites the slot the newest meta does not point
 * to, so compaction never leaves a meta without its chunks. A save writes the chunks, waits
 * for their acknowledgement, then the meta.
 *
 * When: on revoke (every owned task, after the engine drained and every alert was
 * acknowledged or committed), every state.interval, and on assignment for a task that had
 * no state yet (its start position, so that a crash never resumes a task past records whose
 * state it lost). Input thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka_run.h"
#include "kafka/reorder.h"
#include "vigil/log.h"

#define TS_CHUNK (512u * 1024u)
#define TS_TIMEOUT_MS 30000
#define TS_META_MAX (64 + 21 * (KT_MAX_LANES / 8))

static void ts_key(char *key, size_t size, int32_t task, int slot, int chunk) {
    if (slot < 0)
        snprintf(key, size, "%d/meta", (int)task);
    else
        snprintf(key, size, "%d/%d/%d", (int)task, slot, chunk);
}

static int ts_produce(struct kt_run *r, int32_t task, const char *key, const void *value, size_t len,
                      uint64_t gen) {
    unsigned char g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned char)(gen >> (56 - 8 * i));
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, "vg-gen", -1, g, 8);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            r->state_rk, RD_KAFKA_V_TOPIC(r->d->cfg->state.topic), RD_KAFKA_V_PARTITION(task),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(r->state_rk, 10);
            continue;
        }
        if (err) {
            rd_kafka_headers_destroy(h);
            vg_error("task_state_write_failed", "task=%d error=%s", (int)task, rd_kafka_err2name(err));
            return VG_ERR_IO;
        }
        return VG_OK;
    }
}

/* Waits for every state record to be acknowledged. */
static int ts_flush(struct kt_run *r) {
    rd_kafka_resp_err_t err = rd_kafka_flush(r->state_rk, TS_TIMEOUT_MS);
    if (err || r->state_failed) {
        vg_error("task_state_write_failed", "error=%s", err ? rd_kafka_err2name(err) : "delivery failed");
        return VG_ERR_IO;
    }
    return VG_OK;
}

static void ts_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    struct kt_run *r = opaque;
    (void)rk;
    if (m->err) {
        r->state_failed = true;
        vg_error("task_state_write_failed", "partition=%d error=%s", (int)m->partition, rd_kafka_err2name(m->err));
    }
}

/* Writes the state of task p (consumed up to next_offset) to the state topic: chunks, then
 * (after their acks) the meta. */
static int ts_save_one(struct kt_run *r, int32_t p, int64_t next_offset) {
    int tasks = r->d->cfg->input.repartition_partitions;
    struct vg_snapshot *snap = NULL;
    const unsigned char *img;
    size_t len, chunks;
    uint64_t gen = ++r->task_gen[p];
    int slot = (int)(gen % 2);
    char key[64], *meta;
    size_t at;
    int rc;

    if (vg_engine_snapshot_task(r->engine, p, tasks, "", &next_offset, sizeof(next_offset), &snap) != VG_OK) {
        vg_error("task_state_write_failed", "task=%d msg=\"out of memory encoding its state\"", (int)p);
        return VG_ERR_NOMEM;
    }
    img = vg_snapshot_image(snap, &len);
    chunks = (len + TS_CHUNK - 1) / TS_CHUNK;
    rc = VG_OK;
    for (size_t i = 0; i < chunks && rc == VG_OK; i++) {
        ts_key(key, sizeof(key), p, slot, (int)i);
        rc = ts_produce(r, p, key, img + i * TS_CHUNK, VG_MIN(TS_CHUNK, len - i * TS_CHUNK), gen);
    }
    vg_snapshot_free(snap);
    if (rc == VG_OK)
        rc = ts_flush(r);
    if (rc != VG_OK)
        return rc;
    /* The meta: generation, slot, chunks, bytes, the partition's position, then per lane
     * (input partition) the offset of the last record the state holds. */
    if (!(meta = malloc(TS_META_MAX)))
        return VG_ERR_NOMEM;
    at = (size_t)snprintf(meta, TS_META_MAX, "%llu %d %zu %zu %lld %d", (unsigned long long)gen, slot, chunks, len,
                          (long long)next_offset, (int)r->lanes_per_part);
    for (int32_t s = 0; s < r->lanes_per_part && at < TS_META_MAX; s++)
        at += (size_t)snprintf(meta + at, TS_META_MAX - at, " %lld",
                               (long long)r->lane_done[p * r->lanes_per_part + s]);
    ts_key(key, sizeof(key), p, -1, 0);
    rc = ts_produce(r, p, key, meta, strlen(meta), gen);
    free(meta);
    vg_debug("task_state_saved", "task=%d gen=%llu bytes=%zu position=%lld", (int)p, (unsigned long long)gen, len,
             (long long)next_offset);
    return rc;
}

void kt_tasks_revoked(struct kt_run *r) {
    for (int w = 0; w < 16; w++)
        atomic_store_explicit(&r->d->task_owned_bits[w], 0, memory_order_relaxed);
    atomic_store_explicit(&r->d->tasks_owned, 0, memory_order_relaxed);
}

int kt_tasks_save(struct kt_run *r, const rd_kafka_topic_partition_list_t *parts) {
    int64_t t0 = vg_now_mono_ns();
    int saved = 0;

    if (!r->state_rk || !r->engine || !parts)
        return VG_OK;
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (p < 0 || p >= KT_MAX_PARTITIONS)
            continue;
        int64_t next = r->consumed_next[p];
        if (next < 0 && r->task_start[p] >= 0)
            next = r->task_start[p]; /* nothing read since the assignment */
        if (next < 0)
            continue;
        if (ts_save_one(r, p, next) != VG_OK)
            return VG_ERR_IO;
        saved++;
    }
    if (saved && ts_flush(r) != VG_OK)
        return VG_ERR_IO;
    if (saved)
        vg_info("task_state_saved", "tasks=%d ms=%.1f", saved, (double)(vg_now_mono_ns() - t0) / 1e6);
    return VG_OK;
}

/* ---- loading ---------------------------------------------------------------------------- */

struct ts_chunk {
    unsigned char *data;
    size_t len;
    uint64_t gen;
};

/* Reads partition p of the state topic to its end: the newest meta and its image. *img is
 * NULL (VG_OK) when the task has no state yet. */
/* Parses a meta record: 5 numbers, the lane count, the lanes' offsets (into skip). */
static bool ts_parse_meta(const char *meta, int32_t lanes, unsigned long long *gen, int *slot, size_t *chunks,
                          size_t *bytes, long long *pos, int64_t *skip) {
    int n_lanes = 0, used = 0;
    if (sscanf(meta, "%llu %d %zu %zu %lld %d%n", gen, slot, chunks, bytes, pos, &n_lanes, &used) != 6 ||
        (*slot != 0 && *slot != 1) || n_lanes != lanes)
        return false;
    const char *at = meta + used;
    for (int32_t s = 0; s < lanes; s++) {
        char *end;
        long long v = strtoll(at, &end, 10);
        if (end == at)
            return false;
        skip[s] = v;
        at = end;
    }
    return true;
}

static int ts_load_one(struct kt_run *r, int32_t p, unsigned char **img, size_t *img_len, int64_t *position,
                       char *errstr, size_t errstr_size) {
    const char *topic = r->d->cfg->state.topic;
    int64_t lo = -1, hi = -1;
    rd_kafka_topic_partition_list_t *tp;
    struct ts_chunk *chunk[2] = {NULL, NULL};
    size_t chunk_cap[2] = {0, 0};
    unsigned long long gen = 0;
    size_t chunks = 0, bytes = 0;
    int slot = -1, rc = VG_OK;
    long long pos = -1;
    bool have_meta = false;
    int64_t *skip = malloc((size_t)r->lanes_per_part * sizeof(*skip));
    char *meta = malloc(TS_META_MAX);

    *img = NULL;
    *img_len = 0;
    *position = -1;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(r->state_reader, topic, p, &lo, &hi, TS_TIMEOUT_MS);
    if (err) {
        snprintf(errstr, errstr_size, "state.topic %s partition %d: %s", topic, (int)p, rd_kafka_err2str(err));
        return VG_ERR_IO;
    }
    if (!skip || !meta) {
        free(skip);
        free(meta);
        snprintf(errstr, errstr_size, "out of memory restoring task %d", (int)p);
        return VG_ERR_NOMEM;
    }
    if (hi <= lo) {
        free(skip);
        free(meta);
        return VG_OK;
    }
    tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, topic, p)->offset = lo;
    rd_kafka_assign(r->state_reader, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    for (int64_t next = lo; next < hi && rc == VG_OK;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->state_reader, 1000);
        if (!m) {
            if (kt_failing(r) || atomic_load(&r->d->stop_requested)) {
                snprintf(errstr, errstr_size, "stopped while restoring task %d", (int)p);
                rc = VG_ERR_IO;
            }
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                snprintf(errstr, errstr_size, "state.topic %s partition %d: %s", topic, (int)p,
                         rd_kafka_message_errstr(m));
                rc = VG_ERR_IO;
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        next = m->offset + 1;
        char key[64];
        size_t klen = VG_MIN(m->key_len, sizeof(key) - 1);
        memcpy(key, m->key ? m->key : "", klen);
        key[klen] = '\0';
        int kt = -1, ks = -1, ki = -1;
        rd_kafka_headers_t *h = NULL;
        const void *gv = NULL;
        size_t gl = 0;
        uint64_t mgen = 0;
        if (!rd_kafka_message_headers(m, &h) && !rd_kafka_header_get_last(h, "vg-gen", &gv, &gl) && gl == 8)
            mgen = vg_be64(gv);
        if (sscanf(key, "%d/%d/%d", &kt, &ks, &ki) == 3 && kt == p && (ks == 0 || ks == 1) && ki >= 0 &&
            ki < 1 << 20) {
            if ((size_t)ki >= chunk_cap[ks]) {
                size_t cap = VG_MAX((size_t)ki + 1, chunk_cap[ks] * 2);
                struct ts_chunk *grown = realloc(chunk[ks], cap * sizeof(*grown));
                if (!grown) {
                    rc = VG_ERR_NOMEM;
                    rd_kafka_message_destroy(m);
                    break;
                }
                memset(grown + chunk_cap[ks], 0, (cap - chunk_cap[ks]) * sizeof(*grown));
                chunk[ks] = grown;
                chunk_cap[ks] = cap;
            }
            struct ts_chunk *c = &chunk[ks][ki];
            free(c->data);
            c->data = malloc(m->len ? m->len : 1);
            if (!c->data) {
                rc = VG_ERR_NOMEM;
            } else {
                memcpy(c->data, m->payload, m->len);
                c->len = m->len;
                c->gen = mgen;
            }
        } else if (sscanf(key, "%d/meta", &kt) == 1 && kt == p && m->len < TS_META_MAX) {
            memcpy(meta, m->payload, m->len);
            meta[m->len] = '\0';
            if (ts_parse_meta(meta, r->lanes_per_part, &gen, &slot, &chunks, &bytes, &pos, skip))
                have_meta = true;
            else
                vg_warn("task_state_meta_bad", "task=%d offset=%lld msg=\"not a vigil state record of this "
                        "topology (input partitions changed?): ignored\"", (int)p, (long long)m->offset);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(r->state_reader, NULL);
    if (rc == VG_OK && have_meta) {
        unsigned char *buf = malloc(bytes ? bytes : 1);
        size_t at = 0;
        if (!buf)
            rc = VG_ERR_NOMEM;
        for (size_t i = 0; rc == VG_OK && i < chunks; i++) {
            struct ts_chunk *c = (size_t)i < chunk_cap[slot] ? &chunk[slot][i] : NULL;
            if (!c || !c->data || c->gen != gen || at + c->len > bytes) {
                snprintf(errstr, errstr_size, "state.topic %s: task %d generation %llu misses chunk %zu", topic, (int)p,
                         gen, i);
                rc = VG_ERR_INVALID;
                break;
            }
            memcpy(buf + at, c->data, c->len);
            at += c->len;
        }
        if (rc == VG_OK && at != bytes) {
            snprintf(errstr, errstr_size, "state.topic %s: task %d image is %zu bytes, meta says %zu", topic, (int)p,
                     at, bytes);
            rc = VG_ERR_INVALID;
        }
        if (rc == VG_OK) {
            *img = buf;
            *img_len = bytes;
            *position = pos;
            r->task_gen[p] = gen;
            for (int32_t s = 0; s < r->lanes_per_part; s++)
                r->lane_read[p * r->lanes_per_part + s] = r->lane_done[p * r->lanes_per_part + s] = skip[s];
        } else {
            free(buf);
        }
    }
    if (rc == VG_ERR_NOMEM)
        snprintf(errstr, errstr_size, "out of memory restoring task %d", (int)p);
    free(skip);
    free(meta);
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < chunk_cap[s]; i++)
            free(chunk[s][i].data);
        free(chunk[s]);
    }
    return rc;
}

int kt_tasks_assign(struct kt_run *r, rd_kafka_topic_partition_list_t *parts) {
    int n = parts->cnt, loaded = 0, rc = VG_OK;
    unsigned char **imgs = calloc(n > 0 ? (size_t)n : 1, sizeof(*imgs));
    size_t *lens = calloc(n > 0 ? (size_t)n : 1, sizeof(*lens));
    int64_t t0 = vg_now_mono_ns();
    char errstr[512] = "";
    struct vg_engine *e = NULL;
    struct vg_alert_sink sink = kt_out_sink(&r->out);

    if (!imgs || !lens) {
        free(imgs);
        free(lens);
        kt_fatal(r, "task state", "out of memory");
        return VG_ERR_NOMEM;
    }
    for (int i = 0; i < n && rc == VG_OK; i++) {
        int32_t p = parts->elems[i].partition;
        int64_t position = -1;
        if (p < 0 || p >= KT_MAX_PARTITIONS)
            continue;
        r->task_start[p] = -1;
        r->replay_until[p] = -1;
        for (int32_t s = 0; s < r->lanes_per_part; s++)
            r->lane_read[p * r->lanes_per_part + s] = r->lane_done[p * r->lanes_per_part + s] = -1;
        rc = ts_load_one(r, p, &imgs[loaded], &lens[loaded], &position, errstr, sizeof(errstr));
        if (rc == VG_OK && imgs[loaded]) {
            r->restored_next[p] = position; /* kt_state_seek seeks there */
            r->task_start[p] = position;
            loaded++;
        }
        r->read_next[p] = r->consumed_next[p] = -1; /* read again from where the state is */
    }
    if (rc == VG_OK) {
        uint64_t floor = r->engine ? vg_engine_next_seq(r->engine) : 0;
        if (r->engine) { /* drained by the revoke: hand its place to the restored one */
            vg_daemon_detach_engine(r->d);
            vg_engine_stop(r->engine);
            r->engine = NULL;
        }
        rc = vg_engine_start_images(&e, r->d->cfg, &sink, (const void *const *)imgs, lens, loaded, floor, errstr,
                                    sizeof(errstr));
        if (rc == VG_OK) {
            r->engine = e;
            r->next_seq = vg_engine_next_seq(e);
            vg_engine_use_wall_clock(e, r->d->cfg->input.max_clock_skew_ms);
            atomic_store_explicit(&r->d->engine, e, memory_order_release);
        }
    }
    for (int i = 0; i < loaded; i++)
        free(imgs[i]);
    free(imgs);
    free(lens);
    if (rc != VG_OK) {
        kt_fatal(r, "task state", errstr[0] ? errstr : "restore failed");
        return rc;
    }
    double secs = (double)(vg_now_mono_ns() - t0) / 1e9;
    for (int i = 0; i < n; i++) {
        int32_t p = parts->elems[i].partition;
        if (p >= 0 && p < 1024)
            atomic_fetch_or_explicit(&r->d->task_owned_bits[p / 64], 1ull << (p % 64), memory_order_relaxed);
    }
    atomic_store_explicit(&r->d->tasks_owned, n, memory_order_relaxed);
    atomic_store_explicit(&r->d->task_restore_us, (int64_t)(secs * 1e6), memory_order_relaxed);
    vg_info("tasks_assigned", "tasks=%d restored=%d restore_ms=%.1f next_seq=%llu", n, loaded, secs * 1e3,
            (unsigned long long)r->next_seq);
    return VG_OK;
}

/* After the assignment's seeks: a task with no state yet gets one at its start position
 * (the group's committed offset), so that commits never run ahead of a stored state. */
int kt_tasks_initial(struct kt_run *r, const rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_topic_partition_list_t *start = rd_kafka_topic_partition_list_new(parts->cnt);
    int rc = VG_OK;

    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (p >= 0 && p < KT_MAX_PARTITIONS && r->task_start[p] < 0)
            rd_kafka_topic_partition_list_add(start, parts->elems[i].topic, p);
    }
    if (start->cnt && rd_kafka_committed(r->consumer, start, TS_TIMEOUT_MS) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < start->cnt; i++) {
            int32_t p = start->elems[i].partition;
            int64_t lo = 0, hi = 0;
            if (start->elems[i].offset >= 0)
                r->task_start[p] = start->elems[i].offset;
            else if (!rd_kafka_query_watermark_offsets(r->consumer, start->elems[i].topic, p, &lo, &hi, TS_TIMEOUT_MS))
                r->task_start[p] = lo; /* auto.offset.reset earliest: the task's stream starts there */
        }
        rc = kt_tasks_save(r, start);
    } else if (start->cnt) {
        rc = VG_ERR_IO;
    }
    rd_kafka_topic_partition_list_destroy(start);
    if (rc != VG_OK)
        kt_fatal(r, "task state", "could not store the initial state of newly assigned tasks");
    return rc;
}

/* Every state.interval: the engine drained, the alerts of what it processed acknowledged
 * (or committed), then each owned task's state at its position. */
void kt_tasks_checkpoint(struct kt_run *r) {
    kt_ckpt_close(r, vg_now_mono_ns());
    vg_engine_flush(r->engine);
    vg_engine_drain(r->engine);
    if (r->out.transactional) {
        kt_ckpt_close(r, vg_now_mono_ns());
        kt_txn(r);
    } else if (!kt_out_wait_acked(&r->out, TS_TIMEOUT_MS)) {
        vg_warn("task_state_deferred", "msg=\"alerts not acknowledged yet; the state is stored next time\"");
        return;
    }
    if (kt_tasks_save(r, r->assigned) != VG_OK)
        kt_fatal(r, "task state", "could not store the tasks' state in state.topic");
}

/* ---- lifecycle ------------------------------------------------------------------------ */

int kt_tasks_open(struct kt_run *r, const char *bootstrap, char *errstr, size_t errstr_size) {
    const struct vg_config *cfg = r->d->cfg;
    rd_kafka_conf_t *conf;

    for (int p = 0; p < KT_MAX_PARTITIONS; p++)
        r->task_start[p] = -1;
    conf = kt_conf_new(cfg, bootstrap, KT_PRODUCER, errstr, errstr_size);
    if (!conf)
        return VG_ERR_INVALID;
    rd_kafka_conf_set_opaque(conf, r);
    rd_kafka_conf_set_dr_msg_cb(conf, ts_delivery_cb);
    if (rd_kafka_conf_set(conf, "client.id", "vigild-state", errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "message.max.bytes", "1000000", errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        !(r->state_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size))) {
        rd_kafka_conf_destroy(conf);
        return VG_ERR_INVALID;
    }
    conf = kt_conf_new(cfg, bootstrap, KT_CONSUMER, errstr, errstr_size);
    if (!conf)
        return VG_ERR_INVALID;
    if (rd_kafka_conf_set(conf, "client.id", "vigild-state", errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        !(r->state_reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size))) {
        rd_kafka_conf_destroy(conf);
        return VG_ERR_INVALID;
    }
    rd_kafka_poll_set_consumer(r->state_reader);
    return VG_OK;
}

void kt_tasks_close(struct kt_run *r) {
    if (r->state_rk) {
        rd_kafka_flush(r->state_rk, TS_TIMEOUT_MS);
        rd_kafka_destroy(r->state_rk);
        r->state_rk = NULL;
    }
    if (r->state_reader) {
        rd_kafka_destroy_flags(r->state_reader, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        r->state_reader = NULL;
    }
}
