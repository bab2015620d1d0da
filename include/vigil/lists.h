/* lists.h - sanctions list files read into a struct vg_screen_list (connectors/lists/, one
 * format per file): the UN Security Council consolidated list XML, OpenSanctions'
 * targets.simple.csv, and vigil's TSV for national and internal lists (docs/SCREENING.md). */
#ifndef VIGIL_LISTS_H
#define VIGIL_LISTS_H

#include "vigil/screen.h"

enum vg_list_format { VG_LIST_UN_XML = 0, VG_LIST_OPENSANCTIONS_CSV, VG_LIST_TSV, VG_LIST_FORMAT_MAX };

/* "un-xml", "opensanctions-csv", "tsv". */
const char *vg_list_format_name(enum vg_list_format format);
/* Returns the format, or -1 for an unknown name. */
int vg_list_format_parse(const char *name, size_t len);

/* Each loads path into a finished list named `name`, with the file's version (the UN's
 * dateGenerated, else a hash of the bytes). Returns VG_OK with *out set, or VG_ERR_IO /
 * VG_ERR_INVALID / VG_ERR_NOMEM with errstr "PATH:LINE: why". */
int vg_list_load_un_xml(const char *path, const char *name, struct vg_screen_list **out, char *errstr,
                        size_t errstr_size);
int vg_list_load_opensanctions_csv(const char *path, const char *name, struct vg_screen_list **out,
                                   char *errstr, size_t errstr_size);
int vg_list_load_tsv(const char *path, const char *name, struct vg_screen_list **out, char *errstr,
                     size_t errstr_size);

/* Dispatches on format. Same contract as the loaders. */
int vg_list_load(enum vg_list_format format, const char *path, const char *name, struct vg_screen_list **out,
                 char *errstr, size_t errstr_size);

/* Shared by the text loaders: "YYYY-MM-DD", "YYYY-MM", "YYYY" → a YYYYMMDD range.
 * Returns VG_OK or VG_ERR_INVALID. */
int vg_list_parse_date_range(const char *s, size_t len, int32_t *from, int32_t *to);
/* Version of a text list: hex XXH3-64 of its bytes (17 bytes with the NUL). */
void vg_list_hash_version(const char *data, size_t len, char out[17]);

#endif
