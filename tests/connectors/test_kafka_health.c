/* test_kafka_health.c - the verdict /healthz and the watchdog follow: from librdkafka
 * statistics, whether no broker answers the consumer (kafka_health.c). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "kafka/kafka_health.h"

/* One statistics document with the given brokers (as librdkafka 2.0 writes them, trimmed). */
static const char *stats(char *buf, size_t size, const char *brokers) {
    snprintf(buf, size,
             "{ \"name\": \"vigild#consumer-2\", \"type\": \"consumer\", \"brokers\":{ %s }, "
             "\"topics\":{ \"transactions\": { \"topic\":\"transactions\", \"partitions\":{ "
             "\"0\": { \"partition\":0, \"leader\":1, \"nodeid\":1 } } } }, \"cgrp\": { } }",
             brokers);
    return buf;
}

#define BROKER(name, id, source, state, waitresp, rxidle)                                       \
    "\"" name "\": { \"name\":\"" name "\", \"nodeid\":" #id ", \"nodename\":\"127.0.0.1:9\", "  \
    "\"source\":\"" source "\", \"state\":\"" state "\", \"stateage\":5, \"outbuf_cnt\":0, "     \
    "\"outbuf_msg_cnt\":0, \"waitresp_cnt\":" #waitresp ", \"waitresp_msg_cnt\":0, \"tx\":9, "   \
    "\"txidle\":10, \"rx\":9, \"rxidle\":" #rxidle ", \"int_latency\": { \"min\":0 }, "          \
    "\"req\": { \"Fetch\": 3 }, \"toppars\":{ } }"

#define INTERNAL BROKER(":0/internal", -1, "internal", "UP", 0, -1)

Test(kafka_health, answering_broker_is_reachable) {
    char b[4096];
    /* A fetch waits, but the broker answered 2 ms ago. */
    cr_assert_not(kt_health_unreachable(
        stats(b, sizeof b, INTERNAL ", " BROKER("127.0.0.1:9/1", 1, "learned", "UP", 1, 2000)), 3500));
    /* Idle connections, nothing asked: no evidence of trouble (heartbeat between beats). */
    cr_assert_not(kt_health_unreachable(
        stats(b, sizeof b, INTERNAL ", " BROKER("127.0.0.1:9/1", 1, "learned", "UP", 0, 9000000)), 3500));
}

Test(kafka_health, silent_broker_holding_requests_is_unreachable) {
    char b[4096];
    /* SIGSTOPped broker: its connection stays up, the fetch waits 8 s without an answer; the
     * bootstrap connection is idle and proves nothing. */
    cr_assert(kt_health_unreachable(
        stats(b, sizeof b, INTERNAL ", " BROKER("127.0.0.1:9/bootstrap", -1, "configured", "UP", 0, 20000000)
                           ", " BROKER("127.0.0.1:9/1", 1, "learned", "UP", 2, 8000000)), 3500));
    /* The coordinator's connection waits on a JoinGroup (rebalance) with the fetch
     * connection idle: a rebalance, not an outage. */
    cr_assert_not(kt_health_unreachable(
        stats(b, sizeof b, BROKER("127.0.0.1:9/1", 1, "configured", "UP", 0, 5000000)
                           ", " BROKER("GroupCoordinator", 1, "logical", "UP", 1, 9000000)), 3500));
    /* One of two brokers silent while the other answers: still reachable. */
    cr_assert_not(kt_health_unreachable(
        stats(b, sizeof b, BROKER("a/1", 1, "learned", "UP", 2, 8000000) ", " BROKER("b/2", 2, "learned", "UP", 0, 100000)), 3500));
}

Test(kafka_health, no_connection_up_is_unreachable) {
    char b[4096];
    cr_assert(kt_health_unreachable(
        stats(b, sizeof b, INTERNAL ", " BROKER("127.0.0.1:9/1", 1, "learned", "CONNECT", 0, -1)), 3500));
    cr_assert(kt_health_unreachable(stats(b, sizeof b, INTERNAL), 3500));
    /* Not a statistics document: no verdict against the cluster. */
    cr_assert_not(kt_health_unreachable("{}", 3500));
}
