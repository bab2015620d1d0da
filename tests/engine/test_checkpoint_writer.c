/* test_checkpoint_writer.c - the checkpointer (fork-based, copy-on-write checkpoints): a
 * checkpoint taken while the parent keeps changing its state holds exactly the state at the
 * fork; a held checkpoint is invisible to the loader until released, and a superseded or
 * abandoned one is deleted; a child killed mid-write or a failed write leaves the previous
 * checkpoint the newest, is logged as checkpoint_failed, and the next one succeeds; leftovers
 * of a crash are removed on start; a child never outlives its parent. Encoding and restore themselves: test_checkpoint.c. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint_format.h"
#include "test_support.h"
#include "vigil/checkpoint.h"
#include "vigil/config.h"
#include "vigil/ingest.h"

#define T0 1704067200000LL
#define MIN_MS 60000LL

/* ---- an engine with some state ---------------------------------------------------------- */

struct fixture {
    struct vg_config *cfg;
    struct vg_engine *engine;
    struct vg_test_alerts alerts;
    char *dir;
    vg_checkpointer_t *ckpt;
};

static int ignore_alert(void *opaque, const struct vg_alert_record *r) {
    (void)opaque;
    (void)r;
    return 0;
}

static void start(struct fixture *f, int threads) {
    char templ[] = "/tmp/vigil-ckptw-XXXXXX";
    cr_assert_not_null(mkdtemp(templ));
    f->dir = strdup(templ);
    f->cfg = calloc(1, sizeof *f->cfg);
    cr_assert_eq(vg_config_defaults(f->cfg), VG_OK);
    f->cfg->engine.threads = threads;
    struct vg_alert_sink sink = {.opaque = &f->alerts, .on_alert = ignore_alert};
    char err[1024];
    cr_assert_eq(vg_engine_start(&f->engine, f->cfg, &sink, err, sizeof err), VG_OK, "%s", err);
    cr_assert_eq(vg_checkpointer_create(&f->ckpt, f->dir, err, sizeof err), VG_OK, "%s", err);
}

/* Transfers [from, to) of a deterministic stream over 300 accounts, some large (graph). */
static void feed(struct fixture *f, int from, int to) {
    for (int i = from; i < to; i++) {
        char line[256];
        uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ULL;
        snprintf(line, sizeof line,
                 "{\"id\":\"w%d\",\"ts\":%lld,\"from\":\"A%d\",\"to\":\"A%d\",\"amount\":\"%d\",\"currency\":\"USD\"}", i,
                 T0 + (long long)i * MIN_MS, (int)(x >> 20) % 300, (int)(x >> 40) % 300 + 300,
                 i % 5 == 0 ? 25000 : 100 + i % 700);
        struct vg_txn t;
        struct vg_parse_error pe;
        cr_assert_eq(vg_ndjson_parse(line, strlen(line), &f->cfg->currency, &t, &pe), VG_OK, "%s", pe.detail);
        t.seq = vg_engine_next_seq(f->engine);
        vg_engine_submit(f->engine, &t, 0);
    }
    vg_engine_flush(f->engine);
    vg_engine_drain(f->engine);
}

static void finish(struct fixture *f) {
    vg_checkpointer_destroy(f->ckpt);
    cr_assert_eq(vg_engine_stop(f->engine), VG_OK);
    vg_config_free(f->cfg);
    free(f->cfg);
    DIR *d = opendir(f->dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, de->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(f->dir);
    free(f->dir);
}

/* Takes a checkpoint with position `pos`; returns the child's pid (0 when not forked). */
static int take(struct fixture *f, const char *pos, unsigned flags) {
    struct vg_checkpoint_take t;
    cr_assert_eq(vg_checkpointer_take(f->ckpt, f->engine, pos, strlen(pos), flags, &t), VG_OK);
    if (!(flags & VG_CKPT_IN_PROCESS)) cr_assert(t.forked, "fork is the normal path");
    return t.forked ? t.child_pid : 0;
}

/* Waits until a child stopped itself (ckpt_test_stop_children). */
static void wait_stopped(int pid) {
    siginfo_t si = {0};
    cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOWAIT), 0);
    cr_assert_eq(si.si_code, CLD_STOPPED);
}

