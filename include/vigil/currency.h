/* currency.h - the rate table that turns any accepted currency into the base currency.
 * Codes are ISO 4217 (3 letters, case-sensitive upper) or the AMLworld names, which are
 * aliases of their ISO codes ("US Dollar" = USD, "Bitcoin" = XBT). Read-only after load,
 * so every thread may look rates up without synchronisation. */
#ifndef VIGIL_CURRENCY_H
#define VIGIL_CURRENCY_H

#include "vigil/common.h"

#define VG_CURRENCY_MAX 256
/* Open-addressing index over rates[] (power of two, load factor <= 1/2). */
#define VG_CURRENCY_SLOTS 512

struct vg_currency_rate {
    char code[4];          /* ISO code, NUL-terminated */
    int64_t rate_micros;   /* 1 unit of code = rate_micros / 1e6 base units */
};

struct vg_currency_table {
    char base[4];
    size_t count;
    struct vg_currency_rate rates[VG_CURRENCY_MAX];
    /* Lookup index kept by vg_currency_set: slot = hash(code), linear probing, value =
     * rates[] position + 1, 0 = empty. indexed = how many rates[] it covers; fill the table
     * only through vg_currency_set (a hand-filled table still works, via a linear scan). */
    uint32_t indexed;
    uint16_t slots[VG_CURRENCY_SLOTS];
};

/* Fills the table with the built-in indicative rates (documented in docs/CURRENCIES.md)
 * for base USD. Can't fail. */
void vg_currency_defaults(struct vg_currency_table *table);

/* Sets or replaces the rate of an ISO code. Returns VG_OK, VG_ERR_INVALID (code is not
 * three upper-case letters, rate <= 0) or VG_ERR_FULL. */
int vg_currency_set(struct vg_currency_table *table, const char *code, int64_t rate_micros);

/* Changes the base currency: every rate is re-expressed so that base has rate 1.
 * Returns VG_OK or VG_ERR_NOTFOUND when the new base has no rate. */
int vg_currency_rebase(struct vg_currency_table *table, const char *code);

/* Maps a currency name as found in input (ISO code or AMLworld name) to its ISO code.
 * Returns the code or NULL when the name is unknown. */
const char *vg_currency_canonical(const char *name, size_t len);

/* Looks up the rate for an input currency name (ISO or alias).
 * Returns VG_OK or VG_ERR_NOTFOUND (unknown currency, or no rate). */
int vg_currency_rate(const struct vg_currency_table *table, const char *name, size_t len,
                     int64_t *out_rate_micros);

#endif
