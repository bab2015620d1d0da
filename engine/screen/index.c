/* index.c - a loaded sanctions list: entries (reference, type, birth dates, identifiers),
 * their names and aliases normalised, and the token index a match looks candidates up in
 * (sorted 64-bit keys: 32-bit hash of a folded token or of one of its one-letter deletions,
 * then the name's number), so a party meets tens of candidates, never the whole list.
 * Built once by a loader, then immutable and read by every stage thread without locks. */
#include "vigil/screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/hash.h"

/* A key naming more names than this is too common to propose candidates on its own. */
#define POSTINGS_MAX 4096
/* Candidate names scored per match, at most. */
#define CANDIDATES_MAX 4096
/* A birth date that disagrees with every date of the entry multiplies the score by this. */
#define BIRTH_MISMATCH_FACTOR 0.75
/* Fuzzy keys (one-letter deletions) only for tokens at least this long. */
#define FUZZY_TOKEN_MIN 4

struct entry {
    uint32_t ref_off;
    uint32_t birth_start, birth_count;
    uint8_t type;
};

struct name {
    uint32_t entry;
    uint32_t text_off;             /* as listed, NUL-terminated */
    uint32_t norm_off;             /* folded tokens, space-separated, NUL-terminated */
    uint32_t raw_off;              /* the same tokens unfolded (struct vg_screen_name_norm.raw) */
    uint8_t quality;
    uint8_t n_toks;                /* its tokens: toks[tok_start .. + n_toks) */
    uint16_t raw_len;              /* the folded text's length is raw_off - norm_off - 1 */
    uint32_t tok_start;
};

struct birth {
    int32_t from, to;
};

struct ident {
    uint32_t entry;
    uint32_t off;
    uint8_t len;
};

/* Where one key's names sit in a sorted key array: found with one or two probes instead
 * of a binary search's twenty cache misses. count 0 = empty slot. */
struct key_slot {
    uint32_t key;
    uint32_t start;
    uint32_t count;
};

struct key_index {
    struct key_slot *slots;
    size_t mask;                   /* slots - 1 */
};

#define VEC(type) struct { type *v; size_t n, cap; }
#define VEC_PUSH(vec, item)                                                                    \
    ((vec).n == (vec).cap && vec_grow((void **)&(vec).v, &(vec).cap, sizeof *(vec).v) != VG_OK \
         ? VG_ERR_NOMEM                                                                        \
         : ((vec).v[(vec).n++] = (item), VG_OK))

struct vg_screen_list {
    char name[64];
    char version[64];
    VEC(struct entry) entries;
    VEC(struct name) names;
    VEC(struct birth) births;
    VEC(struct ident) idents;
    VEC(char) text;                /* every string, NUL-terminated */
    VEC(uint64_t) token_keys;      /* hash32 << 32 | name: good names' tokens and deletions */
    VEC(uint64_t) exact_keys;      /* hash32 << 32 | name: every name's sorted token string */
    VEC(uint64_t) ident_keys;      /* hash32 << 32 | ident */
    VEC(struct vg_screen_tok) toks; /* every name's tokens, decoded once (list_finish) */
    struct key_index token_index, exact_index; /* over token_keys, exact_keys */
};

static int vec_grow(void **v, size_t *cap, size_t size) {
    size_t ncap = *cap ? *cap * 2 : 64;
    void *grown = realloc(*v, ncap * size);
    if (!grown) return VG_ERR_NOMEM;
    *v = grown;
    *cap = ncap;
    return VG_OK;
}

/* Copies s into the text arena; *off gets its offset. Returns VG_OK or VG_ERR_NOMEM. */
static int text_add(struct vg_screen_list *l, const char *s, size_t len, uint32_t *off) {
    while (l->text.n + len + 1 > l->text.cap)
        if (vec_grow((void **)&l->text.v, &l->text.cap, 1) != VG_OK) return VG_ERR_NOMEM;
    if (l->text.n + len + 1 > UINT32_MAX) return VG_ERR_NOMEM;
    *off = (uint32_t)l->text.n;
    memcpy(l->text.v + l->text.n, s, len);
    l->text.v[l->text.n + len] = '\0';
    l->text.n += len + 1;
    return VG_OK;
}

