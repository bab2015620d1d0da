/* test_rule_sanctions.c - rule `sanctions` through the real engine against the UN-format and
 * TSV fixtures: a listed party alerts about its own account with the contract's metrics; one
 * alert per (account, list entry) per cooldown; a disagreeing birth date blocks an exact name
 * at the default threshold; no lists, no alerts. */
#include "rule_fixture.h"
#include "vigil/config.h"

#define UN_YAML                                                                                       \
    "rules:\n  large_tx:\n    enabled: false\n  sanctions:\n    lists:\n"                                \
    "      - {name: un, file: " VG_TEST_DATA "/sanctions/un_small.xml, format: un-xml}\n"

#define BOTH_YAML UN_YAML "      - {name: kz, file: " VG_TEST_DATA "/sanctions/national.tsv, format: tsv}\n"

Test(rule_sanctions, payer_name_fires_about_payer_with_metrics) {
    struct fx f = {0};
    fx_txn(&f, "p1", FX_T0, "A", "B", "250", "USD", "\"from_name\":\"Mohamad Tahir Anwari\",\"to_name\":\"Jane Doe\"");
    struct vg_test_alerts a = fx_replay(&f, UN_YAML, 2);
    cr_expect_eq(vg_test_count(&a, "sanctions", NULL), 1);
    const char *line = fx_find(&a, "sanctions", "A");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"severity\":\"high\"");
    fx_expect_has(line, "\"tx_ids\":[\"p1\"]");
    fx_expect_has(line, "\"list\":\"un\"");
    fx_expect_has(line, "\"entry\":\"TAi.005\"");
    fx_expect_has(line, "\"entry_type\":\"person\"");
    fx_expect_has(line, "\"matched_name\":\"");
    fx_expect_has(line, "\"name\":\"Mohamad Tahir Anwari\"");
    fx_expect_has(line, "\"side\":\"from\"");
    fx_expect_has(line, "\"list_version\":\"2024-09-26\"");
    fx_expect_has(line, "\"score\":0.9");
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_sanctions, payee_in_cyrillic_fires_about_payee) {
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "10", "USD", "\"to_name\":\"Щербаков Александр\"");
    struct vg_test_alerts a = fx_replay(&f, UN_YAML, 2);
    const char *line = fx_find(&a, "sanctions", "B");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"entry\":\"TSi.001\"");
    fx_expect_has(line, "\"side\":\"to\"");
    cr_expect_eq(vg_test_count(&a, "sanctions", "A"), 0);
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_sanctions, one_alert_per_account_and_entry_per_cooldown) {
    struct fx f = {0};
    const char *anwari = "\"from_name\":\"Muhammad Taher Anwari\"";
    const char *other = "\"from_name\":\"Aleksandr Shcherbakov\"";
    fx_txn(&f, NULL, FX_T0, "A", "B", "10", "USD", anwari);
    fx_txn(&f, NULL, FX_T0 + FX_HOUR, "A", "C", "10", "USD", anwari);           /* same entry: cooling */
    fx_txn(&f, NULL, FX_T0 + 2 * FX_HOUR, "A", "C", "10", "USD", other);        /* another entry: alerts */
    fx_txn(&f, NULL, FX_T0 + 3 * FX_HOUR, "Z", "C", "10", "USD", anwari);       /* another account: alerts */
    fx_txn(&f, NULL, FX_T0 + 24 * FX_HOUR - 1, "A", "D", "10", "USD", anwari);  /* still cooling */
    cr_expect_eq(fx_count(&f, UN_YAML, "sanctions", "A"), 2);
    cr_expect_eq(fx_count(&f, UN_YAML, "sanctions", "Z"), 1);
    fx_txn(&f, NULL, FX_T0 + 24 * FX_HOUR, "A", "D", "10", "USD", anwari);      /* cooldown over */
    cr_expect_eq(fx_count(&f, UN_YAML, "sanctions", "A"), 3);
    fx_free(&f);
}

Test(rule_sanctions, disagreeing_birth_date_blocks_exact_name) {
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "10", "USD",
           "\"from_name\":\"Aleksandr Shcherbakov\",\"from_birth_date\":\"1971-01-01\"");
    fx_txn(&f, NULL, FX_T0, "C", "B", "10", "USD",
           "\"from_name\":\"Aleksandr Shcherbakov\",\"from_birth_date\":\"1970-05-14\"");
    struct vg_test_alerts a = fx_replay(&f, UN_YAML, 2);
    cr_expect_eq(vg_test_count(&a, "sanctions", "A"), 0, "another birth date: 1.0 x 0.75 < 0.85");
    cr_expect_eq(vg_test_count(&a, "sanctions", "C"), 1, "the listed birth date");
    vg_test_alerts_free(&a);
    const char *lower = UN_YAML "    threshold: 0.75\n";
    cr_expect_eq(fx_count(&f, lower, "sanctions", "A"), 1, "a lower threshold lets it through");
    fx_free(&f);
}

