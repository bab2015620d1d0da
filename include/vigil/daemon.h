/* daemon.h - the state a running vigild shares between main (signals, reload), the input
 * mode that drives the engine (file replay, Kafka, demo) and operations (metrics, health,
 * systemd). One struct per process, passed explicitly: no global mutable singletons. */
#ifndef VIGIL_DAEMON_H
#define VIGIL_DAEMON_H

#include <stdatomic.h>

#include "vigil/config.h"
#include "vigil/engine.h"

struct vg_daemon {
    struct vg_config *cfg;            /* current config; replaced by vg_daemon_apply_reload */
    atomic_bool stop_requested;       /* SIGTERM / SIGINT */
    atomic_bool reload_requested;     /* SIGHUP */
    atomic_bool consuming;            /* input is assigned and being read (healthz, READY=1) */
    atomic_bool kafka_unreachable;    /* no broker answers the consumer (healthz 503, no WATCHDOG=1) */
    _Atomic(struct vg_engine *) engine; /* set by the input mode while the engine runs */
    int print_alerts;                 /* echo alerts to stdout as they arrive (demo): enum
                                       * vg_alert_print, 0 = no */
    bool development_broker;          /* kafka.brokers: embedded (said in the log and /healthz) */
    int64_t run_for_ms;               /* stop by itself after this long (demo), 0 = forever */
    /* Consumer lag per partition, published by the Kafka consumer for /metrics. */
    _Atomic int64_t lag[256];
    atomic_int lag_partitions;
    /* Event-time merge of the partitions (Kafka): partitions declared idle after
     * input.idle_timeout while the merge held records, and records released out of event
     * time order because the merge was full. Single writer: the Kafka input thread. */
    _Atomic uint64_t merge_idle_releases;
    _Atomic uint64_t merge_forced;
    /* Distributed mode (input.repartition_topic): the tasks (repartition partitions) this
     * instance owns, a bit each, and how long the last assignment's state restore took. */
    atomic_bool distributed;
    atomic_int tasks_owned;
    _Atomic uint64_t task_owned_bits[16];
    _Atomic int64_t task_restore_us;
    _Atomic uint64_t router_dead_letter[VG_REASON_MAX]; /* records the router refused, by reason */
    /* The task side's merge, for the router's back-pressure: how full (per mille) and the
     * event time its waiting lanes have reached (INT64_MAX: none waits). */
    atomic_uint merge_fill_permille;
    _Atomic int64_t merge_floor_ms;
    /* Kafka at-least-once output: from reading the record to the broker acknowledging the
     * alert it caused (vigil_alert_ack_latency_seconds); written by delivery reports. */
    _Atomic uint64_t ack_latency_count[VG_LATENCY_BUCKETS];
    _Atomic uint64_t ack_latency_sum_ns;
    char input_topic[VG_TOPIC_MAX + 1];
    /* Readers of `engine` from other threads (metrics scrapes) hold it through
     * vg_daemon_engine_acquire/release; the owner detaches it before stopping the engine. */
    atomic_int engine_readers;
    struct vg_engine_stats final_stats; /* snapshot taken by vg_daemon_detach_engine */
    atomic_bool have_final_stats;
};

/* For threads other than the engine's owner: the running engine (reader count held) or
 * NULL. Pair every non-NULL result with vg_daemon_engine_release. */
struct vg_engine *vg_daemon_engine_acquire(struct vg_daemon *d);
void vg_daemon_engine_release(struct vg_daemon *d);
/* For the owner, before vg_engine_stop: snapshots the final stats, unpublishes the engine
 * and waits until no reader holds it. */
void vg_daemon_detach_engine(struct vg_daemon *d);

/* Called by the thread that owns the engine's input, between batches, when
 * reload_requested is set: loads cfg->path again, and on success swaps it into the engine
 * and frees the old one; on failure keeps the old config and logs why. */
void vg_daemon_apply_reload(struct vg_daemon *d);

#endif
