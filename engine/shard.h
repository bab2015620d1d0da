/* shard.h - one shard's account-stage processing: given an account-side event, update the
 * account's state and run every enabled account rule on it. Synchronous and single-threaded;
 * engine.c runs one per worker thread, tests may call it directly. */
#ifndef VIGIL_SHARD_H
#define VIGIL_SHARD_H

#include "account_store.h"
#include "vigil/config.h"
#include "vigil/emit.h"

struct vg_shard;

struct vg_shard_stats {
    uint64_t events;
    uint64_t scan_truncated;
    uint64_t store_failures;
};

/* Returns VG_OK or VG_ERR_NOMEM. The shard keeps `cfg` until vg_shard_set_config. */
int vg_shard_create(struct vg_shard **out, const struct vg_config *cfg, struct vg_alert_out *alerts);
void vg_shard_destroy(struct vg_shard *sh);
void vg_shard_set_config(struct vg_shard *sh, const struct vg_config *cfg);

/* Processes the `dir` side of txn. hashes: vg_hash64_id of txn->from and txn->to.
 * newest_ms: the stream's trusted newest event time when txn arrived (txn included unless
 * the time guard held a far-future txn out of it, vigil/time_guard.h); it decides what has
 * expired. */
void vg_shard_on_event(struct vg_shard *sh, const struct vg_txn *txn, enum vg_dir dir, uint64_t from_hash,
                       uint64_t to_hash, int64_t newest_ms);

void vg_shard_get_stats(const struct vg_shard *sh, struct vg_shard_stats *out);
struct vg_store *vg_shard_store(struct vg_shard *sh);

#endif
