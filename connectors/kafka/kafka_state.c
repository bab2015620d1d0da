/* kafka_state.c - state.dir checkpoints in Kafka mode: the position blob saved with the
 * engine snapshot, where a restored run seeks, and holding a snapshot until the alerts of
 * every record it covers are acknowledged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka_run.h"
#include "vigil/log.h"

/* ---- state checkpoints (state.dir) ----------------------------------------------------- */

/* The identity of this input, recorded in every checkpoint:
 * "kafka cluster=<id or -> bootstrap=<brokers> topic=<topic> group=<group>". */
static void kt_state_source(struct kt_run *r, char *buf, size_t size) {
    const struct vg_config *cfg = r->d->cfg;
    bool embedded = !strcmp(cfg->kafka.brokers, "embedded");
    /* The embedded cluster is new (and empty) at every start: its id would never match. */
    char *cluster = embedded || !r->out.rk ? NULL : rd_kafka_clusterid(r->out.rk, 3000);

    snprintf(buf, size, "kafka cluster=%s bootstrap=%s topic=%s group=%s", cluster && cluster[0] ? cluster : "-",
             cfg->kafka.brokers, r->d->input_topic, cfg->input.group);
    if (cluster)
        rd_kafka_mem_free(r->out.rk, cluster);
}

/* Copies the value of "key=" in a source text (up to the next space; the last key, group,
 * to the end) into out. Returns false when absent. */
static bool kt_source_field(const char *src, const char *key, bool last, char *out, size_t size) {
    char pat[32];
    const char *v, *end;

    snprintf(pat, sizeof(pat), " %s=", key);
    v = strstr(src, pat);
    if (!v)
        return false;
    v += strlen(pat);
    end = last ? v + strlen(v) : strchr(v, ' ');
    if (!end)
        end = v + strlen(v);
    snprintf(out, size, "%.*s", (int)(end - v), v);
    return true;
}

struct kt_accept {
    struct kt_run *r;
    const char *mine;
};

/* restore check: a checkpoint of this cluster (by id when both ids are known, else by the
 * bootstrap list), topic and group; a version-1 one (no identity) only when its position is
 * of this topic. */
static bool kt_state_accept(void *opaque, const char *source, const char *position, size_t position_len,
                            char *why, size_t why_size) {
    const struct kt_accept *a = opaque;
    char mc[256], mb[VG_PATH_MAX], mt[VG_TOPIC_MAX + 1], mg[256];
    char rc[256], rb[VG_PATH_MAX], rt[VG_TOPIC_MAX + 1], rg[256];
    size_t tl = strlen(a->r->d->input_topic);

    if (!source[0]) {
        if (position_len >= 7 + tl && !strncmp(position, "kafka1 ", 7) &&
            !strncmp(position + 7, a->r->d->input_topic, tl) && (position_len == 7 + tl || position[7 + tl] == ' ')) {
            vg_warn("checkpoint_unverified", "msg=\"checkpoint of an older vigild: its topic matches, its cluster "
                    "and group are not recorded; the next checkpoint records them\"");
            return true;
        }
        snprintf(why, why_size, "was written by an older vigild for another input (position \"%.*s\"), not for "
                 "%s: move it aside or use another state.dir", (int)VG_MIN(position_len, (size_t)80), position,
                 a->mine);
        return false;
    }
    if (strncmp(source, "kafka ", 6) != 0) {
        snprintf(why, why_size, "belongs to a replay (%s), not to this Kafka input (%s): move it aside or use "
                 "another state.dir", source, a->mine);
        return false;
    }
    kt_source_field(a->mine, "cluster", false, mc, sizeof(mc));
    kt_source_field(a->mine, "bootstrap", false, mb, sizeof(mb));
    kt_source_field(a->mine, "topic", false, mt, sizeof(mt));
    kt_source_field(a->mine, "group", true, mg, sizeof(mg));
    if (!kt_source_field(source, "cluster", false, rc, sizeof(rc)) ||
        !kt_source_field(source, "bootstrap", false, rb, sizeof(rb)) ||
        !kt_source_field(source, "topic", false, rt, sizeof(rt)) || !kt_source_field(source, "group", true, rg, sizeof(rg)) ||
        strcmp(rt, mt) != 0 || strcmp(rg, mg) != 0 ||
        (strcmp(rc, "-") && strcmp(mc, "-") ? strcmp(rc, mc) != 0 : strcmp(rb, mb) != 0)) {
        snprintf(why, why_size, "belongs to another Kafka input (%s), not to this one (%s): move it aside or use "
                 "another state.dir", source, a->mine);
        return false;
    }
    return true;
}

