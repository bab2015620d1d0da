/* log.h - one line per event on stderr in a stable key=value shape that journald and log
 * shippers parse: `ts=2026-11-25T04:45:46.123Z level=info event=start msg="..." k=v`.
 * Level-filtered; safe from any thread (one write(2) per line). */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include "vigil/config.h"

/* Sets the minimum level printed (default info). */
void vg_log_set_level(enum vg_log_level level);
enum vg_log_level vg_log_get_level(void);
/* Parses "error|warn|info|debug"; returns VG_OK or VG_ERR_INVALID. */
int vg_log_level_parse(const char *text, enum vg_log_level *out);

/* Logs one event. `event` is a short snake_case word; fmt renders the rest of the line as
 * key=value pairs (values with spaces must be quoted by the caller, use %s with vg_log_q). */
void vg_log(enum vg_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define vg_error(event, ...) vg_log(VG_LOG_ERROR, event, __VA_ARGS__)
#define vg_warn(event, ...) vg_log(VG_LOG_WARN, event, __VA_ARGS__)
#define vg_info(event, ...) vg_log(VG_LOG_INFO, event, __VA_ARGS__)
#define vg_debug(event, ...) vg_log(VG_LOG_DEBUG, event, __VA_ARGS__)

#endif
