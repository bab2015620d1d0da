/* ring.c - the out-of-line parts of the SPSC rings (see ring.h): allocation, futex
 * sleeping and waking, and the variable-length record ring used for alerts. */
#include "ring.h"

#include "bigmem.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SPIN_ROUNDS 256

void vg_futex_wait(_Atomic uint32_t *word, uint32_t expected, long timeout_us) {
    struct timespec ts = {.tv_sec = timeout_us / 1000000, .tv_nsec = (timeout_us % 1000000) * 1000};
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, &ts, NULL, 0);
}

void vg_futex_wake(_Atomic uint32_t *word) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

int vg_ring_init(struct vg_ring *r, uint32_t size, size_t slot_size) {
    memset(r, 0, sizeof *r);
    if (size < 2 || (size & (size - 1)) != 0) return VG_ERR_INVALID;
    r->slots = vg_big_alloc((size_t)size * slot_size); /* page-aligned: cache-line aligned too */
    if (!r->slots) return VG_ERR_NOMEM;
    r->size = size;
    r->mask = size - 1;
    r->slot_size = slot_size;
    return VG_OK;
}

void vg_ring_destroy(struct vg_ring *r) {
    if (r->slots) vg_big_free(r->slots, (size_t)r->size * r->slot_size);
    r->slots = NULL;
}

uint32_t vg_ring_wait_available(struct vg_ring *r, long timeout_us) {
    uint32_t n;
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if ((n = vg_ring_available(r)) > 0) return n;
        vg_cpu_relax();
    }
    atomic_store_explicit(&r->consumer_sleeping, 1, memory_order_seq_cst);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_seq_cst);
    if (head == tail) vg_futex_wait(&r->head, head, timeout_us);
    atomic_store_explicit(&r->consumer_sleeping, 0, memory_order_relaxed);
    return vg_ring_available(r);
}

void vg_ring_wait_free(struct vg_ring *r, uint32_t want) {
    for (;;) {
        for (int i = 0; i < SPIN_ROUNDS; i++) {
            if (vg_ring_free(r, want) >= want) return;
            vg_cpu_relax();
        }
        atomic_store_explicit(&r->producer_sleeping, 1, memory_order_seq_cst);
        uint32_t tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
        uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        if (r->size - (head - tail) < want) vg_futex_wait(&r->tail, tail, 10000);
        atomic_store_explicit(&r->producer_sleeping, 0, memory_order_relaxed);
    }
}

uint32_t vg_ring_used(struct vg_ring *r) {
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    return head - tail;
}

/* ---- variable-length records ---------------------------------------------------------- */

#define REC_PAD 0x80000000u
#define REC_HDR 8u

static inline uint32_t rec_span(uint32_t len) { return REC_HDR + ((len + 7u) & ~7u); }

int vg_bytering_init(struct vg_bytering *r, uint32_t size) {
    memset(r, 0, sizeof *r);
    if (size < 1024 || (size & (size - 1)) != 0) return VG_ERR_INVALID;
    r->bytes = vg_big_alloc(size);
    if (!r->bytes) return VG_ERR_NOMEM;
    r->size = size;
    r->mask = size - 1;
    return VG_OK;
}

void vg_bytering_destroy(struct vg_bytering *r) {
    if (r->bytes) vg_big_free(r->bytes, r->size);
    r->bytes = NULL;
}

static uint32_t bytering_free(struct vg_bytering *r, uint32_t head) {
    /* acquire: pairs with the consumer's release in vg_bytering_pop / peek (pad skip) */
    r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
    return r->size - (head - r->tail_cache);
}

static void bytering_wait_free(struct vg_bytering *r, uint32_t need) {
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (r->size - (head - r->tail_cache) >= need) return;
    for (;;) {
        for (int i = 0; i < SPIN_ROUNDS; i++) {
            if (bytering_free(r, head) >= need) return;
            vg_cpu_relax();
        }
        atomic_store_explicit(&r->producer_sleeping, 1, memory_order_seq_cst);
        uint32_t tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
        if (r->size - (head - tail) < need) vg_futex_wait(&r->tail, tail, 10000);
        atomic_store_explicit(&r->producer_sleeping, 0, memory_order_relaxed);
    }
}

