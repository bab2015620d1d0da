/* demo_feed.c - the `vigild --demo` input: a thread producing the synthetic transaction
 * stream (connectors/synth) as NDJSON into a Kafka topic at a steady rate. Demo only; real
 * deployments read transactions that other systems produce. */
#include "vigil/kafka.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "vigil/engine.h"
#include "vigil/log.h"
#include "vigil/synth.h"

#define FEED_TICK_NS (10 * 1000000LL)

struct vg_demo_feed {
    pthread_t thread;
    atomic_bool stop;
    _Atomic uint64_t count;
    rd_kafka_t *rk;
    vg_synth_t *synth;
    uint32_t rate_per_s;
    char topic[VG_TOPIC_MAX + 1];
};

static void feed_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    if (level <= LOG_WARNING)
        vg_log(VG_LOG_WARN, "demo_feed", "fac=%s msg=\"%s\"", fac, buf);
}

static void *feed_main(void *arg) {
    struct vg_demo_feed *f = arg;
    char line[VG_SYNTH_LINE_MAX];
    struct vg_synth_txn t;
    int64_t start = vg_now_mono_ns();
    uint64_t sent = 0;

    while (!atomic_load(&f->stop)) {
        struct timespec tick = {0, FEED_TICK_NS};
        int64_t elapsed = vg_now_mono_ns() - start;
        uint64_t target = (uint64_t)((double)elapsed / 1e9 * f->rate_per_s);

        while (sent < target && !atomic_load(&f->stop)) {
            size_t n;
            rd_kafka_resp_err_t err;
            if (!vg_synth_next(f->synth, &t)) {
                atomic_store(&f->stop, true); /* a finite stream ended */
                break;
            }
            n = vg_synth_format_ndjson(&t, line, sizeof(line));
            if (n && line[n - 1] == '\n')
                n--;
            do {
                err = rd_kafka_producev(f->rk, RD_KAFKA_V_TOPIC(f->topic),
                                        RD_KAFKA_V_KEY(t.from, t.from_len),
                                        RD_KAFKA_V_VALUE(line, n),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                    rd_kafka_poll(f->rk, 10);
            } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !atomic_load(&f->stop));
            if (err)
                break;
            sent++;
            atomic_store_explicit(&f->count, sent, memory_order_relaxed);
        }
        rd_kafka_poll(f->rk, 0);
        nanosleep(&tick, NULL);
    }
    rd_kafka_flush(f->rk, 2000);
    return NULL;
}

int vg_kafka_demo_feed_start(struct vg_demo_feed **out, const char *bootstrap, const char *topic,
                             uint32_t rate_per_s, uint64_t seed, char *errstr,
                             size_t errstr_size) {
    struct vg_demo_feed *f = calloc(1, sizeof(*f));
    struct vg_synth_options opt;
    rd_kafka_conf_t *conf = NULL;

    *out = NULL;
    if (!f) {
        snprintf(errstr, errstr_size, "out of memory");
        return VG_ERR_NOMEM;
    }
    f->rate_per_s = rate_per_s ? rate_per_s : 2000;
    snprintf(f->topic, sizeof(f->topic), "%s", topic);
    vg_synth_options_default(&opt);
    opt.seed = seed;
    opt.transactions = 0; /* endless */
    /* The endless stream spreads one instance of every injected typology over two days of
     * event time; 1.5 s of event time per record at the demo's few thousand records/s
     * brings every typology into the first minute. */
    opt.mean_interarrival_ms = 1500;
    opt.names = true; /* parties named, a few on the demo sanctions list (vigild_main.c loads it) */
    f->synth = vg_synth_create(&opt, errstr, errstr_size);
    if (!f->synth)
        goto err;
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, feed_log_cb);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, errstr_size) ||
        rd_kafka_conf_set(conf, "linger.ms", "5", errstr, errstr_size) ||
        rd_kafka_conf_set(conf, "client.id", "vigild-demo-feed", errstr, errstr_size))
        goto err;
    f->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (!f->rk)
        goto err;
    conf = NULL; /* owned by f->rk */
    if (pthread_create(&f->thread, NULL, feed_main, f)) {
        snprintf(errstr, errstr_size, "cannot start the demo feed thread");
        goto err;
    }
    vg_info("demo_feed_started", "topic=%s rate=%u seed=%llu", f->topic, f->rate_per_s,
            (unsigned long long)seed);
    *out = f;
    return VG_OK;

err:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (f->rk)
        rd_kafka_destroy(f->rk);
    if (f->synth)
        vg_synth_destroy(f->synth);
    free(f);
    return VG_ERR_INVALID;
}

uint64_t vg_kafka_demo_feed_count(const struct vg_demo_feed *f) {
    return f ? atomic_load_explicit(&f->count, memory_order_relaxed) : 0;
}

uint64_t vg_kafka_demo_feed_stop(struct vg_demo_feed *f) {
    uint64_t produced;
    if (!f)
        return 0;
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    produced = atomic_load(&f->count);
    vg_info("demo_feed_stopped", "produced=%llu", (unsigned long long)produced);
    rd_kafka_destroy(f->rk);
    vg_synth_destroy(f->synth);
    free(f);
    return produced;
}