/* The position the loader restores from f->dir ("" when there is no checkpoint). */
static void expect_position(struct fixture *f, const char *want) {
    struct vg_alert_sink sink = {.on_alert = ignore_alert};
    struct vg_engine *e;
    char err[1024], pos[128];
    size_t len = sizeof pos - 1;
    cr_assert_eq(vg_engine_start_restored(&e, f->cfg, &sink, f->dir, pos, &len, err, sizeof err), VG_OK, "%s", err);
    pos[len] = '\0';
    cr_expect_str_eq(pos, want);
    cr_assert_eq(vg_engine_stop(e), VG_OK);
}

static size_t count_named(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0, sl = strlen(suffix);
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        n += l > sl && strcmp(de->d_name + l - sl, suffix) == 0;
    }
    closedir(d);
    return n;
}

/* Newest checkpoint.<N>.vgc of dir, read whole. */
static unsigned char *read_newest(const char *dir, size_t *len) {
    DIR *d = opendir(dir);
    struct dirent *de;
    unsigned long best = 0;
    while ((de = readdir(d)) != NULL) {
        unsigned long n;
        if (sscanf(de->d_name, "checkpoint.%lu.vgc", &n) == 1 && n > best) best = n;
    }
    closedir(d);
    cr_assert_gt(best, 0, "a published checkpoint");
    char p[512];
    snprintf(p, sizeof p, "%s/checkpoint.%lu.vgc", dir, best);
    return (unsigned char *)vg_test_read_file(p, len);
}

/* stderr (vg_log's fd) into a file while a test runs. */
struct captured {
    int saved;
    char path[64];
};

static void capture_begin(struct captured *c) {
    snprintf(c->path, sizeof c->path, "/tmp/vigil-ckptw-log-XXXXXX");
    int fd = mkstemp(c->path);
    cr_assert_geq(fd, 0);
    c->saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

static char *capture_end(struct captured *c) {
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    char *text = vg_test_read_file(c->path, NULL);
    unlink(c->path);
    fputs(text, stderr);
    return text;
}

/* ---- tests ------------------------------------------------------------------------------- */

Test(checkpoint_writer, forked_checkpoint_is_the_state_at_the_fork) {
    struct fixture f = {0};
    start(&f, 2);
    feed(&f, 0, 1500);
    struct vg_snapshot *at_fork = NULL;
    cr_assert_eq(vg_engine_snapshot(f.engine, "upto=1500", 9, &at_fork), VG_OK);

    ckpt_test_stop_children(f.ckpt, true);
    int pid = take(&f, "upto=1500", 0);
    wait_stopped(pid);
    feed(&f, 1500, 3000); /* the parent goes on: new accounts, events, edges, expiries */
    struct vg_snapshot *later = NULL;
    cr_assert_eq(vg_engine_snapshot(f.engine, "upto=1500", 9, &later), VG_OK);
    cr_assert(vg_snapshot_size(later) != vg_snapshot_size(at_fork), "the parent's state changed");
    cr_assert_eq(kill(pid, SIGCONT), 0);
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);

    size_t len;
    unsigned char *file = read_newest(f.dir, &len);
    struct ckpt_header h;
    memcpy(&h, file, sizeof h);
    struct ckpt_header *want = (struct ckpt_header *)(void *)at_fork->buf;
    want->created_wall_ms = h.created_wall_ms; /* the only field that may differ */
    ckpt_seal(at_fork);
    cr_assert_eq(len, vg_snapshot_size(at_fork), "file %zu bytes, state at the fork %zu", len,
                 vg_snapshot_size(at_fork));
    cr_expect(memcmp(file, at_fork->buf, len) == 0, "the file is byte for byte the state at the fork");
    free(file);
    vg_snapshot_free(at_fork);
    vg_snapshot_free(later);
    expect_position(&f, "upto=1500");
    finish(&f);
}

