/* ndjson.c - one NDJSON transaction object into a struct vg_txn (see ingest.h): a strict,
 * hand-written JSON reader that parses straight into the record, never allocates, and turns
 * every defect into a dead-letter reason with a one-line detail. Not a general JSON library.
 *
 * Strictness: RFC 8259 syntax and UTF-8 are enforced (escapes, surrogate pairs, number
 * grammar, no trailing commas or garbage). Unknown members are validated and ignored, nested
 * up to JSON_DEPTH_MAX. A known member given twice is refused as malformed (no "first wins"
 * vs "last wins" ambiguity between vigil and other consumers of the same topic).
 * from_bank/to_bank are read only when the caller keeps the fields as sent (evidence: full). The party fields
 * (names, party ids, birth dates) are stored only when sent (vg_txn_party_begin). */
#include "vigil/ingest.h"

#include "vigil/money.h"
#include "vigil/vtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Nesting allowed inside ignored members (objects/arrays within the record object). */
#define JSON_DEPTH_MAX 64
/* Longest ts / amount / currency / country string worth reading; longer ones are refused. */
#define SCALAR_MAX 64

enum field {
    FIELD_ID,
    FIELD_TS,
    FIELD_FROM,
    FIELD_TO,
    FIELD_AMOUNT,
    FIELD_CURRENCY,
    FIELD_CHANNEL,
    FIELD_FROM_COUNTRY,
    FIELD_TO_COUNTRY,
    FIELD_FROM_BANK,   /* read only with keep_sent, else ignored like an unknown member */
    FIELD_TO_BANK,
    FIELD_FROM_NAME,
    FIELD_TO_NAME,
    FIELD_FROM_PARTY_ID,
    FIELD_TO_PARTY_ID,
    FIELD_FROM_BIRTH_DATE,
    FIELD_TO_BIRTH_DATE,
    FIELD_UNKNOWN, /* stays last */
};

static const char *const field_names[FIELD_UNKNOWN] = {
    [FIELD_ID] = "id", [FIELD_TS] = "ts", [FIELD_FROM] = "from", [FIELD_TO] = "to",
    [FIELD_AMOUNT] = "amount", [FIELD_CURRENCY] = "currency", [FIELD_CHANNEL] = "channel",
    [FIELD_FROM_COUNTRY] = "from_country", [FIELD_TO_COUNTRY] = "to_country",
    [FIELD_FROM_BANK] = "from_bank", [FIELD_TO_BANK] = "to_bank",
    [FIELD_FROM_NAME] = "from_name", [FIELD_TO_NAME] = "to_name",
    [FIELD_FROM_PARTY_ID] = "from_party_id", [FIELD_TO_PARTY_ID] = "to_party_id",
    [FIELD_FROM_BIRTH_DATE] = "from_birth_date", [FIELD_TO_BIRTH_DATE] = "to_birth_date",
};

#define REQUIRED_FIELDS                                                                       \
    ((1u << FIELD_ID) | (1u << FIELD_TS) | (1u << FIELD_FROM) | (1u << FIELD_TO) |             \
     (1u << FIELD_AMOUNT) | (1u << FIELD_CURRENCY))

struct parser {
    const char *p;
    const char *end;
    const char *start;             /* for byte offsets in messages */
    struct vg_parse_error *err;
    bool field_error;              /* err holds the first field-level error; keep checking syntax */
    unsigned seen;                 /* bit per enum field, present and not null */
    unsigned given;                /* bit per enum field, present (null included): duplicates */
    struct vg_amount amount;       /* exact, in the record's currency until converted */
    const char *currency;          /* into the record, or currency_buf when it had escapes */
    size_t currency_len;
    char currency_buf[SCALAR_MAX];
    struct vg_txn_sent *sent;      /* fields as sent are kept here, or NULL (the default) */
};

/* ---- errors ---------------------------------------------------------------------------- */

static void set_error(struct vg_parse_error *err, enum vg_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct vg_parse_error *err, enum vg_reason reason, const char *fmt, ...) {
    err->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
}

/* Records a field-level error unless an earlier one is already kept. Parsing goes on so a
 * later syntax error still wins (a broken record is "malformed" whatever its fields say). */
#define FIELD_ERROR(ps, reason, ...)                                                          \
    do {                                                                                      \
        if (!(ps)->field_error) {                                                             \
            set_error((ps)->err, (reason), __VA_ARGS__);                                      \
            (ps)->field_error = true;                                                         \
        }                                                                                     \
    } while (0)

/* Copies up to 32 bytes of a value into snippet for messages, with non-printable bytes as
 * '?' so a detail stays one printable line. Returns snippet (can't fail). */
