/*
 * place.c: postal code and place name lookup (see place.h).
 *
 * Rows are collected by place_table_add; place_table_finish sorts the postal
 * codes for bsearch, works out each municipality's point and builds two
 * sorted arrays of folded strings:
 * - names: every municipality, Swedish programme city name and area name,
 *   collapsed to one entry per folded form that knows its municipality (or
 *   that it is ambiguous), its spelling for replies and its point;
 * - stems: the forms a name takes before a Finnish case ending
 *   ("helsingi" for Helsinki, "tamperee" for Tampere), each pointing back at
 *   its name.
 * An exact or inflected lookup is then one fold and a few binary searches;
 * only the typo step scans the names, with an allocation-free check that
 * stops at the second difference.
 *
 * Inflection is analysed rather than generated: the lookup strips each case
 * ending the input might carry and looks the rest up among the stems. The
 * stems are generated from the name's last syllable with a small set of
 * rules (consonant gradation, e-stems), so they cover area names too
 * ("Kalliossa", "Kannelmäessä") with a few thousand extra strings instead of
 * a dozen inflected forms of every name. Overgenerated stems ("pore" from
 * Pori) are harmless: they only match what someone would type as an
 * inflected form of that name, and exact names are always tried first.
 */
#include "place.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "err.h"
#include "utf8.h"

#define NONE UINT32_MAX            /* no city (the name is ambiguous), no code */
#define AMBIGUOUS (UINT32_MAX - 1) /* lookup result: several municipalities */
#define NOT_FOUND UINT32_MAX       /* lookup result: nothing */

/*
 * Typos are forgiven only in long names: one edit away from a short word
 * there is too often a name the person did not mean. With about 5000 names,
 * "perhe" (family) is one letter from Perho, "terve" (hi) from Tervo, "lapsi"
 * from Lappi and "sairaala" from Sairiala, while Espoo, Oulu and Pori are
 * short enough to be typed right or asked again. Lengths are in bytes of the
 * folded name, which for Finnish and Swedish names is ASCII.
 */
#define TYPO_MIN_CITY 6 /* municipality and Swedish names */
#define TYPO_MIN_AREA 9
#define INPUT_MAX (PLACE_NAME_LEN + 16) /* bytes of input that can still match a name */
#define STEMS_PER_NAME 5

/* Kinds of name, best first: when one folded name has several kinds, the best wins. */
enum name_kind {
    NAME_MUNICIPALITY, /* Finnish municipality name from the table */
    NAME_ALIAS,        /* Swedish name of a programme city */
    NAME_AREA,         /* name_fi / name_sv, or a part of a combined one */
};

struct code_entry {
    char code[6];
    uint32_t city;
    char *name_fi, *name_sv; /* owned */
    size_t line;             /* order of addition (the file line for CSV), for duplicate reports */
    bool has_point;
    bool label_is_city; /* name_fi leads elsewhere, so struct place.name is the city */
    double lat, lon;
};

struct city_entry {
    char name[PLACE_CITY_LEN];
    bool has_point;
    double lat, lon;
};

struct name_entry {
    char *folded;  /* owned */
    char *display; /* owned: the name as the data spells it */
    size_t len;    /* strlen(folded), for the typo scan */
    uint32_t city; /* index into cities, or NONE */
    uint32_t code; /* areas: index into codes of the row it came from; else NONE */
    enum name_kind kind;
    bool has_point;
    double lat, lon;
};

struct stem_entry {
    char *stem;    /* owned */
    uint32_t name; /* index into names, or AMBIGUOUS */
    int tier;      /* of the name: see tier() */
};

struct place_table {
    struct code_entry *codes;
    size_t ncodes, codes_cap;
    struct city_entry *cities;
    size_t ncities, cities_cap;
    struct city_entry **city_order; /* into cities, sorted by name */
    struct name_entry *names;
    size_t nnames, names_cap;
    struct stem_entry *stems;
    size_t nstems, stems_cap;
    bool finished;
};

/*
 * The programme cities: their Swedish names where these differ, and the
 * postal code of their centre, which gives the city its point. Vantaa needs
 * this: its lowest code, 01200, is Hakunila, 6 km east of Tikkurila.
 */
static const struct {
    const char *city, *sv, *centre;
} programme[] = {
    {"Helsinki", "Helsingfors", "00100"}, {"Espoo", "Esbo", "02100"},
    {"Vantaa", "Vanda", "01300"},         {"Tampere", "Tammerfors", "33100"},
    {"Oulu", "Uleåborg", "90100"},        {"Jyväskylä", NULL, "40100"},
    {"Pori", "Björneborg", "28100"},
};

/*
 * Phrases people put before a place, folded, each with its trailing space.
 * Longer ones first, where one begins another.
 */
static const char *const lead_phrases[] = {
    "olen nyt ",          "olen ",  "jag ar i ", "jag ar ", "i am in ", "i'm in ",
    "i\xe2\x80\x99m in ", "im in ", "in ",       "i ",      "till ",    "fran ",
};

/*
 * Finnish case endings, folded (-ssä is -ssa), with the shortest stem each
 * may leave: Ii-ssä is a municipality, but the bare -n of the genitive also
 * ends English words ("soo-n" would be Sökö). The illatives -Vn and -hVn are
 * handled apart.
 */
static const struct {
    const char *ending;
    size_t min_stem;
} case_endings[] = {
    {"ssa", 2}, {"sta", 2}, {"lla", 2}, {"lta", 2}, {"lle", 2}, {"seen", 3}, {"na", 4}, {"n", 4},
};

