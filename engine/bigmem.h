/* bigmem.h - memory for the large, randomly probed state tables (account chunks, the
 * account index, the event log, the event-ring slabs, the graph's arrays, cooldown tables,
 * stage rings): page-aligned anonymous mappings
 * advised as transparent huge pages where a whole 2 MB page fits. A random probe into a
 * table of hundreds of megabytes then costs one cache miss instead of a cache miss plus a
 * page-table walk (4 KB pages leave nearly every such probe outside the TLB). Memory comes
 * back zeroed. On kernels without THP the advice is ignored and this is plain mmap. */
#ifndef VIGIL_BIGMEM_H
#define VIGIL_BIGMEM_H

#include <stddef.h>

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
