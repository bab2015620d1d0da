/* test_synth.c - the synthetic stream generator: deterministic bytes per seed, event-time
 * order, expectations covering every rule (sanctions in named streams, which fire only on
 * their patterns), and every record readable by the engine's own
 * NDJSON and AMLworld CSV parsers with the same meaning as the generator intended. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/ingest.h"
#include "vigil/synth.h"
#include "test_support.h"

static struct vg_synth_options small_options(uint64_t seed) {
    struct vg_synth_options opt;
    vg_synth_options_default(&opt);
    opt.seed = seed;
    opt.transactions = 20000;
    opt.accounts = 1000;
    return opt;
}

static vg_synth_t *make(const struct vg_synth_options *opt) {
    char err[256] = "";
    vg_synth_t *s = vg_synth_create(opt, err, sizeof err);
    cr_assert_not_null(s, "vg_synth_create: %s", err);
    return s;
}

/* Renders the whole stream as NDJSON into a malloc'd buffer. */
static char *render_all(const struct vg_synth_options *opt, size_t *len_out) {
    vg_synth_t *s = make(opt);
    size_t cap = (size_t)vg_synth_total(s) * VG_SYNTH_LINE_MAX, len = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    struct vg_synth_txn t;
    while (vg_synth_next(s, &t)) {
        size_t n = vg_synth_format_ndjson(&t, buf + len, cap - len);
        cr_assert_gt(n, 0);
        len += n;
    }
    vg_synth_destroy(s);
    *len_out = len;
    return buf;
}

Test(synth, same_seed_same_bytes_other_seed_differs) {
    struct vg_synth_options a = small_options(42), b = small_options(43);
    size_t la, la2, lb;
    char *x = render_all(&a, &la), *y = render_all(&a, &la2), *z = render_all(&b, &lb);
    cr_assert_eq(la, la2);
    cr_assert(memcmp(x, y, la) == 0, "same seed produced different bytes");
    cr_assert(la != lb || memcmp(x, z, la) != 0, "different seeds produced the same stream");
    free(x);
    free(y);
    free(z);
}

Test(synth, emits_exactly_the_requested_count_in_event_time_order) {
    struct vg_synth_options opt = small_options(7);
    vg_synth_t *s = make(&opt);
    cr_assert_eq(vg_synth_total(s), opt.transactions);
    struct vg_synth_txn t;
    uint64_t n = 0;
    int64_t prev = INT64_MIN;
    while (vg_synth_next(s, &t)) {
        cr_assert_eq(t.seq, n);
        cr_assert_geq(t.ts_ms, prev, "record %llu goes back in time", (unsigned long long)n);
        cr_assert_gt(t.amount_micros, 0);
        cr_assert_neq(strcmp(t.from, t.to), 0, "self transfer at %llu", (unsigned long long)n);
        prev = t.ts_ms;
        n++;
    }
    cr_assert_eq(n, opt.transactions);
    vg_synth_destroy(s);
}

Test(synth, late_records_stay_within_the_configured_lateness) {
    struct vg_synth_options opt = small_options(9);
    opt.late_ppm = 50000;
    vg_synth_t *s = make(&opt);
    struct vg_synth_txn t;
    int64_t newest = INT64_MIN;
    uint64_t late = 0;
    while (vg_synth_next(s, &t)) {
        if (t.ts_ms < newest) {
            late++;
            cr_assert_leq(newest - t.ts_ms, opt.late_max_ms + opt.mean_interarrival_ms * 50);
            cr_assert(!t.laundering, "an injected record was made late");
        }
        newest = VG_MAX(newest, t.ts_ms);
    }
    cr_assert_gt(late, 100);
    vg_synth_destroy(s);
}

