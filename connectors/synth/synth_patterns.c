/* synth_patterns.c - the injected typologies: for every rule of docs/RULES.md, instances
 * that must fire (patterns) and near misses that must not (decoys), each on fresh accounts
 * nothing else touches, with times relative to an anchor that vg_synth_create places.
 * All times are whole minutes so NDJSON and AMLworld CSV (minute resolution) agree. */
#include "synth/synth_internal.h"

#include <stdlib.h>
#include <string.h>

#define MIN SYN_MINUTE_MS
#define HOUR SYN_HOUR_MS
#define DAY SYN_DAY_MS

static uint64_t fresh(struct vg_synth *s) { return SYN_ACC(SYN_ACC_INDEXED, s->next_account++); }

/* Starts a new anchored instance; its transfers are laundering (pattern) or not (decoy). */
static void begin(struct vg_synth *s, bool laundering) {
    s->cur_instance = s->n_instances++;
    s->cur_laundering = laundering;
}

static void tx_full(struct vg_synth *s, int64_t ts_ms, uint64_t from, uint64_t to, int64_t amount_micros,
                    enum syn_currency cur, enum syn_channel ch, const char *from_country,
                    const char *to_country) {
    if (s->n_events == s->cap_events) {
        size_t cap = s->cap_events ? s->cap_events * 2 : 1024;
        struct syn_event *n = realloc(s->events, cap * sizeof *n);
        if (!n) {
            s->oom = true;
            return;
        }
        s->events = n;
        s->cap_events = cap;
    }
    struct syn_event *e = &s->events[s->n_events];
    e->ts_ms = ts_ms;
    e->amount_micros = amount_micros;
    e->from = from;
    e->to = to;
    e->order = (uint32_t)s->n_events;
    e->instance = s->cur_instance;
    e->currency = (uint8_t)cur;
    e->channel = (uint8_t)ch;
    memcpy(e->from_country, from_country, 2);
    memcpy(e->to_country, to_country, 2);
    e->laundering = s->cur_laundering;
    e->typology = s->cur_typology;
    e->from_name = e->to_name = NULL;
    s->n_events++;
}

static void tx(struct vg_synth *s, int64_t ts_ms, uint64_t from, uint64_t to, int64_t usd_micros,
               enum syn_channel ch) {
    tx_full(s, ts_ms, from, to, usd_micros, SYN_USD, ch, "US", "US");
}

static void expect(struct vg_synth *s, enum vg_synth_kind kind, enum vg_rule_id rule, uint64_t account,
                   bool needs_countries, const char *what) {
    if (s->n_expect == s->cap_expect) {
        size_t cap = s->cap_expect ? s->cap_expect * 2 : 128;
        struct vg_synth_expect *n = realloc(s->expect, cap * sizeof *n);
        if (!n) {
            s->oom = true;
            return;
        }
        s->expect = n;
        s->cap_expect = cap;
    }
    struct vg_synth_expect *e = &s->expect[s->n_expect++];
    e->kind = kind;
    e->rule = rule;
    syn_account_id(s, account, e->account);
    e->needs_countries = needs_countries;
    e->what = what;
}

/* Uniform whole units in [lo, hi], as micros. */
static int64_t units_between(struct vg_synth *s, int64_t lo, int64_t hi) {
    return SYN_UNITS(lo + (int64_t)syn_rng_below(s->pat_rng, (uint64_t)(hi - lo + 1)));
}

/* ---- large_tx: one transfer >= 10000 -------------------------------------------- */

static void large_tx(struct vg_synth *s, uint32_t k) {
    begin(s, true);
    uint64_t a = fresh(s), b = fresh(s);
    if (k == 0) /* exactly at the threshold */
        tx(s, 0, a, b, SYN_UNITS(10000), SYN_CH_WIRE);
    else if (k == 1) /* converted: 20000 EUR is above 10000 USD at any plausible rate */
        tx_full(s, 0, a, b, SYN_UNITS(20000), SYN_EUR, SYN_CH_WIRE, "DE", "US");
    else
        tx(s, 0, a, b, units_between(s, 10001, 60000), SYN_CH_WIRE);
    expect(s, VG_SYNTH_PATTERN, VG_RULE_LARGE_TX, a, false, "one transfer >= 10000");
}

