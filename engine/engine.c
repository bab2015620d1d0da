/* engine.c - the pipeline: the input thread routes each transaction's two account-side
 * events to the shards owning those accounts (xxHash of the id) and large transfers to the
 * graph stage, over SPSC rings; stages render alerts into their own byte rings; one
 * collector thread hands alerts and progress to the sink. Per-account order is input order
 * whatever the shard count, which is what makes results independent of engine.threads.
 * Control messages (progress, reload, stop) travel in-band through the same rings. */
#include "vigil/engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bigmem.h"
#include "ring.h"
#include "rules/rule_params.h"
#include "shard.h"
#include "vigil/alert.h"
#include "vigil/emit.h"
#include "vigil/evidence.h"
#include "vigil/graph.h"
#include "vigil/hash.h"
#include "vigil/log.h"
#include "vigil/time_guard.h"

#define PUBLISH_BATCH 64
#define PROGRESS_EVERY 4096
#define ALERT_RING_BYTES (16u << 20)
#define MAX_SHARDS 64

static int64_t graph_min_amount(const struct vg_config *cfg);
static int64_t evidence_horizon_ms(const struct vg_config *cfg);

enum msg_kind { MSG_EVENT_OUT, MSG_EVENT_IN, MSG_GRAPH, MSG_PROGRESS, MSG_RELOAD, MSG_STOP };

#define TXN_HEAD_BYTES offsetof(struct vg_txn, id) /* the fixed fields before the strings */

/* A slot of a stage's input ring. The transaction travels packed: its fixed fields, then
 * id, from, to and channel back to back, so a typical record fills two or three cache lines
 * of the slot instead of all six (each line crosses from the input thread's core).
 * The party details of the side the stage screens (contract section 3: the from party on
 * the from account's shard, the to party on the to account's) follow the text in the same
 * slot when they fit (party == PARTY_INLINE: a name of up to ~100 Cyrillic letters with
 * typical ids), else in the stage's spill array beside the ring (PARTY_SPILL).
 * With alerts.evidence: full (only then) slots are larger and the transaction's evidence
 * object follows the struct (evidence_len bytes). */
enum { PARTY_NONE, PARTY_INLINE, PARTY_SPILL };
#define MSG_BYTES 384          /* six cache lines (ring slots are page-aligned) */
#define MSG_HEAD_BYTES (8 + 6 * 8 + TXN_HEAD_BYTES)
struct stage_msg {
    uint8_t kind;
    uint8_t party;             /* PARTY_*: where this side's party details are */
    uint16_t evidence_len;     /* evidence: full only */
    int64_t newest_ms;         /* trusted newest event time when this was routed: lateness, expiry */
    int64_t arrival_ns;
    uint64_t from_hash, to_hash;
    uint64_t progress_seq;
    const struct vg_config *cfg;
    unsigned char txn_head[TXN_HEAD_BYTES];
    char txn_text[MSG_BYTES - MSG_HEAD_BYTES]; /* id, from, to, channel, then the party inline */
};
_Static_assert(sizeof(struct stage_msg) == MSG_BYTES, "stage_msg: MSG_HEAD_BYTES out of date");
_Static_assert(sizeof ((struct stage_msg *)0)->txn_text >= 3 * VG_ID_MAX + VG_CHANNEL_MAX + 1 + 64,
               "stage_msg: no room for the longest ids with a party");

/* One side's party details, packed: lengths, birth date and the name's hash (hashed once here,
 * read by the sanctions prefetch and rule), then the party id and the name. */
#define PARTY_FIXED_BYTES 15
#define SPILL_SLOTS 1024u      /* spilled party details in flight per shard (~650 KB) */
struct party_slot { /* a spill array entry: the largest side */
    unsigned char bytes[PARTY_FIXED_BYTES + VG_ID_MAX + VG_NAME_MAX];
};

/* The side's packed size (0: nothing to carry for it). */
static inline size_t party_side_bytes(const struct vg_txn *txn, bool from) {
    size_t n = from ? (size_t)txn->from_name_len + txn->from_party_id_len
                    : (size_t)txn->to_name_len + txn->to_party_id_len;
    int32_t birth = from ? txn->from_birth_date : txn->to_birth_date;
    return n || birth ? PARTY_FIXED_BYTES + n : 0;
}

static void party_pack(unsigned char *p, const struct vg_txn *txn, bool from) {
    uint16_t name_len = from ? txn->from_name_len : txn->to_name_len;
    uint8_t id_len = from ? txn->from_party_id_len : txn->to_party_id_len;
    int32_t birth = from ? txn->from_birth_date : txn->to_birth_date;
    memcpy(p, &name_len, 2);
    p[2] = id_len;
    memcpy(p + 3, &birth, 4);
    const char *name = from ? txn->from_name : txn->to_name;
    uint64_t name_hash = vg_hash64(name, name_len) | 1;
    memcpy(p + 7, &name_hash, 8);
    p += PARTY_FIXED_BYTES;
    vg_copy_short((char *)p, from ? txn->from_party_id : txn->to_party_id, id_len);
    memcpy(p + id_len, name, name_len);
}

/* Fills txn's party details from one side's packed bytes; the other side is absent. */
static void party_unpack(const unsigned char *p, struct vg_txn *txn, bool from) {
    uint16_t name_len;
    int32_t birth;
    memcpy(&name_len, p, 2);
    uint64_t name_hash;
    uint8_t id_len = p[2];
    memcpy(&birth, p + 3, 4);
    memcpy(&name_hash, p + 7, 8);
    memset(&txn->from_name_len, 0, VG_TXN_PARTY_HEAD_BYTES);
    p += PARTY_FIXED_BYTES;
    if (from) {
        txn->from_name_hash = name_hash;
        txn->from_name_len = name_len, txn->from_party_id_len = id_len, txn->from_birth_date = birth;
        vg_copy_short(txn->from_party_id, (const char *)p, id_len);
        memcpy(txn->from_name, p + id_len, name_len);
    } else {
        txn->to_name_hash = name_hash;
        txn->to_name_len = name_len, txn->to_party_id_len = id_len, txn->to_birth_date = birth;
        vg_copy_short(txn->to_party_id, (const char *)p, id_len);
        memcpy(txn->to_name, p + id_len, name_len);
    }
}

