/* checkpoint_writer.c - the checkpointer: takes a checkpoint of a drained engine without
 * copying its state on the input thread, and publishes it. The input thread forks (Redis's
 * BGSAVE design): the child sees the state as it was at the fork, copy-on-write, encodes it
 * (checkpoint.c), writes and fsyncs checkpoint.<attempt>.pending (checkpoint_io.c), reports
 * through a pipe and _exits; the parent's stall is the drain plus fork(2). A reaper thread
 * waits for the child, then publishes the file (now, or once a held checkpoint is released)
 * or deletes it. When fork fails the state is copied on the input thread and the reaper
 * writes the copy. Not the image format (checkpoint_format.h), not the file steps
 * (checkpoint_io.c).
 *
 * The child runs in a copy of a multi-threaded process, with only the forking thread: it
 * takes no lock the other threads may have held (no logging, no stdio, no librdkafka; malloc
 * is fine, glibc holds its arena locks across fork), starts no thread, uses a fresh io_uring
 * of its own, and leaves through _exit. It dies with the forking thread (PR_SET_PDEATHSIG)
 * and never outlives the parent. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bigmem.h"
#include "checkpoint_format.h"
#include "vigil/log.h"

enum { CHILD_EXIT_OK = 0, CHILD_EXIT_FAILED = 1, CHILD_EXIT_ORPHANED = 2 };

/* What a write reports, through the pipe for a child. Fixed size, below PIPE_BUF: one
 * write(2) that never blocks on the empty pipe. */
struct ckpt_report {
    int32_t rc;                    /* VG_OK or the error of the failing step */
    uint8_t used_pwrite;           /* io_uring was refused */
    uint64_t bytes;
    int64_t encode_ns, write_ns;   /* encode; write + fsync of the pending file */
    char err[480];
};
_Static_assert(sizeof(struct ckpt_report) < PIPE_BUF, "one atomic pipe write");

enum ck_state {
    CK_IDLE,                       /* nothing in flight */
    CK_TAKING,                     /* the input thread is forking or copying */
    CK_WRITING,                    /* a child runs, or the reaper writes `job` */
    CK_WRITTEN,                    /* the pending file is complete, held: waits for release */
    CK_PUBLISHING,                 /* the reaper renames it into place */
};

struct vg_checkpointer {
    char dir[4096];
    char source[VG_CHECKPOINT_SOURCE_MAX + 1]; /* input identity every image records */
    pthread_t reaper;
    pthread_mutex_t mu;
    pthread_cond_t cv;             /* state changes, stop */
    enum ck_state state;
    bool released;                 /* publish once written (not held, or released) */
    bool abandoned;                /* delete once written */
    bool stop;
    bool stop_children;            /* test hook: children SIGSTOP themselves first */
    bool forked;                   /* the one in flight is written by a child */
    uint64_t attempts;
    char pending[4096 + 64];       /* checkpoint.<attempt>.pending of the one in flight */
    pid_t child;                   /* forked writer not yet reaped, 0 if none */
    int report_fd;                 /* read end of its report pipe */
    struct vg_snapshot *job;       /* in-process copy for the reaper to write */
    struct vg_snapshot *spare;     /* the last job, reused by the next in-process copy */
    int64_t taken_ns, written_ns;  /* fork (or copy) done; pending file complete */
    struct ckpt_report report;     /* of the write in flight */
    int last_rc;
};

/* ---- the child ------------------------------------------------------------------------- */

/* Encodes e's state (as it was at the fork) with `position`, writes it to `path`, sends
 * the report and exits: 0 written, 1 failed (the report says why), 2 orphaned. */
static _Noreturn void child_main(struct vg_engine *e, const char *source, const void *position, size_t len,
                                 const char *path, int report_fd, pid_t parent, bool stop_first) {
    /* Dies with the parent; the check closes the race of a parent gone before the prctl. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(CHILD_EXIT_ORPHANED);
    /* TERM/INT/HUP are the parent's business (it waits for this child before its final
     * checkpoint); only SIGKILL ends the child, so a stop is not logged as a failure. */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    prctl(PR_SET_NAME, "vg-checkpoint");
    if (stop_first) raise(SIGSTOP);

    struct ckpt_report rep = {.rc = VG_OK};
    struct vg_snapshot *s = NULL;
    rep.rc = vg_engine_snapshot_of(e, source, position, len, &s);
    if (rep.rc == VG_OK) {
        rep.encode_ns = vg_snapshot_copy_ns(s);
        rep.bytes = vg_snapshot_size(s);
        bool used_pwrite;
        int64_t t0 = vg_now_mono_ns();
        rep.rc = ckpt_write_image(path, s, &used_pwrite, rep.err, sizeof rep.err);
        rep.write_ns = vg_now_mono_ns() - t0;
        rep.used_pwrite = used_pwrite;
    } else {
        snprintf(rep.err, sizeof rep.err, "checkpoint child: out of memory encoding the snapshot");
    }
    ssize_t n = write(report_fd, &rep, sizeof rep);
    (void)n; /* no report reads as a failure */
    _exit(rep.rc == VG_OK ? CHILD_EXIT_OK : CHILD_EXIT_FAILED); /* no atexit handlers, no stdio flush */
}

