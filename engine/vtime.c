/* vtime.c - event-time parsing (RFC 3339, AMLworld "YYYY/MM/DD HH:MM") and durations
 * ("250ms", "90s", "15m", "48h", "7d"), all to int64 epoch milliseconds UTC.
 * Calendar math is Howard Hinnant's days_from_civil: no timegm, no locale, no TZ. */
#include "vigil/vtime.h"

#include <string.h>

int64_t vg_days_from_civil(int64_t year, unsigned month, unsigned day) {
    year -= month <= 2;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const int64_t year_of_era = year - era * 400;                               /* [0, 399] */
    const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static bool is_leap_year(int64_t year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned days_in_month(int64_t year, unsigned month) {
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/* Reads exactly n decimal digits at p. Returns the value, or -1 when one is not a digit. */
static int read_digits(const char *p, size_t n) {
    int value = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)p[i] - (unsigned char)'0';
        if (d > 9) return -1;
        value = value * 10 + (int)d;
    }
    return value;
}

/* Validates a civil date-time and turns it into epoch ms (before any offset).
 * second may be 60 (a leap second), which lands on the next minute's :00 as in POSIX.
 * Returns VG_OK or VG_ERR_INVALID for an out-of-range field. */
static int civil_to_ms(int year, int month, int day, int hour, int minute, int second,
                       int64_t *out_ms) {
    if (year < 0 || month < 1 || month > 12 || day < 1 ||
        (unsigned)day > days_in_month(year, (unsigned)month) || hour < 0 || hour > 23 ||
        minute < 0 || minute > 59 || second < 0 || second > 60)
        return VG_ERR_INVALID;
    int64_t days = vg_days_from_civil(year, (unsigned)month, (unsigned)day);
    *out_ms = ((days * 24 + hour) * 60 + minute) * 60 * VG_MS_PER_SECOND + second * VG_MS_PER_SECOND;
    return VG_OK;
}

int vg_time_parse_rfc3339(const char *text, size_t len, int64_t *out_ms) {
    /* "YYYY-MM-DDTHH:MM:SS" is 19 bytes, then [.fraction] and Z or +HH:MM. */
    if (len < 20) return VG_ERR_INVALID;
    const char *p = text;
    if (p[4] != '-' || p[7] != '-' || p[13] != ':' || p[16] != ':') return VG_ERR_INVALID;
    if (p[10] != 'T' && p[10] != 't' && p[10] != ' ') return VG_ERR_INVALID;
    int year = read_digits(p, 4), month = read_digits(p + 5, 2), day = read_digits(p + 8, 2);
    int hour = read_digits(p + 11, 2), minute = read_digits(p + 14, 2);
    int second = read_digits(p + 17, 2);
    int64_t ms;
    if (civil_to_ms(year, month, day, hour, minute, second, &ms) != VG_OK) return VG_ERR_INVALID;

    size_t i = 19;
    if (p[i] == '.') {
        /* Fraction: at least one digit; digits beyond milliseconds are truncated. */
        size_t start = ++i;
        int fraction_ms = 0;
        while (i < len && (unsigned char)(p[i] - '0') < 10) {
            if (i - start < 3) fraction_ms = fraction_ms * 10 + (p[i] - '0');
            i++;
        }
        size_t digits = i - start;
        if (digits == 0) return VG_ERR_INVALID;
        for (size_t k = digits; k < 3; k++) fraction_ms *= 10;
        ms += fraction_ms;
    }
    if (i >= len) return VG_ERR_INVALID; /* the offset is mandatory */
    if (p[i] == 'Z' || p[i] == 'z') {
        i++;
    } else if (p[i] == '+' || p[i] == '-') {
        if (len - i < 6 || p[i + 3] != ':') return VG_ERR_INVALID;
        int offset_hours = read_digits(p + i + 1, 2), offset_minutes = read_digits(p + i + 4, 2);
        if (offset_hours < 0 || offset_hours > 23 || offset_minutes < 0 || offset_minutes > 59)
            return VG_ERR_INVALID;
        int64_t offset_ms = (int64_t)(offset_hours * 60 + offset_minutes) * 60 * VG_MS_PER_SECOND;
        /* Local time = UTC + offset, so UTC = local - offset. */
        ms += p[i] == '+' ? -offset_ms : offset_ms;
        i += 6;
    } else {
        return VG_ERR_INVALID;
    }
    if (i != len) return VG_ERR_INVALID;
    *out_ms = ms;
    return VG_OK;
}

int vg_time_parse_amlworld(const char *text, size_t len, int64_t *out_ms) {
    /* Exactly "YYYY/MM/DD HH:MM". */
    if (len != 16 || text[4] != '/' || text[7] != '/' || text[10] != ' ' || text[13] != ':')
        return VG_ERR_INVALID;
    int year = read_digits(text, 4), month = read_digits(text + 5, 2);
    int day = read_digits(text + 8, 2), hour = read_digits(text + 11, 2);
    int minute = read_digits(text + 14, 2);
    return civil_to_ms(year, month, day, hour, minute, 0, out_ms);
}

int vg_duration_parse(const char *text, size_t len, int64_t *out_ms) {
    size_t i = 0;
    if (len > 0 && text[0] == '-') {
        /* "-5m" is well-formed but a negative span is never meaningful. */
        int64_t ignored;
        return vg_duration_parse(text + 1, len - 1, &ignored) == VG_ERR_INVALID ? VG_ERR_INVALID
                                                                                 : VG_ERR_RANGE;
    }
    uint64_t value = 0;
    bool overflow = false;
    while (i < len && (unsigned char)(text[i] - '0') < 10) {
        value = value * 10 + (uint64_t)(text[i] - '0');
        if (value > (uint64_t)INT64_MAX) overflow = true, value = (uint64_t)INT64_MAX;
        i++;
    }
    if (i == 0) return VG_ERR_INVALID; /* empty, "ms", "1.5h" is caught below */

    const char *unit = text + i;
    size_t unit_len = len - i;
    int64_t unit_ms;
    if (unit_len == 0) {
        if (value != 0) return VG_ERR_INVALID; /* "90" has no unit; only "0" may omit it */
        unit_ms = 1;
    } else if (unit_len == 2 && unit[0] == 'm' && unit[1] == 's') {
        unit_ms = 1;
    } else if (unit_len == 1 && unit[0] == 's') {
        unit_ms = VG_MS_PER_SECOND;
    } else if (unit_len == 1 && unit[0] == 'm') {
        unit_ms = 60 * VG_MS_PER_SECOND;
    } else if (unit_len == 1 && unit[0] == 'h') {
        unit_ms = 3600 * VG_MS_PER_SECOND;
    } else if (unit_len == 1 && unit[0] == 'd') {
        unit_ms = VG_MS_PER_DAY;
    } else {
        return VG_ERR_INVALID;
    }
    if (overflow || value > (uint64_t)(INT64_MAX / unit_ms)) return VG_ERR_RANGE;
    *out_ms = (int64_t)value * unit_ms;
    return VG_OK;
}

size_t vg_duration_format(int64_t ms, char *buf) {
    static const struct {
        int64_t ms;
        const char *suffix;
    } units[] = {{VG_MS_PER_DAY, "d"}, {3600 * VG_MS_PER_SECOND, "h"},
                 {60 * VG_MS_PER_SECOND, "m"}, {VG_MS_PER_SECOND, "s"}, {1, "ms"}};
    if (ms == 0) {
        memcpy(buf, "0", 2);
        return 1;
    }
    size_t u = 0;
    while (ms % units[u].ms != 0) u++; /* ends at 1 ms, which divides everything */
    int64_t count = ms / units[u].ms;
    uint64_t magnitude = count < 0 ? (uint64_t)0 - (uint64_t)count : (uint64_t)count;

    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    size_t len = 0;
    if (count < 0) buf[len++] = '-';
    while (n) buf[len++] = digits[--n];
    size_t suffix_len = strlen(units[u].suffix);
    memcpy(buf + len, units[u].suffix, suffix_len + 1);
    return len + suffix_len;
}
