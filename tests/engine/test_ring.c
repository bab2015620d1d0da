/* test_ring.c - the SPSC rings between pipeline threads (engine/ring.h): slot ring
 * wraparound (including 32-bit index overflow), full/empty, batched publish, a two-thread
 * 10M-message order/no-loss stress, and the byte ring's padding at the buffer end. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "ring.h"

/* ---- slot ring, one thread -------------------------------------------------------------- */

Test(ring, init_refuses_bad_sizes) {
    struct vg_ring r;
    cr_expect_eq(vg_ring_init(&r, 0, 8), VG_ERR_INVALID);
    cr_expect_eq(vg_ring_init(&r, 1, 8), VG_ERR_INVALID);
    cr_expect_eq(vg_ring_init(&r, 6, 8), VG_ERR_INVALID);
    cr_assert_eq(vg_ring_init(&r, 2, 8), VG_OK);
    vg_ring_destroy(&r);
}

Test(ring, empty_then_full_then_empty) {
    struct vg_ring r;
    cr_assert_eq(vg_ring_init(&r, 8, sizeof(uint64_t)), VG_OK);
    cr_expect_eq(vg_ring_available(&r), 0);
    cr_expect_eq(vg_ring_free(&r, 1), 8);
    for (uint32_t i = 0; i < 8; i++) *(uint64_t *)vg_ring_write_slot(&r, i) = 100 + i;
    vg_ring_publish(&r, 8);
    cr_expect_eq(vg_ring_free(&r, 1), 0, "a full ring has no free slot");
    cr_expect_eq(vg_ring_used(&r), 8);
    cr_expect_eq(vg_ring_available(&r), 8);
    for (uint32_t i = 0; i < 8; i++) cr_expect_eq(*(uint64_t *)vg_ring_read_slot(&r, i), 100 + i);
    vg_ring_release(&r, 3);
    cr_expect_eq(vg_ring_free(&r, 3), 3, "released slots are free again");
    vg_ring_release(&r, 5);
    cr_expect_eq(vg_ring_available(&r), 0);
    cr_expect_eq(vg_ring_free(&r, 8), 8);
    cr_expect_eq(vg_ring_wait_available(&r, 1000), 0, "wait on an empty ring times out with 0");
    vg_ring_destroy(&r);
}

Test(ring, batched_publish_is_invisible_until_published) {
    struct vg_ring r;
    cr_assert_eq(vg_ring_init(&r, 16, sizeof(uint64_t)), VG_OK);
    for (uint32_t i = 0; i < 5; i++) *(uint64_t *)vg_ring_write_slot(&r, i) = i;
    cr_expect_eq(vg_ring_available(&r), 0, "written but unpublished slots are not readable");
    vg_ring_publish(&r, 5);
    cr_expect_eq(vg_ring_available(&r), 5);
    for (uint32_t i = 0; i < 5; i++) cr_expect_eq(*(uint64_t *)vg_ring_read_slot(&r, i), i);
    vg_ring_release(&r, 5);
    vg_ring_destroy(&r);
}

/* Runs `rounds` of write-k/read-k through a ring whose free-running indices start at
 * `start`, checking values and counts at every step. */
