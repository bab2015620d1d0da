/* synth.h - a deterministic synthetic transaction stream (background payments plus
 * injected AML patterns and near-miss decoys) for demos, tests and benchmarks.
 * Same options and seed give the same records byte for byte; nothing here reads the clock. */
#ifndef VIGIL_SYNTH_H
#define VIGIL_SYNTH_H

#include <stdio.h>

#include "vigil/common.h"
#include "vigil/currency.h"
#include "vigil/rule.h"
#include "vigil/txn.h"

/* What the stream holds (with default rules, docs/RULES.md):
 * - Background: accounts[0, accounts/500) are merchants that only receive (card payments);
 *   every other account pays at most 4 fixed payees and 1 usual merchant, so no regular
 *   account ever has more than 4 regular senders or 5 receivers. Amounts are log-normal-ish,
 *   always below 700 USD-equivalent (USD, EUR, GBP, JPY, CAD), countries never KP/IR/MM,
 *   ids never on the watchlist, gaps exponential-ish (steady rates, no bursts). So the only
 *   rule background fires is fan_in on merchants (and whatever a tiny account count with a
 *   huge record count makes of velocity's baseline). Merchants are never in the expectations.
 * - Injected: per typology `patterns` instances (and decoys), each on fresh accounts that
 *   nothing else touches, anchored at random minutes inside the background's event-time
 *   span; set-up transfers (dormancy, velocity history) may precede the start time by up
 *   to 200 days and follow-ups may run past the background's end by up to 8 days.
 *   Injected times are whole minutes, so CSV (minute resolution) keeps their meaning. */
typedef struct vg_synth vg_synth_t;

/* Longest line vg_synth_format_ndjson / _csv ever write (ids are at most 15 bytes, names
 * at most VG_SYNTH_NAME_MAX - 1). */
#define VG_SYNTH_LINE_MAX 640
/* Longest party name the generator writes, with its NUL. */
#define VG_SYNTH_NAME_MAX 64
/* Default start of event time: 2022-09-01T00:00:00Z, where AMLworld's data starts. */
#define VG_SYNTH_DEFAULT_START_MS 1661990400000LL

struct vg_synth_options {
    uint64_t seed;
    /* Records to emit in total (background plus injected). When the injected patterns
     * alone need more, all of them are still emitted. 0 = endless background. */
    uint64_t transactions;
    uint64_t accounts;              /* background accounts (>= 16), default 10000 */
    int64_t start_ms;               /* event time of the first background record */
    int64_t mean_interarrival_ms;   /* mean event-time gap between background records */
    uint32_t patterns;              /* instances of every typology, default 2 */
    bool decoys;                    /* inject near misses too, default true */
    /* Also plant laundering attempts no rule can catch (AMLworld's STACK, BIPARTITE and
     * RANDOM shapes, every transfer below 1000 and every count below the rules'), so a
     * backtest's recall is below 1 by construction. Default false. */
    bool uncatchable;
    /* Fraction (parts per million) of background records emitted up to late_max_ms
     * older than the stream's clock (out of order). Default 0. */
    uint32_t late_ppm;
    int64_t late_max_ms;            /* default 3 minutes */
    /* Every party carries a name (from_name, to_name): each account a fixed one from
     * Kazakh, Russian, Arabic and English name pools, some in Cyrillic, merchants a shop
     * name; and `patterns` sanctions patterns (parties named as entries of the demo list,
     * vg_synth_sanctions_list, as banks write them) with decoys (near names that must stay
     * quiet) are injected. Default false: no names, no sanctions patterns. */
    bool names;
};

/* One generated record. Amounts stay in the payment currency (a vg_txn holds base
 * currency; see vg_synth_to_txn). Strings are NUL-terminated. */
struct vg_synth_txn {
    uint64_t seq;                   /* 0-based output position; the record id is seq + 1 */
    int64_t ts_ms;                  /* event time, epoch ms UTC */
    int64_t amount_micros;          /* > 0, in `currency` */
    const char *currency;           /* ISO 4217 code (static string) */
    const char *currency_name;      /* the AMLworld name of the same currency */
    const char *channel;            /* lower-case channel (static string) */
    const char *payment_format;     /* AMLworld "Payment Format" spelling of channel */
    uint8_t from_len;
    uint8_t to_len;
    char from[24];                  /* "<bank>:<9 hex>", bank without leading zeros */
    char to[24];
    char from_country[3];           /* ISO 3166 alpha-2, "" when absent */
    char to_country[3];
    bool laundering;                /* part of an injected pattern (AMLworld Is Laundering) */
    uint32_t attempt;               /* laundering: its attempt (instance) number + 1; else 0 */
    const char *typology;           /* laundering: "FAN-IN", "CYCLE", ... (static); else NULL */
    char from_name[VG_SYNTH_NAME_MAX]; /* UTF-8 party names, "" without opt.names */
    char to_name[VG_SYNTH_NAME_MAX];
};

