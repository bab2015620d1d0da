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

/* Party details of every size travel whole to the shard that screens them: names of 1 to
 * 140 characters of 1-, 2- and 4-byte UTF-8 (up to the 560-byte maximum) with ids, account
 * ids and channel from 1 byte to their maximum, so that the engine carries some in the ring
 * slot and spills the others (more than its spill ring holds at once). Each party's listed
 * identifier alerts about its account; the alert must show that party's own name, whole. */
#define BIG_N 1500
#define BIG_ID "ID-0123456789012345678901234567890123456789012345678901234567890"
static void big_name(char *dst, unsigned i, bool from) {
    static const char *glyph[3] = {"x", "\xD0\x96" /* Ж */, "\xF0\x9D\x94\xB8" /* 𝔸 */};
    unsigned chars = 1 + (i * 7 + (from ? 0 : 3)) % 140, kind = (i / 3 + (from ? 0 : 1)) % 3;
    if (i % 5 == 0) chars = 140, kind = 2; /* the longest name there is, on both sides */
    dst[0] = '\0';
    for (unsigned c = 0; c < chars; c++) strcat(dst, glyph[kind]);
}
static void big_account(char *dst, unsigned i, char side) {
    unsigned len = i % 5 == 0 ? VG_ID_MAX : 6 + i % (VG_ID_MAX - 5);
    int n = snprintf(dst, VG_ID_MAX + 1, "%c%05u", side, i);
    for (unsigned k = (unsigned)n; k < len; k++) dst[k] = 'z';
    dst[len] = '\0';
}

Test(rule_sanctions, long_party_details_reach_their_alerts_whole) {
    cr_assert_eq(strlen(BIG_ID), VG_ID_MAX);
    char *list = NULL;
    {
        const char tsv[] = "reference\ttype\tname\taliases\tbirth_dates\tidentifiers\n"
                           "BIG-1\tperson\tPlaceholder Listed Person\t\t\t" BIG_ID "\n";
        list = vg_test_write_temp(tsv, sizeof tsv - 1, ".tsv");
        cr_assert_not_null(list);
    }
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "rules:\n  large_tx:\n    enabled: false\n  sanctions:\n    lists:\n"
             "      - {name: big, file: %s, format: tsv}\n", list);
    struct fx f = {0};
    static char from_name[VG_NAME_MAX + 1], to_name[VG_NAME_MAX + 1], extra[2 * VG_NAME_MAX + 512];
    char from[VG_ID_MAX + 1], to[VG_ID_MAX + 1], id[VG_ID_MAX + 1];
    for (unsigned i = 0; i < BIG_N; i++) {
        big_name(from_name, i, true);
        big_name(to_name, i, false);
        big_account(from, i, 'F');
        big_account(to, i, 'T');
        big_account(id, i, 'X');
        unsigned channel = i % 5 == 0 ? VG_CHANNEL_MAX : 1 + i % VG_CHANNEL_MAX;
        snprintf(extra, sizeof extra, "\"channel\":\"%.*s\",\"from_name\":\"%s\",\"to_name\":\"%s\","
                 "\"from_party_id\":\"%s\",\"to_party_id\":\"%s\",\"from_birth_date\":\"1970-01-02\","
                 "\"to_birth_date\":\"1980-12-31\"", (int)channel, "abcdefghijklmnopqrstuvwxyz", from_name,
                 to_name, BIG_ID, BIG_ID);
        fx_txn(&f, id, FX_T0 + i, from, to, "10", "USD", extra);
    }
    struct vg_test_alerts a = fx_replay(&f, yaml, 2);
    cr_expect_eq(vg_test_count(&a, "sanctions", NULL), 2 * BIG_N);
    static char want[VG_NAME_MAX + 32];
    unsigned seen[2] = {0, 0};
    for (size_t k = 0; k < a.count; k++) {
        const char *acc = strstr(a.lines[k], "\"account\":\"");
        cr_assert_not_null(acc);
        acc += 11;
        bool from_side = acc[0] == 'F';
        unsigned i = (unsigned)strtoul(acc + 1, NULL, 10);
        cr_assert_lt(i, BIG_N);
        big_name(from_name, i, from_side);
        snprintf(want, sizeof want, "\"name\":\"%s\"", from_name);
        cr_expect(strstr(a.lines[k], want) != NULL, "alert about %.*s lacks its party's name (%zu bytes): %s",
                  VG_ID_MAX, acc, strlen(from_name), a.lines[k]);
        cr_expect(strstr(a.lines[k], from_side ? "\"side\":\"from\"" : "\"side\":\"to\"") != NULL);
        cr_expect(strstr(a.lines[k], "\"party_id\":\"" BIG_ID "\"") != NULL);
        seen[from_side]++;
    }
    cr_expect_eq(seen[0], BIG_N);
    cr_expect_eq(seen[1], BIG_N);
    vg_test_alerts_free(&a);
    fx_free(&f);
    remove(list);
    free(list);
}
