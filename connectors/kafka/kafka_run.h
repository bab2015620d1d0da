/* kafka_run.h - what the Kafka input loop's files share (kafka_run.c: the consumer loop and
 * lifecycle; kafka_commit.c: input checkpoints, offset commits and transactions;
 * kafka_state.c: state.dir checkpoints and where they resume). Internal to connectors/kafka;
 * one struct kt_run per running consumer, owned by the input thread. */
#ifndef VIGIL_KAFKA_RUN_H
#define VIGIL_KAFKA_RUN_H

#include <stdatomic.h>

#include "kafka/kafka_int.h"
#include "kafka/repartition.h"
#include "vigil/checkpoint.h"
#include "vigil/daemon.h"
#include "vigil/engine.h"

#define KT_MAX_PARTITIONS 1024
#define KT_CKPT_SLOTS 64               /* pending checkpoints (power of two) */
#define KT_CKPT_EVERY_MSGS 2000
#define KT_CKPT_EVERY_NS (20 * 1000000LL)
#define KT_COMMIT_EVERY_NS (200 * 1000000LL)   /* at-least-once async commit cadence */
#define KT_TXN_EVERY_NS (100 * 1000000LL)      /* exactly-once transaction cadence */
#define KT_FORCE_PROGRESS_NS (500 * 1000000LL) /* drain when a checkpoint waits this long */
#define KT_LAG_EVERY_NS (1000 * 1000000LL)
#define KT_KICK_GAP_NS (20 * 1000000LL)        /* at most one fetcher kick per 20 ms */
#define KT_IDLE_POLL_MS 50
#define KT_ASK_EVERY_NS (200 * 1000000LL) /* live watermark queries per partition at most */
#define KT_ASK_MS 1000                     /* bound of one such query */
#define KT_FIRST_FETCH_GRACE_NS (5000 * 1000000LL) /* a partition not read yet is waited for this
                                        * long after assignment unless known to be empty */
