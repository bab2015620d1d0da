/* sanctions.c - rule `sanctions`: a party's name (or identifier) matches an entry of a loaded
 * sanctions list (contract section 5; matching: engine/screen/, docs/SCREENING.md). Runs in
 * the shard of each party's account, on that party's side of the transaction only. prepare()
 * loads every list (a reload builds a new config, so a list that fails keeps the old one).
 * The loaded lists carry a cache, shared by the shard threads, of parties (name, identifier,
 * birth date) screened clean against them; each shard thread caches the parties that matched. The (account, list entry) cooldown is the
 * stage's (engine/emit.c, keyed by the alert's discriminator "list\0entry"), checkpointed. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rule_params.h"
#include "vigil/alert.h"
#include "vigil/config.h"
#include "vigil/hash.h"
#include "vigil/lists.h"
#include "vigil/log.h"

#define HITS_MAX 8
#define CACHE_SLOTS (1u << 16)          /* clean parties, shared by the shard threads (512 KB) */
#define CACHE_WAYS 4                    /* a key lives in one of 4 slots of its 32-byte bucket */
#define HIT_SLOTS (1u << 12)            /* parties that matched, with their hits (~420 KB) */
#define HIT_WAYS 2

struct vg_sanctions_loaded {
    uint64_t generation;                /* unique per load: the hit caches' version */
    size_t count;
    struct vg_screen_list *lists[VG_LIST_FILES_MAX];
    /* Keys of parties screened clean under these lists, written by any shard thread with
     * relaxed atomic stores (a lost write costs one more screening, never a wrong result:
     * a slot holds a whole key or another one). Freed with the lists. */
    _Atomic uint64_t *clean;
};

static const struct vg_param_def sanctions_params[] = {
    {VG_PARAM_LIST_FILES, "lists", "[]", offsetof(struct vg_sanctions_params, lists),
     "sanctions lists: [{name, file, format: un-xml|opensanctions-csv|tsv}]; reloaded on SIGHUP"},
    {VG_PARAM_RATIO, "threshold", "0.85", offsetof(struct vg_sanctions_params, threshold_ppm),
     "lowest match score (0..1] that alerts"},
    {0},
};

static void sanctions_release(void *params) {
    struct vg_sanctions_params *p = params;
    if (!p->loaded) return;
    for (size_t i = 0; i < p->loaded->count; i++) vg_screen_list_free(p->loaded->lists[i]);
    free((void *)p->loaded->clean);
    free(p->loaded);
    p->loaded = NULL;
}

/* Loads every configured list. Returns VG_OK or an error with errstr
 * "rules.sanctions.<key>: why" (a list's own errors carry its file:line). */
static int sanctions_prepare(void *params, const char *base_dir, char *errstr, size_t errstr_size) {
    struct vg_sanctions_params *p = params;
    sanctions_release(p);
    if (p->threshold_ppm <= 0 || p->threshold_ppm > 1000000) {
        snprintf(errstr, errstr_size, "rules.sanctions.threshold: must be in (0, 1]");
        return VG_ERR_INVALID;
    }
    if (p->lists.count == 0) return VG_OK;
    p->loaded = calloc(1, sizeof *p->loaded);
    if (p->loaded && !(p->loaded->clean = calloc(CACHE_SLOTS, sizeof *p->loaded->clean))) {
        free(p->loaded);
        p->loaded = NULL;
    }
    if (!p->loaded) {
        snprintf(errstr, errstr_size, "rules.sanctions.lists: out of memory");
        return VG_ERR_NOMEM;
    }
    static _Atomic uint64_t generations;
    p->loaded->generation = atomic_fetch_add(&generations, 1) + 1;
    for (uint32_t i = 0; i < p->lists.count; i++) {
        const struct vg_list_file *lf = &p->lists.lists[i];
        int format = vg_list_format_parse(lf->format, strlen(lf->format));
        if (format < 0) {
            snprintf(errstr, errstr_size, "rules.sanctions.lists: list '%s': unknown format '%s' (un-xml, "
                     "opensanctions-csv, tsv)", lf->name, lf->format);
            sanctions_release(p);
            return VG_ERR_INVALID;
        }
        char path[VG_PARAM_PATH_MAX * 2];
        if (lf->file[0] == '/' || !base_dir || !base_dir[0]) snprintf(path, sizeof path, "%s", lf->file);
        else snprintf(path, sizeof path, "%s/%s", base_dir, lf->file);
        char why[1024];
        struct vg_screen_list *list = NULL;
        int rc = vg_list_load((enum vg_list_format)format, path, lf->name, &list, why, sizeof why);
        if (rc != VG_OK) {
            snprintf(errstr, errstr_size, "rules.sanctions.lists: list '%s': %s", lf->name, why);
            sanctions_release(p);
            return rc;
        }
        p->loaded->lists[p->loaded->count++] = list;
        vg_info("sanctions_list_loaded", "list=%s format=%s entries=%zu names=%zu version=%s bytes=%zu", lf->name,
                lf->format, vg_screen_list_entries(list), vg_screen_list_names(list), vg_screen_list_version(list),
                vg_screen_list_bytes(list));
    }
    return VG_OK;
}

