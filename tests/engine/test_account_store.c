/* test_account_store.c - a shard's account table and event log (engine/account_store.h):
 * exact ids (equal prefixes, lengths or hashes never share state), growth of the index and
 * of the log with every chain intact, FIFO expiry across log wraparound, (ts, seq)-sorted
 * views of out-of-order events, the activity histogram, and memory per idle account. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_store.h"
#include "vigil/hash.h"

#define T0 1704067200000LL /* 2024-01-01T00:00:00Z, a whole hour */
#define HOUR 3600000LL

static struct vg_txn make_txn(uint64_t seq, int64_t ts_ms, const char *from, const char *to, const char *id,
                              int64_t amount_micros) {
    struct vg_txn t;
    memset(&t, 0, sizeof t);
    t.seq = seq;
    t.ts_ms = ts_ms;
    t.amount_micros = amount_micros;
    t.from_len = (uint8_t)strlen(from);
    t.to_len = (uint8_t)strlen(to);
    t.id_len = (uint8_t)strlen(id);
    memcpy(t.from, from, t.from_len);
    memcpy(t.to, to, t.to_len);
    memcpy(t.id, id, t.id_len);
    return t;
}

static uint32_t upsert(struct vg_store *s, const char *id) {
    uint32_t i = vg_store_upsert(s, id, strlen(id), vg_hash64_id(id, strlen(id)));
    cr_assert_neq(i, UINT32_MAX);
    return i;
}

/* Appends the OUT side of from -> to for account `from`. */
static void append_out(struct vg_store *s, uint32_t account, const struct vg_txn *t, int64_t newest_ms) {
    cr_assert_eq(vg_store_append(s, account, t, VG_DIR_OUT, vg_hash64_id(t->to, t->to_len), newest_ms), VG_OK);
}

static struct vg_event_view views[8192];

Test(account_store, exact_ids_equal_prefix_and_length_are_distinct) {
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    char a[VG_ID_MAX + 1], b[VG_ID_MAX + 1];
    memset(a, 'x', VG_ID_MAX);
    memset(b, 'x', VG_ID_MAX);
    a[VG_ID_MAX] = b[VG_ID_MAX] = '\0';
    b[VG_ID_MAX - 1] = 'y'; /* 64 bytes, differing only in the last byte */
    /* around the split of the record's id (first VG_ACCOUNT_ID_HEAD bytes, then the tail) */
    const char *ids[] = {a, b, "abc", "abcd", "ab", "ABC", "0123456789012345678901", "0123456789012345678901x",
                         "0123456789012345678901y", "012345678901234567890y", "012345678901234567890"};
    enum { N_IDS = sizeof ids / sizeof ids[0] };
    uint32_t idx[N_IDS];
    for (int i = 0; i < N_IDS; i++) idx[i] = upsert(s, ids[i]);
    for (int i = 0; i < N_IDS; i++)
        for (int j = i + 1; j < N_IDS; j++) cr_expect_neq(idx[i], idx[j], "'%s' and '%s' conflated", ids[i], ids[j]);
    for (int i = 0; i < N_IDS; i++) {
        cr_expect_eq(upsert(s, ids[i]), idx[i], "upsert finds the existing account");
        struct vg_account *acc = vg_store_find(s, ids[i], strlen(ids[i]), vg_hash64_id(ids[i], strlen(ids[i])));
        cr_assert_not_null(acc);
        cr_expect_eq(acc->id_len, strlen(ids[i]));
        char id[VG_ID_MAX];
        cr_expect_eq(vg_account_id(acc, id), strlen(ids[i]));
        cr_expect_eq(memcmp(id, ids[i], acc->id_len), 0);
        cr_expect(vg_account_id_eq(acc, ids[i], strlen(ids[i])));
        /* i + 1 events on account i: counts never bleed between ids */
        for (int k = 0; k <= i; k++) {
            struct vg_txn t = make_txn((uint64_t)(i * 10 + k), T0 + k, ids[i], "cp", "tx", 1);
            append_out(s, idx[i], &t, T0 + 10);
        }
    }
    for (int i = 0; i < N_IDS; i++) {
        cr_expect_eq(vg_store_account(s, idx[i])->n_events, (uint32_t)i + 1);
        bool truncated;
        cr_expect_eq(vg_store_view(s, idx[i], T0, 64, views, &truncated), (size_t)i + 1);
    }
    cr_expect_null(vg_store_find(s, "abcde", 5, vg_hash64_id("abcde", 5)));
    cr_expect_null(vg_store_find(s, a, VG_ID_MAX - 1, vg_hash64_id(a, VG_ID_MAX - 1)), "a prefix is another id");
    struct vg_store_stats st;
    vg_store_get_stats(s, &st);
    cr_expect_eq(st.accounts, N_IDS);
    cr_expect_eq(st.events, N_IDS * (N_IDS + 1) / 2);
    vg_store_destroy(s);
}

