/* replay.c - replay mode (see replay.h): big sequential reads, records split in place,
 * parsed straight into a vg_txn and submitted; bad records become dead-letter lines with
 * their reason; alerts are written by the engine's collector thread through a buffered
 * file sink. One read(2) per 4 MiB chunk, never a syscall per record. */
#include "vigil/replay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil/alert.h"
#include "vigil/alert_text.h"
#include "vigil/checkpoint.h"
#include "vigil/log.h"
#include "file/replay_source.h"

#define CHUNK_BYTES (4u << 20)

struct file_sink {
    FILE *out;
    enum vg_alert_print mode;   /* NDJSON, or text lines (--output-format text) */
    enum vg_alert_print echo;   /* also print alerts on stdout (demo-style), 0 = no */
    char base_currency[4];
    bool failed;
};

static int sink_on_alert(void *opaque, const struct vg_alert_record *a) {
    struct file_sink *s = opaque;
    if (vg_alert_print(s->out, a->json, a->json_len, s->mode, s->base_currency) != 0) s->failed = true;
    if (s->echo) vg_alert_print(stdout, a->json, a->json_len, s->echo, s->base_currency);
    return s->failed ? -1 : 0;
}

static void sink_on_idle(void *opaque) {
    struct file_sink *s = opaque;
    if (fflush(s->out) != 0) s->failed = true;
    if (s->echo) fflush(stdout);
}

struct replay {
    struct vg_daemon *d;
    struct vg_engine *engine;
    const struct vg_replay_options *opt;
    FILE *dead_letter;
    char *escape_buf;
    uint64_t line_no;           /* physical line number in the input */
    uint64_t data_line;         /* AMLworld data line (tx id) */
    uint64_t records, refused;
    bool header_checked;
    char first_refused[160];    /* start of the first refused record, for the format hint */
    size_t first_refused_len;
    char first_reason[200];     /* its reason and detail */
    int64_t last_progress_ns, start_ns;
    bool progress;
    /* --state-dir: checkpoints carry "replay1 <lines consumed> <input path>" and the input's
     * identity (replay_source.h) */
    vg_checkpointer_t *ckpt;
    struct vg_replay_source source;
    char input_path[4096];      /* realpath of the input, "" for stdin */
    uint64_t skip_lines;        /* lines of this same file a checkpoint already covers */
    int64_t last_ckpt_ns;
    uint64_t ckpt_line_no;      /* line_no the last checkpoint covers */
};

static void write_dead_letter(struct replay *r, const char *rec, size_t len, const struct vg_parse_error *pe) {
    vg_engine_dead_letter(r->engine, pe->reason);
    if (r->refused == 0) {
        r->first_refused_len = VG_MIN(len, sizeof r->first_refused);
        memcpy(r->first_refused, rec, r->first_refused_len);
        snprintf(r->first_reason, sizeof r->first_reason, "line %llu: %s: %.120s", (unsigned long long)r->line_no,
                 vg_reason_name(pe->reason), pe->detail);
    }
    r->refused++;
    if (r->refused <= 5 || r->refused % 100000 == 0)
        vg_warn("dead_letter", "line=%llu reason=%s detail=\"%s\" total=%llu", (unsigned long long)r->line_no,
                vg_reason_name(pe->reason), pe->detail, (unsigned long long)r->refused);
    if (!r->dead_letter) return;
    size_t n = vg_json_escape(rec, VG_MIN(len, (size_t)VG_RECORD_MAX), r->escape_buf, VG_RECORD_MAX * 6 + 2);
    size_t dn = vg_json_escape(pe->detail, strnlen(pe->detail, sizeof pe->detail), r->escape_buf + n,
                               VG_RECORD_MAX * 6 + 2 + 1024 - n);
    fprintf(r->dead_letter, "{\"reason\":\"%s\",\"detail\":%.*s,\"source\":", vg_reason_name(pe->reason), (int)dn,
            r->escape_buf + n);
    size_t sn = vg_json_escape(r->opt->input, strlen(r->opt->input), r->escape_buf + n, 4096);
    fprintf(r->dead_letter, "%.*s,\"line\":%llu,\"payload\":%.*s}\n", (int)sn, r->escape_buf + n,
            (unsigned long long)r->line_no, (int)n, r->escape_buf);
}

