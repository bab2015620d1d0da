/* score.c - how alike two names are: Jaro-Winkler per folded token (short tokens exact
 * only) and an order-free greedy alignment of the tokens in which unmatched query tokens
 * weigh more than unmatched list tokens. Pure arithmetic on normalised names. */
#include "vigil/screen.h"

#include <string.h>

/* Below this a token pair does not count as matched. */
#define TOKEN_MIN_SIM 0.85
/* Weight of an unmatched token relative to its length, query and list side. */
#define UNMATCHED_QUERY_WEIGHT 2.0
#define UNMATCHED_LIST_WEIGHT 0.25
/* Tokens this short are particles (al, bin, de) for the two-token rule. */
#define SIGNIFICANT_TOKEN 3

double vg_screen_token_sim(const char *a, size_t alen, const char *b, size_t blen) {
    if (alen == blen && memcmp(a, b, alen) == 0) return 1.0;
    if (alen <= 3 || blen <= 3 || alen > 64 || blen > 64) return 0.0;
    size_t window = VG_MAX(alen, blen) / 2;
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
    if (matches == 0) return 0.0;
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
    double jw = jaro + (double)prefix * 0.1 * (1.0 - jaro);
    /* Jaro-Winkler rates a prefix highly (Omar ~ Omarova): tokens of unequal length lose in
     * proportion, so gender forms (Ivanov ~ Ivanova) stay close and prefixes do not. */
    double gap = (double)(alen > blen ? alen - blen : blen - alen) / (double)VG_MAX(alen, blen);
    return jw * (1.0 - 0.5 * gap);
}

double vg_screen_name_score(const struct vg_screen_name_norm *q, const struct vg_screen_name_norm *l) {
    size_t nq = q->n_tokens, nl = l->n_tokens;
    if (nq == 0 || nl == 0) return 0.0;
    double sim[VG_SCREEN_TOKENS_MAX][VG_SCREEN_TOKENS_MAX];
    for (size_t i = 0; i < nq; i++)
        for (size_t j = 0; j < nl; j++)
            sim[i][j] = vg_screen_token_sim(q->text + q->tok_off[i], q->tok_len[i], l->text + l->tok_off[j],
                                            l->tok_len[j]);
    bool qused[VG_SCREEN_TOKENS_MAX] = {0}, lused[VG_SCREEN_TOKENS_MAX] = {0};
    double num = 0, den = 0;
    size_t significant_matched = 0, significant_listed = 0;
    for (size_t j = 0; j < nl; j++) significant_listed += l->tok_len[j] >= SIGNIFICANT_TOKEN;
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
    for (size_t j = 0; j < nl; j++)
        if (!lused[j]) den += UNMATCHED_LIST_WEIGHT * l->tok_len[j];
    return den > 0 ? num / den : 0.0;
}
