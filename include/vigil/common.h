/* common.h - shared limits, error codes and small helpers used by every vigil module.
 *
 * Nothing here allocates or has state; it is the vocabulary the other headers speak. */
#ifndef VIGIL_COMMON_H
#define VIGIL_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define VG_VERSION "0.1.0"

/* Account and transaction ids are 1..64 bytes (contract section 3). */
#define VG_ID_MAX 64
/* Channel names longer than this are kept truncated (they are free text, not identity). */
#define VG_CHANNEL_MAX 23
/* Party names (from_name/to_name) are up to 140 characters of UTF-8 (ISO 20022 Nm). */
#define VG_NAME_CHARS_MAX 140
#define VG_NAME_MAX (VG_NAME_CHARS_MAX * 4)
#define VG_CACHE_LINE 64

/* "No timestamp": older than any real event time. */
#define VG_TS_NONE INT64_MIN

#define VG_MICROS_PER_UNIT 1000000LL
#define VG_MS_PER_SECOND 1000LL
#define VG_MS_PER_DAY (86400LL * 1000LL)

/* Error codes: 0 is success, negatives are failures. Details go to a caller-owned
 * errstr buffer (librdkafka style). */
enum vg_err {
    VG_OK = 0,
    VG_ERR_INVALID = -1,   /* malformed value or input */
    VG_ERR_RANGE = -2,     /* value out of the allowed range / overflow */
    VG_ERR_NOMEM = -3,
    VG_ERR_IO = -4,
    VG_ERR_NOTFOUND = -5,
    VG_ERR_FULL = -6,      /* ring/buffer full: retry later, never drop */
};

#define VG_LIKELY(x) __builtin_expect(!!(x), 1)
#define VG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define VG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VG_MAX(a, b) ((a) > (b) ? (a) : (b))

/* A borrowed byte string (not NUL-terminated). */
struct vg_str {
    const char *ptr;
    size_t len;
};

/* Byte-exact equality. Inline word compares rather than a memcmp call: the hot callers
 * compare account ids, which are short (AMLworld's are 9-10 bytes). */
static inline bool vg_str_eq(const char *a, size_t alen, const char *b, size_t blen) {
    if (alen != blen) return false;
    if (alen >= 8) { /* whole words, the last one overlapping its predecessor: no byte tail */
        uint64_t x, y;
        size_t i = 0;
        for (; i + 8 < alen; i += 8) {
            __builtin_memcpy(&x, a + i, 8);
            __builtin_memcpy(&y, b + i, 8);
            if (x != y) return false;
        }
        __builtin_memcpy(&x, a + alen - 8, 8);
        __builtin_memcpy(&y, b + alen - 8, 8);
        return x == y;
    }
    if (alen >= 4) { /* two overlapping 4-byte words */
        uint32_t x0, y0, x1, y1;
        __builtin_memcpy(&x0, a, 4);
        __builtin_memcpy(&y0, b, 4);
        __builtin_memcpy(&x1, a + alen - 4, 4);
        __builtin_memcpy(&y1, b + alen - 4, 4);
        return x0 == y0 && x1 == y1;
    }
    for (size_t i = 0; i < alen; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* memcpy for short strings (ids): overlapping 16/8/4-byte moves instead of the inline
 * `rep movs` the compiler emits for a variable length, whose start-up cost dominates a
 * copy of a dozen bytes. Copies exactly n bytes. */
static inline void vg_copy_short(char *dst, const char *src, size_t n) {
    if (n >= 16) {
        for (size_t i = 0; i + 16 < n; i += 16) __builtin_memcpy(dst + i, src + i, 16);
        __builtin_memcpy(dst + n - 16, src + n - 16, 16);
    } else if (n >= 8) {
        __builtin_memcpy(dst, src, 8);
        __builtin_memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        __builtin_memcpy(dst, src, 4);
        __builtin_memcpy(dst + n - 4, src + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++) dst[i] = src[i];
    }
}

/* Length of a valid UTF-8 sequence starting at s (1..4), or 0 when invalid (overlong,
 * surrogate, beyond U+10FFFF, truncated); *cp receives the code point. */
static inline size_t vg_utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp) {
    unsigned char c = s[0];
    size_t need;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) { need = 2; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { need = 3; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { need = 4; min = 0x10000; }
    else return 0;
    if (avail < need) return 0;
    uint32_t v = c & (0x7F >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return need;
}

#endif
