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

/* An RFC 4180 CSV reader over a buffer read whole (opensanctions_csv.c, the goAML client
 * CSV). line: the 1-based line of p. */
struct vg_csv {
    char *p, *end;
    size_t line;
};

/* Reads one record's fields in place (quotes removed, "" unescaped; fields are not
 * NUL-terminated: use flen). At most max_fields are stored; the count returned may be more.
 * Returns the field count, 0 at end of input, -1 on a quote error. */
int vg_csv_record(struct vg_csv *c, char **field, size_t *flen, int max_fields);

#endif
