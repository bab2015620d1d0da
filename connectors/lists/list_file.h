/* list_file.h - internal helpers of the list loaders (connectors/lists/). */
#ifndef VIGIL_LIST_FILE_H
#define VIGIL_LIST_FILE_H

#include <stddef.h>

/* Writes "PATH:LINE: why" into errstr. Returns VG_ERR_INVALID, for `return vg_list_fail(...)`. */
int vg_list_fail(char *errstr, size_t errstr_size, const char *path, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Reads a whole file, NUL-terminated (caller frees *data). Returns VG_OK, VG_ERR_IO or
 * VG_ERR_NOMEM with errstr "PATH:0: why". */
int vg_list_read_file(const char *path, char **data, size_t *len, char *errstr, size_t errstr_size);

#endif
