/* test_config.c - the vigil.yaml loader (contract section 6) and the watchlist rule's list
 * files: built-in defaults equal the contract, a full file loads, every error is one line
 * naming file, line and key, and a table of invalid configs that must be refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"
#include "vigil/config.h"
#include "vigil/hash.h"
#include "vigil/emit.h"
#include "rules/rule_params.h"

#define MS_H (3600LL * 1000)
#define MS_D (24 * MS_H)
#define MICROS(units) ((int64_t)(units) * 1000000)

static char err[1024];

static int load(struct vg_config *cfg, const char *yaml) {
    err[0] = '\0';
    return vg_config_load_buffer(cfg, "vigil.yaml", yaml, strlen(yaml), err, sizeof err);
}

/* Loads yaml that must be valid; fails the test with the loader's message otherwise. */
static void load_ok(struct vg_config *cfg, const char *yaml) {
    int rc = load(cfg, yaml);
    cr_assert_eq(rc, VG_OK, "config refused: %s", err);
}

#define P(cfg, id, type) ((const struct type *)vg_config_params(cfg, id))

static bool list_has(const struct vg_name_list *l, const char *name) {
    return vg_name_list_contains(l, name, strlen(name));
}

/* ---- defaults ------------------------------------------------------------------------ */

static void expect_contract_defaults(const struct vg_config *c) {
    cr_expect_eq(c->input.kind, VG_INPUT_KAFKA);
    cr_expect_str_eq(c->input.topic, "transactions");
    cr_expect_str_eq(c->input.group, "vigil");
    cr_expect_eq(c->input.format, VG_CFG_FORMAT_NDJSON);
    cr_expect_str_eq(c->output.topic, "alerts");
    cr_expect_eq(c->output.exactly_once, false);
    cr_expect_str_eq(c->dead_letter.topic, "transactions.dead_letter");
    cr_expect_str_eq(c->kafka.brokers, ""); /* no default: Kafka mode refuses to start without it */
    cr_expect_eq(c->kafka.property_count, 0);
    cr_expect_eq(c->engine.threads, 0);
    cr_expect_eq(c->engine.allowed_lateness_ms, 5 * 60 * 1000);
    cr_expect_eq(c->engine.ring_size, 32768);
    cr_expect_eq(c->engine.graph_budget, 20000);
    cr_expect_eq(c->engine.max_window_events, 4096);
    cr_expect_str_eq(c->currency.base, "USD");
    cr_expect_eq(c->alerts.cooldown_ms, MS_D);
    cr_expect_eq(c->alerts.max_evidence, 64);
    cr_expect_str_eq(c->metrics.listen, "");
    cr_expect_str_eq(c->state.dir, "");
    cr_expect_eq(c->state.interval_ms, 30000);
    cr_expect_eq(c->log.level, VG_LOG_INFO);

    for (int id = 0; id < VG_RULE_MAX; id++) {
        cr_expect(c->rules[id].enabled, "rule %s disabled by default", vg_rule_registry[id]->name);
        cr_expect_eq(c->rules[id].severity, vg_rule_registry[id]->default_severity);
        cr_assert_not_null(c->rules[id].params);
    }
    const struct vg_large_tx_params *large = P(c, VG_RULE_LARGE_TX, vg_large_tx_params);
    cr_expect_eq(large->threshold_micros, MICROS(10000));
    cr_expect_eq(large->channels.count, 0);
    const struct vg_structuring_params *st = P(c, VG_RULE_STRUCTURING, vg_structuring_params);
    cr_expect_eq(st->threshold_micros, MICROS(10000));
    cr_expect_eq(st->margin_ppm, 150000);
    cr_expect_eq(st->min_count, 3);
    cr_expect_eq(st->window_ms, 72 * MS_H);
    for (int id = VG_RULE_FAN_IN; id <= VG_RULE_FAN_OUT; id++) {
        const struct vg_fan_params *fan = vg_config_params(c, id);
        cr_expect_eq(fan->min_counterparties, 8);
        cr_expect_eq(fan->min_total_micros, MICROS(5000));
        cr_expect_eq(fan->window_ms, 72 * MS_H);
    }
    const struct vg_pass_through_params *pt = P(c, VG_RULE_PASS_THROUGH, vg_pass_through_params);
    cr_expect_eq(pt->min_amount_micros, MICROS(5000));
    cr_expect_eq(pt->ratio_ppm, 800000);
    cr_expect_eq(pt->window_ms, 48 * MS_H);
    const struct vg_cycle_params *cy = P(c, VG_RULE_CYCLE, vg_cycle_params);
    cr_expect_eq(cy->max_hops, 6);
    cr_expect_eq(cy->min_amount_micros, MICROS(1000));
    cr_expect_eq(cy->window_ms, 7 * MS_D);
    const struct vg_scatter_gather_params *sg = P(c, VG_RULE_SCATTER_GATHER, vg_scatter_gather_params);
    cr_expect_eq(sg->min_intermediaries, 3);
    cr_expect_eq(sg->min_amount_micros, MICROS(1000));
    cr_expect_eq(sg->window_ms, 7 * MS_D);
    const struct vg_gather_scatter_params *gs = P(c, VG_RULE_GATHER_SCATTER, vg_gather_scatter_params);
    cr_expect_eq(gs->min_counterparties, 5);
    cr_expect_eq(gs->min_total_micros, MICROS(5000));
    cr_expect_eq(gs->window_ms, 72 * MS_H);
    const struct vg_velocity_params *v = P(c, VG_RULE_VELOCITY, vg_velocity_params);
    cr_expect_eq(v->window_ms, MS_H);
    cr_expect_eq(v->baseline_ms, 30 * MS_D);
    cr_expect_eq(v->min_history_ms, 7 * MS_D);
    cr_expect_eq(v->factor_ppm, 10000000);
    cr_expect_eq(v->min_count, 20);
    const struct vg_dormant_params *d = P(c, VG_RULE_DORMANT, vg_dormant_params);
    cr_expect_eq(d->dormancy_ms, 180 * MS_D);
    cr_expect_eq(d->min_amount_micros, MICROS(5000));
    const struct vg_watchlist_params *w = P(c, VG_RULE_WATCHLIST, vg_watchlist_params);
    cr_expect_str_eq(w->file, "");
    cr_expect_eq(vg_watchlist_size(w), 0);
    const struct vg_high_risk_country_params *h = P(c, VG_RULE_HIGH_RISK_COUNTRY, vg_high_risk_country_params);
    cr_expect_eq(h->countries.count, 3);
    cr_expect(list_has(&h->countries, "KP") && list_has(&h->countries, "IR") && list_has(&h->countries, "MM"));
    cr_expect_eq(h->min_amount_micros, MICROS(1000));
}