static void wrap_rounds(uint32_t start, int rounds) {
    struct vg_ring r;
    cr_assert_eq(vg_ring_init(&r, 8, sizeof(uint64_t)), VG_OK);
    atomic_store(&r.head, start);
    atomic_store(&r.tail, start);
    r.tail_cache = r.head_cache = start;
    uint64_t next_write = 0, next_read = 0;
    for (int round = 0; round < rounds; round++) {
        uint32_t k = (uint32_t)(round % 7) + 1; /* + the one kept back: at most 8 */
        cr_assert_geq(vg_ring_free(&r, k), k);
        for (uint32_t i = 0; i < k; i++) *(uint64_t *)vg_ring_write_slot(&r, i) = next_write++;
        vg_ring_publish(&r, k);
        /* available() is a lower bound (it refreshes its view of head only when it has
         * consumed what it saw): never more than was published, never 0 when non-empty */
        uint32_t outstanding = (uint32_t)(next_write - next_read);
        uint32_t goal = outstanding > 1 ? outstanding - 1 : outstanding; /* keep one across the wrap */
        while (goal > 0) {
            uint32_t n = vg_ring_available(&r);
            cr_assert(n >= 1 && n <= outstanding, "round %d: %u readable of %u", round, n, outstanding);
            uint32_t take = VG_MIN(n, goal);
            for (uint32_t i = 0; i < take; i++)
                cr_assert_eq(*(uint64_t *)vg_ring_read_slot(&r, i), next_read + i, "round %d slot %u", round, i);
            vg_ring_release(&r, take);
            next_read += take;
            outstanding -= take;
            goal -= take;
        }
    }
    for (uint32_t n; (n = vg_ring_available(&r)) > 0; next_read += n) {
        for (uint32_t i = 0; i < n; i++) cr_assert_eq(*(uint64_t *)vg_ring_read_slot(&r, i), next_read + i);
        vg_ring_release(&r, n);
    }
    cr_expect_eq(next_read, next_write);
    cr_expect_eq(vg_ring_free(&r, 8), 8);
    vg_ring_destroy(&r);
}

Test(ring, wraps_around_the_buffer) { wrap_rounds(0, 1000); }

Test(ring, survives_32bit_index_overflow) { wrap_rounds(UINT32_MAX - 20, 1000); }

/* ---- slot ring, two threads --------------------------------------------------------------- */

#define STRESS_MESSAGES 10000000ULL

struct stress {
    struct vg_ring ring;
    uint64_t errors;          /* consumer: out-of-order or wrong values */
    uint64_t received;
};

static void *stress_producer(void *arg) {
    struct stress *s = arg;
    uint64_t next = 0, rng = 88172645463325252ULL;
    while (next < STRESS_MESSAGES) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        uint32_t batch = (uint32_t)(rng % 40) + 1; /* some batches exceed the ring: split */
        if (batch > STRESS_MESSAGES - next) batch = (uint32_t)(STRESS_MESSAGES - next);
        uint32_t want = VG_MIN(batch, 32u);
        vg_ring_wait_free(&s->ring, want);
        uint32_t room = vg_ring_free(&s->ring, want);
        uint32_t n = VG_MIN(batch, room);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t *slot = vg_ring_write_slot(&s->ring, i);
            slot[0] = next + i;
            slot[1] = ~(next + i);
        }
        vg_ring_publish(&s->ring, n);
        next += n;
    }
    return NULL;
}

static void *stress_consumer(void *arg) {
    struct stress *s = arg;
    uint64_t expect = 0;
    while (expect < STRESS_MESSAGES) {
        uint32_t n = vg_ring_wait_available(&s->ring, 100000);
        for (uint32_t i = 0; i < n; i++) {
            const uint64_t *slot = vg_ring_read_slot(&s->ring, i);
            if (slot[0] != expect || slot[1] != ~expect) s->errors++;
            expect++;
        }
        if (n) vg_ring_release(&s->ring, n);
    }
    s->received = expect;
    return NULL;
}

Test(ring, two_threads_ten_million_in_order_no_loss, .timeout = 240) {
    static struct stress s;
    memset(&s, 0, sizeof s);
    cr_assert_eq(vg_ring_init(&s.ring, 64, 2 * sizeof(uint64_t)), VG_OK);
    pthread_t p, c;
    pthread_create(&c, NULL, stress_consumer, &s);
    pthread_create(&p, NULL, stress_producer, &s);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    cr_expect_eq(s.received, STRESS_MESSAGES);
    cr_expect_eq(s.errors, 0, "%llu messages out of order or corrupted", (unsigned long long)s.errors);
    cr_expect_eq(vg_ring_used(&s.ring), 0);
    vg_ring_destroy(&s.ring);
}

/* ---- byte ring ------------------------------------------------------------------------------ */

static void fill_record(unsigned char *p, uint32_t len, uint64_t n) {
    for (uint32_t i = 0; i < len; i++) p[i] = (unsigned char)(n * 31 + i);
}

