/* config.h - the parsed, validated vigil.yaml (contract section 6) as one immutable struct.
 * A reload builds a new vg_config and swaps it in; a config is never mutated while in use.
 * Rule parameters are described by tables (struct vg_param_def, see rule.h) so that
 * parsing, defaults, --help text and deploy/vigil.yaml all come from one place. */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include "vigil/common.h"
#include "vigil/currency.h"
#include "vigil/rule.h"

#define VG_TOPIC_MAX 250
#define VG_PATH_MAX 1024
#define VG_KAFKA_PROPS_MAX 64

enum vg_input_kind { VG_INPUT_KAFKA = 0, VG_INPUT_FILE = 1 };
enum vg_log_level { VG_LOG_ERROR = 0, VG_LOG_WARN, VG_LOG_INFO, VG_LOG_DEBUG };

struct vg_kafka_property {
    char key[128];
    char value[512];
};

struct vg_rule_config {
    bool enabled;
    enum vg_severity severity;
    void *params;              /* owned; layout given by the rule's vg_rule_def */
};

struct vg_config {
    char path[VG_PATH_MAX];    /* file it came from, "" for built-in defaults */

    struct {
        enum vg_input_kind kind;           /* input.kind: kafka (default) | file */
        char topic[VG_TOPIC_MAX + 1];      /* input.topic, default "transactions" */
        char group[VG_TOPIC_MAX + 1];      /* input.group, default "vigil" */
        char file[VG_PATH_MAX];            /* input.file (kind file), "-" = stdin */
        enum vg_format_kind { VG_CFG_FORMAT_NDJSON = 0, VG_CFG_FORMAT_AMLWORLD_CSV = 1 } format;
        char instance_id[VG_TOPIC_MAX + 1]; /* input.instance_id: group.instance.id, "" = none */
        int64_t idle_timeout_ms;           /* input.idle_timeout, default 1s: an empty partition holds the merge that long */
        int64_t max_clock_skew_ms;         /* input.max_clock_skew, default 1h: Kafka records further ahead of the wall clock may be far-future */
        /* Distributed mode (docs/ARCHITECTURE.md "Several instances"): "" = one process. */
        char repartition_topic[VG_TOPIC_MAX + 1]; /* input.repartition_topic: account-side events, keyed by account */
        int repartition_partitions;        /* input.repartition_partitions, default 8: account tasks (the topic has one more: the graph task) */
        char repartition_group[VG_TOPIC_MAX + 1]; /* input.repartition_group, default "<input.group>.tasks" */
    } input;
    struct {
        char topic[VG_TOPIC_MAX + 1];      /* output.topic, default "alerts" */
        bool exactly_once;                 /* output.exactly_once, default false */
        char file[VG_PATH_MAX];            /* output.file (kind file), "-" = stdout */
    } output;
    struct {
        char topic[VG_TOPIC_MAX + 1];      /* dead_letter.topic, default "transactions.dead_letter" */
        char file[VG_PATH_MAX];            /* dead_letter.file (file mode), "" = stderr count only */
    } dead_letter;
    struct {
        char brokers[VG_PATH_MAX];         /* kafka.brokers, no default ("" = not written) */
        size_t property_count;
        struct vg_kafka_property properties[VG_KAFKA_PROPS_MAX]; /* kafka.properties */
    } kafka;
    struct {
        int threads;                       /* engine.threads, default = online cores (0 in yaml = auto) */
        int64_t allowed_lateness_ms;       /* engine.allowed_lateness, default 5m */
        int64_t max_time_jump_ms;          /* engine.max_time_jump, default 7d; 0 = no far-future guard */
        uint32_t ring_size;                /* engine.ring_size, slots per shard ring, power of two, default 32768 */
        uint32_t graph_budget;             /* engine.graph_budget, edges visited per graph search, default 20000 */
        uint32_t max_window_events;        /* engine.max_window_events, newest events of one account a rule sees, default 4096 */
        int64_t shutdown_timeout_ms;       /* engine.shutdown_timeout: bound on a stop's drain, default 20s */
    } engine;
    struct vg_currency_table currency;     /* currency.base, currency.rates.<CODE> */
    struct {
        int64_t cooldown_ms;               /* alerts.cooldown, default 24h */
        uint32_t max_evidence;             /* alerts.max_evidence, default 64, at most VG_EVIDENCE_MAX */
        /* alerts.evidence: ids (default) | full (the evidence transactions themselves);
         * read at start, a reload keeps the running mode */
        enum vg_evidence_mode { VG_EVIDENCE_IDS = 0, VG_EVIDENCE_FULL = 1 } evidence;
    } alerts;
    struct vg_rule_config rules[VG_RULE_MAX];
    struct {
        char listen[256];                  /* metrics.listen HOST:PORT, "" = off */
    } metrics;
    struct {
        char dir[VG_PATH_MAX];             /* state.dir, "" = no checkpoints */
        unsigned long dir_line;            /* line state.dir was written on (messages), 0 = none */
        int64_t interval_ms;               /* state.interval, default 30s */
        char topic[VG_TOPIC_MAX + 1];      /* state.topic: task state for distributed mode (compacted), "" = none */
    } state;
    struct vg_report_config *report;       /* report: (goAML drafts, report.h); NULL when not written */
    struct {
        enum vg_log_level level;           /* log.level: error|warn|info|debug, default info */
    } log;
};