Test(account_store, equal_hashes_never_share_state) {
    /* The table must compare ids, not trust the hash: force every id onto one hash. */
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    char id[32];
    uint32_t idx[100];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "collide-%d", i);
        idx[i] = vg_store_upsert(s, id, strlen(id), 0xdeadbeefcafef00dULL);
        cr_assert_neq(idx[i], UINT32_MAX);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "collide-%d", i);
        cr_expect_eq(vg_store_upsert(s, id, strlen(id), 0xdeadbeefcafef00dULL), idx[i]);
        struct vg_account *a = vg_store_find(s, id, strlen(id), 0xdeadbeefcafef00dULL);
        cr_assert_not_null(a);
        cr_expect_eq(a, vg_store_account(s, idx[i]));
        for (int j = 0; j < i; j++) cr_expect_neq(idx[i], idx[j]);
    }
    vg_store_destroy(s);
}

Test(account_store, growth_keeps_every_chain_intact, .timeout = 120) {
    /* 100k accounts (the index doubles many times) with 3 events each appended round-robin,
     * so each chain's links span several doublings of the log. */
    enum { N = 100000, ROUNDS = 3 };
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    struct vg_store_stats before;
    vg_store_get_stats(s, &before);
    char id[32], cp[32], tx[32];
    uint64_t seq = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N; i++) {
            snprintf(id, sizeof id, "acct-%d", i);
            snprintf(cp, sizeof cp, "cp-%d-%d", i, r);
            snprintf(tx, sizeof tx, "tx-%d-%d", i, r);
            uint32_t a = upsert(s, id);
            cr_assert_eq(a, (uint32_t)i, "indices are stable and dense");
            /* ts decreasing by round for odd accounts: the view must re-sort them */
            int64_t ts = T0 + (i % 2 ? (ROUNDS - r) * 1000 : r * 1000);
            struct vg_txn t = make_txn(seq++, ts, id, cp, tx, (int64_t)i * 1000 + r);
            append_out(s, a, &t, T0 + 10000);
        }
    }
    struct vg_store_stats after;
    vg_store_get_stats(s, &after);
    cr_expect_eq(after.accounts, N);
    cr_expect_eq(after.events, (uint64_t)N * ROUNDS);
    cr_expect_gt(after.bytes, before.bytes * 8, "index and log grew (%llu -> %llu bytes)",
                 (unsigned long long)before.bytes, (unsigned long long)after.bytes);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "acct-%d", i);
        struct vg_account *acc = vg_store_find(s, id, strlen(id), vg_hash64_id(id, strlen(id)));
        cr_assert_not_null(acc, "%s lost after growth", id);
        cr_assert_eq(acc, vg_store_account(s, (uint32_t)i));
        cr_assert_eq(acc->n_events, ROUNDS);
        bool truncated;
        size_t n = vg_store_view(s, (uint32_t)i, T0, 64, views, &truncated);
        cr_assert_eq(n, ROUNDS, "%s: %zu events in view", id, n);
        cr_assert(!truncated);
        for (size_t k = 0; k < n; k++) {
            int r = i % 2 ? (int)(ROUNDS - 1 - k) : (int)k; /* sorted by ts */
            snprintf(cp, sizeof cp, "cp-%d-%d", i, r);
            snprintf(tx, sizeof tx, "tx-%d-%d", i, r);
            cr_assert(k == 0 || views[k - 1].ts_ms < views[k].ts_ms);
            cr_assert(vg_str_eq(views[k].counterparty, views[k].counterparty_len, cp, strlen(cp)), "%s event %zu", id, k);
            cr_assert(vg_str_eq(views[k].tx_id, views[k].tx_id_len, tx, strlen(tx)));
            cr_assert_eq(views[k].amount_micros, (int64_t)i * 1000 + r);
            cr_assert_eq(views[k].counterparty_hash, (uint32_t)vg_hash64_id(cp, strlen(cp)));
            cr_assert_eq(views[k].dir, VG_DIR_OUT);
            cr_assert_eq(views[k].seq, (uint64_t)r * N + (uint64_t)i);
        }
    }
    vg_store_destroy(s);
}