/* ---- the reaper thread ----------------------------------------------------------------- */

/* Waits for the child (without c->mu) and reaps it under c->mu, so a pid other threads see
 * in c->child is never one the kernel could have reused. Fills *rep from its pipe or, when
 * it sent none, from its exit status. Called and returns with c->mu held. */
static void reap_child(struct vg_checkpointer *c, struct ckpt_report *rep) {
    pid_t pid = c->child;
    int fd = c->report_fd;
    pthread_mutex_unlock(&c->mu);
    siginfo_t si;
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
    }
    pthread_mutex_lock(&c->mu);
    int status = 0;
    pid_t reaped = waitpid(pid, &status, 0);
    int wait_errno = errno;
    c->child = 0;
    c->report_fd = -1;
    ssize_t n = read(fd, rep, sizeof *rep); /* non-blocking: the child has exited */
    close(fd);
    if (n == (ssize_t)sizeof *rep) {
        rep->err[sizeof rep->err - 1] = '\0';
        return;
    }
    memset(rep, 0, sizeof *rep);
    rep->rc = VG_ERR_IO;
    if (reaped == pid && WIFSIGNALED(status))
        snprintf(rep->err, sizeof rep->err, "checkpoint child %d killed by signal %d (%s)", (int)pid,
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (reaped == pid && WEXITSTATUS(status) == CHILD_EXIT_ORPHANED)
        snprintf(rep->err, sizeof rep->err, "checkpoint child %d found its parent gone", (int)pid);
    else if (reaped == pid)
        snprintf(rep->err, sizeof rep->err, "checkpoint child %d exited with status %d without a report", (int)pid,
                 WEXITSTATUS(status));
    else
        snprintf(rep->err, sizeof rep->err, "checkpoint child %d: status lost (%s) and no report", (int)pid,
                 strerror(wait_errno));
}

/* The write in flight ends: reaps the child or writes the in-process copy, then marks the
 * pending file written (held), deletes it (failed, abandoned) or hands it on to be published.
 * Called and returns with c->mu held. */
static void finish_write(struct vg_checkpointer *c) {
    struct ckpt_report rep;
    bool forked = c->forked;
    if (forked) {
        reap_child(c, &rep);
        /* The parent's writes during the child's life split its huge pages (copy-on-write):
         * put them back now, off the input thread, so the next fork stays short. */
        pthread_mutex_unlock(&c->mu);
        int64_t t0 = vg_now_mono_ns();
        size_t bytes = vg_big_recollapse();
        vg_debug("checkpoint_recollapse", "bytes=%zu ms=%.1f", bytes, (double)(vg_now_mono_ns() - t0) / 1e6);
        pthread_mutex_lock(&c->mu);
    } else {
        struct vg_snapshot *s = c->job;
        pthread_mutex_unlock(&c->mu);
        bool used_pwrite;
        memset(&rep, 0, sizeof rep);
        int64_t t0 = vg_now_mono_ns();
        rep.rc = ckpt_write_image(c->pending, s, &used_pwrite, rep.err, sizeof rep.err);
        rep.write_ns = vg_now_mono_ns() - t0;
        rep.used_pwrite = used_pwrite;
        rep.encode_ns = vg_snapshot_copy_ns(s);
        rep.bytes = vg_snapshot_size(s);
        pthread_mutex_lock(&c->mu);
        c->job = NULL;
        vg_snapshot_free(c->spare);
        c->spare = s;
    }
    /* Logged before the state changes (under c->mu, rare): whoever waits sees the line. */
    if (rep.used_pwrite) ckpt_note_pwrite();
    if (c->abandoned) {
        unlink(c->pending); /* a child killed mid-write leaves part of a file */
        vg_info("checkpoint_abandoned", "file=%s msg=\"held checkpoint dropped before it was published\"", c->pending);
        c->state = CK_IDLE;
    } else if (rep.rc != VG_OK) {
        unlink(c->pending);
        vg_error("checkpoint_failed", "mode=%s msg=\"%s\" detail=\"the previous checkpoint stays the newest\"",
                 forked ? "fork" : "copy", rep.err);
        c->last_rc = VG_ERR_IO;
        c->state = CK_IDLE;
    } else {
        c->report = rep;
        c->written_ns = vg_now_mono_ns();
        c->state = CK_WRITTEN;
    }
    pthread_cond_broadcast(&c->cv);
}

