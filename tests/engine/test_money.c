/* test_money.c - exact decimal money: parsing to micro-units, rate conversion with
 * half-away-from-zero rounding, exact transaction amounts converted once toward zero,
 * formatting. What users rely on: no binary-float drift, 6 decimals accepted and 7 refused
 * (config), a converted amount never rounded up onto a threshold, overflow refused rather
 * than wrapped. */
#include <criterion/criterion.h>
#include <string.h>

#include "vigil/money.h"

static int parse(const char *text, int64_t *out) {
    return vg_money_parse(text, strlen(text), out);
}

static void expect_micros(const char *text, int64_t micros) {
    int64_t got = 0;
    int rc = parse(text, &got);
    cr_expect_eq(rc, VG_OK, "'%s' should parse, got %d", text, rc);
    cr_expect_eq(got, micros, "'%s' -> %lld, expected %lld", text, (long long)got, (long long)micros);
}

Test(money, plain_decimals) {
    expect_micros("12", 12000000);
    expect_micros("12.5", 12500000);
    expect_micros("0.000001", 1);
    expect_micros("3697.34", 3697340000);
    expect_micros("0", 0);
    expect_micros("0.0", 0);
    expect_micros("007.50", 7500000);
    expect_micros("+1", 1000000);
    expect_micros("-3.25", -3250000);
    expect_micros("-0", 0);
}

Test(money, tenth_plus_fifth_is_exactly_three_tenths) {
    int64_t a, b, c;
    cr_assert_eq(parse("0.1", &a), VG_OK);
    cr_assert_eq(parse("0.2", &b), VG_OK);
    cr_assert_eq(parse("0.3", &c), VG_OK);
    cr_expect_eq(a + b, c);
    cr_expect_eq(a + b, 300000);
}

Test(money, six_decimals_ok_seven_refused) {
    expect_micros("1.123456", 1123456);
    int64_t out;
    cr_expect_eq(parse("1.1234567", &out), VG_ERR_INVALID);
    cr_expect_eq(parse("0.0000001", &out), VG_ERR_INVALID);
    /* Zeros past the 6th decimal change nothing: the value is still exact. */
    expect_micros("1.1234560", 1123456);
    expect_micros("2.000000000000", 2000000);
}

static void expect_amount(const char *text, int64_t micros) {
    int64_t got = 0;
    int rc = vg_money_parse_amount(text, strlen(text), &got);
    cr_expect_eq(rc, VG_OK, "amount '%s' should parse, got %d", text, rc);
    cr_expect_eq(got, micros, "amount '%s' -> %lld, expected %lld", text, (long long)got, (long long)micros);
}

Test(money, amounts_round_half_to_even_below_the_micro_unit) {
    expect_amount("0.12345678", 123457);            /* satoshi precision */
    expect_amount("1234.5600000000001", 1234560000); /* a float printer's artefact */
    expect_amount("1.0000005", 1000000);             /* tie, kept digit even: down */
    expect_amount("1.0000015", 1000002);             /* tie, kept digit odd: up */
    expect_amount("1.00000050000001", 1000001);      /* above the tie: up */
    expect_amount("1.0000004999", 1000000);
    expect_amount("0.0000004", 0);                   /* the caller refuses it as not positive */
    expect_amount("1234567e-7", 123457);             /* 0.1234567 */
    expect_amount("1234567e-13", 0);                 /* 0.0000001234567 */
    expect_amount("9223372036854.7758074", INT64_MAX); /* rounds down onto the limit */
    expect_amount("12.5", 12500000);                 /* exact values are unchanged */
    int64_t out;
    cr_expect_eq(vg_money_parse_amount("9223372036854.7758075", 21, &out), VG_ERR_RANGE, "rounds past the limit");
    cr_expect_eq(vg_money_parse_amount("1.2.3", 5, &out), VG_ERR_INVALID);
    cr_expect_eq(vg_money_parse_amount("NaN", 3, &out), VG_ERR_INVALID);
    /* configuration values stay exact: no silent rounding of a rate */
    cr_expect_eq(parse("0.12345678", &out), VG_ERR_INVALID);
}

