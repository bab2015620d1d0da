/* test_screen_corpus.c - recall and false alerts of name screening, asserted on a corpus the
 * test generates deterministically (seeded) against tests/data/sanctions/corpus.tsv and
 * un_small.xml: every listed name finds its entry; noisy variants, seven romanisations of the
 * Cyrillic names in both orders, Latin names written in Cyrillic are found; 100,000 generated
 * names on no list rarely alert; the hard cases (gender forms, low aliases, birth dates).
 * VG_CORPUS_NONMATCH=N shrinks the 100,000 (the ASan build sets it; the plain build asserts all). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/lists.h"
#include "vigil/screen.h"

#define THRESHOLD 0.85
#define PHONETIC_FOUND_MIN 2 /* what the folding reaches today: SCREENING.md, known limits */

/* ---- the fixture list, read twice: by the loader, and here for its names ---------------- */

struct listed {
    char ref[16];
    bool person;
    char names[8][160];
    bool low[8];
    size_t n;
};

static struct listed corpus[128];
static size_t n_corpus;
static struct vg_screen_list *lists[2];

static void load_corpus(void) {
    char err[512];
    cr_assert_eq(vg_list_load_tsv(VG_TEST_DATA "/sanctions/corpus.tsv", "corpus", &lists[0], err, sizeof err), VG_OK,
                 "%s", err);
    cr_assert_eq(vg_list_load_un_xml(VG_TEST_DATA "/sanctions/un_small.xml", "un", &lists[1], err, sizeof err), VG_OK,
                 "%s", err);
    FILE *f = fopen(VG_TEST_DATA "/sanctions/corpus.tsv", "r");
    cr_assert_not_null(f);
    char line[1024];
    n_corpus = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || !strncmp(line, "reference", 9) || !line[0]) continue;
        char *col[6] = {0};
        size_t nc = 0;
        for (char *p = line; nc < 6;) {
            col[nc++] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = '\0';
            p = tab + 1;
        }
        cr_assert(nc >= 3 && n_corpus < 128);
        struct listed *e = &corpus[n_corpus++];
        memset(e, 0, sizeof *e);
        snprintf(e->ref, sizeof e->ref, "%s", col[0]);
        e->person = !strcmp(col[1], "person");
        snprintf(e->names[e->n++], sizeof e->names[0], "%s", col[2]);
        for (char *a = nc > 3 ? col[3] : NULL; a && *a && e->n < 8;) {
            char *semi = strchr(a, ';');
            if (semi) *semi = '\0';
            e->low[e->n] = a[0] == '~';
            snprintf(e->names[e->n++], sizeof e->names[0], "%s", a + (a[0] == '~'));
            a = semi ? semi + 1 : NULL;
        }
    }
    fclose(f);
}

static void free_corpus(void) {
    vg_screen_list_free(lists[0]);
    vg_screen_list_free(lists[1]);
    lists[0] = lists[1] = NULL;
}

/* True when the name (and birth date, 0 = none) finds entry ref in the corpus list. */
static bool finds(const char *name, int32_t dob, const char *ref) {
    struct vg_screen_party p = {name, strlen(name), NULL, 0, dob};
    struct vg_screen_hit hits[8];
    size_t n = vg_screen_match(lists[0], &p, THRESHOLD, hits, 8);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(vg_screen_entry_ref(lists[0], hits[i].entry), ref)) return true;
    return false;
}

/* Number of lists on which the name raises any alert. */
static size_t alerts_on(const char *name) {
    struct vg_screen_party p = {name, strlen(name), NULL, 0, 0};
    struct vg_screen_hit hits[8];
    size_t n = 0;
    for (size_t l = 0; l < 2; l++) n += vg_screen_match(lists[l], &p, THRESHOLD, hits, 8) > 0;
    return n;
}

/* ---- deterministic generator and UTF-8 code points --------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t decode(const char *s, uint32_t *cp, size_t cap) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n < cap;) {
        if (*p < 0x80) cp[n++] = *p++;
        else if ((*p & 0xE0) == 0xC0) cp[n++] = (uint32_t)(*p & 0x1F) << 6 | (p[1] & 0x3F), p += 2;
        else if ((*p & 0xF0) == 0xE0) cp[n++] = (uint32_t)(*p & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F), p += 3;
        else cp[n++] = (uint32_t)(*p & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 | (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F), p += 4;
    }
    return n;
}

static void encode(const uint32_t *cp, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        uint32_t c = cp[i];
        if (c < 0x80) out[o++] = (char)c;
        else if (c < 0x800) out[o++] = (char)(0xC0 | c >> 6), out[o++] = (char)(0x80 | (c & 0x3F));
        else out[o++] = (char)(0xE0 | c >> 12), out[o++] = (char)(0x80 | ((c >> 6) & 0x3F)), out[o++] = (char)(0x80 | (c & 0x3F));
    }
    out[o] = '\0';
}

static bool is_letter(uint32_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c != 0x2019 && c != 0x02BC);
}

static uint32_t upper(uint32_t c) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c >= 0x430 && c <= 0x44F) return c - 0x20;
    if (c >= 0x450 && c <= 0x45F) return c - 0x50;
    if (c >= 0x490 && c <= 0x4FF) return c & ~1u;
    return c;
}

static uint32_t lower(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    if (c >= 0x490 && c <= 0x4FF) return c | 1u;
    return c;
}

/* Tokens of a code point array: start and length of each run of letters. */
static size_t tokens(const uint32_t *cp, size_t n, size_t *start, size_t *len, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap;) {
        while (i < n && !is_letter(cp[i])) i++;
        if (i >= n) break;
        start[k] = i;
        while (i < n && is_letter(cp[i])) i++;
        len[k] = i - start[k];
        k++;
    }
    return k;
}

