/* list_file.c - what the list loaders share: format names and the dispatch on them, reading
 * a whole list file, birth-date ranges in text form, and the hash version of a text list.
 * Each format's reader is its own file (un_xml.c, opensanctions_csv.c, tsv.c). */
#include "vigil/lists.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists/list_file.h"
#include "vigil/hash.h"

static const char *const format_names[VG_LIST_FORMAT_MAX] = {
    [VG_LIST_UN_XML] = "un-xml", [VG_LIST_OPENSANCTIONS_CSV] = "opensanctions-csv", [VG_LIST_TSV] = "tsv"};

const char *vg_list_format_name(enum vg_list_format format) {
    return (unsigned)format < VG_LIST_FORMAT_MAX ? format_names[format] : "unknown";
}

int vg_list_format_parse(const char *name, size_t len) {
    for (int i = 0; i < VG_LIST_FORMAT_MAX; i++)
        if (strlen(format_names[i]) == len && memcmp(format_names[i], name, len) == 0) return i;
    return -1;
}

int vg_list_load(enum vg_list_format format, const char *path, const char *name, struct vg_screen_list **out,
                 char *errstr, size_t errstr_size) {
    switch (format) {
    case VG_LIST_UN_XML: return vg_list_load_un_xml(path, name, out, errstr, errstr_size);
    case VG_LIST_OPENSANCTIONS_CSV: return vg_list_load_opensanctions_csv(path, name, out, errstr, errstr_size);
    case VG_LIST_TSV: return vg_list_load_tsv(path, name, out, errstr, errstr_size);
    case VG_LIST_FORMAT_MAX: break;
    }
    snprintf(errstr, errstr_size, "%s: unknown list format", path);
    return VG_ERR_INVALID;
}

static bool digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static int one_date(const char *s, size_t len, int32_t *from, int32_t *to) {
    static const int mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (len < 4 || !digits(s, 4)) return VG_ERR_INVALID;
    int32_t y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    if (y == 0) return VG_ERR_INVALID;
    if (len == 4) {
        *from = y * 10000 + 101;
        *to = y * 10000 + 1231;
        return VG_OK;
    }
    if (len < 7 || s[4] != '-' || !digits(s + 5, 2)) return VG_ERR_INVALID;
    int32_t m = (s[5] - '0') * 10 + (s[6] - '0');
    if (m < 1 || m > 12) return VG_ERR_INVALID;
    if (len == 7) {
        *from = y * 10000 + m * 100 + 1;
        *to = y * 10000 + m * 100 + mdays[m];
        return VG_OK;
    }
    if (len != 10 || s[7] != '-' || !digits(s + 8, 2)) return VG_ERR_INVALID;
    int32_t d = (s[8] - '0') * 10 + (s[9] - '0');
    if (d < 1 || d > mdays[m]) return VG_ERR_INVALID;
    *from = *to = y * 10000 + m * 100 + d;
    return VG_OK;
}

int vg_list_parse_date_range(const char *s, size_t len, int32_t *from, int32_t *to) {
    while (len && (*s == ' ')) s++, len--;
    while (len && s[len - 1] == ' ') len--;
    const char *dots = NULL;
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == '.' && s[i + 1] == '.') {
            dots = s + i;
            break;
        }
    if (!dots) return one_date(s, len, from, to);
    int32_t a, b, c, d;
    if (one_date(s, (size_t)(dots - s), &a, &b) != VG_OK ||
        one_date(dots + 2, len - (size_t)(dots - s) - 2, &c, &d) != VG_OK || d < a)
        return VG_ERR_INVALID;
    *from = a;
    *to = d;
    return VG_OK;
}

void vg_list_hash_version(const char *data, size_t len, char out[17]) {
    snprintf(out, 17, "%016llx", (unsigned long long)vg_hash64(data, len));
}

int vg_list_fail(char *errstr, size_t errstr_size, const char *path, size_t line, const char *fmt, ...) {
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(errstr, errstr_size, "%s:%zu: %s", path, line, why);
    return VG_ERR_INVALID;
}

int vg_list_read_file(const char *path, char **data, size_t *len, char *errstr, size_t errstr_size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s:0: cannot open: %s", path, strerror(errno));
        return VG_ERR_IO;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            char *grown = realloc(buf, cap * 2 + 1);
            if (!grown) break;
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        snprintf(errstr, errstr_size, "%s:0: cannot read: %s", path, buf ? strerror(errno) : "out of memory");
        int rc = buf ? VG_ERR_IO : VG_ERR_NOMEM;
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return VG_OK;
}

int vg_csv_record(struct vg_csv *c, char **field, size_t *flen, int max_fields) {
    if (c->p >= c->end) return 0;
    int n = 0;
    for (;;) {
        char *start = c->p, *w = c->p;
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            for (;;) {
                if (c->p >= c->end) return -1; /* unterminated quote */
                if (*c->p == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        *w++ = '"';
                        c->p += 2;
                        continue;
                    }
                    c->p++;
                    break;
                }
                if (*c->p == '\n') c->line++;
                *w++ = *c->p++;
            }
            if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') return -1;
        } else {
            while (c->p < c->end && *c->p != ',' && *c->p != '\n') {
                if (*c->p == '"') return -1;
                *w++ = *c->p++;
            }
        }
        size_t len = (size_t)(w - start);
        if (len && start[len - 1] == '\r') len--;
        if (n < max_fields) {
            field[n] = start;
            flen[n] = len;
        }
        n++;
        if (c->p < c->end && *c->p == '\r') c->p++;
        if (c->p >= c->end || *c->p == '\n') {
            if (c->p < c->end) c->p++;
            c->line++;
            return n;
        }
        c->p++; /* ',' */
    }
}
