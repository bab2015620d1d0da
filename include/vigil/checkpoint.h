/* checkpoint.h - state checkpoints (state.dir): a snapshot of the engine's window state
 * (accounts, their live events, the graph, cooldowns, next seq) plus the input's position,
 * taken at a drain point (a fork: the child encodes and writes with io_uring while the
 * pipeline runs on), published by the checkpointer, and loaded into a fresh engine on start.
 * The file format is described in engine/checkpoint_format.h. */
#ifndef VIGIL_CHECKPOINT_H
#define VIGIL_CHECKPOINT_H

#include "vigil/engine.h"

/* Format version this build writes. It reads this one and version 1 (the same image without
 * the input identity: restored only where the caller's check accepts its position alone).
 * A file of any other version is refused. */
#define VG_CHECKPOINT_VERSION 2u
#define VG_CHECKPOINT_VERSION_MIN 1u
/* Ring records a checkpoint lets the stages work down before it stops the input for the
 * drain (vg_engine_wait_backlog): ~2-3 ms of shard work. */
#define VG_CHECKPOINT_BACKLOG 4096u
/* Largest input position blob. */
#define VG_CHECKPOINT_POSITION_MAX (64u * 1024u)
/* Largest input identity ("source") a checkpoint records. */
#define VG_CHECKPOINT_SOURCE_MAX 8192u

struct vg_snapshot;
typedef struct vg_checkpointer vg_checkpointer_t;

/* Copies the engine's state and `input_position` into a snapshot. Call on the input
 * thread right after vg_engine_drain (the stages are quiescent then), or in a checkpoint
 * child. If *out is a snapshot already, its buffer is reused.
 * Returns VG_OK, VG_ERR_RANGE (position too long) or VG_ERR_NOMEM (*out untouched). */
int vg_engine_snapshot(struct vg_engine *e, const void *input_position, size_t len, struct vg_snapshot **out);
/* The same, recording `source`, the identity of the input the state belongs to (Kafka
 * cluster/topic/group, a file's identity; NUL-terminated, "" = none). VG_ERR_RANGE when it is
 * longer than VG_CHECKPOINT_SOURCE_MAX. */
int vg_engine_snapshot_of(struct vg_engine *e, const char *source, const void *input_position, size_t len,
                          struct vg_snapshot **out);
/* The same, of one task's state only (distributed mode): the accounts with
 * vg_task_of(id, tasks) == task, their events and cooldowns; the graph's (edges, its
 * cooldowns) when task == tasks. */
int vg_engine_snapshot_task(struct vg_engine *e, int task, int tasks, const char *source, const void *input_position,
                            size_t len, struct vg_snapshot **out);
/* The snapshot's image as a checkpoint file holds it (hashes computed): for storing it
 * elsewhere than in a state.dir (distributed mode's state topic). Valid until freed. */
const void *vg_snapshot_image(struct vg_snapshot *s, size_t *len);
/* Starts an engine holding the state of n images (each validated; their accounts must be
 * disjoint, as the tasks' images are): next seq after the largest and at least
 * min_next_seq (seqs keep rising for the output's bookkeeping), newest time the oldest
 * image's. n = 0 starts an empty engine. Returns VG_OK, VG_ERR_INVALID (a corrupt image) or
 * VG_ERR_NOMEM, with errstr. */
int vg_engine_start_images(struct vg_engine **out, const struct vg_config *cfg, const struct vg_alert_sink *sink,
                           const void *const *images, const size_t *lens, int n, uint64_t min_next_seq, char *errstr,
                           size_t errstr_size);
/* Bytes the snapshot will write, and how long encoding it took (ns). */
size_t vg_snapshot_size(const struct vg_snapshot *s);
int64_t vg_snapshot_copy_ns(const struct vg_snapshot *s);
void vg_snapshot_free(struct vg_snapshot *s);

/* The checkpointer of one state directory: takes checkpoints of a drained engine without
 * copying its state on the caller's thread, and publishes them. One checkpoint is in flight
 * at a time. A reaper thread waits for the child (or writes an in-process copy), then
 * publishes: rename to checkpoint.<N>.vgc, fsync of the directory, the newest two kept. */

/* Flags of vg_checkpointer_take. */
#define VG_CKPT_HOLD 1u          /* publish only after vg_checkpointer_release */
#define VG_CKPT_IN_PROCESS 2u    /* copy the state on this thread, no fork (shutdown) */

/* What a take cost the caller, for its checkpoint_snapshot log line. */
struct vg_checkpoint_take {
    bool forked;                 /* false: the state was copied on the calling thread */
    int child_pid;               /* the child writing it (forked) */
    int64_t fork_ns;             /* fork(2) as seen by the parent (forked) */
    int64_t copy_ns;             /* the in-process copy (not forked) */
    size_t bytes;                /* image size (not forked; a child reports its own) */
};

