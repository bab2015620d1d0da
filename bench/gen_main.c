/* gen_main.c - vigil-gen: writes a synthetic transaction file (NDJSON or AMLworld CSV) with
 * injected patterns and decoys, plus the expectation list, the watchlist they need and, for
 * backtests, labels and an AMLworld-style patterns file.
 * A thin CLI over include/vigil/synth.h; deterministic for a given seed and options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/synth.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: vigil-gen --format ndjson|amlworld-csv --out FILE|- [options]\n"
            "  --transactions N     records in total, injected ones included (default 100000)\n"
            "  --accounts N         background accounts (default 10000)\n"
            "  --seed S             RNG seed (default 1)\n"
            "  --patterns K         instances of every typology (default 2)\n"
            "  --no-decoys          inject no near misses\n"
            "  --start-ms MS        event time of the first background record (default 2022-09-01)\n"
            "  --interarrival-ms MS mean event-time gap of background records (default 200)\n"
            "  --late-ppm N         fraction of background records emitted out of order (ppm)\n"
            "  --expected FILE      write 'kind<TAB>rule<TAB>account' per injected pattern/decoy\n"
            "  --watchlist FILE     write the watchlist the watchlist patterns need\n"
            "  --patterns-out FILE  write the laundering attempts as an AMLworld *_Patterns.txt\n"
            "  --labels             NDJSON: add the boolean \"label\" (laundering) to every record\n"
            "                       (AMLworld CSV always carries Is Laundering)\n"
            "  --uncatchable        also plant attempts no rule catches (STACK, BIPARTITE, RANDOM)\n"
            "  --names              NDJSON: every party a name (from_name, to_name), plus sanctions\n"
            "                       patterns and decoys on the demo list (--sanctions-list)\n"
            "  --sanctions-list FILE write the demo sanctions list (TSV) the sanctions patterns need\n"
            "  --quiet              no summary on stderr\n");
}

static int parse_u64(const char *text, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-') return -1;
    *out = v;
    return 0;
}

static int parse_i64(const char *text, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end) return -1;
    *out = v;
    return 0;
}

enum side_file { SIDE_EXPECTED, SIDE_WATCHLIST, SIDE_PATTERNS, SIDE_SANCTIONS };

static int write_side_file(const char *path, const vg_synth_t *s, enum side_file what, bool csv) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vigil-gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = what == SIDE_EXPECTED    ? vg_synth_write_expected(s, f, !csv)
             : what == SIDE_WATCHLIST ? vg_synth_write_watchlist(s, f)
             : what == SIDE_SANCTIONS ? (fputs(vg_synth_sanctions_list(), f) < 0 ? -1 : 0)
                                      : vg_synth_write_patterns(s, f);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "vigil-gen: %s: write failed\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct vg_synth_options opt;
    vg_synth_options_default(&opt);
    const char *format = NULL, *out_path = NULL, *expected_path = NULL, *watchlist_path = NULL;
    const char *patterns_path = NULL, *sanctions_path = NULL;
    bool quiet = false, labels = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-decoys")) {
            opt.decoys = false;
            continue;
        } else if (!strcmp(a, "--labels")) {
            labels = true;
            continue;
        } else if (!strcmp(a, "--names")) {
            opt.names = true;
            continue;
        } else if (!strcmp(a, "--uncatchable")) {
            opt.uncatchable = true;
            continue;
        } else if (!strcmp(a, "--quiet")) {
            quiet = true;
            continue;
        } else if (!v) {
            fprintf(stderr, "vigil-gen: %s: missing value or unknown option\n", a);
            return 1;
        }
        uint64_t u = 0;
        if (!strcmp(a, "--format")) format = v;
        else if (!strcmp(a, "--out")) out_path = v;
        else if (!strcmp(a, "--expected")) expected_path = v;
        else if (!strcmp(a, "--watchlist")) watchlist_path = v;
        else if (!strcmp(a, "--patterns-out")) patterns_path = v;
        else if (!strcmp(a, "--sanctions-list")) sanctions_path = v;
        else if (!strcmp(a, "--transactions")) bad = parse_u64(v, &opt.transactions);
        else if (!strcmp(a, "--accounts")) bad = parse_u64(v, &opt.accounts);
        else if (!strcmp(a, "--seed")) bad = parse_u64(v, &opt.seed);
        else if (!strcmp(a, "--patterns")) bad = parse_u64(v, &u) || u > UINT32_MAX, opt.patterns = (uint32_t)u;
        else if (!strcmp(a, "--late-ppm")) bad = parse_u64(v, &u) || u > 1000000, opt.late_ppm = (uint32_t)u;
        else if (!strcmp(a, "--start-ms")) bad = parse_i64(v, &opt.start_ms);
        else if (!strcmp(a, "--interarrival-ms")) bad = parse_i64(v, &opt.mean_interarrival_ms);
        else {
            fprintf(stderr, "vigil-gen: unknown option %s\n", a);
            usage(stderr);
            return 1;
        }
        if (bad) {
            fprintf(stderr, "vigil-gen: %s: bad value '%s'\n", a, v);
            return 1;
        }
        i++;
    }
    if (!format || !out_path || (strcmp(format, "ndjson") && strcmp(format, "amlworld-csv"))) {
        fprintf(stderr, "vigil-gen: --format ndjson|amlworld-csv and --out are required\n");
        usage(stderr);
        return 1;
    }
    bool csv = !strcmp(format, "amlworld-csv");
    if (opt.transactions == 0) {
        fprintf(stderr, "vigil-gen: --transactions must be > 0 for a file\n");
        return 1;
    }

    char errstr[256];
    vg_synth_t *s = vg_synth_create(&opt, errstr, sizeof errstr);
    if (!s) {
        fprintf(stderr, "vigil-gen: %s\n", errstr);
        return 1;
    }
    if ((expected_path && write_side_file(expected_path, s, SIDE_EXPECTED, csv)) ||
        (watchlist_path && write_side_file(watchlist_path, s, SIDE_WATCHLIST, csv)) ||
        (sanctions_path && write_side_file(sanctions_path, s, SIDE_SANCTIONS, csv)) ||
        (patterns_path && write_side_file(patterns_path, s, SIDE_PATTERNS, csv))) {
        vg_synth_destroy(s);
        return 2;
    }

    FILE *out = strcmp(out_path, "-") ? fopen(out_path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "vigil-gen: %s: %s\n", out_path, strerror(errno));
        vg_synth_destroy(s);
        return 2;
    }
    /* Own 4 MiB buffer, filled with whole lines and written in one call. */
    size_t cap = 4u << 20, used = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fprintf(stderr, "vigil-gen: out of memory\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (csv) used += vg_synth_csv_header(buf, cap);
    struct vg_synth_txn t;
    uint64_t n = 0;
    int rc = 0;
    while (vg_synth_next(s, &t)) {
        if (cap - used < VG_SYNTH_LINE_MAX) {
            if (fwrite(buf, 1, used, out) != used) {
                rc = 2;
                break;
            }
            used = 0;
        }
        used += csv      ? vg_synth_format_csv(&t, buf + used, cap - used)
                : labels ? vg_synth_format_ndjson_labelled(&t, buf + used, cap - used)
                         : vg_synth_format_ndjson(&t, buf + used, cap - used);
        n++;
    }
    if (rc == 0 && used && fwrite(buf, 1, used, out) != used) rc = 2;
    if (out != stdout ? fclose(out) != 0 : fflush(out) != 0) rc = 2;
    if (rc) fprintf(stderr, "vigil-gen: %s: write failed: %s\n", out_path, strerror(errno));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!quiet && rc == 0) {
        const struct vg_synth_expect *e;
        size_t ne = vg_synth_expected(s, &e);
        fprintf(stderr, "vigil-gen: %llu records (%llu injected, %zu expectations) in %.3f s, %.2f M rec/s\n",
                (unsigned long long)n, (unsigned long long)vg_synth_injected(s), ne, secs,
                secs > 0 ? (double)n / secs / 1e6 : 0.0);
    }
    free(buf);
    vg_synth_destroy(s);
    return rc;
}