static inline uint64_t key_of(const char *s, size_t len) {
    return vg_hash64(s, len) >> 32;
}

struct vg_screen_list *vg_screen_list_new(const char *name, const char *version) {
    struct vg_screen_list *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    snprintf(l->name, sizeof l->name, "%s", name ? name : "");
    snprintf(l->version, sizeof l->version, "%s", version ? version : "");
    return l;
}

void vg_screen_list_free(struct vg_screen_list *l) {
    if (!l) return;
    free(l->entries.v);
    free(l->names.v);
    free(l->births.v);
    free(l->idents.v);
    free(l->text.v);
    free(l->token_keys.v);
    free(l->exact_keys.v);
    free(l->token_index.slots);
    free(l->exact_index.slots);
    free(l->ident_keys.v);
    free(l->toks.v);
    free(l);
}

int vg_screen_add_entry(struct vg_screen_list *l, const char *ref, size_t ref_len, enum vg_screen_entry_type type) {
    struct entry e = {.type = (uint8_t)type, .birth_start = (uint32_t)l->births.n};
    if (text_add(l, ref, ref_len, &e.ref_off) != VG_OK) return VG_ERR_NOMEM;
    return VEC_PUSH(l->entries, e);
}

/* The order-free key of a normalised name: its tokens sorted, space-joined, hashed. */
static uint64_t exact_key(const struct vg_screen_name_norm *n) {
    const char *tok[VG_SCREEN_TOKENS_MAX];
    size_t len[VG_SCREEN_TOKENS_MAX];
    for (size_t i = 0; i < n->n_tokens; i++) {
        tok[i] = n->text + n->tok_off[i];
        len[i] = n->tok_len[i];
    }
    for (size_t i = 1; i < n->n_tokens; i++) /* insertion sort: a dozen tokens at most */
        for (size_t j = i; j > 0; j--) {
            int c = memcmp(tok[j - 1], tok[j], VG_MIN(len[j - 1], len[j]));
            if (c < 0 || (c == 0 && len[j - 1] <= len[j])) break;
            const char *t = tok[j]; tok[j] = tok[j - 1]; tok[j - 1] = t;
            size_t x = len[j]; len[j] = len[j - 1]; len[j - 1] = x;
        }
    char buf[VG_SCREEN_NORM_MAX];
    size_t used = 0;
    for (size_t i = 0; i < n->n_tokens; i++) {
        if (used) buf[used++] = ' ';
        memcpy(buf + used, tok[i], len[i]);
        used += len[i];
    }
    return key_of(buf, used);
}

/* Calls add(key) for a token and, when long enough, each of its one-letter deletions. */
#define FOR_TOKEN_KEYS(tok, tl, key, body)                                                     \
    do {                                                                                       \
        uint64_t key = key_of((tok), (tl));                                                    \
        body;                                                                                  \
        if ((tl) >= FUZZY_TOKEN_MIN) {                                                         \
            char del_[256];                                                                    \
            for (size_t d_ = 0; d_ < (tl); d_++) {                                             \
                if (d_ > 0 && (tok)[d_] == (tok)[d_ - 1]) continue; /* same deletion */        \
                memcpy(del_, (tok), d_);                                                       \
                memcpy(del_ + d_, (tok) + d_ + 1, (tl) - d_ - 1);                              \
                key = key_of(del_, (tl) - 1) ^ 0x5bd1e995u; /* deletions apart from tokens */  \
                body;                                                                          \
            }                                                                                  \
        }                                                                                      \
    } while (0)