/* Renames the written, released pending file into place. Called and returns with c->mu held. */
static void publish(struct vg_checkpointer *c) {
    c->state = CK_PUBLISHING;
    struct ckpt_report rep = c->report;
    bool forked = c->forked;
    char pending[sizeof c->pending];
    memcpy(pending, c->pending, sizeof pending);
    int64_t held_ns = vg_now_mono_ns() - c->written_ns, child_ns = c->written_ns - c->taken_ns;
    pthread_mutex_unlock(&c->mu);
    char err[600];
    int64_t t0 = vg_now_mono_ns();
    int rc = ckpt_publish(c->dir, pending, err, sizeof err);
    int64_t publish_ns = vg_now_mono_ns() - t0;
    /* encode_ms and write_ms are off the input thread when forked; background_ms runs from
     * the fork (or the end of the copy) to the fsynced pending file. */
    if (rc == VG_OK)
        vg_info("checkpoint_written",
                "dir=%s mode=%s bytes=%llu encode_ms=%.1f write_ms=%.1f background_ms=%.1f held_ms=%.1f",
                c->dir, forked ? "fork" : "copy", (unsigned long long)rep.bytes, (double)rep.encode_ns / 1e6,
                (double)(rep.write_ns + publish_ns) / 1e6, (double)child_ns / 1e6, (double)held_ns / 1e6);
    else
        vg_error("checkpoint_failed", "msg=\"%s\" detail=\"the previous checkpoint stays the newest\"", err);
    pthread_mutex_lock(&c->mu);
    c->last_rc = rc;
    c->state = CK_IDLE;
    pthread_cond_broadcast(&c->cv);
}

static void *reaper_main(void *arg) {
    struct vg_checkpointer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        if (c->state == CK_WRITING) {
            finish_write(c);
        } else if (c->state == CK_WRITTEN && c->released) {
            publish(c);
        } else if (c->stop) {
            if (c->state == CK_WRITTEN) { /* held and never released: not safe to publish */
                unlink(c->pending);
                vg_info("checkpoint_abandoned", "file=%s msg=\"held checkpoint dropped at shutdown\"", c->pending);
                c->state = CK_IDLE;
            }
            break;
        } else {
            pthread_cond_wait(&c->cv, &c->mu);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- the input thread's side ------------------------------------------------------------ */

int vg_checkpointer_create(vg_checkpointer_t **out, const char *state_dir, char *errstr, size_t errstr_size) {
    if (mkdir(state_dir, 0750) != 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "state.dir %s: cannot create: %s", state_dir, strerror(errno));
        return VG_ERR_IO;
    }
    if (access(state_dir, W_OK) != 0) {
        snprintf(errstr, errstr_size, "state.dir %s: not writable: %s", state_dir, strerror(errno));
        return VG_ERR_IO;
    }
    struct vg_checkpointer *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(errstr, errstr_size, "checkpointer: out of memory");
        return VG_ERR_NOMEM;
    }
    snprintf(c->dir, sizeof c->dir, "%s", state_dir);
    c->report_fd = -1;
    ckpt_remove_stale(c->dir);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->reaper, NULL, reaper_main, c) != 0) {
        snprintf(errstr, errstr_size, "checkpointer: cannot start its thread");
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c);
        return VG_ERR_NOMEM;
    }
    *out = c;
    return VG_OK;
}

void vg_checkpointer_set_source(vg_checkpointer_t *c, const char *source) {
    snprintf(c->source, sizeof c->source, "%s", source);
}

/* Forks the child writing c->pending. Returns its pid, or -1 with errno (nothing started). */
static pid_t fork_child(struct vg_checkpointer *c, struct vg_engine *e, const void *position, size_t len,
                        bool stop_first, int *report_fd, int64_t *fork_ns) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    pid_t parent = getpid();
    int64_t t0 = vg_now_mono_ns();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_main(e, c->source, position, len, c->pending, fds[1], parent, stop_first);
    }
    *fork_ns = vg_now_mono_ns() - t0;
    int fork_errno = errno;
    close(fds[1]); /* the child's end: EOF once it has exited */
    if (pid < 0) {
        close(fds[0]);
        errno = fork_errno;
        return -1;
    }
    *report_fd = fds[0];
    return pid;
}

