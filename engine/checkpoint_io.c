/* checkpoint_io.c - checkpoint files on disk: sealing (hashes) and validating an image,
 * writing one (io_uring: batched writes into a file the loader ignores, fsync), publishing
 * it (rename to checkpoint.<N>.vgc, fsync of the directory, keep the newest two) and loading
 * the newest valid file, falling back to the previous one when the newest is corrupt or
 * truncated. Not the image's contents (checkpoint.c), not when or by whom a checkpoint is
 * taken (checkpoint_writer.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "checkpoint_format.h"
#include "vigil/log.h"

#define WRITE_CHUNK (4u << 20)   /* bytes per write SQE */
#define RING_DEPTH 16u           /* writes in flight */
#define KEEP_FILES 2

/* ---- image hashing and validation ---------------------------------------------------- */

void ckpt_seal(struct vg_snapshot *s) {
    if (s->sealed) return;
    struct ckpt_header *h = (struct ckpt_header *)(void *)s->buf;
    struct ckpt_section *table = (struct ckpt_section *)(void *)(s->buf + sizeof *h);
    for (uint32_t i = 0; i < h->n_sections; i++)
        table[i].hash = XXH3_64bits(s->buf + table[i].offset, table[i].length);
    h->table_hash = XXH3_64bits(table, h->n_sections * sizeof *table);
    h->header_hash = XXH3_64bits(h, offsetof(struct ckpt_header, header_hash));
    s->sealed = true;
}

int ckpt_validate(const unsigned char *buf, size_t len, const struct ckpt_section *sections[CKPT_SEC_MAX],
                  char *errstr, size_t errstr_size) {
    struct ckpt_header h;
    for (int i = 0; i < CKPT_SEC_MAX; i++) sections[i] = NULL;
    if (len < sizeof h) {
        snprintf(errstr, errstr_size, "truncated (%zu bytes, shorter than the header)", len);
        return VG_ERR_INVALID;
    }
    memcpy(&h, buf, sizeof h);
    if (memcmp(h.magic, CKPT_MAGIC, 8) != 0) {
        snprintf(errstr, errstr_size, "not a vigil checkpoint (bad magic)");
        return VG_ERR_INVALID;
    }
    if (h.endian != CKPT_ENDIAN) {
        snprintf(errstr, errstr_size, "written on a machine of the other byte order (marker 0x%08x)", h.endian);
        return VG_ERR_RANGE;
    }
    if (XXH3_64bits(buf, offsetof(struct ckpt_header, header_hash)) != h.header_hash) {
        snprintf(errstr, errstr_size, "header checksum mismatch (corrupt)");
        return VG_ERR_INVALID;
    }
    if (h.version < VG_CHECKPOINT_VERSION_MIN || h.version > VG_CHECKPOINT_VERSION) {
        snprintf(errstr, errstr_size,
                 "checkpoint format version %u, this vigild reads versions %u to %u only (use the matching "
                 "vigild, or move state.dir aside to start with empty state)",
                 h.version, VG_CHECKPOINT_VERSION_MIN, VG_CHECKPOINT_VERSION);
        return VG_ERR_RANGE;
    }
    if (h.header_size != sizeof h || h.n_sections > 64 ||
        len < sizeof h + (size_t)h.n_sections * sizeof(struct ckpt_section)) {
        snprintf(errstr, errstr_size, "truncated or malformed section table");
        return VG_ERR_INVALID;
    }
    const struct ckpt_section *table = (const void *)(buf + sizeof h);
    if (XXH3_64bits(table, h.n_sections * sizeof *table) != h.table_hash) {
        snprintf(errstr, errstr_size, "section table checksum mismatch (corrupt)");
        return VG_ERR_INVALID;
    }
    for (uint32_t i = 0; i < h.n_sections; i++) {
        const struct ckpt_section *sec = &table[i];
        if (sec->offset > len || sec->length > len - sec->offset || sec->offset % 8) {
            snprintf(errstr, errstr_size, "truncated: section %u needs %llu bytes, file has %zu", i,
                     (unsigned long long)(sec->offset + sec->length), len);
            return VG_ERR_INVALID;
        }
        if (XXH3_64bits(buf + sec->offset, sec->length) != sec->hash) {
            snprintf(errstr, errstr_size, "section %u (type %u) checksum mismatch (corrupt)", i, sec->type);
            return VG_ERR_INVALID;
        }
        if (sec->type > 0 && sec->type < CKPT_SEC_MAX) sections[sec->type] = sec;
    }
    return VG_OK;
}

