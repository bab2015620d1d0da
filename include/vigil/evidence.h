/* evidence.h - alerts.evidence: full: each transaction rendered once as the JSON object an
 * alert's `evidence` array holds (contract section 4), and a stage's store of those objects
 * for the transactions still in its windows, looked up by transaction id when an alert is
 * rendered. Not used at all with the default `evidence: ids`. One store per stage thread. */
#ifndef VIGIL_EVIDENCE_H
#define VIGIL_EVIDENCE_H

#include "vigil/common.h"
#include "vigil/txn.h"

/* Longest evidence object; a record whose object would be longer drops channel, countries
 * and banks, then names, and at worst (ids of control bytes, escaped 6 bytes each) keeps
 * its id alone. */
#define VG_EVIDENCE_JSON_MAX 2048

/* Renders txn as {"id","ts","from","to","amount","currency","amount_base","channel",
 * "from_country","to_country","from_bank","to_bank","from_name","to_name"} — fields as sent, optional ones only
 * when sent; amount/currency only when the reader kept them (txn->keep_sent); amount_base is
 * the base-currency decimal string. base: currency.base. Returns the length (never 0 for
 * cap >= VG_EVIDENCE_JSON_MAX), or 0 when cap is too small. */
size_t vg_evidence_render(const struct vg_txn *txn, const char *base, char *buf, size_t cap);

struct vg_evidence_store;

/* horizon_ms: how long (in the stream's event time) a record stays after it arrived.
 * Returns VG_OK or VG_ERR_NOMEM. */
int vg_evidence_store_create(struct vg_evidence_store **out, int64_t horizon_ms);
void vg_evidence_store_destroy(struct vg_evidence_store *s);

/* Keeps the object json of transaction (id, seq) between the accounts of from_hash and
 * to_hash (vg_hash64_id: a checkpoint re-routes the record by them), which arrived when the stream's newest
 * event time was newest_ms, and drops records that arrived before watermark_ms - horizon.
 * The same (id, seq) twice (both sides of a transfer in one shard) is kept once; a newer
 * record with an id already kept takes its place in lookups. Returns VG_OK or VG_ERR_NOMEM
 * (the record is then not kept; alerts show its id alone). */
int vg_evidence_store_put(struct vg_evidence_store *s, const char *id, size_t id_len, uint64_t seq,
                          uint64_t from_hash, uint64_t to_hash, int64_t newest_ms, int64_t watermark_ms,
                          const char *json, size_t json_len);

/* The kept object of transaction id; false when none (expired or never seen). */
bool vg_evidence_store_find(const struct vg_evidence_store *s, const char *id, size_t id_len, struct vg_str *json);

/* A kept record as a checkpoint saves it. */
struct vg_evidence_rec {
    struct vg_str id, json;
    uint64_t seq;
    int64_t newest_ms;
    uint64_t from_hash, to_hash;
};

/* Visits the records a lookup can still return, oldest arrival first (checkpoints). */
void vg_evidence_store_foreach(const struct vg_evidence_store *s,
                               void (*fn)(void *opaque, const struct vg_evidence_rec *rec), void *opaque);

/* Records and bytes held (stats, tests). */
void vg_evidence_store_usage(const struct vg_evidence_store *s, uint64_t *records, uint64_t *bytes);

#endif
