/* vtime.h - event-time parsing and durations, all as int64 epoch milliseconds (UTC).
 * Calendar math is done by hand (no timegm/locale) so parsing is exact and thread-safe. */
#ifndef VIGIL_VTIME_H
#define VIGIL_VTIME_H

#include "vigil/common.h"

/* RFC 3339: "2024-03-01T12:00:00Z", "2024-03-01T12:00:00.123+05:30", lower-case 't'/'z'
 * and a space separator accepted. Fractions beyond milliseconds are truncated. A leap
 * second (:60) lands on the next minute's :00, as POSIX time does.
 * Returns VG_OK or VG_ERR_INVALID (bad syntax, month 13, Feb 30, hour 24, ...). */
int vg_time_parse_rfc3339(const char *text, size_t len, int64_t *out_ms);

/* AMLworld "YYYY/MM/DD HH:MM" (UTC). Returns VG_OK or VG_ERR_INVALID. */
int vg_time_parse_amlworld(const char *text, size_t len, int64_t *out_ms);

/* Durations "90s", "15m", "48h", "7d", "250ms"; a bare "0" is zero. Returns VG_OK,
 * VG_ERR_INVALID (syntax/unit) or VG_ERR_RANGE (overflow or negative). */
int vg_duration_parse(const char *text, size_t len, int64_t *out_ms);

/* Days since 1970-01-01 for a proleptic Gregorian date (no validation). */
int64_t vg_days_from_civil(int64_t year, unsigned month, unsigned day);

/* Formats a duration back as the largest exact unit ("7d", "90s"). buf >= 24 bytes. */
size_t vg_duration_format(int64_t ms, char *buf);

#endif
