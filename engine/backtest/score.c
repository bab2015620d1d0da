/* score.c - backtest: the figures of one run. Precision counts alerts whose evidence holds a
 * laundering transaction; transaction recall has two definitions (in some alert's evidence;
 * or to/from an alerted account inside that alert's window); an attempt of the patterns
 * file is caught when one of its transactions is, by the same two definitions. */
#include "backtest_internal.h"

#include <stdlib.h>
#include <string.h>

#include "vigil/hash.h"

/* Alerted accounts: open addressing over the alerts' account strings; each entry chains its
 * alerts (next[] by alert index, + 1) and the rules that alerted it. */
struct acct_table {
    uint32_t *slots;           /* first alert of the account + 1, 0 = empty */
    uint32_t *next;            /* per alert: next alert of the same account + 1 */
    uint32_t *rules;           /* per alert: for the chain head, the rule mask of the account */
    size_t mask;
};

static const char *acct_of(const struct bt_alerts *a, size_t i, size_t *len) {
    *len = a->v[i].account_len;
    return a->accounts + a->v[i].account_off;
}

static int acct_build(struct acct_table *t, const struct bt_alerts *a) {
    size_t size = 1024;
    while (size < a->n * 2) size *= 2;
    t->mask = size - 1;
    t->slots = calloc(size, sizeof *t->slots);
    t->next = calloc(a->n + 1, sizeof *t->next);
    t->rules = calloc(a->n + 1, sizeof *t->rules);
    if (!t->slots || !t->next || !t->rules) return VG_ERR_NOMEM;
    for (size_t i = 0; i < a->n; i++) {
        size_t len;
        const char *acc = acct_of(a, i, &len);
        size_t slot = vg_hash64_id(acc, len) & t->mask;
        for (;;) {
            uint32_t s = t->slots[slot];
            if (!s) {
                t->slots[slot] = (uint32_t)i + 1;
                t->rules[i] = 1u << a->v[i].rule;
                break;
            }
            size_t olen;
            const char *other = acct_of(a, s - 1, &olen);
            if (vg_str_eq(other, olen, acc, len)) {
                t->next[i] = t->next[s - 1]; /* after the head: order does not matter */
                t->next[s - 1] = (uint32_t)i + 1;
                t->rules[s - 1] |= 1u << a->v[i].rule;
                break;
            }
            slot = (slot + 1) & t->mask;
        }
    }
    return VG_OK;
}

/* First alert of account id + 1, or 0. */
static uint32_t acct_find(const struct acct_table *t, const struct bt_alerts *a, const char *id, size_t len) {
    size_t slot = vg_hash64_id(id, len) & t->mask;
    while (t->slots[slot]) {
        size_t olen;
        const char *other = acct_of(a, t->slots[slot] - 1, &olen);
        if (vg_str_eq(other, olen, id, len)) return t->slots[slot];
        slot = (slot + 1) & t->mask;
    }
    return 0;
}

/* Rules whose alerts about account id have ts inside their window. */
static uint32_t covering_rules(const struct acct_table *t, const struct bt_alerts *a, const char *id, size_t len,
                               int64_t ts) {
    uint32_t mask = 0;
    for (uint32_t s = acct_find(t, a, id, len); s; s = t->next[s - 1]) {
        const struct bt_alert *al = &a->v[s - 1];
        if (ts >= al->window_start_ms && ts <= al->window_end_ms) mask |= 1u << al->rule;
    }
    return mask;
}

/* Adds one caught item to each rule in mask and to the overall figure. */
#define COUNT_MASK(out, field, mask, ...)                                                    \
    do {                                                                                     \
        for (int r_ = 0; r_ < VG_RULE_MAX; r_++)                                             \
            if ((mask) & (1u << r_)) (out)->rule[r_].field __VA_ARGS__ += 1;                 \
        if (mask) (out)->rule[VG_BT_ALL].field __VA_ARGS__ += 1;                             \
    } while (0)

