/* screen.h - sanctions name screening (engine/screen/): names normalised to folded Latin
 * tokens, a loaded list (entries, their names and aliases, birth dates, identifiers) indexed
 * by token, and a match that scores a party against it in [0, 1]. A loaded list is immutable
 * and shared read-only by every stage thread; building one is for loaders (connectors/lists/). */
#ifndef VIGIL_SCREEN_H
#define VIGIL_SCREEN_H

#include "vigil/common.h"

/* Longest normalised name kept (folded tokens, spaces between), and tokens per name. */
#define VG_SCREEN_NORM_MAX 512
#define VG_SCREEN_TOKENS_MAX 12

/* ---- normalisation (normalise.c, fold.c) ------------------------------------------------ */

/* A name as matched: folded tokens, each a NUL-free slice of text, and the same tokens
 * before spelling folding (raw: a typo is one edit there, folding can make it two; raw_len
 * 0 when a raw token did not fit). */
struct vg_screen_name_norm {
    char text[VG_SCREEN_NORM_MAX];
    uint16_t tok_off[VG_SCREEN_TOKENS_MAX];
    uint8_t tok_len[VG_SCREEN_TOKENS_MAX];
    uint8_t n_tokens;
    char raw[VG_SCREEN_NORM_MAX];
    uint16_t raw_off[VG_SCREEN_TOKENS_MAX];
    uint8_t raw_len[VG_SCREEN_TOKENS_MAX];
};

/* UTF-8 name → Latin lower-case tokens (ICU transliteration for anything not ASCII, see
 * docs/SCREENING.md), each token spelling-folded (vg_screen_fold). Invalid UTF-8 bytes are
 * separators. Tokens past VG_SCREEN_TOKENS_MAX are dropped. Returns VG_OK, or VG_ERR_NOMEM /
 * VG_ERR_INVALID when ICU cannot open its transliterator (out->n_tokens is 0 then). */
int vg_screen_normalise(const char *utf8, size_t len, struct vg_screen_name_norm *out);

/* The same without spelling folding, as one string of space-separated Latin tokens (for
 * tests and docs). Returns the length written (< cap), 0 on failure. */
size_t vg_screen_transliterate(const char *utf8, size_t len, char *out, size_t cap);

/* Folds one lower-case ASCII token in place so spelling variants meet (kh/h, sch/sh, w/v,
 * y/j/i, doubled letters, ...). Returns the new length (<= len). Can't fail. */
size_t vg_screen_fold(char *token, size_t len);

/* ---- scoring (score.c) ------------------------------------------------------------------ */

/* Similarity of two folded tokens in [0, 1]: 0 unless they are within the edit budget
 * (Damerau-Levenshtein 1 up to 8 letters, 2 beyond; tokens of 3 bytes or fewer only equal),
 * else the larger of Jaro-Winkler and 1 - edits / (2 x length). Can't fail. */
double vg_screen_token_sim(const char *a, size_t alen, const char *b, size_t blen);

/* Order-free alignment score of a query name against a list name in [0, 1] (see
 * docs/SCREENING.md: unmatched query tokens weigh more than unmatched list tokens; a list
 * name of two or more significant tokens needs two of them matched). Can't fail. */
double vg_screen_name_score(const struct vg_screen_name_norm *query, const struct vg_screen_name_norm *listed);

/* Each token's letter kinds (bit c & 31 for each byte c), folded (tok) and raw (raw; 0 for
 * a raw token left out), as vg_screen_name_score_masked wants them. Can't fail. */
void vg_screen_name_masks(const struct vg_screen_name_norm *n, uint32_t tok[VG_SCREEN_TOKENS_MAX],
                          uint32_t raw[VG_SCREEN_TOKENS_MAX]);
/* vg_screen_name_score with both names' masks given (the matcher computes the query's once
 * and a list name's while decoding it). Same result. Can't fail. */
double vg_screen_name_score_masked(const struct vg_screen_name_norm *query, const uint32_t *query_tok,
                                   const uint32_t *query_raw, const struct vg_screen_name_norm *listed,
                                   const uint32_t *listed_tok, const uint32_t *listed_raw);

/* One token of a list name as the index keeps it for every name (offsets into the name's
 * folded and raw text; raw_len 0 for a raw token left out), so the matcher can rule a
 * candidate out without decoding it. */
