/* txn.h - the fixed-size transaction record every parser fills and the pipeline moves.
 * No pointers: a record can be copied, queued, and checkpointed as bytes. */
#ifndef VIGIL_TXN_H
#define VIGIL_TXN_H

#include "vigil/common.h"

#define VG_SENT_AMOUNT_MAX 40    /* an amount's text as sent, longer ones are cut */
#define VG_SENT_CURRENCY_MAX 24  /* "Australian Dollar" and the like */

/* A record's fields as sent that the analysis does not use (evidence for reports). */
struct vg_txn_sent {
    uint8_t amount_len;        /* 0: not kept */
    uint8_t currency_len;
    uint8_t from_bank_len;     /* 0: absent */
    uint8_t to_bank_len;
    char amount[VG_SENT_AMOUNT_MAX];      /* decimal text, e.g. "9500.00" */
    char currency[VG_SENT_CURRENCY_MAX];  /* e.g. "EUR", "US Dollar" */
    char from_bank[VG_ID_MAX];
    char to_bank[VG_ID_MAX];
};

struct vg_txn {
    uint64_t seq;              /* 0-based position in the input stream, set by the reader */
    int64_t ts_ms;             /* event time, epoch ms UTC */
    int64_t amount_micros;     /* in the base currency, > 0 */
    uint8_t id_len;
    uint8_t from_len;
    uint8_t to_len;
    uint8_t channel_len;       /* 0 when absent; lower-case */
    char from_country[2];      /* ISO 3166 alpha-2 upper-case, or "\0\0" when absent */
    char to_country[2];
    char id[VG_ID_MAX];
    char from[VG_ID_MAX];
    char to[VG_ID_MAX];
    char channel[VG_CHANNEL_MAX + 1];
    /* Below: only for alerts.evidence: full. The *_parse_sent parsers set keep_sent and, when
     * asked, fill `sent` (the analysis never reads it, the rings never carry it). */
    bool keep_sent;
    struct vg_txn_sent sent;
};

/* Copies text into a `sent` field of cap bytes, cut on a UTF-8 character boundary.
 * Can't fail. */
static inline void vg_txn_sent_set(char *dst, size_t cap, uint8_t *dst_len, const char *text, size_t len) {
    if (cap > 255) cap = 255;
    if (len > cap) {
        len = cap;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80) len--;
    }
    __builtin_memcpy(dst, text, len);
    *dst_len = (uint8_t)len;
}

/* Why a record went to the dead-letter sink. The strings (vg_reason_name) are the
 * `reason` label of vigil_dead_letter_total and the "reason" field of dead letters. */
enum vg_reason {
    VG_REASON_NONE = 0,
    VG_REASON_MALFORMED,        /* not parseable as JSON / CSV line, wrong column count */
    VG_REASON_MISSING_FIELD,    /* a required field is absent or null */
    VG_REASON_BAD_TYPE,         /* a field has the wrong JSON type */
    VG_REASON_BAD_ID,           /* id/from/to empty or longer than 64 bytes */
    VG_REASON_BAD_AMOUNT,       /* not a decimal, > 6 decimals, NaN-like */
    VG_REASON_AMOUNT_NOT_POSITIVE, /* zero or negative */
    VG_REASON_AMOUNT_OVERFLOW,  /* does not fit int64 micro-units (before or after conversion) */
    VG_REASON_UNKNOWN_CURRENCY, /* no rate for the currency */
    VG_REASON_BAD_TIMESTAMP,
    VG_REASON_BAD_COUNTRY,      /* present but not two letters */
    VG_REASON_OVERSIZED,        /* line/message longer than the reader accepts */
    VG_REASON_MAX               /* stays last */
};

/* Stable snake_case name of a reason ("missing_field"). Can't fail. */
const char *vg_reason_name(enum vg_reason reason);

#endif
