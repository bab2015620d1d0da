/* test_patterns.c - the AMLworld *_Patterns.txt reader (connectors/file/patterns.c): attempts
 * and typologies from good input, and broken files refused with the line that is wrong. */
#include <criterion/criterion.h>
#include <string.h>

#include "vigil/backtest.h"

static struct vg_currency_table rates;

static void setup(void) { vg_currency_defaults(&rates); }

TestSuite(patterns, .init = setup);

static const char good[] =
    "BEGIN LAUNDERING ATTEMPT - FAN-OUT:  Max 16-degree Fan-Out\n"
    "2022/09/01 05:14,00952,8139F54E0,0111632,8062C56E0,5331.44,US Dollar,5331.44,US Dollar,ACH,1\n"
    "2022/09/01 06:30,00952,8139F54E0,0118693,823D4D9B0,3127.92,US Dollar,3127.92,US Dollar,ACH,1\r\n"
    "END LAUNDERING ATTEMPT - FAN-OUT\n"
    "\n"
    "BEGIN LAUNDERING ATTEMPT - CYCLE:  Max 12 hops\n"
    "2022/09/02 11:00,010,8000EBD30,020,80020C5B0,1000.00,Euro,1000.00,Euro,Wire,1\n"
    "END LAUNDERING ATTEMPT - CYCLE\n"
    "BEGIN LAUNDERING ATTEMPT - FAN-OUT:  Max 3-degree Fan-Out\n"
    "2022/09/03 00:00,010,8000EBD30,020,80020C5B0,12.50,US Dollar,12.50,US Dollar,Cash,1\n"
    "END LAUNDERING ATTEMPT\n";

Test(patterns, reads_attempts_typologies_and_transactions) {
    struct vg_bt_patterns p;
    char err[256] = "";
    cr_assert_eq(vg_bt_patterns_parse(&p, "p.txt", good, sizeof good - 1, &rates, err, sizeof err), VG_OK, "%s", err);
    cr_assert_eq(p.n_attempts, 3);
    cr_assert_eq(p.n_typologies, 2);
    cr_assert_str_eq(p.typologies[0], "FAN-OUT");
    cr_assert_str_eq(p.typologies[1], "CYCLE");
    cr_assert_eq(p.attempts[0].typology, 0);
    cr_assert_eq(p.attempts[0].count, 2);
    cr_assert_eq(p.attempts[0].line, 1);
    cr_assert_eq(p.attempts[1].typology, 1);
    cr_assert_eq(p.attempts[1].line, 6);
    cr_assert_eq(p.attempts[2].typology, 0, "the same typology name is one typology");
    cr_assert_eq(p.n_txns, 4);
    /* Parsed as the transaction file's lines are: ids as AMLworld's tools read them. */
    const struct vg_txn *t = &p.txns[0];
    cr_assert_eq(t->from_len, strlen("952:8139F54E0"));
    cr_assert(memcmp(t->from, "952:8139F54E0", t->from_len) == 0);
    cr_assert_eq(t->amount_micros, 5331440000LL);
    cr_assert_eq(p.txns[1].seq, 3, "each transaction remembers its line");
    vg_bt_patterns_free(&p);
}

Test(patterns, empty_file_has_no_attempts) {
    struct vg_bt_patterns p;
    char err[256] = "";
    cr_assert_eq(vg_bt_patterns_parse(&p, "p.txt", "\n\n", 2, &rates, err, sizeof err), VG_OK);
    cr_assert_eq(p.n_attempts, 0);
    vg_bt_patterns_free(&p);
}

static const char line_ok[] = "2022/09/01 05:14,00952,8139F54E0,0111632,8062C56E0,5331.44,US Dollar,5331.44,US Dollar,ACH,1\n";

