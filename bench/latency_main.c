/* latency_main.c - vigil-latency: end-to-end alert latency at a steady offered load. Produces
 * a synthetic background stream at a fixed rate with a large_tx trigger every K records whose
 * id carries its produce time, consumes the alerts topic and reports produce -> alert percentiles. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "vigil/synth.h"

#define TICK_NS 1000000 /* the producer's pacing granularity: 1 ms */

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void usage(FILE *f) {
    fprintf(f, "usage: vigil-latency --brokers B --topic T --alerts A --rate R --seconds S\n"
               "                     [--trigger-every K] [--drain S] [--out FILE] [--seed N]\n"
               "                     [--partitions N --busy K [--trickle-ms M]]\n"
               "  Produces R records/s for S seconds (every K-th after the first 3 s, default 100,\n"
               "  a large_tx trigger on"
               " fresh accounts with id L<produce monotonic ns>), reads topic A (partition 0..n,\n"
               "  from the beginning) until every trigger's alert arrived or --drain seconds (default\n"
               "  10) passed, prints offered/achieved rate and p50/p99/p999/max latency in ms, and\n"
               "  with --out writes every latency (ms, sorted) one a line. With --partitions N --busy K\n"
               "  the stream goes round-robin into partitions 0..K-1 of the N, and the others get one\n"
               "  background record every M ms (--trickle-ms; 0 = none: idle partitions).\n");
}

struct alerts_reader {
    rd_kafka_t *rk;
    _Atomic bool stop;
    _Atomic uint64_t seen;      /* trigger alerts received */
    double *lat_ms;
    int64_t *sent_ns;           /* produce time of each, for the outlier log */
    size_t cap;
};