/*
 * Consonant gradation, strong to weak, for the consonants before a name's
 * last vowel: Helsinki -> Helsingi-, Lahti -> Lahde-, Turku -> Turu-,
 * Mäki -> Mäe-. A single k between vowels disappears.
 */
static const struct {
    const char *strong, *weak;
} gradation[] = {
    {"kk", "k"},  {"pp", "p"},  {"tt", "t"},  {"nk", "ng"}, {"mp", "mm"}, {"nt", "nn"},
    {"lt", "ll"}, {"rt", "rr"}, {"ht", "hd"}, {"lk", "l"},  {"rk", "r"},  {"hk", "h"},
    {"lp", "lv"}, {"rp", "rv"}, {"k", ""},    {"p", "v"},   {"t", "d"},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Returns arr with room for element n (of size bytes), reallocated to twice
 * *cap if full, or NULL when out of memory (arr is still valid then).
 */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
    size_t ncap;
    void *q;

    if (n < *cap)
        return arr;
    ncap = *cap ? *cap * 2 : 64;
    q = realloc(arr, ncap * size);
    if (q)
        *cap = ncap;
    return q;
}

/* qsort and bsearch, but fine with an empty table, whose arrays are still NULL. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

static void *search(const void *key, const void *base, size_t n, size_t size,
                    int (*cmp)(const void *, const void *))
{
    return n > 0 ? bsearch(key, base, n, size, cmp) : NULL;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool place_parse_postal_code(const char *s, char code[6])
{
    const char *end;
    char digits[6];
    size_t n = 0;

    if (!s)
        return false;
    while (is_space(*s))
        s++;
    end = s + strlen(s);
    while (end > s && is_space(end[-1]))
        end--;
    for (const char *p = s; p < end; p++) {
        if (is_digit(*p)) {
            if (n == 5)
                return false;
            digits[n++] = *p;
        } else if (*p != ' ') {
            return false; /* trimming means a space here always sits between digits */
        }
    }
    if (n != 5)
        return false;
    digits[5] = '\0';
    memcpy(code, digits, sizeof(digits));
    return true;
}

/* ---- Normalising ------------------------------------------------------------------------- */

/* Punctuation dropped around names: ASCII, and the quotes, ellipsis and inverted marks phones add.
 */