Test(account_store, expiry_is_fifo_by_arrival) {
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    uint32_t a = upsert(s, "A"), b = upsert(s, "B");
    /* arrivals at stream times 1..10 s; A gets the odd ones, B the even ones */
    for (int k = 1; k <= 10; k++) {
        struct vg_txn t = make_txn((uint64_t)k, T0 + k * 1000, k % 2 ? "A" : "B", "C", "t", 1);
        append_out(s, k % 2 ? a : b, &t, T0 + k * 1000);
    }
    vg_store_expire(s, T0 + 4000); /* drops arrivals at 1, 2, 3 s */
    bool truncated;
    size_t n = vg_store_view(s, a, 0, 64, views, &truncated);
    cr_assert_eq(n, 3, "the horizon cuts the view even before the ring sheds its prefix");
    cr_expect_eq(views[0].seq, 5);
    cr_expect_eq(views[2].seq, 9);
    cr_expect_eq(vg_store_view(s, b, 0, 64, views, &truncated), 4);
    vg_store_expire(s, T0 + 4000); /* idempotent */
    vg_store_expire(s, T0 + 2000); /* the horizon never moves back */
    cr_expect_eq(vg_store_view(s, a, 0, 64, views, &truncated), 3);
    struct vg_store_stats st;
    vg_store_get_stats(s, &st);
    cr_expect_eq(st.events, 7);
    vg_store_expire(s, T0 + 11000); /* everything */
    vg_store_get_stats(s, &st);
    cr_expect_eq(st.events, 0);
    cr_expect_eq(vg_store_view(s, a, 0, 64, views, &truncated), 0);
    cr_expect_eq(vg_store_view(s, b, 0, 64, views, &truncated), 0);
    cr_expect_eq(vg_store_account(s, a)->last_seen_ms, T0 + 9000, "expiry keeps the account's history");
    cr_expect_eq(vg_store_account(s, a)->first_seen_ms, T0 + 1000);
    /* the accounts keep working after becoming empty; the append sheds the stale prefix */
    struct vg_txn t = make_txn(11, T0 + 12000, "A", "C", "t", 1);
    append_out(s, a, &t, T0 + 12000);
    cr_expect_eq(vg_store_view(s, a, 0, 64, views, &truncated), 1);
    cr_expect_eq(vg_store_account(s, a)->n_events, 1, "the ring dropped its stale entries");
    vg_store_destroy(s);
}