Test(money, int64_boundaries) {
    /* INT64_MAX micro-units = 9223372036854.775807 */
    expect_micros("9223372036854.775807", INT64_MAX);
    expect_micros("-9223372036854.775807", -INT64_MAX);
    int64_t out;
    cr_expect_eq(parse("9223372036854.775808", &out), VG_ERR_RANGE);
    cr_expect_eq(parse("9223372036855", &out), VG_ERR_RANGE);
    cr_expect_eq(parse("100000000000000000000000000", &out), VG_ERR_RANGE);
    cr_expect_eq(parse("1e19", &out), VG_ERR_RANGE);
    cr_expect_eq(parse("1e999999999999999999", &out), VG_ERR_RANGE);
    expect_micros("999999999999.999999", 999999999999999999);
}

Test(money, exponent_forms) {
    expect_micros("1e3", 1000000000);
    expect_micros("1.5E+2", 150000000);
    expect_micros("1.5e2", 150000000);
    expect_micros("25e-1", 2500000);
    expect_micros("1e-6", 1);
    expect_micros("123456789e-6", 123456789);
    expect_micros("1000000e-7", 100000); /* exact within 6 decimals */
    expect_micros("0e999999999", 0);
    expect_micros("0.00000000000000000000001e22", 100000);
    int64_t out;
    cr_expect_eq(parse("1e-7", &out), VG_ERR_INVALID);
    cr_expect_eq(parse("1.5e-6", &out), VG_ERR_INVALID);
    cr_expect_eq(parse("1e-999999999999", &out), VG_ERR_INVALID);
}

Test(money, invalid_inputs_refused) {
    static const char *const bad[] = {
        "", "+", "-", ".", ".5", "5.", "1.2.3", "1,5", " 1", "1 ", "1e", "1e+", "e3", "NaN",
        "nan", "Infinity", "-Infinity", "inf", "0x10", "12USD", "$12", "1_000", "--1", "+-1",
        "1e3.5", "١٢",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        int64_t out = 42;
        cr_expect_eq(parse(bad[i], &out), VG_ERR_INVALID, "'%s' must be refused", bad[i]);
        cr_expect_eq(out, 42, "'%s' must leave the output alone", bad[i]);
    }
}

Test(money, length_bounds_the_text) {
    int64_t out;
    cr_expect_eq(vg_money_parse("12.345", 4, &out), VG_OK); /* "12.3" */
    cr_expect_eq(out, 12300000);
}

Test(money, convert_rounds_half_away_from_zero) {
    int64_t out;
    /* 1 micro-unit at rate 0.5 is exactly half: rounds away from zero. */
    cr_assert_eq(vg_money_convert(1, 500000, &out), VG_OK);
    cr_expect_eq(out, 1);
    cr_assert_eq(vg_money_convert(-1, 500000, &out), VG_OK);
    cr_expect_eq(out, -1);
    cr_assert_eq(vg_money_convert(1, 499999, &out), VG_OK);
    cr_expect_eq(out, 0);
    /* 100 KZT at 0.0021 = 0.21 USD */
    cr_assert_eq(vg_money_convert(100000000, 2100, &out), VG_OK);
    cr_expect_eq(out, 210000);
    /* identity */
    cr_assert_eq(vg_money_convert(123456789, 1000000, &out), VG_OK);
    cr_expect_eq(out, 123456789);
}

Test(money, convert_overflow_refused) {
    int64_t out = 7;
    cr_expect_eq(vg_money_convert(INT64_MAX, 2000000, &out), VG_ERR_RANGE);
    cr_expect_eq(out, 7);
    cr_expect_eq(vg_money_convert(INT64_MAX, 1000000, &out), VG_OK);
    cr_expect_eq(out, INT64_MAX);
    /* 128-bit intermediate: the product overflows int64 but the result does not. */
    cr_expect_eq(vg_money_convert(INT64_MAX / 2, 2000000, &out), VG_OK);
    cr_expect_eq(out, INT64_MAX - 1);
}

/* Parses a transaction amount exactly and converts it at rate_micros. */
static int exact(const char *text, int64_t rate_micros, int64_t *out) {
    struct vg_amount a;
    int rc = vg_money_parse_exact(text, strlen(text), &a);
    return rc != VG_OK ? rc : vg_money_convert_exact(&a, rate_micros, out);
}

