/* test_alert_text.c - the readable one-line form of an alert (engine/alert_text.c): the
 * figures with their units, the country, a fallback to NDJSON for what it cannot read. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vigil/alert_text.h"

static const char dormant_json[] =
    "{\"alert_id\":\"ab\",\"rule\":\"dormant\",\"account\":\"SLEEPER\",\"severity\":\"medium\",\"score\":0.5500,"
    "\"window_start\":1661990400000,\"window_end\":1679270400000,\"detected_at\":1,\"tx_ids\":[\"d1\",\"d\\\"2\"],"
    "\"accounts\":[\"Y\"],\"metrics\":{\"dormant_for\":17280000000,\"amount\":\"6000.5\"}}\n";

Test(alert_text, figures_with_units) {
    char line[512];
    size_t n = vg_alert_text(dormant_json, strlen(dormant_json), "EUR", line, sizeof line);
    cr_assert_gt(n, 0);
    cr_expect_str_eq(line, "2023-03-20 00:00Z  MEDIUM  dormant            SLEEPER  dormant for 200 days, amount "
                           "6000.5 EUR  (2 tx over 200 days, score 0.5500)\n");
    cr_expect_eq(n, strlen(line));
}

Test(alert_text, country_and_ratio) {
    const char *json = "{\"alert_id\":\"x\",\"rule\":\"high_risk_country\",\"account\":\"A\",\"severity\":\"high\","
                       "\"score\":1.0000,\"window_start\":0,\"window_end\":0,\"detected_at\":0,\"tx_ids\":[\"t\"],"
                       "\"accounts\":[],\"metrics\":{\"amount\":\"2000\",\"country\":\"KP\",\"ratio\":0.85,"
                       "\"delay\":5400000,\"list_version\":\"2024-05-01\"}}";
    char line[512];
    cr_assert_gt(vg_alert_text(json, strlen(json), "USD", line, sizeof line), 0);
    cr_expect(strstr(line, "HIGH    high_risk_country  A  amount 2000 USD, country KP, ratio 0.85, delay 90 minutes, list version 2024-05-01  (")
                  != NULL, "%s", line);
}

Test(alert_text, unreadable_or_too_long_falls_back_to_json) {
    char line[64];
    cr_expect_eq(vg_alert_text("not json", 8, "USD", line, sizeof line), 0);
    cr_expect_eq(vg_alert_text(dormant_json, strlen(dormant_json), "USD", line, 20), 0);
    char path[] = "/tmp/vigil-alert-text-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w+");
    cr_assert_eq(vg_alert_print(f, "{\"x\":1}\n", 8, VG_PRINT_TEXT, "USD"), 0);
    cr_assert_eq(vg_alert_print(f, dormant_json, strlen(dormant_json), VG_PRINT_JSON, "USD"), 0);
    rewind(f);
    char got[1024] = "";
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    unlink(path);
    cr_expect(strncmp(got, "{\"x\":1}\n{\"alert_id\":\"ab\"", 24) == 0, "%s", got);
}
