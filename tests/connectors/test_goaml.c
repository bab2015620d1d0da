/* test_goaml.c - vigil-goaml's drafter (connectors/goaml/): drafts that validate against two
 * goAML-shaped test schemas with their own code lists, rejected drafts that carry the
 * validator's message, grouping of alerts into cases, deterministic case ids and file names,
 * atomic output, escaping of hostile names, and the report: config section's errors. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "test_support.h"
#include "vigil/config.h"
#include "vigil/goaml.h"

#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */
#define HOUR 3600000LL

/* ---- fixtures ----------------------------------------------------------------------------- */

static char dir[256];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/vg_goaml_XXXXXX");
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

TestSuite(goaml, .init = make_dir, .fini = cleanup);

/* FIU A: codes STR/SAR/CTR, transmodes A/B/C/K/Z, funds A/E/K, indicators by name. */
static const char *config_a =
    "report:\n"
    "  schema: %s/goaml/fiu_a.xsd\n"
    "  output_dir: %s/out\n"
    "  case_period: %s\n"
    "  rentity_id: \"1234\"\n"
    "  submission_code: E\n"
    "  entity_reference_prefix: \"VIGIL-\"\n"
    "  currency_local: USD\n"
    "  reporting_person: {first_name: Aigerim, last_name: Seitkali, email: mlro@bank.example}\n"
    "  location: {address_type: B, address: \"1 Abay Ave\", city: Almaty, country_code: KZ}\n"
    "  action: \"Accounts under review.\"\n"
    "  report_codes: {default: %s, large_tx: CTR}\n"
    "  indicators: {default: [MULE], fan_in: [FANIN], large_tx: [LARGE]}\n"
    "  transmode_codes: {default: Z, wire: B, cash: A}\n"
    "  funds_codes: {default: K, cash: A}\n"
    "  banks:\n"
    "    default: {name: Unknown institution, code: UNKNOWN}\n"
    "    \"Bank & Co\": {name: \"Bank <&> Co\", swift: DEUTDEFF}\n";

/* FIU B: other codes, rentity_branch and reporting_user_code mandatory, no person needed. */
static const char *config_b =
    "report:\n"
    "  schema: %s/goaml/fiu_b.xsd\n"
    "  output_dir: %s/out\n"
    "  rentity_id: \"BANK-77\"\n"
    "  rentity_branch: \"Head office\"\n"
    "  submission_code: E\n"
    "  reporting_user_code: \"MLRO01\"\n"
    "  default_country: KZ\n"
    "  report_codes: {default: \"1001\"}\n"
    "  indicators: {default: [I100], fan_in: [I210, I211], large_tx: [I300]}\n"
    "  transmode_codes: {default: OTHR, wire: WIRE, cash: CASH}\n"
    "  funds_codes: {default: F1, cash: F2}\n"
    "  banks: {default: {name: Unknown, code: \"000\"}}\n";

struct fixture {
    struct vg_config cfg;
    struct vg_goaml_drafter *d;
};

static void start(struct fixture *f, const char *fmt, const char *period, const char *report_code) {
    char yaml[4096], err[4096];
    if (fmt == config_a) snprintf(yaml, sizeof yaml, fmt, VG_TEST_DATA, dir, period, report_code);
    else snprintf(yaml, sizeof yaml, fmt, VG_TEST_DATA, dir);
    cr_assert_eq(vg_config_load_buffer(&f->cfg, "test.yaml", yaml, strlen(yaml), err, sizeof err), VG_OK, "%s", err);
    cr_assert_eq(vg_goaml_drafter_create(&f->d, f->cfg.report, &f->cfg.currency, 0, NULL, NULL, err, sizeof err), VG_OK,
                 "%s", err);
    vg_goaml_drafter_set_clock(f->d, T0 + 10 * 24 * HOUR);
}

static void stop(struct fixture *f) {
    vg_goaml_drafter_destroy(f->d);
    vg_config_free(&f->cfg);
}