int kt_state_open(struct kt_run *r, const struct vg_alert_sink *sink, char *errstr, size_t errstr_size) {
    const struct vg_config *cfg = r->d->cfg;
    char pos[VG_CHECKPOINT_POSITION_MAX + 1], mine[VG_CHECKPOINT_SOURCE_MAX];
    size_t len = sizeof(pos) - 1;
    struct kt_accept a = {.r = r, .mine = mine};
    struct vg_restore_check check = {.accept = kt_state_accept, .opaque = &a};

    kt_state_source(r, mine, sizeof(mine));
    /* Checked before anything in state.dir is touched: a refused directory stays as it was. */
    if (vg_engine_start_checked(&r->engine, cfg, sink, cfg->state.dir, &check, pos, &len, errstr, errstr_size))
        return -1;
    if (vg_checkpointer_create(&r->state, cfg->state.dir, errstr, errstr_size))
        return -1; /* the caller stops the engine */
    vg_checkpointer_set_source(r->state, mine);
    pos[len] = '\0';
    kt_state_parse(r, pos, len);
    return 0;
}

/* Position blob: "kafka1 <topic> <partition>:<next offset> ...". */
static size_t kt_state_position(const struct kt_run *r, const int64_t *next, char *buf, size_t size) {
    /* The topic consumed (input.topic at start), not the config's now: a reload may have
     * changed input.topic, which takes effect only at the next start. */
    size_t n = (size_t)snprintf(buf, size, "kafka1 %s", r->d->input_topic);
    for (int p = 0; p < KT_MAX_PARTITIONS && n + 32 < size; p++)
        if (next[p] >= 0)
            n += (size_t)snprintf(buf + n, size - n, " %d:%lld", p, (long long)next[p]);
    return n;
}

void kt_state_parse(struct kt_run *r, const char *pos, size_t len) {
    char topic[VG_TOPIC_MAX + 1];
    int used = 0;

    if (len == 0)
        return;
    if (sscanf(pos, "kafka1 %250s%n", topic, &used) != 1) { /* VG_TOPIC_MAX */
        vg_warn("state_position", "msg=\"checkpoint position is not a Kafka position (replay?); state "
                                  "restored, offsets from the consumer group\"");
        return;
    }
    if (strcmp(topic, r->d->cfg->input.topic) != 0) {
        vg_warn("state_position", "topic=%s input_topic=%s msg=\"checkpoint is of another topic; offsets "
                                  "from the consumer group\"", topic, r->d->cfg->input.topic);
        return;
    }
    for (const char *c = pos + used; c < pos + len;) {
        int p, n = 0;
        long long off;
        if (sscanf(c, " %d:%lld%n", &p, &off, &n) != 2 || n == 0)
            break;
        if (p >= 0 && p < KT_MAX_PARTITIONS && off >= 0) {
            r->restored_next[p] = off;
            r->state_covers[p] = true;
            r->state_positioned = true;
            /* Records before it are in the state (never again) and their alerts were
             * acknowledged before the checkpoint was written (safe to commit). */
            r->consumed_next[p] = r->read_next[p] = r->safe_next[p] = off;
        }
        c += n;
    }
}

/* Exactly-once: where the group's committed offsets (the last committed transaction) are
 * ahead of the restored state, the records in between are read again to rebuild the state
 * but their alerts and dead letters, committed by the previous run, are not output again
 * (replay_until). */
static void kt_state_replay_bounds(struct kt_run *r, const rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_new(parts->cnt);
    rd_kafka_resp_err_t err;

    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (p >= 0 && p < KT_MAX_PARTITIONS && r->restored_next[p] >= 0)
            rd_kafka_topic_partition_list_add(committed, parts->elems[i].topic, p);
    }
    if (committed->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(committed);
        return;
    }
    err = rd_kafka_committed(r->consumer, committed, 10000);
    if (err) {
        vg_warn("state_replay_unknown", "error=%s msg=\"committed offsets unknown: alerts after the "
                "checkpoint may be output again\"", rd_kafka_err2name(err));
        rd_kafka_topic_partition_list_destroy(committed);
        return;
    }
    for (int i = 0; i < committed->cnt; i++) {
        int32_t p = committed->elems[i].partition;
        int64_t until = committed->elems[i].offset;
        if (committed->elems[i].err || until <= r->restored_next[p])
            continue;
        r->replay_until[p] = until;
        vg_info("state_replay", "partition=%d from=%lld until=%lld msg=\"committed by the previous "
                "run: read again for the state, not output again\"", (int)p,
                (long long)r->restored_next[p], (long long)until);
    }
    rd_kafka_topic_partition_list_destroy(committed);
}

