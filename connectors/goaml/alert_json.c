/* alert_json.c - one vigil alert line (contract section 4, with or without `evidence`) into
 * struct vg_goaml_alert for the goAML drafter: a small strict JSON reader that copies the
 * strings it keeps. Off the engine's path: it allocates freely. Not a general JSON library. */
#include "vigil/goaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
    const char *p, *end;
    char *errstr;
    size_t errstr_size;
    bool failed;
};

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct reader *r, const char *fmt, ...) {
    if (!r->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->errstr, r->errstr_size, fmt, ap);
        va_end(ap);
        r->failed = true;
    }
    return VG_ERR_INVALID;
}

static void ws(struct reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static void put_cp(char *out, size_t *o, uint32_t cp) {
    /* XML 1.0 cannot carry C0 controls other than tab, LF, CR, nor U+FFFE/U+FFFF */
    if ((cp < 0x20 && cp != 0x9 && cp != 0xA && cp != 0xD) || cp == 0xFFFE || cp == 0xFFFF) cp = 0xFFFD;
    if (cp < 0x80) out[(*o)++] = (char)cp;
    else if (cp < 0x800) {
        out[(*o)++] = (char)(0xC0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xE0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (char)(0xF0 | (cp >> 18));
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex4(const char *p, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

/* A JSON string at r->p into a malloc'd UTF-8 copy (*out; NULL to skip). */
static int string(struct reader *r, char **out) {
    if (r->p >= r->end || *r->p != '"') return fail(r, "string expected at byte %zu", (size_t)(r->end - r->p));
    const char *s = ++r->p;
    while (r->p < r->end && *r->p != '"') r->p += *r->p == '\\' ? 2 : 1;
    if (r->p >= r->end) return fail(r, "unterminated string");
    size_t n = (size_t)(r->p - s);
    r->p++;
    if (!out) return VG_OK;
    char *o = malloc(n * 3 + 4);
    if (!o) return VG_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c != '\\') {
            if (c < 0x20) put_cp(o, &k, c);
            else o[k++] = (char)c;
            i++;
            continue;
        }
        char e = i + 1 < n ? s[i + 1] : 0;
        i += 2;
        switch (e) {
        case '"': case '\\': case '/': o[k++] = e; break;
        case 'b': put_cp(o, &k, 8); break;
        case 'f': put_cp(o, &k, 12); break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (i + 4 > n || hex4(s + i, &cp) != 0) {
                free(o);
                return fail(r, "bad \\u escape");
            }
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' &&
                hex4(s + i + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            put_cp(o, &k, cp);
            break;
        }
        default:
            free(o);
            return fail(r, "bad escape");
        }
    }
    o[k] = '\0';
    *out = o;
    return VG_OK;
}

/* A scalar that is not a string (number, true, false, null): its text. */
static int literal(struct reader *r, char **out) {
    const char *s = r->p;
    while (r->p < r->end && (strchr("+-.eE", *r->p) || (*r->p >= '0' && *r->p <= '9') || (*r->p >= 'a' && *r->p <= 'z')))
        r->p++;
    if (r->p == s) return fail(r, "value expected");
    if (!out) return VG_OK;
    *out = strndup(s, (size_t)(r->p - s));
    return *out ? VG_OK : VG_ERR_NOMEM;
}

static int skip_value(struct reader *r, int depth);

static int skip_container(struct reader *r, char close, int depth) {
    if (depth > 64) return fail(r, "nested too deep");
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return VG_OK;
    }
    for (;;) {
        if (close == '}') {
            if (string(r, NULL) != VG_OK) return VG_ERR_INVALID;
            ws(r);
            if (r->p >= r->end || *r->p != ':') return fail(r, "':' expected");
            r->p++;
            ws(r);
        }
        if (skip_value(r, depth + 1) != VG_OK) return VG_ERR_INVALID;
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            ws(r);
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return VG_OK;
        }
        return fail(r, "',' or '%c' expected", close);
    }
}

static int skip_value(struct reader *r, int depth) {
    if (r->p >= r->end) return fail(r, "value expected");
    if (*r->p == '"') return string(r, NULL);
    if (*r->p == '{') return skip_container(r, '}', depth);
    if (*r->p == '[') return skip_container(r, ']', depth);
    return literal(r, NULL);
}

/* Iterates an object's members: calls fn(key) with r->p at the value; fn consumes it. */
typedef int (*member_fn)(struct reader *r, const char *key, void *ctx);

static int object(struct reader *r, member_fn fn, void *ctx) {
    ws(r);
    if (r->p >= r->end || *r->p != '{') return fail(r, "object expected");
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return VG_OK;
    }
    for (;;) {
        char *key = NULL;
        int rc = string(r, &key);
        if (rc != VG_OK) return rc;
        ws(r);
        if (r->p >= r->end || *r->p != ':') {
            free(key);
            return fail(r, "':' expected");
        }
        r->p++;
        ws(r);
        rc = fn(r, key, ctx);
        free(key);
        if (rc != VG_OK) return rc;
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            ws(r);
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return VG_OK;
        }
        return fail(r, "',' or '}' expected");
    }
}

