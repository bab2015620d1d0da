/* alert.c - filling a struct vg_alert and rendering it as the contract's NDJSON alert line
 * (section 4): deterministic alert_id, escaped strings, bounded evidence, decimal money.
 * Rendering runs on the stage thread that found the alert; nothing here allocates. */
#include "vigil/alert.h"

#include <stdio.h>
#include <string.h>
#include "vigil/evidence.h"
#include "vigil/hash.h"

#include "vigil/money.h"

void vg_alert_init(struct vg_alert *a, enum vg_rule_id rule, const char *account, size_t account_len,
                   const struct vg_txn *trigger) {
    a->rule = rule;
    a->account.ptr = account;
    a->account.len = account_len;
    a->score = 0.5;
    a->window_start_ms = trigger->ts_ms;
    a->window_end_ms = trigger->ts_ms;
    a->trigger_tx_id.ptr = trigger->id;
    a->trigger_tx_id.len = trigger->id_len;
    a->trigger_seq = trigger->seq;
    a->trigger_ts_ms = trigger->ts_ms;
    a->n_tx_ids = 0;
    a->n_accounts = 0;
    a->n_metrics = 0;
    a->tx_indexed = a->accounts_indexed = false;
    a->discriminator = (struct vg_str){NULL, 0};
}

#define VG_EVIDENCE_SCAN 16 /* lists up to this long are checked by a scan */
#define INDEX_MASK (2 * VG_EVIDENCE_MAX - 1)

/* Slot of s in a list's hash index: where it sits, or the empty slot it would take. */
static size_t index_slot(const uint16_t *index, const struct vg_str *list, const char *s, size_t len) {
    size_t i = (size_t)vg_hash64_id(s, len) & INDEX_MASK;
    while (index[i] != 0 && !vg_str_eq(list[index[i] - 1].ptr, list[index[i] - 1].len, s, len))
        i = (i + 1) & INDEX_MASK;
    return i;
}

/* Appends s to list unless already present; returns the new count. Long lists switch from
 * a scan to a hash index, so evidence of a busy window costs O(n), not O(n^2). */
static size_t add_unique(struct vg_str *list, size_t count, bool *indexed, uint16_t *index, const char *s,
                         size_t len) {
    if (count >= VG_EVIDENCE_MAX) return count;
    if (!*indexed) {
        for (size_t i = 0; i < count; i++)
            if (vg_str_eq(list[i].ptr, list[i].len, s, len)) return count;
        if (count == VG_EVIDENCE_SCAN) { /* from now on: index what is there */
            memset(index, 0, 2 * VG_EVIDENCE_MAX * sizeof *index);
            for (size_t i = 0; i < count; i++) index[index_slot(index, list, list[i].ptr, list[i].len)] = (uint16_t)(i + 1);
            *indexed = true;
        }
    }
    if (*indexed) {
        size_t slot = index_slot(index, list, s, len);
        if (index[slot] != 0) return count;
        index[slot] = (uint16_t)(count + 1);
    }
    list[count].ptr = s;
    list[count].len = len;
    return count + 1;
}

void vg_alert_add_tx(struct vg_alert *a, const char *tx_id, size_t len) {
    a->n_tx_ids = add_unique(a->tx_ids, a->n_tx_ids, &a->tx_indexed, a->tx_index, tx_id, len);
}

void vg_alert_add_account(struct vg_alert *a, const char *account, size_t len) {
    if (vg_str_eq(account, len, a->account.ptr, a->account.len)) return;
    a->n_accounts = add_unique(a->accounts, a->n_accounts, &a->accounts_indexed, a->account_index, account, len);
}

void vg_alert_add_metric(struct vg_alert *a, const char *key, enum vg_metric_kind kind, int64_t value) {
    if (a->n_metrics >= VG_ALERT_METRICS_MAX) return;
    a->metrics[a->n_metrics++] = (struct vg_metric){.key = key, .kind = kind, .value = value};
}

void vg_alert_add_metric_text(struct vg_alert *a, const char *key, const char *text, size_t len) {
    if (a->n_metrics >= VG_ALERT_METRICS_MAX) return;
    a->metrics[a->n_metrics++] = (struct vg_metric){.key = key, .kind = VG_METRIC_TEXT, .text = {text, len}};
}