int vg_checkpointer_take(vg_checkpointer_t *c, struct vg_engine *e, const void *input_position, size_t len,
                         unsigned flags, struct vg_checkpoint_take *out) {
    *out = (struct vg_checkpoint_take){0};
    if (len > VG_CHECKPOINT_POSITION_MAX) return VG_ERR_RANGE;
    char superseded[sizeof c->pending] = "";
    pthread_mutex_lock(&c->mu);
    if (c->state == CK_WRITTEN && !c->released) { /* held and not released yet: a newer one replaces it */
        unlink(c->pending);
        memcpy(superseded, c->pending, sizeof superseded);
        c->state = CK_IDLE;
    }
    if (c->state != CK_IDLE) {
        pthread_mutex_unlock(&c->mu);
        return VG_ERR_FULL;
    }
    /* Only this thread leaves CK_TAKING: the fields below are stable without the lock. */
    c->state = CK_TAKING;
    c->attempts++;
    snprintf(c->pending, sizeof c->pending, "%s/checkpoint.%llu.pending", c->dir, (unsigned long long)c->attempts);
    c->released = !(flags & VG_CKPT_HOLD);
    c->abandoned = false;
    bool stop_first = c->stop_children;
    pthread_mutex_unlock(&c->mu);
    if (superseded[0]) vg_info("checkpoint_superseded", "file=%s msg=\"a newer checkpoint replaces it\"", superseded);

    if (!(flags & VG_CKPT_IN_PROCESS)) {
        int report_fd;
        pid_t pid = fork_child(c, e, input_position, len, stop_first, &report_fd, &out->fork_ns);
        if (pid > 0) {
            pthread_mutex_lock(&c->mu);
            c->child = pid;
            c->report_fd = report_fd;
            c->taken_ns = vg_now_mono_ns();
            c->forked = true;
            c->state = CK_WRITING;
            vg_snapshot_free(c->spare); /* in-process copies are the exception: don't keep one */
            c->spare = NULL;
            pthread_cond_broadcast(&c->cv);
            pthread_mutex_unlock(&c->mu);
            out->forked = true;
            out->child_pid = (int)pid;
            return VG_OK;
        }
        vg_warn("checkpoint_fork_failed", "error=\"%s\" msg=\"copying the state on the input thread instead\"",
                strerror(errno));
    }

    struct vg_snapshot *s = c->spare; /* CK_TAKING: the reaper does not touch it */
    int rc = vg_engine_snapshot_of(e, c->source, input_position, len, &s);
    pthread_mutex_lock(&c->mu);
    if (rc != VG_OK) {
        c->state = CK_IDLE;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        return rc;
    }
    c->spare = NULL;
    c->job = s;
    c->taken_ns = vg_now_mono_ns();
    c->forked = false;
    c->state = CK_WRITING;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    out->copy_ns = vg_snapshot_copy_ns(s);
    out->bytes = vg_snapshot_size(s);
    return VG_OK;
}

void vg_checkpointer_release(vg_checkpointer_t *c) {
    pthread_mutex_lock(&c->mu);
    if (c->state == CK_WRITING || c->state == CK_WRITTEN) {
        c->released = true;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}

void vg_checkpointer_abandon(vg_checkpointer_t *c) {
    char dropped[sizeof c->pending] = "";
    pthread_mutex_lock(&c->mu);
    if (c->state == CK_WRITING && !c->released) {
        c->abandoned = true; /* the reaper deletes what the write leaves */
        if (c->child > 0) kill(c->child, SIGKILL); /* not reaped yet (c->mu): still our child */
    } else if (c->state == CK_WRITTEN && !c->released) {
        unlink(c->pending);
        memcpy(dropped, c->pending, sizeof dropped);
        c->state = CK_IDLE;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (dropped[0])
        vg_info("checkpoint_abandoned", "file=%s msg=\"held checkpoint dropped before it was published\"", dropped);
}

static bool busy_locked(const struct vg_checkpointer *c) {
    return c->state == CK_TAKING || c->state == CK_WRITING || c->state == CK_PUBLISHING ||
           (c->state == CK_WRITTEN && c->released);
}

bool vg_checkpointer_busy(vg_checkpointer_t *c) {
    pthread_mutex_lock(&c->mu);
    bool busy = busy_locked(c);
    pthread_mutex_unlock(&c->mu);
    return busy;
}

int vg_checkpointer_wait(vg_checkpointer_t *c) {
    pthread_mutex_lock(&c->mu);
    while (busy_locked(c)) pthread_cond_wait(&c->cv, &c->mu);
    int rc = c->last_rc;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void ckpt_test_stop_children(vg_checkpointer_t *c, bool stop) {
    pthread_mutex_lock(&c->mu);
    c->stop_children = stop;
    pthread_mutex_unlock(&c->mu);
}

void vg_checkpointer_destroy(vg_checkpointer_t *c) {
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->reaper, NULL);
    vg_snapshot_free(c->job);
    vg_snapshot_free(c->spare);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}