Test(rule_sanctions, identifier_and_several_lists) {
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "10", "USD", "\"to_name\":\"Unrelated Name\",\"to_party_id\":\"750302300123\"");
    fx_txn(&f, NULL, FX_T0, "C", "D", "10", "USD", "\"from_name\":\"Серикбаев Нурлан\"");
    struct vg_test_alerts a = fx_replay(&f, BOTH_YAML, 2);
    const char *line = fx_find(&a, "sanctions", "B");
    cr_assert_not_null(line);
    fx_expect_has(line, "\"list\":\"kz\"");
    fx_expect_has(line, "\"entry\":\"KZ-0001\"");
    fx_expect_has(line, "\"party_id\":\"750302300123\"");
    fx_expect_has(line, "\"score\":1");
    cr_expect_eq(vg_test_count(&a, "sanctions", "C"), 1);
    vg_test_alerts_free(&a);
    fx_free(&f);
}

Test(rule_sanctions, decoys_and_no_lists_are_silent) {
    struct fx f = {0};
    fx_txn(&f, NULL, FX_T0, "A", "B", "10", "USD", "\"from_name\":\"Muhammad\",\"to_name\":\"Haji\"");
    fx_txn(&f, NULL, FX_T0, "C", "D", "10", "USD", "\"from_name\":\"Muhammad Anwar Khan\"");
    fx_txn(&f, NULL, FX_T0, "E", "F", "10", "USD", "\"from_name\":\"Trust\"");
    fx_txn(&f, NULL, FX_T0, "G", "H", "10", "USD", NULL);
    cr_expect_eq(fx_count(&f, UN_YAML, "sanctions", NULL), 0);
    fx_txn(&f, NULL, FX_T0, "I", "J", "10", "USD", "\"from_name\":\"Muhammad Taher Anwari\"");
    cr_expect_eq(fx_count(&f, UN_YAML, "sanctions", NULL), 1);
    cr_expect_eq(fx_count(&f, NULL, "sanctions", NULL), 0, "built-in defaults: no lists");
    fx_free(&f);
}

/* rules.sanctions config: every defect is refused with file:line: key: why, and a list that
 * fails to load names its own file and line. */
Test(rule_sanctions, bad_config_is_refused_with_file_line_key) {
    static const struct {
        const char *yaml;
        const char *fragment;
    } bad[] = {
        {"rules:\n  sanctions:\n    lists:\n      - {name: un, file: x.xml, format: pdf}\n", "unknown format 'pdf'"},
        {"rules:\n  sanctions:\n    lists:\n      - {name: un, file: x.xml}\n", "vigil.yaml:4: rules.sanctions.lists"},
        {"rules:\n  sanctions:\n    lists:\n      - {name: un, file: x.xml, format: tsv, color: red}\n", "unknown key 'color'"},
        {"rules:\n  sanctions:\n    lists: un.xml\n", "expected a sequence"},
        {"rules:\n  sanctions:\n    lists:\n      - {name: a, file: " VG_TEST_DATA "/sanctions/national.tsv, format: tsv}\n"
         "      - {name: a, file: " VG_TEST_DATA "/sanctions/national.tsv, format: tsv}\n", "given twice"},
        {"rules:\n  sanctions:\n    threshold: 1.5\n", "rules.sanctions.threshold"},
        {"rules:\n  sanctions:\n    threshold: 0\n", "rules.sanctions.threshold"},
        {"rules:\n  sanctions:\n    lists:\n      - {name: kz, file: " VG_TEST_DATA "/sanctions/national_broken.tsv, format: tsv}\n",
         "national_broken.tsv:2: type 'persn'"},
        {"rules:\n  sanctions:\n    lists:\n      - {name: un, file: " VG_TEST_DATA "/sanctions/un_broken.xml, format: un-xml}\n",
         "un_broken.xml:7:"},
        {"rules:\n  sanctions:\n    lists:\n      - {name: un, file: /nonexistent/list.xml, format: un-xml}\n", "list 'un'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct vg_config cfg;
        char err[2048] = "";
        int rc = vg_config_load_buffer(&cfg, "vigil.yaml", bad[i].yaml, strlen(bad[i].yaml), err, sizeof err);
        cr_expect_neq(rc, VG_OK, "accepted: %s", bad[i].yaml);
        if (rc == VG_OK) {
            vg_config_free(&cfg);
            continue;
        }
        cr_expect(strstr(err, bad[i].fragment) != NULL, "error '%s' lacks '%s'", err, bad[i].fragment);
        cr_expect(strncmp(err, "vigil.yaml:", 11) == 0, "error '%s' does not start with the config's file:line", err);
    }
}