#define KT_PERIODIC_EVERY_MSGS 256 /* busy input: kt_periodic once per this many records
                                    * (it reads every assigned partition's watermarks) */
#define KT_QUIESCE_ACK_MS 10000
#define KT_SLOW_CONNECT_NS (10 * 1000000000LL) /* kafka_connect_slow while not assigned */
#define KT_DEMO_DRAIN_NS (15 * 1000000000LL)   /* demo: reading what the feed produced */
#define KT_NO_MARK UINT64_MAX
#define KT_PULL_BATCH 64               /* messages taken from a partition queue at once */
#define KT_LANE_RECORDS 65536u /* distributed mode: records of every lane between two markers */
#define KT_MAX_LANES 65536
#define KT_REORDER_RECORDS (2 * KT_MAX_PARTITIONS) /* event-time merge buffer: one parsed
                                        * record per partition is refilled at a time; the
                                        * rest waits unparsed in librdkafka's partition queues */

/* A point in the input: every message consumed before it is covered by next_offset, every
 * good record of it has seq < end_seq. It becomes committable once the engine is done with
 * end_seq and (at-least-once) every message produced by then is acknowledged. */
struct kt_ckpt {
    uint64_t id;
    uint64_t end_seq;
    uint64_t produce_mark;        /* next_no when done_seq reached end_seq, or KT_NO_MARK */
    int64_t created_ns;
    int64_t next_offset[KT_MAX_PARTITIONS]; /* -1 = nothing consumed there yet */
};

/* Messages taken from one partition queue and not handled yet (at most KT_PULL_BATCH). */
struct kt_pending {
    rd_kafka_message_t *msgs[KT_PULL_BATCH];
    uint32_t next, count;
    int64_t arrival_ns;                   /* when they were taken from librdkafka */
};

struct kt_run {
    struct vg_daemon *d;
    /* What the loop consumes: input.topic in input.group, or in distributed mode the
     * repartition topic in the task group (repartition.h), read in lanes. */
    char topic[VG_TOPIC_MAX + 1];
    char group[VG_TOPIC_MAX + 1];
    struct vg_router *router;                 /* distributed mode: the first hop */
    /* Lanes: in distributed mode each repartition partition carries one sub-stream per
     * input partition (the vg-src header), each in event-time order, so the merge's unit is
     * the lane p * lanes_per_part + source, fed by the sub-stream's records and its progress
     * markers. One process reads its input topic with one lane per partition. */
    int32_t lanes_per_part;
    bool lanes;
    /* Per lane, in input-partition offsets (the vg-off header): the last record handed to
     * the engine (what a stored state holds: lanes release in order within a lane, not
     * across the lanes of a partition, so a partition is read again from its oldest
     * unreleased record and the rest is skipped by these), and the last record read (a
     * record at or below it is a copy: read again, or forwarded twice by a router that
     * took the input partition over). */
    int64_t *lane_done, *lane_read;
    uint64_t lane_copies;                     /* records skipped by lane_read */
    /* Spilling: a repartition partition interleaves its lanes in the order routers
     * committed them, so a router that runs ahead (a backlog) puts hours of one lane before
     * minutes of another. When the merge is full with nothing it may release, the records
     * younger than `horizon` (the median queued time) are dropped, and read again from
     * `rewind` (per repartition partition, -1 = none) once every lane has reached the
     * horizon; meanwhile a lane that had a record dropped (`skipping`) skips the rest of
     * its records, so each lane still reaches the engine in order. */
    int64_t horizon;                          /* INT64_MAX: not spilling */
    int64_t *rewind;
    bool *skipping;
    int32_t n_lanes;
    uint64_t spills, spilled;                 /* spill episodes, records dropped to be read again */
    /* Distributed mode with state.topic (task_state.c): each owned task's state is stored
     * there and restored by whichever instance is given the task. */
    bool tasks_on;
    rd_kafka_t *state_rk;                     /* idempotent producer of the state topic */
    rd_kafka_t *state_reader;                 /* assign()-only consumer that reads it back */
    bool state_failed;                        /* a state record was not delivered */
    uint64_t task_gen[KT_MAX_PARTITIONS];     /* newest stored generation per task */
    int64_t task_start[KT_MAX_PARTITIONS];    /* where the task's stream starts in this
                                               * assignment (its state's position), -1 = unknown */
    struct vg_engine *engine;
    struct kt_out out;
    bool out_ready;
    rd_kafka_t *consumer;
    struct vg_mock_broker *mock;
    struct vg_demo_feed *feed;
    rd_kafka_topic_partition_list_t *assigned; /* current assignment (owned) */
    bool cooperative;
    bool consumer_closed;                      /* kt_close_consumer completed */
    int64_t health_stall_ms;                   /* kafka_health.c */
    bool consumer_abandoned;                   /* its close ran out of time: not destroyed */
    bool fatal;
    bool started;                          /* kafka_started logged (first assignment) */
    int64_t connect_ns, slow_connect_ns;   /* connecting since; next kafka_connect_slow */
    char fatal_msg[512];

    uint64_t next_seq;
    int64_t consumed_next[KT_MAX_PARTITIONS]; /* every message before it is handled (submitted
                                               * or dead-lettered): commits and checkpoints */
    int64_t read_next[KT_MAX_PARTITIONS];     /* offset after the last message read (some of
                                               * them may still wait in the merge buffer) */
    struct vg_reorder *reorder;               /* event-time merge of the partitions */
    /* Each assigned partition's fetch queue is read directly (not forwarded to the consumer
     * queue): librdkafka then applies its prefetch thresholds per partition, so a backlog is
     * fetched evenly across partitions instead of a few partitions at a time, and the merge
     * takes the next record of exactly the partition it released. part_queue[p] is set
     * while p is assigned. A partition with nothing in the merge is "starving" and is read
     * again before the loop waits. */
    rd_kafka_queue_t *part_queue[KT_MAX_PARTITIONS];
    struct kt_pending *pending;               /* KT_MAX_PARTITIONS */
    int32_t starving[KT_MAX_PARTITIONS];
    int32_t n_starving;
    bool is_starving[KT_MAX_PARTITIONS];
    bool was_full[KT_MAX_PARTITIONS];         /* its queue held half a prefetch threshold or
                                               * more since it was last kicked */
    rd_kafka_queue_t *consumer_queue;         /* rebalances, commit results, errors */
    rd_kafka_queue_t *out_queue;              /* the producer's main queue (delivery reports) */
    int wake_fd[2];                           /* pipe librdkafka writes to when a queue the
                                               * loop found empty gets an element */
    uint64_t msgs_read;                       /* messages taken from librdkafka */
    int64_t last_fetch_ns[KT_MAX_PARTITIONS]; /* when a record of the partition last reached
                                               * the merge (or it was assigned): idleness */
    uint64_t idle_releases;                   /* partitions declared idle while the merge held records */
    int64_t asked_ns[KT_MAX_PARTITIONS];      /* last live high-watermark query (idleness) */
    int64_t safe_next[KT_MAX_PARTITIONS];     /* from completed checkpoints */
    int64_t committed_next[KT_MAX_PARTITIONS];

    struct kt_ckpt *ckpt;                     /* KT_CKPT_SLOTS */
    uint64_t ckpt_head, ckpt_tail;            /* pending: [tail, head) */
    uint64_t building_id;                     /* checkpoint the current messages join */
    uint64_t since_ckpt_msgs;
    int64_t last_ckpt_ns, last_commit_ns, last_txn_ns, last_lag_ns;

    uint64_t consumed, dead_letters, skipped_duplicates;

    /* librdkafka before 2.2 (no fetch.queue.backoff.ms): once its prefetch queue reaches
     * queued.min.messages or queued.max.messages.kbytes, the fetcher sleeps ~1 s however
     * soon the queue is drained, which caps a backlog at one queue per second. With
     * kick_fetcher set, a partition queue read to empty after it held at least half a
     * threshold's worth restarts fetching at once (kt_kick_fetcher). */
    bool kick_fetcher;
    uint64_t kick_msgs, kick_bytes;        /* half of each threshold */
    int64_t last_kick_ns;
    uint64_t kicks;

    /* state.dir: engine state checkpoints. A snapshot is taken at a drain point with the
     * consumed offsets and written as a pending file, held until every alert of the records
     * before them is acknowledged (safe_next reaches them), so a restart that seeks to those
     * offsets loses no alert; only then is it published. */
    vg_checkpointer_t *state;
    bool holding;                              /* the checkpointer holds one for held_next */
    int64_t held_next[KT_MAX_PARTITIONS];
    int64_t restored_next[KT_MAX_PARTITIONS];  /* seek here on first assignment, -1 = no */
    /* Exactly-once: the group's committed offset where it is ahead of the restored one.
     * The transactions after the checkpoint were committed with their alerts and dead
     * letters, so the records before it are read again only to rebuild the state: what
     * they cause is not output again (-1 = nothing to read again). */
    int64_t replay_until[KT_MAX_PARTITIONS];
    uint64_t replayed;                         /* records read again that way */
    int64_t last_state_ns;
    uint64_t state_consumed;                   /* `consumed` at the last snapshot */
    /* At-least-once: a restart resumes a partition at the newest checkpoint's position for
     * it, or, when no checkpoint has one, at the group's committed offset with none of the
     * state of the records after it. So the group offset of a partition moves only once a
     * checkpoint on disk holds a position for it (state_covers); before that, committing
     * would let a crash lose the state of what was consumed (a pattern spanning the
     * restart would go undetected). */
    bool state_covers[KT_MAX_PARTITIONS];
    bool state_positioned;                     /* restored with a Kafka position, or the
                                                * initial checkpoint was taken */
    bool publishing;                           /* released, maybe not on disk yet */
    int64_t publishing_next[KT_MAX_PARTITIONS];
};

/* Marks the run failed (first reason kept, logged once). Can't fail. */
void kt_fatal(struct kt_run *r, const char *what, const char *why);
static inline bool kt_failing(struct kt_run *r) { return r->fatal || atomic_load(&r->out.failed); }
/* Hands the engine what the event-time merge lets go (all of it with flush). Returns VG_OK,
 * or VG_ERR_IO when the run is failing. */
int kt_release(struct kt_run *r, bool flush);

/* task_state.c */
int kt_tasks_open(struct kt_run *r, const char *bootstrap, char *errstr, size_t errstr_size);
void kt_tasks_close(struct kt_run *r);
/* Stores the state of the tasks in parts at their consumed positions (engine drained). */
int kt_tasks_save(struct kt_run *r, const rd_kafka_topic_partition_list_t *parts);
/* Assignment: loads the tasks' states, replaces the engine with one holding them and sets
 * restored_next for kt_state_seek. Then kt_tasks_initial once the seeks are set. */
int kt_tasks_assign(struct kt_run *r, rd_kafka_topic_partition_list_t *parts);
int kt_tasks_initial(struct kt_run *r, const rd_kafka_topic_partition_list_t *parts);
void kt_tasks_checkpoint(struct kt_run *r);
/* /metrics: this instance owns no task (revoke). */
void kt_tasks_revoked(struct kt_run *r);

/* kafka_commit.c */
void kt_ckpt_close(struct kt_run *r, int64_t now_ns);
void kt_ckpt_advance(struct kt_run *r);
void kt_commit(struct kt_run *r, bool sync);
void kt_offset_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                         void *opaque);
void kt_txn(struct kt_run *r);

/* kafka_state.c */
/* Starts r->engine from state.dir's checkpoint if it is of this input (cluster, topic, group;
 * refused otherwise, nothing touched), creates r->state recording this input's identity and
 * parses the saved position. Returns 0 or -1 with errstr (a bad config: exit 1). */
int kt_state_open(struct kt_run *r, const struct vg_alert_sink *sink, char *errstr, size_t errstr_size);
void kt_state_parse(struct kt_run *r, const char *pos, size_t len);
void kt_state_seek(struct kt_run *r, rd_kafka_topic_partition_list_t *parts);
void kt_state_initial(struct kt_run *r, const rd_kafka_topic_partition_list_t *parts);
void kt_state_release(struct kt_run *r);
void kt_state_published(struct kt_run *r);
void kt_state_take(struct kt_run *r, int64_t now, bool final);
void kt_state_final(struct kt_run *r);

#endif
