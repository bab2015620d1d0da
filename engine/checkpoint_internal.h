/* checkpoint_internal.h - the hooks checkpoint.c uses to read and refill stage state: event
 * and cooldown iteration/restore (account_store.c, emit.c, graph.c) and the engine's stages
 * (engine.c). Not a public API: only engine/checkpoint.c and tests include it. */
#ifndef VIGIL_CHECKPOINT_INTERNAL_H
#define VIGIL_CHECKPOINT_INTERNAL_H

#include "account_store.h"
#include "shard.h"
#include "vigil/emit.h"
#include "vigil/evidence.h"
#include "vigil/engine.h"
#include "vigil/graph.h"

/* ---- account_store.c ---- */

/* Visits the live events of the store (those in some view: not older than the horizon),
 * account by account, each account's in (ts, seq) order. Can't fail. */
void vg_store_foreach_event(struct vg_store *s, void (*fn)(void *opaque, const struct vg_store_event *ev),
                            void *opaque);
/* Creates an account with its saved first/last seen and activity (no events yet).
 * Returns its index or UINT32_MAX when out of memory. */
uint32_t vg_store_restore_account(struct vg_store *s, const char *id, size_t len, int64_t first_seen_ms,
                                  int64_t last_seen_ms, const struct vg_activity *activity);
/* Appends one saved event to `account` (newest arrival), without touching first/last
 * seen or activity. Events must come in arrival order. Returns VG_OK or VG_ERR_NOMEM. */
int vg_store_restore_event(struct vg_store *s, uint32_t account, int64_t ts_ms, int64_t amount_micros,
                           int64_t newest_at_ms, uint64_t seq, uint64_t counterparty_hash, uint8_t dir,
                           const char *counterparty, uint8_t counterparty_len, const char *tx_id,
                           uint8_t tx_id_len);

/* ---- emit.c ---- */

/* A cooldown record's rule byte with this bit set is the (rule, account)'s last late alert
 * rather than its newest alert. */
#define VG_COOLDOWN_LATE 0x80

/* Visits every cooldown entry (rule, account, event time of its newest alert), and of its
 * last late alert (rule | VG_COOLDOWN_LATE). */
void vg_alert_out_foreach_cooldown(const struct vg_alert_out *out,
                                   void (*fn)(void *opaque, uint8_t rule, const char *account,
                                              size_t len, int64_t last_alert_ts),
                                   void *opaque);
/* Inserts (or raises) one cooldown entry. Returns VG_OK or VG_ERR_NOMEM. */
int vg_alert_out_restore_cooldown(struct vg_alert_out *out, uint8_t rule, const char *account, size_t len,
                                  int64_t last_alert_ts);

/* Visits every (rule, account, discriminator) cooldown of the own_cooldown rules
 * (sanctions): its newest alert and last late alert (VG_TS_NONE when none). */
void vg_alert_out_foreach_keyed_cooldown(const struct vg_alert_out *out,
                                         void (*fn)(void *opaque, uint8_t rule, const char *account, size_t len,
                                                    const char *disc, size_t disc_len, int64_t last_alert_ts,
                                                    int64_t late_alert_ts),
                                         void *opaque);
/* Inserts (or raises) one such cooldown. Returns VG_OK, VG_ERR_INVALID or VG_ERR_NOMEM. */
int vg_alert_out_restore_keyed_cooldown(struct vg_alert_out *out, uint8_t rule, const char *account, size_t len,
                                        const char *disc, size_t disc_len, int64_t last_alert_ts,
                                        int64_t late_alert_ts);

/* ---- graph.c ---- */

/* A graph edge as saved: plain values, no node indices. */
struct vg_graph_edge_rec {
    int64_t ts_ms;
    int64_t amount_micros;
    uint64_t seq;
    struct vg_str from, to, tx_id;
};

/* Visits the live edges oldest first with their endpoints' ids and tx id. */
void vg_graph_foreach_edge(const struct vg_graph *g,
                           void (*fn)(void *opaque, const struct vg_graph_edge_rec *edge), void *opaque);
/* Appends one saved edge (in arrival order). Returns VG_OK or VG_ERR_NOMEM. */
int vg_graph_restore_edge(struct vg_graph *g, const struct vg_graph_edge_rec *edge);

/* ---- engine.c ---- */

/* An engine whose stages exist but whose threads do not run yet: checkpoint.c fills the
 * stages, then vg_engine_launch starts them. Returns VG_OK or an error with errstr. */
int vg_engine_create_idle(struct vg_engine **out, const struct vg_config *cfg, const struct vg_alert_sink *sink,
                          char *errstr, size_t errstr_size);
/* Sets where the restored stream continues (before launch). */
void vg_engine_set_position(struct vg_engine *e, uint64_t next_seq, int64_t newest_ms);
/* Starts the threads of an idle engine. Can't fail. */
void vg_engine_launch(struct vg_engine *e);
/* Frees an idle (never launched) engine. */
void vg_engine_discard_idle(struct vg_engine *e);

/* Stage access. Only while the stages are quiescent: before launch, or right after
 * vg_engine_drain on the input thread. */
int vg_engine_shard_count(const struct vg_engine *e);
struct vg_store *vg_engine_shard_store(struct vg_engine *e, int shard);
struct vg_alert_out *vg_engine_stage_alerts(struct vg_engine *e, int shard); /* -1: graph stage */
struct vg_graph *vg_engine_graph(struct vg_engine *e);
/* The stage's evidence store (alerts.evidence: full), or NULL. -1: the graph stage. */
struct vg_evidence_store *vg_engine_stage_evidence(struct vg_engine *e, int shard);
int64_t vg_engine_newest_ms(const struct vg_engine *e);

#endif
