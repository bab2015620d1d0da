/* test_goaml_clients.c - vigil-goaml's own-client and party forms (connectors/goaml/): the
 * bank's clients (report.clients CSV) written as goAML *_my_client accounts that each test
 * schema accepts or refuses by its own mandatory elements, the CSV's file:line errors, and
 * alerts without transactions drafted as an <activity> of parties, or not reportable. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"
#include "vigil/config.h"
#include "vigil/goaml.h"

#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */
#define HOUR 3600000LL

static char dir[256];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/vg_goamlc_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(path);
}

static void cleanup(void) { remove_tree(dir); }

TestSuite(goaml_clients, .init = make_dir, .fini = cleanup);

static void write_file(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* HUB: a person with everything FIU A and FIU B ask for; A: a company. */
static const char *clients_full =
    "account,client_number,currency,personal_account_type,holder,status_code,opened,branch,first_name,last_name,"
    "gender,birthdate,id_number,nationality,residence,role,name,legal_form,incorporation_number,business,"
    "incorporation_country\n"
    "HUB,C-001,KZT,A,person,A,2019-03-01,Almaty-1,Aigul,\"Nurlanovna, Jr\",F,1985-07-14,850714400123,KZ,KZ,A,,,,,\n"
    "A,C-002,USD,B,entity,A,2020-01-15,Almaty-1,,,,,,,,,\"Steppe & Sons LLP\",B,190340012345,Trading,KZ\n";

/* FIU A: goAML-like (person: birthdate, nationality1, residence; account: branch, opened, status). */
static const char *config_a =
    "report:\n"
    "  schema: %s/goaml/fiu_a.xsd\n"
    "  output_dir: %s/out\n"
    "  clients: %s\n"
    "  rentity_id: \"1234\"\n"
    "  currency_local: USD\n"
    "  reporting_person: {first_name: Aigerim, last_name: Seitkali}\n"
    "  location: {address_type: B, address: \"1 Abay Ave\", city: Almaty, country_code: KZ}\n"
    "  action: \"Accounts under review.\"\n"
    "  report_codes: {default: STR, watchlist: SAR, sanctions: SAR}\n"
    "  activity_codes: [SAR, AIF]\n"
    "  indicators: {default: [MULE], watchlist: [LIST]}\n"
    "  transmode_codes: {default: Z, wire: B}\n"
    "  funds_codes: {default: K}\n"
    "  institution: {name: \"Our Bank JSC\", swift: OURBKZKA}\n"
    "  banks: {default: {name: Unknown institution, code: UNKNOWN}}\n";

/* FIU B: other codes; person: id_number; a party's reason mandatory, significance not. */
static const char *config_b =
    "report:\n"
    "  schema: %s/goaml/fiu_b.xsd\n"
    "  output_dir: %s/out\n"
    "  clients: %s\n"
    "  rentity_id: \"BANK-77\"\n"
    "  rentity_branch: \"Head office\"\n"
    "  reporting_user_code: \"MLRO01\"\n"
    "  default_country: KZ\n"
    "  report_codes: {default: \"1001\", watchlist: \"2001\", sanctions: \"2001\"}\n"
    "  activity_codes: \"2001\"\n"
    "  indicators: {default: [I100]}\n"
    "  transmode_codes: {default: OTHR, wire: WIRE}\n"
    "  funds_codes: {default: F1}\n"
    "  institution: {name: \"Our Bank JSC\", code: \"0042\"}\n"
    "  banks: {default: {name: Unknown, code: \"000\"}}\n";

struct fixture {
    struct vg_config cfg;
    struct vg_goaml_drafter *d;
};

static int start(struct fixture *f, const char *fmt, const char *schema_dir, const char *clients, char *err,
                 size_t err_size) {
    char yaml[4096], path[512];
    snprintf(path, sizeof path, "%s/clients.csv", dir);
    if (clients) write_file("clients.csv", clients);
    snprintf(yaml, sizeof yaml, fmt, schema_dir, dir, clients ? path : "\"\"");
    cr_assert_eq(vg_config_load_buffer(&f->cfg, "test.yaml", yaml, strlen(yaml), err, err_size), VG_OK, "%s", err);
    int rc = vg_goaml_drafter_create(&f->d, f->cfg.report, &f->cfg.currency, 0, NULL, NULL, err, err_size);
    if (rc != VG_OK) {
        vg_config_free(&f->cfg);
        return rc;
    }
    vg_goaml_drafter_set_clock(f->d, T0 + 10 * 24 * HOUR);
    return VG_OK;
}

static void stop(struct fixture *f) {
    vg_goaml_drafter_destroy(f->d);
    vg_config_free(&f->cfg);
}

/* A fan_in alert on HUB: A (a client) and B (another bank's) pay HUB (a client). */
static void fan_in_alert(struct fixture *f) {
    char line[4096];
    int n = snprintf(line, sizeof line,
                     "{\"alert_id\":\"a1\",\"rule\":\"fan_in\",\"account\":\"HUB\",\"severity\":\"high\",\"score\":0.9,"
                     "\"window_start\":%lld,\"window_end\":%lld,\"detected_at\":1,\"tx_ids\":[\"t1\",\"t2\"],"
                     "\"accounts\":[\"A\",\"B\"],\"metrics\":{\"count\":2},\"evidence\":["
                     "{\"id\":\"t1\",\"ts\":%lld,\"from\":\"A\",\"to\":\"HUB\",\"amount\":\"15000\",\"currency\":\"USD\","
                     "\"amount_base\":\"15000\",\"channel\":\"wire\"},"
                     "{\"id\":\"t2\",\"ts\":%lld,\"from\":\"B\",\"to\":\"HUB\",\"amount\":\"9000\",\"currency\":\"USD\","
                     "\"amount_base\":\"9000\",\"channel\":\"wire\",\"from_name\":\"Other Party\"}]}\n",
                     (long long)T0, (long long)(T0 + 60000), (long long)T0, (long long)(T0 + 60000));
    vg_goaml_drafter_line(f->d, line, (size_t)n);
}

/* A watchlist alert on W with counterparty HUB; evidence as given ("" = an alert of evidence: ids). */
static void watchlist_alert(struct fixture *f, const char *evidence) {
    char line[4096];
    int n = snprintf(line, sizeof line,
                     "{\"alert_id\":\"w1\",\"rule\":\"watchlist\",\"account\":\"W\",\"severity\":\"high\",\"score\":0.7,"
                     "\"window_start\":%lld,\"window_end\":%lld,\"detected_at\":1,\"tx_ids\":[\"t9\"],"
                     "\"accounts\":[\"HUB\"],\"metrics\":{\"amount\":\"500\"}%s}\n",
                     (long long)T0, (long long)T0, evidence);
    vg_goaml_drafter_line(f->d, line, (size_t)n);
}

static struct vg_goaml_stats stats(struct fixture *f) {
    struct vg_goaml_stats s;
    vg_goaml_drafter_stats(f->d, &s);
    return s;
}

/* The text of the only file in out/ (or out/rejected/) ending in suffix. */
static char *only_file(const char *sub, const char *suffix) {
    char path[512];
    snprintf(path, sizeof path, "%s/out%s", dir, sub);
    DIR *d = opendir(path);
    cr_assert_not_null(d, "no %s", path);
    struct dirent *e;
    char found[256] = "";
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name), sl = strlen(suffix);
        if (e->d_name[0] != '.' && len > sl && !strcmp(e->d_name + len - sl, suffix) &&
            !(strcmp(suffix, ".xml") == 0 && strstr(e->d_name, ".errors"))) {
            snprintf(found, sizeof found, "%s", e->d_name);
            n++;
        }
    }
    closedir(d);
    cr_assert_eq(n, 1, "%d files *%s in %s", n, suffix, path);
    snprintf(path + strlen(path), sizeof path - strlen(path), "/%s", found);
    size_t len;
    char *text = vg_test_read_file(path, &len);
    cr_assert_not_null(text);
    return text;
}