/* ---- directory ------------------------------------------------------------------------ */

/* Parses "checkpoint.<N>.vgc"; returns false for other names. */
static bool file_number(const char *name, uint64_t *n) {
    unsigned long long v;
    int used = 0;
    if (sscanf(name, "checkpoint.%llu.vgc%n", &v, &used) != 1 || name[used] != '\0') return false;
    *n = v;
    return true;
}

/* Checkpoint numbers in dir, newest first (malloc'd, *count). Returns VG_OK or VG_ERR_IO. */
static int list_numbers(const char *dir, uint64_t **out, size_t *count) {
    DIR *d = opendir(dir);
    *out = NULL;
    *count = 0;
    if (!d) return errno == ENOENT ? VG_OK : VG_ERR_IO;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t n;
        if (!file_number(de->d_name, &n)) continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            uint64_t *p = realloc(*out, cap * sizeof *p);
            if (!p) break;
            *out = p;
        }
        (*out)[(*count)++] = n;
    }
    closedir(d);
    for (size_t i = 1; i < *count; i++) /* few files: insertion sort, descending */
        for (size_t j = i; j > 0 && (*out)[j] > (*out)[j - 1]; j--) {
            uint64_t t = (*out)[j];
            (*out)[j] = (*out)[j - 1];
            (*out)[j - 1] = t;
        }
    return VG_OK;
}

static int read_whole(const char *path, unsigned char **buf, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return VG_ERR_IO;
    struct stat st;
    int rc = VG_ERR_IO;
    if (fstat(fd, &st) == 0 && (*buf = malloc(st.st_size ? (size_t)st.st_size : 1)) != NULL) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += (size_t)n;
        }
        *len = got;
        rc = VG_OK;
    }
    close(fd);
    return rc;
}

int ckpt_load_newest(const char *dir, unsigned char **buf, size_t *len, char *path_out, size_t path_size,
                     char *errstr, size_t errstr_size) {
    uint64_t *numbers;
    size_t count;
    if (list_numbers(dir, &numbers, &count) != VG_OK) {
        snprintf(errstr, errstr_size, "state.dir %s: cannot list: %s", dir, strerror(errno));
        return VG_ERR_INVALID;
    }
    int rc = count ? VG_ERR_INVALID : VG_ERR_NOTFOUND;
    for (size_t i = 0; i < count; i++) {
        char why[512];
        snprintf(path_out, path_size, "%s/checkpoint.%llu.vgc", dir, (unsigned long long)numbers[i]);
        if (read_whole(path_out, buf, len) != VG_OK) {
            vg_warn("checkpoint_unreadable", "file=%s error=\"%s\" msg=\"trying the previous checkpoint\"", path_out,
                    strerror(errno));
            continue;
        }
        const struct ckpt_section *sec[CKPT_SEC_MAX];
        int vrc = ckpt_validate(*buf, *len, sec, why, sizeof why);
        if (vrc == VG_OK) {
            rc = VG_OK;
            break;
        }
        free(*buf);
        *buf = NULL;
        if (vrc == VG_ERR_RANGE) {
            snprintf(errstr, errstr_size, "%s: refused: %s", path_out, why);
            rc = VG_ERR_RANGE;
            break;
        }
        vg_warn("checkpoint_corrupt", "file=%s reason=\"%s\" msg=\"%s\"", path_out, why,
                i + 1 < count ? "falling back to the previous checkpoint" : "no older checkpoint left");
    }
    if (rc == VG_ERR_INVALID)
        snprintf(errstr, errstr_size,
                 "%s: none of the %zu checkpoint files is valid (see the warnings above); move the directory "
                 "aside to start with empty state",
                 dir, count);
    free(numbers);
    return rc;
}