static const char ascii_marks[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
static const char *const marks[] = {
    "\xe2\x80\xa6", "\xe2\x80\x98", "\xe2\x80\x99", "\xe2\x80\x9c", "\xe2\x80\x9d",
    "\xe2\x80\x9e", "\xc2\xab",     "\xc2\xbb",     "\xc2\xa1",     "\xc2\xbf",
};

/* Bytes of the space or mark that the n bytes at s begin (front) or end with, or 0. */
static size_t edge_mark(const char *s, size_t n, bool front)
{
    char c;

    if (n == 0)
        return 0;
    c = front ? s[0] : s[n - 1];
    if (c == ' ' || strchr(ascii_marks, c) != NULL)
        return 1;
    for (size_t i = 0; i < N_OF(marks); i++) {
        size_t m = strlen(marks[i]);

        if (m <= n && memcmp(front ? s : s + n - m, marks[i], m) == 0)
            return m;
    }
    return 0;
}

/* Drops spaces and punctuation at both ends of s (modified); returns the new start. */
static char *trim_marks(char *s)
{
    size_t n = strlen(s), k;

    while ((k = edge_mark(s, n, true)) > 0) {
        s += k;
        n -= k;
    }
    while ((k = edge_mark(s, n, false)) > 0)
        n -= k;
    s[n] = '\0';
    return s;
}

/*
 * The form names are compared in, returned owned (free with free()): folded
 * and without punctuation around it, for the table's names as for what people
 * type, so that a name given back finds itself. NULL for invalid UTF-8 or
 * when out of memory.
 */
static char *fold_key(const char *s)
{
    char *folded = utf8_fold(s), *start;

    if (!folded)
        return NULL;
    start = trim_marks(folded);
    memmove(folded, start, strlen(start) + 1);
    return folded;
}

/* place_lookup on a table whose names are indexed; finishing uses it to label postal codes. */
static int resolve(const struct place_table *t, const char *input, struct place *out);

/* ---- Building ---------------------------------------------------------------------------- */

struct place_table *place_table_new(void)
{
    return calloc(1, sizeof(struct place_table));
}

/* Index of city name in t, adding it if new; -1 when out of memory. */
static int64_t city_index(struct place_table *t, const char *name)
{
    struct city_entry *cities;

    /* Rows usually come grouped by municipality, so the last one is the usual hit. */
    for (size_t i = t->ncities; i-- > 0;) {
        if (strcmp(t->cities[i].name, name) == 0)
            return (int64_t)i;
    }
    cities = grow(t->cities, &t->cities_cap, t->ncities, sizeof(*t->cities));
    if (!cities)
        return -1;
    t->cities = cities;
    t->cities[t->ncities] = (struct city_entry){.has_point = false};
    snprintf(t->cities[t->ncities].name, PLACE_CITY_LEN, "%s", name);
    return (int64_t)t->ncities++;
}

/* Checks that an area name (borrowed, not NULL) can be stored and given back whole. */
static int check_name(const char *code, const char *column, const char *name, char *err)
{
    size_t len = strlen(name);

    if (!utf8_valid(name, len)) {
        err_set(err, "postal code %s: %s is not valid UTF-8", code, column);
        return -1;
    }
    if (len >= PLACE_NAME_LEN) {
        err_set(err, "postal code %s: %s longer than %d bytes", code, column, PLACE_NAME_LEN - 1);
        return -1;
    }
    return 0;
}

/* The checks of place_table_add, with the wording load_csv has always used. */
static int check_row(const char *code, const char *name_fi, const char *name_sv,
                     const char *municipality, bool has_point, double lat, double lon, char *err)
{
    if (strlen(code) != 5 || strspn(code, "0123456789") != 5) {
        err_set(err, "bad postal code '%.16s': expected five digits", code);
        return -1;
    }
    if (municipality[0] == '\0') {
        err_set(err, "postal code %s has no municipality", code);
        return -1;
    }
    if (strlen(municipality) >= PLACE_CITY_LEN) {
        err_set(err, "postal code %s: municipality name longer than %d bytes", code,
                PLACE_CITY_LEN - 1);
        return -1;
    }
    if (!utf8_valid(municipality, strlen(municipality))) {
        err_set(err, "postal code %s: municipality is not valid UTF-8", code);
        return -1;
    }
    if (check_name(code, "name_fi", name_fi, err) < 0 ||
        check_name(code, "name_sv", name_sv, err) < 0)
        return -1;
    /* Written so that NaN fails too. */
    if (has_point && !(lat >= 59 && lat <= 71 && lon >= 19 && lon <= 32)) {
        err_set(err, "postal code %s: point %g,%g is outside Finland", code, lat, lon);
        return -1;
    }
    return 0;
}

/* place_table_add, with the line (or row number) that duplicate reports will name. */
static int add_row(struct place_table *t, const char *code, const char *name_fi,
                   const char *name_sv, const char *municipality, bool has_point, double lat,
                   double lon, size_t line, char *err)
{
    struct code_entry *codes;
    char *fi, *sv;
    int64_t city;

    if (!t || t->finished) {
        err_set(err, t ? "table is already finished" : "no table");
        return -1;
    }
    if (!code || !municipality) {
        err_set(err, "postal code or municipality missing");
        return -1;
    }
    name_fi = name_fi ? name_fi : "";
    name_sv = name_sv ? name_sv : "";
    if (check_row(code, name_fi, name_sv, municipality, has_point, lat, lon, err) < 0)
        return -1;
    fi = strdup(name_fi);
    sv = strdup(name_sv);
    codes = grow(t->codes, &t->codes_cap, t->ncodes, sizeof(*t->codes));
    if (codes)
        t->codes = codes;
    city = fi && sv && codes ? city_index(t, municipality) : -1;
    if (city < 0) {
        free(fi);
        free(sv);
        err_set(err, "out of memory");
        return -1;
    }
    t->codes[t->ncodes++] = (struct code_entry){.city = (uint32_t)city,
                                                .name_fi = fi,
                                                .name_sv = sv,
                                                .line = line,
                                                .has_point = has_point,
                                                .lat = has_point ? lat : 0,
                                                .lon = has_point ? lon : 0};
    memcpy(t->codes[t->ncodes - 1].code, code, 6);
    return 0;
}

int place_table_add(struct place_table *t, const char *code, const char *name_fi,
                    const char *name_sv, const char *municipality, bool has_point, double lat,
                    double lon, char *err)
{
    return add_row(t, code, name_fi, name_sv, municipality, has_point, lat, lon,
                   t ? t->ncodes + 1 : 0, err);
}

static int cmp_code(const void *a, const void *b)
{
    const struct code_entry *x = a, *y = b;
    int c = strcmp(x->code, y->code);

    if (c != 0)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Sorts the codes, and returns the later row of the first code that appears twice, or NULL. */
static const struct code_entry *sort_codes(struct place_table *t)
{
    sort(t->codes, t->ncodes, sizeof(*t->codes), cmp_code);
    for (size_t i = 1; i < t->ncodes; i++) {
        if (strcmp(t->codes[i - 1].code, t->codes[i].code) == 0)
            return &t->codes[i]; /* sorted by line within a code, so [i - 1] came first */
    }
    return NULL;
}

static int cmp_code_key(const void *key, const void *elem)
{
    return strcmp(key, ((const struct code_entry *)elem)->code);
}

/* The row of code in t, whose codes are sorted and unique; NULL if none. */
static const struct code_entry *find_code(const struct place_table *t, const char *code)
{
    return search(code, t->codes, t->ncodes, sizeof(*t->codes), cmp_code_key);
}

static int64_t find_city(const struct place_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncities; i++) {
        if (strcmp(t->cities[i].name, name) == 0)
            return (int64_t)i;
    }
    return -1;
}

static void set_point(struct city_entry *c, const struct code_entry *e)
{
    c->has_point = true;
    c->lat = e->lat;
    c->lon = e->lon;
}

/* Gives each city the point of its centre (programme) or of its lowest code with a point. */
static void set_city_points(struct place_table *t)
{
    for (size_t i = 0; i < t->ncodes; i++) {
        const struct code_entry *e = &t->codes[i];

        if (e->has_point && !t->cities[e->city].has_point)
            set_point(&t->cities[e->city], e);
    }
    for (size_t i = 0; i < N_OF(programme); i++) {
        const struct code_entry *e = find_code(t, programme[i].centre);
        int64_t city = find_city(t, programme[i].city);

        if (e && city >= 0 && e->city == (uint32_t)city && e->has_point)
            set_point(&t->cities[city], e);
    }
}

/* Adds the name in the n bytes at s (borrowed) to t's names; an empty folded form is skipped. */
static int add_name(struct place_table *t, const char *s, size_t n, uint32_t city,
                    enum name_kind kind, uint32_t code)
{
    struct name_entry *names;
    char *display = strndup(s, n), *folded = display ? fold_key(display) : NULL;

    if (!folded)
        goto fail;
    if (folded[0] == '\0') {
        free(folded);
        free(display);
        return 0;
    }
    names = grow(t->names, &t->names_cap, t->nnames, sizeof(*t->names));
    if (!names)
        goto fail;
    t->names = names;
    t->names[t->nnames++] = (struct name_entry){.folded = folded,
                                                .display = display,
                                                .len = strlen(folded),
                                                .city = city,
                                                .code = code,
                                                .kind = kind};
    return 0;
fail:
    free(folded);
    free(display);
    return -1;
}

/* Adds an area name of row code and, for "Punavuori - Bulevardi", each part of it. */
static int add_area(struct place_table *t, const char *name, uint32_t city, uint32_t code)
{
    static const char sep[] = " - ";
    const char *p = name, *q;

    if (add_name(t, name, strlen(name), city, NAME_AREA, code) < 0)
        return -1;
    if (!strstr(name, sep))
        return 0;
    for (;;) {
        q = strstr(p, sep);
        if (add_name(t, p, q ? (size_t)(q - p) : strlen(p), city, NAME_AREA, code) < 0)
            return -1;
        if (!q)
            return 0;
        p = q + strlen(sep);
    }
}

/* Adds every municipality, Swedish programme city name and area name, uncollapsed. */
static int add_names(struct place_table *t)
{
    for (size_t i = 0; i < t->ncities; i++) {
        if (add_name(t, t->cities[i].name, strlen(t->cities[i].name), (uint32_t)i,
                     NAME_MUNICIPALITY, NONE) < 0)
            return -1;
    }
    for (size_t i = 0; i < t->ncodes; i++) {
        const struct code_entry *e = &t->codes[i];

        if (add_area(t, e->name_fi, e->city, (uint32_t)i) < 0 ||
            add_area(t, e->name_sv, e->city, (uint32_t)i) < 0)
            return -1;
    }
    for (size_t i = 0; i < N_OF(programme); i++) {
        int64_t city = find_city(t, programme[i].city);

        /* Alias targets missing from the table are not invented. */
        if (programme[i].sv && city >= 0 &&
            add_name(t, programme[i].sv, strlen(programme[i].sv), (uint32_t)city, NAME_ALIAS,
                     NONE) < 0)
            return -1;
    }
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    const struct name_entry *x = a, *y = b;
    int c = strcmp(x->folded, y->folded);

    if (c != 0)
        return c;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->city != y->city)
        return x->city < y->city ? -1 : 1;
    return x->code < y->code ? -1 : x->code > y->code;
}