static const char *printable(const char *text, size_t len, char snippet[40]) {
    size_t n = VG_MIN(len, 32);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        snippet[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (len > n) {
        memcpy(snippet + n, "...", 3);
        n += 3;
    }
    snippet[n] = '\0';
    return snippet;
}

/* Returns -1 after recording a malformed-JSON error at the current position. */
static int malformed(struct parser *ps, const char *what) {
    set_error(ps->err, VG_REASON_MALFORMED, "malformed JSON at byte %zu: %s",
              (size_t)(ps->p - ps->start), what);
    return -1;
}

/* ---- lexical layer ---------------------------------------------------------------------- */

static inline void skip_ws(struct parser *ps) {
    if (VG_LIKELY(ps->p < ps->end && (unsigned char)*ps->p > ' ')) return; /* compact JSON: no blanks */
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static inline int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads 4 hex digits at p. Returns the code unit, or -1. */
static long read_hex4(const char *p) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(p[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence starting at p (lead byte >= 0x80), or 0. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the first continuation byte */
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) n = 3;
    else if (c == 0xED) n = 3, hi = 0x9F; /* no UTF-16 surrogates */
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

/* End of the run of plain string bytes starting at p: printable ASCII other than '"' and
 * '\\'. Eight bytes at a time (SWAR, little-endian): a word is plain when no byte is below
 * 0x20, at or above 0x80, or equal to '"' or '\\'; the last few bytes go one by one.
 * Returns a pointer to the first byte that needs attention, or end. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "plain_run_end() reads words little-endian"
#endif
static inline const char *plain_run_end(const char *p, const char *end) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
        uint64_t special = ((w - ones * 0x20) & ~w) |              /* byte < 0x20 */
                           ((quote - ones) & ~quote) |             /* byte == '"' */
                           ((backslash - ones) & ~backslash) |     /* byte == '\\' */
                           w;                                      /* byte >= 0x80 */
        special &= highs;
        /* The lowest flagged byte is exact: borrows only spill into bytes above it. */
        if (special) return p + (__builtin_ctzll(special) >> 3);
        p += 8;
    }
    while (p < end && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x80 && *p != '"' &&
           *p != '\\')
        p++;
    return p;
}

/* Appends bytes to dst while they fit; *len counts them all (so callers see the full size). */
static inline void put_bytes(char *dst, size_t cap, size_t *len, const char *src, size_t n) {
    if (dst && *len < cap) memcpy(dst + *len, src, VG_MIN(n, cap - *len));
    *len += n;
}

/* Reads a JSON string at ps->p (which is '"') through its closing quote, unescaping into
 * dst (up to cap bytes; dst may be NULL to only validate). *out_len is the full unescaped
 * length, which may exceed cap; *has_nul tells whether it contains U+0000.
 * Returns 0, or -1 with a malformed error (bad escape, raw control byte, bad UTF-8,
 * unterminated). The general path: read_string() and read_text() try a plain run first. */
static int read_string_slow(struct parser *ps, char *dst, size_t cap, size_t *out_len,
                            bool *has_nul) {
    const char *p = ps->p + 1, *end = ps->end;
    size_t len = 0;
    bool nul = false;
    for (;;) {
        const char *run = p;
        p = plain_run_end(p, end);
        put_bytes(dst, cap, &len, run, (size_t)(p - run));
        if (VG_UNLIKELY(p >= end)) {
            ps->p = p;
            return malformed(ps, "unterminated string");
        }
        unsigned char c = (unsigned char)*p;
        if (VG_LIKELY(c == '"')) break;
        if (c == '\\') {
            if (end - p < 2) {
                ps->p = p;
                return malformed(ps, "unterminated string");
            }
            char e = p[1], single;
            switch (e) {
            case '"': single = '"'; break;
            case '\\': single = '\\'; break;
            case '/': single = '/'; break;
            case 'b': single = '\b'; break;
            case 'f': single = '\f'; break;
            case 'n': single = '\n'; break;
            case 'r': single = '\r'; break;
            case 't': single = '\t'; break;
            case 'u': single = 0; break;
            default:
                ps->p = p;
                return malformed(ps, "invalid escape in string");
            }
            if (e != 'u') {
                put_bytes(dst, cap, &len, &single, 1);
                p += 2;
                continue;
            }
            long unit = end - p >= 6 ? read_hex4(p + 2) : -1;
            if (unit < 0) {
                ps->p = p;
                return malformed(ps, "invalid \\u escape");
            }
            p += 6;
            unsigned long code = (unsigned long)unit;
            if (unit >= 0xD800 && unit <= 0xDBFF) {
                long low = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? read_hex4(p + 2) : -1;
                if (low < 0xDC00 || low > 0xDFFF) {
                    ps->p = p;
                    return malformed(ps, "unpaired UTF-16 surrogate in \\u escape");
                }
                p += 6;
                code = 0x10000 + (((unsigned long)unit - 0xD800) << 10) + ((unsigned long)low - 0xDC00);
            } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
                ps->p = p - 6;
                return malformed(ps, "unpaired UTF-16 surrogate in \\u escape");
            }
            char utf8[4];
            size_t n;
            if (code < 0x80) {
                utf8[0] = (char)code, n = 1;
                if (code == 0) nul = true;
            } else if (code < 0x800) {
                utf8[0] = (char)(0xC0 | code >> 6), utf8[1] = (char)(0x80 | (code & 0x3F)), n = 2;
            } else if (code < 0x10000) {
                utf8[0] = (char)(0xE0 | code >> 12), utf8[1] = (char)(0x80 | ((code >> 6) & 0x3F));
                utf8[2] = (char)(0x80 | (code & 0x3F)), n = 3;
            } else {
                utf8[0] = (char)(0xF0 | code >> 18), utf8[1] = (char)(0x80 | ((code >> 12) & 0x3F));
                utf8[2] = (char)(0x80 | ((code >> 6) & 0x3F)), utf8[3] = (char)(0x80 | (code & 0x3F));
                n = 4;
            }
            put_bytes(dst, cap, &len, utf8, n);
            continue;
        }
        if (c < 0x20) {
            ps->p = p;
            return malformed(ps, "raw control character in string");
        }
        size_t n = utf8_sequence((const unsigned char *)p, (const unsigned char *)end);
        if (n == 0) {
            ps->p = p;
            return malformed(ps, "invalid UTF-8 in string");
        }
        put_bytes(dst, cap, &len, p, n);
        p += n;
    }
    ps->p = p + 1;
    *out_len = len;
    if (has_nul) *has_nul = nul;
    return 0;
}

