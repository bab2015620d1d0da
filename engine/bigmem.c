/* bigmem.c - huge-page-friendly allocations for the state tables (see bigmem.h). A block
 * is mapped with 2 MB of slack, trimmed so it starts on a 2 MB boundary, and, with huge
 * pages on (vg_big_use_huge_pages), the whole 2 MB pages inside it are advised
 * MADV_HUGEPAGE (the partial tail keeps 4 KB pages, so a block never costs more resident
 * memory than its touched bytes round up to). Advised blocks are listed (under a mutex:
 * allocation is rare, growth only) so that vg_big_recollapse can find them; the list is
 * bookkeeping of this allocator, not state. */
#include "bigmem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define SMALL_PAGE ((size_t)4096)

static size_t round_up(size_t n, size_t to) { return (n + to - 1) & ~(to - 1); }

/* Whether blocks are advised as huge pages (vg_big_use_huge_pages; VIGIL_HUGE_PAGES=0/1
 * in the environment overrides it). Set once at start-up, before any stage thread. */
static atomic_bool huge_pages = false;

void vg_big_use_huge_pages(bool wanted) {
    const char *v = getenv("VIGIL_HUGE_PAGES");
    if (v && (!strcmp(v, "0") || !strcmp(v, "1"))) wanted = v[0] == '1';
    atomic_store_explicit(&huge_pages, wanted, memory_order_relaxed);
}

static bool huge_pages_wanted(void) { return atomic_load_explicit(&huge_pages, memory_order_relaxed); }

struct region {
    void *p;
    size_t whole; /* bytes in whole huge pages */
};
static pthread_mutex_t regions_mu = PTHREAD_MUTEX_INITIALIZER;
static struct region *regions;
static size_t n_regions, cap_regions;

static void region_add(void *p, size_t whole) {
    pthread_mutex_lock(&regions_mu);
    if (n_regions == cap_regions) {
        size_t cap = cap_regions ? cap_regions * 2 : 64;
        struct region *r = realloc(regions, cap * sizeof *r);
        if (!r) { /* not listed: only never recollapsed */
            pthread_mutex_unlock(&regions_mu);
            return;
        }
        regions = r;
        cap_regions = cap;
    }
    regions[n_regions++] = (struct region){p, whole};
    pthread_mutex_unlock(&regions_mu);
}

static void region_remove(void *p) {
    pthread_mutex_lock(&regions_mu);
    for (size_t i = 0; i < n_regions; i++)
        if (regions[i].p == p) {
            regions[i] = regions[--n_regions];
            break;
        }
    pthread_mutex_unlock(&regions_mu);
}

size_t vg_big_recollapse(void) {
#ifdef __linux__
    enum { COLLAPSE = 25 }; /* MADV_COLLAPSE (Linux 6.1+) */
    /* A copy of the list, so allocating threads never wait for a collapse. A block freed
     * meanwhile makes madvise fail (ENOMEM) or, if the range was mapped again, collapse
     * other memory, which changes no contents. */
    pthread_mutex_lock(&regions_mu);
    size_t n = n_regions;
    struct region *copy = n ? malloc(n * sizeof *copy) : NULL;
    if (copy) memcpy(copy, regions, n * sizeof *copy);
    pthread_mutex_unlock(&regions_mu);
    size_t bytes = 0;
    for (size_t i = 0; copy && i < n; i++) /* errors (old kernel, a busy page) just skip */
        if (madvise(copy[i].p, copy[i].whole, COLLAPSE) == 0) bytes += copy[i].whole;
    free(copy);
    return bytes;
#else
    return 0;
#endif
}

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
    if (whole && huge_pages_wanted()) {
        (void)madvise(p, whole, MADV_HUGEPAGE); /* advice only: fine if refused */
        region_add(p, whole);
    }
#endif
    return p;
}

void *vg_big_grow(void *p, size_t old_size, size_t new_size) {
#if defined(__linux__) && defined(MREMAP_MAYMOVE) && defined(MREMAP_FIXED)
    old_size = round_up(old_size ? old_size : 1, SMALL_PAGE);
    new_size = round_up(new_size, SMALL_PAGE);
    if (!p || new_size <= old_size || old_size < HUGE_PAGE) return NULL;
    /* Reserve an aligned window, then move the block into it. */
    size_t span = new_size + HUGE_PAGE;
    unsigned char *raw = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    unsigned char *dst = (unsigned char *)round_up((uintptr_t)raw, HUGE_PAGE);
    void *q = mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    if (q == MAP_FAILED) {
        munmap(raw, span);
        return NULL;
    }
    if (dst > raw) munmap(raw, (size_t)(dst - raw));
    size_t after = (size_t)(raw + span - (dst + new_size));
    if (after) munmap(dst + new_size, after);
    size_t whole = new_size & ~(HUGE_PAGE - 1);
    region_remove(p);
    if (huge_pages_wanted()) {
        (void)madvise(dst, whole, MADV_HUGEPAGE);
        region_add(dst, whole);
    }
    return dst;
#else
    (void)p, (void)old_size, (void)new_size;
    return NULL;
#endif
}

void vg_big_free(void *p, size_t size) {
    if (!p) return;
    size = round_up(size ? size : 1, SMALL_PAGE);
    if (size >= HUGE_PAGE) region_remove(p);
    munmap(p, size);
}
