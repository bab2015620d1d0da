/* backtest.h - vigil-backtest: run the production engine over a labelled history held in
 * memory and measure each rule against the labels (precision, recall, workload), for one
 * config or a grid of threshold settings. Not a second engine: alerts come from engine.c. */
#ifndef VIGIL_BACKTEST_H
#define VIGIL_BACKTEST_H

#include <stdio.h>

#include "vigil/config.h"
#include "vigil/ingest.h"
#include "vigil/txn.h"

/* ---- the labelled data set (engine/backtest/dataset.c, read by connectors/file/labelled.c) */

/* Transactions as parsed (packed: fixed fields plus their strings), each with its label,
 * and an index from transaction id to position. Immutable once loaded: engines running in
 * parallel read it without locks. */
typedef struct vg_bt_data vg_bt_data_t;

/* Reads a whole file once: AMLworld CSV (label = `Is Laundering`, 1 or 0) or NDJSON (label =
 * the optional boolean `label` member; absent, null or false = not laundering). Records the
 * parser refuses are counted, as replay dead-letters them. Rates convert amounts exactly as
 * vigild would. Returns VG_OK, VG_ERR_IO (cannot open/read), VG_ERR_NOMEM, with errstr. */
int vg_bt_data_load(vg_bt_data_t **out, const char *path, enum vg_format format,
                    const struct vg_currency_table *rates, char *errstr, size_t errstr_size);

/* An empty data set to append to (tests, loaders). NULL on allocation failure. */
vg_bt_data_t *vg_bt_data_new(void);
/* Appends one parsed transaction with its label; txn->seq is ignored. Returns VG_OK or
 * VG_ERR_NOMEM. */
int vg_bt_data_append(vg_bt_data_t *d, const struct vg_txn *txn, bool laundering);
/* Builds the id index; call once after the last append. Returns VG_OK or VG_ERR_NOMEM. */
int vg_bt_data_seal(vg_bt_data_t *d);
/* Builds the identity index vg_bt_data_match needs (patterns files); after seal, before
 * runs start. Returns VG_OK or VG_ERR_NOMEM. */
int vg_bt_data_index_identities(vg_bt_data_t *d);
bool vg_bt_data_has_identities(const vg_bt_data_t *d);
void vg_bt_data_free(vg_bt_data_t *d);

struct vg_bt_data_counts {
    uint64_t transactions;      /* accepted records */
    uint64_t laundering;        /* of which labelled laundering */
    uint64_t refused;           /* records the parser refused (not in the stream) */
    uint64_t refused_laundering;/* of which labelled laundering (CSV only: the label is readable) */
    uint64_t bad_labels;        /* label present but neither 0/1 nor a boolean: read as 0 */
    uint64_t duplicate_ids;     /* ids given twice: evidence resolves to the first */
};
void vg_bt_data_counts(const vg_bt_data_t *d, struct vg_bt_data_counts *out);
/* Counts a record the parser refused (with its label when readable), or a bad label. */
void vg_bt_data_add_refused(vg_bt_data_t *d, bool laundering);
void vg_bt_data_bad_label(vg_bt_data_t *d);
size_t vg_bt_data_size(const vg_bt_data_t *d);
/* Unpacks record i (seq = i). Can't fail for i < size. */
void vg_bt_data_txn(const vg_bt_data_t *d, size_t i, struct vg_txn *out);
bool vg_bt_data_label(const vg_bt_data_t *d, size_t i);
/* Position of the record with this id, or -1. Thread-safe after seal. */
int64_t vg_bt_data_find(const vg_bt_data_t *d, const char *id, size_t len);
/* Position of a record equal to key in time, from, to, base amount and channel (the
 * identity a patterns-file line carries), or -1. With after >= 0 (a position this returned)
 * it gives the next equal record instead. Needs vg_bt_data_index_identities. */
int64_t vg_bt_data_match(const vg_bt_data_t *d, const struct vg_txn *key, int64_t after);

/* ---- the patterns file (connectors/file/patterns.c) ------------------------------------ */

#define VG_BT_TYPOLOGY_MAX 32
#define VG_BT_TYPOLOGY_LEN 32

