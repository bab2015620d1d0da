/* amlworld_csv.c - one line of IBM's AMLworld transaction CSV into a struct vg_txn (see
 * ingest.h and contract section 3). Plain comma splitting: AMLworld files never quote;
 * a trailing "\r" is tolerated. No allocation; bad lines become dead-letter reasons. */
#include "vigil/ingest.h"

#include "vigil/money.h"
#include "vigil/vtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum column {
    COL_TIMESTAMP,
    COL_FROM_BANK,
    COL_FROM_ACCOUNT,
    COL_TO_BANK,
    COL_TO_ACCOUNT,
    COL_AMOUNT_RECEIVED,
    COL_RECEIVING_CURRENCY,
    COL_AMOUNT_PAID,
    COL_PAYMENT_CURRENCY,
    COL_PAYMENT_FORMAT,
    COL_IS_LAUNDERING,
    COL_COUNT, /* stays last */
};

static const char header_prefix[] = "Timestamp,From Bank,Account,To Bank,Account,";

static void set_error(struct vg_parse_error *err, enum vg_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct vg_parse_error *err, enum vg_reason reason, const char *fmt, ...) {
    err->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
}

/* Up to 32 bytes of a field for messages, non-printables as '?'. Returns snippet. */
static const char *printable(struct vg_str field, char snippet[40]) {
    size_t n = VG_MIN(field.len, 32);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)field.ptr[i];
        snippet[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (field.len > n) {
        memcpy(snippet + n, "...", 3);
        n += 3;
    }
    snippet[n] = '\0';
    return snippet;
}

/* First ',' at or after p, or end. Eight bytes at a time (SWAR, little-endian): fields
 * are short, so this beats both a byte loop and a memchr call per field. Can't fail. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "next_comma() reads words little-endian"
#endif
static inline const char *next_comma(const char *p, const char *end) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t x = w ^ (ones * ',');
        uint64_t hits = (x - ones) & ~x & highs; /* lowest hit is exact */
        if (hits) return p + (__builtin_ctzll(hits) >> 3);
        p += 8;
    }
    while (p < end && *p != ',') p++;
    return p;
}

bool vg_amlworld_is_header(const char *rec, size_t len) {
    return len >= sizeof header_prefix - 1 && memcmp(rec, header_prefix, sizeof header_prefix - 1) == 0;
}

/* Builds "<bank without leading zeros>:<account>" into dst (VG_ID_MAX bytes).
 * Returns VG_OK or VG_ERR_INVALID (empty part, or longer than VG_ID_MAX) with err set. */
static int account_id(struct vg_str bank, struct vg_str account, const char *side, char *dst,
                      uint8_t *dst_len, struct vg_parse_error *err) {
    if (bank.len == 0 || account.len == 0) {
        set_error(err, VG_REASON_BAD_ID, "%s: empty %s", side, bank.len == 0 ? "bank" : "account");
        return VG_ERR_INVALID;
    }
    while (bank.len > 1 && bank.ptr[0] == '0') bank.ptr++, bank.len--; /* "000" stays "0" */
    size_t len = bank.len + 1 + account.len;
    if (len > VG_ID_MAX) {
        set_error(err, VG_REASON_BAD_ID, "%s: account id of %zu bytes, at most %d", side, len, VG_ID_MAX);
        return VG_ERR_INVALID;
    }
    memcpy(dst, bank.ptr, bank.len);
    dst[bank.len] = ':';
    memcpy(dst + bank.len + 1, account.ptr, account.len);
    *dst_len = (uint8_t)len;
    return VG_OK;
}

int vg_amlworld_parse(const char *rec, size_t len, uint64_t line_no,
                      const struct vg_currency_table *rates, struct vg_txn *out,
                      struct vg_parse_error *err) {
    return vg_amlworld_parse_sent(rec, len, line_no, rates, false, out, err);
}

