/* backtest_main.c - the vigil-backtest binary: command line, then load the labelled file and
 * the patterns file once, run the grid (engine/backtest/), write the reports. Thin: the logic
 * is in engine/backtest/ and connectors/file/. Exit codes: 0 ok, 1 usage or config, 2 runtime. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/backtest.h"
#include "vigil/engine.h"
#include "vigil/log.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: vigil-backtest --input FILE --format amlworld-csv|ndjson [options]\n"
            "\n"
            "Runs vigild's engine over a labelled history and measures every rule against the labels:\n"
            "alerts, alerted accounts, precision, transaction recall, attempt recall per typology and\n"
            "alerts per 10 k transactions (definitions: docs/BACKTEST.md).\n"
            "  --input FILE          labelled transactions: AMLworld CSV (Is Laundering) or NDJSON\n"
            "                        (optional boolean \"label\")\n"
            "  --format FMT          amlworld-csv or ndjson (default ndjson)\n"
            "  --patterns FILE       AMLworld *_Patterns.txt: attempts and typologies (CSV input)\n"
            "  -c, --config FILE     vigil.yaml for the base settings (default: built-in defaults)\n"
            "  --sweep KEY=VALUES    run a grid: VALUES is a list a,b,c or a range a..b[:step]\n"
            "                        (numbers or durations, e.g. rules.fan_in.window=24h..96h:24h);\n"
            "                        several --sweep give the product\n"
            "  --jobs N              engines run at once for a sweep (default: online cores)\n"
            "  --report FILE         write the JSON report\n"
            "  --plot FILE           write a PNG of alerts against recall (needs gnuplot)\n"
            "  --quiet               no text tables on stdout\n"
            "  --help, --version\n");
}

int main(int argc, char **argv) {
    static const struct option options[] = {
        {"input", required_argument, NULL, 'i'},   {"format", required_argument, NULL, 'f'},
        {"patterns", required_argument, NULL, 'p'}, {"config", required_argument, NULL, 'c'},
        {"sweep", required_argument, NULL, 's'},   {"jobs", required_argument, NULL, 'j'},
        {"report", required_argument, NULL, 'r'},  {"plot", required_argument, NULL, 'g'},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    const char *input = NULL, *format_name = "ndjson", *patterns_path = NULL, *config_path = NULL;
    const char *report_path = NULL, *plot_path = NULL;
    bool quiet = false;
    int exit_code = 1; /* usage and config errors until the input is read */
    struct vg_config *base = NULL;
    vg_bt_data_t *data = NULL;
    struct vg_bt_patterns patterns = {0};
    struct vg_bt_point *points = NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = cores > 0 ? (int)VG_MIN(cores, 64L) : 1;
    char errstr[1024];
    struct vg_bt_sweep *sweep = calloc(1, sizeof *sweep);
    if (!sweep) return 2;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:hq", options, NULL)) != -1) {
        switch (opt) {
        case 'i': input = optarg; break;
        case 'f': format_name = optarg; break;
        case 'p': patterns_path = optarg; break;
        case 'c': config_path = optarg; break;
        case 'r': report_path = optarg; break;
        case 'g': plot_path = optarg; break;
        case 'q': quiet = true; break;
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 64) {
                fprintf(stderr, "vigil-backtest: --jobs: expected 1..64, got '%s'\n", optarg);
                goto out;
            }
            jobs = (int)v;
            break;
        }
        case 's':
            if (vg_bt_sweep_add(sweep, optarg, errstr, sizeof errstr) != VG_OK) {
                fprintf(stderr, "vigil-backtest: %s\n", errstr);
                goto out;
            }
            break;
        case 'h':
            usage(stdout);
            exit_code = 0;
            goto out;
        case 'V':
            printf("vigil-backtest %s\n", VG_VERSION);
            exit_code = 0;
            goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind < argc || !input) {
        fprintf(stderr, "vigil-backtest: %s\n", input ? "unexpected argument" : "--input is required");
        usage(stderr);
        goto out;
    }
    enum vg_format format;
    if (strcmp(format_name, "ndjson") == 0) {
        format = VG_FORMAT_NDJSON;
    } else if (strcmp(format_name, "amlworld-csv") == 0) {
        format = VG_FORMAT_AMLWORLD_CSV;
    } else {
        fprintf(stderr, "vigil-backtest: --format: expected ndjson or amlworld-csv, got '%s'\n", format_name);
        goto out;
    }
    if (patterns_path && format != VG_FORMAT_AMLWORLD_CSV) {
        fprintf(stderr, "vigil-backtest: --patterns needs --format amlworld-csv (its lines are AMLworld CSV)\n");
        goto out;
    }

    /* Every point's config first: a bad key fails before minutes of work. */
    base = calloc(1, sizeof *base); /* zeroed: vg_config_free is safe on it */
    if (!base) {
        exit_code = 2;
        goto out;
    }
    if (vg_bt_grid_check(config_path, sweep, errstr, sizeof errstr) != VG_OK ||
        vg_config_load_overrides(base, config_path, NULL, 0, errstr, sizeof errstr) != VG_OK) {
        fprintf(stderr, "vigil-backtest: %s\n", errstr);
        goto out;
    }
    vg_log_set_level(base->log.level < VG_LOG_WARN ? base->log.level : VG_LOG_WARN); /* no per-engine start lines */

    exit_code = 2;
    size_t n_points = vg_bt_sweep_points(sweep);
    int64_t t0 = vg_now_mono_ns();
    int rc = vg_bt_data_load(&data, input, format, &base->currency, errstr, sizeof errstr);
    if (rc != VG_OK) {
        fprintf(stderr, "vigil-backtest: %s\n", errstr);
        exit_code = rc == VG_ERR_IO ? 1 : 2;
        goto out;
    }
    if (patterns_path) {
        rc = vg_bt_patterns_load(&patterns, patterns_path, &base->currency, errstr, sizeof errstr);
        if (rc != VG_OK) {
            fprintf(stderr, "vigil-backtest: %s\n", errstr);
            exit_code = rc == VG_ERR_NOMEM ? 2 : 1;
            goto out;
        }
        if (vg_bt_data_index_identities(data) != VG_OK) {
            fprintf(stderr, "vigil-backtest: out of memory\n");
            goto out;
        }
    }
    int64_t t1 = vg_now_mono_ns();
    points = calloc(n_points, sizeof *points);
    if (!points) goto out;
    if (vg_bt_grid_run(data, patterns_path ? &patterns : NULL, config_path, sweep, jobs, points, errstr,
                       sizeof errstr) != VG_OK) {
        fprintf(stderr, "vigil-backtest: %s\n", errstr);
        goto out;
    }
    int64_t t2 = vg_now_mono_ns();
    struct vg_bt_report report = {
        .input = input, .format = format_name, .patterns = patterns_path, .config = config_path,
        .pat = patterns_path ? &patterns : NULL, .n_points = n_points, .points = points,
        .load_seconds = (double)(t1 - t0) / 1e9, .run_seconds = (double)(t2 - t1) / 1e9,
        .jobs = (int)VG_MIN((size_t)jobs, n_points),
    };
    vg_bt_data_counts(data, &report.counts);
    if (!quiet && vg_bt_report_text(&report, stdout) != VG_OK) {
        fprintf(stderr, "vigil-backtest: stdout: write failed\n");
        goto out;
    }
    if (report_path && vg_bt_report_json(&report, report_path, errstr, sizeof errstr) != VG_OK) {
        fprintf(stderr, "vigil-backtest: %s\n", errstr);
        goto out;
    }
    if (plot_path && vg_bt_report_plot(&report, plot_path, errstr, sizeof errstr) != VG_OK) {
        fprintf(stderr, "vigil-backtest: %s\n", errstr);
        goto out;
    }
    exit_code = 0;
out:
    free(points);
    vg_bt_patterns_free(&patterns);
    vg_bt_data_free(data);
    if (base) vg_config_free(base);
    free(base);
    free(sweep);
    return exit_code;
}