static void large_tx_decoy(struct vg_synth *s) {
    begin(s, false);
    uint64_t a = fresh(s), b = fresh(s);
    tx(s, 0, a, b, SYN_CENTS(999999), SYN_CH_WIRE);
    expect(s, VG_SYNTH_DECOY, VG_RULE_LARGE_TX, a, false, "9999.99, a cent below the threshold");
}

/* ---- structuring: >= 3 sends in [8500, 10000) within 72h ------------------------ */

static void structuring(struct vg_synth *s, uint32_t k) {
    begin(s, true);
    uint64_t a = fresh(s);
    if (k == 0) { /* both band edges: 8500.00 is in, 9999.99 is in */
        tx(s, 0, a, fresh(s), SYN_UNITS(8500), SYN_CH_CASH);
        tx(s, 20 * HOUR, a, fresh(s), SYN_CENTS(999999), SYN_CH_CASH);
        tx(s, 40 * HOUR, a, fresh(s), SYN_UNITS(9000), SYN_CH_CASH);
    } else {
        int n = 3 + (int)syn_rng_below(s->pat_rng, 2);
        for (int i = 0; i < n; i++)
            tx(s, i * 12 * HOUR, a, fresh(s), units_between(s, 9000, 9900) + SYN_CENTS(k % 100),
               SYN_CH_CASH);
    }
    expect(s, VG_SYNTH_PATTERN, VG_RULE_STRUCTURING, a, false, "3-4 sends just below 10000 within 72h");
}

static void structuring_decoys(struct vg_synth *s) {
    begin(s, false);
    uint64_t a = fresh(s);
    tx(s, 0, a, fresh(s), SYN_UNITS(9400), SYN_CH_CASH);
    tx(s, 10 * HOUR, a, fresh(s), SYN_UNITS(9600), SYN_CH_CASH);
    tx(s, 20 * HOUR, a, fresh(s), SYN_CENTS(849999), SYN_CH_CASH); /* a cent below the band */
    expect(s, VG_SYNTH_DECOY, VG_RULE_STRUCTURING, a, false, "2 in band, third at 8499.99");

    begin(s, false);
    a = fresh(s);
    tx(s, 0, a, fresh(s), SYN_UNITS(9100), SYN_CH_CASH);
    tx(s, 40 * HOUR, a, fresh(s), SYN_UNITS(9200), SYN_CH_CASH);
    tx(s, 73 * HOUR, a, fresh(s), SYN_UNITS(9300), SYN_CH_CASH);
    expect(s, VG_SYNTH_DECOY, VG_RULE_STRUCTURING, a, false, "3 in band spread over 73h");
}

/* ---- fan_in / fan_out: >= 8 distinct counterparties, total >= 5000, 72h ---------- */

/* n counterparties, n-1 paying `each` and the last `last`, one every 3h. */
static uint64_t fan(struct vg_synth *s, bool inward, int n, int64_t each, int64_t last, bool laundering) {
    begin(s, laundering);
    uint64_t hub = fresh(s);
    for (int i = 0; i < n; i++) {
        uint64_t other = fresh(s);
        int64_t amount = i == n - 1 ? last : each;
        if (inward)
            tx(s, i * 3 * HOUR, other, hub, amount, SYN_CH_ACH);
        else
            tx(s, i * 3 * HOUR, hub, other, amount, SYN_CH_ACH);
    }
    return hub;
}

static void fan_patterns(struct vg_synth *s, uint32_t k, bool inward) {
    enum vg_rule_id rule = inward ? VG_RULE_FAN_IN : VG_RULE_FAN_OUT;
    uint64_t hub;
    if (k == 0) /* exactly 8 counterparties and exactly 5000 */
        hub = fan(s, inward, 8, SYN_UNITS(625), SYN_UNITS(625), true);
    else {
        int64_t each = units_between(s, 700, 950);
        hub = fan(s, inward, 8 + (int)syn_rng_below(s->pat_rng, 4), each, each, true);
    }
    expect(s, VG_SYNTH_PATTERN, rule, hub, false, inward ? "8+ senders, >= 5000 in 72h" : "8+ receivers, >= 5000 in 72h");
}