/* Where a collapsed name points: its municipality's centre, or its area's postal code. */
static void set_name_point(const struct place_table *t, struct name_entry *e)
{
    if (e->city == NONE)
        return;
    if (e->kind != NAME_AREA) {
        const struct city_entry *c = &t->cities[e->city];

        e->has_point = c->has_point;
        e->lat = c->lat;
        e->lon = c->lon;
    } else if (t->codes[e->code].has_point) {
        e->has_point = true;
        e->lat = t->codes[e->code].lat;
        e->lon = t->codes[e->code].lon;
    }
}

/*
 * Sorts the names and keeps one entry per folded form: the best kind's city,
 * or NONE if that kind points at more than one municipality. An area keeps
 * the lowest of its postal codes that has a point (codes are sorted, and so
 * are the entries within a kind and city).
 */
static void collapse_names(struct place_table *t)
{
    size_t out = 0;

    sort(t->names, t->nnames, sizeof(*t->names), cmp_name);
    for (size_t i = 0; i < t->nnames;) {
        struct name_entry e = t->names[i];
        size_t j = i + 1;

        for (; j < t->nnames && strcmp(t->names[j].folded, e.folded) == 0; j++) {
            const struct name_entry *o = &t->names[j];

            if (o->kind == e.kind && o->city != e.city)
                e.city = NONE;
            else if (o->kind == e.kind && e.code != NONE && !t->codes[e.code].has_point)
                e.code = o->code;
            free(o->folded);
            free(o->display);
        }
        set_name_point(t, &e);
        t->names[out++] = e;
        i = j;
    }
    t->nnames = out;
}

static bool is_vowel(char c)
{
    return c != '\0' && strchr("aeiouy", c) != NULL;
}

static bool is_consonant(char c)
{
    return c >= 'a' && c <= 'z' && !is_vowel(c);
}

/* The weak grade of the n consonants at s, or NULL if they do not alternate. */
static const char *weak_grade(const char *s, size_t n)
{
    for (size_t i = 0; i < N_OF(gradation); i++) {
        if (strlen(gradation[i].strong) == n && memcmp(gradation[i].strong, s, n) == 0)
            return gradation[i].weak;
    }
    return NULL;
}

struct stems {
    char s[STEMS_PER_NAME][PLACE_NAME_LEN + 2];
    size_t n;
};

/* Adds the first len bytes of name followed by mid and tail to st, unless already there. */
static void put_stem(struct stems *st, const char *name, size_t len, const char *mid,
                     const char *tail)
{
    char buf[PLACE_NAME_LEN + 2];
    int n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)len, name, mid, tail);

    if (n < 0 || (size_t)n >= sizeof(buf) || st->n == STEMS_PER_NAME)
        return;
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->s[i], buf) == 0)
            return;
    }
    memcpy(st->s[st->n++], buf, (size_t)n + 1);
}