/* An array of strings into a malloc'd vector. */
static int string_array(struct reader *r, char ***out, size_t *n_out) {
    if (r->p >= r->end || *r->p != '[') return fail(r, "array expected");
    r->p++;
    ws(r);
    size_t n = 0, cap = 8;
    char **v = malloc(cap * sizeof *v);
    if (!v) return VG_ERR_NOMEM;
    *out = v;
    *n_out = 0;
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return VG_OK;
    }
    for (;;) {
        if (n == cap) {
            char **w = realloc(v, (cap *= 2) * sizeof *v);
            if (!w) return VG_ERR_NOMEM;
            *out = v = w;
        }
        int rc = string(r, &v[n]);
        if (rc != VG_OK) return rc;
        *n_out = ++n;
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            ws(r);
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return VG_OK;
        }
        return fail(r, "',' or ']' expected");
    }
}

static int int64_value(struct reader *r, int64_t *out) {
    char *text = NULL;
    int rc = literal(r, &text);
    if (rc != VG_OK) return rc;
    char *end;
    long long v = strtoll(text, &end, 10);
    bool ok = *end == '\0' && end != text;
    free(text);
    if (!ok) return fail(r, "integer expected");
    *out = v;
    return VG_OK;
}

static int tx_member(struct reader *r, const char *key, void *ctx) {
    struct vg_goaml_tx *t = ctx;
    struct { const char *name; char **dst; } fields[] = {
        {"id", &t->id}, {"from", &t->from}, {"to", &t->to}, {"amount", &t->amount}, {"currency", &t->currency},
        {"amount_base", &t->amount_base}, {"base_currency", &t->base_currency}, {"channel", &t->channel},
        {"from_country", &t->from_country}, {"to_country", &t->to_country}, {"from_bank", &t->from_bank},
        {"to_bank", &t->to_bank}, {"from_name", &t->from_name}, {"to_name", &t->to_name},
    };
    if (strcmp(key, "ts") == 0) return int64_value(r, &t->ts_ms);
    for (size_t i = 0; i < VG_ARRAY_LEN(fields); i++) {
        if (strcmp(key, fields[i].name) != 0) continue;
        if (*fields[i].dst) return fail(r, "evidence member '%s' given twice", key);
        return r->p < r->end && *r->p == '"' ? string(r, fields[i].dst) : literal(r, fields[i].dst);
    }
    return skip_value(r, 1);
}

static void tx_free(struct vg_goaml_tx *t);

static int evidence_array(struct reader *r, struct vg_goaml_alert *a) {
    if (r->p >= r->end || *r->p != '[') return fail(r, "evidence: array expected");
    r->p++;
    ws(r);
    size_t cap = 8;
    a->evidence = calloc(cap, sizeof *a->evidence);
    if (!a->evidence) return VG_ERR_NOMEM;
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return VG_OK;
    }
    for (;;) {
        if (a->n_evidence == cap) {
            struct vg_goaml_tx *w = realloc(a->evidence, cap * 2 * sizeof *w);
            if (!w) return VG_ERR_NOMEM;
            memset(w + cap, 0, cap * sizeof *w);
            a->evidence = w;
            cap *= 2;
        }
        struct vg_goaml_tx *t = &a->evidence[a->n_evidence++];
        int rc = object(r, tx_member, t);
        if (rc != VG_OK) return rc;
        if (t->id && !t->from && !t->to && !t->amount_base && t->ts_ms == 0) {
            /* {"id":...} alone: vigild no longer held the transaction (its tx_ids still
             * name it); the case is drafted from the transactions it did carry */
            tx_free(t);
            memset(t, 0, sizeof *t);
            a->n_evidence--;
        } else if (!t->id || !t->from || !t->to || !t->amount_base || t->ts_ms == 0) {
            return fail(r, "evidence[%zu]: id, ts, from, to and amount_base are required", a->n_evidence - 1);
        }
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            ws(r);
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return VG_OK;
        }
        return fail(r, "',' or ']' expected");
    }
}

