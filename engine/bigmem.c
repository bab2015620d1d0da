/* bigmem.c - huge-page-friendly allocations for the state tables (see bigmem.h). A block
 * is mapped with 2 MB of slack, trimmed so it starts on a 2 MB boundary, and the whole
 * 2 MB pages inside it are advised MADV_HUGEPAGE (the partial tail keeps 4 KB pages, so a
 * block never costs more resident memory than its touched bytes round up to). */
#include "bigmem.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define SMALL_PAGE ((size_t)4096)

static size_t round_up(size_t n, size_t to) { return (n + to - 1) & ~(to - 1); }

void *vg_big_alloc(size_t size) {
    if (size == 0) size = 1;
    size = round_up(size, SMALL_PAGE);
    if (size < HUGE_PAGE) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    size_t span = size + HUGE_PAGE;
    unsigned char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    unsigned char *p = (unsigned char *)round_up((uintptr_t)raw, HUGE_PAGE);
    if (p > raw) munmap(raw, (size_t)(p - raw));
    size_t after = (size_t)(raw + span - (p + size));
    if (after) munmap(p + size, after);
#ifdef MADV_HUGEPAGE
    size_t whole = size & ~(HUGE_PAGE - 1);
    if (whole) (void)madvise(p, whole, MADV_HUGEPAGE); /* advice only: fine if refused */
#endif
    return p;
}

void vg_big_free(void *p, size_t size) {
    if (p) munmap(p, round_up(size ? size : 1, SMALL_PAGE));
}

void *vg_big_realloc(void *p, size_t old_size, size_t new_size) {
    void *q = vg_big_alloc(new_size);
    if (!q) return NULL;
    if (p) {
        memcpy(q, p, old_size < new_size ? old_size : new_size);
        vg_big_free(p, old_size);
    }
    return q;
}
