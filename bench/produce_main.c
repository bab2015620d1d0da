/* produce_main.c - vigil-produce: loads an NDJSON file into a Kafka topic as fast as the
 * broker takes it (one message per line, no key), for the benchmark's Kafka-path workload.
 * Faster than kcat -P for millions of small messages; round-robin over the partitions;
 * prints records=N seconds=S rate=R. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err && failed++ == 0)
        fprintf(stderr, "vigil-produce: delivery failed: %s\n", rd_kafka_err2str(m->err));
}

int main(int argc, char **argv) {
    const char *brokers = NULL, *topic = NULL, *path = NULL;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: vigil-produce --brokers B --topic T --input FILE\n"
                   "Produces each line of FILE as one message to topic T (bench and tests).\n");
            return 0;
        }
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--brokers")) brokers = argv[i + 1];
        else if (!strcmp(argv[i], "--topic")) topic = argv[i + 1];
        else if (!strcmp(argv[i], "--input")) path = argv[i + 1];
        else {
            fprintf(stderr, "vigil-produce: unknown option %s\n", argv[i]);
            return 1;
        }
    }
    if (!brokers || !topic || !path) {
        fprintf(stderr, "usage: vigil-produce --brokers B --topic T --input FILE\n");
        return 1;
    }
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        fprintf(stderr, "vigil-produce: %s: %s\n", path, fd < 0 ? strerror(errno) : "empty or unreadable");
        return 2;
    }
    size_t size = (size_t)st.st_size;
    const char *data = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (data == MAP_FAILED) {
        fprintf(stderr, "vigil-produce: mmap: %s\n", strerror(errno));
        return 2;
    }

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", brokers}, {"linger.ms", "20"},
                           {"batch.num.messages", "100000"}, {"batch.size", "4000000"},
                           {"queue.buffering.max.messages", "1000000"},
                           {"queue.buffering.max.kbytes", "1048576"}, {"compression.codec", "none"},
                           {"client.id", "vigil-produce"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "vigil-produce: %s: %s\n", kv[i][0], err);
            return 1;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "vigil-produce: %s\n", err);
        return 2;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    /* Messages go round-robin over the partitions: librdkafka's mock cluster keeps only the
     * newest ~5 MB of each partition, so a topic holds a big file only when spread evenly. */
    int32_t parts = 1;
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
        md->topics[0].partition_cnt > 0)
        parts = md->topics[0].partition_cnt;
    if (md) rd_kafka_metadata_destroy(md);

    double t0 = now_s();
    uint64_t n = 0;
    const char *p = data, *end = data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le > p) {
            /* The file stays mapped until the end, so librdkafka need not copy. */
            while (rd_kafka_produce(rkt, (int32_t)(n % (uint64_t)parts), 0, (void *)p, (size_t)(le - p), NULL, 0,
                                    NULL) != 0) {
                if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    fprintf(stderr, "vigil-produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
                    return 2;
                }
                rd_kafka_poll(rk, 10);
            }
            n++;
            if ((n & 1023) == 0) rd_kafka_poll(rk, 0);
        }
        p = le + 1;
    }
    while (rd_kafka_flush(rk, 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    }
    double secs = now_s() - t0;
    printf("records=%" PRIu64 " failed=%" PRIu64 " seconds=%.6f rate=%.0f\n", n, failed, secs,
           secs > 0 ? (double)n / secs : 0.0);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    munmap((void *)data, size);
    close(fd);
    return failed ? 2 : 0;
}
