/* currency.c - the rate table (see currency.h): built-in indicative rates, AMLworld name
 * aliases, and a per-record lookup that hashes the three letters into a small
 * linear-probe index. The table is read-only after load; lookups take no locks. */
#include "vigil/currency.h"

#include <string.h>

/* Built-in indicative rates, base USD: 1 unit of code = rate_micros / 1e6 USD.
 * Mid-market, rounded, mid-2024; documented in docs/CURRENCIES.md. Keep the two in step. */
static const struct vg_currency_rate default_rates[] = {
    {"USD", 1000000},     {"EUR", 1080000},    {"GBP", 1270000},    {"JPY", 6700},
    {"CNY", 138000},      {"INR", 12000},      {"RUB", 11000},      {"BRL", 180000},
    {"AUD", 660000},      {"CAD", 730000},     {"MXN", 55000},      {"ILS", 270000},
    {"CHF", 1130000},     {"SAR", 266667},     {"XBT", 60000000000}, {"KZT", 2100},
    {"SEK", 95000},       {"NOK", 93000},      {"DKK", 145000},     {"PLN", 250000},
    {"CZK", 43000},       {"HUF", 2700},       {"RON", 217000},     {"BGN", 552000},
    {"ISK", 7200},        {"RSD", 9200},       {"TRY", 31000},      {"UAH", 25000},
    {"GEL", 370000},      {"AMD", 2600},       {"AZN", 588235},     {"BYN", 306000},
    {"UZS", 79},          {"ZAR", 54000},      {"EGP", 21000},      {"NGN", 670},
    {"KES", 7700},        {"MAD", 100000},     {"AED", 272294},     {"QAR", 274725},
    {"KWD", 3250000},     {"BHD", 2659574},    {"OMR", 2600780},    {"JOD", 1410000},
    {"IRR", 24},          {"PKR", 3600},       {"BDT", 8500},       {"LKR", 3300},
    {"NPR", 7500},        {"KRW", 730},        {"SGD", 740000},     {"HKD", 128000},
    {"TWD", 31000},       {"THB", 28000},      {"IDR", 62},         {"MYR", 215000},
    {"PHP", 17500},       {"VND", 40},         {"MMK", 480},        {"NZD", 600000},
    {"ARS", 1100},        {"CLP", 1060},       {"COP", 250},        {"PEN", 270000},
};

/* AMLworld currency names (contract section 3) and other spellings seen in input.
 * "BTC" is the common ticker of Bitcoin; XBT is the code the table uses. */
static const struct {
    const char *name;
    uint8_t len;
    char code[4];
} aliases[] = {
    {"US Dollar", 9, "USD"},         {"Euro", 4, "EUR"},           {"Yuan", 4, "CNY"},
    {"Yen", 3, "JPY"},               {"UK Pound", 8, "GBP"},       {"Rupee", 5, "INR"},
    {"Ruble", 5, "RUB"},             {"Brazil Real", 11, "BRL"},   {"Australian Dollar", 17, "AUD"},
    {"Canadian Dollar", 15, "CAD"},  {"Mexican Peso", 12, "MXN"},  {"Shekel", 6, "ILS"},
    {"Swiss Franc", 11, "CHF"},      {"Saudi Riyal", 11, "SAR"},   {"Bitcoin", 7, "XBT"},
    {"BTC", 3, "XBT"},
};

/* A code packed into 24 bits: the lookup key. */
static inline uint32_t code_key(const char *code) {
    return (uint32_t)(unsigned char)code[0] | (uint32_t)(unsigned char)code[1] << 8 |
           (uint32_t)(unsigned char)code[2] << 16;
}

static inline bool is_iso_code(const char *s, size_t len) {
    return len == 3 && (unsigned char)(s[0] - 'A') < 26 && (unsigned char)(s[1] - 'A') < 26 &&
           (unsigned char)(s[2] - 'A') < 26;
}

static inline uint32_t slot_of(uint32_t key) {
    return (key * 2654435761u) >> (32 - 9); /* Fibonacci hashing into 512 slots */
}
_Static_assert(VG_CURRENCY_SLOTS == 512, "slot_of() shifts for 512 slots");
_Static_assert(VG_CURRENCY_SLOTS >= 2 * VG_CURRENCY_MAX, "index load factor must stay <= 1/2");

