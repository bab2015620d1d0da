/* clients.c - the bank's own clients for goAML drafts (report.clients): a CSV of the bank's
 * accounts with their holders, looked up by account id so that vigil-goaml writes them in
 * goAML's *_my_client form. Checks what every FIU needs (ids, codes' shape, dates); whether a
 * given FIU's schema wants more is its validator's call. Errors are "PATH:LINE: why". */
#include "vigil/goaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists/list_file.h"
#include "vigil/lists.h"

struct vg_goaml_clients {
    char *data;                      /* the file, fields NUL-terminated in place */
    size_t n;
    struct vg_goaml_client *rows;    /* by account */
};

#define COLUMNS 24

struct column {
    const char *name;
    size_t offset;
    bool required;                   /* column must be in the header */
};

#define COL(f, req) {#f, offsetof(struct vg_goaml_client, f), req}
static const struct column columns[] = {
    COL(account, true), COL(client_number, true), COL(currency, true), COL(personal_account_type, true),
    COL(holder, true), COL(status_code, false), COL(opened, false), COL(branch, false), COL(iban, false),
    COL(name, false), COL(first_name, false), COL(last_name, false), COL(gender, false), COL(birthdate, false),
    COL(id_number, false), COL(nationality, false), COL(residence, false), COL(occupation, false),
    COL(legal_form, false), COL(incorporation_number, false), COL(business, false),
    COL(incorporation_country, false), COL(role, false),
};

static bool upper(const char *s, size_t n) {
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z') return false;
    return true;
}

static bool date(const char *s) {
    int32_t from, to;
    return strlen(s) == 10 && vg_list_parse_date_range(s, 10, &from, &to) == VG_OK;
}

static int by_account(const void *a, const void *b) {
    return strcmp(((const struct vg_goaml_client *)a)->account, ((const struct vg_goaml_client *)b)->account);
}

/* One data row's checks; returns NULL or why it is refused. */
static const char *row_problem(const struct vg_goaml_client *c, char *why, size_t cap) {
    size_t alen = strlen(c->account);
    if (alen == 0 || alen > VG_ID_MAX) return snprintf(why, cap, "account: 1..%d bytes expected", VG_ID_MAX), why;
    if (!c->client_number[0]) return "client_number: empty";
    if (!upper(c->currency, 3)) return "currency: an ISO 4217 code like KZT expected";
    if (!c->personal_account_type[0]) return "personal_account_type: empty (the FIU's account type code)";
    if (strcmp(c->holder, "person") == 0) {
        if (!c->first_name[0] || !c->last_name[0]) return "a person holder needs first_name and last_name";
    } else if (strcmp(c->holder, "entity") == 0) {
        if (!c->name[0]) return "an entity holder needs name";
    } else {
        return snprintf(why, cap, "holder: '%.32s' is not person or entity", c->holder), why;
    }
    if (c->opened[0] && !date(c->opened)) return "opened: YYYY-MM-DD expected";
    if (c->birthdate[0] && !date(c->birthdate)) return "birthdate: YYYY-MM-DD expected";
    if (c->nationality[0] && !upper(c->nationality, 2)) return "nationality: an ISO 3166 alpha-2 code expected";
    if (c->residence[0] && !upper(c->residence, 2)) return "residence: an ISO 3166 alpha-2 code expected";
    if (c->incorporation_country[0] && !upper(c->incorporation_country, 2))
        return "incorporation_country: an ISO 3166 alpha-2 code expected";
    return NULL;
}