static bool record_ok(const unsigned char *p, uint32_t len, uint64_t n) {
    for (uint32_t i = 0; i < len; i++)
        if (p[i] != (unsigned char)(n * 31 + i)) return false;
    return true;
}

Test(bytering, init_refuses_bad_sizes) {
    struct vg_bytering r;
    cr_expect_eq(vg_bytering_init(&r, 512), VG_ERR_INVALID);
    cr_expect_eq(vg_bytering_init(&r, 3000), VG_ERR_INVALID);
    cr_assert_eq(vg_bytering_init(&r, 1024), VG_OK);
    vg_bytering_destroy(&r);
}

Test(bytering, empty_peek_is_null) {
    struct vg_bytering r;
    cr_assert_eq(vg_bytering_init(&r, 1024), VG_OK);
    uint32_t len = 77;
    cr_expect_null(vg_bytering_peek(&r, &len));
    vg_bytering_wait(&r, 1000); /* times out, nothing to read */
    cr_expect_null(vg_bytering_peek(&r, &len));
    vg_bytering_destroy(&r);
}

Test(bytering, pads_at_the_end_and_keeps_records_contiguous) {
    struct vg_bytering r;
    cr_assert_eq(vg_bytering_init(&r, 1024), VG_OK);
    /* 3 records of 200 bytes (span 208 each) leave 400 bytes to the end; after draining them,
     * 3 more of 250 (span 264): the second does not fit before the end and must pad. */
    uint64_t written = 0, read = 0;
    for (int i = 0; i < 3; i++) {
        unsigned char *p = vg_bytering_reserve(&r, 200);
        fill_record(p, 200, written++);
        vg_bytering_commit(&r, 200);
    }
    for (int i = 0; i < 3; i++) { /* free the start so the wrapped record has room */
        uint32_t len;
        unsigned char *p = vg_bytering_peek(&r, &len);
        cr_assert_not_null(p);
        cr_assert_eq(len, 200);
        cr_expect(record_ok(p, len, read++));
        vg_bytering_pop(&r);
    }
    for (int i = 0; i < 3; i++) {
        unsigned char *p = vg_bytering_reserve(&r, 250);
        cr_assert(p >= r.bytes && p + 250 <= r.bytes + r.size, "record %d straddles the buffer end", i);
        fill_record(p, 250, written++);
        vg_bytering_commit(&r, 250);
    }
    uint32_t len;
    unsigned char *p;
    while ((p = vg_bytering_peek(&r, &len)) != NULL) {
        cr_expect_eq(len, 250);
        cr_expect(p >= r.bytes && p + len <= r.bytes + r.size);
        cr_expect(record_ok(p, len, read), "record %llu corrupted", (unsigned long long)read);
        read++;
        vg_bytering_pop(&r);
    }
    cr_expect_eq(read, written, "the pad is skipped, never returned as a record");
    vg_bytering_destroy(&r);
}

Test(bytering, random_lengths_single_thread) {
    struct vg_bytering r;
    cr_assert_eq(vg_bytering_init(&r, 4096), VG_OK);
    uint64_t rng = 12345, written = 0, read = 0;
    uint32_t lens[64];
    for (int round = 0; round < 20000; round++) {
        /* write 1..3 records: a pad (< 1008) plus 3 spans of at most 1008 fit in 4096 after
         * a full drain, so this single thread never blocks */
        int k = (int)(round % 3) + 1;
        for (int i = 0; i < k; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            uint32_t len = (uint32_t)(rng % 1001);
            lens[written % 64] = len;
            unsigned char *p = vg_bytering_reserve(&r, len);
            fill_record(p, len, written++);
            vg_bytering_commit(&r, len);
        }
        uint32_t len;
        unsigned char *p;
        while ((p = vg_bytering_peek(&r, &len)) != NULL) {
            cr_assert_eq(len, lens[read % 64], "record %llu length", (unsigned long long)read);
            cr_assert(p + len <= r.bytes + r.size);
            cr_assert(record_ok(p, len, read), "record %llu corrupted", (unsigned long long)read);
            read++;
            vg_bytering_pop(&r);
        }
    }
    cr_expect_eq(read, written);
    vg_bytering_destroy(&r);
}

