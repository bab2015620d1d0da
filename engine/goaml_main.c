/* goaml_main.c - the vigil-goaml binary: goAML STR drafts from vigil's alerts. Reads the
 * config's report: section, then alert lines from a file, stdin or the Kafka alerts topic,
 * and hands them to the drafter (connectors/goaml/). Exit codes: 0 ok (rejected drafts
 * included: they are counted and kept), 1 bad config or usage, 2 runtime failure. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/config.h"
#include "vigil/goaml.h"
#include "vigil/goaml_kafka.h"
#include "vigil/goaml_metrics.h"
#include "vigil/log.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: vigil-goaml -c vigil.yaml [--input FILE|-] [--output-dir DIR]\n"
            "       vigil-goaml -c vigil.yaml --kafka [--once]\n"
            "       vigil-goaml -c vigil.yaml --check-config\n"
            "\n"
            "goAML suspicious transaction report drafts from vigil alerts (alerts.evidence: full),\n"
            "one <report> per case, validated against the FIU's XSD (report.schema).\n"
            "  -c, --config FILE   vigil.yaml with a report: section (required)\n"
            "      --input FILE|-  alert NDJSON to read (default: stdin)\n"
            "      --kafka         read output.topic from kafka.brokers in consumer group report.group;\n"
            "                      drafts go to report.output_topic when set, else report.output_dir\n"
            "      --once          with --kafka: stop once the topic is read to its end\n"
            "      --output-dir D  overrides report.output_dir\n"
            "      --check-config  load the config, the FIU's schema and report.clients; exit 0/1\n"
            "Drafts that fail validation go to <output_dir>/rejected/ with the validator's messages.\n"
            "Signals: TERM/INT close the open cases, write them and exit.\n");
}

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static int read_stream(struct vg_goaml_drafter *d, FILE *in) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (!stop_requested && (n = getline(&line, &cap, in)) >= 0) vg_goaml_drafter_line(d, line, (size_t)n);
    free(line);
    return ferror(in) ? -1 : 0;
}

int main(int argc, char **argv) {
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'}, {"input", required_argument, NULL, 'i'},
        {"output-dir", required_argument, NULL, 'o'}, {"kafka", no_argument, NULL, 'k'},
        {"once", no_argument, NULL, '1'}, {"check-config", no_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *input = "-", *output_dir = NULL;
    bool kafka = false, once = false, check_only = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'i': input = optarg; break;
        case 'o': output_dir = optarg; break;
        case 'k': kafka = true; break;
        case '1': once = true; break;
        case 'C': check_only = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("vigil-goaml %s\n", VG_VERSION); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (!config_path || optind != argc) {
        usage(stderr);
        return 1;
    }
    struct vg_config cfg;
    char err[4096];
    if (vg_config_load(&cfg, config_path, err, sizeof err) != VG_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    vg_log_set_level(cfg.log.level);
    if (output_dir && cfg.report) snprintf(cfg.report->output_dir, sizeof cfg.report->output_dir, "%s", output_dir);
    struct vg_goaml_kafka *gk = NULL;
    if (check_only) { /* what a draft needs: the report section, the schema, the clients file */
        struct vg_goaml_drafter *d = NULL;
        int rc = cfg.report ? vg_goaml_drafter_create(&d, cfg.report, &cfg.currency, 0, NULL, NULL, err, sizeof err)
                            : VG_ERR_INVALID;
        if (rc != VG_OK) fprintf(stderr, "%s: %s\n", config_path, cfg.report ? err : "report: the section is missing");
        else printf("%s: ok\n", config_path);
        vg_goaml_drafter_destroy(d);
        vg_config_free(&cfg);
        return rc == VG_OK ? 0 : 1;
    }
    if (kafka && vg_goaml_kafka_create(&gk, &cfg, err, sizeof err) != VG_OK) {
        fprintf(stderr, "%s\n", err);
        vg_config_free(&cfg);
        return 1;
    }
    struct vg_goaml_drafter *d;
    bool to_topic = kafka && cfg.report && cfg.report->output_topic[0];
    if (vg_goaml_drafter_create(&d, cfg.report, &cfg.currency, cfg.engine.allowed_lateness_ms,
                                to_topic ? vg_goaml_kafka_publish : NULL, gk, err, sizeof err) != VG_OK) {
        fprintf(stderr, "%s: %s\n", config_path, err);
        vg_goaml_kafka_destroy(gk);
        vg_config_free(&cfg);
        return 1;
    }
    struct vg_goaml_metrics_ctx metrics_ctx = {.drafter = d, .kafka = gk, .topic = cfg.output.topic};
    vg_metrics_t *metrics = NULL;
    if (cfg.report->metrics_listen[0]) {
        if (vg_goaml_metrics_start(&metrics, cfg.report->metrics_listen, &metrics_ctx, err, sizeof err) != VG_OK) {
            fprintf(stderr, "%s: report.metrics_listen: %s\n", config_path, err);
            vg_goaml_drafter_destroy(d);
            vg_goaml_kafka_destroy(gk);
            vg_config_free(&cfg);
            return 1;
        }
        vg_info("metrics_listening", "listen=%s port=%u", cfg.report->metrics_listen, vg_metrics_port(metrics));
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int rc = 0;
    if (kafka) {
        rc = vg_goaml_kafka_run(gk, d, once, &stop_requested);
    } else {
        FILE *in = strcmp(input, "-") == 0 ? stdin : fopen(input, "r");
        if (!in) {
            fprintf(stderr, "%s: cannot open\n", input);
            rc = -1;
        } else {
            rc = read_stream(d, in);
            if (in != stdin) fclose(in);
            vg_goaml_drafter_flush(d);
        }
    }
    struct vg_goaml_stats s;
    vg_goaml_drafter_stats(d, &s);
    fprintf(stderr,
            "vigil-goaml: alerts=%llu bad_alerts=%llu cases=%llu drafted=%llu rejected=%llu not_reportable=%llu "
            "write_failures=%llu\n",
            (unsigned long long)s.alerts, (unsigned long long)s.bad_alerts, (unsigned long long)s.cases,
            (unsigned long long)s.drafted, (unsigned long long)s.rejected, (unsigned long long)s.not_reportable,
            (unsigned long long)s.write_failures);
    vg_metrics_stop(metrics); /* before what it reads */
    vg_goaml_drafter_destroy(d);
    vg_goaml_kafka_destroy(gk);
    vg_config_free(&cfg);
    return rc != 0 || s.write_failures ? 2 : 0;
}