static void expect_exact(const char *text, int64_t rate_micros, int64_t micros) {
    int64_t got = -7;
    int rc = exact(text, rate_micros, &got);
    cr_expect_eq(rc, VG_OK, "'%s' should convert, got %d", text, rc);
    cr_expect_eq(got, micros, "'%s' at %lld -> %lld, expected %lld", text, (long long)rate_micros,
                 (long long)got, (long long)micros);
}

Test(money, exact_amounts_convert_once_toward_zero) {
    expect_exact("3697.34", 1000000, 3697340000);
    expect_exact("100", 2100, 210000);                       /* 100 KZT = 0.21 USD */
    /* Just below a threshold stays below it: never rounded up onto 10000 USD. */
    expect_exact("9259.259259", 1080000, 9999999999);        /* EUR: 9999.99999972 */
    expect_exact("9259.25926", 1080000, 10000000000);        /* EUR: 10000.0000008 */
    expect_exact("4761904.761904", 2100, 9999999999);        /* KZT: 9999.9999999984 */
    expect_exact("9999.9999995", 1000000, 9999999999);
    /* Digits below the micro-unit of the input currency still count after conversion. */
    expect_exact("0.16666666", 60000000000, 9999999600);     /* XBT: 9999.9996 */
    expect_exact("0.16666667", 60000000000, 10000000200);    /* XBT: 10000.0002 */
    expect_exact("0.00000001", 60000000000, 600);            /* one satoshi: 0.0006 USD */
    expect_exact("1234567e-13", 1000000, 0);                 /* 0.0000001234567: the caller refuses 0 */
    expect_exact("0.000001000000000000000009", 1000000, 1);  /* beyond 18 decimals: dropped */
    expect_exact("16666666e-8", 60000000000, 9999999600);
    expect_exact("9223372036854.775807", 1000000, INT64_MAX);
    expect_exact("9223372036854.7758079999", 1000000, INT64_MAX);
    int64_t out = 7;
    cr_expect_eq(exact("9223372036854.775808", 1000000, &out), VG_ERR_RANGE);
    cr_expect_eq(exact("9000000000000", 60000000000, &out), VG_ERR_RANGE, "overflows once converted");
    cr_expect_eq(exact("1e19", 1000000, &out), VG_ERR_RANGE);
    cr_expect_eq(exact("1.2.3", 1000000, &out), VG_ERR_INVALID);
    cr_expect_eq(exact("5.", 1000000, &out), VG_ERR_INVALID);
    cr_expect_eq(out, 7);
    struct vg_amount a;
    cr_assert_eq(vg_money_parse_exact("-0.0000000001", 13, &a), VG_OK);
    cr_expect(a.micros < 0, "a negative amount keeps its sign");
    cr_assert_eq(vg_money_parse_exact("-0", 2, &a), VG_OK);
    cr_expect(a.micros == 0 && a.sub_micros == 0);
}

Test(money, format_without_trailing_zeros) {
    static const struct {
        int64_t micros;
        const char *text;
    } cases[] = {
        {0, "0"},          {1, "0.000001"},     {1234500000, "1234.5"},
        {-3000000, "-3"},  {10000000, "10"},    {-1, "-0.000001"},
        {INT64_MAX, "9223372036854.775807"},    {INT64_MIN, "-9223372036854.775808"},
        {100010, "0.10001"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        char buf[24];
        size_t len = vg_money_format(cases[i].micros, buf);
        cr_expect_str_eq(buf, cases[i].text);
        cr_expect_eq(len, strlen(cases[i].text));
    }
}

Test(money, format_parse_round_trip) {
    static const int64_t values[] = {1, 999999, 1000000, 123456789012, INT64_MAX, -INT64_MAX, 50};
    for (size_t i = 0; i < VG_ARRAY_LEN(values); i++) {
        char buf[24];
        size_t len = vg_money_format(values[i], buf);
        int64_t back;
        cr_assert_eq(vg_money_parse(buf, len, &back), VG_OK, "%s", buf);
        cr_expect_eq(back, values[i]);
    }
}
