/* test_support.c - helpers shared by the unit tests (see test_support.h). */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *vg_test_write_temp(const char *data, size_t len, const char *suffix) {
    char templ[256];
    snprintf(templ, sizeof templ, "/tmp/vigil-test-XXXXXX%s", suffix ? suffix : "");
    int fd = mkstemps(templ, suffix ? (int)strlen(suffix) : 0);
    if (fd < 0) return NULL;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n <= 0) { close(fd); return NULL; }
        off += (size_t)n;
    }
    close(fd);
    return strdup(templ);
}

char *vg_test_read_file(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) { free(buf); buf = NULL; break; }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[len] = '\0';
    if (len_out) *len_out = len;
    return buf;
}
