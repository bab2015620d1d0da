/* checkpoint.c - encodes the engine's state into a checkpoint image at a drain point and
 * decodes one into a fresh, not yet running engine (vg_engine_start_restored). The layout is
 * in checkpoint_format.h; the file I/O (io_uring writer, directory rotation, loading the
 * newest valid file) is in checkpoint_io.c.
 *
 * The encoder normally runs in a forked checkpoint child (checkpoint_writer.c) and, when
 * fork fails or at shutdown, on the input thread while the pipeline is stopped; either way
 * it only copies: fixed records written sequentially into one buffer (no per-record
 * allocation, no hashing: the file writer hashes). The decoder re-routes accounts by hash,
 * so the shard count may differ from the one that wrote the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_format.h"
#include "checkpoint_internal.h"
#include "vigil/hash.h"
#include "vigil/log.h"

/* ---- encoder ------------------------------------------------------------------------- */

struct enc {
    struct vg_snapshot *s;
    bool failed;
    uint64_t count;
    uint32_t account_base;     /* index of the current shard's first account */
    uint8_t graph_stage;
    /* One task's state only (tasks > 0): its accounts (vg_task_of), their events and
     * cooldowns; the graph's with task == tasks. remap: a shard's account index (from
     * account_base) -> index in the image, UINT32_MAX = not this task's. */
    int task, tasks;
    uint32_t *remap;
    uint32_t remap_at, kept;
};

/* Whether the account belongs in the image. */
static inline bool enc_wants(const struct enc *w, const char *id, size_t len) {
    return w->tasks == 0 || (w->task < w->tasks && vg_task_of(id, len, w->tasks) == w->task);
}

static bool enc_reserve(struct enc *w, size_t n) {
    struct vg_snapshot *s = w->s;
    if (s->len + n <= s->cap) return true;
    size_t cap = s->cap ? s->cap : (1u << 20);
    while (cap < s->len + n) cap *= 2;
    unsigned char *p = realloc(s->buf, cap);
    if (!p) {
        w->failed = true;
        return false;
    }
    s->buf = p;
    s->cap = cap;
    return true;
}

/* Appends fixed part + up to three byte strings, padded to 8. */
static void enc_record(struct enc *w, const void *fixed, size_t fixed_len, const char *a, size_t alen,
                       const char *b, size_t blen, const char *c, size_t clen) {
    size_t total = ckpt_pad8(fixed_len + alen + blen + clen);
    if (!enc_reserve(w, total)) return;
    unsigned char *p = w->s->buf + w->s->len;
    memcpy(p, fixed, fixed_len);
    p += fixed_len;
    if (alen) memcpy(p, a, alen);
    p += alen;
    if (blen) memcpy(p, b, blen);
    p += blen;
    if (clen) memcpy(p, c, clen);
    p += clen;
    memset(p, 0, total - (fixed_len + alen + blen + clen));
    w->s->len += total;
    w->count++;
}

static void enc_account(void *opaque, const struct vg_account *a) {
    struct ckpt_account r = {
        .first_seen_ms = a->first_seen_ms, .last_seen_ms = a->last_seen_ms,
        .activity_newest_bucket = a->activity.newest_bucket,
        .activity_bucket_minutes = a->activity.bucket_minutes, .id_len = a->id_len,
    };
    memcpy(r.activity_counts, a->activity.counts, sizeof r.activity_counts);
    char id[VG_ID_MAX];
    size_t id_len = vg_account_id(a, id);
    struct enc *w = opaque;
    if (w->remap) {
        bool keep = enc_wants(w, id, id_len);
        w->remap[w->remap_at++] = keep ? w->kept++ : UINT32_MAX;
        if (!keep) return;
    }
    enc_record(opaque, &r, sizeof r, id, id_len, NULL, 0, NULL, 0);
}

