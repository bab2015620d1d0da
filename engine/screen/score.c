/* score.c - how alike two names are: per token a bounded edit distance and Jaro-Winkler
 * (short tokens exact only), and an order-free greedy alignment of the tokens in which
 * unmatched query tokens weigh more than a list name's missing surname, and that more than
 * its missing middle names. Pure arithmetic on normalised names. */
#include "vigil/screen.h"

#include <string.h>

/* Below this a token pair does not count as matched. */
#define TOKEN_MIN_SIM 0.85
/* Weight of an unmatched token relative to its length, query and list side. */
#define UNMATCHED_QUERY_WEIGHT 2.0
#define UNMATCHED_LIST_WEIGHT 0.25
#define UNMATCHED_OUTER_WEIGHT 1.0
/* Tokens this short are particles (al, bin, de) for the two-token rule. */
#define SIGNIFICANT_TOKEN 3

/* Optimal-string-alignment (Damerau-Levenshtein) distance of two tokens of at most 64
 * letters (insertions, deletions, substitutions and swaps of neighbours cost 1), computed
 * only in the band |i - j| <= k: any distance above k comes back as k + 1. */
static size_t edit_distance(const char *a, size_t alen, const char *b, size_t blen, size_t k) {
    uint8_t d[65][65];
    const uint8_t far = (uint8_t)(k + 1);
    for (size_t i = 0; i <= alen; i++)
        for (size_t j = i > k + 1 ? i - k - 1 : 0; j <= VG_MIN(blen, i + k + 1); j++)
            d[i][j] = i == 0 ? (uint8_t)VG_MIN(j, (size_t)far) : j == 0 ? (uint8_t)VG_MIN(i, (size_t)far) : far;
    for (size_t i = 1; i <= alen; i++) {
        uint8_t row_min = far;
        for (size_t j = i > k ? i - k : 1; j <= VG_MIN(blen, i + k); j++) {
            int best = VG_MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);
            best = VG_MIN(best, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]));
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) best = VG_MIN(best, d[i - 2][j - 2] + 1);
            d[i][j] = (uint8_t)VG_MIN(best, (int)far);
            row_min = VG_MIN(row_min, d[i][j]);
        }
        if (row_min >= far) return far; /* every path already costs more than k */
    }
    return d[alen][blen];
}

/* Whether two different tokens are one edit apart (the optimal-string-alignment distance
 * is 1: one letter changed, added or dropped, or two neighbours swapped): edit_distance(a,
 * b, 1) <= 1 for a != b, in one pass instead of a table. */
static bool one_edit(const char *a, size_t alen, const char *b, size_t blen) {
    if (alen < blen) {
        const char *t = a; a = b; b = t;
        size_t l = alen; alen = blen; blen = l;
    }
    if (alen - blen > 1) return false;
    size_t i = 0;
    while (i < blen && a[i] == b[i]) i++;
    if (alen != blen) return memcmp(a + i + 1, b + i, blen - i) == 0; /* a has one letter more */
    if (i == alen) return true;
    if (memcmp(a + i + 1, b + i + 1, alen - i - 1) == 0) return true; /* changed */
    return i + 1 < alen && a[i] == b[i + 1] && a[i + 1] == b[i] && memcmp(a + i + 2, b + i + 2, alen - i - 2) == 0;
}

/* Edits a pair of folded tokens may differ by and still be the same name: one up to 8
 * letters, two beyond (by the longer token); tokens of 3 letters or fewer match only equal. */
static size_t edit_budget(size_t maxlen) {
    return maxlen <= 8 ? 1 : 2;
}

/* The letter kinds of a token, one bit each (digits share bits with letters: a coarser
 * set, still a valid bound below). */
static uint32_t letter_mask(const char *t, size_t len) {
    uint32_t m = 0;
    for (size_t i = 0; i < len; i++) m |= 1u << ((unsigned char)t[i] & 31);
    return m;
}

