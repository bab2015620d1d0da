/* kafka_int.h - internals shared by the Kafka connector files: client configuration
 * (kafka_conf.c) and the output side (kafka_out.c: alert sink, dead letters, delivery
 * tracking, transactions). Not a public API; vigild sees only vigil/kafka.h. */
#ifndef VIGIL_KAFKA_INT_H
#define VIGIL_KAFKA_INT_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "vigil/daemon.h"
#include "vigil/engine.h"
#include "vigil/kafka.h"

/* ---- client configuration (kafka_conf.c) ------------------------------------------ */

enum kt_role { KT_CONSUMER, KT_PRODUCER, KT_TXN_PRODUCER };

/* Per-partition prefetch (queued.max.messages.kbytes / queued.min.messages) from the input
 * topic's partition count: a budget of KT_PREFETCH_BUDGET_KB shared out, each partition
 * between KT_PREFETCH_MIN_KB and KT_PREFETCH_MAX_KB. librdkafka < 2.2 stops fetching a
 * partition whose queue reached these limits until its broker thread wakes (up to 1 s), so a
 * partition read alone needs a deep queue (measured, one partition: 14 k records/s at
 * 256 KB, 700 k at 4 MB), while many partitions need a shallow one each (memory; 135
 * partitions: 0.96 GB peak at 256 KB, 1.49 GB at 4 MB). Settings in kafka.properties win. */
#define KT_PREFETCH_BUDGET_KB (32u * 1024)
#define KT_PREFETCH_MIN_KB 256u
#define KT_PREFETCH_MAX_KB 4096u
void kt_conf_size_prefetch(rd_kafka_conf_t *conf, const struct vg_config *cfg, int partitions);

/* Builds a conf for `role`: our defaults, then kafka.properties verbatim, then what the
 * delivery guarantees need (those win). Returns NULL with errstr naming the property. */
rd_kafka_conf_t *kt_conf_new(const struct vg_config *cfg, const char *bootstrap,
                             enum kt_role role, char *errstr, size_t errstr_size);

/* Logs one librdkafka error event (the error callback of every client). */
void kt_log_error(rd_kafka_t *rk, int err, const char *reason);

/* Whether every host of a bootstrap list ("host:port,...", optional scheme://) is this
 * machine (localhost, 127.0.0.0/8, ::1): a development broker such as vigil-broker. */
bool kt_bootstrap_is_loopback(const char *bootstrap);

/* The transactional.id used for exactly-once: kafka.properties' own, or
 * "vigil-<group>-<group.instance.id or host name>". Can't fail (truncates). */
void kt_transactional_id(const struct vg_config *cfg, char *out, size_t out_size);

/* ---- output side (kafka_out.c) ------------------------------------------------------ */

/* Delivery tracking ring: one flag per produced message awaiting its delivery report. */
#define KT_TRACK_SLOTS (1u << 20)

/* An alert or dead letter held for the next transaction (exactly-once mode). */
struct kt_held {
    uint64_t trigger_seq;     /* alert: the engine seq that caused it */
    uint64_t ckpt_id;         /* dead letter: the checkpoint its input message belongs to */
    bool dead_letter;
    uint32_t key_len;
    uint32_t value_len;
    char *bytes;              /* key then value, one allocation */
};

struct kt_out {
    rd_kafka_t *rk;                   /* idempotent or transactional producer */
    rd_kafka_topic_t *topics[2];      /* alerts and dead letters, looked up at start */
    bool transactional;
    int print_alerts;                 /* enum vg_alert_print: also on stdout (demo), 0 = no */
    char base_currency[4];            /* for the text form of printed alerts */
    char alert_topic[VG_TOPIC_MAX + 1];
    char dead_letter_topic[VG_TOPIC_MAX + 1];

    /* Written by the collector thread in on_progress (release), read by the input thread
     * (acquire): every record below it has handed all its alerts to on_alert. */
    _Atomic uint64_t done_seq;

    /* At-least-once delivery tracking. Numbers are handed out with fetch_add by whichever
     * thread produces; delivery reports mark flags and advance acked_prefix under lock. */
    _Atomic uint64_t next_no;
    _Atomic uint64_t acked_prefix;    /* every number below it was delivered */
    pthread_mutex_t track_lock;
    uint8_t *acked;                   /* KT_TRACK_SLOTS flags */
    /* KT_TRACK_SLOTS: when the record behind each tracked alert was read (0: not an alert),
     * and where delivery reports count read -> acknowledged (NULL: not counted). */
    int64_t *arrival_ns;
    _Atomic uint64_t *ack_latency_count;  /* VG_LATENCY_BUCKETS */
    _Atomic uint64_t *ack_latency_sum_ns;

