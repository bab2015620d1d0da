/* test_alert.c - the alert line downstream systems parse (contract section 4, engine/alert.c):
 * valid JSON (checked by a strict RFC 8259 parser in this file), every field with its type,
 * escaping of hostile ids, a deterministic alert_id, bounded evidence, metric rendering,
 * and the same properties for alerts produced by the whole engine. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "vigil/alert.h"
#include "vigil/synth.h"

/* ---- a strict JSON parser (RFC 8259 + UTF-8), test code only ---------------------------- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
    enum jtype type;
    char *s;            /* J_STR: decoded bytes; J_NUM: the literal text */
    size_t len;
    size_t n;           /* J_ARR / J_OBJ members */
    struct jv *items;
    char **keys;        /* J_OBJ */
};

struct jp {
    const char *p, *end;
    const char *error;
};

static void jv_free(struct jv *v) {
    for (size_t i = 0; i < v->n; i++) {
        jv_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->s);
    memset(v, 0, sizeof *v);
}

static void ws(struct jp *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static bool fail(struct jp *j, const char *why) {
    if (!j->error) j->error = why;
    return false;
}

static void put_utf8(char *out, size_t *o, uint32_t cp) {
    if (cp < 0x80) out[(*o)++] = (char)cp;
    else if (cp < 0x800) {
        out[(*o)++] = (char)(0xC0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xE0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (char)(0xF0 | (cp >> 18));
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static bool hex4(struct jp *j, uint32_t *out) {
    if (j->end - j->p < 4) return fail(j, "short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *j->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return fail(j, "bad hex digit");
    }
    *out = v;
    return true;
}

/* Validates one raw UTF-8 sequence at j->p and copies it. */
static bool utf8_copy(struct jp *j, char *out, size_t *o) {
    const unsigned char *s = (const unsigned char *)j->p;
    size_t avail = (size_t)(j->end - j->p), need;
    uint32_t cp, min;
    if (s[0] < 0x80) need = 1, cp = s[0], min = 0;
    else if ((s[0] & 0xE0) == 0xC0) need = 2, cp = s[0] & 0x1F, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0) need = 3, cp = s[0] & 0x0F, min = 0x800;
    else if ((s[0] & 0xF8) == 0xF0) need = 4, cp = s[0] & 0x07, min = 0x10000;
    else return fail(j, "invalid UTF-8 lead byte");
    if (avail < need) return fail(j, "truncated UTF-8");
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return fail(j, "invalid UTF-8 continuation");
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail(j, "invalid UTF-8 code point");
    memcpy(out + *o, s, need);
    *o += need;
    j->p += need;
    return true;
}

static bool parse_string(struct jp *j, char **out, size_t *out_len) {
    if (j->p >= j->end || *j->p != '"') return fail(j, "expected string");
    j->p++;
    char *buf = malloc((size_t)(j->end - j->p) * 2 + 1);
    size_t o = 0;
    for (;;) {
        if (j->p >= j->end) {
            free(buf);
            return fail(j, "unterminated string");
        }
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            break;
        }
        if (c < 0x20) {
            free(buf);
            return fail(j, "raw control byte in string");
        }
        if (c == '\\') {
            j->p++;
            if (j->p >= j->end) {
                free(buf);
                return fail(j, "dangling backslash");
            }
            char e = *j->p++;
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e && simple) {
                static const char map[] = "\"\\/\b\f\n\r\t";
                buf[o++] = map[simple - "\"\\/bfnrt"];
            } else if (e == 'u') {
                uint32_t cp;
                if (!hex4(j, &cp)) {
                    free(buf);
                    return false;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u') {
                        free(buf);
                        return fail(j, "lone high surrogate");
                    }
                    j->p += 2;
                    if (!hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                        free(buf);
                        return fail(j, "bad low surrogate");
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    free(buf);
                    return fail(j, "lone low surrogate");
                }
                put_utf8(buf, &o, cp);
            } else {
                free(buf);
                return fail(j, "bad escape");
            }
            continue;
        }
        if (!utf8_copy(j, buf, &o)) {
            free(buf);
            return false;
        }
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return true;
}

static bool parse_value(struct jp *j, struct jv *v, int depth);

static bool parse_number(struct jp *j, struct jv *v) {
    const char *start = j->p;
    if (j->p < j->end && *j->p == '-') j->p++;
    if (j->p >= j->end) return fail(j, "bad number");
    if (*j->p == '0') j->p++;
    else if (*j->p >= '1' && *j->p <= '9')
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    else return fail(j, "bad number");
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9') return fail(j, "bad fraction");
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9') return fail(j, "bad exponent");
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    v->type = J_NUM;
    v->s = strndup(start, (size_t)(j->p - start));
    v->len = (size_t)(j->p - start);
    return true;
}

static bool parse_value(struct jp *j, struct jv *v, int depth) {
    memset(v, 0, sizeof *v);
    if (depth > 64) return fail(j, "too deep");
    ws(j);
    if (j->p >= j->end) return fail(j, "unexpected end");
    char c = *j->p;
    if (c == '"') {
        v->type = J_STR;
        return parse_string(j, &v->s, &v->len);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(j, v);
    static const struct { const char *lit; enum jtype t; } lits[] = {{"null", J_NULL}, {"true", J_BOOL}, {"false", J_BOOL}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lits[i].lit);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, lits[i].lit, n) == 0) {
            j->p += n;
            v->type = lits[i].t;
            return true;
        }
    }
    if (c != '[' && c != '{') return fail(j, "unexpected character");
    bool obj = c == '{';
    v->type = obj ? J_OBJ : J_ARR;
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
        j->p++;
        return true;
    }
    for (;;) {
        v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
        memset(&v->items[v->n], 0, sizeof v->items[v->n]);
        if (obj) {
            v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys);
            v->keys[v->n] = NULL;
            ws(j);
            size_t klen;
            if (!parse_string(j, &v->keys[v->n], &klen)) {
                v->n++;
                return false;
            }
            for (size_t k = 0; k < v->n; k++)
                if (strcmp(v->keys[k], v->keys[v->n]) == 0) {
                    v->n++;
                    return fail(j, "duplicate key");
                }
            ws(j);
            if (j->p >= j->end || *j->p != ':') {
                v->n++;
                return fail(j, "expected ':'");
            }
            j->p++;
        }
        bool ok = parse_value(j, &v->items[v->n], depth + 1);
        v->n++;
        if (!ok) return false;
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
            j->p++;
            return true;
        }
        return fail(j, "expected ',' or closing bracket");
    }
}

