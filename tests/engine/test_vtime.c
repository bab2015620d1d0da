/* test_vtime.c - event-time parsing: RFC 3339 with offsets and fractions, AMLworld
 * timestamps, durations. Expected epoch values were computed independently (date -u -d). */
#include <criterion/criterion.h>
#include <string.h>

#include "vigil/vtime.h"

static int rfc(const char *text, int64_t *out) {
    return vg_time_parse_rfc3339(text, strlen(text), out);
}

static void expect_rfc(const char *text, int64_t ms) {
    int64_t got = 0;
    int rc = rfc(text, &got);
    cr_expect_eq(rc, VG_OK, "'%s' should parse, got %d", text, rc);
    cr_expect_eq(got, ms, "'%s' -> %lld, expected %lld", text, (long long)got, (long long)ms);
}

Test(vtime, days_from_civil) {
    cr_expect_eq(vg_days_from_civil(1970, 1, 1), 0);
    cr_expect_eq(vg_days_from_civil(1970, 1, 2), 1);
    cr_expect_eq(vg_days_from_civil(1969, 12, 31), -1);
    cr_expect_eq(vg_days_from_civil(2000, 3, 1), 11017);
    cr_expect_eq(vg_days_from_civil(2024, 2, 29), 19782);
    cr_expect_eq(vg_days_from_civil(1600, 1, 1), -135140);
}

Test(vtime, rfc3339_utc_and_fractions) {
    expect_rfc("1970-01-01T00:00:00Z", 0);
    expect_rfc("2024-03-01T12:00:00Z", 1709294400000);
    expect_rfc("2024-03-01t12:00:00z", 1709294400000);
    expect_rfc("2024-03-01 12:00:00Z", 1709294400000);
    expect_rfc("2024-03-01T12:00:00.1Z", 1709294400100);
    expect_rfc("2024-03-01T12:00:00.12Z", 1709294400120);
    expect_rfc("2024-03-01T12:00:00.123Z", 1709294400123);
    expect_rfc("2024-03-01T12:00:00.123999999Z", 1709294400123); /* truncated, not rounded */
    expect_rfc("1969-12-31T23:59:59.999Z", -1);
}

Test(vtime, rfc3339_offsets) {
    /* All the same instant: 2024-03-01T12:00:00Z. */
    expect_rfc("2024-03-01T17:30:00+05:30", 1709294400000);
    expect_rfc("2024-03-01T04:00:00-08:00", 1709294400000);
    expect_rfc("2024-03-01T12:00:00+00:00", 1709294400000);
    expect_rfc("2024-03-01T12:00:00-00:00", 1709294400000);
    expect_rfc("2024-03-01T12:00:00.123+05:30", 1709294400123 - 19800000);
    /* An offset carries the date over midnight and month ends. */
    expect_rfc("2024-03-01T01:00:00+05:00", 1709236800000);
    expect_rfc("2024-02-29T23:00:00-05:00", 1709265600000);
}

Test(vtime, rfc3339_leap_years) {
    expect_rfc("2024-02-29T00:00:00Z", 1709164800000);
    expect_rfc("2000-02-29T00:00:00Z", 951782400000);
    int64_t out;
    cr_expect_eq(rfc("2023-02-29T00:00:00Z", &out), VG_ERR_INVALID);
    cr_expect_eq(rfc("1900-02-29T00:00:00Z", &out), VG_ERR_INVALID);
    cr_expect_eq(rfc("2024-02-30T00:00:00Z", &out), VG_ERR_INVALID);
}

Test(vtime, rfc3339_leap_second_lands_on_next_minute) {
    expect_rfc("2016-12-31T23:59:60Z", 1483228800000);
}