int vg_amlworld_parse_sent(const char *rec, size_t len, uint64_t line_no, const struct vg_currency_table *rates,
                           bool keep_sent, struct vg_txn *out, struct vg_parse_error *err) {
    if (len > VG_RECORD_MAX) {
        set_error(err, VG_REASON_OVERSIZED, "line of %zu bytes, at most %d", len, VG_RECORD_MAX);
        return VG_ERR_INVALID;
    }
    while (len > 0 && (rec[len - 1] == '\n' || rec[len - 1] == '\r')) len--;

    struct vg_str col[COL_COUNT];
    size_t n = 0;
    const char *field = rec, *end = rec + len;
    for (;;) {
        const char *comma = next_comma(field, end);
        if (n == COL_COUNT) {
            n++; /* too many columns */
            break;
        }
        col[n++] = (struct vg_str){field, (size_t)(comma - field)};
        if (comma == end) break;
        field = comma + 1;
    }
    if (n != COL_COUNT) {
        set_error(err, VG_REASON_MALFORMED, "%s%zu columns, expected %d", n > COL_COUNT ? "more than " : "",
                  n > COL_COUNT ? (size_t)COL_COUNT : n, COL_COUNT);
        return VG_ERR_INVALID;
    }

    uint64_t seq = out->seq;
    vg_txn_clear(out); /* no party fields in this format */
    out->seq = seq;
    out->keep_sent = keep_sent;

    char snippet[40];
    if (vg_time_parse_amlworld(col[COL_TIMESTAMP].ptr, col[COL_TIMESTAMP].len, &out->ts_ms) != VG_OK) {
        set_error(err, VG_REASON_BAD_TIMESTAMP, "Timestamp: '%s' is not YYYY/MM/DD HH:MM",
                  printable(col[COL_TIMESTAMP], snippet));
        return VG_ERR_INVALID;
    }
    if (account_id(col[COL_FROM_BANK], col[COL_FROM_ACCOUNT], "From Bank/Account", out->from,
                   &out->from_len, err) != VG_OK ||
        account_id(col[COL_TO_BANK], col[COL_TO_ACCOUNT], "To Bank/Account", out->to, &out->to_len,
                   err) != VG_OK)
        return VG_ERR_INVALID;

    struct vg_amount paid_amount;  /* exact, in the payment currency until converted */
    struct vg_str paid = col[COL_AMOUNT_PAID];
    int rc = vg_money_parse_exact(paid.ptr, paid.len, &paid_amount);
    if (rc == VG_ERR_RANGE) {
        set_error(err, VG_REASON_AMOUNT_OVERFLOW, "Amount Paid: %s does not fit in 64-bit micro-units",
                  printable(paid, snippet));
        return VG_ERR_INVALID;
    }
    if (rc != VG_OK) {
        set_error(err, VG_REASON_BAD_AMOUNT, "Amount Paid: '%s' is not a decimal number",
                  printable(paid, snippet));
        return VG_ERR_INVALID;
    }
    if (paid_amount.micros < 0 || (paid_amount.micros == 0 && paid_amount.sub_micros == 0)) {
        set_error(err, VG_REASON_AMOUNT_NOT_POSITIVE, "Amount Paid: %s is not positive",
                  printable(paid, snippet));
        return VG_ERR_INVALID;
    }
    struct vg_str currency = col[COL_PAYMENT_CURRENCY];
    int64_t rate_micros;
    if (vg_currency_rate(rates, currency.ptr, currency.len, &rate_micros) != VG_OK) {
        set_error(err, VG_REASON_UNKNOWN_CURRENCY, "Payment Currency: no rate for '%s'",
                  printable(currency, snippet));
        return VG_ERR_INVALID;
    }
    if (vg_money_convert_exact(&paid_amount, rate_micros, &out->amount_micros) != VG_OK) {
        set_error(err, VG_REASON_AMOUNT_OVERFLOW,
                  "Amount Paid: converted to %s it does not fit in 64-bit micro-units", rates->base);
        return VG_ERR_INVALID;
    }
    if (out->amount_micros <= 0) {
        set_error(err, VG_REASON_AMOUNT_NOT_POSITIVE, "Amount Paid: rounds to 0 when converted to %s",
                  rates->base);
        return VG_ERR_INVALID;
    }

    /* Payment Format: lower-cased channel, cut on a UTF-8 boundary. */
    struct vg_str format = col[COL_PAYMENT_FORMAT];
    size_t channel_len = format.len;
    if (channel_len > VG_CHANNEL_MAX) {
        channel_len = VG_CHANNEL_MAX;
        while (channel_len > 0 && ((unsigned char)format.ptr[channel_len] & 0xC0) == 0x80) channel_len--;
    }
    for (size_t i = 0; i < channel_len; i++) {
        char c = format.ptr[i];
        out->channel[i] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
    }
    out->channel_len = (uint8_t)channel_len;

    /* Transaction id: the 1-based data line number in decimal. */
    char digits[20];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + line_no % 10);
        line_no /= 10;
    } while (line_no);
    for (size_t i = 0; i < nd; i++) out->id[i] = digits[nd - 1 - i];
    out->id_len = (uint8_t)nd;

    if (keep_sent) { /* evidence: the columns as written (banks with their leading zeros) */
        vg_txn_sent_set(out->sent.amount, sizeof out->sent.amount, &out->sent.amount_len, paid.ptr, paid.len);
        vg_txn_sent_set(out->sent.currency, sizeof out->sent.currency, &out->sent.currency_len, currency.ptr,
                        currency.len);
        vg_txn_sent_set(out->sent.from_bank, sizeof out->sent.from_bank, &out->sent.from_bank_len,
                        col[COL_FROM_BANK].ptr, col[COL_FROM_BANK].len);
        vg_txn_sent_set(out->sent.to_bank, sizeof out->sent.to_bank, &out->sent.to_bank_len, col[COL_TO_BANK].ptr,
                        col[COL_TO_BANK].len);
    } else {
        memset(&out->sent, 0, 4); /* the four lengths */
    }
    err->reason = VG_REASON_NONE;
    return VG_OK;
}