Test(checkpoint_writer, held_checkpoint_is_invisible_until_released) {
    struct fixture f = {0};
    start(&f, 1);
    feed(&f, 0, 500);
    take(&f, "upto=500", 0);
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    feed(&f, 500, 1000);
    take(&f, "upto=1000", VG_CKPT_HOLD);
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK); /* written, not published */
    cr_expect(!vg_checkpointer_busy(f.ckpt), "a held checkpoint does not block");
    cr_expect_eq(count_named(f.dir, ".pending"), 1);
    expect_position(&f, "upto=500");
    vg_checkpointer_release(f.ckpt);
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    cr_expect_eq(count_named(f.dir, ".pending"), 0);
    expect_position(&f, "upto=1000");
    finish(&f);
}

Test(checkpoint_writer, release_before_the_child_is_done_publishes_when_written) {
    struct fixture f = {0};
    start(&f, 1);
    feed(&f, 0, 500);
    ckpt_test_stop_children(f.ckpt, true);
    int pid = take(&f, "upto=500", VG_CKPT_HOLD);
    wait_stopped(pid);
    vg_checkpointer_release(f.ckpt);
    cr_expect(vg_checkpointer_busy(f.ckpt));
    kill(pid, SIGCONT);
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    expect_position(&f, "upto=500");
    finish(&f);
}

Test(checkpoint_writer, superseded_and_abandoned_held_checkpoints_are_deleted) {
    struct fixture f = {0};
    start(&f, 1);
    feed(&f, 0, 500);
    take(&f, "upto=500", 0);
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);

    feed(&f, 500, 800);
    take(&f, "upto=800", VG_CKPT_HOLD);
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    feed(&f, 800, 1000);
    take(&f, "upto=1000", VG_CKPT_HOLD); /* replaces the held upto=800 */
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    cr_expect_eq(count_named(f.dir, ".pending"), 1, "the superseded file is gone");
    vg_checkpointer_abandon(f.ckpt);
    cr_expect_eq(count_named(f.dir, ".pending"), 0, "the abandoned file is gone");
    expect_position(&f, "upto=500");

    /* Abandoned while its child still runs: the child is killed, nothing is left. */
    ckpt_test_stop_children(f.ckpt, true);
    int pid = take(&f, "upto=1000", VG_CKPT_HOLD);
    wait_stopped(pid);
    struct captured log;
    capture_begin(&log);
    vg_checkpointer_abandon(f.ckpt);
    cr_expect_eq(vg_checkpointer_wait(f.ckpt), VG_OK, "dropping is not a failed write");
    char *text = capture_end(&log);
    cr_expect(strstr(text, "event=checkpoint_abandoned") != NULL, "%s", text);
    cr_expect(strstr(text, "checkpoint_failed") == NULL, "%s", text);
    free(text);
    cr_expect_eq(count_named(f.dir, ".pending"), 0);
    cr_expect_eq(kill(pid, 0), -1, "the child is gone (reaped)");
    expect_position(&f, "upto=500");
    finish(&f);
}

Test(checkpoint_writer, killed_child_keeps_the_previous_checkpoint_and_the_next_one_succeeds) {
    struct fixture f = {0};
    start(&f, 2);
    feed(&f, 0, 500);
    take(&f, "upto=500", 0);
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    feed(&f, 500, 1000);

    ckpt_test_stop_children(f.ckpt, true);
    struct captured log;
    capture_begin(&log);
    int pid = take(&f, "upto=1000", 0);
    wait_stopped(pid);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int rc = vg_checkpointer_wait(f.ckpt);
    char *text = capture_end(&log);
    cr_expect_eq(rc, VG_ERR_IO);
    cr_expect(strstr(text, "event=checkpoint_failed") != NULL, "%s", text);
    cr_expect(strstr(text, "killed by signal 9") != NULL, "%s", text);
    free(text);
    cr_expect_eq(count_named(f.dir, ".pending"), 0, "no partial file is left");
    expect_position(&f, "upto=500");

    ckpt_test_stop_children(f.ckpt, false);
    feed(&f, 1000, 1200);
    take(&f, "upto=1200", 0);
    cr_expect_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    expect_position(&f, "upto=1200");
    finish(&f);
}