/* End of the run of string bytes from p that need no unescaping: plain ASCII runs and
 * well-formed UTF-8 sequences (two-byte ones, Cyrillic, Kazakh, Arabic, checked inline).
 * Returns the first '"', '\\', control byte or malformed sequence, or end. */
static const char *verbatim_run_end(const char *p, const char *end) {
    for (;;) {
        p = plain_run_end(p, end);
        const unsigned char *u = (const unsigned char *)p;
        while (end - p >= 2 && u[0] >= 0xC2 && u[0] <= 0xDF && (u[1] & 0xC0) == 0x80) p += 2, u += 2;
        if (p >= end) return p;
        if (u[0] < 0x80) { /* ASCII again: a space between words goes on, '"' and the like end */
            if (u[0] == '"' || u[0] == '\\' || u[0] < 0x20) return p;
            continue;
        }
        size_t n = utf8_sequence(u, (const unsigned char *)end);
        if (n == 0) return p;
        p += n;
    }
}

/* Same contract as read_string_slow, with the common case inline: no escapes, no
 * control bytes, ASCII or well-formed UTF-8, so the value is one run copied once. */
static inline int read_string(struct parser *ps, char *dst, size_t cap, size_t *out_len,
                              bool *has_nul) {
    const char *text = ps->p + 1, *q = plain_run_end(text, ps->end);
    if (VG_UNLIKELY(q < ps->end && (unsigned char)*q >= 0x80)) q = verbatim_run_end(q, ps->end); /* names */
    if (VG_LIKELY(q < ps->end && *q == '"')) {
        size_t len = (size_t)(q - text);
        if (dst) vg_copy_short(dst, text, VG_MIN(len, cap)); /* ids: a dozen bytes */
        *out_len = len;
        if (has_nul) *has_nul = false;
        ps->p = q + 1;
        return 0;
    }
    return read_string_slow(ps, dst, cap, out_len, has_nul);
}

/* Reads a JSON string without copying when it has no escapes: *text points into the record,
 * else into buf (cap bytes, unescaped; *len may then exceed cap and the text is cut).
 * Returns 0 or -1 with a malformed error. */
static inline int read_text(struct parser *ps, char *buf, size_t cap, const char **text,
                            size_t *len) {
    const char *start = ps->p + 1, *q = plain_run_end(start, ps->end);
    if (VG_LIKELY(q < ps->end && *q == '"')) {
        *text = start;
        *len = (size_t)(q - start);
        ps->p = q + 1;
        return 0;
    }
    *text = buf;
    return read_string_slow(ps, buf, cap, len, NULL);
}

