/* daemon.c - applying a SIGHUP reload: load the config file again, swap it into the
 * running engine at a batch boundary, free the old one. A broken file changes nothing. */
#include "vigil/daemon.h"

#include <stdlib.h>
#include <time.h>

#include "vigil/log.h"
#include "vigil/notify.h"

static void apply_reload(struct vg_daemon *d);

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
    char err[1024];
    struct vg_config *fresh = calloc(1, sizeof *fresh);
    if (!fresh) {
        vg_error("reload_failed", "msg=\"out of memory\"; keeping the old config");
        return;
    }
    if (vg_config_load(fresh, d->cfg->path, err, sizeof err) != VG_OK) {
        vg_error("reload_failed", "error=\"%s\" msg=\"keeping the old config\"", err);
        free(fresh);
        return;
    }
    struct vg_config *old = d->cfg;
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
    atomic_store(&d->engine, NULL); /* seq_cst: pairs with the increment in acquire */
    while (atomic_load(&d->engine_readers) > 0) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}