/* Parses a whole document; on failure returns false with *error set. */
static bool json_parse(const char *text, size_t len, struct jv *out, const char **error) {
    struct jp j = {.p = text, .end = text + len};
    bool ok = parse_value(&j, out, 0);
    if (ok) {
        ws(&j);
        if (j.p != j.end) ok = fail(&j, "trailing bytes");
    }
    if (!ok) {
        *error = j.error;
        jv_free(out);
    }
    return ok;
}

static const struct jv *jget(const struct jv *obj, const char *key) {
    if (obj->type != J_OBJ) return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

static bool is_integer(const struct jv *v) {
    return v && v->type == J_NUM && !strpbrk(v->s, ".eE");
}

Test(json_validator, accepts_and_refuses) {
    /* the checker itself: a validator that accepts everything proves nothing */
    const char *good[] = {"{}", "[]", "{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\ud83d\\ude00\"]}", "\"\\/\"", "0"};
    const char *bad[] = {"{", "{\"a\":1,}", "[01]", "\"\x01\"", "\"\xff\"", "\"\\x\"", "{\"a\":1 \"b\":2}",
                         "\"\\ud800\"", "1.", "{\"a\":1,\"a\":2}", "\"\xc0\x80\"", "[1]x", "'a'"};
    for (size_t i = 0; i < VG_ARRAY_LEN(good); i++) {
        struct jv v;
        const char *err = NULL;
        cr_expect(json_parse(good[i], strlen(good[i]), &v, &err), "refused %s: %s", good[i], err);
        jv_free(&v);
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        struct jv v;
        const char *err = NULL;
        cr_expect(!json_parse(bad[i], strlen(bad[i]), &v, &err), "accepted %s", bad[i]);
    }
}

/* ---- checks of one rendered alert ---------------------------------------------------------- */

static const char *const rule_names[] = {"large_tx", "structuring", "fan_in", "fan_out", "pass_through", "cycle",
                                         "scatter_gather", "gather_scatter", "velocity", "dormant", "watchlist",
                                         "high_risk_country"};

/* Parses one alert line (with its '\n') and checks every section 4 field; returns the
 * parsed object (caller frees). */
static struct jv check_alert_line(const char *line, size_t len) {
    cr_assert_gt(len, 1);
    cr_assert_eq(line[len - 1], '\n', "an alert line ends with a newline");
    cr_assert_null(memchr(line, '\n', len - 1), "one line per alert");
    struct jv v;
    const char *err = NULL;
    cr_assert(json_parse(line, len - 1, &v, &err), "invalid JSON (%s): %.*s", err, (int)len, line);
    cr_assert_eq(v.type, J_OBJ);
    const struct jv *f;
    cr_assert((f = jget(&v, "alert_id")) && f->type == J_STR, "alert_id");
    cr_expect_eq(f->len, 32);
    cr_expect_eq(strspn(f->s, "0123456789abcdef"), 32, "alert_id is lower-case hex: %s", f->s);
    cr_assert((f = jget(&v, "rule")) && f->type == J_STR, "rule");
    bool known = false;
    for (size_t i = 0; i < VG_ARRAY_LEN(rule_names); i++) known |= strcmp(f->s, rule_names[i]) == 0;
    cr_expect(known, "unknown rule %s", f->s);
    cr_assert((f = jget(&v, "account")) && f->type == J_STR && f->len > 0, "account");
    cr_assert((f = jget(&v, "severity")) && f->type == J_STR, "severity");
    cr_expect(!strcmp(f->s, "low") || !strcmp(f->s, "medium") || !strcmp(f->s, "high"), "severity %s", f->s);
    cr_assert((f = jget(&v, "score")) && f->type == J_NUM, "score");
    double score = strtod(f->s, NULL);
    cr_expect(score >= 0 && score <= 1, "score %s", f->s);
    const struct jv *ws_ = jget(&v, "window_start"), *we = jget(&v, "window_end"), *da = jget(&v, "detected_at");
    cr_assert(is_integer(ws_) && is_integer(we) && is_integer(da), "window_start/window_end/detected_at integers");
    cr_expect_leq(strtoll(ws_->s, NULL, 10), strtoll(we->s, NULL, 10));
    const char *arrays[] = {"tx_ids", "accounts"};
    for (int a = 0; a < 2; a++) {
        cr_assert((f = jget(&v, arrays[a])) && f->type == J_ARR, "%s", arrays[a]);
        for (size_t i = 0; i < f->n; i++) cr_expect_eq(f->items[i].type, J_STR, "%s[%zu]", arrays[a], i);
    }
    cr_assert((f = jget(&v, "metrics")) && f->type == J_OBJ, "metrics");
    for (size_t i = 0; i < f->n; i++)
        cr_expect(f->items[i].type == J_NUM || f->items[i].type == J_STR, "metric %s", f->keys[i]);
    return v;
}

/* ---- building alerts by hand ---------------------------------------------------------------- */

static struct vg_txn trigger(const char *id, int64_t ts) {
    struct vg_txn t;
    memset(&t, 0, sizeof t);
    t.seq = 42;
    t.ts_ms = ts;
    t.amount_micros = 1;
    t.id_len = (uint8_t)strlen(id);
    memcpy(t.id, id, t.id_len);
    return t;
}

static struct vg_alert *alert_new(enum vg_rule_id rule, const char *account, size_t account_len,
                                  const struct vg_txn *t) {
    struct vg_alert *a = malloc(sizeof *a);
    cr_assert_not_null(a);
    vg_alert_init(a, rule, account, account_len, t);
    return a;
}

static char *render_buf(void) {
    char *b = malloc(VG_ALERT_JSON_MAX);
    cr_assert_not_null(b);
    return b;
}

Test(alert, render_has_every_field_with_its_type) {
    struct vg_txn t = trigger("t9", 1704067200000LL);
    struct vg_alert *a = alert_new(VG_RULE_FAN_IN, "HUB", 3, &t);
    a->score = 0.75;
    a->window_start_ms = 1704060000000LL;
    vg_alert_add_tx(a, "t1", 2);
    vg_alert_add_tx(a, "t9", 2);
    vg_alert_add_account(a, "S1", 2);
    vg_alert_add_account(a, "S2", 2);
    vg_alert_add_metric(a, "counterparties", VG_METRIC_COUNT, 2);
    vg_alert_add_metric(a, "total", VG_METRIC_MONEY, 5000500000LL);
    char *buf = render_buf();
    size_t n = vg_alert_render(a, VG_SEVERITY_MEDIUM, 64, 1704067212345LL, buf, VG_ALERT_JSON_MAX);
    cr_assert_gt(n, 0);
    struct jv v = check_alert_line(buf, n);
    cr_expect_str_eq(jget(&v, "rule")->s, "fan_in");
    cr_expect_str_eq(jget(&v, "account")->s, "HUB");
    cr_expect_str_eq(jget(&v, "severity")->s, "medium");
    cr_expect_eq(strtod(jget(&v, "score")->s, NULL), 0.75);
    cr_expect_str_eq(jget(&v, "window_start")->s, "1704060000000");
    cr_expect_str_eq(jget(&v, "window_end")->s, "1704067200000");
    cr_expect_str_eq(jget(&v, "detected_at")->s, "1704067212345");
    const struct jv *tx = jget(&v, "tx_ids"), *acc = jget(&v, "accounts");
    cr_assert_eq(tx->n, 2);
    cr_expect_str_eq(tx->items[0].s, "t1");
    cr_expect_str_eq(tx->items[1].s, "t9");
    cr_assert_eq(acc->n, 2);
    cr_expect_str_eq(acc->items[1].s, "S2");
    jv_free(&v);
    free(buf);
    free(a);
}

Test(alert, hostile_ids_are_escaped_and_round_trip) {
    /* quotes, backslashes, every control byte, DEL, valid multi-byte UTF-8, and invalid
     * UTF-8 (stray continuation, 0xFF, truncated, overlong, surrogate) */
    char account[VG_ID_MAX];
    size_t alen = 0;
    const char *pieces[] = {"a\"b\\c", "\x01\x1f\n\t\r\b\f", "\x7f", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                            "\x80", "\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82"};
    for (size_t i = 0; i < VG_ARRAY_LEN(pieces); i++) {
        memcpy(account + alen, pieces[i], strlen(pieces[i]));
        alen += strlen(pieces[i]);
    }
    cr_assert_leq(alen, VG_ID_MAX);
    /* what a JSON reader must get back: valid bytes as they are, each invalid byte as the
     * code point of the same value (\u00XX) */
    char expect[256];
    size_t elen = 0;
    for (size_t i = 0; i < 4; i++) {
        memcpy(expect + elen, pieces[i], strlen(pieces[i]));
        elen += strlen(pieces[i]);
    }
    const unsigned char invalid[] = {0x80, 0xff, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xe2, 0x82};
    for (size_t i = 0; i < sizeof invalid; i++) put_utf8(expect, &elen, invalid[i]);

    struct vg_txn t = trigger("tx\"\\\x02", 1704067200000LL);
    struct vg_alert *a = alert_new(VG_RULE_WATCHLIST, account, alen, &t);
    vg_alert_add_tx(a, t.id, t.id_len);
    vg_alert_add_account(a, "\"\\", 2);
    char *buf = render_buf();
    size_t n = vg_alert_render(a, VG_SEVERITY_HIGH, 64, 0, buf, VG_ALERT_JSON_MAX);
    cr_assert_gt(n, 0);
    struct jv v = check_alert_line(buf, n);
    const struct jv *acc = jget(&v, "account");
    cr_expect_eq(acc->len, elen);
    cr_expect(acc->len == elen && memcmp(acc->s, expect, elen) == 0, "account did not round-trip");
    const struct jv *tx = jget(&v, "tx_ids");
    cr_assert_eq(tx->n, 1);
    cr_expect(tx->items[0].len == 5 && memcmp(tx->items[0].s, "tx\"\\\x02", 5) == 0);
    cr_expect_str_eq(jget(&v, "accounts")->items[0].s, "\"\\");
    jv_free(&v);
    free(buf);
    free(a);
}

Test(alert, json_escape_exact_output_and_capacity) {
    char buf[64];
    size_t n = vg_json_escape("a\"b\\c\n\x01", 7, buf, sizeof buf);
    cr_assert_eq(n, strlen("\"a\\\"b\\\\c\\n\\u0001\""));
    cr_expect_eq(memcmp(buf, "\"a\\\"b\\\\c\\n\\u0001\"", n), 0, "%.*s", (int)n, buf);
    n = vg_json_escape("", 0, buf, sizeof buf);
    cr_expect(n == 2 && memcmp(buf, "\"\"", 2) == 0);
    cr_expect_eq(vg_json_escape("abc", 3, buf, 1), 0, "too small: refused, not truncated");
    cr_expect_eq(vg_json_escape("\x01\x01\x01\x01", 4, buf, 10), 0);
}

Test(alert, alert_id_is_deterministic_and_distinguishes_inputs) {
    struct vg_txn t = trigger("t1", 1000);
    char base[33], id[33];
    struct vg_alert *a = alert_new(VG_RULE_LARGE_TX, "A", 1, &t);
    vg_alert_id(a, base);
    cr_expect_eq(strlen(base), 32);
    /* evidence, score, severity and detected_at do not change it */
    vg_alert_add_tx(a, "zz", 2);
    a->score = 0.9;
    vg_alert_id(a, id);
    cr_expect_str_eq(id, base);
    char *b1 = render_buf(), *b2 = render_buf();
    size_t n1 = vg_alert_render(a, VG_SEVERITY_LOW, 64, 1, b1, VG_ALERT_JSON_MAX);
    size_t n2 = vg_alert_render(a, VG_SEVERITY_HIGH, 64, 999999, b2, VG_ALERT_JSON_MAX);
    cr_assert(n1 && n2);
    cr_expect_eq(memcmp(b1, b2, 50), 0, "same alert_id prefix in both renders");
    free(b1);
    free(b2);
    free(a);
    /* rule, account, trigger tx and window_end each change it */
    struct vg_txn t2 = trigger("t2", 1000), t3 = trigger("t1", 1001);
    struct vg_alert *variants[] = {alert_new(VG_RULE_DORMANT, "A", 1, &t), alert_new(VG_RULE_LARGE_TX, "B", 1, &t),
                                   alert_new(VG_RULE_LARGE_TX, "A", 1, &t2), alert_new(VG_RULE_LARGE_TX, "A", 1, &t3)};
    char ids[4][33];
    for (int i = 0; i < 4; i++) {
        vg_alert_id(variants[i], ids[i]);
        cr_expect_str_neq(ids[i], base, "variant %d", i);
        for (int k = 0; k < i; k++) cr_expect_str_neq(ids[i], ids[k]);
        free(variants[i]);
    }
    /* field boundaries are kept: ("ab", "c") and ("a", "bc") differ */
    struct vg_txn tc = trigger("c", 1000), tbc = trigger("bc", 1000);
    struct vg_alert *x = alert_new(VG_RULE_LARGE_TX, "ab", 2, &tc), *y = alert_new(VG_RULE_LARGE_TX, "a", 1, &tbc);
    vg_alert_id(x, ids[0]);
    vg_alert_id(y, ids[1]);
    cr_expect_str_neq(ids[0], ids[1]);
    free(x);
    free(y);
    /* ... also when the ids hold U+0000: ("a\0b", "c") and ("a", "b\0c") differ */
    struct vg_txn tn = trigger("b", 1000);
    memcpy(tn.id, "b\0c", 3);
    tn.id_len = 3;
    x = alert_new(VG_RULE_LARGE_TX, "a\0b", 3, &tc);
    y = alert_new(VG_RULE_LARGE_TX, "a", 1, &tn);
    vg_alert_id(x, ids[0]);
    vg_alert_id(y, ids[1]);
    cr_expect_str_neq(ids[0], ids[1]);
    free(x);
    free(y);
}

Test(alert, evidence_is_bounded_and_deduplicated) {
    struct vg_txn t = trigger("t0", 1000);
    struct vg_alert *a = alert_new(VG_RULE_FAN_OUT, "ME", 2, &t);
    static char ids[2000][16];
    for (int i = 0; i < 2000; i++) {
        int len = snprintf(ids[i], sizeof ids[i], "id%d", i);
        vg_alert_add_tx(a, ids[i], (size_t)len);
        vg_alert_add_tx(a, ids[i], (size_t)len); /* duplicate: ignored */
        vg_alert_add_account(a, ids[i], (size_t)len);
    }
    vg_alert_add_account(a, "ME", 2); /* the alert's own account is not "other accounts" */
    cr_expect_eq(a->n_tx_ids, VG_EVIDENCE_MAX);
    cr_expect_eq(a->n_accounts, VG_EVIDENCE_MAX);
    char *buf = render_buf();
    const uint32_t limits[] = {0, 1, 64, VG_EVIDENCE_MAX};
    for (size_t l = 0; l < VG_ARRAY_LEN(limits); l++) {
        size_t n = vg_alert_render(a, VG_SEVERITY_LOW, limits[l], 0, buf, VG_ALERT_JSON_MAX);
        cr_assert_gt(n, 0, "max_evidence %u", limits[l]);
        struct jv v = check_alert_line(buf, n);
        const struct jv *tx = jget(&v, "tx_ids"), *acc = jget(&v, "accounts");
        cr_expect_eq(tx->n, limits[l]);
        cr_expect_eq(acc->n, limits[l]);
        for (size_t i = 0; i < acc->n; i++) cr_expect_str_neq(acc->items[i].s, "ME");
        if (tx->n) cr_expect_str_eq(tx->items[0].s, "id0", "the first evidence is kept");
        jv_free(&v);
    }
    /* the worst case fits VG_ALERT_JSON_MAX: 1024 x 2 ids of 64 bytes that all need \u escapes */
    char worst[VG_ID_MAX];
    memset(worst, 0x01, sizeof worst);
    struct vg_alert *w = alert_new(VG_RULE_FAN_OUT, worst, VG_ID_MAX, &t);
    static char wid[VG_EVIDENCE_MAX][VG_ID_MAX];
    for (int i = 0; i < VG_EVIDENCE_MAX; i++) {
        memset(wid[i], 0x02, VG_ID_MAX);
        snprintf(wid[i], 8, "%07d", i);
        wid[i][7] = 0x02;
        vg_alert_add_tx(w, wid[i], VG_ID_MAX);
        vg_alert_add_account(w, wid[i], VG_ID_MAX);
    }
    for (int m = 0; m < VG_ALERT_METRICS_MAX; m++) vg_alert_add_metric(w, "total", VG_METRIC_MONEY, INT64_MIN + 1);
    size_t n = vg_alert_render(w, VG_SEVERITY_HIGH, VG_EVIDENCE_MAX, INT64_MIN, buf, VG_ALERT_JSON_MAX);
    cr_expect_gt(n, 0, "the largest possible alert renders");
    free(w);
    free(buf);
    free(a);
}

Test(alert, long_evidence_lists_drop_every_duplicate_and_keep_order) {
    struct vg_txn t = trigger("t0", 1000);
    struct vg_alert *a = alert_new(VG_RULE_FAN_IN, "ME", 2, &t);
    static char ids[300][16];
    int lens[300];
    for (int i = 0; i < 300; i++) lens[i] = snprintf(ids[i], sizeof ids[i], "s%d", i);
    /* three passes: duplicates arrive both below and above the scan/index switch */
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < 300; i++) {
            int k = pass == 1 ? 299 - i : i;
            vg_alert_add_tx(a, ids[k], (size_t)lens[k]);
            vg_alert_add_account(a, ids[k], (size_t)lens[k]);
        }
    cr_assert_eq(a->n_tx_ids, 300);
    cr_assert_eq(a->n_accounts, 300);
    for (int i = 0; i < 300; i++) {
        cr_expect(vg_str_eq(a->tx_ids[i].ptr, a->tx_ids[i].len, ids[i], (size_t)lens[i]), "order at %d", i);
        cr_expect(vg_str_eq(a->accounts[i].ptr, a->accounts[i].len, ids[i], (size_t)lens[i]), "order at %d", i);
    }
    /* the same struct reused for the next alert starts empty, index included */
    vg_alert_init(a, VG_RULE_FAN_IN, "ME", 2, &t);
    for (int i = 0; i < 40; i++) vg_alert_add_account(a, ids[i % 20], (size_t)lens[i % 20]);
    vg_alert_add_account(a, ids[250], (size_t)lens[250]);
    cr_expect_eq(a->n_accounts, 21);
    free(a);
}

