/* drafts_out.c - writing a report draft into a directory so that no reader ever sees half a
 * file: a hidden temp file in the same directory, fsync, rename over the final name, fsync
 * of the directory. Used for accepted drafts (output_dir) and rejected ones (rejected/). */
#include "vigil/goaml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p for one or two levels (output_dir, output_dir/rejected). */
static int make_dir(const char *dir) {
    if (mkdir(dir, 0750) == 0 || errno == EEXIST) return 0;
    if (errno != ENOENT) return -1;
    char parent[1024];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent) return -1;
    *slash = '\0';
    if (make_dir(parent) != 0) return -1;
    return mkdir(dir, 0750) == 0 || errno == EEXIST ? 0 : -1;
}

int vg_goaml_write_file(const char *dir, const char *name, const char *data, size_t len, char *errstr,
                        size_t errstr_size) {
    char tmp[1200], final[1200];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(final, sizeof final, "%s/%s", dir, name);
    if (make_dir(dir) != 0) {
        snprintf(errstr, errstr_size, "%s: cannot create: %s", dir, strerror(errno));
        return VG_ERR_IO;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s: %s", tmp, strerror(errno));
        return VG_ERR_IO;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    int err = off == len && fsync(fd) == 0 ? 0 : errno ? errno : EIO;
    if (close(fd) != 0 && !err) err = errno;
    if (!err && rename(tmp, final) != 0) err = errno;
    if (err) {
        unlink(tmp);
        snprintf(errstr, errstr_size, "%s: %s", final, strerror(err));
        return VG_ERR_IO;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the rename itself survives a crash */
        fsync(dfd);
        close(dfd);
    }
    return VG_OK;
}
