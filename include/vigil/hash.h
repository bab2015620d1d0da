/* hash.h - the one hash vigil uses: xxHash's XXH3, inlined (XXH_INLINE_ALL) so that the
 * short account ids on the hot path hash without a call. Include this, not <xxhash.h>. */
#ifndef VIGIL_HASH_H
#define VIGIL_HASH_H

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

#include "vigil/common.h"

static inline uint64_t vg_hash64(const void *data, size_t len) {
    return XXH3_64bits(data, len);
}

/* Hash of an account id: the one function every stage uses to route and index accounts,
 * so shard routing and table placement agree. */
static inline uint64_t vg_hash64_id(const char *id, size_t len) {
    return XXH3_64bits(id, len);
}

/* Distributed mode: the task (repartition partition, 0..tasks-1) that owns an account. The
 * high bits: the engine spreads a task's accounts over its shards with the low ones. */
static inline int32_t vg_task_of(const char *id, size_t len, int tasks) {
    return (int32_t)((vg_hash64_id(id, len) >> 32) % (uint64_t)tasks);
}

#endif
