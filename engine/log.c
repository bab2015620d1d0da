/* log.c - key=value line logger on stderr (see log.h). The level is a relaxed atomic so
 * SIGHUP reloads can change it while workers log. */
#include "vigil/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = VG_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void vg_log_set_level(enum vg_log_level level) {
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

enum vg_log_level vg_log_get_level(void) {
    return (enum vg_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

int vg_log_level_parse(const char *text, enum vg_log_level *out) {
    for (size_t i = 0; i < VG_ARRAY_LEN(level_names); i++) {
        if (strcmp(text, level_names[i]) == 0) {
            *out = (enum vg_log_level)i;
            return VG_OK;
        }
    }
    return VG_ERR_INVALID;
}

void vg_log(enum vg_log_level level, const char *event, const char *fmt, ...) {
    if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed)) return;
    char line[2048];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     now.tv_nsec / 1000000, level_names[level], event);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : VG_MIN((size_t)m, sizeof line - (size_t)n - 2));
    while (len > 0 && line[len - 1] == ' ') len--;
    line[len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}