/* Bits set in x, inline (the portable build has no popcnt instruction: the builtin would
 * call libgcc). */
static inline size_t popcount32(uint32_t x) {
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    return (size_t)((((x + (x >> 4)) & 0x0F0F0F0Fu) * 0x01010101u) >> 24);
}

/* How many edits apart two folded tokens are when they are within their edit budget: 0
 * when equal, else the distance; -1 when they are not the same name (too short to differ,
 * too long, lengths or letter kinds too far apart, or more edits than the budget). Inline:
 * most pairs of a name against a candidate end in its first tests, and equal tokens have
 * equal masks (the comparison of their bytes runs only then). */
static inline int token_edits(const char *a, size_t alen, uint32_t ma, const char *b, size_t blen, uint32_t mb) {
    if (alen == blen && ma == mb && memcmp(a, b, alen) == 0) return 0;
    if (alen <= 3 || blen <= 3 || alen > 64 || blen > 64) return -1;
    size_t maxlen = VG_MAX(alen, blen), budget = edit_budget(maxlen);
    if ((alen > blen ? alen - blen : blen - alen) > budget) return -1; /* a prefix is not the name */
    /* Each edit adds or removes at most one letter kind on each side: more differing kinds
     * than 2 x budget cannot be within it (most pairs end here, before the table). */
    if (popcount32(ma ^ mb) > 2 * budget) return -1;
    size_t dist = budget == 1 ? (one_edit(a, alen, b, blen) ? 1 : 2) : edit_distance(a, alen, b, blen, budget);
    return dist > budget ? -1 : (int)dist;
}

/* The similarity of two different tokens `dist` (within budget) edits apart: Jaro-Winkler,
 * and at least 1 - edits / (2 x length) (>= 0.875). */
static double token_sim_near(const char *a, size_t alen, const char *b, size_t blen, size_t dist) {
    size_t maxlen = VG_MAX(alen, blen);
    size_t window = maxlen / 2;
    window = window > 0 ? window - 1 : 0;
    bool amatch[64] = {0}, bmatch[64] = {0};
    size_t matches = 0;
    for (size_t i = 0; i < alen; i++) {
        size_t lo = i > window ? i - window : 0, hi = VG_MIN(i + window + 1, blen);
        for (size_t j = lo; j < hi; j++) {
            if (bmatch[j] || a[i] != b[j]) continue;
            amatch[i] = bmatch[j] = true;
            matches++;
            break;
        }
    }
    double jw = 0.0;
    if (matches > 0) {
        size_t transposed = 0, j = 0;
        for (size_t i = 0; i < alen; i++) {
            if (!amatch[i]) continue;
            while (!bmatch[j]) j++;
            if (a[i] != b[j]) transposed++;
            j++;
        }
        double m = (double)matches;
        double jaro = (m / (double)alen + m / (double)blen + (m - (double)transposed / 2.0) / m) / 3.0;
        size_t prefix = 0;
        while (prefix < 4 && prefix < alen && prefix < blen && a[prefix] == b[prefix]) prefix++;
        jw = jaro + (double)prefix * 0.1 * (1.0 - jaro);
    }
    /* within the budget the pair matches: at least 1 - edits / (2 x length) (>= 0.875) */
    return VG_MAX(jw, 1.0 - (double)dist / (2.0 * (double)maxlen));
}

/* vg_screen_token_sim with both tokens' letter masks given. */
static inline double token_sim(const char *a, size_t alen, uint32_t ma, const char *b, size_t blen, uint32_t mb) {
    int edits = token_edits(a, alen, ma, b, blen, mb);
    if (edits <= 0) return edits == 0 ? 1.0 : 0.0;
    return token_sim_near(a, alen, b, blen, (size_t)edits);
}

/* token_sim(...) > 0, without the Jaro-Winkler part (every pair within the budget scores
 * at least 0.875, above TOKEN_MIN_SIM). */
