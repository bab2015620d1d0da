/* mock_retention.c - lifts the per-partition retention of librdkafka's mock cluster (the
 * development broker). librdkafka 2.0's mock partitions keep at most 5 MiB or 100000
 * message sets each and silently drop the oldest beyond that, so a stream produced before
 * its consumer starts loses all but its last ~5 MiB per partition: offsets jump, records
 * are gone. There is no public setting (rdkafka_mock.h), so this finds every partition's
 * pair of limit fields by their default values - two adjacent, 8-byte aligned words
 * {5242880, 100000} in the process's writable anonymous memory - and raises them.
 * A librdkafka whose layout or defaults differ simply matches nothing (the limit then
 * stays as it was); the broker's own tests notice that. */
#include "kafka/mock_retention.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vigil/common.h"

#define MOCK_DEFAULT_MAX_SIZE 5242880u /* 5 MiB */
#define MOCK_DEFAULT_MAX_CNT 100000u
#define SCAN_REGION_MAX (4ull << 30) /* skip huge reservations (sanitizer shadow memory) */

#define SCAN_CHUNK (1u << 20)

/* Reads one region through process_vm_readv, a chunk at a time: other threads may unmap
 * memory while this runs (librdkafka frees large buffers), and a plain read of an unmapped
 * page would crash where the syscall just fails. Each read takes one word past its chunk,
 * so a pair starting in the chunk's last word is seen too. Returns how many it raised. */
static uint64_t chunk[SCAN_CHUNK / sizeof(uint64_t) + 1]; /* the scan's own copy */

static size_t raise_in(uintptr_t lo, uintptr_t hi, uint64_t max_bytes, uint64_t max_sets) {
    size_t raised = 0;
    pid_t self = getpid();

    for (uintptr_t at = lo; at < hi; at += SCAN_CHUNK) {
        size_t len = (size_t)VG_MIN((uintptr_t)SCAN_CHUNK + sizeof(uint64_t), hi - at);
        struct iovec local = {chunk, len}, remote = {(void *)at, len};
        ssize_t got = process_vm_readv(self, &local, 1, &remote, 1, 0);
        if (got < (ssize_t)(2 * sizeof(uint64_t)))
            continue;
        size_t words = (size_t)got / sizeof(uint64_t);
        size_t scan_words = VG_MIN(words, SCAN_CHUNK / sizeof(uint64_t)); /* pair start */
        for (size_t i = 0; i < scan_words && i + 1 < words; i++) {
            if (chunk[i] != MOCK_DEFAULT_MAX_SIZE || chunk[i + 1] != MOCK_DEFAULT_MAX_CNT)
                continue;
            volatile uint64_t *w = (volatile uint64_t *)(at + i * sizeof(uint64_t));
            w[0] = max_bytes;
            w[1] = max_sets;
            raised++;
        }
    }
    return raised;
}

size_t vg_mock_raise_retention(uint64_t max_bytes, uint64_t max_sets) {
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    size_t raised = 0;

    if (!maps)
        return 0;
    while (fgets(line, sizeof(line), maps)) {
        uintptr_t lo, hi;
        char perms[8], path[256] = "";
        unsigned long long offset;
        unsigned dev_major, dev_minor;
        unsigned long inode;
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %x:%x %lu %255s", &lo, &hi, perms, &offset,
                   &dev_major, &dev_minor, &inode, path) < 7)
            continue;
        /* rw-p, not a file, not a stack, not the region of the scan's own buffer. */
        if (strcmp(perms, "rw-p") != 0 || inode != 0 || (path[0] && strcmp(path, "[heap]") != 0))
            continue;
        if (lo <= (uintptr_t)chunk && (uintptr_t)chunk < hi)
            continue;
        if (hi <= lo || hi - lo > SCAN_REGION_MAX)
            continue;
        raised += raise_in(lo, hi, max_bytes, max_sets);
    }
    fclose(maps);
    return raised;
}
