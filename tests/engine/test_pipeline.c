/* test_pipeline.c - the engine as a whole (include/vigil/engine.h): results independent of
 * the shard count, drain and progress reporting, back-pressure through tiny rings without
 * loss (blocking and non-blocking submit), and a reload that keeps state. Built under TSan. */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "vigil/config.h"
#include "vigil/engine.h"
#include "vigil/ingest.h"
#include "vigil/synth.h"

#define T0 1704067200000LL

/* A generated NDJSON stream (background plus every typology's patterns and decoys). */
static char *synth_stream(uint64_t transactions, uint64_t accounts, uint64_t seed) {
    struct vg_synth_options opt;
    vg_synth_options_default(&opt);
    opt.seed = seed;
    opt.transactions = transactions;
    opt.accounts = accounts;
    opt.late_ppm = 20000; /* some out-of-order records, as real feeds have */
    char err[256];
    vg_synth_t *s = vg_synth_create(&opt, err, sizeof err);
    cr_assert_not_null(s, "synth: %s", err);
    size_t cap = (size_t)(vg_synth_total(s) + 16) * VG_SYNTH_LINE_MAX, len = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    struct vg_synth_txn t;
    while (vg_synth_next(s, &t)) len += vg_synth_format_ndjson(&t, buf + len, cap - len);
    buf[len] = '\0';
    vg_synth_destroy(s);
    return buf;
}

