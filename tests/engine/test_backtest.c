/* test_backtest.c - vigil-backtest's figures (engine/backtest/) on labelled histories whose
 * answers are known by construction: a caught attempt, a labelled decoy that fires, a near
 * miss that does not, an attempt no rule catches; sweeps (spec parsing, monotone counts,
 * grid rows equal to separate runs); config overrides read as the YAML loader reads them. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/backtest.h"
#include "vigil/synth.h"

static struct vg_currency_table rates;

static void setup(void) { vg_currency_defaults(&rates); }

TestSuite(backtest, .init = setup, .timeout = 120);

/* Appends CSV lines (label in the last column) to a data set. */
static void append_csv(vg_bt_data_t *d, const char *text) {
    static uint64_t line_no;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        struct vg_txn t;
        struct vg_parse_error pe;
        cr_assert_eq(vg_amlworld_parse(p, n, ++line_no, &rates, &t, &pe), VG_OK, "%.*s: %s", (int)n, p, pe.detail);
        cr_assert_eq(vg_bt_data_append(d, &t, p[n - 1] == '1'), VG_OK);
        p += n + (nl ? 1 : 0);
    }
}

/* Config text enabling only the listed rules (NULL-terminated). */
static void only_rules(struct vg_config *cfg, const char *const *rules) {
    char yaml[4096] = "rules:\n";
    for (int i = 0; i < VG_RULE_MAX; i++) {
        const char *name = vg_rule_registry[i]->name;
        bool on = false;
        for (const char *const *r = rules; *r; r++) on = on || strcmp(*r, name) == 0;
        snprintf(yaml + strlen(yaml), sizeof yaml - strlen(yaml), "  %s: {enabled: %s}\n", name, on ? "true" : "false");
    }
    char err[512] = "";
    cr_assert_eq(vg_config_load_buffer(cfg, "t.yaml", yaml, strlen(yaml), err, sizeof err), VG_OK, "%s", err);
}

/* The hand-built history: 30 transactions, 11 laundering. */
static const char fan_attempt[] = /* 8 senders into H within 8 hours: fan_in fires, laundering */
    "2022/09/01 01:00,001,S1,002,H,700.00,US Dollar,700.00,US Dollar,ACH,1\n"
    "2022/09/01 02:00,001,S2,002,H,700.00,US Dollar,700.00,US Dollar,ACH,1\n"
    "2022/09/01 03:00,001,S3,002,H,700.00,US Dollar,700.00,US Dollar,ACH,1\n"
    "2022/09/01 04:00,001,S4,002,H,700.00,US Dollar,700.00,US Dollar,ACH,1\n"
    "2022/09/01 05:00,001,S5,002,H,700.00,US Dollar,700.00,US Dollar,ACH,1\n"
    "2022/09/01 06:00,001,S6,002,H,700.00,US Dollar,700.00,US Dollar,ACH,1\n"
    "2022/09/01 07:00,001,S7,002,H,700.00,US Dollar,700.00,US Dollar,ACH,1\n"
    "2022/09/01 08:00,001,S8,002,H,700.00,US Dollar,700.00,US Dollar,ACH,1\n";
static const char decoys[] = /* a benign hub that fires (labelled 0), and a near miss that does not */
    "2022/09/02 10:00,001,D1,002,B,700.00,US Dollar,700.00,US Dollar,ACH,0\n"
    "2022/09/02 11:00,001,D2,002,B,700.00,US Dollar,700.00,US Dollar,ACH,0\n"
    "2022/09/02 12:00,001,D3,002,B,700.00,US Dollar,700.00,US Dollar,ACH,0\n"
    "2022/09/02 13:00,001,D4,002,B,700.00,US Dollar,700.00,US Dollar,ACH,0\n"
    "2022/09/02 14:00,001,D5,002,B,700.00,US Dollar,700.00,US Dollar,ACH,0\n"
    "2022/09/02 15:00,001,D6,002,B,700.00,US Dollar,700.00,US Dollar,ACH,0\n"
    "2022/09/02 16:00,001,D7,002,B,700.00,US Dollar,700.00,US Dollar,ACH,0\n"
    "2022/09/02 17:00,001,D8,002,B,700.00,US Dollar,700.00,US Dollar,ACH,0\n"
    "2022/09/03 10:00,001,E1,002,N,900.00,US Dollar,900.00,US Dollar,ACH,0\n"
    "2022/09/03 11:00,001,E2,002,N,900.00,US Dollar,900.00,US Dollar,ACH,0\n"
    "2022/09/03 12:00,001,E3,002,N,900.00,US Dollar,900.00,US Dollar,ACH,0\n"
    "2022/09/03 13:00,001,E4,002,N,900.00,US Dollar,900.00,US Dollar,ACH,0\n"
    "2022/09/03 14:00,001,E5,002,N,900.00,US Dollar,900.00,US Dollar,ACH,0\n"
    "2022/09/03 15:00,001,E6,002,N,900.00,US Dollar,900.00,US Dollar,ACH,0\n"
    "2022/09/03 16:00,001,E7,002,N,900.00,US Dollar,900.00,US Dollar,ACH,0\n";
