/* goaml_kafka.c - vigil-goaml on Kafka (goaml_kafka.h): consumes the alerts topic in its own
 * consumer group and, optionally, produces the validated drafts to a topic. Uses vigild's
 * client configuration (kafka.brokers, kafka.properties) with the group and roles changed. */
#include "vigil/goaml_kafka.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "kafka/kafka_int.h"
#include "vigil/log.h"

struct vg_goaml_kafka {
    const struct vg_config *cfg;
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_topic_partition_list_t *eof;   /* partitions read to their end (--once) */
    int delivery_failed;
    pthread_mutex_t lag_lock;               /* the lag table is read by the metrics thread */
    size_t n_lag;
    struct {
        int32_t partition;
        int64_t lag;
    } lag[VG_GOAML_KAFKA_LAG_MAX];
};

/* Records how far partition's high watermark (librdkafka's cached one: no broker call) is
 * past next_offset, the next alert this consumer reads. */
static void note_lag(struct vg_goaml_kafka *k, const char *topic, int32_t partition, int64_t next_offset) {
    int64_t low = 0, high = 0;
    if (next_offset >= 0 &&
        rd_kafka_get_watermark_offsets(k->consumer, topic, partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    int64_t lag = next_offset < 0 ? 0 : high > next_offset ? high - next_offset : 0;
    pthread_mutex_lock(&k->lag_lock);
    size_t i = 0;
    while (i < k->n_lag && k->lag[i].partition != partition) i++;
    if (i == k->n_lag && k->n_lag < VG_GOAML_KAFKA_LAG_MAX) k->n_lag++;
    if (i < k->n_lag) {
        k->lag[i].partition = partition;
        k->lag[i].lag = lag;
    }
    pthread_mutex_unlock(&k->lag_lock);
}

size_t vg_goaml_kafka_lag(struct vg_goaml_kafka *k, int32_t *partitions, int64_t *lags, size_t max) {
    pthread_mutex_lock(&k->lag_lock);
    size_t n = VG_MIN(max, k->n_lag);
    for (size_t i = 0; i < n; i++) {
        partitions[i] = k->lag[i].partition;
        lags[i] = k->lag[i].lag;
    }
    pthread_mutex_unlock(&k->lag_lock);
    return n;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) {
        struct vg_goaml_kafka *k = m->_private;
        if (k) k->delivery_failed = 1;
        vg_error("goaml_delivery_failed", "error=%s", rd_kafka_err2name(m->err));
    }
}

int vg_goaml_kafka_create(struct vg_goaml_kafka **out, const struct vg_config *cfg, char *errstr, size_t errstr_size) {
    if (!cfg->report) {
        snprintf(errstr, errstr_size, "report: the section is missing");
        return VG_ERR_INVALID;
    }
    if (!strcmp(cfg->kafka.brokers, "embedded")) {
        snprintf(errstr, errstr_size, "kafka.brokers: vigil-goaml needs the bootstrap list of vigild's brokers, "
                                      "not `embedded`");
        return VG_ERR_INVALID;
    }
    struct vg_goaml_kafka *k = calloc(1, sizeof *k);
    if (!k) return VG_ERR_NOMEM;
    k->cfg = cfg;
    pthread_mutex_init(&k->lag_lock, NULL);
    k->eof = rd_kafka_topic_partition_list_new(8);
    rd_kafka_conf_t *conf = kt_conf_new(cfg, cfg->kafka.brokers, KT_CONSUMER, errstr, errstr_size);
    if (!conf) goto err;
    if (rd_kafka_conf_set(conf, "group.id", cfg->report->group, errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "client.id", "vigil-goaml", errstr, errstr_size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, errstr_size) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        goto err;
    }
    k->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!k->consumer) {
        rd_kafka_conf_destroy(conf);
        goto err;
    }
    conf = NULL; /* owned by the consumer */
    rd_kafka_poll_set_consumer(k->consumer);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, cfg->output.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        snprintf(errstr, errstr_size, "subscribe %s: %s", cfg->output.topic, rd_kafka_err2str(e));
        goto err;
    }
    if (cfg->report->output_topic[0]) {
        rd_kafka_conf_t *pconf = kt_conf_new(cfg, cfg->kafka.brokers, KT_PRODUCER, errstr, errstr_size);
        if (!pconf) goto err;
        rd_kafka_conf_set(pconf, "client.id", "vigil-goaml", errstr, errstr_size);
        rd_kafka_conf_set_dr_msg_cb(pconf, on_delivery);
        k->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, errstr_size);
        if (!k->producer) {
            rd_kafka_conf_destroy(pconf);
            goto err;
        }
    }
    *out = k;
    return VG_OK;
