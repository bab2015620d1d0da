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
    uint8_t has_party;         /* 1 when any party field below was sent; else they are unset */
    uint8_t keep_sent;         /* 1: `sent` (last) holds the fields as sent (evidence: full) */
    char id[VG_ID_MAX];
    char from[VG_ID_MAX];
    char to[VG_ID_MAX];
    char channel[VG_CHANNEL_MAX + 1];
    /* Party details (contract section 3), read only when has_party is 1. They sit at the end
     * so that records without them are cleared, packed and copied as before (VG_TXN_BASE_BYTES). */
    uint16_t from_name_len;    /* bytes of UTF-8, 0 when absent */
    uint16_t to_name_len;
    uint8_t from_party_id_len; /* 0 when absent */
    uint8_t to_party_id_len;
    int32_t from_birth_date;   /* YYYYMMDD, 0 when absent */
    int32_t to_birth_date;
    /* XXH3 of the name's bytes | 1, filled by the engine when it carries a party to its
     * account stage (so the sanctions rule does not hash the name again); 0 = not computed. */
    uint64_t from_name_hash;
    uint64_t to_name_hash;
    char from_party_id[VG_ID_MAX];
    char to_party_id[VG_ID_MAX];
    char from_name[VG_NAME_MAX];
    char to_name[VG_NAME_MAX];
    /* Only for alerts.evidence: full: the *_parse_sent parsers fill it when asked (keep_sent);
     * the analysis never reads it, the stage rings never carry it. */
    struct vg_txn_sent sent;
};

/* Bytes of a record before the party details: what a parser clears per record. */
#define VG_TXN_BASE_BYTES offsetof(struct vg_txn, from_name_len)
/* The party details' fixed part (lengths and dates), cleared when the first one is parsed. */
#define VG_TXN_PARTY_HEAD_BYTES (offsetof(struct vg_txn, from_party_id) - offsetof(struct vg_txn, from_name_len))

/* Clears a record for parsing: the base fields and has_party (party fields stay stale and
 * unread until vg_txn_party_begin). Can't fail. */
static inline void vg_txn_clear(struct vg_txn *txn) {
    __builtin_memset(txn, 0, VG_TXN_BASE_BYTES);
}

/* Copies a record: the base fields, the party details and fields as sent only when it has them (a whole
 * struct copy would move ~1.5 KB per record for nothing). Can't fail. */
static inline void vg_txn_copy(struct vg_txn *dst, const struct vg_txn *src) {
    __builtin_memcpy(dst, src, VG_TXN_BASE_BYTES);
    if (src->has_party)
        __builtin_memcpy(&dst->from_name_len, &src->from_name_len,
                         offsetof(struct vg_txn, sent) - VG_TXN_BASE_BYTES);
    if (VG_UNLIKELY(src->keep_sent)) __builtin_memcpy(&dst->sent, &src->sent, sizeof src->sent);
}

/* Called before the first party field of a record is stored: clears their lengths and dates
 * and sets has_party. Can't fail. */
static inline void vg_txn_party_begin(struct vg_txn *txn) {
    if (txn->has_party) return;
    __builtin_memset(&txn->from_name_len, 0, VG_TXN_PARTY_HEAD_BYTES);
    txn->has_party = 1;
}

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
    VG_REASON_BAD_NAME,         /* from_name/to_name: not a string, empty, over 140 characters */
    VG_REASON_BAD_PARTY_ID,     /* from_party_id/to_party_id: empty or longer than 64 bytes */
    VG_REASON_BAD_BIRTH_DATE,   /* from_birth_date/to_birth_date: not a valid YYYY-MM-DD */
    VG_REASON_MAX               /* stays last */
};

/* Stable snake_case name of a reason ("missing_field"). Can't fail. */
const char *vg_reason_name(enum vg_reason reason);

#endif
