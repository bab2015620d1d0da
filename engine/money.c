/* money.c - exact decimal money (see money.h): decimal text to int64 micro-units, rate
 * conversion in 128-bit integers, and formatting back to text. Binary floating point is
 * never used, not even as an intermediate: every digit is placed by its power of ten. */
#include "vigil/money.h"

#include <string.h>

/* Decimal places kept by a micro-unit amount. */
#define MONEY_SCALE 6
/* Exponents are clamped to this magnitude while reading "1e999999999": anything beyond
 * already decides the outcome (overflow or too many decimals), and clamping keeps the
 * arithmetic below in range. */
#define EXPONENT_CLAMP 100000

/* 10^0 .. 10^24 as 128-bit integers: a nonzero digit may sit at powers -6 .. +18 of the
 * amount, i.e. 10^0 .. 10^24 micro-units. */
static unsigned __int128 pow10_u128(unsigned k) {
    static const uint64_t small[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
        100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
        10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
        100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL};
    if (k < 20) return small[k];
    return (unsigned __int128)small[19] * small[k - 19];
}

static inline bool is_digit(char c) {
    return (unsigned char)(c - '0') < 10;
}

/* The general path: exponents, long digit strings, digits beyond the 6th decimal.
 * int_start/int_len and frac_start/frac_len locate the digit runs, exp10 is the (clamped)
 * exponent. A nonzero digit below 10^-6 is refused (VG_ERR_INVALID) unless `round`, which
 * rounds the value half to even to a whole micro-unit. Returns VG_OK, VG_ERR_INVALID or
 * VG_ERR_RANGE. */
static int place_digits(const char *int_digits, size_t int_len, const char *frac_digits,
                        size_t frac_len, long exp10, bool round, uint64_t *out_magnitude) {
    /* Sum digit * 10^(power + 6) over the kept digits; any nonzero digit above 10^18
     * overflows int64 micro-units for sure, the rest is checked on the 128-bit sum. Below
     * 10^-6: the first dropped digit and whether any later one is nonzero decide rounding. */
    unsigned __int128 sum = 0;
    unsigned first_dropped = 0;
    bool sticky = false;
    for (size_t k = 0; k < int_len + frac_len; k++) {
        char c = k < int_len ? int_digits[k] : frac_digits[k - int_len];
        if (c == '0') continue;
        long power = k < int_len ? exp10 + (long)(int_len - 1 - k) : exp10 - (long)(k - int_len) - 1;
        if (power < -MONEY_SCALE) {
            if (!round) return VG_ERR_INVALID;
            if (power == -MONEY_SCALE - 1) first_dropped = (unsigned)(c - '0');
            else sticky = true;
            continue;
        }
        if (power > 18) return VG_ERR_RANGE;
        sum += (unsigned __int128)(unsigned)(c - '0') * pow10_u128((unsigned)(power + MONEY_SCALE));
        if (sum > (unsigned __int128)INT64_MAX) return VG_ERR_RANGE;
    }
    if (first_dropped > 5 || (first_dropped == 5 && (sticky || (sum & 1)))) sum++;
    if (sum > (unsigned __int128)INT64_MAX) return VG_ERR_RANGE;
    *out_magnitude = (uint64_t)sum;
    return VG_OK;
}

