/* synth_format.c - renders generated records as NDJSON (contract section 3) and as
 * AMLworld CSV lines, by hand (no printf) so the generator writes millions of lines a second.
 * Money is formatted from integer micro-units; nothing here touches floating point. */
#include "synth/synth_internal.h"

#include <string.h>

static char *put_u64(char *p, uint64_t v) {
    char tmp[24];
    int n = 0;
    do tmp[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static char *put_i64(char *p, int64_t v) {
    if (v < 0) {
        *p++ = '-';
        return put_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, (uint64_t)v);
}

/* Decimal amount: integer part, then the fraction without trailing zeros. */
static char *put_amount(char *p, int64_t micros) {
    p = put_u64(p, (uint64_t)(micros / VG_MICROS_PER_UNIT));
    int64_t frac = micros % VG_MICROS_PER_UNIT;
    if (frac) {
        char digits[6];
        for (int i = 5; i >= 0; i--) digits[i] = (char)('0' + frac % 10), frac /= 10;
        int n = 6;
        while (digits[n - 1] == '0') n--;
        *p++ = '.';
        memcpy(p, digits, (size_t)n);
        p += n;
    }
    return p;
}

/* Always two decimals, as AMLworld writes them ("3697.34", "120.00"). */
static char *put_amount_2dp(char *p, int64_t micros) {
    if (micros % 10000) return put_amount(p, micros); /* sub-cent: all digits */
    p = put_u64(p, (uint64_t)(micros / VG_MICROS_PER_UNIT));
    int64_t frac = micros % VG_MICROS_PER_UNIT;
    int cents = (int)(frac / 10000);
    *p++ = '.';
    *p++ = (char)('0' + cents / 10);
    *p++ = (char)('0' + cents % 10);
    return p;
}

static char *put_lit(char *p, const char *s, size_t n) {
    memcpy(p, s, n);
    return p + n;
}
#define PUT_LIT(p, s) put_lit((p), (s), sizeof(s) - 1)

static char *put_str(char *p, const char *s) {
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static size_t finish(const char *line, size_t len, char *buf, size_t cap) {
    if (len > cap) return 0;
    if (line != buf) memcpy(buf, line, len);
    return len;
}

size_t vg_synth_format_ndjson(const struct vg_synth_txn *t, char *buf, size_t cap) {
    char local[VG_SYNTH_LINE_MAX];
    char *line = cap >= VG_SYNTH_LINE_MAX ? buf : local;
    char *p = line;
    p = PUT_LIT(p, "{\"id\":\"");
    p = put_u64(p, t->seq + 1);
    p = PUT_LIT(p, "\",\"ts\":");
    p = put_i64(p, t->ts_ms);
    p = PUT_LIT(p, ",\"from\":\"");
    p = put_lit(p, t->from, t->from_len);
    p = PUT_LIT(p, "\",\"to\":\"");
    p = put_lit(p, t->to, t->to_len);
    p = PUT_LIT(p, "\",\"amount\":");
    p = put_amount(p, t->amount_micros);
    p = PUT_LIT(p, ",\"currency\":\"");
    p = put_str(p, t->currency);
    p = PUT_LIT(p, "\",\"channel\":\"");
    p = put_str(p, t->channel);
    p = PUT_LIT(p, "\"");
    if (t->from_country[0]) {
        p = PUT_LIT(p, ",\"from_country\":\"");
        p = put_lit(p, t->from_country, 2);
        *p++ = '"';
    }
    if (t->to_country[0]) {
        p = PUT_LIT(p, ",\"to_country\":\"");
        p = put_lit(p, t->to_country, 2);
        *p++ = '"';
    }
    if (t->from_name[0]) { /* the generator's names need no JSON escapes */
        p = PUT_LIT(p, ",\"from_name\":\"");
        p = put_str(p, t->from_name);
        *p++ = '"';
    }
    if (t->to_name[0]) {
        p = PUT_LIT(p, ",\"to_name\":\"");
        p = put_str(p, t->to_name);
        *p++ = '"';
    }
    p = PUT_LIT(p, "}\n");
    return finish(line, (size_t)(p - line), buf, cap);
}

size_t vg_synth_format_ndjson_labelled(const struct vg_synth_txn *t, char *buf, size_t cap) {
    char line[VG_SYNTH_LINE_MAX + 16];
    size_t n = vg_synth_format_ndjson(t, line, sizeof line);
    if (n < 2) return 0;
    n -= 2; /* drop "}\n" */
    n = (size_t)(put_str(line + n, t->laundering ? ",\"label\":true}\n" : ",\"label\":false}\n") - line);
    return finish(line, n, buf, cap);
}

/* Proleptic Gregorian date of a day number (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static char *put_2d(char *p, unsigned v) {
    *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

/* "YYYY/MM/DD HH:MM", truncated to the minute. */
static char *put_aml_time(char *p, int64_t ts_ms) {
    int64_t minutes = ts_ms >= 0 ? ts_ms / 60000 : -((-ts_ms + 59999) / 60000);
    int64_t days = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
    unsigned minute_of_day = (unsigned)(minutes - days * 1440);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    p = put_2d(p, (unsigned)(y / 100));
    p = put_2d(p, (unsigned)(y % 100));
    *p++ = '/';
    p = put_2d(p, m);
    *p++ = '/';
    p = put_2d(p, d);
    *p++ = ' ';
    p = put_2d(p, minute_of_day / 60);
    *p++ = ':';
    return put_2d(p, minute_of_day % 60);
}

/* "<bank>,<account>" from an id "<bank>:<account>", the bank zero-padded to 3 digits
 * like AMLworld's own files ("10:8000EBD30" -> "010,8000EBD30"). */
static char *put_aml_account(char *p, const char *id, size_t len) {
    const char *colon = memchr(id, ':', len);
    size_t bank_len = colon ? (size_t)(colon - id) : 0;
    for (size_t i = bank_len; i < 3; i++) *p++ = '0';
    p = put_lit(p, id, bank_len);
    *p++ = ',';
    size_t rest = colon ? len - bank_len - 1 : len;
    return put_lit(p, colon ? colon + 1 : id, rest);
}

size_t vg_synth_format_csv(const struct vg_synth_txn *t, char *buf, size_t cap) {
    char local[VG_SYNTH_LINE_MAX];
    char *line = cap >= VG_SYNTH_LINE_MAX ? buf : local;
    char *p = line;
    p = put_aml_time(p, t->ts_ms);
    *p++ = ',';
    p = put_aml_account(p, t->from, t->from_len);
    *p++ = ',';
    p = put_aml_account(p, t->to, t->to_len);
    *p++ = ',';
    char *amount = p;
    p = put_amount_2dp(p, t->amount_micros);
    size_t amount_len = (size_t)(p - amount);
    *p++ = ',';
    p = put_str(p, t->currency_name);
    *p++ = ',';
    p = put_lit(p, amount, amount_len); /* Amount Paid = Amount Received: no FX in one row */
    *p++ = ',';
    p = put_str(p, t->currency_name);
    *p++ = ',';
    p = put_str(p, t->payment_format);
    *p++ = ',';
    *p++ = t->laundering ? '1' : '0';
    *p++ = '\n';
    return finish(line, (size_t)(p - line), buf, cap);
}

size_t vg_synth_csv_header(char *buf, size_t cap) {
    static const char header[] = "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,"
                                 "Amount Paid,Payment Currency,Payment Format,Is Laundering\n";
    return finish(header, sizeof header - 1, buf, cap);
}
