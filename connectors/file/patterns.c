/* patterns.c - reads IBM AMLworld's *_Patterns.txt: laundering attempts, each a BEGIN line
 * naming its typology, its transactions as AMLworld CSV lines, and an END line. Used by
 * vigil-backtest for attempt recall per typology; strict, every error names its line. */
#include "vigil/backtest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BEGIN_PREFIX "BEGIN LAUNDERING ATTEMPT"
#define END_PREFIX "END LAUNDERING ATTEMPT"
#define PATTERNS_FILE_MAX (4ull << 30)

struct parser {
    struct vg_bt_patterns *p;
    const char *name;
    char *errstr;
    size_t errstr_size;
    size_t cap_attempts, cap_txns;
};

static int fail(struct parser *ps, unsigned long line, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct parser *ps, unsigned long line, int rc, const char *fmt, ...) {
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line)
        snprintf(ps->errstr, ps->errstr_size, "%s:%lu: %s", ps->name, line, msg);
    else
        snprintf(ps->errstr, ps->errstr_size, "%s: %s", ps->name, msg);
    return rc;
}

static bool starts_with(const char *s, size_t len, const char *prefix) {
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* The typology of a BEGIN/END line: after the prefix, "- NAME" up to ':' or the end,
 * trimmed. *len 0 when the line names none. */
static const char *typology_of(const char *s, size_t len, size_t prefix_len, size_t *out_len) {
    const char *p = s + prefix_len, *end = s + len;
    while (p < end && *p == ' ') p++;
    *out_len = 0;
    if (p == end) return p;
    if (*p != '-') return NULL;
    p++;
    while (p < end && *p == ' ') p++;
    const char *stop = p;
    while (stop < end && *stop != ':') stop++;
    while (stop > p && stop[-1] == ' ') stop--;
    *out_len = (size_t)(stop - p);
    return p;
}

/* Index of a typology name, added when new. Returns -1 when the table is full. */
static int typology_index(struct vg_bt_patterns *p, const char *name, size_t len) {
    if (len >= VG_BT_TYPOLOGY_LEN) len = VG_BT_TYPOLOGY_LEN - 1;
    for (size_t i = 0; i < p->n_typologies; i++)
        if (strlen(p->typologies[i]) == len && memcmp(p->typologies[i], name, len) == 0) return (int)i;
    if (p->n_typologies == VG_BT_TYPOLOGY_MAX) return -1;
    memcpy(p->typologies[p->n_typologies], name, len);
    p->typologies[p->n_typologies][len] = '\0';
    return (int)p->n_typologies++;
}

void vg_bt_patterns_free(struct vg_bt_patterns *p) {
    if (!p) return;
    free(p->attempts);
    free(p->txns);
    memset(p, 0, sizeof *p);
}

int vg_bt_patterns_parse(struct vg_bt_patterns *out, const char *name, const char *text, size_t len,
                         const struct vg_currency_table *rates, char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof *out);
    struct parser ps = {.p = out, .name = name ? name : "patterns", .errstr = errstr, .errstr_size = errstr_size};
    struct vg_bt_attempt *open_attempt = NULL;
    unsigned long line = 0;
    int rc = VG_OK;
    const char *pos = text, *end = text + len;
    while (pos < end && rc == VG_OK) {
        const char *nl = memchr(pos, '\n', (size_t)(end - pos));
        const char *stop = nl ? nl : end;
        const char *s = pos;
        size_t n = (size_t)(stop - pos);
        pos = nl ? nl + 1 : end;
        line++;
        while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
        while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
        if (n == 0) continue;
        size_t tlen;
        if (starts_with(s, n, BEGIN_PREFIX)) {
            if (open_attempt) {
                rc = fail(&ps, line, VG_ERR_INVALID, "BEGIN inside the attempt begun on line %u (END missing)",
                          open_attempt->line);
                break;
            }
            const char *t = typology_of(s, n, strlen(BEGIN_PREFIX), &tlen);
            if (!t || tlen == 0) {
                rc = fail(&ps, line, VG_ERR_INVALID, "BEGIN names no typology (like '" BEGIN_PREFIX " - FAN-IN')");
                break;
            }
            int ti = typology_index(out, t, tlen);
            if (ti < 0) {
                rc = fail(&ps, line, VG_ERR_INVALID, "more than %d typologies", VG_BT_TYPOLOGY_MAX);
                break;
            }
            if (out->n_attempts == ps.cap_attempts) {
                size_t cap = ps.cap_attempts ? ps.cap_attempts * 2 : 256;
                struct vg_bt_attempt *a = realloc(out->attempts, cap * sizeof *a);
                if (!a) {
                    rc = fail(&ps, 0, VG_ERR_NOMEM, "out of memory");
                    break;
                }
                out->attempts = a;
                ps.cap_attempts = cap;
            }
            open_attempt = &out->attempts[out->n_attempts++];
            *open_attempt = (struct vg_bt_attempt){.typology = (uint32_t)ti, .first = (uint32_t)out->n_txns,
                                                   .line = (uint32_t)line};
        } else if (starts_with(s, n, END_PREFIX)) {
            if (!open_attempt) {
                rc = fail(&ps, line, VG_ERR_INVALID, "END without BEGIN");
                break;
            }
            const char *t = typology_of(s, n, strlen(END_PREFIX), &tlen);
            const char *begun = out->typologies[open_attempt->typology];
            if (!t || (tlen && (tlen != strlen(begun) || memcmp(t, begun, tlen) != 0))) {
                rc = fail(&ps, line, VG_ERR_INVALID, "END does not match the BEGIN %s on line %u", begun,
                          open_attempt->line);
                break;
            }
            if (open_attempt->count == 0) {
                rc = fail(&ps, line, VG_ERR_INVALID, "attempt begun on line %u holds no transaction",
                          open_attempt->line);
                break;
            }
            open_attempt = NULL;
        } else {
            if (!open_attempt) {
                rc = fail(&ps, line, VG_ERR_INVALID, "transaction line outside an attempt (BEGIN missing)");
                break;
            }
            if (out->n_txns == ps.cap_txns) {
                size_t cap = ps.cap_txns ? ps.cap_txns * 2 : 1024;
                struct vg_txn *t2 = realloc(out->txns, cap * sizeof *t2);
                if (!t2) {
                    rc = fail(&ps, 0, VG_ERR_NOMEM, "out of memory");
                    break;
                }
                out->txns = t2;
                ps.cap_txns = cap;
            }
            struct vg_parse_error pe;
            struct vg_txn *t2 = &out->txns[out->n_txns];
            if (vg_amlworld_parse(s, n, line, rates, t2, &pe) != VG_OK) {
                rc = fail(&ps, line, VG_ERR_INVALID, "%s: %s", vg_reason_name(pe.reason), pe.detail);
                break;
            }
            t2->seq = line;
            out->n_txns++;
            open_attempt->count++;
        }
    }
    if (rc == VG_OK && open_attempt)
        rc = fail(&ps, line, VG_ERR_INVALID, "file ends inside the attempt begun on line %u (END missing)",
                  open_attempt->line);
    if (rc != VG_OK) vg_bt_patterns_free(out);
    return rc;
}

int vg_bt_patterns_load(struct vg_bt_patterns *out, const char *path, const struct vg_currency_table *rates,
                        char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: cannot open: %s", path, strerror(errno));
        return VG_ERR_IO;
    }
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    int rc = VG_OK;
    while (buf) {
        if (len == cap) {
            char *b = cap < PATTERNS_FILE_MAX ? realloc(buf, cap * 2) : NULL;
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    if (!buf) {
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        rc = VG_ERR_NOMEM;
    } else if (ferror(f)) {
        snprintf(errstr, errstr_size, "%s: cannot read: %s", path, strerror(errno));
        rc = VG_ERR_IO;
    }
    fclose(f);
    if (rc == VG_OK) rc = vg_bt_patterns_parse(out, path, buf, len, rates, errstr, errstr_size);
    free(buf);
    return rc;
}