Test(synth, expectations_cover_every_rule_with_patterns_and_decoys) {
    struct vg_synth_options opt = small_options(5);
    opt.names = true; /* the sanctions patterns need named parties */
    vg_synth_t *s = make(&opt);
    const struct vg_synth_expect *e;
    size_t n = vg_synth_expected(s, &e);
    int patterns[VG_RULE_MAX] = {0}, decoys[VG_RULE_MAX] = {0};
    for (size_t i = 0; i < n; i++) {
        cr_assert_lt((unsigned)e[i].rule, VG_RULE_MAX);
        cr_assert_gt(strlen(e[i].account), 3);
        (e[i].kind == VG_SYNTH_PATTERN ? patterns : decoys)[e[i].rule]++;
        /* No account is both a pattern and a decoy of the same rule. */
        for (size_t j = 0; j < i; j++)
            if (e[j].rule == e[i].rule && !strcmp(e[j].account, e[i].account))
                cr_assert_eq(e[j].kind, e[i].kind, "%s %s is both", vg_synth_rule_name(e[i].rule), e[i].account);
    }
    for (int r = 0; r < VG_RULE_MAX; r++) {
        cr_assert_geq(patterns[r], (int)opt.patterns, "rule %s has %d patterns", vg_synth_rule_name(r), patterns[r]);
        cr_assert_geq(decoys[r], 1, "rule %s has no decoy", vg_synth_rule_name(r));
    }
    vg_synth_destroy(s);

    opt.decoys = false;
    s = make(&opt);
    n = vg_synth_expected(s, &e);
    for (size_t i = 0; i < n; i++) cr_assert_eq(e[i].kind, VG_SYNTH_PATTERN);
    vg_synth_destroy(s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

Test(synth, expected_accounts_never_appear_in_background) {
    /* The background of a stream does not depend on the patterns (separate RNGs), so the
     * same seed without patterns yields a superset of the background records. */
    struct vg_synth_options opt = small_options(11);
    vg_synth_t *with = make(&opt);
    opt.patterns = 0;
    vg_synth_t *bg = make(&opt);
    size_t cap = 2 * (size_t)opt.transactions, n_ids = 0;
    char **ids = malloc(cap * sizeof *ids);
    struct vg_synth_txn t;
    while (vg_synth_next(bg, &t)) {
        ids[n_ids++] = strdup(t.from);
        ids[n_ids++] = strdup(t.to);
    }
    qsort(ids, n_ids, sizeof *ids, cmp_str);
    const struct vg_synth_expect *e;
    size_t n = vg_synth_expected(with, &e);
    for (size_t i = 0; i < n; i++) {
        const char *key = e[i].account;
        cr_assert_null(bsearch(&key, ids, n_ids, sizeof *ids, cmp_str), "%s %s also in background",
                       vg_synth_rule_name(e[i].rule), e[i].account);
    }
    for (size_t i = 0; i < n_ids; i++) free(ids[i]);
    free(ids);
    vg_synth_destroy(with);
    vg_synth_destroy(bg);
}

Test(synth, every_record_parses_as_ndjson_and_csv_with_the_same_meaning) {
    struct vg_synth_options opt = small_options(13);
    opt.transactions = 10000;
    vg_synth_t *s = make(&opt);
    struct vg_currency_table rates;
    vg_currency_defaults(&rates);
    char line[VG_SYNTH_LINE_MAX];
    size_t hn = vg_synth_csv_header(line, sizeof line);
    cr_assert(vg_amlworld_is_header(line, hn - 1));
    struct vg_synth_txn t;
    while (vg_synth_next(s, &t)) {
        struct vg_txn want, got;
        struct vg_parse_error err;
        cr_assert_eq(vg_synth_to_txn(&t, &rates, &want), VG_OK);

        size_t n = vg_synth_format_ndjson(&t, line, sizeof line);
        cr_assert_eq(vg_ndjson_parse(line, n - 1, &rates, &got, &err), VG_OK, "%.*s: %s", (int)n, line, err.detail);
        cr_assert_eq(got.ts_ms, want.ts_ms);
        cr_assert_eq(got.amount_micros, want.amount_micros, "%.*s", (int)n, line);
        cr_assert(vg_str_eq(got.id, got.id_len, want.id, want.id_len));
        cr_assert(vg_str_eq(got.from, got.from_len, t.from, t.from_len));
        cr_assert(vg_str_eq(got.to, got.to_len, t.to, t.to_len));
        cr_assert(vg_str_eq(got.channel, got.channel_len, want.channel, want.channel_len));
        cr_assert(memcmp(got.to_country, t.to_country, 2) == 0);

        n = vg_synth_format_csv(&t, line, sizeof line);
        cr_assert_eq(vg_amlworld_parse(line, n - 1, t.seq + 1, &rates, &got, &err), VG_OK, "%.*s: %s", (int)n, line,
                     err.detail);
        cr_assert_eq(got.ts_ms, t.ts_ms - ((t.ts_ms % 60000) + 60000) % 60000, "%.*s", (int)n, line);
        cr_assert_eq(got.amount_micros, want.amount_micros, "%.*s", (int)n, line);
        cr_assert(vg_str_eq(got.id, got.id_len, want.id, want.id_len));
        cr_assert(vg_str_eq(got.from, got.from_len, t.from, t.from_len), "%.*s", (int)n, line);
        cr_assert(vg_str_eq(got.to, got.to_len, t.to, t.to_len));
        cr_assert(vg_str_eq(got.channel, got.channel_len, want.channel, want.channel_len), "%.*s", (int)n, line);
    }
    vg_synth_destroy(s);
}

Test(synth, background_stays_below_every_amount_threshold) {
    struct vg_synth_options opt = small_options(17);
    opt.patterns = 0;
    vg_synth_t *s = make(&opt);
    cr_assert_eq(vg_synth_injected(s), 0);
    struct vg_currency_table rates;
    vg_currency_defaults(&rates);
    struct vg_synth_txn t;
    struct vg_txn x;
    while (vg_synth_next(s, &t)) {
        cr_assert_eq(vg_synth_to_txn(&t, &rates, &x), VG_OK);
        cr_assert_lt(x.amount_micros, 1000 * VG_MICROS_PER_UNIT, "background amount %lld", (long long)x.amount_micros);
        cr_assert(strcmp(t.to_country, "IR") && strcmp(t.to_country, "KP") && strcmp(t.to_country, "MM"));
        cr_assert(strncmp(t.from, "7777:", 5) != 0);
    }
    vg_synth_destroy(s);
}

Test(synth, watchlist_and_expected_files) {
    struct vg_synth_options opt = small_options(19);
    vg_synth_t *s = make(&opt);
    char *wl_path = vg_test_write_temp("", 0, ".txt"), *ex_path = vg_test_write_temp("", 0, ".tsv");
    FILE *f = fopen(wl_path, "w");
    cr_assert_eq(vg_synth_write_watchlist(s, f), VG_OK);
    fclose(f);
    f = fopen(ex_path, "w");
    cr_assert_eq(vg_synth_write_expected(s, f, false), VG_OK);
    fclose(f);
    char *wl = vg_test_read_file(wl_path, NULL), *ex = vg_test_read_file(ex_path, NULL);
    const struct vg_synth_expect *e;
    size_t n = vg_synth_expected(s, &e);
    for (size_t i = 0; i < n; i++) {
        char line[128];
        snprintf(line, sizeof line, "%s\t%s\t%s\n", vg_synth_kind_name(e[i].kind), vg_synth_rule_name(e[i].rule),
                 e[i].account);
        cr_assert_eq(strstr(ex, line) != NULL, !e[i].needs_countries, "%s", line);
        if (e[i].rule == VG_RULE_WATCHLIST) {
            char id[32];
            snprintf(id, sizeof id, "\n%s\n", e[i].account);
            cr_assert_eq(strstr(wl, id) != NULL, e[i].kind == VG_SYNTH_PATTERN, "%s", e[i].account);
        }
    }
    free(wl);
    free(ex);
    unlink(wl_path);
    unlink(ex_path);
    free(wl_path);
    free(ex_path);
    vg_synth_destroy(s);
}

Test(synth, endless_stream_keeps_going_with_patterns_interleaved) {
    struct vg_synth_options opt = small_options(23);
    opt.transactions = 0; /* the demo mode's endless feed */
    vg_synth_t *s = make(&opt);
    cr_assert_eq(vg_synth_total(s), 0);
    struct vg_synth_txn t;
    uint64_t laundering = 0;
    for (int i = 0; i < 300000; i++) {
        cr_assert(vg_synth_next(s, &t));
        laundering += t.laundering;
    }
    cr_assert_gt(laundering, 0);
    vg_synth_destroy(s);
}

Test(synth, bad_options_are_refused) {
    struct vg_synth_options opt = small_options(1);
    char err[256];
    opt.accounts = 3;
    cr_assert_null(vg_synth_create(&opt, err, sizeof err));
    cr_assert(strstr(err, "accounts"));
    opt = small_options(1);
    opt.mean_interarrival_ms = -1;
    cr_assert_null(vg_synth_create(&opt, err, sizeof err));
    opt = small_options(1);
    opt.late_ppm = 2000000;
    cr_assert_null(vg_synth_create(&opt, err, sizeof err));
}

/* The backtest's ground truth: the patterns file lists every laundering record of the CSV
 * once, in an attempt of the record's typology, and nothing else; the NDJSON label agrees. */
Test(synth, patterns_file_lists_exactly_the_laundering_records) {
    struct vg_synth_options opt = small_options(3);
    opt.uncatchable = true;
    vg_synth_t *s = make(&opt);
    char *path = vg_test_write_temp("", 0, "_Patterns.txt");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(vg_synth_write_patterns(s, f), VG_OK);
    fclose(f);
    size_t len = 0;
    char *text = vg_test_read_file(path, &len);
    cr_assert_not_null(text);

    /* Every laundering CSV line, with its typology, in stream order. */
    size_t cap = 1 << 20, used = 0, n_laundering = 0, n_attempts_max = 0;
    char *lines = malloc(cap);
    struct vg_synth_txn t;
    while (vg_synth_next(s, &t)) {
        char line[VG_SYNTH_LINE_MAX], labelled[VG_SYNTH_LINE_MAX];
        size_t n = vg_synth_format_ndjson_labelled(&t, labelled, sizeof labelled - 1);
        cr_assert(n > 0 && labelled[n - 1] == '\n');
        labelled[n] = '\0';
        cr_assert(strstr(labelled, t.laundering ? ",\"label\":true}\n" : ",\"label\":false}\n") != NULL, "%s", labelled);
        if (!t.laundering) {
            cr_assert_eq(t.attempt, 0);
            continue;
        }
        cr_assert_gt(t.attempt, 0);
        cr_assert_not_null(t.typology);
        if (t.attempt > n_attempts_max) n_attempts_max = t.attempt;
        n = vg_synth_format_csv(&t, line, sizeof line);
        cr_assert_lt(used + n + 64, cap);
        /* "TYPOLOGY|line" so the check below sees both. */
        used += (size_t)sprintf(lines + used, "%s|%.*s", t.typology, (int)n, line);
        n_laundering++;
    }
    cr_assert_gt(n_laundering, 0);
    /* Walk the patterns file: each transaction line must be one of the stream's laundering
     * lines under the typology of its BEGIN, and no line may be listed twice. */
    size_t listed = 0, attempts = 0;
    char typology[64] = "";
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "BEGIN LAUNDERING ATTEMPT - ", 27) == 0) {
            snprintf(typology, sizeof typology, "%s", line + 27);
            attempts++;
        } else if (strncmp(line, "END LAUNDERING ATTEMPT - ", 25) == 0) {
            cr_assert_str_eq(line + 25, typology);
        } else {
            char want[VG_SYNTH_LINE_MAX + 64];
            snprintf(want, sizeof want, "%s|%s\n", typology, line);
            char *at = strstr(lines, want);
            cr_assert_not_null(at, "not a laundering record of typology %s: %s", typology, line);
            at[0] = '#'; /* consumed */
            listed++;
        }
    }
    cr_assert_eq(listed, n_laundering, "every laundering record is listed exactly once");
    cr_assert_eq(attempts, n_attempts_max > 0 ? attempts : 1);
    cr_assert(strstr(lines, "STACK|") || strstr(lines, "#TACK|"), "the uncatchable typologies are planted");
    free(lines);
    free(text);
    unlink(path);
    free(path);
    vg_synth_destroy(s);
}

