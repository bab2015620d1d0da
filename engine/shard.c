/* shard.c - account-stage processing for the accounts one shard owns: expire old events,
 * record the new one, build the account's window view once, run each enabled rule that is
 * not cooling down for this account. No allocation per event: the view and the distinct
 * sets live in scratch memory sized at creation. */
#include "shard.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rule_params.h"
#include "scratch.h"
#include "vigil/hash.h"
#include "window_sums.h"

/* Accounts holding fewer events decide from a view, as a short scan costs less than the
 * sums' upkeep; from this many on the window sums decide (and are then kept). */
#ifndef SUMS_MIN_EVENTS
#define SUMS_MIN_EVENTS 48
#endif

/* An enabled account-stage rule as the per-event loop needs it, derived from the config
 * once (at create and reload) instead of per event. */
struct active_rule {
    enum vg_rule_id id;
    bool (*wants)(const struct vg_txn *txn, enum vg_dir dir, bool late, const void *params);
    bool (*account_ready)(int64_t first_seen_ms, int64_t last_seen_ms, const void *params);
    bool (*settled)(const struct vg_window_sums *sums, const struct vg_txn *txn, enum vg_dir dir,
                    const void *params);
    void (*on_event)(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out);
    const void *params;
    int64_t lookback_ms;
    int64_t min_events;             /* the account must hold at least this many events */
};

struct vg_shard {
    const struct vg_config *cfg;
    struct active_rule rules[VG_RULE_MAX]; /* enabled account-stage rules, registry order */
    size_t n_rules;
    struct vg_alert_out *alerts;
    struct vg_store *store;
    struct vg_scratch scratch;
    struct vg_event_view *view;     /* max_window_events + 1 entries */
    size_t view_capacity;
    struct vg_wsums_spec sums_spec; /* what accounts' window sums are kept for */
    uint32_t settle_mask;           /* enabled rules that can be settled by them */
    int64_t horizon_ms;             /* longest account-rule lookback + allowed lateness */
    int64_t max_lookback_ms;
    /* single writer (this shard), read by stats: relaxed atomics */
    _Atomic uint64_t events;
    _Atomic uint64_t scan_truncated;
    _Atomic uint64_t store_failures;
};

static inline void stat_add(_Atomic uint64_t *c, uint64_t n) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static void derive_limits(struct vg_shard *sh) {
    const struct vg_config *cfg = sh->cfg;
    sh->n_rules = 0;
    sh->settle_mask = 0;
    for (int r = 0; r < VG_RULE_MAX; r++) {
        const struct vg_rule_def *def = vg_rule_registry[r];
        const void *params = cfg->rules[r].params;
        if (def->stage != VG_STAGE_ACCOUNT || !def->on_event || !cfg->rules[r].enabled) continue;
        sh->rules[sh->n_rules++] = (struct active_rule){
            .id = (enum vg_rule_id)r, .wants = def->wants, .account_ready = def->account_ready,
            .settled = def->settled, .on_event = def->on_event, .params = params,
            .lookback_ms = def->lookback_ms ? def->lookback_ms(params) : 0,
            .min_events = def->min_events ? def->min_events(params) : 1,
        };
        if (def->settled) sh->settle_mask |= 1u << r;
    }
    /* The sums' window: fan_in's, else fan_out's, gather_scatter's or structuring's (a
     * rule with another window decides from a view); the large receipt: pass_through's;
     * the band: structuring's; the short window: velocity's. */
    sh->sums_spec = (struct vg_wsums_spec){.big_min_micros = INT64_MAX};
    static const enum vg_rule_id windowed[] = {VG_RULE_FAN_IN, VG_RULE_FAN_OUT, VG_RULE_GATHER_SCATTER,
                                               VG_RULE_STRUCTURING};
    for (size_t i = 0; i < sizeof windowed / sizeof windowed[0]; i++)
        if (cfg->rules[windowed[i]].enabled) {
            sh->sums_spec.window_ms = vg_rule_registry[windowed[i]]->lookback_ms(cfg->rules[windowed[i]].params);
            break;
        }
    sh->sums_spec.band_threshold_micros = INT64_MIN;
    if (cfg->rules[VG_RULE_STRUCTURING].enabled) {
        const struct vg_structuring_params *sp = cfg->rules[VG_RULE_STRUCTURING].params;
        sh->sums_spec.band_threshold_micros = sp->threshold_micros;
        sh->sums_spec.band_margin_ppm = sp->margin_ppm;
    }
    if (cfg->rules[VG_RULE_VELOCITY].enabled)
        sh->sums_spec.short_window_ms =
            ((const struct vg_velocity_params *)cfg->rules[VG_RULE_VELOCITY].params)->window_ms;
    if (cfg->rules[VG_RULE_PASS_THROUGH].enabled)
        sh->sums_spec.big_min_micros =
            ((const struct vg_pass_through_params *)cfg->rules[VG_RULE_PASS_THROUGH].params)->min_amount_micros;
    size_t max = VG_MIN((size_t)cfg->engine.max_window_events, sh->view_capacity);
    sh->sums_spec.max_events = (uint32_t)VG_MIN(max, (size_t)UINT32_MAX);
    sh->horizon_ms = vg_config_account_horizon_ms(cfg);
    sh->max_lookback_ms = sh->horizon_ms - sh->cfg->engine.allowed_lateness_ms;
    if (sh->max_lookback_ms < 0) sh->max_lookback_ms = 0;
}