static void enc_event(void *opaque, const struct vg_store_event *ev) {
    struct enc *w = opaque;
    uint32_t account = w->account_base + ev->account;
    if (w->remap && (account = w->remap[account]) == UINT32_MAX) return;
    struct ckpt_event r = {
        .ts_ms = ev->ts_ms, .amount_micros = ev->amount_micros, .newest_at_ms = ev->newest_at_ms,
        .seq = ev->seq, .counterparty_hash = ev->counterparty_hash, .account = account,
        .dir = ev->dir, .counterparty_len = (uint8_t)ev->counterparty.len, .tx_id_len = (uint8_t)ev->tx_id.len,
    };
    enc_record(w, &r, sizeof r, ev->counterparty.ptr, ev->counterparty.len, ev->tx_id.ptr, ev->tx_id.len, NULL, 0);
}

static void enc_cooldown(void *opaque, uint8_t rule, const char *account, size_t len, int64_t last_alert_ts) {
    struct enc *w = opaque;
    if (w->tasks && (w->graph_stage ? w->task != w->tasks : !enc_wants(w, account, len))) return;
    struct ckpt_cooldown r = {.last_alert_ts = last_alert_ts, .graph_stage = w->graph_stage, .rule = rule,
                              .account_len = (uint8_t)len};
    enc_record(w, &r, sizeof r, account, len, NULL, 0, NULL, 0);
}

static void enc_edge(void *opaque, const struct vg_graph_edge_rec *e) {
    struct ckpt_edge r = {.ts_ms = e->ts_ms, .amount_micros = e->amount_micros, .seq = e->seq,
                          .from_len = (uint8_t)e->from.len, .to_len = (uint8_t)e->to.len,
                          .tx_id_len = (uint8_t)e->tx_id.len};
    enc_record(opaque, &r, sizeof r, e->from.ptr, e->from.len, e->to.ptr, e->to.len, e->tx_id.ptr, e->tx_id.len);
}

static struct ckpt_section *section_at(struct vg_snapshot *s, int i) {
    return (struct ckpt_section *)(void *)(s->buf + sizeof(struct ckpt_header)) + i;
}

static void section_begin(struct enc *w, int i, uint32_t type) {
    struct ckpt_section *sec = section_at(w->s, i);
    sec->type = type;
    sec->offset = w->s->len;
    w->count = 0;
}

static void section_end(struct enc *w, int i) {
    struct ckpt_section *sec = section_at(w->s, i); /* re-fetched: buf may have moved */
    sec->length = w->s->len - sec->offset;
    sec->count = w->count;
}

int vg_engine_snapshot(struct vg_engine *e, const void *input_position, size_t len, struct vg_snapshot **out) {
    return vg_engine_snapshot_of(e, "", input_position, len, out);
}

int vg_engine_snapshot_of(struct vg_engine *e, const char *source, const void *input_position, size_t len,
                          struct vg_snapshot **out) {
    return vg_engine_snapshot_task(e, 0, 0, source, input_position, len, out);
}

