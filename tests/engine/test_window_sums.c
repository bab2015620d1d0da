/* test_window_sums.c - an account's running window sums (engine/window_sums.h) against a
 * brute-force count over the window view the store gives the same event: random streams
 * with late records, expiry, truncation to max_events, ring release, a second (short)
 * window of counts, a band of amounts, and counterparty ids whose hashes collide
 * (compared exactly). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_store.h"
#include "vigil/hash.h"
#include "window_sums.h"

#define T0 1704067200000LL
#define MIN 60000LL
#define HOUR 3600000LL

static struct vg_event_view view[4096];

struct brute {
    int64_t n[2], n_band[2];
    __int128 sum[2], sum_band[2];
    int64_t distinct[2];
};

/* What the shard's rules read for the account's newest event: its view, or (when the event
 * is older than the horizon, so cut from the view) a view of the event alone. */
static struct brute brute_window(struct vg_store *s, uint32_t account, int64_t from_ms, size_t max, uint64_t seq,
                                 enum vg_dir dir, int64_t amount) {
    struct brute b = {0};
    bool truncated;
    size_t n = vg_store_view(s, account, from_ms, max, view, &truncated);
    if (n == 0 || view[n - 1].seq != seq) {
        b.n[dir] = 1;
        b.sum[dir] = amount;
        if (amount >= 350 && amount < 500) b.n_band[dir] = 1, b.sum_band[dir] = amount;
        b.distinct[dir] = 1;
        return b;
    }
    for (size_t i = 0; i < n; i++) {
        int d = view[i].dir;
        b.n[d]++;
        b.sum[d] += view[i].amount_micros;
        if (view[i].amount_micros >= 350 && view[i].amount_micros < 500) {
            b.n_band[d]++;
            b.sum_band[d] += view[i].amount_micros;
        }
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = view[j].dir == d && vg_str_eq(view[j].counterparty, view[j].counterparty_len, view[i].counterparty,
                                                 view[i].counterparty_len);
        if (!seen) b.distinct[d]++;
    }
    return b;
}

static int64_t brute_big(struct vg_store *s, uint32_t account, int64_t big_min, size_t max) {
    bool truncated;
    size_t n = vg_store_view(s, account, INT64_MIN, max, view, &truncated);
    for (size_t i = n; i-- > 0;)
        if (view[i].dir == VG_DIR_IN && view[i].amount_micros >= big_min) return view[i].ts_ms;
    return VG_TS_NONE;
}

