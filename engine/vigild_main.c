/* vigild_main.c - the vigild binary: command line (contract section 2), signal handling on
 * a dedicated thread, and the choice of input mode (file replay, Kafka, demo). Everything
 * it starts is torn down here; exit codes: 0 ok, 1 bad config or usage, 2 runtime failure. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vigil/alert_text.h"
#include "vigil/config.h"
#include "vigil/daemon.h"
#include "vigil/kafka.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/notify.h"
#include "vigil/replay.h"
#include "vigil/synth.h"

#include "bigmem.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: vigild [-c FILE] [--check-config]\n"
            "       vigild [-c FILE] --input FILE|- [--format ndjson|amlworld-csv] [--output FILE|-]\n"
            "              [--dead-letter FILE] [--state-dir DIR] [--output-format text|json]\n"
            "       vigild --demo[=SECONDS] [--output-format text|json]\n"
            "       vigild --version | --help\n"
            "\n"
            "Streaming AML/CFT transaction analyzer.\n"
            "  -c, --config FILE     vigil.yaml (without it, built-in defaults: every rule on)\n"
            "      --check-config    validate the config and rule files, print errors, exit 0/1\n"
            "      --input FILE|-    replay a file (or stdin) through the engine instead of Kafka\n"
            "      --format FMT      ndjson (default) or amlworld-csv\n"
            "      --output FILE|-   where replayed alerts go (default stdout)\n"
            "      --dead-letter F   where refused records go, with their reason (replay mode)\n"
            "      --output-format text|json\n"
            "                        printed alerts: text = one readable line each (default on a\n"
            "                        terminal), json = NDJSON (default for files and pipes; Kafka is NDJSON)\n"
            "      --state-dir DIR   checkpoint directory: a replay reads or writes state only with it, and\n"
            "                        only a checkpoint of the same input (Kafka: overrides state.dir)\n"
            "      --threads N       shard threads (overrides engine.threads; 0 = one per core)\n"
            "      --demo[=SECONDS]  embedded broker + synthetic stream, alerts printed (default 60 s)\n"
            "      --version         print the version\n"
            "Without --input, vigild consumes input.topic from kafka.brokers, which must be written\n"
            "(\"embedded\" starts an in-process development broker). Signals: TERM/INT drain and exit 0,\n"
            "HUP reloads. Exit codes: 0 ok, 1 bad config or usage, 2 runtime failure.\n"
            "The whole interface: docs/INTERFACE.md.\n");
}

/* A decimal option value, or -1 (refused as out of range) unless the whole text is digits. */
static long whole_number(const char *text) {
    char *end;
    long v;
    if (text[0] < '0' || text[0] > '9') return -1;
    v = strtol(text, &end, 10);
    return *end == '\0' ? v : -1;
}

/* The one line a failed run ends with (contract 2: errors on stderr, one line each):
 * `level=error event=vigild_failed exit=N msg="why"`. */
static void report_failure(int exit_code, const char *why) {
    char msg[2048];
    size_t n = 0;
    for (const char *c = why; *c && n + 1 < sizeof msg; c++)
        msg[n++] = *c == '"' ? '\'' : (unsigned char)*c < 0x20 ? ' ' : *c;
    msg[n] = '\0';
    vg_error("vigild_failed", "exit=%d msg=\"%s\"", exit_code, msg);
}

struct signal_ctl {
    struct vg_daemon *d;
    sigset_t set;
};

