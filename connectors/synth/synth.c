/* synth.c - the synthetic stream's core: options, account ids, the background payments and
 * the merge of background with the injected patterns (laid out by synth_patterns.c) in
 * event-time order. Formatting lives in synth_format.c. */
#include "synth/synth_internal.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

const struct syn_currency_def syn_currencies[SYN_CURRENCY_COUNT] = {
    [SYN_USD] = {"USD", "US Dollar", 1000000, 10000},
    [SYN_EUR] = {"EUR", "Euro", 1080000, 10000},
    [SYN_GBP] = {"GBP", "UK Pound", 1270000, 10000},
    [SYN_JPY] = {"JPY", "Yen", 6700, 1000000},
    [SYN_CAD] = {"CAD", "Canadian Dollar", 740000, 10000},
};

const struct syn_channel_def syn_channels[SYN_CHANNEL_COUNT] = {
    [SYN_CH_ACH] = {"ach", "ACH"},
    [SYN_CH_WIRE] = {"wire", "Wire"},
    [SYN_CH_CHEQUE] = {"cheque", "Cheque"},
    [SYN_CH_CASH] = {"cash", "Cash"},
    [SYN_CH_CARD] = {"credit card", "Credit Card"},
};

/* Home countries of background accounts: weighted towards US, never KP/IR/MM. */
static const char syn_countries[16][3] = {"US", "US", "US", "US", "US", "GB", "DE", "FR",
                                          "NL", "JP", "CA", "SG", "AU", "CH", "ES", "IT"};

/* Offsets of an account's regular payees: account r pays n_merchants + (r + D[j]) mod
 * n_regular, so nobody has more than 4 regular senders or 4 regular payees. */
static const uint64_t syn_payee_offsets[4] = {1, 37, 1021, 65537};

#define SYN_MASK36 ((1ULL << 36) - 1)

void syn_rng_seed(uint64_t state[4], uint64_t seed) {
    for (int i = 0; i < 4; i++) {
        seed += 0x9e3779b97f4a7c15ULL;
        state[i] = syn_mix64(seed);
    }
}

/* A bijection on 36-bit values (odd multipliers and xor-shifts are both invertible). */
static uint64_t syn_mix36(uint64_t x) {
    x = (x * 0x9e3779b97f4a7c15ULL) & SYN_MASK36;
    x ^= x >> 17;
    x = (x * 0xbf58476d1ce4e5b9ULL) & SYN_MASK36;
    x ^= x >> 19;
    x = (x * 0x94d049bb133111ebULL) & SYN_MASK36;
    x ^= x >> 15;
    return x;
}

static const char syn_hex[16] = "0123456789ABCDEF";

static char *put_hex(char *p, uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; i--) p[i] = syn_hex[v & 15], v >>= 4;
    return p + digits;
}

