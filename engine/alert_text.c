/* alert_text.c - the readable form of an alert (see alert_text.h): reads back the NDJSON
 * line alert.c rendered (flat members, one nested `metrics` object, arrays of strings) and
 * writes "2022-09-01 00:20Z  HIGH    fan_in  HUB  counterparties 9, total 45000 USD ...".
 * Only for printing to a person; every machine-facing output stays the NDJSON line. */
#include "vigil/alert_text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct span {
    const char *p;
    size_t n;
};

/* End of the JSON value starting at p (a string, number, literal, object or array).
 * Returns a pointer just past it, or NULL when it runs past end. */
static const char *skip_value(const char *p, const char *end) {
    int depth = 0;
    bool in_str = false;
    for (; p < end; p++) {
        char c = *p;
        if (in_str) {
            if (c == '\\') p++;
            else if (c == '"') {
                in_str = false;
                if (depth == 0) return p + 1;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return p; /* end of the enclosing container: a scalar ended */
            if (--depth == 0) return p + 1;
        } else if (depth == 0 && c == ',') {
            return p;
        }
    }
    return NULL;
}

/* Calls fn for each member of the object whose '{' is at obj[0]. Returns false if malformed. */
static bool each_member(struct span obj, void (*fn)(void *ctx, struct span key, struct span value), void *ctx) {
    const char *p = obj.p + 1, *end = obj.p + obj.n;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ',')) p++;
        if (p < end && *p == '}') return true;
        if (p >= end || *p != '"') return false;
        const char *k = p + 1, *ke = memchr(k, '"', (size_t)(end - k));
        if (!ke || ke + 1 >= end || ke[1] != ':') return false;
        const char *v = ke + 2, *ve = skip_value(v, end);
        if (!ve) return false;
        fn(ctx, (struct span){k, (size_t)(ke - k)}, (struct span){v, (size_t)(ve - v)});
        p = ve;
    }
    return false;
}

static bool span_is(struct span s, const char *lit) { return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0; }

static struct span unquote(struct span s) {
    if (s.n >= 2 && s.p[0] == '"') return (struct span){s.p + 1, s.n - 2};
    return s;
}

static int64_t to_int(struct span s) {
    char tmp[32];
    size_t n = s.n < sizeof tmp - 1 ? s.n : sizeof tmp - 1;
    memcpy(tmp, s.p, n);
    tmp[n] = '\0';
    return strtoll(tmp, NULL, 10);
}

/* Strings in an array (our arrays hold strings only). */
static size_t array_len(struct span s) {
    size_t n = 0;
    bool in_str = false;
    for (size_t i = 0; i < s.n; i++) {
        if (in_str && s.p[i] == '\\') i++;
        else if (s.p[i] == '"') n += (in_str = !in_str) ? 1 : 0;
    }
    return n;
}

struct alert_fields {
    struct span rule, account, severity, score, metrics, tx_ids;
    int64_t window_start, window_end;
    bool have_end;
};

static void top_member(void *ctx, struct span key, struct span value) {
    struct alert_fields *f = ctx;
    if (span_is(key, "rule")) f->rule = unquote(value);
    else if (span_is(key, "account")) f->account = unquote(value);
    else if (span_is(key, "severity")) f->severity = unquote(value);
    else if (span_is(key, "score")) f->score = value;
    else if (span_is(key, "metrics")) f->metrics = value;
    else if (span_is(key, "tx_ids")) f->tx_ids = value;
    else if (span_is(key, "window_start")) f->window_start = to_int(value);
    else if (span_is(key, "window_end")) f->window_end = to_int(value), f->have_end = true;
}

/* "190 days", "5 hours", "12 minutes", "40 seconds". */
static void human_duration(int64_t ms, char *buf, size_t cap) {
    const int64_t s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
    if (ms >= 2 * d) snprintf(buf, cap, "%lld days", (long long)((ms + d / 2) / d));
    else if (ms >= 2 * h) snprintf(buf, cap, "%lld hours", (long long)((ms + h / 2) / h));
    else if (ms >= 2 * m) snprintf(buf, cap, "%lld minutes", (long long)((ms + m / 2) / m));
    else if (ms >= s) snprintf(buf, cap, "%lld seconds", (long long)((ms + s / 2) / s));
    else snprintf(buf, cap, "%lld ms", (long long)ms);
}

