/* screen_main.c - vigil-screen: the sanctions screening benchmark. Loads list files (and
 * optionally a synthetic list of N generated entries), then screens generated party names
 * that are on no list, one thread: names screened per second, alerts among them (false
 * alerts), list memory and load times. Also writes the synthetic list as TSV on request, or
 * screens the names of a file instead (--names, one per line), printing every hit with its
 * score to 17 digits on request (--print-hits: what a change to matching must keep). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/lists.h"

static const char *const first[] = {
    "Nurlan", "Aigerim", "Yerlan", "Dmitry", "Olga", "Sergei", "Fatima", "Layla", "John", "Emily",
    "Zarina", "Timur", "Asel", "Dauren", "Madina", "Ruslan", "Anna", "Pavel", "Yusuf", "Maryam",
    "Igor", "Elena", "Bakhyt", "Gulnara", "Arman", "Saule", "Viktor", "Irina", "Samir", "Leila",
    "Нурлан", "Айгерим", "Ерлан", "Дмитрий", "Ольга", "Сергей", "Әлия", "Қайрат", "Ұлан", "Гүлнар"};
static const char *const last[] = {
    "Nurlanov", "Bekova", "Abenov", "Smirnov", "Kuznetsova", "Volkov", "Haddad", "Nasser", "Brown",
    "Taylor", "Rahimov", "Sadykova", "Ospanov", "Zhunusov", "Tulegenova", "Orlov", "Morozova",
    "Karimi", "Mansouri", "Wilson", "Iskakov", "Baimukhamedova", "Petrenko", "Lebedev",
    "Нұрланов", "Бекова", "Әбенов", "Смирнов", "Кузнецова", "Қасымов", "Омарова", "Жунусов"};
static const char *const middle[] = {"", "Serikovich ", "Bekovna ", "", "Ali ", "", "Ivanovich ", ""};

#define N_FIRST (sizeof first / sizeof *first)
#define N_LAST (sizeof last / sizeof *last)
#define N_MIDDLE (sizeof middle / sizeof *middle)

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A generated person name with a numbered surname suffix so that names stay distinct and on
 * no real list; `salt` selects the suffix family (lists and queries use different ones). */