    /* Exactly-once: messages held until the transaction that commits their input. */
    pthread_mutex_t held_lock;
    struct kt_held *held;
    size_t held_count, held_cap;
    size_t held_bytes;
    bool in_txn;                      /* input thread only */

    /* Exactly-once after a state restore: engine seqs of records read again only to rebuild
     * the state (the previous run already committed their alerts), as ascending disjoint
     * [lo, hi) ranges. The transactions drop the alerts they caused. Input thread only. */
    struct kt_seq_range { uint64_t lo, hi; } *muted;
    size_t muted_count, muted_cap;
    uint64_t alerts_muted;            /* input thread only */

    /* First permanent failure; the run stops with exit 2 and commits nothing past it. */
    atomic_bool failed;
    char failure[256];

    _Atomic uint64_t alerts_produced;
    _Atomic uint64_t dead_letters_produced;

    /* The stop's bound (engine.shutdown_timeout): the first look after *stop is set (or
     * kt_out_begin_stop) fixes deadline_ns; from then on every wait on the broker ends by
     * it, and one cut short sets `incomplete`. */
    const atomic_bool *stop;
    int64_t stop_timeout_ns;
    _Atomic int64_t deadline_ns;      /* monotonic ns, 0 while not stopping */
    atomic_bool incomplete;
    size_t txn_msgs;                  /* exactly-once: produced into the open transaction */
};

/* Creates the producer (transactional when cfg->output.exactly_once, and then runs
 * init_transactions). Its waits for the broker end early once *stop is set. Returns VG_OK,
 * VG_ERR_INVALID with errstr, or VG_ERR_IO when stopped during init_transactions. */
int kt_out_init(struct kt_out *o, const struct vg_config *cfg, const char *bootstrap,
                int print_alerts, const atomic_bool *stop, char *errstr, size_t errstr_size);

/* The run is stopping (SIGTERM, failure, deadline): fixes the stop's deadline now unless a
 * stop signal already did. Returns the deadline (monotonic ns). */
int64_t kt_out_begin_stop(struct kt_out *o);

/* How long a wait on the broker may take: normal_ms while not stopping, else what is left of
 * the stop's bound (0 once it ran out). */
int kt_out_wait_ms(struct kt_out *o, int normal_ms);

/* Whether the stop's bound ran out. */
bool kt_out_stop_expired(struct kt_out *o);

/* Alerts and dead letters produced and not acknowledged (at-least-once), or not in a
 * committed transaction (exactly-once). */
uint64_t kt_out_unacked(struct kt_out *o);

/* Flushes what it can (bounded by timeout_ms) and frees everything. Safe on a zeroed out. */
void kt_out_destroy(struct kt_out *o, int timeout_ms);

/* The engine sink writing into `o`. */
struct vg_alert_sink kt_out_sink(struct kt_out *o);

/* Records a permanent failure (first one wins) and logs it. Can't fail. */
void kt_out_fail(struct kt_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends one dead letter for a refused input message. At-least-once: produced now and
 * tracked; exactly-once: held for the transaction of checkpoint ckpt_id. Returns VG_OK or
 * VG_ERR_IO after kt_out_fail. */
/* Largest dead letter: every payload byte escaped (\u00XX) plus the envelope. */
#define KT_DEAD_LETTER_MAX (6 * VG_RECORD_MAX + 4096)
/* Renders the dead letter of an input message (JSON: reason, detail, topic, partition,
 * offset, payload) into buf. Returns its length, 0 when it does not fit. */
size_t kt_dead_letter_render(char *buf, size_t cap, enum vg_reason reason, const char *detail,
                             const rd_kafka_message_t *msg);
int kt_out_dead_letter(struct kt_out *o, enum vg_reason reason, const char *detail,
                       const rd_kafka_message_t *msg, uint64_t ckpt_id);

/* Serves delivery reports without blocking. */
void kt_out_poll(struct kt_out *o);

/* At-least-once: waits up to timeout_ms until every message produced so far is
 * acknowledged. Returns true when all were. */
bool kt_out_wait_acked(struct kt_out *o, int timeout_ms);

/* Exactly-once: the alerts of the record with this seq were committed by a previous run
 * (kt_out_commit_txn drops them). Seqs come in ascending order. Returns VG_OK or VG_ERR_IO
 * after kt_out_fail. */
int kt_out_mute(struct kt_out *o, uint64_t seq);

/* Exactly-once: one transaction producing the held messages that belong to the input up to
 * (end_seq, ckpt_id), committing `offsets` for the consumer's group in it. Returns VG_OK or
 * VG_ERR_IO after kt_out_fail (the run must stop: the engine state is ahead of Kafka). */
int kt_out_commit_txn(struct kt_out *o, rd_kafka_t *consumer, uint64_t end_seq, uint64_t ckpt_id,
                      const rd_kafka_topic_partition_list_t *offsets);

#endif
