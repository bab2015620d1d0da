/* daemon.c - applying a SIGHUP reload: load the config file again, swap it into the
 * running engine at a batch boundary, free the old one. A broken file changes nothing. */
#include "vigil/daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/config_diff.h"
#include "vigil/log.h"
#include "vigil/notify.h"

static void apply_reload(struct vg_daemon *d);

/* Keys a reload cannot apply to a running daemon (its input, outputs and threads are set
 * up at start): a change is logged, so that an operator knows it waits for a restart. */
static void warn_restart_keys(const struct vg_config *old, const struct vg_config *fresh) {
    char keys[512] = "";
#define VG_CHANGED(name, differs)                                                           \
    if (differs) snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", keys[0] ? "," : "", name)
    VG_CHANGED("input.kind", old->input.kind != fresh->input.kind);
    VG_CHANGED("input.topic", strcmp(old->input.topic, fresh->input.topic) != 0);
    VG_CHANGED("input.group", strcmp(old->input.group, fresh->input.group) != 0);
    VG_CHANGED("input.instance_id", strcmp(old->input.instance_id, fresh->input.instance_id) != 0);
    VG_CHANGED("output.topic", strcmp(old->output.topic, fresh->output.topic) != 0);
    VG_CHANGED("output.exactly_once", old->output.exactly_once != fresh->output.exactly_once);
    VG_CHANGED("dead_letter.topic", strcmp(old->dead_letter.topic, fresh->dead_letter.topic) != 0);
    VG_CHANGED("kafka.brokers", strcmp(old->kafka.brokers, fresh->kafka.brokers) != 0);
    bool props = old->kafka.property_count != fresh->kafka.property_count;
    for (size_t i = 0; !props && i < old->kafka.property_count; i++)
        props = strcmp(old->kafka.properties[i].key, fresh->kafka.properties[i].key) != 0 ||
                strcmp(old->kafka.properties[i].value, fresh->kafka.properties[i].value) != 0;
    VG_CHANGED("kafka.properties", props);
    VG_CHANGED("engine.threads", old->engine.threads != fresh->engine.threads);
    VG_CHANGED("engine.ring_size", old->engine.ring_size != fresh->engine.ring_size);
    VG_CHANGED("engine.shutdown_timeout", old->engine.shutdown_timeout_ms != fresh->engine.shutdown_timeout_ms);
    VG_CHANGED("metrics.listen", strcmp(old->metrics.listen, fresh->metrics.listen) != 0);
    VG_CHANGED("state.dir", strcmp(old->state.dir, fresh->state.dir) != 0);
    VG_CHANGED("state.topic", strcmp(old->state.topic, fresh->state.topic) != 0);
    VG_CHANGED("input.repartition_topic", strcmp(old->input.repartition_topic, fresh->input.repartition_topic) != 0);
    VG_CHANGED("input.repartition_partitions", old->input.repartition_partitions != fresh->input.repartition_partitions);
    VG_CHANGED("input.repartition_group", strcmp(old->input.repartition_group, fresh->input.repartition_group) != 0);
#undef VG_CHANGED
    if (keys[0])
        vg_warn("reload_needs_restart", "keys=%s msg=\"changed, but applied only at the next start\"", keys);
}

void vg_daemon_apply_reload(struct vg_daemon *d) {
    apply_reload(d);
    vg_notify_reloaded(); /* ends the RELOADING=1 the signal thread sent, kept config or not */
}

static void apply_reload(struct vg_daemon *d) {
    atomic_store(&d->reload_requested, false);
    if (d->cfg->path[0] == '\0') {
        vg_warn("reload_skipped", "msg=\"no config file (built-in defaults); nothing to reload\"");
        return;
    }
    char err[4096];
    struct vg_config *fresh = calloc(1, sizeof *fresh);
    if (!fresh) {
        vg_error("reload_failed", "msg=\"out of memory\"; keeping the old config");
        return;
    }
    if (vg_config_load(fresh, d->cfg->path, err, sizeof err) != VG_OK) {
        for (char *c = err; *c; c++) /* one log line: the errors separated by " | " */
            if (*c == '\n') *c = '|';
        vg_error("reload_failed", "error=\"%s\" msg=\"keeping the old config\"", err);
        free(fresh);
        return;
    }
    struct vg_config *old = d->cfg;
    vg_config_apply_env(fresh);
    warn_restart_keys(old, fresh);
    vg_config_log_changes(old, fresh);
    struct vg_engine *engine = atomic_load(&d->engine);
    if (engine) vg_engine_reload(engine, fresh);
    d->cfg = fresh;
    vg_log_set_level(fresh->log.level);
    vg_config_free(old);
    free(old);
    vg_info("reloaded", "config=%s", fresh->path);
}

struct vg_engine *vg_daemon_engine_acquire(struct vg_daemon *d) {
    atomic_fetch_add(&d->engine_readers, 1); /* seq_cst: pairs with the store in detach */
    struct vg_engine *e = atomic_load(&d->engine);
    if (!e) atomic_fetch_sub(&d->engine_readers, 1);
    return e;
}

void vg_daemon_engine_release(struct vg_daemon *d) { atomic_fetch_sub(&d->engine_readers, 1); }

void vg_daemon_detach_engine(struct vg_daemon *d) {
    struct vg_engine *e = atomic_load(&d->engine);
    if (!e) return;
    vg_engine_stats(e, &d->final_stats);
    atomic_store(&d->have_final_stats, true);
    vg_info("engine_stopped", "transactions=%llu out_of_order=%llu late=%llu future=%llu",
            (unsigned long long)d->final_stats.transactions, (unsigned long long)d->final_stats.out_of_order,
            (unsigned long long)d->final_stats.late, (unsigned long long)d->final_stats.future);
    atomic_store(&d->engine, NULL); /* seq_cst: pairs with the increment in acquire */
    while (atomic_load(&d->engine_readers) > 0) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}