static void fan_decoys(struct vg_synth *s, bool inward) {
    enum vg_rule_id rule = inward ? VG_RULE_FAN_IN : VG_RULE_FAN_OUT;
    uint64_t hub = fan(s, inward, 7, SYN_UNITS(900), SYN_UNITS(900), false);
    expect(s, VG_SYNTH_DECOY, rule, hub, false, "7 counterparties, 6300");
    hub = fan(s, inward, 8, SYN_UNITS(625), SYN_CENTS(62499), false);
    expect(s, VG_SYNTH_DECOY, rule, hub, false, "8 counterparties, total 4999.99");
}

/* ---- pass_through: receive >= 5000, send >= 80% of it within 48h ----------------- */

static uint64_t pass(struct vg_synth *s, bool laundering, int64_t in, int64_t out1, int64_t t1, int64_t out2,
                     int64_t t2) {
    begin(s, laundering);
    uint64_t p = fresh(s);
    tx(s, 0, fresh(s), p, in, SYN_CH_WIRE);
    tx(s, t1, p, fresh(s), out1, SYN_CH_WIRE);
    if (out2) tx(s, t2, p, fresh(s), out2, SYN_CH_WIRE);
    return p;
}

static void pass_through(struct vg_synth *s, uint32_t k) {
    uint64_t p;
    if (k == 0) /* exactly 80% */
        p = pass(s, true, SYN_UNITS(6000), SYN_UNITS(3000), 5 * HOUR, SYN_UNITS(1800), 20 * HOUR);
    else if (k == 1) /* exactly min_amount */
        p = pass(s, true, SYN_UNITS(5000), SYN_UNITS(4500), 1 * HOUR, 0, 0);
    else {
        int64_t in = units_between(s, 5000, 9000);
        p = pass(s, true, in, in / 100 * 45, 3 * HOUR, in / 100 * 47, 30 * HOUR);
    }
    expect(s, VG_SYNTH_PATTERN, VG_RULE_PASS_THROUGH, p, false, "in >= 5000, >= 80% out within 48h");
}

static void pass_through_decoys(struct vg_synth *s) {
    uint64_t p = pass(s, false, SYN_UNITS(6000), SYN_UNITS(2100), 2 * HOUR, SYN_UNITS(2100), 10 * HOUR);
    expect(s, VG_SYNTH_DECOY, VG_RULE_PASS_THROUGH, p, false, "only 70% out");
    p = pass(s, false, SYN_UNITS(6000), SYN_UNITS(5400), 49 * HOUR, 0, 0);
    expect(s, VG_SYNTH_DECOY, VG_RULE_PASS_THROUGH, p, false, "90% out after 49h");
    p = pass(s, false, SYN_CENTS(499999), SYN_CENTS(499999), 1 * HOUR, 0, 0);
    expect(s, VG_SYNTH_DECOY, VG_RULE_PASS_THROUGH, p, false, "in 4999.99, all out");
}

/* ---- cycle: a time-ordered ring of 2..6 transfers >= 1000 within 7d --------------- */

/* A ring of n fresh accounts c0 -> c1 -> ... -> c0; hop i at times[i], amount amounts[i]. */
static void ring(struct vg_synth *s, bool laundering, int n, const int64_t *times, const int64_t *amounts,
                 uint64_t *members) {
    begin(s, laundering);
    for (int i = 0; i < n; i++) members[i] = fresh(s);
    for (int i = 0; i < n; i++) tx(s, times[i], members[i], members[(i + 1) % n], amounts[i], SYN_CH_WIRE);
}

static void cycle(struct vg_synth *s, uint32_t k) {
    for (int n = 2; n <= 6; n++) {
        int64_t times[6], amounts[6];
        uint64_t members[6];
        int64_t start = units_between(s, 1500, 3000);
        for (int i = 0; i < n; i++) {
            times[i] = i * 2 * HOUR;
            amounts[i] = start - SYN_UNITS(50) * i; /* a fee per hop, still >= 1000 */
        }
        ring(s, true, n, times, amounts, members);
        expect(s, VG_SYNTH_PATTERN, VG_RULE_CYCLE, members[0], false, "time-ordered ring of 2..6 hops");
    }
    (void)k;
}