int vg_engine_snapshot_task(struct vg_engine *e, int task, int tasks, const char *source, const void *input_position,
                            size_t len, struct vg_snapshot **out) {
    size_t source_len = strlen(source);
    if (len > VG_CHECKPOINT_POSITION_MAX || source_len > VG_CHECKPOINT_SOURCE_MAX) return VG_ERR_RANGE;
    int64_t t0 = vg_now_mono_ns();
    struct vg_snapshot *s = *out;
    bool fresh = s == NULL;
    if (fresh && !(s = calloc(1, sizeof *s))) return VG_ERR_NOMEM;
    s->len = 0;
    s->sealed = false;
    struct enc w = {.s = s, .task = task, .tasks = tasks};
    enum { N_SECTIONS = 6 };
    size_t head = sizeof(struct ckpt_header) + N_SECTIONS * sizeof(struct ckpt_section);
    if (!enc_reserve(&w, head)) goto nomem;
    memset(s->buf, 0, head);
    s->len = head;
    struct ckpt_header *h = (struct ckpt_header *)(void *)s->buf;
    memcpy(h->magic, CKPT_MAGIC, 8);
    h->version = VG_CHECKPOINT_VERSION;
    h->endian = CKPT_ENDIAN;
    h->n_sections = N_SECTIONS;
    h->header_size = sizeof *h;
    h->created_wall_ms = (uint64_t)vg_now_wall_ms();
    h->next_seq = vg_engine_next_seq(e);
    h->newest_ms = vg_engine_newest_ms(e);

    int shards = vg_engine_shard_count(e);
    section_begin(&w, 0, CKPT_SEC_INPUT);
    if (len && enc_reserve(&w, ckpt_pad8(len))) enc_record(&w, input_position, len, NULL, 0, NULL, 0, NULL, 0);
    section_end(&w, 0);
    /* Re-sized exactly: enc_record pads; the section length is the padded one, the
     * position's own length is recorded as `reserved` so the decoder returns len bytes. */
    section_at(s, 0)->reserved = (uint32_t)len;

    if (tasks > 0) {
        uint64_t total = 0;
        for (int i = 0; i < shards; i++) {
            struct vg_store_stats st;
            vg_store_get_stats(vg_engine_shard_store(e, i), &st);
            total += st.accounts;
        }
        if (!(w.remap = malloc((total ? total : 1) * sizeof *w.remap))) goto nomem;
    }
    section_begin(&w, 1, CKPT_SEC_ACCOUNTS);
    for (int i = 0; i < shards; i++) vg_store_foreach_account(vg_engine_shard_store(e, i), enc_account, &w);
    section_end(&w, 1);

    section_begin(&w, 2, CKPT_SEC_EVENTS);
    uint32_t base = 0;
    for (int i = 0; i < shards; i++) {
        struct vg_store_stats st;
        vg_store_get_stats(vg_engine_shard_store(e, i), &st);
        w.account_base = base;
        vg_store_foreach_event(vg_engine_shard_store(e, i), enc_event, &w);
        base += (uint32_t)st.accounts;
    }
    section_end(&w, 2);

    section_begin(&w, 3, CKPT_SEC_COOLDOWNS);
    for (int i = -1; i < shards; i++) {
        w.graph_stage = i < 0;
        vg_alert_out_foreach_cooldown(vg_engine_stage_alerts(e, i), enc_cooldown, &w);
    }
    section_end(&w, 3);

    section_begin(&w, 4, CKPT_SEC_GRAPH);
    if (tasks == 0 || task == tasks) vg_graph_foreach_edge(vg_engine_graph(e), enc_edge, &w);
    section_end(&w, 4);

    section_begin(&w, 5, CKPT_SEC_SOURCE); /* padded like the position; its length in `reserved` */
    if (source_len) enc_record(&w, source, source_len, NULL, 0, NULL, 0, NULL, 0);
    section_end(&w, 5);
    section_at(s, 5)->reserved = (uint32_t)source_len;

    if (w.failed) goto nomem;
    free(w.remap);
    s->copy_ns = vg_now_mono_ns() - t0;
    *out = s;
    return VG_OK;
nomem:
    free(w.remap);
    if (fresh) vg_snapshot_free(s);
    return VG_ERR_NOMEM;
}

size_t vg_snapshot_size(const struct vg_snapshot *s) { return s->len; }
int64_t vg_snapshot_copy_ns(const struct vg_snapshot *s) { return s->copy_ns; }

void vg_snapshot_free(struct vg_snapshot *s) {
    if (!s) return;
    free(s->buf);
    free(s);
}

/* ---- decoder ------------------------------------------------------------------------- */

struct placed {                /* where a saved account now lives */
    uint32_t shard;
    uint32_t index;
};

struct event_ref {
    uint64_t key;              /* seq * 2 + dir: the router's order (OUT before IN) */
    uint64_t off;
};