enum vg_synth_kind {
    VG_SYNTH_PATTERN = 0,           /* the rule must fire about the account */
    VG_SYNTH_DECOY = 1,             /* near miss: the rule must NOT fire about the account */
};

struct vg_synth_expect {
    enum vg_synth_kind kind;
    enum vg_rule_id rule;
    char account[24];
    /* Only observable where the input carries countries (NDJSON, not AMLworld CSV). */
    bool needs_countries;
    const char *what;               /* static one-line description of the injection */
};

/* Fills opt with the defaults documented on struct vg_synth_options. Can't fail. */
void vg_synth_options_default(struct vg_synth_options *opt);

/* Builds a generator (lays out every injected pattern up front). Returns NULL on bad
 * options (errstr says which) or allocation failure. */
vg_synth_t *vg_synth_create(const struct vg_synth_options *opt, char *errstr, size_t errstr_size);
void vg_synth_destroy(vg_synth_t *s);

/* Produces the next record in event-time order (except the late_ppm ones).
 * Returns true, or false at the end of the stream. */
bool vg_synth_next(vg_synth_t *s, struct vg_synth_txn *out);

/* Records the stream holds in total (0 = endless), and how many are injected ones. */
uint64_t vg_synth_total(const vg_synth_t *s);
uint64_t vg_synth_injected(const vg_synth_t *s);

/* The injected patterns and decoys; valid until vg_synth_destroy. Can't fail. */
size_t vg_synth_expected(const vg_synth_t *s, const struct vg_synth_expect **out);

/* The rule name of an expectation ("fan_in"), "pattern" / "decoy". Can't fail. */
const char *vg_synth_rule_name(enum vg_rule_id rule);
const char *vg_synth_kind_name(enum vg_synth_kind kind);

/* Writes the watchlist file the watchlist patterns need (one id per line, '#' comments).
 * Returns VG_OK or VG_ERR_IO. */
int vg_synth_write_watchlist(const vg_synth_t *s, FILE *f);

/* The demo sanctions list the sanctions patterns are on, as vigil's TSV list format
 * (docs/SCREENING.md): a static NUL-terminated string. Can't fail. */
const char *vg_synth_sanctions_list(void);

/* Writes the expectation file: one line "kind<TAB>rule<TAB>account" per expectation;
 * with_countries false leaves out what only NDJSON can show. Returns VG_OK or VG_ERR_IO. */
int vg_synth_write_expected(const vg_synth_t *s, FILE *f, bool with_countries);

/* Renders one NDJSON line (with '\n'): ts as epoch ms, amount as a JSON number.
 * Returns its length, or 0 when cap is too small (VG_SYNTH_LINE_MAX always suffices). */
size_t vg_synth_format_ndjson(const struct vg_synth_txn *t, char *buf, size_t cap);
/* The same with the backtest's boolean "label" member (laundering or not) last. */
size_t vg_synth_format_ndjson_labelled(const struct vg_synth_txn *t, char *buf, size_t cap);

/* Writes an AMLworld-style patterns file: per laundering attempt "BEGIN LAUNDERING ATTEMPT -
 * TYPOLOGY", its transactions as the CSV lines vg_synth_format_csv writes, "END LAUNDERING
 * ATTEMPT - TYPOLOGY". Typologies: the rule-shaped ones (FAN-IN, FAN-OUT, CYCLE,
 * SCATTER-GATHER, GATHER-SCATTER, STRUCTURING, ...) and, with uncatchable, STACK, BIPARTITE,
 * RANDOM. Returns VG_OK or VG_ERR_IO / VG_ERR_NOMEM. */
int vg_synth_write_patterns(const vg_synth_t *s, FILE *f);

/* Renders one AMLworld CSV data line (with '\n'). Countries are not representable and
 * are dropped; times are truncated to the minute. Same return convention. */
size_t vg_synth_format_csv(const struct vg_synth_txn *t, char *buf, size_t cap);

/* The AMLworld header line (with '\n'). Same return convention. */
size_t vg_synth_csv_header(char *buf, size_t cap);

/* Converts a record into the engine's vg_txn (amount in base currency via rates, id =
 * seq + 1). Returns VG_OK, or VG_ERR_NOTFOUND (no rate) / VG_ERR_RANGE (overflow). */
int vg_synth_to_txn(const struct vg_synth_txn *t, const struct vg_currency_table *rates,
                    struct vg_txn *out);

#endif