/* Fills cfg with the built-in defaults (every rule enabled, contract defaults).
 * Returns VG_OK or VG_ERR_NOMEM. Release with vg_config_free. */
int vg_config_defaults(struct vg_config *cfg);

/* Settings the environment gives every instance of one config file: VIGIL_INSTANCE_ID
 * (non-empty) replaces input.instance_id (systemd's vigild@.service sets it to %i). */
void vg_config_apply_env(struct vg_config *cfg);

/* Loads and validates a YAML file on top of the defaults. Unknown keys and bad values
 * fail with errstr like "vigil.yaml:12: rules.fan_in.window: bad duration 'x'".
 * Rule files (watchlist) are loaded too. Returns VG_OK, VG_ERR_INVALID or VG_ERR_IO;
 * on failure cfg holds nothing to free. */
int vg_config_load(struct vg_config *cfg, const char *path, char *errstr, size_t errstr_size);

/* Checks of vg_config_load_checked beyond the file itself, for how it is about to be used. */
#define VG_CONFIG_CHECK_KAFKA 1u      /* consuming Kafka if input.kind is kafka: kafka.brokers written */
#define VG_CONFIG_CHECK_STATE_DIR 2u  /* input.kind kafka: state.dir (if set) exists or can be created,
                                       * and is writable (a replay never uses state.dir) */
/* vg_config_load plus `checks`; every error of the file and of the checks is reported in
 * the same errstr, one "FILE:LINE: KEY: why" line each. */
int vg_config_load_checked(struct vg_config *cfg, const char *path, unsigned checks, char *errstr,
                           size_t errstr_size);

/* Same, from an in-memory YAML document; name is used in messages (fuzzing, tests). */
int vg_config_load_buffer(struct vg_config *cfg, const char *name, const char *yaml, size_t len,
                          char *errstr, size_t errstr_size);
int vg_config_load_buffer_checked(struct vg_config *cfg, const char *name, const char *yaml, size_t len,
                                  unsigned checks, char *errstr, size_t errstr_size);

/* One setting given outside the file ("rules.fan_in.min_counterparties" = "6"), read as if
 * the file held it there: vigil-backtest's --sweep points. source names it in messages. */
struct vg_config_override {
    const char *source;        /* e.g. "--sweep"; NULL = "override" */
    const char *key;           /* dotted path, as written in vigil.yaml */
    const char *value;         /* a plain YAML scalar */
};

/* vg_config_load (path NULL: the built-in defaults only), then each override in order on
 * top, then the checks and prepare() as for a file. An unknown key or a bad value fails
 * like a file's: "--sweep:1: rules.fan_in.min_countrparties: unknown key (...)".
 * Same returns as vg_config_load. */
int vg_config_load_overrides(struct vg_config *cfg, const char *path, const struct vg_config_override *ov,
                             size_t n_ov, char *errstr, size_t errstr_size);

/* Releases rule params and loaded lists. Safe on a zeroed or defaulted config. */
void vg_config_free(struct vg_config *cfg);

/* Number of shard threads to run: engine.threads or the online core count. */
int vg_config_threads(const struct vg_config *cfg);
/* Kafka mode needs kafka.brokers written (contract section 6: no default). Returns VG_OK,
 * or VG_ERR_INVALID with "FILE: kafka.brokers: why" in errstr. */
int vg_config_check_kafka_mode(const struct vg_config *cfg, char *errstr, size_t errstr_size);

/* Event-time span the account store must keep: the longest enabled account-rule window
 * plus allowed lateness. Can't fail. */
int64_t vg_config_account_horizon_ms(const struct vg_config *cfg);

/* Convenience: the params of a rule, typed by the caller. */
static inline const void *vg_config_params(const struct vg_config *cfg, enum vg_rule_id id) {
    return cfg->rules[id].params;
}

#endif