static void ring_decoy(struct vg_synth *s, int n, const int64_t *times, const int64_t *amounts, const char *what) {
    uint64_t members[8];
    ring(s, false, n, times, amounts, members);
    for (int i = 0; i < n; i++) expect(s, VG_SYNTH_DECOY, VG_RULE_CYCLE, members[i], false, what);
}

static void cycle_decoys(struct vg_synth *s) {
    const int64_t amounts[7] = {SYN_UNITS(2000), SYN_UNITS(2000), SYN_UNITS(2000), SYN_UNITS(2000),
                                SYN_UNITS(2000), SYN_UNITS(2000), SYN_UNITS(2000)};
    /* Hop times (1h, 0, 2h) around the ring: no rotation is increasing. */
    const int64_t out_of_order[3] = {1 * HOUR, 0, 2 * HOUR};
    ring_decoy(s, 3, out_of_order, amounts, "ring closed out of time order");
    const int64_t too_slow[3] = {0, 4 * DAY, 7 * DAY + 1 * MIN};
    ring_decoy(s, 3, too_slow, amounts, "ring spread over 7d + 1min");
    int64_t seven[7];
    for (int i = 0; i < 7; i++) seven[i] = i * 2 * HOUR;
    ring_decoy(s, 7, seven, amounts, "7-hop ring (max_hops 6)");
    const int64_t small[3] = {SYN_UNITS(2000), SYN_CENTS(99999), SYN_UNITS(2000)};
    ring_decoy(s, 3, seven, small, "ring with one hop of 999.99");
}

/* ---- scatter_gather: origin -> >= 3 intermediaries -> one sink, within 7d -------- */

/* n intermediaries; the forward of the last one happens before its leg when `early`. */
static void scatter(struct vg_synth *s, bool laundering, int n, bool early, uint64_t *origin, uint64_t *sink) {
    begin(s, laundering);
    *origin = fresh(s);
    *sink = fresh(s);
    for (int i = 0; i < n; i++) {
        uint64_t m = fresh(s);
        int64_t leg_ts = i * HOUR;
        int64_t fwd_ts = (early && i == n - 1) ? leg_ts - 1 * HOUR : 6 * HOUR + i * HOUR;
        tx(s, leg_ts, *origin, m, SYN_UNITS(3000), SYN_CH_WIRE);
        tx(s, fwd_ts, m, *sink, SYN_UNITS(2800), SYN_CH_WIRE);
    }
}

static void scatter_gather(struct vg_synth *s, uint32_t k) {
    uint64_t o, sk;
    scatter(s, true, k == 0 ? 3 : 3 + (int)syn_rng_below(s->pat_rng, 3), false, &o, &sk);
    expect(s, VG_SYNTH_PATTERN, VG_RULE_SCATTER_GATHER, o, false, "origin of 3+ intermediaries");
    expect(s, VG_SYNTH_PATTERN, VG_RULE_SCATTER_GATHER, sk, false, "sink of 3+ intermediaries");
}

static void scatter_gather_decoys(struct vg_synth *s) {
    uint64_t o, sk;
    scatter(s, false, 2, false, &o, &sk);
    expect(s, VG_SYNTH_DECOY, VG_RULE_SCATTER_GATHER, o, false, "only 2 intermediaries");
    expect(s, VG_SYNTH_DECOY, VG_RULE_SCATTER_GATHER, sk, false, "only 2 intermediaries");
    scatter(s, false, 3, true, &o, &sk);
    expect(s, VG_SYNTH_DECOY, VG_RULE_SCATTER_GATHER, o, false, "third forward before its leg");
    expect(s, VG_SYNTH_DECOY, VG_RULE_SCATTER_GATHER, sk, false, "third forward before its leg");
}

/* ---- gather_scatter: >= 5 senders, then >= 5 receivers, totals >= 5000, 72h ------- */