/* ---- own clients ------------------------------------------------------------------------------ */

Test(goaml_clients, own_clients_are_written_in_the_my_client_form_valid_for_both_schemas) {
    const char *configs[] = {config_a, config_b};
    for (int i = 0; i < 2; i++) {
        struct fixture f;
        char err[4096];
        remove_tree(dir);
        mkdir(dir, 0700);
        cr_assert_eq(start(&f, configs[i], VG_TEST_DATA, clients_full, err, sizeof err), VG_OK, "%s", err);
        fan_in_alert(&f);
        vg_goaml_drafter_flush(f.d);
        struct vg_goaml_stats s = stats(&f);
        cr_expect_eq(s.drafted, 1, "FIU %c: rejected=%llu", 'A' + i, (unsigned long long)s.rejected);
        if (s.drafted != 1) {
            char *why = only_file("/rejected", ".errors.txt");
            cr_expect_fail("FIU %c refused: %s", 'A' + i, why);
            free(why);
            stop(&f);
            continue;
        }
        char *xml = only_file("", ".xml");
        /* A -> HUB: both clients; B -> HUB: B is another bank's account */
        cr_expect(strstr(xml, "<t_from_my_client>") != NULL, "%s", xml);
        cr_expect(strstr(xml, "<t_to_my_client>") != NULL);
        cr_expect(strstr(xml, "<t_from>") != NULL, "B is not a client");
        cr_expect(strstr(xml, "<client_number>C-001</client_number>") != NULL);
        cr_expect(strstr(xml, "<personal_account_type>B</personal_account_type>") != NULL);
        cr_expect(strstr(xml, "<is_primary>1</is_primary>") != NULL);
        cr_expect(strstr(xml, "<last_name>Nurlanovna, Jr</last_name>") != NULL, "quoted CSV field");
        cr_expect(strstr(xml, "<name>Steppe &amp; Sons LLP</name>") != NULL);
        cr_expect(strstr(xml, "<birthdate>1985-07-14T00:00:00</birthdate>") != NULL);
        cr_expect(strstr(xml, "<currency_code>KZT</currency_code>") != NULL, "the account's own currency");
        cr_expect(strstr(xml, i == 0 ? "<swift>OURBKZKA</swift>" : "<institution_code>0042</institution_code>") != NULL,
                  "own clients' institution is the bank itself");
        cr_expect(strstr(xml, "<account_name>Other Party</account_name>") != NULL);
        free(xml);
        stop(&f);
    }
}

