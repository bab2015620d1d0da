/* fold.c - spelling-variant folding of one Latin name token, so that one name written in
 * BGN/PCGN, ICAO 9303, ISO 9, GOST, German or French spelling meets itself (Shcherbakov,
 * Schtscherbakow, Chtcherbakov → "serbakov"). A lossy key for matching, never shown. */
#include "vigil/screen.h"

#include <stdbool.h>
#include <string.h>

/* Multi-letter spellings, longest first: the first that matches at a position wins. */
static const struct {
    const char *from;
    const char *to;
} digraphs[] = {
    {"schtsch", "s"}, {"szcz", "s"}, {"shtch", "s"}, {"chtch", "s"}, {"shch", "s"}, {"tsch", "c"},
    {"dzh", "j"},     {"sch", "s"},  {"shh", "s"},   {"tch", "c"},   {"sh", "s"},   {"ch", "c"},
    {"zh", "z"},      {"kh", "h"},   {"gh", "g"},    {"ph", "f"},    {"th", "t"},   {"ts", "c"},
    {"tz", "c"},      {"cz", "c"},   {"sz", "s"},    {"dj", "j"},    {"ck", "k"},   {"ou", "u"},
    {"oo", "u"},      {"ee", "i"},
};

static char fold_letter(char c) {
    switch (c) {
    case 'w': return 'v';
    case 'y':
    case 'j': return 'i';
    case 'q': return 'k';
    case 'o': return 'u'; /* Mohammed/Muhammad, Osama/Usama, Omar/Umar */
    case 'z': return 's'; /* German writes з as s and ц as z: Sajzew = Zaytsev */
    default: return c;
    }
}

size_t vg_screen_fold(char *token, size_t len) {
    char out[VG_SCREEN_NORM_MAX];
    size_t n = 0;
    for (size_t i = 0; i < len && n < sizeof out;) {
        const char *to = NULL;
        size_t used = 1;
        for (size_t d = 0; d < VG_ARRAY_LEN(digraphs); d++) {
            if (digraphs[d].from[0] != token[i]) continue;
            size_t fl = strlen(digraphs[d].from);
            if (i + fl <= len && memcmp(token + i, digraphs[d].from, fl) == 0) {
                to = digraphs[d].to;
                used = fl;
                break;
            }
        }
        char c = to ? fold_letter(to[0]) : fold_letter(token[i]);
        i += used;
        if (n > 0 && out[n - 1] == c) continue; /* doubled letters: Hassan = Hasan */
        if (c == 'x' && n + 1 < sizeof out) out[n++] = 'k', c = 's'; /* Alexander = Aleksandr */
        out[n++] = c;
    }
    memcpy(token, out, n);
    return n;
}