/* First assignment after a restore: start each partition where the state ends, not at
 * the group's committed offset (which may lag behind it, or, exactly-once, be ahead). */
void kt_state_seek(struct kt_run *r, rd_kafka_topic_partition_list_t *parts) {
    if (r->out.transactional)
        kt_state_replay_bounds(r, parts);
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (p < 0 || p >= KT_MAX_PARTITIONS || r->restored_next[p] < 0)
            continue;
        parts->elems[i].offset = r->restored_next[p];
        vg_info("state_seek", "partition=%d offset=%lld", (int)p, (long long)r->restored_next[p]);
        r->restored_next[p] = -1;
    }
}

/* state.dir without a checkpoint of this topic: on the first assignment, before any record,
 * a checkpoint of the (empty) state at the offsets consumption starts from (the group's
 * committed ones, else where auto.offset.reset starts). A crash before the first periodic
 * checkpoint then resumes there with the right state, and exactly-once can tell which
 * records' output its transactions already committed (kt_state_replay_bounds), instead of
 * resuming at offsets committed meanwhile without the state of what came before them. */
void kt_state_initial(struct kt_run *r, const rd_kafka_topic_partition_list_t *parts) {
    int64_t next[KT_MAX_PARTITIONS];
    char pos[VG_CHECKPOINT_POSITION_MAX], reset[32] = "earliest";
    size_t reset_len = sizeof(reset);
    rd_kafka_topic_partition_list_t *start;
    rd_kafka_resp_err_t err;
    struct vg_checkpoint_take t;
    bool latest;
    int n = 0;

    if (!r->state || r->state_positioned)
        return;
    r->state_positioned = true; /* tried once */
    for (int p = 0; p < KT_MAX_PARTITIONS; p++)
        next[p] = -1;
    (void)rd_kafka_conf_get(rd_kafka_conf(r->consumer), "auto.offset.reset", reset, &reset_len);
    latest = !strcmp(reset, "latest") || !strcmp(reset, "largest") || !strcmp(reset, "end");
    start = rd_kafka_topic_partition_list_copy(parts);
    err = rd_kafka_committed(r->consumer, start, 10000);
    for (int i = 0; !err && i < start->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &start->elems[i];
        int64_t lo = -1, hi = -1, off = tp->offset;
        if (tp->partition < 0 || tp->partition >= KT_MAX_PARTITIONS || tp->err)
            continue;
        if (off < 0) { /* nothing committed: where auto.offset.reset starts */
            if (!strcmp(reset, "error") ||
                rd_kafka_query_watermark_offsets(r->consumer, tp->topic, tp->partition, &lo, &hi, 5000))
                continue;
            off = latest ? hi : lo;
        }
        next[tp->partition] = off;
        n++;
    }
    rd_kafka_topic_partition_list_destroy(start);
    if (err || n == 0) {
        vg_warn("checkpoint_initial_skipped", "error=%s msg=\"start offsets unknown; offsets are "
                "committed once a checkpoint holds them\"", rd_kafka_err2name(err));
        return;
    }
    size_t len = kt_state_position(r, next, pos, sizeof(pos));
    vg_engine_flush(r->engine);
    vg_engine_drain(r->engine);
    if (vg_checkpointer_take(r->state, r->engine, pos, len, VG_CKPT_IN_PROCESS, &t) != VG_OK ||
        vg_checkpointer_wait(r->state) != VG_OK) {
        vg_warn("checkpoint_initial_skipped", "msg=\"not written; offsets are committed once a "
                "checkpoint holds them\"");
        return;
    }
    for (int p = 0; p < KT_MAX_PARTITIONS; p++) {
        if (next[p] < 0)
            continue;
        /* As if restored from it: later checkpoints carry the position on. */
        r->consumed_next[p] = r->read_next[p] = r->safe_next[p] = next[p];
        r->state_covers[p] = true;
    }
    r->state_consumed = r->consumed;
    vg_info("checkpoint_initial", "partitions=%d position=\"%.*s\"", n, (int)VG_MIN(len, (size_t)200), pos);
}

