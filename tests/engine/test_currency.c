/* test_currency.c - the rate table: built-in rates for every AMLworld currency, the
 * AMLworld name aliases, overrides, rebasing to another base currency, and unknown names. */
#include <criterion/criterion.h>
#include <string.h>

#include "vigil/currency.h"
#include "vigil/money.h"

static int64_t rate_of(const struct vg_currency_table *t, const char *name) {
    int64_t rate = -1;
    int rc = vg_currency_rate(t, name, strlen(name), &rate);
    cr_assert_eq(rc, VG_OK, "no rate for '%s'", name);
    return rate;
}

Test(currency, defaults_cover_every_amlworld_currency) {
    struct vg_currency_table t;
    vg_currency_defaults(&t);
    cr_expect_str_eq(t.base, "USD");
    cr_expect_eq(rate_of(&t, "USD"), 1000000);
    static const char *const codes[] = {"USD", "EUR", "GBP", "JPY", "CNY", "INR", "RUB", "BRL",
                                        "AUD", "CAD", "MXN", "ILS", "CHF", "SAR", "XBT", "KZT",
                                        "SEK", "KRW", "SGD", "HKD", "ZAR", "AED", "TRY", "IRR"};
    for (size_t i = 0; i < VG_ARRAY_LEN(codes); i++) cr_expect_gt(rate_of(&t, codes[i]), 0, "%s", codes[i]);
}

Test(currency, amlworld_aliases) {
    struct vg_currency_table t;
    vg_currency_defaults(&t);
    static const struct {
        const char *name, *code;
    } aliases[] = {
        {"US Dollar", "USD"},      {"Euro", "EUR"},           {"Yuan", "CNY"},
        {"Yen", "JPY"},            {"UK Pound", "GBP"},       {"Rupee", "INR"},
        {"Ruble", "RUB"},          {"Brazil Real", "BRL"},    {"Australian Dollar", "AUD"},
        {"Canadian Dollar", "CAD"}, {"Mexican Peso", "MXN"},  {"Shekel", "ILS"},
        {"Swiss Franc", "CHF"},    {"Saudi Riyal", "SAR"},    {"Bitcoin", "XBT"},
        {"BTC", "XBT"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(aliases); i++) {
        const char *code = vg_currency_canonical(aliases[i].name, strlen(aliases[i].name));
        cr_assert_not_null(code, "%s", aliases[i].name);
        cr_expect_str_eq(code, aliases[i].code);
        cr_expect_eq(rate_of(&t, aliases[i].name), rate_of(&t, aliases[i].code), "%s", aliases[i].name);
    }
    cr_expect_str_eq(vg_currency_canonical("EUR", 3), "EUR");
}

Test(currency, unknown_names_refused) {
    struct vg_currency_table t;
    vg_currency_defaults(&t);
    static const char *const bad[] = {"", "ZZZ", "usd", "Usd", "US", "USDX", "US dollar",
                                      "Dollar", "euro", "Bitcoins", " USD", "USD "};
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        int64_t rate = 42;
        cr_expect_eq(vg_currency_rate(&t, bad[i], strlen(bad[i]), &rate), VG_ERR_NOTFOUND, "'%s'", bad[i]);
        cr_expect_eq(rate, 42);
        cr_expect_null(vg_currency_canonical(bad[i], strlen(bad[i])), "'%s'", bad[i]);
    }
}

Test(currency, kzt_conversion) {
    struct vg_currency_table t;
    vg_currency_defaults(&t);
    int64_t kzt_rate = rate_of(&t, "KZT"), amount, usd;
    cr_assert_eq(vg_money_parse("1000000", 7, &amount), VG_OK); /* 1,000,000 KZT */
    cr_assert_eq(vg_money_convert(amount, kzt_rate, &usd), VG_OK);
    cr_expect_eq(usd, 1000000 * kzt_rate); /* exact: no float drift */
    cr_expect(usd > 1000 * VG_MICROS_PER_UNIT && usd < 5000 * VG_MICROS_PER_UNIT,
              "1M KZT should be a few thousand USD, got %lld micros", (long long)usd);
}