#define BYTE_STRESS_RECORDS 1000000ULL

struct byte_stress {
    struct vg_bytering ring;
    uint64_t errors, received;
};

static uint32_t stress_len(uint64_t n) {
    uint64_t x = n * 0x9E3779B97F4A7C15ULL;
    x ^= x >> 29;
    return (uint32_t)(x % 1025);
}

static void *byte_producer(void *arg) {
    struct byte_stress *s = arg;
    for (uint64_t n = 0; n < BYTE_STRESS_RECORDS; n++) {
        uint32_t len = stress_len(n);
        unsigned char *p = vg_bytering_reserve(&s->ring, len);
        fill_record(p, len, n);
        vg_bytering_commit(&s->ring, len);
    }
    return NULL;
}

static void *byte_consumer(void *arg) {
    struct byte_stress *s = arg;
    uint64_t n = 0;
    while (n < BYTE_STRESS_RECORDS) {
        uint32_t len;
        unsigned char *p = vg_bytering_peek(&s->ring, &len);
        if (!p) {
            vg_bytering_wait(&s->ring, 100000);
            continue;
        }
        if (len != stress_len(n) || !record_ok(p, len, n)) s->errors++;
        n++;
        vg_bytering_pop(&s->ring);
    }
    s->received = n;
    return NULL;
}

Test(bytering, two_threads_random_lengths_in_order, .timeout = 240) {
    static struct byte_stress s;
    memset(&s, 0, sizeof s);
    cr_assert_eq(vg_bytering_init(&s.ring, 4096), VG_OK);
    pthread_t p, c;
    pthread_create(&c, NULL, byte_consumer, &s);
    pthread_create(&p, NULL, byte_producer, &s);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    cr_expect_eq(s.received, BYTE_STRESS_RECORDS);
    cr_expect_eq(s.errors, 0, "%llu records corrupted or out of order", (unsigned long long)s.errors);
    vg_bytering_destroy(&s.ring);
}

/* Several byte rings sharing one doorbell (the collector's set-up): nothing is missed. */
struct bell_stress {
    struct vg_bytering rings[3];
    _Atomic uint32_t bell, bell_sleeping;
};

static void *bell_producer(void *arg) {
    struct vg_bytering *r = arg;
    for (uint64_t n = 0; n < 200000; n++) {
        uint32_t len = stress_len(n) % 200 + 8;
        unsigned char *p = vg_bytering_reserve(r, len);
        fill_record(p, len, n);
        vg_bytering_commit(r, len);
    }
    return NULL;
}

Test(bytering, shared_bell_misses_nothing, .timeout = 240) {
    static struct bell_stress s;
    memset(&s, 0, sizeof s);
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(vg_bytering_init(&s.rings[i], 2048), VG_OK);
        vg_bytering_set_bell(&s.rings[i], &s.bell, &s.bell_sleeping);
    }
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, bell_producer, &s.rings[i]);
    uint64_t got[3] = {0}, errors = 0;
    while (got[0] + got[1] + got[2] < 3 * 200000ULL) {
        uint32_t seen = atomic_load(&s.bell);
        bool any = false;
        for (int i = 0; i < 3; i++) {
            uint32_t len;
            unsigned char *p;
            while ((p = vg_bytering_peek(&s.rings[i], &len)) != NULL) {
                if (len != stress_len(got[i]) % 200 + 8 || !record_ok(p, len, got[i])) errors++;
                got[i]++;
                any = true;
                vg_bytering_pop(&s.rings[i]);
            }
        }
        if (!any) vg_bell_wait(&s.bell, &s.bell_sleeping, seen, 100000);
    }
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    cr_expect_eq(errors, 0);
    for (int i = 0; i < 3; i++) vg_bytering_destroy(&s.rings[i]);
}