/*
 * The stems of a folded name of n bytes, the forms a Finnish case ending
 * attaches to: the name itself (Oulu-ssa, Espoo-seen), e-stems doubling a
 * final e (Tampere-ella) or turning a final i into e (Rovanieme-llä,
 * Lahte-en), and the weak grade of the consonants before a single final vowel
 * (Helsingi-ssä, Turu-ssa, Lahde-ssa, Kannelmäe-llä). Names ending in a
 * consonant ("Kangas") get only themselves.
 */
static void name_stems(const char *name, size_t n, struct stems *st)
{
    st->n = 0;
    put_stem(st, name, n, "", "");
    if (n >= 2 && name[n - 1] == 'e')
        put_stem(st, name, n, "e", "");
    if (n >= 2 && name[n - 1] == 'i')
        put_stem(st, name, n - 1, "e", "");
    if (n >= 3 && is_vowel(name[n - 1]) && is_consonant(name[n - 2])) {
        size_t j = n - 1; /* start of the consonants before the last vowel */
        const char *weak;
        char last[2] = {name[n - 1], '\0'};

        while (j > 0 && is_consonant(name[j - 1]))
            j--;
        if (j == 0 || !is_vowel(name[j - 1]) || (weak = weak_grade(name + j, n - 1 - j)) == NULL)
            return;
        put_stem(st, name, j, weak, last);
        if (last[0] == 'i')
            put_stem(st, name, j, weak, "e");
    }
}

/* Municipality and Swedish names rank together above areas, for stems and typos. */
static int tier(enum name_kind kind)
{
    return kind == NAME_AREA ? 1 : 0;
}

static int add_stems(struct place_table *t)
{
    struct stems st;

    for (size_t i = 0; i < t->nnames; i++) {
        name_stems(t->names[i].folded, t->names[i].len, &st);
        for (size_t k = 0; k < st.n; k++) {
            struct stem_entry *stems = grow(t->stems, &t->stems_cap, t->nstems, sizeof(*t->stems));
            char *s = strdup(st.s[k]);

            if (stems)
                t->stems = stems;
            if (!stems || !s) {
                free(s);
                return -1;
            }
            t->stems[t->nstems++] =
                (struct stem_entry){.stem = s, .name = (uint32_t)i, .tier = tier(t->names[i].kind)};
        }
    }
    return 0;
}

static int cmp_stem(const void *a, const void *b)
{
    const struct stem_entry *x = a, *y = b;
    int c = strcmp(x->stem, y->stem);

    if (c != 0)
        return c;
    if (x->tier != y->tier)
        return x->tier < y->tier ? -1 : 1;
    return x->name < y->name ? -1 : x->name > y->name;
}

/*
 * Sorts the stems and keeps one per string: the best tier's name, or
 * AMBIGUOUS if that tier's names lead to different municipalities.
 */
static void collapse_stems(struct place_table *t)
{
    size_t out = 0;

    sort(t->stems, t->nstems, sizeof(*t->stems), cmp_stem);
    for (size_t i = 0; i < t->nstems;) {
        struct stem_entry e = t->stems[i];
        uint32_t city = t->names[e.name].city;
        size_t j = i + 1;

        if (city == NONE)
            e.name = AMBIGUOUS;
        for (; j < t->nstems && strcmp(t->stems[j].stem, e.stem) == 0; j++) {
            if (t->stems[j].tier == e.tier && t->names[t->stems[j].name].city != city)
                e.name = AMBIGUOUS;
            free(t->stems[j].stem);
        }
        t->stems[out++] = e;
        i = j;
    }
    t->nstems = out;
}

static int cmp_name_key(const void *key, const void *elem)
{
    return strcmp(key, ((const struct name_entry *)elem)->folded);
}

/*
 * Decides, for each postal code, whether its name_fi leads back to its
 * municipality when looked up; if not (an area name several municipalities
 * share), struct place.name gives the municipality instead.
 */
static void set_labels(struct place_table *t)
{
    for (size_t i = 0; i < t->ncodes; i++) {
        struct code_entry *e = &t->codes[i];
        struct place p;

        e->label_is_city = resolve(t, e->name_fi, &p) != 0 || p.postal_code[0] != '\0' ||
                           strcmp(p.city, t->cities[e->city].name) != 0;
    }
}

static int cmp_city(const void *a, const void *b)
{
    return strcmp((*(struct city_entry *const *)a)->name, (*(struct city_entry *const *)b)->name);
}

static int sort_cities(struct place_table *t)
{
    t->city_order = malloc((t->ncities ? t->ncities : 1) * sizeof(*t->city_order));
    if (!t->city_order)
        return -1;
    for (size_t i = 0; i < t->ncities; i++)
        t->city_order[i] = &t->cities[i];
    sort(t->city_order, t->ncities, sizeof(*t->city_order), cmp_city);
    return 0;
}

/* Builds the indexes of a table whose codes are sorted and unique; -1 when out of memory. */
static int build_index(struct place_table *t)
{
    set_city_points(t);
    if (add_names(t) < 0)
        return -1;
    collapse_names(t);
    if (add_stems(t) < 0)
        return -1;
    collapse_stems(t);
    set_labels(t);
    if (sort_cities(t) < 0)
        return -1;
    t->finished = true;
    return 0;
}

