/* backtest_internal.h - what the backtest's run (run.c) hands its scoring (score.c): the
 * alerts of one engine run as collected from the sink, evidence resolved to positions in the
 * data set. Private to engine/backtest/. */
#ifndef VIGIL_BACKTEST_INTERNAL_H
#define VIGIL_BACKTEST_INTERNAL_H

#include "vigil/backtest.h"

struct bt_alert {
    enum vg_rule_id rule;
    int64_t window_start_ms, window_end_ms;
    size_t account_off;          /* in bt_alerts.accounts */
    size_t account_len;
    size_t evidence_first;       /* in bt_alerts.evidence */
    size_t evidence_count;
};

struct bt_alerts {
    struct bt_alert *v;
    size_t n, cap;
    char *accounts;
    size_t accounts_len, accounts_cap;
    uint32_t *evidence;          /* positions in the data set */
    size_t evidence_len, evidence_cap;
    uint64_t unresolved;         /* evidence ids not found in the data set */
    bool oom;
};

void bt_alerts_free(struct bt_alerts *a);

/* Scores the alerts against d's labels and p's attempts (p may be NULL) into out (whose
 * transactions, enabled flags and seconds the caller fills). Returns VG_OK or VG_ERR_NOMEM. */
int bt_score(const vg_bt_data_t *d, const struct vg_bt_patterns *p, const struct bt_alerts *alerts,
             struct vg_bt_figures *out);

#endif
