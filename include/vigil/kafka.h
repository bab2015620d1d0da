/* kafka.h - Kafka mode of vigild (consume transactions, produce alerts and dead letters with
 * at-least-once or exactly-once delivery), the development mock broker it can embed, and the
 * demo feeder that streams synthetic transactions into that broker. Not the engine itself. */
#ifndef VIGIL_KAFKA_H
#define VIGIL_KAFKA_H

#include "vigil/common.h"
#include "vigil/daemon.h"

/* ---- Kafka mode ------------------------------------------------------------------- */

/* Runs vigild in Kafka mode until d->stop_requested, d->run_for_ms or a fatal error.
 * With kafka.brokers "embedded" it starts the mock cluster in-process first. Starts and stops
 * the engine itself (publishing it in d->engine). Returns the process exit code: 0 after a
 * clean drain + commit, 2 on a runtime failure (errstr says why). */
int vg_kafka_run(struct vg_daemon *d, char *errstr, size_t errstr_size);

/* Same, for `vigild --demo`: also runs a demo feeder (see below) producing a synthetic stream
 * into input.topic at rate_per_s while the analysis runs. */
int vg_kafka_run_demo(struct vg_daemon *d, uint32_t rate_per_s, uint64_t seed, char *errstr,
                      size_t errstr_size);

/* ---- development broker (librdkafka's mock cluster on loopback) -------------------- */

struct vg_mock_broker;

/* Starts a mock cluster of `brokers` brokers (1..16) listening on 127.0.0.1.
 * Returns VG_OK or VG_ERR_INVALID / VG_ERR_NOMEM with errstr. */
int vg_mock_broker_start(struct vg_mock_broker **out, int brokers, char *errstr,
                         size_t errstr_size);

/* Creates a topic (replication = min(3, brokers)). Returns VG_OK or VG_ERR_INVALID. */
int vg_mock_broker_create_topic(struct vg_mock_broker *b, const char *topic, int partitions,
                                char *errstr, size_t errstr_size);

/* "127.0.0.1:PORT[,127.0.0.1:PORT...]"; valid until destroy. Can't fail. */
const char *vg_mock_broker_bootstrap(const struct vg_mock_broker *b);

/* What a partition of the development broker keeps in memory before dropping its oldest
 * records (librdkafka's own mock keeps 5 MiB; see mock_retention.c). */
#define VG_MOCK_PARTITION_BYTES (1ull << 30)
#define VG_MOCK_PARTITION_SETS 100000000ull

/* What each partition created from now on keeps instead (before its first topic): fewer
 * message sets keep a long live run fast, as the mock finds a fetch's offset by walking
 * its partition's message sets from the oldest. Can't fail. */
void vg_mock_broker_set_retention(struct vg_mock_broker *b, uint64_t max_bytes, uint64_t max_sets);

/* Raises the retention of topics the cluster auto-created since the last call (a metadata
 * request; call it every second or so). Can't fail (a failed lookup is tried next time). */
void vg_mock_broker_maintain(struct vg_mock_broker *b);

/* Partitions whose retention was raised so far (0: this librdkafka's mock did not match). */
size_t vg_mock_broker_raised(const struct vg_mock_broker *b);

/* Test hook: the next `count` requests of protocol ApiKey `api_key` (0 = Produce) fail with
 * the Kafka error code `error_code`. Returns VG_OK or VG_ERR_INVALID. */
int vg_mock_broker_inject_errors(struct vg_mock_broker *b, int api_key, size_t count,
                                 int error_code);
/* Test hook: drops the injected failures of `api_key` not used up yet. */
void vg_mock_broker_clear_errors(struct vg_mock_broker *b, int api_key);

/* Stops the listeners and frees everything. NULL is fine. */
void vg_mock_broker_destroy(struct vg_mock_broker *b);

/* ---- demo feeder -------------------------------------------------------------------- */

struct vg_demo_feed;

/* Starts a thread producing a synthetic transaction stream (NDJSON, as the synth module
 * renders it) into `topic` on `bootstrap` at about `rate_per_s` messages a second, until
 * stopped. `seed` makes the stream reproducible. Returns VG_OK or an error with errstr. */
int vg_kafka_demo_feed_start(struct vg_demo_feed **out, const char *bootstrap, const char *topic,
                             uint32_t rate_per_s, uint64_t seed, char *errstr,
                             size_t errstr_size);

/* Messages produced so far. Can't fail. */
uint64_t vg_kafka_demo_feed_count(const struct vg_demo_feed *f);

/* Stops the thread, flushes and frees. Returns how many messages it produced (0 for NULL). */
uint64_t vg_kafka_demo_feed_stop(struct vg_demo_feed *f);

#endif