static uint64_t gather(struct vg_synth *s, bool laundering, int senders, int64_t in_each, int receivers,
                       int64_t out_each) {
    begin(s, laundering);
    uint64_t hub = fresh(s);
    for (int i = 0; i < senders; i++) tx(s, i * HOUR, fresh(s), hub, in_each, SYN_CH_ACH);
    for (int i = 0; i < receivers; i++) tx(s, 10 * HOUR + i * HOUR, hub, fresh(s), out_each, SYN_CH_ACH);
    return hub;
}

static void gather_scatter(struct vg_synth *s, uint32_t k) {
    int n = k == 0 ? 5 : 5 + (int)syn_rng_below(s->pat_rng, 2);
    uint64_t hub = gather(s, true, n, SYN_UNITS(1200), n, SYN_UNITS(1100));
    expect(s, VG_SYNTH_PATTERN, VG_RULE_GATHER_SCATTER, hub, false, "5+ in then 5+ out within 72h");
}

static void gather_scatter_decoy(struct vg_synth *s) {
    uint64_t hub = gather(s, false, 5, SYN_UNITS(1200), 4, SYN_UNITS(1400));
    expect(s, VG_SYNTH_DECOY, VG_RULE_GATHER_SCATTER, hub, false, "5 in, only 4 out");
}

/* ---- velocity: >= 7d of low activity, then a burst of >= 20 in 1h ---------------- */

static uint64_t burst(struct vg_synth *s, bool laundering, int n) {
    begin(s, laundering);
    uint64_t v = fresh(s), history_peer = fresh(s);
    uint64_t peers[3] = {fresh(s), fresh(s), fresh(s)};
    for (int d = 10; d >= 1; d--) tx(s, -d * DAY, v, history_peer, SYN_UNITS(80), SYN_CH_ACH);
    for (int i = 0; i < n; i++)
        tx(s, 2 * HOUR + i * 2 * MIN, v, peers[i % 3], units_between(s, 50, 200), SYN_CH_CARD);
    return v;
}

static void velocity(struct vg_synth *s, uint32_t k) {
    uint64_t v = burst(s, true, k == 0 ? 20 : 25);
    expect(s, VG_SYNTH_PATTERN, VG_RULE_VELOCITY, v, false, "10 days at 1/day, then 20+ in under 1h");
}

static void velocity_decoys(struct vg_synth *s, bool with_merchant) {
    uint64_t v = burst(s, false, 19);
    expect(s, VG_SYNTH_DECOY, VG_RULE_VELOCITY, v, false, "10 days at 1/day, then 19 in 1h");
    if (!with_merchant) return;
    /* A merchant paid every 3 minutes for 7d3h by 4 regular payers: 21 events in any
     * closed hour, but never above its own baseline. */
    begin(s, false);
    uint64_t m = fresh(s);
    uint64_t payers[4] = {fresh(s), fresh(s), fresh(s), fresh(s)};
    int64_t n = (7 * DAY + 3 * HOUR) / (3 * MIN);
    for (int64_t j = 0; j < n; j++)
        tx(s, -7 * DAY + j * 3 * MIN, payers[j % 4], m, units_between(s, 20, 80), SYN_CH_CARD);
    expect(s, VG_SYNTH_DECOY, VG_RULE_VELOCITY, m, false, "steady merchant, 20/h for 7 days");
}

/* ---- dormant: silent >= 180d, then >= 5000 --------------------------------------- */

static uint64_t wake(struct vg_synth *s, bool laundering, int64_t silence_ms, int64_t amount) {
    begin(s, laundering);
    uint64_t d = fresh(s);
    tx(s, -silence_ms, d, fresh(s), SYN_UNITS(120), SYN_CH_ACH);
    tx(s, 0, d, fresh(s), amount, SYN_CH_WIRE);
    return d;
}

static void dormant(struct vg_synth *s, uint32_t k) {
    uint64_t d;
    if (k == 0) /* exactly 180 days, exactly 5000 */
        d = wake(s, true, 180 * DAY, SYN_UNITS(5000));
    else
        d = wake(s, true, (181 + (int64_t)syn_rng_below(s->pat_rng, 20)) * DAY, units_between(s, 5000, 9000));
    expect(s, VG_SYNTH_PATTERN, VG_RULE_DORMANT, d, false, "silent 180d+, then >= 5000");
}