Test(alert, metrics_money_is_a_decimal_string_ratio_a_number) {
    struct vg_txn t = trigger("t1", 1000);
    struct vg_alert *a = alert_new(VG_RULE_PASS_THROUGH, "A", 1, &t);
    vg_alert_add_metric(a, "in_amount", VG_METRIC_MONEY, 123450000LL);
    vg_alert_add_metric(a, "tiny", VG_METRIC_MONEY, 1);
    vg_alert_add_metric(a, "whole", VG_METRIC_MONEY, 10000000000LL);
    vg_alert_add_metric(a, "big", VG_METRIC_MONEY, INT64_MAX);
    vg_alert_add_metric(a, "ratio", VG_METRIC_RATIO, 812345);
    vg_alert_add_metric(a, "ratio_one", VG_METRIC_RATIO, 1000000);
    vg_alert_add_metric(a, "ratio_big", VG_METRIC_RATIO, 12500000);
    vg_alert_add_metric(a, "ratio_zero", VG_METRIC_RATIO, 0);
    vg_alert_add_metric(a, "count", VG_METRIC_COUNT, 12);
    vg_alert_add_metric(a, "gap", VG_METRIC_DURATION, 3600000);
    char *buf = render_buf();
    size_t n = vg_alert_render(a, VG_SEVERITY_LOW, 64, 0, buf, VG_ALERT_JSON_MAX);
    cr_assert_gt(n, 0);
    struct jv v = check_alert_line(buf, n);
    const struct jv *m = jget(&v, "metrics");
    static const struct { const char *key; enum jtype type; const char *text; } want[] = {
        {"in_amount", J_STR, "123.45"}, {"tiny", J_STR, "0.000001"}, {"whole", J_STR, "10000"},
        {"big", J_STR, "9223372036854.775807"}, {"ratio", J_NUM, "0.812345"}, {"ratio_one", J_NUM, "1"},
        {"ratio_big", J_NUM, "12.5"}, {"ratio_zero", J_NUM, "0"}, {"count", J_NUM, "12"}, {"gap", J_NUM, "3600000"},
    };
    cr_assert_eq(m->n, VG_ARRAY_LEN(want));
    for (size_t i = 0; i < VG_ARRAY_LEN(want); i++) {
        const struct jv *f = jget(m, want[i].key);
        cr_assert_not_null(f, "metric %s missing", want[i].key);
        cr_expect_eq(f->type, want[i].type, "metric %s type", want[i].key);
        cr_expect_str_eq(f->s, want[i].text, "metric %s", want[i].key);
    }
    jv_free(&v);
    free(buf);
    free(a);
}

