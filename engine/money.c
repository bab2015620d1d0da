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

/* The digit runs of a decimal amount, located by scan(). */
struct decimal {
    bool negative;
    const char *int_digits, *frac_digits;
    size_t int_len, frac_len;
    long exp10;          /* clamped to +-EXPONENT_CLAMP */
    bool has_exponent;
};

/* Checks the syntax (see money.h) and locates the digits. Returns VG_OK or VG_ERR_INVALID. */
static int scan(const char *text, size_t len, struct decimal *d) {
    const char *p = text, *end = text + len;
    d->negative = false;
    if (p < end && (*p == '+' || *p == '-')) d->negative = *p++ == '-';

    d->int_digits = p;
    while (p < end && is_digit(*p)) p++;
    d->int_len = (size_t)(p - d->int_digits);
    if (d->int_len == 0) return VG_ERR_INVALID; /* empty, "NaN", "Infinity", ".5", "-" */

    d->frac_digits = p;
    d->frac_len = 0;
    if (p < end && *p == '.') {
        d->frac_digits = ++p;
        while (p < end && is_digit(*p)) p++;
        d->frac_len = (size_t)(p - d->frac_digits);
        if (d->frac_len == 0) return VG_ERR_INVALID; /* "5." */
    }

    d->exp10 = 0;
    d->has_exponent = false;
    if (p < end && (*p == 'e' || *p == 'E')) {
        d->has_exponent = true;
        p++;
        bool exp_negative = false;
        if (p < end && (*p == '+' || *p == '-')) exp_negative = *p++ == '-';
        const char *exp_digits = p;
        while (p < end && is_digit(*p)) {
            if (d->exp10 < EXPONENT_CLAMP) d->exp10 = d->exp10 * 10 + (*p - '0');
            p++;
        }
        if (p == exp_digits) return VG_ERR_INVALID; /* "1e", "1e+" */
        if (exp_negative) d->exp10 = -d->exp10;
    }
    return p == end ? VG_OK : VG_ERR_INVALID; /* stray characters, "1.2.3", "12 USD" */
}

/* Fast path for every ordinary amount: no exponent and at most 12 + 6 digits, which fit a
 * uint64 of micro-units. Returns false when the decimal needs the general path. */
static inline bool fast_micros(const struct decimal *d, uint64_t *out_magnitude) {
    if (VG_UNLIKELY(d->has_exponent || d->int_len > 12 || d->frac_len > MONEY_SCALE)) return false;
    uint64_t magnitude = 0;
    for (size_t i = 0; i < d->int_len; i++) magnitude = magnitude * 10 + (uint64_t)(d->int_digits[i] - '0');
    for (size_t i = 0; i < MONEY_SCALE; i++)
        magnitude = magnitude * 10 + (i < d->frac_len ? (uint64_t)(d->frac_digits[i] - '0') : 0);
    *out_magnitude = magnitude;
    return true;
}

static int parse(const char *text, size_t len, bool round, int64_t *out_micros) {
    struct decimal d;
    if (scan(text, len, &d) != VG_OK) return VG_ERR_INVALID;
    uint64_t magnitude = 0;
    if (!fast_micros(&d, &magnitude)) {
        int rc = place_digits(d.int_digits, d.int_len, d.frac_digits, d.frac_len, d.exp10, round, &magnitude);
        if (rc != VG_OK) return rc;
    }
    *out_micros = d.negative ? -(int64_t)magnitude : (int64_t)magnitude;
    return VG_OK;
}

int vg_money_parse(const char *text, size_t len, int64_t *out_micros) {
    return parse(text, len, false, out_micros);
}

int vg_money_parse_amount(const char *text, size_t len, int64_t *out_micros) {
    return parse(text, len, true, out_micros);
}

/* 10^-18 units in one micro-unit. */
#define SUB_PER_MICRO 1000000000000ULL

int vg_money_parse_exact(const char *text, size_t len, struct vg_amount *out) {
    struct decimal d;
    if (scan(text, len, &d) != VG_OK) return VG_ERR_INVALID;
    uint64_t magnitude = 0;
    if (fast_micros(&d, &magnitude)) {
        out->micros = (int64_t)magnitude;
        out->sub_micros = 0;
    } else {
        /* digit * 10^(power + 18) for powers -18 .. 18 (beyond -18: dropped, toward zero); a
         * value of 2^63 micro-units or more does not fit. */
        const unsigned __int128 limit = ((unsigned __int128)INT64_MAX + 1) * SUB_PER_MICRO;
        unsigned __int128 sum = 0;
        for (size_t k = 0; k < d.int_len + d.frac_len; k++) {
            char c = k < d.int_len ? d.int_digits[k] : d.frac_digits[k - d.int_len];
            if (c == '0') continue;
            long power = k < d.int_len ? d.exp10 + (long)(d.int_len - 1 - k) : d.exp10 - (long)(k - d.int_len) - 1;
            if (power < -18) continue;
            if (power > 18) return VG_ERR_RANGE;
            sum += (unsigned __int128)(unsigned)(c - '0') * pow10_u128((unsigned)(power + 18));
            if (sum >= limit) return VG_ERR_RANGE;
        }
        out->micros = (int64_t)(sum / SUB_PER_MICRO);
        out->sub_micros = (uint64_t)(sum % SUB_PER_MICRO);
    }
    if (d.negative && (out->micros != 0 || out->sub_micros != 0)) {
        out->micros = out->micros ? -out->micros : -1;   /* callers refuse it; only the sign matters */
        out->sub_micros = 0;
    }
    return VG_OK;
}

int vg_money_convert_exact(const struct vg_amount *amount, int64_t rate_micros, int64_t *out_micros) {
    /* base = (micros * rate + sub * rate / 10^12) / 10^6, each step floored: for an integer
     * m and a real x, floor((m + x) / n) = floor((m + floor(x)) / n), so this is the exact
     * product floored. Amounts are positive here (callers refuse the rest first). */
    int64_t product64;
    if (VG_LIKELY(amount->sub_micros == 0 && amount->micros >= 0 &&
                  !__builtin_mul_overflow(amount->micros, rate_micros, &product64))) {
        *out_micros = product64 / VG_MICROS_PER_UNIT;
        return VG_OK;
    }
    __int128 product = (__int128)amount->micros * rate_micros;
    product += (__int128)((unsigned __int128)amount->sub_micros * (unsigned __int128)rate_micros / SUB_PER_MICRO);
    __int128 quotient = product / VG_MICROS_PER_UNIT;
    if (quotient > INT64_MAX || quotient < INT64_MIN) return VG_ERR_RANGE;
    *out_micros = (int64_t)quotient;
    return VG_OK;
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
