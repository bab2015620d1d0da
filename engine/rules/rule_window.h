/* rule_window.h - small inline helpers the account-stage rules share: a window over the
 * account's sorted events ending at any anchor event, the anchor to re-evaluate at when a
 * late event lands inside windows already evaluated (and judging them), bounded evidence and
 * money clamps.
 * No state, no allocation; not part of the rule interface (that is vigil/rule.h). */
#ifndef VIGIL_RULE_WINDOW_H
#define VIGIL_RULE_WINDOW_H

#include "vigil/alert.h"
#include "vigil/config.h"
#include "vigil/rule.h"

#define VG_PPM 1000000LL

/* t - w without wrapping below INT64_MIN. */
static inline int64_t vg_rw_sub(int64_t t, int64_t w) {
    return t < INT64_MIN + w ? INT64_MIN : t - w;
}

/* t + w without wrapping above INT64_MAX. */
static inline int64_t vg_rw_add(int64_t t, int64_t w) {
    return t > INT64_MAX - w ? INT64_MAX : t + w;
}

/* Index of the first event in ev[0, n) with ts_ms >= ts (n if none). Events are sorted by
 * (ts_ms, seq). Can't fail. */
static inline size_t vg_rw_lower(const struct vg_event_view *ev, size_t n, int64_t ts) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ev[mid].ts_ms < ts) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* First index of the window [ts(anchor) - window_ms, ts(anchor)] that ends at the anchor
 * event (inclusive): the rule then reads ctx->events[lo .. anchor]. Can't fail. */
static inline size_t vg_rw_window_lo(const struct vg_rule_ctx *ctx, size_t anchor, int64_t window_ms) {
    return vg_rw_lower(ctx->events, anchor + 1, vg_rw_sub(ctx->events[anchor].ts_ms, window_ms));
}

/* Which events may end a rule's window (e.g. "an IN event"). */
typedef bool (*vg_rw_trigger_fn)(const struct vg_event_view *ev, const void *params);

/* A late event (one with newer events of the same account already present) also belongs to
 * the windows that end at those newer events, which were evaluated without it. Returns the
 * newest index after ctx->current whose event could trigger the rule (is_trigger, NULL =
 * any) and whose window of window_ms still contains the current event; ctx->current when
 * there is none (the event is not late, or nothing qualifies). Can't fail. */
static inline size_t vg_rw_late_anchor(const struct vg_rule_ctx *ctx, int64_t window_ms,
                                       vg_rw_trigger_fn is_trigger, const void *params) {
    int64_t reach = vg_rw_add(ctx->events[ctx->current].ts_ms, window_ms);
    size_t i = vg_rw_lower(ctx->events, ctx->n_events, reach == INT64_MAX ? reach : reach + 1);
    while (i > ctx->current + 1) {
        i--;
        if (!is_trigger || is_trigger(&ctx->events[i], params)) return i;
    }
    return ctx->current;
}

/* Judges the window ending at ctx->events[anchor]; returns true when an alert was emitted. */
typedef bool (*vg_rw_eval_fn)(const struct vg_rule_ctx *ctx, const void *params, size_t anchor,
                              struct vg_alert_out *out);

/* A late event also belongs to the windows that end at the account's newer events, judged
 * before it arrived. Judges them, newest first and until one alerts: the newest one that
 * could trigger the rule (vg_rw_late_anchor), then every other one whose end could trigger
 * it and lies within engine.allowed_lateness after the event. A record up to that late is so
 * placed in all its windows (contract section 6), as if it had arrived in time order; an
 * older one gets its own window and the newest only. Every event newer than a record within
 * the lateness is at most that much newer, so the loop is bounded by the account's events in
 * allowed_lateness. Returns true when an alert was emitted. Can't fail. */
static inline bool vg_rw_late_windows(const struct vg_rule_ctx *ctx, int64_t window_ms, vg_rw_trigger_fn is_trigger,
                                      const void *trigger_params, vg_rw_eval_fn eval, const void *params,
                                      struct vg_alert_out *out) {
    size_t newest = vg_rw_late_anchor(ctx, window_ms, is_trigger, trigger_params);
    if (newest == ctx->current) return false;
    if (eval(ctx, params, newest, out)) return true;
    int64_t lateness = ctx->config && ctx->config->engine.allowed_lateness_ms > 0 ? ctx->config->engine.allowed_lateness_ms : 0;
    int64_t near = vg_rw_add(ctx->events[ctx->current].ts_ms, lateness);
    size_t i = vg_rw_lower(ctx->events, newest, near == INT64_MAX ? near : near + 1); /* ends after near: skipped */
    while (i > ctx->current + 1) {
        i--;
        if (is_trigger && !is_trigger(&ctx->events[i], trigger_params)) continue;
        if (eval(ctx, params, i, out)) return true;
    }
    return false;
}

/* How many evidence entries are worth adding: the rendered alert keeps at most
 * alerts.max_evidence. Can't fail. */
static inline size_t vg_rw_evidence_cap(const struct vg_rule_ctx *ctx) {
    size_t cap = ctx->config ? ctx->config->alerts.max_evidence : 64;
    return cap == 0 || cap > VG_EVIDENCE_MAX ? VG_EVIDENCE_MAX : cap;
}

/* A 128-bit sum as an int64 metric (saturating). */
static inline int64_t vg_rw_clamp(__int128 v) {
    return v > INT64_MAX ? INT64_MAX : (v < INT64_MIN ? INT64_MIN : (int64_t)v);
}

/* num / den in parts per million (saturating; 0 when den <= 0). */
static inline int64_t vg_rw_ratio_ppm(__int128 num, __int128 den) {
    return den <= 0 ? 0 : vg_rw_clamp(num * VG_PPM / den);
}

/* fan_in / fan_out (fan_in.c): on an event of direction dir, the account's dir-events in the
 * window have >= min_counterparties distinct counterparties and sum >= min_total. */
struct vg_fan_params;
void vg_fan_on_event(const struct vg_rule_ctx *ctx, const struct vg_fan_params *p, enum vg_rule_id rule,
                     enum vg_dir dir, struct vg_alert_out *out);
int64_t vg_fan_min_events(const void *params);
bool vg_fan_settled(const struct vg_window_sums *sums, const struct vg_fan_params *p, enum vg_dir rule_dir,
                    enum vg_dir dir);
bool vg_fan_eval(const struct vg_rule_ctx *ctx, const struct vg_fan_params *p, enum vg_rule_id rule,
                 enum vg_dir dir, size_t anchor, struct vg_alert_out *out);

#endif