/* Metrics whose integer value is a duration in ms (alert.c renders them as integers). */
static bool is_duration_key(struct span key) {
    static const char *const keys[] = {"dormant_for", "delay", "baseline_span", "window", "gap"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (span_is(key, keys[i])) return true;
    return false;
}

struct text_out {
    char *buf;
    size_t cap, len;
    bool full;
    const char *base;
    int metrics;
};

static void put(struct text_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text_out *o, const char *fmt, ...) {
    if (o->full) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) o->full = true;
    else o->len += (size_t)n;
}

static void metric_member(void *ctx, struct span key, struct span value) {
    struct text_out *o = ctx;
    put(o, "%s", o->metrics++ ? ", " : "  ");
    for (size_t i = 0; i < key.n; i++) put(o, "%c", key.p[i] == '_' ? ' ' : key.p[i]);
    if (value.n && value.p[0] == '"') { /* money (decimal string) or a code (country) */
        struct span v = unquote(value);
        bool money = v.n > 0, dot = false; /* -?[0-9]+(.[0-9]+)?, not a date or an id */
        for (size_t i = 0; money && i < v.n; i++) {
            char c = v.p[i];
            if (c == '.' && !dot && i > 0 && i + 1 < v.n) dot = true;
            else if (!(c >= '0' && c <= '9') && !(c == '-' && i == 0 && v.n > 1)) money = false;
        }
        put(o, " %.*s%s%s", (int)v.n, v.p, money ? " " : "", money ? o->base : "");
    } else if (is_duration_key(key)) {
        char d[48];
        human_duration(to_int(value), d, sizeof d);
        put(o, " %s", d);
    } else {
        put(o, " %.*s", (int)value.n, value.p);
    }
}

size_t vg_alert_text(const char *json, size_t len, const char *base_currency, char *out, size_t cap) {
    struct alert_fields f = {0};
    while (len && (json[len - 1] == '\n' || json[len - 1] == '\r')) len--;
    if (!len || json[0] != '{' || !each_member((struct span){json, len}, top_member, &f) || !f.rule.n ||
        !f.have_end || cap < 2)
        return 0;
    struct text_out o = {.buf = out, .cap = cap - 1, .base = base_currency && base_currency[0] ? base_currency : ""};
    time_t secs = (time_t)(f.window_end / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char when[32], sev[8] = "";
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    for (size_t i = 0; i < f.severity.n && i < sizeof sev - 1; i++)
        sev[i] = (char)(f.severity.p[i] >= 'a' && f.severity.p[i] <= 'z' ? f.severity.p[i] - 32 : f.severity.p[i]);
    put(&o, "%sZ  %-6s  %-17.*s  %.*s", when, sev, (int)f.rule.n, f.rule.p, (int)f.account.n, f.account.p);
    if (f.metrics.n && f.metrics.p[0] == '{') each_member(f.metrics, metric_member, &o);
    size_t n_tx = array_len(f.tx_ids);
    put(&o, "  (%zu tx", n_tx);
    if (f.window_end > f.window_start) {
        char d[48];
        human_duration(f.window_end - f.window_start, d, sizeof d);
        put(&o, " over %s", d);
    }
    put(&o, ", score %.*s)", (int)f.score.n, f.score.p);
    if (o.full) return 0;
    out[o.len++] = '\n';
    out[o.len] = '\0';
    return o.len;
}

int vg_alert_print(FILE *f, const char *json, size_t len, enum vg_alert_print mode, const char *base_currency) {
    char line[4096];
    size_t n = mode == VG_PRINT_TEXT ? vg_alert_text(json, len, base_currency, line, sizeof line) : 0;
    if (mode == VG_PRINT_NONE) return 0;
    if (n) return fwrite(line, 1, n, f) == n ? 0 : -1;
    return fwrite(json, 1, len, f) == len ? 0 : -1;
}