int vg_screen_add_name(struct vg_screen_list *l, const char *utf8, size_t len, enum vg_screen_quality quality) {
    if (l->entries.n == 0) return VG_ERR_INVALID;
    struct vg_screen_name_norm norm;
    if (vg_screen_normalise(utf8, len, &norm) != VG_OK) return VG_ERR_INVALID;
    if (norm.n_tokens == 0) return VG_OK;
    uint32_t id = (uint32_t)l->names.n;
    struct name nm = {.entry = (uint32_t)(l->entries.n - 1), .quality = (uint8_t)quality};
    nm.raw_len = (uint16_t)strlen(norm.raw); /* < VG_SCREEN_NORM_MAX */
    if (text_add(l, utf8, len, &nm.text_off) != VG_OK || text_add(l, norm.text, strlen(norm.text), &nm.norm_off) != VG_OK ||
        text_add(l, norm.raw, nm.raw_len, &nm.raw_off) != VG_OK ||
        VEC_PUSH(l->names, nm) != VG_OK)
        return VG_ERR_NOMEM;
    if (VEC_PUSH(l->exact_keys, exact_key(&norm) << 32 | id) != VG_OK) return VG_ERR_NOMEM;
    if (quality == VG_SCREEN_LOW) return VG_OK; /* low-quality aliases match only exactly */
    for (size_t t = 0; t < norm.n_tokens; t++) {
        const char *tok = norm.text + norm.tok_off[t];
        size_t tl = norm.tok_len[t];
        int rc = VG_OK;
        FOR_TOKEN_KEYS(tok, tl, key, if (rc == VG_OK) rc = VEC_PUSH(l->token_keys, key << 32 | id));
        if (rc != VG_OK) return rc;
    }
    return VG_OK;
}

int vg_screen_add_birth(struct vg_screen_list *l, int32_t from, int32_t to) {
    if (l->entries.n == 0 || from <= 0 || to < from) return VG_ERR_INVALID;
    struct entry *e = &l->entries.v[l->entries.n - 1];
    if (e->birth_start + e->birth_count != l->births.n) return VG_ERR_INVALID; /* not the current entry's run */
    if (VEC_PUSH(l->births, ((struct birth){from, to})) != VG_OK) return VG_ERR_NOMEM;
    e->birth_count++;
    return VG_OK;
}

