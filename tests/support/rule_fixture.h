/* rule_fixture.h - NDJSON transaction fixtures for the rule tests (tests/engine/test_rule_*.c)
 * and a thin layer over the engine harness in test_support.h to replay them and look at the
 * alerts. Header-only, test code only; not an engine API. */
#ifndef VIGIL_RULE_FIXTURE_H
#define VIGIL_RULE_FIXTURE_H

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define FX_T0 1704067200000LL /* 2024-01-01T00:00:00Z */
#define FX_SEC 1000LL
#define FX_MIN (60LL * FX_SEC)
#define FX_HOUR (60LL * FX_MIN)
#define FX_DAY (24LL * FX_HOUR)

/* A growing NDJSON document; ids are "t1", "t2", ... unless given. */
struct fx {
    char *buf;
    size_t len, cap;
    unsigned n;
};

static inline void fx_appendf(struct fx *f, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int need = vsnprintf(f->buf ? f->buf + f->len : NULL, f->buf ? f->cap - f->len : 0, fmt, ap);
        va_end(ap);
        cr_assert(need >= 0);
        if (f->buf && (size_t)need < f->cap - f->len) {
            f->len += (size_t)need;
            return;
        }
        size_t cap = f->cap ? f->cap * 2 : 4096;
        while (cap < f->len + (size_t)need + 1) cap *= 2;
        f->buf = realloc(f->buf, cap);
        cr_assert_not_null(f->buf);
        f->cap = cap;
    }
}

/* Appends one transaction with every field given; extra is more JSON members
 * ("\"channel\":\"cash\"") or NULL. */
static inline void fx_txn(struct fx *f, const char *id, int64_t ts_ms, const char *from, const char *to,
                          const char *amount, const char *currency, const char *extra) {
    char auto_id[32];
    f->n++;
    if (!id) {
        snprintf(auto_id, sizeof auto_id, "t%u", f->n);
        id = auto_id;
    }
    fx_appendf(f, "{\"id\":\"%s\",\"ts\":%" PRId64 ",\"from\":\"%s\",\"to\":\"%s\",\"amount\":\"%s\",\"currency\":\"%s\"%s%s}\n",
               id, ts_ms, from, to, amount, currency, extra ? "," : "", extra ? extra : "");
}

/* The common case: USD, automatic id. */
static inline void fx_tx(struct fx *f, int64_t ts_ms, const char *from, const char *to, const char *amount) {
    fx_txn(f, NULL, ts_ms, from, to, amount, "USD", NULL);
}

static inline void fx_free(struct fx *f) {
    free(f->buf);
    memset(f, 0, sizeof *f);
}

/* Replays the fixture through a full engine (threads 0 = synchronous) and returns the alerts
 * (free with vg_test_alerts_free). Asserts the replay itself succeeded. */
static inline struct vg_test_alerts fx_replay(const struct fx *f, const char *yaml, int threads) {
    struct vg_test_alerts alerts;
    memset(&alerts, 0, sizeof alerts);
    int rc = vg_test_replay(yaml, f->buf ? f->buf : "", threads, &alerts);
    cr_assert_eq(rc, 0, "vg_test_replay failed: %d", rc);
    return alerts;
}

/* Replays and counts the alerts of rule about account (NULL = any account). */
static inline size_t fx_count(const struct fx *f, const char *yaml, const char *rule, const char *account) {
    struct vg_test_alerts alerts = fx_replay(f, yaml, 0);
    size_t n = vg_test_count(&alerts, rule, account);
    vg_test_alerts_free(&alerts);
    return n;
}

/* The first alert line of rule about account, or NULL. The pointer lives as long as alerts. */
static inline const char *fx_find(const struct vg_test_alerts *a, const char *rule, const char *account) {
    char rule_key[96], account_key[96];
    snprintf(rule_key, sizeof rule_key, "\"rule\":\"%s\"", rule);
    snprintf(account_key, sizeof account_key, "\"account\":\"%s\"", account);
    for (size_t i = 0; i < a->count; i++)
        if (strstr(a->lines[i], rule_key) && strstr(a->lines[i], account_key)) return a->lines[i];
    return NULL;
}

/* Asserts that the alert line contains the JSON fragment. */
#define fx_expect_has(line, fragment) \
    cr_expect(strstr((line), (fragment)) != NULL, "expected %s in alert %s", (fragment), (line))

#endif