void *vg_bytering_reserve(struct vg_bytering *r, uint32_t len) {
    uint32_t span = rec_span(len);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t till_end = r->size - (head & r->mask);
    if (till_end < span) {
        /* Not contiguous: pad to the end of the buffer and publish the pad alone. */
        bytering_wait_free(r, till_end);
        uint32_t *hdr = (uint32_t *)(r->bytes + (head & r->mask));
        hdr[0] = REC_PAD | (till_end - REC_HDR);
        atomic_store_explicit(&r->head, head + till_end, memory_order_release);
        head += till_end;
    }
    bytering_wait_free(r, span);
    return r->bytes + (head & r->mask) + REC_HDR;
}

void vg_bytering_commit(struct vg_bytering *r, uint32_t len) {
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t *hdr = (uint32_t *)(r->bytes + (head & r->mask));
    hdr[0] = len;
    /* release (within seq_cst): pairs with the consumer's acquire in vg_bytering_peek;
     * seq_cst so the sleeping-flag loads below form a Dekker pair with the waiters */
    atomic_store_explicit(&r->head, head + rec_span(len), memory_order_seq_cst);
    if (r->bell) {
        atomic_fetch_add_explicit(r->bell, 1, memory_order_seq_cst);
        if (atomic_load_explicit(r->bell_sleeping, memory_order_seq_cst)) vg_futex_wake(r->bell);
        return;
    }
    if (atomic_load_explicit(&r->consumer_sleeping, memory_order_seq_cst)) vg_futex_wake(&r->head);
}

void vg_bytering_set_bell(struct vg_bytering *r, _Atomic uint32_t *bell, _Atomic uint32_t *bell_sleeping) {
    r->bell = bell;
    r->bell_sleeping = bell_sleeping;
}

void vg_bell_wait(_Atomic uint32_t *bell, _Atomic uint32_t *bell_sleeping, uint32_t seen, long timeout_us) {
    atomic_store_explicit(bell_sleeping, 1, memory_order_seq_cst);
    if (atomic_load_explicit(bell, memory_order_seq_cst) == seen) vg_futex_wait(bell, seen, timeout_us);
    atomic_store_explicit(bell_sleeping, 0, memory_order_relaxed);
}

void *vg_bytering_peek(struct vg_bytering *r, uint32_t *len) {
    for (;;) {
        uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (r->head_cache == tail) {
            /* acquire: pairs with the release in vg_bytering_commit / reserve (pad) */
            r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
            if (r->head_cache == tail) return NULL;
        }
        uint32_t hdr = *(uint32_t *)(r->bytes + (tail & r->mask));
        if (hdr & REC_PAD) {
            atomic_store_explicit(&r->tail, tail + REC_HDR + (hdr & ~REC_PAD), memory_order_release);
            continue;
        }
        *len = hdr;
        return r->bytes + (tail & r->mask) + REC_HDR;
    }
}

void vg_bytering_pop(struct vg_bytering *r) {
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t hdr = *(uint32_t *)(r->bytes + (tail & r->mask));
    /* release (within seq_cst): pairs with the producer's acquire in bytering_free;
     * seq_cst store/load: Dekker with producer_sleeping in bytering_wait_free */
    atomic_store_explicit(&r->tail, tail + rec_span(hdr), memory_order_seq_cst);
    if (atomic_load_explicit(&r->producer_sleeping, memory_order_seq_cst)) vg_futex_wake(&r->tail);
}

void vg_bytering_wait(struct vg_bytering *r, long timeout_us) {
    atomic_store_explicit(&r->consumer_sleeping, 1, memory_order_seq_cst);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_seq_cst);
    if (head == tail) vg_futex_wait(&r->head, head, timeout_us);
    atomic_store_explicit(&r->consumer_sleeping, 0, memory_order_relaxed);
}
