/* validate.c - a goAML draft checked against the FIU's own XSD in-process with libxml2 (the
 * validator every goAML FIU portal's schema was written for; XSD 1.0). Collects the
 * validator's messages as "line N: element 'x': why" so a rejected draft says what to fix.
 * The schema is the one report.schema names: vigil ships none of its own. */
#include "vigil/goaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

struct vg_goaml_validator {
    xmlSchemaPtr schema;
    xmlSchemaValidCtxtPtr ctxt;
    xmlDocPtr xsd;                   /* the schema as a document, for vg_goaml_validator_declares */
};

/* Messages collected by the structured error handler. */
struct messages {
    char *text;
    size_t len, cap;
    unsigned count;
};

static void add_message(void *opaque, xmlErrorPtr err) {
    struct messages *m = opaque;
    if (!err || m->count >= 200) return;
    char line[1024];
    const char *element = err->node && ((xmlNodePtr)err->node)->name ? (const char *)((xmlNodePtr)err->node)->name : "";
    int n = snprintf(line, sizeof line, "line %d: element '%s': %s", err->line, element, err->message ? err->message : "?");
    if (n < 0) return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ' ')) len--; /* libxml2 ends with '\n' */
    if (m->len + len + 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        while (cap < m->len + len + 2) cap *= 2;
        char *t = realloc(m->text, cap);
        if (!t) return;
        m->text = t;
        m->cap = cap;
    }
    memcpy(m->text + m->len, line, len);
    m->len += len;
    m->text[m->len++] = '\n';
    m->text[m->len] = '\0';
    m->count++;
}

/* libxml2's generic error channel (stderr by default): silenced, the structured handler
 * collects what matters. */
static void quiet(void *ctx, const char *msg, ...) {
    (void)ctx;
    (void)msg;
}

int vg_goaml_validator_create(struct vg_goaml_validator **out, const char *xsd_path, char *errstr,
                              size_t errstr_size) {
    struct messages m = {0};
    struct vg_goaml_validator *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(errstr, errstr_size, "out of memory");
        return VG_ERR_NOMEM;
    }
    xmlSetGenericErrorFunc(NULL, quiet);
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd_path);
    if (pc) {
        xmlSchemaSetParserStructuredErrors(pc, add_message, &m);
        v->schema = xmlSchemaParse(pc);
        xmlSchemaFreeParserCtxt(pc);
    }
    if (v->schema) v->ctxt = xmlSchemaNewValidCtxt(v->schema);
    if (!v->ctxt) {
        snprintf(errstr, errstr_size, "%s: not a usable XML schema%s%s", xsd_path, m.text ? ": " : "",
                 m.text ? m.text : "");
        size_t n = strlen(errstr);
        while (n > 0 && errstr[n - 1] == '\n') errstr[--n] = '\0';
        free(m.text);
        vg_goaml_validator_destroy(v);
        return VG_ERR_INVALID;
    }
    free(m.text);
    v->xsd = xmlReadFile(xsd_path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    *out = v;
    return VG_OK;
}

static bool declares(xmlNodePtr n, const char *element) {
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        if (strcmp((const char *)n->name, "element") == 0) {
            xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
            bool hit = name && strcmp((const char *)name, element) == 0;
            xmlFree(name);
            if (hit) return true;
        }
        if (declares(n->children, element)) return true;
    }
    return false;
}

bool vg_goaml_validator_declares(const struct vg_goaml_validator *v, const char *element) {
    return v->xsd && declares(xmlDocGetRootElement(v->xsd), element);
}

void vg_goaml_validator_destroy(struct vg_goaml_validator *v) {
    if (!v) return;
    if (v->ctxt) xmlSchemaFreeValidCtxt(v->ctxt);
    if (v->schema) xmlSchemaFree(v->schema);
    if (v->xsd) xmlFreeDoc(v->xsd);
    free(v);
}

int vg_goaml_validate(struct vg_goaml_validator *v, const char *xml, size_t len, char **messages) {
    struct messages m = {0};
    *messages = NULL;
    /* no network, no entity expansion, no DTD loading: the draft is ours, the habit is cheap */
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, "draft.xml", "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                                          XML_PARSE_NOWARNING);
    if (!doc) {
        xmlErrorPtr e = xmlGetLastError();
        add_message(&m, e);
        if (!m.text) add_message(&m, &(xmlError){.message = (char *)"not well-formed XML"});
        *messages = m.text;
        return VG_ERR_INVALID;
    }
    xmlSchemaSetValidStructuredErrors(v->ctxt, add_message, &m);
    int rc = xmlSchemaValidateDoc(v->ctxt, doc);
    xmlFreeDoc(doc);
    if (rc == 0) {
        free(m.text);
        return VG_OK;
    }
    if (!m.text) add_message(&m, &(xmlError){.message = (char *)"the schema refused the document"});
    *messages = m.text;
    return VG_ERR_INVALID;
}