void vg_alert_id(const struct vg_alert *a, char *buf) {
    XXH3_state_t state;
    XXH3_128bits_reset(&state);
    const char *rule = vg_rule_registry[a->rule]->name;
    XXH3_128bits_update(&state, rule, strlen(rule) + 1);
    /* Ids may hold any byte (U+0000 too), so each one is preceded by its length: the
     * fields' boundaries stay part of the input ("a\0b", "c" differs from "a", "b\0c"). */
    uint8_t len = (uint8_t)VG_MIN(a->account.len, 255u);
    XXH3_128bits_update(&state, &len, 1);
    XXH3_128bits_update(&state, a->account.ptr, len);
    len = (uint8_t)VG_MIN(a->trigger_tx_id.len, 255u);
    XXH3_128bits_update(&state, &len, 1);
    XXH3_128bits_update(&state, a->trigger_tx_id.ptr, len);
    uint64_t end = (uint64_t)a->window_end_ms;
    XXH3_128bits_update(&state, &end, sizeof end);
    if (a->discriminator.len) XXH3_128bits_update(&state, a->discriminator.ptr, a->discriminator.len); /* ids of other rules unchanged */
    XXH128_hash_t h = XXH3_128bits_digest(&state);
    snprintf(buf, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

/* Length of a valid UTF-8 sequence starting at s (1..4), or 0 when invalid. */
static size_t utf8_sequence_len(const unsigned char *s, size_t avail) {
    uint32_t cp;
    return vg_utf8_decode(s, avail, &cp);
}

size_t vg_json_escape(const char *s, size_t len, char *buf, size_t cap) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (cap < 2) return 0;
    buf[o++] = '"';
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (cap - o < 8) return 0;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            const char *short_esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
            if (short_esc) {
                memcpy(buf + o, short_esc, 2);
                o += 2;
            } else {
                memcpy(buf + o, "\\u00", 4);
                buf[o + 4] = hex[c >> 4];
                buf[o + 5] = hex[c & 15];
                o += 6;
            }
            i++;
        } else if (c < 0x80) {
            buf[o++] = (char)c;
            i++;
        } else {
            size_t n = utf8_sequence_len((const unsigned char *)s + i, len - i);
            if (n == 0) { /* invalid byte: keep it visible, keep the JSON valid */
                memcpy(buf + o, "\\u00", 4);
                buf[o + 4] = hex[c >> 4];
                buf[o + 5] = hex[c & 15];
                o += 6;
                i++;
            } else {
                memcpy(buf + o, s + i, n);
                o += n;
                i += n;
            }
        }
    }
    if (cap - o < 1) return 0;
    buf[o++] = '"';
    return o;
}

/* A tiny bounded writer: every append checks room; `failed` sticks. */
struct out_buf {
    char *buf;
    size_t cap, len;
    bool failed;
};