/* An evidence object as vigild renders it with alerts.evidence: full. */
static int tx_json(char *out, size_t cap, const char *id, int64_t ts, const char *from, const char *to,
                   const char *amount, const char *currency, const char *base, const char *channel) {
    return snprintf(out, cap,
                    "{\"id\":\"%s\",\"ts\":%lld,\"from\":\"%s\",\"to\":\"%s\",\"amount\":\"%s\",\"currency\":\"%s\","
                    "\"amount_base\":\"%s\",\"base_currency\":\"USD\",\"channel\":\"%s\",\"from_country\":\"DE\"}",
                    id, (long long)ts, from, to, amount, currency, base, channel);
}

/* An alert line about account with the given evidence objects (JSON text, comma-joined) and ids. */
static void alert(struct fixture *f, const char *alert_id, const char *rule, const char *account, int64_t end,
                  const char *tx_ids, const char *evidence) {
    char line[16384];
    int n = snprintf(line, sizeof line,
                     "{\"alert_id\":\"%s\",\"rule\":\"%s\",\"account\":\"%s\",\"severity\":\"high\",\"score\":0.9,"
                     "\"window_start\":%lld,\"window_end\":%lld,\"detected_at\":1,\"tx_ids\":[%s],\"accounts\":[\"X\"],"
                     "\"metrics\":{\"count\":2,\"total\":\"25000.5\"}%s%s%s}\n",
                     alert_id, rule, account, (long long)(end - HOUR), (long long)end, tx_ids,
                     evidence ? ",\"evidence\":[" : "", evidence ? evidence : "", evidence ? "]" : "");
    vg_goaml_drafter_line(f->d, line, (size_t)n);
}

static struct vg_goaml_stats stats(struct fixture *f) {
    struct vg_goaml_stats s;
    vg_goaml_drafter_stats(f->d, &s);
    return s;
}

/* Names in a directory ending in suffix, sorted, joined by '\n' (malloc'd). */
static char *listing(const char *path, const char *suffix) {
    char *names[256];
    size_t n = 0;
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && n < 256) {
            size_t len = strlen(e->d_name), sl = strlen(suffix);
            if (len > sl && !strcmp(e->d_name + len - sl, suffix)) names[n++] = strdup(e->d_name);
        }
        closedir(d);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            if (strcmp(names[k], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[k];
                names[k] = t;
            }
    char *out = calloc(1, 256 * 64 + 1);
    for (size_t i = 0; i < n; i++) {
        strcat(out, names[i]);
        strcat(out, "\n");
        free(names[i]);
    }
    return out;
}

