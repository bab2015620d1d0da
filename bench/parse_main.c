/* parse_main.c - vigil-parse: the benchmark's raw baseline. Reads a transaction file and
 * parses every record with the engine's own parsers (vg_ndjson_parse / vg_amlworld_parse),
 * counting good and bad records; no engine, no rules, no output. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vigil/currency.h"
#include "vigil/ingest.h"

int main(int argc, char **argv) {
    const char *format = NULL, *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc) format = argv[++i];
        else if (!strcmp(argv[i], "--input") && i + 1 < argc) path = argv[++i];
        else if (!strcmp(argv[i], "--help")) {
            printf("usage: vigil-parse --format ndjson|amlworld-csv --input FILE\n");
            return 0;
        } else {
            fprintf(stderr, "vigil-parse: unknown argument %s\n", argv[i]);
            return 1;
        }
    }
    if (!format || !path || (strcmp(format, "ndjson") && strcmp(format, "amlworld-csv"))) {
        fprintf(stderr, "usage: vigil-parse --format ndjson|amlworld-csv --input FILE\n");
        return 1;
    }
    bool csv = !strcmp(format, "amlworld-csv");
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "vigil-parse: %s: %s\n", path, strerror(errno));
        return 2;
    }
    size_t size = (size_t)st.st_size;
    const char *data = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : "";
    if (data == MAP_FAILED) {
        fprintf(stderr, "vigil-parse: %s: mmap: %s\n", path, strerror(errno));
        return 2;
    }
    struct vg_currency_table rates;
    vg_currency_defaults(&rates);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t ok = 0, bad = 0, line_no = 0;
    int64_t checksum = 0; /* keeps the parse from being optimised away */
    const char *p = data, *end = data + size;
    struct vg_txn txn;
    struct vg_parse_error err;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t len = (size_t)(le - p);
        if (len && p[len - 1] == '\r') len--;
        if (len) {
            int rc;
            if (csv) {
                if (line_no == 0 && vg_amlworld_is_header(p, len)) {
                    p = le + 1;
                    continue;
                }
                rc = vg_amlworld_parse(p, len, ++line_no, &rates, &txn, &err);
            } else {
                rc = vg_ndjson_parse(p, len, &rates, &txn, &err);
            }
            if (rc == 0) {
                ok++;
                checksum += txn.amount_micros ^ txn.ts_ms;
            } else {
                bad++;
            }
        }
        p = le + 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("records=%llu bad=%llu seconds=%.6f rate=%.0f checksum=%lld\n", (unsigned long long)ok,
           (unsigned long long)bad, secs, secs > 0 ? (double)(ok + bad) / secs : 0.0, (long long)checksum);
    if (size) munmap((void *)data, size);
    close(fd);
    return 0;
}
