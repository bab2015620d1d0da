/* graph_bench_main.c - vigil-graph-bench: drives the graph stage (vg_graph_on_txn, rules
 * cycle + scatter_gather) directly with a seeded, reproducible stream of transfers and
 * prints throughput, searches, budget cuts, alerts and a digest of every alert delivered
 * (rule, account, trigger, evidence, metrics, score), so two builds can be compared for
 * speed and for identical results on the same stream.
 *
 * Shapes (--shape):
 *   uniform  both sides uniform over --accounts
 *   hub      each side drawn from --hubs hub accounts with probability --hub-frac, else uniform
 *   aml      AMLworld-like: each side Zipf(--zipf) over --accounts (separately permuted), so
 *            a few accounts carry tens of thousands of transfers
 * Event times advance by --interarrival-ms on average; --late-ppm records arrive up to 2h
 * late. Only the generation is untimed: the clock (this thread's CPU time, so that a busy
 * machine does not skew it) covers vg_graph_on_txn calls. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/rule_params.h"
#include "vigil/config.h"
#include "vigil/emit.h"
#include "vigil/graph.h"

#define BATCH 4096

struct opts {
    const char *shape;
    uint64_t n, accounts, hubs, seed, report, budget;
    double hub_frac, zipf;
    int64_t interarrival_ms, late_ppm, window_ms;
    int64_t max_hops;
    bool budget_set, window_set, hops_set;
};

struct tally {
    uint64_t alerts[VG_RULE_MAX];
    uint64_t digest;
};

static uint64_t rng_next(uint64_t *s) {   /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s) {
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ULL;
    return h;
}

static void on_alert(void *opaque, const struct vg_alert *a, enum vg_severity severity) {
    (void)severity;
    struct tally *t = opaque;
    t->alerts[a->rule]++;
    uint64_t h = t->digest;
    h = fnv(h, &a->rule, sizeof a->rule);
    h = fnv(h, a->account.ptr, a->account.len);
    h = fnv(h, &a->trigger_seq, sizeof a->trigger_seq);
    h = fnv(h, &a->window_start_ms, sizeof a->window_start_ms);
    h = fnv(h, &a->window_end_ms, sizeof a->window_end_ms);
    h = fnv(h, &a->score, sizeof a->score);
    for (size_t i = 0; i < VG_MIN(a->n_tx_ids, (size_t)VG_EVIDENCE_MAX); i++)
        h = fnv(h ^ 1, a->tx_ids[i].ptr, a->tx_ids[i].len);
    for (size_t i = 0; i < VG_MIN(a->n_accounts, (size_t)VG_EVIDENCE_MAX); i++)
        h = fnv(h ^ 2, a->accounts[i].ptr, a->accounts[i].len);
    for (size_t i = 0; i < a->n_metrics; i++) h = fnv(h, &a->metrics[i].value, sizeof a->metrics[i].value);
    t->digest = h;
}

/* Zipf(s) over [0, n) by inverting a precomputed CDF. */
struct zipf {
    double *cdf;
    uint64_t n;
};

static int zipf_init(struct zipf *z, uint64_t n, double s) {
    z->cdf = malloc(n * sizeof *z->cdf);
    if (!z->cdf) return -1;
    z->n = n;
    double sum = 0;
    for (uint64_t k = 0; k < n; k++) z->cdf[k] = sum += pow((double)(k + 1), -s);
    for (uint64_t k = 0; k < n; k++) z->cdf[k] /= sum;
    return 0;
}