Test(alert, score_is_clamped_and_small_buffers_refused) {
    struct vg_txn t = trigger("t1", 1000);
    struct vg_alert *a = alert_new(VG_RULE_LARGE_TX, "A", 1, &t);
    char *buf = render_buf();
    const double scores[] = {NAN, -0.5, 1.5, INFINITY, 0.12345};
    const char *texts[] = {"0", "0", "1", "1", "0.1235"};
    for (size_t i = 0; i < VG_ARRAY_LEN(scores); i++) {
        a->score = scores[i];
        size_t n = vg_alert_render(a, VG_SEVERITY_LOW, 64, 0, buf, VG_ALERT_JSON_MAX);
        cr_assert_gt(n, 0);
        struct jv v = check_alert_line(buf, n);
        cr_expect_eq(strtod(jget(&v, "score")->s, NULL), strtod(texts[i], NULL), "score %g -> %s", scores[i],
                     jget(&v, "score")->s);
        jv_free(&v);
    }
    size_t full = vg_alert_render(a, VG_SEVERITY_LOW, 64, 0, buf, VG_ALERT_JSON_MAX);
    char *exact = malloc(full);
    cr_expect_eq(vg_alert_render(a, VG_SEVERITY_LOW, 64, 0, exact, full), full, "an exact-size buffer suffices");
    cr_expect_eq(vg_alert_render(a, VG_SEVERITY_LOW, 64, 0, exact, full - 1), 0, "one byte short: refused");
    cr_expect_eq(vg_alert_render(a, VG_SEVERITY_LOW, 64, 0, exact, 10), 0);
    free(exact);
    free(buf);
    free(a);
}