/* Scans a JSON number at ps->p. On success sets [*text, *text + *len) and *is_integer.
 * Returns 0, or -1 with a malformed error. */
static int scan_number(struct parser *ps, const char **text, size_t *len, bool *is_integer) {
    const char *p = ps->p, *end = ps->end, *start = p;
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') p++;
    } else {
        return malformed(ps, "invalid number");
    }
    bool integer = true;
    if (p < end && *p == '.') {
        integer = false;
        const char *digits = ++p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == digits) {
            ps->p = p;
            return malformed(ps, "invalid number: no digit after '.'");
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        const char *digits = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == digits) {
            ps->p = p;
            return malformed(ps, "invalid number: no digit in exponent");
        }
    }
    ps->p = p;
    *text = start;
    *len = (size_t)(p - start);
    *is_integer = integer;
    return 0;
}

/* Consumes a literal (true/false/null). Returns 0 or -1 with a malformed error. */
static int expect_literal(struct parser *ps, const char *word, size_t n) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return malformed(ps, "invalid literal");
    ps->p += n;
    return 0;
}

/* Validates and skips any JSON value. Returns 0 or -1 with a malformed error. */
static int skip_value(struct parser *ps, int depth) {
    if (ps->p >= ps->end) return malformed(ps, "value expected");
    switch (*ps->p) {
    case '"': {
        size_t len;
        return read_string(ps, NULL, 0, &len, NULL);
    }
    case 't': return expect_literal(ps, "true", 4);
    case 'f': return expect_literal(ps, "false", 5);
    case 'n': return expect_literal(ps, "null", 4);
    case '{':
    case '[': {
        if (depth >= JSON_DEPTH_MAX) return malformed(ps, "nesting too deep");
        char close = *ps->p == '{' ? '}' : ']';
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        for (;;) {
            if (close == '}') {
                size_t len;
                if (ps->p >= ps->end || *ps->p != '"') return malformed(ps, "member name expected");
                if (read_string(ps, NULL, 0, &len, NULL) != 0) return -1;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') return malformed(ps, "':' expected");
                ps->p++;
                skip_ws(ps);
            }
            if (skip_value(ps, depth + 1) != 0) return -1;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                skip_ws(ps);
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                return 0;
            }
            return malformed(ps, close == '}' ? "',' or '}' expected" : "',' or ']' expected");
        }
    }
    default: {
        const char *text;
        size_t len;
        bool integer;
        return scan_number(ps, &text, &len, &integer);
    }
    }
}

/* ---- fields ------------------------------------------------------------------------------ */

static enum field field_of(const char *name, size_t len) {
    switch (len) {
    case 2:
        if (name[0] == 'i' && name[1] == 'd') return FIELD_ID;
        if (name[0] == 't' && name[1] == 's') return FIELD_TS;
        if (name[0] == 't' && name[1] == 'o') return FIELD_TO;
        break;
    case 4: if (memcmp(name, "from", 4) == 0) return FIELD_FROM; break;
    case 6: if (memcmp(name, "amount", 6) == 0) return FIELD_AMOUNT; break;
    case 7:
        if (memcmp(name, "channel", 7) == 0) return FIELD_CHANNEL;
        if (memcmp(name, "to_bank", 7) == 0) return FIELD_TO_BANK;
        if (memcmp(name, "to_name", 7) == 0) return FIELD_TO_NAME;
        break;
    case 8: if (memcmp(name, "currency", 8) == 0) return FIELD_CURRENCY; break;
    case 9:
        if (memcmp(name, "from_name", 9) == 0) return FIELD_FROM_NAME;
        if (memcmp(name, "from_bank", 9) == 0) return FIELD_FROM_BANK;
        break;
    case 10: if (memcmp(name, "to_country", 10) == 0) return FIELD_TO_COUNTRY; break;
    case 11: if (memcmp(name, "to_party_id", 11) == 0) return FIELD_TO_PARTY_ID; break;
    case 12: if (memcmp(name, "from_country", 12) == 0) return FIELD_FROM_COUNTRY; break;
    case 13:
        if (memcmp(name, "from_party_id", 13) == 0) return FIELD_FROM_PARTY_ID;
        if (memcmp(name, "to_birth_date", 13) == 0) return FIELD_TO_BIRTH_DATE;
        break;
    case 15: if (memcmp(name, "from_birth_date", 15) == 0) return FIELD_FROM_BIRTH_DATE; break;
    }
    return FIELD_UNKNOWN;
}

/* The value is not of the field's type: record bad_type and skip it. Returns 0 or -1. */
static int wrong_type(struct parser *ps, enum field f, const char *expected) {
    FIELD_ERROR(ps, VG_REASON_BAD_TYPE, "field '%s': expected %s", field_names[f], expected);
    return skip_value(ps, 0);
}

