/* ring.h - single-producer/single-consumer rings between pipeline threads, after DPDK's
 * rte_ring: free-running 32-bit head/tail with a power-of-two mask, producer and consumer
 * indices on separate cache lines, C11 acquire/release pairs, batched publish/release.
 * vg_ring carries fixed-size slots (transactions to shards); vg_bytering carries
 * variable-length records (rendered alerts to the collector).
 * Waiting: a side that finds nothing to do spins briefly, then sleeps on a futex; the
 * other side wakes it only when it announced it sleeps (one syscall per idle period, never
 * per record). */
#ifndef VIGIL_RING_H
#define VIGIL_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/common.h"

/* Sleeps until *word != expected or timeout_us passes (futex). */
void vg_futex_wait(_Atomic uint32_t *word, uint32_t expected, long timeout_us);
void vg_futex_wake(_Atomic uint32_t *word);

static inline void vg_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

struct vg_ring {
    /* producer cache line */
    _Alignas(VG_CACHE_LINE) _Atomic uint32_t head;   /* next slot to write; released by producer */
    uint32_t tail_cache;                              /* producer's last view of tail */
    _Atomic uint32_t producer_sleeping;
    /* consumer cache line */
    _Alignas(VG_CACHE_LINE) _Atomic uint32_t tail;   /* next slot to read; released by consumer */
    uint32_t head_cache;                              /* consumer's last view of head */
    _Atomic uint32_t consumer_sleeping;
    /* read-only after create */
    _Alignas(VG_CACHE_LINE) uint32_t size;
    uint32_t mask;
    size_t slot_size;
    unsigned char *slots;
};

/* size must be a power of two >= 2. Returns VG_OK or VG_ERR_NOMEM / VG_ERR_INVALID. */
int vg_ring_init(struct vg_ring *r, uint32_t size, size_t slot_size);
void vg_ring_destroy(struct vg_ring *r);

static inline void *vg_ring_slot(struct vg_ring *r, uint32_t index) {
    return r->slots + (size_t)(index & r->mask) * r->slot_size;
}

/* Producer: number of free slots (refreshes the cached tail only when needed). */
static inline uint32_t vg_ring_free(struct vg_ring *r, uint32_t want) {
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t free_slots = r->size - (head - r->tail_cache);
    if (free_slots < want) {
        /* acquire: pairs with the consumer's release in vg_ring_release, so slots it
         * finished reading may be overwritten */
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        free_slots = r->size - (head - r->tail_cache);
    }
    return free_slots;
}

/* Producer: the slot to fill at offset i from the current head (i < free). */
static inline void *vg_ring_write_slot(struct vg_ring *r, uint32_t i) {
    return vg_ring_slot(r, atomic_load_explicit(&r->head, memory_order_relaxed) + i);
}

/* Producer: makes n filled slots visible and wakes a sleeping consumer. */
static inline void vg_ring_publish(struct vg_ring *r, uint32_t n) {
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    /* release (within seq_cst): pairs with the consumer's acquire in vg_ring_available, so
     * the slot contents are visible before the new head. seq_cst store + seq_cst load of
     * consumer_sleeping: Dekker with vg_ring_wait_available (one of the two sides sees the
     * other's store). Atomics, not a fence, so ThreadSanitizer can follow it. */
    atomic_store_explicit(&r->head, head + n, memory_order_seq_cst);
    if (atomic_load_explicit(&r->consumer_sleeping, memory_order_seq_cst)) vg_futex_wake(&r->head);
}

/* Consumer: number of readable slots. */
static inline uint32_t vg_ring_available(struct vg_ring *r) {
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (r->head_cache == tail)
        /* acquire: pairs with the release in vg_ring_publish */
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
    return r->head_cache - tail;
}

static inline void *vg_ring_read_slot(struct vg_ring *r, uint32_t i) {
    return vg_ring_slot(r, atomic_load_explicit(&r->tail, memory_order_relaxed) + i);
}

/* Consumer: frees n read slots and wakes a sleeping producer. */
static inline void vg_ring_release(struct vg_ring *r, uint32_t n) {
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    /* release (within seq_cst): pairs with the producer's acquire in vg_ring_free;
     * seq_cst store/load: Dekker with producer_sleeping in vg_ring_wait_free */
    atomic_store_explicit(&r->tail, tail + n, memory_order_seq_cst);
    if (atomic_load_explicit(&r->producer_sleeping, memory_order_seq_cst)) vg_futex_wake(&r->tail);
}

/* Blocks the consumer until at least one slot is readable or timeout_us passes.
 * Returns the number readable (0 on timeout). */
uint32_t vg_ring_wait_available(struct vg_ring *r, long timeout_us);
/* Blocks the producer until at least `want` slots are free. */
void vg_ring_wait_free(struct vg_ring *r, uint32_t want);
/* Occupancy as seen from outside (metrics); racy by nature, never used for control. */
uint32_t vg_ring_used(struct vg_ring *r);

/* ---- variable-length records -------------------------------------------------------- */

struct vg_bytering {
    _Alignas(VG_CACHE_LINE) _Atomic uint32_t head;   /* bytes written (free-running) */
    uint32_t tail_cache;
    _Atomic uint32_t producer_sleeping;
    _Alignas(VG_CACHE_LINE) _Atomic uint32_t tail;   /* bytes consumed */
    uint32_t head_cache;
    _Atomic uint32_t consumer_sleeping;
    _Alignas(VG_CACHE_LINE) uint32_t size;
    uint32_t mask;
    unsigned char *bytes;
    /* Optional shared doorbell: one consumer sleeping on several rings. */
    _Atomic uint32_t *bell;
    _Atomic uint32_t *bell_sleeping;
};

int vg_bytering_init(struct vg_bytering *r, uint32_t size);
void vg_bytering_destroy(struct vg_bytering *r);
/* Commits ring the shared bell (and wake its sleeper) instead of the ring's own futex. */
void vg_bytering_set_bell(struct vg_bytering *r, _Atomic uint32_t *bell, _Atomic uint32_t *bell_sleeping);
/* Consumer of several belled rings: sleeps until any commit or timeout_us. Call with the
 * bell value read before checking the rings empty. */
void vg_bell_wait(_Atomic uint32_t *bell, _Atomic uint32_t *bell_sleeping, uint32_t seen, long timeout_us);
/* Producer: space for one record of len bytes, contiguous; blocks while full.
 * len must be <= size / 4. Returns the pointer to fill. */
void *vg_bytering_reserve(struct vg_bytering *r, uint32_t len);
/* Producer: publishes the record reserved last (len as reserved). */
void vg_bytering_commit(struct vg_bytering *r, uint32_t len);
/* Consumer: next record or NULL when empty; *len set. */
void *vg_bytering_peek(struct vg_bytering *r, uint32_t *len);
/* Consumer: frees the record returned by the last peek. */
void vg_bytering_pop(struct vg_bytering *r);
/* Consumer: sleeps until data may be there or timeout_us passes. */
void vg_bytering_wait(struct vg_bytering *r, long timeout_us);

#endif