Test(account_store, sweep_returns_the_rings_of_quiet_accounts) {
    /* 1000 accounts with one event each, then the horizon passes them all: within a few
     * expiry calls per account every ring is back in the pool, and a second wave of the
     * same size reuses that memory instead of growing. */
    enum { N = 1000 };
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    uint32_t idx[N];
    char id[16];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "q%d", i);
        idx[i] = upsert(s, id);
        struct vg_txn t = make_txn((uint64_t)i, T0 + i, id, "C", "t", 1);
        append_out(s, idx[i], &t, T0 + i);
    }
    struct vg_store_stats before, after;
    vg_store_get_stats(s, &before);
    for (int k = 0; k < N; k++) vg_store_expire(s, T0 + 10 * HOUR);
    for (int i = 0; i < N; i++) {
        cr_assert_null(vg_store_account(s, idx[i])->ring, "account %d still holds a ring", i);
        cr_assert_eq(vg_store_account(s, idx[i])->n_events, 0);
    }
    for (int i = 0; i < N; i++) {
        struct vg_txn t = make_txn((uint64_t)(N + i), T0 + 11 * HOUR + i, "x", "C", "t", 1);
        append_out(s, idx[i], &t, T0 + 11 * HOUR + i);
    }
    vg_store_get_stats(s, &after);
    cr_expect_eq(after.bytes, before.bytes, "the second wave reuses the swept rings");
    bool truncated;
    cr_expect_eq(vg_store_view(s, idx[N - 1], 0, 64, views, &truncated), 1);
    cr_expect_eq(views[0].seq, (uint64_t)(2 * N - 1));
    vg_store_destroy(s);
}

Test(account_store, a_ring_shrinks_once_its_burst_leaves_the_window) {
    /* A burst of 100 events grows the ring to 128 entries; once the horizon passes the
     * burst, the next append moves the account to a small ring and the big one goes back
     * to the pool: a second account's burst of the same size reuses it (no new memory). */
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    uint32_t a = upsert(s, "bursty"), b = upsert(s, "later");
    for (int i = 0; i < 100; i++) {
        struct vg_txn t = make_txn((uint64_t)i, T0 + i, "bursty", "C", "t", 1);
        append_out(s, a, &t, T0 + i);
    }
    struct vg_txn k = make_txn(100, T0 + 2 * HOUR, "bursty", "C", "t", 1); /* still active: no sweep */
    append_out(s, a, &k, T0 + 2 * HOUR);
    cr_assert_eq(vg_store_account(s, a)->ring_class, 7);
    vg_store_expire(s, T0 + HOUR);
    struct vg_txn t = make_txn(101, T0 + 2 * HOUR + 1, "bursty", "C", "t", 1);
    append_out(s, a, &t, T0 + 2 * HOUR + 1);
    cr_expect_eq(vg_store_account(s, a)->ring_class, 2, "two live entries: the smallest class at most half full");
    bool truncated;
    cr_assert_eq(vg_store_view(s, a, 0, 64, views, &truncated), 2);
    cr_expect_eq(views[0].seq, 100);
    cr_expect_eq(views[1].seq, 101);
    struct vg_store_stats before, after;
    vg_store_get_stats(s, &before);
    for (int i = 0; i < 100; i++) {
        struct vg_txn u = make_txn((uint64_t)(102 + i), T0 + 2 * HOUR + 2 + i, "later", "C", "t", 1);
        append_out(s, b, &u, T0 + 2 * HOUR + 2 + i);
    }
    vg_store_get_stats(s, &after);
    cr_expect_eq(vg_store_account(s, b)->ring_class, 7);
    cr_expect_eq(after.bytes - before.bytes, 0, "the burst's ring was reused");
    /* a ring at least a quarter full keeps its class */
    for (int i = 0; i < 20; i++) {
        struct vg_txn u = make_txn((uint64_t)(201 + i), T0 + 3 * HOUR + i, "later", "C", "t", 1);
        append_out(s, b, &u, T0 + 3 * HOUR + i);
    }
    cr_expect_eq(vg_store_account(s, b)->ring_class, 7, "100 + 20 entries, none stale yet");
    vg_store_destroy(s);
}

