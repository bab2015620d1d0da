/* bigmem.h - memory for the large, randomly probed state tables (account chunks, the
 * account index, the event log, the event-ring slabs, the graph's arrays, cooldown tables,
 * stage rings): page-aligned (2 MB-aligned from 2 MB up) anonymous mappings. Memory comes
 * back zeroed.
 *
 * Huge pages (whole 2 MB pages advised MADV_HUGEPAGE) save a page-table walk on nearly
 * every random probe and keep fork(2) cheap (checkpoints fork: few page-table entries to
 * copy). Their first touch cost depends on the host: on the bench VM with free page
 * reporting (virtio-balloon) it was once about four times that of 4 KB pages per byte
 * (0.42 against 1.9 GB/s, 2026-12-02), on 2026-12-08 it was lower (0.45-0.57 against
 * 0.32 GB/s) and a 5 M-record replay took 13 % less CPU with them (docs/PERFORMANCE.md).
 * So vigild turns them on (vg_big_use_huge_pages(true)); VIGIL_HUGE_PAGES=1
 * or =0 in the environment decides instead. On kernels without THP the advice is ignored. */
#ifndef VIGIL_BIGMEM_H
#define VIGIL_BIGMEM_H

#include <stdbool.h>
#include <stddef.h>

/* Whether later blocks get huge pages (default before a call: no); VIGIL_HUGE_PAGES=0 or 1 in the
 * environment overrides `wanted`. Call once at start-up, before the engine starts. */
void vg_big_use_huge_pages(bool wanted);

/* Returns zeroed memory of at least `size` bytes, or NULL. */
void *vg_big_alloc(size_t size);
/* Releases a vg_big_alloc block; `size` as allocated. NULL is fine. */
void vg_big_free(void *p, size_t size);
/* Grows a block in place where the kernel can (mremap to a 2 MB-aligned address: pages
 * and their contents move without a copy; the added tail is zero). Returns the block's new
 * address, or NULL with the old block untouched (the caller then copies). */
void *vg_big_grow(void *p, size_t old_size, size_t new_size);
/* Puts the huge pages back together: copy-on-write after a fork() (checkpoints) splits
 * every huge page the parent writes into 4 KB mappings, which slows the TLB and makes the
 * next fork copy that many more page-table entries. Synchronously collapses the blocks of
 * this allocator (MADV_COLLAPSE, Linux 6.1+; a no-op elsewhere). Off the hot path: the
 * checkpoint reaper thread calls it once a child has exited. Returns the bytes collapsed. */
size_t vg_big_recollapse(void);

#endif
