/* emit.h - a stage's alert output (struct vg_alert_out): the (rule, account) cooldown in
 * event time, severity from config, then hand-off to a delivery callback (the shard's
 * ring, or a test's collector). One vg_alert_out per stage thread; not thread-safe. */
#ifndef VIGIL_EMIT_H
#define VIGIL_EMIT_H

#include "vigil/alert.h"
#include "vigil/config.h"

/* Receives every alert that passed the cooldown. `a` is only valid during the call. */
typedef void (*vg_alert_deliver_fn)(void *opaque, const struct vg_alert *a, enum vg_severity severity);

/* Returns NULL on allocation failure. */
struct vg_alert_out *vg_alert_out_create(const struct vg_config *cfg, vg_alert_deliver_fn deliver,
                                         void *opaque);
void vg_alert_out_destroy(struct vg_alert_out *out);
/* Switches to a reloaded config (cooldowns are kept). */
void vg_alert_out_set_config(struct vg_alert_out *out, const struct vg_config *cfg);

/* True when (rule, account) alerted less than alerts.cooldown of event time before ts:
 * stages skip the rule's work entirely then. */
bool vg_alert_out_cooling(const struct vg_alert_out *out, enum vg_rule_id rule, const char *account,
                          size_t account_len, int64_t ts_ms);

/* Bit r set when rule r is cooling for the account at ts (one probe for all rules).
 * account_hash: vg_hash64_id of the account (the caller has it already). */
uint32_t vg_alert_out_cooling_mask(const struct vg_alert_out *out, const char *account, size_t account_len,
                                   uint64_t account_hash, int64_t ts_ms);
/* Cache hint for an upcoming vg_alert_out_cooling_mask of the same account. */
void vg_alert_out_prefetch(const struct vg_alert_out *out, uint64_t account_hash);

/* Counters of this output. */
uint64_t vg_alert_out_emitted(const struct vg_alert_out *out, enum vg_rule_id rule);
uint64_t vg_alert_out_suppressed(const struct vg_alert_out *out, enum vg_rule_id rule);

#endif