static char *put_small_dec(char *p, unsigned v) {
    char tmp[12];
    int n = 0;
    do tmp[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

size_t syn_account_id(const struct vg_synth *s, uint64_t key, char *buf) {
    uint64_t kind = key >> SYN_ACC_KIND_SHIFT;
    uint64_t index = key & ((1ULL << SYN_ACC_KIND_SHIFT) - 1);
    char *p = buf;
    if (kind == SYN_ACC_INDEXED) {
        p = put_small_dec(p, (unsigned)(10 + syn_mix64(index ^ s->salt_bank) % 990));
        *p++ = ':';
        p = put_hex(p, syn_mix36((index + s->salt_hex) & SYN_MASK36), 9);
    } else {
        /* Watchlisted ids and their one-character-off decoys live at bank 7777, which
         * background accounts (banks 10..999) never use. */
        memcpy(p, kind == SYN_ACC_WATCHLISTED ? "7777:BAD0" : "7777:BAE0", 9);
        p = put_hex(p + 9, index, 5);
    }
    *p = '\0';
    return (size_t)(p - buf);
}

const char *syn_home_country(const struct vg_synth *s, uint64_t index) {
    return syn_countries[syn_mix64(index * 3 + s->salt_bank) & 15];
}

void vg_synth_options_default(struct vg_synth_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->seed = 1;
    opt->transactions = 100000;
    opt->accounts = 10000;
    opt->start_ms = VG_SYNTH_DEFAULT_START_MS;
    opt->mean_interarrival_ms = 200;
    opt->patterns = 2;
    opt->decoys = true;
    opt->late_ppm = 0;
    opt->late_max_ms = 3 * SYN_MINUTE_MS;
}

static int cmp_event(const void *a, const void *b) {
    const struct syn_event *x = a, *y = b;
    if (x->ts_ms != y->ts_ms) return x->ts_ms < y->ts_ms ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

/* Places every pattern instance at a minute-aligned anchor inside the background's span
 * (so patterns are interleaved with background traffic), then sorts. */
static void place_instances(struct vg_synth *s) {
    int64_t span_ms;
    if (s->opt.transactions == 0)
        span_ms = 2 * SYN_DAY_MS;
    else
        span_ms = (int64_t)VG_MIN(s->bg_total, (uint64_t)INT64_MAX / 1000 / (uint64_t)VG_MAX(s->opt.mean_interarrival_ms, 1)) *
                  s->opt.mean_interarrival_ms;
    int64_t *anchors = malloc(sizeof(int64_t) * (s->n_instances ? s->n_instances : 1));
    if (!anchors) {
        s->oom = true;
        return;
    }
    for (uint32_t i = 0; i < s->n_instances; i++) {
        int64_t off = (int64_t)syn_rng_below(s->pat_rng, (uint64_t)span_ms + 1);
        int64_t a = s->opt.start_ms + off;
        a -= ((a % SYN_MINUTE_MS) + SYN_MINUTE_MS) % SYN_MINUTE_MS;
        anchors[i] = a;
    }
    for (size_t i = 0; i < s->n_events; i++) s->events[i].ts_ms += anchors[s->events[i].instance];
    free(anchors);
    if (s->n_events) qsort(s->events, s->n_events, sizeof *s->events, cmp_event);
}

vg_synth_t *vg_synth_create(const struct vg_synth_options *opt, char *errstr, size_t errstr_size) {
    if (opt->accounts < 16 || opt->accounts > (1ULL << 32)) {
        snprintf(errstr, errstr_size, "accounts: %llu out of range 16..2^32", (unsigned long long)opt->accounts);
        return NULL;
    }
    if (opt->mean_interarrival_ms < 0 || opt->mean_interarrival_ms > SYN_DAY_MS) {
        snprintf(errstr, errstr_size, "mean inter-arrival: %lld ms out of range 0..1d",
                 (long long)opt->mean_interarrival_ms);
        return NULL;
    }
    if (opt->patterns > 100000) {
        snprintf(errstr, errstr_size, "patterns: %u is more than 100000", opt->patterns);
        return NULL;
    }
    if (opt->late_ppm > 1000000 || (opt->late_ppm && opt->late_max_ms <= 0)) {
        snprintf(errstr, errstr_size, "late: fraction must be <= 1000000 ppm with a positive lateness");
        return NULL;
    }
    struct vg_synth *s = calloc(1, sizeof *s);
    if (!s) goto err_nomem;
    s->opt = *opt;
    s->salt_bank = syn_mix64(opt->seed ^ 0x62616e6bULL);
    s->salt_hex = syn_mix64(opt->seed ^ 0x68657821ULL) & SYN_MASK36;
    s->n_merchants = VG_MAX(1, opt->accounts / 500);
    s->n_regular = opt->accounts - s->n_merchants;
    s->next_account = opt->accounts;
    syn_rng_seed(s->bg_rng, opt->seed);
    syn_rng_seed(s->pat_rng, opt->seed ^ 0x7061747465726e73ULL);
    s->mean_us = opt->mean_interarrival_ms * 1000;
    s->clock_us = opt->start_ms * 1000;

    if (syn_build_patterns(s) != VG_OK || s->oom) goto err_nomem;
    if (opt->transactions == 0)
        s->bg_total = UINT64_MAX;
    else
        s->bg_total = opt->transactions > s->n_events ? opt->transactions - s->n_events : 0;
    place_instances(s);
    if (s->oom) goto err_nomem;
    return s;

err_nomem:
    snprintf(errstr, errstr_size, "out of memory");
    vg_synth_destroy(s);
    return NULL;
}

void vg_synth_destroy(vg_synth_t *s) {
    if (!s) return;
    free(s->events);
    free(s->expect);
    free(s);
}

uint64_t vg_synth_total(const vg_synth_t *s) {
    return s->bg_total == UINT64_MAX ? 0 : s->bg_total + s->n_events;
}

uint64_t vg_synth_injected(const vg_synth_t *s) { return s->n_events; }

size_t vg_synth_expected(const vg_synth_t *s, const struct vg_synth_expect **out) {
    *out = s->expect;
    return s->n_expect;
}

/* Exponential-ish gap with the configured mean, from integers only (so the stream is the
 * same on every libm): -ln(u) via a piecewise-linear log2 of a 32-bit uniform. */
static int64_t next_gap_us(struct vg_synth *s) {
    if (s->mean_us == 0) return 0;
    uint64_t r = (syn_rng_next(s->bg_rng) >> 32) | 1;
    int msb = 63 - __builtin_clzll(r);
    uint64_t frac_q16 = ((r << (32 - msb)) >> 16) & 0xffff;
    uint64_t neg_log2_q16 = (32ULL << 16) - (((uint64_t)msb << 16) | frac_q16);
    /* ln 2 = 45426 / 65536; 0.961 compensates the linear log2's bias on the mean. */
    uint64_t e_q16 = (neg_log2_q16 * 45426 >> 16) * 62980 >> 16;
    return (int64_t)(((__int128)s->mean_us * (__int128)e_q16) >> 16);
}

/* A bell-shaped amount in log space, in USD cents: 2^(lo + span*q) with q in [0,1]. */
static int64_t bell_cents(struct vg_synth *s, int lo, int span) {
    uint64_t r = syn_rng_next(s->bg_rng);
    uint64_t q = ((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff)) / 3; /* Q16 */
    uint64_t e_q16 = ((uint64_t)lo << 16) + q * (uint64_t)span;
    int ip = (int)(e_q16 >> 16);
    uint64_t base = 1ULL << ip;
    int64_t cents = (int64_t)(base + ((base * (e_q16 & 0xffff)) >> 16));
    return VG_MIN(cents, 70000); /* background stays below 700 USD-equivalent */
}

static void emit_background(struct vg_synth *s, struct vg_synth_txn *out) {
    uint64_t *rng = s->bg_rng;
    uint64_t r = syn_rng_below(rng, s->n_regular);
    uint64_t sender = s->n_merchants + r;
    uint64_t h = syn_mix64(sender ^ s->salt_hex);
    uint64_t pick = syn_rng_next(rng);
    uint64_t receiver;
    bool to_merchant = (pick & 0xff) < 77; /* ~30% of payments go to a merchant */
    if (!to_merchant) {
        uint64_t degree = 1 + (h & 3);
        uint64_t j = (pick >> 8) % degree;
        receiver = s->n_merchants + (r + syn_payee_offsets[j]) % s->n_regular;
        if (receiver == sender) to_merchant = true;
    }
    if (to_merchant) receiver = (h >> 8) % s->n_merchants; /* the sender's usual merchant */

    int64_t usd_cents;
    enum syn_channel ch;
    if (to_merchant) {
        usd_cents = bell_cents(s, 8, 6);
        ch = SYN_CH_CARD;
    } else {
        usd_cents = bell_cents(s, 9, 7);
        unsigned c = (unsigned)((pick >> 32) % 100);
        ch = c < 50 ? SYN_CH_ACH : c < 72 ? SYN_CH_WIRE : c < 86 ? SYN_CH_CHEQUE : SYN_CH_CASH;
    }
    unsigned cc = (unsigned)((pick >> 48) % 100);
    enum syn_currency cur = cc < 86 ? SYN_USD : cc < 92 ? SYN_EUR : cc < 95 ? SYN_GBP : cc < 98 ? SYN_JPY : SYN_CAD;
    const struct syn_currency_def *cd = &syn_currencies[cur];
    int64_t micros = usd_cents * 10000;
    if (cur != SYN_USD) {
        micros = (int64_t)((__int128)micros * VG_MICROS_PER_UNIT / cd->usd_rate_micros);
        micros -= micros % cd->min_unit_micros;
    }
    if (micros < cd->min_unit_micros) micros = cd->min_unit_micros;

    int64_t ts_ms = s->clock_us >= 0 ? s->clock_us / 1000 : -((-s->clock_us + 999) / 1000);
    if (s->opt.late_ppm && syn_rng_below(rng, 1000000) < s->opt.late_ppm)
        ts_ms -= 1 + (int64_t)syn_rng_below(rng, (uint64_t)s->opt.late_max_ms);

    out->ts_ms = ts_ms;
    out->amount_micros = micros;
    out->currency = cd->iso;
    out->currency_name = cd->aml_name;
    out->channel = syn_channels[ch].name;
    out->payment_format = syn_channels[ch].aml_name;
    out->from_len = (uint8_t)syn_account_id(s, SYN_ACC(SYN_ACC_INDEXED, sender), out->from);
    out->to_len = (uint8_t)syn_account_id(s, SYN_ACC(SYN_ACC_INDEXED, receiver), out->to);
    memcpy(out->from_country, syn_home_country(s, sender), 3);
    memcpy(out->to_country, syn_home_country(s, receiver), 3);
    out->laundering = false;
    out->attempt = 0;
    out->typology = NULL;
    out->from_name[0] = out->to_name[0] = '\0';
    if (s->opt.names) {
        syn_party_name(s, sender, out->from_name, sizeof out->from_name);
        syn_party_name(s, receiver, out->to_name, sizeof out->to_name);
    }

    s->bg_emitted++;
    s->clock_us += next_gap_us(s);
}

static void emit_event(const struct vg_synth *s, const struct syn_event *e, struct vg_synth_txn *out) {
    const struct syn_currency_def *cd = &syn_currencies[e->currency];
    out->ts_ms = e->ts_ms;
    out->amount_micros = e->amount_micros;
    out->currency = cd->iso;
    out->currency_name = cd->aml_name;
    out->channel = syn_channels[e->channel].name;
    out->payment_format = syn_channels[e->channel].aml_name;
    out->from_len = (uint8_t)syn_account_id(s, e->from, out->from);
    out->to_len = (uint8_t)syn_account_id(s, e->to, out->to);
    memcpy(out->from_country, e->from_country, 2);
    out->from_country[2] = '\0';
    memcpy(out->to_country, e->to_country, 2);
    out->to_country[2] = '\0';
    out->laundering = e->laundering;
    out->attempt = e->laundering ? e->instance + 1 : 0;
    out->typology = e->laundering ? e->typology : NULL;
    out->from_name[0] = out->to_name[0] = '\0';
    if (s->opt.names) {
        uint64_t mask = (1ULL << SYN_ACC_KIND_SHIFT) - 1;
        if (e->from_name) snprintf(out->from_name, sizeof out->from_name, "%s", e->from_name);
        else syn_party_name(s, e->from & mask, out->from_name, sizeof out->from_name);
        if (e->to_name) snprintf(out->to_name, sizeof out->to_name, "%s", e->to_name);
        else syn_party_name(s, e->to & mask, out->to_name, sizeof out->to_name);
    }
}

/* Orders laundering events by instance, then by their place in the stream. */
static int cmp_attempt(const void *a, const void *b) {
    const struct syn_event *x = *(const struct syn_event *const *)a, *y = *(const struct syn_event *const *)b;
    if (x->instance != y->instance) return x->instance < y->instance ? -1 : 1;
    return x < y ? -1 : (x > y);
}

int vg_synth_write_patterns(const vg_synth_t *s, FILE *f) {
    size_t n = 0;
    const struct syn_event **v = malloc(sizeof *v * (s->n_events ? s->n_events : 1));
    if (!v) return VG_ERR_NOMEM;
    for (size_t i = 0; i < s->n_events; i++)
        if (s->events[i].laundering) v[n++] = &s->events[i];
    if (n) qsort(v, n, sizeof *v, cmp_attempt);
    char line[VG_SYNTH_LINE_MAX];
    struct vg_synth_txn t;
    memset(&t, 0, sizeof t);
    for (size_t i = 0; i < n; i++) {
        const char *typology = v[i]->typology ? v[i]->typology : "OTHER";
        if (i == 0 || v[i]->instance != v[i - 1]->instance)
            fprintf(f, "BEGIN LAUNDERING ATTEMPT - %s\n", typology);
        emit_event(s, v[i], &t);
        fwrite(line, 1, vg_synth_format_csv(&t, line, sizeof line), f);
        if (i + 1 == n || v[i + 1]->instance != v[i]->instance) fprintf(f, "END LAUNDERING ATTEMPT - %s\n", typology);
    }
    free(v);
    return ferror(f) ? VG_ERR_IO : VG_OK;
}

bool vg_synth_next(vg_synth_t *s, struct vg_synth_txn *out) {
    bool have_bg = s->bg_emitted < s->bg_total;
    bool have_ev = s->next_event < s->n_events;
    if (!have_bg && !have_ev) return false;
    int64_t bg_ms = s->clock_us >= 0 ? s->clock_us / 1000 : -((-s->clock_us + 999) / 1000);
    if (have_ev && (!have_bg || s->events[s->next_event].ts_ms <= bg_ms))
        emit_event(s, &s->events[s->next_event++], out);
    else
        emit_background(s, out);
    out->seq = s->seq++;
    return true;
}

const char *vg_synth_rule_name(enum vg_rule_id rule) {
    static const char *const names[VG_RULE_MAX] = {
        [VG_RULE_LARGE_TX] = "large_tx",
        [VG_RULE_STRUCTURING] = "structuring",
        [VG_RULE_FAN_IN] = "fan_in",
        [VG_RULE_FAN_OUT] = "fan_out",
        [VG_RULE_PASS_THROUGH] = "pass_through",
        [VG_RULE_CYCLE] = "cycle",
        [VG_RULE_SCATTER_GATHER] = "scatter_gather",
        [VG_RULE_GATHER_SCATTER] = "gather_scatter",
        [VG_RULE_VELOCITY] = "velocity",
        [VG_RULE_DORMANT] = "dormant",
        [VG_RULE_WATCHLIST] = "watchlist",
        [VG_RULE_HIGH_RISK_COUNTRY] = "high_risk_country",
        [VG_RULE_SANCTIONS] = "sanctions",
    };
    return (unsigned)rule < VG_RULE_MAX ? names[rule] : "?";
}

const char *vg_synth_kind_name(enum vg_synth_kind kind) {
    return kind == VG_SYNTH_PATTERN ? "pattern" : "decoy";
}

int vg_synth_write_watchlist(const vg_synth_t *s, FILE *f) {
    char id[24];
    fprintf(f, "# vigil-gen watchlist: accounts of the injected watchlist patterns (seed %llu)\n",
            (unsigned long long)s->opt.seed);
    for (uint32_t k = 0; k < s->n_watchlisted; k++) {
        syn_account_id(s, SYN_ACC(SYN_ACC_WATCHLISTED, k), id);
        fprintf(f, "%s\n", id);
    }
    return ferror(f) ? VG_ERR_IO : VG_OK;
}

int vg_synth_write_expected(const vg_synth_t *s, FILE *f, bool with_countries) {
    for (size_t i = 0; i < s->n_expect; i++) {
        const struct vg_synth_expect *e = &s->expect[i];
        if (e->needs_countries && !with_countries) continue;
        fprintf(f, "%s\t%s\t%s\n", vg_synth_kind_name(e->kind), vg_synth_rule_name(e->rule), e->account);
    }
    return ferror(f) ? VG_ERR_IO : VG_OK;
}
