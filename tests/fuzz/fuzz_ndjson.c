/* fuzz_ndjson.c - libFuzzer target for the NDJSON record parser: any bytes must yield
 * either a record or a dead-letter reason, never a crash, leak or out-of-bounds read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct vg_currency_table rates;
    static int ready;
    if (!ready) {
        vg_currency_defaults(&rates);
        ready = 1;
    }
    /* An exact-size heap copy so ASan flags any read past the record. */
    char *rec = malloc(size ? size : 1);
    if (!rec) return 0;
    if (size) memcpy(rec, data, size);
    struct vg_txn txn;
    struct vg_parse_error err;
    txn.seq = 0;
    if (vg_ndjson_parse(rec, size, &rates, &txn, &err) == VG_OK) {
        if (txn.amount_micros <= 0 || txn.id_len == 0 || txn.id_len > VG_ID_MAX ||
            txn.from_len == 0 || txn.from_len > VG_ID_MAX || txn.to_len == 0 ||
            txn.to_len > VG_ID_MAX || txn.channel_len > VG_CHANNEL_MAX)
            abort(); /* a record the engine must never see */
    } else if (err.reason <= VG_REASON_NONE || err.reason >= VG_REASON_MAX ||
               memchr(err.detail, '\0', sizeof err.detail) == NULL) {
        abort();
    }
    free(rec);
    return 0;
}
