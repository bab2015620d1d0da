/* notify.c - sd_notify messages for a Type=notify unit and the WATCHDOG=1 pinger thread
 * (see notify.h for when the daemon counts as healthy). Without NOTIFY_SOCKET every call
 * is a cheap no-op, so vigild behaves the same outside systemd. */
#include "vigil/notify.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "vigil/common.h"
#include "vigil/daemon.h"
#include "vigil/log.h"

struct vg_watchdog {
    struct vg_daemon *daemon;
    uint64_t interval_us;        /* WATCHDOG_USEC: systemd's deadline */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;         /* signalled by vg_watchdog_stop */
    bool stop;                   /* under lock */
    bool has_consumed;           /* thread-local to the pinger */
};

static atomic_bool ready_sent; /* READY=1 was sent once: start-up is over */
static atomic_bool stopping_sent; /* STOPPING=1 was sent */

int vg_notify_ready(void) {
    atomic_store(&ready_sent, true);
    return sd_notify(0, "READY=1\nSTATUS=consuming");
}

int vg_notify_reloaded(void) {
    /* READY=1 ends the reload systemd entered at RELOADING=1; before start-up is over it
     * would end start-up too early, and the READY=1 of start-up ends both then. */
    if (!atomic_load(&ready_sent)) return sd_notify(0, "STATUS=starting");
    return vg_notify_ready();
}

int vg_notify_stopping(void) {
    /* Once: the signal that starts the drain and the end of main both say it. */
    if (atomic_exchange(&stopping_sent, true)) return 0;
    return sd_notify(0, "STOPPING=1\nSTATUS=stopping: draining, flushing alerts, checkpointing");
}

int vg_notify_reloading(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* MONOTONIC_USEC lets systemd >= 253 match the reload to this message. */
    return sd_notifyf(0, "RELOADING=1\nSTATUS=reloading configuration\nMONOTONIC_USEC=%llu",
                      (unsigned long long)now.tv_sec * 1000000ULL + (unsigned long long)now.tv_nsec / 1000ULL);
}

int vg_notify_status(const char *fmt, ...) {
    char status[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(status, sizeof status, fmt, ap);
    va_end(ap);
    for (char *p = status; *p; p++) /* one line: a newline would start another assignment */
        if (*p == '\n') *p = ' ';
    return sd_notifyf(0, "STATUS=%s", status);
}

/* See notify.h: starting, consuming or stopping. */
static bool daemon_healthy(struct vg_watchdog *w) {
    struct vg_daemon *d = w->daemon;
    if (atomic_load_explicit(&d->consuming, memory_order_acquire)) {
        w->has_consumed = true;
        return !atomic_load(&d->kafka_unreachable); /* no broker answers: not healthy */
    }
    if (atomic_load_explicit(&d->stop_requested, memory_order_acquire)) return true;
    return !w->has_consumed;
}

static void *watchdog_main(void *arg) {
    struct vg_watchdog *w = arg;
    uint64_t period_us = w->interval_us / 2;
    bool was_healthy = true;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        pthread_mutex_unlock(&w->lock);
        bool healthy = daemon_healthy(w);
        if (healthy) sd_notify(0, "WATCHDOG=1");
        if (healthy != was_healthy) {
            if (healthy) vg_info("watchdog", "msg=\"healthy again, pinging systemd\"");
            else vg_warn("watchdog", "msg=\"not consuming or Kafka unreachable, withholding WATCHDOG=1\" deadline_ms=%llu",
                         (unsigned long long)(w->interval_us / 1000));
            was_healthy = healthy;
        }

        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        uint64_t ns = (uint64_t)deadline.tv_nsec + (period_us % 1000000ULL) * 1000ULL;
        deadline.tv_sec += (time_t)(period_us / 1000000ULL + ns / 1000000000ULL);
        deadline.tv_nsec = (long)(ns % 1000000000ULL);
        pthread_mutex_lock(&w->lock);
        while (!w->stop) {
            if (pthread_cond_timedwait(&w->wake, &w->lock, &deadline) == ETIMEDOUT) break;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int vg_watchdog_start(vg_watchdog_t **out, struct vg_daemon *d) {
    *out = NULL;
    uint64_t interval_us = 0;
    if (sd_watchdog_enabled(0, &interval_us) <= 0 || interval_us == 0) return VG_OK;

    struct vg_watchdog *w = calloc(1, sizeof *w);
    if (!w) return VG_ERR_NOMEM;
    w->daemon = d;
    w->interval_us = interval_us;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&w->lock, NULL);

    /* The pinger never handles process signals: block them all in the new thread. */
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    int rc = pthread_create(&w->thread, NULL, watchdog_main, w);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (rc != 0) {
        vg_error("watchdog", "msg=\"cannot start thread\" errno=%d", rc);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return VG_ERR_IO;
    }
    vg_info("watchdog", "interval_ms=%llu ping_ms=%llu", (unsigned long long)(interval_us / 1000),
            (unsigned long long)(interval_us / 2000));
    *out = w;
    return VG_OK;
}

void vg_watchdog_stop(vg_watchdog_t *w) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
