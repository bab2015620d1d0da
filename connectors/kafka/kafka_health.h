/* kafka_health.h - the consumer's view of the Kafka cluster's reachability, published as
 * vg_daemon.kafka_unreachable (kafka_health.c). Internal to connectors/kafka. */
#ifndef VIGIL_KAFKA_HEALTH_H
#define VIGIL_KAFKA_HEALTH_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

struct kt_run;

#define KT_HEALTH_STATS_MS 1000  /* statistics.interval.ms of the consumer */
/* A broker holding requests that sent nothing back for this long (plus fetch.wait.max.ms)
 * counts as not answering. Above heartbeat round trips and fetch waits; with the stats
 * interval it makes the documented bound: 503 within ~5 s of the cluster going silent. */
#define KT_HEALTH_STALL_MS 3000

/* Sets the consumer conf's statistics interval, stats and error callbacks (opaque: r). */
void kt_health_conf(struct kt_run *r, rd_kafka_conf_t *conf);

/* From one statistics JSON: true when no broker connection is up, or requests wait on
 * some broker while none sent anything for stall_ms. */
bool kt_health_unreachable(const char *json, int64_t stall_ms);

#endif