static int parse(const char *text, size_t len, bool round, int64_t *out_micros) {
    const char *p = text, *end = text + len;
    bool negative = false;
    if (p < end && (*p == '+' || *p == '-')) negative = *p++ == '-';

    const char *int_digits = p;
    while (p < end && is_digit(*p)) p++;
    size_t int_len = (size_t)(p - int_digits);
    if (int_len == 0) return VG_ERR_INVALID; /* empty, "NaN", "Infinity", ".5", "-" */

    const char *frac_digits = p;
    size_t frac_len = 0;
    if (p < end && *p == '.') {
        frac_digits = ++p;
        while (p < end && is_digit(*p)) p++;
        frac_len = (size_t)(p - frac_digits);
        if (frac_len == 0) return VG_ERR_INVALID; /* "5." */
    }

    long exp10 = 0;
    bool has_exponent = false;
    if (p < end && (*p == 'e' || *p == 'E')) {
        has_exponent = true;
        p++;
        bool exp_negative = false;
        if (p < end && (*p == '+' || *p == '-')) exp_negative = *p++ == '-';
        const char *exp_digits = p;
        while (p < end && is_digit(*p)) {
            if (exp10 < EXPONENT_CLAMP) exp10 = exp10 * 10 + (*p - '0');
            p++;
        }
        if (p == exp_digits) return VG_ERR_INVALID; /* "1e", "1e+" */
        if (exp_negative) exp10 = -exp10;
    }
    if (p != end) return VG_ERR_INVALID; /* stray characters, "1.2.3", "12 USD" */

    uint64_t magnitude = 0;
    if (VG_LIKELY(!has_exponent && int_len <= 12 && frac_len <= MONEY_SCALE)) {
        /* Fast path for every ordinary amount: at most 12 + 6 digits fit a uint64. */
        for (size_t i = 0; i < int_len; i++) magnitude = magnitude * 10 + (uint64_t)(int_digits[i] - '0');
        for (size_t i = 0; i < MONEY_SCALE; i++)
            magnitude = magnitude * 10 + (i < frac_len ? (uint64_t)(frac_digits[i] - '0') : 0);
    } else {
        int rc = place_digits(int_digits, int_len, frac_digits, frac_len, exp10, round, &magnitude);
        if (rc != VG_OK) return rc;
    }
    *out_micros = negative ? -(int64_t)magnitude : (int64_t)magnitude;
    return VG_OK;
}

int vg_money_parse(const char *text, size_t len, int64_t *out_micros) {
    return parse(text, len, false, out_micros);
}

int vg_money_parse_amount(const char *text, size_t len, int64_t *out_micros) {
    return parse(text, len, true, out_micros);
}

int vg_money_convert(int64_t amount_micros, int64_t rate_micros, int64_t *out_micros) {
    int64_t product64;
    if (VG_LIKELY(!__builtin_mul_overflow(amount_micros, rate_micros, &product64))) {
        /* Common case without 128-bit division; same rounding as below. */
        int64_t quotient = product64 / VG_MICROS_PER_UNIT, remainder = product64 % VG_MICROS_PER_UNIT;
        if (remainder * 2 >= VG_MICROS_PER_UNIT) quotient += 1;
        else if (remainder * 2 <= -VG_MICROS_PER_UNIT) quotient -= 1;
        *out_micros = quotient;
        return VG_OK;
    }
    __int128 product = (__int128)amount_micros * rate_micros;
    __int128 quotient = product / VG_MICROS_PER_UNIT;
    __int128 remainder = product % VG_MICROS_PER_UNIT; /* same sign as product */
    /* Half away from zero: |remainder| >= 0.5 unit moves one step away from zero. */
    if (remainder * 2 >= VG_MICROS_PER_UNIT) quotient += 1;
    else if (remainder * 2 <= -VG_MICROS_PER_UNIT) quotient -= 1;
    if (quotient > INT64_MAX || quotient < INT64_MIN) return VG_ERR_RANGE;
    *out_micros = (int64_t)quotient;
    return VG_OK;
}

size_t vg_money_format(int64_t micros, char *buf) {
    /* Work on the unsigned magnitude so INT64_MIN formats too. */
    uint64_t magnitude = micros < 0 ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
    uint64_t units = magnitude / (uint64_t)VG_MICROS_PER_UNIT;
    uint64_t fraction = magnitude % (uint64_t)VG_MICROS_PER_UNIT;

    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + units % 10);
        units /= 10;
    } while (units);

    size_t len = 0;
    if (micros < 0) buf[len++] = '-';
    while (n) buf[len++] = digits[--n];
    if (fraction) {
        char frac[MONEY_SCALE];
        for (int i = MONEY_SCALE - 1; i >= 0; i--) {
            frac[i] = (char)('0' + fraction % 10);
            fraction /= 10;
        }
        size_t frac_len = MONEY_SCALE;
        while (frac[frac_len - 1] == '0') frac_len--;
        buf[len++] = '.';
        memcpy(buf + len, frac, frac_len);
        len += frac_len;
    }
    buf[len] = '\0';
    return len;
}