static const char stack_attempt[] = /* layering below every threshold: nothing can fire */
    "2022/09/04 10:00,003,X,003,Y,500.00,US Dollar,500.00,US Dollar,Wire,1\n"
    "2022/09/05 10:00,003,Y,003,Z,480.00,US Dollar,480.00,US Dollar,Wire,1\n"
    "2022/09/06 10:00,003,Z,003,W,460.00,US Dollar,460.00,US Dollar,Wire,1\n";
static const char background[] =
    "2022/09/01 00:00,004,P,004,Q,50.00,US Dollar,50.00,US Dollar,Card,0\n"
    "2022/09/02 00:00,004,P,004,Q,50.00,US Dollar,50.00,US Dollar,Card,0\n"
    "2022/09/03 00:00,004,P,004,Q,50.00,US Dollar,50.00,US Dollar,Card,0\n"
    "2022/09/04 00:00,004,P,004,Q,50.00,US Dollar,50.00,US Dollar,Card,0\n";

static vg_bt_data_t *known_history(void) {
    vg_bt_data_t *d = vg_bt_data_new();
    cr_assert_not_null(d);
    append_csv(d, background);
    append_csv(d, fan_attempt);
    append_csv(d, decoys);
    append_csv(d, stack_attempt);
    cr_assert_eq(vg_bt_data_seal(d), VG_OK);
    cr_assert_eq(vg_bt_data_index_identities(d), VG_OK);
    return d;
}

static void known_patterns(struct vg_bt_patterns *p) {
    char text[8192];
    snprintf(text, sizeof text,
             "BEGIN LAUNDERING ATTEMPT - FAN-IN:  Max 8-degree Fan-In\n%sEND LAUNDERING ATTEMPT - FAN-IN\n\n"
             "BEGIN LAUNDERING ATTEMPT - STACK\n%sEND LAUNDERING ATTEMPT - STACK\n",
             fan_attempt, stack_attempt);
    char err[256] = "";
    cr_assert_eq(vg_bt_patterns_parse(p, "known_Patterns.txt", text, strlen(text), &rates, err, sizeof err), VG_OK,
                 "%s", err);
}

