/* mock_retention.h - lifts librdkafka's mock-cluster partition retention (mock_retention.c).
 * Internal to connectors/kafka. */
#ifndef VIGIL_MOCK_RETENTION_H
#define VIGIL_MOCK_RETENTION_H

#include <stddef.h>
#include <stdint.h>

/* Sets every mock partition still at librdkafka's default limits (5 MiB, 100000 message
 * sets) to max_bytes / max_sets. Call after creating topics (and again when the cluster
 * may have auto-created some). Returns how many partitions it changed. */
size_t vg_mock_raise_retention(uint64_t max_bytes, uint64_t max_sets);

#endif