/* ---- per shard thread: clean-party cache ---------------------------------------------- */

/* A party that matched: its hits, so its next transactions skip the screening too. */
struct hit_slot {
    uint64_t key;                       /* 0 = empty */
    uint8_t n;
    struct cached_hit {
        uint8_t list;
        struct vg_screen_hit hit;
    } hits[HITS_MAX];
};

struct thread_state {
    uint64_t generation;                /* the lists the hit cache was filled under */
    struct hit_slot *hit_cache;         /* HIT_SLOTS parties that matched */
};

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;
static bool state_key_ok;

static void state_free(void *arg) {
    struct thread_state *ts = arg;
    free(ts->hit_cache);
    free(ts);
}

static void state_key_init(void) {
    state_key_ok = pthread_key_create(&state_key, state_free) == 0;
}

/* This thread's state, created on first use (one malloc per thread, not per event). */
static struct thread_state *thread_state(void) {
    pthread_once(&state_once, state_key_init);
    if (!state_key_ok) return NULL;
    struct thread_state *ts = pthread_getspecific(state_key);
    if (ts) return ts;
    ts = calloc(1, sizeof *ts);
    if (ts && !(ts->hit_cache = calloc(HIT_SLOTS, sizeof *ts->hit_cache))) {
        free(ts);
        ts = NULL;
    }
    if (ts && pthread_setspecific(state_key, ts) != 0) {
        state_free(ts);
        ts = NULL;
    }
    return ts;
}

/* The clean-party cache's key of a party: the name's bytes hashed in one pass, identifier
 * and birth date after; never 0 (an empty slot). */
static inline uint64_t party_key(const char *name, size_t name_len, const char *party_id, size_t party_id_len,
                                 int32_t birth_date) {
    uint64_t key = vg_hash64(name, name_len) ^ (uint64_t)(uint32_t)birth_date * 0x9E3779B97F4A7C15ULL;
    if (party_id_len) key ^= vg_hash64(party_id, party_id_len) * 0xC2B2AE3D27D4EB4FULL;
    return key | 1;
}

void vg_sanctions_prefetch(const struct vg_config *cfg, const char *name, size_t name_len, const char *party_id,
                           size_t party_id_len, int32_t birth_date) {
    const struct vg_sanctions_params *p = vg_config_params(cfg, VG_RULE_SANCTIONS);
    if (!p->loaded || !cfg->rules[VG_RULE_SANCTIONS].enabled) return;
    uint64_t key = party_key(name, name_len, party_id, party_id_len, birth_date);
    __builtin_prefetch((const void *)&p->loaded->clean[key & (CACHE_SLOTS - CACHE_WAYS)]);
}

/* ---- the rule --------------------------------------------------------------------------- */

static bool sanctions_wants(const struct vg_txn *txn, enum vg_dir dir, bool late, const void *params) {
    const struct vg_sanctions_params *p = params;
    if (!p->loaded || !txn->has_party) return false; /* no lists or no party details: nothing */
    return dir == VG_DIR_OUT ? (txn->from_name_len | txn->from_party_id_len) != 0
                             : (txn->to_name_len | txn->to_party_id_len) != 0;
}

static void emit_hit(const struct vg_rule_ctx *ctx, const struct vg_sanctions_params *p, struct vg_alert_out *out,
                     const struct vg_screen_list *list, const struct vg_screen_hit *hit,
                     const struct vg_screen_party *party) {
    const struct vg_txn *txn = ctx->txn;
    const char *ref = vg_screen_entry_ref(list, hit->entry);
    const char *list_name = vg_screen_list_name(list);
    char disc[VG_LIST_NAME_MAX + 1 + 256];
    int dlen = snprintf(disc, sizeof disc, "%s%c%s", list_name, 0, ref);
    if (dlen < 0) return;
    if ((size_t)dlen >= sizeof disc) dlen = (int)sizeof disc - 1;

    static _Thread_local struct vg_alert alert; /* ~33 KB: too big for a worker's stack frame */
    vg_alert_init(&alert, VG_RULE_SANCTIONS, ctx->account.ptr, ctx->account.len, txn);
    alert.score = hit->score;
    alert.discriminator = (struct vg_str){disc, (size_t)dlen};
    vg_alert_add_tx(&alert, txn->id, txn->id_len);
    if (ctx->counterparty.len) vg_alert_add_account(&alert, ctx->counterparty.ptr, ctx->counterparty.len);
    const char *matched = hit->name == UINT32_MAX ? "" : vg_screen_name_text(list, hit->name);
    const char *type = vg_screen_entry_type_name(vg_screen_entry_type(list, hit->entry));
    const char *version = vg_screen_list_version(list);
    vg_alert_add_metric_text(&alert, "list", list_name, strlen(list_name));
    vg_alert_add_metric_text(&alert, "entry", ref, strlen(ref));
    vg_alert_add_metric_text(&alert, "entry_type", type, strlen(type));
    vg_alert_add_metric_text(&alert, "matched_name", matched, strlen(matched));
    vg_alert_add_metric_text(&alert, "name", party->name, party->name_len);
    if (hit->name == UINT32_MAX) vg_alert_add_metric_text(&alert, "party_id", party->party_id, party->party_id_len);
    vg_alert_add_metric(&alert, "score", VG_METRIC_RATIO, (int64_t)(hit->score * 1e6 + 0.5));
    vg_alert_add_metric_text(&alert, "side", ctx->dir == VG_DIR_OUT ? "from" : "to", ctx->dir == VG_DIR_OUT ? 4 : 2);
    vg_alert_add_metric_text(&alert, "list_version", version, strlen(version));
    vg_alert_add_metric(&alert, "amount", VG_METRIC_MONEY, txn->amount_micros);
    vg_alert_emit(out, &alert);
}

