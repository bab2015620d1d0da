/* graph.h - the graph stage: a temporal graph of recent transfers (those large enough for
 * any graph rule, within the longest graph window) and the rules that walk it (cycle,
 * scatter_gather). It runs on its own thread and sees every transaction in input order, so
 * its results do not depend on the number of shards. */
#ifndef VIGIL_GRAPH_H
#define VIGIL_GRAPH_H

#include "vigil/common.h"
#include "vigil/txn.h"
#include "vigil/config.h"

struct vg_graph;
struct vg_alert_out;

struct vg_graph_stats {
    uint64_t edges;              /* live edges */
    uint64_t nodes;              /* live nodes */
    uint64_t edges_added;        /* total kept */
    uint64_t searches;           /* rule searches run */
    uint64_t budget_cut;         /* searches stopped by engine.graph_budget */
    uint64_t bytes;              /* memory held */
    uint64_t dropped;            /* transfers not kept because memory ran out (never silent) */
    uint64_t evicted;            /* edges expired early because the edge ring could not grow */
    uint64_t future_dropped;     /* far-future edges dropped because they blocked expiry */
};

/* Creates an empty graph sized from cfg. Returns VG_OK or VG_ERR_NOMEM. */
int vg_graph_create(struct vg_graph **out, const struct vg_config *cfg);
void vg_graph_destroy(struct vg_graph *g);

/* Feeds one transaction (any amount; the graph keeps only what its rules can use), runs
 * the enabled graph rules on it and expires edges older than the longest graph window plus
 * the allowed lateness before newest_ms (the stream's trusted newest event time; a txn
 * beyond it is a far-future record, vigil/time_guard.h). cfg may differ from call to call
 * after a reload. Alerts go through vg_alert_emit(out, ...). */
void vg_graph_on_txn(struct vg_graph *g, const struct vg_config *cfg, const struct vg_txn *txn,
                     int64_t newest_ms, struct vg_alert_out *out);

void vg_graph_stats(const struct vg_graph *g, struct vg_graph_stats *out);

#endif
