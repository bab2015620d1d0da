/* sweep.c - backtest: the grid of a --sweep. Each KEY=VALUES becomes a list of value
 * strings (a list as given, or a range expanded exactly: integers, micro-unit decimals or
 * durations, never floating point); a grid point is one value per key, handed to the config
 * loader as overrides. Checking the keys themselves is the config loader's job. */
#include "vigil/backtest.h"

#include <stdio.h>
#include <string.h>

#include "vigil/money.h"
#include "vigil/vtime.h"

static int fail(char *errstr, size_t errstr_size, const char *spec, const char *why) {
    snprintf(errstr, errstr_size, "--sweep %s: %s", spec, why);
    return VG_ERR_INVALID;
}

static bool has_letter(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')) return true;
    return false;
}

static bool is_integer(const char *s, size_t len) {
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

/* Expands "a..b[:step]" into k->values. Returns VG_OK or VG_ERR_INVALID. */
static int expand_range(struct vg_bt_sweep_key *k, const char *spec, const char *v, size_t len, char *errstr,
                        size_t errstr_size) {
    const char *dots = strstr(v, "..");
    const char *a = v, *b = dots + 2;
    size_t a_len = (size_t)(dots - v);
    const char *colon = memchr(b, ':', len - (size_t)(b - v));
    size_t b_len = colon ? (size_t)(colon - b) : len - (size_t)(b - v);
    const char *step = colon ? colon + 1 : NULL;
    size_t step_len = colon ? len - (size_t)(step - v) : 0;
    bool durations = has_letter(a, a_len) || has_letter(b, b_len);
    int64_t lo, hi, by;
    int rc;
    if (durations) {
        rc = vg_duration_parse(a, a_len, &lo);
        if (rc == VG_OK) rc = vg_duration_parse(b, b_len, &hi);
        if (rc != VG_OK) return fail(errstr, errstr_size, spec, "range ends must both be numbers or both durations (90s, 15m, 48h, 7d)");
        if (!step) return fail(errstr, errstr_size, spec, "a duration range needs a step (like 24h..96h:24h)");
        if (vg_duration_parse(step, step_len, &by) != VG_OK)
            return fail(errstr, errstr_size, spec, "bad step (a duration like 12h)");
    } else {
        rc = vg_money_parse(a, a_len, &lo);
        if (rc == VG_OK) rc = vg_money_parse(b, b_len, &hi);
        if (rc != VG_OK || lo < 0 || hi < 0)
            return fail(errstr, errstr_size, spec, "range ends must be non-negative numbers or durations");
        if (step) {
            if (vg_money_parse(step, step_len, &by) != VG_OK) return fail(errstr, errstr_size, spec, "bad step");
        } else if (is_integer(a, a_len) && is_integer(b, b_len)) {
            by = VG_MICROS_PER_UNIT;
        } else {
            return fail(errstr, errstr_size, spec, "a decimal range needs a step (like 0.5..0.9:0.1)");
        }
    }
    if (by <= 0) return fail(errstr, errstr_size, spec, "the step must be greater than 0");
    if (hi < lo) return fail(errstr, errstr_size, spec, "the range must not run backwards (a..b with a <= b)");
    for (int64_t x = lo; x <= hi; x += by) {
        if (k->n_values == VG_BT_SWEEP_VALUES) return fail(errstr, errstr_size, spec, "more than 256 values");
        char *out = k->values[k->n_values++];
        if (durations)
            vg_duration_format(x, out);
        else
            vg_money_format(x, out);
        if (x > INT64_MAX - by) break;
    }
    return VG_OK;
}

int vg_bt_sweep_add(struct vg_bt_sweep *s, const char *spec, char *errstr, size_t errstr_size) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return fail(errstr, errstr_size, spec, "expected KEY=VALUES (like rules.fan_in.min_counterparties=4..12)");
    if (s->n_keys == VG_BT_SWEEP_KEYS) return fail(errstr, errstr_size, spec, "more than 8 swept keys");
    size_t key_len = (size_t)(eq - spec);
    if (key_len >= sizeof s->keys[0].key) return fail(errstr, errstr_size, spec, "key too long");
    for (size_t i = 0; i < s->n_keys; i++)
        if (strlen(s->keys[i].key) == key_len && memcmp(s->keys[i].key, spec, key_len) == 0)
            return fail(errstr, errstr_size, spec, "key swept twice");
    struct vg_bt_sweep_key *k = &s->keys[s->n_keys];
    memset(k, 0, sizeof *k);
    memcpy(k->key, spec, key_len);
    const char *v = eq + 1;
    size_t len = strlen(v);
    if (strstr(v, "..")) {
        if (memchr(v, ',', len)) return fail(errstr, errstr_size, spec, "a range and a list cannot be mixed");
        int rc = expand_range(k, spec, v, len, errstr, errstr_size);
        if (rc != VG_OK) return rc;
    } else {
        const char *p = v;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            if (n == 0) return fail(errstr, errstr_size, spec, "empty value in the list");
            if (n >= VG_BT_VALUE_LEN) return fail(errstr, errstr_size, spec, "value too long");
            if (k->n_values == VG_BT_SWEEP_VALUES) return fail(errstr, errstr_size, spec, "more than 256 values");
            memcpy(k->values[k->n_values], p, n);
            k->values[k->n_values++][n] = '\0';
            if (!comma) break;
            p = comma + 1;
        }
    }
    size_t points = vg_bt_sweep_points(s) * k->n_values;
    if (points > VG_BT_GRID_MAX) return fail(errstr, errstr_size, spec, "the grid would exceed 4096 points");
    s->n_keys++;
    return VG_OK;
}

size_t vg_bt_sweep_points(const struct vg_bt_sweep *s) {
    size_t n = 1;
    for (size_t i = 0; i < s->n_keys; i++) n *= s->keys[i].n_values;
    return n;
}

void vg_bt_sweep_point(const struct vg_bt_sweep *s, size_t i, struct vg_config_override *ov) {
    for (size_t k = s->n_keys; k-- > 0;) {
        size_t n = s->keys[k].n_values;
        ov[k] = (struct vg_config_override){.source = "--sweep", .key = s->keys[k].key,
                                            .value = s->keys[k].values[i % n]};
        i /= n;
    }
}