static void handle_record(struct replay *r, const char *rec, size_t len, int64_t arrival_ns) {
    r->line_no++;
    if (r->line_no <= r->skip_lines) { /* processed before the restart: keep numbering only */
        if (r->opt->format == VG_FORMAT_AMLWORLD_CSV) {
            if (!r->header_checked) {
                r->header_checked = true;
                if (vg_amlworld_is_header(rec, len)) return;
            }
            r->data_line++;
        }
        return;
    }
    while (len > 0 && (rec[len - 1] == '\r' || rec[len - 1] == ' ' || rec[len - 1] == '\t')) len--;
    size_t start = 0;
    while (start < len && (rec[start] == ' ' || rec[start] == '\t')) start++;
    if (start == len) return; /* blank line */
    struct vg_txn txn;
    struct vg_parse_error pe;
    int rc;
    const struct vg_currency_table *rates = &r->d->cfg->currency;
    bool keep_sent = r->d->cfg->alerts.evidence == VG_EVIDENCE_FULL; /* fields as sent, for evidence */
    if (r->opt->format == VG_FORMAT_AMLWORLD_CSV) {
        if (!r->header_checked) {
            r->header_checked = true;
            if (vg_amlworld_is_header(rec, len)) return;
        }
        rc = vg_amlworld_parse_sent(rec, len, ++r->data_line, rates, keep_sent, &txn, &pe);
    } else {
        rc = vg_ndjson_parse_sent(rec, len, rates, keep_sent, &txn, &pe);
    }
    if (rc != VG_OK) {
        write_dead_letter(r, rec, len, &pe);
        return;
    }
    txn.seq = vg_engine_next_seq(r->engine);
    vg_engine_submit(r->engine, &txn, arrival_ns);
    r->records++;
}

static void report_progress(struct replay *r, bool final) {
    if (!r->progress) return;
    int64_t now = vg_now_mono_ns();
    if (!final && now - r->last_progress_ns < 500000000LL) return;
    r->last_progress_ns = now;
    double secs = (double)(now - r->start_ns) / 1e9;
    fprintf(stderr, "\rvigild: %llu records, %.0f records/s, %llu dead letters%s",
            (unsigned long long)r->records, secs > 0 ? (double)r->records / secs : 0.0,
            (unsigned long long)r->refused, final ? "\n" : "   ");
}

/* What a record's first bytes look like: the --format to suggest, or NULL for neither. */
static const char *looks_like(const char *rec, size_t len) {
    size_t i = 0, commas = 0;
    if (len >= 3 && (unsigned char)rec[0] == 0xEF && (unsigned char)rec[1] == 0xBB && (unsigned char)rec[2] == 0xBF)
        i = 3; /* UTF-8 byte order mark */
    while (i < len && (rec[i] == ' ' || rec[i] == '\t')) i++;
    if (i < len && rec[i] == '{') return "ndjson";
    if (vg_amlworld_is_header(rec + i, len - i)) return "amlworld-csv";
    for (size_t k = i; k < len; k++) commas += rec[k] == ',';
    /* A data line: "2022/09/01 00:20,010,8000EBD30,..." (the header may be missing). */
    if (commas >= 10 && len - i > 5 && rec[i + 4] == '/') return "amlworld-csv";
    return NULL;
}

/* Not one record could be read: says why and which format the input looks like. */
static void explain_unreadable(const struct replay *r, char *errstr, size_t errstr_size) {
    const char *given = r->opt->format == VG_FORMAT_AMLWORLD_CSV ? "amlworld-csv" : "ndjson";
    const char *seen = looks_like(r->first_refused, r->first_refused_len);
    char hint[160];
    if (seen && strcmp(seen, given) != 0)
        snprintf(hint, sizeof hint, "the input looks like %s: add --format %s", seen, seen);
    else if (seen)
        snprintf(hint, sizeof hint, "the input looks like %s but its records are refused", seen);
    else
        snprintf(hint, sizeof hint, "the input looks like neither ndjson nor amlworld-csv");
    snprintf(errstr, errstr_size, "%s: not one of %llu records could be read as %s (first: %s); %s", r->opt->input,
             (unsigned long long)r->refused, given, r->first_reason, hint);
}

/* Drains the engine and checkpoints it with the position (lines of this input consumed):
 * a forked child writes it while the replay goes on. With nothing read since the last one
 * this does nothing; while the previous one is still being written neither, and the next
 * call (after the next chunk) tries again. `final` (end of input, stop) waits for that one,
 * copies in process and waits for the file. */
