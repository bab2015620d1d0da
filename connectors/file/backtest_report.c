/* backtest_report.c - writes vigil-backtest's results: text tables for a terminal, the JSON
 * report (--report; schema in docs/BACKTEST.md) and a gnuplot PNG of alerts against recall
 * (--plot). Formatting only: every figure comes from engine/backtest/score.c. */
#include "vigil/backtest.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "vigil/alert.h"

static const char *rule_name(int r) { return r == VG_BT_ALL ? "ALL" : vg_rule_registry[r]->name; }

/* The settings of a point as "k=v k=v", or "defaults" / "as configured". */
static const char *settings(const struct vg_bt_point *pt, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < pt->n_ov && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s=%s", i ? " " : "", pt->ov[i].key, pt->ov[i].value);
    if (pt->n_ov == 0) snprintf(buf, cap, "as configured");
    return buf;
}

static void rule_row(FILE *f, const struct vg_bt_figures *fg, int r) {
    const struct vg_bt_rule_figures *x = &fg->rule[r];
    fprintf(f, "%-18s %8llu %8llu %9.3f %10.3f %10.3f %10.2f\n", rule_name(r), (unsigned long long)x->alerts,
            (unsigned long long)x->accounts, vg_bt_precision(x), vg_bt_recall(x->tx_evidence, fg->laundering),
            vg_bt_recall(x->tx_account, fg->laundering), vg_bt_per_10k(x->alerts, fg->transactions));
}

static void point_text(const struct vg_bt_report *r, const struct vg_bt_point *pt, size_t index, FILE *f) {
    const struct vg_bt_figures *fg = &pt->figures;
    char buf[1024];
    if (r->n_points > 1)
        fprintf(f, "\n== point %zu/%zu: %s\n", index + 1, r->n_points, settings(pt, buf, sizeof buf));
    fprintf(f, "%-18s %8s %8s %9s %10s %10s %10s\n", "rule", "alerts", "accounts", "precision", "recall_ev",
            "recall_acc", "per_10k");
    for (int i = 0; i < VG_RULE_MAX; i++) {
        if (!fg->rule[i].enabled) continue;
        rule_row(f, fg, i);
    }
    rule_row(f, fg, VG_BT_ALL);
    if (!r->pat || fg->n_typologies == 0) return;
    fprintf(f, "%-18s %8s %17s %17s  %s\n", "typology", "attempts", "caught_ev", "caught_acc", "rules (evidence)");
    for (size_t t = 0; t < fg->n_typologies; t++) {
        const struct vg_bt_rule_figures *all = &fg->rule[VG_BT_ALL];
        fprintf(f, "%-18s %8llu %8llu (%5.3f) %8llu (%5.3f) ", r->pat->typologies[t], (unsigned long long)fg->attempts[t],
                (unsigned long long)all->attempts_evidence[t], vg_bt_recall(all->attempts_evidence[t], fg->attempts[t]),
                (unsigned long long)all->attempts_account[t], vg_bt_recall(all->attempts_account[t], fg->attempts[t]));
        bool any = false;
        for (int i = 0; i < VG_RULE_MAX; i++) {
            if (!fg->rule[i].attempts_evidence[t]) continue;
            fprintf(f, "%s%s:%llu", any ? " " : " ", rule_name(i), (unsigned long long)fg->rule[i].attempts_evidence[t]);
            any = true;
        }
        fprintf(f, "%s\n", any ? "" : " -");
    }
}