Test(patterns, broken_input_is_refused_with_its_line) {
    static const struct {
        const char *text;
        const char *message; /* expected in errstr, line included */
    } cases[] = {
        {"2022/09/01 05:14,00952,8139F54E0,0111632,8062C56E0,5331.44,US Dollar,5331.44,US Dollar,ACH,1\n",
         "p.txt:1: transaction line outside an attempt"},
        {"BEGIN LAUNDERING ATTEMPT - STACK\n"
         "2022/09/01 05:14,00952,8139F54E0,0111632,8062C56E0,5331.44,US Dollar,5331.44,US Dollar,ACH,1\n"
         "BEGIN LAUNDERING ATTEMPT - CYCLE\n",
         "p.txt:3: BEGIN inside the attempt begun on line 1"},
        {"\nEND LAUNDERING ATTEMPT - STACK\n", "p.txt:2: END without BEGIN"},
        {"BEGIN LAUNDERING ATTEMPT - STACK\n"
         "2022/09/01 05:14,00952,8139F54E0,0111632,8062C56E0,5331.44,US Dollar,5331.44,US Dollar,ACH,1\n"
         "END LAUNDERING ATTEMPT - CYCLE\n",
         "p.txt:3: END does not match the BEGIN STACK on line 1"},
        {"BEGIN LAUNDERING ATTEMPT - STACK\nEND LAUNDERING ATTEMPT - STACK\n",
         "p.txt:2: attempt begun on line 1 holds no transaction"},
        {"BEGIN LAUNDERING ATTEMPT\n", "p.txt:1: BEGIN names no typology"},
        {"BEGIN LAUNDERING ATTEMPT - STACK\n"
         "2022/09/01 05:14,00952,8139F54E0,0111632,8062C56E0,lots,US Dollar,lots,US Dollar,ACH,1\n",
         "p.txt:2: bad_amount"},
        {"BEGIN LAUNDERING ATTEMPT - STACK\n"
         "2022/13/01 05:14,00952,8139F54E0,0111632,8062C56E0,1.00,US Dollar,1.00,US Dollar,ACH,1\n",
         "p.txt:2: bad_timestamp"},
        {"BEGIN LAUNDERING ATTEMPT - STACK\n2022/09/01 05:14,00952,8139F54E0\n", "p.txt:2: malformed"},
        {"BEGIN LAUNDERING ATTEMPT - STACK\n"
         "2022/09/01 05:14,00952,8139F54E0,0111632,8062C56E0,1.00,US Dollar,1.00,US Dollar,ACH,1\n\n",
         "p.txt:3: file ends inside the attempt begun on line 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vg_bt_patterns p;
        char err[512] = "";
        int rc = vg_bt_patterns_parse(&p, "p.txt", cases[i].text, strlen(cases[i].text), &rates, err, sizeof err);
        cr_assert_eq(rc, VG_ERR_INVALID, "case %zu accepted", i);
        cr_assert(strstr(err, cases[i].message) != NULL, "case %zu: got '%s', want '%s'", i, err, cases[i].message);
        cr_assert_eq(p.n_attempts, 0, "nothing is left to free");
    }
    (void)line_ok;
}

Test(patterns, too_many_typologies_are_refused) {
    char text[8192] = "";
    for (int i = 0; i <= VG_BT_TYPOLOGY_MAX; i++) {
        char block[256];
        snprintf(block, sizeof block, "BEGIN LAUNDERING ATTEMPT - T%d\n%sEND LAUNDERING ATTEMPT\n", i, line_ok);
        strcat(text, block);
    }
    struct vg_bt_patterns p;
    char err[512] = "";
    cr_assert_eq(vg_bt_patterns_parse(&p, "p.txt", text, strlen(text), &rates, err, sizeof err), VG_ERR_INVALID);
    cr_assert(strstr(err, "p.txt:97: more than 32 typologies") != NULL, "%s", err);
}

Test(patterns, load_names_a_missing_file) {
    struct vg_bt_patterns p;
    char err[512] = "";
    cr_assert_eq(vg_bt_patterns_load(&p, "/nonexistent/x_Patterns.txt", &rates, err, sizeof err), VG_ERR_IO);
    cr_assert(strstr(err, "/nonexistent/x_Patterns.txt: cannot open") != NULL, "%s", err);
}