/* Position of key in rates[], or -1. Uses the index while it covers the whole table. */
static int find_key(const struct vg_currency_table *table, uint32_t key) {
    if (VG_LIKELY(table->indexed == table->count)) {
        uint32_t s = slot_of(key);
        for (uint32_t probes = 0; probes < VG_CURRENCY_SLOTS; probes++) {
            uint16_t entry = table->slots[s];
            if (entry == 0) return -1;
            if (entry <= table->count && code_key(table->rates[entry - 1].code) == key)
                return entry - 1;
            s = (s + 1) & (VG_CURRENCY_SLOTS - 1);
        }
        return -1;
    }
    for (size_t i = 0; i < table->count; i++) /* hand-filled table: no index to trust */
        if (code_key(table->rates[i].code) == key) return (int)i;
    return -1;
}

/* Rebuilds the index over rates[0..count). Can't fail. */
static void reindex(struct vg_currency_table *table) {
    memset(table->slots, 0, sizeof table->slots);
    for (size_t i = 0; i < table->count; i++) {
        uint32_t s = slot_of(code_key(table->rates[i].code));
        while (table->slots[s] != 0) s = (s + 1) & (VG_CURRENCY_SLOTS - 1);
        table->slots[s] = (uint16_t)(i + 1);
    }
    table->indexed = (uint32_t)table->count;
}

void vg_currency_defaults(struct vg_currency_table *table) {
    memset(table, 0, sizeof *table);
    memcpy(table->base, "USD", 4);
    memcpy(table->rates, default_rates, sizeof default_rates);
    table->count = VG_ARRAY_LEN(default_rates);
    reindex(table);
}

int vg_currency_set(struct vg_currency_table *table, const char *code, int64_t rate_micros) {
    if (!code || !is_iso_code(code, strlen(code)) || rate_micros <= 0) return VG_ERR_INVALID;
    if (table->indexed != table->count) reindex(table);
    int at = find_key(table, code_key(code));
    if (at >= 0) {
        table->rates[at].rate_micros = rate_micros;
        return VG_OK;
    }
    if (table->count >= VG_CURRENCY_MAX) return VG_ERR_FULL;
    memcpy(table->rates[table->count].code, code, 4);
    table->rates[table->count].rate_micros = rate_micros;
    table->count++;
    reindex(table);
    return VG_OK;
}

int vg_currency_rebase(struct vg_currency_table *table, const char *code) {
    if (!code || !is_iso_code(code, strlen(code))) return VG_ERR_NOTFOUND;
    int at = find_key(table, code_key(code));
    if (at < 0) return VG_ERR_NOTFOUND;
    /* new rate = old rate / old rate of the new base, rounded half away from zero; a
     * currency too small to show in micro-units of the new base keeps the smallest rate,
     * 1 micro-unit, so it never converts to nothing. */
    const __int128 base_rate = table->rates[at].rate_micros;
    for (size_t i = 0; i < table->count; i++) {
        __int128 scaled = (__int128)table->rates[i].rate_micros * VG_MICROS_PER_UNIT;
        __int128 rate = (scaled + base_rate / 2) / base_rate;
        if (rate > INT64_MAX) rate = INT64_MAX;
        table->rates[i].rate_micros = rate < 1 ? 1 : (int64_t)rate;
    }
    table->rates[at].rate_micros = VG_MICROS_PER_UNIT; /* exactly 1, whatever the rounding */
    memcpy(table->base, code, 4);
    return VG_OK;
}

/* Resolves an input name to the alias table entry's code, or NULL. */
static const char *alias_code(const char *name, size_t len) {
    for (size_t i = 0; i < VG_ARRAY_LEN(aliases); i++)
        if (aliases[i].len == len && memcmp(aliases[i].name, name, len) == 0) return aliases[i].code;
    return NULL;
}

const char *vg_currency_canonical(const char *name, size_t len) {
    if (is_iso_code(name, len)) {
        const char *alias = alias_code(name, len); /* BTC */
        if (alias) return alias;
        uint32_t key = code_key(name);
        for (size_t i = 0; i < VG_ARRAY_LEN(default_rates); i++)
            if (code_key(default_rates[i].code) == key) return default_rates[i].code;
        return NULL;
    }
    return alias_code(name, len);
}

int vg_currency_rate(const struct vg_currency_table *table, const char *name, size_t len,
                     int64_t *out_rate_micros) {
    uint32_t key;
    if (VG_LIKELY(is_iso_code(name, len))) {
        key = code_key(name);
        if (VG_UNLIKELY(key == code_key("BTC") && find_key(table, key) < 0)) key = code_key("XBT");
    } else {
        const char *code = alias_code(name, len);
        if (!code) return VG_ERR_NOTFOUND;
        key = code_key(code);
    }
    int at = find_key(table, key);
    if (at < 0) return VG_ERR_NOTFOUND;
    *out_rate_micros = table->rates[at].rate_micros;
    return VG_OK;
}
