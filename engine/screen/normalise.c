/* engine/screen/ - sanctions name screening: normalise.c (names to folded Latin tokens, this
 * file), fold.c (spelling variants), score.c (token similarity and name alignment), index.c
 * (a loaded list and its token index, and the match). Semantics: docs/SCREENING.md.
 *
 * normalise.c turns a UTF-8 name into Latin lower-case tokens: ASCII names are read directly;
 * anything else goes through one ICU transliterator per thread (a compound rule: Cyrillic,
 * Kazakh and romanisation letters first, then ICU's Any-Latin and Latin-ASCII). */
#include "vigil/screen.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ustring.h>
#include <unicode/utrans.h>

/* The transliteration chain (docs/SCREENING.md). Cyrillic letters are mapped as BGN/PCGN
 * writes them (zh, kh, ts, ch, sh, shch, yu, ya), Kazakh letters to their plain Latin base,
 * and the diacritic letters other romanisations use (ISO 9, GOST, Czech-style, Romanian) to
 * the same digraphs, so every spelling meets in fold.c; the rest is ICU's own. */
static const char chain_rules[] =
    ":: NFC ;"
    ":: Lower ;"
    "а > a ; б > b ; в > v ; г > g ; д > d ; е > e ; ё > e ; ж > zh ; з > z ; и > i ; й > y ;"
    "к > k ; л > l ; м > m ; н > n ; о > o ; п > p ; р > r ; с > s ; т > t ; у > u ; ф > f ;"
    "х > kh ; ц > ts ; ч > ch ; ш > sh ; щ > shch ; ъ > ; ы > y ; ь > ; э > e ; ю > yu ; я > ya ;"
    "ә > a ; ғ > g ; қ > q ; ң > n ; ө > o ; ұ > u ; ү > u ; һ > h ; і > i ;"
    "є > ye ; ї > yi ; ґ > g ; ў > u ; ј > j ; љ > lj ; њ > nj ; ћ > c ; ђ > dj ; џ > dz ;"
    "š > sh ; č > ch ; ž > zh ; ŝ > shch ; ș > sh ; ş > sh ; ț > ts ; ţ > ts ; ä > a ; ö > o ; ü > u ;"
    "ʹ > ; ʺ > ; ’ > ; ʼ > ; ‘ > ; \\' > ;"
    ":: Any-Latin ;"
    ":: Latin-ASCII ;"
    ":: Lower ;";

#define WORK_UNITS (VG_NAME_MAX * 4)

static pthread_key_t trans_key;
static pthread_once_t trans_once = PTHREAD_ONCE_INIT;
static bool trans_key_ok;

static void trans_destroy(void *trans) {
    utrans_close(trans);
}

static void trans_key_init(void) {
    trans_key_ok = pthread_key_create(&trans_key, trans_destroy) == 0;
}

/* This thread's transliterator, opened on first use (ICU's are not thread-safe). Returns
 * NULL when ICU cannot build it. */
static UTransliterator *thread_trans(void) {
    pthread_once(&trans_once, trans_key_init);
    if (!trans_key_ok) return NULL;
    UTransliterator *t = pthread_getspecific(trans_key);
    if (t) return t;
    static UChar rules[sizeof chain_rules];
    static pthread_mutex_t rules_lock = PTHREAD_MUTEX_INITIALIZER; /* once per thread, not per name */
    static int32_t rules_len = -1;
    UErrorCode status = U_ZERO_ERROR;
    pthread_mutex_lock(&rules_lock);
    if (rules_len < 0) {
        int32_t n = 0;
        u_strFromUTF8(rules, (int32_t)VG_ARRAY_LEN(rules), &n, chain_rules, -1, &status);
        if (U_SUCCESS(status)) rules_len = n;
    }
    int32_t len = rules_len;
    pthread_mutex_unlock(&rules_lock);
    if (len < 0) return NULL;
    status = U_ZERO_ERROR;
    UParseError perr;
    static const UChar id[] = {'v', 'i', 'g', 'i', 'l', '-', 'n', 'a', 'm', 'e', 0};
    t = utrans_openU(id, -1, UTRANS_FORWARD, rules, len, &perr, &status);
    if (U_FAILURE(status) || !t) return NULL;
    if (pthread_setspecific(trans_key, t) != 0) {
        utrans_close(t);
        return NULL;
    }
    return t;
}