Test(backtest, figures_known_by_construction) {
    vg_bt_data_t *d = known_history();
    struct vg_bt_patterns p;
    known_patterns(&p);
    struct vg_config cfg;
    only_rules(&cfg, (const char *const[]){"fan_in", NULL});
    struct vg_bt_figures f;
    char err[512] = "";
    cr_assert_eq(vg_bt_run(d, &p, &cfg, &f, err, sizeof err), VG_OK, "%s", err);

    cr_assert_eq(f.transactions, 30);
    cr_assert_eq(f.laundering, 11);
    const struct vg_bt_rule_figures *fi = &f.rule[VG_RULE_FAN_IN];
    cr_assert(fi->enabled);
    cr_assert(!f.rule[VG_RULE_FAN_OUT].enabled);
    cr_assert_eq(fi->alerts, 2, "H (laundering) and B (the labelled decoy); not N (7 senders)");
    cr_assert_eq(fi->alerts_laundering, 1);
    cr_assert_eq(fi->accounts, 2);
    cr_assert_float_eq(vg_bt_precision(fi), 0.5, 1e-12);
    cr_assert_eq(fi->tx_evidence, 8, "every leg of the fan is in the evidence");
    cr_assert_eq(fi->tx_account, 8, "and inside the alert's window on H");
    cr_assert_float_eq(vg_bt_recall(fi->tx_evidence, f.laundering), 8.0 / 11.0, 1e-12);
    cr_assert_float_eq(vg_bt_per_10k(fi->alerts, f.transactions), 2 * 10000.0 / 30.0, 1e-9);

    cr_assert_eq(f.n_typologies, 2);
    cr_assert_eq(f.attempts[0], 1);
    cr_assert_eq(f.attempts[1], 1);
    cr_assert_eq(fi->attempts_evidence[0], 1, "the FAN-IN attempt is caught");
    cr_assert_eq(fi->attempts_account[0], 1);
    cr_assert_eq(fi->attempts_evidence[1], 0, "the STACK attempt is not");
    cr_assert_eq(f.pattern_txns_unmatched, 0);
    cr_assert_eq(f.evidence_unresolved, 0);

    const struct vg_bt_rule_figures *all = &f.rule[VG_BT_ALL];
    cr_assert_eq(all->alerts, 2);
    cr_assert_eq(all->tx_evidence, 8);
    cr_assert_eq(all->attempts_evidence[1], 0);
    vg_config_free(&cfg);
    vg_bt_patterns_free(&p);
    vg_bt_data_free(d);
}

Test(backtest, account_window_recall_counts_what_evidence_misses) {
    /* fan_out about S1..S8? No: large_tx on a laundering transfer whose evidence is itself;
     * a second laundering transfer of the same account in the same minute is not evidence
     * but is inside the alert's window [ts, ts]. */
    vg_bt_data_t *d = vg_bt_data_new();
    append_csv(d, "2022/09/01 01:00,005,L,005,M,20000.00,US Dollar,20000.00,US Dollar,Wire,1\n"
                  "2022/09/01 01:00,005,L,005,K,20.00,US Dollar,20.00,US Dollar,Wire,1\n"
                  "2022/09/01 02:00,005,L,005,K,20.00,US Dollar,20.00,US Dollar,Wire,1\n");
    cr_assert_eq(vg_bt_data_seal(d), VG_OK);
    struct vg_config cfg;
    only_rules(&cfg, (const char *const[]){"large_tx", NULL});
    struct vg_bt_figures f;
    char err[512] = "";
    cr_assert_eq(vg_bt_run(d, NULL, &cfg, &f, err, sizeof err), VG_OK, "%s", err);
    const struct vg_bt_rule_figures *lt = &f.rule[VG_RULE_LARGE_TX];
    cr_assert_eq(lt->alerts, 1);
    cr_assert_eq(lt->tx_evidence, 1);
    cr_assert_eq(lt->tx_account, 2, "the same-minute transfer of L counts, the one an hour later does not");
    cr_assert_eq(f.n_typologies, 0);
    vg_config_free(&cfg);
    vg_bt_data_free(d);
}

/* ---- sweeps ---------------------------------------------------------------------------- */