int vg_bt_report_text(const struct vg_bt_report *r, FILE *f) {
    fprintf(f, "vigil-backtest: %s (%s), %llu transactions, %llu labelled laundering", r->input, r->format,
            (unsigned long long)r->counts.transactions, (unsigned long long)r->counts.laundering);
    if (r->counts.refused)
        fprintf(f, ", %llu refused by the parser (%llu of them laundering)", (unsigned long long)r->counts.refused,
                (unsigned long long)r->counts.refused_laundering);
    fprintf(f, "\n");
    if (r->pat)
        fprintf(f, "patterns: %s, %zu attempts, %zu typologies\n", r->patterns, r->pat->n_attempts,
                r->pat->n_typologies);
    if (r->counts.bad_labels)
        fprintf(f, "warning: %llu records carry a label that is neither 0/1 nor true/false (read as not laundering)\n",
                (unsigned long long)r->counts.bad_labels);
    if (r->counts.duplicate_ids)
        fprintf(f, "warning: %llu transaction ids occur more than once (evidence resolves to the first)\n",
                (unsigned long long)r->counts.duplicate_ids);
    fprintf(f, "precision: alerts whose evidence holds >= 1 laundering transaction / alerts\n"
               "recall_ev: laundering transactions in some alert's evidence / laundering transactions\n"
               "recall_acc: laundering transactions to or from an alerted account within that alert's\n"
               "            [window_start, window_end] / laundering transactions\n");
    if (r->pat) fprintf(f, "caught: attempts with >= 1 transaction counted by recall_ev / recall_acc\n");
    const struct vg_bt_figures *first = r->n_points ? &r->points[0].figures : NULL;
    if (first && first->pattern_txns_unmatched)
        fprintf(f, "warning: %llu transactions of the patterns file are not in the input (not counted)\n",
                (unsigned long long)first->pattern_txns_unmatched);
    for (size_t i = 0; i < r->n_points; i++) {
        if (r->points[i].figures.evidence_unresolved)
            fprintf(f, "warning: point %zu: %llu evidence ids not found in the input\n", i + 1,
                    (unsigned long long)r->points[i].figures.evidence_unresolved);
    }
    for (size_t i = 0; i < r->n_points; i++) point_text(r, &r->points[i], i, f);
    if (r->n_points > 1) {
        char buf[1024];
        fprintf(f, "\n== sweep summary (all rules together)\n%8s %9s %10s %10s %10s  %s\n", "alerts", "precision",
                "recall_ev", "recall_acc", "per_10k", "settings");
        for (size_t i = 0; i < r->n_points; i++) {
            const struct vg_bt_figures *fg = &r->points[i].figures;
            const struct vg_bt_rule_figures *x = &fg->rule[VG_BT_ALL];
            fprintf(f, "%8llu %9.3f %10.3f %10.3f %10.2f  %s\n", (unsigned long long)x->alerts, vg_bt_precision(x),
                    vg_bt_recall(x->tx_evidence, fg->laundering), vg_bt_recall(x->tx_account, fg->laundering),
                    vg_bt_per_10k(x->alerts, fg->transactions), settings(&r->points[i], buf, sizeof buf));
        }
    }
    fprintf(f, "\nread %.2f s, engine runs %.2f s (%zu point%s, %d in parallel)\n", r->load_seconds, r->run_seconds,
            r->n_points, r->n_points == 1 ? "" : "s", r->jobs);
    fflush(f);
    return ferror(f) ? VG_ERR_IO : VG_OK;
}