static void put(struct out_buf *o, const char *s, size_t n) {
    if (o->failed || o->cap - o->len < n) { o->failed = true; return; }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void put_lit(struct out_buf *o, const char *s) { put(o, s, strlen(s)); }

static void put_json_str(struct out_buf *o, const char *s, size_t n) {
    if (o->failed) return;
    size_t w = vg_json_escape(s, n, o->buf + o->len, o->cap - o->len);
    if (w == 0) o->failed = true;
    else o->len += w;
}

static void put_int(struct out_buf *o, int64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    put(o, tmp, (size_t)n);
}

static void put_str_array(struct out_buf *o, const struct vg_str *list, size_t n) {
    put_lit(o, "[");
    for (size_t i = 0; i < n; i++) {
        if (i) put_lit(o, ",");
        put_json_str(o, list[i].ptr, list[i].len);
    }
    put_lit(o, "]");
}

static void put_metric_value(struct out_buf *o, const struct vg_metric *m) {
    char tmp[32];
    size_t n;
    switch (m->kind) {
    case VG_METRIC_MONEY:
        tmp[0] = '"';
        n = vg_money_format(m->value, tmp + 1);
        tmp[n + 1] = '"';
        put(o, tmp, n + 2);
        break;
    case VG_METRIC_RATIO: /* ppm rendered as an exact decimal JSON number */
        n = vg_money_format(m->value, tmp);
        put(o, tmp, n);
        break;
    case VG_METRIC_COUNT:
    case VG_METRIC_DURATION:
        put_int(o, m->value);
        break;
    case VG_METRIC_TEXT:
        put_json_str(o, m->text.ptr, m->text.len);
        break;
    case VG_METRIC_CODE: {
        char code[8];
        uint64_t v = (uint64_t)m->value;
        n = 0;
        for (; n < sizeof code && (v >> (8 * n)) & 0xff; n++) code[n] = (char)((v >> (8 * n)) & 0xff);
        put_json_str(o, code, n);
        break;
    }
    }
}

/* `"evidence":[...]`: each tx id's kept object, in tx_ids order; {"id":...} alone when the
 * store no longer (or never) held it. */
static void put_evidence(struct out_buf *o, const struct vg_alert *a, size_t n, const struct vg_evidence_store *store) {
    put_lit(o, ",\"evidence\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) put_lit(o, ",");
        struct vg_str json;
        if (vg_evidence_store_find(store, a->tx_ids[i].ptr, a->tx_ids[i].len, &json)) {
            put(o, json.ptr, json.len);
        } else {
            put_lit(o, "{\"id\":");
            put_json_str(o, a->tx_ids[i].ptr, a->tx_ids[i].len);
            put_lit(o, "}");
        }
    }
    put_lit(o, "]");
}

size_t vg_alert_render(const struct vg_alert *a, enum vg_severity severity, uint32_t max_evidence,
                       int64_t detected_at_ms, char *buf, size_t cap) {
    return vg_alert_render_evidence(a, severity, max_evidence, detected_at_ms, NULL, buf, cap);
}

size_t vg_alert_render_evidence(const struct vg_alert *a, enum vg_severity severity, uint32_t max_evidence,
                                int64_t detected_at_ms, const struct vg_evidence_store *store, char *buf,
                                size_t cap) {
    struct out_buf o = {.buf = buf, .cap = cap};
    char id[33], score[16];
    vg_alert_id(a, id);
    double s = a->score != a->score ? 0 : a->score < 0 ? 0 : a->score > 1 ? 1 : a->score;
    snprintf(score, sizeof score, "%.4f", s);

    put_lit(&o, "{\"alert_id\":\"");
    put_lit(&o, id);
    put_lit(&o, "\",\"rule\":\"");
    put_lit(&o, vg_rule_registry[a->rule]->name);
    put_lit(&o, "\",\"account\":");
    put_json_str(&o, a->account.ptr, a->account.len);
    put_lit(&o, ",\"severity\":\"");
    put_lit(&o, vg_severity_name(severity));
    put_lit(&o, "\",\"score\":");
    put_lit(&o, score);
    put_lit(&o, ",\"window_start\":");
    put_int(&o, a->window_start_ms);
    put_lit(&o, ",\"window_end\":");
    put_int(&o, a->window_end_ms);
    put_lit(&o, ",\"detected_at\":");
    put_int(&o, detected_at_ms);
    put_lit(&o, ",\"tx_ids\":");
    put_str_array(&o, a->tx_ids, VG_MIN(a->n_tx_ids, (size_t)max_evidence));
    put_lit(&o, ",\"accounts\":");
    put_str_array(&o, a->accounts, VG_MIN(a->n_accounts, (size_t)max_evidence));
    put_lit(&o, ",\"metrics\":{");
    for (size_t i = 0; i < a->n_metrics; i++) {
        if (i) put_lit(&o, ",");
        put_lit(&o, "\"");
        put_lit(&o, a->metrics[i].key);
        put_lit(&o, "\":");
        put_metric_value(&o, &a->metrics[i]);
    }
    put_lit(&o, "}");
    if (store) put_evidence(&o, a, VG_MIN(a->n_tx_ids, (size_t)max_evidence), store);
    put_lit(&o, "}\n");
    return o.failed ? 0 : o.len;
}
