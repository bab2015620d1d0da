/* rule_params.h - the parameter structs of every rule (contract section 5), shared by the
 * rule files, the graph stage and tests. Money in micro-units, durations in ms, ratios in
 * parts per million. Each rule file holds the table that maps YAML keys onto these. */
#ifndef VIGIL_RULE_PARAMS_H
#define VIGIL_RULE_PARAMS_H

#include "vigil/rule.h"

struct vg_large_tx_params {
    int64_t threshold_micros;          /* threshold: 10000 */
    struct vg_name_list channels;      /* channels: [] = all */
};

struct vg_structuring_params {
    int64_t threshold_micros;          /* threshold: 10000 */
    int64_t margin_ppm;                /* margin: 0.15 */
    int64_t min_count;                 /* min_count: 3 */
    int64_t window_ms;                 /* window: 72h */
};

/* fan_in and fan_out */
struct vg_fan_params {
    int64_t min_counterparties;        /* 8 */
    int64_t min_total_micros;          /* 5000 */
    int64_t window_ms;                 /* 72h */
};

struct vg_pass_through_params {
    int64_t min_amount_micros;         /* 5000 */
    int64_t ratio_ppm;                 /* 0.8 */
    int64_t window_ms;                 /* 48h */
};

struct vg_cycle_params {
    int64_t max_hops;                  /* 6 (2..16) */
    int64_t min_amount_micros;         /* 1000 */
    int64_t window_ms;                 /* 7d */
};

struct vg_scatter_gather_params {
    int64_t min_intermediaries;        /* 3 */
    int64_t min_amount_micros;         /* 1000 */
    int64_t window_ms;                 /* 7d */
};

struct vg_gather_scatter_params {
    int64_t min_counterparties;        /* 5 */
    int64_t min_total_micros;          /* 5000 */
    int64_t window_ms;                 /* 72h */
};

struct vg_velocity_params {
    int64_t window_ms;                 /* 1h */
    int64_t baseline_ms;               /* 30d */
    int64_t min_history_ms;            /* 7d */
    int64_t factor_ppm;                /* 10 */
    int64_t min_count;                 /* 20 */
};

struct vg_dormant_params {
    int64_t dormancy_ms;               /* 180d */
    int64_t min_amount_micros;         /* 5000 */
};

struct vg_watchlist_set;               /* loaded list, owned by the params */
struct vg_watchlist_params {
    char file[VG_PARAM_PATH_MAX];      /* file: "" (no list) */
    struct vg_watchlist_set *set;      /* filled by prepare() */
};
/* True when id (exact bytes) is on the loaded list; false with no list. Can't fail. */
bool vg_watchlist_contains(const struct vg_watchlist_params *params, const char *id, size_t len);
/* The same, for a caller that has the id's vg_hash64_id already. */
bool vg_watchlist_contains_hashed(const struct vg_watchlist_params *params, const char *id, size_t len,
                                  uint64_t hash);
/* Number of distinct ids on the loaded list (0 with no list). */
size_t vg_watchlist_size(const struct vg_watchlist_params *params);

struct vg_high_risk_country_params {
    struct vg_name_list countries;     /* countries: [KP, IR, MM] */
    int64_t min_amount_micros;         /* min_amount: 1000 */
};

struct vg_sanctions_loaded;            /* the loaded lists, owned by the params */
struct vg_sanctions_params {
    struct vg_list_files lists;        /* lists: [] */
    int64_t threshold_ppm;             /* threshold: 0.85 */
    struct vg_sanctions_loaded *loaded; /* filled by prepare() */
};

/* Prefetches the clean-party cache bucket of a party (name, identifier, birth date as in
 * struct vg_txn) when cfg screens against lists: the shard calls it a few events ahead so
 * that the rule's probe of the cache (shared by the shards, larger than a core's cache)
 * does not stall. Can't fail. */
void vg_sanctions_prefetch(const struct vg_config *cfg, const char *name, size_t name_len, const char *party_id,
                           size_t party_id_len, int32_t birth_date);

#endif
