/* un_xml.c - the UN Security Council consolidated list XML, exactly as the UN publishes it
 * (https://scsanctions.un.org/resources/xml/en/consolidated.xml), read with libxml2's
 * streaming reader into a screening list: individuals and entities, name parts, name in
 * original script, aliases with their quality, dates of birth (exact, year, approximately,
 * between) and document numbers. Not a validator of the UN schema. */
#include "vigil/lists.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/xmlreader.h>

#define RECORD_TEXT_MAX 65536
#define RECORD_ITEMS_MAX 128

/* One INDIVIDUAL or ENTITY as read, flushed into the list at its end tag (the reference
 * number comes after the names in the file). */
struct record {
    enum vg_screen_entry_type type;
    char text[RECORD_TEXT_MAX];
    size_t used;
    int ref, parts[4], script;              /* offsets into text, -1 = absent */
    int alias[RECORD_ITEMS_MAX];
    bool alias_low[RECORD_ITEMS_MAX];
    size_t n_alias;
    int32_t birth_from[RECORD_ITEMS_MAX], birth_to[RECORD_ITEMS_MAX];
    size_t n_birth;
    int doc[RECORD_ITEMS_MAX];
    size_t n_doc;
    /* the alias / date of birth / document being read */
    int cur_alias;
    bool cur_low;
    char dob_type[16];
    int32_t dob_date, dob_year, dob_from_year, dob_to_year;
};

struct loader {
    const char *path;
    char *errstr;
    size_t errstr_size;
    bool failed;
    char xml_error[256];
    int xml_error_line;
};

static void fail(struct loader *ld, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct loader *ld, int line, const char *fmt, ...) {
    if (ld->failed) return;
    ld->failed = true;
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(ld->errstr, ld->errstr_size, "%s:%d: %s", ld->path, line, why);
}

static void on_xml_error(void *arg, const char *msg, xmlParserSeverities severity, xmlTextReaderLocatorPtr loc) {
    struct loader *ld = arg;
    if (severity != XML_PARSER_SEVERITY_ERROR && severity != XML_PARSER_SEVERITY_VALIDITY_ERROR) return;
    if (ld->xml_error[0]) return;
    snprintf(ld->xml_error, sizeof ld->xml_error, "%s", msg ? msg : "XML error");
    size_t n = strlen(ld->xml_error);
    while (n > 0 && (ld->xml_error[n - 1] == '\n' || ld->xml_error[n - 1] == ' ')) ld->xml_error[--n] = '\0';
    ld->xml_error_line = loc ? xmlTextReaderLocatorLineNumber(loc) : 0;
}

/* Copies s into the record's text. Returns its offset, or -1 when the record is full. */
static int keep(struct record *r, const char *s) {
    size_t len = strlen(s);
    if (r->used + len + 1 > sizeof r->text) return -1;
    memcpy(r->text + r->used, s, len + 1);
    int off = (int)r->used;
    r->used += len + 1;
    return off;
}

static void record_begin(struct record *r, enum vg_screen_entry_type type) {
    r->type = type;
    r->used = 0;
    r->ref = r->script = -1;
    for (int i = 0; i < 4; i++) r->parts[i] = -1;
    r->n_alias = r->n_birth = r->n_doc = 0;
    r->cur_alias = -1;
}

static int32_t parse_ymd(const char *s) {
    int y, m, d;
    if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) == 3 && y > 0 && m >= 1 && m <= 12 && d >= 1 && d <= 31)
        return y * 10000 + m * 100 + d;
    return 0;
}

static int32_t parse_year(const char *s) {
    int y;
    return sscanf(s, "%4d", &y) == 1 && y > 0 && y < 10000 ? y : 0;
}

/* The dates of birth element just ended: its range, widened by a year for APPROXIMATELY. */
static void dob_end(struct record *r) {
    int32_t from = 0, to = 0;
    if (r->dob_from_year && r->dob_to_year) {
        from = r->dob_from_year * 10000 + 101;
        to = r->dob_to_year * 10000 + 1231;
    } else if (r->dob_date) {
        from = to = r->dob_date;
    } else if (r->dob_year) {
        from = r->dob_year * 10000 + 101;
        to = r->dob_year * 10000 + 1231;
    }
    if (from && strcmp(r->dob_type, "APPROXIMATELY") == 0) {
        from = (from / 10000 - 1) * 10000 + 101;
        to = (to / 10000 + 1) * 10000 + 1231;
    }
    if (from && from <= to && r->n_birth < RECORD_ITEMS_MAX) {
        r->birth_from[r->n_birth] = from;
        r->birth_to[r->n_birth++] = to;
    }
}