enum noise { SWAP, DROP, DOUBLE, REORDER, MIDDLE, CASE, DIACRITIC, NOISE_KINDS };
static const char *const noise_name[] = {"swap", "drop", "double", "reorder", "missing middle", "case", "diacritics"};

/* A variant of name with one kind of noise. Letter edits land in a token of 4+ letters (5+
 * for a deletion: tokens of 3 letters or fewer match only exactly, docs/SCREENING.md).
 * Returns false when the name has no place for this noise. */
static bool noisy(const char *name, enum noise kind, char *out, size_t cap) {
    uint32_t cp[256], v[256];
    size_t n = decode(name, cp, 256), start[16], len[16];
    size_t nt = tokens(cp, n, start, len, 16);
    size_t vn = 0;
    if (kind == REORDER || kind == MIDDLE) {
        if (nt < 2 || (kind == MIDDLE && nt < 3)) return false;
        size_t skip = kind == MIDDLE ? 1 + rnd() % (nt - 2) : nt, first = kind == REORDER ? 1 + rnd() % (nt - 1) : 0;
        for (size_t k = 0; k < nt; k++) {
            size_t t = (first + k) % nt;
            if (t == skip) continue;
            if (vn) v[vn++] = ' ';
            for (size_t i = 0; i < len[t]; i++) v[vn++] = cp[start[t] + i];
        }
        encode(v, vn, out, cap);
        return true;
    }
    memcpy(v, cp, n * sizeof *cp);
    vn = n;
    if (kind == CASE) {
        uint64_t how = rnd() % 3;
        for (size_t i = 0; i < vn; i++) v[i] = how == 0 ? upper(v[i]) : how == 1 ? lower(v[i]) : rnd() & 1 ? upper(v[i]) : lower(v[i]);
        encode(v, vn, out, cap);
        return true;
    }
    if (kind == DIACRITIC) {
        static const struct { uint32_t from, to[3]; } marks[] = {
            {'a', {0xE1, 0xE0, 0xE2}}, {'e', {0xE9, 0xE8, 0xEB}}, {'i', {0xED, 0xEF, 0xEE}}, {'o', {0xF3, 0xF4, 0xF6}},
            {'u', {0xFA, 0xFC, 0xFB}}, {'c', {0xE7, 0xE7, 0xE7}}, {'n', {0xF1, 0xF1, 0xF1}},
            {0x435, {0x451, 0x451, 0x451}}, /* е → ё */
        };
        size_t changed = 0;
        for (size_t i = 0; i < vn; i++)
            for (size_t m = 0; m < sizeof marks / sizeof *marks; m++)
                if (lower(v[i]) == marks[m].from && rnd() % 2) {
                    v[i] = marks[m].to[rnd() % 3];
                    changed++;
                }
        if (!changed) return false;
        encode(v, vn, out, cap);
        return true;
    }
    size_t ok[16], n_ok = 0;
    for (size_t t = 0; t < nt; t++)
        if (len[t] >= (kind == DROP ? 5u : 4u)) ok[n_ok++] = t;
    if (!n_ok) return false;
    size_t t = ok[rnd() % n_ok], at = start[t] + rnd() % (len[t] - 1);
    if (kind == SWAP) {
        uint32_t x = v[at];
        v[at] = v[at + 1];
        v[at + 1] = x;
        if (v[at] == v[at + 1]) return false;
    } else if (kind == DROP) {
        memmove(v + at, v + at + 1, (vn - at - 1) * sizeof *v);
        vn--;
    } else {
        memmove(v + at + 1, v + at, (vn - at) * sizeof *v);
        vn++;
    }
    encode(v, vn, out, cap);
    return true;
}

/* ---- romanisations of Cyrillic ------------------------------------------------------------- */

/* Russian а..я (0..32, ё at 6) then Kazakh ә ғ қ ң ө ұ ү һ і (33..41). */
static int cyr_index(uint32_t c) {
    static const uint32_t order[] = {0x430, 0x431, 0x432, 0x433, 0x434, 0x435, 0x451, 0x436, 0x437, 0x438, 0x439,
                                     0x43A, 0x43B, 0x43C, 0x43D, 0x43E, 0x43F, 0x440, 0x441, 0x442, 0x443, 0x444,
                                     0x445, 0x446, 0x447, 0x448, 0x449, 0x44A, 0x44B, 0x44C, 0x44D, 0x44E, 0x44F,
                                     0x4D9, 0x493, 0x49B, 0x4A3, 0x4E9, 0x4B1, 0x4AF, 0x4BB, 0x456};
    c = lower(c);
    for (int i = 0; i < (int)(sizeof order / sizeof *order); i++)
        if (order[i] == c) return i;
    return -1;
}