/* Laundering attempts as IBM's AMLworld *_Patterns.txt lists them:
 *   BEGIN LAUNDERING ATTEMPT - FAN-OUT:  Max 16-degree Fan-Out
 *   2022/09/01 05:14,00952,8139F54E0,0111632,8062C56E0,5331.44,US Dollar,5331.44,US Dollar,ACH,1
 *   END LAUNDERING ATTEMPT - FAN-OUT
 * The typology is the word after "- " up to ':' (FAN-IN, CYCLE, STACK, ...). */
struct vg_bt_attempt {
    uint32_t typology;          /* index into typologies[] */
    uint32_t first, count;      /* its transactions: txns[first .. first+count) */
    uint32_t line;              /* line of its BEGIN */
};
struct vg_bt_patterns {
    size_t n_typologies;
    char typologies[VG_BT_TYPOLOGY_MAX][VG_BT_TYPOLOGY_LEN];
    size_t n_attempts;
    struct vg_bt_attempt *attempts;
    size_t n_txns;
    struct vg_txn *txns;        /* parsed pattern lines, seq = their line number */
};

/* Parses a patterns file held in memory; name is used in messages. Blank lines are
 * skipped. Errors name the line: "p.txt:12: transaction line outside an attempt",
 * "p.txt:40: END without BEGIN", "p.txt:9: field 'Amount Paid': ...", "p.txt:77: file ends
 * inside the attempt begun on line 70", more than VG_BT_TYPOLOGY_MAX typologies.
 * Returns VG_OK, VG_ERR_INVALID or VG_ERR_NOMEM; on failure out holds nothing to free. */
int vg_bt_patterns_parse(struct vg_bt_patterns *out, const char *name, const char *text, size_t len,
                         const struct vg_currency_table *rates, char *errstr, size_t errstr_size);
/* Same, from a file. Also VG_ERR_IO. */
int vg_bt_patterns_load(struct vg_bt_patterns *out, const char *path, const struct vg_currency_table *rates,
                        char *errstr, size_t errstr_size);
void vg_bt_patterns_free(struct vg_bt_patterns *p);

/* ---- one run: the engine over the data set (engine/backtest/run.c, score.c) -------------- */

/* Index VG_RULE_MAX of per-rule arrays is "any rule" (the overall figures). */
#define VG_BT_ALL VG_RULE_MAX

struct vg_bt_rule_figures {
    bool enabled;
    uint64_t alerts;
    uint64_t alerts_laundering;  /* alerts whose evidence holds >= 1 laundering transaction */
    uint64_t accounts;           /* distinct alerted accounts */
    uint64_t tx_evidence;        /* laundering transactions in some alert's evidence */
    uint64_t tx_account;         /* laundering transactions to/from an alerted account inside
                                    that alert's [window_start, window_end] */
    uint64_t attempts_evidence[VG_BT_TYPOLOGY_MAX]; /* attempts with a transaction in evidence */
    uint64_t attempts_account[VG_BT_TYPOLOGY_MAX];  /* attempts with a transaction covered as above */
};

struct vg_bt_figures {
    uint64_t transactions, laundering;
    size_t n_typologies;
    uint64_t attempts[VG_BT_TYPOLOGY_MAX];     /* per typology */
    uint64_t pattern_txns_unmatched;           /* pattern lines found nowhere in the data */
    uint64_t evidence_unresolved;              /* evidence ids not in the data (never expected) */
    double seconds;                            /* wall time of the engine run */
    struct vg_bt_rule_figures rule[VG_RULE_MAX + 1];
};

/* Runs a fresh engine (cfg as given, alerts.max_evidence raised to VG_EVIDENCE_MAX so that
 * evidence is complete; the alerts themselves do not depend on it) over every record of d
 * in file order, collects the alerts in memory and scores them against the labels and,
 * when p is not NULL, the attempts (d must then have its identity index). Safe to call from
 * several threads at once on the same d and p. Returns VG_OK, or an error with errstr
 * (engine start failure, out of memory, VG_ERR_INVALID: p without the identity index). */
int vg_bt_run(const vg_bt_data_t *d, const struct vg_bt_patterns *p, const struct vg_config *cfg,
              struct vg_bt_figures *out, char *errstr, size_t errstr_size);

