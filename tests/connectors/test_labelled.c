/* test_labelled.c - the backtest's labelled input (connectors/file/labelled.c): labels from
 * AMLworld's Is Laundering and NDJSON's optional "label", records parsed exactly as replay
 * parses them (ids, refusals), and evidence ids resolving to positions. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"
#include "vigil/backtest.h"

static struct vg_currency_table rates;

static void setup(void) { vg_currency_defaults(&rates); }

TestSuite(labelled, .init = setup);

static vg_bt_data_t *load(const char *text, enum vg_format format) {
    char *path = vg_test_write_temp(text, strlen(text), format == VG_FORMAT_NDJSON ? ".ndjson" : ".csv");
    vg_bt_data_t *d = NULL;
    char err[256] = "";
    cr_assert_eq(vg_bt_data_load(&d, path, format, &rates, err, sizeof err), VG_OK, "%s", err);
    unlink(path);
    free(path);
    return d;
}

Test(labelled, csv_labels_ids_and_refusals) {
    vg_bt_data_t *d = load("Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,"
                           "Amount Paid,Payment Currency,Payment Format,Is Laundering\n"
                           "2022/09/01 00:20,010,8000EBD30,010,8000EBD31,3697.34,US Dollar,3697.34,US Dollar,ACH,0\n"
                           "2022/09/01 00:21,010,8000EBD30,010,8000EBD31,10.00,US Dollar,10.00,US Dollar,ACH,1\r\n"
                           "\n"
                           "2022/09/01 00:22,010,8000EBD30,010,8000EBD31,-1,US Dollar,-1,US Dollar,ACH,1\n"
                           "2022/09/01 00:23,010,8000EBD30,010,8000EBD31,5.00,US Dollar,5.00,US Dollar,ACH,yes\n",
                           VG_FORMAT_AMLWORLD_CSV);
    struct vg_bt_data_counts c;
    vg_bt_data_counts(d, &c);
    cr_assert_eq(c.transactions, 3);
    cr_assert_eq(c.laundering, 1);
    cr_assert_eq(c.refused, 1, "the negative amount is refused as replay refuses it");
    cr_assert_eq(c.refused_laundering, 1, "and its label is still counted");
    cr_assert_eq(c.bad_labels, 1);
    cr_assert(!vg_bt_data_label(d, 0));
    cr_assert(vg_bt_data_label(d, 1));
    cr_assert(!vg_bt_data_label(d, 2), "a bad label reads as not laundering");
    /* Ids are data line numbers, as vigild's alerts carry them: the refused line 3 keeps
     * its number, so the last record is "4". */
    cr_assert_eq(vg_bt_data_find(d, "1", 1), 0);
    cr_assert_eq(vg_bt_data_find(d, "2", 1), 1);
    cr_assert_eq(vg_bt_data_find(d, "4", 1), 2);
    cr_assert_eq(vg_bt_data_find(d, "3", 1), -1);
    struct vg_txn t;
    vg_bt_data_txn(d, 1, &t);
    cr_assert_eq(t.amount_micros, 10000000);
    cr_assert_eq(t.seq, 1);
    cr_assert(t.from_len == 12 && memcmp(t.from, "10:8000EBD30", 12) == 0);
    vg_bt_data_free(d);
}

Test(labelled, ndjson_label_member) {
    vg_bt_data_t *d = load(
        "{\"id\":\"a\",\"ts\":1000,\"from\":\"x\",\"to\":\"y\",\"amount\":1,\"currency\":\"USD\",\"label\":true}\n"
        "{\"id\":\"b\",\"ts\":1000,\"from\":\"x\",\"to\":\"y\",\"amount\":1,\"currency\":\"USD\",\"label\":false}\n"
        "{\"id\":\"c\",\"ts\":1000,\"from\":\"x\",\"to\":\"y\",\"amount\":1,\"currency\":\"USD\"}\n"
        "{\"label\": true , \"id\":\"d\",\"ts\":1000,\"from\":\"x\",\"to\":\"y\",\"amount\":1,\"currency\":\"USD\"}\n"
        "{\"id\":\"e\",\"meta\":{\"label\":true},\"ts\":1000,\"from\":\"x\",\"to\":\"y\",\"amount\":1,\"currency\":\"USD\"}\n"
        "{\"id\":\"f\",\"note\":\"\\\"label\\\":true\",\"ts\":1000,\"from\":\"x\",\"to\":\"y\",\"amount\":1,\"currency\":\"USD\"}\n"
        "{\"id\":\"g\",\"ts\":1000,\"from\":\"x\",\"to\":\"y\",\"amount\":1,\"currency\":\"USD\",\"label\":null}\n"
        "{\"id\":\"h\",\"ts\":1000,\"from\":\"x\",\"to\":\"y\",\"amount\":1,\"currency\":\"USD\",\"label\":\"yes\"}\n"
        "{\"id\":\"i\",\"ts\":1000,\"from\":\"x\",\"amount\":1,\"currency\":\"USD\",\"label\":true}\n",
        VG_FORMAT_NDJSON);
    struct vg_bt_data_counts c;
    vg_bt_data_counts(d, &c);
    cr_assert_eq(c.transactions, 8);
    cr_assert_eq(c.refused, 1, "a record without 'to' is refused like in replay");
    cr_assert_eq(c.bad_labels, 1);
    static const bool want[8] = {true, false, false, true, false, false, false, false};
    for (size_t i = 0; i < 8; i++) cr_assert_eq(vg_bt_data_label(d, i), want[i], "record %zu", i);
    cr_assert_eq(vg_bt_data_find(d, "h", 1), 7);
    vg_bt_data_free(d);
}

Test(labelled, identity_match_finds_equal_records) {
    vg_bt_data_t *d = load("2022/09/01 00:20,010,A,010,B,5.00,US Dollar,5.00,US Dollar,ACH,1\n"
                           "2022/09/01 00:20,010,A,010,B,5.00,US Dollar,5.00,US Dollar,Wire,1\n"
                           "2022/09/01 00:20,010,A,010,B,5.00,US Dollar,5.00,US Dollar,ACH,1\n",
                           VG_FORMAT_AMLWORLD_CSV);
    struct vg_txn key;
    vg_bt_data_txn(d, 0, &key);
    cr_assert_eq(vg_bt_data_match(d, &key, -1), -1, "nothing matches before the identity index is built");
    cr_assert_eq(vg_bt_data_index_identities(d), VG_OK);
    cr_assert_eq(vg_bt_data_match(d, &key, -1), 0);
    cr_assert_eq(vg_bt_data_match(d, &key, 0), 2, "the identical third line follows");
    cr_assert_eq(vg_bt_data_match(d, &key, 2), -1);
    key.amount_micros++;
    cr_assert_eq(vg_bt_data_match(d, &key, -1), -1);
    vg_bt_data_free(d);
}

Test(labelled, missing_file_is_an_io_error) {
    vg_bt_data_t *d = NULL;
    char err[256] = "";
    cr_assert_eq(vg_bt_data_load(&d, "/nonexistent/t.csv", VG_FORMAT_AMLWORLD_CSV, &rates, err, sizeof err), VG_ERR_IO);
    cr_assert(strstr(err, "/nonexistent/t.csv: cannot open") != NULL, "%s", err);
}