static void sanctions_on_event(const struct vg_rule_ctx *ctx, const void *params, struct vg_alert_out *out) {
    const struct vg_sanctions_params *p = params;
    const struct vg_txn *txn = ctx->txn;
    bool from = ctx->dir == VG_DIR_OUT;
    struct vg_screen_party party = {
        .name = from ? txn->from_name : txn->to_name,
        .name_len = from ? txn->from_name_len : txn->to_name_len,
        .party_id = from ? txn->from_party_id : txn->to_party_id,
        .party_id_len = from ? txn->from_party_id_len : txn->to_party_id_len,
        .birth_date = from ? txn->from_birth_date : txn->to_birth_date,
    };
    /* A party already screened under these lists costs one hash and one probe, whichever
     * account or shard sends it: the result depends on the party alone (the cooldown is per
     * account). The name's bytes are hashed in one pass, identifier and birth date after. */
    uint64_t key = party_key(party.name, party.name_len, party.party_id, party.party_id_len, party.birth_date);
    _Atomic uint64_t *bucket = &p->loaded->clean[key & (CACHE_SLOTS - CACHE_WAYS)];
    for (size_t w = 0; w < CACHE_WAYS; w++)
        if (atomic_load_explicit(&bucket[w], memory_order_relaxed) == key) return;
    struct thread_state *ts = thread_state();
    if (ts) {
        if (ts->generation != p->loaded->generation) { /* new lists: no hit is known */
            memset(ts->hit_cache, 0, HIT_SLOTS * sizeof *ts->hit_cache);
            ts->generation = p->loaded->generation;
        }
        const struct hit_slot *hs = &ts->hit_cache[key & (HIT_SLOTS - HIT_WAYS)];
        if (hs[1].key == key) hs++;
        if (hs->key == key) {
            for (size_t i = 0; i < hs->n; i++)
                emit_hit(ctx, p, out, p->loaded->lists[hs->hits[i].list], &hs->hits[i].hit, &party);
            return;
        }
    }
    double threshold = (double)p->threshold_ppm / 1e6;
    struct hit_slot found = {.key = key};
    bool cacheable = true;
    for (size_t l = 0; l < p->loaded->count; l++) {
        const struct vg_screen_list *list = p->loaded->lists[l];
        struct vg_screen_hit hits[HITS_MAX];
        size_t n = vg_screen_match(list, &party, threshold, hits, HITS_MAX);
        for (size_t i = 0; i < n; i++) {
            emit_hit(ctx, p, out, list, &hits[i], &party);
            if (found.n < HITS_MAX) found.hits[found.n++] = (struct cached_hit){(uint8_t)l, hits[i]};
            else cacheable = false;
        }
    }
    /* a full bucket loses its oldest key: the others move up, the new one goes first */
    if (found.n == 0) {
        for (size_t w = CACHE_WAYS - 1; w > 0; w--)
            atomic_store_explicit(&bucket[w], atomic_load_explicit(&bucket[w - 1], memory_order_relaxed),
                                  memory_order_relaxed);
        atomic_store_explicit(&bucket[0], key, memory_order_relaxed);
    } else if (ts && cacheable) {
        struct hit_slot *hs = &ts->hit_cache[key & (HIT_SLOTS - HIT_WAYS)];
        hs[1] = hs[0];
        hs[0] = found;
    }
}

const struct vg_rule_def vg_rule_sanctions = {
    .name = "sanctions",
    .description = "A party's name or identifier matches an entry of a loaded sanctions list",
    .stage = VG_STAGE_ACCOUNT,
    .default_severity = VG_SEVERITY_HIGH,
    .params_size = sizeof(struct vg_sanctions_params),
    .params = sanctions_params,
    .prepare = sanctions_prepare,
    .release = sanctions_release,
    .own_cooldown = true,
    .wants = sanctions_wants,
    .on_event = sanctions_on_event,
};
