/* test_notify.c - systemd notifications as systemd receives them: a unix datagram socket
 * plays NOTIFY_SOCKET, and the tests check READY/STOPPING/STATUS and that WATCHDOG=1
 * flows while the daemon is healthy (starting, consuming, stopping) and stops otherwise. */
#include <criterion/criterion.h>

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vigil/common.h"
#include "vigil/config.h"
#include "vigil/daemon.h"
#include "vigil/notify.h"

static int notify_fd = -1;
static char notify_path[108];

/* Binds a datagram socket and points NOTIFY_SOCKET (and the watchdog variables) at it. */
static void fake_systemd(uint64_t watchdog_usec) {
    snprintf(notify_path, sizeof notify_path, "/tmp/vg-notify-%d.sock", (int)getpid());
    unlink(notify_path);
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert(notify_fd >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, notify_path);
    cr_assert_eq(bind(notify_fd, (struct sockaddr *)&a, sizeof a), 0);
    setenv("NOTIFY_SOCKET", notify_path, 1);
    if (watchdog_usec) {
        char text[32];
        snprintf(text, sizeof text, "%llu", (unsigned long long)watchdog_usec);
        setenv("WATCHDOG_USEC", text, 1);
        snprintf(text, sizeof text, "%d", (int)getpid());
        setenv("WATCHDOG_PID", text, 1);
    }
}

static void teardown(void) {
    if (notify_fd >= 0) close(notify_fd);
    notify_fd = -1;
    unlink(notify_path);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

/* Next datagram within timeout_ms, or "" when none came. */
static const char *next_message(int timeout_ms) {
    static char buf[1024];
    struct pollfd p = {.fd = notify_fd, .events = POLLIN};
    buf[0] = '\0';
    if (poll(&p, 1, timeout_ms) == 1) {
        ssize_t n = recv(notify_fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
    }
    return buf;
}

/* Counts WATCHDOG=1 datagrams over window_ms. */
static int count_pings(int window_ms) {
    int pings = 0;
    for (int waited = 0; waited < window_ms; waited += 20)
        if (strstr(next_message(20), "WATCHDOG=1")) pings++;
    return pings;
}

TestSuite(notify, .fini = teardown);

Test(notify, no_op_outside_systemd) {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    cr_assert_eq(vg_notify_ready(), 0);
    cr_assert_eq(vg_notify_stopping(), 0);
    cr_assert_eq(vg_notify_status("state=%s", "idle"), 0);
    static struct vg_daemon d;
    vg_watchdog_t *w = (vg_watchdog_t *)&d;
    cr_assert_eq(vg_watchdog_start(&w, &d), VG_OK);
    cr_assert_null(w, "no watchdog without WATCHDOG_USEC");
    vg_watchdog_stop(w);
}

Test(notify, ready_status_reloading_stopping) {
    fake_systemd(0);
    cr_assert_gt(vg_notify_ready(), 0);
    cr_assert_not_null(strstr(next_message(1000), "READY=1"));
    cr_assert_gt(vg_notify_status("consuming %d partitions\nlag %d", 6, 0), 0);
    cr_assert_str_eq(next_message(1000), "STATUS=consuming 6 partitions lag 0", "one line");
    cr_assert_gt(vg_notify_reloading(), 0);
    const char *msg = next_message(1000);
    cr_assert_not_null(strstr(msg, "RELOADING=1"));
    cr_assert_not_null(strstr(msg, "MONOTONIC_USEC="));
    cr_assert_gt(vg_notify_stopping(), 0);
    cr_assert_not_null(strstr(next_message(1000), "STOPPING=1"));
    cr_assert_eq(vg_notify_stopping(), 0, "the signal and the end of main both stop: said once");
    cr_assert_str_eq(next_message(200), "");
}

/* A SIGHUP reload ends with READY=1: systemd keeps a unit that sent RELOADING=1 in
 * "reloading" until then. A reload before start-up is over must not claim readiness. */
Test(notify, reload_ends_with_ready_once_started) {
    fake_systemd(0);
    static struct vg_config cfg; /* path "": built-in defaults, the reload is skipped */
    static struct vg_daemon d;
    d.cfg = &cfg;
    cr_assert_gt(vg_notify_reloading(), 0);
    cr_assert_not_null(strstr(next_message(1000), "RELOADING=1"));
    vg_daemon_apply_reload(&d);
    const char *msg = next_message(1000);
    cr_assert_null(strstr(msg, "READY=1"), "not ready yet: %s", msg);
    cr_assert_str_eq(msg, "STATUS=starting");
    cr_assert_gt(vg_notify_ready(), 0);
    cr_assert_not_null(strstr(next_message(1000), "READY=1"));
    cr_assert_gt(vg_notify_reloading(), 0);
    cr_assert_not_null(strstr(next_message(1000), "RELOADING=1"));
    vg_daemon_apply_reload(&d);
    cr_assert_not_null(strstr(next_message(1000), "READY=1"), "the reload is over");
}

Test(notify, watchdog_pings_while_healthy_only) {
    fake_systemd(100000); /* 100 ms: a ping every 50 ms */
    static struct vg_daemon d;
    vg_watchdog_t *w = NULL;
    cr_assert_eq(vg_watchdog_start(&w, &d), VG_OK);
    cr_assert_not_null(w);

    cr_assert_geq(count_pings(300), 3, "starting (never consumed yet) counts as healthy");
    atomic_store(&d.consuming, true);
    cr_assert_geq(count_pings(300), 3, "consuming");
    atomic_store(&d.consuming, false);
    count_pings(100); /* a ping may already be in flight */
    cr_assert_eq(count_pings(300), 0, "consumed, then stopped consuming: no pings");
    atomic_store(&d.stop_requested, true);
    cr_assert_geq(count_pings(300), 3, "draining for shutdown counts as healthy");

    vg_watchdog_stop(w);
    count_pings(60);
    cr_assert_eq(count_pings(200), 0, "stopped");
}

Test(notify, watchdog_for_another_pid_is_not_ours) {
    fake_systemd(100000);
    setenv("WATCHDOG_PID", "1", 1);
    static struct vg_daemon d;
    vg_watchdog_t *w = NULL;
    cr_assert_eq(vg_watchdog_start(&w, &d), VG_OK);
    cr_assert_null(w);
}

Test(notify, watchdog_stop_is_prompt) {
    fake_systemd(60ull * 1000000ull); /* 60 s: the thread sleeps 30 s between pings */
    static struct vg_daemon d;
    vg_watchdog_t *w = NULL;
    cr_assert_eq(vg_watchdog_start(&w, &d), VG_OK);
    cr_assert_not_null(w);
    cr_assert_not_null(strstr(next_message(1000), "WATCHDOG=1"), "first ping right away");
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t0 = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    vg_watchdog_stop(w);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    cr_assert_lt(ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0, 5000, "stop does not wait for the tick");
}
