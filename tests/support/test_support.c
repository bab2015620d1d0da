/* test_support.c - helpers shared by the unit tests (see test_support.h). */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/config.h"
#include "vigil/engine.h"
#include "vigil/ingest.h"

char *vg_test_write_temp(const char *data, size_t len, const char *suffix) {
    char templ[256];
    snprintf(templ, sizeof templ, "/tmp/vigil-test-XXXXXX%s", suffix ? suffix : "");
    int fd = mkstemps(templ, suffix ? (int)strlen(suffix) : 0);
    if (fd < 0) return NULL;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n <= 0) { close(fd); return NULL; }
        off += (size_t)n;
    }
    close(fd);
    return strdup(templ);
}

char *vg_test_read_file(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) { free(buf); buf = NULL; break; }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[len] = '\0';
    if (len_out) *len_out = len;
    return buf;
}

static int collect_alert(void *opaque, const struct vg_alert_record *r) {
    struct vg_test_alerts *a = opaque;
    char **lines = realloc(a->lines, (a->count + 1) * sizeof *lines);
    if (!lines) return -1;
    a->lines = lines;
    size_t len = r->json_len && r->json[r->json_len - 1] == '\n' ? r->json_len - 1 : r->json_len;
    a->lines[a->count++] = strndup(r->json, len);
    return 0;
}

int vg_test_replay(const char *yaml, const char *ndjson, int threads, struct vg_test_alerts *out) {
    char err[512];
    struct vg_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return -1;
    int rc = yaml ? vg_config_load_buffer(cfg, "test.yaml", yaml, strlen(yaml), err, sizeof err)
                  : vg_config_defaults(cfg);
    if (rc) {
        fprintf(stderr, "config: %s\n", err);
        free(cfg);
        return rc;
    }
    cfg->engine.threads = threads > 0 ? threads : 1;
    memset(out, 0, sizeof *out);
    struct vg_alert_sink sink = {.opaque = out, .on_alert = collect_alert};
    struct vg_engine *e;
    if ((rc = vg_engine_start(&e, cfg, &sink, err, sizeof err)) != 0) {
        fprintf(stderr, "engine: %s\n", err);
        vg_config_free(cfg);
        free(cfg);
        return rc;
    }
    uint64_t seq = 0;
    for (const char *p = ndjson; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        struct vg_txn t;
        struct vg_parse_error pe;
        memset(&t, 0, sizeof t);
        bool keep_sent = cfg->alerts.evidence == VG_EVIDENCE_FULL; /* as the readers do */
        if (len > 0 && vg_ndjson_parse_sent(p, len, &cfg->currency, keep_sent, &t, &pe) == VG_OK) {
            t.seq = seq++;
            vg_engine_submit(e, &t, 0);
        } else if (len > 0) {
            fprintf(stderr, "test replay: skipped record: %s\n", pe.detail);
        }
        p += len + (nl ? 1 : 0);
    }
    rc = vg_engine_stop(e);
    vg_config_free(cfg);
    free(cfg);
    return rc;
}

size_t vg_test_count(const struct vg_test_alerts *a, const char *rule, const char *account) {
    char rk[96], ak[160];
    size_t n = 0;
    snprintf(rk, sizeof rk, "\"rule\":\"%s\"", rule);
    snprintf(ak, sizeof ak, "\"account\":\"%s\"", account ? account : "");
    for (size_t i = 0; i < a->count; i++)
        if (strstr(a->lines[i], rk) && (!account || strstr(a->lines[i], ak))) n++;
    return n;
}

void vg_test_alerts_free(struct vg_test_alerts *a) {
    for (size_t i = 0; i < a->count; i++) free(a->lines[i]);
    free(a->lines);
    a->lines = NULL;
    a->count = 0;
}