static void *read_alerts(void *arg) {
    struct alerts_reader *a = arg;
    while (!atomic_load(&a->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(a->rk, 20);
        if (!m) continue;
        int64_t now = mono_ns();
        if (!m->err && m->len) {
            /* Alert JSON: "tx_ids":["L<ns>-<seq>"...] for the triggers, large_tx only. */
            const char *v = m->payload;
            const char *p = memmem(v, m->len, "\"tx_ids\":[\"L", 12);
            if (p && memmem(v, m->len, "\"rule\":\"large_tx\"", 17)) {
                int64_t sent = strtoll(p + 12, NULL, 10);
                uint64_t i = atomic_load(&a->seen);
                if (i < a->cap) {
                    a->lat_ms[i] = (double)(now - sent) / 1e6;
                    a->sent_ns[i] = sent;
                }
                atomic_store(&a->seen, i + 1);
            }
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double pct(const double *v, size_t n, double q) {
    if (!n) return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static int set(rd_kafka_conf_t *c, const char *k, const char *v) {
    char err[256];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "vigil-latency: %s: %s\n", k, err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *brokers = NULL, *topic = NULL, *alerts = NULL, *out_path = NULL;
    double rate = 0, seconds = 0, drain = 10;
    uint64_t every = 100, seed = 1;
    int32_t partitions = 0, busy = 0;
    double trickle_ms = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "vigil-latency: %s: missing value\n", a);
            return 1;
        }
        if (!strcmp(a, "--brokers")) brokers = v;
        else if (!strcmp(a, "--topic")) topic = v;
        else if (!strcmp(a, "--alerts")) alerts = v;
        else if (!strcmp(a, "--out")) out_path = v;
        else if (!strcmp(a, "--rate")) rate = strtod(v, NULL);
        else if (!strcmp(a, "--seconds")) seconds = strtod(v, NULL);
        else if (!strcmp(a, "--drain")) drain = strtod(v, NULL);
        else if (!strcmp(a, "--trigger-every")) every = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--partitions")) partitions = (int32_t)strtol(v, NULL, 10);
        else if (!strcmp(a, "--busy")) busy = (int32_t)strtol(v, NULL, 10);
        else if (!strcmp(a, "--trickle-ms")) trickle_ms = strtod(v, NULL);
        else {
            fprintf(stderr, "vigil-latency: unknown option %s\n", a);
            usage(stderr);
            return 1;
        }
        i++;
    }
    if (!brokers || !topic || !alerts || rate <= 0 || seconds <= 0 || every == 0 || busy < 0 || partitions < 0 ||
        (busy > 0) != (partitions > 0) || busy > partitions) {
        usage(stderr);
        return 1;
    }
    uint64_t total = (uint64_t)(rate * seconds);
    char err[512];

    /* Alerts reader: no group, every partition from the beginning (a fresh topic per run).
     * vigil-broker (the mock cluster) answers a fetch that finds nothing only after the
     * full fetch.wait.max.ms, which a real broker cuts short when data arrives: 1 ms keeps
     * that artefact of the measuring consumer out of the figure (it was 5 ms). */
    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    if (set(cc, "bootstrap.servers", brokers) || set(cc, "group.id", "vigil-latency") ||
        set(cc, "fetch.wait.max.ms", "1") || set(cc, "fetch.error.backoff.ms", "5"))
        return 1;
    struct alerts_reader ar = {.cap = total / every + 16};
    ar.lat_ms = malloc(sizeof(double) * ar.cap);
    ar.sent_ns = malloc(sizeof(int64_t) * ar.cap);
    ar.rk = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    if (!ar.rk || !ar.lat_ms || !ar.sent_ns) {
        fprintf(stderr, "vigil-latency: consumer: %s\n", err);
        return 2;
    }
    rd_kafka_poll_set_consumer(ar.rk);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *mt = rd_kafka_topic_new(ar.rk, alerts, NULL);
    int parts = 1;
    if (rd_kafka_metadata(ar.rk, 0, mt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
        md->topics[0].partition_cnt > 0)
        parts = md->topics[0].partition_cnt;
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(mt);
    rd_kafka_topic_partition_list_t *asg = rd_kafka_topic_partition_list_new(parts);
    for (int p = 0; p < parts; p++)
        rd_kafka_topic_partition_list_add(asg, alerts, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(ar.rk, asg);
    rd_kafka_topic_partition_list_destroy(asg);
    pthread_t reader;
    pthread_create(&reader, NULL, read_alerts, &ar);

    /* Producer: low linger so that batching adds little to the latency measured. */
    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    if (set(pc, "bootstrap.servers", brokers) || set(pc, "linger.ms", "1") ||
        set(pc, "batch.num.messages", "10000") || set(pc, "queue.buffering.max.messages", "1000000"))
        return 1;
    rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    if (!prod) {
        fprintf(stderr, "vigil-latency: producer: %s\n", err);
        return 2;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(prod, topic, NULL);

    struct vg_synth_options so;
    vg_synth_options_default(&so);
    so.transactions = 0; /* endless background */
    so.accounts = 100000;
    so.seed = seed;
    so.mean_interarrival_ms = 1;
    vg_synth_t *syn = vg_synth_create(&so, err, sizeof err);
    if (!syn) {
        fprintf(stderr, "vigil-latency: %s\n", err);
        return 2;
    }

    char line[VG_SYNTH_LINE_MAX + 128];
    struct vg_synth_txn t = {0};
    int64_t start = mono_ns(), last_ts = so.start_ms, now = start;
    int64_t next_trickle = start + (int64_t)(trickle_ms * 1e6);
    uint64_t triggers = 0, dropped = 0;
    for (uint64_t i = 0; i < total; i++) {
        /* Keep the schedule: record i is due at start + i/rate. The records due within one
         * tick go out together and the generator sleeps (absolute clock) until the next
         * tick: spinning to hit every 10 us at 100k/s would take a whole core of the two
         * that vigild, the broker and this tool share, and measure the contention instead. */
        int64_t due = start + (int64_t)((double)i * 1e9 / rate);
        if (due > now) {
            rd_kafka_poll(prod, 0);
            int64_t wake = start + (due - start + TICK_NS - 1) / TICK_NS * TICK_NS;
            struct timespec ts = {(time_t)(wake / 1000000000), (long)(wake % 1000000000)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
            now = mono_ns();
        }
        size_t len;
        /* The first 3 s are warm-up: producer and alerts reader connect (~2 s), and the first
         * alerts pay one-time costs on the alert path (seen: ~1 s for the first one). Their
         * triggers are marked W, which the reader ignores; L triggers are measured. */
        bool warm_up = (double)i < 3 * rate;
        if (i > 0 && warm_up != ((double)(i - 1) < 3 * rate)) {
            /* bench/run scrapes vigild's metrics here: its steady-state histograms start now. */
            fprintf(stderr, "warm-up done at record %" PRIu64 "\n", i);
            fflush(stderr);
        }
        if (i % every == every - 1 && warm_up) {
            len = (size_t)snprintf(line, sizeof line,
                                   "{\"id\":\"W%" PRIu64 "\",\"ts\":%" PRId64
                                   ",\"from\":\"warm-s%" PRIu64 "\",\"to\":\"warm-r%" PRIu64
                                   "\",\"amount\":25000,\"currency\":\"USD\",\"channel\":\"wire\"}",
                                   i, last_ts, i, i);
        } else if (i % every == every - 1) {
            /* A fresh pair of accounts per trigger, so the cooldown never hides one. */
            len = (size_t)snprintf(line, sizeof line,
                                   "{\"id\":\"L%" PRId64 "-%" PRIu64 "\",\"ts\":%" PRId64
                                   ",\"from\":\"lat-s%" PRIu64 "\",\"to\":\"lat-r%" PRIu64
                                   "\",\"amount\":25000,\"currency\":\"USD\",\"channel\":\"wire\"}",
                                   mono_ns(), i, last_ts, i, i);
            triggers++;
        } else {
            vg_synth_next(syn, &t);
            last_ts = t.ts_ms;
            len = vg_synth_format_ndjson(&t, line, sizeof line) - 1; /* without '\n' */
        }
        int32_t part = busy > 0 ? (int32_t)(i % (uint64_t)busy) : RD_KAFKA_PARTITION_UA;
        if (rd_kafka_produce(rkt, part, RD_KAFKA_MSG_F_COPY, line, len, NULL, 0, NULL)) {
            dropped++;
            rd_kafka_poll(prod, 1);
        }
        if (trickle_ms > 0 && busy < partitions && now >= next_trickle) {
            /* The quiet partitions: one background record each, in time order with the rest. */
            for (int32_t q = busy; q < partitions; q++) {
                char quiet[VG_SYNTH_LINE_MAX];
                vg_synth_next(syn, &t);
                last_ts = t.ts_ms;
                size_t qlen = vg_synth_format_ndjson(&t, quiet, sizeof quiet) - 1;
                if (rd_kafka_produce(rkt, q, RD_KAFKA_MSG_F_COPY, quiet, qlen, NULL, 0, NULL)) dropped++;
            }
            next_trickle += (int64_t)(trickle_ms * 1e6);
        }
        if ((i & 255) == 0) rd_kafka_poll(prod, 0);
    }
    double produce_s = (double)(mono_ns() - start) / 1e9;
    rd_kafka_flush(prod, 30000);

    int64_t drain_end = mono_ns() + (int64_t)(drain * 1e9);
    while (atomic_load(&ar.seen) < triggers && mono_ns() < drain_end) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&ar.stop, true);
    pthread_join(reader, NULL);

    size_t n = atomic_load(&ar.seen);
    if (n > ar.cap) n = ar.cap;
    /* The slowest ten with when they were produced (s after the start), before sorting. */
    for (int k = 0; k < 10 && n; k++) {
        size_t worst = 0;
        for (size_t i = 1; i < n; i++)
            if (ar.lat_ms[i] > ar.lat_ms[worst]) worst = i;
        if (ar.lat_ms[worst] < 0) break;
        fprintf(stderr, "slow: %.3f ms produced at %.3f s\n", ar.lat_ms[worst],
                (double)(ar.sent_ns[worst] - start) / 1e9);
        ar.lat_ms[worst] = -ar.lat_ms[worst] - 1; /* mark, restored below */
    }
    for (size_t i = 0; i < n; i++)
        if (ar.lat_ms[i] < 0) ar.lat_ms[i] = -(ar.lat_ms[i] + 1);
    /* p99 per 10 s of produce time (the last span may be shorter): does the tail grow as
     * the run goes on? */
    char by_10s[1024] = "";
    double *span_ms = malloc((n ? n : 1) * sizeof *span_ms);
    for (int64_t from = start, used = 0; span_ms && n && from < start + (int64_t)(produce_s * 1e9); from += 10000000000LL) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (ar.sent_ns[i] >= from && ar.sent_ns[i] < from + 10000000000LL) span_ms[k++] = ar.lat_ms[i];
        if (k == 0) continue;
        qsort(span_ms, k, sizeof(double), cmp_double);
        int w = snprintf(by_10s + used, sizeof by_10s - (size_t)used, "%s%.3f", used ? "," : "", pct(span_ms, k, 0.99));
        if (w < 0 || (size_t)(used + w) >= sizeof by_10s) break;
        used += w;
    }
    free(span_ms);
    qsort(ar.lat_ms, n, sizeof(double), cmp_double);
    printf("offered_rate=%.0f achieved_rate=%.0f records=%" PRIu64 " dropped=%" PRIu64 " triggers=%" PRIu64
           " alerts=%zu p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f p99_by_10s_ms=%s\n",
           rate, (double)total / produce_s, total, dropped, triggers, n, pct(ar.lat_ms, n, 0.5),
           pct(ar.lat_ms, n, 0.99), pct(ar.lat_ms, n, 0.999), n ? ar.lat_ms[n - 1] : 0.0, by_10s[0] ? by_10s : "-");
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (f) {
            for (size_t i = 0; i < n; i++) fprintf(f, "%.4f %.6f\n", ar.lat_ms[i], (double)(i + 1) / (double)n);
            fclose(f);
        }
    }
    vg_synth_destroy(syn);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(prod);
    rd_kafka_consumer_close(ar.rk);
    rd_kafka_destroy(ar.rk);
    free(ar.lat_ms);
    free(ar.sent_ns);
    return n == triggers ? 0 : 3;
}