/* True when every offset of `next` is covered by safe_next (alerts acknowledged). */
static bool kt_state_safe(const struct kt_run *r, const int64_t *next) {
    for (int p = 0; p < KT_MAX_PARTITIONS; p++)
        if (next[p] >= 0 && r->safe_next[p] < next[p])
            return false;
    return true;
}

/* Lets the held checkpoint be published once its alerts are acknowledged. */
void kt_state_release(struct kt_run *r) {
    if (!r->holding || !kt_state_safe(r, r->held_next))
        return;
    vg_checkpointer_release(r->state);
    r->holding = false;
    memcpy(r->publishing_next, r->held_next, sizeof(r->publishing_next));
    r->publishing = true;
}

/* Once the released checkpoint is on disk, the partitions it holds a position for may
 * have their group offsets committed (state_covers). Does not block. */
void kt_state_published(struct kt_run *r) {
    if (!r->publishing || vg_checkpointer_busy(r->state))
        return;
    r->publishing = false;
    if (vg_checkpointer_wait(r->state) != VG_OK) /* not busy: returns at once */
        return;
    for (int p = 0; p < KT_MAX_PARTITIONS; p++)
        if (r->publishing_next[p] >= 0)
            r->state_covers[p] = true;
}

/* Drains the engine and checkpoints it with the consumed offsets, held until they are safe.
 * A forked child writes it while consuming goes on; `final` (shutdown) copies in process. */
void kt_state_take(struct kt_run *r, int64_t now, bool final) {
    char pos[VG_CHECKPOINT_POSITION_MAX];
    struct vg_checkpoint_take t;
    int64_t drained;
    size_t len;
    int rc;

    r->last_state_ns = now;
    if (r->holding || vg_checkpointer_busy(r->state) || r->consumed == r->state_consumed)
        return; /* the previous one is not on disk yet, or nothing new: next interval */
    r->state_consumed = r->consumed;
    vg_engine_wait_backlog(r->engine, VG_CHECKPOINT_BACKLOG); /* shards busy meanwhile */
    now = vg_now_mono_ns();
    kt_ckpt_close(r, now);
    vg_engine_flush(r->engine);
    vg_engine_drain(r->engine);
    drained = vg_now_mono_ns();
    len = kt_state_position(r, r->consumed_next, pos, sizeof(pos));
    rc = vg_checkpointer_take(r->state, r->engine, pos, len,
                              VG_CKPT_HOLD | (final ? VG_CKPT_IN_PROCESS : 0), &t);
    if (rc != VG_OK) {
        vg_error("checkpoint_failed", "msg=\"%s\"", rc == VG_ERR_NOMEM ? "out of memory taking the snapshot"
                                                                    : "checkpointer busy");
        return;
    }
    if (t.forked)
        vg_info("checkpoint_snapshot", "mode=fork child=%d stall_ms=%.2f drain_ms=%.2f fork_ms=%.2f",
                t.child_pid, (double)(vg_now_mono_ns() - now) / 1e6, (double)(drained - now) / 1e6,
                (double)t.fork_ns / 1e6);
    else
        vg_info("checkpoint_snapshot", "mode=copy bytes=%zu stall_ms=%.2f drain_ms=%.2f copy_ms=%.2f", t.bytes,
                (double)(vg_now_mono_ns() - now) / 1e6, (double)(drained - now) / 1e6,
                (double)t.copy_ns / 1e6);
    memcpy(r->held_next, r->consumed_next, sizeof(r->held_next));
    r->holding = true;
    kt_state_release(r);
}

/* At shutdown, after kt_quiesce: the final checkpoint, written before exit if everything
 * consumed is acknowledged (otherwise the previous checkpoint stays the newest). */
void kt_state_final(struct kt_run *r) {
    if (!r->state)
        return;
    kt_state_release(r);
    if (r->holding) {
        vg_checkpointer_abandon(r->state);
        r->holding = false;
    }
    vg_checkpointer_wait(r->state);
    if (kt_failing(r) || !kt_state_safe(r, r->consumed_next)) {
        vg_warn("checkpoint_skipped", "msg=\"alerts not all acknowledged; keeping the previous checkpoint\"");
        return;
    }
    r->state_consumed = UINT64_MAX; /* always write the final one */
    kt_state_take(r, vg_now_mono_ns(), true);
    if (r->holding) {
        vg_checkpointer_abandon(r->state);
        r->holding = false;
        vg_warn("checkpoint_skipped", "msg=\"final snapshot not safe\"");
    }
    vg_checkpointer_wait(r->state);
    kt_state_published(r); /* the commit of the revoke at close may now cover everything */
}
