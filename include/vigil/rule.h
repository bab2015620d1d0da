/* rule.h - the rule interface: one const struct vg_rule_def per typology (one file each in
 * engine/rules/), a parameter table that drives config parsing and defaults, and the view
 * of an account's recent events that account-stage rules read. Adding a typology means one
 * file plus one line in engine/rules/registry.c. */
#ifndef VIGIL_RULE_H
#define VIGIL_RULE_H

#include "vigil/common.h"
#include "vigil/txn.h"

/* Rule ids: the registry order. Stays in sync with engine/rules/registry.c. */
enum vg_rule_id {
    VG_RULE_LARGE_TX = 0,
    VG_RULE_STRUCTURING,
    VG_RULE_FAN_IN,
    VG_RULE_FAN_OUT,
    VG_RULE_PASS_THROUGH,
    VG_RULE_CYCLE,
    VG_RULE_SCATTER_GATHER,
    VG_RULE_GATHER_SCATTER,
    VG_RULE_VELOCITY,
    VG_RULE_DORMANT,
    VG_RULE_WATCHLIST,
    VG_RULE_HIGH_RISK_COUNTRY,
    VG_RULE_SANCTIONS,
    VG_RULE_MAX /* stays last */
};

enum vg_severity { VG_SEVERITY_LOW = 0, VG_SEVERITY_MEDIUM, VG_SEVERITY_HIGH };
const char *vg_severity_name(enum vg_severity s);

/* Where a rule runs: account rules in the shard owning the account, graph rules in the
 * graph stage that sees every transfer. */
enum vg_rule_stage { VG_STAGE_ACCOUNT = 0, VG_STAGE_GRAPH = 1 };

/* ---- parameters ------------------------------------------------------------------ */

enum vg_param_type {
    VG_PARAM_DURATION,   /* int64_t ms; "90s", "15m", "48h", "7d" */
    VG_PARAM_MONEY,      /* int64_t micro-units of base currency; decimal */
    VG_PARAM_RATIO,      /* int64_t parts per million; decimal like 0.15 or 10 */
    VG_PARAM_COUNT,      /* int64_t, integer >= 0 */
    VG_PARAM_PATH,       /* char[VG_PARAM_PATH_MAX] */
    VG_PARAM_COUNTRIES,  /* struct vg_name_list of ISO alpha-2 codes (upper-cased) */
    VG_PARAM_NAMES,      /* struct vg_name_list of lower-cased names (channels) */
    VG_PARAM_LIST_FILES, /* struct vg_list_files: [{name, file, format}, ...] (sanctions) */
};

#define VG_PARAM_PATH_MAX 1024
#define VG_NAME_LIST_MAX 64

struct vg_name_list {
    uint32_t count;
    uint8_t lens[VG_NAME_LIST_MAX];
    char names[VG_NAME_LIST_MAX][VG_CHANNEL_MAX + 1];
};

/* True when name (any case for countries, exact lower-case for names) is in the list. */
bool vg_name_list_contains(const struct vg_name_list *list, const char *name, size_t len);

/* Named list files (rules.sanctions.lists); the format is checked by the rule's prepare. */
#define VG_LIST_FILES_MAX 16
#define VG_LIST_NAME_MAX 63
struct vg_list_file {
    char name[VG_LIST_NAME_MAX + 1];
    char format[24];
    char file[VG_PARAM_PATH_MAX];
};
struct vg_list_files {
    uint32_t count;
    struct vg_list_file lists[VG_LIST_FILES_MAX];
};

struct vg_param_def {
    enum vg_param_type type;
    const char *key;            /* YAML key under rules.<name> */
    const char *default_value;  /* as it would be written in YAML ("72h", "[KP, IR, MM]") */
    size_t offset;              /* offsetof(params struct, field) */
    const char *description;
};

/* ---- the account-side view ------------------------------------------------------- */

