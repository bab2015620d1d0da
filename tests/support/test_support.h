/* test_support.h - small helpers shared by the Criterion unit tests: temp files, reading
 * a file whole, and running the engine on an in-memory list of transactions. */
#ifndef VIGIL_TEST_SUPPORT_H
#define VIGIL_TEST_SUPPORT_H

#include <stddef.h>

/* Writes data to a fresh temp file; returns its malloc'd path (caller unlinks/frees). */
char *vg_test_write_temp(const char *data, size_t len, const char *suffix);
/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL on failure. */
char *vg_test_read_file(const char *path, size_t *len_out);

#endif