/* Transliterates a non-ASCII name into out (ASCII expected, anything else left for the
 * tokenizer to treat as separators). Returns the length, or -1 on ICU failure. */
static int32_t to_latin(const char *utf8, size_t len, char *out, int32_t cap) {
    UTransliterator *t = thread_trans();
    if (!t) return -1;
    UChar work[WORK_UNITS];
    int32_t n = 0;
    UErrorCode status = U_ZERO_ERROR;
    u_strFromUTF8WithSub(work, WORK_UNITS / 2, &n, utf8, (int32_t)VG_MIN(len, (size_t)VG_NAME_MAX), 0x20, NULL,
                         &status);
    if (U_FAILURE(status)) return -1;
    int32_t limit = n;
    utrans_transUChars(t, work, &n, WORK_UNITS, 0, &limit, &status);
    if (U_FAILURE(status)) return -1;
    int32_t out_len = 0;
    status = U_ZERO_ERROR;
    u_strToUTF8WithSub(out, cap, &out_len, work, n, 0x20, NULL, &status);
    if (U_FAILURE(status) && status != U_BUFFER_OVERFLOW_ERROR && status != U_STRING_NOT_TERMINATED_WARNING)
        return -1;
    return VG_MIN(out_len, cap);
}

/* The chain's Cyrillic and Kazakh letters (U+0400..U+04FF), lower-case index: the same
 * mapping as chain_rules, applied without ICU to the names that have only these letters and
 * ASCII (most Cyrillic names), which is several times faster. NULL: not mapped here. */
static const char *const cyrillic[0x100] = {
    [0x30] = "a", [0x31] = "b", [0x32] = "v", [0x33] = "g", [0x34] = "d", [0x35] = "e", [0x36] = "zh",
    [0x37] = "z", [0x38] = "i", [0x39] = "y", [0x3A] = "k", [0x3B] = "l", [0x3C] = "m", [0x3D] = "n",
    [0x3E] = "o", [0x3F] = "p", [0x40] = "r", [0x41] = "s", [0x42] = "t", [0x43] = "u", [0x44] = "f",
    [0x45] = "kh", [0x46] = "ts", [0x47] = "ch", [0x48] = "sh", [0x49] = "shch", [0x4A] = "", [0x4B] = "y",
    [0x4C] = "", [0x4D] = "e", [0x4E] = "yu", [0x4F] = "ya",
    [0x51] = "e", [0x52] = "dj", [0x54] = "ye", [0x56] = "i", [0x57] = "yi", [0x58] = "j", [0x59] = "lj",
    [0x5A] = "nj", [0x5B] = "c", [0x5E] = "u", [0x5F] = "dz",
    [0x91] = "g", [0x93] = "g", [0x9B] = "q", [0xA3] = "n", [0xAF] = "u", [0xB1] = "u", [0xBB] = "h",
    [0xD9] = "a", [0xE9] = "o",
};

/* The lower-case index of a Cyrillic code point's letter in the table, or -1. */
static int cyrillic_lower(uint32_t cp) {
    if (cp >= 0x410 && cp <= 0x42F) return (int)(cp - 0x410 + 0x30);          /* А..Я */
    if (cp >= 0x400 && cp <= 0x40F) return (int)(cp - 0x400 + 0x50);          /* Ѐ..Џ */
    if (cp >= 0x430 && cp <= 0x45F) return (int)(cp - 0x400);
    if (cp >= 0x490 && cp <= 0x4FF) return (int)((cp | 1) - 0x400);           /* pairs: upper even */
    return -1;
}

/* Cyrillic-and-ASCII names without ICU. Returns the length, or -1 when the name has
 * anything else (ICU then). */
static int32_t cyrillic_to_latin(const char *utf8, size_t len, char *out, int32_t cap) {
    int32_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)utf8[i];
        const char *latin;
        char one[2] = {0, 0};
        if (c < 0x80) {
            one[0] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : (char)c;
            latin = one;
            i++;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < len && ((unsigned char)utf8[i + 1] & 0xC0) == 0x80) {
            uint32_t cp = ((uint32_t)(c & 0x1F) << 6) | ((unsigned char)utf8[i + 1] & 0x3F);
            int k = cyrillic_lower(cp);
            if (k < 0 || !cyrillic[k]) return -1;
            latin = cyrillic[k];
            i += 2;
        } else {
            return -1;
        }
        for (; *latin; latin++) {
            if (n >= cap) return n;
            out[n++] = *latin;
        }
    }
    return n;
}