static int metric_member(struct reader *r, const char *key, void *ctx) {
    struct vg_goaml_alert *a = ctx;
    struct vg_goaml_metric *w = realloc(a->metrics, (a->n_metrics + 1) * sizeof *w);
    if (!w) return VG_ERR_NOMEM;
    a->metrics = w;
    struct vg_goaml_metric *m = &a->metrics[a->n_metrics];
    m->key = strdup(key);
    m->value = NULL;
    a->n_metrics++;
    if (!m->key) return VG_ERR_NOMEM;
    return r->p < r->end && *r->p == '"' ? string(r, &m->value) : literal(r, &m->value);
}

static int alert_member(struct reader *r, const char *key, void *ctx) {
    struct vg_goaml_alert *a = ctx;
    struct { const char *name; char **dst; } fields[] = {
        {"alert_id", &a->alert_id}, {"rule", &a->rule}, {"account", &a->account}, {"severity", &a->severity},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(fields); i++)
        if (strcmp(key, fields[i].name) == 0) return *fields[i].dst ? fail(r, "'%s' given twice", key) : string(r, fields[i].dst);
    if (strcmp(key, "score") == 0) return literal(r, &a->score);
    if (strcmp(key, "window_start") == 0) return int64_value(r, &a->window_start_ms);
    if (strcmp(key, "window_end") == 0) return int64_value(r, &a->window_end_ms);
    if (strcmp(key, "tx_ids") == 0) return a->tx_ids ? fail(r, "'tx_ids' given twice") : string_array(r, &a->tx_ids, &a->n_tx_ids);
    if (strcmp(key, "accounts") == 0)
        return a->accounts ? fail(r, "'accounts' given twice") : string_array(r, &a->accounts, &a->n_accounts);
    if (strcmp(key, "metrics") == 0) return object(r, metric_member, a);
    if (strcmp(key, "evidence") == 0) return a->evidence ? fail(r, "'evidence' given twice") : evidence_array(r, a);
    return skip_value(r, 1);
}

int vg_goaml_alert_parse(const char *line, size_t len, struct vg_goaml_alert *out, char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof *out);
    struct reader r = {.p = line, .end = line + len, .errstr = errstr, .errstr_size = errstr_size};
    int rc = object(&r, alert_member, out);
    ws(&r);
    if (rc == VG_OK && r.p != r.end) rc = fail(&r, "trailing characters after the alert");
    if (rc == VG_OK && (!out->alert_id || !out->rule || !out->account || !out->tx_ids))
        rc = fail(&r, "alert_id, rule, account and tx_ids are required");
    if (rc == VG_ERR_NOMEM) snprintf(errstr, errstr_size, "out of memory");
    if (rc != VG_OK) vg_goaml_alert_free(out);
    return rc;
}

static void tx_free(struct vg_goaml_tx *t) {
    char *fields[] = {t->id, t->from, t->to, t->amount, t->currency, t->amount_base, t->base_currency, t->channel,
                      t->from_country, t->to_country, t->from_bank, t->to_bank, t->from_name, t->to_name};
    for (size_t i = 0; i < VG_ARRAY_LEN(fields); i++) free(fields[i]);
}

void vg_goaml_alert_free(struct vg_goaml_alert *a) {
    free(a->alert_id);
    free(a->rule);
    free(a->account);
    free(a->severity);
    free(a->score);
    for (size_t i = 0; i < a->n_tx_ids; i++) free(a->tx_ids[i]);
    free(a->tx_ids);
    for (size_t i = 0; i < a->n_accounts; i++) free(a->accounts[i]);
    free(a->accounts);
    for (size_t i = 0; i < a->n_metrics; i++) {
        free(a->metrics[i].key);
        free(a->metrics[i].value);
    }
    free(a->metrics);
    if (a->evidence)
        for (size_t i = 0; i < a->n_evidence; i++) tx_free(&a->evidence[i]);
    free(a->evidence);
    memset(a, 0, sizeof *a);
}