static size_t count_lines(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* The only draft in out/ (asserts there is exactly one). */
static char *only_draft(char *name_out) {
    char path[512];
    snprintf(path, sizeof path, "%s/out", dir);
    char *names = listing(path, ".xml");
    cr_assert_eq(count_lines(names), 1, "drafts: %s", names);
    names[strcspn(names, "\n")] = '\0';
    if (name_out) strcpy(name_out, names);
    snprintf(path, sizeof path, "%s/out/%s", dir, names);
    free(names);
    size_t len;
    char *xml = vg_test_read_file(path, &len);
    cr_assert_not_null(xml);
    return xml;
}

static void two_transfers(char *evidence, size_t cap) {
    int n = tx_json(evidence, cap, "t1", T0, "A", "HUB", "15000.50", "USD", "15000.5", "wire");
    evidence[n++] = ',';
    tx_json(evidence + n, cap - (size_t)n, "t2", T0 + 60000, "B", "HUB", "9000", "EUR", "9810", "cash");
}

/* ---- drafts and the schema ----------------------------------------------------------------- */

Test(goaml, valid_draft_validates_against_fiu_a) {
    struct fixture f;
    start(&f, config_a, "72h", "STR");
    char evidence[2048];
    two_transfers(evidence, sizeof evidence);
    alert(&f, "a1", "fan_in", "HUB", T0 + 60000, "\"t1\",\"t2\"", evidence);
    vg_goaml_drafter_flush(f.d);
    struct vg_goaml_stats s = stats(&f);
    cr_expect_eq(s.drafted, 1);
    cr_expect_eq(s.rejected, 0);
    char *xml = only_draft(NULL);
    /* the traps: no namespace, goAML date-times, two decimals, the FIU's codes */
    cr_expect(strstr(xml, "<report>\n") != NULL, "no xmlns on <report>");
    cr_expect_null(strstr(xml, "xmlns"));
    cr_expect(strstr(xml, "<date_transaction>2024-01-01T00:00:00</date_transaction>") != NULL, "%s", xml);
    cr_expect(strstr(xml, "<amount_local>15000.50</amount_local>") != NULL);
    cr_expect(strstr(xml, "<amount_local>9810.00</amount_local>") != NULL);
    cr_expect(strstr(xml, "<foreign_currency_code>EUR</foreign_currency_code>") != NULL, "EUR kept as foreign");
    cr_expect(strstr(xml, "<foreign_amount>9000.00</foreign_amount>") != NULL);
    cr_expect(strstr(xml, "<transmode_code>B</transmode_code>") != NULL);
    cr_expect(strstr(xml, "<transmode_code>A</transmode_code>") != NULL);
    cr_expect(strstr(xml, "<indicator>FANIN</indicator>") != NULL);
    cr_expect(strstr(xml, "<submission_date>2024-01-11T00:00:00</submission_date>") != NULL);
    cr_expect(strstr(xml, "<to_country>KZ</to_country>") != NULL, "a country not sent is the report's own");
    free(xml);
    stop(&f);
}

Test(goaml, same_alerts_validate_against_fiu_b_with_its_codes) {
    struct fixture f;
    start(&f, config_b, NULL, NULL);
    char evidence[2048];
    two_transfers(evidence, sizeof evidence);
    alert(&f, "a1", "fan_in", "HUB", T0 + 60000, "\"t1\",\"t2\"", evidence);
    vg_goaml_drafter_flush(f.d);
    struct vg_goaml_stats s = stats(&f);
    cr_expect_eq(s.drafted, 1);
    cr_expect_eq(s.rejected, 0);
    char *xml = only_draft(NULL);
    cr_expect(strstr(xml, "<rentity_branch>Head office</rentity_branch>") != NULL);
    cr_expect(strstr(xml, "<reporting_user_code>MLRO01</reporting_user_code>") != NULL);
    cr_expect(strstr(xml, "<indicator>I210</indicator>\n    <indicator>I211</indicator>") != NULL, "%s", xml);
    cr_expect(strstr(xml, "<transmode_code>WIRE</transmode_code>") != NULL);
    free(xml);
    stop(&f);
}

Test(goaml, code_outside_the_fius_enumeration_is_rejected_with_the_validators_message) {
    struct fixture f;
    start(&f, config_a, "72h", "XYZ"); /* not one of FIU A's report codes */
    char evidence[2048];
    two_transfers(evidence, sizeof evidence);
    alert(&f, "a1", "fan_in", "HUB", T0 + 60000, "\"t1\",\"t2\"", evidence);
    alert(&f, "a2", "large_tx", "OTHER", T0 + 60000, "\"t1\"", evidence); /* CTR: fine */
    vg_goaml_drafter_flush(f.d);
    struct vg_goaml_stats s = stats(&f);
    cr_expect_eq(s.drafted, 1);
    cr_expect_eq(s.rejected, 1, "counted");
    char path[512];
    snprintf(path, sizeof path, "%s/out/rejected", dir);
    char *txt = listing(path, ".errors.txt"), *xmls = listing(path, ".xml");
    cr_assert_eq(count_lines(txt), 1);
    cr_assert_eq(count_lines(xmls), 1, "the refused draft is kept beside its messages");
    txt[strcspn(txt, "\n")] = '\0';
    snprintf(path, sizeof path, "%s/out/rejected/%s", dir, txt);
    size_t len;
    char *messages = vg_test_read_file(path, &len);
    cr_assert_not_null(messages);
    cr_expect(strstr(messages, "line 5: element 'report_code':") != NULL, "%s", messages);
    cr_expect(strstr(messages, "'XYZ'") != NULL && strstr(messages, "enumeration") != NULL, "%s", messages);
    free(messages);
    free(txt);
    free(xmls);
    stop(&f);
}

Test(goaml, alerts_without_evidence_are_not_reportable_and_write_nothing) {
    struct fixture f;
    start(&f, config_a, "72h", "STR");
    alert(&f, "a1", "watchlist", "HUB", T0, "\"t1\"", NULL); /* an alert of evidence: ids */
    vg_goaml_drafter_flush(f.d);
    struct vg_goaml_stats s = stats(&f);
    cr_expect_eq(s.not_reportable, 1);
    cr_expect_eq(s.drafted + s.rejected, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/out", dir);
    cr_expect_neq(access(path, F_OK), 0, "no output at all");
    stop(&f);
}

/* ---- cases ----------------------------------------------------------------------------------- */

static int collect_case(void *opaque, const struct vg_goaml_case *c) {
    char *out = opaque;
    char line[256];
    snprintf(line, sizeof line, "%s alerts=%zu txs=%zu first=%s\n", c->account, c->n_alerts, c->n_txs,
             c->alerts[0]->alert_id);
    strcat(out, line);
    return 0;
}

static struct vg_goaml_alert *parsed(const char *id, const char *account, int64_t end, const char *tx_ids,
                                     const char *evidence) {
    char line[8192], err[256];
    snprintf(line, sizeof line,
             "{\"alert_id\":\"%s\",\"rule\":\"fan_in\",\"account\":\"%s\",\"window_start\":%lld,\"window_end\":%lld,"
             "\"tx_ids\":[%s],\"evidence\":[%s]}",
             id, account, (long long)(end - 1), (long long)end, tx_ids, evidence);
    struct vg_goaml_alert *a = malloc(sizeof *a);
    cr_assert_eq(vg_goaml_alert_parse(line, strlen(line), a, err, sizeof err), VG_OK, "%s", err);
    return a;
}

Test(goaml, alerts_group_per_account_and_period_with_each_transaction_once) {
    struct vg_goaml_cases *cs = vg_goaml_cases_create(72 * HOUR);
    char e1[512], e2[512], both[1100];
    tx_json(e1, sizeof e1, "t1", T0, "S", "A", "1", "USD", "1", "wire");
    tx_json(e2, sizeof e2, "t2", T0 + 1, "S", "A", "1", "USD", "1", "wire");
    snprintf(both, sizeof both, "%s,%s", e1, e2);
    cr_assert_eq(vg_goaml_cases_add(cs, parsed("a1", "A", T0, "\"t1\"", e1)), VG_OK);
    cr_assert_eq(vg_goaml_cases_add(cs, parsed("a2", "A", T0 + 10 * HOUR, "\"t1\",\"t2\"", both)), VG_OK);
    cr_assert_eq(vg_goaml_cases_add(cs, parsed("a2", "A", T0 + 10 * HOUR, "\"t1\",\"t2\"", both)), VG_OK); /* repeat */
    cr_assert_eq(vg_goaml_cases_add(cs, parsed("a3", "A", T0 + 72 * HOUR, "\"t2\"", e2)), VG_OK); /* next period */
    cr_assert_eq(vg_goaml_cases_add(cs, parsed("b1", "B", T0 + HOUR, "\"t1\"", e1)), VG_OK);
    cr_expect_eq(vg_goaml_cases_open(cs), 3);
    char out[2048] = "";
    /* only the cases whose period ended by the horizon close */
    cr_expect_eq(vg_goaml_cases_close(cs, T0 + 72 * HOUR, collect_case, out), 0);
    cr_expect_eq(count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "A alerts=2 txs=2 first=a1\n") != NULL, "%s", out);
    cr_expect_eq(vg_goaml_cases_open(cs), 2);
    out[0] = '\0';
    cr_expect_eq(vg_goaml_cases_close(cs, INT64_MAX, collect_case, out), 0);
    cr_expect(strstr(out, "A alerts=1 txs=1 first=a3\n") != NULL, "%s", out);
    cr_expect(strstr(out, "B alerts=1 txs=1 first=b1\n") != NULL, "%s", out);
    vg_goaml_cases_destroy(cs);
}

Test(goaml, case_ids_and_file_names_do_not_depend_on_read_order) {
    char evidence[2048], names[2][8192];
    two_transfers(evidence, sizeof evidence);
    for (int run = 0; run < 2; run++) {
        char sub[300];
        snprintf(sub, sizeof sub, "%s/run%d", dir, run);
        cr_assert_eq(mkdir(sub, 0700), 0);
        char saved[256];
        strcpy(saved, dir);
        strcpy(dir, sub);
        struct fixture f;
        start(&f, config_a, "72h", "STR");
        if (run == 0) {
            alert(&f, "a1", "fan_in", "HUB", T0 + 60000, "\"t1\",\"t2\"", evidence);
            alert(&f, "a2", "large_tx", "HUB", T0 + 2 * HOUR, "\"t1\"", evidence);
            alert(&f, "b1", "large_tx", "B", T0 + 60000, "\"t2\"", evidence);
        } else {
            alert(&f, "b1", "large_tx", "B", T0 + 60000, "\"t2\"", evidence);
            alert(&f, "a2", "large_tx", "HUB", T0 + 2 * HOUR, "\"t1\"", evidence);
            alert(&f, "a1", "fan_in", "HUB", T0 + 60000, "\"t1\",\"t2\"", evidence);
        }
        vg_goaml_drafter_flush(f.d);
        cr_expect_eq(stats(&f).drafted, 2);
        stop(&f);
        char out[400];
        snprintf(out, sizeof out, "%s/out", sub);
        char *l = listing(out, ".xml");
        strcpy(names[run], l);
        free(l);
        strcpy(dir, saved);
    }
    cr_expect_eq(count_lines(names[0]), 2);
    cr_expect_str_eq(names[0], names[1]);
    cr_expect(strncmp(names[0], "case-", 5) == 0 && strlen(names[0]) == 2 * (strlen("case-") + 32 + strlen(".xml\n")),
              "case-<32 hex>.xml: %s", names[0]);
}

/* ---- output ------------------------------------------------------------------------------------ */

Test(goaml, writes_are_atomic_and_replace_a_previous_draft) {
    char err[256], path[512];
    cr_assert_eq(vg_goaml_write_file(dir, "case-x.xml", "first", 5, err, sizeof err), VG_OK, "%s", err);
    cr_assert_eq(vg_goaml_write_file(dir, "case-x.xml", "second!", 7, err, sizeof err), VG_OK, "%s", err);
    snprintf(path, sizeof path, "%s/case-x.xml", dir);
    size_t len;
    char *data = vg_test_read_file(path, &len);
    cr_assert_not_null(data);
    cr_expect_eq(len, 7);
    cr_expect_eq(memcmp(data, "second!", 7), 0);
    free(data);
    char *tmp = listing(dir, ".tmp");
    cr_expect_str_eq(tmp, "", "no temp file left: %s", tmp);
    free(tmp);
    /* a directory that cannot exist (under a regular file): an error, and no final file */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/case-x.xml/sub", dir);
    cr_expect_eq(vg_goaml_write_file(bad, "y.xml", "z", 1, err, sizeof err), VG_ERR_IO);
    cr_expect(strlen(err) > 0);
}

/* ---- escaping and encoding ------------------------------------------------------------------- */

/* Text of the first element called name, in document order, under n. */
static char *find_text(xmlNodePtr n, const char *name) {
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        if (!strcmp((const char *)n->name, name)) {
            xmlChar *c = xmlNodeGetContent(n);
            char *found = strdup((const char *)c);
            xmlFree(c);
            return found;
        }
        char *found = find_text(n->children, name);
        if (found) return found;
    }
    return NULL;
}