Test(goaml_clients, each_schema_refuses_a_client_without_what_it_makes_mandatory) {
    /* no birthdate, nationality, residence: FIU A (like goAML) refuses, FIU B does not ask */
    const char *no_birthdate = "account,client_number,currency,personal_account_type,holder,status_code,opened,"
                               "branch,first_name,last_name,id_number,role\n"
                               "HUB,C-001,KZT,A,person,A,2019-03-01,Almaty-1,Aigul,Nurlanovna,850714400123,A\n";
    /* no id_number: FIU B refuses, FIU A... would also want birthdate; give it that */
    const char *no_id = "account,client_number,currency,personal_account_type,holder,status_code,opened,branch,"
                        "first_name,last_name,birthdate,nationality,residence,role\n"
                        "HUB,C-001,KZT,A,person,A,2019-03-01,Almaty-1,Aigul,Nurlanovna,1985-07-14,KZ,KZ,A\n";
    struct {
        const char *config, *clients, *missing;
        int drafted;
    } cases[] = {
        {config_a, no_birthdate, "birthdate", 0}, {config_b, no_birthdate, NULL, 1},
        {config_a, no_id, NULL, 1},               {config_b, no_id, "id_number", 0},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct fixture f;
        char err[4096];
        remove_tree(dir);
        mkdir(dir, 0700);
        cr_assert_eq(start(&f, cases[i].config, VG_TEST_DATA, cases[i].clients, err, sizeof err), VG_OK, "%s", err);
        fan_in_alert(&f);
        vg_goaml_drafter_flush(f.d);
        struct vg_goaml_stats s = stats(&f);
        cr_expect_eq(s.drafted, (uint64_t)cases[i].drafted, "case %zu", i);
        cr_expect_eq(s.rejected, (uint64_t)!cases[i].drafted, "case %zu", i);
        if (cases[i].missing && s.rejected == 1) {
            char *why = only_file("/rejected", ".errors.txt");
            cr_expect(strstr(why, cases[i].missing) != NULL, "case %zu: %s", i, why);
            free(why);
        }
        stop(&f);
    }
}

