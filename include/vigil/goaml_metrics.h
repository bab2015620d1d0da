/* goaml_metrics.h - vigil-goaml's operations endpoint (report.metrics_listen): GET /metrics
 * with the drafter's counters (and the alerts topic's consumer lag with --kafka), GET
 * /healthz, on the daemon's libmicrohttpd server (connectors/http/metrics.c).
 * connectors/goaml/goaml_metrics.c. */
#ifndef VIGIL_GOAML_METRICS_H
#define VIGIL_GOAML_METRICS_H

#include "vigil/goaml.h"
#include "vigil/goaml_kafka.h"
#include "vigil/metrics.h"

/* What a scrape reads; must outlive the server. kafka NULL: not consuming a topic. */
struct vg_goaml_metrics_ctx {
    const struct vg_goaml_drafter *drafter;
    struct vg_goaml_kafka *kafka;
    const char *topic;               /* the alerts topic (output.topic), for the lag's label */
};

/* The exposition (Prometheus text 0.0.4), malloc'd; NULL only when out of memory. */
char *vg_goaml_metrics_render(const struct vg_goaml_metrics_ctx *ctx, size_t *len_out);

/* Serves ctx on listen (HOST:PORT, as metrics.listen). Same returns as vg_metrics_start. */
int vg_goaml_metrics_start(vg_metrics_t **out, const char *listen, const struct vg_goaml_metrics_ctx *ctx,
                           char *errstr, size_t errstr_size);

#endif