/* ---- writing -------------------------------------------------------------------------- */

struct pending_write {
    uint64_t off;
    uint32_t len;
};

/* Writes buf at offset 0 of fd with batched io_uring writes, then fsyncs through the ring.
 * Returns 0 or a negative errno. */
static int uring_write_fsync(int fd, const unsigned char *buf, size_t len) {
    struct io_uring ring;
    int rc = io_uring_queue_init(RING_DEPTH * 2, &ring, 0);
    if (rc < 0) return rc;
    struct pending_write slots[RING_DEPTH];
    uint32_t free_slots[RING_DEPTH], n_free = RING_DEPTH, in_flight = 0;
    for (uint32_t i = 0; i < RING_DEPTH; i++) free_slots[i] = i;
    size_t next = 0;
    rc = 0;
    while (rc == 0 && (next < len || in_flight > 0)) {
        /* Queue as many chunks as there are free slots, then one submit for all. */
        uint32_t queued = 0;
        while (next < len && n_free > 0) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
            if (!sqe) break;
            uint32_t slot = free_slots[--n_free];
            slots[slot] = (struct pending_write){next, (uint32_t)VG_MIN((size_t)WRITE_CHUNK, len - next)};
            io_uring_prep_write(sqe, fd, buf + next, slots[slot].len, slots[slot].off);
            io_uring_sqe_set_data64(sqe, slot);
            next += slots[slot].len;
            queued++;
        }
        if (queued) {
            int s = io_uring_submit(&ring);
            if (s < 0) {
                rc = s;
                break;
            }
            in_flight += queued;
        }
        struct io_uring_cqe *cqe;
        int w = io_uring_wait_cqe(&ring, &cqe);
        if (w == -EINTR) continue;
        if (w < 0) {
            rc = w;
            break;
        }
        do {
            uint32_t slot = (uint32_t)io_uring_cqe_get_data64(cqe);
            int res = cqe->res;
            io_uring_cqe_seen(&ring, cqe);
            in_flight--;
            if (res < 0 && res != -EAGAIN && res != -EINTR) {
                rc = res;
            } else if (res >= 0 && (uint32_t)res == slots[slot].len) {
                free_slots[n_free++] = slot;
            } else { /* short or interrupted write: send the rest again */
                uint32_t done = res > 0 ? (uint32_t)res : 0;
                struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
                if (!sqe) {
                    rc = -EIO;
                    break;
                }
                slots[slot].off += done;
                slots[slot].len -= done;
                io_uring_prep_write(sqe, fd, buf + slots[slot].off, slots[slot].len, slots[slot].off);
                io_uring_sqe_set_data64(sqe, slot);
                io_uring_submit(&ring);
                in_flight++;
            }
        } while (rc == 0 && io_uring_peek_cqe(&ring, &cqe) == 0);
    }
    while (in_flight > 0) { /* after an error: reap what is still running before the ring goes */
        struct io_uring_cqe *cqe;
        if (io_uring_wait_cqe(&ring, &cqe) < 0) break;
        io_uring_cqe_seen(&ring, cqe);
        in_flight--;
    }
    if (rc == 0) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
        struct io_uring_cqe *cqe;
        io_uring_prep_fsync(sqe, fd, 0);
        rc = io_uring_submit_and_wait(&ring, 1);
        if (rc >= 0 && (rc = io_uring_wait_cqe(&ring, &cqe)) == 0) {
            rc = cqe->res < 0 ? cqe->res : 0;
            io_uring_cqe_seen(&ring, cqe);
        }
    }
    io_uring_queue_exit(&ring);
    return rc;
}

