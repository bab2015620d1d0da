/* replay_source.c - a replay input's identity for its checkpoints (see replay_source.h):
 * a regular file is its path, its size and a hash of its first 64 KiB, so a checkpoint is
 * never applied to another file, nor to the same path rewritten; a file that only grew is
 * the same input continued. A stream (stdin, FIFO) is its path: it continues. */
#include "file/replay_source.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* XXH3-64 of the first n bytes of fd (pread: the read offset is untouched). Returns 0 or -1. */
static int head_hash(int fd, uint32_t n, uint64_t *out) {
    unsigned char *buf = malloc(n ? n : 1);
    size_t got = 0;
    if (!buf) return -1;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    *out = XXH3_64bits(buf, got);
    free(buf);
    return got == n ? 0 : -1;
}

int vg_replay_source_init(struct vg_replay_source *s, int fd, const char *input, char *errstr, size_t errstr_size) {
    struct stat st;
    memset(s, 0, sizeof *s);
    s->fd = fd;
    if (strcmp(input, "-") == 0) snprintf(s->path, sizeof s->path, "-");
    else if (!realpath(input, s->path)) snprintf(s->path, sizeof s->path, "%s", input);
    /* "-" is a stream even when the shell redirected a file into it: no path to know it by. */
    s->regular = strcmp(input, "-") != 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (!s->regular) return 0;
    s->size = (uint64_t)st.st_size;
    s->head_bytes = (uint32_t)(s->size < VG_REPLAY_HEAD_BYTES ? s->size : VG_REPLAY_HEAD_BYTES);
    if (head_hash(fd, s->head_bytes, &s->head_hash) != 0) {
        snprintf(errstr, errstr_size, "%s: cannot read: %s", input, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

void vg_replay_source_text(const struct vg_replay_source *s, char *buf, size_t size) {
    if (s->regular)
        snprintf(buf, size, "file size=%" PRIu64 " head_bytes=%" PRIu32 " head=%016" PRIx64 " path=%s", s->size,
                 s->head_bytes, s->head_hash, s->path);
    else if (strcmp(s->path, "-") == 0)
        snprintf(buf, size, "stdin");
    else
        snprintf(buf, size, "stream path=%s", s->path);
}

bool vg_replay_source_accept(const struct vg_replay_source *s, const char *recorded, const char *position,
                             size_t position_len, uint64_t *skip_lines, char *why, size_t why_size) {
    char mine[sizeof s->path + 128];
    vg_replay_source_text(s, mine, sizeof mine);
    *skip_lines = 0;
    if (!recorded[0]) {
        snprintf(why, why_size, "was written by an older vigild and does not record its input, so this replay of "
                 "%s cannot tell whether it is its own: use an empty --state-dir", s->path);
        return false;
    }
    if (strncmp(recorded, "kafka ", 6) == 0) {
        snprintf(why, why_size, "belongs to a Kafka input (%s), not to this replay of %s: a replay never touches "
                 "a service's state; use another --state-dir", recorded, s->path);
        return false;
    }
    if (!s->regular) {
        if (strcmp(recorded, mine) == 0) return true;
        snprintf(why, why_size, "belongs to another input (%s), not to %s: use another --state-dir", recorded, mine);
        return false;
    }
    unsigned long long size, hash;
    unsigned head_bytes;
    int used = 0;
    if (sscanf(recorded, "file size=%llu head_bytes=%u head=%llx path=%n", &size, &head_bytes, &hash, &used) != 3 ||
        used == 0 || strcmp(recorded + used, s->path) != 0) {
        snprintf(why, why_size, "belongs to another input (%s), not to %s: use another --state-dir", recorded,
                 s->path);
        return false;
    }
    uint64_t now_hash = 0;
    if (size > s->size || head_bytes > s->size || head_hash(s->fd, head_bytes, &now_hash) != 0 || now_hash != hash) {
        snprintf(why, why_size, "belongs to an earlier content of %s (%llu bytes then, %llu now, its start "
                 "differs or the file shrank): use another --state-dir", s->path, size,
                 (unsigned long long)s->size);
        return false;
    }
    char pos[128];
    unsigned long long lines = 0;
    size_t n = position_len < sizeof pos - 1 ? position_len : sizeof pos - 1;
    memcpy(pos, position, n);
    pos[n] = '\0';
    if (sscanf(pos, "replay1 %llu", &lines) != 1) {
        snprintf(why, why_size, "records no replay position for %s: use another --state-dir", s->path);
        return false;
    }
    *skip_lines = lines;
    return true;
}