struct romanisation {
    const char *name;
    const char *letter[42];
    const char *e_initial;       /* е at the start of a word or after a vowel, ъ, ь (NULL: as letter) */
};

/* Letters in each standard's usual form (person names, without the rare context rules). */
static const struct romanisation standards[] = {
    {"BGN/PCGN", {"a", "b", "v", "g", "d", "e", "ë", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
                  "kh", "ts", "ch", "sh", "shch", "\"", "y", "'", "e", "yu", "ya",
                  "ä", "gh", "q", "ng", "ö", "ū", "ü", "h", "ī"}, "ye"},
    {"ICAO 9303", {"a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
                   "kh", "ts", "ch", "sh", "shch", "ie", "y", "", "e", "iu", "ia",
                   "a", "g", "k", "n", "o", "u", "u", "h", "i"}, NULL},
    {"ISO 9", {"a", "b", "v", "g", "d", "e", "ë", "ž", "z", "i", "j", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
               "h", "c", "č", "š", "ŝ", "ʺ", "y", "ʹ", "è", "û", "â",
               "ä", "ġ", "ķ", "ņ", "ô", "ū", "ù", "ḩ", "ì"}, NULL},
    {"GOST 7.79-B", {"a", "b", "v", "g", "d", "e", "yo", "zh", "z", "i", "j", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
                     "x", "c", "ch", "sh", "shh", "``", "y'", "`", "e'", "yu", "ya",
                     "a`", "g`", "k`", "n`", "o`", "u`", "u``", "h`", "i`"}, NULL},
    {"German", {"a", "b", "w", "g", "d", "e", "jo", "sch", "s", "i", "j", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
                "ch", "z", "tsch", "sch", "schtsch", "", "y", "", "e", "ju", "ja",
                "ä", "g", "k", "ng", "ö", "u", "ü", "h", "i"}, "je"},
    {"French", {"a", "b", "v", "g", "d", "e", "io", "j", "z", "i", "ï", "k", "l", "m", "n", "o", "p", "r", "s", "t", "ou", "f",
                "kh", "ts", "tch", "ch", "chtch", "", "y", "", "e", "iou", "ia",
                "a", "gh", "q", "ng", "o", "ou", "u", "h", "i"}, "ie"},
    {"Polish", {"a", "b", "w", "g", "d", "e", "io", "ż", "z", "i", "j", "k", "ł", "m", "n", "o", "p", "r", "s", "t", "u", "f",
                "ch", "c", "cz", "sz", "szcz", "", "y", "", "e", "ju", "ja",
                "a", "g", "k", "n", "o", "u", "u", "h", "i"}, "je"},
};
#define N_STANDARDS (sizeof standards / sizeof *standards)

static bool cyr_vowel(int k) {
    return k == 0 || k == 5 || k == 6 || k == 9 || k == 15 || k == 20 || k == 27 || k == 28 || k == 29 || k == 30 ||
           k == 31 || k == 32 || k == 33 || k == 37 || k == 38 || k == 39 || k == 41;
}

/* Renders a Cyrillic name in a standard; Latin letters and separators pass through. A word's
 * first letter keeps its capital. Polish writes л as l before е ё и ь ю я, ł elsewhere. */
static void romanise(const struct romanisation *r, const char *cyr, char *out, size_t cap) {
    uint32_t cp[256];
    size_t n = decode(cyr, cp, 256), o = 0;
    for (size_t i = 0; i < n; i++) {
        int k = cyr_index(cp[i]);
        char buf[8] = {0};
        const char *latin;
        if (k < 0) {
            uint32_t one[1] = {cp[i]};
            encode(one, 1, buf, sizeof buf);
            latin = buf;
        } else {
            int prev = i > 0 ? cyr_index(cp[i - 1]) : -1;
            int next = i + 1 < n ? cyr_index(cp[i + 1]) : -1;
            latin = r->letter[k];
            if (k == 5 && r->e_initial && (prev < 0 || cyr_vowel(prev))) latin = r->e_initial;
            if (k == 12 && !strcmp(latin, "ł") && (next == 5 || next == 6 || next == 9 || next == 29 || next == 31 || next == 32))
                latin = "l";
        }
        bool cap_it = k >= 0 && upper(cp[i]) == cp[i] && latin[0];
        size_t l = strlen(latin);
        if (o + l + 1 >= cap) break;
        memcpy(out + o, latin, l);
        if (cap_it && latin[0] >= 'a' && latin[0] <= 'z') out[o] = (char)(latin[0] - 32);
        o += l;
    }
    out[o] = '\0';
}

/* ---- the tests ----------------------------------------------------------------------------- */

