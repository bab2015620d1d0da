/* test_bigmem.c - the state-table allocator: zeroed, 2 MB-aligned blocks, growth that keeps
 * contents, and the huge-page policy (advised only when turned on, and the environment's
 * VIGIL_HUGE_PAGES overriding the daemon's choice), read back from /proc/self/smaps. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"

#define MB ((size_t)1 << 20)

/* Whether the mapping holding p carries MADV_HUGEPAGE ("hg" in its VmFlags). */
static bool advised_huge(const void *p) {
    FILE *f = fopen("/proc/self/smaps", "r");
    cr_assert_not_null(f);
    char line[512];
    bool inside = false, hg = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        } else if (inside && !strncmp(line, "VmFlags:", 8)) {
            hg = strstr(line, " hg") != NULL;
            break;
        }
    }
    fclose(f);
    return hg;
}

Test(bigmem, blocks_are_zeroed_and_aligned) {
    vg_big_use_huge_pages(false);
    unsigned char *p = vg_big_alloc(5 * MB);
    cr_assert_not_null(p);
    cr_assert_eq((uintptr_t)p % (2 * MB), 0, "a block of 2 MB or more starts on a 2 MB boundary");
    for (size_t i = 0; i < 5 * MB; i += 4096) cr_assert_eq(p[i], 0);
    vg_big_free(p, 5 * MB);
}

Test(bigmem, huge_pages_only_when_turned_on) {
    unsetenv("VIGIL_HUGE_PAGES");
    vg_big_use_huge_pages(false);
    void *off = vg_big_alloc(4 * MB);
    vg_big_use_huge_pages(true);
    void *on = vg_big_alloc(4 * MB);
    cr_assert_not_null(off);
    cr_assert_not_null(on);
    cr_assert_not(advised_huge(off), "huge pages off: no MADV_HUGEPAGE");
    cr_assert(advised_huge(on), "huge pages on: whole 2 MB pages advised");
    vg_big_free(off, 4 * MB);
    vg_big_free(on, 4 * MB);
}

Test(bigmem, environment_overrides_the_daemon) {
    setenv("VIGIL_HUGE_PAGES", "0", 1);
    vg_big_use_huge_pages(true);
    void *a = vg_big_alloc(4 * MB);
    setenv("VIGIL_HUGE_PAGES", "1", 1);
    vg_big_use_huge_pages(false);
    void *b = vg_big_alloc(4 * MB);
    setenv("VIGIL_HUGE_PAGES", "yes", 1); /* not 0 or 1: ignored */
    vg_big_use_huge_pages(false);
    void *c = vg_big_alloc(4 * MB);
    cr_assert_not(advised_huge(a));
    cr_assert(advised_huge(b));
    cr_assert_not(advised_huge(c));
    vg_big_free(a, 4 * MB);
    vg_big_free(b, 4 * MB);
    vg_big_free(c, 4 * MB);
    unsetenv("VIGIL_HUGE_PAGES");
}

Test(bigmem, grow_keeps_contents_and_the_policy) {
    unsetenv("VIGIL_HUGE_PAGES");
    for (int huge = 0; huge <= 1; huge++) {
        vg_big_use_huge_pages(huge);
        unsigned char *p = vg_big_alloc(2 * MB);
        cr_assert_not_null(p);
        for (size_t i = 0; i < 2 * MB; i++) p[i] = (unsigned char)(i * 31u);
        unsigned char *q = vg_big_grow(p, 2 * MB, 8 * MB);
        if (!q) { /* the kernel could not move it: the old block is untouched */
            for (size_t i = 0; i < 2 * MB; i++) cr_assert_eq(p[i], (unsigned char)(i * 31u));
            vg_big_free(p, 2 * MB);
            continue;
        }
        cr_assert_eq((uintptr_t)q % (2 * MB), 0);
        for (size_t i = 0; i < 2 * MB; i++) cr_assert_eq(q[i], (unsigned char)(i * 31u), "byte %zu", i);
        for (size_t i = 2 * MB; i < 8 * MB; i += 4096) cr_assert_eq(q[i], 0, "the new tail is zero");
        cr_assert_eq(advised_huge(q), (bool)huge);
        vg_big_free(q, 8 * MB);
    }
    vg_big_use_huge_pages(false);
}
