/* kafka_conf.c - librdkafka client configuration for vigild's consumer and producers: our
 * defaults, then `kafka.properties` verbatim (SASL, SSL, tuning), then the settings the
 * delivery guarantees depend on. Also routes librdkafka's logs into vigil's log format. */
#include "kafka/kafka_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "vigil/log.h"

/* Quotes-free copy of a librdkafka message so that it fits msg="..." of our log line. */
static void kt_log_sanitize(const char *in, char *out, size_t out_size) {
    size_t n = 0;
    for (; *in && n + 1 < out_size; in++)
        out[n++] = (*in == '"' || *in == '\n') ? '\'' : *in;
    out[n] = '\0';
}

static void kt_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    char msg[512];
    enum vg_log_level lvl = level <= LOG_ERR ? VG_LOG_ERROR
                            : level == LOG_WARNING ? VG_LOG_WARN
                                                   : VG_LOG_DEBUG;
    /* kafka.properties go to every client, so "consumer property ignored by this producer"
     * is expected, not a warning. */
    if (!strcmp(fac, "CONFWARN"))
        lvl = VG_LOG_DEBUG;
    /* A broker failure is logged at LOG_ERR (FAIL, ERROR) and reported to the error
     * callback too: kafka_error says it once. */
    if (!strcmp(fac, "FAIL") || !strcmp(fac, "ERROR"))
        lvl = VG_LOG_DEBUG;
    kt_log_sanitize(buf, msg, sizeof(msg));
    vg_log(lvl, "rdkafka", "client=%s fac=%s msg=\"%s\"", rd_kafka_name(rk), fac, msg);
}

/* The consumer and the producer see the same broker go away and both report it: the
 * second report of the same error within KT_ERROR_REPEAT_NS goes to debug. The only state
 * shared by the clients' callbacks, behind its lock (callbacks run on librdkafka threads). */
#define KT_ERROR_REPEAT_NS (5 * 1000000000LL)
static pthread_mutex_t kt_error_lock = PTHREAD_MUTEX_INITIALIZER;
static char kt_error_last[512];
static int64_t kt_error_last_ns;

static void kt_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)opaque;
    kt_log_error(rk, err, reason);
}

void kt_log_error(rd_kafka_t *rk, int err, const char *reason) {
    char msg[512];
    bool repeat;
    int64_t now = vg_now_mono_ns();
    kt_log_sanitize(reason, msg, sizeof(msg));
    pthread_mutex_lock(&kt_error_lock);
    repeat = now - kt_error_last_ns < KT_ERROR_REPEAT_NS && !strcmp(kt_error_last, msg);
    if (!repeat) {
        snprintf(kt_error_last, sizeof(kt_error_last), "%s", msg);
        kt_error_last_ns = now;
    }
    pthread_mutex_unlock(&kt_error_lock);
    /* Transport errors are retried by librdkafka; fatal ones are picked up by the run loop
     * through rd_kafka_fatal_error(). */
    vg_log(err == RD_KAFKA_RESP_ERR__FATAL ? VG_LOG_ERROR : repeat ? VG_LOG_DEBUG : VG_LOG_WARN, "kafka_error",
           "client=%s error=%s msg=\"%s\"", rd_kafka_name(rk),
           rd_kafka_err2name((rd_kafka_resp_err_t)err), msg);
}

static int kt_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                  size_t errstr_size) {
    char why[256];
    if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "kafka property %s=%s: %s", key, value, why);
        return VG_ERR_INVALID;
    }
    return VG_OK;
}

static const char *kt_user_property(const struct vg_config *cfg, const char *key) {
    for (size_t i = 0; i < cfg->kafka.property_count; i++)
        if (!strcmp(cfg->kafka.properties[i].key, key))
            return cfg->kafka.properties[i].value;
    return NULL;
}