static uint64_t zipf_draw(const struct zipf *z, uint64_t *st) {
    double u = rng_unit(st);
    uint64_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (z->cdf[mid] < u) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* A bijection on [0, n) so that Zipf ranks land on scattered account numbers. */
static uint64_t scatter(uint64_t rank, uint64_t n, uint64_t salt) {
    return (rank * 2654435761ULL + salt) % n;   /* n not a multiple of the odd multiplier's factors */
}

static uint64_t draw_side(const struct opts *o, const struct zipf *z, uint64_t *st, uint64_t salt) {
    if (strcmp(o->shape, "hub") == 0) {
        if (rng_unit(st) < o->hub_frac) return rng_next(st) % o->hubs;       /* hubs: accounts 0..hubs-1 */
        return o->hubs + rng_next(st) % o->accounts;
    }
    if (strcmp(o->shape, "aml") == 0) return scatter(zipf_draw(z, st), o->accounts, salt);
    return rng_next(st) % o->accounts;
}

/* Thread CPU time: the graph stage is one thread, and the machine may be shared. */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: vigil-graph-bench [--shape uniform|hub|aml] [--n N] [--accounts N] [--hubs N]\n"
            "         [--hub-frac F] [--zipf S] [--seed S] [--interarrival-ms MS] [--late-ppm N]\n"
            "         [--budget N] [--window-ms MS] [--max-hops N] [--report N]\n"
            "defaults: hub, 500000 transfers, 100000 accounts, 200 hubs, 0.25, zipf 0.8, seed 1,\n"
            "          200 ms, 0 late, engine.graph_budget and rule params from the config defaults\n");
}