/* Turns signals into daemon flags. A second TERM/INT while draining aborts at once. */
static void *signal_thread(void *arg) {
    struct signal_ctl *ctl = arg;
    for (;;) {
        int sig;
        if (sigwait(&ctl->set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            vg_info("signal", "signal=HUP action=reload");
            vg_notify_reloading();
            atomic_store(&ctl->d->reload_requested, true);
        } else if (sig == SIGUSR2) {
            return NULL; /* shutdown of this thread */
        } else {
            if (atomic_exchange(&ctl->d->stop_requested, true)) {
                vg_warn("signal", "signal=%s action=abort", sig == SIGINT ? "INT" : "TERM");
                _exit(2);
            }
            vg_info("signal", "signal=%s action=drain", sig == SIGINT ? "INT" : "TERM");
            vg_notify_stopping();
        }
    }
}

/* Sends READY=1 to systemd once the input is being consumed (contract section 7). */
static void *ready_thread(void *arg) {
    struct vg_daemon *d = arg;
    while (!atomic_load(&d->consuming)) {
        if (atomic_load(&d->stop_requested)) return NULL;
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    vg_notify_ready();
    return NULL;
}

static void print_summary(const struct vg_daemon *d, double seconds) {
    if (!atomic_load(&d->have_final_stats)) return;
    const struct vg_engine_stats *s = &d->final_stats;
    uint64_t alerts = 0, dead = 0;
    for (int i = 0; i < VG_RULE_MAX; i++) alerts += s->alerts[i];
    for (int i = 0; i < VG_REASON_MAX; i++) dead += s->dead_letter[i];
    fprintf(stderr, "\nvigild summary: %llu transactions in %.1f s, %llu alerts, %llu dead letters, %llu accounts\n",
            (unsigned long long)s->transactions, seconds, (unsigned long long)alerts, (unsigned long long)dead,
            (unsigned long long)s->tracked_accounts);
    for (int i = 0; i < VG_RULE_MAX; i++)
        if (s->alerts[i]) fprintf(stderr, "  %-18s %llu\n", vg_rule_registry[i]->name, (unsigned long long)s->alerts[i]);
}

/* Writes the demo sanctions list (built into the binary) to a temporary file. */
static int demo_sanctions_file(char *path, size_t path_size) {
    snprintf(path, path_size, "/tmp/vigil-demo-sanctions-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int rc = f && fputs(vg_synth_sanctions_list(), f) >= 0 ? VG_OK : VG_ERR_IO;
    if (f && fclose(f) != 0) rc = VG_ERR_IO;
    if (!f && fd >= 0) close(fd);
    return rc;
}

/* For --demo without -c: the demo stream's watchlisted ids and the demo sanctions list go to
 * temporary files and the config enables them, so the demo shows every typology. Returns
 * VG_OK or an error. */
static int demo_config(struct vg_config *cfg, char *path, size_t path_size, char *list_path, size_t list_path_size,
                       char *err, size_t err_size) {
    struct vg_synth_options opt;
    vg_synth_options_default(&opt);
    opt.seed = 42;
    opt.transactions = 0;
    vg_synth_t *synth = vg_synth_create(&opt, err, err_size);
    if (!synth) return VG_ERR_INVALID;
    snprintf(path, path_size, "/tmp/vigil-demo-watchlist-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int rc = f && vg_synth_write_watchlist(synth, f) == 0 ? VG_OK : VG_ERR_IO;
    if (f) fclose(f);
    vg_synth_destroy(synth);
    if (rc != VG_OK) {
        snprintf(err, err_size, "demo: cannot write %s", path);
        return rc;
    }
    if (demo_sanctions_file(list_path, list_path_size) != VG_OK) {
        snprintf(err, err_size, "demo: cannot write %s", list_path);
        return VG_ERR_IO;
    }
    char yaml[1200];
    int n = snprintf(yaml, sizeof yaml,
                     "rules:\n  watchlist:\n    file: \"%s\"\n  sanctions:\n    lists:\n"
                     "      - {name: demo, file: \"%s\", format: tsv}\n",
                     path, list_path);
    return vg_config_load_buffer(cfg, "demo", yaml, (size_t)n, err, err_size);
}

int main(int argc, char **argv) {
    const char *config_path = NULL, *input = NULL, *output = NULL, *dead_letter = NULL, *format = NULL;
    const char *state_dir = NULL, *output_format = NULL;
    bool check_only = false, demo = false;
    long demo_seconds = 60, threads = -2; /* -2: not given */
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},   {"check-config", no_argument, NULL, 'k'},
        {"input", required_argument, NULL, 'i'},    {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},   {"dead-letter", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},  {"demo", optional_argument, NULL, 'D'},
        {"version", no_argument, NULL, 'V'},        {"help", no_argument, NULL, 'h'},
        {"state-dir", required_argument, NULL, 'S'},   {"output-format", required_argument, NULL, 'O'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    bool show_version = false, show_help = false;
    while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'k': check_only = true; break;
        case 'i': input = optarg; break;
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'd': dead_letter = optarg; break;
        case 't': threads = whole_number(optarg); break;
        case 'D':
            demo = true;
            if (optarg) demo_seconds = whole_number(optarg);
            break;
        case 'S': state_dir = optarg; break;
        case 'O': output_format = optarg; break;
        case 'V': show_version = true; break;
        case 'h': show_help = true; break;
        default: usage(stderr); return 1;
        }
    }
    if (optind < argc) { /* also after --version / --help: a stray word is a usage error */
        fprintf(stderr, "vigild: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 1;
    }
    if (show_help) {
        usage(stdout);
        return 0;
    }
    if (show_version) {
        printf("vigild %s\n", VG_VERSION);
        return 0;
    }
    enum vg_format fmt = VG_FORMAT_NDJSON; /* without --format: input.format */
    if (format && strcmp(format, "amlworld-csv") == 0) fmt = VG_FORMAT_AMLWORLD_CSV;
    else if (format && strcmp(format, "ndjson") != 0) {
        fprintf(stderr, "vigild: --format: unknown format '%s' (ndjson or amlworld-csv)\n", format);
        return 1;
    }
    if (threads == -1 || threads > 1024) {
        fprintf(stderr, "vigild: --threads: expected a whole number from 0 (one per core) to 1024\n");
        return 1;
    }
    if (output_format && strcmp(output_format, "text") != 0 && strcmp(output_format, "json") != 0) {
        fprintf(stderr, "vigild: --output-format: unknown format '%s' (text or json)\n", output_format);
        return 1;
    }
    if (state_dir && !state_dir[0]) {
        fprintf(stderr, "vigild: --state-dir: expected a directory\n");
        return 1;
    }
    if (demo && demo_seconds <= 0) {
        fprintf(stderr, "vigild: --demo: expected a whole number of seconds, at least 1\n");
        return 1;
    }

    struct vg_daemon *d = calloc(1, sizeof *d);
    struct vg_config *cfg = calloc(1, sizeof *cfg);
    if (!d || !cfg) {
        fprintf(stderr, "vigild: out of memory\n");
        free(d);
        free(cfg);
        return 2;
    }
    char err[8192] = ""; /* a config may report many errors, one line each */
    char demo_watchlist[64] = "", demo_sanctions[64] = "";
    /* As it is about to be used: Kafka mode needs kafka.brokers; a run that checkpoints to
     * state.dir (Kafka, or --check-config) needs it usable. Every error in one run. */
    unsigned checks = !input && !demo ? VG_CONFIG_CHECK_KAFKA | VG_CONFIG_CHECK_STATE_DIR : 0;
    int rc = config_path ? vg_config_load_checked(cfg, config_path, checks, err, sizeof err)
             : demo      ? demo_config(cfg, demo_watchlist, sizeof demo_watchlist, demo_sanctions, sizeof demo_sanctions, err, sizeof err)
                         : vg_config_defaults(cfg);
    if (rc != VG_OK) {
        fprintf(stderr, "%s\n", err[0] ? err : "vigild: cannot load the built-in defaults");
        free(cfg);
        free(d);
        return 1;
    }
    if (config_path) vg_config_apply_env(cfg);
    /* Kafka mode: neither --input, --demo nor input.kind: file. */
    bool kafka_mode = !input && !demo && cfg->input.kind != VG_INPUT_FILE;
    if (kafka_mode && vg_config_check_kafka_mode(cfg, err, sizeof err) != VG_OK) {
        fprintf(stderr, "%s\n", err);
        vg_config_free(cfg);
        free(cfg);
        free(d);
        return 1;
    }
    if (check_only) {
        printf("%s: ok\n", config_path ? config_path : "built-in defaults");
        vg_config_free(cfg);
        free(cfg);
        free(d);
        return 0;
    }
    /* File mode: input.kind: file replays input.file like --input; the replay takes its
     * format, alert file and dead-letter file from the config unless the options say. */
    if (!input && !demo && cfg->input.kind == VG_INPUT_FILE) input = cfg->input.file;
    /* A replay (--input, or input.kind: file) uses state only with an explicit --state-dir,
     * never the config's state.dir (contract 2). Kafka: --state-dir overrides state.dir. */
    if (!input && state_dir) snprintf(cfg->state.dir, sizeof cfg->state.dir, "%s", state_dir);
    if (input) {
        if (!format && cfg->input.format == VG_CFG_FORMAT_AMLWORLD_CSV) fmt = VG_FORMAT_AMLWORLD_CSV;
        if (!output) output = cfg->output.file[0] ? cfg->output.file : "-";
        if (!dead_letter && cfg->dead_letter.file[0]) dead_letter = cfg->dead_letter.file;
    }
    if (threads >= 0) cfg->engine.threads = (int)threads;
    if (demo) snprintf(cfg->kafka.brokers, sizeof cfg->kafka.brokers, "embedded");
    vg_log_set_level(cfg->log.level);
    /* Huge pages for the state tables: fewer TLB misses on random probes, a cheaper
     * checkpoint fork, and on the bench VM now cheaper first touch too (engine/bigmem.h). */
    vg_big_use_huge_pages(true);
    d->cfg = cfg;
    /* Alerts for a person on a terminal, NDJSON for files, pipes and Kafka (contract 2). */
    bool alerts_to_tty = input ? strcmp(output, "-") == 0 && isatty(STDOUT_FILENO) : isatty(STDOUT_FILENO);
    bool text = output_format ? strcmp(output_format, "text") == 0 : alerts_to_tty;
    d->print_alerts = !demo ? VG_PRINT_NONE : text ? VG_PRINT_TEXT : VG_PRINT_JSON;
    d->development_broker = !input && strcmp(cfg->kafka.brokers, "embedded") == 0;
    if (d->development_broker && !demo)
        vg_warn("kafka_embedded", "msg=\"kafka.brokers: embedded starts the in-process development broker: "
                "nothing outside this process writes to it. Development and demos only; name the bootstrap "
                "list (host:port,...) to consume a real cluster\"");
    d->run_for_ms = demo ? demo_seconds * 1000 : 0;
    snprintf(d->input_topic, sizeof d->input_topic, "%s", cfg->input.topic);

    /* Signals go to one thread only; every thread started from here inherits the mask. */
    struct signal_ctl ctl = {.d = d};
    sigemptyset(&ctl.set);
    sigaddset(&ctl.set, SIGTERM);
    sigaddset(&ctl.set, SIGINT);
    sigaddset(&ctl.set, SIGHUP);
    sigaddset(&ctl.set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &ctl.set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_t sig_thread;
    pthread_create(&sig_thread, NULL, signal_thread, &ctl);

    vg_metrics_t *metrics = NULL;
    if (cfg->metrics.listen[0] && vg_metrics_start(&metrics, cfg->metrics.listen, d, err, sizeof err) != VG_OK) {
        if (!input) {
            report_failure(2, err); /* a runtime failure: the value itself passed --check-config */
            pthread_kill(sig_thread, SIGUSR2);
            pthread_join(sig_thread, NULL);
            if (demo_watchlist[0]) unlink(demo_watchlist);
            if (demo_sanctions[0]) unlink(demo_sanctions);
            vg_config_free(cfg);
            free(cfg);
            free(d);
            return 2;
        }
        /* A replay with a service's config on the service's host: the service holds the
         * port. The replay's metrics are a convenience, its alerts are the job. */
        vg_warn("metrics_unavailable", "msg=\"%s; replaying without /metrics\"", err);
        err[0] = '\0';
    }
    if (metrics) vg_info("metrics_listening", "listen=%s port=%u", cfg->metrics.listen, vg_metrics_port(metrics));
    vg_watchdog_t *watchdog = NULL;
    vg_watchdog_start(&watchdog, d);
    pthread_t ready;
    pthread_create(&ready, NULL, ready_thread, d);

    int64_t started = vg_now_mono_ns();
    err[0] = '\0';
    int exit_code;
    if (input) {
        struct vg_replay_options ro = {.input = input, .format = fmt, .output = output, .dead_letter = dead_letter,
                                       .state_dir = state_dir, .text = text};
        exit_code = vg_replay_run(d, &ro, err, sizeof err);
    } else if (demo) {
        fprintf(stderr, "vigild: demo: embedded Kafka broker + synthetic stream for %ld s (Ctrl-C stops)\n",
                demo_seconds);
        exit_code = vg_kafka_run_demo(d, 2500, 42, err, sizeof err);
    } else {
        exit_code = vg_kafka_run(d, err, sizeof err);
    }
    if (exit_code != 0) report_failure(exit_code, err[0] ? err : "see the lines above");
    if (demo || (input && isatty(STDERR_FILENO))) print_summary(d, (double)(vg_now_mono_ns() - started) / 1e9);

    atomic_store(&d->stop_requested, true); /* ends the ready thread if input never started */
    pthread_join(ready, NULL);
    vg_notify_stopping();
    vg_watchdog_stop(watchdog);
    vg_metrics_stop(metrics);
    pthread_kill(sig_thread, SIGUSR2);
    pthread_join(sig_thread, NULL);
    if (demo_watchlist[0]) unlink(demo_watchlist);
    if (demo_sanctions[0]) unlink(demo_sanctions);
    vg_config_free(d->cfg);
    free(d->cfg);
    free(d);
    return exit_code;
}