/* id / from / to: a string of 1..VG_ID_MAX bytes after unescaping. Any bytes, U+0000
 * included: ids are kept with their length and compared exactly, so "A" and "A\u0000" are
 * two accounts (contract section 3), not a refused record. */
static int parse_id(struct parser *ps, enum field f, char *dst, uint8_t *dst_len) {
    if (*ps->p != '"') return wrong_type(ps, f, "a string");
    size_t len;
    if (read_string(ps, dst, VG_ID_MAX, &len, NULL) != 0) return -1;
    if (len == 0 || len > VG_ID_MAX)
        FIELD_ERROR(ps, VG_REASON_BAD_ID, "field '%s': %zu bytes, must be 1..%d", field_names[f],
                    len, VG_ID_MAX);
    else
        *dst_len = (uint8_t)len;
    return 0;
}

/* Parses a decimal-integer epoch-ms timestamp. Returns VG_OK or VG_ERR_RANGE. */
static int parse_epoch_ms(const char *text, size_t len, int64_t *out_ms) {
    bool negative = text[0] == '-';
    uint64_t value = 0;
    for (size_t i = negative; i < len; i++) {
        if (value > (uint64_t)INT64_MAX / 10) return VG_ERR_RANGE;
        value = value * 10 + (uint64_t)(text[i] - '0');
    }
    if (value > (uint64_t)INT64_MAX) return VG_ERR_RANGE;
    *out_ms = negative ? -(int64_t)value : (int64_t)value;
    return VG_OK;
}

static int parse_ts(struct parser *ps, struct vg_txn *out) {
    char snippet[40];
    if (*ps->p == '"') {
        char buf[SCALAR_MAX];
        const char *text;
        size_t len;
        if (read_text(ps, buf, sizeof buf, &text, &len) != 0) return -1;
        if (len > sizeof buf || vg_time_parse_rfc3339(text, len, &out->ts_ms) != VG_OK)
            FIELD_ERROR(ps, VG_REASON_BAD_TIMESTAMP, "field 'ts': '%s' is not an RFC 3339 date-time",
                        printable(text, VG_MIN(len, sizeof buf), snippet));
        return 0;
    }
    if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
        const char *text;
        size_t len;
        bool integer;
        if (scan_number(ps, &text, &len, &integer) != 0) return -1;
        /* Writers that hold times as floats send "1700000000000.0": an integer all the same.
         * A non-zero fraction or an exponent is refused. */
        const char *dot = integer ? NULL : memchr(text, '.', len);
        bool whole = dot && !memchr(text, 'e', len) && !memchr(text, 'E', len);
        for (const char *d = dot ? dot + 1 : NULL; whole && d < text + len; d++) whole = *d == '0';
        if (whole) len = (size_t)(dot - text);
        if (!integer && !whole)
            FIELD_ERROR(ps, VG_REASON_BAD_TIMESTAMP, "field 'ts': %s is not integer epoch milliseconds",
                        printable(text, len, snippet));
        else if (parse_epoch_ms(text, len, &out->ts_ms) != VG_OK)
            FIELD_ERROR(ps, VG_REASON_BAD_TIMESTAMP, "field 'ts': %s is out of range",
                        printable(text, len, snippet));
        return 0;
    }
    return wrong_type(ps, FIELD_TS, "an RFC 3339 string or integer epoch milliseconds");
}

static int parse_amount(struct parser *ps) {
    char buf[SCALAR_MAX], snippet[40];
    const char *text;
    size_t len;
    if (*ps->p == '"') {
        if (read_text(ps, buf, sizeof buf, &text, &len) != 0) return -1;
        if (len > sizeof buf) {
            FIELD_ERROR(ps, VG_REASON_BAD_AMOUNT, "field 'amount': %zu-byte string is not an amount", len);
            return 0;
        }
    } else if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
        bool integer;
        if (scan_number(ps, &text, &len, &integer) != 0) return -1;
    } else {
        return wrong_type(ps, FIELD_AMOUNT, "a number or a decimal string");
    }
    int rc = vg_money_parse_exact(text, len, &ps->amount);
    if (ps->sent) vg_txn_sent_set(ps->sent->amount, sizeof ps->sent->amount, &ps->sent->amount_len, text, len);
    if (rc == VG_ERR_RANGE)
        FIELD_ERROR(ps, VG_REASON_AMOUNT_OVERFLOW, "field 'amount': %s does not fit in 64-bit micro-units",
                    printable(text, len, snippet));
    else if (rc != VG_OK)
        FIELD_ERROR(ps, VG_REASON_BAD_AMOUNT,
                    "field 'amount': '%s' is not a decimal number",
                    printable(text, len, snippet));
    else if (ps->amount.micros < 0 || (ps->amount.micros == 0 && ps->amount.sub_micros == 0))
        FIELD_ERROR(ps, VG_REASON_AMOUNT_NOT_POSITIVE, "field 'amount': %s is not positive",
                    printable(text, len, snippet));
    return 0;
}

