/* opensanctions_csv.c - OpenSanctions' targets.simple.csv (RFC 4180 CSV with a header:
 * id, schema, name, aliases, birth_date, countries, addresses, identifiers, sanctions, ...;
 * multi-values ';'-separated) into a screening list. Columns are found by header name;
 * schema Person is a person, Organization/Company/LegalEntity an entity. Aliases carry no
 * quality in this format: all are good. */
#include "vigil/lists.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists/list_file.h"

#define FIELDS_MAX 64
enum col { COL_ID, COL_SCHEMA, COL_NAME, COL_ALIASES, COL_BIRTH, COL_IDENTIFIERS, COL_MAX };
static const char *const col_names[COL_MAX] = {"id", "schema", "name", "aliases", "birth_date", "identifiers"};

/* Calls add for each ';'-separated item of a field. Returns the first error. */
static int each_item(struct vg_screen_list *list, const char *s, size_t len, int kind) {
    const char *end = s + len;
    while (s < end) {
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const char *stop = semi ? semi : end;
        const char *item = s;
        size_t n = (size_t)(stop - s);
        s = semi ? semi + 1 : end;
        while (n && *item == ' ') item++, n--;
        while (n && item[n - 1] == ' ') n--;
        if (n == 0) continue;
        int rc = VG_OK;
        if (kind == COL_ALIASES) {
            rc = vg_screen_add_name(list, item, n, VG_SCREEN_GOOD);
        } else if (kind == COL_BIRTH) {
            int32_t from, to;
            if (vg_list_parse_date_range(item, n, &from, &to) != VG_OK) return VG_ERR_RANGE;
            rc = vg_screen_add_birth(list, from, to);
        } else if (n <= VG_ID_MAX) {
            rc = vg_screen_add_identifier(list, item, n);
        }
        if (rc != VG_OK) return rc;
    }
    return VG_OK;
}

int vg_list_load_opensanctions_csv(const char *path, const char *name, struct vg_screen_list **out,
                                   char *errstr, size_t errstr_size) {
    char *data;
    size_t size;
    int rc = vg_list_read_file(path, &data, &size, errstr, errstr_size);
    if (rc != VG_OK) return rc;
    char version[17];
    vg_list_hash_version(data, size, version);
    struct vg_screen_list *list = vg_screen_list_new(name, version);
    struct vg_csv c = {.p = data, .end = data + size, .line = 1};
    char *field[FIELDS_MAX];
    size_t flen[FIELDS_MAX];
    int colpos[COL_MAX];
    if (!list) {
        rc = VG_ERR_NOMEM;
        snprintf(errstr, errstr_size, "%s:0: out of memory", path);
        goto done;
    }
    int n = vg_csv_record(&c, field, flen, FIELDS_MAX);
    if (n <= 0) {
        rc = vg_list_fail(errstr, errstr_size, path, 1, n == 0 ? "empty file (a header line is expected)" : "bad quoting in the header");
        goto done;
    }
    for (int k = 0; k < COL_MAX; k++) {
        colpos[k] = -1;
        for (int i = 0; i < VG_MIN(n, FIELDS_MAX); i++)
            if (strlen(col_names[k]) == flen[i] && memcmp(field[i], col_names[k], flen[i]) == 0) colpos[k] = i;
        if (colpos[k] < 0 && k <= COL_NAME) {
            rc = vg_list_fail(errstr, errstr_size, path, 1, "header has no '%s' column", col_names[k]);
            goto done;
        }
    }
    for (;;) {
        size_t line = c.line;
        n = vg_csv_record(&c, field, flen, FIELDS_MAX);
        if (n == 0) break;
        if (n < 0) {
            rc = vg_list_fail(errstr, errstr_size, path, line, "bad quoting (a quote inside an unquoted field, or unterminated)");
            goto done;
        }
        if (n == 1 && flen[0] == 0) continue; /* blank line */
        for (int k = 0; k <= COL_NAME; k++)
            if (colpos[k] >= n) {
                rc = vg_list_fail(errstr, errstr_size, path, line, "%d fields, the '%s' column is missing", n, col_names[k]);
                goto done;
            }
        const char *schema = field[colpos[COL_SCHEMA]];
        size_t slen = flen[colpos[COL_SCHEMA]];
        enum vg_screen_entry_type type = VG_SCREEN_OTHER;
        if (slen == 6 && memcmp(schema, "Person", 6) == 0) type = VG_SCREEN_PERSON;
        else if ((slen == 12 && memcmp(schema, "Organization", 12) == 0) || (slen == 7 && memcmp(schema, "Company", 7) == 0) ||
                 (slen == 11 && memcmp(schema, "LegalEntity", 11) == 0))
            type = VG_SCREEN_ENTITY;
        if (flen[colpos[COL_ID]] == 0) {
            rc = vg_list_fail(errstr, errstr_size, path, line, "empty id");
            goto done;
        }
        if (vg_screen_add_entry(list, field[colpos[COL_ID]], flen[colpos[COL_ID]], type) != VG_OK ||
            vg_screen_add_name(list, field[colpos[COL_NAME]], flen[colpos[COL_NAME]], VG_SCREEN_GOOD) != VG_OK) {
            rc = vg_list_fail(errstr, errstr_size, path, line, "cannot add entry");
            goto done;
        }
        for (int k = COL_ALIASES; k < COL_MAX; k++) {
            if (colpos[k] < 0 || colpos[k] >= n) continue;
            int irc = each_item(list, field[colpos[k]], flen[colpos[k]], k);
            if (irc == VG_ERR_RANGE) {
                rc = vg_list_fail(errstr, errstr_size, path, line, "birth_date '%.*s' is not YYYY-MM-DD, YYYY-MM or YYYY",
                         (int)VG_MIN(flen[colpos[k]], (size_t)40), field[colpos[k]]);
                goto done;
            }
            if (irc != VG_OK) {
                rc = vg_list_fail(errstr, errstr_size, path, line, "cannot add %s", col_names[k]);
                goto done;
            }
        }
    }
    if (vg_screen_list_finish(list) != VG_OK) {
        rc = VG_ERR_NOMEM;
        snprintf(errstr, errstr_size, "%s:0: out of memory", path);
    }
done:
    free(data);
    if (rc != VG_OK) {
        vg_screen_list_free(list);
        return rc;
    }
    *out = list;
    return VG_OK;
}
