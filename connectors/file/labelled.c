/* labelled.c - backtest input: reads a labelled transaction file once into a vg_bt_data_t,
 * parsing each record with the same parsers as replay (so the engine sees what vigild would)
 * and taking its label: AMLworld's `Is Laundering` column, or NDJSON's optional boolean
 * `label` member, which the normal NDJSON path ignores like any unknown member. */
#include "vigil/backtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_BYTES (4u << 20)

enum label { LABEL_NO = 0, LABEL_YES = 1, LABEL_BAD = 2 };

/* The last comma-separated field of a CSV line: "1" laundering, "0" not. */
static enum label csv_label(const char *rec, size_t len) {
    const char *comma = memrchr(rec, ',', len);
    if (!comma) return LABEL_BAD;
    const char *v = comma + 1;
    size_t n = len - (size_t)(v - rec);
    if (n == 1 && v[0] == '1') return LABEL_YES;
    if (n == 1 && v[0] == '0') return LABEL_NO;
    return LABEL_BAD;
}

/* Skips a JSON string starting at p (on its opening quote). Returns the byte after it. */
static const char *skip_string(const char *p, const char *end) {
    for (p++; p < end; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return end;
}

/* The top-level "label" member of an NDJSON object that vg_ndjson_parse accepted (so the
 * JSON is well formed): true, false/null/absent, anything else LABEL_BAD. */
static enum label ndjson_label(const char *rec, size_t len) {
    const char *p = rec, *end = rec + len;
    int depth = 0;
    bool expect_key = false;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            const char *s = p;
            p = skip_string(p, end);
            if (depth == 1 && expect_key) {
                const char *q = p;
                while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
                if (q < end && *q == ':') {
                    bool is_label = p - s == 7 && memcmp(s, "\"label\"", 7) == 0;
                    p = q + 1;
                    expect_key = false;
                    if (!is_label) continue;
                    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
                    if ((size_t)(end - p) >= 4 && memcmp(p, "true", 4) == 0) return LABEL_YES;
                    if ((size_t)(end - p) >= 5 && memcmp(p, "false", 5) == 0) return LABEL_NO;
                    if ((size_t)(end - p) >= 4 && memcmp(p, "null", 4) == 0) return LABEL_NO;
                    return LABEL_BAD;
                }
            }
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
            expect_key = c == '{' && depth == 1;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',' && depth == 1) {
            expect_key = true;
        }
        p++;
    }
    return LABEL_NO;
}

struct loader {
    vg_bt_data_t *d;
    enum vg_format format;
    const struct vg_currency_table *rates;
    bool header_checked;
    uint64_t data_line;
};

static int handle_record(struct loader *l, const char *rec, size_t len) {
    while (len > 0 && (rec[len - 1] == '\r' || rec[len - 1] == ' ' || rec[len - 1] == '\t')) len--;
    size_t start = 0;
    while (start < len && (rec[start] == ' ' || rec[start] == '\t')) start++;
    if (start == len) return VG_OK; /* blank line, as replay skips it */
    struct vg_txn txn;
    struct vg_parse_error pe;
    int rc;
    enum label label;
    if (l->format == VG_FORMAT_AMLWORLD_CSV) {
        if (!l->header_checked) {
            l->header_checked = true;
            if (vg_amlworld_is_header(rec, len)) return VG_OK;
        }
        rc = vg_amlworld_parse(rec, len, ++l->data_line, l->rates, &txn, &pe);
        label = csv_label(rec, len);
    } else {
        rc = vg_ndjson_parse(rec, len, l->rates, &txn, &pe);
        label = rc == VG_OK ? ndjson_label(rec + start, len - start) : LABEL_NO;
    }
    if (rc != VG_OK) {
        vg_bt_data_add_refused(l->d, label == LABEL_YES);
        return VG_OK;
    }
    if (label == LABEL_BAD) vg_bt_data_bad_label(l->d);
    return vg_bt_data_append(l->d, &txn, label == LABEL_YES);
}

int vg_bt_data_load(vg_bt_data_t **out, const char *path, enum vg_format format,
                    const struct vg_currency_table *rates, char *errstr, size_t errstr_size) {
    *out = NULL;
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s: cannot open: %s", path, strerror(errno));
        return VG_ERR_IO;
    }
    struct loader l = {.d = vg_bt_data_new(), .format = format, .rates = rates};
    char *buf = malloc(CHUNK_BYTES + VG_RECORD_MAX + 1);
    int rc = VG_ERR_NOMEM;
    if (!l.d || !buf) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        goto out;
    }
    size_t have = 0;
    bool eof = false, skipping = false;
    while (!eof) {
        ssize_t n = read(fd, buf + have, CHUNK_BYTES + VG_RECORD_MAX - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(errstr, errstr_size, "%s: read failed: %s", path, strerror(errno));
            rc = VG_ERR_IO;
            goto out;
        }
        eof = n == 0;
        have += (size_t)n;
        size_t pos = 0;
        for (;;) {
            char *nl = memchr(buf + pos, '\n', have - pos);
            size_t end = nl ? (size_t)(nl - buf) : have;
            if (!nl && !eof) {
                if (have - pos > VG_RECORD_MAX && !skipping) { /* oversized: refused, as replay does */
                    vg_bt_data_add_refused(l.d, false); /* replay numbers no data line for it */
                    skipping = true;
                }
                if (skipping) pos = have;
                break;
            }
            if (skipping) {
                skipping = false;
            } else if (end - pos > VG_RECORD_MAX) {
                vg_bt_data_add_refused(l.d, false);
            } else if (end > pos && handle_record(&l, buf + pos, end - pos) != VG_OK) {
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                goto out;
            }
            if (!nl) {
                pos = have;
                break;
            }
            pos = end + 1;
        }
        memmove(buf, buf + pos, have - pos);
        have -= pos;
    }
    if (vg_bt_data_seal(l.d) != VG_OK) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        goto out;
    }
    *out = l.d;
    l.d = NULL; /* owned by the caller */
    rc = VG_OK;
out:
    vg_bt_data_free(l.d);
    free(buf);
    if (fd > 2) close(fd);
    return rc;
}