static inline bool token_near(const char *a, size_t alen, uint32_t ma, const char *b, size_t blen, uint32_t mb) {
    return token_edits(a, alen, ma, b, blen, mb) >= 0;
}

double vg_screen_token_sim(const char *a, size_t alen, const char *b, size_t blen) {
    return token_sim(a, alen, letter_mask(a, alen), b, blen, letter_mask(b, blen));
}

/* A patronymic (Russian -ovich/-evna, Kazakh -uly/-kyzy, Uzbek -ugli), folded: a name part
 * payments often leave out, wherever the list puts it. */
static bool patronymic(const char *t, size_t len) {
    static const char *const ends[] = {"vic", "vna", "icna", "uli", "kisi", "ugli"};
    for (size_t i = 0; i < VG_ARRAY_LEN(ends); i++) {
        size_t el = strlen(ends[i]);
        if (len > el + 2 && memcmp(t + len - el, ends[i], el) == 0) return true;
    }
    return false;
}

void vg_screen_name_masks(const struct vg_screen_name_norm *n, uint32_t tok[VG_SCREEN_TOKENS_MAX],
                          uint32_t raw[VG_SCREEN_TOKENS_MAX]) {
    for (size_t i = 0; i < n->n_tokens; i++) {
        tok[i] = letter_mask(n->text + n->tok_off[i], n->tok_len[i]);
        raw[i] = letter_mask(n->raw + n->raw_off[i], n->raw_len[i]);
    }
}

double vg_screen_name_score(const struct vg_screen_name_norm *q, const struct vg_screen_name_norm *l) {
    uint32_t qm[VG_SCREEN_TOKENS_MAX], qrm[VG_SCREEN_TOKENS_MAX], lm[VG_SCREEN_TOKENS_MAX], lrm[VG_SCREEN_TOKENS_MAX];
    vg_screen_name_masks(q, qm, qrm);
    vg_screen_name_masks(l, lm, lrm);
    return vg_screen_name_score_masked(q, qm, qrm, l, lm, lrm);
}