/* Lower-case Latin text of a name: ASCII directly, Cyrillic by table, the rest through
 * ICU. Returns the length in out (cap bytes), or -1. */
static int32_t latin_of(const char *utf8, size_t len, char *out, int32_t cap) {
    bool ascii = true;
    for (size_t i = 0; i < len && ascii; i++) ascii = (unsigned char)utf8[i] < 0x80;
    if (!ascii) {
        int32_t n = cyrillic_to_latin(utf8, len, out, cap);
        return n >= 0 ? n : to_latin(utf8, len, out, cap);
    }
    int32_t n = (int32_t)VG_MIN(len, (size_t)cap);
    for (int32_t i = 0; i < n; i++) {
        char c = utf8[i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    return n;
}

static inline bool is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static inline bool is_joiner(char c) { /* dropped inside a word: O'Neil, Ma`ruf */
    return c == '\'' || c == '`';
}

/* True when latin[i] starts a run of joiners that a word letter follows (GOST's U``senov,
 * y'). */
static bool joins(const char *latin, int32_t i, int32_t n) {
    while (i < n && is_joiner(latin[i])) i++;
    return i < n && i > 0 && is_word(latin[i]) && is_joiner(latin[i - 1]);
}

/* Calls fn for each token of latin text (runs of [a-z0-9], joiners removed). */
static void tokenize(const char *latin, int32_t n, struct vg_screen_name_norm *out, bool fold) {
    size_t used = 0, raw_used = 0;
    out->n_tokens = 0;
    int32_t i = 0;
    while (i < n && out->n_tokens < VG_SCREEN_TOKENS_MAX) {
        while (i < n && !is_word(latin[i])) i++;
        if (i >= n) break;
        char tok[VG_SCREEN_NORM_MAX];
        size_t tl = 0;
        while (i < n && (is_word(latin[i]) || joins(latin, i, n))) {
            if (!is_joiner(latin[i]) && tl < sizeof tok) tok[tl++] = latin[i];
            i++;
        }
        size_t raw_tl = tl;
        char raw[VG_SCREEN_NORM_MAX];
        memcpy(raw, tok, tl);
        if (fold) tl = vg_screen_fold(tok, tl);
        /* room for the separating space (after the first token) and the final NUL */
        if (tl == 0 || tl > 255 || used + (used ? 1 : 0) + tl + 1 > VG_SCREEN_NORM_MAX) continue;
        out->raw_off[out->n_tokens] = (uint16_t)raw_used;
        out->raw_len[out->n_tokens] = 0;
        if (raw_tl <= 255 && raw_used + raw_tl + 1 < VG_SCREEN_NORM_MAX) {
            if (raw_used) out->raw[raw_used++] = ' ';
            out->raw_off[out->n_tokens] = (uint16_t)raw_used;
            out->raw_len[out->n_tokens] = (uint8_t)raw_tl;
            memcpy(out->raw + raw_used, raw, raw_tl);
            raw_used += raw_tl;
        }
        if (used) out->text[used++] = ' ';
        out->tok_off[out->n_tokens] = (uint16_t)used;
        out->tok_len[out->n_tokens] = (uint8_t)tl;
        memcpy(out->text + used, tok, tl);
        used += tl;
        out->n_tokens++;
    }
    out->text[used] = '\0';
    out->raw[raw_used] = '\0';
}

int vg_screen_normalise(const char *utf8, size_t len, struct vg_screen_name_norm *out) {
    char latin[VG_NAME_MAX * 3];
    int32_t n = latin_of(utf8, len, latin, (int32_t)sizeof latin);
    if (n < 0) {
        out->n_tokens = 0;
        out->text[0] = out->raw[0] = '\0';
        return VG_ERR_INVALID;
    }
    tokenize(latin, n, out, true);
    return VG_OK;
}

size_t vg_screen_transliterate(const char *utf8, size_t len, char *out, size_t cap) {
    char latin[VG_NAME_MAX * 3];
    int32_t n = latin_of(utf8, len, latin, (int32_t)sizeof latin);
    if (n < 0 || cap == 0) return 0;
    struct vg_screen_name_norm norm;
    tokenize(latin, n, &norm, false);
    size_t l = strlen(norm.text);
    if (l >= cap) return 0;
    memcpy(out, norm.text, l + 1);
    return l;
}