static int event_ref_order(const void *a, const void *b) {
    const struct event_ref *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Walks the records of a section: returns the next record's start or NULL at the end / on
 * a record that does not fit (*bad set). */
struct cursor {
    const unsigned char *p, *end;
    bool bad;
};

static const unsigned char *cursor_next(struct cursor *c, size_t fixed_len, size_t var_len) {
    size_t total = ckpt_pad8(fixed_len + var_len);
    if ((size_t)(c->end - c->p) < total) {
        c->bad = true;
        return NULL;
    }
    const unsigned char *r = c->p;
    c->p += total;
    return r;
}

static struct cursor cursor_of(const unsigned char *buf, const struct ckpt_section *sec) {
    return (struct cursor){buf + sec->offset, buf + sec->offset + sec->length, false};
}

static int restore_sections(struct vg_engine *e, const unsigned char *buf,
                            const struct ckpt_section *sec[CKPT_SEC_MAX], char *errstr, size_t errstr_size) {
    int shards = vg_engine_shard_count(e);
    struct placed *placed = NULL;
    struct event_ref *refs = NULL;
    int rc = VG_ERR_INVALID;
    const char *what = "accounts";

    /* Accounts. */
    uint64_t n_accounts = sec[CKPT_SEC_ACCOUNTS] ? sec[CKPT_SEC_ACCOUNTS]->count : 0;
    if (n_accounts > UINT32_MAX || !(placed = malloc((n_accounts ? n_accounts : 1) * sizeof *placed))) {
        rc = VG_ERR_NOMEM;
        goto fail;
    }
    if (n_accounts) {
        struct cursor c = cursor_of(buf, sec[CKPT_SEC_ACCOUNTS]);
        for (uint64_t i = 0; i < n_accounts; i++) {
            struct ckpt_account r;
            if (!c.p || (size_t)(c.end - c.p) < sizeof r) goto corrupt;
            memcpy(&r, c.p, sizeof r);
            if (r.id_len == 0 || r.id_len > VG_ID_MAX) goto corrupt;
            const unsigned char *rec = cursor_next(&c, sizeof r, r.id_len);
            if (!rec) goto corrupt;
            const char *id = (const char *)rec + sizeof r;
            struct vg_activity act = {.newest_bucket = r.activity_newest_bucket,
                                      .bucket_minutes = r.activity_bucket_minutes ? r.activity_bucket_minutes : 1};
            memcpy(act.counts, r.activity_counts, sizeof act.counts);
            uint32_t shard = (uint32_t)(vg_hash64_id(id, r.id_len) % (uint64_t)shards);
            uint32_t index = vg_store_restore_account(vg_engine_shard_store(e, (int)shard), id, r.id_len,
                                                      r.first_seen_ms, r.last_seen_ms, &act);
            if (index == UINT32_MAX) {
                rc = VG_ERR_NOMEM;
                goto fail;
            }
            placed[i] = (struct placed){shard, index};
        }
    }

    /* Events: saved account by account; put back in the router's global order (seq) so
     * each new shard's log is a FIFO in time of arrival again. */
    what = "events";
    uint64_t n_events = sec[CKPT_SEC_EVENTS] ? sec[CKPT_SEC_EVENTS]->count : 0;
    if (n_events) {
        if (!(refs = malloc(n_events * sizeof *refs))) {
            rc = VG_ERR_NOMEM;
            goto fail;
        }
        struct cursor c = cursor_of(buf, sec[CKPT_SEC_EVENTS]);
        bool sorted = true;
        for (uint64_t i = 0; i < n_events; i++) {
            struct ckpt_event r;
            if ((size_t)(c.end - c.p) < sizeof r) goto corrupt;
            memcpy(&r, c.p, sizeof r);
            if (r.account >= n_accounts || r.counterparty_len > VG_ID_MAX || r.tx_id_len > VG_ID_MAX || r.dir > 1)
                goto corrupt;
            refs[i] = (struct event_ref){r.seq * 2 + r.dir, (uint64_t)(c.p - buf)};
            if (i && refs[i].key < refs[i - 1].key) sorted = false;
            if (!cursor_next(&c, sizeof r, (size_t)r.counterparty_len + r.tx_id_len)) goto corrupt;
        }
        if (!sorted) qsort(refs, n_events, sizeof *refs, event_ref_order);
        for (uint64_t i = 0; i < n_events; i++) {
            struct ckpt_event r;
            memcpy(&r, buf + refs[i].off, sizeof r);
            const char *text = (const char *)buf + refs[i].off + sizeof r;
            struct placed p = placed[r.account];
            if (vg_store_restore_event(vg_engine_shard_store(e, (int)p.shard), p.index, r.ts_ms, r.amount_micros,
                                       r.newest_at_ms, r.seq, r.counterparty_hash, r.dir, text, r.counterparty_len,
                                       text + r.counterparty_len, r.tx_id_len) != VG_OK) {
                rc = VG_ERR_NOMEM;
                goto fail;
            }
        }
    }

    /* Cooldowns: account rules' entries go to the shard owning the account. */
    what = "cooldowns";
    if (sec[CKPT_SEC_COOLDOWNS]) {
        struct cursor c = cursor_of(buf, sec[CKPT_SEC_COOLDOWNS]);
        for (uint64_t i = 0; i < sec[CKPT_SEC_COOLDOWNS]->count; i++) {
            struct ckpt_cooldown r;
            if ((size_t)(c.end - c.p) < sizeof r) goto corrupt;
            memcpy(&r, c.p, sizeof r);
            const unsigned char *rec = cursor_next(&c, sizeof r, r.account_len);
            if (!rec || r.account_len == 0 || r.account_len > VG_ID_MAX || (r.rule & ~VG_COOLDOWN_LATE) >= VG_RULE_MAX) goto corrupt;
            const char *id = (const char *)rec + sizeof r;
            int stage = r.graph_stage ? -1 : (int)(vg_hash64_id(id, r.account_len) % (uint64_t)shards);
            if (vg_alert_out_restore_cooldown(vg_engine_stage_alerts(e, stage), r.rule, id, r.account_len,
                                              r.last_alert_ts) != VG_OK) {
                rc = VG_ERR_NOMEM;
                goto fail;
            }
        }
    }

    /* Graph edges, in arrival order. */
    what = "graph";
    if (sec[CKPT_SEC_GRAPH]) {
        struct cursor c = cursor_of(buf, sec[CKPT_SEC_GRAPH]);
        for (uint64_t i = 0; i < sec[CKPT_SEC_GRAPH]->count; i++) {
            struct ckpt_edge r;
            if ((size_t)(c.end - c.p) < sizeof r) goto corrupt;
            memcpy(&r, c.p, sizeof r);
            const unsigned char *rec = cursor_next(&c, sizeof r, (size_t)r.from_len + r.to_len + r.tx_id_len);
            if (!rec) goto corrupt;
            const char *text = (const char *)rec + sizeof r;
            struct vg_graph_edge_rec edge = {
                .ts_ms = r.ts_ms, .amount_micros = r.amount_micros, .seq = r.seq,
                .from = {text, r.from_len}, .to = {text + r.from_len, r.to_len},
                .tx_id = {text + r.from_len + r.to_len, r.tx_id_len},
            };
            int erc = vg_graph_restore_edge(vg_engine_graph(e), &edge);
            if (erc == VG_ERR_INVALID) goto corrupt;
            if (erc != VG_OK) {
                rc = erc;
                goto fail;
            }
        }
    }
    free(placed);
    free(refs);
    return VG_OK;
corrupt:
    snprintf(errstr, errstr_size, "checkpoint: %s section is inconsistent", what);
    rc = VG_ERR_INVALID;
    goto out;
fail:
    snprintf(errstr, errstr_size, "checkpoint: out of memory restoring %s", what);
out:
    free(placed);
    free(refs);
    return rc;
}

int vg_engine_start_restored(struct vg_engine **out, const struct vg_config *cfg, const struct vg_alert_sink *sink,
                             const char *state_dir, void *input_position_out, size_t *len, char *errstr,
                             size_t errstr_size) {
    return vg_engine_start_checked(out, cfg, sink, state_dir, NULL, input_position_out, len, errstr, errstr_size);
}

/* Asks `check` whether the loaded image belongs to this input. Returns VG_OK or
 * VG_ERR_INVALID with errstr. */
static int check_source(const struct vg_restore_check *check, const unsigned char *buf,
                        const struct ckpt_section *sec[CKPT_SEC_MAX], const char *state_dir, const char *path,
                        char *errstr, size_t errstr_size) {
    char source[VG_CHECKPOINT_SOURCE_MAX + 1] = "";
    const struct ckpt_section *src = sec[CKPT_SEC_SOURCE], *in = sec[CKPT_SEC_INPUT];
    if (src) {
        size_t n = src->reserved;
        if (n > src->length || n > VG_CHECKPOINT_SOURCE_MAX) {
            snprintf(errstr, errstr_size, "%s: input identity of %zu bytes is malformed", path, n);
            return VG_ERR_INVALID;
        }
        memcpy(source, buf + src->offset, n);
        source[n] = '\0';
        if (strlen(source) != n) {
            snprintf(errstr, errstr_size, "%s: input identity is malformed", path);
            return VG_ERR_INVALID;
        }
    }
    size_t pos_len = in && in->reserved <= in->length ? in->reserved : 0;
    const char *pos = in ? (const char *)buf + in->offset : "";
    char why[1024] = "";
    if (check->accept(check->opaque, source, pos, pos_len, why, sizeof why)) return VG_OK;
    const char *name = strrchr(path, '/');
    snprintf(errstr, errstr_size, "state.dir %s: %s %s", state_dir, name ? name + 1 : path, why);
    return VG_ERR_INVALID;
}

int vg_engine_start_checked(struct vg_engine **out, const struct vg_config *cfg, const struct vg_alert_sink *sink,
                            const char *state_dir, const struct vg_restore_check *check, void *input_position_out,
                            size_t *len, char *errstr, size_t errstr_size) {
    size_t capacity = *len;
    *len = 0;
    unsigned char *buf = NULL;
    size_t buf_len = 0;
    char path[4096];
    int rc = ckpt_load_newest(state_dir, &buf, &buf_len, path, sizeof path, errstr, errstr_size);
    if (rc == VG_ERR_NOTFOUND) {
        vg_info("checkpoint_none", "dir=%s msg=\"no checkpoint, starting with empty state\"", state_dir);
        return vg_engine_start(out, cfg, sink, errstr, errstr_size);
    }
    if (rc != VG_OK) return VG_ERR_INVALID;

    const struct ckpt_section *sec[CKPT_SEC_MAX];
    const struct ckpt_header *h = (const void *)buf;
    int64_t t0 = vg_now_mono_ns();
    rc = ckpt_validate(buf, buf_len, sec, errstr, errstr_size); /* checked by the loader; cheap */
    if (rc == VG_OK && check) rc = check_source(check, buf, sec, state_dir, path, errstr, errstr_size);
    struct vg_engine *e = NULL;
    if (rc == VG_OK) rc = vg_engine_create_idle(&e, cfg, sink, errstr, errstr_size);
    if (rc == VG_OK) {
        rc = restore_sections(e, buf, sec, errstr, errstr_size);
        if (rc != VG_OK) {
            vg_engine_discard_idle(e);
            e = NULL;
        }
    }
    if (rc == VG_OK && sec[CKPT_SEC_INPUT]) {
        size_t n = sec[CKPT_SEC_INPUT]->reserved;
        if (n > sec[CKPT_SEC_INPUT]->length || n > capacity) {
            snprintf(errstr, errstr_size, "%s: input position of %zu bytes does not fit", path, n);
            vg_engine_discard_idle(e);
            rc = VG_ERR_INVALID;
        } else {
            memcpy(input_position_out, buf + sec[CKPT_SEC_INPUT]->offset, n);
            *len = n;
        }
    }
    if (rc != VG_OK) {
        free(buf);
        return rc == VG_ERR_NOMEM ? rc : VG_ERR_INVALID;
    }
    vg_engine_set_position(e, h->next_seq, h->newest_ms);
    vg_info("checkpoint_restored",
            "file=%s bytes=%zu next_seq=%llu accounts=%llu events=%llu cooldowns=%llu edges=%llu shards=%d "
            "restore_ms=%.1f",
            path, buf_len, (unsigned long long)h->next_seq,
            (unsigned long long)(sec[CKPT_SEC_ACCOUNTS] ? sec[CKPT_SEC_ACCOUNTS]->count : 0),
            (unsigned long long)(sec[CKPT_SEC_EVENTS] ? sec[CKPT_SEC_EVENTS]->count : 0),
            (unsigned long long)(sec[CKPT_SEC_COOLDOWNS] ? sec[CKPT_SEC_COOLDOWNS]->count : 0),
            (unsigned long long)(sec[CKPT_SEC_GRAPH] ? sec[CKPT_SEC_GRAPH]->count : 0), vg_engine_shard_count(e),
            (double)(vg_now_mono_ns() - t0) / 1e6);
    free(buf);
    vg_engine_launch(e);
    *out = e;
    return VG_OK;
}

const void *vg_snapshot_image(struct vg_snapshot *s, size_t *len) {
    ckpt_seal(s);
    *len = s->len;
    return s->buf;
}

/* Image order for vg_engine_start_images: oldest newest_ms first, so each shard's log stays
 * (nearly) a FIFO in arrival time. */
struct image_ref {
    const unsigned char *buf;
    size_t len;
    int64_t newest_ms;
};

static int image_order(const void *a, const void *b) {
    const struct image_ref *x = a, *y = b;
    return x->newest_ms < y->newest_ms ? -1 : x->newest_ms > y->newest_ms;
}

int vg_engine_start_images(struct vg_engine **out, const struct vg_config *cfg, const struct vg_alert_sink *sink,
                           const void *const *images, const size_t *lens, int n, uint64_t min_next_seq, char *errstr,
                           size_t errstr_size) {
    struct image_ref *refs = calloc(n > 0 ? (size_t)n : 1, sizeof *refs);
    struct vg_engine *e = NULL;
    uint64_t next_seq = min_next_seq;
    int64_t newest = VG_TS_NONE;
    int rc = VG_OK;

    if (!refs) {
        snprintf(errstr, errstr_size, "out of memory restoring task state");
        return VG_ERR_NOMEM;
    }
    for (int i = 0; i < n && rc == VG_OK; i++) {
        const struct ckpt_section *sec[CKPT_SEC_MAX];
        refs[i] = (struct image_ref){images[i], lens[i], VG_TS_NONE};
        rc = ckpt_validate(images[i], lens[i], sec, errstr, errstr_size);
        if (rc == VG_OK) {
            const struct ckpt_header *h = images[i];
            refs[i].newest_ms = h->newest_ms;
            next_seq = VG_MAX(next_seq, h->next_seq);
            /* The oldest task's time: the merge then hands over its records first, each
             * task's windows see the newest time they saw in the process that wrote them. */
            if (h->newest_ms != VG_TS_NONE && (newest == VG_TS_NONE || h->newest_ms < newest)) newest = h->newest_ms;
        }
    }
    if (rc == VG_OK) rc = vg_engine_create_idle(&e, cfg, sink, errstr, errstr_size);
    if (rc == VG_OK) {
        qsort(refs, (size_t)n, sizeof *refs, image_order);
        for (int i = 0; i < n && rc == VG_OK; i++) {
            const struct ckpt_section *sec[CKPT_SEC_MAX];
            rc = ckpt_validate(refs[i].buf, refs[i].len, sec, errstr, errstr_size);
            if (rc == VG_OK) rc = restore_sections(e, refs[i].buf, sec, errstr, errstr_size);
        }
        if (rc != VG_OK) {
            vg_engine_discard_idle(e);
            e = NULL;
        }
    }
    free(refs);
    if (rc != VG_OK) return rc == VG_ERR_NOMEM ? rc : VG_ERR_INVALID;
    vg_engine_set_position(e, next_seq, newest);
    vg_engine_launch(e);
    *out = e;
    return VG_OK;
}