/* Plain pwrite + fsync, for kernels or sandboxes without io_uring. Returns 0 or -errno. */
static int plain_write_fsync(int fd, const unsigned char *buf, size_t len) {
    for (size_t off = 0; off < len;) {
        ssize_t n = pwrite(fd, buf + off, VG_MIN((size_t)WRITE_CHUNK, len - off), (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : -EIO;
        off += (size_t)n;
    }
    return fsync(fd) == 0 ? 0 : -errno;
}

static uint64_t newest_number(const char *dir) {
    uint64_t *numbers, newest = 0;
    size_t count;
    if (list_numbers(dir, &numbers, &count) == VG_OK && count) newest = numbers[0];
    free(numbers);
    return newest;
}

int ckpt_write_image(const char *path, struct vg_snapshot *s, bool *used_pwrite, char *errstr, size_t errstr_size) {
    *used_pwrite = false;
    ckpt_seal(s);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s: cannot create: %s", path, strerror(errno));
        return VG_ERR_IO;
    }
    int rc = uring_write_fsync(fd, s->buf, s->len);
    if (rc == -ENOSYS || rc == -EPERM || rc == -EOPNOTSUPP) {
        *used_pwrite = true;
        rc = plain_write_fsync(fd, s->buf, s->len);
    }
    if (close(fd) != 0 && rc == 0) rc = -errno;
    if (rc != 0) {
        snprintf(errstr, errstr_size, "%s: write failed: %s", path, strerror(-rc));
        unlink(path);
        return VG_ERR_IO;
    }
    return VG_OK;
}

int ckpt_publish(const char *dir, const char *written, char *errstr, size_t errstr_size) {
    char final[4096];
    uint64_t n = newest_number(dir) + 1;
    snprintf(final, sizeof final, "%s/checkpoint.%llu.vgc", dir, (unsigned long long)n);
    if (rename(written, final) != 0) {
        snprintf(errstr, errstr_size, "%s: cannot rename to %s: %s", written, final, strerror(errno));
        unlink(written);
        return VG_ERR_IO;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0) vg_warn("checkpoint_dir_fsync", "dir=%s error=\"%s\"", dir, strerror(errno));
        close(dfd);
    }
    uint64_t *numbers;
    size_t count;
    if (list_numbers(dir, &numbers, &count) == VG_OK) {
        for (size_t i = KEEP_FILES; i < count; i++) {
            char old[4096];
            snprintf(old, sizeof old, "%s/checkpoint.%llu.vgc", dir, (unsigned long long)numbers[i]);
            unlink(old);
        }
        free(numbers);
    }
    return VG_OK;
}

void ckpt_note_pwrite(void) {
    static atomic_bool warned;
    if (!atomic_exchange_explicit(&warned, true, memory_order_relaxed))
        vg_warn("checkpoint_no_io_uring", "msg=\"io_uring unavailable (seccomp, old kernel): writing with pwrite\"");
}

/* True for the names of files that were being written when a process died. */
static bool stale_name(const char *name) {
    if (strcmp(name, CKPT_TMP_NAME) == 0) return true;
    unsigned long long v;
    int used = 0;
    return sscanf(name, "checkpoint.%llu.pending%n", &v, &used) == 1 && name[used] == '\0';
}

void ckpt_remove_stale(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!stale_name(de->d_name)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (unlink(path) == 0)
            vg_info("checkpoint_stale_removed", "file=%s msg=\"left by a write that did not finish\"", path);
    }
    closedir(d);
}

int vg_checkpoint_write_sync(const char *state_dir, struct vg_snapshot *s, char *errstr, size_t errstr_size) {
    if (mkdir(state_dir, 0750) != 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "%s: cannot create: %s", state_dir, strerror(errno));
        return VG_ERR_IO;
    }
    char tmp[4096];
    bool used_pwrite;
    snprintf(tmp, sizeof tmp, "%s/" CKPT_TMP_NAME, state_dir);
    int rc = ckpt_write_image(tmp, s, &used_pwrite, errstr, errstr_size);
    if (used_pwrite) ckpt_note_pwrite();
    if (rc == VG_OK) rc = ckpt_publish(state_dir, tmp, errstr, errstr_size);
    return rc;
}