static void replay_checkpoint(struct replay *r, bool final) {
    if (!r->ckpt) return;
    if (final) {
        vg_checkpointer_wait(r->ckpt);
    } else if (r->line_no == r->ckpt_line_no) {
        r->last_ckpt_ns = vg_now_mono_ns();
        return;
    } else if (vg_checkpointer_busy(r->ckpt)) {
        return;
    }
    /* The shards stay busy while the rings shrink to VG_CHECKPOINT_BACKLOG; the stall (input
     * stopped) is the drain of that bounded rest plus the fork. */
    vg_engine_wait_backlog(r->engine, VG_CHECKPOINT_BACKLOG);
    int64_t t0 = vg_now_mono_ns();
    vg_engine_flush(r->engine);
    vg_engine_drain(r->engine);
    int64_t drained = vg_now_mono_ns();
    char pos[sizeof r->input_path + 64];
    int n = snprintf(pos, sizeof pos, "replay1 %llu %s", (unsigned long long)r->line_no, r->input_path);
    struct vg_checkpoint_take t;
    int rc = vg_checkpointer_take(r->ckpt, r->engine, pos, (size_t)n, final ? VG_CKPT_IN_PROCESS : 0, &t);
    int64_t stall = vg_now_mono_ns() - t0;
    if (rc == VG_ERR_FULL) return;
    r->last_ckpt_ns = vg_now_mono_ns();
    if (rc != VG_OK) {
        vg_error("checkpoint_failed", "msg=\"out of memory taking the snapshot\"");
        return;
    }
    r->ckpt_line_no = r->line_no;
    if (t.forked)
        vg_info("checkpoint_snapshot", "lines=%llu mode=fork child=%d stall_ms=%.2f drain_ms=%.2f fork_ms=%.2f",
                (unsigned long long)r->line_no, t.child_pid, (double)stall / 1e6, (double)(drained - t0) / 1e6,
                (double)t.fork_ns / 1e6);
    else
        vg_info("checkpoint_snapshot", "lines=%llu mode=copy bytes=%zu stall_ms=%.2f drain_ms=%.2f copy_ms=%.2f",
                (unsigned long long)r->line_no, t.bytes, (double)stall / 1e6, (double)(drained - t0) / 1e6,
                (double)t.copy_ns / 1e6);
    if (final) vg_checkpointer_wait(r->ckpt);
}

/* restore check: the checkpoint must be of this very input (vg_replay_source_accept). */
static bool replay_accept(void *opaque, const char *source, const char *position, size_t position_len, char *why,
                          size_t why_size) {
    struct replay *r = opaque;
    return vg_replay_source_accept(&r->source, source, position, position_len, &r->skip_lines, why, why_size);
}

/* Starts the engine, restoring --state-dir's checkpoint when one is given and it belongs
 * to this input. Returns VG_OK or an error with errstr (nothing in the directory touched). */
static int replay_start_engine(struct replay *r, const struct vg_alert_sink *sink, char *errstr,
                               size_t errstr_size) {
    const struct vg_config *cfg = r->d->cfg;
    const char *dir = r->opt->state_dir;
    if (!dir || !dir[0]) {
        if (cfg->state.dir[0])
            vg_info("replay_stateless", "state_dir=%s msg=\"a replay neither reads nor writes the config's state.dir; "
                    "--state-dir DIR checkpoints it\"", cfg->state.dir);
        return vg_engine_start(&r->engine, cfg, sink, errstr, errstr_size);
    }
    if (strcmp(r->source.path, "-") != 0) snprintf(r->input_path, sizeof r->input_path, "%s", r->source.path);
    char pos[sizeof r->input_path + 64];
    size_t len = sizeof pos - 1;
    struct vg_restore_check check = {.accept = replay_accept, .opaque = r};
    int rc = vg_engine_start_checked(&r->engine, cfg, sink, dir, &check, pos, &len, errstr, errstr_size);
    if (rc != VG_OK) return rc;
    rc = vg_checkpointer_create(&r->ckpt, dir, errstr, errstr_size);
    if (rc != VG_OK) {
        vg_engine_stop(r->engine);
        r->engine = NULL;
        return rc;
    }
    char source[sizeof r->source.path + 128];
    vg_replay_source_text(&r->source, source, sizeof source);
    vg_checkpointer_set_source(r->ckpt, source);
    if (len && r->skip_lines)
        vg_info("replay_resume", "input=%s skip_lines=%llu msg=\"same input as the checkpoint: continuing after it\"",
                r->source.path, (unsigned long long)r->skip_lines);
    else if (len)
        vg_info("replay_resume", "input=%s msg=\"same stream as the checkpoint: state restored, continuing\"",
                r->source.path);
    return VG_OK;
}

