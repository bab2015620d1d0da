/* watchlist.c - rule `watchlist`: a party's account id is on the watchlist file.
 * Definition and parameters: CONTRACT.md section 5. prepare() loads the list into an
 * exact-match hash set; a reload (SIGHUP) builds a new config, so no reload code lives here. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/hash.h"

#include "vigil/alert.h"
#include "rules/rule_params.h"

/* One loaded id: its hash and where its bytes sit in the arena. len 0 = empty slot. */
struct watchlist_slot {
    uint64_t hash;
    uint32_t offset;
    uint8_t len;
};

struct vg_watchlist_set {
    size_t count;
    size_t mask;                    /* slots - 1, slots a power of two, load <= 1/2 */
    struct watchlist_slot *slots;
    char *ids;                      /* every distinct id, back to back */
    size_t ids_len, ids_cap;
};

static const struct vg_param_def watchlist_params[] = {
    {VG_PARAM_PATH, "file", "\"\"", offsetof(struct vg_watchlist_params, file),
     "list file: one id per line, # comments; reloaded on SIGHUP"},
    {0},
};

static void set_free(struct vg_watchlist_set *set) {
    if (!set) return;
    free(set->slots);
    free(set->ids);
    free(set);
}

/* Slot holding id, or the empty slot where it would go. Can't fail (load <= 1/2). */
static struct watchlist_slot *set_slot(const struct vg_watchlist_set *set, uint64_t hash, const char *id,
                                       size_t len) {
    size_t i = (size_t)hash & set->mask;
    for (;;) {
        struct watchlist_slot *s = &set->slots[i];
        if (s->len == 0) return s;
        if (s->hash == hash && s->len == len && memcmp(set->ids + s->offset, id, len) == 0) return s;
        i = (i + 1) & set->mask;
    }
}

/* Doubles the slot array. Returns VG_OK or VG_ERR_NOMEM (set unchanged). */
static int set_grow(struct vg_watchlist_set *set) {
    size_t slots = (set->mask + 1) * 2;
    struct watchlist_slot *grown = calloc(slots, sizeof *grown);
    if (!grown) return VG_ERR_NOMEM;
    struct watchlist_slot *old = set->slots;
    size_t old_slots = set->mask + 1;
    set->slots = grown;
    set->mask = slots - 1;
    for (size_t i = 0; i < old_slots; i++) {
        if (old[i].len == 0) continue;
        *set_slot(set, old[i].hash, set->ids + old[i].offset, old[i].len) = old[i];
    }
    free(old);
    return VG_OK;
}

/* Adds an id (1..VG_ID_MAX bytes); a duplicate is a no-op. Returns VG_OK, VG_ERR_NOMEM or
 * VG_ERR_FULL (arena beyond 4 GiB). */
static int set_add(struct vg_watchlist_set *set, const char *id, size_t len) {
    if ((set->count + 1) * 2 > set->mask + 1 && set_grow(set) != VG_OK) return VG_ERR_NOMEM;
    uint64_t hash = vg_hash64_id(id, len); /* as the shard routes by: lookups reuse its hash */
    struct watchlist_slot *slot = set_slot(set, hash, id, len);
    if (slot->len) return VG_OK;
    if (set->ids_len + len > UINT32_MAX) return VG_ERR_FULL;
    if (set->ids_len + len > set->ids_cap) {
        size_t cap = set->ids_cap ? set->ids_cap * 2 : 4096;
        char *grown = realloc(set->ids, cap);
        if (!grown) return VG_ERR_NOMEM;
        set->ids = grown;
        set->ids_cap = cap;
    }
    memcpy(set->ids + set->ids_len, id, len);
    slot->hash = hash;
    slot->offset = (uint32_t)set->ids_len;
    slot->len = (uint8_t)len;
    set->ids_len += len;
    set->count++;
    return VG_OK;
}

bool vg_watchlist_contains_hashed(const struct vg_watchlist_params *params, const char *id, size_t len,
                                  uint64_t hash) {
    const struct vg_watchlist_set *set = params ? params->set : NULL;
    if (!set || set->count == 0 || len == 0 || len > VG_ID_MAX) return false;
    return set_slot(set, hash, id, len)->len != 0;
}

bool vg_watchlist_contains(const struct vg_watchlist_params *params, const char *id, size_t len) {
    return vg_watchlist_contains_hashed(params, id, len, vg_hash64_id(id, len));
}

