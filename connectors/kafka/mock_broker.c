/* mock_broker.c - the development broker: librdkafka's in-process Kafka-protocol mock cluster
 * on loopback, wrapped for vigil-broker and for vigild's `kafka.brokers: embedded`.
 * For demos and tests only; it keeps data in memory (up to VG_MOCK_PARTITION_BYTES per
 * partition, not librdkafka's 5 MiB: mock_retention.c). */
#include "vigil/kafka.h"
#include "kafka/mock_retention.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

struct vg_mock_broker {
    rd_kafka_t *rk;                 /* dummy handle that owns the cluster's bookkeeping */
    rd_kafka_mock_cluster_t *mcluster;
    int brokers;
    rd_kafka_t *client;             /* metadata client of vg_mock_broker_maintain, lazily */
    int partitions;                 /* partitions known when retention was last raised */
    size_t retention_raised;        /* partitions whose retention was raised */
    uint64_t retain_bytes, retain_sets; /* what each partition keeps (vg_mock_broker_set_retention) */
};

/* The dummy handle has no bootstrap.servers on purpose; keep only real errors. */
static void mock_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    if (level <= LOG_ERR)
        fprintf(stderr, "level=error event=mock_broker fac=%s msg=\"%s\"\n", fac, buf);
}

int vg_mock_broker_start(struct vg_mock_broker **out, int brokers, char *errstr,
                         size_t errstr_size) {
    struct vg_mock_broker *b = NULL;
    rd_kafka_conf_t *conf = NULL;

    *out = NULL;
    if (brokers < 1 || brokers > 16) {
        snprintf(errstr, errstr_size, "broker count %d out of range 1..16", brokers);
        return VG_ERR_INVALID;
    }
    b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(errstr, errstr_size, "out of memory");
        return VG_ERR_NOMEM;
    }
    b->brokers = brokers;
    b->retain_bytes = VG_MOCK_PARTITION_BYTES;
    b->retain_sets = VG_MOCK_PARTITION_SETS;
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, mock_log_cb);
    b->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (!b->rk)
        goto err; /* conf is still ours on failure */
    conf = NULL;  /* owned by b->rk */
    b->mcluster = rd_kafka_mock_cluster_new(b->rk, brokers);
    if (!b->mcluster) {
        snprintf(errstr, errstr_size, "cannot start the mock cluster (loopback listeners)");
        goto err;
    }
    *out = b;
    return VG_OK;

err:
    if (conf)
        rd_kafka_conf_destroy(conf);
    vg_mock_broker_destroy(b);
    return VG_ERR_INVALID;
}

int vg_mock_broker_create_topic(struct vg_mock_broker *b, const char *topic, int partitions,
                                char *errstr, size_t errstr_size) {
    rd_kafka_resp_err_t err;

    if (!topic[0] || partitions < 1 || partitions > 10000) {
        snprintf(errstr, errstr_size, "bad topic '%s' with %d partitions", topic, partitions);
        return VG_ERR_INVALID;
    }
    err = rd_kafka_mock_topic_create(b->mcluster, topic, partitions, VG_MIN(3, b->brokers));
    if (err) {
        snprintf(errstr, errstr_size, "topic '%s': %s", topic, rd_kafka_err2str(err));
        return VG_ERR_INVALID;
    }
    b->partitions += partitions;
    b->retention_raised += vg_mock_raise_retention(b->retain_bytes, b->retain_sets);
    return VG_OK;
}

void vg_mock_broker_set_retention(struct vg_mock_broker *b, uint64_t max_bytes, uint64_t max_sets) {
    b->retain_bytes = max_bytes;
    b->retain_sets = max_sets;
}

/* Topics a client asked for without creating them (auto-created, 4 partitions each by
 * librdkafka's default) start at the mock's small retention: when the cluster's metadata
 * shows more partitions than the ones raised, raise again. */
void vg_mock_broker_maintain(struct vg_mock_broker *b) {
    const struct rd_kafka_metadata *md = NULL;
    int total = 0;

    if (!b->client) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, mock_log_cb);
        if (rd_kafka_conf_set(conf, "bootstrap.servers", vg_mock_broker_bootstrap(b), errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            !(b->client = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
            rd_kafka_conf_destroy(conf);
            return;
        }
    }
    if (rd_kafka_metadata(b->client, 1, NULL, &md, 1000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    for (int i = 0; i < md->topic_cnt; i++)
        total += md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (total > b->partitions) {
        b->partitions = total;
        b->retention_raised += vg_mock_raise_retention(b->retain_bytes, b->retain_sets);
    }
}

size_t vg_mock_broker_raised(const struct vg_mock_broker *b) {
    return b->retention_raised;
}

const char *vg_mock_broker_bootstrap(const struct vg_mock_broker *b) {
    return rd_kafka_mock_cluster_bootstraps(b->mcluster);
}

int vg_mock_broker_inject_errors(struct vg_mock_broker *b, int api_key, size_t count,
                                 int error_code) {
    rd_kafka_resp_err_t *errs;

    if (api_key < 0 || api_key > INT16_MAX || count == 0 || count > 100000)
        return VG_ERR_INVALID;
    errs = malloc(count * sizeof(*errs));
    if (!errs)
        return VG_ERR_NOMEM;
    for (size_t i = 0; i < count; i++)
        errs[i] = (rd_kafka_resp_err_t)error_code;
    rd_kafka_mock_push_request_errors_array(b->mcluster, (int16_t)api_key, count, errs);
    free(errs);
    return VG_OK;
}

void vg_mock_broker_clear_errors(struct vg_mock_broker *b, int api_key) {
    if (api_key >= 0 && api_key <= INT16_MAX)
        rd_kafka_mock_clear_request_errors(b->mcluster, (int16_t)api_key);
}

void vg_mock_broker_destroy(struct vg_mock_broker *b) {
    if (!b)
        return;
    if (b->client)
        rd_kafka_destroy(b->client);
    if (b->mcluster)
        rd_kafka_mock_cluster_destroy(b->mcluster);
    if (b->rk)
        rd_kafka_destroy(b->rk);
    free(b);
}