/* ---- JSON ----------------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s) {
    char buf[4096];
    size_t n = vg_json_escape(s ? s : "", s ? strlen(s) : 0, buf, sizeof buf);
    fwrite(buf, 1, n, f);
}

static void json_rule(FILE *f, const struct vg_bt_report *r, const struct vg_bt_figures *fg, int i) {
    const struct vg_bt_rule_figures *x = &fg->rule[i];
    fprintf(f, "{\"rule\":\"%s\",\"enabled\":%s,\"alerts\":%llu,\"alerts_laundering\":%llu,\"accounts\":%llu,"
               "\"precision\":%.6f,\"tx_evidence\":%llu,\"tx_recall_evidence\":%.6f,\"tx_account\":%llu,"
               "\"tx_recall_account\":%.6f,\"alerts_per_10k\":%.4f,\"attempts\":{",
            rule_name(i), x->enabled ? "true" : "false", (unsigned long long)x->alerts,
            (unsigned long long)x->alerts_laundering, (unsigned long long)x->accounts, vg_bt_precision(x),
            (unsigned long long)x->tx_evidence, vg_bt_recall(x->tx_evidence, fg->laundering),
            (unsigned long long)x->tx_account, vg_bt_recall(x->tx_account, fg->laundering),
            vg_bt_per_10k(x->alerts, fg->transactions));
    for (size_t t = 0; r->pat && t < fg->n_typologies; t++) {
        fprintf(f, "%s", t ? "," : "");
        json_str(f, r->pat->typologies[t]);
        fprintf(f, ":{\"evidence\":%llu,\"recall_evidence\":%.6f,\"account\":%llu,\"recall_account\":%.6f}",
                (unsigned long long)x->attempts_evidence[t], vg_bt_recall(x->attempts_evidence[t], fg->attempts[t]),
                (unsigned long long)x->attempts_account[t], vg_bt_recall(x->attempts_account[t], fg->attempts[t]));
    }
    fprintf(f, "}}");
}

int vg_bt_report_json(const struct vg_bt_report *r, const char *path, char *errstr, size_t errstr_size) {
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: cannot open for writing: %s", path, strerror(errno));
        return VG_ERR_IO;
    }
    fprintf(f, "{\"tool\":\"vigil-backtest\",\"version\":\"%s\",\"input\":", VG_VERSION);
    json_str(f, r->input);
    fprintf(f, ",\"format\":\"%s\",\"patterns\":", r->format);
    if (r->patterns) json_str(f, r->patterns); else fprintf(f, "null");
    fprintf(f, ",\"config\":");
    if (r->config) json_str(f, r->config); else fprintf(f, "null");
    fprintf(f, ",\"transactions\":%llu,\"laundering\":%llu,\"refused\":%llu,\"refused_laundering\":%llu,"
               "\"bad_labels\":%llu,\"duplicate_ids\":%llu,",
            (unsigned long long)r->counts.transactions, (unsigned long long)r->counts.laundering,
            (unsigned long long)r->counts.refused, (unsigned long long)r->counts.refused_laundering,
            (unsigned long long)r->counts.bad_labels, (unsigned long long)r->counts.duplicate_ids);
    fprintf(f, "\"definitions\":{\"precision\":\"alerts whose evidence holds at least one laundering transaction / alerts\","
               "\"tx_recall_evidence\":\"laundering transactions in some alert's evidence (tx_ids) / laundering transactions\","
               "\"tx_recall_account\":\"laundering transactions to or from an alerted account with a timestamp inside that "
               "alert's [window_start, window_end] / laundering transactions\","
               "\"attempts\":\"an attempt of the patterns file is caught when one of its transactions is counted, by either "
               "definition\",\"alerts_per_10k\":\"alerts per 10000 transactions read\"},");
    fprintf(f, "\"typologies\":[");
    const struct vg_bt_figures *first = r->n_points ? &r->points[0].figures : NULL;
    for (size_t t = 0; r->pat && first && t < r->pat->n_typologies; t++) {
        fprintf(f, "%s{\"name\":", t ? "," : "");
        json_str(f, r->pat->typologies[t]);
        fprintf(f, ",\"attempts\":%llu}", (unsigned long long)first->attempts[t]);
    }
    fprintf(f, "],\"pattern_txns_unmatched\":%llu,\"points\":[",
            first ? (unsigned long long)first->pattern_txns_unmatched : 0ULL);
    for (size_t i = 0; i < r->n_points; i++) {
        const struct vg_bt_point *pt = &r->points[i];
        fprintf(f, "%s{\"settings\":{", i ? "," : "");
        for (size_t k = 0; k < pt->n_ov; k++) {
            fprintf(f, "%s", k ? "," : "");
            json_str(f, pt->ov[k].key);
            fprintf(f, ":");
            json_str(f, pt->ov[k].value);
        }
        fprintf(f, "},\"seconds\":%.3f,\"evidence_unresolved\":%llu,\"rules\":[", pt->figures.seconds,
                (unsigned long long)pt->figures.evidence_unresolved);
        bool any = false;
        for (int ru = 0; ru < VG_RULE_MAX; ru++) {
            if (!pt->figures.rule[ru].enabled) continue;
            fprintf(f, "%s", any ? "," : "");
            json_rule(f, r, &pt->figures, ru);
            any = true;
        }
        fprintf(f, "],\"overall\":");
        json_rule(f, r, &pt->figures, VG_BT_ALL);
        fprintf(f, "}");
    }
    fprintf(f, "]}\n");
    int rc = VG_OK;
    if (ferror(f)) rc = VG_ERR_IO;
    if (f != stdout ? fclose(f) != 0 : fflush(f) != 0) rc = VG_ERR_IO;
    if (rc != VG_OK) snprintf(errstr, errstr_size, "%s: write failed", path);
    return rc;
}

/* ---- gnuplot --------------------------------------------------------------------------- */

/* The values of a point, "4" or "4 24h": short labels for the plot. */
static const char *values_label(const struct vg_bt_point *pt, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < pt->n_ov && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? " " : "", pt->ov[i].value);
    for (char *c = buf; *c; c++)
        if (*c == '\t' || *c == '\n') *c = ' ';
    return buf;
}

/* Rules a sweep touches (rules.<name>.* keys), as a mask; 0 when it touches none. */
static uint32_t swept_rules(const struct vg_bt_report *r) {
    uint32_t mask = 0;
    if (r->n_points == 0) return 0;
    const struct vg_bt_point *pt = &r->points[0];
    for (size_t i = 0; i < pt->n_ov; i++) {
        const char *k = pt->ov[i].key;
        if (strncmp(k, "rules.", 6) != 0) continue;
        const char *dot = strchr(k + 6, '.');
        int id = vg_rule_find(k + 6, dot ? (size_t)(dot - k - 6) : strlen(k + 6));
        if (id >= 0) mask |= 1u << id;
    }
    return mask;
}