Test(config, defaults_equal_the_contract) {
    struct vg_config cfg;
    cr_assert_eq(vg_config_defaults(&cfg), VG_OK);
    expect_contract_defaults(&cfg);
    vg_config_free(&cfg);
}

Test(config, empty_file_and_empty_sections_are_the_defaults) {
    const char *docs[] = {"", "# only a comment\n", "---\n", "~\n", "input:\nrules:\n  fan_in:\n"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct vg_config cfg;
        load_ok(&cfg, docs[i]);
        expect_contract_defaults(&cfg);
        cr_expect_str_eq(cfg.path, "vigil.yaml");
        vg_config_free(&cfg);
    }
}

Test(config, free_is_safe_twice_and_on_zeroed) {
    struct vg_config cfg;
    memset(&cfg, 0, sizeof cfg);
    vg_config_free(&cfg);
    cr_assert_eq(vg_config_defaults(&cfg), VG_OK);
    vg_config_free(&cfg);
    vg_config_free(&cfg);
}

/* ---- a full valid file ---------------------------------------------------------------- */

static const char full_yaml[] =
    "input:\n"
    "  kind: file\n"
    "  topic: tx.in\n"
    "  group: aml-team\n"
    "  file: /data/in.csv\n"
    "  format: amlworld-csv\n"
    "output:\n"
    "  topic: aml.alerts\n"
    "  exactly_once: true\n"
    "  file: '-'\n"
    "dead_letter:\n"
    "  topic: tx.bad\n"
    "  file: /tmp/dead.ndjson\n"
    "kafka:\n"
    "  brokers: k1:9092,k2:9092\n"
    "  properties:\n"
    "    security.protocol: SASL_SSL\n"
    "    enable.idempotence: true\n"
    "    linger.ms: 5\n"
    "engine:\n"
    "  threads: 3\n"
    "  allowed_lateness: 90s\n"
    "  ring_size: 1024\n"
    "  graph_budget: 500\n"
    "  max_window_events: 100\n"
    "currency:\n"
    "  base: USD\n"
    "  rates:\n"
    "    EUR: 1.1\n"
    "    Yen: 0.0065\n"
    "alerts:\n"
    "  cooldown: 12h\n"
    "  max_evidence: 10\n"
    "rules:\n"
    "  large_tx: {threshold: 15000.50, channels: [Cash, WIRE], severity: high}\n"
    "  structuring:\n"
    "    enabled: false\n"
    "    threshold: 3000\n"
    "    margin: 0.1\n"
    "    min_count: 4\n"
    "    window: 24h\n"
    "  fan_in: {min_counterparties: 10, min_total: 7000, window: 2d}\n"
    "  fan_out: {min_counterparties: 9, min_total: 0.5, window: 36h, severity: low}\n"
    "  pass_through: {min_amount: 100, ratio: 0.95, window: 15m}\n"
    "  cycle: {max_hops: 16, min_amount: 1, window: 1d}\n"
    "  scatter_gather: {min_intermediaries: 4, min_amount: 2000, window: 3d}\n"
    "  gather_scatter: {min_counterparties: 6, min_total: 6000, window: 96h}\n"
    "  velocity: {window: 30m, baseline: 14d, min_history: 2d, factor: 7.5, min_count: 12}\n"
    "  dormant: {dormancy: 90d, min_amount: 2500}\n"
    "  watchlist: {file: \"\", enabled: yes}\n"
    "  high_risk_country:\n"
    "    countries:\n"
    "      - kp\n"
    "      - Sy\n"
    "    min_amount: 0\n"
    "metrics:\n"
    "  listen: 127.0.0.1:9108\n"
    "state:\n"
    "  dir: /var/lib/vigil\n"
    "  interval: 1m\n"
    "log:\n"
    "  level: debug\n";