Test(goaml_clients, client_csv_errors_name_file_and_line) {
    struct {
        const char *csv, *expect;
    } cases[] = {
        {"", "clients.csv:1: empty file"},
        {"account,client_number,currency,holder\n", "clients.csv:1: header has no 'personal_account_type' column"},
        {"account,client_number,currency,personal_account_type,holder,colour\n", "clients.csv:1: unknown column 'colour'"},
        {"account,client_number,currency,personal_account_type,holder,first_name,last_name\n"
         "A1,C1,KZT,A,person,X,Y\n"
         "A2,C2,KZT,A,robot,X,Y\n",
         "clients.csv:3: holder: 'robot' is not person or entity"},
        {"account,client_number,currency,personal_account_type,holder,name\n"
         "A1,C1,tenge,A,entity,X\n",
         "clients.csv:2: currency: an ISO 4217 code"},
        {"account,client_number,currency,personal_account_type,holder,name,opened\n"
         "A1,C1,KZT,A,entity,X,01/02/2020\n",
         "clients.csv:2: opened: YYYY-MM-DD expected"},
        {"account,client_number,currency,personal_account_type,holder,name\n"
         "A1,C1,KZT,A,entity,X\n\n"
         "A1,C2,KZT,A,entity,Y\n",
         "clients.csv:4: account 'A1' again (first on line 2)"},
        {"account,client_number,currency,personal_account_type,holder,name\n"
         "A1,C1,KZT,A,entity,\"X\n",
         "clients.csv:2: bad quoting"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct fixture f;
        char err[4096] = "";
        int rc = start(&f, config_a, VG_TEST_DATA, cases[i].csv, err, sizeof err);
        cr_expect_neq(rc, VG_OK, "case %zu", i);
        if (rc == VG_OK) {
            stop(&f);
            continue;
        }
        const char *at = strstr(err, "clients.csv:");
        cr_expect(strncmp(err, "report.clients: ", 16) == 0 && at && strncmp(at, cases[i].expect, strlen(cases[i].expect)) == 0,
                  "case %zu: got '%s', want '...%s'", i, err, cases[i].expect);
    }
}

Test(goaml_clients, report_config_errors_for_the_new_keys_name_file_line_and_key) {
    struct {
        const char *yaml, *expect;
    } cases[] = {
        {"report:\n  institution: {name: X, bic: Y}\n", "test.yaml:2: report.institution.bic: unknown key"},
        {"report:\n  institution: {name: X}\n", "test.yaml:2: report.institution: a bank needs swift or code"},
        {"report:\n  activity_codes: [SAR, \"\"]\n", "test.yaml:2: report.activity_codes: must not be empty"},
        {"report:\n  clients: [a, b]\n", "test.yaml:2: report.clients:"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct vg_config cfg;
        char err[1024] = "";
        int rc = vg_config_load_buffer(&cfg, "test.yaml", cases[i].yaml, strlen(cases[i].yaml), err, sizeof err);
        cr_expect_neq(rc, VG_OK, "%s", cases[i].yaml);
        if (rc == VG_OK) vg_config_free(&cfg);
        cr_expect(strncmp(err, cases[i].expect, strlen(cases[i].expect)) == 0, "got '%s', want '%s...'", err,
                  cases[i].expect);
    }
}

/* ---- reports without transactions ------------------------------------------------------------ */

Test(goaml_clients, an_alert_without_transactions_mapped_to_an_activity_code_is_a_report_of_parties) {
    const char *configs[] = {config_a, config_b};
    const char *evidence[] = {"", /* evidence: ids */
                              ",\"evidence\":[{\"id\":\"t9\",\"ts\":1704067200000,\"from\":\"W\",\"to\":\"HUB\","
                              "\"amount\":\"500\",\"currency\":\"USD\",\"amount_base\":\"500\",\"from_bank\":\"X\"}]"};
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < 2; k++) {
            struct fixture f;
            char err[4096];
            remove_tree(dir);
            mkdir(dir, 0700);
            cr_assert_eq(start(&f, configs[i], VG_TEST_DATA, clients_full, err, sizeof err), VG_OK, "%s", err);
            watchlist_alert(&f, evidence[k]);
            vg_goaml_drafter_flush(f.d);
            struct vg_goaml_stats s = stats(&f);
            cr_expect_eq(s.drafted, 1, "FIU %c, evidence %d: rejected=%llu not_reportable=%llu", 'A' + i, k,
                         (unsigned long long)s.rejected, (unsigned long long)s.not_reportable);
            if (s.drafted != 1) {
                if (s.rejected) {
                    char *why = only_file("/rejected", ".errors.txt");
                    cr_expect_fail("refused: %s", why);
                    free(why);
                }
                stop(&f);
                continue;
            }
            char *xml = only_file("", ".xml");
            cr_expect(strstr(xml, i == 0 ? "<report_code>SAR</report_code>" : "<report_code>2001</report_code>") != NULL);
            cr_expect(strstr(xml, "<activity>") != NULL && strstr(xml, "<transaction>") == NULL, "%s", xml);
            cr_expect(strstr(xml, "<account>W</account>") != NULL, "the alerted account is a party");
            cr_expect(strstr(xml, "<account_my_client>") != NULL, "HUB, a client, in the my_client form");
            cr_expect(strstr(xml, "<significance>7</significance>") != NULL, "score 0.7 on 0..10");
            free(xml);
            stop(&f);
        }
    }
}

