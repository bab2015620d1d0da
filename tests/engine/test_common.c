/* test_common.c - the small inline helpers of vigil/common.h that hot paths lean on:
 * byte-exact id equality at every length and every differing position, and the short
 * copy, against memcmp / memcpy. */
#include <criterion/criterion.h>
#include <string.h>

#include "vigil/common.h"

#define MAX_LEN 80

Test(common, str_eq_matches_memcmp_at_every_length_and_position) {
    char a[MAX_LEN + 8], b[MAX_LEN + 8];
    for (size_t len = 0; len <= MAX_LEN; len++) {
        for (size_t i = 0; i < len; i++) a[i] = b[i] = (char)('a' + (i * 7) % 26);
        a[len] = 'X', b[len] = 'Y'; /* bytes past the end never count */
        cr_assert(vg_str_eq(a, len, b, len), "equal ids of length %zu", len);
        for (size_t pos = 0; pos < len; pos++) {
            b[pos] ^= 0x20;
            cr_assert_not(vg_str_eq(a, len, b, len), "length %zu, differing byte %zu", len, pos);
            b[pos] ^= 0x20;
        }
        if (len > 0) cr_assert_not(vg_str_eq(a, len, b, len - 1), "lengths differ");
    }
}

Test(common, copy_short_copies_exactly_n_bytes) {
    char src[MAX_LEN], dst[MAX_LEN + 16];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (char)i;
    for (size_t n = 0; n <= MAX_LEN; n++) {
        memset(dst, 0x55, sizeof dst);
        vg_copy_short(dst, src, n);
        cr_assert_eq(memcmp(dst, src, n), 0, "n=%zu", n);
        for (size_t i = n; i < sizeof dst; i++) cr_assert_eq(dst[i], 0x55, "n=%zu wrote byte %zu", n, i);
    }
}
