/* txn.c - the names of the dead-letter reasons (see txn.h). These strings are an
 * external interface: the `reason` label of vigil_dead_letter_total and the "reason"
 * field of dead letters, so they never change once released. */
#include "vigil/txn.h"

static const char *const reason_names[VG_REASON_MAX] = {
    [VG_REASON_NONE] = "none",
    [VG_REASON_MALFORMED] = "malformed",
    [VG_REASON_MISSING_FIELD] = "missing_field",
    [VG_REASON_BAD_TYPE] = "bad_type",
    [VG_REASON_BAD_ID] = "bad_id",
    [VG_REASON_BAD_AMOUNT] = "bad_amount",
    [VG_REASON_AMOUNT_NOT_POSITIVE] = "amount_not_positive",
    [VG_REASON_AMOUNT_OVERFLOW] = "amount_overflow",
    [VG_REASON_UNKNOWN_CURRENCY] = "unknown_currency",
    [VG_REASON_BAD_TIMESTAMP] = "bad_timestamp",
    [VG_REASON_BAD_COUNTRY] = "bad_country",
    [VG_REASON_OVERSIZED] = "oversized",
    [VG_REASON_BAD_NAME] = "bad_name",
    [VG_REASON_BAD_PARTY_ID] = "bad_party_id",
    [VG_REASON_BAD_BIRTH_DATE] = "bad_birth_date",
};

const char *vg_reason_name(enum vg_reason reason) {
    if ((unsigned)reason >= VG_REASON_MAX || !reason_names[reason]) return "unknown";
    return reason_names[reason];
}