struct vg_screen_tok {
    uint16_t off, raw_off;
    uint8_t len, raw_len;
    uint32_t mask, raw_mask;           /* letter kinds, as vg_screen_name_masks */
};

/* false when vg_screen_name_score_masked of the query against this list name (nl tokens over
 * its folded text and raw text) is certainly 0: fewer significant list tokens than the
 * alignment needs have a query token within the edit budget (folded, or raw for a pair
 * whose folded forms do not meet). Decided column by column, stopping as soon as it is
 * known; true means score it. Can't fail. */
bool vg_screen_may_score(const struct vg_screen_name_norm *query, const uint32_t *query_tok,
                         const uint32_t *query_raw, const char *text, const char *raw,
                         const struct vg_screen_tok *toks, size_t nl);

/* ---- loaded lists (index.c) -------------------------------------------------------------- */

enum vg_screen_entry_type { VG_SCREEN_PERSON = 0, VG_SCREEN_ENTITY, VG_SCREEN_OTHER };
enum vg_screen_quality { VG_SCREEN_GOOD = 0, VG_SCREEN_LOW };

struct vg_screen_list;

/* An empty list being built. name: the configured list name; version: the file's date or
 * hash. Returns NULL when out of memory. */
struct vg_screen_list *vg_screen_list_new(const char *name, const char *version);
void vg_screen_list_free(struct vg_screen_list *list);

/* Starts the next entry (reference such as "QDi.290", type). Names, dates and identifiers
 * added next belong to it. Returns VG_OK or VG_ERR_NOMEM. */
int vg_screen_add_entry(struct vg_screen_list *list, const char *ref, size_t ref_len, enum vg_screen_entry_type type);
/* A name or alias of the current entry; empty names are ignored. Returns VG_OK,
 * VG_ERR_NOMEM, or VG_ERR_INVALID without a current entry. */
int vg_screen_add_name(struct vg_screen_list *list, const char *utf8, size_t len, enum vg_screen_quality quality);
/* A birth date of the current entry as a range of YYYYMMDD: exact (from == to), a year
 * (YYYY0101..YYYY1231) or a span. Returns VG_OK, VG_ERR_NOMEM or VG_ERR_INVALID. */
int vg_screen_add_birth(struct vg_screen_list *list, int32_t from_yyyymmdd, int32_t to_yyyymmdd);
/* An identifier (passport, national id) of the current entry, compared upper-cased with
 * spaces, dots, dashes and slashes removed. Returns VG_OK, VG_ERR_NOMEM or VG_ERR_INVALID. */
int vg_screen_add_identifier(struct vg_screen_list *list, const char *id, size_t len);
/* Builds the token index once every entry is added. Returns VG_OK or VG_ERR_NOMEM. */
int vg_screen_list_finish(struct vg_screen_list *list);

size_t vg_screen_list_entries(const struct vg_screen_list *list);
size_t vg_screen_list_names(const struct vg_screen_list *list);
size_t vg_screen_list_bytes(const struct vg_screen_list *list); /* memory held */
const char *vg_screen_list_name(const struct vg_screen_list *list);
const char *vg_screen_list_version(const struct vg_screen_list *list);

/* A party as sent. name/party_id may be empty; birth_date 0 when unknown. */
struct vg_screen_party {
    const char *name;
    size_t name_len;
    const char *party_id;
    size_t party_id_len;
    int32_t birth_date;        /* YYYYMMDD */
};

/* One matched entry. */
struct vg_screen_hit {
    uint32_t entry;
    uint32_t name;             /* the matched list name (UINT32_MAX: matched by identifier) */
    double score;
};

/* Scores the party against the list: every entry scoring >= threshold, best name per entry,
 * up to max_hits of them (highest scores first). Looks candidates up in the token index; never
 * scans the list. Returns the number of hits. Can't fail. */
size_t vg_screen_match(const struct vg_screen_list *list, const struct vg_screen_party *party,
                       double threshold, struct vg_screen_hit *hits, size_t max_hits);

/* Accessors for a hit. Strings are NUL-terminated and live as long as the list. */
const char *vg_screen_entry_ref(const struct vg_screen_list *list, uint32_t entry);
enum vg_screen_entry_type vg_screen_entry_type(const struct vg_screen_list *list, uint32_t entry);
const char *vg_screen_entry_type_name(enum vg_screen_entry_type type);
const char *vg_screen_name_text(const struct vg_screen_list *list, uint32_t name); /* as listed */

#endif