Test(config, full_file_with_every_section) {
    struct vg_config c;
    load_ok(&c, full_yaml);
    cr_expect_eq(c.input.kind, VG_INPUT_FILE);
    cr_expect_str_eq(c.input.topic, "tx.in");
    cr_expect_str_eq(c.input.group, "aml-team");
    cr_expect_str_eq(c.input.file, "/data/in.csv");
    cr_expect_eq(c.input.format, VG_CFG_FORMAT_AMLWORLD_CSV);
    cr_expect_str_eq(c.output.topic, "aml.alerts");
    cr_expect(c.output.exactly_once);
    cr_expect_str_eq(c.output.file, "-");
    cr_expect_str_eq(c.dead_letter.topic, "tx.bad");
    cr_expect_str_eq(c.dead_letter.file, "/tmp/dead.ndjson");
    cr_expect_str_eq(c.kafka.brokers, "k1:9092,k2:9092");
    cr_assert_eq(c.kafka.property_count, 3);
    cr_expect_str_eq(c.kafka.properties[0].key, "security.protocol");
    cr_expect_str_eq(c.kafka.properties[0].value, "SASL_SSL");
    cr_expect_str_eq(c.kafka.properties[1].value, "true");
    cr_expect_str_eq(c.kafka.properties[2].key, "linger.ms");
    cr_expect_str_eq(c.kafka.properties[2].value, "5");
    cr_expect_eq(c.engine.threads, 3);
    cr_expect_eq(vg_config_threads(&c), 3);
    cr_expect_eq(c.engine.allowed_lateness_ms, 90000);
    cr_expect_eq(c.engine.ring_size, 1024);
    cr_expect_eq(c.engine.graph_budget, 500);
    cr_expect_eq(c.engine.max_window_events, 100);
    int64_t rate = 0;
    cr_assert_eq(vg_currency_rate(&c.currency, "EUR", 3, &rate), VG_OK);
    cr_expect_eq(rate, 1100000);
    cr_assert_eq(vg_currency_rate(&c.currency, "JPY", 3, &rate), VG_OK);
    cr_expect_eq(rate, 6500);
    cr_expect_eq(c.alerts.cooldown_ms, 12 * MS_H);
    cr_expect_eq(c.alerts.max_evidence, 10);

    const struct vg_large_tx_params *large = P(&c, VG_RULE_LARGE_TX, vg_large_tx_params);
    cr_expect_eq(large->threshold_micros, 15000500000LL);
    cr_expect_eq(large->channels.count, 2);
    cr_expect_str_eq(large->channels.names[0], "cash");
    cr_expect_str_eq(large->channels.names[1], "wire");
    cr_expect_eq(c.rules[VG_RULE_LARGE_TX].severity, VG_SEVERITY_HIGH);
    cr_expect_not(c.rules[VG_RULE_STRUCTURING].enabled);
    const struct vg_structuring_params *st = P(&c, VG_RULE_STRUCTURING, vg_structuring_params);
    cr_expect_eq(st->threshold_micros, MICROS(3000));
    cr_expect_eq(st->margin_ppm, 100000);
    cr_expect_eq(st->min_count, 4);
    cr_expect_eq(st->window_ms, 24 * MS_H);
    cr_expect_eq(P(&c, VG_RULE_FAN_IN, vg_fan_params)->window_ms, 2 * MS_D);
    cr_expect_eq(P(&c, VG_RULE_FAN_OUT, vg_fan_params)->min_total_micros, 500000);
    cr_expect_eq(c.rules[VG_RULE_FAN_OUT].severity, VG_SEVERITY_LOW);
    cr_expect_eq(P(&c, VG_RULE_PASS_THROUGH, vg_pass_through_params)->ratio_ppm, 950000);
    cr_expect_eq(P(&c, VG_RULE_PASS_THROUGH, vg_pass_through_params)->window_ms, 15 * 60 * 1000);
    cr_expect_eq(P(&c, VG_RULE_CYCLE, vg_cycle_params)->max_hops, 16);
    cr_expect_eq(P(&c, VG_RULE_SCATTER_GATHER, vg_scatter_gather_params)->min_intermediaries, 4);
    cr_expect_eq(P(&c, VG_RULE_GATHER_SCATTER, vg_gather_scatter_params)->window_ms, 96 * MS_H);
    const struct vg_velocity_params *v = P(&c, VG_RULE_VELOCITY, vg_velocity_params);
    cr_expect_eq(v->factor_ppm, 7500000);
    cr_expect_eq(v->baseline_ms, 14 * MS_D);
    cr_expect_eq(v->min_history_ms, 2 * MS_D);
    cr_expect_eq(P(&c, VG_RULE_DORMANT, vg_dormant_params)->dormancy_ms, 90 * MS_D);
    const struct vg_high_risk_country_params *h = P(&c, VG_RULE_HIGH_RISK_COUNTRY, vg_high_risk_country_params);
    cr_expect_eq(h->countries.count, 2);
    cr_expect(list_has(&h->countries, "KP") && list_has(&h->countries, "SY"));
    cr_expect(list_has(&h->countries, "sy"), "country lookup ignores case");
    cr_expect_not(list_has(&h->countries, "IR"), "a configured list replaces the default");
    cr_expect_eq(h->min_amount_micros, 0);
    cr_expect_str_eq(c.metrics.listen, "127.0.0.1:9108");
    cr_expect_str_eq(c.state.dir, "/var/lib/vigil");
    cr_expect_eq(c.state.interval_ms, 60000);
    cr_expect_eq(c.log.level, VG_LOG_DEBUG);
    vg_config_free(&c);
}

/* ---- values ---------------------------------------------------------------------------- */

Test(config, durations_money_ratios_parse_exactly) {
    static const struct {
        const char *window;
        int64_t ms;
    } durations[] = {{"90s", 90000}, {"15m", 900000}, {"48h", 48 * MS_H}, {"7d", 7 * MS_D}, {"250ms", 250}};
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "rules:\n  fan_in:\n    window: %s\n", durations[i].window);
        struct vg_config c;
        load_ok(&c, yaml);
        cr_expect_eq(P(&c, VG_RULE_FAN_IN, vg_fan_params)->window_ms, durations[i].ms, "%s", durations[i].window);
        vg_config_free(&c);
    }
    struct vg_config c;
    load_ok(&c, "rules:\n  structuring: {threshold: \"9999.99\", margin: 0.000001}\n"
                "  pass_through: {ratio: 1}\n  large_tx: {threshold: 1e3}\n");
    cr_expect_eq(P(&c, VG_RULE_STRUCTURING, vg_structuring_params)->threshold_micros, 9999990000LL);
    cr_expect_eq(P(&c, VG_RULE_STRUCTURING, vg_structuring_params)->margin_ppm, 1);
    cr_expect_eq(P(&c, VG_RULE_PASS_THROUGH, vg_pass_through_params)->ratio_ppm, 1000000);
    cr_expect_eq(P(&c, VG_RULE_LARGE_TX, vg_large_tx_params)->threshold_micros, MICROS(1000));
    vg_config_free(&c);
}

Test(config, lists_block_flow_empty_and_duplicates) {
    struct vg_config c;
    load_ok(&c, "rules:\n"
                "  large_tx:\n    channels:\n      - Cash\n      - cash\n      - CRYPTO\n"
                "  high_risk_country: {countries: []}\n");
    const struct vg_large_tx_params *large = P(&c, VG_RULE_LARGE_TX, vg_large_tx_params);
    cr_expect_eq(large->channels.count, 2, "duplicates collapse");
    cr_expect(list_has(&large->channels, "cash"));
    cr_expect(list_has(&large->channels, "crypto"));
    cr_expect_not(list_has(&large->channels, "wire"));
    cr_expect_not(list_has(&large->channels, "cas"));
    cr_expect_eq(P(&c, VG_RULE_HIGH_RISK_COUNTRY, vg_high_risk_country_params)->countries.count, 0);
    vg_config_free(&c);
    cr_expect_not(vg_name_list_contains(NULL, "x", 1));
}

