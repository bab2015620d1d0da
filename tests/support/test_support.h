/* test_support.h - small helpers shared by the Criterion unit tests: temp files, reading
 * a file whole, and running the engine on an in-memory list of transactions. */
#ifndef VIGIL_TEST_SUPPORT_H
#define VIGIL_TEST_SUPPORT_H

#include <stddef.h>

/* Writes data to a fresh temp file; returns its malloc'd path (caller unlinks/frees). */
char *vg_test_write_temp(const char *data, size_t len, const char *suffix);
/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL on failure. */
char *vg_test_read_file(const char *path, size_t *len_out);

/* Alerts collected from an engine run: raw NDJSON alert lines (no trailing newline). */
struct vg_test_alerts {
    size_t count;
    char **lines;
};

/* Runs NDJSON transactions (one per line; unparseable lines are skipped with a message)
 * through a full engine with the YAML config text (NULL = built-in defaults) and `threads`
 * shard threads (0 = 1). Returns 0 or the error code of config/engine start. */
int vg_test_replay(const char *yaml, const char *ndjson, int threads, struct vg_test_alerts *out);
/* Alerts of `rule` about `account` (NULL = any account). */
size_t vg_test_count(const struct vg_test_alerts *a, const char *rule, const char *account);
void vg_test_alerts_free(struct vg_test_alerts *a);

#endif