void kt_transactional_id(const struct vg_config *cfg, char *out, size_t out_size) {
    const char *own = kt_user_property(cfg, "transactional.id");
    const char *instance = cfg->input.instance_id[0] ? cfg->input.instance_id
                                                     : kt_user_property(cfg, "group.instance.id");
    char host[256] = "local";

    if (own) {
        snprintf(out, out_size, "%s", own);
        return;
    }
    if (!instance) {
        if (gethostname(host, sizeof(host) - 1) != 0)
            snprintf(host, sizeof(host), "local");
        host[sizeof(host) - 1] = '\0';
        /* Several instances may share a host: without an instance id each process needs
         * its own transactional id (safe: the consumer group's generation fences a zombie,
         * KIP-447). */
        if (cfg->input.repartition_topic[0]) {
            size_t n = strlen(host);
            snprintf(host + n, sizeof(host) - n, "-%ld", (long)getpid());
        }
        instance = host;
    }
    snprintf(out, out_size, "vigil-%s-%s", cfg->input.group, instance);
}

/* Whether host (len bytes, no port) names this machine: localhost, 127.0.0.0/8, ::1. */
static bool kt_host_is_loopback(const char *host, size_t len) {
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if ((len == 9 && !strncasecmp(host, "localhost", 9)) || (len == 3 && !strncmp(host, "::1", 3)))
        return true;
    if (len < 4 || strncmp(host, "127.", 4))
        return false;
    for (size_t i = 4; i < len; i++)
        if (!(host[i] == '.' || (host[i] >= '0' && host[i] <= '9')))
            return false;
    return true;
}

bool kt_bootstrap_is_loopback(const char *bootstrap) {
    const char *p = bootstrap;
    bool any = false;

    if (!p)
        return false;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = p + strcspn(p, ", ");
        const char *scheme = strstr(p, "://");
        if (scheme && scheme < end)
            p = scheme + 3; /* SASL_SSL://host:port and the like */
        const char *host_end;
        if (*p == '[') { /* [v6]:port */
            const char *close = memchr(p, ']', (size_t)(end - p));
            host_end = close ? close + 1 : end;
        } else {
            const char *colon = memchr(p, ':', (size_t)(end - p));
            bool bare_v6 = colon && memchr(colon + 1, ':', (size_t)(end - colon - 1));
            host_end = colon && !bare_v6 ? colon : end;
        }
        if (!kt_host_is_loopback(p, (size_t)(host_end - p)))
            return false;
        any = true;
        p = end;
    }
    return any;
}

void kt_conf_size_prefetch(rd_kafka_conf_t *conf, const struct vg_config *cfg, int partitions) {
    char value[32], unknown[128];
    uint64_t kb = KT_PREFETCH_BUDGET_KB / (uint64_t)(partitions > 0 ? partitions : 1);

    kb = VG_MAX(VG_MIN(kb, (uint64_t)KT_PREFETCH_MAX_KB), (uint64_t)KT_PREFETCH_MIN_KB);
    if (!kt_user_property(cfg, "queued.max.messages.kbytes")) {
        snprintf(value, sizeof(value), "%llu", (unsigned long long)kb);
        (void)rd_kafka_conf_set(conf, "queued.max.messages.kbytes", value, unknown, sizeof(unknown));
    }
    if (!kt_user_property(cfg, "queued.min.messages")) {
        /* about one message per 200 bytes: whichever limit a partition meets first */
        snprintf(value, sizeof(value), "%llu", (unsigned long long)VG_MAX(kb * 5, 2000));
        (void)rd_kafka_conf_set(conf, "queued.min.messages", value, unknown, sizeof(unknown));
    }
}