Test(config, currency_rebase_to_another_base) {
    struct vg_config c;
    load_ok(&c, "currency:\n  base: EUR\n  rates: {GBP: 1.2}\n");
    cr_expect_str_eq(c.currency.base, "EUR");
    int64_t rate = 0;
    cr_assert_eq(vg_currency_rate(&c.currency, "EUR", 3, &rate), VG_OK);
    cr_expect_eq(rate, 1000000);
    cr_assert_eq(vg_currency_rate(&c.currency, "US Dollar", 9, &rate), VG_OK);
    cr_expect_eq(rate, 925926, "1 USD = 1/1.08 EUR, got %lld", (long long)rate);
    cr_assert_eq(vg_currency_rate(&c.currency, "GBP", 3, &rate), VG_OK);
    cr_expect_eq(rate, 1200000, "configured rates are in the configured base");
    vg_config_free(&c);

    /* A base with no built-in rate is linked to the defaults through a configured rate. */
    load_ok(&c, "currency:\n  base: ZZZ\n  rates:\n    USD: 2\n");
    cr_assert_eq(vg_currency_rate(&c.currency, "ZZZ", 3, &rate), VG_OK);
    cr_expect_eq(rate, 1000000);
    cr_assert_eq(vg_currency_rate(&c.currency, "USD", 3, &rate), VG_OK);
    cr_expect_eq(rate, 2000000);
    cr_assert_eq(vg_currency_rate(&c.currency, "EUR", 3, &rate), VG_OK);
    cr_expect_eq(rate, 2160000);
    vg_config_free(&c);

    /* With no link, only the base and the configured rates are known. */
    load_ok(&c, "currency: {base: ZZZ, rates: {QQQ: 3}}\n");
    cr_expect_eq(vg_currency_rate(&c.currency, "USD", 3, &rate), VG_ERR_NOTFOUND);
    cr_assert_eq(vg_currency_rate(&c.currency, "QQQ", 3, &rate), VG_OK);
    cr_expect_eq(rate, 3000000);
    vg_config_free(&c);

    /* Alias keys and the BTC ticker resolve to their ISO codes. */
    load_ok(&c, "currency:\n  rates: {Euro: 1.5, BTC: 50000}\n");
    cr_assert_eq(vg_currency_rate(&c.currency, "EUR", 3, &rate), VG_OK);
    cr_expect_eq(rate, 1500000);
    cr_assert_eq(vg_currency_rate(&c.currency, "XBT", 3, &rate), VG_OK);
    cr_expect_eq(rate, MICROS(50000));
    vg_config_free(&c);
}

Test(config, threads_and_account_horizon) {
    struct vg_config c;
    load_ok(&c, "engine: {threads: 0, allowed_lateness: 10m}\n");
    cr_expect_geq(vg_config_threads(&c), 1);
    /* Longest enabled account-stage lookback by default: fan_in/fan_out/structuring 72h. */
    cr_expect_eq(vg_config_account_horizon_ms(&c), 72 * MS_H + 10 * 60 * 1000);
    vg_config_free(&c);
    load_ok(&c, "rules:\n  fan_in: {window: 10d}\n  cycle: {window: 30d}\n");
    cr_expect_eq(vg_config_account_horizon_ms(&c), 10 * MS_D + 5 * 60 * 1000,
                 "graph-stage rules (cycle) do not extend the account store");
    vg_config_free(&c);
    load_ok(&c, "rules:\n  fan_in: {window: 10d, enabled: false}\n");
    cr_expect_eq(vg_config_account_horizon_ms(&c), 72 * MS_H + 5 * 60 * 1000, "disabled rules do not count");
    vg_config_free(&c);
}

/* ---- errors --------------------------------------------------------------------------- */

struct bad_config {
    const char *yaml;
    const char *expected;    /* substring of the message, "FILE:LINE: KEY: ..." */
};