int place_table_finish(struct place_table *t, char *err)
{
    const struct code_entry *dup;

    if (!t || t->finished) {
        err_set(err, "table is already finished");
        return -1;
    }
    dup = sort_codes(t);
    if (dup) {
        err_set(err, "duplicate postal code %s", dup->code);
        return -1;
    }
    if (build_index(t) < 0) {
        err_set(err, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- Loading ----------------------------------------------------------------------------- */

struct columns {
    int code, name_fi, name_sv, municipality, lat, lon; /* lat, lon: -1 when absent */
    size_t needed;                                      /* fields a row must have */
};

static int find_columns(const struct csv_row *header, struct columns *c, char *err)
{
    static const char *const names[] = {"postal_code", "name_fi", "name_sv", "municipality"};
    int *slots[] = {&c->code, &c->name_fi, &c->name_sv, &c->municipality};

    c->needed = 0;
    for (size_t i = 0; i < N_OF(names); i++) {
        *slots[i] = csv_column(header, names[i]);
        if (*slots[i] < 0) {
            err_set(err, "missing column '%s'", names[i]);
            return -1;
        }
        if ((size_t)*slots[i] + 1 > c->needed)
            c->needed = (size_t)*slots[i] + 1;
    }
    c->lat = csv_column(header, "lat");
    c->lon = csv_column(header, "lon");
    if ((c->lat < 0) != (c->lon < 0)) {
        err_set(err, "missing column '%s'", c->lat < 0 ? "lat" : "lon");
        return -1;
    }
    return 0;
}

/* Field i of row, or "" when the row is shorter or i is -1 (an optional column that is absent). */
static const char *field(const struct csv_row *row, int i)
{
    return i >= 0 && (size_t)i < row->n ? row->fields[i] : "";
}

/* Parses a coordinate field; "" leaves *has false. */
static int parse_coord(const char *s, const char *column, double *v, bool *has, char *err)
{
    char *end;

    *has = false;
    if (s[0] == '\0')
        return 0;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0) {
        err_set(err, "bad %s '%.16s': expected a number", column, s);
        return -1;
    }
    *has = true;
    return 0;
}

static int add_csv_row(struct place_table *t, const struct csv_row *row, const struct columns *c,
                       char *err)
{
    double lat = 0, lon = 0;
    bool has_lat, has_lon;

    if (row->n < c->needed) {
        err_set(err, "expected at least %zu fields, got %zu", c->needed, row->n);
        return -1;
    }
    if (parse_coord(field(row, c->lat), "lat", &lat, &has_lat, err) < 0 ||
        parse_coord(field(row, c->lon), "lon", &lon, &has_lon, err) < 0)
        return -1;
    if (has_lat != has_lon) {
        err_set(err, "postal code %.16s: lat and lon must both be given or both be empty",
                field(row, c->code));
        return -1;
    }
    return add_row(t, field(row, c->code), field(row, c->name_fi), field(row, c->name_sv),
                   field(row, c->municipality), has_lat, lat, lon, row->line, err);
}

/* Reports the reader's "line N: problem" as "path:N: problem", like the other errors here. */
static void csv_error(char *err, const char *path, const struct csv_reader *r, const char *cerr)
{
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "line %zu: ", r->error_line);
    const char *what = plen > 0 && strncmp(cerr, prefix, (size_t)plen) == 0 ? cerr + plen : cerr;

    err_set(err, "%s:%zu: %s", path, r->error_line, what);
}

/* Reads the rows of an open file into t; -1 with err set to "path:line: problem". */
static int read_csv(struct place_table *t, FILE *fp, const char *path, char *err)
{
    struct csv_row row = CSV_ROW_INIT;
    struct csv_reader r;
    struct columns cols;
    char cerr[ERR_LEN] = "";
    int rc;

    csv_reader_init(&r, fp);
    rc = csv_read_row(&r, &row, cerr);
    if (rc == 0) {
        err_set(err, "%s: empty file", path);
        return -1;
    }
    if (rc > 0 && find_columns(&row, &cols, cerr) < 0) {
        err_set(err, "%s:%zu: %s", path, row.line, cerr);
        csv_row_release(&row);
        return -1;
    }
    while (rc > 0 && (rc = csv_read_row(&r, &row, cerr)) == 1) {
        if (add_csv_row(t, &row, &cols, cerr) < 0) {
            err_set(err, "%s:%zu: %s", path, row.line, cerr);
            csv_row_release(&row);
            return -1;
        }
    }
    csv_row_release(&row);
    if (rc < 0)
        csv_error(err, path, &r, cerr);
    return rc < 0 ? -1 : 0;
}

/* place_table_finish, but naming both lines of a duplicate. */
static int finish_csv(struct place_table *t, const char *path, char *err)
{
    const struct code_entry *dup = sort_codes(t);

    if (dup) {
        err_set(err, "%s:%zu: duplicate postal code %s (first on line %zu)", path, dup->line,
                dup->code, dup[-1].line);
        return -1;
    }
    if (build_index(t) < 0) {
        err_set(err, "%s: out of memory", path);
        return -1;
    }
    return 0;
}

struct place_table *place_table_load_csv(const char *path, char *err)
{
    struct place_table *t = place_table_new();
    FILE *fp;
    int rc;

    if (!t) {
        err_set(err, "%s: out of memory", path);
        return NULL;
    }
    fp = fopen(path, "r");
    if (!fp) {
        err_set(err, "%s: %s", path, strerror(errno));
        free(t);
        return NULL;
    }
    rc = read_csv(t, fp, path, err);
    fclose(fp);
    if (rc < 0 || finish_csv(t, path, err) < 0) {
        place_table_free(t);
        return NULL;
    }
    return t;
}

static const char *column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    return s ? (const char *)s : "";
}

static int add_db_row(struct place_table *t, sqlite3_stmt *st, size_t n, char *err)
{
    bool has_lat = sqlite3_column_type(st, 4) != SQLITE_NULL;
    bool has_lon = sqlite3_column_type(st, 5) != SQLITE_NULL;
    const char *code = column_text(st, 0);

    if (has_lat != has_lon) {
        err_set(err, "postal code %.16s: lat and lon must both be given or both be NULL", code);
        return -1;
    }
    return add_row(t, code, column_text(st, 1), column_text(st, 2), column_text(st, 3), has_lat,
                   has_lat ? sqlite3_column_double(st, 4) : 0,
                   has_lon ? sqlite3_column_double(st, 5) : 0, n, err);
}