/* Creates the checkpointer of state_dir (created if missing), deleting files a write that
 * did not finish left there. Returns VG_OK or an error with errstr (directory unusable). */
int vg_checkpointer_create(vg_checkpointer_t **out, const char *state_dir, char *errstr, size_t errstr_size);
/* Sets the input identity every later checkpoint records (copied; truncated to
 * VG_CHECKPOINT_SOURCE_MAX). Call before the first take. */
void vg_checkpointer_set_source(vg_checkpointer_t *c, const char *source);
/* Checkpoints `e`, which must be drained (vg_engine_flush + vg_engine_drain: the stages are
 * quiescent), with `input_position`. Copy-on-write: the calling thread forks and returns at
 * once; the child encodes the state as it was at the fork, writes and fsyncs
 * checkpoint.<attempt>.pending (a name the loader ignores), reports through a pipe and
 * _exits. The child dies with the caller's thread (PR_SET_PDEATHSIG), so call this from a
 * thread that outlives the checkpointer (the input thread). If fork fails, or with
 * VG_CKPT_IN_PROCESS, the state is copied on this thread (a warning says why) and written by
 * the reaper thread. A written checkpoint is published at once, or with VG_CKPT_HOLD once
 * vg_checkpointer_release is called. A held one not yet released is superseded (deleted).
 * Returns VG_OK, VG_ERR_FULL (the previous checkpoint is still being written: try later),
 * VG_ERR_RANGE (position too long) or VG_ERR_NOMEM (in-process copy failed). */
int vg_checkpointer_take(vg_checkpointer_t *c, struct vg_engine *e, const void *input_position, size_t len,
                         unsigned flags, struct vg_checkpoint_take *out);
/* Lets the held checkpoint be published (now if written, else as soon as it is). */
void vg_checkpointer_release(vg_checkpointer_t *c);
/* Drops the held checkpoint: its child is killed, its pending file deleted. */
void vg_checkpointer_abandon(vg_checkpointer_t *c);
/* True while a checkpoint is being written or published (a held, written one is not busy). */
bool vg_checkpointer_busy(vg_checkpointer_t *c);
/* Waits until nothing is being written or published (a held checkpoint stays held);
 * returns the last write's result: VG_OK or VG_ERR_IO (logged as checkpoint_failed). */
int vg_checkpointer_wait(vg_checkpointer_t *c);
/* Waits for the running write, publishes a released checkpoint, deletes a held one, stops
 * the reaper thread, frees everything. NULL is fine. */
void vg_checkpointer_destroy(vg_checkpointer_t *c);

/* Writes a snapshot synchronously (same path as the writer thread; tests, tools).
 * Does not take ownership. Returns VG_OK or VG_ERR_IO with errstr. */
int vg_checkpoint_write_sync(const char *state_dir, struct vg_snapshot *s, char *errstr, size_t errstr_size);

/* Starts an engine like vg_engine_start, first loading the newest valid checkpoint of
 * state_dir (corrupt or truncated ones are skipped with a warning, falling back to the
 * previous one). The input position saved with it is copied to input_position_out
 * (capacity *len on entry, its length on return; 0 when the engine starts empty because
 * there is no checkpoint). Returns VG_OK, or VG_ERR_INVALID with errstr when a checkpoint
 * has another format version or none of the existing ones is valid (refuse to start
 * rather than silently losing state), or another error from vg_engine_start. */
int vg_engine_start_restored(struct vg_engine **out, const struct vg_config *cfg, const struct vg_alert_sink *sink,
                             const char *state_dir, void *input_position_out, size_t *len, char *errstr,
                             size_t errstr_size);

/* Decides whether the newest checkpoint belongs to the input about to be read, before
 * anything is restored. `source` is the identity it was written with ("" for a version-1
 * checkpoint, which has none), `position` its input position (not NUL-terminated). Returns
 * true to restore it; false refuses it, with errstr saying why in one line. */
struct vg_restore_check {
    bool (*accept)(void *opaque, const char *source, const char *position, size_t position_len, char *errstr,
                   size_t errstr_size);
    void *opaque;
};
/* vg_engine_start_restored with a check (NULL = none): a refused checkpoint returns
 * VG_ERR_INVALID with errstr "state.dir DIR: FILE ...: <why>", the engine not started and
 * nothing in state_dir touched. */
int vg_engine_start_checked(struct vg_engine **out, const struct vg_config *cfg, const struct vg_alert_sink *sink,
                            const char *state_dir, const struct vg_restore_check *check, void *input_position_out,
                            size_t *len, char *errstr, size_t errstr_size);

#endif