Test(account_store, short_ids_keep_their_smallest_ring_in_the_record) {
    /* An id of up to VG_ACCOUNT_ID_HEAD bytes keeps a ring of two entries in its record's
     * third line (no separate line or page); a longer id's tail is there, so its ring comes
     * from the pool. Both go through growth, shrink back and release with the same views. */
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    const char *ids[2] = {"short-18-bytes-id", "a-longer-id-of-27-bytes-xyz"};
    uint32_t acc[2] = {upsert(s, ids[0]), upsert(s, ids[1])};
    cr_assert(strlen(ids[0]) <= VG_ACCOUNT_ID_HEAD && strlen(ids[1]) > VG_ACCOUNT_ID_HEAD);
    uint64_t seq = 0;
    for (int k = 0; k < 2; k++) {
        struct vg_txn t = make_txn(seq++, T0 + k, ids[0], "C", "t", 10 + k);
        append_out(s, acc[0], &t, T0 + k);
        t = make_txn(seq++, T0 + k, ids[1], "C", "t", 10 + k);
        append_out(s, acc[1], &t, T0 + k);
    }
    const struct vg_account *sa = vg_store_account(s, acc[0]), *la = vg_store_account(s, acc[1]);
    cr_expect_eq(sa->ring, sa->inline_ring, "two events of a short id: the ring inside the record");
    cr_expect_neq(la->ring, la->inline_ring, "a long id's tail stays intact");
    char out[VG_ID_MAX];
    cr_expect_eq(vg_account_id(la, out), strlen(ids[1]));
    cr_expect_arr_eq(out, ids[1], strlen(ids[1]));
    bool truncated;
    /* grow to 40 entries, then let them leave and append once more */
    for (int k = 2; k < 40; k++)
        for (int i = 0; i < 2; i++) {
            struct vg_txn t = make_txn(seq++, T0 + k, ids[i], "C", "t", 10 + k);
            append_out(s, acc[i], &t, T0 + k);
        }
    cr_expect_neq(sa->ring, sa->inline_ring);
    for (int i = 0; i < 2; i++) cr_expect_eq(vg_store_view(s, acc[i], 0, 64, views, &truncated), 40);
    vg_store_expire(s, T0 + 40);
    for (int i = 0; i < 2; i++) {
        struct vg_txn t = make_txn(seq++, T0 + HOUR, ids[i], "C", "t", 99);
        append_out(s, acc[i], &t, T0 + HOUR);
        t = make_txn(seq++, T0 + HOUR + 1, ids[i], "C", "t", 100);
        append_out(s, acc[i], &t, T0 + HOUR + 1);
        cr_assert_eq(vg_store_view(s, acc[i], 0, 64, views, &truncated), 2);
        cr_expect_eq(views[0].amount_micros, 99);
        cr_expect_eq(views[1].amount_micros, 100);
    }
    cr_expect_eq(sa->ring, sa->inline_ring, "shrunk back into the record");
    cr_expect_eq(vg_account_id(sa, out), strlen(ids[0]));
    cr_expect_arr_eq(out, ids[0], strlen(ids[0]));
    /* released by the sweep, then used again */
    vg_store_expire(s, T0 + 2 * HOUR);
    for (int n = 0; n < 8 && (sa->ring || la->ring); n++) vg_store_expire(s, T0 + 2 * HOUR);
    cr_expect_null(sa->ring);
    cr_expect_null(la->ring);
    for (int i = 0; i < 2; i++) {
        struct vg_txn t = make_txn(seq++, T0 + 3 * HOUR, ids[i], "C", "t", 7);
        append_out(s, acc[i], &t, T0 + 3 * HOUR);
        cr_assert_eq(vg_store_view(s, acc[i], 0, 64, views, &truncated), 1);
        cr_expect_eq(views[0].amount_micros, 7);
    }
    cr_expect_eq(sa->ring, sa->inline_ring);
    vg_store_destroy(s);
}