enum vg_dir { VG_DIR_OUT = 0, VG_DIR_IN = 1 };

/* One recent event of an account, as rules see it. Pointers stay valid for the duration
 * of the on_event call only. */
struct vg_event_view {
    int64_t ts_ms;
    int64_t amount_micros;
    uint64_t seq;                 /* input position: ties in ts are ordered by seq */
    uint64_t counterparty_hash;   /* low 32 bits of the counterparty id's XXH3-64 (a hint for
                                   * vg_distinct, which compares ids exactly) */
    const char *counterparty;
    const char *tx_id;
    uint8_t counterparty_len;
    uint8_t tx_id_len;
    uint8_t dir;                  /* enum vg_dir, from this account's point of view */
};

/* Compact per-account activity histogram (velocity baselines beyond the event window). */
struct vg_activity;

/* Count of the account's events with ts in [from_ms, to_ms), estimated from the
 * histogram (exact on bucket boundaries, proportional inside a bucket). */
uint64_t vg_activity_count(const struct vg_activity *activity, int64_t from_ms, int64_t to_ms);

struct vg_scratch;      /* per-worker scratch memory (distinct sets) */
struct vg_alert_out;    /* where a rule's alerts go (cooldown, formatting, queueing) */
struct vg_config;

/* What an account-stage rule sees for one account-side event. */
struct vg_rule_ctx {
    const struct vg_txn *txn;          /* the transaction being processed */
    enum vg_dir dir;                   /* OUT: the account is txn->from; IN: txn->to */
    struct vg_str account;
    uint64_t account_hash;             /* vg_hash64_id of the account (what routed it here) */
    struct vg_str counterparty;
    int64_t first_seen_ms;             /* first activity of the account (this event counts) */
    int64_t prev_last_seen_ms;         /* newest activity before this event; VG_TS_NONE if none */
    /* The account's live events sorted by (ts_ms, seq), this event included at index
     * `current`. Events newer than this one (it may be late) are included too: rules look
     * at [txn->ts_ms - window, txn->ts_ms] via vg_window_range. At most
     * engine.max_window_events of the newest events are present. */
    const struct vg_event_view *events;
    size_t n_events;
    size_t current;
    const struct vg_activity *activity;
    const struct vg_config *config;
    struct vg_scratch *scratch;
};

/* Index range [*lo, *hi) of ctx->events with ts in [ts - window_ms, ts] where ts is the
 * current event's time. Can't fail. */
void vg_window_range(const struct vg_rule_ctx *ctx, int64_t window_ms, size_t *lo, size_t *hi);

/* Running sums over an account's window ending at its newest event, kept up to date on
 * every in-order append and on expiry (engine/window_sums.c), so that a rule can tell
 * without a window view that an in-order event cannot alert. The window is the one a view
 * would give the event: ts in [t - window_ms, t], not older than the store's horizon, at
 * most engine.max_window_events of the newest events. */
struct vg_window_sums {
    int64_t window_ms;                 /* the window the sums are kept for */
    int64_t n[2];                      /* events per direction (enum vg_dir) */
    __int128 sum[2];                   /* their amounts */
    int64_t distinct[2];               /* distinct counterparties per direction, exact ids */
    int64_t big_min_micros;            /* the amount big_in_ts is kept for */
    int64_t big_in_ts;                 /* newest IN event >= big_min_micros that a view of
                                        * any window would hold; VG_TS_NONE if none */
    int64_t band_threshold_micros;     /* the band [threshold * (1 - margin), threshold) ... */
    int64_t band_margin_ppm;
    int64_t n_band[2];                 /* ... its events per direction in the window */
    __int128 sum_band[2];
    int64_t short_window_ms;           /* a second window, events of both directions counted */
    int64_t n_short;
    /* the account, as the rule context has it */
    int64_t first_seen_ms;
    const struct vg_activity *activity;
};

/* ---- exact distinct counting over a scratch set ------------------------------------ */