Test(checkpoint_writer, failed_write_keeps_the_previous_checkpoint_and_the_next_one_succeeds) {
    struct fixture f = {0};
    start(&f, 1);
    feed(&f, 0, 500);
    take(&f, "upto=500", 0);
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    feed(&f, 500, 1000);

    /* The directory disappears under the child (root ignores permissions, so move it). */
    char away[512];
    snprintf(away, sizeof away, "%s.away", f.dir);
    cr_assert_eq(rename(f.dir, away), 0);
    struct captured log;
    capture_begin(&log);
    take(&f, "upto=1000", 0);
    int rc = vg_checkpointer_wait(f.ckpt);
    char *text = capture_end(&log);
    cr_assert_eq(rename(away, f.dir), 0);
    cr_expect_eq(rc, VG_ERR_IO);
    cr_expect(strstr(text, "event=checkpoint_failed") != NULL && strstr(text, "cannot create") != NULL, "%s", text);
    free(text);
    expect_position(&f, "upto=500");

    take(&f, "upto=1000", 0);
    cr_expect_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    expect_position(&f, "upto=1000");
    finish(&f);
}

Test(checkpoint_writer, in_process_copy_is_written_too) {
    struct fixture f = {0};
    start(&f, 1);
    feed(&f, 0, 500);
    struct vg_checkpoint_take t;
    cr_assert_eq(vg_checkpointer_take(f.ckpt, f.engine, "end", 3, VG_CKPT_IN_PROCESS, &t), VG_OK);
    cr_expect(!t.forked);
    cr_expect_gt(t.bytes, 0);
    cr_expect_eq(vg_checkpointer_take(f.ckpt, f.engine, "end", 3, 0, &t), VG_ERR_FULL, "one at a time");
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    expect_position(&f, "end");
    finish(&f);
}

Test(checkpoint_writer, leftovers_of_a_crash_are_removed_on_start) {
    struct fixture f = {0};
    start(&f, 1);
    feed(&f, 0, 300);
    take(&f, "upto=300", 0);
    cr_assert_eq(vg_checkpointer_wait(f.ckpt), VG_OK);
    const char *names[] = {"checkpoint.7.pending", "checkpoint.tmp"};
    for (size_t i = 0; i < 2; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f.dir, names[i]);
        FILE *file = fopen(p, "wb");
        fputs("half a checkpoint", file);
        fclose(file);
    }
    expect_position(&f, "upto=300"); /* the loader ignores them */
    vg_checkpointer_destroy(f.ckpt);
    char err[512];
    cr_assert_eq(vg_checkpointer_create(&f.ckpt, f.dir, err, sizeof err), VG_OK, "%s", err);
    cr_expect_eq(count_named(f.dir, ".pending"), 0);
    cr_expect_eq(count_named(f.dir, ".tmp"), 0);
    cr_expect_eq(count_named(f.dir, ".vgc"), 1);
    finish(&f);
}

Test(checkpoint_writer, child_dies_with_its_parent) {
    /* A helper process takes a checkpoint whose child stops itself, then is killed; the
     * orphaned child comes to this process (subreaper) and must die on its own. */
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t helper = fork();
    cr_assert_geq(helper, 0);
    if (helper == 0) {
        struct fixture f = {0};
        start(&f, 1);
        feed(&f, 0, 300);
        ckpt_test_stop_children(f.ckpt, true);
        int pid = take(&f, "upto=300", 0);
        if (write(fds[1], &pid, sizeof pid) != (ssize_t)sizeof pid) _exit(1);
        pause();
        _exit(0);
    }
    int child = 0;
    cr_assert_eq(read(fds[0], &child, sizeof child), (ssize_t)sizeof child);
    close(fds[0]);
    close(fds[1]);
    cr_assert_eq(kill(helper, SIGKILL), 0);
    cr_assert_eq(waitpid(helper, NULL, 0), helper);
    int status = 0;
    pid_t reaped = 0;
    for (int i = 0; i < 500 && reaped == 0; i++) {
        reaped = waitpid(child, &status, WNOHANG);
        if (reaped == 0) usleep(10000);
    }
    cr_assert_eq(reaped, child, "the checkpoint child outlived its parent");
    /* SIGKILL from PR_SET_PDEATHSIG, or exit 2 when the parent was gone before the prctl. */
    cr_expect((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) || (WIFEXITED(status) && WEXITSTATUS(status) == 2),
              "status 0x%x", status);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}