Test(account_store, steady_state_wraps_the_log_without_growing, .timeout = 120) {
    /* A sliding window of ~2000 events over 16 accounts, 300k events in total: the log
     * wraps (with padding records) many times; it must not grow, and every account's view
     * must be exactly its events inside the window. */
    enum { ACCOUNTS = 16, WINDOW = 2000, TOTAL = 300000 };
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    uint32_t idx[ACCOUNTS];
    char id[16];
    for (int i = 0; i < ACCOUNTS; i++) {
        snprintf(id, sizeof id, "acc%d", i);
        idx[i] = upsert(s, id);
    }
    struct vg_store_stats st0, st;
    vg_store_get_stats(s, &st0);
    char tx[40];
    for (int k = 0; k < TOTAL; k++) {
        int i = (k * 7) % ACCOUNTS;
        /* tx ids of varying length make event spans vary, so pads land anywhere */
        snprintf(tx, sizeof tx, "%.*s%d", k % 23, "ttttttttttttttttttttttt", k);
        struct vg_txn t = make_txn((uint64_t)k, T0 + k, "x", "y", tx, k + 1);
        append_out(s, idx[i], &t, T0 + k);
        vg_store_expire(s, T0 + k - WINDOW + 1);
        if (k == 2 * WINDOW) vg_store_get_stats(s, &st0); /* warmed up: per-account rings sized */
        if (k % 9973 == 0 || k == TOTAL - 1) {
            vg_store_get_stats(s, &st);
            cr_assert_eq(st.events, (uint64_t)VG_MIN(k + 1, WINDOW), "at %d", k);
            for (int j = 0; j < ACCOUNTS; j++) {
                bool truncated;
                size_t n = vg_store_view(s, idx[j], 0, 8192, views, &truncated);
                size_t expect = 0;
                for (int q = VG_MAX(0, k - WINDOW + 1); q <= k; q++) expect += (q * 7) % ACCOUNTS == j;
                cr_assert_eq(n, expect, "account %d at %d", j, k);
                for (size_t v = 0; v < n; v++) {
                    int q = (int)views[v].seq;
                    cr_assert_eq((q * 7) % ACCOUNTS, j);
                    cr_assert_eq(views[v].amount_micros, q + 1);
                    snprintf(tx, sizeof tx, "%.*s%d", q % 23, "ttttttttttttttttttttttt", q);
                    cr_assert(vg_str_eq(views[v].tx_id, views[v].tx_id_len, tx, strlen(tx)));
                }
            }
        }
    }
    vg_store_get_stats(s, &st);
    cr_expect_eq(st.bytes, st0.bytes, "steady state must reuse the log, not grow it");
    vg_store_destroy(s);
}

Test(account_store, log_growth_while_wrapped_keeps_every_event, .timeout = 180) {
    /* A window that widens after the log has wrapped many times: the log grows (in place
     * past 2 MB, by moving only the wrapped bytes) while live events straddle its end; every
     * account's view must stay exactly its events inside the window, strings included. */
    enum { ACCOUNTS = 64, NARROW = 20000, WIDE = 200000, SWITCH = 100000, TOTAL = 400000 };
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    uint32_t idx[ACCOUNTS];
    char id[16], tx[40];
    for (int i = 0; i < ACCOUNTS; i++) {
        snprintf(id, sizeof id, "acc%d", i);
        idx[i] = upsert(s, id);
    }
    struct vg_store_stats st, at_switch = {0};
    for (int k = 0; k < TOTAL; k++) {
        int window = k < SWITCH ? NARROW : WIDE;
        int i = (k * 7) % ACCOUNTS;
        snprintf(tx, sizeof tx, "%.*s%d", k % 23, "ttttttttttttttttttttttt", k);
        struct vg_txn t = make_txn((uint64_t)k, T0 + k, "x", "y", tx, k + 1);
        append_out(s, idx[i], &t, T0 + k);
        vg_store_expire(s, T0 + k - window + 1);
        if (k == SWITCH) vg_store_get_stats(s, &at_switch);
        if (k % 49999 == 0 || k == TOTAL - 1) {
            int first = VG_MAX(0, k - (k < SWITCH ? NARROW : WIDE) + 1);
            if (k >= SWITCH) first = VG_MAX(first, SWITCH - NARROW); /* expired before the switch */
            for (int j = 0; j < ACCOUNTS; j++) {
                bool truncated;
                size_t n = vg_store_view(s, idx[j], 0, 8192, views, &truncated);
                size_t expect = 0;
                for (int q = first; q <= k; q++) expect += (q * 7) % ACCOUNTS == j;
                cr_assert_eq(n, expect, "account %d at %d: %zu events, want %zu", j, k, n, expect);
                for (size_t v = 0; v < n; v++) {
                    int q = (int)views[v].seq;
                    cr_assert_eq(views[v].amount_micros, q + 1);
                    snprintf(tx, sizeof tx, "%.*s%d", q % 23, "ttttttttttttttttttttttt", q);
                    cr_assert(vg_str_eq(views[v].tx_id, views[v].tx_id_len, tx, strlen(tx)), "event %d", q);
                    cr_assert(vg_str_eq(views[v].counterparty, views[v].counterparty_len, "y", 1));
                }
            }
        }
    }
    vg_store_get_stats(s, &st);
    cr_expect_gt(st.bytes, at_switch.bytes + (8u << 20), "the log grew after the switch");
    vg_store_destroy(s);
}

