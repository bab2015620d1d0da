/* notify.h - systemd integration for Type=notify units (contract section 7): READY=1 once
 * consuming, STOPPING=1 on shutdown, STATUS= lines, and a watchdog thread that sends
 * WATCHDOG=1 while the daemon is healthy. Everything is a no-op outside systemd. */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

struct vg_daemon;

/* Opaque handle of a running watchdog thread. */
typedef struct vg_watchdog vg_watchdog_t;

/* Each returns what sd_notify returned: > 0 sent, 0 not under systemd (NOTIFY_SOCKET
 * unset), < 0 a negative errno (callers may ignore it: failing to notify is not fatal). */

/* "READY=1": the daemon is consuming its input. */
int vg_notify_ready(void);
/* "STOPPING=1": shutdown has begun (drain, flush, commit, checkpoint). */
int vg_notify_stopping(void);
/* "RELOADING=1" (SIGHUP received); follow with vg_notify_reloaded() when the reload is
 * done, whether it succeeded or kept the old config. */
int vg_notify_reloading(void);
/* The reload is over: "READY=1" again (only "STATUS=starting" while start-up is not over,
 * i.e. before the first vg_notify_ready()). Without it systemd keeps the unit "reloading". */
int vg_notify_reloaded(void);
/* "STATUS=<text>": one line shown by systemctl status. */
int vg_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Starts the watchdog pinger when systemd asked for one (WatchdogSec=, seen through
 * sd_watchdog_enabled: WATCHDOG_USEC set and WATCHDOG_PID unset or ours). It sends
 * WATCHDOG=1 every half interval while the daemon is healthy:
 *   - starting: d->consuming has never been true yet (config, checkpoint restore, broker
 *     connection; systemd's TimeoutStartSec bounds this, since READY=1 waits for it), or
 *   - consuming: d->consuming is true (Kafka partitions assigned, or a replay reading) and
 *     d->kafka_unreachable is not (some broker answers the consumer), or
 *   - stopping: d->stop_requested is set (drain; TimeoutStopSec bounds this).
 * Once the daemon has consumed and then stops consuming without being asked to stop (lost
 * its assignment) or no broker answers (within ~5 s, connectors/kafka/kafka_health.c), pings stop; if that lasts WatchdogSec systemd kills
 * and, with Restart=on-failure, restarts it from its checkpoint.
 * Sets *out to NULL when no watchdog is wanted. Returns VG_OK, or VG_ERR_NOMEM/VG_ERR_IO
 * when the thread cannot be started. d must outlive the watchdog. */
int vg_watchdog_start(vg_watchdog_t **out, struct vg_daemon *d);

/* Stops and joins the thread (promptly, not after the next tick) and frees w. NULL is a
 * no-op. */
void vg_watchdog_stop(vg_watchdog_t *w);

#endif