/* Upper-cases an identifier and drops spaces, dots, dashes and slashes. Returns the length. */
static size_t ident_norm(const char *id, size_t len, char out[VG_ID_MAX]) {
    size_t n = 0;
    for (size_t i = 0; i < len && n < VG_ID_MAX; i++) {
        char c = id[i];
        if (c == ' ' || c == '.' || c == '-' || c == '/' || c == '\t') continue;
        out[n++] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    return n;
}

int vg_screen_add_identifier(struct vg_screen_list *l, const char *id, size_t len) {
    if (l->entries.n == 0) return VG_ERR_INVALID;
    char norm[VG_ID_MAX];
    size_t n = ident_norm(id, len, norm);
    if (n == 0) return VG_OK;
    struct ident it = {.entry = (uint32_t)(l->entries.n - 1), .len = (uint8_t)n};
    if (text_add(l, norm, n, &it.off) != VG_OK) return VG_ERR_NOMEM;
    if (VEC_PUSH(l->ident_keys, key_of(norm, n) << 32 | l->idents.n) != VG_OK) return VG_ERR_NOMEM;
    return VEC_PUSH(l->idents, it);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void sort_unique(uint64_t *v, size_t *n) {
    if (*n == 0) return; /* v may be NULL */
    qsort(v, *n, sizeof *v, cmp_u64);
    size_t w = 0;
    for (size_t i = 0; i < *n; i++)
        if (w == 0 || v[w - 1] != v[i]) v[w++] = v[i];
    *n = w;
}

/* Gives a finished vector's spare capacity back (keeps it when realloc fails). */
static void shrink(void **v, size_t *cap, size_t n, size_t size) {
    if (n == 0 || n == *cap) return;
    void *fit = realloc(*v, n * size);
    if (!fit) return;
    *v = fit;
    *cap = n;
}

/* Builds the hash index of a sorted key array's distinct keys. Returns VG_OK or NOMEM. */
static int index_build(struct key_index *ix, const uint64_t *v, size_t n) {
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) distinct += i == 0 || v[i] >> 32 != v[i - 1] >> 32;
    size_t slots = 16;
    while (slots < distinct * 2) slots *= 2;
    free(ix->slots);
    ix->slots = calloc(slots, sizeof *ix->slots);
    if (!ix->slots) return VG_ERR_NOMEM;
    ix->mask = slots - 1;
    for (size_t i = 0; i < n;) {
        size_t end = i + 1;
        while (end < n && v[end] >> 32 == v[i] >> 32) end++;
        uint32_t key = (uint32_t)(v[i] >> 32);
        size_t at = (key * 0x9E3779B1u) & ix->mask;
        while (ix->slots[at].count) at = (at + 1) & ix->mask;
        ix->slots[at] = (struct key_slot){key, (uint32_t)i, (uint32_t)(end - i)};
        i = end;
    }
    return VG_OK;
}

static void decode_name(const struct vg_screen_list *l, const struct name *nm, struct vg_screen_name_norm *out,
                        uint32_t *tok_mask, uint32_t *raw_mask);

/* Decodes every name once into l->toks (what vg_screen_may_score reads per candidate). */
static int toks_build(struct vg_screen_list *l) {
    static _Thread_local struct vg_screen_name_norm nn; /* ~1 KB, off the stack */
    uint32_t tm[VG_SCREEN_TOKENS_MAX], rm[VG_SCREEN_TOKENS_MAX];
    l->toks.n = 0;
    for (size_t i = 0; i < l->names.n; i++) {
        struct name *nm = &l->names.v[i];
        decode_name(l, nm, &nn, tm, rm);
        if (l->toks.n > UINT32_MAX - VG_SCREEN_TOKENS_MAX) return VG_ERR_NOMEM;
        nm->tok_start = (uint32_t)l->toks.n;
        nm->n_toks = nn.n_tokens;
        for (size_t t = 0; t < nn.n_tokens; t++) {
            struct vg_screen_tok tok = {.off = nn.tok_off[t], .raw_off = nn.raw_off[t], .len = nn.tok_len[t],
                                        .raw_len = nn.raw_len[t], .mask = tm[t], .raw_mask = rm[t]};
            if (VEC_PUSH(l->toks, tok) != VG_OK) return VG_ERR_NOMEM;
        }
    }
    shrink((void **)&l->toks.v, &l->toks.cap, l->toks.n, sizeof *l->toks.v);
    return VG_OK;
}

int vg_screen_list_finish(struct vg_screen_list *l) {
    sort_unique(l->token_keys.v, &l->token_keys.n);
    sort_unique(l->exact_keys.v, &l->exact_keys.n);
    sort_unique(l->ident_keys.v, &l->ident_keys.n);
    if (l->token_keys.n > UINT32_MAX || l->exact_keys.n > UINT32_MAX) return VG_ERR_NOMEM;
    shrink((void **)&l->token_keys.v, &l->token_keys.cap, l->token_keys.n, sizeof *l->token_keys.v);
    shrink((void **)&l->exact_keys.v, &l->exact_keys.cap, l->exact_keys.n, sizeof *l->exact_keys.v);
    shrink((void **)&l->text.v, &l->text.cap, l->text.n, 1);
    shrink((void **)&l->names.v, &l->names.cap, l->names.n, sizeof *l->names.v);
    if (index_build(&l->token_index, l->token_keys.v, l->token_keys.n) != VG_OK ||
        index_build(&l->exact_index, l->exact_keys.v, l->exact_keys.n) != VG_OK || toks_build(l) != VG_OK)
        return VG_ERR_NOMEM;
    return VG_OK;
}

size_t vg_screen_list_entries(const struct vg_screen_list *l) { return l->entries.n; }
size_t vg_screen_list_names(const struct vg_screen_list *l) { return l->names.n; }
const char *vg_screen_list_name(const struct vg_screen_list *l) { return l->name; }
const char *vg_screen_list_version(const struct vg_screen_list *l) { return l->version; }

size_t vg_screen_list_bytes(const struct vg_screen_list *l) {
    return sizeof *l + l->entries.cap * sizeof *l->entries.v + l->names.cap * sizeof *l->names.v +
           l->births.cap * sizeof *l->births.v + l->idents.cap * sizeof *l->idents.v + l->text.cap +
           (l->token_keys.cap + l->exact_keys.cap + l->ident_keys.cap) * sizeof(uint64_t) +
           l->toks.cap * sizeof *l->toks.v +
           (l->token_index.mask + 1 + l->exact_index.mask + 1) * sizeof(struct key_slot);
}

const char *vg_screen_entry_ref(const struct vg_screen_list *l, uint32_t entry) {
    return entry < l->entries.n ? l->text.v + l->entries.v[entry].ref_off : "";
}

enum vg_screen_entry_type vg_screen_entry_type(const struct vg_screen_list *l, uint32_t entry) {
    return entry < l->entries.n ? (enum vg_screen_entry_type)l->entries.v[entry].type : VG_SCREEN_OTHER;
}

const char *vg_screen_entry_type_name(enum vg_screen_entry_type type) {
    switch (type) {
    case VG_SCREEN_PERSON: return "person";
    case VG_SCREEN_ENTITY: return "entity";
    case VG_SCREEN_OTHER: break;
    }
    return "other";
}

const char *vg_screen_name_text(const struct vg_screen_list *l, uint32_t name) {
    return name < l->names.n ? l->text.v + l->names.v[name].text_off : "";
}

/* ---- matching ------------------------------------------------------------------------------- */

/* Index of the first key >= (h << 32) in a sorted key array. */
static size_t lower_bound(const uint64_t *v, size_t n, uint64_t h) {
    uint64_t want = h << 32;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < want) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Appends the names under key h (unless too common) to cand. */
static void collect(const struct key_index *ix, const uint64_t *v, uint64_t h, uint32_t *cand, size_t *n_cand) {
    if (!ix->slots) return;
    uint32_t key = (uint32_t)h;
    for (size_t at = (key * 0x9E3779B1u) & ix->mask; ix->slots[at].count; at = (at + 1) & ix->mask) {
        const struct key_slot *ks = &ix->slots[at];
        if (ks->key != key) continue;
        if (ks->count > POSTINGS_MAX) return;
        for (uint32_t i = 0; i < ks->count && *n_cand < CANDIDATES_MAX; i++) cand[(*n_cand)++] = (uint32_t)v[ks->start + i];
        return;
    }
}

/* Sorts candidate name ids ascending: insertion sort when few, else an LSD radix sort by
 * bytes (skipping bytes all ids share) through tmp (n entries). Can't fail. */
static void sort_u32(uint32_t *v, size_t n, uint32_t *tmp) {
    if (n < 32) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = v[i];
            size_t j = i;
            for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
            v[j] = x;
        }
        return;
    }
    uint32_t *src = v, *dst = tmp;
    for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++) count[((src[i] >> shift) & 0xFF) + 1]++;
        if (count[((src[0] >> shift) & 0xFF) + 1] == n) continue; /* one value of this byte */
        for (size_t b = 1; b < 257; b++) count[b] += count[b - 1];
        for (size_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v) memcpy(v, src, n * sizeof *v);
}

