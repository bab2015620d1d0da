/* kafka_health.c - whether the consumer reaches the Kafka cluster, for /healthz and the
 * systemd watchdog (vg_daemon.kafka_unreachable): librdkafka's "all brokers down" error at
 * once, and from its statistics every second a cluster that holds requests without answering
 * (a hung broker keeps its TCP connections up, so no error comes for a long time). */
#include "kafka/kafka_health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka_run.h"
#include "vigil/log.h"

/* The value after "key": in json at or after from, before end; NULL when absent. */
static const char *kt_health_field(const char *from, const char *end, const char *key) {
    const char *at = strstr(from, key);
    return at && at < end ? at + strlen(key) : NULL;
}

bool kt_health_unreachable(const char *json, int64_t stall_ms) {
    const char *brokers = strstr(json, "\"brokers\":{");
    const char *end;
    int up = 0, stalled = 0, answering = 0;

    if (!brokers)
        return false; /* nothing to judge by: keep the previous verdict's caller default */
    end = strstr(brokers, "\"topics\":{");
    if (!end)
        end = brokers + strlen(brokers);
    /* Each broker object starts with "name", "nodeid", "nodename", "source", "state", ...,
     * "waitresp_cnt", ..., "rxidle" before its nested objects (librdkafka's STATISTICS.md). */
    for (const char *b = strstr(brokers, "\"nodeid\":"); b && b < end; b = strstr(b + 1, "\"nodeid\":")) {
        const char *source = kt_health_field(b, end, "\"source\":\"");
        const char *state = kt_health_field(b, end, "\"state\":\"");
        const char *waitresp = kt_health_field(b, end, "\"waitresp_cnt\":");
        const char *rxidle = kt_health_field(b, end, "\"rxidle\":");
        if (!source || !state || !waitresp || !rxidle)
            break;
        if (!strncmp(source, "internal\"", 9) || strncmp(state, "UP\"", 3) != 0)
            continue;
        long long idle_us = strtoll(rxidle, NULL, 10);
        up++;
        /* The group coordinator's own connection holds a JoinGroup for as long as a
         * rebalance takes: its silence says nothing (the fetch connections do). */
        if (!strncmp(source, "logical\"", 8))
            continue;
        if (idle_us >= 0 && idle_us <= stall_ms * 1000)
            answering++;
        else if (strtol(waitresp, NULL, 10) > 0)
            stalled++;
    }
    /* No connection up, or requests outstanding and nothing heard from any broker for the
     * whole stall time. A connection without requests and without recent traffic proves
     * nothing either way (a heartbeat-only coordinator between beats). */
    return up == 0 || (stalled > 0 && answering == 0);
}

static void kt_health_set(struct kt_run *r, bool unreachable, const char *why) {
    if (atomic_exchange(&r->d->kafka_unreachable, unreachable) == unreachable)
        return;
    if (unreachable)
        vg_warn("kafka_unreachable", "why=\"%s\" msg=\"no broker answers: /healthz 503, WATCHDOG=1 "
                "withheld\"", why);
    else
        vg_info("kafka_reachable", "msg=\"a broker answers again\"");
}

static int kt_health_stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque) {
    struct kt_run *r = opaque;
    (void)rk, (void)json_len;
    kt_health_set(r, kt_health_unreachable(json, r->health_stall_ms), "requests unanswered");
    return 0; /* librdkafka frees json */
}

static void kt_health_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    struct kt_run *r = opaque;
    kt_log_error(rk, err, reason);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        kt_health_set(r, true, "all brokers down");
}

void kt_health_conf(struct kt_run *r, rd_kafka_conf_t *conf) {
    char value[32], unused[128];
    size_t size = sizeof(value);
    long fetch_wait = 500;

    if (rd_kafka_conf_get(conf, "fetch.wait.max.ms", value, &size) == RD_KAFKA_CONF_OK)
        fetch_wait = strtol(value, NULL, 10);
    /* A fetch may rightly wait fetch.wait.max.ms for an answer. */
    r->health_stall_ms = KT_HEALTH_STALL_MS + fetch_wait;
    snprintf(value, sizeof(value), "%d", KT_HEALTH_STATS_MS);
    (void)rd_kafka_conf_set(conf, "statistics.interval.ms", value, unused, sizeof(unused));
    rd_kafka_conf_set_stats_cb(conf, kt_health_stats_cb);
    rd_kafka_conf_set_error_cb(conf, kt_health_error_cb);
}