/* Ratios of figures, 0 when the denominator is 0. */
double vg_bt_precision(const struct vg_bt_rule_figures *r);
double vg_bt_recall(uint64_t hit, uint64_t total);
double vg_bt_per_10k(uint64_t alerts, uint64_t transactions);

/* ---- sweeps (engine/backtest/sweep.c) ---------------------------------------------------- */

#define VG_BT_SWEEP_KEYS 8
#define VG_BT_SWEEP_VALUES 256
#define VG_BT_GRID_MAX 4096
#define VG_BT_VALUE_LEN 48

/* One --sweep KEY=VALUES: a list "a,b,c" or a range "a..b[:step]" of integers, decimals or
 * durations (the step is needed unless both ends are integers: step 1). */
struct vg_bt_sweep_key {
    char key[256];
    size_t n_values;
    char values[VG_BT_SWEEP_VALUES][VG_BT_VALUE_LEN];
};
struct vg_bt_sweep {
    size_t n_keys;
    struct vg_bt_sweep_key keys[VG_BT_SWEEP_KEYS];
};

/* Adds one "KEY=VALUES" spec. Returns VG_OK or VG_ERR_INVALID with errstr naming the spec. */
int vg_bt_sweep_add(struct vg_bt_sweep *s, const char *spec, char *errstr, size_t errstr_size);
/* Points in the grid (the product of the value counts; 1 with no keys). */
size_t vg_bt_sweep_points(const struct vg_bt_sweep *s);
/* The overrides of point i (first key varies slowest), source "--sweep"; ov holds
 * n_keys entries pointing into s. Can't fail for i < points. */
void vg_bt_sweep_point(const struct vg_bt_sweep *s, size_t i, struct vg_config_override *ov);

/* ---- the grid (engine/backtest/grid.c) ---------------------------------------------------- */

struct vg_bt_point {
    struct vg_config_override ov[VG_BT_SWEEP_KEYS];
    size_t n_ov;
    struct vg_bt_figures figures;
};

/* Loads the config of every point (config_path NULL = built-in defaults) and frees it again,
 * so that a bad key or value is reported before any engine runs. Returns VG_OK, or the
 * loader's error ("--sweep:1: rules.fan_in.x: unknown key (...)") with errstr. */
int vg_bt_grid_check(const char *config_path, const struct vg_bt_sweep *s, char *errstr, size_t errstr_size);

/* Runs every point of the grid (one point when s has no keys), `jobs` engines at a time on
 * the same in-memory data; with jobs > 1 each engine runs one shard thread (engine.threads
 * 1) unless the sweep sets engine.threads itself. points[] must hold vg_bt_sweep_points(s)
 * entries and is filled in grid order. Returns VG_OK or the first failure with errstr. */
int vg_bt_grid_run(const vg_bt_data_t *d, const struct vg_bt_patterns *p, const char *config_path,
                   const struct vg_bt_sweep *s, int jobs, struct vg_bt_point *points, char *errstr,
                   size_t errstr_size);

/* ---- reports (connectors/file/backtest_report.c) ----------------------------------------- */

struct vg_bt_report {
    const char *input;
    const char *format;          /* "ndjson" / "amlworld-csv" */
    const char *patterns;        /* path or NULL */
    const char *config;          /* path or NULL (built-in defaults) */
    struct vg_bt_data_counts counts;
    const struct vg_bt_patterns *pat;   /* NULL without --patterns */
    size_t n_points;
    const struct vg_bt_point *points;
    double load_seconds, run_seconds;
    int jobs;
};

/* The text tables (one per point, then a summary row per point when there are several).
 * Returns VG_OK or VG_ERR_IO. */
int vg_bt_report_text(const struct vg_bt_report *r, FILE *f);
/* The JSON report (schema in docs/BACKTEST.md). Returns VG_OK or VG_ERR_IO with errstr. */
int vg_bt_report_json(const struct vg_bt_report *r, const char *path, char *errstr, size_t errstr_size);
/* A PNG of alerts (x) against transaction recall (y) per point and rule, drawn by gnuplot
 * (run as a child process). Returns VG_OK, or VG_ERR_IO with errstr (gnuplot missing or
 * failing). */
int vg_bt_report_plot(const struct vg_bt_report *r, const char *path, char *errstr, size_t errstr_size);

#endif