rd_kafka_conf_t *kt_conf_new(const struct vg_config *cfg, const char *bootstrap,
                             enum kt_role role, char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char txn_id[512];

    /* Our defaults: the user may override these. */
    static const char *const consumer_defaults[][2] = {
        {"auto.offset.reset", "earliest"},     /* a new group misses no transaction */
        /* Bounded prefetch, per partition (vigild reads each partition's queue directly):
         * the smallest share; kt_conf_size_prefetch sizes it from the partition count. */
        {"queued.max.messages.kbytes", "256"},
        {"queued.min.messages", "2000"},
        /* A real broker answers a fetch as soon as data arrives, so this only bounds the
         * idle poll rate; librdkafka's mock cluster (vigil-broker, `embedded`) answers an
         * empty fetch only after the full wait, so there it is added to alert latency. */
        {"fetch.wait.max.ms", "10"},
        {"client.id", "vigild"},
    };
    static const char *const producer_defaults[][2] = {
        /* Alerts are few next to the input: batching them longer buys little and costs
         * latency; under load librdkafka batches whatever queues during a request. */
        {"linger.ms", "1"},
        {"batch.num.messages", "10000"},
        {"client.id", "vigild"},
    };

    if (!conf) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, kt_log_cb);
    rd_kafka_conf_set_error_cb(conf, kt_error_cb);
    if (kt_set(conf, "bootstrap.servers", bootstrap, errstr, errstr_size))
        goto err;
    if (role == KT_CONSUMER) {
        for (size_t i = 0; i < VG_ARRAY_LEN(consumer_defaults); i++)
            if (kt_set(conf, consumer_defaults[i][0], consumer_defaults[i][1], errstr,
                       errstr_size))
                goto err;
        /* librdkafka >= 2.2: a full prefetch queue is checked again after 10 ms instead of
         * 1 s, so a backlog drained faster than that does not wait. Older versions do not
         * know the property (kafka_run.c then restarts the fetcher itself). */
        char unknown[128];
        (void)rd_kafka_conf_set(conf, "fetch.queue.backoff.ms", "10", unknown, sizeof(unknown));
        /* librdkafka's mock cluster (`embedded`, vigil-broker) answers a fetch that finds
         * nothing only after the full fetch.wait.max.ms, so a record produced meanwhile
         * waits for it: poll a broker on this machine every 2 ms (measured with
         * vigil-latency at 100 k records/s: read -> alert acked p99 4.7 ms against 7.2-8.8
         * ms at 10 ms). The idle polls stay on loopback. */
        if ((!strcmp(cfg->kafka.brokers, "embedded") || kt_bootstrap_is_loopback(bootstrap)) &&
            kt_set(conf, "fetch.wait.max.ms", "2", errstr, errstr_size))
            goto err;
    } else {
        for (size_t i = 0; i < VG_ARRAY_LEN(producer_defaults); i++)
            if (kt_set(conf, producer_defaults[i][0], producer_defaults[i][1], errstr,
                       errstr_size))
                goto err;
    }

    for (size_t i = 0; i < cfg->kafka.property_count; i++) {
        const struct vg_kafka_property *p = &cfg->kafka.properties[i];
        /* Role-specific properties are accepted by both confs; librdkafka only warns. The
         * transactional id is ours to apply to the transactional producer only. */
        if (!strcmp(p->key, "transactional.id"))
            continue;
        if (kt_set(conf, p->key, p->value, errstr, errstr_size))
            goto err;
    }

    /* What the delivery guarantees rely on: not overridable. */
    if (role == KT_CONSUMER) {
        if (kt_set(conf, "group.id", cfg->input.group, errstr, errstr_size) ||
            kt_set(conf, "enable.auto.commit", "false", errstr, errstr_size) ||
            kt_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) ||
            kt_set(conf, "enable.partition.eof", "false", errstr, errstr_size))
            goto err;
        /* Static membership (input.instance_id): a restart within session.timeout.ms takes
         * its partitions back at once instead of waiting for the dead member to expire. */
        if (cfg->input.instance_id[0] &&
            kt_set(conf, "group.instance.id", cfg->input.instance_id, errstr, errstr_size))
            goto err;
        /* Exactly-once reads only committed input (librdkafka's default, but pinned here). */
        if (cfg->output.exactly_once &&
            kt_set(conf, "isolation.level", "read_committed", errstr, errstr_size))
            goto err;
    } else {
        if (kt_set(conf, "enable.idempotence", "true", errstr, errstr_size))
            goto err;
        if (role == KT_TXN_PRODUCER) {
            kt_transactional_id(cfg, txn_id, sizeof(txn_id));
            if (kt_set(conf, "transactional.id", txn_id, errstr, errstr_size))
                goto err;
        }
    }
    return conf;

err:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