/* ---- alerts the engine produces --------------------------------------------------------------- */

Test(alert, engine_alerts_with_hostile_ids_are_valid_json) {
    /* ids arrive JSON-escaped in NDJSON; the alert must carry the same bytes back */
    const char *input =
        "{\"id\":\"t\\\"1\\\\\",\"ts\":1704067200000,\"from\":\"A\\\"\\u0001\\\\x\",\"to\":\"B\\u00e9\\t\",\"amount\":20000,\"currency\":\"USD\"}\n";
    struct vg_test_alerts out;
    cr_assert_eq(vg_test_replay(NULL, input, 1, &out), 0);
    cr_assert_eq(out.count, 1);
    char line[4096];
    size_t len = (size_t)snprintf(line, sizeof line, "%s\n", out.lines[0]);
    struct jv v = check_alert_line(line, len);
    cr_expect_str_eq(jget(&v, "rule")->s, "large_tx");
    cr_expect(jget(&v, "account")->len == 5 && memcmp(jget(&v, "account")->s, "A\"\x01\\x", 5) == 0);
    cr_expect_str_eq(jget(&v, "tx_ids")->items[0].s, "t\"1\\");
    cr_expect_str_eq(jget(&v, "accounts")->items[0].s, "B\xc3\xa9\t");
    cr_expect_str_eq(jget(jget(&v, "metrics"), "amount")->s, "20000");
    jv_free(&v);
    vg_test_alerts_free(&out);
}

