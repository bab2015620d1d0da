/* synth_internal.h - what the synthetic generator's files share: the generator struct,
 * the injected-event record, account keys and the deterministic RNG. Not a public API
 * (include/vigil/synth.h is). */
#ifndef VIGIL_SYNTH_INTERNAL_H
#define VIGIL_SYNTH_INTERNAL_H

#include "vigil/synth.h"

#define SYN_MINUTE_MS (60LL * 1000LL)
#define SYN_HOUR_MS (60LL * SYN_MINUTE_MS)
#define SYN_DAY_MS (24LL * SYN_HOUR_MS)
/* Money literals: whole units and cents as micro-units. */
#define SYN_UNITS(x) ((int64_t)(x) * VG_MICROS_PER_UNIT)
#define SYN_CENTS(x) ((int64_t)(x) * 10000LL)

/* An account key: bits 62..63 say the kind, the rest is an index.
 * Indexed accounts (background 0..accounts-1, then pattern accounts) get a bank and a
 * 9-hex account from a bijective mix of the index, so two indices never share an id. */
enum syn_account_kind { SYN_ACC_INDEXED = 0, SYN_ACC_WATCHLISTED = 1, SYN_ACC_WATCH_DECOY = 2 };
#define SYN_ACC_KIND_SHIFT 62
#define SYN_ACC(kind, index) (((uint64_t)(kind) << SYN_ACC_KIND_SHIFT) | (uint64_t)(index))

enum syn_currency { SYN_USD = 0, SYN_EUR, SYN_GBP, SYN_JPY, SYN_CAD, SYN_CURRENCY_COUNT };
enum syn_channel {
    SYN_CH_ACH = 0, SYN_CH_WIRE, SYN_CH_CHEQUE, SYN_CH_CASH, SYN_CH_CARD, SYN_CHANNEL_COUNT
};

struct syn_currency_def {
    const char *iso;
    const char *aml_name;
    int64_t usd_rate_micros;   /* indicative: 1 unit = rate/1e6 USD (background only) */
    int64_t min_unit_micros;   /* smallest amount step: a cent, or one yen */
};
struct syn_channel_def {
    const char *name;          /* lower-case, as NDJSON carries it */
    const char *aml_name;      /* AMLworld Payment Format */
};
extern const struct syn_currency_def syn_currencies[SYN_CURRENCY_COUNT];
extern const struct syn_channel_def syn_channels[SYN_CHANNEL_COUNT];

/* One injected (pattern or decoy) transfer. ts is relative to its instance's anchor
 * until vg_synth_create places the anchors. */
struct syn_event {
    int64_t ts_ms;
    int64_t amount_micros;
    uint64_t from;
    uint64_t to;
    uint32_t order;            /* creation order: ties in ts keep it */
    uint32_t instance;         /* which anchor the relative ts hangs off */
    uint8_t currency;
    uint8_t channel;
    char from_country[2];
    char to_country[2];
    bool laundering;
    const char *typology;      /* of its instance (static string) */
    const char *from_name;     /* a sanctions pattern's party name (static), else NULL */
    const char *to_name;
};

struct vg_synth {
    struct vg_synth_options opt;
    uint64_t salt_bank;        /* seed-dependent id salts */
    uint64_t salt_hex;
    uint64_t n_merchants;      /* background indices [0, n_merchants) are merchants */
    uint64_t n_regular;
    uint64_t next_account;     /* next free pattern account index */

    /* Background stream. */
    uint64_t bg_rng[4];
    uint64_t bg_total;         /* UINT64_MAX = endless */
    uint64_t bg_emitted;
    int64_t clock_us;          /* event time of the next background record, microseconds */
    int64_t mean_us;

    /* Injected events, sorted by (ts, order) once placed. */
    uint64_t pat_rng[4];
    struct syn_event *events;
    size_t n_events, cap_events, next_event;
    uint32_t n_instances;
    uint32_t cur_instance;     /* instance that add_event tags */
    bool cur_laundering;
    const char *cur_typology;  /* that add_event tags */

    struct vg_synth_expect *expect;
    size_t n_expect, cap_expect;
    uint32_t n_watchlisted;

    uint64_t seq;              /* records emitted */
    bool oom;                  /* an allocation failed while laying out patterns */
};

/* xoshiro256** seeded through splitmix64: fast, deterministic on every platform. */
void syn_rng_seed(uint64_t state[4], uint64_t seed);
static inline uint64_t syn_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t syn_rng_next(uint64_t s[4]) {
    uint64_t result = syn_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = syn_rotl(s[3], 45);
    return result;
}
/* Uniform in [0, n) (n > 0; the modulo bias is irrelevant here). */
static inline uint64_t syn_rng_below(uint64_t s[4], uint64_t n) { return syn_rng_next(s) % n; }

/* splitmix64 finaliser: a 64-bit bijective mix. */
static inline uint64_t syn_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Writes the id of an account key into buf (>= 24 bytes), NUL-terminated; returns length. */
size_t syn_account_id(const struct vg_synth *s, uint64_t key, char *buf);
/* Home country of a background account (never a high-risk one). */
const char *syn_home_country(const struct vg_synth *s, uint64_t index);

/* Writes the fixed name of an indexed account (opt.names) into buf, NUL-terminated;
 * returns its length (synth_names.c). */
size_t syn_party_name(const struct vg_synth *s, uint64_t index, char *buf, size_t cap);

/* A name a sanctions pattern or decoy sends, and on which side (from: the payer). */
struct syn_named {
    const char *name;
    bool from;
};
#define SYN_SANCTIONED 6
extern const struct syn_named syn_sanctioned[SYN_SANCTIONED];      /* on the demo list */
extern const struct syn_named syn_sanction_decoys[SYN_SANCTIONED]; /* near, not on it */

/* Lays out every pattern and decoy instance with relative times (synth_patterns.c).
 * Returns VG_OK or VG_ERR_NOMEM. */
int syn_build_patterns(struct vg_synth *s);

#endif