static int parse_currency(struct parser *ps) {
    if (*ps->p != '"') return wrong_type(ps, FIELD_CURRENCY, "a string");
    return read_text(ps, ps->currency_buf, sizeof ps->currency_buf, &ps->currency, &ps->currency_len);
}

/* channel: optional free text, kept lower-cased and cut to VG_CHANNEL_MAX bytes on a UTF-8
 * character boundary. */
static int parse_channel(struct parser *ps, struct vg_txn *out) {
    if (*ps->p != '"') return wrong_type(ps, FIELD_CHANNEL, "a string");
    char text[VG_CHANNEL_MAX + 4];
    size_t len;
    if (read_string(ps, text, sizeof text, &len, NULL) != 0) return -1;
    if (len > VG_CHANNEL_MAX) {
        len = VG_CHANNEL_MAX;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80) len--; /* inside a char */
    }
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        out->channel[i] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
    }
    out->channel[len] = '\0';
    out->channel_len = (uint8_t)len;
    return 0;
}

/* from_country / to_country: exactly two ASCII letters, stored upper-case. */
static int parse_country(struct parser *ps, enum field f, char dst[2]) {
    if (*ps->p != '"') return wrong_type(ps, f, "a string");
    char buf[SCALAR_MAX], snippet[40];
    const char *text;
    size_t len;
    if (read_text(ps, buf, sizeof buf, &text, &len) != 0) return -1;
    bool ok = len == 2;
    for (size_t i = 0; ok && i < 2; i++) {
        char c = text[i];
        if (c >= 'a' && c <= 'z') c = (char)(c - ('a' - 'A'));
        if (c < 'A' || c > 'Z') ok = false;
        dst[i] = c;
    }
    if (!ok) {
        dst[0] = dst[1] = '\0';
        FIELD_ERROR(ps, VG_REASON_BAD_COUNTRY, "field '%s': '%s' is not an ISO 3166 alpha-2 code",
                    field_names[f], printable(text, VG_MIN(len, sizeof buf), snippet));
    }
    return 0;
}

/* from_bank / to_bank (kept only with keep_sent): a string, cut to VG_ID_MAX bytes. */
static int parse_bank(struct parser *ps, enum field f) {
    if (*ps->p != '"') return wrong_type(ps, f, "a string");
    char buf[VG_ID_MAX + 4];
    size_t len;
    if (read_string(ps, buf, sizeof buf, &len, NULL) != 0) return -1;
    if (f == FIELD_FROM_BANK)
        vg_txn_sent_set(ps->sent->from_bank, sizeof ps->sent->from_bank, &ps->sent->from_bank_len, buf,
                        VG_MIN(len, sizeof buf));
    else
        vg_txn_sent_set(ps->sent->to_bank, sizeof ps->sent->to_bank, &ps->sent->to_bank_len, buf,
                        VG_MIN(len, sizeof buf));
    return 0;
}

/* from_name / to_name: a UTF-8 string of 1..140 characters (read_string has checked the
 * UTF-8), kept as sent; screening normalises it. */
static int parse_name(struct parser *ps, enum field f, struct vg_txn *out) {
    if (*ps->p != '"') return wrong_type(ps, f, "a string");
    vg_txn_party_begin(out);
    char *dst = f == FIELD_FROM_NAME ? out->from_name : out->to_name;
    size_t len;
    bool has_nul;
    if (read_string(ps, dst, VG_NAME_MAX, &len, &has_nul) != 0) return -1;
    size_t chars = 0; /* counted only when the bytes could exceed it */
    if (len > VG_NAME_CHARS_MAX)
        for (size_t i = 0; i < VG_MIN(len, (size_t)VG_NAME_MAX); i++) chars += ((unsigned char)dst[i] & 0xC0) != 0x80;
    if (len == 0 || len > VG_NAME_MAX || chars > VG_NAME_CHARS_MAX || has_nul) {
        FIELD_ERROR(ps, VG_REASON_BAD_NAME, "field '%s': %s", field_names[f],
                    len == 0 ? "empty" : has_nul ? "contains U+0000" : "longer than 140 characters");
        return 0;
    }
    *(f == FIELD_FROM_NAME ? &out->from_name_len : &out->to_name_len) = (uint16_t)len;
    return 0;
}