/* Activity bucket width: the velocity baseline plus window spread over the histogram. */
static int64_t activity_bucket_ms(const struct vg_config *cfg) {
    const struct vg_velocity_params *v = vg_config_params(cfg, VG_RULE_VELOCITY);
    int64_t span = v->baseline_ms + v->window_ms;
    int64_t bucket = (span + (VG_ACTIVITY_BUCKETS - 3) - 1) / (VG_ACTIVITY_BUCKETS - 2);
    return (bucket + 59999) / 60000 * 60000;
}

int vg_shard_create(struct vg_shard **out, const struct vg_config *cfg, struct vg_alert_out *alerts) {
    struct vg_shard *sh = calloc(1, sizeof *sh);
    if (!sh) return VG_ERR_NOMEM;
    sh->cfg = cfg;
    sh->alerts = alerts;
    sh->view_capacity = (size_t)cfg->engine.max_window_events + 1;
    sh->view = malloc(sh->view_capacity * sizeof *sh->view);
    if (!sh->view || vg_scratch_init(&sh->scratch, sh->view_capacity) != VG_OK ||
        vg_store_create(&sh->store, activity_bucket_ms(cfg)) != VG_OK) {
        vg_shard_destroy(sh);
        return VG_ERR_NOMEM;
    }
    derive_limits(sh);
    *out = sh;
    return VG_OK;
}

void vg_shard_destroy(struct vg_shard *sh) {
    if (!sh) return;
    vg_store_destroy(sh->store);
    vg_scratch_free(&sh->scratch);
    free(sh->view);
    free(sh);
}

void vg_shard_set_config(struct vg_shard *sh, const struct vg_config *cfg) {
    sh->cfg = cfg;
    derive_limits(sh);
}

struct vg_store *vg_shard_store(struct vg_shard *sh) { return sh->store; }

void vg_window_range(const struct vg_rule_ctx *ctx, int64_t window_ms, size_t *lo, size_t *hi) {
    int64_t t = ctx->txn->ts_ms, from = t - window_ms;
    size_t a = 0, b = ctx->n_events;
    while (a < b) { /* first index with ts >= from */
        size_t m = a + (b - a) / 2;
        if (ctx->events[m].ts_ms < from) a = m + 1;
        else b = m;
    }
    *lo = a;
    b = ctx->n_events;
    while (a < b) { /* first index with ts > t */
        size_t m = a + (b - a) / 2;
        if (ctx->events[m].ts_ms <= t) a = m + 1;
        else b = m;
    }
    *hi = a;
}

