/* replay_source.h - the identity of a replay's input (a file's path, size and first 64 KiB,
 * or a stream) as recorded in its checkpoints, and the check that a checkpoint found in
 * --state-dir belongs to it. Not how the replay reads the input (replay.c). */
#ifndef VIGIL_REPLAY_SOURCE_H
#define VIGIL_REPLAY_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG_REPLAY_HEAD_BYTES (64u * 1024u) /* bytes of a file's start its identity hashes */

struct vg_replay_source {
    int fd;                     /* the open input (regular files: read with pread, offset kept) */
    bool regular;               /* a regular file (else a pipe, FIFO, terminal: a stream) */
    char path[4096];            /* realpath of the input, "-" for stdin */
    uint64_t size;              /* regular: size when opened */
    uint64_t head_hash;         /* regular: XXH3-64 of its first head_bytes */
    uint32_t head_bytes;        /* min(size, VG_REPLAY_HEAD_BYTES) */
};

/* Describes the input open on fd (`input` as given: a path or "-"). Returns 0, or -1 with
 * errstr when a regular file cannot be read. */
int vg_replay_source_init(struct vg_replay_source *s, int fd, const char *input, char *errstr, size_t errstr_size);
/* The identity text a checkpoint records: "file size=N head_bytes=K head=HEX path=P",
 * "stream path=P" or "stdin". */
void vg_replay_source_text(const struct vg_replay_source *s, char *buf, size_t size);
/* Whether a checkpoint recorded with identity `recorded` and position `position` belongs to
 * this input: the same stream, or the same file (same path and first bytes; it may have
 * grown since). On true, *skip_lines is how many lines of it the checkpoint covers (0 for a
 * stream, which continues). On false, why says so in one line. */
bool vg_replay_source_accept(const struct vg_replay_source *s, const char *recorded, const char *position,
                             size_t position_len, uint64_t *skip_lines, char *why, size_t why_size);

#endif