Test(goaml_clients, activity_code_with_a_schema_without_activity_is_not_reportable_and_writes_nothing) {
    /* FIU A's schema without <activity>: its report takes transactions only */
    char src[512];
    snprintf(src, sizeof src, "%s/goaml/fiu_a.xsd", VG_TEST_DATA);
    size_t len;
    char *xsd = vg_test_read_file(src, &len);
    cr_assert_not_null(xsd);
    char *at = strstr(xsd, "<xs:element name=\"activity\" type=\"t_activity\"/>");
    cr_assert_not_null(at);
    memset(at, ' ', strlen("<xs:element name=\"activity\" type=\"t_activity\"/>"));
    char sub[300];
    snprintf(sub, sizeof sub, "%s/schema", dir);
    mkdir(sub, 0700);
    snprintf(src, sizeof src, "%s/goaml", sub);
    mkdir(src, 0700);
    snprintf(src, sizeof src, "%s/goaml/fiu_a.xsd", sub);
    FILE *f_out = fopen(src, "w");
    cr_assert_not_null(f_out);
    fputs(xsd, f_out);
    fclose(f_out);
    free(xsd);
    struct fixture f;
    char err[4096];
    cr_assert_eq(start(&f, config_a, sub, NULL, err, sizeof err), VG_OK, "%s", err);
    watchlist_alert(&f, "");
    vg_goaml_drafter_flush(f.d);
    struct vg_goaml_stats s = stats(&f);
    cr_expect_eq(s.not_reportable, 1);
    cr_expect_eq(s.drafted + s.rejected, 0);
    char out[512];
    snprintf(out, sizeof out, "%s/out", dir);
    cr_expect_neq(access(out, F_OK), 0, "no output at all");
    stop(&f);
}
