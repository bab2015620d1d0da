/* money.h - exact decimal money: parsing text to int64 micro-units, conversion by a
 * fixed-point rate, formatting back to decimal text. No binary floating point anywhere. */
#ifndef VIGIL_MONEY_H
#define VIGIL_MONEY_H

#include "vigil/common.h"

/* Parses a positive or zero decimal amount ("12", "12.5", "0.000001", "1e3", "1.5E+2")
 * into micro-units. The value must be exact in micro-units: a nonzero digit below the 6th
 * decimal (after exponent adjustment) is refused ("1.1234567", "1e-7"), zeros there are not
 * precision and are accepted ("1.5000000" = 1.5). A leading '+' or '-' sign is parsed
 * (callers refuse negatives themselves via the sign of the result). Syntax: digits, an
 * optional '.' followed by digits, an optional exponent; no white space. Refuses: empty,
 * ".5", "5.", NaN/Infinity words, values beyond +-INT64_MAX micro-units, stray characters.
 * Returns VG_OK, VG_ERR_INVALID (syntax / too many decimals) or VG_ERR_RANGE (overflow). */
int vg_money_parse(const char *text, size_t len, int64_t *out_micros);

/* The same syntax for a transaction amount, where digits below the 6th decimal are real
 * data (satoshi-precision crypto amounts, "1234.5600000000001" from a float printer): the
 * value is rounded half to even to a whole micro-unit instead of refused. Deterministic
 * and exact otherwise. Returns VG_OK, VG_ERR_INVALID (syntax) or VG_ERR_RANGE (overflow). */
int vg_money_parse_amount(const char *text, size_t len, int64_t *out_micros);

/* A transaction amount exactly as written, down to 10^-18 units: micros whole micro-units
 * plus sub_micros (0 .. 10^12 - 1) units of 10^-18. Amounts keep this precision until they
 * are converted, so that conversion rounds once. */
struct vg_amount {
    int64_t micros;
    uint64_t sub_micros;
};

/* The same syntax as vg_money_parse for a transaction amount, read exactly: digits below
 * the 18th decimal (after exponent adjustment) are dropped, toward zero; nothing is rounded
 * up. A negative value comes back with micros < 0 (callers refuse it; only the sign is
 * meaningful then). Returns VG_OK, VG_ERR_INVALID (syntax) or VG_ERR_RANGE (2^63 micro-units
 * or more). */
int vg_money_parse_exact(const char *text, size_t len, struct vg_amount *out);

/* Converts an exact positive amount to base-currency micro-units: amount * rate_micros,
 * rounded toward zero once, so a converted amount is at or above a threshold (a whole number
 * of micro-units) exactly when its true value is. Returns VG_OK or VG_ERR_RANGE when the
 * result overflows int64. */
int vg_money_convert_exact(const struct vg_amount *amount, int64_t rate_micros, int64_t *out_micros);

/* Converts an amount in a foreign currency to base-currency micro-units:
 * result = amount_micros * rate_micros / 1e6, rounded half away from zero, computed in
 * 128-bit integers. Returns VG_OK or VG_ERR_RANGE when the result overflows int64. */
int vg_money_convert(int64_t amount_micros, int64_t rate_micros, int64_t *out_micros);

/* Writes micros as a decimal string without trailing zeros ("1234.5", "0.000001", "-3").
 * buf needs at least 24 bytes. Returns the length written (can't fail). */
size_t vg_money_format(int64_t micros, char *buf);

/* Fixed-point ratio (parts per million), e.g. 0.8 -> 800000. Parsed with vg_money_parse. */
typedef int64_t vg_ppm_t;

#endif