static char *element_text(const char *xml, const char *name) {
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", "UTF-8", XML_PARSE_NONET);
    cr_assert_not_null(doc);
    char *found = find_text(xmlDocGetRootElement(doc), name);
    xmlFreeDoc(doc);
    cr_assert_not_null(found, "no element %s", name);
    return found;
}

Test(goaml, hostile_names_and_ids_are_escaped_and_round_trip) {
    struct fixture f;
    start(&f, config_a, "72h", "STR");
    /* JSON-escaped in the alert: quotes, &, <, Cyrillic, Arabic (right-to-left), a control byte */
    const char *account_json = "R&D <\\\"ООО Ромашка\\\"> شركة",
               *account_raw = "R&D <\"ООО Ромашка\"> شركة";
    char evidence[2048];
    snprintf(evidence, sizeof evidence,
             "{\"id\":\"t<1>&'\",\"ts\":%lld,\"from\":\"%s\",\"to\":\"HUB\",\"amount\":\"12000\",\"currency\":\"USD\","
             "\"amount_base\":\"12000\",\"from_bank\":\"Bank & Co\",\"from_name\":\"Иван \\u0001Петров\"}",
             (long long)T0, account_json);
    alert(&f, "a1", "large_tx", account_json, T0, "\"t<1>&'\"", evidence);
    vg_goaml_drafter_flush(f.d);
    cr_expect_eq(stats(&f).drafted, 1, "rejected=%llu", (unsigned long long)stats(&f).rejected);
    char *xml = only_draft(NULL);
    char *account = element_text(xml, "account"), *number = element_text(xml, "transactionnumber");
    char *institution = element_text(xml, "institution_name"), *name = element_text(xml, "account_name");
    cr_expect_str_eq(account, account_raw);
    cr_expect_str_eq(number, "t<1>&'");
    cr_expect_str_eq(institution, "Bank <&> Co", "the bank directory applies");
    cr_expect_str_eq(name, "Иван \xEF\xBF\xBDПетров", "a control byte XML cannot carry becomes U+FFFD");
    cr_expect(strstr(xml, "<swift>DEUTDEFF</swift>") != NULL);
    free(account);
    free(number);
    free(institution);
    free(name);
    free(xml);
    stop(&f);
}