static void dormant_decoys(struct vg_synth *s) {
    uint64_t d = wake(s, false, 179 * DAY, SYN_UNITS(6000));
    expect(s, VG_SYNTH_DECOY, VG_RULE_DORMANT, d, false, "silent 179d, then 6000");
    d = wake(s, false, 200 * DAY, SYN_CENTS(499999));
    expect(s, VG_SYNTH_DECOY, VG_RULE_DORMANT, d, false, "silent 200d, then 4999.99");
}

/* ---- watchlist: listed ids (bank 7777, BAD0xxxxx) --------------------------------- */

static void watchlist(struct vg_synth *s, uint32_t k) {
    begin(s, true);
    uint64_t w = SYN_ACC(SYN_ACC_WATCHLISTED, k);
    tx(s, 0, w, fresh(s), SYN_UNITS(500), SYN_CH_ACH);
    tx(s, 1 * HOUR, fresh(s), w, SYN_UNITS(300), SYN_CH_ACH);
    s->n_watchlisted = k + 1;
    expect(s, VG_SYNTH_PATTERN, VG_RULE_WATCHLIST, w, false, "listed id");
}

static void watchlist_decoy(struct vg_synth *s, uint32_t k) {
    begin(s, false);
    uint64_t w = SYN_ACC(SYN_ACC_WATCH_DECOY, k); /* BAE0... vs listed BAD0...: one char */
    tx(s, 0, w, fresh(s), SYN_UNITS(500), SYN_CH_ACH);
    expect(s, VG_SYNTH_DECOY, VG_RULE_WATCHLIST, w, false, "one character off a listed id");
}

/* ---- high_risk_country: to/from KP, IR, MM, >= 1000 ------------------------------ */

static void high_risk_country(struct vg_synth *s, uint32_t k) {
    static const char *const listed[3] = {"IR", "KP", "MM"};
    begin(s, true);
    uint64_t a = fresh(s), b = fresh(s);
    int64_t amount = k == 0 ? SYN_UNITS(1000) : units_between(s, 1500, 5000);
    tx_full(s, 0, a, b, amount, SYN_USD, SYN_CH_WIRE, "US", listed[k % 3]);
    expect(s, VG_SYNTH_PATTERN, VG_RULE_HIGH_RISK_COUNTRY, a, true, "sends >= 1000 to a listed country");
    begin(s, true);
    uint64_t c = fresh(s), d = fresh(s);
    tx_full(s, 0, c, d, SYN_UNITS(2500), SYN_USD, SYN_CH_WIRE, listed[(k + 1) % 3], "US");
    expect(s, VG_SYNTH_PATTERN, VG_RULE_HIGH_RISK_COUNTRY, d, true, "receives 2500 from a listed country");
}

static void high_risk_country_decoys(struct vg_synth *s) {
    begin(s, false);
    uint64_t a = fresh(s);
    tx_full(s, 0, a, fresh(s), SYN_CENTS(99999), SYN_USD, SYN_CH_WIRE, "US", "MM");
    expect(s, VG_SYNTH_DECOY, VG_RULE_HIGH_RISK_COUNTRY, a, false, "999.99 to MM");
    begin(s, false);
    a = fresh(s);
    tx_full(s, 0, a, fresh(s), SYN_UNITS(5000), SYN_USD, SYN_CH_WIRE, "US", "IQ");
    expect(s, VG_SYNTH_DECOY, VG_RULE_HIGH_RISK_COUNTRY, a, false, "5000 to an unlisted country");
}

/* ---- sanctions: a party named as a demo-list entry (opt.names only) ---------------- */

/* One transfer whose payer or payee sends `named`; expects the rule about that party. */
static void named_party(struct vg_synth *s, const struct syn_named *named, bool pattern) {
    begin(s, pattern);
    uint64_t a = fresh(s), b = fresh(s);
    tx(s, 0, a, b, units_between(s, 200, 900), SYN_CH_WIRE);
    if (s->oom) return;
    struct syn_event *e = &s->events[s->n_events - 1];
    *(named->from ? &e->from_name : &e->to_name) = named->name;
    expect(s, pattern ? VG_SYNTH_PATTERN : VG_SYNTH_DECOY, VG_RULE_SANCTIONS, named->from ? a : b, false,
           pattern ? "a party named as a demo-list entry" : "a party near a demo-list name, not on it");
}

