/* test_amlworld_csv.c - the AMLworld CSV line parser against contract section 3: account
 * ids as <bank without leading zeros>:<account>, Amount Paid in Payment Currency, channel
 * from Payment Format, line number as tx id; and the lines it must refuse. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/ingest.h"

static struct vg_currency_table rates;

static void setup(void) {
    vg_currency_defaults(&rates);
}

TestSuite(amlworld_csv, .init = setup);

static void parse_ok(const char *line, uint64_t line_no, struct vg_txn *out) {
    struct vg_parse_error err = {0};
    int rc = vg_amlworld_parse(line, strlen(line), line_no, &rates, out, &err);
    cr_assert_eq(rc, VG_OK, "line refused (%s: %s): %s", vg_reason_name(err.reason), err.detail, line);
}

static bool id_is(const char *field, uint8_t len, const char *expected) {
    return len == strlen(expected) && memcmp(field, expected, len) == 0;
}

Test(amlworld_csv, contract_example_line) {
    struct vg_txn t;
    t.seq = 9;
    parse_ok("2022/09/01 00:20,010,8000EBD30,010,8000EBD30,3697.34,US Dollar,3697.34,US Dollar,Reinvestment,0",
             1, &t);
    cr_expect_eq(t.seq, 9);
    cr_expect_eq(t.ts_ms, 1661991600000);
    cr_expect(id_is(t.from, t.from_len, "10:8000EBD30"));
    cr_expect(id_is(t.to, t.to_len, "10:8000EBD30"));
    cr_expect_eq(t.amount_micros, 3697340000);
    cr_expect_str_eq(t.channel, "reinvestment");
    cr_expect(id_is(t.id, t.id_len, "1"));
    cr_expect_eq(t.from_country[0], '\0');
}

Test(amlworld_csv, amount_paid_in_payment_currency) {
    struct vg_txn t;
    /* Received 100 USD, paid 92.59 EUR: the amount is what was paid, converted. */
    parse_ok("2022/09/01 00:20,0011,A1,012,B2,100.00,US Dollar,92.59,Euro,Wire,1", 123456789, &t);
    cr_expect_eq(t.amount_micros, 99997200); /* 92.59 * 1.08 */
    cr_expect(id_is(t.from, t.from_len, "11:A1"));
    cr_expect(id_is(t.to, t.to_len, "12:B2"));
    cr_expect(id_is(t.id, t.id_len, "123456789"));
    cr_expect_str_eq(t.channel, "wire");
}

Test(amlworld_csv, every_amlworld_currency_name_has_a_rate) {
    static const char *const names[] = {
        "US Dollar", "Euro", "Yuan", "Yen", "UK Pound", "Rupee", "Ruble", "Brazil Real",
        "Australian Dollar", "Canadian Dollar", "Mexican Peso", "Shekel", "Swiss Franc",
        "Saudi Riyal", "Bitcoin", "USD", "XBT",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(names); i++) {
        char line[256];
        snprintf(line, sizeof line, "2022/09/01 00:20,1,A,2,B,10,%s,10,%s,Cash,0", names[i], names[i]);
        struct vg_txn t;
        parse_ok(line, 1, &t);
        cr_expect_gt(t.amount_micros, 0, "%s", names[i]);
    }
}

Test(amlworld_csv, banks_lose_leading_zeros) {
    struct vg_txn t;
    parse_ok("2022/09/01 00:20,000,X,0,Y,1,US Dollar,1,US Dollar,ACH,0", 1, &t);
    cr_expect(id_is(t.from, t.from_len, "0:X"), "all-zero bank becomes 0");
    cr_expect(id_is(t.to, t.to_len, "0:Y"));
    parse_ok("2022/09/01 00:20,0100,X,1000,Y,1,US Dollar,1,US Dollar,ACH,0", 1, &t);
    cr_expect(id_is(t.from, t.from_len, "100:X"), "inner zeros stay");
    cr_expect(id_is(t.to, t.to_len, "1000:Y"));
}

Test(amlworld_csv, crlf_and_channel_cases) {
    struct vg_txn t;
    parse_ok("2022/09/01 00:20,1,A,2,B,1,US Dollar,1,US Dollar,Credit Card,0\r\n", 2, &t);
    cr_expect_str_eq(t.channel, "credit card");
    cr_expect(id_is(t.id, t.id_len, "2"));
    parse_ok("2022/09/01 00:20,1,A,2,B,1,US Dollar,1,US Dollar,Cheque,0\r", 3, &t);
    cr_expect_str_eq(t.channel, "cheque");
    parse_ok("2022/09/01 00:20,1,A,2,B,1,US Dollar,1,US Dollar,A Very Long Payment Format Name,0", 4, &t);
    cr_expect_eq(t.channel_len, VG_CHANNEL_MAX);
    parse_ok("2022/09/01 00:20,1,A,2,B,1,US Dollar,1,US Dollar,,0", 5, &t);
    cr_expect_eq(t.channel_len, 0);
}

Test(amlworld_csv, account_id_64_bytes_ok_65_refused) {
    char account[80], line[256];
    memset(account, 'a', 62), account[62] = '\0'; /* "1:" + 62 = 64 */
    snprintf(line, sizeof line, "2022/09/01 00:20,001,%s,2,B,1,US Dollar,1,US Dollar,Cash,0", account);
    struct vg_txn t;
    parse_ok(line, 1, &t);
    cr_expect_eq(t.from_len, 64);
    memset(account, 'a', 63), account[63] = '\0';
    snprintf(line, sizeof line, "2022/09/01 00:20,001,%s,2,B,1,US Dollar,1,US Dollar,Cash,0", account);
    struct vg_parse_error err;
    cr_expect_eq(vg_amlworld_parse(line, strlen(line), 1, &rates, &t, &err), VG_ERR_INVALID);
    cr_expect_eq(err.reason, VG_REASON_BAD_ID);
}