double vg_screen_name_score_masked(const struct vg_screen_name_norm *q, const uint32_t *qm, const uint32_t *qrm,
                                   const struct vg_screen_name_norm *l, const uint32_t *lm, const uint32_t *lrm) {
    size_t nq = q->n_tokens, nl = l->n_tokens;
    if (nq == 0 || nl == 0) return 0.0;
    size_t significant_listed = 0;
    for (size_t j = 0; j < nl; j++) significant_listed += l->tok_len[j] >= SIGNIFICANT_TOKEN;
    /* a one-token name matches only alone (below), whatever its tokens' similarity */
    if (significant_listed < 2 && nq > nl) return 0.0;
    double sim[VG_SCREEN_TOKENS_MAX][VG_SCREEN_TOKENS_MAX];
    bool raw_needed = false;
    uint32_t near_cols = 0; /* significant list tokens some query token may pair with */
    for (size_t i = 0; i < nq; i++)
        for (size_t j = 0; j < nl; j++) {
            sim[i][j] = token_sim(q->text + q->tok_off[i], q->tok_len[i], qm[i], l->text + l->tok_off[j], l->tok_len[j],
                                  lm[j]);
            raw_needed |= sim[i][j] == 0.0 && q->tok_len[i] > 3 && l->tok_len[j] > 3;
            if (sim[i][j] >= TOKEN_MIN_SIM && l->tok_len[j] >= SIGNIFICANT_TOKEN) near_cols |= 1u << j;
        }
    if (raw_needed) { /* a typo folding made two edits (Kahlil/Khalil): the pair may meet unfolded */
        for (size_t i = 0; i < nq; i++)
            for (size_t j = 0; j < nl; j++)
                if (sim[i][j] == 0.0 && q->raw_len[i] > 3 && l->raw_len[j] > 3) {
                    sim[i][j] = token_sim(q->raw + q->raw_off[i], q->raw_len[i], qrm[i], l->raw + l->raw_off[j],
                                          l->raw_len[j], lrm[j]);
                    if (sim[i][j] >= TOKEN_MIN_SIM && l->tok_len[j] >= SIGNIFICANT_TOKEN) near_cols |= 1u << j;
                }
    }
    /* The alignment below pairs at most these significant list tokens: too few of them fail
     * the first-name rule whatever it pairs, so most candidates end here. */
    if (popcount32(near_cols) < VG_MIN(significant_listed, (size_t)2)) return 0.0;
    bool qused[VG_SCREEN_TOKENS_MAX] = {0}, lused[VG_SCREEN_TOKENS_MAX] = {0};
    double num = 0, den = 0;
    size_t significant_matched = 0;
    for (;;) { /* greedy: the most similar free pair first */
        double best = TOKEN_MIN_SIM;
        size_t bi = nq, bj = nl;
        for (size_t i = 0; i < nq; i++)
            for (size_t j = 0; j < nl && !qused[i]; j++)
                if (!lused[j] && sim[i][j] >= best && (bi == nq || sim[i][j] > best)) {
                    best = sim[i][j];
                    bi = i;
                    bj = j;
                }
        if (bi == nq) break;
        qused[bi] = lused[bj] = true;
        double w = (double)(q->tok_len[bi] + l->tok_len[bj]);
        num += best * w;
        den += w;
        significant_matched += l->tok_len[bj] >= SIGNIFICANT_TOKEN;
    }
    /* A first name alone does not match a full name; a one-token name matches only alone. */
    if (significant_matched < VG_MIN(significant_listed, (size_t)2)) return 0.0;
    if (significant_listed < 2 && nq > nl) return 0.0;
    for (size_t i = 0; i < nq; i++)
        if (!qused[i]) den += UNMATCHED_QUERY_WEIGHT * q->tok_len[i];
    for (size_t j = 0; j < nl; j++) {
        if (lused[j]) continue;
        /* a missing middle name or patronymic costs little; a missing first or last word
         * (the surname, in either order) as much as a query word */
        bool outer = (j == 0 || j == nl - 1) && !patronymic(l->text + l->tok_off[j], l->tok_len[j]);
        den += (outer ? UNMATCHED_OUTER_WEIGHT : UNMATCHED_LIST_WEIGHT) * l->tok_len[j];
    }
    return den > 0 ? num / den : 0.0;
}

bool vg_screen_may_score(const struct vg_screen_name_norm *q, const uint32_t *qm, const uint32_t *qrm, const char *text,
                         const char *raw, const struct vg_screen_tok *toks, size_t nl) {
    size_t nq = q->n_tokens;
    if (nq == 0 || nl == 0) return false;
    size_t significant_listed = 0;
    for (size_t j = 0; j < nl; j++) significant_listed += toks[j].len >= SIGNIFICANT_TOKEN;
    if (significant_listed < 2 && nq > nl) return false; /* as the score's first rule */
    size_t need = VG_MIN(significant_listed, (size_t)2), near = 0, left = significant_listed;
    if (need == 0) return true;
    for (size_t j = 0; j < nl; j++) {
        const struct vg_screen_tok *t = &toks[j];
        if (t->len < SIGNIFICANT_TOKEN) continue;
        left--;
        for (size_t i = 0; i < nq; i++)
            if (token_near(q->text + q->tok_off[i], q->tok_len[i], qm[i], text + t->off, t->len, t->mask) ||
                (q->raw_len[i] > 3 && t->raw_len > 3 &&
                 token_near(q->raw + q->raw_off[i], q->raw_len[i], qrm[i], raw + t->raw_off, t->raw_len, t->raw_mask))) {
                near++;
                break;
            }
        if (near >= need) return true;
        if (near + left < need) return false;
    }
    return false;
}
