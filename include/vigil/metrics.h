/* metrics.h - the operations HTTP endpoint (contract section 7): GET /metrics in the
 * Prometheus text format 0.0.4 and GET /healthz, served by libmicrohttpd's own polling
 * thread. It only reads struct vg_daemon and the engine's summed counters per scrape. */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vg_daemon;
struct vg_engine_stats;

/* Opaque handle of a running metrics server. */
typedef struct vg_metrics vg_metrics_t;

/* Binds listen and starts serving. listen is metrics.listen, "HOST:PORT":
 * "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464", "localhost:9464", or ":9464" for every
 * IPv4 and IPv6 interface; port 0 asks for an ephemeral port (see vg_metrics_port).
 * d must outlive the server; the server reads d->engine, d->consuming, d->lag[],
 * d->lag_partitions and d->input_topic, nothing else.
 *
 * Engine lifetime: a scrape loads d->engine and calls vg_engine_stats on it. The engine's
 * owner stores NULL in d->engine before vg_engine_stop; a scrape that loaded the pointer
 * just before still runs vg_engine_stats (microseconds), so stop must not free the engine
 * under it. Until struct vg_daemon carries a reader count for this, stop the metrics
 * server before the engine when both end together.
 *
 * Returns VG_OK with *out set, VG_ERR_INVALID (bad listen address), VG_ERR_NOMEM, or
 * VG_ERR_IO (bind or thread start failed), with errstr saying why. */
int vg_metrics_start(vg_metrics_t **out, const char *listen, struct vg_daemon *d,
                     char *errstr, size_t errstr_size);

/* Another binary's counters on the same server (vigil-goaml): render returns a malloc'd
 * Prometheus exposition (NULL when out of memory) and healthy says what /healthz answers
 * (true: 200; *text, when set, the body). Both run on the server's thread. */
struct vg_metrics_source {
    char *(*render)(void *opaque, size_t *len_out);
    bool (*healthy)(void *opaque, const char **text);
    void *opaque;
};

/* As vg_metrics_start, serving src instead of a daemon's figures; src is copied, its opaque
 * must outlive the server. Same returns. */
int vg_metrics_start_source(vg_metrics_t **out, const char *listen, const struct vg_metrics_source *src,
                            char *errstr, size_t errstr_size);

/* The port actually bound (the ephemeral one when listen asked for port 0). */
uint16_t vg_metrics_port(const vg_metrics_t *m);

/* Stops the server thread, closes the socket and frees m. NULL is a no-op. */
void vg_metrics_stop(vg_metrics_t *m);

/* Renders the whole exposition for stats (NULL = engine not running: every counter 0)
 * and the daemon's lag into a malloc'd NUL-terminated buffer. Returns NULL only when out
 * of memory. Exposed for tests and for a one-shot dump; the server calls it per scrape. */
char *vg_metrics_render(const struct vg_daemon *d, const struct vg_engine_stats *stats,
                        size_t *len_out);

#endif