/* A stored normalised name (folded text, raw text) back into token form, with each token's
 * letter mask (vg_screen_name_masks). Raw tokens that do not line up with the folded ones
 * (a name too long to keep both) are left out. */
static void norm_decode(const char *text, size_t text_len, const char *raw, size_t raw_len,
                        struct vg_screen_name_norm *out, uint32_t *tok_mask, uint32_t *raw_mask) {
    size_t len = text_len;
    if (len >= VG_SCREEN_NORM_MAX) len = VG_SCREEN_NORM_MAX - 1;
    memcpy(out->text, text, len);
    out->text[len] = '\0';
    out->n_tokens = 0;
    size_t i = 0;
    while (i < len && out->n_tokens < VG_SCREEN_TOKENS_MAX) {
        size_t start = i;
        uint32_t m = 0;
        for (; i < len && out->text[i] != ' '; i++) m |= 1u << ((unsigned char)out->text[i] & 31);
        tok_mask[out->n_tokens] = m;
        out->tok_off[out->n_tokens] = (uint16_t)start;
        out->tok_len[out->n_tokens] = (uint8_t)(i - start);
        out->n_tokens++;
        i++;
    }
    len = raw_len;
    if (len >= VG_SCREEN_NORM_MAX) len = VG_SCREEN_NORM_MAX - 1;
    memcpy(out->raw, raw, len);
    out->raw[len] = '\0';
    size_t n = 0;
    for (i = 0; i < len && n < VG_SCREEN_TOKENS_MAX; i++, n++) {
        size_t start = i;
        uint32_t m = 0;
        for (; i < len && out->raw[i] != ' '; i++) m |= 1u << ((unsigned char)out->raw[i] & 31);
        raw_mask[n] = m;
        out->raw_off[n] = (uint16_t)start;
        out->raw_len[n] = (uint8_t)(i - start);
    }
    if (n != out->n_tokens || i < len) {
        memset(out->raw_len, 0, sizeof out->raw_len);
        memset(raw_mask, 0, VG_SCREEN_TOKENS_MAX * sizeof *raw_mask);
    }
}

