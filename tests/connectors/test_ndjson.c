/* test_ndjson.c - the NDJSON record parser: valid records land exactly in vg_txn, every
 * defect is refused with the right dead-letter reason and a detail naming the field. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/ingest.h"

static struct vg_currency_table rates;

static void setup(void) {
    vg_currency_defaults(&rates);
}

TestSuite(ndjson, .init = setup);

static int parse(const char *rec, struct vg_txn *out, struct vg_parse_error *err) {
    return vg_ndjson_parse(rec, strlen(rec), &rates, out, err);
}

/* Parses rec, which must succeed, into *out. */
static void parse_ok(const char *rec, struct vg_txn *out) {
    struct vg_parse_error err = {0};
    int rc = parse(rec, out, &err);
    cr_assert_eq(rc, VG_OK, "record refused (%s: %s): %s", vg_reason_name(err.reason), err.detail, rec);
}

/* Parses rec, which must fail with reason; returns the detail for further checks. */
static void parse_fails(const char *rec, enum vg_reason reason, const char *detail_part) {
    struct vg_txn out;
    struct vg_parse_error err = {0};
    int rc = parse(rec, &out, &err);
    cr_expect_eq(rc, VG_ERR_INVALID, "record accepted: %s", rec);
    cr_expect_eq(err.reason, reason, "reason %s (%s), expected %s: %s", vg_reason_name(err.reason),
                 err.detail, vg_reason_name(reason), rec);
    if (detail_part)
        cr_expect(strstr(err.detail, detail_part) != NULL, "detail '%s' lacks '%s'", err.detail, detail_part);
    cr_expect(strchr(err.detail, '\n') == NULL, "detail must be one line");
}

#define BASE "\"id\":\"t1\",\"ts\":\"2024-03-01T12:00:00Z\",\"from\":\"A\",\"to\":\"B\""

Test(ndjson, full_record) {
    struct vg_txn t;
    t.seq = 77;
    parse_ok("{\"id\":\"tx-1\",\"ts\":\"2024-03-01T17:30:00.250+05:30\",\"from\":\"acct:1\","
             "\"to\":\"acct:2\",\"amount\":\"1234.56\",\"currency\":\"USD\",\"channel\":\"Wire\","
             "\"from_country\":\"us\",\"to_country\":\"KP\",\"from_bank\":\"B1\",\"to_bank\":\"B2\"}",
             &t);
    cr_expect_eq(t.seq, 77, "seq is the reader's, untouched");
    cr_expect_eq(t.id_len, 4);
    cr_expect(memcmp(t.id, "tx-1", 4) == 0);
    cr_expect_eq(t.from_len, 6);
    cr_expect(memcmp(t.from, "acct:1", 6) == 0);
    cr_expect_eq(t.to_len, 6);
    cr_expect(memcmp(t.to, "acct:2", 6) == 0);
    cr_expect_eq(t.ts_ms, 1709294400250);
    cr_expect_eq(t.amount_micros, 1234560000);
    cr_expect_str_eq(t.channel, "wire");
    cr_expect_eq(t.channel_len, 4);
    cr_expect(memcmp(t.from_country, "US", 2) == 0);
    cr_expect(memcmp(t.to_country, "KP", 2) == 0);
}