/* Adds the record to the list. Returns VG_OK or an error (errstr filled). */
static int record_flush(struct loader *ld, struct record *r, struct vg_screen_list *list, int line) {
    if (r->ref < 0) {
        fail(ld, line, "%s without REFERENCE_NUMBER", r->type == VG_SCREEN_PERSON ? "INDIVIDUAL" : "ENTITY");
        return VG_ERR_INVALID;
    }
    const char *ref = r->text + r->ref;
    char full[RECORD_TEXT_MAX];
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (r->parts[i] < 0) continue;
        const char *p = r->text + r->parts[i];
        size_t l = strlen(p);
        if (l == 0 || n + l + 2 > sizeof full) continue;
        if (n) full[n++] = ' ';
        memcpy(full + n, p, l);
        n += l;
    }
    int rc = vg_screen_add_entry(list, ref, strlen(ref), r->type);
    if (rc == VG_OK && n) rc = vg_screen_add_name(list, full, n, VG_SCREEN_GOOD);
    if (rc == VG_OK && r->script >= 0)
        rc = vg_screen_add_name(list, r->text + r->script, strlen(r->text + r->script), VG_SCREEN_GOOD);
    for (size_t i = 0; rc == VG_OK && i < r->n_alias; i++) {
        const char *a = r->text + r->alias[i];
        rc = vg_screen_add_name(list, a, strlen(a), r->alias_low[i] ? VG_SCREEN_LOW : VG_SCREEN_GOOD);
    }
    for (size_t i = 0; rc == VG_OK && i < r->n_birth; i++) rc = vg_screen_add_birth(list, r->birth_from[i], r->birth_to[i]);
    for (size_t i = 0; rc == VG_OK && i < r->n_doc; i++)
        rc = vg_screen_add_identifier(list, r->text + r->doc[i], strlen(r->text + r->doc[i]));
    if (rc != VG_OK) fail(ld, line, "%s: %s", ref, rc == VG_ERR_NOMEM ? "out of memory" : "cannot add entry");
    return rc;
}

/* A leaf element's text inside a record. */
static void record_field(struct record *r, const char *el, const char *value, bool in_alias, bool in_dob, bool in_doc) {
    if (in_alias) {
        if (strcmp(el, "ALIAS_NAME") == 0 && value[0]) r->cur_alias = keep(r, value);
        else if (strcmp(el, "QUALITY") == 0) r->cur_low = strcasecmp(value, "Low") == 0;
        return;
    }
    if (in_dob) {
        if (strcmp(el, "TYPE_OF_DATE") == 0) snprintf(r->dob_type, sizeof r->dob_type, "%s", value);
        else if (strcmp(el, "DATE") == 0) r->dob_date = parse_ymd(value);
        else if (strcmp(el, "YEAR") == 0) r->dob_year = parse_year(value);
        else if (strcmp(el, "FROM_YEAR") == 0) r->dob_from_year = parse_year(value);
        else if (strcmp(el, "TO_YEAR") == 0) r->dob_to_year = parse_year(value);
        return;
    }
    if (in_doc) {
        if (strcmp(el, "NUMBER") == 0 && value[0] && r->n_doc < RECORD_ITEMS_MAX) {
            int off = keep(r, value);
            if (off >= 0) r->doc[r->n_doc++] = off;
        }
        return;
    }
    static const char *const parts[4] = {"FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"};
    for (int i = 0; i < 4; i++)
        if (strcmp(el, parts[i]) == 0) {
            r->parts[i] = keep(r, value);
            return;
        }
    if (strcmp(el, "REFERENCE_NUMBER") == 0) r->ref = keep(r, value);
    else if (strcmp(el, "NAME_ORIGINAL_SCRIPT") == 0 && value[0]) r->script = keep(r, value);
}

