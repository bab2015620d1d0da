/* txn.h - the fixed-size transaction record every parser fills and the pipeline moves.
 * No pointers: a record can be copied, queued, and checkpointed as bytes. */
#ifndef VIGIL_TXN_H
#define VIGIL_TXN_H

#include "vigil/common.h"

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
};

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