/* With names, every party carries one (the same for an account throughout), and through the
 * engine with the demo list the sanctions patterns alert about their parties, the decoys
 * and the background (named from pools) never. */
Test(synth, named_stream_fires_sanctions_on_patterns_only, .timeout = 120) {
    struct vg_synth_options opt = small_options(23);
    opt.names = true;
    opt.patterns = 6; /* every listed and decoy name once */
    size_t len;
    char *stream = render_all(&opt, &len);
    size_t lines = 0, named = 0;
    for (const char *p = stream, *nl; p < stream + len; p = nl + 1, lines++) {
        nl = memchr(p, '\n', (size_t)(stream + len - p));
        cr_assert_not_null(nl);
        named += memmem(p, (size_t)(nl - p), "\"from_name\":\"", 13) && memmem(p, (size_t)(nl - p), "\"to_name\":\"", 11);
    }
    cr_expect_eq(named, lines, "%zu of %zu records carry both names", named, lines);
    char *list = vg_test_write_temp(vg_synth_sanctions_list(), strlen(vg_synth_sanctions_list()), ".tsv");
    char yaml[512];
    snprintf(yaml, sizeof yaml, "rules:\n  sanctions:\n    lists:\n      - {name: demo, file: %s, format: tsv}\n", list);
    struct vg_test_alerts a;
    cr_assert_eq(vg_test_replay(yaml, stream, 2, &a), 0);
    vg_synth_t *s = make(&opt);
    const struct vg_synth_expect *e;
    size_t n = vg_synth_expected(s, &e), patterns = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].rule != VG_RULE_SANCTIONS) continue;
        size_t got = vg_test_count(&a, "sanctions", e[i].account);
        if (e[i].kind == VG_SYNTH_PATTERN) cr_expect_geq(got, 1, "pattern %s: no sanctions alert", e[i].account);
        else cr_expect_eq(got, 0, "decoy %s: sanctions alert", e[i].account);
        patterns += e[i].kind == VG_SYNTH_PATTERN;
    }
    cr_expect_eq(patterns, 6);
    cr_expect_eq(vg_test_count(&a, "sanctions", NULL), patterns, "only the patterns' parties alert");
    vg_synth_destroy(s);
    vg_test_alerts_free(&a);
    unlink(list);
    free(list);
    free(stream);
}