int vg_bt_report_plot(const struct vg_bt_report *r, const char *path, char *errstr, size_t errstr_size) {
    FILE *g = popen("gnuplot", "w");
    if (!g) {
        snprintf(errstr, errstr_size, "--plot: cannot run gnuplot: %s", strerror(errno));
        return VG_ERR_IO;
    }
    char esc[2048];
    size_t n = 0;
    for (const char *p = path; *p && n + 2 < sizeof esc; p++) { /* inside a single-quoted gnuplot string */
        if (*p == '\'') esc[n++] = '\'';
        esc[n++] = *p;
    }
    esc[n] = '\0';
    bool sweep = r->n_points > 1;
    uint32_t shown = sweep ? swept_rules(r) : 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < r->n_points; i++)
        for (int ru = 0; ru <= VG_RULE_MAX; ru++) {
            uint64_t a = r->points[i].figures.rule[ru].alerts;
            if (!a || !(ru == VG_BT_ALL || !sweep || (shown & (1u << ru)))) continue;
            lo = VG_MIN(lo, a);
            hi = VG_MAX(hi, a);
        }
    fprintf(g, "set terminal pngcairo size 1000,640 noenhanced\nset output '%s'\n", esc);
    fprintf(g, "set title 'vigil-backtest: alerts against transaction recall (%zu point%s)'\n", r->n_points,
            r->n_points == 1 ? "" : "s");
    fprintf(g, "set xlabel 'alerts%s'\nset ylabel 'transaction recall'\nset yrange [0:1.05]\nset grid\n"
               "set key top left box opaque\nset datafile separator '\\t'\n",
            hi > 20 * VG_MAX(lo, 1) ? " (log scale)" : "");
    if (hi > 20 * VG_MAX(lo, 1)) fprintf(g, "set logscale x\n");
    /* $all: one row per point, overall figures; $rules: the swept rules per point, or every
     * rule that alerted in a single run. */
    fprintf(g, "$all << EOD\n");
    char label[1024];
    for (size_t i = 0; i < r->n_points; i++) {
        const struct vg_bt_figures *fg = &r->points[i].figures;
        const struct vg_bt_rule_figures *x = &fg->rule[VG_BT_ALL];
        fprintf(g, "%llu\t%.6f\t%.6f\t%s\n", (unsigned long long)x->alerts, vg_bt_recall(x->tx_evidence, fg->laundering),
                vg_bt_recall(x->tx_account, fg->laundering), values_label(&r->points[i], label, sizeof label));
    }
    fprintf(g, "EOD\n$rules << EOD\n");
    bool any_rule = false;
    for (int ru = 0; ru < VG_RULE_MAX; ru++) {
        for (size_t i = 0; i < r->n_points; i++) {
            const struct vg_bt_figures *fg = &r->points[i].figures;
            const struct vg_bt_rule_figures *x = &fg->rule[ru];
            if (!x->enabled || (sweep ? !(shown & (1u << ru)) : !x->alerts)) continue;
            fprintf(g, "%llu\t%.6f\t%s%s%s\n", (unsigned long long)VG_MAX(x->alerts, 1),
                    vg_bt_recall(x->tx_evidence, fg->laundering), rule_name(ru), sweep ? " " : "",
                    sweep ? values_label(&r->points[i], label, sizeof label) : "");
            any_rule = true;
        }
        if (sweep) fprintf(g, "\n"); /* a gap between rules: one line each */
    }
    fprintf(g, "EOD\n");
    fprintf(g, "plot $all using 1:2 with linespoints pt 7 title 'all rules, recall (evidence)', "
               "$all using 1:3 with linespoints pt 5 title 'all rules, recall (account in window)'%s",
            sweep ? ", $all using 1:2:4 with labels offset 0,1 font ',8' notitle" : "");
    if (any_rule)
        fprintf(g, ", $rules using 1:2 with %s pt 6 title '%s, recall (evidence)', "
                   "$rules using 1:2:3 with labels offset 0,-1 font ',8' notitle",
                sweep ? "linespoints" : "points", sweep ? "swept rule" : "one rule");
    fprintf(g, "\n");
    int status = pclose(g);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(errstr, errstr_size, "--plot %s: gnuplot failed (status %d; is gnuplot installed?)", path, status);
        return VG_ERR_IO;
    }
    return VG_OK;
}