/* Whether the side's party details of an account event miss the room after the text. */
static inline bool party_spills(const struct vg_txn *txn, bool from) {
    size_t text = (size_t)txn->id_len + txn->from_len + txn->to_len + txn->channel_len;
    return txn->has_party && text + party_side_bytes(txn, from) > sizeof ((struct stage_msg *)0)->txn_text;
}

struct stage;
static struct party_slot *spill_take(struct stage *st);

/* Packs txn into m (kind already set); for an account event with party details, that
 * side's details go after the text or, when they do not fit, into st's spill ring. */
static void msg_pack_txn(struct stage_msg *m, const struct vg_txn *txn, struct stage *st) {
    memcpy(m->txn_head, txn, TXN_HEAD_BYTES);
    char *p = m->txn_text;
    vg_copy_short(p, txn->id, txn->id_len);
    p += txn->id_len;
    vg_copy_short(p, txn->from, txn->from_len);
    p += txn->from_len;
    vg_copy_short(p, txn->to, txn->to_len);
    p += txn->to_len;
    vg_copy_short(p, txn->channel, txn->channel_len);
    p += txn->channel_len;
    m->party = PARTY_NONE;
    if (VG_UNLIKELY(txn->has_party)) {
        bool from = m->kind == MSG_EVENT_OUT;
        size_t n = m->kind <= MSG_EVENT_IN ? party_side_bytes(txn, from) : 0; /* the graph gets none */
        if (n == 0) {
            m->txn_head[offsetof(struct vg_txn, has_party)] = 0;
        } else if (VG_LIKELY((size_t)(p - m->txn_text) + n <= sizeof m->txn_text)) {
            party_pack((unsigned char *)p, txn, from);
            m->party = PARTY_INLINE;
        } else {
            party_pack(spill_take(st)->bytes, txn, from);
            m->party = PARTY_SPILL;
        }
    }
}

static void msg_unpack_txn(const struct stage_msg *m, struct vg_txn *txn, const struct party_slot *spill) {
    memcpy(txn, m->txn_head, TXN_HEAD_BYTES);
    const char *p = m->txn_text;
    vg_copy_short(txn->id, p, txn->id_len);
    p += txn->id_len;
    vg_copy_short(txn->from, p, txn->from_len);
    p += txn->from_len;
    vg_copy_short(txn->to, p, txn->to_len);
    p += txn->to_len;
    vg_copy_short(txn->channel, p, txn->channel_len);
    txn->channel[txn->channel_len] = '\0';
    if (VG_UNLIKELY(m->party != PARTY_NONE))
        party_unpack(m->party == PARTY_INLINE ? (const unsigned char *)p + txn->channel_len : spill->bytes, txn,
                     m->kind == MSG_EVENT_OUT);
}

enum out_kind { OUT_ALERT = 1, OUT_PROGRESS = 2, OUT_FINAL = 3 };

/* Header of a record in a stage's alert ring; followed by account then JSON bytes. */
struct out_record {
    uint32_t kind;
    uint32_t rule;
    uint64_t seq;              /* trigger seq, or progress seq */
    int64_t arrival_ns;
    uint32_t account_len;
    uint32_t json_len;
};

struct vg_engine;

struct stage {
    struct vg_engine *engine;
    int index;                 /* shard index, or -1 for the graph stage */
    pthread_t thread;
    struct vg_ring in;
    uint32_t pending;          /* router: written but unpublished slots */
    struct vg_bytering out;
    struct vg_alert_out *alerts;
    struct vg_shard *shard;    /* account stage */
    struct vg_graph *graph;    /* graph stage */
    struct vg_evidence_store *evidence; /* alerts.evidence: full only, else NULL */
    const struct vg_config *cfg;
    char *render_buf;
    int64_t current_arrival_ns;
    struct vg_txn txn;         /* the message being processed, unpacked */
    /* Party details too long for their slot (PARTY_SPILL), in ring order: a small SPSC ring
     * of its own. The router fills spill[spill_head], waiting (or refusing, try_submit) while
     * SPILL_SLOTS are in flight; the stage thread reads them in the same order and counts
     * spill_tail up once done with one. Shard stages only. */
    struct party_slot *spill;
    uint32_t spill_head;       /* router: entries filled */
    uint32_t spill_tail_cache; /* router: last spill_tail seen */
    _Alignas(VG_CACHE_LINE) _Atomic uint32_t spill_tail; /* stage thread: entries done with (release) */
    uint64_t progress_seen;    /* collector: last progress from this stage */
    bool final_seen;           /* collector */
    /* published by the stage thread after each batch, read by vg_engine_stats */
    _Atomic uint64_t pub_accounts, pub_window_events, pub_bytes, pub_graph_edges, pub_budget_cut;
};

struct vg_engine {
    const struct vg_config *cfg;
    struct vg_alert_sink sink;
    int n_shards;
    struct stage shards[MAX_SHARDS];
    struct stage graph;
    bool graph_enabled;
    int64_t graph_min_amount;
    bool evidence_full;        /* alerts.evidence: full at start (fixed for the engine's life) */
    char *evidence_buf;        /* router: the current transaction's evidence object */
    pthread_t collector;
    _Atomic uint32_t bell;
    _Atomic uint32_t bell_sleeping;
    _Atomic uint64_t done_seq;
    _Atomic int sink_failed;
    _Atomic int reload_acks;
    /* router (input thread) */
    uint64_t next_seq;
    uint64_t since_progress;
    int64_t newest_ms;         /* trusted newest event time (the time guard keeps outliers out) */
    struct vg_time_guard time_guard;
    char future_first_id[VG_ID_MAX]; /* the current run of far-future records, for its log line */
    uint8_t future_first_id_len;
    int64_t future_first_ts_ms;
    uint64_t future_runs_logged;
    _Atomic uint64_t transactions, late, out_of_order, future;
    _Atomic uint64_t dead_letter[VG_REASON_MAX];
    /* collector */
    _Atomic uint64_t latency_count[VG_LATENCY_BUCKETS];
    _Atomic uint64_t latency_sum_ns;
};

static inline void stat_add(_Atomic uint64_t *c, uint64_t n) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