size_t vg_watchlist_size(const struct vg_watchlist_params *params) {
    return params && params->set ? params->set->count : 0;
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void watchlist_release(void *params) {
    struct vg_watchlist_params *p = params;
    set_free(p->set);
    p->set = NULL;
}

/* Loads p->file (relative to base_dir): one id per line, surrounding whitespace trimmed,
 * blank lines and lines starting with '#' skipped, a '#' after whitespace starts a comment. An empty file name is an empty list.
 * Returns VG_OK, VG_ERR_IO (unreadable), VG_ERR_INVALID (an id over 64 bytes, with the
 * list's file:line) or VG_ERR_NOMEM; errstr starts with "rules.watchlist.file: ". */
static int watchlist_prepare(void *params, const char *base_dir, char *errstr, size_t errstr_size) {
    struct vg_watchlist_params *p = params;
    watchlist_release(p);
    if (p->file[0] == '\0') return VG_OK;

    char path[VG_PARAM_PATH_MAX * 2];
    if (p->file[0] == '/' || !base_dir || !base_dir[0])
        snprintf(path, sizeof path, "%s", p->file);
    else
        snprintf(path, sizeof path, "%s/%s", base_dir, p->file);

    struct vg_watchlist_set *set = calloc(1, sizeof *set);
    FILE *f = NULL;
    char *line = NULL;
    size_t line_cap = 0;
    int rc = VG_ERR_NOMEM;
    if (!set || !(set->slots = calloc(64, sizeof *set->slots))) {
        snprintf(errstr, errstr_size, "rules.watchlist.file: out of memory loading '%s'", path);
        goto err;
    }
    set->mask = 63;
    f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errstr_size, "rules.watchlist.file: cannot open '%s': %s", path, strerror(errno));
        rc = VG_ERR_IO;
        goto err;
    }
    unsigned long line_no = 0;
    ssize_t n;
    errno = 0;
    while ((n = getline(&line, &line_cap, f)) >= 0) {
        line_no++;
        size_t start = 0, end = (size_t)n;
        while (start < end && is_space(line[start])) start++;
        if (start == end || line[start] == '#') continue;
        /* A trailing comment starts at a '#' after whitespace ("ACC1  # note"); a '#'
         * inside an id ("ACC#1") is part of it. */
        for (size_t i = start + 1; i < end; i++)
            if (line[i] == '#' && is_space(line[i - 1])) {
                end = i;
                break;
            }
        while (end > start && is_space(line[end - 1])) end--;
        size_t len = end - start;
        if (len > VG_ID_MAX) {
            snprintf(errstr, errstr_size, "rules.watchlist.file: %s:%lu: id longer than %d bytes (%zu)", path,
                     line_no, VG_ID_MAX, len);
            rc = VG_ERR_INVALID;
            goto err;
        }
        rc = set_add(set, line + start, len);
        if (rc != VG_OK) {
            snprintf(errstr, errstr_size, "rules.watchlist.file: %s:%lu: list too large", path, line_no);
            goto err;
        }
    }
    if (ferror(f)) {
        snprintf(errstr, errstr_size, "rules.watchlist.file: cannot read '%s': %s", path, strerror(errno));
        rc = VG_ERR_IO;
        goto err;
    }
    free(line);
    fclose(f);
    p->set = set; /* owned by the params now, freed by watchlist_release */
    return VG_OK;

err:
    free(line);
    if (f) fclose(f);
    set_free(set);
    return rc;
}

/* Alerts about the current account when it is listed: one transaction of evidence, the
 * counterparty, the amount. */
static void watchlist_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_watchlist_params *p = params;
    if (!vg_watchlist_contains_hashed(p, ctx->account.ptr, ctx->account.len, ctx->account_hash)) return;
    static _Thread_local struct vg_alert alert; /* ~33 KB: too big for a worker's stack frame */
    const struct vg_txn *txn = ctx->txn;
    vg_alert_init(&alert, VG_RULE_WATCHLIST, ctx->account.ptr, ctx->account.len, txn);
    alert.score = 1.0;
    alert.window_start_ms = txn->ts_ms;
    alert.window_end_ms = txn->ts_ms;
    vg_alert_add_tx(&alert, txn->id, txn->id_len);
    if (ctx->counterparty.len) vg_alert_add_account(&alert, ctx->counterparty.ptr, ctx->counterparty.len);
    vg_alert_add_metric(&alert, "amount", VG_METRIC_MONEY, txn->amount_micros);
    vg_alert_emit(out, &alert);
}

const struct vg_rule_def vg_rule_watchlist = {
    .name = "watchlist",
    .description = "A party's account id is on the watchlist file",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_watchlist_params),
    .params = watchlist_params,
    .prepare = watchlist_prepare,
    .release = watchlist_release,
    .lookback_ms = NULL,
    .on_event = watchlist_on_event,
};