Test(alert, engine_respects_max_evidence) {
    /* fan_out to 30 receivers with alerts.max_evidence 5 */
    char *doc = malloc(30 * 200);
    size_t len = 0;
    for (int i = 0; i < 30; i++)
        len += (size_t)sprintf(doc + len, "{\"id\":\"t%d\",\"ts\":%lld,\"from\":\"HUB\",\"to\":\"R%d\",\"amount\":700,\"currency\":\"USD\"}\n",
                               i, 1704067200000LL + i * 60000LL, i);
    struct vg_test_alerts out;
    cr_assert_eq(vg_test_replay("alerts:\n  max_evidence: 5\n", doc, 1, &out), 0);
    cr_assert_geq(vg_test_count(&out, "fan_out", "HUB"), 1);
    for (size_t i = 0; i < out.count; i++) {
        char line[8192];
        size_t n = (size_t)snprintf(line, sizeof line, "%s\n", out.lines[i]);
        struct jv v = check_alert_line(line, n);
        cr_expect_leq(jget(&v, "tx_ids")->n, 5, "%s", out.lines[i]);
        cr_expect_leq(jget(&v, "accounts")->n, 5, "%s", out.lines[i]);
        jv_free(&v);
    }
    vg_test_alerts_free(&out);
    free(doc);
}