Test(account_store, view_sorts_out_of_order_events_by_ts_then_seq) {
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    uint32_t a = upsert(s, "A");
    const int64_t ts[] = {1000, 3000, 2000, 2000, 500};
    int64_t newest = 0;
    for (int k = 0; k < 5; k++) {
        newest = VG_MAX(newest, T0 + ts[k]);
        struct vg_txn t = make_txn((uint64_t)k, T0 + ts[k], "A", "B", "t", k + 1);
        append_out(s, a, &t, newest);
    }
    bool truncated;
    size_t n = vg_store_view(s, a, 0, 64, views, &truncated);
    cr_assert_eq(n, 5);
    cr_expect(!truncated);
    const uint64_t order[] = {4, 0, 2, 3, 1};
    for (size_t k = 0; k < n; k++) cr_expect_eq(views[k].seq, order[k], "position %zu", k);

    n = vg_store_view(s, a, T0 + 1500, 64, views, &truncated);
    cr_assert_eq(n, 3, "the cutoff drops older event times, late arrivals included");
    cr_expect_eq(views[0].seq, 2);
    cr_expect_eq(views[1].seq, 3);
    cr_expect_eq(views[2].seq, 1);

    n = vg_store_view(s, a, 0, 2, views, &truncated);
    cr_assert_eq(n, 2);
    cr_expect(truncated, "max cut the view");
    cr_expect_eq(views[0].seq, 3, "the newest event times are kept, sorted");
    cr_expect_eq(views[1].seq, 1);
    vg_store_destroy(s);
}

Test(account_store, first_and_last_seen_follow_event_time) {
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    uint32_t a = upsert(s, "A");
    struct vg_account *acc = vg_store_account(s, a);
    cr_expect_eq(acc->last_seen_ms, VG_TS_NONE);
    const int64_t ts[] = {5000, 9000, 1000};
    for (int k = 0; k < 3; k++) {
        struct vg_txn t = make_txn((uint64_t)k, T0 + ts[k], "A", "B", "t", 1);
        append_out(s, a, &t, T0 + 9000);
    }
    acc = vg_store_account(s, a);
    cr_expect_eq(acc->first_seen_ms, T0 + 1000);
    cr_expect_eq(acc->last_seen_ms, T0 + 9000);
    vg_store_destroy(s);
}