Test(currency, set_overrides_and_adds) {
    struct vg_currency_table t;
    vg_currency_defaults(&t);
    size_t before = t.count;
    cr_expect_eq(vg_currency_set(&t, "EUR", 1100000), VG_OK);
    cr_expect_eq(t.count, before);
    cr_expect_eq(rate_of(&t, "EUR"), 1100000);
    cr_expect_eq(rate_of(&t, "Euro"), 1100000);
    cr_expect_eq(vg_currency_set(&t, "ZZZ", 5), VG_OK);
    cr_expect_eq(t.count, before + 1);
    cr_expect_eq(rate_of(&t, "ZZZ"), 5);
    /* Refused: not three upper-case letters, non-positive rates. */
    cr_expect_eq(vg_currency_set(&t, "zzz", 5), VG_ERR_INVALID);
    cr_expect_eq(vg_currency_set(&t, "ZZ", 5), VG_ERR_INVALID);
    cr_expect_eq(vg_currency_set(&t, "ZZZZ", 5), VG_ERR_INVALID);
    cr_expect_eq(vg_currency_set(&t, "Euro", 5), VG_ERR_INVALID);
    cr_expect_eq(vg_currency_set(&t, "YYY", 0), VG_ERR_INVALID);
    cr_expect_eq(vg_currency_set(&t, "YYY", -1), VG_ERR_INVALID);
}

Test(currency, table_fills_up_to_the_limit) {
    struct vg_currency_table t;
    memset(&t, 0, sizeof t);
    size_t added = 0;
    for (char a = 'A'; a <= 'Z' && added < VG_CURRENCY_MAX; a++)
        for (char b = 'A'; b <= 'Z' && added < VG_CURRENCY_MAX; b++) {
            char code[4] = {a, b, 'Q', '\0'};
            cr_assert_eq(vg_currency_set(&t, code, (int64_t)added + 1), VG_OK);
            added++;
        }
    cr_expect_eq(vg_currency_set(&t, "QQQ", 1), VG_ERR_FULL);
    cr_expect_eq(vg_currency_set(&t, "AAQ", 77), VG_OK); /* replacing still works when full */
    cr_expect_eq(rate_of(&t, "AAQ"), 77);
    cr_expect_eq(rate_of(&t, "JVQ"), (int64_t)(9 * 26 + 21) + 1);
}

Test(currency, hand_filled_table_still_resolves) {
    /* A table written without vg_currency_set has no index; lookups fall back to a scan. */
    struct vg_currency_table t;
    memset(&t, 0, sizeof t);
    memcpy(t.base, "USD", 4);
    memcpy(t.rates[0].code, "USD", 4);
    t.rates[0].rate_micros = 1000000;
    memcpy(t.rates[1].code, "EUR", 4);
    t.rates[1].rate_micros = 1080000;
    t.count = 2;
    cr_expect_eq(rate_of(&t, "Euro"), 1080000);
    int64_t rate;
    cr_expect_eq(vg_currency_rate(&t, "GBP", 3, &rate), VG_ERR_NOTFOUND);
}

Test(currency, rebase_to_eur) {
    struct vg_currency_table t;
    vg_currency_defaults(&t);
    cr_expect_eq(vg_currency_set(&t, "EUR", 1250000), VG_OK); /* 1 EUR = 1.25 USD */
    cr_assert_eq(vg_currency_rebase(&t, "EUR"), VG_OK);
    cr_expect_str_eq(t.base, "EUR");
    cr_expect_eq(rate_of(&t, "EUR"), 1000000);
    cr_expect_eq(rate_of(&t, "USD"), 800000); /* 1 USD = 0.8 EUR */
    cr_expect_gt(rate_of(&t, "IRR"), 0);      /* tiny rates never become zero */
    int64_t rate;
    cr_expect_eq(vg_currency_rebase(&t, "ZZZ"), VG_ERR_NOTFOUND);
    cr_expect_eq(vg_currency_rebase(&t, "eur"), VG_ERR_NOTFOUND);
    cr_expect_str_eq(t.base, "EUR");
    cr_expect_eq(vg_currency_rate(&t, "EUR", 3, &rate), VG_OK);
}

Test(currency, rebase_round_trip_keeps_major_rates) {
    struct vg_currency_table t;
    vg_currency_defaults(&t);
    int64_t gbp = rate_of(&t, "GBP");
    cr_assert_eq(vg_currency_rebase(&t, "CHF"), VG_OK);
    cr_assert_eq(vg_currency_rebase(&t, "USD"), VG_OK);
    int64_t diff = rate_of(&t, "GBP") - gbp;
    cr_expect(diff >= -2 && diff <= 2, "GBP drifted by %lld micros", (long long)diff);
    cr_expect_eq(rate_of(&t, "USD"), 1000000);
}
