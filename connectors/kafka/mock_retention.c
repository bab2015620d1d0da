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

#define MOCK_DEFAULT_MAX_SIZE 5242880u /* 5 MiB */
#define MOCK_DEFAULT_MAX_CNT 100000u
#define SCAN_REGION_MAX (4ull << 30) /* skip huge reservations (sanitizer shadow memory) */

#if defined(__clang__) || defined(__GNUC__)
#define NO_SANITIZE __attribute__((no_sanitize("address", "thread", "undefined")))
#else
#define NO_SANITIZE
#endif

/* One writable private anonymous region (heap, arenas, mmap'ed blocks): raises every limit
 * pair in it. Returns how many it raised. */
NO_SANITIZE static size_t raise_in(volatile uint64_t *w, size_t words, uint64_t max_bytes, uint64_t max_sets) {
    size_t raised = 0;
    for (size_t i = 0; i + 1 < words; i++) {
        if (w[i] != MOCK_DEFAULT_MAX_SIZE || w[i + 1] != MOCK_DEFAULT_MAX_CNT)
            continue;
        w[i] = max_bytes;
        w[i + 1] = max_sets;
        raised++;
        i++;
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
        /* rw-p, not a file, not a stack (this function's own frame lives there). */
        if (strcmp(perms, "rw-p") != 0 || inode != 0 || (path[0] && strcmp(path, "[heap]") != 0))
            continue;
        if (hi <= lo || hi - lo > SCAN_REGION_MAX)
            continue;
        raised += raise_in((volatile uint64_t *)lo, (hi - lo) / sizeof(uint64_t), max_bytes, max_sets);
    }
    fclose(maps);
    return raised;
}