Test(alert, every_alert_of_a_generated_stream_is_valid, .timeout = 300) {
    struct vg_synth_options opt;
    vg_synth_options_default(&opt);
    opt.seed = 3;
    opt.transactions = 20000;
    opt.accounts = 2000;
    char err[256];
    vg_synth_t *s = vg_synth_create(&opt, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    size_t cap = (size_t)(vg_synth_total(s) + 16) * VG_SYNTH_LINE_MAX, len = 0;
    char *doc = malloc(cap);
    struct vg_synth_txn t;
    while (vg_synth_next(s, &t)) len += vg_synth_format_ndjson(&t, doc + len, cap - len);
    doc[len] = '\0';
    vg_synth_destroy(s);
    struct vg_test_alerts out;
    cr_assert_eq(vg_test_replay(NULL, doc, 2, &out), 0);
    cr_assert_gt(out.count, 10);
    bool seen[VG_ARRAY_LEN(rule_names)] = {0};
    for (size_t i = 0; i < out.count; i++) {
        size_t n = strlen(out.lines[i]);
        char *line = malloc(n + 2);
        memcpy(line, out.lines[i], n);
        line[n] = '\n';
        struct jv v = check_alert_line(line, n + 1);
        for (size_t r = 0; r < VG_ARRAY_LEN(rule_names); r++) seen[r] |= strcmp(jget(&v, "rule")->s, rule_names[r]) == 0;
        cr_expect_leq(jget(&v, "tx_ids")->n, 64);
        jv_free(&v);
        free(line);
    }
    size_t rules_seen = 0;
    for (size_t r = 0; r < VG_ARRAY_LEN(rule_names); r++) rules_seen += seen[r];
    cr_expect_geq(rules_seen, 8, "alerts of most rules were checked (%zu)", rules_seen);
    vg_test_alerts_free(&out);
    free(doc);
}

/* ---- alerts.evidence (contract section 4) ---------------------------------------------------- */

#include "vigil/evidence.h"

/* Two deposits and a transfer for large_tx and fan_in-free checks; amounts as sent differ
 * from the base amounts (EUR at the default rate). */
static const char *evidence_input =
    "{\"id\":\"e1\",\"ts\":1704067200000,\"from\":\"A\",\"to\":\"B\",\"amount\":\"15000.50\",\"currency\":\"EUR\","
    "\"channel\":\"Wire\",\"from_country\":\"de\",\"to_country\":\"KZ\",\"from_bank\":\"Bank <&> \\\"1\\\"\","
    "\"to_bank\":\"Банк\",\"from_name\":\"Иван \\\"Ваня\\\" Петров\"}\n"
    "{\"id\":\"e2\",\"ts\":1704067260000,\"from\":\"D\",\"to\":\"C\",\"amount\":25000,\"currency\":\"USD\"}\n";

Test(alert, evidence_ids_is_the_default_and_adds_nothing) {
    struct vg_test_alerts ids, dflt;
    cr_assert_eq(vg_test_replay("alerts:\n  evidence: ids\n", evidence_input, 1, &ids), 0);
    cr_assert_eq(vg_test_replay(NULL, evidence_input, 1, &dflt), 0);
    cr_assert_eq(ids.count, 2);
    cr_assert_eq(dflt.count, ids.count);
    for (size_t i = 0; i < ids.count; i++) {
        cr_expect_null(strstr(ids.lines[i], "\"evidence\""), "%s", ids.lines[i]);
        /* byte for byte the same line but for the wall-clock detected_at */
        const char *a = strstr(ids.lines[i], ",\"tx_ids\""), *b = strstr(dflt.lines[i], ",\"tx_ids\"");
        cr_assert(a && b);
        cr_expect_str_eq(a, b);
        cr_expect_eq(strncmp(ids.lines[i], dflt.lines[i], (size_t)(strstr(ids.lines[i], "\"detected_at\"") - ids.lines[i])), 0);
    }
    vg_test_alerts_free(&ids);
    vg_test_alerts_free(&dflt);
}

Test(alert, evidence_full_carries_the_transactions_as_sent_in_tx_ids_order) {
    struct vg_test_alerts out;
    cr_assert_eq(vg_test_replay("alerts:\n  evidence: full\n", evidence_input, 2, &out), 0);
    cr_assert_eq(vg_test_count(&out, "large_tx", NULL), 2);
    for (size_t i = 0; i < out.count; i++) {
        char line[8192];
        size_t n = (size_t)snprintf(line, sizeof line, "%s\n", out.lines[i]);
        struct jv v = check_alert_line(line, n);
        const struct jv *tx = jget(&v, "tx_ids"), *ev = jget(&v, "evidence");
        cr_assert(ev && ev->type == J_ARR, "%s", out.lines[i]);
        cr_assert_eq(ev->n, tx->n);
        for (size_t k = 0; k < ev->n; k++) {
            const struct jv *e = &ev->items[k];
            cr_assert_eq(e->type, J_OBJ);
            cr_expect_str_eq(jget(e, "id")->s, tx->items[k].s);
            cr_expect(is_integer(jget(e, "ts")));
            cr_expect_eq(jget(e, "from")->type, J_STR);
            cr_expect_eq(jget(e, "to")->type, J_STR);
            cr_expect_eq(jget(e, "amount_base")->type, J_STR);
        }
        const struct jv *e = &ev->items[0];
        if (!strcmp(tx->items[0].s, "e1")) {
            cr_expect_str_eq(jget(e, "ts")->s, "1704067200000");
            cr_expect_str_eq(jget(e, "from")->s, "A");
            cr_expect_str_eq(jget(e, "to")->s, "B");
            cr_expect_str_eq(jget(e, "amount")->s, "15000.50");
            cr_expect_str_eq(jget(e, "currency")->s, "EUR");
            cr_expect_str_neq(jget(e, "amount_base")->s, "15000.5"); /* converted at the EUR rate */
            cr_expect_str_eq(jget(e, "base_currency")->s, "USD");
            cr_expect_str_eq(jget(e, "channel")->s, "wire");
            cr_expect_str_eq(jget(e, "from_country")->s, "DE");
            cr_expect_str_eq(jget(e, "to_country")->s, "KZ");
            cr_expect_str_eq(jget(e, "from_bank")->s, "Bank <&> \"1\"");
            cr_expect_str_eq(jget(e, "to_bank")->s, "Банк");
            cr_expect_str_eq(jget(e, "from_name")->s, "Иван \"Ваня\" Петров");
            cr_expect_null(jget(e, "to_name"), "a name not sent is left out");
        } else {
            cr_expect_str_eq(jget(e, "id")->s, "e2");
            cr_expect_str_eq(jget(e, "amount")->s, "25000");
            cr_expect_str_eq(jget(e, "amount_base")->s, "25000");
            cr_expect_null(jget(e, "channel"), "absent fields are left out");
            cr_expect_null(jget(e, "from_bank"));
            cr_expect_null(jget(e, "to_country"));
        }
        jv_free(&v);
    }
    vg_test_alerts_free(&out);
}

Test(alert, evidence_full_render_unknown_ids_keep_their_place) {
    struct vg_evidence_store *store;
    cr_assert_eq(vg_evidence_store_create(&store, 60000), VG_OK);
    cr_assert_eq(vg_evidence_store_put(store, "t1", 2, 1, 0, 0, 1000, 1000, "{\"id\":\"t1\",\"x\":1}", 17), VG_OK);
    struct vg_txn t = trigger("t9", 1704067200000LL);
    struct vg_alert *a = alert_new(VG_RULE_FAN_IN, "HUB", 3, &t);
    vg_alert_add_tx(a, "t9", 2);
    vg_alert_add_tx(a, "t1", 2);
    char *buf = malloc(VG_ALERT_FULL_JSON_MAX);
    size_t n = vg_alert_render_evidence(a, VG_SEVERITY_LOW, 64, 1, store, buf, VG_ALERT_FULL_JSON_MAX);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    cr_expect(strstr(buf, ",\"evidence\":[{\"id\":\"t9\"},{\"id\":\"t1\",\"x\":1}]}\n") != NULL, "%s", buf);
    free(buf);
    free(a);
    vg_evidence_store_destroy(store);
}

Test(alert, evidence_store_expires_replaces_and_grows) {
    struct vg_evidence_store *s;
    cr_assert_eq(vg_evidence_store_create(&s, 1000), VG_OK);
    char id[16], json[64];
    for (int i = 0; i < 20000; i++) { /* past the initial index and log sizes */
        int n = snprintf(id, sizeof id, "id%d", i);
        int m = snprintf(json, sizeof json, "{\"id\":\"id%d\"}", i);
        cr_assert_eq(vg_evidence_store_put(s, id, (size_t)n, (uint64_t)i, 0, 0, i, 0, json, (size_t)m), VG_OK);
    }
    struct vg_str j;
    cr_assert(vg_evidence_store_find(s, "id0", 3, &j));
    cr_assert(vg_evidence_store_find(s, "id19999", 7, &j));
    cr_expect_eq(j.len, strlen("{\"id\":\"id19999\"}"));
    cr_expect_eq(memcmp(j.ptr, "{\"id\":\"id19999\"}", j.len), 0);
    /* the same (id, seq) again is kept once; a new seq with the same id replaces it */
    cr_assert_eq(vg_evidence_store_put(s, "id5", 3, 5, 0, 0, 20000, 0, "dup", 3), VG_OK);
    cr_assert(vg_evidence_store_find(s, "id5", 3, &j));
    cr_expect_eq(memcmp(j.ptr, "{\"id\":\"id5\"}", j.len), 0);
    cr_assert_eq(vg_evidence_store_put(s, "id5", 3, 77777, 0, 0, 20000, 0, "newer", 5), VG_OK);
    cr_assert(vg_evidence_store_find(s, "id5", 3, &j));
    cr_expect_eq(j.len, 5);
    /* a watermark of 19500 keeps what arrived at newest >= 18500 */
    cr_assert_eq(vg_evidence_store_put(s, "x", 1, 99999, 0, 0, 20000, 19500, "{}", 2), VG_OK);
    cr_expect(!vg_evidence_store_find(s, "id100", 5, &j));
    cr_expect(!vg_evidence_store_find(s, "id18499", 7, &j));
    cr_expect(vg_evidence_store_find(s, "id18500", 7, &j));
    cr_expect(vg_evidence_store_find(s, "id5", 3, &j), "the replacement arrived late enough to stay");
    uint64_t records, bytes;
    vg_evidence_store_usage(s, &records, &bytes);
    cr_expect_eq(records, 1500 + 1 + 1);
    for (int i = 18500; i < 20000; i++) {
        int n = snprintf(id, sizeof id, "id%d", i);
        cr_expect(vg_evidence_store_find(s, id, (size_t)n, &j), "%s lost after deletions", id);
    }
    vg_evidence_store_destroy(s);
}

Test(alert, evidence_of_hostile_ids_stays_within_bounds_and_valid) {
    struct vg_txn t;
    memset(&t, 0, sizeof t);
    t.id_len = t.from_len = t.to_len = VG_ID_MAX; /* 64 control bytes each: 384 escaped */
    memset(t.id, 1, VG_ID_MAX);
    memset(t.from, 2, VG_ID_MAX);
    memset(t.to, 3, VG_ID_MAX);
    t.amount_micros = 1;
    t.keep_sent = true;
    t.sent.amount_len = VG_SENT_AMOUNT_MAX;
    memset(t.sent.amount, 4, VG_SENT_AMOUNT_MAX);
    t.sent.currency_len = VG_SENT_CURRENCY_MAX;
    memset(t.sent.currency, 5, VG_SENT_CURRENCY_MAX);
    t.sent.from_bank_len = t.sent.to_bank_len = VG_ID_MAX;
    memset(t.sent.from_bank, 6, VG_ID_MAX);
    memset(t.sent.to_bank, 7, VG_ID_MAX);
    char buf[VG_EVIDENCE_JSON_MAX];
    size_t n = vg_evidence_render(&t, "USD", buf, sizeof buf);
    cr_assert_gt(n, 0);
    struct jv v;
    const char *err = NULL;
    cr_assert(json_parse(buf, n, &v, &err), "invalid JSON (%s): %.*s", err, (int)n, buf);
    cr_expect_eq(jget(&v, "id")->len, VG_ID_MAX);
    jv_free(&v);
}