Test(backtest, sweep_specs) {
    struct vg_bt_sweep s;
    memset(&s, 0, sizeof s);
    char err[512] = "";
    cr_assert_eq(vg_bt_sweep_add(&s, "rules.fan_in.min_counterparties=4..12", err, sizeof err), VG_OK, "%s", err);
    cr_assert_eq(s.keys[0].n_values, 9);
    cr_assert_str_eq(s.keys[0].values[0], "4");
    cr_assert_str_eq(s.keys[0].values[8], "12");
    cr_assert_eq(vg_bt_sweep_add(&s, "rules.fan_in.window=24h..96h:24h", err, sizeof err), VG_OK, "%s", err);
    cr_assert_eq(s.keys[1].n_values, 4);
    cr_assert_str_eq(s.keys[1].values[0], "1d");
    cr_assert_str_eq(s.keys[1].values[3], "4d");
    cr_assert_eq(vg_bt_sweep_add(&s, "rules.pass_through.ratio=0.5..0.9:0.2", err, sizeof err), VG_OK, "%s", err);
    cr_assert_eq(s.keys[2].n_values, 3);
    cr_assert_str_eq(s.keys[2].values[1], "0.7");
    cr_assert_eq(vg_bt_sweep_add(&s, "rules.large_tx.threshold=5000,10000,15000.50", err, sizeof err), VG_OK);
    cr_assert_str_eq(s.keys[3].values[2], "15000.50");
    cr_assert_eq(vg_bt_sweep_points(&s), 9 * 4 * 3 * 3);
    struct vg_config_override ov[VG_BT_SWEEP_KEYS];
    vg_bt_sweep_point(&s, 0, ov);
    cr_assert_str_eq(ov[0].value, "4");
    cr_assert_str_eq(ov[3].value, "5000");
    vg_bt_sweep_point(&s, 1, ov); /* the last key varies fastest */
    cr_assert_str_eq(ov[0].value, "4");
    cr_assert_str_eq(ov[3].value, "10000");
    vg_bt_sweep_point(&s, 4 * 3 * 3, ov);
    cr_assert_str_eq(ov[0].value, "5");
    cr_assert_str_eq(ov[0].key, "rules.fan_in.min_counterparties");
    cr_assert_str_eq(ov[0].source, "--sweep");

    static const char *const bad[] = {
        "rules.fan_in.min_counterparties",         "=4",
        "rules.fan_in.min_counterparties=",        "rules.fan_in.min_counterparties=12..4",
        "rules.fan_in.window=24h..96h",            "rules.pass_through.ratio=0.5..0.9",
        "rules.fan_in.min_counterparties=4..x",    "rules.fan_in.min_counterparties=4..8:0",
        "rules.fan_in.min_counterparties=1,,2",    "rules.fan_in.min_counterparties=1..3,5",
        "rules.fan_in.min_counterparties=0..1000", "rules.fan_in.window=24h..48:1h",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct vg_bt_sweep t;
        memset(&t, 0, sizeof t);
        err[0] = '\0';
        cr_assert_eq(vg_bt_sweep_add(&t, bad[i], err, sizeof err), VG_ERR_INVALID, "accepted '%s'", bad[i]);
        cr_assert(strstr(err, bad[i]) != NULL, "the message names the spec: %s", err);
    }
    struct vg_bt_sweep t;
    memset(&t, 0, sizeof t);
    cr_assert_eq(vg_bt_sweep_add(&t, "rules.fan_in.window=1h", err, sizeof err), VG_OK);
    cr_assert_eq(vg_bt_sweep_add(&t, "rules.fan_in.window=2h", err, sizeof err), VG_ERR_INVALID, "a key swept twice");
}