static int gen_name(char *buf, size_t cap, uint64_t i, const char *salt) {
    uint64_t r = next();
    return snprintf(buf, cap, "%s %s%s%s%llu", first[r % N_FIRST], middle[(r >> 8) % N_MIDDLE],
                    last[(r >> 16) % N_LAST], salt, (unsigned long long)i);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) { /* this thread's CPU time: a shared machine's wall clock lies */
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    struct vg_screen_list *lists[16];
    size_t n_lists = 0;
    long synthetic = 0, queries = 100000;
    const char *write_tsv = NULL, *names_file = NULL;
    bool print_hits = false;
    double threshold = 0.85;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--list") && i + 1 < argc && n_lists < 15) {
            char *spec = argv[++i], *colon = strchr(spec, ':');
            int format = colon ? vg_list_format_parse(spec, (size_t)(colon - spec)) : -1;
            if (format < 0) {
                fprintf(stderr, "--list FORMAT:PATH (un-xml, opensanctions-csv, tsv)\n");
                return 1;
            }
            char err[1024];
            double t0 = now_s();
            if (vg_list_load((enum vg_list_format)format, colon + 1, colon + 1, &lists[n_lists], err, sizeof err) != VG_OK) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            printf("list %s: %zu entries, %zu names, %.1f MB, loaded in %.0f ms\n", colon + 1,
                   vg_screen_list_entries(lists[n_lists]), vg_screen_list_names(lists[n_lists]),
                   (double)vg_screen_list_bytes(lists[n_lists]) / 1e6, (now_s() - t0) * 1e3);
            n_lists++;
        } else if (!strcmp(argv[i], "--synthetic") && i + 1 < argc) {
            synthetic = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--queries") && i + 1 < argc) {
            queries = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) {
            threshold = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--names") && i + 1 < argc) {
            names_file = argv[++i];
        } else if (!strcmp(argv[i], "--print-hits")) {
            print_hits = true;
        } else if (!strcmp(argv[i], "--write-tsv") && i + 1 < argc) {
            write_tsv = argv[++i];
        } else {
            bool help = !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"); /* usage on stdout, exit 0 */
            fprintf(help ? stdout : stderr, "usage: vigil-screen [--list FORMAT:PATH]... [--synthetic N] [--queries N] "
                                           "[--threshold T] [--write-tsv FILE] [--names FILE] [--print-hits]\n");
            return help ? 0 : 1;
        }
    }
    if (synthetic > 0) {
        double t0 = now_s();
        struct vg_screen_list *l = vg_screen_list_new("synthetic", "0");
        FILE *out = write_tsv ? fopen(write_tsv, "w") : NULL;
        for (long i = 0; l && i < synthetic; i++) {
            char ref[32], name[256], alias[256];
            int n = snprintf(ref, sizeof ref, "SYN-%ld", i);
            int nl = gen_name(name, sizeof name, (uint64_t)i, "lst");
            int na = gen_name(alias, sizeof alias, (uint64_t)i, "lst");
            if (vg_screen_add_entry(l, ref, (size_t)n, VG_SCREEN_PERSON) != VG_OK ||
                vg_screen_add_name(l, name, (size_t)nl, VG_SCREEN_GOOD) != VG_OK ||
                vg_screen_add_name(l, alias, (size_t)na, VG_SCREEN_GOOD) != VG_OK ||
                vg_screen_add_birth(l, 19600101 + (int32_t)(i % 40) * 10000, 19600101 + (int32_t)(i % 40) * 10000) != VG_OK) {
                fprintf(stderr, "out of memory\n");
                return 1;
            }
            if (out) fprintf(out, "%s\tperson\t%s\t%s\t%d\t\n", ref, name, alias, 1960 + (int)(i % 40));
        }
        if (out) fclose(out);
        if (!l || vg_screen_list_finish(l) != VG_OK) return 1;
        printf("list synthetic: %zu entries, %zu names, %.1f MB, built in %.0f ms\n", vg_screen_list_entries(l),
               vg_screen_list_names(l), (double)vg_screen_list_bytes(l) / 1e6, (now_s() - t0) * 1e3);
        lists[n_lists++] = l;
    }
    if (n_lists == 0) {
        fprintf(stderr, "no lists\n");
        return 1;
    }
    /* queries: the file's names, or generated names of another suffix family ("q"), on no list */
    char (*names)[256] = NULL;
    if (names_file) {
        FILE *in = fopen(names_file, "r");
        if (!in) {
            perror(names_file);
            return 1;
        }
        long cap = 0;
        char line[1024];
        for (queries = 0; fgets(line, sizeof line, in);) {
            size_t len = strcspn(line, "\r\n");
            if (line[len] == '\0' && !feof(in)) { /* longer than the buffer: skip it whole */
                int c;
                while ((c = fgetc(in)) != EOF && c != '\n') {}
                continue;
            }
            if (len == 0 || len >= sizeof *names) continue;
            if (queries == cap) {
                cap = cap ? cap * 2 : 4096;
                char(*grown)[256] = realloc(names, (size_t)cap * sizeof *names);
                if (!grown) return 1;
                names = grown;
            }
            memcpy(names[queries], line, len);
            names[queries++][len] = '\0';
        }
        fclose(in);
    } else {
        names = malloc((size_t)(queries > 0 ? queries : 1) * sizeof *names);
        if (!names) return 1;
        for (long i = 0; i < queries; i++) gen_name(names[i], sizeof names[i], (uint64_t)i, "q");
    }
    size_t alerts = 0;
    double t0 = now_s(), c0 = cpu_s();
    for (long i = 0; i < queries; i++) {
        struct vg_screen_party p = {names[i], strlen(names[i]), NULL, 0, 0};
        for (size_t l = 0; l < n_lists; l++) {
            struct vg_screen_hit hits[8];
            size_t n = vg_screen_match(lists[l], &p, threshold, hits, 8);
            for (size_t h = 0; print_hits && h < n; h++)
                printf("hit\t%s\t%s\t%s\t%s\t%.17g\n", names[i], vg_screen_list_name(lists[l]),
                       vg_screen_entry_ref(lists[l], hits[h].entry), vg_screen_name_text(lists[l], hits[h].name),
                       hits[h].score);
            if (n && alerts < 5 && !print_hits)
                printf("  alert: '%s' ~ '%s' %.3f\n", names[i], vg_screen_name_text(lists[l], hits[0].name), hits[0].score);
            alerts += n > 0;
        }
    }
    double s = now_s() - t0, c = cpu_s() - c0;
    printf("screened %ld new names against %zu lists: %.2f s wall, %.2f s CPU: %.0f names/s per core "
           "(%.0f/s wall); %zu alerts (%.4f%%)\n",
           queries, n_lists, s, c, (double)queries / c, (double)queries / s, alerts,
           100.0 * (double)alerts / (double)queries);
    free(names);
    for (size_t l = 0; l < n_lists; l++) vg_screen_list_free(lists[l]);
    return 0;
}