err:
    vg_goaml_kafka_destroy(k);
    return VG_ERR_INVALID;
}

int vg_goaml_kafka_publish(void *opaque, const char *case_id, const char *xml, size_t len) {
    struct vg_goaml_kafka *k = opaque;
    k->delivery_failed = 0;
    rd_kafka_resp_err_t e = rd_kafka_producev(
        k->producer, RD_KAFKA_V_TOPIC(k->cfg->report->output_topic), RD_KAFKA_V_KEY(case_id, strlen(case_id)),
        RD_KAFKA_V_VALUE((void *)xml, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(k),
        RD_KAFKA_V_END);
    if (e) {
        vg_error("goaml_produce_failed", "case=%s error=%s", case_id, rd_kafka_err2name(e));
        return VG_ERR_IO;
    }
    /* one draft at a time, acknowledged before the case counts as written */
    if (rd_kafka_flush(k->producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || k->delivery_failed) return VG_ERR_IO;
    return VG_OK;
}

/* Whether every assigned partition was read to its end: a partition-EOF event since its
 * last message, or (nothing read in this run) a committed offset at the high watermark. */
static bool all_at_end(struct vg_goaml_kafka *k) {
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(k->consumer, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR || !assigned) return false;
    bool done = assigned->cnt > 0;
    for (int i = 0; i < assigned->cnt && done; i++) {
        rd_kafka_topic_partition_t *p = &assigned->elems[i];
        if (rd_kafka_topic_partition_list_find(k->eof, p->topic, p->partition)) continue;
        int64_t low = 0, high = 0;
        rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(one, p->topic, p->partition);
        done = rd_kafka_committed(k->consumer, one, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
               rd_kafka_query_watermark_offsets(k->consumer, p->topic, p->partition, &low, &high, 5000) ==
                   RD_KAFKA_RESP_ERR_NO_ERROR &&
               (high == low || one->elems[0].offset >= high);
        rd_kafka_topic_partition_list_destroy(one);
    }
    rd_kafka_topic_partition_list_destroy(assigned);
    return done;
}

int vg_goaml_kafka_run(struct vg_goaml_kafka *k, struct vg_goaml_drafter *d, bool once, volatile sig_atomic_t *stop) {
    int rc = 0;
    bool uncommitted = false;
    while (!*stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, 200);
        if (!m) {
            if (once && all_at_end(k)) break;
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (!rd_kafka_topic_partition_list_find(k->eof, rd_kafka_topic_name(m->rkt), m->partition))
                rd_kafka_topic_partition_list_add(k->eof, rd_kafka_topic_name(m->rkt), m->partition);
            note_lag(k, rd_kafka_topic_name(m->rkt), m->partition, -1); /* read to its end */
        } else if (m->err) {
            vg_warn("goaml_consume_error", "error=%s", rd_kafka_err2name(m->err));
        } else {
            rd_kafka_topic_partition_list_del(k->eof, rd_kafka_topic_name(m->rkt), m->partition);
            vg_goaml_drafter_line(d, m->payload ? m->payload : "", m->payload ? m->len : 0);
            note_lag(k, rd_kafka_topic_name(m->rkt), m->partition, m->offset + 1);
            /* a list of librdkafka's own: offsets_store may hang a partition reference on it,
             * released only by list_destroy (a leaked one blocks rd_kafka_destroy) */
            rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(pos, rd_kafka_topic_name(m->rkt), m->partition)->offset = m->offset + 1;
            rd_kafka_offsets_store(k->consumer, pos);
            rd_kafka_topic_partition_list_destroy(pos);
            uncommitted = true;
        }
        rd_kafka_message_destroy(m);
        if (uncommitted && vg_goaml_drafter_open_cases(d) == 0) { /* every read alert is in a written case */
            rd_kafka_commit(k->consumer, NULL, 0);
            uncommitted = false;
        }
    }
    vg_goaml_drafter_flush(d);
    if (uncommitted && rd_kafka_commit(k->consumer, NULL, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) rc = -1;
    return rc;
}

void vg_goaml_kafka_destroy(struct vg_goaml_kafka *k) {
    if (!k) return;
    if (k->consumer) {
        rd_kafka_consumer_close(k->consumer);
        rd_kafka_destroy(k->consumer);
    }
    if (k->producer) {
        rd_kafka_flush(k->producer, 10000);
        rd_kafka_destroy(k->producer);
    }
    if (k->eof) rd_kafka_topic_partition_list_destroy(k->eof);
    pthread_mutex_destroy(&k->lag_lock);
    free(k);
}
