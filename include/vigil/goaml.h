/* goaml.h - vigil-goaml: goAML report drafts from vigil's alerts (connectors/goaml/).
 * Alerts (NDJSON, alerts.evidence: full) are read into struct vg_goaml_alert, grouped per
 * account and report.case_period into cases, each case rendered as one goAML <report>,
 * validated in-process against the FIU's own XSD (libxml2) and written atomically to
 * report.output_dir (or rejected/ with the validator's messages). Not on the engine's path. */
#ifndef VIGIL_GOAML_H
#define VIGIL_GOAML_H

#include "vigil/common.h"
#include "vigil/currency.h"
#include "vigil/report.h"

/* ---- alerts in (alert_json.c) ------------------------------------------------------------ */

/* One evidence transaction as the alert carries it (contract section 4). Strings are
 * NUL-terminated copies ("" when absent); bytes XML cannot carry are already replaced. */
struct vg_goaml_tx {
    char *id, *from, *to;
    int64_t ts_ms;
    char *amount, *currency;          /* as sent ("" when the alert did not carry them) */
    char *amount_base, *base_currency;
    char *channel, *from_country, *to_country, *from_bank, *to_bank, *from_name, *to_name;
};

struct vg_goaml_metric {
    char *key, *value;                /* value as its JSON text (strings unquoted) */
};

struct vg_goaml_alert {
    char *alert_id, *rule, *account, *severity, *score;
    int64_t window_start_ms, window_end_ms;
    size_t n_tx_ids, n_accounts, n_metrics, n_evidence;
    char **tx_ids;
    char **accounts;
    struct vg_goaml_metric *metrics;
    struct vg_goaml_tx *evidence;     /* n_evidence == 0: an alert of evidence: ids */
};

/* Parses one alert line. Returns VG_OK, VG_ERR_INVALID (errstr says why) or VG_ERR_NOMEM. */
int vg_goaml_alert_parse(const char *line, size_t len, struct vg_goaml_alert *out, char *errstr,
                         size_t errstr_size);
void vg_goaml_alert_free(struct vg_goaml_alert *a);

/* ---- cases (cases.c) ---------------------------------------------------------------------- */

/* Alerts about one account whose window_end falls within case_period of the first one's. */
struct vg_goaml_case {
    char id[40];                      /* "case-" + 32 hex: XXH3-128 of account and first alert_id */
    const char *account;
    size_t n_alerts;
    struct vg_goaml_alert **alerts;   /* by (window_end, alert_id) */
    size_t n_txs;
    const struct vg_goaml_tx **txs;   /* every evidence transaction once, by (ts, id) */
};

struct vg_goaml_cases;

/* Called for each closed case; the case is freed after the call. Returns 0 or negative
 * (a failure the caller reports: the case counts as not written). */
typedef int (*vg_goaml_case_fn)(void *opaque, const struct vg_goaml_case *c);

/* Returns NULL on allocation failure. */
struct vg_goaml_cases *vg_goaml_cases_create(int64_t case_period_ms);
/* Takes ownership of a (heap-allocated, parsed). Duplicates (same alert_id) are dropped.
 * Returns VG_OK or VG_ERR_NOMEM. */
int vg_goaml_cases_add(struct vg_goaml_cases *cs, struct vg_goaml_alert *a);
/* Closes (hands to fn, in case id order) every case whose period ended before horizon_ms
 * (event time; INT64_MAX: all). Returns the number of cases for which fn failed. */
size_t vg_goaml_cases_close(struct vg_goaml_cases *cs, int64_t horizon_ms, vg_goaml_case_fn fn, void *opaque);
size_t vg_goaml_cases_open(const struct vg_goaml_cases *cs);
void vg_goaml_cases_destroy(struct vg_goaml_cases *cs);

/* ---- the bank's own clients (clients.c) ----------------------------------------------------- */

/* One row of report.clients (a CSV with a header naming these columns; "" when absent).
 * holder: "person" (first_name, last_name...) or "entity" (name, incorporation_*). */
struct vg_goaml_client {
    char *account, *client_number, *currency, *personal_account_type, *holder, *status_code, *opened, *branch,
        *iban, *name, *first_name, *last_name, *gender, *birthdate, *id_number, *nationality, *residence,
        *occupation, *legal_form, *incorporation_number, *business, *incorporation_country, *role;
    size_t line;                      /* its line in the file */
};

struct vg_goaml_clients;

/* Loads the CSV. Returns VG_OK, or VG_ERR_IO / VG_ERR_INVALID / VG_ERR_NOMEM with errstr
 * "PATH:LINE: why". */
int vg_goaml_clients_load(struct vg_goaml_clients **out, const char *path, char *errstr, size_t errstr_size);
/* The client row of account, or NULL (not a client, or cs NULL). Can't fail. */
const struct vg_goaml_client *vg_goaml_clients_find(const struct vg_goaml_clients *cs, const char *account);
size_t vg_goaml_clients_count(const struct vg_goaml_clients *cs);
void vg_goaml_clients_destroy(struct vg_goaml_clients *cs);