/* Reads every row of postal_codes into t; -1 with err (without the "postal_codes: " prefix). */
static int read_db(struct place_table *t, sqlite3 *db, char *err)
{
    static const char sql[] =
        "SELECT postal_code, name_fi, name_sv, municipality, lat, lon FROM postal_codes";
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "%s", sqlite3_errmsg(db));
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (add_db_row(t, st, ++n, err) < 0) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    if (rc != SQLITE_DONE)
        err_set(err, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

struct place_table *place_table_load_db(sqlite3 *db, char *err)
{
    struct place_table *t = place_table_new();
    char e[ERR_LEN] = "";

    if (!t) {
        err_set(err, "postal_codes: out of memory");
        return NULL;
    }
    if (read_db(t, db, e) < 0 || place_table_finish(t, e) < 0) {
        err_set(err, "postal_codes: %s", e);
        place_table_free(t);
        return NULL;
    }
    if (t->ncodes == 0) {
        err_set(err, "no postal codes");
        place_table_free(t);
        return NULL;
    }
    return t;
}

void place_table_free(struct place_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncodes; i++) {
        free(t->codes[i].name_fi);
        free(t->codes[i].name_sv);
    }
    for (size_t i = 0; i < t->nnames; i++) {
        free(t->names[i].folded);
        free(t->names[i].display);
    }
    for (size_t i = 0; i < t->nstems; i++)
        free(t->stems[i].stem);
    free(t->codes);
    free(t->cities);
    free(t->city_order);
    free(t->names);
    free(t->stems);
    free(t);
}

size_t place_table_count(const struct place_table *t)
{
    return t ? t->ncodes : 0;
}

static int cmp_city_key(const void *key, const void *elem)
{
    return strcmp(key, (*(struct city_entry *const *)elem)->name);
}

static const struct city_entry *city_by_name(const struct place_table *t, const char *city)
{
    struct city_entry *const *c;

    if (!t || !t->finished || !city)
        return NULL;
    c = search(city, t->city_order, t->ncities, sizeof(*t->city_order), cmp_city_key);
    return c ? *c : NULL;
}

bool place_city_point(const struct place_table *t, const char *city, double *lat, double *lon)
{
    const struct city_entry *c = city_by_name(t, city);

    if (!c || !c->has_point)
        return false;
    *lat = c->lat;
    *lon = c->lon;
    return true;
}

bool place_city_known(const struct place_table *t, const char *city)
{
    return city_by_name(t, city) != NULL;
}

const char *place_city_name(const char *city, const char *lang)
{
    if (city == NULL || lang == NULL || strcmp(lang, "sv") != 0)
        return city;
    for (size_t i = 0; i < sizeof(programme) / sizeof(programme[0]); i++) {
        if (strcmp(programme[i].city, city) == 0)
            return programme[i].sv != NULL ? programme[i].sv : city;
    }
    return city;
}

/* ---- Lookup ------------------------------------------------------------------------------ */

static bool has_digit(const char *s)
{
    return strpbrk(s, "0123456789") != NULL;
}

/* True if at least half of the characters of s, spaces aside, are digits. */
static bool mostly_digits(const char *s)
{
    size_t digits = 0, other = 0;

    for (; *s; s++) {
        if (is_digit(*s))
            digits++;
        else if (*s != ' ' && ((unsigned char)*s & 0xC0u) != 0x80u) /* count lead bytes only */
            other++;
    }
    return digits > 0 && digits >= other;
}

/* s after one of lead_phrases, or s itself. */
static const char *strip_phrase(const char *s)
{
    for (size_t i = 0; i < N_OF(lead_phrases); i++) {
        size_t n = strlen(lead_phrases[i]);

        if (strncmp(s, lead_phrases[i], n) == 0 && s[n] != '\0')
            return s + n;
    }
    return s;
}

/* The best name seen so far: NOT_FOUND, AMBIGUOUS or an index into names. */
struct pick {
    uint32_t name;
    int tier;
};

static uint32_t city_of(const struct place_table *t, uint32_t name)
{
    return name == AMBIGUOUS ? NONE : t->names[name].city;
}

/*
 * Weighs name (an index, or AMBIGUOUS) of tier rank against p: a lower tier
 * replaces it, the same tier with another municipality makes it ambiguous,
 * and within one municipality the better kind gives the spelling.
 */
static void consider(const struct place_table *t, struct pick *p, uint32_t name, int rank)
{
    if (rank > p->tier)
        return;
    if (rank < p->tier) {
        p->tier = rank;
        p->name = city_of(t, name) == NONE ? AMBIGUOUS : name;
    } else if (p->name == AMBIGUOUS || city_of(t, name) != city_of(t, p->name)) {
        p->name = AMBIGUOUS;
    } else if (t->names[name].kind < t->names[p->name].kind) {
        p->name = name;
    }
}

static uint32_t find_exact(const struct place_table *t, const char *s)
{
    const struct name_entry *n = search(s, t->names, t->nnames, sizeof(*t->names), cmp_name_key);

    if (!n)
        return NOT_FOUND;
    return n->city == NONE ? AMBIGUOUS : (uint32_t)(n - t->names);
}

static int cmp_stem_key(const void *key, const void *elem)
{
    return strcmp(key, ((const struct stem_entry *)elem)->stem);
}

