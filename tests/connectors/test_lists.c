/* test_lists.c - the sanctions list readers (connectors/lists/): each format's fixture loads
 * with its entries, names, dates and identifiers, and a broken file is refused with the file,
 * the line and why. */
#include <criterion/criterion.h>
#include <string.h>

#include "vigil/lists.h"

#define DATA VG_TEST_DATA "/sanctions/"

static struct vg_screen_list *load_ok(enum vg_list_format format, const char *path) {
    char err[1024] = "";
    struct vg_screen_list *l = NULL;
    cr_assert_eq(vg_list_load(format, path, "test", &l, err, sizeof err), VG_OK, "%s", err);
    cr_assert_not_null(l);
    return l;
}

static void load_fails(enum vg_list_format format, const char *path, const char *where, const char *why) {
    char err[1024] = "";
    struct vg_screen_list *l = NULL;
    cr_expect_neq(vg_list_load(format, path, "test", &l, err, sizeof err), VG_OK, "%s loaded", path);
    cr_expect_null(l);
    cr_expect(strstr(err, where) != NULL, "error '%s' lacks '%s'", err, where);
    cr_expect(strstr(err, why) != NULL, "error '%s' lacks '%s'", err, why);
}

/* The reference of the best hit for a name (and birth date), "" when none. */
static const char *best(const struct vg_screen_list *l, const char *name, const char *id, int32_t dob) {
    struct vg_screen_party p = {name, name ? strlen(name) : 0, id, id ? strlen(id) : 0, dob};
    struct vg_screen_hit hits[4];
    return vg_screen_match(l, &p, 0.85, hits, 4) ? vg_screen_entry_ref(l, hits[0].entry) : "";
}

Test(lists, un_xml_fixture) {
    struct vg_screen_list *l = load_ok(VG_LIST_UN_XML, DATA "un_small.xml");
    cr_expect_eq(vg_screen_list_entries(l), 4);
    cr_expect_str_eq(vg_screen_list_version(l), "2024-09-26");
    cr_expect_str_eq(best(l, "Muhammad Taher Anwari", NULL, 0), "TAi.005");
    cr_expect_str_eq(best(l, "محمد طاهر أنوري", NULL, 0), "TAi.005", "name in original script");
    cr_expect_str_eq(best(l, "Haji Mudir", NULL, 0), "TAi.005", "low-quality alias, exactly");
    cr_expect_str_eq(best(l, "Muhammad Taher Anwari", NULL, 19620301), "TAi.005", "approximately 1961: 1960..1962");
    cr_expect_str_eq(best(l, "Muhammad Taher Anwari", NULL, 19900301), "", "far from 1961");
    cr_expect_str_eq(best(l, "Nobody", "N1234567", 0), "TSi.001", "document number");
    cr_expect_str_eq(best(l, "Asem Qasymova", NULL, 19830101), "TSi.002", "between 1980 and 1983");
    cr_expect_str_eq(best(l, "Al Rasheed Trust", NULL, 0), "QDe.005", "entity alias");
    struct vg_screen_party p = {"Al-Rashid Trust", 15, NULL, 0, 0};
    struct vg_screen_hit hits[4];
    cr_assert_eq(vg_screen_match(l, &p, 0.85, hits, 4), 1);
    cr_expect_eq(vg_screen_entry_type(l, hits[0].entry), VG_SCREEN_ENTITY);
    vg_screen_list_free(l);
}

Test(lists, un_xml_broken) {
    load_fails(VG_LIST_UN_XML, DATA "un_broken.xml", "un_broken.xml:7:", "mismatch");
    load_fails(VG_LIST_UN_XML, DATA "national.tsv", "national.tsv:", "");
    load_fails(VG_LIST_UN_XML, DATA "no-such-file.xml", "no-such-file.xml", "");
}

Test(lists, tsv_fixture) {
    struct vg_screen_list *l = load_ok(VG_LIST_TSV, DATA "national.tsv");
    cr_expect_eq(vg_screen_list_entries(l), 2);
    cr_expect_eq(strlen(vg_screen_list_version(l)), 16, "hash of the bytes");
    cr_expect_str_eq(best(l, "Nurlan Serikbayev", NULL, 0), "KZ-0001");
    cr_expect_str_eq(best(l, "Серикбаев Нурлан Бекович", NULL, 0), "KZ-0001");
    cr_expect_str_eq(best(l, "Nurlan Serikbayev", NULL, 19750302), "KZ-0001");
    cr_expect_str_eq(best(l, "X Y", "750302300123", 0), "KZ-0001", "IIN");
    cr_expect_str_eq(best(l, "Sunkar Trade LLP", NULL, 0), "KZ-0002");
    cr_expect_str_eq(best(l, "Nurik", NULL, 0), "", "one-word low alias of a person");
    vg_screen_list_free(l);
}

Test(lists, tsv_broken) {
    load_fails(VG_LIST_TSV, DATA "national_broken.tsv", "national_broken.tsv:2:", "type 'persn'");
}

Test(lists, opensanctions_csv_fixture) {
    struct vg_screen_list *l = load_ok(VG_LIST_OPENSANCTIONS_CSV, DATA "targets.simple.csv");
    cr_expect_eq(vg_screen_list_entries(l), 2);
    cr_expect_str_eq(best(l, "Viktor Yanukovych", NULL, 0), "NK-abc123");
    cr_expect_str_eq(best(l, "Віктор Янукович", NULL, 0), "NK-abc123");
    cr_expect_str_eq(best(l, "Viktor Yanukovych", NULL, 19500709), "NK-abc123");
    cr_expect_str_eq(best(l, "Example Shipping Company", NULL, 0), "NK-def456");
    cr_expect_str_eq(best(l, "Whoever", "IMO 1234567", 0), "NK-def456");
    vg_screen_list_free(l);
}

Test(lists, opensanctions_csv_broken) {
    load_fails(VG_LIST_OPENSANCTIONS_CSV, DATA "targets_broken.csv", "targets_broken.csv:3:", "quoting");
}

Test(lists, date_ranges) {
    int32_t from, to;
    cr_expect_eq(vg_list_parse_date_range("1970-05-14", 10, &from, &to), VG_OK);
    cr_expect_eq(from, 19700514);
    cr_expect_eq(to, 19700514);
    cr_expect_eq(vg_list_parse_date_range("1970", 4, &from, &to), VG_OK);
    cr_expect_eq(from, 19700101);
    cr_expect_eq(to, 19701231);
    cr_expect_eq(vg_list_parse_date_range("1970-02", 7, &from, &to), VG_OK);
    cr_expect_eq(to, 19700229);
    cr_expect_eq(vg_list_parse_date_range("1963..1968", 10, &from, &to), VG_OK);
    cr_expect_eq(from, 19630101);
    cr_expect_eq(to, 19681231);
    cr_expect_neq(vg_list_parse_date_range("1970-13-01", 10, &from, &to), VG_OK);
    cr_expect_neq(vg_list_parse_date_range("19x0", 4, &from, &to), VG_OK);
    cr_expect_neq(vg_list_parse_date_range("1968..1963", 10, &from, &to), VG_OK);
}