int main(int argc, char **argv) {
    struct opts o = {.shape = "hub", .n = 500000, .accounts = 100000, .hubs = 200, .seed = 1,
                     .report = 100000, .hub_frac = 0.25, .zipf = 0.8, .interarrival_ms = 200};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!v) { usage(stderr); return 2; }
        i++;
        if (!strcmp(a, "--shape")) o.shape = v;
        else if (!strcmp(a, "--n")) o.n = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--accounts")) o.accounts = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--hubs")) o.hubs = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--hub-frac")) o.hub_frac = strtod(v, NULL);
        else if (!strcmp(a, "--zipf")) o.zipf = strtod(v, NULL);
        else if (!strcmp(a, "--seed")) o.seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--interarrival-ms")) o.interarrival_ms = strtoll(v, NULL, 10);
        else if (!strcmp(a, "--late-ppm")) o.late_ppm = strtoll(v, NULL, 10);
        else if (!strcmp(a, "--budget")) { o.budget = strtoull(v, NULL, 10); o.budget_set = true; }
        else if (!strcmp(a, "--window-ms")) { o.window_ms = strtoll(v, NULL, 10); o.window_set = true; }
        else if (!strcmp(a, "--max-hops")) { o.max_hops = strtoll(v, NULL, 10); o.hops_set = true; }
        else if (!strcmp(a, "--report")) o.report = strtoull(v, NULL, 10);
        else { usage(stderr); return 2; }
    }
    if (strcmp(o.shape, "uniform") && strcmp(o.shape, "hub") && strcmp(o.shape, "aml")) { usage(stderr); return 2; }
    if (o.accounts < 2 || o.hubs < 1 || o.report == 0) { usage(stderr); return 2; }

    struct vg_config cfg;
    if (vg_config_defaults(&cfg) != VG_OK) return 1;
    for (int r = 0; r < VG_RULE_MAX; r++)
        cfg.rules[r].enabled = r == VG_RULE_CYCLE || r == VG_RULE_SCATTER_GATHER;
    if (o.budget_set) cfg.engine.graph_budget = (uint32_t)o.budget;
    struct vg_cycle_params *cp = cfg.rules[VG_RULE_CYCLE].params;
    struct vg_scatter_gather_params *sp = cfg.rules[VG_RULE_SCATTER_GATHER].params;
    if (o.window_set) cp->window_ms = sp->window_ms = o.window_ms;
    if (o.hops_set) cp->max_hops = o.max_hops;

    struct tally tally = {.digest = 0xCBF29CE484222325ULL};
    struct vg_alert_out *out = vg_alert_out_create(&cfg, on_alert, &tally);
    struct vg_graph *g;
    if (!out || vg_graph_create(&g, &cfg) != VG_OK) return 1;
    struct zipf z = {0};
    if (!strcmp(o.shape, "aml") && zipf_init(&z, o.accounts, o.zipf)) return 1;

    struct vg_txn *batch = calloc(BATCH, sizeof *batch);
    if (!batch) return 1;
    uint64_t st = o.seed * 0x9E3779B97F4A7C15ULL + 7;
    const int64_t start_ms = 1661990400000LL;   /* 2022-09-01 */
    int64_t newest = VG_TS_NONE;
    double elapsed = 0, seg_elapsed = 0;
    uint64_t seg_start = 0;
    struct vg_graph_stats seg_stats = {0};
    printf("# shape=%s n=%" PRIu64 " accounts=%" PRIu64 " hubs=%" PRIu64 " hub_frac=%.2f zipf=%.2f seed=%" PRIu64
           " interarrival_ms=%" PRId64 " late_ppm=%" PRId64 " budget=%u max_hops=%" PRId64 " window_ms=%" PRId64 "\n",
           o.shape, o.n, o.accounts, o.hubs, o.hub_frac, o.zipf, o.seed, o.interarrival_ms, o.late_ppm,
           cfg.engine.graph_budget, cp->max_hops, cp->window_ms);
    printf("%10s %10s %10s %10s %10s %9s %10s %8s\n", "done", "tx/s", "seg tx/s", "searches", "cuts", "cut%",
           "edges", "MiB");
    for (uint64_t i = 0; i < o.n;) {
        uint64_t m = VG_MIN((uint64_t)BATCH, VG_MIN(o.n - i, o.report - i % o.report));
        for (uint64_t k = 0; k < m; k++) {
            struct vg_txn *t = &batch[k];
            uint64_t seq = i + k;
            uint64_t from = draw_side(&o, &z, &st, 12345), to;
            do to = draw_side(&o, &z, &st, 67891); while (to == from);
            t->seq = seq;
            t->ts_ms = start_ms + (int64_t)seq * o.interarrival_ms +
                       (int64_t)(rng_next(&st) % (uint64_t)(o.interarrival_ms + 1));
            if (o.late_ppm > 0 && (int64_t)(rng_next(&st) % 1000000) < o.late_ppm)
                t->ts_ms -= (int64_t)(rng_next(&st) % (2 * 3600 * 1000));
            t->amount_micros = (int64_t)(1000 + rng_next(&st) % 49000) * 1000000;
            t->id_len = (uint8_t)snprintf(t->id, VG_ID_MAX, "T%09" PRIu64, seq);
            t->from_len = (uint8_t)snprintf(t->from, VG_ID_MAX, "A%08" PRIu64, from);
            t->to_len = (uint8_t)snprintf(t->to, VG_ID_MAX, "A%08" PRIu64, to);
        }
        double t0 = now_s();
        for (uint64_t k = 0; k < m; k++) {
            const struct vg_txn *t = &batch[k];
            if (newest == VG_TS_NONE || t->ts_ms > newest) newest = t->ts_ms;
            vg_graph_on_txn(g, &cfg, t, newest - cfg.engine.allowed_lateness_ms, out);
        }
        double dt = now_s() - t0;
        elapsed += dt;
        seg_elapsed += dt;
        i += m;
        if (i % o.report == 0 || i == o.n) {
            struct vg_graph_stats s;
            vg_graph_stats(g, &s);
            uint64_t seg_searches = s.searches - seg_stats.searches, seg_cuts = s.budget_cut - seg_stats.budget_cut;
            printf("%10" PRIu64 " %10.0f %10.0f %10" PRIu64 " %10" PRIu64 " %8.2f%% %10" PRIu64 " %8.1f\n", i,
                   (double)i / elapsed, (double)(i - seg_start) / seg_elapsed, s.searches, s.budget_cut,
                   seg_searches ? 100.0 * (double)seg_cuts / (double)seg_searches : 0.0, s.edges,
                   (double)s.bytes / (1024.0 * 1024.0));
            fflush(stdout);
            seg_stats = s;
            seg_start = i;
            seg_elapsed = 0;
        }
    }
    struct vg_graph_stats s;
    vg_graph_stats(g, &s);
    printf("total: %.0f tx/s (%.2f s) searches=%" PRIu64 " budget_cut=%" PRIu64 " dropped=%" PRIu64
           " evicted=%" PRIu64 " alerts: cycle=%" PRIu64 " scatter_gather=%" PRIu64 " digest=%016" PRIx64 "\n",
           (double)o.n / elapsed, elapsed, s.searches, s.budget_cut, s.dropped, s.evicted,
           tally.alerts[VG_RULE_CYCLE], tally.alerts[VG_RULE_SCATTER_GATHER], tally.digest);
    vg_graph_destroy(g);
    vg_alert_out_destroy(out);
    vg_config_free(&cfg);
    free(batch);
    free(z.cdf);
    return 0;
}