/* Waits until fd is readable or stop is requested. Returns false on stop. */
static bool wait_readable(struct replay *r, int fd) {
    for (;;) {
        if (atomic_load(&r->d->stop_requested)) return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, 200);
        if (n > 0) return true;
        if (n == 0) vg_engine_flush(r->engine); /* idle input: let the workers see what we have */
        if (n == 0 && r->ckpt && vg_now_mono_ns() - r->last_ckpt_ns >= r->d->cfg->state.interval_ms * 1000000LL)
            replay_checkpoint(r, false);
        if (atomic_load(&r->d->reload_requested)) vg_daemon_apply_reload(r->d);
    }
}

int vg_replay_run(struct vg_daemon *d, const struct vg_replay_options *opt, char *errstr, size_t errstr_size) {
    int exit_code = 2, fd = -1;
    bool out_is_stdout = strcmp(opt->output, "-") == 0;
    struct file_sink sink = {.mode = opt->text ? VG_PRINT_TEXT : VG_PRINT_JSON,
                             .echo = out_is_stdout ? VG_PRINT_NONE : (enum vg_alert_print)d->print_alerts};
    snprintf(sink.base_currency, sizeof sink.base_currency, "%s", d->cfg->currency.base);
    struct replay r = {.d = d, .opt = opt, .progress = isatty(STDERR_FILENO) == 1};
    char *buf = NULL;

    fd = strcmp(opt->input, "-") == 0 ? STDIN_FILENO : open(opt->input, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s: cannot open: %s", opt->input, strerror(errno));
        return 1;
    }
    struct stat in_st; /* a directory opens fine but cannot be read: a usage error, not a runtime one */
    if (fstat(fd, &in_st) == 0 && S_ISDIR(in_st.st_mode)) {
        snprintf(errstr, errstr_size, "%s: cannot read: %s", opt->input, strerror(EISDIR));
        if (fd > 2) close(fd);
        return 1;
    }
    sink.out = out_is_stdout ? stdout : fopen(opt->output, "w");
    if (!sink.out) {
        snprintf(errstr, errstr_size, "%s: cannot open for writing: %s", opt->output, strerror(errno));
        exit_code = 1;
        goto out;
    }
    setvbuf(sink.out, NULL, _IOFBF, 1 << 20);
    if (opt->dead_letter) {
        r.dead_letter = fopen(opt->dead_letter, "w");
        if (!r.dead_letter) {
            snprintf(errstr, errstr_size, "%s: cannot open for writing: %s", opt->dead_letter, strerror(errno));
            exit_code = 1;
            goto out;
        }
    }
    r.escape_buf = malloc((size_t)VG_RECORD_MAX * 6 + 2 + 4096 + 1024);
    buf = malloc(CHUNK_BYTES + VG_RECORD_MAX + 1);
    if (!r.escape_buf || !buf) {
        snprintf(errstr, errstr_size, "replay: out of memory");
        goto out;
    }
    if (opt->state_dir && vg_replay_source_init(&r.source, fd, opt->input, errstr, errstr_size) != 0) goto out;
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (regular) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

    struct vg_alert_sink alert_sink = {.opaque = &sink, .on_alert = sink_on_alert, .on_idle = sink_on_idle};
    if (replay_start_engine(&r, &alert_sink, errstr, errstr_size) != VG_OK) {
        exit_code = 1;
        goto out;
    }
    atomic_store(&d->engine, r.engine);
    atomic_store(&d->consuming, true);
    r.start_ns = r.last_progress_ns = r.last_ckpt_ns = vg_now_mono_ns();

    size_t have = 0;          /* bytes in buf not yet consumed */
    bool skipping = false;    /* inside an oversized line */
    bool eof = false;
    while (!eof && !atomic_load(&d->stop_requested)) {
        if (atomic_load(&d->reload_requested)) vg_daemon_apply_reload(d);
        if (!regular && !wait_readable(&r, fd)) break;
        ssize_t n = read(fd, buf + have, CHUNK_BYTES + VG_RECORD_MAX - have);
        if (n < 0) {
            if (errno == EINTR) continue;
            snprintf(errstr, errstr_size, "%s: read failed: %s", opt->input, strerror(errno));
            vg_daemon_detach_engine(d);
            vg_engine_stop(r.engine);
            goto out;
        }
        eof = n == 0;
        have += (size_t)n;
        int64_t arrival = vg_now_mono_ns();
        size_t pos = 0;
        for (;;) {
            char *nl = memchr(buf + pos, '\n', have - pos);
            size_t end = nl ? (size_t)(nl - buf) : have;
            if (!nl && !eof) {
                if (have - pos > VG_RECORD_MAX && !skipping) { /* an oversized line: refuse it, skip the rest */
                    struct vg_parse_error pe = {.reason = VG_REASON_OVERSIZED};
                    snprintf(pe.detail, sizeof pe.detail, "record longer than %d bytes", VG_RECORD_MAX);
                    r.line_no++;
                    write_dead_letter(&r, buf + pos, 1024, &pe);
                    skipping = true;
                }
                if (skipping) pos = have;
                break;
            }
            if (skipping) {
                skipping = false; /* the tail of the oversized line, already counted */
            } else if (end > pos || nl) {
                if (end - pos > VG_RECORD_MAX) {
                    struct vg_parse_error pe = {.reason = VG_REASON_OVERSIZED};
                    snprintf(pe.detail, sizeof pe.detail, "record longer than %d bytes", VG_RECORD_MAX);
                    r.line_no++;
                    write_dead_letter(&r, buf + pos, 1024, &pe);
                } else {
                    handle_record(&r, buf + pos, end - pos, arrival);
                }
            }
            if (!nl) {
                pos = have;
                break;
            }
            pos = end + 1;
        }
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        report_progress(&r, false);
        if (r.ckpt && !skipping && vg_now_mono_ns() - r.last_ckpt_ns >= d->cfg->state.interval_ms * 1000000LL)
            replay_checkpoint(&r, false);
    }
    report_progress(&r, true);
    vg_engine_drain(r.engine);
    replay_checkpoint(&r, true); /* end of input or stop: the next run continues from here */
    atomic_store(&d->consuming, false);
    vg_daemon_detach_engine(d);
    const struct vg_engine_stats stats = d->final_stats;
    int rc = vg_engine_stop(r.engine);
    uint64_t alerts = 0;
    for (int i = 0; i < VG_RULE_MAX; i++) alerts += stats.alerts[i];
    int64_t elapsed_ns = vg_now_mono_ns() - r.start_ns;
    vg_info("replay_done", "records=%llu dead_letters=%llu alerts=%llu late=%llu accounts=%llu seconds=%.3f records_per_s=%.0f",
            (unsigned long long)r.records, (unsigned long long)r.refused, (unsigned long long)alerts,
            (unsigned long long)stats.late, (unsigned long long)stats.tracked_accounts, (double)elapsed_ns / 1e9,
            elapsed_ns > 0 ? (double)r.records * 1e9 / (double)elapsed_ns : 0.0);
    if (rc != VG_OK || sink.failed) {
        snprintf(errstr, errstr_size, "%s: writing alerts failed", opt->output);
        goto out;
    }
    if (r.records == 0 && r.refused > 0 && !atomic_load(&d->stop_requested)) { /* contract 2: exit 2 */
        explain_unreadable(&r, errstr, errstr_size);
        goto out;
    }
    if (r.records == 0 && r.refused == 0 && r.skip_lines == 0)
        vg_warn("replay_empty", "input=%s msg=\"no records in the input\"", opt->input);
    exit_code = 0;
out:
    if (r.dead_letter && fclose(r.dead_letter) != 0 && exit_code == 0) {
        snprintf(errstr, errstr_size, "%s: write failed", opt->dead_letter);
        exit_code = 2;
    }
    if (sink.out && !out_is_stdout && fclose(sink.out) != 0 && exit_code == 0) {
        snprintf(errstr, errstr_size, "%s: write failed", opt->output);
        exit_code = 2;
    }
    if (out_is_stdout) fflush(stdout);
    if (fd > 2) close(fd);
    free(buf);
    vg_checkpointer_destroy(r.ckpt);
    free(r.escape_buf);
    return exit_code;
}