Test(ndjson, minimal_record_and_optional_fields_absent) {
    struct vg_txn t;
    parse_ok("{" BASE ",\"amount\":5,\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.amount_micros, 5000000);
    cr_expect_eq(t.channel_len, 0);
    cr_expect_eq(t.from_country[0], '\0');
    cr_expect_eq(t.to_country[0], '\0');
    /* null is the same as absent for optional fields */
    parse_ok("{" BASE ",\"amount\":5,\"currency\":\"USD\",\"channel\":null,\"to_country\":null}", &t);
    cr_expect_eq(t.channel_len, 0);
}

Test(ndjson, whitespace_and_member_order) {
    struct vg_txn t;
    parse_ok("  \t{ \"currency\" : \"EUR\" ,\n \"amount\" : 1.5 , \"to\":\"B\",\"from\":\"A\","
             "\"ts\": 1709294400000 ,\"id\":\"x\" }\r\n ",
             &t);
    cr_expect_eq(t.ts_ms, 1709294400000);
    cr_expect_eq(t.amount_micros, 1620000); /* 1.5 EUR at 1.08 */
}

Test(ndjson, amount_forms_are_exact) {
    struct vg_txn t;
    parse_ok("{" BASE ",\"amount\":0.1,\"currency\":\"USD\"}", &t);
    int64_t tenth = t.amount_micros;
    parse_ok("{" BASE ",\"amount\":\"0.2\",\"currency\":\"USD\"}", &t);
    cr_expect_eq(tenth + t.amount_micros, 300000, "0.1 + 0.2 is exactly 0.3");
    parse_ok("{" BASE ",\"amount\":1e3,\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.amount_micros, 1000000000);
    parse_ok("{" BASE ",\"amount\":1.5E+2,\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.amount_micros, 150000000);
    parse_ok("{" BASE ",\"amount\":0.000001,\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.amount_micros, 1);
    parse_ok("{" BASE ",\"amount\":\"9223372036854.775807\",\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.amount_micros, INT64_MAX);
    /* more than 6 decimals: kept until conversion, which rounds once, toward zero */
    parse_ok("{" BASE ",\"amount\":1234.5600000000001,\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.amount_micros, 1234560000);
    parse_ok("{" BASE ",\"amount\":\"0.12345678\",\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.amount_micros, 123456);
    parse_ok("{" BASE ",\"amount\":\"0.16666666\",\"currency\":\"XBT\"}", &t);
    cr_expect_eq(t.amount_micros, 9999999600, "satoshis are not rounded to micro-bitcoins first");
    parse_ok("{" BASE ",\"amount\":\"9259.259259\",\"currency\":\"EUR\"}", &t);
    cr_expect_eq(t.amount_micros, 9999999999, "9999.99999972 USD is not rounded up to 10000");
}

Test(ndjson, currency_conversion) {
    struct vg_txn t;
    parse_ok("{" BASE ",\"amount\":1000000,\"currency\":\"KZT\"}", &t);
    int64_t kzt;
    cr_assert_eq(vg_currency_rate(&rates, "KZT", 3, &kzt), VG_OK);
    cr_expect_eq(t.amount_micros, 1000000 * kzt);
    parse_ok("{" BASE ",\"amount\":100,\"currency\":\"Euro\"}", &t);
    cr_expect_eq(t.amount_micros, 108000000);
    parse_ok("{" BASE ",\"amount\":100,\"currency\":\"US Dollar\"}", &t);
    cr_expect_eq(t.amount_micros, 100000000);
    parse_ok("{" BASE ",\"amount\":100,\"currency\":\"\\u0055SD\"}", &t);
    cr_expect_eq(t.amount_micros, 100000000);
}

Test(ndjson, ids_with_escapes) {
    struct vg_txn t;
    parse_ok("{\"id\":\"q\\\"uote\",\"ts\":0,\"from\":\"back\\\\slash\",\"to\":\"\\u00e9t\\u00E9\","
             "\"amount\":1,\"currency\":\"USD\"}",
             &t);
    cr_expect_eq(t.id_len, 6);
    cr_expect(memcmp(t.id, "q\"uote", 6) == 0);
    cr_expect_eq(t.from_len, 10);
    cr_expect(memcmp(t.from, "back\\slash", 10) == 0);
    cr_expect_eq(t.to_len, 5);
    cr_expect(memcmp(t.to, "\xc3\xa9t\xc3\xa9", 5) == 0, "é as UTF-8");
    /* surrogate pair -> 4-byte UTF-8; raw UTF-8 passes through; \/ and \t unescape */
    parse_ok("{\"id\":\"\\ud83d\\ude00\",\"ts\":0,\"from\":\"\xe2\x82\xac\",\"to\":\"a\\/b\\tc\","
             "\"amount\":1,\"currency\":\"USD\"}",
             &t);
    cr_expect_eq(t.id_len, 4);
    cr_expect(memcmp(t.id, "\xf0\x9f\x98\x80", 4) == 0);
    cr_expect_eq(t.from_len, 3);
    cr_expect_eq(t.to_len, 5);
    cr_expect(memcmp(t.to, "a/b\tc", 5) == 0);
    /* U+0000 is a byte of the id like any other: kept, with the id's length */
    parse_ok("{\"id\":\"t\\u0000\",\"ts\":0,\"from\":\"a\\u0000b\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.from_len, 3);
    cr_expect(memcmp(t.from, "a\0b", 3) == 0);
    cr_expect_eq(t.id_len, 2);
}

Test(ndjson, ids_64_bytes_ok_65_refused) {
    char id64[65], id65[66], rec[512];
    memset(id64, 'x', 64), id64[64] = '\0';
    memset(id65, 'y', 65), id65[65] = '\0';
    struct vg_txn t;
    snprintf(rec, sizeof rec, "{\"id\":\"%s\",\"ts\":0,\"from\":\"%s\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}",
             id64, id64);
    parse_ok(rec, &t);
    cr_expect_eq(t.id_len, 64);
    cr_expect_eq(t.from_len, 64);
    cr_expect(memcmp(t.from, id64, 64) == 0);
    snprintf(rec, sizeof rec, "{\"id\":\"t\",\"ts\":0,\"from\":\"A\",\"to\":\"%s\",\"amount\":1,\"currency\":\"USD\"}", id65);
    parse_fails(rec, VG_REASON_BAD_ID, "'to'");
    /* The limit is on bytes after unescaping: 63 x + one \u00e9 (2 bytes) = 65 bytes. */
    char escaped[128];
    memset(escaped, 'x', 63);
    strcpy(escaped + 63, "\\u00e9");
    snprintf(rec, sizeof rec, "{\"id\":\"%s\",\"ts\":0,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", escaped);
    parse_fails(rec, VG_REASON_BAD_ID, "'id'");
    /* 62 x + \u00e9 = 64 bytes: fine, even though the escaped text is longer than 64. */
    strcpy(escaped + 62, "\\u00e9");
    snprintf(rec, sizeof rec, "{\"id\":\"%s\",\"ts\":0,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", escaped);
    parse_ok(rec, &t);
    cr_expect_eq(t.id_len, 64);
}

Test(ndjson, channel_lower_cased_and_truncated) {
    struct vg_txn t;
    parse_ok("{" BASE ",\"amount\":1,\"currency\":\"USD\",\"channel\":\"CRYPTO\"}", &t);
    cr_expect_str_eq(t.channel, "crypto");
    parse_ok("{" BASE ",\"amount\":1,\"currency\":\"USD\",\"channel\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"}", &t);
    cr_expect_eq(t.channel_len, VG_CHANNEL_MAX);
    cr_expect_str_eq(t.channel, "abcdefghijklmnopqrstuvw");
    /* 22 ASCII bytes then a 2-byte character: the cut never splits it. */
    parse_ok("{" BASE ",\"amount\":1,\"currency\":\"USD\",\"channel\":\"aaaaaaaaaaaaaaaaaaaaaa\\u00e9zz\"}", &t);
    cr_expect_eq(t.channel_len, 22);
}

Test(ndjson, unknown_fields_ignored_even_nested) {
    struct vg_txn t;
    parse_ok("{\"meta\":{\"a\":[1,2,{\"b\":null}],\"c\":\"}\"},\"flags\":[true,false,null,-1.5e-3,\"x\"],"
             "\"empty\":{},\"list\":[]," BASE ",\"amount\":1,\"currency\":\"USD\",\"note\":\"\\u00e9\"}",
             &t);
    cr_expect_eq(t.amount_micros, 1000000);
}

Test(ndjson, timestamps) {
    struct vg_txn t;
    parse_ok("{\"id\":\"t\",\"ts\":1709294400123,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.ts_ms, 1709294400123);
    parse_ok("{\"id\":\"t\",\"ts\":\"2024-03-01T04:00:00-08:00\",\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.ts_ms, 1709294400000);
    /* A float writer's whole number of milliseconds. */
    parse_ok("{\"id\":\"t\",\"ts\":1709294400123.000,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.ts_ms, 1709294400123);
    parse_ok("{\"id\":\"t\",\"ts\":-5.0,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", &t);
    cr_expect_eq(t.ts_ms, -5);
}

/* The table of refusals: each record must go to the dead letters with this reason. */
Test(ndjson, invalid_records_refused_with_reason) {
    static const struct {
        const char *rec;
        enum vg_reason reason;
        const char *detail_part;
    } cases[] = {
        /* not JSON, or not an object */
        {"", VG_REASON_MALFORMED, "empty"},
        {"   ", VG_REASON_MALFORMED, NULL},
        {"[1,2]", VG_REASON_MALFORMED, "object"},
        {"\"id\"", VG_REASON_MALFORMED, NULL},
        {"{", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\"", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\"}}", VG_REASON_MALFORMED, "trailing"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\"} x", VG_REASON_MALFORMED, "trailing"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\"}{}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":1 \"currency\":\"USD\"}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\"=1,\"currency\":\"USD\"}", VG_REASON_MALFORMED, NULL},
        {"{'id':'t1'}", VG_REASON_MALFORMED, NULL},
        {"{id:\"t1\"}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":01,\"currency\":\"USD\"}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":1.,\"currency\":\"USD\"}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":.5,\"currency\":\"USD\"}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":+1,\"currency\":\"USD\"}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":NaN,\"currency\":\"USD\"}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":Infinity,\"currency\":\"USD\"}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":tru}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":[1,]}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\\q\"}", VG_REASON_MALFORMED, "escape"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\\u12\"}", VG_REASON_MALFORMED, "\\u"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\\ud800\"}", VG_REASON_MALFORMED, "surrogate"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\\udc00\"}", VG_REASON_MALFORMED, "surrogate"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"a\tb\"}", VG_REASON_MALFORMED, "control"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\xff\"}", VG_REASON_MALFORMED, "UTF-8"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\xc0\xaf\"}", VG_REASON_MALFORMED, "UTF-8"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\xed\xa0\x80\"}", VG_REASON_MALFORMED, "UTF-8"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"abc}", VG_REASON_MALFORMED, "unterminated"},
        /* bad bytes after well-formed UTF-8 (the verbatim fast path hands over to the checks) */
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\xd0\x96\xd0\"}", VG_REASON_MALFORMED, "UTF-8"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\xd0\x96 \xd0\x96\xff\"}", VG_REASON_MALFORMED, "UTF-8"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\xd0\x96\xc0\xaf\"}", VG_REASON_MALFORMED, "UTF-8"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\xd0\x96\xed\xa0\x80\"}", VG_REASON_MALFORMED, "UTF-8"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\xd0\x96\t\"}", VG_REASON_MALFORMED, "control"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":\"\xd0\x96}", VG_REASON_MALFORMED, "unterminated"},
        /* a known field given twice */
        {"{" BASE ",\"amount\":1,\"amount\":2,\"currency\":\"USD\"}", VG_REASON_MALFORMED, "twice"},
        {"{" BASE ",\"id\":\"t2\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_MALFORMED, "twice"},
        /* a field error followed by broken JSON is still malformed */
        {"{\"id\":\"\"," BASE, VG_REASON_MALFORMED, NULL},
        /* missing required fields, null included */
        {"{}", VG_REASON_MISSING_FIELD, "'id'"},
        {"{" BASE ",\"currency\":\"USD\"}", VG_REASON_MISSING_FIELD, "'amount'"},
        {"{" BASE ",\"amount\":1}", VG_REASON_MISSING_FIELD, "'currency'"},
        {"{\"id\":\"t\",\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_MISSING_FIELD, "'ts'"},
        {"{\"id\":\"t\",\"ts\":0,\"from\":null,\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_MISSING_FIELD, "'from'"},
        {"{\"id\":\"t\",\"ts\":0,\"from\":\"A\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_MISSING_FIELD, "'to'"},
        /* wrong JSON types */
        {"{\"id\":1,\"ts\":0,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TYPE, "'id'"},
        {"{\"id\":\"t\",\"ts\":true,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TYPE, "'ts'"},
        {"{\"id\":\"t\",\"ts\":0,\"from\":[\"A\"],\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TYPE, "'from'"},
        {"{" BASE ",\"amount\":{\"v\":1},\"currency\":\"USD\"}", VG_REASON_BAD_TYPE, "'amount'"},
        {"{" BASE ",\"amount\":1,\"currency\":840}", VG_REASON_BAD_TYPE, "'currency'"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"channel\":7}", VG_REASON_BAD_TYPE, "'channel'"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"to_country\":1}", VG_REASON_BAD_TYPE, "'to_country'"},
        /* ids */
        {"{\"id\":\"\",\"ts\":0,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_ID, "'id'"},
        {"{\"id\":\"t\",\"ts\":0,\"from\":\"\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_ID, "'from'"},
        /* amounts */
        {"{" BASE ",\"amount\":1.2.3,\"currency\":\"USD\"}", VG_REASON_MALFORMED, NULL},
        {"{" BASE ",\"amount\":\"1.2.3\",\"currency\":\"USD\"}", VG_REASON_BAD_AMOUNT, "'amount'"},
        {"{" BASE ",\"amount\":1e-7,\"currency\":\"USD\"}", VG_REASON_AMOUNT_NOT_POSITIVE, NULL},
        {"{" BASE ",\"amount\":\"NaN\",\"currency\":\"USD\"}", VG_REASON_BAD_AMOUNT, NULL},
        {"{" BASE ",\"amount\":\"Infinity\",\"currency\":\"USD\"}", VG_REASON_BAD_AMOUNT, NULL},
        {"{" BASE ",\"amount\":\"\",\"currency\":\"USD\"}", VG_REASON_BAD_AMOUNT, NULL},
        {"{" BASE ",\"amount\":\"12 USD\",\"currency\":\"USD\"}", VG_REASON_BAD_AMOUNT, NULL},
        {"{" BASE ",\"amount\":\" 12\",\"currency\":\"USD\"}", VG_REASON_BAD_AMOUNT, NULL},
        {"{" BASE ",\"amount\":0,\"currency\":\"USD\"}", VG_REASON_AMOUNT_NOT_POSITIVE, "'amount'"},
        {"{" BASE ",\"amount\":\"0.000\",\"currency\":\"USD\"}", VG_REASON_AMOUNT_NOT_POSITIVE, NULL},
        {"{" BASE ",\"amount\":-5,\"currency\":\"USD\"}", VG_REASON_AMOUNT_NOT_POSITIVE, NULL},
        {"{" BASE ",\"amount\":-0.000001,\"currency\":\"USD\"}", VG_REASON_AMOUNT_NOT_POSITIVE, NULL},
        {"{" BASE ",\"amount\":9223372036855,\"currency\":\"USD\"}", VG_REASON_AMOUNT_OVERFLOW, "'amount'"},
        {"{" BASE ",\"amount\":1e300,\"currency\":\"USD\"}", VG_REASON_AMOUNT_OVERFLOW, NULL},
        /* fits in XBT micro-units, overflows once converted to USD */
        {"{" BASE ",\"amount\":9000000000000,\"currency\":\"XBT\"}", VG_REASON_AMOUNT_OVERFLOW, "convert"},
        /* converts to less than one micro-unit */
        {"{" BASE ",\"amount\":0.000001,\"currency\":\"IRR\"}", VG_REASON_AMOUNT_NOT_POSITIVE, "rounds"},
        /* currencies */
        {"{" BASE ",\"amount\":1,\"currency\":\"ZZZ\"}", VG_REASON_UNKNOWN_CURRENCY, "ZZZ"},
        {"{" BASE ",\"amount\":1,\"currency\":\"usd\"}", VG_REASON_UNKNOWN_CURRENCY, NULL},
        {"{" BASE ",\"amount\":1,\"currency\":\"\"}", VG_REASON_UNKNOWN_CURRENCY, NULL},
        {"{" BASE ",\"amount\":1,\"currency\":\"Galactic Credits Of The Outer Rim Federation Bank Of Tomorrow Incorporated\"}",
         VG_REASON_UNKNOWN_CURRENCY, NULL},
        /* timestamps */
        {"{\"id\":\"t\",\"ts\":\"2024-02-30T00:00:00Z\",\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TIMESTAMP, "'ts'"},
        {"{\"id\":\"t\",\"ts\":\"2024-03-01T12:00:00\",\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TIMESTAMP, NULL},
        {"{\"id\":\"t\",\"ts\":\"2024-03-01T12:00:00+25:00\",\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TIMESTAMP, NULL},
        {"{\"id\":\"t\",\"ts\":\"yesterday\",\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TIMESTAMP, NULL},
        {"{\"id\":\"t\",\"ts\":1.5,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TIMESTAMP, "integer"},
        {"{\"id\":\"t\",\"ts\":1700000000000.01,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TIMESTAMP, "integer"},
        {"{\"id\":\"t\",\"ts\":1e12,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TIMESTAMP, NULL},
        {"{\"id\":\"t\",\"ts\":99999999999999999999,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}", VG_REASON_BAD_TIMESTAMP, "range"},
        /* countries */
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"from_country\":\"USA\"}", VG_REASON_BAD_COUNTRY, "'from_country'"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"to_country\":\"K\"}", VG_REASON_BAD_COUNTRY, "'to_country'"},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"to_country\":\"1A\"}", VG_REASON_BAD_COUNTRY, NULL},
        {"{" BASE ",\"amount\":1,\"currency\":\"USD\",\"to_country\":\"\"}", VG_REASON_BAD_COUNTRY, NULL},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) parse_fails(cases[i].rec, cases[i].reason, cases[i].detail_part);
}

Test(ndjson, first_field_error_wins) {
    parse_fails("{\"id\":\"\",\"ts\":\"bad\",\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\"}",
                VG_REASON_BAD_ID, "'id'");
}

Test(ndjson, deep_nesting_refused_not_crashing) {
    static char rec[4096];
    size_t n = 0;
    n += (size_t)sprintf(rec + n, "{" BASE ",\"amount\":1,\"currency\":\"USD\",\"x\":");
    for (int i = 0; i < 1000; i++) rec[n++] = '[';
    for (int i = 0; i < 1000; i++) rec[n++] = ']';
    rec[n++] = '}';
    rec[n] = '\0';
    parse_fails(rec, VG_REASON_MALFORMED, "deep");
}

Test(ndjson, oversized_record_refused) {
    size_t len = VG_RECORD_MAX + 1;
    char *rec = malloc(len);
    cr_assert_not_null(rec);
    memset(rec, ' ', len);
    struct vg_txn t;
    struct vg_parse_error err;
    cr_expect_eq(vg_ndjson_parse(rec, len, &rates, &t, &err), VG_ERR_INVALID);
    cr_expect_eq(err.reason, VG_REASON_OVERSIZED);
    free(rec);
}

Test(ndjson, length_bounds_the_record) {
    /* The parser reads only len bytes: a record inside a larger buffer. */
    const char *buf = "{" BASE ",\"amount\":1,\"currency\":\"USD\"}\n{garbage";
    const char *nl = strchr(buf, '\n');
    struct vg_txn t;
    struct vg_parse_error err;
    cr_expect_eq(vg_ndjson_parse(buf, (size_t)(nl - buf), &rates, &t, &err), VG_OK);
}

Test(ndjson, reason_names) {
    cr_expect_str_eq(vg_reason_name(VG_REASON_MALFORMED), "malformed");
    cr_expect_str_eq(vg_reason_name(VG_REASON_MISSING_FIELD), "missing_field");
    cr_expect_str_eq(vg_reason_name(VG_REASON_AMOUNT_NOT_POSITIVE), "amount_not_positive");
    cr_expect_str_eq(vg_reason_name(VG_REASON_UNKNOWN_CURRENCY), "unknown_currency");
    cr_expect_str_eq(vg_reason_name(VG_REASON_OVERSIZED), "oversized");
    for (int r = 0; r < VG_REASON_MAX; r++) {
        const char *name = vg_reason_name((enum vg_reason)r);
        cr_expect_neq(strcmp(name, "unknown"), 0, "reason %d has no name", r);
        for (const char *c = name; *c; c++) cr_expect((*c >= 'a' && *c <= 'z') || *c == '_', "%s", name);
    }
    cr_expect_str_eq(vg_reason_name(VG_REASON_MAX), "unknown");
}

/* Strings are scanned eight bytes at a time: an escape, a multi-byte character or the
 * closing quote at any offset, and a record ending right after the value, must all decode. */
Test(ndjson, escapes_at_every_offset) {
    for (size_t pos = 0; pos < 40; pos++) {
        for (int kind = 0; kind < 3; kind++) {
            static const char *const raw[] = {"\\\"", "\\u00e9", "\xc3\xa9"};
            static const char *const decoded[] = {"\"", "\xc3\xa9", "\xc3\xa9"};
            char id_json[128], id_expected[128], rec[512];
            memset(id_json, 'k', pos);
            strcpy(id_json + pos, raw[kind]);
            strcat(id_json, "tail");
            memset(id_expected, 'k', pos);
            strcpy(id_expected + pos, decoded[kind]);
            strcat(id_expected, "tail");
            snprintf(rec, sizeof rec, "{\"ts\":0,\"from\":\"A\",\"to\":\"B\",\"amount\":1,\"currency\":\"USD\",\"id\":\"%s\"}", id_json);
            struct vg_txn t;
            parse_ok(rec, &t);
            cr_assert_eq(t.id_len, strlen(id_expected), "pos %zu kind %d", pos, kind);
            cr_assert(memcmp(t.id, id_expected, t.id_len) == 0, "pos %zu kind %d", pos, kind);
        }
    }
}

Test(ndjson, unterminated_string_at_every_length) {
    for (size_t n = 0; n < 24; n++) {
        char rec[128];
        int len = snprintf(rec, sizeof rec, "{\"id\":\"");
        memset(rec + len, 'x', n);
        struct vg_txn t;
        struct vg_parse_error err;
        /* exact length, no terminator in the buffer the parser may read */
        cr_expect_eq(vg_ndjson_parse(rec, (size_t)len + n, &rates, &t, &err), VG_ERR_INVALID);
        cr_expect_eq(err.reason, VG_REASON_MALFORMED, "n=%zu", n);
    }
}

/* ---- party fields (sanctions screening) ------------------------------------------------- */

#define MONEY ",\"amount\":1,\"currency\":\"USD\""

Test(ndjson, party_fields_stored_when_sent) {
    struct vg_txn t;
    t.seq = 0;
    parse_ok("{" BASE MONEY ",\"from_name\":\"Қасым-Жомарт Тоқаев\",\"to_name\":\"Jane \\\"JD\\\" Doe\","
             "\"from_party_id\":\"750302300123\",\"to_birth_date\":\"1970-05-14\"}", &t);
    cr_expect_eq(t.has_party, 1);
    cr_expect_eq(t.from_name_len, strlen("Қасым-Жомарт Тоқаев"));
    cr_expect(memcmp(t.from_name, "Қасым-Жомарт Тоқаев", t.from_name_len) == 0);
    cr_expect_eq(t.to_name_len, strlen("Jane \"JD\" Doe"));
    cr_expect(memcmp(t.to_name, "Jane \"JD\" Doe", t.to_name_len) == 0);
    cr_expect_eq(t.from_party_id_len, 12);
    cr_expect_eq(t.to_party_id_len, 0);
    cr_expect_eq(t.to_birth_date, 19700514);
    cr_expect_eq(t.from_birth_date, 0);
    /* the next record without party fields has none (no stale ones) */
    parse_ok("{" BASE MONEY "}", &t);
    cr_expect_eq(t.has_party, 0);
    parse_ok("{" BASE MONEY ",\"to_name\":null}", &t);
    cr_expect_eq(t.has_party, 0, "null is absent");
    parse_ok("{" BASE MONEY ",\"to_birth_date\":\"2000-02-29\"}", &t);
    cr_expect_eq(t.from_name_len, 0, "lengths cleared with the first party field");
    cr_expect_eq(t.to_birth_date, 20000229);
}

/* Names of every script come through whole, escapes and all (the fast path for
 * well-formed UTF-8 and the general one meet in the middle of a name). */
Test(ndjson, names_in_every_script_kept_as_sent) {
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"Волков Дмитрий", "Волков Дмитрий"},
        {"Әсем Қасымова-Ұлы", "Әсем Қасымова-Ұлы"},
        {"محمد الصالح", "محمد الصالح"},
        {"金正恩 𝔸x", "金正恩 𝔸x"},
        {"Ж\\u0416Ж \\\"q\\\" é", "ЖЖЖ \"q\" é"},
        {"ЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖ", "ЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖ"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char rec[1024];
        snprintf(rec, sizeof rec, "{" BASE MONEY ",\"from_name\":\"%s\"}", cases[i].json);
        struct vg_txn t;
        parse_ok(rec, &t);
        cr_expect_eq(t.from_name_len, strlen(cases[i].want), "case %zu", i);
        cr_expect(memcmp(t.from_name, cases[i].want, strlen(cases[i].want)) == 0, "case %zu: %.*s", i,
                  (int)t.from_name_len, t.from_name);
    }
}

Test(ndjson, name_of_140_characters) {
    char rec[2048];
    char name[141 * 2 + 1];
    for (int i = 0; i < 140; i++) memcpy(name + 2 * i, "Ж", 2);
    name[280] = '\0';
    snprintf(rec, sizeof rec, "{" BASE MONEY ",\"to_name\":\"%s\"}", name);
    struct vg_txn t;
    parse_ok(rec, &t);
    cr_expect_eq(t.to_name_len, 280);
    snprintf(rec, sizeof rec, "{" BASE MONEY ",\"to_name\":\"%sЖ\"}", name);
    parse_fails(rec, VG_REASON_BAD_NAME, "140 characters");
}

Test(ndjson, bad_party_fields) {
    parse_fails("{" BASE MONEY ",\"from_name\":\"\"}", VG_REASON_BAD_NAME, "from_name");
    parse_fails("{" BASE MONEY ",\"from_name\":42}", VG_REASON_BAD_TYPE, "from_name");
    parse_fails("{" BASE MONEY ",\"to_name\":\"a\\u0000b\"}", VG_REASON_BAD_NAME, "U+0000");
    parse_fails("{" BASE MONEY ",\"to_party_id\":\"\"}", VG_REASON_BAD_PARTY_ID, "to_party_id");
    parse_fails("{" BASE MONEY ",\"to_party_id\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
                VG_REASON_BAD_PARTY_ID, "to_party_id");
    parse_fails("{" BASE MONEY ",\"from_birth_date\":\"1970-02-30\"}", VG_REASON_BAD_BIRTH_DATE, "from_birth_date");
    parse_fails("{" BASE MONEY ",\"from_birth_date\":\"1970-5-14\"}", VG_REASON_BAD_BIRTH_DATE, NULL);
    parse_fails("{" BASE MONEY ",\"from_birth_date\":\"1900-02-29\"}", VG_REASON_BAD_BIRTH_DATE, NULL);
    parse_fails("{" BASE MONEY ",\"to_birth_date\":19700514}", VG_REASON_BAD_TYPE, "to_birth_date");
    parse_fails("{" BASE MONEY ",\"to_name\":\"A\",\"to_name\":\"B\"}", VG_REASON_MALFORMED, "twice");
}