Test(screen_corpus, every_listed_name_and_alias_finds_its_entry) {
    load_corpus();
    size_t names = 0;
    for (size_t e = 0; e < n_corpus; e++)
        for (size_t k = 0; k < corpus[e].n; k++) {
            if (corpus[e].low[k]) continue; /* exact-only low aliases: hard_cases */
            names++;
            cr_expect(finds(corpus[e].names[k], 0, corpus[e].ref), "%s '%s'%s does not find its entry", corpus[e].ref,
                      corpus[e].names[k], corpus[e].low[k] ? " (low alias, exact)" : "");
        }
    cr_expect_geq(names, 90, "%zu names", names);
    /* and the UN fixture's names find their own entries there */
    for (uint32_t i = 0; i < vg_screen_list_names(lists[1]); i++) {
        const char *name = vg_screen_name_text(lists[1], i);
        struct vg_screen_party p = {name, strlen(name), NULL, 0, 0};
        struct vg_screen_hit hits[8];
        size_t n = vg_screen_match(lists[1], &p, THRESHOLD, hits, 8);
        struct vg_screen_name_norm norm;
        vg_screen_normalise(name, strlen(name), &norm);
        size_t significant = 0;
        for (size_t t = 0; t < norm.n_tokens; t++) significant += norm.tok_len[t] >= 3;
        if (significant < 2) continue; /* one-word aliases never identify a person */
        cr_expect(n > 0, "UN fixture name '%s' finds nothing", name);
    }
    free_corpus();
}

Test(screen_corpus, noisy_variants_found) {
    load_corpus();
    rng_state = 0x9E3779B97F4A7C15ull;
    size_t tried[NOISE_KINDS] = {0}, found[NOISE_KINDS] = {0}, all = 0, all_found = 0;
    for (size_t e = 0; e < n_corpus; e++)
        for (size_t k = 0; k < corpus[e].n; k++) {
            if (corpus[e].low[k]) continue; /* low aliases match only exactly, by design */
            for (int kind = 0; kind < NOISE_KINDS; kind++)
                for (int rep = 0; rep < 6; rep++) {
                    char v[512];
                    if (!noisy(corpus[e].names[k], (enum noise)kind, v, sizeof v)) continue;
                    tried[kind]++;
                    all++;
                    if (finds(v, 0, corpus[e].ref)) found[kind]++, all_found++;
                    else fprintf(stderr, "noisy (%s) not found: '%s' for %s '%s'\n", noise_name[kind], v, corpus[e].ref,
                                 corpus[e].names[k]);
                }
        }
    for (int kind = 0; kind < NOISE_KINDS; kind++)
        fprintf(stderr, "noise %-15s %4zu of %4zu found\n", noise_name[kind], found[kind], tried[kind]);
    cr_expect_geq(all, 1500, "%zu variants", all);
    cr_expect_geq((double)all_found, 0.99 * (double)all, "%zu of %zu noisy variants found", all_found, all);
    free_corpus();
}

Test(screen_corpus, cyrillic_names_in_seven_romanisations_both_orders) {
    load_corpus();
    size_t tried[N_STANDARDS] = {0}, found[N_STANDARDS] = {0}, all = 0, all_found = 0;
    for (size_t e = 0; e < n_corpus; e++) {
        const char *cyr = corpus[e].names[0];
        if (!corpus[e].person || (unsigned char)cyr[0] < 0x80) continue;
        /* surname given patronymic, as listed: also given [patronymic] surname, and without
         * the patronymic, as payments often carry it */
        char word[3][128] = {{0}};
        size_t nw = 0;
        for (const char *p = cyr; *p && nw < 3;) {
            size_t l = strcspn(p, " ");
            snprintf(word[nw++], sizeof word[0], "%.*s", (int)l, p);
            p += l + (p[l] == ' ');
        }
        cr_assert_eq(nw, 3, "%s", cyr);
        char forms[4][400];
        snprintf(forms[0], sizeof forms[0], "%s %s %s", word[0], word[1], word[2]);
        snprintf(forms[1], sizeof forms[1], "%s %s %s", word[1], word[2], word[0]);
        snprintf(forms[2], sizeof forms[2], "%s %s", word[1], word[0]);
        snprintf(forms[3], sizeof forms[3], "%s %s", word[0], word[1]);
        for (size_t s = 0; s < N_STANDARDS; s++)
            for (size_t f = 0; f < 4; f++) {
                char latin[512];
                romanise(&standards[s], forms[f], latin, sizeof latin);
                tried[s]++;
                all++;
                if (finds(latin, 0, corpus[e].ref)) found[s]++, all_found++;
                else fprintf(stderr, "%s not found: '%s' for %s '%s'\n", standards[s].name, latin, corpus[e].ref, cyr);
            }
    }
    for (size_t s = 0; s < N_STANDARDS; s++) {
        fprintf(stderr, "romanisation %-12s %3zu of %3zu found\n", standards[s].name, found[s], tried[s]);
        cr_expect_geq((double)found[s], 0.90 * (double)tried[s], "%s: %zu of %zu", standards[s].name, found[s], tried[s]);
    }
    cr_expect_geq(all, 800);
    cr_expect_geq((double)all_found, 0.95 * (double)all, "%zu of %zu romanised names found", all_found, all);
    free_corpus();
}

/* Latin list names as a Russian or Kazakh bank writes them in Cyrillic (practical
 * transcription, by hand), in both orders. Arabic and Central Asian names (the shape of the UN
 * list) must be found >= 95 %; English and French names are spelled by sound in Cyrillic
 * (Whitfield = Уитфилд, Lefebvre = Лефевр), which letter folding does not undo: reported, and
 * held to the level they reach (docs/SCREENING.md, known limits). */