Test(amlworld_csv, header_detection) {
    const char *header = "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,"
                         "Amount Paid,Payment Currency,Payment Format,Is Laundering";
    cr_expect(vg_amlworld_is_header(header, strlen(header)));
    const char *data = "2022/09/01 00:20,010,8000EBD30,010,8000EBD30,3697.34,US Dollar,3697.34,US Dollar,Reinvestment,0";
    cr_expect_not(vg_amlworld_is_header(data, strlen(data)));
    cr_expect_not(vg_amlworld_is_header("", 0));
    /* the header itself is not a transaction */
    struct vg_txn t;
    struct vg_parse_error err;
    cr_expect_eq(vg_amlworld_parse(header, strlen(header), 0, &rates, &t, &err), VG_ERR_INVALID);
}

Test(amlworld_csv, invalid_lines_refused_with_reason) {
    static const struct {
        const char *line;
        enum vg_reason reason;
        const char *detail_part;
    } cases[] = {
        {"", VG_REASON_MALFORMED, "columns"},
        {"\r\n", VG_REASON_MALFORMED, "columns"},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,1,US Dollar,Cash", VG_REASON_MALFORMED, "10 columns"},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,1,US Dollar,Cash,0,extra", VG_REASON_MALFORMED, "columns"},
        {"2022/09/01 00:20;1;A;2;B;1;US Dollar;1;US Dollar;Cash;0", VG_REASON_MALFORMED, NULL},
        {"2022-09-01 00:20,1,A,2,B,1,US Dollar,1,US Dollar,Cash,0", VG_REASON_BAD_TIMESTAMP, "Timestamp"},
        {"2022/02/30 00:20,1,A,2,B,1,US Dollar,1,US Dollar,Cash,0", VG_REASON_BAD_TIMESTAMP, NULL},
        {"2022/09/01 24:00,1,A,2,B,1,US Dollar,1,US Dollar,Cash,0", VG_REASON_BAD_TIMESTAMP, NULL},
        {"2022/09/01 00:20,,A,2,B,1,US Dollar,1,US Dollar,Cash,0", VG_REASON_BAD_ID, "From"},
        {"2022/09/01 00:20,1,,2,B,1,US Dollar,1,US Dollar,Cash,0", VG_REASON_BAD_ID, "From"},
        {"2022/09/01 00:20,1,A,2,,1,US Dollar,1,US Dollar,Cash,0", VG_REASON_BAD_ID, "To"},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,,US Dollar,Cash,0", VG_REASON_BAD_AMOUNT, "Amount Paid"},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,abc,US Dollar,Cash,0", VG_REASON_BAD_AMOUNT, NULL},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,1.2.3,US Dollar,Cash,0", VG_REASON_BAD_AMOUNT, NULL},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,0.0000004,US Dollar,Cash,0", VG_REASON_AMOUNT_NOT_POSITIVE, NULL},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,NaN,US Dollar,Cash,0", VG_REASON_BAD_AMOUNT, NULL},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,0.00,US Dollar,Cash,0", VG_REASON_AMOUNT_NOT_POSITIVE, NULL},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,-5,US Dollar,Cash,0", VG_REASON_AMOUNT_NOT_POSITIVE, NULL},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,99999999999999,US Dollar,Cash,0", VG_REASON_AMOUNT_OVERFLOW, NULL},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,9000000000000,Bitcoin,Cash,0", VG_REASON_AMOUNT_OVERFLOW, "convert"},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,1,Doubloon,Cash,0", VG_REASON_UNKNOWN_CURRENCY, "Doubloon"},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,1,us dollar,Cash,0", VG_REASON_UNKNOWN_CURRENCY, NULL},
        {"2022/09/01 00:20,1,A,2,B,1,US Dollar,1,,Cash,0", VG_REASON_UNKNOWN_CURRENCY, NULL},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct vg_txn t;
        struct vg_parse_error err = {0};
        int rc = vg_amlworld_parse(cases[i].line, strlen(cases[i].line), 1, &rates, &t, &err);
        cr_expect_eq(rc, VG_ERR_INVALID, "accepted: %s", cases[i].line);
        cr_expect_eq(err.reason, cases[i].reason, "reason %s (%s), expected %s: %s",
                     vg_reason_name(err.reason), err.detail, vg_reason_name(cases[i].reason), cases[i].line);
        if (cases[i].detail_part)
            cr_expect(strstr(err.detail, cases[i].detail_part) != NULL, "detail '%s' lacks '%s'", err.detail,
                      cases[i].detail_part);
    }
}

Test(amlworld_csv, oversized_line_refused) {
    size_t len = VG_RECORD_MAX + 1;
    char *line = malloc(len);
    cr_assert_not_null(line);
    memset(line, ',', len);
    struct vg_txn t;
    struct vg_parse_error err;
    cr_expect_eq(vg_amlworld_parse(line, len, 1, &rates, &t, &err), VG_ERR_INVALID);
    cr_expect_eq(err.reason, VG_REASON_OVERSIZED);
    free(line);
}