Test(vtime, rfc3339_invalid_refused) {
    static const char *const bad[] = {
        "",
        "2024-03-01",                   /* date only */
        "2024-03-01T12:00:00",          /* no offset */
        "2024-03-01T12:00Z",            /* no seconds */
        "2024-13-01T12:00:00Z",         /* month 13 */
        "2024-00-01T12:00:00Z",         /* month 0 */
        "2024-04-31T12:00:00Z",         /* April 31 */
        "2024-03-00T12:00:00Z",         /* day 0 */
        "2024-03-01T24:00:00Z",         /* hour 24 */
        "2024-03-01T12:60:00Z",         /* minute 60 */
        "2024-03-01T12:00:61Z",         /* second 61 */
        "2024-03-01T12:00:00.Z",        /* empty fraction */
        "2024-03-01T12:00:00+0530",     /* offset without colon */
        "2024-03-01T12:00:00+05",       /* short offset */
        "2024-03-01T12:00:00+24:00",    /* offset hour 24 */
        "2024-03-01T12:00:00+05:60",    /* offset minute 60 */
        "2024-03-01T12:00:00Z ",        /* trailing space */
        "2024-03-01T12:00:00ZZ",
        "2024-03-01X12:00:00Z",         /* bad separator */
        "2024/03/01T12:00:00Z",
        "24-03-01T12:00:00Z",
        "2024-3-1T12:00:00Z",
        "+2024-03-01T12:00:00Z",
        "2024-03-01T1a:00:00Z",
        "not a timestamp at all",
        "1709294400000",                /* epoch ms as a string is not RFC 3339 */
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        int64_t out = 42;
        cr_expect_eq(rfc(bad[i], &out), VG_ERR_INVALID, "'%s' must be refused", bad[i]);
        cr_expect_eq(out, 42, "'%s' must leave the output alone", bad[i]);
    }
}

Test(vtime, amlworld_timestamps) {
    int64_t out;
    cr_assert_eq(vg_time_parse_amlworld("2022/09/01 00:20", 16, &out), VG_OK);
    cr_expect_eq(out, 1661991600000);
    cr_assert_eq(vg_time_parse_amlworld("2020/02/29 23:59", 16, &out), VG_OK);
    cr_expect_eq(out, 1583020740000);
    static const char *const bad[] = {
        "", "2022/09/01", "2022-09-01 00:20", "2022/09/01T00:20", "2022/09/01 00:20:00",
        "2022/13/01 00:20", "2022/09/31 00:20", "2021/02/29 00:00", "2022/09/01 24:00",
        "2022/09/01 00:60", "2022/9/01 00:20", "2022/09/01 0:20 ",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++)
        cr_expect_eq(vg_time_parse_amlworld(bad[i], strlen(bad[i]), &out), VG_ERR_INVALID,
                     "'%s' must be refused", bad[i]);
}

Test(vtime, durations) {
    static const struct {
        const char *text;
        int64_t ms;
    } cases[] = {
        {"250ms", 250}, {"90s", 90000}, {"15m", 900000}, {"48h", 172800000},
        {"7d", 604800000}, {"0", 0}, {"0s", 0}, {"180d", 15552000000}, {"1ms", 1},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        int64_t out = -1;
        cr_expect_eq(vg_duration_parse(cases[i].text, strlen(cases[i].text), &out), VG_OK, "%s",
                     cases[i].text);
        cr_expect_eq(out, cases[i].ms, "%s", cases[i].text);
    }
}

Test(vtime, durations_refused) {
    static const struct {
        const char *text;
        int rc;
    } cases[] = {
        {"", VG_ERR_INVALID},     {"90", VG_ERR_INVALID},   {"s", VG_ERR_INVALID},
        {"1.5h", VG_ERR_INVALID}, {"5 m", VG_ERR_INVALID},  {"5M", VG_ERR_INVALID},
        {"1w", VG_ERR_INVALID},   {"1h30m", VG_ERR_INVALID}, {"10sec", VG_ERR_INVALID},
        {"-5m", VG_ERR_RANGE},    {"-x", VG_ERR_INVALID},
        {"9223372036854775808ms", VG_ERR_RANGE}, {"106751991167301d", VG_ERR_RANGE},
        {"99999999999999999999999d", VG_ERR_RANGE},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        int64_t out;
        cr_expect_eq(vg_duration_parse(cases[i].text, strlen(cases[i].text), &out), cases[i].rc,
                     "'%s'", cases[i].text);
    }
    int64_t out;
    cr_expect_eq(vg_duration_parse("9223372036854775807ms", 21, &out), VG_OK);
    cr_expect_eq(out, INT64_MAX);
}

Test(vtime, duration_format_round_trip) {
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {604800000, "7d"}, {90000, "90s"}, {900000, "15m"}, {172800000, "2d"},
        {3600000, "1h"},   {250, "250ms"}, {0, "0"},        {1500, "1500ms"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        char buf[24];
        size_t len = vg_duration_format(cases[i].ms, buf);
        cr_expect_str_eq(buf, cases[i].text);
        int64_t back;
        cr_assert_eq(vg_duration_parse(buf, len, &back), VG_OK);
        cr_expect_eq(back, cases[i].ms);
    }
}
