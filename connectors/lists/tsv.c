/* tsv.c - vigil's plain TSV for national and internal sanctions lists (docs/SCREENING.md,
 * example deploy/national-list.example.tsv): one entry per line,
 *   reference <TAB> type <TAB> name <TAB> aliases <TAB> birth_dates <TAB> identifiers
 * the last three ';'-separated and optional, an alias starting with '~' low quality, '#'
 * lines and blank lines skipped, a first non-comment line starting "reference" taken as a
 * header. */
#include "vigil/lists.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists/list_file.h"

#define COLUMNS 6


static void trim(const char **s, size_t *len) {
    while (*len && (**s == ' ' || **s == '\r')) (*s)++, (*len)--;
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\r')) (*len)--;
}

int vg_list_load_tsv(const char *path, const char *name, struct vg_screen_list **out, char *errstr,
                     size_t errstr_size) {
    char *data;
    size_t size;
    int rc = vg_list_read_file(path, &data, &size, errstr, errstr_size);
    if (rc != VG_OK) return rc;
    char version[17];
    vg_list_hash_version(data, size, version);
    struct vg_screen_list *list = vg_screen_list_new(name, version);
    if (!list) {
        free(data);
        snprintf(errstr, errstr_size, "%s:0: out of memory", path);
        return VG_ERR_NOMEM;
    }
    size_t line_no = 0;
    bool seen_data = false;
    char *p = data, *end = data + size;
    while (rc == VG_OK && p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl ? nl : end;
        line_no++;
        const char *col[COLUMNS] = {0};
        size_t col_len[COLUMNS] = {0};
        size_t n = 0;
        const char *c = p;
        for (;;) {
            const char *tab = memchr(c, '\t', (size_t)(line_end - c));
            const char *stop = tab ? tab : line_end;
            if (n < COLUMNS) {
                col[n] = c;
                col_len[n] = (size_t)(stop - c);
                trim(&col[n], &col_len[n]);
            }
            n++;
            if (!tab) break;
            c = tab + 1;
        }
        p = nl ? nl + 1 : end;
        if (n == 1 && col_len[0] == 0) continue;               /* blank */
        if (col_len[0] && col[0][0] == '#') continue;          /* comment */
        if (!seen_data && col_len[0] == 9 && memcmp(col[0], "reference", 9) == 0) { /* header */
            seen_data = true;
            continue;
        }
        seen_data = true;
        if (n < 3 || n > COLUMNS) {
            rc = vg_list_fail(errstr, errstr_size, path, line_no, "%zu columns, expected 3 to %d (reference, type, name, "
                     "aliases, birth_dates, identifiers)", n, COLUMNS);
            break;
        }
        if (col_len[0] == 0) {
            rc = vg_list_fail(errstr, errstr_size, path, line_no, "empty reference");
            break;
        }
        enum vg_screen_entry_type type;
        if (col_len[1] == 6 && memcmp(col[1], "person", 6) == 0) type = VG_SCREEN_PERSON;
        else if (col_len[1] == 6 && memcmp(col[1], "entity", 6) == 0) type = VG_SCREEN_ENTITY;
        else if (col_len[1] == 5 && memcmp(col[1], "other", 5) == 0) type = VG_SCREEN_OTHER;
        else {
            rc = vg_list_fail(errstr, errstr_size, path, line_no, "type '%.*s' is not person, entity or other", (int)VG_MIN(col_len[1], (size_t)32), col[1]);
            break;
        }
        if (col_len[2] == 0) {
            rc = vg_list_fail(errstr, errstr_size, path, line_no, "empty name");
            break;
        }
        if (vg_screen_add_entry(list, col[0], col_len[0], type) != VG_OK ||
            vg_screen_add_name(list, col[2], col_len[2], VG_SCREEN_GOOD) != VG_OK) {
            rc = vg_list_fail(errstr, errstr_size, path, line_no, "cannot add entry (out of memory or bad name)");
            break;
        }
        for (int k = 3; k < COLUMNS && rc == VG_OK; k++) { /* ';'-separated multi-values */
            const char *v = col[k];
            const char *vend = v ? v + col_len[k] : NULL;
            while (v && v < vend && rc == VG_OK) {
                const char *semi = memchr(v, ';', (size_t)(vend - v));
                const char *stop = semi ? semi : vend;
                const char *item = v;
                size_t len = (size_t)(stop - v);
                trim(&item, &len);
                v = semi ? semi + 1 : vend;
                if (len == 0) continue;
                if (k == 3) {
                    bool low = item[0] == '~';
                    if (low) item++, len--;
                    if (vg_screen_add_name(list, item, len, low ? VG_SCREEN_LOW : VG_SCREEN_GOOD) != VG_OK)
                        rc = vg_list_fail(errstr, errstr_size, path, line_no, "cannot add alias");
                } else if (k == 4) {
                    int32_t from, to;
                    if (vg_list_parse_date_range(item, len, &from, &to) != VG_OK)
                        rc = vg_list_fail(errstr, errstr_size, path, line_no,
                                 "birth date '%.*s' is not YYYY-MM-DD, YYYY-MM, YYYY or FROM..TO", (int)VG_MIN(len, (size_t)32), item);
                    else if (vg_screen_add_birth(list, from, to) != VG_OK)
                        rc = vg_list_fail(errstr, errstr_size, path, line_no, "cannot add birth date");
                } else {
                    if (len > VG_ID_MAX)
                        rc = vg_list_fail(errstr, errstr_size, path, line_no, "identifier longer than %d bytes", VG_ID_MAX);
                    else if (vg_screen_add_identifier(list, item, len) != VG_OK)
                        rc = vg_list_fail(errstr, errstr_size, path, line_no, "cannot add identifier");
                }
            }
        }
    }
    free(data);
    if (rc == VG_OK && vg_screen_list_finish(list) != VG_OK) {
        snprintf(errstr, errstr_size, "%s:0: out of memory", path);
        rc = VG_ERR_NOMEM;
    }
    if (rc != VG_OK) {
        vg_screen_list_free(list);
        return rc;
    }
    *out = list;
    return VG_OK;
}