static void decode_name(const struct vg_screen_list *l, const struct name *nm, struct vg_screen_name_norm *out,
                        uint32_t *tok_mask, uint32_t *raw_mask) {
    norm_decode(l->text.v + nm->norm_off, nm->raw_off - nm->norm_off - 1, l->text.v + nm->raw_off, nm->raw_len, out,
                tok_mask, raw_mask);
}

/* 1 when the party's date is in one of the entry's birth ranges, 0 when it is in none,
 * -1 when either side has no date. */
static int birth_agrees(const struct vg_screen_list *l, uint32_t entry, int32_t date) {
    const struct entry *e = &l->entries.v[entry];
    if (date <= 0 || e->birth_count == 0) return -1;
    for (uint32_t i = 0; i < e->birth_count; i++) {
        const struct birth *b = &l->births.v[e->birth_start + i];
        if (date >= b->from && date <= b->to) return 1;
    }
    return 0;
}

/* Records score for entry in hits (best per entry), keeping at most cap of them. */
static void hit_add(struct vg_screen_hit *hits, size_t *n, size_t cap, uint32_t entry, uint32_t name, double score) {
    for (size_t i = 0; i < *n; i++)
        if (hits[i].entry == entry) {
            if (score > hits[i].score) hits[i] = (struct vg_screen_hit){entry, name, score};
            return;
        }
    if (*n < cap) {
        hits[(*n)++] = (struct vg_screen_hit){entry, name, score};
        return;
    }
    size_t worst = 0; /* full: replace the weakest if this one beats it */
    for (size_t i = 1; i < *n; i++)
        if (hits[i].score < hits[worst].score || (hits[i].score == hits[worst].score && hits[i].entry > hits[worst].entry))
            worst = i;
    if (score > hits[worst].score) hits[worst] = (struct vg_screen_hit){entry, name, score};
}