/* One random stream; `collide`: every counterparty hash is one of two values. */
static void run_stream(unsigned seed, bool collide, uint32_t max_events, int64_t late_pct) {
    srand(seed);
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    static const char *accounts[] = {"A", "B", "C"};
    static const char *cps[] = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "q10", "q11"};
    int64_t last[3] = {T0, T0, T0}, newest = T0;
    const int64_t window = 30 * MIN, horizon_span = 45 * MIN;
    struct vg_wsums_spec spec = {.window_ms = window, .big_min_micros = 900, .short_window_ms = 7 * MIN,
                                 .band_threshold_micros = 500, .band_margin_ppm = 300000, /* [350, 500) */
                                 .max_events = max_events};
    uint64_t seq = 0;
    int checked = 0;
    for (int step = 0; step < 6000; step++) {
        int k = rand() % 3;
        int64_t ts = last[k] + (rand() % 4) * MIN / 2;
        if (rand() % 100 < late_pct) ts -= (rand() % 20) * MIN; /* late */
        if (rand() % 500 == 0) ts += 2 * HOUR;                /* a gap: the window empties */
        if (ts > newest) newest = ts;
        vg_store_expire(s, newest - horizon_span);
        uint32_t a = vg_store_upsert(s, accounts[k], 1, vg_hash64_id(accounts[k], 1));
        struct vg_account *acc = vg_store_account(s, a);
        bool late = acc->last_seen_ms != VG_TS_NONE && acc->last_seen_ms > ts;
        const char *cp = cps[rand() % 12];
        struct vg_txn t;
        memset(&t, 0, sizeof t);
        t.seq = ++seq;
        t.ts_ms = ts;
        t.amount_micros = 1 + rand() % 1000;
        t.id_len = (uint8_t)snprintf(t.id, sizeof t.id, "t%llu", (unsigned long long)seq);
        enum vg_dir dir = rand() % 2 ? VG_DIR_IN : VG_DIR_OUT;
        size_t cp_len = strlen(cp);
        if (dir == VG_DIR_OUT) {
            memcpy(t.from, accounts[k], 1), t.from_len = 1;
            memcpy(t.to, cp, cp_len), t.to_len = (uint8_t)cp_len;
        } else {
            memcpy(t.to, accounts[k], 1), t.to_len = 1;
            memcpy(t.from, cp, cp_len), t.from_len = (uint8_t)cp_len;
        }
        uint64_t cp_hash = collide ? (vg_hash64_id(cp, cp_len) & 1) : vg_hash64_id(cp, cp_len);
        vg_wsums_before_append(s, acc, ts, late);
        bool ok = vg_store_append(s, a, &t, dir, cp_hash, newest) == VG_OK;
        cr_assert(ok);
        vg_wsums_after_append(s, acc, late, ok);
        if (ts > last[k]) last[k] = ts;
        if (late || rand() % 4 == 0) continue; /* the sums are asked on some in-order events */
        const struct vg_window_sums *w = vg_wsums_get(s, acc, &spec);
        cr_assert_not_null(w);
        struct brute b = brute_window(s, a, ts - window, max_events, seq, dir, t.amount_micros);
        for (int d = 0; d < 2; d++) {
            cr_assert_eq(w->n[d], b.n[d], "seed %u step %d dir %d: n %lld vs %lld", seed, step, d, (long long)w->n[d],
                         (long long)b.n[d]);
            cr_assert(w->sum[d] == b.sum[d], "seed %u step %d dir %d: sum", seed, step, d);
            cr_assert_eq(w->n_band[d], b.n_band[d], "seed %u step %d dir %d: n_band", seed, step, d);
            cr_assert(w->sum_band[d] == b.sum_band[d], "seed %u step %d dir %d: sum_band", seed, step, d);
            cr_assert_eq(w->distinct[d], b.distinct[d], "seed %u step %d dir %d: distinct %lld vs %lld", seed, step, d,
                         (long long)w->distinct[d], (long long)b.distinct[d]);
        }
        struct brute b2 = brute_window(s, a, ts - spec.short_window_ms, max_events, seq, dir, t.amount_micros);
        cr_assert_eq(w->n_short, b2.n[0] + b2.n[1], "seed %u step %d: n_short %lld vs %lld", seed, step,
                     (long long)w->n_short, (long long)(b2.n[0] + b2.n[1]));
        cr_assert_eq(w->big_in_ts, brute_big(s, a, spec.big_min_micros, max_events), "seed %u step %d: big", seed,
                     step);
        checked++;
    }
    cr_assert_gt(checked, 500);
    vg_store_destroy(s);
}

Test(window_sums, in_order_streams_match_the_view) {
    for (unsigned seed = 1; seed <= 4; seed++) run_stream(seed, false, 4096, 0);
}

Test(window_sums, late_records_rebuild_them) {
    for (unsigned seed = 11; seed <= 14; seed++) run_stream(seed, false, 4096, 10);
}

Test(window_sums, truncated_to_max_events) {
    for (unsigned seed = 21; seed <= 24; seed++) run_stream(seed, false, 7, 3);
}

Test(window_sums, colliding_hashes_compare_ids_exactly) {
    for (unsigned seed = 31; seed <= 34; seed++) run_stream(seed, true, 4096, 3);
    for (unsigned seed = 41; seed <= 42; seed++) run_stream(seed, true, 5, 0);
}