Test(screen_corpus, latin_list_names_sent_in_cyrillic) {
    load_corpus();
    static const struct { const char *ref, *cyr; } sent[] = {
        {"AR-01", "Абд ар-Рахман Мустафа аль-Кадули"}, {"AR-01", "Абу Алаа аль-Афри"},
        {"AR-02", "Айман Мухаммад Раби аз-Завахири"},  {"AR-02", "Айман Мухаммед аль-Завахири"},
        {"AR-03", "Усама Мухаммед Авад бен Ладен"},    {"AR-03", "Осама бин Ладен"},
        {"AR-04", "Халид Шейх Мохаммед"},              {"AR-04", "Мухтар аль-Балучи"},
        {"AR-05", "Хамза Усама Мухаммад бин Ладен"},   {"AR-06", "Саиф аль-Адель"},
        {"AR-06", "Мухамад Ибрагим Маккави"},          {"AR-07", "Абдулла Ахмед Абдулла Али"},
        {"AR-08", "Насир Абдель Карим аль-Вухайши"},   {"AR-09", "Эзедин Абдель Азиз Халил"},
        {"AR-10", "Хафиз Мухаммад Саид"},              {"AR-10", "Хафиз Мохаммад Саид"},
        {"AR-11", "Фазаль Рахим"},                     {"AR-11", "Фазел Рахим"},
        {"AR-12", "Кари Зия Рахман"},                  {"EN-01", "Джон Эдвард Торнбери"},
        {"EN-02", "Маргарет Энн Уитфилд"},             {"EN-03", "Ричард Аллен Кенсингтон"},
        {"EN-04", "Генрих Мюллер-Брандт"},             {"EN-05", "Франсуа Лефевр-Дюран"},
        {"EN-06", "Стивен Майкл Блэквуд"},             {"EN-06", "Стефен Майкл Блэквуд"},
        {"EN-E1", "Санрайз Глобал Трейдинг ЛЛС"},      {"EN-E2", "Блю Анкор Шиппинг Компани Лимитед"},
        {"EN-E3", "Истерн Стар Петролеум Корпорейшн"}, {"AR-E1", "Аль-Нур Чаритабл Фаундейшн"},
        {"RU-01", "Aleksandr Shcherbakov"} /* and the reverse: the Latin alias of a Cyrillic name */,
    };
    size_t all = 0, all_found = 0, phon = 0, phon_found = 0;
    for (size_t i = 0; i < sizeof sent / sizeof *sent; i++)
        for (int order = 0; order < 2; order++) {
            char q[512];
            if (order == 0) snprintf(q, sizeof q, "%s", sent[i].cyr);
            else { /* last word first */
                const char *sp = strrchr(sent[i].cyr, ' ');
                snprintf(q, sizeof q, "%s %.*s", sp + 1, (int)(sp - sent[i].cyr), sent[i].cyr);
            }
            bool english = !strncmp(sent[i].ref, "EN", 2) || !strcmp(sent[i].ref, "AR-E1");
            bool hit = finds(q, 0, sent[i].ref);
            if (english) phon++, phon_found += hit;
            else all++, all_found += hit;
            if (!hit) fprintf(stderr, "Cyrillic form not found: '%s' for %s\n", q, sent[i].ref);
        }
    fprintf(stderr, "Latin names sent in Cyrillic: Arabic and Central Asian %zu of %zu found, English by sound "
                    "%zu of %zu\n", all_found, all, phon_found, phon);
    cr_expect_geq((double)all_found, 0.95 * (double)all, "%zu of %zu found", all_found, all);
    cr_expect_geq(phon_found, PHONETIC_FOUND_MIN, "English names by sound: %zu of %zu found", phon_found, phon);
    free_corpus();
}

/* Name pools of the generated parties: none of the surnames (or their gender forms) is on
 * the corpus list or un_small.xml; given names are the common ones, listed people's included. */
static const char *const ru_m[] = {"Aleksandr", "Aleksey", "Andrey", "Anton", "Boris", "Vadim", "Viktor", "Vladimir",
                                   "Dmitriy", "Yegor", "Ivan", "Igor", "Ilya", "Konstantin", "Leonid", "Mikhail",
                                   "Nikita", "Pavel", "Roman", "Sergey", "Stanislav", "Oleg", "Kirill", "Maksim",
                                   "Nikolay", "Yuriy", "Rustam", "Artur", "Fedor", "Grigoriy"};
static const char *const ru_f[] = {"Anna", "Yelena", "Olga", "Tatyana", "Natalya", "Irina", "Svetlana", "Mariya",
                                   "Yuliya", "Kseniya", "Yekaterina", "Anastasiya", "Darya", "Polina", "Vera",
                                   "Yaroslava", "Larisa", "Galina", "Lyudmila", "Valentina"};
