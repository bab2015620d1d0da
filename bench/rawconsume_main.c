/* rawconsume_main.c - vigil-rawconsume: the Kafka baseline of the benchmark. A plain
 * librdkafka group consumer that reads every message of a topic in batches and does nothing
 * with them (no parsing), then prints its rate; vigild's Kafka throughput is compared to it. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define BATCH 10000
#define MAX_PROPS 32

static void usage(FILE *f) {
    fprintf(f,
            "usage: vigil-rawconsume --brokers B --topic T --group G [--count N] [--timeout S]\n"
            "                        [-X key=value]...\n"
            "  Reads the topic from the beginning in batches of %d until N messages (or, without\n"
            "  --count, the end of every partition), then prints\n"
            "  records=N bytes=B seconds=S rate=R first_ms=F on stdout. S and R span the first\n"
            "  to the last message (group join excluded); first_ms is the join time.\n",
            BATCH);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v) {
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "vigil-rawconsume: %s=%s: %s\n", k, v, err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *brokers = NULL, *topic = NULL, *group = NULL;
    const char *props[MAX_PROPS];
    int nprops = 0;
    uint64_t want = 0;
    double timeout_s = 600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "vigil-rawconsume: %s: missing value or unknown option\n", a);
            return 1;
        }
        if (!strcmp(a, "--brokers")) brokers = v;
        else if (!strcmp(a, "--topic")) topic = v;
        else if (!strcmp(a, "--group")) group = v;
        else if (!strcmp(a, "--count")) want = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--timeout")) timeout_s = strtod(v, NULL);
        else if (!strcmp(a, "-X") && nprops < MAX_PROPS && strchr(v, '=')) props[nprops++] = v;
        else {
            fprintf(stderr, "vigil-rawconsume: unknown option %s\n", a);
            usage(stderr);
            return 1;
        }
        i++;
    }
    if (!brokers || !topic || !group) {
        usage(stderr);
        return 1;
    }

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The plain way to read a topic fast: every partition through the one consumer queue,
     * a 16 MB prefetch for all of them, any order. vigild reads each partition's queue
     * itself with a small per-partition prefetch (connectors/kafka/kafka_conf.c), because
     * its event-time merge needs the partitions read evenly; the fetch wait is the same. */
    if (set(conf, "bootstrap.servers", brokers) || set(conf, "group.id", group) ||
        set(conf, "auto.offset.reset", "earliest") || set(conf, "enable.auto.commit", "false") ||
        set(conf, "queued.max.messages.kbytes", "16384") || set(conf, "fetch.wait.max.ms", "50") ||
        set(conf, "enable.partition.eof", want ? "false" : "true") ||
        set(conf, "client.id", "vigil-rawconsume"))
        return 1;
    for (int i = 0; i < nprops; i++) {
        char kv[512];
        snprintf(kv, sizeof kv, "%s", props[i]);
        char *eq = strchr(kv, '=');
        *eq = '\0';
        if (set(conf, kv, eq + 1)) return 1;
    }
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "vigil-rawconsume: %s\n", err);
        return 2;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        fprintf(stderr, "vigil-rawconsume: subscribe %s: %s\n", topic, rd_kafka_err2str(e));
        return 2;
    }
    /* Partition count, so that without --count the end of every partition ends the run. */
    int partitions = 0;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1)
        partitions = md->topics[0].partition_cnt;
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);

    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t **msgs = malloc(sizeof *msgs * BATCH);
    if (!q || !msgs) {
        fprintf(stderr, "vigil-rawconsume: out of memory\n");
        return 2;
    }
    uint64_t n = 0, bytes = 0;
    int eofs = 0;
    double start = now_s(), first = 0, last = 0;
    int rc = 0;
    while (want ? n < want : (partitions == 0 || eofs < partitions)) {
        if (now_s() - start > timeout_s) {
            fprintf(stderr, "vigil-rawconsume: timeout after %" PRIu64 " messages\n", n);
            rc = 2;
            break;
        }
        ssize_t got = rd_kafka_consume_batch_queue(q, 100, msgs, BATCH);
        if (got < 0) {
            fprintf(stderr, "vigil-rawconsume: consume: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
            rc = 2;
            break;
        }
        for (ssize_t i = 0; i < got; i++) {
            rd_kafka_message_t *m = msgs[i];
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) eofs++;
            else if (m->err) fprintf(stderr, "vigil-rawconsume: %s\n", rd_kafka_message_errstr(m));
            else {
                if (n == 0) first = now_s();
                n++;
                bytes += m->len;
            }
            rd_kafka_message_destroy(m);
        }
        if (got > 0 && n) last = now_s();
    }
    double secs = last > first ? last - first : 0;
    printf("records=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f rate=%.0f first_ms=%.0f\n", n, bytes, secs,
           secs > 0 ? (double)(n - 1) / secs : 0.0, first > 0 ? (first - start) * 1e3 : 0.0);
    free(msgs);
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}