/* ---- configuration ------------------------------------------------------------------------------ */

Test(goaml, report_config_errors_name_file_line_and_key) {
    struct {
        const char *yaml, *expect;
    } cases[] = {
        {"report:\n  schema: x.xsd\n  colour: red\n", "test.yaml:3: report.colour: unknown key"},
        {"report:\n  report_codes: {fan_inn: STR}\n", "test.yaml:2: report.report_codes.fan_inn: not a rule name"},
        {"report:\n  banks:\n    \"010\": {swift: ABCDEFGH}\n", "test.yaml:3: report.banks.010: a bank needs a name"},
        {"report:\n  case_period: soon\n", "test.yaml:2: report.case_period:"},
        {"report:\n  currency_local: tenge\n", "test.yaml:2: report.currency_local: an ISO 4217 code"},
        {"report:\n  location: {address: x, planet: Mars}\n", "test.yaml:2: report.location.planet: unknown key"},
        {"alerts:\n  evidence: some\n", "test.yaml:2: alerts.evidence: bad value 'some' (expected ids or full)"},
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

Test(goaml, a_schema_that_does_not_load_stops_the_drafter_at_start) {
    struct vg_config cfg;
    char err[4096];
    const char *yaml = "report:\n  schema: /nonexistent/fiu.xsd\n";
    cr_assert_eq(vg_config_load_buffer(&cfg, "test.yaml", yaml, strlen(yaml), err, sizeof err), VG_OK, "%s", err);
    struct vg_goaml_drafter *d = NULL;
    cr_expect_eq(vg_goaml_drafter_create(&d, cfg.report, &cfg.currency, 0, NULL, NULL, err, sizeof err), VG_ERR_INVALID);
    cr_expect(strstr(err, "report.schema: /nonexistent/fiu.xsd") != NULL, "%s", err);
    const char *none = "alerts:\n  evidence: full\n";
    struct vg_config cfg2;
    cr_assert_eq(vg_config_load_buffer(&cfg2, "test.yaml", none, strlen(none), err, sizeof err), VG_OK, "%s", err);
    cr_expect_eq(vg_goaml_drafter_create(&d, cfg2.report, &cfg2.currency, 0, NULL, NULL, err, sizeof err), VG_ERR_INVALID);
    cr_expect(strstr(err, "report: the section is missing") != NULL, "%s", err);
    vg_config_free(&cfg);
    vg_config_free(&cfg2);
}