static const struct bad_config bad_configs[] = {
    /* YAML syntax */
    {"input: [1, 2\n", "vigil.yaml:2: yaml: "},
    {"a: b\n c: d\n", "vigil.yaml:2: yaml: "},
    {"input:\n  topic: x\n  topic: y\n", "vigil.yaml:3: input.topic: duplicate key (first given on line 2)"},
    {"- 1\n- 2\n", "vigil.yaml:1: the top level must be a mapping"},
    {"a: 1\n---\nb: 2\n", "vigil.yaml:2: more than one YAML document"},
    {"x: *nope\n", "vigil.yaml:1: yaml: "},
    /* unknown names */
    {"inputs:\n  kind: file\n", "vigil.yaml:1: inputs: unknown section"},
    {"input:\n  kind: file\n  topc: x\n", "vigil.yaml:3: input.topc: unknown key"},
    {"rules:\n  fan_in:\n    windw: 3h\n", "vigil.yaml:3: rules.fan_in.windw: unknown key"},
    {"rules:\n  fan_inn: {}\n", "vigil.yaml:2: rules.fan_inn: unknown rule"},
    {"currency:\n  bse: EUR\n", "vigil.yaml:2: currency.bse: unknown key"},
    {"? [a]\n: 1\n", "vigil.yaml:1: keys must be names"},
    /* wrong shapes */
    {"input: file\n", "vigil.yaml:1: input: expected a mapping, got a scalar"},
    {"input:\n  topic: {a: 1}\n", "vigil.yaml:2: input.topic: expected a scalar value, got a mapping"},
    {"rules:\n  fan_in: [1]\n", "vigil.yaml:2: rules.fan_in: expected a mapping, got a list"},
    {"rules:\n  large_tx:\n    channels: cash\n", "vigil.yaml:3: rules.large_tx.channels: expected a list"},
    {"rules:\n  large_tx:\n    channels: [[cash]]\n", "rules.large_tx.channels: expected a scalar value, got a list"},
    {"kafka:\n  properties: [a]\n", "vigil.yaml:2: kafka.properties: expected a mapping"},
    {"kafka:\n  properties:\n    linger.ms: {a: 1}\n", "vigil.yaml:3: kafka.properties.linger.ms: expected a scalar"},
    {"currency:\n  rates: [EUR]\n", "vigil.yaml:2: currency.rates: expected a mapping"},
    /* librdkafka's own check, at load time rather than when the clients are created */
    {"kafka:\n  properties:\n    no.such.prop: 1\n",
     "vigil.yaml:3: kafka.properties.no.such.prop: librdkafka refuses it: No such configuration property"},
    {"kafka:\n  properties:\n    linger.ms: 5\n    session.timeout.ms: soon\n",
     "vigil.yaml:4: kafka.properties.session.timeout.ms: librdkafka refuses it: Invalid value"},
    /* bad values */
    {"rules:\n  fan_in:\n    window: x\n", "vigil.yaml:3: rules.fan_in.window: bad duration 'x'"},
    {"rules:\n  fan_in:\n    window: 72\n", "rules.fan_in.window: bad duration '72'"},
    {"rules:\n  fan_in:\n    window: -3h\n", "rules.fan_in.window: duration must not be negative"},
    {"rules:\n  fan_in:\n    window: 99999999999999999d\n", "rules.fan_in.window: duration out of range"},
    {"rules:\n  fan_in:\n    min_total: 12.3.4\n", "vigil.yaml:3: rules.fan_in.min_total: bad amount '12.3.4'"},
    {"rules:\n  fan_in:\n    min_total: 1.0000001\n", "rules.fan_in.min_total: bad amount"},
    {"rules:\n  fan_in:\n    min_total: -5\n", "rules.fan_in.min_total: amount must not be negative"},
    {"rules:\n  fan_in:\n    min_total: .nan\n", "rules.fan_in.min_total: bad amount"},
    {"rules:\n  fan_in:\n    min_counterparties: 2.5\n", "rules.fan_in.min_counterparties: expected an integer"},
    {"rules:\n  fan_in:\n    min_counterparties: -1\n", "rules.fan_in.min_counterparties: expected an integer"},
    {"rules:\n  fan_in:\n    min_counterparties: 0\n", "vigil.yaml:3: rules.fan_in.min_counterparties: must be at least 1"},
    {"rules:\n  fan_in:\n    enabled: maybe\n", "vigil.yaml:3: rules.fan_in.enabled: expected true or false"},
    {"rules:\n  fan_in:\n    severity: critical\n", "vigil.yaml:3: rules.fan_in.severity: bad severity 'critical'"},
    {"rules:\n  structuring:\n    margin: 1\n", "vigil.yaml:3: rules.structuring.margin: must be between 0 and 1"},
    {"rules:\n  structuring:\n    margin: -0.1\n", "rules.structuring.margin: ratio must not be negative"},
    {"rules:\n  structuring:\n    threshold: 0\n", "vigil.yaml:3: rules.structuring.threshold: must be greater than 0"},
    {"rules:\n  large_tx:\n    threshold: 0\n", "rules.large_tx.threshold: must be greater than 0"},
    {"rules:\n  pass_through:\n    ratio: 1.5\n", "rules.pass_through.ratio: must be greater than 0 and at most 1"},
    {"rules:\n  cycle:\n    max_hops: 1\n", "vigil.yaml:3: rules.cycle.max_hops: must be between 2 and 16"},
    {"rules:\n  cycle:\n    max_hops: 17\n", "rules.cycle.max_hops: must be between 2 and 16"},
    {"rules:\n  velocity:\n    window: 2h\n    baseline: 1h\n", "vigil.yaml:4: rules.velocity.baseline: must be longer than window"},
    {"rules:\n  velocity:\n    window: 40d\n", "vigil.yaml:3: rules.velocity.baseline: must be longer than window"},
    {"rules:\n  velocity:\n    factor: 0\n", "rules.velocity.factor: must be greater than 0"},
    {"rules:\n  high_risk_country:\n    countries: [KP, IRN]\n", "vigil.yaml:3: rules.high_risk_country.countries: bad country code 'IRN'"},
    {"rules:\n  high_risk_country:\n    countries: [K1]\n", "bad country code 'K1'"},
    {"rules:\n  large_tx:\n    channels: [a_channel_name_that_is_too_long]\n", "rules.large_tx.channels: bad name"},
    {"rules:\n  large_tx:\n    channels: ['']\n", "rules.large_tx.channels: bad name ''"},
    {"input:\n  kind: stream\n", "vigil.yaml:2: input.kind: bad value 'stream' (expected kafka or file)"},
    {"input:\n  kind: file\n", "vigil.yaml:2: input: kind file needs input.file"},
    {"input:\n  format: csv\n", "input.format: bad value 'csv' (expected ndjson or amlworld-csv)"},
    {"input:\n  topic: 'bad topic'\n", "vigil.yaml:2: input.topic: bad topic name 'bad topic'"},
    {"input:\n  topic:\n", "input.topic: bad topic name ''"},
    {"input:\n  group: ''\n", "input.group: must not be empty"},
    {"output:\n  exactly_once: 2\n", "output.exactly_once: expected true or false"},
    {"kafka:\n  brokers: ''\n", "kafka.brokers: must not be empty"},
    {"engine:\n  threads: -1\n", "vigil.yaml:2: engine.threads: expected an integer from 0 to 1024"},
    {"engine:\n  threads: four\n", "engine.threads: expected an integer"},
    {"engine:\n  ring_size: 1000\n", "vigil.yaml:2: engine.ring_size: must be a power of two"},
    {"engine:\n  ring_size: 0\n", "engine.ring_size: expected an integer from 2"},
    {"engine:\n  graph_budget: 0\n", "engine.graph_budget: expected an integer from 1"},
    {"engine:\n  allowed_lateness: soon\n", "engine.allowed_lateness: bad duration 'soon'"},
    {"alerts:\n  max_evidence: 0\n", "alerts.max_evidence: expected an integer from 1 to 1024"},
    {"alerts:\n  max_evidence: 1025\n", "alerts.max_evidence: expected an integer from 1 to 1024"},
    {"alerts:\n  cooldown: 1y\n", "alerts.cooldown: bad duration '1y'"},
    {"currency:\n  base: euro\n", "vigil.yaml:2: currency.base: bad currency 'euro'"},
    {"currency:\n  rates:\n    EUR: 0\n", "vigil.yaml:3: currency.rates.EUR: bad rate '0'"},
    {"currency:\n  rates:\n    EUR: abc\n", "currency.rates.EUR: bad rate 'abc'"},
    {"currency:\n  rates:\n    eur: 1\n", "currency.rates.eur: bad currency 'eur'"},
    {"currency:\n  rates:\n    EUR: 1\n    Euro: 2\n", "vigil.yaml:4: currency.rates.Euro: EUR given twice (line 3)"},
    {"currency:\n  base: EUR\n  rates:\n    EUR: 2\n", "vigil.yaml:4: currency.rates.EUR: the base currency EUR has rate 1"},
    {"metrics:\n  listen: 9100\n", "vigil.yaml:2: metrics.listen: expected HOST:PORT, got '9100'"},
    {"metrics:\n  listen: 'localhost:99999'\n", "metrics.listen: expected HOST:PORT"},
    {"metrics:\n  listen: 'localhost:'\n", "metrics.listen: expected HOST:PORT"},
    {"state:\n  interval: 0\n", "vigil.yaml:2: state.interval: must be at least 1000 ms"},
    {"log:\n  level: verbose\n", "vigil.yaml:2: log.level: bad value 'verbose' (expected error, warn, info or debug)"},
    {"input:\n  topic: \"a\\0b\"\n", "input.topic: value contains a NUL byte"},
    {"rules:\n  watchlist:\n    file: /nonexistent/vigil/list.txt\n",
     "vigil.yaml:3: rules.watchlist.file: cannot open '/nonexistent/vigil/list.txt'"},
};