int vg_list_load_un_xml(const char *path, const char *name, struct vg_screen_list **out, char *errstr,
                        size_t errstr_size) {
    struct loader ld = {.path = path, .errstr = errstr, .errstr_size = errstr_size};
    static _Thread_local struct record rec; /* 65 KB: off the stack */
    struct vg_screen_list *list = NULL;
    xmlTextReaderPtr reader = xmlReaderForFile(path, NULL, XML_PARSE_NONET | XML_PARSE_HUGE);
    if (!reader) {
        fail(&ld, 0, "cannot open or read as XML");
        return VG_ERR_IO;
    }
    xmlTextReaderSetErrorHandler(reader, on_xml_error, &ld);
    bool in_record = false, in_alias = false, in_dob = false, in_doc = false, seen_root = false;
    int rc = VG_OK, ret;
    while (!ld.failed && (ret = xmlTextReaderRead(reader)) == 1) {
        int type = xmlTextReaderNodeType(reader);
        const char *el = (const char *)xmlTextReaderConstName(reader);
        int line = xmlTextReaderGetParserLineNumber(reader);
        if (type == XML_READER_TYPE_ELEMENT) {
            if (!seen_root) {
                seen_root = true;
                if (strcmp(el, "CONSOLIDATED_LIST") != 0) {
                    fail(&ld, line, "root element is <%s>, not <CONSOLIDATED_LIST>", el);
                    rc = VG_ERR_INVALID;
                    break;
                }
                char version[64] = "";
                xmlChar *generated = xmlTextReaderGetAttribute(reader, (const xmlChar *)"dateGenerated");
                if (generated) snprintf(version, sizeof version, "%.10s", (const char *)generated);
                xmlFree(generated);
                list = vg_screen_list_new(name, version);
                if (!list) {
                    rc = VG_ERR_NOMEM;
                    fail(&ld, line, "out of memory");
                    break;
                }
                continue;
            }
            if (strcmp(el, "INDIVIDUAL") == 0 || strcmp(el, "ENTITY") == 0) {
                if (in_record) {
                    fail(&ld, line, "<%s> inside another record", el);
                    rc = VG_ERR_INVALID;
                    break;
                }
                record_begin(&rec, el[0] == 'I' ? VG_SCREEN_PERSON : VG_SCREEN_ENTITY);
                in_record = !xmlTextReaderIsEmptyElement(reader);
                continue;
            }
            if (!in_record) continue;
            if (strcmp(el, "INDIVIDUAL_ALIAS") == 0 || strcmp(el, "ENTITY_ALIAS") == 0) {
                in_alias = !xmlTextReaderIsEmptyElement(reader);
                rec.cur_alias = -1;
                rec.cur_low = false;
            } else if (strcmp(el, "INDIVIDUAL_DATE_OF_BIRTH") == 0) {
                in_dob = !xmlTextReaderIsEmptyElement(reader);
                rec.dob_type[0] = '\0';
                rec.dob_date = rec.dob_year = rec.dob_from_year = rec.dob_to_year = 0;
            } else if (strcmp(el, "INDIVIDUAL_DOCUMENT") == 0 || strcmp(el, "ENTITY_DOCUMENT") == 0) {
                in_doc = !xmlTextReaderIsEmptyElement(reader);
            } else if (!xmlTextReaderIsEmptyElement(reader)) {
                xmlChar *value = xmlTextReaderReadString(reader);
                if (value) {
                    record_field(&rec, el, (const char *)value, in_alias, in_dob, in_doc);
                    xmlFree(value);
                }
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT && in_record) {
            if (strcmp(el, "INDIVIDUAL") == 0 || strcmp(el, "ENTITY") == 0) {
                in_record = in_alias = in_dob = in_doc = false;
                rc = record_flush(&ld, &rec, list, line);
            } else if (strcmp(el, "INDIVIDUAL_ALIAS") == 0 || strcmp(el, "ENTITY_ALIAS") == 0) {
                in_alias = false;
                if (rec.cur_alias >= 0 && rec.n_alias < RECORD_ITEMS_MAX) {
                    rec.alias[rec.n_alias] = rec.cur_alias;
                    rec.alias_low[rec.n_alias++] = rec.cur_low;
                }
            } else if (strcmp(el, "INDIVIDUAL_DATE_OF_BIRTH") == 0) {
                in_dob = false;
                dob_end(&rec);
            } else if (strcmp(el, "INDIVIDUAL_DOCUMENT") == 0 || strcmp(el, "ENTITY_DOCUMENT") == 0) {
                in_doc = false;
            }
        }
        if (ld.failed && rc == VG_OK) rc = VG_ERR_INVALID;
    }
    if (!ld.failed && ret < 0) {
        int line = xmlTextReaderGetParserLineNumber(reader); /* where the parser stopped */
        fail(&ld, line > 0 ? line : ld.xml_error_line, "%s",
             ld.xml_error[0] ? ld.xml_error : "not well-formed XML");
        rc = VG_ERR_INVALID;
    }
    if (!ld.failed && !seen_root) {
        fail(&ld, 0, "empty file");
        rc = VG_ERR_INVALID;
    }
    if (!ld.failed && in_record) {
        fail(&ld, xmlTextReaderGetParserLineNumber(reader), "file ends inside a record");
        rc = VG_ERR_INVALID;
    }
    xmlFreeTextReader(reader);
    if (rc == VG_OK && !ld.failed && vg_screen_list_finish(list) != VG_OK) {
        fail(&ld, 0, "out of memory");
        rc = VG_ERR_NOMEM;
    }
    if (rc != VG_OK || ld.failed) {
        vg_screen_list_free(list);
        return rc != VG_OK ? rc : VG_ERR_INVALID;
    }
    *out = list;
    return VG_OK;
}