int bt_score(const vg_bt_data_t *d, const struct vg_bt_patterns *p, const struct bt_alerts *a,
             struct vg_bt_figures *out) {
    _Static_assert(VG_RULE_MAX <= 32, "rule masks are 32-bit");
    size_t n = vg_bt_data_size(d);
    struct acct_table t = {0};
    uint32_t *ev = calloc(n ? n : 1, sizeof *ev);      /* rules with the transaction in evidence */
    uint32_t *acct = calloc(n ? n : 1, sizeof *acct);  /* rules covering it by account and window */
    int rc = VG_ERR_NOMEM;
    if (!ev || !acct || acct_build(&t, a) != VG_OK) goto out;

    struct vg_bt_data_counts counts;
    vg_bt_data_counts(d, &counts);
    out->transactions = counts.transactions;
    out->laundering = counts.laundering;
    out->evidence_unresolved = a->unresolved;

    for (size_t i = 0; i < a->n; i++) {
        const struct bt_alert *al = &a->v[i];
        bool hit = false;
        for (size_t k = 0; k < al->evidence_count; k++) {
            uint32_t at = a->evidence[al->evidence_first + k];
            ev[at] |= 1u << al->rule;
            hit = hit || vg_bt_data_label(d, at);
        }
        out->rule[al->rule].alerts++;
        out->rule[VG_BT_ALL].alerts++;
        if (hit) {
            out->rule[al->rule].alerts_laundering++;
            out->rule[VG_BT_ALL].alerts_laundering++;
        }
    }
    for (size_t s = 0; s <= t.mask; s++) {
        if (t.slots[s]) COUNT_MASK(out, accounts, t.rules[t.slots[s] - 1]);
    }

    struct vg_txn txn;
    for (size_t i = 0; i < n; i++) {
        if (!vg_bt_data_label(d, i)) continue;
        vg_bt_data_txn(d, i, &txn);
        acct[i] = covering_rules(&t, a, txn.from, txn.from_len, txn.ts_ms) |
                  covering_rules(&t, a, txn.to, txn.to_len, txn.ts_ms);
        COUNT_MASK(out, tx_evidence, ev[i]);
        COUNT_MASK(out, tx_account, acct[i]);
    }

    if (p) {
        out->n_typologies = p->n_typologies;
        for (size_t k = 0; k < p->n_attempts; k++) {
            const struct vg_bt_attempt *at = &p->attempts[k];
            uint32_t ev_mask = 0, acct_mask = 0;
            for (uint32_t j = 0; j < at->count; j++) {
                const struct vg_txn *key = &p->txns[at->first + j];
                int64_t pos = vg_bt_data_match(d, key, -1);
                if (pos < 0) out->pattern_txns_unmatched++;
                for (; pos >= 0; pos = vg_bt_data_match(d, key, pos)) {
                    ev_mask |= ev[pos];
                    /* acct[] is filled for laundering records; a patterns line labelled 0 in
                     * the data is scored the same way. */
                    if (!vg_bt_data_label(d, (size_t)pos)) {
                        vg_bt_data_txn(d, (size_t)pos, &txn);
                        acct[pos] = covering_rules(&t, a, txn.from, txn.from_len, txn.ts_ms) |
                                    covering_rules(&t, a, txn.to, txn.to_len, txn.ts_ms);
                    }
                    acct_mask |= acct[pos];
                }
            }
            out->attempts[at->typology]++;
            COUNT_MASK(out, attempts_evidence, ev_mask, [at->typology]);
            COUNT_MASK(out, attempts_account, acct_mask, [at->typology]);
        }
    }
    rc = VG_OK;
out:
    free(ev);
    free(acct);
    free(t.slots);
    free(t.next);
    free(t.rules);
    return rc;
}

double vg_bt_precision(const struct vg_bt_rule_figures *r) {
    return r->alerts ? (double)r->alerts_laundering / (double)r->alerts : 0.0;
}

double vg_bt_recall(uint64_t hit, uint64_t total) { return total ? (double)hit / (double)total : 0.0; }

double vg_bt_per_10k(uint64_t alerts, uint64_t transactions) {
    return transactions ? (double)alerts * 10000.0 / (double)transactions : 0.0;
}