Test(config, invalid_configs_are_refused_with_file_line_key) {
    for (size_t i = 0; i < sizeof bad_configs / sizeof bad_configs[0]; i++) {
        struct vg_config cfg;
        memset(&cfg, 0xa5, sizeof cfg);
        int rc = load(&cfg, bad_configs[i].yaml);
        cr_expect_neq(rc, VG_OK, "accepted: %s", bad_configs[i].yaml);
        cr_expect(strstr(err, bad_configs[i].expected) != NULL, "config:\n%s\nexpected '%s'\ngot      '%s'",
                  bad_configs[i].yaml, bad_configs[i].expected, err);
        /* One line per error, each naming the file (a config may hold more than one). */
        for (const char *l = err; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
            cr_expect(strncmp(l, "vigil.yaml:", 11) == 0, "each line names the file: %s", err);
        for (int id = 0; id < VG_RULE_MAX; id++) cr_expect_null(cfg.rules[id].params, "nothing left to free");
        vg_config_free(&cfg);
    }
}

Test(config, messages_quote_hostile_values_safely) {
    struct vg_config cfg;
    char yaml[512];
    snprintf(yaml, sizeof yaml, "rules:\n  fan_in:\n    window: \"%s\\n\\tboom\"\n",
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    cr_assert_neq(load(&cfg, yaml), VG_OK);
    cr_expect_null(strchr(err, '\n'), "%s", err);
    cr_expect_null(strchr(err, '\t'), "%s", err);
    cr_expect(strstr(err, "...") != NULL, "long values are cut: %s", err);
}

Test(config, unreadable_file_names_the_reason) {
    struct vg_config cfg;
    int rc = vg_config_load(&cfg, "/nonexistent/vigil.yaml", err, sizeof err);
    cr_expect_eq(rc, VG_ERR_IO);
    cr_expect_str_eq(err, "/nonexistent/vigil.yaml: cannot open: No such file or directory");
    rc = vg_config_load(&cfg, "/", err, sizeof err);
    cr_expect_eq(rc, VG_ERR_IO);
    cr_expect(strstr(err, "/: cannot ") == err, "%s", err);
    vg_config_free(&cfg);
}

Test(config, load_from_file_names_the_path) {
    const char yaml[] = "engine:\n  threads: 2\n\nrules:\n  dormant:\n    dormancy: never\n";
    char *path = vg_test_write_temp(yaml, strlen(yaml), ".yaml");
    cr_assert_not_null(path);
    struct vg_config cfg;
    cr_expect_eq(vg_config_load(&cfg, path, err, sizeof err), VG_ERR_INVALID);
    char expected[512];
    snprintf(expected, sizeof expected, "%s:6: rules.dormant.dormancy: bad duration 'never'", path);
    cr_expect(strncmp(err, expected, strlen(expected)) == 0, "got '%s'", err);
    unlink(path);
    free(path);
}

/* ---- watchlist ------------------------------------------------------------------------ */

static const char list_text[] =
    "# sanctioned accounts\n"
    "\n"
    "ACC-1\n"
    "   acc 2 with spaces  \r\n"
    "\t# indented comment\n"
    "10:8000EBD30\n"
    "ACC-1\n"
    "ACC-9  # trailing comment\n"
    "ACC#7\n"
    "last-line-without-newline";

Test(config, watchlist_file_comments_blanks_whitespace) {
    char *list = vg_test_write_temp(list_text, strlen(list_text), ".txt");
    cr_assert_not_null(list);
    char yaml[512];
    snprintf(yaml, sizeof yaml, "rules:\n  watchlist:\n    file: %s\n", list);
    struct vg_config c;
    load_ok(&c, yaml);
    const struct vg_watchlist_params *w = P(&c, VG_RULE_WATCHLIST, vg_watchlist_params);
    cr_expect_eq(vg_watchlist_size(w), 6);
    cr_expect(vg_watchlist_contains(w, "ACC-9", 5), "a trailing comment is cut with the space before it");
    cr_expect(vg_watchlist_contains(w, "ACC#7", 5), "a '#' inside an id is part of it");
    cr_expect(vg_watchlist_contains(w, "ACC-1", 5));
    cr_expect(vg_watchlist_contains(w, "acc 2 with spaces", 17));
    cr_expect(vg_watchlist_contains(w, "10:8000EBD30", 12));
    cr_expect(vg_watchlist_contains(w, "last-line-without-newline", 25));
    cr_expect_not(vg_watchlist_contains(w, "acc-1", 5), "ids are compared exactly");
    cr_expect_not(vg_watchlist_contains(w, "ACC-", 4));
    cr_expect_not(vg_watchlist_contains(w, "# sanctioned accounts", 21));
    cr_expect_not(vg_watchlist_contains(w, "", 0));
    vg_config_free(&c);
    unlink(list);
    free(list);
}

Test(config, watchlist_many_ids_and_relative_path) {
    char dir[] = "/tmp/vigil-cfg-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char list_path[256], cfg_path[256];
    snprintf(list_path, sizeof list_path, "%s/list.txt", dir);
    snprintf(cfg_path, sizeof cfg_path, "%s/vigil.yaml", dir);
    FILE *f = fopen(list_path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 5000; i++) fprintf(f, "acct-%d\n", i);
    fclose(f);
    f = fopen(cfg_path, "w");
    cr_assert_not_null(f);
    fputs("rules:\n  watchlist:\n    file: list.txt\n", f);
    fclose(f);
    struct vg_config c;
    cr_assert_eq(vg_config_load(&c, cfg_path, err, sizeof err), VG_OK, "%s", err);
    const struct vg_watchlist_params *w = P(&c, VG_RULE_WATCHLIST, vg_watchlist_params);
    cr_expect_eq(vg_watchlist_size(w), 5000);
    cr_expect(vg_watchlist_contains(w, "acct-0", 6));
    cr_expect(vg_watchlist_contains(w, "acct-4999", 9));
    cr_expect_not(vg_watchlist_contains(w, "acct-5000", 9));
    vg_config_free(&c);
    unlink(list_path);
    unlink(cfg_path);
    rmdir(dir);
}

Test(config, watchlist_oversize_id_names_list_line) {
    char id65[66];
    memset(id65, 'x', 65);
    id65[65] = '\0';
    char text[256];
    snprintf(text, sizeof text, "# header\nok-id\n%.64s\n%s\n", id65, id65);
    char *list = vg_test_write_temp(text, strlen(text), ".txt");
    cr_assert_not_null(list);
    char yaml[512];
    snprintf(yaml, sizeof yaml, "log:\n  level: warn\nrules:\n  watchlist:\n    severity: low\n    file: %s\n", list);
    struct vg_config c;
    cr_assert_neq(load(&c, yaml), VG_OK);
    char expected[512];
    snprintf(expected, sizeof expected, "vigil.yaml:6: rules.watchlist.file: %s:4: id longer than 64 bytes", list);
    cr_expect(strncmp(err, expected, strlen(expected)) == 0, "expected '%s'\ngot '%s'", expected, err);

    /* A disabled watchlist does not read its file. */
    snprintf(yaml, sizeof yaml, "rules:\n  watchlist:\n    enabled: false\n    file: %s\n", list);
    load_ok(&c, yaml);
    vg_config_free(&c);
    unlink(list);
    free(list);
}

/* Collects what the watchlist rule emits. */
struct caught {
    int alerts;
    char account[VG_ID_MAX + 1];
    char tx[VG_ID_MAX + 1];
    char counterparty[VG_ID_MAX + 1];
    int64_t amount;
    enum vg_severity severity;
};

static void catch_alert(void *opaque, const struct vg_alert *a, enum vg_severity severity) {
    struct caught *c = opaque;
    c->alerts++;
    snprintf(c->account, sizeof c->account, "%.*s", (int)a->account.len, a->account.ptr);
    if (a->n_tx_ids) snprintf(c->tx, sizeof c->tx, "%.*s", (int)a->tx_ids[0].len, a->tx_ids[0].ptr);
    if (a->n_accounts)
        snprintf(c->counterparty, sizeof c->counterparty, "%.*s", (int)a->accounts[0].len, a->accounts[0].ptr);
    for (size_t i = 0; i < a->n_metrics; i++)
        if (strcmp(a->metrics[i].key, "amount") == 0) c->amount = a->metrics[i].value;
    c->severity = severity;
}

static void watchlist_event(const struct vg_config *cfg, struct vg_alert_out *out, const char *from, const char *to,
                            enum vg_dir dir, int64_t ts_ms) {
    struct vg_txn txn;
    memset(&txn, 0, sizeof txn);
    txn.ts_ms = ts_ms;
    txn.amount_micros = MICROS(250);
    txn.id_len = (uint8_t)snprintf(txn.id, sizeof txn.id, "tx-%lld", (long long)ts_ms);
    txn.from_len = (uint8_t)strlen(from);
    memcpy(txn.from, from, txn.from_len);
    txn.to_len = (uint8_t)strlen(to);
    memcpy(txn.to, to, txn.to_len);
    struct vg_rule_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.txn = &txn;
    ctx.dir = dir;
    ctx.account = dir == VG_DIR_OUT ? (struct vg_str){txn.from, txn.from_len} : (struct vg_str){txn.to, txn.to_len};
    ctx.account_hash = vg_hash64_id(ctx.account.ptr, ctx.account.len);
    ctx.counterparty = dir == VG_DIR_OUT ? (struct vg_str){txn.to, txn.to_len} : (struct vg_str){txn.from, txn.from_len};
    ctx.config = cfg;
    vg_rule_registry[VG_RULE_WATCHLIST]->on_event(&ctx, vg_config_params(cfg, VG_RULE_WATCHLIST), out);
}

Test(config, watchlist_rule_alerts_on_listed_account_only) {
    const char text[] = "bad-guy\n";
    char *list = vg_test_write_temp(text, strlen(text), ".txt");
    cr_assert_not_null(list);
    char yaml[512];
    snprintf(yaml, sizeof yaml, "rules:\n  watchlist: {file: '%s'}\n", list);
    struct vg_config c;
    load_ok(&c, yaml);
    struct caught caught;
    memset(&caught, 0, sizeof caught);
    struct vg_alert_out *out = vg_alert_out_create(&c, catch_alert, &caught);
    cr_assert_not_null(out);

    watchlist_event(&c, out, "alice", "bob", VG_DIR_OUT, 1000);
    watchlist_event(&c, out, "alice", "bob", VG_DIR_IN, 1000);
    cr_expect_eq(caught.alerts, 0, "no listed party");
    watchlist_event(&c, out, "alice", "bad-guy", VG_DIR_OUT, 2000);
    cr_expect_eq(caught.alerts, 0, "the sender's side is about alice, who is not listed");
    watchlist_event(&c, out, "alice", "bad-guy", VG_DIR_IN, 2000);
    cr_assert_eq(caught.alerts, 1);
    cr_expect_str_eq(caught.account, "bad-guy");
    cr_expect_str_eq(caught.tx, "tx-2000");
    cr_expect_str_eq(caught.counterparty, "alice");
    cr_expect_eq(caught.amount, MICROS(250));
    cr_expect_eq(caught.severity, VG_SEVERITY_HIGH);
    vg_alert_out_destroy(out);
    vg_config_free(&c);
    unlink(list);
    free(list);
}

/* ---- the shipped example ------------------------------------------------------------- */

Test(config, deploy_example_loads_and_matches_defaults) {
    struct vg_config c;
    int rc = vg_config_load(&c, VG_TEST_DATA "/../../deploy/vigil.yaml", err, sizeof err);
    cr_assert_eq(rc, VG_OK, "%s", err);
    /* The example documents the defaults, so loading it changes none of them, except
     * kafka.brokers, which has none: the example names a real bootstrap list. */
    cr_expect_str_eq(c.kafka.brokers, "kafka1:9092,kafka2:9092");
    c.kafka.brokers[0] = '\0';
    expect_contract_defaults(&c);
    vg_config_free(&c);
}

/* Kafka mode without kafka.brokers is refused (no silent development broker); written, any
 * value passes, embedded included. */
Test(config, kafka_mode_needs_brokers_written) {
    struct vg_config c;
    char why[512] = "";
    cr_assert_eq(load(&c, "input:\n  topic: tx\n"), VG_OK);
    cr_expect_eq(vg_config_check_kafka_mode(&c, why, sizeof why), VG_ERR_INVALID);
    cr_expect(strstr(why, "vigil.yaml: kafka.brokers: required") == why, "%s", why);
    vg_config_free(&c);
    cr_assert_eq(load(&c, "kafka:\n  brokers: embedded\n"), VG_OK);
    cr_expect_eq(vg_config_check_kafka_mode(&c, why, sizeof why), VG_OK);
    vg_config_free(&c);
}

/* One run reports every error, each as its own file:line: key: why line, in file order
 * (issue 25 item 4), including a rule's own check after a parse error elsewhere. */
Test(config, every_error_in_one_run) {
    struct vg_config cfg;
    cr_assert_neq(load(&cfg, "engine:\n  threads: many\n  bogus: 1\n"
                             "rules:\n  fan_in:\n    window: 3x\n  cycle:\n    max_hops: 40\n"
                             "  watchlist:\n    file: /nonexistent/list.txt\n"
                             "alerts:\n  cooldown: soon\n"), VG_OK);
    const char *want[] = {"vigil.yaml:2: engine.threads: ", "vigil.yaml:3: engine.bogus: unknown key",
                          "vigil.yaml:6: rules.fan_in.window: ", "vigil.yaml:12: alerts.cooldown: ",
                          "vigil.yaml:8: rules.cycle.max_hops: ", "vigil.yaml:10: rules.watchlist.file: "};
    const char *at = err;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *hit = strstr(err, want[i]);
        cr_expect_not_null(hit, "missing '%s' in:\n%s", want[i], err);
        cr_expect(hit == err || hit[-1] == '\n', "'%s' does not start a line:\n%s", want[i], err);
        if (hit) at = hit;
    }
    (void)at;
    size_t lines = 1;
    for (const char *c = err; *c; c++) lines += *c == '\n';
    cr_expect_eq(lines, 6, "one line per error:\n%s", err);
}

/* A base currency nothing converts to is a bad value (every other currency would be dead-
 * lettered); written rates, even just `BASE: 1`, make it a deliberate choice. */
Test(config, unconvertible_base_currency_is_an_error) {
    struct vg_config c;
    cr_assert_neq(load(&c, "alerts:\n  cooldown: 1h\ncurrency:\n  base: XYZ\n"), VG_OK);
    cr_expect(strstr(err, "vigil.yaml:4: currency.base: no built-in rate for XYZ") == err, "%s", err);
    load_ok(&c, "currency:\n  base: XYZ\n  rates:\n    XYZ: 1\n");
    vg_config_free(&c);
    load_ok(&c, "currency:\n  base: XYZ\n  rates:\n    USD: 2\n");
    vg_config_free(&c);
}

/* The use checks: Kafka needs kafka.brokers, state.dir must be creatable and writable;
 * reported with the file's own errors, one line each. */
Test(config, use_checks_report_brokers_and_state_dir) {
    struct vg_config c;
    const char *yaml = "state:\n  dir: /nonexistent-vigil/state\nengine:\n  threads: x\n";
    err[0] = '\0';
    cr_assert_neq(vg_config_load_buffer_checked(&c, "vigil.yaml", yaml, strlen(yaml),
                                                VG_CONFIG_CHECK_KAFKA | VG_CONFIG_CHECK_STATE_DIR, err, sizeof err),
                  VG_OK);
    cr_expect(strstr(err, "vigil.yaml:4: engine.threads: ") == err, "%s", err);
    cr_expect_not_null(strstr(err, "\nvigil.yaml: kafka.brokers: required"), "%s", err);
    cr_expect_not_null(strstr(err, "\nvigil.yaml:2: state.dir: '/nonexistent-vigil/state' cannot be created: "
                                   "/nonexistent-vigil: "), "%s", err);
    /* Without the checks (a replay, a reload) the same file only has its own error. */
    cr_assert_neq(load(&c, yaml), VG_OK);
    cr_expect_null(strchr(err, '\n'), "%s", err);
    yaml = "kafka:\n  brokers: k:9092\nstate:\n  dir: /tmp/vigil-check-state-ok\n";
    cr_expect_eq(vg_config_load_buffer_checked(&c, "vigil.yaml", yaml, strlen(yaml),
                                               VG_CONFIG_CHECK_KAFKA | VG_CONFIG_CHECK_STATE_DIR, err, sizeof err),
                 VG_OK, "%s", err);
    vg_config_free(&c);
}