Test(account_store, activity_histogram_counts) {
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    uint32_t a = upsert(s, "A");
    uint64_t seq = 0;
#define EVENT_AT(t_ms)                                                         \
    do {                                                                       \
        struct vg_txn t_ = make_txn(seq++, (t_ms), "A", "B", "t", 1);          \
        append_out(s, a, &t_, (t_ms));                                         \
    } while (0)
    for (int k = 0; k < 3; k++) EVENT_AT(T0 + k * 60000);              /* bucket 0: 3 */
    for (int k = 0; k < 5; k++) EVENT_AT(T0 + 2 * HOUR + k * 60000);   /* bucket 2: 5 */
    EVENT_AT(T0 + 10 * HOUR + 1);                                      /* bucket 10: 1 */
    const struct vg_activity *act = &vg_store_account(s, a)->activity;
    cr_expect_eq(vg_activity_count(act, T0, T0 + HOUR), 3);
    cr_expect_eq(vg_activity_count(act, T0 + HOUR, T0 + 2 * HOUR), 0);
    cr_expect_eq(vg_activity_count(act, T0 + 2 * HOUR, T0 + 3 * HOUR), 5);
    cr_expect_eq(vg_activity_count(act, T0, T0 + 11 * HOUR), 9);
    cr_expect_eq(vg_activity_count(act, T0 - 100 * HOUR, T0 + 100 * HOUR), 9);
    cr_expect_eq(vg_activity_count(act, T0 + 2 * HOUR, T0 + 2 * HOUR + HOUR / 2), 3, "half a bucket of 5, rounded");
    cr_expect_eq(vg_activity_count(act, T0 + 3 * HOUR, T0 + 2 * HOUR), 0, "empty range");
    /* late event inside the histogram's reach counts */
    EVENT_AT(T0 + HOUR + 5);
    act = &vg_store_account(s, a)->activity;
    cr_expect_eq(vg_activity_count(act, T0 + HOUR, T0 + 2 * HOUR), 1);
    /* 40 h later: buckets older than 32 are forgotten; a late event older than that too */
    EVENT_AT(T0 + 40 * HOUR);
    EVENT_AT(T0 + 2 * HOUR);
    act = &vg_store_account(s, a)->activity;
    cr_expect_eq(vg_activity_count(act, T0, T0 + 9 * HOUR), 0);
    cr_expect_eq(vg_activity_count(act, T0 + 9 * HOUR, T0 + 41 * HOUR), 2);
    /* counts saturate instead of wrapping */
    for (int k = 0; k < 70000; k++) EVENT_AT(T0 + 41 * HOUR);
    act = &vg_store_account(s, a)->activity;
    cr_expect_eq(vg_activity_count(act, T0 + 41 * HOUR, T0 + 42 * HOUR), UINT16_MAX);
#undef EVENT_AT
    vg_store_destroy(s);
}

Test(account_store, bytes_per_idle_account_at_most_256, .timeout = 300) {
    /* 1M accounts seen once, then idle (their events expired): what the shard keeps per
     * account is the design's memory bound. */
    enum { N = 1000000 };
    struct vg_store *s;
    cr_assert_eq(vg_store_create(&s, HOUR), VG_OK);
    char id[32];
    for (int i = 0; i < N; i++) {
        int len = snprintf(id, sizeof id, "idle-account-%07d", i);
        uint32_t a = vg_store_upsert(s, id, (size_t)len, vg_hash64_id(id, (size_t)len));
        cr_assert_neq(a, UINT32_MAX);
        struct vg_txn t = make_txn((uint64_t)i, T0 + i, id, "merchant", "t", 1);
        append_out(s, a, &t, T0 + i);
        vg_store_expire(s, T0 + i - 1000);
    }
    vg_store_expire(s, T0 + N + 1);
    struct vg_store_stats st;
    vg_store_get_stats(s, &st);
    cr_assert_eq(st.accounts, N);
    cr_assert_eq(st.events, 0);
    double per_account = (double)st.bytes / (double)st.accounts;
    cr_log_info("account store: %llu bytes for %llu idle accounts = %.1f bytes/account (struct vg_account %zu)",
                (unsigned long long)st.bytes, (unsigned long long)st.accounts, per_account,
                sizeof(struct vg_account));
    cr_expect_leq(per_account, 256.0, "%.1f bytes per idle account", per_account);
    vg_store_destroy(s);
}