/* Weighs the stem made of the first n bytes of s, if it is one. */
static void consider_stem(const struct place_table *t, struct pick *p, const char *s, size_t n)
{
    char key[INPUT_MAX + 1];
    const struct stem_entry *e;

    if (n > INPUT_MAX)
        return;
    memcpy(key, s, n);
    key[n] = '\0';
    e = search(key, t->stems, t->nstems, sizeof(*t->stems), cmp_stem_key);
    if (e)
        consider(t, p, e->name, e->tier);
}

/* A name that s is an inflected form of: every case ending s may carry is tried. */
static uint32_t find_inflected(const struct place_table *t, const char *s)
{
    struct pick p = {NOT_FOUND, INT_MAX};
    size_t n = strlen(s);

    for (size_t i = 0; i < N_OF(case_endings); i++) {
        size_t k = strlen(case_endings[i].ending);

        if (n >= k + case_endings[i].min_stem && memcmp(s + n - k, case_endings[i].ending, k) == 0)
            consider_stem(t, &p, s, n - k);
    }
    /* Illative: the last vowel doubled (Oulu-un, Lahte-en), or h and the vowel (Ii-hin). */
    if (n >= 4 && s[n - 1] == 'n' && is_vowel(s[n - 2])) {
        if (n >= 5 && s[n - 3] == s[n - 2])
            consider_stem(t, &p, s, n - 2);
        if (s[n - 3] == 'h' && s[n - 4] == s[n - 2])
            consider_stem(t, &p, s, n - 3);
    }
    return p.name;
}

/*
 * True if a (la bytes) and b (lb bytes) differ by at most one substituted,
 * inserted, deleted or transposed byte (optimal string alignment distance).
 * Compares the common prefix, then the rest once: no allocation, no table.
 */
static bool within_one_edit(const char *a, size_t la, const char *b, size_t lb)
{
    size_t i = 0;

    if (la > lb)
        return within_one_edit(b, lb, a, la);
    if (lb - la > 1)
        return false;
    while (i < la && a[i] == b[i])
        i++;
    if (i == la)
        return true;
    if (la < lb)
        return memcmp(a + i, b + i + 1, la - i) == 0;
    if (memcmp(a + i + 1, b + i + 1, la - i - 1) == 0)
        return true;
    return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
           memcmp(a + i + 2, b + i + 2, la - i - 2) == 0;
}

/*
 * The one name (or municipality) that s is a typo of: long enough (see
 * TYPO_MIN_CITY), with the same first letter, which people rarely get wrong.
 */
static uint32_t find_typo(const struct place_table *t, const char *s)
{
    struct pick p = {NOT_FOUND, INT_MAX};
    size_t n = strlen(s);

    for (size_t i = 0; i < t->nnames; i++) {
        const struct name_entry *e = &t->names[i];
        size_t min = e->kind == NAME_AREA ? TYPO_MIN_AREA : TYPO_MIN_CITY;

        if (e->len >= min && e->folded[0] == s[0] && e->len + 1 >= n && e->len <= n + 1 &&
            within_one_edit(s, n, e->folded, e->len))
            consider(t, &p, (uint32_t)i, tier(e->kind));
    }
    return p.name;
}

/* The steps of place_lookup after the postal code, on trimmed folded input s. */
static uint32_t find_name(const struct place_table *t, const char *s)
{
    const char *rest = strip_phrase(s);
    uint32_t r = find_exact(t, s);

    if (r == NOT_FOUND && rest != s)
        r = find_exact(t, rest);
    /* Names have no digits, so neither do their inflections or typos. */
    if (r == NOT_FOUND && !has_digit(rest))
        r = find_inflected(t, rest);
    if (r == NOT_FOUND && !has_digit(rest))
        r = find_typo(t, rest);
    return r;
}

static int fill_name(const struct place_table *t, uint32_t i, struct place *out)
{
    const struct name_entry *n;

    if (i == NOT_FOUND || i == AMBIGUOUS)
        return -1;
    n = &t->names[i];
    memset(out, 0, sizeof(*out));
    snprintf(out->city, sizeof(out->city), "%s", t->cities[n->city].name);
    snprintf(out->name, sizeof(out->name), "%s", n->display);
    out->has_point = n->has_point;
    out->lat = n->lat;
    out->lon = n->lon;
    return 0;
}

static int fill_code(const struct place_table *t, const char *code, struct place *out)
{
    const struct code_entry *e = find_code(t, code);
    const char *city;

    if (!e)
        return -1;
    city = t->cities[e->city].name;
    memset(out, 0, sizeof(*out));
    memcpy(out->postal_code, e->code, sizeof(out->postal_code));
    snprintf(out->city, sizeof(out->city), "%s", city);
    snprintf(out->name, sizeof(out->name), "%s", e->label_is_city ? city : e->name_fi);
    out->has_point = e->has_point;
    out->lat = e->lat;
    out->lon = e->lon;
    return 0;
}

static int resolve(const struct place_table *t, const char *input, struct place *out)
{
    char *key = fold_key(input), code[6];
    int rc = -1;

    if (!key)
        return -1;
    if (place_parse_postal_code(key, code))
        rc = fill_code(t, code, out);
    else if (key[0] != '\0' && !mostly_digits(key) && strlen(key) <= INPUT_MAX)
        rc = fill_name(t, find_name(t, key), out);
    free(key);
    return rc;
}

int place_lookup(const struct place_table *t, const char *input, struct place *out)
{
    if (!t || !t->finished || !input || !out)
        return -1;
    return resolve(t, input, out);
}
