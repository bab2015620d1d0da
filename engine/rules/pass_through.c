/* pass_through.c - rule `pass_through`: on an OUT event, some receipt >= min_amount in the
 * window was followed (by (ts, seq), up to this event) by OUT events summing >= ratio of it.
 * Semantics: docs/RULES.md. */
#include <stddef.h>

#include "vigil/alert.h"
#include "rules/rule_params.h"
#include "rules/rule_window.h"

static const struct vg_param_def pass_through_params[] = {
    {VG_PARAM_MONEY, "min_amount", "5000", offsetof(struct vg_pass_through_params, min_amount_micros),
     "smallest receipt considered"},
    {VG_PARAM_RATIO, "ratio", "0.8", offsetof(struct vg_pass_through_params, ratio_ppm),
     "share of the receipt that must leave"},
    {VG_PARAM_DURATION, "window", "48h", offsetof(struct vg_pass_through_params, window_ms),
     "time after the receipt"},
    {0},
};

static int64_t pass_through_lookback_ms(const void *params) {
    return ((const struct vg_pass_through_params *)params)->window_ms;
}

/* A receipt and a transfer out. */
static int64_t pass_through_min_events(const void *params) {
    (void)params;
    return 2;
}

static bool is_out_event(const struct vg_event_view *ev, const void *params) {
    (void)params;
    return ev->dir == VG_DIR_OUT;
}

/* Evaluates the OUT event at `anchor` as the end of a pass-through; returns true when an
 * alert was emitted. */
static bool pass_through_eval(const struct vg_rule_ctx *ctx, const struct vg_pass_through_params *p,
                              size_t anchor, struct vg_alert_out *out) {
    const struct vg_event_view *ev = ctx->events;
    size_t lo = vg_rw_window_lo(ctx, anchor, p->window_ms);
    /* Walk back from the trigger: sent = the OUT events after position i up to the trigger.
     * Their ts are <= ts(trigger) <= ts_i + window, so the window bound holds for them all.
     * Of the receipts that qualify, keep the one that passed the most money on (min of
     * received and sent); on a tie, the latest. */
    __int128 sent = ev[anchor].amount_micros;
    size_t best = SIZE_MAX;
    __int128 best_sent = 0, best_passed = 0;
    for (size_t i = anchor; i-- > lo;) {
        if (ev[i].dir == VG_DIR_OUT) {
            sent += ev[i].amount_micros;
            continue;
        }
        int64_t received = ev[i].amount_micros;
        if (received < p->min_amount_micros) continue;
        if (sent * VG_PPM < (__int128)p->ratio_ppm * received) continue;
        __int128 passed = sent < received ? sent : received;
        if (best == SIZE_MAX || passed > best_passed) {
            best = i;
            best_sent = sent;
            best_passed = passed;
        }
    }
    if (best == SIZE_MAX) return false;

    int64_t received = ev[best].amount_micros;
    int64_t ratio_ppm = vg_rw_ratio_ppm(best_sent, received);
    static _Thread_local struct vg_alert alert;
    vg_alert_init(&alert, VG_RULE_PASS_THROUGH, ctx->account.ptr, ctx->account.len, ctx->txn);
    alert.score = vg_score_strength((double)ratio_ppm, (double)p->ratio_ppm);
    alert.window_start_ms = ev[best].ts_ms;
    alert.window_end_ms = ev[anchor].ts_ms;
    /* Evidence: the trigger, the receipt, then the outgoing transfers newest first. */
    size_t cap = vg_rw_evidence_cap(ctx);
    vg_alert_add_tx(&alert, ctx->txn->id, ctx->txn->id_len);
    vg_alert_add_tx(&alert, ev[best].tx_id, ev[best].tx_id_len);
    vg_alert_add_account(&alert, ev[best].counterparty, ev[best].counterparty_len);
    for (size_t i = anchor + 1; i-- > best + 1 && (alert.n_tx_ids < cap || alert.n_accounts < cap);) {
        if (ev[i].dir != VG_DIR_OUT) continue;
        if (alert.n_tx_ids < cap) vg_alert_add_tx(&alert, ev[i].tx_id, ev[i].tx_id_len);
        if (alert.n_accounts < cap) vg_alert_add_account(&alert, ev[i].counterparty, ev[i].counterparty_len);
    }
    vg_alert_add_metric(&alert, "received", VG_METRIC_MONEY, received);
    vg_alert_add_metric(&alert, "sent", VG_METRIC_MONEY, vg_rw_clamp(best_sent));
    vg_alert_add_metric(&alert, "ratio", VG_METRIC_RATIO, ratio_ppm);
    vg_alert_add_metric(&alert, "delay", VG_METRIC_DURATION, ev[anchor].ts_ms - ev[best].ts_ms);
    return vg_alert_emit(out, &alert);
}

/* The sums settle an in-order OUT event when no receipt >= min_amount lies in its window:
 * the newest one a view holds is older than the window, or there is none. */
static bool pass_through_settled(const struct vg_window_sums *sums, const struct vg_txn *txn, enum vg_dir dir,
                                 const void *params) {
    const struct vg_pass_through_params *p = params;
    if (dir != VG_DIR_OUT || sums->big_min_micros != p->min_amount_micros) return false;
    return sums->big_in_ts == VG_TS_NONE || sums->big_in_ts < vg_rw_sub(txn->ts_ms, p->window_ms);
}

static bool pass_through_eval_at(const struct vg_rule_ctx *ctx, const void *params, size_t anchor,
                                 struct vg_alert_out *out) {
    return pass_through_eval(ctx, params, anchor, out);
}

static void pass_through_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_pass_through_params *p = params;
    /* The trigger is an OUT event; a late IN or OUT can still complete the windows that end
     * at newer OUT events, so those are evaluated too. */
    if (ctx->dir == VG_DIR_OUT && pass_through_eval(ctx, p, ctx->current, out)) return;
    vg_rw_late_windows(ctx, p->window_ms, is_out_event, NULL, pass_through_eval_at, p, out);
}

/* Triggered by OUT events; a late event may complete the window of a newer OUT. */
static bool pass_through_wants(const struct vg_txn *txn, enum vg_dir dir, bool late, const void *params) {
    return dir == VG_DIR_OUT || late;
}

const struct vg_rule_def vg_rule_pass_through = {
    .name = "pass_through",
    .description = "Funds received and sent on quickly (rapid movement)",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_pass_through_params),
    .params = pass_through_params,
    .lookback_ms = pass_through_lookback_ms,
    .wants = pass_through_wants,
    .min_events = pass_through_min_events,
    .settled = pass_through_settled,
    .on_event = pass_through_on_event,
};
