/* repartition.h - distributed mode's first hop (input.repartition_topic): the router thread
 * consumes the input topic in the input group and republishes each record, in one Kafka
 * transaction with the input offsets it consumed, as its account-side events on the
 * repartition topic: the sending side to partition hash(from) % R, the receiving side to
 * hash(to) % R (one message when both land together), and a transfer a graph rule can use
 * to partition R, the graph task. The payload is the record as sent; headers say which
 * sides it carries (vg-side) and which input partition it came from (vg-src).
 *
 * Progress markers (vg-mark: the event time of the last record forwarded from an input
 * partition, vg-idle: nothing new there for input.idle_timeout and no known lag) go to every
 * repartition partition with each transaction, so the task side can merge the input
 * partitions' sub-streams of a repartition partition by event time exactly as one process
 * merges the input partitions (kafka_run.c lanes, reorder.h). Bad records are dead-lettered
 * in the same transaction. */
#ifndef VIGIL_KAFKA_REPARTITION_H
#define VIGIL_KAFKA_REPARTITION_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "vigil/daemon.h"

#define VG_HDR_SIDE "vg-side"   /* 1 byte: VG_SIDE_* of the events the message carries */
#define VG_HDR_SRC "vg-src"     /* 4 bytes big-endian: input partition */
#define VG_HDR_OFF "vg-off"     /* 8 bytes big-endian: offset in that input partition */
#define VG_HDR_MARK "vg-mark"   /* 8 bytes big-endian: event time (ms) of the last record forwarded */
#define VG_HDR_IDLE "vg-idle"   /* 1 byte: 1 = the input partition is idle */
#define VG_HDR_TS "vg-ts"       /* 8 bytes big-endian: the record's event time (ms): a task that
                                 * spills skips it unparsed (kafka_run.c) */

struct vg_router;

/* Starts the router thread on bootstrap. input_partitions: the input topic's partition
 * count (the task side's lanes). Returns VG_OK or VG_ERR_INVALID with errstr. */
int vg_router_start(struct vg_router **out, struct vg_daemon *d, const char *bootstrap, char *errstr,
                    size_t errstr_size);
/* Whether the router stopped on a failure it cannot recover from (its message in why). */
bool vg_router_failed(struct vg_router *rt, char *why, size_t why_size);
/* Commits what it forwarded, leaves the group and joins the thread. NULL is a no-op. */
void vg_router_stop(struct vg_router *rt);

/* The repartition partition of an account id (R = input.repartition_partitions). */
int32_t vg_repartition_of(const char *account, size_t len, int partitions);

/* Reads the 4-/8-byte big-endian header values written above. */
uint32_t vg_be32(const void *p);
uint64_t vg_be64(const void *p);

#endif