static const char *const ru_last[] = {"Smirnov", "Popov", "Vasilyev", "Petrov", "Sokolov", "Mikhaylov", "Novikov",
                                      "Fedorov", "Morozov", "Volkov", "Alekseyev", "Lebedev", "Semenov", "Yegorov",
                                      "Pavlov", "Kozlov", "Stepanov", "Nikolayev", "Orlov", "Andreyev", "Makarov",
                                      "Nikitin", "Zakharov", "Borisov", "Romanov", "Sorokin", "Vinogradov", "Kovalev",
                                      "Belov", "Medvedev", "Antonov", "Tarasov", "Baranov", "Frolov", "Komarov",
                                      "Kiselev", "Ilyin", "Gusev", "Titov", "Kuzmin", "Kudryavtsev", "Bogdanov",
                                      "Osipov", "Sidorov", "Matveyev", "Klimov", "Polyakov", "Denisov", "Vlasov",
                                      "Yakovlev", "Gerasimov", "Ponomarev", "Grigoryev", "Lazarev", "Medvedkin",
                                      "Zhdanov", "Shubin", "Chistyakov", "Shestakov", "Tsvetkov"};
static const char *const ru_cyr_first[] = {"Александр", "Алексей", "Андрей", "Дмитрий", "Сергей", "Юрий", "Ольга",
                                           "Елена", "Наталья", "Татьяна", "Ирина", "Николай"};
static const char *const ru_cyr_last[] = {"Смирнов", "Попов", "Васильев", "Петров", "Соколов", "Морозов", "Волков",
                                          "Лебедев", "Козлов", "Новиков", "Фёдоров", "Орлов", "Жданов", "Щёголев",
                                          "Чистяков", "Шестаков", "Цветков", "Хохлов"};
static const char *const kz_m[] = {"Nurlan", "Yerlan", "Dauren", "Bakhyt", "Kanat", "Murat", "Arman", "Askar",
                                   "Daniyar", "Yerzhan", "Serik", "Marat", "Azamat", "Almas", "Aibek", "Berik",
                                   "Galym", "Zhandos", "Talgat", "Yerbol"};
static const char *const kz_f[] = {"Aigerim", "Asem", "Gulnar", "Madina", "Aliya", "Dana", "Zhanar", "Saule",
                                   "Ainur", "Assel", "Dinara", "Gaukhar", "Kamila", "Lyazzat", "Meruyert"};
static const char *const kz_last[] = {"Akhmetov", "Bekov", "Dzhaksybekov", "Yessimov", "Zhakupov", "Ibraimov",
                                      "Kenzhebekov", "Mukanov", "Nurpeisov", "Omarov", "Sultanov", "Tulegenov",
                                      "Utepov", "Baimukhanov", "Kairatov", "Amanov", "Zhanibekov", "Temirbayev",
                                      "Smagulov", "Beisenov", "Mamyrov", "Karimov", "Alimzhanov", "Ermekov",
                                      "Suleimenov", "Tokhtarov", "Abilov", "Nazarbekov", "Kuanyshev", "Sagintayev"};
static const char *const kz_cyr[] = {"Нұрлан", "Ерлан", "Дәурен", "Қанат", "Мұрат", "Әлия", "Гүлнар", "Айгерім"};
static const char *const kz_cyr_last[] = {"Ахметов", "Бекова", "Жақыпов", "Мұқанов", "Сұлтанов", "Төлегенов",
                                          "Әмiрханов", "Қожахметов", "Өтепов", "Үмбетов", "Ізтілеуов", "Ғабитов"};
static const char *const ar_m[] = {"Ahmad", "Ahmed", "Mohammed", "Muhammad", "Ali", "Hassan", "Hussein", "Omar",
                                   "Khalid", "Yusuf", "Ibrahim", "Abdullah", "Mahmoud", "Mustafa", "Karim", "Tariq",
                                   "Faisal", "Sami", "Nabil", "Walid", "Hamza", "Bilal", "Saeed", "Jamal", "Rashid",
                                   "Zaid", "Usama", "Hafiz", "Nasir", "Ayman"};
static const char *const ar_f[] = {"Fatima", "Aisha", "Mariam", "Layla", "Noor", "Huda", "Salma", "Amina", "Yasmin",
                                   "Rania"};
static const char *const ar_last[] = {"Haddad", "Nasser", "Khoury", "Mansour", "Saleh", "Hamdan", "Barakat", "Darwish",
                                      "Farouk", "Ghanem", "Habib", "Issa", "Jaber", "Kassem", "Najjar", "Sabbagh",
                                      "Taha", "Tamimi", "Hashemi", "Obeidi", "Shami", "Jabouri", "Dulaimi", "Zoubi",
                                      "Masri", "Hakim", "Bakri", "Sharif", "Khatib", "Qureshi"};
static const char *const en_first[] = {"James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph",
                                       "Thomas", "Charles", "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth",
                                       "Barbara", "Susan", "Jessica", "Sarah", "Karen", "Margaret", "Stephen",
                                       "Edward", "Anne", "Daniel", "Paul", "Mark", "Emily", "Laura", "Helen"};
static const char *const en_last[] = {"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
                                      "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Martin", "Thompson",
                                      "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen",
                                      "King", "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson",
                                      "Carter", "Mitchell", "Roberts", "Turner", "Phillips", "Campbell", "Parker",
                                      "Evans", "Edwards", "Collins", "Stewart", "Morris", "Rogers", "Reed", "Cook",
                                      "Morgan", "Bell", "Murphy", "Bailey", "Cooper", "Richardson", "Howard", "Ward",
                                      "Peterson", "Gray", "Watson", "Brooks", "Kelly", "Sanders", "Bennett", "Wood",
                                      "Barnes", "Henderson", "Coleman", "Jenkins", "Perry", "Powell", "Hughes",
                                      "Butler", "Foster", "Bryant", "Russell", "Griffin", "Hayes", "Ford", "Hamilton",
                                      "Graham", "Sullivan", "Wallace", "Thornton", "Whitman", "Blackburn", "Kennedy"};