int vg_goaml_clients_load(struct vg_goaml_clients **out, const char *path, char *errstr, size_t errstr_size) {
    struct vg_goaml_clients *cs = calloc(1, sizeof *cs);
    size_t size, cap = 0;
    if (!cs) return snprintf(errstr, errstr_size, "%s:0: out of memory", path), VG_ERR_NOMEM;
    int rc = vg_list_read_file(path, &cs->data, &size, errstr, errstr_size);
    if (rc != VG_OK) {
        free(cs);
        return rc;
    }
    struct vg_csv csv = {.p = cs->data, .end = cs->data + size, .line = 1};
    char *field[COLUMNS];
    size_t flen[COLUMNS];
    int pos[VG_ARRAY_LEN(columns)];
    int n = vg_csv_record(&csv, field, flen, COLUMNS);
    if (n <= 0) {
        rc = vg_list_fail(errstr, errstr_size, path, 1, n == 0 ? "empty file (a header line is expected)"
                                                              : "bad quoting in the header");
        goto err;
    }
    if (n > COLUMNS) {
        rc = vg_list_fail(errstr, errstr_size, path, 1, "%d columns, at most %d", n, COLUMNS);
        goto err;
    }
    for (size_t k = 0; k < VG_ARRAY_LEN(columns); k++) pos[k] = -1;
    for (int i = 0; i < n; i++) {
        size_t k = 0;
        while (k < VG_ARRAY_LEN(columns) &&
               !(strlen(columns[k].name) == flen[i] && memcmp(columns[k].name, field[i], flen[i]) == 0))
            k++;
        if (k == VG_ARRAY_LEN(columns)) {
            rc = vg_list_fail(errstr, errstr_size, path, 1, "unknown column '%.*s' (see deploy/vigil.yaml, report.clients)",
                              (int)VG_MIN(flen[i], (size_t)40), field[i]);
            goto err;
        }
        if (pos[k] >= 0) {
            rc = vg_list_fail(errstr, errstr_size, path, 1, "column '%s' twice", columns[k].name);
            goto err;
        }
        pos[k] = i;
    }
    for (size_t k = 0; k < VG_ARRAY_LEN(columns); k++)
        if (columns[k].required && pos[k] < 0) {
            rc = vg_list_fail(errstr, errstr_size, path, 1, "header has no '%s' column", columns[k].name);
            goto err;
        }
    for (;;) {
        size_t line = csv.line;
        n = vg_csv_record(&csv, field, flen, COLUMNS);
        if (n == 0) break;
        if (n < 0) {
            rc = vg_list_fail(errstr, errstr_size, path, line, "bad quoting (a quote inside an unquoted field, or unterminated)");
            goto err;
        }
        if (n == 1 && flen[0] == 0) continue; /* blank line */
        for (int i = 0; i < VG_MIN(n, COLUMNS); i++) field[i][flen[i]] = '\0'; /* the separator is behind us */
        if (cs->n == cap) {
            cap = cap ? cap * 2 : 64;
            struct vg_goaml_client *w = realloc(cs->rows, cap * sizeof *w);
            if (!w) {
                rc = vg_list_fail(errstr, errstr_size, path, line, "out of memory");
                goto err;
            }
            cs->rows = w;
        }
        struct vg_goaml_client *c = &cs->rows[cs->n];
        for (size_t k = 0; k < VG_ARRAY_LEN(columns); k++)
            *(char **)((char *)c + columns[k].offset) = pos[k] >= 0 && pos[k] < n ? field[pos[k]] : (char *)"";
        char why[128];
        const char *problem = row_problem(c, why, sizeof why);
        if (problem) {
            rc = vg_list_fail(errstr, errstr_size, path, line, "%s", problem);
            goto err;
        }
        c->line = line;
        cs->n++;
    }
    qsort(cs->rows, cs->n, sizeof *cs->rows, by_account);
    for (size_t i = 1; i < cs->n; i++)
        if (strcmp(cs->rows[i].account, cs->rows[i - 1].account) == 0) {
            size_t a = VG_MIN(cs->rows[i].line, cs->rows[i - 1].line), b = VG_MAX(cs->rows[i].line, cs->rows[i - 1].line);
            rc = vg_list_fail(errstr, errstr_size, path, b, "account '%s' again (first on line %zu)", cs->rows[i].account, a);
            goto err;
        }
    *out = cs;
    return VG_OK;
err:
    vg_goaml_clients_destroy(cs);
    return rc;
}

const struct vg_goaml_client *vg_goaml_clients_find(const struct vg_goaml_clients *cs, const char *account) {
    if (!cs || !account || cs->n == 0) return NULL;
    struct vg_goaml_client key = {.account = (char *)account};
    return bsearch(&key, cs->rows, cs->n, sizeof *cs->rows, by_account);
}

size_t vg_goaml_clients_count(const struct vg_goaml_clients *cs) { return cs ? cs->n : 0; }

void vg_goaml_clients_destroy(struct vg_goaml_clients *cs) {
    if (!cs) return;
    free(cs->rows);
    free(cs->data);
    free(cs);
}