/* Clears the worker's distinct set (slot = 0..VG_DISTINCT_SETS-1; two sets can be live). */
#define VG_DISTINCT_SETS 2
void vg_distinct_reset(struct vg_scratch *scratch, int slot);
/* Adds an id; returns true when it was not yet in the set. Ids are compared exactly. */
bool vg_distinct_add(struct vg_scratch *scratch, int slot, uint64_t hash, const char *id, size_t len);
size_t vg_distinct_count(const struct vg_scratch *scratch, int slot);

/* ---- the rule definition ----------------------------------------------------------- */

struct vg_alert;
struct vg_graph_ctx;    /* defined by engine/graph (graph-stage rules only) */

struct vg_rule_def {
    const char *name;                 /* config key and alert "rule" value */
    const char *description;
    enum vg_rule_stage stage;
    enum vg_severity default_severity;
    size_t params_size;
    const struct vg_param_def *params;    /* ends with an entry whose key is NULL */
    /* Optional: after parsing, check relations between params and load files
     * (watchlist). base_dir is the config file's directory for relative paths.
     * Returns VG_OK or an error with errstr "rules.<name>.<key>: why". */
    int (*prepare)(void *params, const char *base_dir, char *errstr, size_t errstr_size);
    /* True when the rule suppresses repeats itself (sanctions: per account and list entry)
     * instead of the stage's (rule, account) cooldown. */
    bool own_cooldown;
    /* Optional: frees what prepare allocated. */
    void (*release)(void *params);
    /* How far back in event time the rule reads an account's events (0: only the current
     * event). Used to size the account store's retention. */
    int64_t (*lookback_ms)(const void *params);
    /* Optional cheap prefilter, asked before the window view is built: false means on_event
     * would find nothing to do for this event (wrong direction, amount outside a band).
     * `late`: the account already has events newer than this one. NULL = always. */
    bool (*wants)(const struct vg_txn *txn, enum vg_dir dir, bool late, const void *params);
    /* Optional: the fewest events (this one included) the account must hold in its window
     * state for on_event to possibly alert, e.g. min_counterparties for fan_in. Accounts
     * holding fewer skip the rule, and its window view, entirely. NULL = 1. */
    int64_t (*min_events)(const void *params);
    /* Optional: false when the account's own span of activity rules out an alert on any
     * event its window holds, e.g. velocity's min_history. first_seen_ms / last_seen_ms:
     * the account's earliest and newest event time, this event included. Asked before the
     * window view is built (a hub's view can hold engine.max_window_events entries).
     * NULL = always ready. */
    bool (*account_ready)(int64_t first_seen_ms, int64_t last_seen_ms, const void *params);
    /* Optional: true when the window sums prove that on_event would emit nothing for this
     * event, which is the account's newest (not late) and included in the sums. Asked
     * before a window view is built; a rule whose window is not sums->window_ms (or whose
     * amount is not big_min_micros) answers false. NULL = never settled. */
    bool (*settled)(const struct vg_window_sums *sums, const struct vg_txn *txn, enum vg_dir dir,
                    const void *params);
    /* Account stage: called for every account-side event unless the rule is disabled, in
     * cooldown for this account, or its `wants` says no. Emits through vg_alert_emit. */
    void (*on_event)(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out);
    /* Graph stage: called by the graph stage for each new edge (see graph.h). */
    void (*on_edge)(struct vg_graph_ctx *ctx, const void *params, struct vg_alert_out *out);
};

/* The registry, indexed by enum vg_rule_id. */
extern const struct vg_rule_def *const vg_rule_registry[VG_RULE_MAX];

/* Looks a rule up by name; returns its id or -1. */
int vg_rule_find(const char *name, size_t len);

/* Score helper: 0.5 at observed == threshold, growing towards 1 as observed/threshold grows.
 * Returns a value in [0, 1]. */
double vg_score_strength(double observed, double threshold);

#endif
