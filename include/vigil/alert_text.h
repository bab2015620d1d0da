/* alert_text.h - alerts for people: one readable line per alert (time, severity, rule,
 * account, the rule's figures with units) made from the contract's NDJSON line, and the
 * choice between it and NDJSON where alerts are printed (--output-format text|json). */
#ifndef VIGIL_ALERT_TEXT_H
#define VIGIL_ALERT_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* How printed alerts look. Files, pipes and Kafka get NDJSON; a terminal gets text. */
enum vg_alert_print { VG_PRINT_NONE = 0, VG_PRINT_JSON = 1, VG_PRINT_TEXT = 2 };

/* Renders the alert NDJSON line `json` (as vg_alert_render writes it) as one text line
 * ending in '\n'; money is in `base_currency`. Returns the length, or 0 when cap is too
 * small or json is not an alert line. */
size_t vg_alert_text(const char *json, size_t len, const char *base_currency, char *out, size_t cap);

/* Writes one alert to f in `mode` (text falls back to the JSON line if it cannot be
 * rendered). Returns 0, or -1 when the write failed. */
int vg_alert_print(FILE *f, const char *json, size_t len, enum vg_alert_print mode, const char *base_currency);

#endif
