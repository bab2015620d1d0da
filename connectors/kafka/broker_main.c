/* broker_main.c - vigil-broker: librdkafka's mock Kafka cluster as a standalone loopback
 * process for demos, tests and benchmarks (contract section 8). Prints `bootstrap=...` as its
 * first stdout line, serves until SIGTERM/SIGINT. Not a real broker: data lives in memory. */
#include "vigil/kafka.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOPICS 64

static void usage(FILE *f) {
    fprintf(f, "usage: vigil-broker [--brokers N] [--topic NAME:PARTITIONS]... [--retain-sets N]\n"
               "  Runs an in-memory Kafka-protocol cluster on 127.0.0.1, prints\n"
               "  bootstrap=HOST:PORT[,...] on the first stdout line, serves until SIGTERM.\n"
               "  Partitions keep everything up to 1 GiB; --retain-sets N keeps only each one's\n"
               "  newest N message sets (produce batches): a long live run stays fast, as the\n"
               "  broker walks a partition's sets from the oldest to serve a fetch.\n");
}

/* Parses a decimal in [lo, hi]; returns VG_OK or VG_ERR_INVALID. */
static int parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return VG_ERR_INVALID;
    *out = v;
    return VG_OK;
}

int main(int argc, char **argv) {
    long brokers = 1;
    const char *topics[MAX_TOPICS];
    long partitions[MAX_TOPICS];
    int topic_count = 0;
    /* Test hook (undocumented in --help): each SIGUSR1 makes the next N Produce requests
     * fail with CODE (default 19, NOT_ENOUGH_REPLICAS: retriable); SIGUSR2 drops the
     * failures not used up yet. */
    long inject_count = 0, inject_code = 19;
    char errstr[512];
    struct vg_mock_broker *b = NULL;
    sigset_t set;
    int sig;
    long retain_sets = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--retain-sets") && v) {
            if (parse_int(v, 1, 100000000, &retain_sets)) {
                fprintf(stderr, "vigil-broker: --retain-sets: '%s' is not in 1..100000000\n", v);
                return 1;
            }
            i++;
        } else if (!strcmp(a, "--brokers") && v) {
            if (parse_int(v, 1, 16, &brokers)) {
                fprintf(stderr, "vigil-broker: --brokers: '%s' is not in 1..16\n", v);
                return 1;
            }
            i++;
        } else if (!strcmp(a, "--topic") && v) {
            const char *colon = strrchr(v, ':');
            long n = 1;
            if (topic_count == MAX_TOPICS) {
                fprintf(stderr, "vigil-broker: at most %d --topic\n", MAX_TOPICS);
                return 1;
            }
            /* NAME:PARTITIONS, both given: a bare name would silently get one partition. */
            if (!colon || colon == v || parse_int(colon + 1, 1, 10000, &n)) {
                fprintf(stderr, "vigil-broker: --topic: expected NAME:PARTITIONS (e.g. transactions:4), got '%s'\n",
                        v);
                return 1;
            }
            /* Cut the name in place: argv strings are ours to modify. */
            argv[i + 1][colon - v] = '\0';
            topics[topic_count] = argv[i + 1];
            partitions[topic_count++] = n;
            i++;
        } else if (!strcmp(a, "--inject-produce-errors") && v) {
            char *colon = strchr(argv[i + 1], ':');
            if (colon) {
                *colon = '\0';
                if (parse_int(colon + 1, 1, 32767, &inject_code)) {
                    fprintf(stderr, "vigil-broker: bad error code '%s'\n", colon + 1);
                    return 1;
                }
            }
            if (parse_int(argv[i + 1], 1, 100000, &inject_count)) {
                fprintf(stderr, "vigil-broker: bad --inject-produce-errors '%s'\n", v);
                return 1;
            }
            i++;
        } else {
            fprintf(stderr, "vigil-broker: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 1;
        }
    }

    /* Block the signals before librdkafka starts threads so that they inherit the mask and
     * only sigwait() below sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (vg_mock_broker_start(&b, (int)brokers, errstr, sizeof(errstr))) {
        fprintf(stderr, "vigil-broker: %s\n", errstr);
        return 2;
    }
    if (retain_sets > 0)
        vg_mock_broker_set_retention(b, VG_MOCK_PARTITION_BYTES, (uint64_t)retain_sets);
    for (int t = 0; t < topic_count; t++) {
        if (vg_mock_broker_create_topic(b, topics[t], (int)partitions[t], errstr,
                                        sizeof(errstr))) {
            fprintf(stderr, "vigil-broker: %s\n", errstr);
            vg_mock_broker_destroy(b);
            return 1;
        }
    }
    printf("bootstrap=%s\n", vg_mock_broker_bootstrap(b));
    fflush(stdout);
    if (topic_count > 0 && vg_mock_broker_raised(b) == 0)
        fprintf(stderr, "vigil-broker: warning: could not raise librdkafka's mock partition retention; "
                        "each partition keeps only its newest ~5 MiB\n");

    for (;;) {
        /* Once a second: topics auto-created meanwhile get the raised retention too. */
        struct timespec tick = {1, 0};
        sig = sigtimedwait(&set, NULL, &tick);
        if (sig < 0) {
            vg_mock_broker_maintain(b);
            continue;
        }
        if (sig == SIGUSR1) {
            if (inject_count > 0 &&
                vg_mock_broker_inject_errors(b, 0, (size_t)inject_count, (int)inject_code) == VG_OK)
                fprintf(stderr, "vigil-broker: next %ld Produce requests fail with error %ld\n",
                        inject_count, inject_code);
            continue;
        }
        if (sig == SIGUSR2) {
            vg_mock_broker_clear_errors(b, 0);
            fprintf(stderr, "vigil-broker: injected Produce errors cleared\n");
            continue;
        }
        break;
    }
    vg_mock_broker_destroy(b);
    return 0;
}