int64_t vg_now_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t vg_now_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* ---- stage side ------------------------------------------------------------------------- */

static void out_push(struct stage *st, const struct out_record *hdr, const char *account, const char *json) {
    uint32_t len = (uint32_t)sizeof *hdr + hdr->account_len + hdr->json_len;
    unsigned char *p = vg_bytering_reserve(&st->out, len);
    memcpy(p, hdr, sizeof *hdr);
    if (hdr->account_len && account) memcpy(p + sizeof *hdr, account, hdr->account_len);
    if (hdr->json_len && json) memcpy(p + sizeof *hdr + hdr->account_len, json, hdr->json_len);
    vg_bytering_commit(&st->out, len);
}

/* vg_alert_out delivery: render on this stage's thread and queue for the collector. */
static void deliver_alert(void *opaque, const struct vg_alert *a, enum vg_severity severity) {
    struct stage *st = opaque;
    size_t n = vg_alert_render_evidence(a, severity, st->cfg->alerts.max_evidence, vg_now_wall_ms(), st->evidence,
                                        st->render_buf, st->evidence ? VG_ALERT_FULL_JSON_MAX : VG_ALERT_JSON_MAX);
    if (n == 0) {
        vg_error("alert_render_failed", "rule=%s", vg_rule_registry[a->rule]->name);
        return;
    }
    struct out_record hdr = {.kind = OUT_ALERT, .rule = a->rule, .seq = a->trigger_seq,
                             .arrival_ns = st->current_arrival_ns, .account_len = (uint32_t)a->account.len,
                             .json_len = (uint32_t)n};
    out_push(st, &hdr, a->account.ptr, st->render_buf);
}

static void publish_stage_stats(struct stage *st) {
    uint64_t evidence_records = 0, evidence_bytes = 0;
    if (st->evidence) vg_evidence_store_usage(st->evidence, &evidence_records, &evidence_bytes);
    if (st->shard) {
        struct vg_store_stats ss;
        vg_store_get_stats(vg_shard_store(st->shard), &ss);
        atomic_store_explicit(&st->pub_accounts, ss.accounts, memory_order_relaxed);
        atomic_store_explicit(&st->pub_window_events, ss.events, memory_order_relaxed);
        atomic_store_explicit(&st->pub_bytes, ss.bytes + evidence_bytes, memory_order_relaxed);
    } else {
        struct vg_graph_stats gs;
        vg_graph_stats(st->graph, &gs);
        atomic_store_explicit(&st->pub_graph_edges, gs.edges, memory_order_relaxed);
        atomic_store_explicit(&st->pub_budget_cut, gs.budget_cut, memory_order_relaxed);
        atomic_store_explicit(&st->pub_bytes, gs.bytes + evidence_bytes, memory_order_relaxed);
    }
}

/* evidence: full: keeps the message's evidence object for this stage's alerts. */
static void keep_evidence(struct stage *st, const struct stage_msg *m) {
    if (m->evidence_len == 0) return; /* not renderable: its alerts show the id alone */
    if (vg_evidence_store_put(st->evidence, st->txn.id, st->txn.id_len, st->txn.seq, m->from_hash, m->to_hash,
                              m->newest_ms, m->newest_ms,
                              (const char *)(m + 1), m->evidence_len) != VG_OK)
        vg_warn("evidence_not_kept", "msg=\"out of memory; alerts show this id alone\"");
}

#ifndef PREFETCH_SLOT
#define PREFETCH_MSG 16
#define PREFETCH_SLOT 10
#define PREFETCH_ACCOUNT 6
#define PREFETCH_ENTRIES 3
#endif
#ifndef PREFETCH_SUMS
#define PREFETCH_SUMS 2 /* window sums: two stages, 2 then 1 ahead */
#endif

/* Router: whether n more spill entries are free. */
static inline bool spill_room(struct stage *st, uint32_t n) {
    if (st->spill_head - st->spill_tail_cache + n <= SPILL_SLOTS) return true;
    /* acquire: pairs with spill_done's release, so entries the stage is done with may be reused */
    st->spill_tail_cache = atomic_load_explicit(&st->spill_tail, memory_order_acquire);
    return st->spill_head - st->spill_tail_cache + n <= SPILL_SLOTS;
}

static void stage_publish(struct stage *st);

/* Router: the next spill entry, waiting while all are in flight (after publishing what is
 * pending, so the stage can get through them). try_submit checks spill_room first. */