/* from_party_id / to_party_id: a string of 1..VG_ID_MAX bytes, compared exactly. */
static int parse_party_id(struct parser *ps, enum field f, struct vg_txn *out) {
    if (*ps->p != '"') return wrong_type(ps, f, "a string");
    vg_txn_party_begin(out);
    char *dst = f == FIELD_FROM_PARTY_ID ? out->from_party_id : out->to_party_id;
    size_t len;
    if (read_string(ps, dst, VG_ID_MAX, &len, NULL) != 0) return -1;
    if (len == 0 || len > VG_ID_MAX)
        FIELD_ERROR(ps, VG_REASON_BAD_PARTY_ID, "field '%s': %zu bytes, must be 1..%d", field_names[f], len,
                    VG_ID_MAX);
    else
        *(f == FIELD_FROM_PARTY_ID ? &out->from_party_id_len : &out->to_party_id_len) = (uint8_t)len;
    return 0;
}

/* from_birth_date / to_birth_date: "YYYY-MM-DD", a real calendar date, stored as YYYYMMDD. */
static int parse_birth_date(struct parser *ps, enum field f, struct vg_txn *out) {
    if (*ps->p != '"') return wrong_type(ps, f, "a YYYY-MM-DD string");
    vg_txn_party_begin(out);
    char buf[SCALAR_MAX], snippet[40];
    const char *text;
    size_t len;
    if (read_text(ps, buf, sizeof buf, &text, &len) != 0) return -1;
    bool ok = len == 10 && text[4] == '-' && text[7] == '-';
    int v[3] = {0, 0, 0};
    static const int widths[3] = {4, 2, 2}, starts[3] = {0, 5, 8};
    for (int k = 0; ok && k < 3; k++)
        for (int i = 0; ok && i < widths[k]; i++) {
            char c = text[starts[k] + i];
            ok = c >= '0' && c <= '9';
            v[k] = v[k] * 10 + (c - '0');
        }
    if (ok) {
        static const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
        ok = v[0] >= 1 && v[1] >= 1 && v[1] <= 12 && v[2] >= 1 && v[2] <= days[v[1] - 1] &&
             !(v[1] == 2 && v[2] == 29 && !leap);
    }
    if (!ok) {
        FIELD_ERROR(ps, VG_REASON_BAD_BIRTH_DATE, "field '%s': '%s' is not a YYYY-MM-DD date", field_names[f],
                    printable(text, VG_MIN(len, sizeof buf), snippet));
        return 0;
    }
    *(f == FIELD_FROM_BIRTH_DATE ? &out->from_birth_date : &out->to_birth_date) = v[0] * 10000 + v[1] * 100 + v[2];
    return 0;
}

/* Parses one member value for a known field. Returns 0 or -1 (malformed). */
static int parse_field(struct parser *ps, enum field f, struct vg_txn *out) {
    if (ps->given & (1u << f)) {
        set_error(ps->err, VG_REASON_MALFORMED, "field '%s' given twice", field_names[f]);
        return -1;
    }
    ps->given |= 1u << f;
    if (*ps->p == 'n') { /* null: same as absent */
        return expect_literal(ps, "null", 4);
    }
    ps->seen |= 1u << f;
    switch (f) {
    case FIELD_ID: return parse_id(ps, f, out->id, &out->id_len);
    case FIELD_FROM: return parse_id(ps, f, out->from, &out->from_len);
    case FIELD_TO: return parse_id(ps, f, out->to, &out->to_len);
    case FIELD_TS: return parse_ts(ps, out);
    case FIELD_AMOUNT: return parse_amount(ps);
    case FIELD_CURRENCY: return parse_currency(ps);
    case FIELD_CHANNEL: return parse_channel(ps, out);
    case FIELD_FROM_COUNTRY: return parse_country(ps, f, out->from_country);
    case FIELD_TO_COUNTRY: return parse_country(ps, f, out->to_country);
    case FIELD_FROM_BANK:
    case FIELD_TO_BANK: return parse_bank(ps, f);
    case FIELD_FROM_NAME:
    case FIELD_TO_NAME: return parse_name(ps, f, out);
    case FIELD_FROM_PARTY_ID:
    case FIELD_TO_PARTY_ID: return parse_party_id(ps, f, out);
    case FIELD_FROM_BIRTH_DATE:
    case FIELD_TO_BIRTH_DATE: return parse_birth_date(ps, f, out);
    case FIELD_UNKNOWN: break;
    }
    return skip_value(ps, 0);
}