static int cmp_hit(const void *a, const void *b) {
    const struct vg_screen_hit *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

size_t vg_screen_match(const struct vg_screen_list *l, const struct vg_screen_party *party, double threshold,
                       struct vg_screen_hit *hits, size_t max_hits) {
    size_t n_hits = 0;
    if (!l || max_hits == 0) return 0;
    if (party->party_id_len) { /* an identifier that matches exactly scores 1.0 */
        char norm[VG_ID_MAX];
        size_t n = ident_norm(party->party_id, party->party_id_len, norm);
        uint64_t h = n ? key_of(norm, n) : 0;
        for (size_t i = n ? lower_bound(l->ident_keys.v, l->ident_keys.n, h) : l->ident_keys.n;
             i < l->ident_keys.n && l->ident_keys.v[i] >> 32 == h; i++) {
            const struct ident *it = &l->idents.v[(uint32_t)l->ident_keys.v[i]];
            if (it->len == n && memcmp(l->text.v + it->off, norm, n) == 0)
                hit_add(hits, &n_hits, max_hits, it->entry, UINT32_MAX, 1.0);
        }
    }
    if (party->name_len) {
        static _Thread_local struct vg_screen_name_norm q, listed; /* ~1 KB each, off the stack */
        static _Thread_local uint32_t cand[CANDIDATES_MAX], cand_tmp[CANDIDATES_MAX];
        size_t n_cand = 0;
        if (vg_screen_normalise(party->name, party->name_len, &q) == VG_OK && q.n_tokens > 0) {
            uint32_t qm[VG_SCREEN_TOKENS_MAX], qrm[VG_SCREEN_TOKENS_MAX], lm[VG_SCREEN_TOKENS_MAX],
                lrm[VG_SCREEN_TOKENS_MAX];
            vg_screen_name_masks(&q, qm, qrm); /* once per query, not per candidate */
            collect(&l->exact_index, l->exact_keys.v, exact_key(&q), cand, &n_cand);
            /* Particles and short names (al, bin, abu, ali: 3 letters or fewer) name thousands of
             * list names and never make a match alone: candidates come from the longer tokens,
             * or from the short ones when the name has nothing else. */
            bool any_long = false;
            for (size_t t = 0; t < q.n_tokens; t++) any_long |= q.tok_len[t] >= FUZZY_TOKEN_MIN;
            for (size_t t = 0; t < q.n_tokens; t++) {
                const char *tok = q.text + q.tok_off[t];
                size_t tl = q.tok_len[t];
                if (any_long && tl < FUZZY_TOKEN_MIN) continue;
                /* deletions meet deletions (a changed or swapped letter); a token meets the list's
                 * deletions (a letter dropped in the party's name) and its deletions the list's
                 * tokens (a letter added) */
                FOR_TOKEN_KEYS(tok, tl, key, collect(&l->token_index, l->token_keys.v, key, cand, &n_cand));
                collect(&l->token_index, l->token_keys.v, key_of(tok, tl) ^ 0x5bd1e995u, cand, &n_cand);
                if (tl > FUZZY_TOKEN_MIN) {
                    char del[256];
                    for (size_t d = 0; d < tl; d++) {
                        if (d > 0 && tok[d] == tok[d - 1]) continue;
                        memcpy(del, tok, d);
                        memcpy(del + d, tok + d + 1, tl - d - 1);
                        collect(&l->token_index, l->token_keys.v, key_of(del, tl - 1), cand, &n_cand);
                    }
                }
            }
            sort_u32(cand, n_cand, cand_tmp);
            size_t q_significant = 0;
            for (size_t t = 0; t < q.n_tokens; t++) q_significant += q.tok_len[t] >= 3;
            for (size_t i = 0; i < n_cand; i++) {
                if (i > 0 && cand[i] == cand[i - 1]) continue;
                const struct name *nm = &l->names.v[cand[i]];
                /* One name alone ("Ahmed") never identifies a person, whatever alias says it. */
                if (q_significant < 2 && l->entries.v[nm->entry].type == VG_SCREEN_PERSON) continue;
                const char *norm_text = l->text.v + nm->norm_off;
                double score;
                if (nm->quality == VG_SCREEN_LOW) {
                    score = strcmp(norm_text, q.text) == 0 ? 1.0 : 0.0; /* same tokens, same order */
                    if (score == 0.0) {
                        decode_name(l, nm, &listed, lm, lrm);
                        score = listed.n_tokens == q.n_tokens && exact_key(&listed) == exact_key(&q) &&
                                        vg_screen_name_score_masked(&q, qm, qrm, &listed, lm, lrm) >= 1.0
                                    ? 1.0
                                    : 0.0;
                    }
                } else {
                    if (!vg_screen_may_score(&q, qm, qrm, norm_text, l->text.v + nm->raw_off, &l->toks.v[nm->tok_start],
                                             nm->n_toks))
                        continue; /* score 0, found without decoding the name */
                    decode_name(l, nm, &listed, lm, lrm);
                    score = vg_screen_name_score_masked(&q, qm, qrm, &listed, lm, lrm);
                }
                if (score <= 0.0) continue;
                if (birth_agrees(l, nm->entry, party->birth_date) == 0) score *= BIRTH_MISMATCH_FACTOR;
                if (score >= threshold) hit_add(hits, &n_hits, max_hits, nm->entry, cand[i], score);
            }
        }
    }
    qsort(hits, n_hits, sizeof *hits, cmp_hit);
    return n_hits;
}