/* An alert line without its wall-clock field, for comparing runs. */
static char *without_detected_at(const char *line) {
    char *copy = strdup(line);
    char *p = strstr(copy, ",\"detected_at\":");
    cr_assert_not_null(p, "no detected_at in %s", line);
    char *end = p + strlen(",\"detected_at\":");
    while (*end >= '0' && *end <= '9') end++;
    memmove(p, end, strlen(end) + 1);
    return copy;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted alert lines minus detected_at. */
static char **normalized(const struct vg_test_alerts *a) {
    char **v = calloc(a->count + 1, sizeof *v);
    for (size_t i = 0; i < a->count; i++) v[i] = without_detected_at(a->lines[i]);
    qsort(v, a->count, sizeof *v, cmp_str);
    return v;
}

static void free_lines(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void expect_same_alerts(const struct vg_test_alerts *x, const struct vg_test_alerts *y, const char *what) {
    cr_assert_eq(x->count, y->count, "%s: %zu vs %zu alerts", what, x->count, y->count);
    char **a = normalized(x), **b = normalized(y);
    for (size_t i = 0; i < x->count; i++) cr_assert_str_eq(a[i], b[i], "%s: alert %zu differs", what, i);
    free_lines(a, x->count);
    free_lines(b, y->count);
}

Test(pipeline, same_alerts_at_1_2_and_4_threads, .timeout = 600) {
    char *stream = synth_stream(40000, 3000, 11);
    struct vg_test_alerts one, two, four;
    cr_assert_eq(vg_test_replay(NULL, stream, 1, &one), 0);
    cr_assert_eq(vg_test_replay(NULL, stream, 2, &two), 0);
    cr_assert_eq(vg_test_replay(NULL, stream, 4, &four), 0);
    cr_assert_gt(one.count, 20, "the stream should alert (got %zu)", one.count);
    /* several rules, graph stage included, so the comparison means something */
    cr_expect_gt(vg_test_count(&one, "cycle", NULL), 0);
    cr_expect_gt(vg_test_count(&one, "fan_in", NULL), 0);
    cr_expect_gt(vg_test_count(&one, "structuring", NULL), 0);
    expect_same_alerts(&one, &two, "1 vs 2 threads");
    expect_same_alerts(&one, &four, "1 vs 4 threads");
    /* and a rerun at the same thread count gives the same ids too */
    struct vg_test_alerts again;
    cr_assert_eq(vg_test_replay(NULL, stream, 2, &again), 0);
    expect_same_alerts(&two, &again, "rerun");
    vg_test_alerts_free(&one);
    vg_test_alerts_free(&two);
    vg_test_alerts_free(&four);
    vg_test_alerts_free(&again);
    free(stream);
}

/* ---- a sink that records what the collector reports ------------------------------------- */

struct recorder {
    _Atomic uint64_t alerts;         /* large_tx ones */
    _Atomic uint64_t other_alerts;
    _Atomic uint64_t progress;       /* last done_seq */
    _Atomic uint64_t progress_calls;
    _Atomic int went_backwards;
    _Atomic int alert_after_progress; /* an alert for a seq already reported done */
};

static int rec_alert(void *opaque, const struct vg_alert_record *a) {
    struct recorder *r = opaque;
    if (a->trigger_seq < atomic_load(&r->progress)) atomic_store(&r->alert_after_progress, 1);
    atomic_fetch_add(a->rule == VG_RULE_LARGE_TX ? &r->alerts : &r->other_alerts, 1);
    return 0;
}

static void rec_progress(void *opaque, uint64_t done_seq) {
    struct recorder *r = opaque;
    if (done_seq < atomic_load(&r->progress)) atomic_store(&r->went_backwards, 1);
    atomic_store(&r->progress, done_seq);
    atomic_fetch_add(&r->progress_calls, 1);
}

static struct vg_config *load_config(const char *yaml, int threads) {
    struct vg_config *cfg = calloc(1, sizeof *cfg);
    char err[512];
    cr_assert_not_null(cfg);
    int rc = yaml ? vg_config_load_buffer(cfg, "test.yaml", yaml, strlen(yaml), err, sizeof err) : vg_config_defaults(cfg);
    cr_assert_eq(rc, VG_OK, "config: %s", err);
    cfg->engine.threads = threads;
    return cfg;
}

static void free_config(struct vg_config *cfg) {
    vg_config_free(cfg);
    free(cfg);
}

static struct vg_txn parse(const char *line) {
    static struct vg_config defaults; /* only its currency table is used */
    static bool loaded;
    if (!loaded) {
        cr_assert_eq(vg_config_defaults(&defaults), VG_OK);
        loaded = true;
    }
    struct vg_txn t;
    struct vg_parse_error pe;
    memset(&t, 0, sizeof t);
    cr_assert_eq(vg_ndjson_parse(line, strlen(line), &defaults.currency, &t, &pe), VG_OK, "%s: %s", line, pe.detail);
    return t;
}

/* Transaction k: small payments among 500 accounts; every 1000th is a large one from a
 * sender of its own (so large_tx fires once each, no cooldown in the way). */
static struct vg_txn nth_txn(uint64_t k) {
    char line[256], from[32];
    bool large = k % 1000 == 999;
    if (large) snprintf(from, sizeof from, "L%llu", (unsigned long long)k);
    else snprintf(from, sizeof from, "a%llu", (unsigned long long)(k * 7 % 500));
    snprintf(line, sizeof line, "{\"id\":\"p%llu\",\"ts\":%lld,\"from\":\"%s\",\"to\":\"a%llu\",\"amount\":\"%s\",\"currency\":\"USD\"}",
             (unsigned long long)k, (long long)(T0 + (int64_t)k * 1000), from,
             (unsigned long long)(k * 13 % 499 + 1), large ? "25000" : "12.5");
    return parse(line);
}

Test(pipeline, drain_reports_progress_up_to_next_seq, .timeout = 300) {
    struct vg_config *cfg = load_config(NULL, 3);
    struct recorder rec = {0};
    struct vg_alert_sink sink = {.opaque = &rec, .on_alert = rec_alert, .on_progress = rec_progress};
    struct vg_engine *e;
    char err[256];
    cr_assert_eq(vg_engine_start(&e, cfg, &sink, err, sizeof err), VG_OK, "%s", err);
    cr_expect_eq(vg_engine_next_seq(e), 0);
    uint64_t k = 0;
    for (int round = 1; round <= 3; round++) {
        /* rounds of odd sizes: progress must land exactly on next_seq, not a batch boundary */
        for (uint64_t n = 0; n < 10007ULL * (uint64_t)round; n++, k++) {
            struct vg_txn t = nth_txn(k);
            t.seq = k;
            vg_engine_submit(e, &t, vg_now_mono_ns());
        }
        cr_expect_eq(vg_engine_next_seq(e), k);
        vg_engine_drain(e);
        cr_expect_eq(atomic_load(&rec.progress), k, "round %d: progress %llu, next_seq %llu", round,
                     (unsigned long long)atomic_load(&rec.progress), (unsigned long long)k);
        /* every alert of the drained records was handed over before drain returned: each
         * 1000th transfer is large and each has a different sender (a cooldown-free count) */
        cr_expect_eq(atomic_load(&rec.alerts), k / 1000, "round %d: %llu large_tx alerts (%llu others)", round,
                     (unsigned long long)atomic_load(&rec.alerts), (unsigned long long)atomic_load(&rec.other_alerts));
    }
    vg_engine_drain(e); /* draining twice is harmless */
    cr_expect_eq(atomic_load(&rec.progress), k);
    struct vg_engine_stats st;
    vg_engine_stats(e, &st);
    cr_expect_eq(st.transactions, k);
    cr_expect_eq(st.events, 2 * k, "both sides of every transaction reached a shard");
    cr_expect_eq(st.alerts[VG_RULE_LARGE_TX], k / 1000);
    cr_expect_eq(vg_engine_stop(e), VG_OK);
    cr_expect(!atomic_load(&rec.went_backwards), "progress went backwards");
    cr_expect(!atomic_load(&rec.alert_after_progress), "an alert arrived after its record was reported done");
    cr_expect_gt(atomic_load(&rec.progress_calls), 3);
    free_config(cfg);
}

Test(pipeline, tiny_rings_lose_nothing, .timeout = 600) {
    char *stream = synth_stream(20000, 2000, 5);
    struct vg_test_alerts normal, tiny;
    cr_assert_eq(vg_test_replay(NULL, stream, 2, &normal), 0);
    cr_assert_eq(vg_test_replay("engine:\n  ring_size: 2\n", stream, 2, &tiny), 0);
    cr_assert_gt(normal.count, 0);
    expect_same_alerts(&normal, &tiny, "ring_size 8192 vs 2");
    vg_test_alerts_free(&normal);
    vg_test_alerts_free(&tiny);
    free(stream);
}


/* Offers t to the engine until it accepts; returns how many times it was refused (full rings). */
static uint64_t submit_retrying(struct vg_engine *e, const struct vg_txn *t, uint64_t k, int threads) {
    uint64_t refused = 0;
    int rc;
    while ((rc = vg_engine_try_submit(e, t, 0)) == VG_ERR_FULL) {
        refused++;
        sched_yield();
        cr_assert_lt(refused, 50000000ULL, "try_submit never accepts record %llu (threads %d)",
                     (unsigned long long)k, threads);
    }
    cr_assert_eq(rc, VG_OK);
    return refused;
}

Test(pipeline, try_submit_with_tiny_rings_eventually_takes_everything, .timeout = 300) {
    /* Kafka mode's path: try_submit refuses when full and must accept once the workers
     * catch up, whatever the ring size (one shard: both sides of a transfer share a ring). */
    for (int threads = 1; threads <= 2; threads++) {
        struct vg_config *cfg = load_config("engine:\n  ring_size: 2\n", threads);
        struct recorder rec = {0};
        struct vg_alert_sink sink = {.opaque = &rec, .on_alert = rec_alert, .on_progress = rec_progress};
        struct vg_engine *e;
        char err[256];
        cr_assert_eq(vg_engine_start(&e, cfg, &sink, err, sizeof err), VG_OK, "%s", err);
        const uint64_t n = 20000;
        uint64_t refused = 0;
        for (uint64_t k = 0; k < n; k++) {
            struct vg_txn t = nth_txn(k);
            t.seq = k;
            refused += submit_retrying(e, &t, k, threads);
        }
        vg_engine_drain(e);
        struct vg_engine_stats st;
        vg_engine_stats(e, &st);
        cr_expect_eq(st.transactions, n);
        cr_expect_eq(st.events, 2 * n);
        cr_expect_eq(atomic_load(&rec.alerts), n / 1000);
        cr_expect_eq(atomic_load(&rec.progress), n);
        cr_expect_eq(vg_engine_stop(e), VG_OK);
        cr_log_info("try_submit, ring_size 2, %d shard(s): %llu refusals for %llu records", threads,
                    (unsigned long long)refused, (unsigned long long)n);
        free_config(cfg);
    }
}

/* Party details too long for a ring slot go through each shard's spill ring: try_submit
 * refuses while it is full and takes the record once the shard catches up, and every
 * party's name reaches the alert about its own account (long ones spilled, short ones in
 * the slot, interleaved). */
#define SPILL_ID "ID-0123456789012345678901234567890123456789012345678901234567890"
struct spill_check {
    _Atomic uint64_t alerts, wrong;
};

static int spill_alert(void *opaque, const struct vg_alert_record *a) {
    struct spill_check *c = opaque;
    atomic_fetch_add(&c->alerts, 1);
    unsigned k = (unsigned)strtoul(a->account + 1, NULL, 10); /* F000123zzz... or T000123zzz... */
    char want[64];
    snprintf(want, sizeof want, "\"name\":\"%s", k % 2 ? "Ivan Petrov" : "\xd0\x96\xd0\x96\xd0\x96");
    char *json = strndup(a->json, a->json_len);
    if (!strstr(json, want) || (k % 2 == 0 && a->json_len < 280)) atomic_fetch_add(&c->wrong, 1);
    free(json);
    return 0;
}

Test(pipeline, try_submit_spills_long_party_details_without_loss, .timeout = 300) {
    const char tsv[] = "reference\ttype\tname\taliases\tbirth_dates\tidentifiers\n"
                       "S-1\tperson\tPlaceholder Listed Person\t\t\t" SPILL_ID "\n";
    char *list = vg_test_write_temp(tsv, sizeof tsv - 1, ".tsv");
    cr_assert_not_null(list);
    char yaml[512], name[300] = "", from[80], to[80], line[1400];
    snprintf(yaml, sizeof yaml, "engine:\n  ring_size: 8192\nrules:\n  sanctions:\n    lists:\n"
             "      - {name: s, file: %s, format: tsv}\n", list);
    for (int i = 0; i < 140; i++) strcat(name, "\xd0\x96"); /* 280 bytes */
    for (int threads = 1; threads <= 2; threads++) {
        struct vg_config *cfg = load_config(yaml, threads);
        struct spill_check check = {0};
        struct vg_alert_sink sink = {.opaque = &check, .on_alert = spill_alert};
        struct vg_engine *e;
        char err[256];
        cr_assert_eq(vg_engine_start(&e, cfg, &sink, err, sizeof err), VG_OK, "%s", err);
        const unsigned n = 4000;
        uint64_t refused = 0;
        for (unsigned k = 0; k < n; k++) {
            snprintf(from, sizeof from, "F%06u%.57s", k, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
            snprintf(to, sizeof to, "T%06u%.57s", k, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
            snprintf(line, sizeof line, "{\"id\":\"s%u\",\"ts\":%lld,\"from\":\"%s\",\"to\":\"%s\",\"amount\":\"5\","
                     "\"currency\":\"USD\",\"from_name\":\"%s\",\"to_name\":\"%s\",\"from_party_id\":\"%s\","
                     "\"to_party_id\":\"%s\"}", k, (long long)(T0 + k), from, to, k % 2 ? "Ivan Petrov" : name,
                     k % 2 ? "Ivan Petrov" : name, SPILL_ID, SPILL_ID);
            struct vg_txn t = parse(line);
            t.seq = k;
            refused += submit_retrying(e, &t, k, threads);
        }
        vg_engine_drain(e);
        cr_expect_eq(vg_engine_stop(e), VG_OK);
        cr_expect_eq(atomic_load(&check.alerts), 2 * n, "threads %d", threads);
        cr_expect_eq(atomic_load(&check.wrong), 0, "threads %d: alerts with another party's name", threads);
        cr_log_info("try_submit with spilled party details, %d shard(s): %llu refusals", threads,
                    (unsigned long long)refused);
        free_config(cfg);
    }
    remove(list);
    free(list);
}

/* ---- reload -------------------------------------------------------------------------------- */

static char *collected[64];
static _Atomic int n_collected;

static int collect(void *opaque, const struct vg_alert_record *a) {
    int i = atomic_fetch_add(&n_collected, 1);
    if (i < 64) collected[i] = strndup(a->json, a->json_len);
    return 0;
}

static int count_collected(const char *rule, const char *account) {
    char rk[64], ak[64];
    snprintf(rk, sizeof rk, "\"rule\":\"%s\"", rule);
    snprintf(ak, sizeof ak, "\"account\":\"%s\"", account);
    int n = 0;
    for (int i = 0; i < VG_MIN(atomic_load(&n_collected), 64); i++)
        n += strstr(collected[i], rk) && strstr(collected[i], ak);
    return n;
}

static void submit_line(struct vg_engine *e, const char *line) {
    struct vg_txn t = parse(line);
    t.seq = vg_engine_next_seq(e);
    vg_engine_submit(e, &t, 0);
}

Test(pipeline, reload_applies_to_later_records_and_keeps_state, .timeout = 120) {
    struct vg_config *before = load_config(NULL, 2);
    struct vg_config *after = load_config("rules:\n  large_tx:\n    threshold: 4000\n", 2);
    struct vg_alert_sink sink = {.on_alert = collect};
    struct vg_engine *e;
    char err[256], line[256];
    cr_assert_eq(vg_engine_start(&e, before, &sink, err, sizeof err), VG_OK, "%s", err);
    /* 7 distinct senders into HUB (fan_in needs 8, total >= 5000), and a 5000 transfer that
     * is below the old large_tx threshold */
    for (int i = 0; i < 7; i++) {
        snprintf(line, sizeof line, "{\"id\":\"f%d\",\"ts\":%lld,\"from\":\"S%d\",\"to\":\"HUB\",\"amount\":1000,\"currency\":\"USD\"}",
                 i, (long long)(T0 + i * 60000), i);
        submit_line(e, line);
    }
    snprintf(line, sizeof line, "{\"id\":\"x1\",\"ts\":%lld,\"from\":\"BEFORE\",\"to\":\"Z\",\"amount\":5000,\"currency\":\"USD\"}",
             (long long)(T0 + 8 * 60000));
    submit_line(e, line);
    vg_engine_reload(e, after);
    free_config(before); /* the engine no longer uses it */
    snprintf(line, sizeof line, "{\"id\":\"x2\",\"ts\":%lld,\"from\":\"AFTER\",\"to\":\"Z\",\"amount\":5000,\"currency\":\"USD\"}",
             (long long)(T0 + 9 * 60000));
    submit_line(e, line);
    snprintf(line, sizeof line, "{\"id\":\"f7\",\"ts\":%lld,\"from\":\"S7\",\"to\":\"HUB\",\"amount\":1000,\"currency\":\"USD\"}",
             (long long)(T0 + 10 * 60000));
    submit_line(e, line);
    vg_engine_drain(e);
    cr_expect_eq(count_collected("large_tx", "BEFORE"), 0, "the new threshold must not reach back");
    cr_expect_eq(count_collected("large_tx", "AFTER"), 1, "the new threshold applies after reload");
    cr_expect_eq(count_collected("fan_in", "HUB"), 1, "window state from before the reload is kept");
    cr_expect_eq(vg_engine_stop(e), VG_OK);
    free_config(after);
    for (int i = 0; i < VG_MIN(atomic_load(&n_collected), 64); i++) free(collected[i]);
}
