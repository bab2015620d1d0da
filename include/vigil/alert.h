/* alert.h - building an alert (rules fill a struct vg_alert) and rendering it as the
 * contract's NDJSON line (section 4) with a deterministic alert_id. Emission, cooldown and
 * queueing belong to the stage that owns the struct vg_alert_out. */
#ifndef VIGIL_ALERT_H
#define VIGIL_ALERT_H

#include "vigil/common.h"
#include "vigil/rule.h"

#define VG_EVIDENCE_MAX 1024        /* hard cap on alerts.max_evidence */
#define VG_ALERT_METRICS_MAX 12
/* Upper bound on one rendered alert line. */
#define VG_ALERT_JSON_MAX (VG_EVIDENCE_MAX * 2 * (VG_ID_MAX * 6 + 4) + 4096)
/* ... and with evidence objects (evidence.h: VG_EVIDENCE_JSON_MAX each). */
#define VG_ALERT_FULL_JSON_MAX (VG_ALERT_JSON_MAX + VG_EVIDENCE_MAX * (2048 + 1) + 64)

enum vg_metric_kind { VG_METRIC_COUNT, VG_METRIC_MONEY, VG_METRIC_RATIO, VG_METRIC_DURATION, VG_METRIC_TEXT,
                      VG_METRIC_CODE };

struct vg_metric {
    const char *key;               /* static string, e.g. "counterparties" */
    enum vg_metric_kind kind;
    int64_t value;                 /* COUNT: count; MONEY: micros (rendered "123.45");
                                      RATIO: ppm (rendered as a JSON number 0.812345);
                                      DURATION: ms (rendered as integer ms);
                                      CODE: up to 8 ASCII bytes packed by vg_metric_code
                                      (a country, a currency), rendered as a JSON string */
    struct vg_str text;            /* TEXT: a JSON string (sanctions: list, entry, names) */
};

/* Packs a short code ("KP") into a VG_METRIC_CODE value, upper-cased, at most 8 bytes. */
static inline int64_t vg_metric_code(const char *s, size_t len) {
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < 8 && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'a' && c <= 'z') c = (unsigned char)(c - 32);
        v |= (uint64_t)c << (8 * i);
    }
    return (int64_t)v;
}

struct vg_alert {
    enum vg_rule_id rule;
    struct vg_str account;          /* the account the alert is about */
    double score;                   /* clamped to [0, 1] when rendered */
    int64_t window_start_ms;
    int64_t window_end_ms;
    struct vg_str trigger_tx_id;    /* the transaction that completed the pattern */
    uint64_t trigger_seq;
    int64_t trigger_ts_ms;          /* event time of the trigger (cooldown clock) */
    size_t n_tx_ids;                /* may exceed what is stored; extra ones are dropped */
    struct vg_str tx_ids[VG_EVIDENCE_MAX];
    size_t n_accounts;
    struct vg_str accounts[VG_EVIDENCE_MAX];
    size_t n_metrics;
    struct vg_metric metrics[VG_ALERT_METRICS_MAX];
    /* What else tells this alert apart from others about the same account and trigger
     * (sanctions: list and entry); empty for every other rule. Part of alert_id. */
    struct vg_str discriminator;
    /* Duplicate checks on long evidence lists: hash slots holding index + 1 (0 = empty),
     * built once a list passes VG_EVIDENCE_SCAN entries (below that a scan is cheaper). */
    bool tx_indexed, accounts_indexed;
    uint16_t tx_index[2 * VG_EVIDENCE_MAX];
    uint16_t account_index[2 * VG_EVIDENCE_MAX];
};

/* Starts an alert about `account`, triggered by txn. Can't fail. */
void vg_alert_init(struct vg_alert *a, enum vg_rule_id rule, const char *account, size_t account_len,
                   const struct vg_txn *trigger);
/* Adds evidence; duplicates (same bytes) are ignored; beyond VG_EVIDENCE_MAX dropped. */
void vg_alert_add_tx(struct vg_alert *a, const char *tx_id, size_t len);
void vg_alert_add_account(struct vg_alert *a, const char *account, size_t len);
void vg_alert_add_metric(struct vg_alert *a, const char *key, enum vg_metric_kind kind, int64_t value);
/* A text metric; text must live until the alert is rendered. */
void vg_alert_add_metric_text(struct vg_alert *a, const char *key, const char *text, size_t len);

/* Renders one NDJSON line (with trailing '\n') into buf. Evidence arrays are cut to
 * max_evidence. Returns the length, or 0 when cap is too small. */
size_t vg_alert_render(const struct vg_alert *a, enum vg_severity severity, uint32_t max_evidence,
                       int64_t detected_at_ms, char *buf, size_t cap);

/* Same, with alerts.evidence: full: appends "evidence" (contract section 4), the objects
 * store keeps for the tx ids written, in their order. store NULL = vg_alert_render. A
 * buffer of VG_ALERT_FULL_JSON_MAX always suffices. */
struct vg_evidence_store;
size_t vg_alert_render_evidence(const struct vg_alert *a, enum vg_severity severity, uint32_t max_evidence,
                                int64_t detected_at_ms, const struct vg_evidence_store *store, char *buf,
                                size_t cap);

/* The deterministic id: hex of XXH3-128 over rule, account, trigger tx id and
 * window_end. buf >= 33 bytes. Can't fail. */
void vg_alert_id(const struct vg_alert *a, char *buf);

/* Writes s as a JSON string literal (quotes included), escaping quotes, backslashes and
 * control bytes; invalid UTF-8 bytes become \u00XX. Returns bytes written or 0 if cap
 * is too small. */
size_t vg_json_escape(const char *s, size_t len, char *buf, size_t cap);

/* Hands an alert to the stage's output: applies the (rule, account) cooldown, renders and
 * queues it. Returns true when the alert was emitted, false when suppressed. */
bool vg_alert_emit(struct vg_alert_out *out, const struct vg_alert *a);

#endif