static struct party_slot *spill_take(struct stage *st) {
    if (VG_UNLIKELY(!spill_room(st, 1))) {
        stage_publish(st);
        while (!spill_room(st, 1)) {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
    return &st->spill[st->spill_head++ & (SPILL_SLOTS - 1)];
}

/* Stage thread: the spill entry of the next PARTY_SPILL message (entries go in ring order). */
static inline const struct party_slot *spill_next(const struct stage *st) {
    return &st->spill[atomic_load_explicit(&st->spill_tail, memory_order_relaxed) & (SPILL_SLOTS - 1)];
}

/* Stage thread: done with the spill entry spill_next gave. */
static inline void spill_done(struct stage *st) {
    /* release: pairs with the router's acquire in spill_room before it reuses the entry */
    atomic_store_explicit(&st->spill_tail, atomic_load_explicit(&st->spill_tail, memory_order_relaxed) + 1,
                          memory_order_release);
}

static inline uint64_t msg_account_hash(const struct stage_msg *m) {
    return m->kind == MSG_EVENT_OUT ? m->from_hash : m->to_hash;
}

static inline size_t msg_account_id_len(const struct stage_msg *m) {
    return m->txn_head[m->kind == MSG_EVENT_OUT ? offsetof(struct vg_txn, from_len) : offsetof(struct vg_txn, to_len)];
}

/* The sanctions rule's cache bucket for message m's inline party (not for spilled ones:
 * rare, and where their entry is depends on the messages before). */
static void prefetch_party(const struct stage *st, const struct stage_msg *m) {
    const unsigned char *h = m->txn_head;
    const unsigned char *p = (const unsigned char *)m->txn_text + h[offsetof(struct vg_txn, id_len)] +
                             h[offsetof(struct vg_txn, from_len)] + h[offsetof(struct vg_txn, to_len)] +
                             h[offsetof(struct vg_txn, channel_len)];
    int32_t birth;
    uint64_t name_hash;
    memcpy(&birth, p + 3, 4);
    memcpy(&name_hash, p + 7, 8);
    vg_sanctions_prefetch(st->cfg, name_hash, (const char *)p + PARTY_FIXED_BYTES, p[2], birth);
}

/* Software pipelining over the batch: the message itself 16 messages ahead, index slots 10
 * ahead, account records (and cooldown slots) 6 ahead, ring entries (and a window sums
 * block's header) 3 ahead (their place is in the account record), the sums' slots and
 * oldest entries 2 ahead, the slots and text those lead to 1 ahead, so the shard's memory
 * reads overlap instead of stalling one by one. */
static inline void prefetch_ahead(struct stage *st, uint32_t i, uint32_t n) {
    struct vg_store *store = vg_shard_store(st->shard);
    if (i + PREFETCH_MSG < n) { /* the message itself: written by the input thread's core */
        const char *m = vg_ring_read_slot(&st->in, i + PREFETCH_MSG); /* header, fields, ~100 text bytes */
        for (size_t off = 0; off < 192; off += 64) __builtin_prefetch(m + off);
        __builtin_prefetch(m + 191);
    }
    if (i + PREFETCH_SLOT < n) {
        const struct stage_msg *m = vg_ring_read_slot(&st->in, i + PREFETCH_SLOT);
        if (m->kind <= MSG_EVENT_IN) vg_store_prefetch_slot(store, msg_account_hash(m));
        if (m->party == PARTY_INLINE) __builtin_prefetch((const char *)m + 192); /* a long party's tail */
    }
    if (i + PREFETCH_ACCOUNT < n) {
        const struct stage_msg *m = vg_ring_read_slot(&st->in, i + PREFETCH_ACCOUNT);
        if (m->kind <= MSG_EVENT_IN) {
            vg_store_prefetch_account(store, msg_account_hash(m), msg_account_id_len(m));
            vg_alert_out_prefetch(st->alerts, msg_account_hash(m));
            if (m->party == PARTY_INLINE) prefetch_party(st, m);
        }
    }
    if (i + PREFETCH_ENTRIES < n) {
        const struct stage_msg *m = vg_ring_read_slot(&st->in, i + PREFETCH_ENTRIES);
        if (m->kind <= MSG_EVENT_IN) vg_store_prefetch_entries(store, msg_account_hash(m));
    }
    for (int stage = 0; stage < 2; stage++) /* window sums' upkeep: slots, oldest entries, texts */
        if (i + PREFETCH_SUMS - stage < n) {
            const struct stage_msg *m = vg_ring_read_slot(&st->in, i + PREFETCH_SUMS - (uint32_t)stage);
            if (m->kind > MSG_EVENT_IN) continue;
            bool out = m->kind == MSG_EVENT_OUT;
            vg_store_prefetch_sums(store, msg_account_hash(m), out ? m->to_hash : m->from_hash,
                                   out ? VG_DIR_OUT : VG_DIR_IN,
                                   m->txn_head[out ? offsetof(struct vg_txn, to_len) : offsetof(struct vg_txn, from_len)],
                                   stage);
        }
}

static void *stage_main(void *arg) {
    struct stage *st = arg;
    bool running = true;
    char name[16];
    if (st->index >= 0) snprintf(name, sizeof name, "vg-shard-%u", (unsigned)st->index % 1000u);
    else snprintf(name, sizeof name, "vg-graph");
    pthread_setname_np(pthread_self(), name); /* visible in top -H, perf, gdb */
    while (running) {
        uint32_t n = vg_ring_wait_available(&st->in, 100000);
        uint32_t released = 0; /* slots of this batch already handed back (at a progress mark) */
        for (uint32_t i = 0; i < n && running; i++) {
            if (st->shard) prefetch_ahead(st, i - released, n - released);
            struct stage_msg *m = vg_ring_read_slot(&st->in, i - released);
            switch (m->kind) {
            case MSG_EVENT_OUT:
            case MSG_EVENT_IN:
                st->current_arrival_ns = m->arrival_ns;
                msg_unpack_txn(m, &st->txn, m->party == PARTY_SPILL ? spill_next(st) : NULL);
                if (VG_UNLIKELY(m->party == PARTY_SPILL)) spill_done(st); /* unpacked: free again */
                if (st->evidence) keep_evidence(st, m);
                vg_shard_on_event(st->shard, &st->txn, m->kind == MSG_EVENT_OUT ? VG_DIR_OUT : VG_DIR_IN,
                                  m->from_hash, m->to_hash, m->newest_ms);
                break;
            case MSG_GRAPH:
                st->current_arrival_ns = m->arrival_ns;
                msg_unpack_txn(m, &st->txn, NULL); /* the graph stage gets no party details */
                if (st->evidence) keep_evidence(st, m);
                vg_graph_on_txn(st->graph, st->cfg, &st->txn, m->newest_ms, st->alerts);
                break;
            case MSG_PROGRESS: {
                /* Slots and stats first: whoever waits for this progress (drain) then sees an
                 * empty ring and fresh figures. */
                uint64_t progress_seq = m->progress_seq;
                vg_ring_release(&st->in, i + 1 - released);
                released = i + 1;
                publish_stage_stats(st);
                struct out_record hdr = {.kind = OUT_PROGRESS, .seq = progress_seq};
                out_push(st, &hdr, NULL, NULL);
                break;
            }
            case MSG_RELOAD:
                st->cfg = m->cfg;
                vg_alert_out_set_config(st->alerts, m->cfg);
                if (st->shard) vg_shard_set_config(st->shard, m->cfg);
                atomic_fetch_add_explicit(&st->engine->reload_acks, 1, memory_order_release);
                break;
            case MSG_STOP: {
                struct out_record hdr = {.kind = OUT_FINAL};
                out_push(st, &hdr, NULL, NULL);
                running = false;
                break;
            }
            }
        }
        if (n > released) {
            vg_ring_release(&st->in, n - released);
            publish_stage_stats(st);
        }
    }
    return NULL;
}

/* ---- collector ---------------------------------------------------------------------------- */

static void record_latency(struct vg_engine *e, int64_t arrival_ns) {
    if (arrival_ns <= 0) return;
    int64_t ns = vg_now_mono_ns() - arrival_ns;
    if (ns < 0) ns = 0;
    stat_add(&e->latency_count[vg_latency_bucket(ns)], 1);
    stat_add(&e->latency_sum_ns, (uint64_t)ns);
}

static int n_stages(const struct vg_engine *e) { return e->n_shards + (e->graph_enabled ? 1 : 0); }
static struct stage *stage_at(struct vg_engine *e, int i) { return i < e->n_shards ? &e->shards[i] : &e->graph; }

static void *collector_main(void *arg) {
    struct vg_engine *e = arg;
    pthread_setname_np(pthread_self(), "vg-collector");
    int finals = 0, stages = n_stages(e);
    while (finals < stages) {
        uint32_t seen = atomic_load_explicit(&e->bell, memory_order_seq_cst);
        bool any = false;
        for (int i = 0; i < stages; i++) {
            struct stage *st = stage_at(e, i);
            uint32_t len;
            unsigned char *p;
            int budget = 256;
            while (budget-- > 0 && (p = vg_bytering_peek(&st->out, &len)) != NULL) {
                struct out_record hdr;
                memcpy(&hdr, p, sizeof hdr);
                any = true;
                if (hdr.kind == OUT_ALERT) {
                    struct vg_alert_record rec = {
                        .rule = (enum vg_rule_id)hdr.rule,
                        .account = (const char *)p + sizeof hdr,
                        .account_len = hdr.account_len,
                        .json = (const char *)p + sizeof hdr + hdr.account_len,
                        .json_len = hdr.json_len,
                        .trigger_seq = hdr.seq,
                        .arrival_ns = hdr.arrival_ns,
                    };
                    record_latency(e, hdr.arrival_ns);
                    if (!atomic_load(&e->sink_failed) && e->sink.on_alert(e->sink.opaque, &rec) != 0) {
                        vg_error("sink_failed", "msg=\"alert output failed; stopping\"");
                        atomic_store(&e->sink_failed, 1);
                    }
                } else if (hdr.kind == OUT_PROGRESS) {
                    st->progress_seen = hdr.seq;
                } else if (hdr.kind == OUT_FINAL) {
                    st->final_seen = true;
                    finals++;
                }
                vg_bytering_pop(&st->out);
            }
        }
        uint64_t done = UINT64_MAX;
        for (int i = 0; i < stages; i++) done = VG_MIN(done, stage_at(e, i)->progress_seen);
        if (done != UINT64_MAX && done > atomic_load_explicit(&e->done_seq, memory_order_relaxed)) {
            if (e->sink.on_progress) e->sink.on_progress(e->sink.opaque, done);
            atomic_store_explicit(&e->done_seq, done, memory_order_release);
        }
        if (!any) {
            if (e->sink.on_idle) e->sink.on_idle(e->sink.opaque);
            vg_bell_wait(&e->bell, &e->bell_sleeping, seen, 20000);
        }
    }
    if (e->sink.on_idle) e->sink.on_idle(e->sink.opaque);
    return NULL;
}

/* ---- router (input thread) ------------------------------------------------------------------ */

static void stage_publish(struct stage *st) {
    if (st->pending) {
        vg_ring_publish(&st->in, st->pending);
        st->pending = 0;
    }
}

/* A slot to write in st's ring, waiting (after publishing what is pending) when full. */
static struct stage_msg *stage_slot(struct stage *st, bool blocking) {
    if (vg_ring_free(&st->in, st->pending + 1) < st->pending + 1) {
        stage_publish(st);
        if (!blocking && vg_ring_free(&st->in, 1) < 1) return NULL;
        vg_ring_wait_free(&st->in, 1);
    }
    return vg_ring_write_slot(&st->in, st->pending);
}

static void stage_commit(struct stage *st) {
    if (++st->pending >= PUBLISH_BATCH) stage_publish(st);
}

static void broadcast(struct vg_engine *e, enum msg_kind kind, uint64_t seq, const struct vg_config *cfg) {
    for (int i = 0; i < n_stages(e); i++) {
        struct stage *st = stage_at(e, i);
        struct stage_msg *m = stage_slot(st, true);
        m->kind = (uint8_t)kind;
        m->progress_seq = seq;
        m->cfg = cfg;
        stage_commit(st);
        stage_publish(st);
    }
}

/* Says once per run of far-future records that did not turn out to be a jump (a normal
 * record ended it): how many, the first one, the time they were held out of. A confirmed
 * jump is logged as such instead (legitimate history that starts sparse says only that). */
static void log_future_run(struct vg_engine *e, uint32_t run) {
    uint64_t runs = ++e->future_runs_logged;
    if (runs <= 10 || runs % 1000 == 0)
        vg_warn("future_record", "records=%u first_tx_id=\"%.*s\" first_ts_ms=%lld newest_ms=%lld runs=%llu "
                "msg=\"far ahead of the stream (engine.max_time_jump): analysed in their accounts' windows; "
                "the stream's time did not move\"", run, (int)e->future_first_id_len, e->future_first_id,
                (long long)e->future_first_ts_ms, (long long)e->newest_ms, (unsigned long long)runs);
}

/* Moves the stream's newest event time for this record unless the time guard holds it
 * back (a far-future record: counted, analysed with the trusted time). */
static void advance_newest(struct vg_engine *e, const struct vg_txn *txn) {
    int64_t jump_to = VG_TS_NONE;
    uint32_t run_before = e->time_guard.run;
    switch (vg_time_guard_classify(&e->time_guard, e->newest_ms, txn->ts_ms, &jump_to)) {
    case VG_TIME_NORMAL:
        if (run_before > 0) log_future_run(e, run_before);
        if (txn->ts_ms > e->newest_ms) e->newest_ms = txn->ts_ms;
        else if (txn->ts_ms < e->newest_ms) stat_add(&e->out_of_order, 1);
        return;
    case VG_TIME_FUTURE:
        stat_add(&e->future, 1);
        if (run_before == 0) {
            e->future_first_id_len = txn->id_len;
            memcpy(e->future_first_id, txn->id, txn->id_len);
            e->future_first_ts_ms = txn->ts_ms;
        }
        return;
    case VG_TIME_JUMP:
        vg_info("time_jump_confirmed", "from_ms=%lld to_ms=%lld records=%d", (long long)e->newest_ms,
                (long long)jump_to, VG_TIME_JUMP_CONFIRM);
        e->newest_ms = VG_MAX(e->newest_ms, jump_to);
        return;
    }
}

static void route(struct vg_engine *e, const struct vg_txn *txn, int64_t arrival_ns, uint64_t from_hash,
                  uint64_t to_hash, struct stage *s_out, struct stage *s_in, unsigned sides) {
    advance_newest(e, txn);
    /* Lateness and expiry follow the stream's newest event time, as in a replay: the Kafka
     * input hands records over in event-time order across partitions (reorder.h). */
    if (txn->ts_ms < e->newest_ms - e->cfg->engine.allowed_lateness_ms) stat_add(&e->late, 1);
    struct stage *targets[3];
    uint8_t kinds[3];
    int n = 0;
    if (sides & VG_SIDE_OUT) {
        targets[n] = s_out;
        kinds[n++] = MSG_EVENT_OUT;
    }
    if (sides & VG_SIDE_IN) {
        targets[n] = s_in;
        kinds[n++] = MSG_EVENT_IN;
    }
    if ((sides & VG_SIDE_GRAPH) && e->graph_enabled && txn->amount_micros >= e->graph_min_amount) {
        targets[n] = &e->graph;
        kinds[n++] = MSG_GRAPH;
    }
    size_t evidence_len = 0;
    if (e->evidence_full) /* rendered once here, on the input thread, where the whole record is */
        evidence_len = vg_evidence_render(txn, e->cfg->currency.base, e->evidence_buf, VG_EVIDENCE_JSON_MAX);
    for (int i = 0; i < n; i++) {
        struct stage_msg *m = stage_slot(targets[i], true);
        m->kind = kinds[i];
        m->newest_ms = e->newest_ms;
        m->arrival_ns = arrival_ns;
        m->from_hash = from_hash;
        m->to_hash = to_hash;
        msg_pack_txn(m, txn, targets[i]);
        if (e->evidence_full) {
            m->evidence_len = (uint16_t)evidence_len;
            memcpy(m + 1, e->evidence_buf, evidence_len);
        }
        stage_commit(targets[i]);
    }
    stat_add(&e->transactions, 1);
    e->next_seq = txn->seq + 1;
    if (++e->since_progress >= PROGRESS_EVERY) {
        e->since_progress = 0;
        broadcast(e, MSG_PROGRESS, e->next_seq, NULL);
    }
}

void vg_engine_submit(struct vg_engine *e, const struct vg_txn *txn, int64_t arrival_ns) {
    uint64_t from_hash = vg_hash64_id(txn->from, txn->from_len);
    uint64_t to_hash = vg_hash64_id(txn->to, txn->to_len);
    route(e, txn, arrival_ns, from_hash, to_hash, &e->shards[from_hash % (uint64_t)e->n_shards],
          &e->shards[to_hash % (uint64_t)e->n_shards], VG_SIDE_ALL);
}

int vg_engine_try_submit(struct vg_engine *e, const struct vg_txn *txn, int64_t arrival_ns) {
    return vg_engine_try_submit_sides(e, txn, arrival_ns, VG_SIDE_ALL);
}

int vg_engine_try_submit_sides(struct vg_engine *e, const struct vg_txn *txn, int64_t arrival_ns, unsigned sides) {
    uint64_t from_hash = vg_hash64_id(txn->from, txn->from_len);
    uint64_t to_hash = vg_hash64_id(txn->to, txn->to_len);
    struct stage *s_out = &e->shards[from_hash % (uint64_t)e->n_shards];
    struct stage *s_in = &e->shards[to_hash % (uint64_t)e->n_shards];
    /* Room for both events (+ graph, + a progress broadcast) or nothing is queued. */
    uint32_t need_out = s_out->pending + (s_out == s_in ? 3 : 2);
    uint32_t need_in = s_in->pending + 2;
    if (vg_ring_free(&s_out->in, need_out) < need_out || vg_ring_free(&s_in->in, need_in) < need_in ||
        (e->graph_enabled && vg_ring_free(&e->graph.in, e->graph.pending + 2) < e->graph.pending + 2)) {
        vg_engine_flush(e);
        return VG_ERR_FULL;
    }
    if (VG_UNLIKELY(txn->has_party)) { /* and room for party details that do not fit their slots */
        uint32_t spill_out = (sides & VG_SIDE_OUT) && party_spills(txn, true);
        uint32_t spill_in = (sides & VG_SIDE_IN) && party_spills(txn, false);
        bool room = s_out == s_in ? spill_room(s_out, spill_out + spill_in)
                                  : spill_room(s_out, spill_out) && spill_room(s_in, spill_in);
        if (!room) {
            vg_engine_flush(e);
            return VG_ERR_FULL;
        }
    }
    for (int i = 0; i < n_stages(e) && e->since_progress + 1 >= PROGRESS_EVERY; i++) {
        struct stage *st = stage_at(e, i);
        if (vg_ring_free(&st->in, st->pending + 3) < st->pending + 3) {
            vg_engine_flush(e);
            return VG_ERR_FULL;
        }
    }
    route(e, txn, arrival_ns, from_hash, to_hash, s_out, s_in, sides);
    return VG_OK;
}

void vg_engine_dead_letter(struct vg_engine *e, enum vg_reason reason) {
    if (reason > VG_REASON_NONE && reason < VG_REASON_MAX) stat_add(&e->dead_letter[reason], 1);
}

void vg_engine_flush(struct vg_engine *e) {
    for (int i = 0; i < n_stages(e); i++) stage_publish(stage_at(e, i));
}

void vg_engine_wait_backlog(struct vg_engine *e, uint32_t slots) {
    vg_engine_flush(e);
    for (int i = 0; i < n_stages(e) && !atomic_load(&e->sink_failed);) {
        if (vg_ring_used(&stage_at(e, i)->in) <= slots) {
            i++;
            continue;
        }
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

void vg_engine_drain(struct vg_engine *e) {
    uint64_t target = e->next_seq;
    e->since_progress = 0;
    broadcast(e, MSG_PROGRESS, target, NULL);
    while (atomic_load_explicit(&e->done_seq, memory_order_acquire) < target && !atomic_load(&e->sink_failed)) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

void vg_engine_reload(struct vg_engine *e, const struct vg_config *cfg) {
    atomic_store(&e->reload_acks, 0);
    broadcast(e, MSG_RELOAD, 0, cfg);
    while (atomic_load_explicit(&e->reload_acks, memory_order_acquire) < n_stages(e)) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    e->cfg = cfg;
    e->graph_min_amount = graph_min_amount(cfg);
}

uint64_t vg_engine_next_seq(const struct vg_engine *e) { return e->next_seq; }

/* ---- lifecycle ----------------------------------------------------------------------------- */

static int stage_init(struct vg_engine *e, struct stage *st, int index, char *errstr, size_t errstr_size) {
    st->engine = e;
    st->index = index;
    st->cfg = e->cfg;
    uint32_t ring = e->cfg->engine.ring_size ? e->cfg->engine.ring_size : 32768;
    /* try_submit wants room for 3 messages at once in one ring (both sides of a transfer and
     * a progress marker): a smaller ring would refuse forever */
    if (ring < 4) ring = 4;
    size_t slot = sizeof(struct stage_msg) + (e->evidence_full ? VG_EVIDENCE_JSON_MAX : 0);
    if (vg_ring_init(&st->in, ring, slot) != VG_OK || vg_bytering_init(&st->out, ALERT_RING_BYTES) != VG_OK ||
        !(st->render_buf = malloc(e->evidence_full ? VG_ALERT_FULL_JSON_MAX : VG_ALERT_JSON_MAX)) ||
        (e->evidence_full && vg_evidence_store_create(&st->evidence, evidence_horizon_ms(e->cfg)) != VG_OK) ||
        !(st->alerts = vg_alert_out_create(e->cfg, deliver_alert, st))) {
        snprintf(errstr, errstr_size, "engine: out of memory creating stage %d", index);
        return VG_ERR_NOMEM;
    }
    vg_bytering_set_bell(&st->out, &e->bell, &e->bell_sleeping);
    if (index >= 0 && !(st->spill = vg_big_alloc(SPILL_SLOTS * sizeof *st->spill))) {
        snprintf(errstr, errstr_size, "engine: out of memory creating stage %d", index);
        return VG_ERR_NOMEM;
    }
    int rc = index >= 0 ? vg_shard_create(&st->shard, e->cfg, st->alerts) : vg_graph_create(&st->graph, e->cfg);
    if (rc != VG_OK) {
        snprintf(errstr, errstr_size, "engine: cannot create %s state", index >= 0 ? "shard" : "graph");
        return rc;
    }
    return VG_OK;
}

static void stage_free(struct stage *st) {
    vg_big_free(st->spill, SPILL_SLOTS * sizeof *st->spill);
    if (st->shard) vg_shard_destroy(st->shard);
    if (st->graph) vg_graph_destroy(st->graph);
    vg_alert_out_destroy(st->alerts);
    vg_evidence_store_destroy(st->evidence);
    free(st->render_buf);
    vg_bytering_destroy(&st->out);
    vg_ring_destroy(&st->in);
}

static void engine_free(struct vg_engine *e) {
    for (int i = 0; i < e->n_shards; i++) stage_free(&e->shards[i]);
    if (e->graph_enabled) stage_free(&e->graph);
    free(e->evidence_buf);
    free(e);
}

int64_t vg_engine_graph_min_amount(const struct vg_config *cfg) { return graph_min_amount(cfg); }

/* Smallest transfer any enabled graph rule can use (INT64_MAX: none enabled). */
static int64_t graph_min_amount(const struct vg_config *cfg) {
    const struct vg_cycle_params *cp = vg_config_params(cfg, VG_RULE_CYCLE);
    const struct vg_scatter_gather_params *sp = vg_config_params(cfg, VG_RULE_SCATTER_GATHER);
    int64_t min = INT64_MAX;
    if (cfg->rules[VG_RULE_CYCLE].enabled) min = VG_MIN(min, cp->min_amount_micros);
    if (cfg->rules[VG_RULE_SCATTER_GATHER].enabled) min = VG_MIN(min, sp->min_amount_micros);
    return min;
}

/* How long evidence objects are kept after arrival: as long as any window (account or
 * graph) can still show the transaction. */
static int64_t evidence_horizon_ms(const struct vg_config *cfg) {
    const struct vg_cycle_params *cp = vg_config_params(cfg, VG_RULE_CYCLE);
    const struct vg_scatter_gather_params *sp = vg_config_params(cfg, VG_RULE_SCATTER_GATHER);
    int64_t graph = VG_MAX(cp->window_ms, sp->window_ms) + cfg->engine.allowed_lateness_ms;
    return VG_MAX(vg_config_account_horizon_ms(cfg), graph);
}

static int engine_create(struct vg_engine **out, const struct vg_config *cfg, const struct vg_alert_sink *sink,
                         char *errstr, size_t errstr_size) {
    struct vg_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(errstr, errstr_size, "engine: out of memory");
        return VG_ERR_NOMEM;
    }
    e->cfg = cfg;
    e->sink = *sink;
    e->newest_ms = VG_TS_NONE;
    vg_time_guard_init(&e->time_guard, cfg->engine.max_time_jump_ms, -1);
    e->n_shards = VG_MAX(1, VG_MIN(vg_config_threads(cfg), MAX_SHARDS));
    /* The graph stage exists even when both graph rules are off, so a reload can turn them on. */
    e->graph_enabled = true;
    e->graph_min_amount = graph_min_amount(cfg);
    e->evidence_full = cfg->alerts.evidence == VG_EVIDENCE_FULL;
    if (e->evidence_full && !(e->evidence_buf = malloc(VG_EVIDENCE_JSON_MAX))) {
        snprintf(errstr, errstr_size, "engine: out of memory");
        free(e);
        return VG_ERR_NOMEM;
    }
    int rc = VG_OK;
    for (int i = 0; i < e->n_shards && rc == VG_OK; i++) rc = stage_init(e, &e->shards[i], i, errstr, errstr_size);
    if (rc == VG_OK) rc = stage_init(e, &e->graph, -1, errstr, errstr_size);
    if (rc != VG_OK) {
        engine_free(e);
        return rc;
    }
    *out = e;
    return VG_OK;
}

static void engine_launch(struct vg_engine *e) {
    for (int i = 0; i < n_stages(e); i++) {
        publish_stage_stats(stage_at(e, i)); /* restored state shows in stats at once */
        pthread_create(&stage_at(e, i)->thread, NULL, stage_main, stage_at(e, i));
    }
    pthread_create(&e->collector, NULL, collector_main, e);
    vg_info("engine_started", "shards=%d graph_min_amount_micros=%lld next_seq=%llu", e->n_shards,
            (long long)(e->graph_min_amount == INT64_MAX ? -1 : e->graph_min_amount),
            (unsigned long long)e->next_seq);
}

int vg_engine_start(struct vg_engine **out, const struct vg_config *cfg, const struct vg_alert_sink *sink,
                    char *errstr, size_t errstr_size) {
    int rc = engine_create(out, cfg, sink, errstr, errstr_size);
    if (rc == VG_OK) engine_launch(*out);
    return rc;
}

int vg_engine_stop(struct vg_engine *e) {
    vg_engine_drain(e);
    broadcast(e, MSG_STOP, 0, NULL);
    for (int i = 0; i < n_stages(e); i++) pthread_join(stage_at(e, i)->thread, NULL);
    pthread_join(e->collector, NULL);
    int rc = atomic_load(&e->sink_failed) ? VG_ERR_IO : VG_OK;
    engine_free(e);
    return rc;
}

void vg_engine_stats(struct vg_engine *e, struct vg_engine_stats *out) {
    memset(out, 0, sizeof *out);
    out->transactions = atomic_load_explicit(&e->transactions, memory_order_relaxed);
    out->late = atomic_load_explicit(&e->late, memory_order_relaxed);
    out->out_of_order = atomic_load_explicit(&e->out_of_order, memory_order_relaxed);
    out->future = atomic_load_explicit(&e->future, memory_order_relaxed);
    for (int r = 0; r < VG_REASON_MAX; r++) out->dead_letter[r] = atomic_load_explicit(&e->dead_letter[r], memory_order_relaxed);
    for (int b = 0; b < VG_LATENCY_BUCKETS; b++)
        out->latency_count[b] = atomic_load_explicit(&e->latency_count[b], memory_order_relaxed);
    out->latency_sum_ns = atomic_load_explicit(&e->latency_sum_ns, memory_order_relaxed);
    out->shards = (uint32_t)e->n_shards;
    out->ring_size = e->shards[0].in.size;
    for (int i = 0; i < e->n_shards; i++) {
        struct stage *st = &e->shards[i];
        struct vg_shard_stats ss;
        vg_shard_get_stats(st->shard, &ss);
        out->events += ss.events;
        out->scan_truncated += ss.scan_truncated;
        out->ring_used[i] = vg_ring_used(&st->in);
        out->tracked_accounts += atomic_load_explicit(&st->pub_accounts, memory_order_relaxed);
        out->window_events += atomic_load_explicit(&st->pub_window_events, memory_order_relaxed);
        out->state_bytes += atomic_load_explicit(&st->pub_bytes, memory_order_relaxed);
    }
    out->graph_edges = atomic_load_explicit(&e->graph.pub_graph_edges, memory_order_relaxed);
    out->graph_budget_cut = atomic_load_explicit(&e->graph.pub_budget_cut, memory_order_relaxed);
    out->state_bytes += atomic_load_explicit(&e->graph.pub_bytes, memory_order_relaxed);
    for (int r = 0; r < VG_RULE_MAX; r++) {
        for (int i = 0; i < n_stages(e); i++) {
            out->alerts[r] += vg_alert_out_emitted(stage_at(e, i)->alerts, (enum vg_rule_id)r);
            out->suppressed[r] += vg_alert_out_suppressed(stage_at(e, i)->alerts, (enum vg_rule_id)r);
        }
    }
}

/* ---- checkpoint hooks (engine/checkpoint_internal.h) ------------------------------------ */

#include "checkpoint_internal.h"

int vg_engine_create_idle(struct vg_engine **out, const struct vg_config *cfg, const struct vg_alert_sink *sink,
                          char *errstr, size_t errstr_size) {
    return engine_create(out, cfg, sink, errstr, errstr_size);
}

void vg_engine_set_position(struct vg_engine *e, uint64_t next_seq, int64_t newest_ms) {
    e->next_seq = next_seq;
    e->newest_ms = newest_ms;
    for (int i = 0; i < n_stages(e); i++) stage_at(e, i)->progress_seen = next_seq;
    atomic_store_explicit(&e->done_seq, next_seq, memory_order_relaxed); /* threads start later */
}

void vg_engine_launch(struct vg_engine *e) { engine_launch(e); }
void vg_engine_discard_idle(struct vg_engine *e) { engine_free(e); }
int vg_engine_shard_count(const struct vg_engine *e) { return e->n_shards; }
struct vg_store *vg_engine_shard_store(struct vg_engine *e, int shard) { return vg_shard_store(e->shards[shard].shard); }
struct vg_alert_out *vg_engine_stage_alerts(struct vg_engine *e, int shard) {
    return shard < 0 ? e->graph.alerts : e->shards[shard].alerts;
}
struct vg_graph *vg_engine_graph(struct vg_engine *e) { return e->graph.graph; }
struct vg_evidence_store *vg_engine_stage_evidence(struct vg_engine *e, int shard) {
    return shard < 0 ? e->graph.evidence : e->shards[shard].evidence;
}
int64_t vg_engine_newest_ms(const struct vg_engine *e) { return e->newest_ms; }

void vg_engine_use_wall_clock(struct vg_engine *e, int64_t max_skew_ms) {
    e->time_guard.max_skew_ms = max_skew_ms;
}

bool vg_engine_is_future(const struct vg_engine *e, int64_t ts_ms) {
    return vg_time_guard_is_future(&e->time_guard, e->newest_ms, ts_ms);
}