/* ---- the goAML document (goaml_xml.c) ----------------------------------------------------- */

/* What a draft is rendered with besides the case. */
struct vg_goaml_render_ctx {
    const struct vg_report_config *r;
    const struct vg_currency_table *rates;   /* base = the alerts' amount_base currency;
                                              * amounts go to report.currency_local with it */
    const struct vg_goaml_clients *clients;  /* the bank's own accounts, or NULL */
    bool schema_has_activity;                /* the FIU's XSD declares <activity> */
    int64_t submission_ms;                   /* submission_date */
};

/* Renders c as one goAML <report> (UTF-8 XML, no namespace) into a malloc'd buffer: with
 * its evidence transactions when the case has some and a rule of it maps to a report code
 * that is not in report.activity_codes; else as an <activity> of the parties when a rule
 * maps to an activity code and the schema has <activity>. Returns VG_OK (*xml, *len set;
 * caller frees), VG_ERR_INVALID when neither form applies ("not reportable as STR": errstr
 * says why), or VG_ERR_NOMEM. */
int vg_goaml_render(const struct vg_goaml_render_ctx *ctx, const struct vg_goaml_case *c, char **xml, size_t *len,
                    char *errstr, size_t errstr_size);

/* Appends s as XML character data (&, <, >, quotes escaped; bytes XML 1.0 cannot carry
 * become U+FFFD) to buf; returns the bytes written or 0 when cap is too small. */
size_t vg_xml_escape(const char *s, size_t len, char *buf, size_t cap);

/* ---- validation (validate.c) ------------------------------------------------------------ */

struct vg_goaml_validator;

/* Loads the FIU's XSD. Returns VG_OK, or VG_ERR_INVALID with the schema's own errors. */
int vg_goaml_validator_create(struct vg_goaml_validator **out, const char *xsd_path, char *errstr,
                              size_t errstr_size);
void vg_goaml_validator_destroy(struct vg_goaml_validator *v);
/* Whether the schema declares an element of this name anywhere (e.g. "activity"). */
bool vg_goaml_validator_declares(const struct vg_goaml_validator *v, const char *element);
/* Validates xml. Returns VG_OK, or VG_ERR_INVALID with one line per problem in *messages
 * ("line N: element 'x': why"; malloc'd, caller frees). */
int vg_goaml_validate(struct vg_goaml_validator *v, const char *xml, size_t len, char **messages);

/* ---- output (drafts_out.c) ---------------------------------------------------------------- */

/* Writes dir/name atomically: dir/.name.tmp, fsync, rename, fsync of dir. Creates dir.
 * Returns VG_OK or VG_ERR_IO (errstr says why). */
int vg_goaml_write_file(const char *dir, const char *name, const char *data, size_t len, char *errstr,
                        size_t errstr_size);

/* ---- the drafter (drafter.c) -------------------------------------------------------------- */

struct vg_goaml_stats {
    uint64_t alerts, bad_alerts, cases, drafted, rejected, not_reportable, write_failures;
    uint64_t open_cases;              /* a gauge: cases waiting for their period to end */
};

/* Where a validated draft goes: a function (Kafka) or, when NULL, files in output_dir. */
typedef int (*vg_goaml_publish_fn)(void *opaque, const char *case_id, const char *xml, size_t len);

struct vg_goaml_drafter;

/* r and rates must outlive the drafter. Returns VG_OK or VG_ERR_INVALID (schema not
 * loadable, report section missing what every draft needs) with errstr. */
int vg_goaml_drafter_create(struct vg_goaml_drafter **out, const struct vg_report_config *r,
                            const struct vg_currency_table *rates, int64_t lateness_ms,
                            vg_goaml_publish_fn publish, void *opaque, char *errstr, size_t errstr_size);
/* lateness_ms: how far (event time) an alert's window_end may trail the newest seen and
 * still join its case (engine.allowed_lateness). */
/* One alert line in; closes cases whose period ended. Bad lines are counted and logged. */
void vg_goaml_drafter_line(struct vg_goaml_drafter *d, const char *line, size_t len);
/* Cases still open (waiting for their period to end). */
size_t vg_goaml_drafter_open_cases(const struct vg_goaml_drafter *d);
/* Closes every open case (end of input). */
void vg_goaml_drafter_flush(struct vg_goaml_drafter *d);
/* The counters; safe to call from another thread (the metrics server's). */
void vg_goaml_drafter_stats(const struct vg_goaml_drafter *d, struct vg_goaml_stats *out);
/* For tests: a fixed submission_date instead of the wall clock. */
void vg_goaml_drafter_set_clock(struct vg_goaml_drafter *d, int64_t submission_ms);
void vg_goaml_drafter_destroy(struct vg_goaml_drafter *d);

#endif