/* ---- attempts no rule catches (opt.uncatchable) ------------------------------------- */

/* STACK: layers through a chain of fresh accounts, a little less at each hop, a day apart. */
static void stack(struct vg_synth *s) {
    begin(s, true);
    uint64_t prev = fresh(s);
    int64_t amount = units_between(s, 500, 900);
    for (int i = 0; i < 3; i++) {
        uint64_t next = fresh(s);
        tx(s, i * DAY, prev, next, amount, SYN_CH_ACH);
        amount -= SYN_UNITS(20);
        prev = next;
    }
}

/* BIPARTITE: 3 senders each pay the same 2 receivers, hours apart. */
static void bipartite(struct vg_synth *s) {
    begin(s, true);
    uint64_t senders[3] = {fresh(s), fresh(s), fresh(s)}, receivers[2] = {fresh(s), fresh(s)};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            tx(s, (i * 2 + j) * 3 * HOUR, senders[i], receivers[j], units_between(s, 300, 600), SYN_CH_WIRE);
}

/* RANDOM: a walk of 4 hops over fresh accounts with unrelated small amounts. */
static void random_walk(struct vg_synth *s) {
    begin(s, true);
    uint64_t at = fresh(s);
    for (int i = 0; i < 4; i++) {
        uint64_t next = fresh(s);
        tx(s, i * 7 * HOUR, at, next, units_between(s, 100, 900), SYN_CH_CHEQUE);
        at = next;
    }
}

/* Sets the typology the next instances are tagged with (AMLworld's spelling). */
#define TYPOLOGY(s, name) ((s)->cur_typology = (name))

int syn_build_patterns(struct vg_synth *s) {
    for (uint32_t k = 0; k < s->opt.patterns; k++) {
        TYPOLOGY(s, "LARGE-TX");
        large_tx(s, k);
        TYPOLOGY(s, "STRUCTURING");
        structuring(s, k);
        TYPOLOGY(s, "FAN-IN");
        fan_patterns(s, k, true);
        TYPOLOGY(s, "FAN-OUT");
        fan_patterns(s, k, false);
        TYPOLOGY(s, "PASS-THROUGH");
        pass_through(s, k);
        TYPOLOGY(s, "CYCLE");
        cycle(s, k);
        TYPOLOGY(s, "SCATTER-GATHER");
        scatter_gather(s, k);
        TYPOLOGY(s, "GATHER-SCATTER");
        gather_scatter(s, k);
        TYPOLOGY(s, "VELOCITY");
        velocity(s, k);
        TYPOLOGY(s, "DORMANT");
        dormant(s, k);
        TYPOLOGY(s, "WATCHLIST");
        watchlist(s, k);
        TYPOLOGY(s, "HIGH-RISK-COUNTRY");
        high_risk_country(s, k);
        if (s->opt.names) {
            TYPOLOGY(s, "SANCTIONS");
            named_party(s, &syn_sanctioned[k % SYN_SANCTIONED], true);
        }
        TYPOLOGY(s, NULL);
        if (s->opt.decoys) {
            large_tx_decoy(s);
            structuring_decoys(s);
            fan_decoys(s, true);
            fan_decoys(s, false);
            pass_through_decoys(s);
            cycle_decoys(s);
            scatter_gather_decoys(s);
            gather_scatter_decoy(s);
            velocity_decoys(s, k == 0);
            dormant_decoys(s);
            watchlist_decoy(s, k);
            high_risk_country_decoys(s);
            if (s->opt.names) named_party(s, &syn_sanction_decoys[k % SYN_SANCTIONED], false);
        }
        if (s->opt.uncatchable) {
            TYPOLOGY(s, "STACK");
            stack(s);
            TYPOLOGY(s, "BIPARTITE");
            bipartite(s);
            TYPOLOGY(s, "RANDOM");
            random_walk(s);
            TYPOLOGY(s, NULL);
        }
        if (s->oom) return VG_ERR_NOMEM;
    }
    return VG_OK;
}
