/* checkpoint.h - state checkpoints (state.dir): a snapshot of the engine's window state
 * (accounts, their live events, the graph, cooldowns, next seq) plus the input's position,
 * taken at a drain point, written by a background io_uring writer, and loaded into a fresh
 * engine on start. The file format is described in engine/checkpoint.c. */
#ifndef VIGIL_CHECKPOINT_H
#define VIGIL_CHECKPOINT_H

#include "vigil/engine.h"

/* Format version this build writes and reads. A file of another version is refused. */
#define VG_CHECKPOINT_VERSION 1u
/* Largest input position blob. */
#define VG_CHECKPOINT_POSITION_MAX (64u * 1024u)

struct vg_snapshot;
typedef struct vg_checkpointer vg_checkpointer_t;

/* Copies the engine's state and `input_position` into a snapshot. Call on the input
 * thread right after vg_engine_drain (the stages are quiescent then). If *out is a
 * snapshot already (a spare one from vg_checkpointer_spare), its buffer is reused.
 * Returns VG_OK, VG_ERR_RANGE (position too long) or VG_ERR_NOMEM (*out untouched). */
int vg_engine_snapshot(struct vg_engine *e, const void *input_position, size_t len, struct vg_snapshot **out);
/* Bytes the snapshot will write, and how long its copy stalled the input (ns). */
size_t vg_snapshot_size(const struct vg_snapshot *s);
int64_t vg_snapshot_copy_ns(const struct vg_snapshot *s);
void vg_snapshot_free(struct vg_snapshot *s);

/* A background writer for one state directory (created if missing). Returns VG_OK or an
 * error with errstr (directory unusable). */
int vg_checkpointer_create(vg_checkpointer_t **out, const char *state_dir, char *errstr, size_t errstr_size);
/* Queues a snapshot (ownership moves to the writer): written into checkpoint.tmp with
 * batched io_uring writes, fsynced, renamed to checkpoint.<N>.vgc, directory fsynced; the
 * two newest are kept. When a write is still running this waits for it first. */
void vg_checkpoint_write_async(vg_checkpointer_t *c, struct vg_snapshot *s);
/* True while a write is queued or running. */
bool vg_checkpointer_busy(vg_checkpointer_t *c);
/* Waits for the running write; returns its result (VG_OK or VG_ERR_IO, logged). */
int vg_checkpointer_wait(vg_checkpointer_t *c);
/* The last written snapshot back for reuse (NULL while busy or if none). Caller owns it. */
struct vg_snapshot *vg_checkpointer_spare(vg_checkpointer_t *c);
/* Duration of the last completed write (ns), 0 if none. */
int64_t vg_checkpointer_last_write_ns(vg_checkpointer_t *c);
/* Waits for the running write, stops the thread, frees everything. NULL is fine. */
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

#endif