/* Folded tokens of every listed name of both lists. */
static struct vg_screen_name_norm listed_norm[600];
static size_t n_listed_norm;

static void listed_tokens(void) {
    n_listed_norm = 0;
    for (size_t l = 0; l < 2; l++)
        for (uint32_t i = 0; i < vg_screen_list_names(lists[l]) && n_listed_norm < 600; i++) {
            const char *name = vg_screen_name_text(lists[l], i);
            vg_screen_normalise(name, strlen(name), &listed_norm[n_listed_norm++]);
        }
}

/* True when the matcher pairs the surname (or its other gender form) with a token of a
 * listed name: such a name is a typo of a listed one, which recall requires to be found,
 * so it cannot count as a false alert. Surnames of the pools that are skip this way are
 * counted and printed. */
static bool near_listed(const char *last) {
    struct vg_screen_name_norm q;
    if (vg_screen_normalise(last, strlen(last), &q) != VG_OK || q.n_tokens != 1) return false;
    char forms[2][128];
    size_t fl[2] = {q.tok_len[0], q.tok_len[0]};
    memcpy(forms[0], q.text, fl[0]);
    memcpy(forms[1], q.text, fl[1]);
    if (fl[1] > 1 && forms[1][fl[1] - 1] == 'a') fl[1]--; /* -ova → -ov */
    else forms[1][fl[1]++] = 'a';
    for (size_t n = 0; n < n_listed_norm; n++)
        for (size_t t = 0; t < listed_norm[n].n_tokens; t++)
            for (size_t f = 0; f < 2; f++)
                if (vg_screen_token_sim(forms[f], fl[f], listed_norm[n].text + listed_norm[n].tok_off[t],
                                        listed_norm[n].tok_len[t]) > 0.0)
                    return true;
    return false;
}

/* Surnames of the pools near a listed name, found once (pointer → flag). */
static const char *near_seen[512];
static bool near_flag[512];
static size_t n_near_seen;
static bool generated_near; /* the last generated name's surname is near a listed one */

static const char *pick_last(const char *const *pool, size_t n) {
    const char *last = pool[rnd() % n];
    size_t i = 0;
    while (i < n_near_seen && near_seen[i] != last) i++;
    if (i == n_near_seen && n_near_seen < 512) {
        near_seen[n_near_seen] = last;
        near_flag[n_near_seen++] = near_listed(last);
    }
    generated_near |= i < 512 && near_flag[i];
    return last;
}

#define PICK(pool) pool[rnd() % (sizeof pool / sizeof *pool)]
#define PICK_LAST(pool) pick_last(pool, sizeof pool / sizeof *pool)

/* A female form of a Russian/Kazakh surname: -ov/-ev/-in + a. */
static void surname(const char *base, bool female, char *out, size_t cap) {
    size_t l = strlen(base);
    bool inflects = l > 2 && (!strcmp(base + l - 2, "ov") || !strcmp(base + l - 2, "ev") || !strcmp(base + l - 2, "in"));
    snprintf(out, cap, "%s%s", base, female && inflects ? "a" : "");
}

/* One generated party name on no list, in one of the four shapes. */
static void gen_party(char *out, size_t cap) {
    char last[64];
    bool female = rnd() % 3 == 0;
    switch (rnd() % 4) {
    case 0: /* Russian: Latin or Cyrillic, with a patronymic half of the time */
        if (rnd() % 4 == 0) {
            snprintf(out, cap, "%s %s", PICK(ru_cyr_first), PICK_LAST(ru_cyr_last));
        } else {
            surname(PICK_LAST(ru_last), female, last, sizeof last);
            const char *father = PICK(ru_m);
            if (rnd() % 2) snprintf(out, cap, "%s %s%s %s", female ? PICK(ru_f) : PICK(ru_m), father, female ? "ovna" : "ovich", last);
            else if (rnd() % 2) snprintf(out, cap, "%s %s", female ? PICK(ru_f) : PICK(ru_m), last);
            else snprintf(out, cap, "%s %s", last, female ? PICK(ru_f) : PICK(ru_m));
        }
        break;
    case 1: /* Kazakh */
        if (rnd() % 4 == 0) {
            snprintf(out, cap, "%s %s", PICK_LAST(kz_cyr_last), PICK(kz_cyr));
        } else {
            surname(PICK_LAST(kz_last), female, last, sizeof last);
            if (rnd() % 3 == 0) snprintf(out, cap, "%s %s %s%s", last, female ? PICK(kz_f) : PICK(kz_m), PICK(kz_m), female ? "kyzy" : "uly");
            else snprintf(out, cap, "%s %s", female ? PICK(kz_f) : PICK(kz_m), last);
        }
        break;
    case 2: { /* Arabic: given [father] [al-]family */
        const char *given = female ? PICK(ar_f) : PICK(ar_m);
        const char *prefix = rnd() % 3 == 0 ? "al-" : "";
        if (rnd() % 2) snprintf(out, cap, "%s %s %s%s", given, PICK(ar_m), prefix, PICK_LAST(ar_last));
        else snprintf(out, cap, "%s %s%s", given, prefix, PICK_LAST(ar_last));
        break;
    }
    default: /* English: given [middle or initial] family */
        if (rnd() % 3 == 0) snprintf(out, cap, "%s %s %s", PICK(en_first), PICK(en_first), PICK_LAST(en_last));
        else if (rnd() % 2) snprintf(out, cap, "%s %c. %s", PICK(en_first), (char)('A' + rnd() % 26), PICK_LAST(en_last));
        else snprintf(out, cap, "%s %s", PICK(en_first), PICK_LAST(en_last));
    }
}

