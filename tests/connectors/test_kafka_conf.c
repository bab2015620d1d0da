/* test_kafka_conf.c - the librdkafka configuration vigild builds: which bootstrap lists
 * count as a broker on this machine (polled every 2 ms: the mock cluster answers an empty
 * fetch only after the full wait), and that kafka.properties win over that default. */
#include <criterion/criterion.h>
#include <string.h>

#include "kafka/kafka_int.h"
#include "vigil/config.h"

Test(kafka_conf, loopback_bootstrap_lists) {
    const char *yes[] = {"127.0.0.1:9092", "localhost:9092", "LOCALHOST:1", "127.0.0.1:1,127.0.0.1:2",
                         "127.1.2.3:9092", "[::1]:9092", "::1", " 127.0.0.1:5 , localhost:6 ",
                         "PLAINTEXT://127.0.0.1:9092", "localhost"};
    const char *no[] = {"",
                        "kafka:9092",
                        "10.0.0.1:9092",
                        "127.0.0.1:9092,kafka-2:9092",
                        "128.0.0.1:9092",
                        "127.evil.example.com:9092",
                        "localhost.example.com:9092",
                        "[2001:db8::1]:9092",
                        "SASL_SSL://broker.bank.example:9093",
                        ",,"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        cr_assert(kt_bootstrap_is_loopback(yes[i]), "%s is this machine", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        cr_assert_not(kt_bootstrap_is_loopback(no[i]), "%s is not (only) this machine", no[i]);
    cr_assert_not(kt_bootstrap_is_loopback(NULL));
}

static void fetch_wait_of(const char *yaml, const char *bootstrap, char *out, size_t size) {
    struct vg_config cfg;
    char err[512] = "";
    cr_assert_eq(vg_config_load_buffer(&cfg, "test.yaml", yaml, strlen(yaml), err, sizeof err), VG_OK, "%s", err);
    rd_kafka_conf_t *conf = kt_conf_new(&cfg, bootstrap, KT_CONSUMER, err, sizeof err);
    cr_assert_not_null(conf, "%s", err);
    cr_assert_eq(rd_kafka_conf_get(conf, "fetch.wait.max.ms", out, &size), RD_KAFKA_CONF_OK);
    rd_kafka_conf_destroy(conf);
    vg_config_free(&cfg);
}

Test(kafka_conf, fetch_wait_short_on_loopback_only_and_properties_win) {
    char v[32];
    fetch_wait_of("kafka:\n  brokers: \"127.0.0.1:9092\"\n", "127.0.0.1:9092", v, sizeof v);
    cr_assert_str_eq(v, "2");
    fetch_wait_of("kafka:\n  brokers: \"kafka-1:9092\"\n", "kafka-1:9092", v, sizeof v);
    cr_assert_str_eq(v, "10");
    fetch_wait_of("kafka:\n  brokers: \"127.0.0.1:9092\"\n  properties:\n    fetch.wait.max.ms: \"50\"\n",
                  "127.0.0.1:9092", v, sizeof v);
    cr_assert_str_eq(v, "50");
}

/* Value of `key` in the conf built for `role` from yaml ("" when unset). */
static void conf_value(const char *yaml, enum kt_role role, const char *key, char *out, size_t size) {
    struct vg_config cfg;
    char err[512] = "";
    cr_assert_eq(vg_config_load_buffer(&cfg, "test.yaml", yaml, strlen(yaml), err, sizeof err), VG_OK, "%s", err);
    rd_kafka_conf_t *conf = kt_conf_new(&cfg, "127.0.0.1:9092", role, err, sizeof err);
    cr_assert_not_null(conf, "%s", err);
    if (rd_kafka_conf_get(conf, key, out, &size) != RD_KAFKA_CONF_OK)
        out[0] = '\0';
    rd_kafka_conf_destroy(conf);
    vg_config_free(&cfg);
}

/* input.instance_id is the consumer's static group membership (a restart takes its
 * partitions back at once) and names the exactly-once transactional.id; unset, neither. */
Test(kafka_conf, instance_id_is_static_membership) {
    char v[256];
    const char *with = "kafka:\n  brokers: \"127.0.0.1:9092\"\ninput:\n  group: g1\n  instance_id: vigil-a\n";
    conf_value(with, KT_CONSUMER, "group.instance.id", v, sizeof v);
    cr_assert_str_eq(v, "vigil-a");
    conf_value(with, KT_TXN_PRODUCER, "transactional.id", v, sizeof v);
    cr_assert_str_eq(v, "vigil-g1-vigil-a");
    conf_value("kafka:\n  brokers: \"127.0.0.1:9092\"\n", KT_CONSUMER, "group.instance.id", v, sizeof v);
    cr_assert_str_eq(v, "", "no static membership unless asked, got '%s'", v);
}

/* engine.shutdown_timeout: a duration, default 20 s (under systemd's TimeoutStopSec=30),
 * at least 1 s. */
Test(kafka_conf, shutdown_timeout_key) {
    struct vg_config cfg;
    char err[512] = "";
    const char *ok = "engine:\n  shutdown_timeout: 7s\n";
    const char *bad = "engine:\n  shutdown_timeout: 10ms\n";
    cr_assert_eq(vg_config_load_buffer(&cfg, "t.yaml", "log:\n  level: info\n", 19, err, sizeof err), VG_OK, "%s", err);
    cr_assert_eq(cfg.engine.shutdown_timeout_ms, 20000);
    vg_config_free(&cfg);
    cr_assert_eq(vg_config_load_buffer(&cfg, "t.yaml", ok, strlen(ok), err, sizeof err), VG_OK, "%s", err);
    cr_assert_eq(cfg.engine.shutdown_timeout_ms, 7000);
    vg_config_free(&cfg);
    cr_assert_neq(vg_config_load_buffer(&cfg, "t.yaml", bad, strlen(bad), err, sizeof err), VG_OK);
    cr_assert(strstr(err, "shutdown_timeout"), "%s", err);
}
