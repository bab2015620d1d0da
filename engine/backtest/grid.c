/* grid.c - backtest: runs the points of a sweep over one in-memory data set, several engines
 * at once (each point's config loaded by the config loader with the point's overrides), so a
 * 9-point sweep reads and parses its input once and keeps both cores busy. */
#include "vigil/backtest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vg_bt_grid_check(const char *config_path, const struct vg_bt_sweep *s, char *errstr, size_t errstr_size) {
    size_t n = vg_bt_sweep_points(s);
    struct vg_config *cfg = malloc(sizeof *cfg);
    if (!cfg) {
        snprintf(errstr, errstr_size, "backtest: out of memory");
        return VG_ERR_NOMEM;
    }
    int rc = VG_OK;
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        struct vg_config_override ov[VG_BT_SWEEP_KEYS];
        vg_bt_sweep_point(s, i, ov);
        rc = vg_config_load_overrides(cfg, config_path, ov, s->n_keys, errstr, errstr_size);
        if (rc == VG_OK) vg_config_free(cfg);
    }
    free(cfg);
    return rc;
}

struct grid {
    const vg_bt_data_t *d;
    const struct vg_bt_patterns *p;
    const char *config_path;
    const struct vg_bt_sweep *s;
    struct vg_bt_point *points;
    size_t n_points;
    bool one_shard;
    atomic_size_t next;
    atomic_bool failed;
    pthread_mutex_t err_lock;      /* guards errstr: written once, by the first failure */
    char *errstr;
    size_t errstr_size;
};

static bool sweeps_threads(const struct vg_bt_sweep *s) {
    for (size_t k = 0; k < s->n_keys; k++)
        if (strcmp(s->keys[k].key, "engine.threads") == 0) return true;
    return false;
}

static void *grid_worker(void *arg) {
    struct grid *g = arg;
    struct vg_config *cfg = malloc(sizeof *cfg);
    char err[1024];
    int rc = cfg ? VG_OK : VG_ERR_NOMEM;
    if (!cfg) snprintf(err, sizeof err, "backtest: out of memory");
    while (rc == VG_OK && !atomic_load(&g->failed)) {
        size_t i = atomic_fetch_add(&g->next, 1);
        if (i >= g->n_points) break;
        struct vg_bt_point *pt = &g->points[i];
        pt->n_ov = g->s->n_keys;
        vg_bt_sweep_point(g->s, i, pt->ov);
        rc = vg_config_load_overrides(cfg, g->config_path, pt->ov, pt->n_ov, err, sizeof err);
        if (rc != VG_OK) break;
        if (g->one_shard) cfg->engine.threads = 1;
        rc = vg_bt_run(g->d, g->p, cfg, &pt->figures, err, sizeof err);
        vg_config_free(cfg);
    }
    free(cfg);
    if (rc != VG_OK && !atomic_exchange(&g->failed, true)) {
        pthread_mutex_lock(&g->err_lock);
        snprintf(g->errstr, g->errstr_size, "%s", err);
        pthread_mutex_unlock(&g->err_lock);
    }
    return NULL;
}

int vg_bt_grid_run(const vg_bt_data_t *d, const struct vg_bt_patterns *p, const char *config_path,
                   const struct vg_bt_sweep *s, int jobs, struct vg_bt_point *points, char *errstr,
                   size_t errstr_size) {
    struct grid g = {.d = d, .p = p, .config_path = config_path, .s = s, .points = points,
                     .n_points = vg_bt_sweep_points(s), .errstr = errstr, .errstr_size = errstr_size};
    atomic_init(&g.next, 0);
    atomic_init(&g.failed, false);
    pthread_mutex_init(&g.err_lock, NULL);
    if (jobs < 1) jobs = 1;
    if ((size_t)jobs > g.n_points) jobs = (int)g.n_points;
    g.one_shard = jobs > 1 && !sweeps_threads(s);
    pthread_t threads[64];
    if (jobs > 64) jobs = 64;
    int started = 0;
    for (int i = 1; i < jobs; i++) {
        if (pthread_create(&threads[started], NULL, grid_worker, &g) != 0) break;
        started++;
    }
    grid_worker(&g); /* this thread is one of the workers */
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&g.err_lock);
    return atomic_load(&g.failed) ? VG_ERR_INVALID : VG_OK;
}