Test(screen_corpus, generated_non_matching_names_rarely_alert) {
    load_corpus();
    long total = 100000;
    const char *env = getenv("VG_CORPUS_NONMATCH");
    if (env && atol(env) > 0) total = atol(env);
    listed_tokens();
    size_t skipped = 0, pooled = 0;
    n_near_seen = 0;
    static const char *const *pools[] = {ru_last, ru_cyr_last, kz_last, kz_cyr_last, ar_last, en_last};
    static const size_t pool_n[] = {VG_ARRAY_LEN(ru_last), VG_ARRAY_LEN(ru_cyr_last), VG_ARRAY_LEN(kz_last),
                                    VG_ARRAY_LEN(kz_cyr_last), VG_ARRAY_LEN(ar_last), VG_ARRAY_LEN(en_last)};
    for (size_t p = 0; p < VG_ARRAY_LEN(pools); p++)
        for (size_t i = 0; i < pool_n[p]; i++) {
            pooled++;
            if (near_listed(pools[p][i])) {
                skipped++;
                fprintf(stderr, "surname within a typo of a listed name: %s\n", pools[p][i]);
            }
        }
    cr_expect_leq(skipped * 5, pooled, "%zu of %zu pool surnames are near listed names", skipped, pooled);
    rng_state = 0xD1B54A32D192ED03ull;
    long alerts = 0, near = 0, near_alerts = 0;
    for (long i = 0; i < total; i++) {
        char name[256];
        generated_near = false;
        gen_party(name, sizeof name);
        size_t hit = alerts_on(name);
        if (generated_near) { /* a typo of a listed name: recall wants it found, not counted */
            near++;
            near_alerts += hit > 0;
            continue;
        }
        if (hit) {
            if (alerts < 20) fprintf(stderr, "false alert: '%s'\n", name);
            alerts++;
        }
    }
    long far = total - near;
    fprintf(stderr, "generated names on no list: %ld of %ld alerted (%.4f%%); %ld more whose surname is a typo of a "
                    "listed name, of which %ld alerted\n",
            alerts, far, 100.0 * (double)alerts / (double)far, near, near_alerts);
    cr_expect_geq(far * 10, total * 8, "only %ld of %ld generated names far from every listed name", far, total);
    cr_expect_leq((double)alerts, 0.0005 * (double)far, "%ld of %ld generated names alerted", alerts, far);
    free_corpus();
}

Test(screen_corpus, hard_cases) {
    load_corpus();
    /* surname gender forms: the family name, either way round */
    cr_expect(finds("Yelena Kuznetsov", 0, "RU-03"), "Kuznetsova listed, Kuznetsov sent");
    cr_expect(finds("Sergey Petrovich Ivanov", 0, "RU-02"));
    cr_expect(finds("Nurlan Serikbayeva", 0, "KZ-01"), "Serikbayev listed, the female form sent");
    cr_expect(finds("Asem Qasymov", 0, "KZ-02"));
    cr_expect(!finds("Sergey Ivanovsky", 0, "RU-02"), "another surname that starts the same");
    /* a common name on a low-quality alias matches only exactly */
    cr_expect(finds("Ahmed Ali", 0, "AR-07"), "the low alias, exactly");
    cr_expect(finds("ALI, Ahmed", 0, "AR-07"), "the low alias, other order, exactly");
    cr_expect(!finds("Ahmad Aly", 0, "AR-07"), "a variant of a low alias");
    cr_expect(!finds("Ahmed Ali Hassan", 0, "AR-07"), "more than the low alias");
    cr_expect(!finds("Ahmed", 0, "AR-07"), "a given name alone");
    cr_expect(!finds("Johnny", 0, "EN-01"));
    /* a matching name whose birth date disagrees */
    cr_expect(finds("Aleksandr Viktorovich Shcherbakov", 19700514, "RU-01"), "the listed date");
    cr_expect(!finds("Aleksandr Viktorovich Shcherbakov", 19800101, "RU-01"), "another date: 0.75 × score");
    cr_expect(finds("Sergey Ivanov", 19650707, "RU-02"), "inside the listed year");
    cr_expect(!finds("Sergey Ivanov", 19660101, "RU-02"), "outside the listed year");
    cr_expect(finds("Asem Qasymova", 19820101, "KZ-02"), "inside the listed range");
    cr_expect(!finds("Asem Qasymova", 19790101, "KZ-02"), "outside the listed range");
    free_corpus();
}