Test(backtest, overrides_read_like_the_file) {
    struct vg_config_override ov[] = {
        {.source = "--sweep", .key = "rules.fan_in.window", .value = "48h"},
        {.source = "--sweep", .key = "rules.large_tx.threshold", .value = "2500.5"},
        {.source = "--sweep", .key = "alerts.cooldown", .value = "1h"},
    };
    struct vg_config cfg;
    char err[512] = "";
    cr_assert_eq(vg_config_load_overrides(&cfg, NULL, ov, 3, err, sizeof err), VG_OK, "%s", err);
    struct vg_config want;
    const char yaml[] = "rules:\n  fan_in: {window: 48h}\n  large_tx: {threshold: 2500.5}\nalerts: {cooldown: 1h}\n";
    cr_assert_eq(vg_config_load_buffer(&want, "w.yaml", yaml, strlen(yaml), err, sizeof err), VG_OK, "%s", err);
    for (int i = 0; i < VG_RULE_MAX; i++)
        cr_assert(memcmp(cfg.rules[i].params, want.rules[i].params, vg_rule_registry[i]->params_size) == 0,
                  "rule %s differs", vg_rule_registry[i]->name);
    cr_assert_eq(cfg.alerts.cooldown_ms, want.alerts.cooldown_ms);
    vg_config_free(&cfg);
    vg_config_free(&want);

    static const struct {
        const char *key, *value, *message;
    } bad[] = {
        {"rules.fan_in.min_countrparties", "4", "--sweep:1: rules.fan_in.min_countrparties: unknown key"},
        {"rules.fan_inn.window", "4h", "--sweep:1: rules.fan_inn: unknown rule"},
        {"enigne.threads", "1", "--sweep:1: enigne: unknown section"},
        {"rules.fan_in.window", "forever", "rules.fan_in.window: bad duration 'forever'"},
        {"rules.fan_in.min_counterparties", "0", "rules.fan_in.min_counterparties: must be at least 1"},
        {"rules..window", "1h", "bad key 'rules..window'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct vg_config_override one = {.source = "--sweep", .key = bad[i].key, .value = bad[i].value};
        err[0] = '\0';
        cr_assert_eq(vg_config_load_overrides(&cfg, NULL, &one, 1, err, sizeof err), VG_ERR_INVALID, "accepted %s",
                     bad[i].key);
        cr_assert(strstr(err, bad[i].message) != NULL, "got '%s', want '%s'", err, bad[i].message);
    }
}

/* A generated history (background, patterns, decoys) as a data set. */
static vg_bt_data_t *generated_history(void) {
    struct vg_synth_options opt;
    vg_synth_options_default(&opt);
    opt.transactions = 20000;
    opt.accounts = 1000;
    opt.uncatchable = true;
    char err[256];
    vg_synth_t *s = vg_synth_create(&opt, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    vg_bt_data_t *d = vg_bt_data_new();
    struct vg_synth_txn st;
    while (vg_synth_next(s, &st)) {
        struct vg_txn t;
        cr_assert_eq(vg_synth_to_txn(&st, &rates, &t), VG_OK);
        cr_assert_eq(vg_bt_data_append(d, &t, st.laundering), VG_OK);
    }
    vg_synth_destroy(s);
    cr_assert_eq(vg_bt_data_seal(d), VG_OK);
    return d;
}

Test(backtest, sweep_rows_match_separate_runs_and_are_monotone) {
    vg_bt_data_t *d = generated_history();
    struct vg_bt_sweep s;
    memset(&s, 0, sizeof s);
    char err[512] = "";
    cr_assert_eq(vg_bt_sweep_add(&s, "rules.fan_in.min_counterparties=2..10:4", err, sizeof err), VG_OK, "%s", err);
    cr_assert_eq(vg_bt_grid_check(NULL, &s, err, sizeof err), VG_OK, "%s", err);
    size_t n = vg_bt_sweep_points(&s);
    cr_assert_eq(n, 3);
    struct vg_bt_point *grid = calloc(n, sizeof *grid);
    cr_assert_eq(vg_bt_grid_run(d, NULL, NULL, &s, 2, grid, err, sizeof err), VG_OK, "%s", err);
    for (size_t i = 0; i < n; i++) {
        /* The same point alone, on an engine with two shard threads. */
        struct vg_config cfg;
        cr_assert_eq(vg_config_load_overrides(&cfg, NULL, grid[i].ov, grid[i].n_ov, err, sizeof err), VG_OK);
        cfg.engine.threads = 2;
        struct vg_bt_figures alone;
        cr_assert_eq(vg_bt_run(d, NULL, &cfg, &alone, err, sizeof err), VG_OK, "%s", err);
        vg_config_free(&cfg);
        alone.seconds = grid[i].figures.seconds = 0;
        cr_assert(memcmp(&alone, &grid[i].figures, sizeof alone) == 0, "point %zu differs from its separate run", i);
        if (i > 0)
            cr_assert_leq(grid[i].figures.rule[VG_RULE_FAN_IN].alerts, grid[i - 1].figures.rule[VG_RULE_FAN_IN].alerts,
                          "a higher min_counterparties never gives more fan_in alerts");
        for (int r = 0; r < VG_RULE_MAX; r++) {
            if (r == VG_RULE_FAN_IN) continue;
            cr_assert_eq(grid[i].figures.rule[r].alerts, grid[0].figures.rule[r].alerts,
                         "fan_in's threshold moves no other rule (%s)", vg_rule_registry[r]->name);
        }
    }
    cr_assert_gt(grid[0].figures.rule[VG_RULE_FAN_IN].alerts, grid[2].figures.rule[VG_RULE_FAN_IN].alerts,
                 "the sweep range matters on this stream");
    cr_assert_gt(grid[0].figures.laundering, 0);
    free(grid);
    vg_bt_data_free(d);
}