/* Parses the top-level object's members. Returns 0 or -1 (malformed, err filled). */
static int parse_object(struct parser *ps, struct vg_txn *out) {
    skip_ws(ps);
    if (ps->p >= ps->end) return malformed(ps, "empty record");
    if (*ps->p != '{') return malformed(ps, "a record must be a JSON object");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            if (ps->p >= ps->end || *ps->p != '"') return malformed(ps, "member name expected");
            char name_buf[16];
            const char *name;
            size_t name_len;
            if (read_text(ps, name_buf, sizeof name_buf, &name, &name_len) != 0) return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') return malformed(ps, "':' expected");
            ps->p++;
            skip_ws(ps);
            if (ps->p >= ps->end) return malformed(ps, "value expected");
            enum field f = name_len <= sizeof name_buf ? field_of(name, name_len) : FIELD_UNKNOWN;
            if ((f == FIELD_FROM_BANK || f == FIELD_TO_BANK) && !ps->sent) f = FIELD_UNKNOWN;
            if (f == FIELD_UNKNOWN ? skip_value(ps, 1) != 0 : parse_field(ps, f, out) != 0) return -1;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                skip_ws(ps);
                continue;
            }
            if (ps->p < ps->end && *ps->p == '}') {
                ps->p++;
                break;
            }
            return malformed(ps, "',' or '}' expected");
        }
    }
    skip_ws(ps);
    if (ps->p != ps->end) return malformed(ps, "trailing characters after the object");
    return 0;
}

int vg_ndjson_parse(const char *rec, size_t len, const struct vg_currency_table *rates,
                    struct vg_txn *out, struct vg_parse_error *err) {
    return vg_ndjson_parse_sent(rec, len, rates, false, out, err);
}

int vg_ndjson_parse_sent(const char *rec, size_t len, const struct vg_currency_table *rates, bool keep_sent,
                         struct vg_txn *out, struct vg_parse_error *err) {
    if (len > VG_RECORD_MAX) {
        set_error(err, VG_REASON_OVERSIZED, "record of %zu bytes, at most %d", len, VG_RECORD_MAX);
        return VG_ERR_INVALID;
    }
    uint64_t seq = out->seq;
    vg_txn_clear(out); /* no stale bytes from a previous record in ids or countries */
    if (keep_sent) memset(&out->sent, 0, 4); /* its four lengths */
    out->seq = seq;
    out->keep_sent = keep_sent;

    struct parser ps; /* field by field: currency_buf needs no zeroing */
    ps.p = ps.start = rec;
    ps.end = rec + len;
    ps.err = err;
    ps.field_error = false;
    ps.seen = ps.given = 0;
    ps.amount = (struct vg_amount){0, 0};
    ps.currency = NULL;
    ps.currency_len = 0;
    ps.sent = keep_sent ? &out->sent : NULL;
    if (parse_object(&ps, out) != 0 || ps.field_error) return VG_ERR_INVALID;

    unsigned missing = REQUIRED_FIELDS & ~ps.seen;
    if (missing) {
        enum field f = (enum field)__builtin_ctz(missing);
        set_error(err, VG_REASON_MISSING_FIELD, "field '%s' is required", field_names[f]);
        return VG_ERR_INVALID;
    }

    char snippet[40];
    int64_t rate_micros;
    if (ps.currency_len > sizeof ps.currency_buf ||
        vg_currency_rate(rates, ps.currency, ps.currency_len, &rate_micros) != VG_OK) {
        set_error(err, VG_REASON_UNKNOWN_CURRENCY, "field 'currency': no rate for '%s'",
                  printable(ps.currency, VG_MIN(ps.currency_len, sizeof ps.currency_buf), snippet));
        return VG_ERR_INVALID;
    }
    if (vg_money_convert_exact(&ps.amount, rate_micros, &out->amount_micros) != VG_OK) {
        set_error(err, VG_REASON_AMOUNT_OVERFLOW,
                  "field 'amount': converted to %s it does not fit in 64-bit micro-units", rates->base);
        return VG_ERR_INVALID;
    }
    if (out->amount_micros <= 0) {
        set_error(err, VG_REASON_AMOUNT_NOT_POSITIVE,
                  "field 'amount': rounds to 0 when converted to %s", rates->base);
        return VG_ERR_INVALID;
    }
    if (ps.sent)
        vg_txn_sent_set(ps.sent->currency, sizeof ps.sent->currency, &ps.sent->currency_len, ps.currency,
                        VG_MIN(ps.currency_len, sizeof ps.currency_buf));
    err->reason = VG_REASON_NONE;
    return VG_OK;
}