void vg_shard_on_event(struct vg_shard *sh, const struct vg_txn *txn, enum vg_dir dir, uint64_t from_hash,
                       uint64_t to_hash, int64_t newest_ms) {
    const struct vg_config *cfg = sh->cfg;
    const char *id = dir == VG_DIR_OUT ? txn->from : txn->to;
    size_t id_len = dir == VG_DIR_OUT ? txn->from_len : txn->to_len;
    const char *cp = dir == VG_DIR_OUT ? txn->to : txn->from;
    size_t cp_len = dir == VG_DIR_OUT ? txn->to_len : txn->from_len;
    uint64_t hash = dir == VG_DIR_OUT ? from_hash : to_hash;
    uint64_t cp_hash = dir == VG_DIR_OUT ? to_hash : from_hash;

    stat_add(&sh->events, 1);
    vg_store_expire(sh->store, newest_ms - sh->horizon_ms);
    uint32_t index = vg_store_upsert(sh->store, id, id_len, hash);
    if (index == UINT32_MAX) {
        stat_add(&sh->store_failures, 1);
        return;
    }
    struct vg_account *account = vg_store_account(sh->store, index);
    int64_t prev_last_seen = account->last_seen_ms;
    int64_t held = 1; /* events the account holds, this one included (an upper bound: the
                       * ring may still keep a stale prefix) */
    bool late = prev_last_seen != VG_TS_NONE && prev_last_seen > txn->ts_ms;
    uint32_t cooling = vg_alert_out_cooling_mask(sh->alerts, id, id_len, hash, txn->ts_ms);
    /* An account cooling down for every rule its sums serve (a hub that alerted) would keep
     * them up for nothing: they go, and the first event that needs them rebuilds them. */
    if (account->sums && (sh->settle_mask & ~cooling) == 0) vg_store_set_sums(sh->store, account, NULL);
    vg_wsums_before_append(sh->store, account, txn->ts_ms, late);
    bool appended = vg_store_append(sh->store, index, txn, dir, cp_hash, newest_ms) == VG_OK;
    vg_wsums_after_append(sh->store, account, late, appended);
    if (!appended) stat_add(&sh->store_failures, 1);
    else held = account->n_events;

    /* Which rules run (enabled, not cooling, holding their min_events, wanting this
     * event, the account's span ready for them, not settled by the window sums), and how
     * far back the longest of them reads. An in-order event of an account holding many
     * events asks the sums first; a late one, or a rule they can't settle, reads a view. */
    const struct vg_window_sums *sums = NULL;
    struct vg_window_sums sums_here;
    bool sums_tried = late || !appended || held < SUMS_MIN_EVENTS;
    const struct active_rule *run[VG_RULE_MAX];
    size_t n_run = 0;
    int64_t lookback = 0;
    for (size_t i = 0; i < sh->n_rules; i++) {
        const struct active_rule *rule = &sh->rules[i];
        if (((cooling >> rule->id) & 1u) || held < rule->min_events) continue;
        if (rule->wants && !rule->wants(txn, dir, late, rule->params)) continue;
        if (rule->account_ready &&
            !rule->account_ready(account->first_seen_ms, VG_MAX(account->last_seen_ms, txn->ts_ms), rule->params))
            continue;
        if (rule->settled && !sums_tried) {
            sums = vg_wsums_get(sh->store, account, &sh->sums_spec);
            sums_tried = true;
            if (sums) {
                sums_here = *sums;
                sums_here.first_seen_ms = account->first_seen_ms;
                sums_here.activity = &account->activity;
                sums = &sums_here;
            }
        }
        if (sums && rule->settled && rule->settled(sums, txn, dir, rule->params)) continue;
        run[n_run++] = rule;
        lookback = VG_MAX(lookback, rule->lookback_ms);
    }
    if (n_run == 0) return;
    /* A late event's predecessor (dormant's last activity before it) may be any retained
     * event, whichever rules run: read the whole retained window. */
    if (late) lookback = VG_MAX(lookback, sh->max_lookback_ms);
    bool needs_view = lookback > 0;

    struct vg_rule_ctx ctx = {
        .txn = txn,
        .dir = dir,
        .account = {id, id_len},
        .account_hash = hash,
        .counterparty = {cp, cp_len},
        .first_seen_ms = account->first_seen_ms,
        .prev_last_seen_ms = prev_last_seen,
        .activity = &account->activity,
        .config = cfg,
        .scratch = &sh->scratch,
    };
    if (needs_view) {
        int64_t cutoff = VG_MAX(txn->ts_ms - VG_MIN(lookback, sh->max_lookback_ms), newest_ms - sh->horizon_ms);
        bool truncated;
        size_t max = VG_MIN((size_t)cfg->engine.max_window_events, sh->view_capacity);
        ctx.n_events = vg_store_view(sh->store, index, cutoff, max, sh->view, &truncated);
        if (truncated) stat_add(&sh->scan_truncated, 1);
        ctx.current = ctx.n_events;
        for (size_t i = ctx.n_events; i-- > 0;)
            if (sh->view[i].seq == txn->seq && sh->view[i].dir == dir) {
                ctx.current = i;
                break;
            }
    }
    if (ctx.current == ctx.n_events) { /* no window needed, or the event itself was cut: view of one */
        /* (the counterparty hash cut to 32 bits, as the store keeps it) */
        sh->view[0] = (struct vg_event_view){
            .ts_ms = txn->ts_ms, .amount_micros = txn->amount_micros, .seq = txn->seq,
            .counterparty_hash = (uint32_t)cp_hash, .counterparty = cp, .tx_id = txn->id,
            .counterparty_len = (uint8_t)cp_len, .tx_id_len = txn->id_len, .dir = (uint8_t)dir,
        };
        ctx.n_events = 1;
        ctx.current = 0;
    }
    ctx.events = sh->view;
    for (size_t i = 0; i < n_run; i++) run[i]->on_event(&ctx, run[i]->params, sh->alerts);
}

void vg_shard_get_stats(const struct vg_shard *sh, struct vg_shard_stats *out) {
    out->events = atomic_load_explicit(&sh->events, memory_order_relaxed);
    out->scan_truncated = atomic_load_explicit(&sh->scan_truncated, memory_order_relaxed);
    out->store_failures = atomic_load_explicit(&sh->store_failures, memory_order_relaxed);
}
