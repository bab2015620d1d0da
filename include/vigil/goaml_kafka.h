/* goaml_kafka.h - vigil-goaml's Kafka side: the alerts topic (output.topic) read in a
 * consumer group of its own (report.group), drafts optionally produced to
 * report.output_topic (key = case id). connectors/goaml/goaml_kafka.c. */
#ifndef VIGIL_GOAML_KAFKA_H
#define VIGIL_GOAML_KAFKA_H

#include <signal.h>

#include "vigil/config.h"
#include "vigil/goaml.h"

struct vg_goaml_kafka;

/* Connects consumer (and producer when report.output_topic is set) to kafka.brokers, which
 * must be a bootstrap list (`embedded` has nobody else's alerts). Returns VG_OK or
 * VG_ERR_INVALID with errstr. cfg must outlive the handle. */
int vg_goaml_kafka_create(struct vg_goaml_kafka **out, const struct vg_config *cfg, char *errstr, size_t errstr_size);
/* A vg_goaml_publish_fn: produces xml to report.output_topic and waits for the ack. */
int vg_goaml_kafka_publish(void *opaque, const char *case_id, const char *xml, size_t len);
/* Feeds alerts to d until *stop (or, with once, the end of every partition), then closes
 * the open cases and commits. Offsets are committed only while no case is open, so a
 * restart re-reads the alerts of unfinished cases (their drafts keep their names).
 * Returns 0 or -1 (a Kafka failure, logged). */
int vg_goaml_kafka_run(struct vg_goaml_kafka *k, struct vg_goaml_drafter *d, bool once, volatile sig_atomic_t *stop);
void vg_goaml_kafka_destroy(struct vg_goaml_kafka *k);

#define VG_GOAML_KAFKA_LAG_MAX 64

/* The alerts topic's consumer lag per partition read so far (high watermark minus the
 * next offset to read), up to max entries. Safe from another thread. Returns the count. */
size_t vg_goaml_kafka_lag(struct vg_goaml_kafka *k, int32_t *partitions, int64_t *lags, size_t max);

#endif
