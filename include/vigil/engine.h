/* engine.h - the analysis pipeline as one handle: an input thread submits parsed
 * transactions; shard workers (account rules), the graph stage (graph rules) and an alert
 * collector run behind it. Used identically by replay (--input) and Kafka mode.
 *
 * Threads: submit/flush/close are called from ONE input thread. Sink callbacks run on the
 * collector thread. Nothing here takes a lock per transaction. */
#ifndef VIGIL_ENGINE_H
#define VIGIL_ENGINE_H

#include "vigil/common.h"
#include "vigil/txn.h"
#include "vigil/rule.h"
#include "vigil/config.h"

struct vg_engine;

/* A rendered alert as the collector hands it to the output. */
struct vg_alert_record {
    enum vg_rule_id rule;
    const char *json;         /* one NDJSON line including '\n' */
    size_t json_len;
    const char *account;      /* Kafka message key */
    size_t account_len;
    uint64_t trigger_seq;     /* input position of the transaction that caused it */
    int64_t arrival_ns;       /* CLOCK_MONOTONIC when the trigger record was read */
};

/* Where alerts go. Called on the collector thread, in per-stage order. */
struct vg_alert_sink {
    void *opaque;
    /* One alert. Returns 0, or negative to report a runtime failure (engine stops). */
    int (*on_alert)(void *opaque, const struct vg_alert_record *alert);
    /* Every record with seq < done_seq has been fully processed and all its alerts were
     * passed to on_alert. Optional. */
    void (*on_progress)(void *opaque, uint64_t done_seq);
    /* Called when the collector has no more queued alerts for now (flush point). Optional. */
    void (*on_idle)(void *opaque);
};

/* Alert latency histogram (record arrival -> alert hand-off to the sink), Prometheus
 * style: upper bounds in seconds, the last bucket is +Inf. Counts are not cumulative. */
#define VG_LATENCY_BUCKETS 14
extern const double vg_latency_bounds_s[VG_LATENCY_BUCKETS - 1];

/* The bucket a latency of ns nanoseconds falls in. */
static inline int vg_latency_bucket(int64_t ns) {
    double s = (double)ns / 1e9;
    int b = 0;
    while (b < VG_LATENCY_BUCKETS - 1 && s > vg_latency_bounds_s[b]) b++;
    return b;
}

/* Engine-wide counters, summed over threads on read. */
struct vg_engine_stats {
    uint64_t transactions;       /* submitted */
    uint64_t events;             /* account-side events processed by shards */
    uint64_t graph_edges;        /* transfers the graph stage kept */
    uint64_t alerts[VG_RULE_MAX];
    uint64_t suppressed[VG_RULE_MAX]; /* cut by cooldown */
    uint64_t late;               /* older than newest ts - allowed_lateness */
    uint64_t out_of_order;       /* older than newest ts (late or not) */
    uint64_t future;             /* far-future records kept out of the newest ts (time_guard.h) */
    uint64_t tracked_accounts;
    uint64_t window_events;      /* events held in windows */
    uint64_t scan_truncated;     /* rule views cut to max_window_events */
    uint64_t graph_budget_cut;   /* graph searches stopped by engine.graph_budget */
    uint64_t state_bytes;        /* memory held by account/graph state */
    uint64_t dead_letter[VG_REASON_MAX]; /* records refused, by reason */
    uint64_t latency_count[VG_LATENCY_BUCKETS];
    uint64_t latency_sum_ns;
    uint32_t shards;
    uint32_t ring_used[64];      /* per-shard ring occupancy (slots), first `shards` */
    uint32_t ring_size;
};

/* Starts all engine threads. cfg must outlive the engine (or be replaced by
 * vg_engine_reload). Returns VG_OK or an error with errstr. */
int vg_engine_start(struct vg_engine **out, const struct vg_config *cfg,
                    const struct vg_alert_sink *sink, char *errstr, size_t errstr_size);

/* Queues one transaction (copied). txn->seq must increase by one per call, starting at the
 * engine's first seq (0 or the restored checkpoint's next seq). Blocks while the pipeline is
 * full (back-pressure, never a drop). arrival_ns stamps latency measurement. */
void vg_engine_submit(struct vg_engine *e, const struct vg_txn *txn, int64_t arrival_ns);

/* Like submit but never blocks: returns VG_ERR_FULL when a ring has no room. */
int vg_engine_try_submit(struct vg_engine *e, const struct vg_txn *txn, int64_t arrival_ns);

/* Which events of a transaction a submit routes: the sending account's, the receiving
 * account's, the graph stage's (when the amount reaches a graph rule's min_amount). A
 * process that owns only some accounts (input.repartition_topic) routes only its sides. */
#define VG_SIDE_OUT 1u
#define VG_SIDE_IN 2u
#define VG_SIDE_GRAPH 4u
#define VG_SIDE_ALL (VG_SIDE_OUT | VG_SIDE_IN | VG_SIDE_GRAPH)

/* try_submit routing only the events in `sides` (VG_SIDE_*). */
int vg_engine_try_submit_sides(struct vg_engine *e, const struct vg_txn *txn, int64_t arrival_ns, unsigned sides);

/* Smallest amount (base micro-units) any enabled graph rule uses; INT64_MAX when none is
 * enabled. */
int64_t vg_engine_graph_min_amount(const struct vg_config *cfg);

/* Kafka input: a record counts as far-future (vigil/time_guard.h) only when it is also more
 * than max_skew_ms ahead of the wall clock. Input thread only, before the first submit. */
void vg_engine_use_wall_clock(struct vg_engine *e, int64_t max_skew_ms);

/* Whether a record dated ts_ms would be held out of the stream's newest time now (the event
 * time merge releases such records at once instead of holding the stream for them). Input
 * thread only. */
bool vg_engine_is_future(const struct vg_engine *e, int64_t ts_ms);

/* Counts a record the input refused (dead-lettered). Input thread only. */
void vg_engine_dead_letter(struct vg_engine *e, enum vg_reason reason);

/* Publishes partially filled batches to the workers (call when input goes idle). */
void vg_engine_flush(struct vg_engine *e);

/* Publishes what is pending, then waits (the stages keep working) until no stage ring holds
 * more than `slots` records. Called before a drain that stops the input (checkpoints): the
 * drain then takes a bounded time however deep the rings are. Returns early when the sink
 * failed. */
void vg_engine_wait_backlog(struct vg_engine *e, uint32_t slots);
/* Blocks until every submitted transaction is processed and its alerts handed to the sink. */
void vg_engine_drain(struct vg_engine *e);

/* Swaps in a new config (rule parameters, lists) at a batch boundary without touching
 * state. Blocks until every worker uses it; the caller then frees the old one. */
void vg_engine_reload(struct vg_engine *e, const struct vg_config *cfg);

/* Next seq the engine expects. */
uint64_t vg_engine_next_seq(const struct vg_engine *e);

void vg_engine_stats(struct vg_engine *e, struct vg_engine_stats *out);

/* Drains, stops the threads and frees everything. Returns 0 or the sink's failure. */
int vg_engine_stop(struct vg_engine *e);

/* CLOCK_MONOTONIC in ns / CLOCK_REALTIME in ms (vDSO, no syscall). */
int64_t vg_now_mono_ns(void);
int64_t vg_now_wall_ms(void);

#endif
