/*
 * place.c: postal code and place name lookup (see place.h). Postal codes sit
 * in an array sorted for bsearch; names sit in a second sorted array of folded
 * forms, each collapsed at load time to one municipality or to "ambiguous", so
 * a lookup is one fold and one or two binary searches. Municipality names are
 * stored once and referred to by index.
 */
#include "place.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "err.h"
#include "utf8.h"

#define AMBIGUOUS UINT32_MAX

/* Kinds of name, best first: when one folded name has several kinds, the best wins. */
enum name_kind {
    NAME_MUNICIPALITY, /* Finnish municipality name from the table */
    NAME_ALIAS,        /* Swedish name of a programme city */
    NAME_AREA,         /* name_fi / name_sv, or a part of a combined one */
};

struct code_entry {
    char code[6];
    uint32_t city;
    size_t line; /* for duplicate reports */
};

struct name_entry {
    char *folded;  /* owned */
    uint32_t city; /* index into cities, or AMBIGUOUS */
    enum name_kind kind;
};

struct place_table {
    struct code_entry *codes;
    size_t ncodes, codes_cap;
    char (*cities)[PLACE_CITY_LEN];
    size_t ncities, cities_cap;
    struct name_entry *names;
    size_t nnames, names_cap;
};

/* Swedish names of the programme cities whose Finnish name differs. */
static const struct {
    const char *name;
    const char *city;
} aliases[] = {
    {"Helsingfors", "Helsinki"}, {"Esbo", "Espoo"},    {"Vanda", "Vantaa"},
    {"Tammerfors", "Tampere"},   {"Uleåborg", "Oulu"}, {"Björneborg", "Pori"},
};

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

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
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
        if (*p >= '0' && *p <= '9') {
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

static int add_name(struct place_table *t, const char *name, uint32_t city, enum name_kind kind)
{
    char *folded = utf8_fold(name);
    struct name_entry *names;

    if (!folded)
        return -1;
    if (folded[0] == '\0') {
        free(folded);
        return 0;
    }
    names = grow(t->names, &t->names_cap, t->nnames, sizeof(*t->names));
    if (!names) {
        free(folded);
        return -1;
    }
    t->names = names;
    t->names[t->nnames++] = (struct name_entry){folded, city, kind};
    return 0;
}

/* Index of city name in t, adding it (and its name entry) if new; -1 when out of memory. */
static int64_t city_index(struct place_table *t, const char *name)
{
    char(*cities)[PLACE_CITY_LEN];

    /* Rows come grouped by municipality, so the last one is the usual hit. */
    for (size_t i = t->ncities; i-- > 0;) {
        if (strcmp(t->cities[i], name) == 0)
            return (int64_t)i;
    }
    cities = grow(t->cities, &t->cities_cap, t->ncities, sizeof(*t->cities));
    if (!cities)
        return -1;
    t->cities = cities;
    snprintf(t->cities[t->ncities], PLACE_CITY_LEN, "%s", name);
    if (add_name(t, name, (uint32_t)t->ncities, NAME_MUNICIPALITY) < 0)
        return -1;
    return (int64_t)t->ncities++;
}

/* Adds an area name and, for "Punavuori - Bulevardi", each part of it. */
static int add_area(struct place_table *t, const char *name, uint32_t city)
{
    static const char sep[] = " - ";
    const char *p = name, *q;

    if (add_name(t, name, city, NAME_AREA) < 0)
        return -1;
    if (!strstr(name, sep))
        return 0;
    for (;;) {
        char *part;
        int rc;

        q = strstr(p, sep);
        part = strndup(p, q ? (size_t)(q - p) : strlen(p));
        if (!part)
            return -1;
        rc = add_name(t, part, city, NAME_AREA);
        free(part);
        if (rc < 0)
            return -1;
        if (!q)
            return 0;
        p = q + strlen(sep);
    }
}

static int cmp_code(const void *a, const void *b)
{
    return strcmp(((const struct code_entry *)a)->code, ((const struct code_entry *)b)->code);
}

static int cmp_name(const void *a, const void *b)
{
    const struct name_entry *x = a, *y = b;
    int c = strcmp(x->folded, y->folded);

    if (c != 0)
        return c;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->city < y->city ? -1 : x->city > y->city;
}

/*
 * Sorts the names and keeps one entry per folded form: the best kind's city,
 * or AMBIGUOUS if that kind points at more than one municipality.
 */
static void collapse_names(struct place_table *t)
{
    size_t out = 0;

    qsort(t->names, t->nnames, sizeof(*t->names), cmp_name);
    for (size_t i = 0; i < t->nnames;) {
        size_t j = i + 1;
        struct name_entry e = t->names[i];

        for (; j < t->nnames && strcmp(t->names[j].folded, e.folded) == 0; j++) {
            if (t->names[j].kind == e.kind && t->names[j].city != e.city)
                e.city = AMBIGUOUS;
            free(t->names[j].folded);
        }
        t->names[out++] = e;
        i = j;
    }
    t->nnames = out;
}

struct columns {
    int code, name_fi, name_sv, municipality;
    size_t needed; /* fields a row must have */
};

static int find_columns(const struct csv_row *header, struct columns *c, char *err)
{
    static const char *const names[] = {"postal_code", "name_fi", "name_sv", "municipality"};
    int *slots[] = {&c->code, &c->name_fi, &c->name_sv, &c->municipality};

    c->needed = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        *slots[i] = csv_column(header, names[i]);
        if (*slots[i] < 0) {
            err_set(err, "missing column '%s'", names[i]);
            return -1;
        }
        if ((size_t)*slots[i] + 1 > c->needed)
            c->needed = (size_t)*slots[i] + 1;
    }
    return 0;
}

static int add_row(struct place_table *t, const struct csv_row *row, const struct columns *c,
                   char *err)
{
    const char *code, *municipality;
    struct code_entry *codes;
    int64_t city;

    if (row->n < c->needed) {
        err_set(err, "expected at least %zu fields, got %zu", c->needed, row->n);
        return -1;
    }
    code = row->fields[c->code];
    municipality = row->fields[c->municipality];
    if (strlen(code) != 5 || strspn(code, "0123456789") != 5) {
        err_set(err, "bad postal code '%.16s': expected five digits", code);
        return -1;
    }
    if (municipality[0] == '\0') {
        err_set(err, "postal code %s has no municipality", code);
        return -1;
    }
    if (strlen(municipality) >= PLACE_CITY_LEN) {
        err_set(err, "municipality name longer than %d bytes", PLACE_CITY_LEN - 1);
        return -1;
    }
    city = city_index(t, municipality);
    if (city < 0)
        goto oom;
    codes = grow(t->codes, &t->codes_cap, t->ncodes, sizeof(*t->codes));
    if (!codes)
        goto oom;
    t->codes = codes;
    t->codes[t->ncodes] = (struct code_entry){.city = (uint32_t)city, .line = row->line};
    memcpy(t->codes[t->ncodes].code, code, 6);
    t->ncodes++;
    if (add_area(t, row->fields[c->name_fi], (uint32_t)city) < 0 ||
        add_area(t, row->fields[c->name_sv], (uint32_t)city) < 0)
        goto oom;
    return 0;
oom:
    err_set(err, "out of memory");
    return -1;
}

/* Adds the programme cities' Swedish names for the cities the table has. */
static int add_aliases(struct place_table *t)
{
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        for (size_t c = 0; c < t->ncities; c++) {
            if (strcmp(t->cities[c], aliases[i].city) == 0 &&
                add_name(t, aliases[i].name, (uint32_t)c, NAME_ALIAS) < 0)
                return -1;
        }
    }
    return 0;
}

/* Fails on the first postal code that appears twice; codes must be sorted. */
static int check_duplicates(const struct place_table *t, const char *path, char *err)
{
    for (size_t i = 1; i < t->ncodes; i++) {
        const struct code_entry *a = &t->codes[i - 1], *b = &t->codes[i];

        if (strcmp(a->code, b->code) == 0) {
            const struct code_entry *later = a->line > b->line ? a : b;

            err_set(err, "%s:%zu: duplicate postal code %s (first on line %zu)", path, later->line,
                    later->code, a->line > b->line ? b->line : a->line);
            return -1;
        }
    }
    return 0;
}

/* Reports the reader's "line N: problem" as "path:N: problem", like the other errors here. */
static void csv_error(char *err, const char *path, const struct csv_reader *r, const char *cerr)
{
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "line %zu: ", r->error_line);
    const char *what = plen > 0 && strncmp(cerr, prefix, (size_t)plen) == 0 ? cerr + plen : cerr;

    err_set(err, "%s:%zu: %s", path, r->error_line, what);
}

struct place_table *place_table_load_csv(const char *path, char *err)
{
    struct place_table *t = calloc(1, sizeof(*t));
    struct csv_row row = CSV_ROW_INIT;
    struct csv_reader r;
    struct columns cols;
    char cerr[ERR_LEN] = "";
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
    csv_reader_init(&r, fp);
    rc = csv_read_row(&r, &row, cerr);
    if (rc == 0) {
        err_set(err, "%s: empty file", path);
        goto fail;
    }
    if (rc < 0)
        goto csv_fail;
    if (find_columns(&row, &cols, cerr) < 0) {
        err_set(err, "%s:%zu: %s", path, row.line, cerr);
        goto fail;
    }
    while ((rc = csv_read_row(&r, &row, cerr)) == 1) {
        if (add_row(t, &row, &cols, cerr) < 0) {
            err_set(err, "%s:%zu: %s", path, row.line, cerr);
            goto fail;
        }
    }
    if (rc < 0)
        goto csv_fail;
    qsort(t->codes, t->ncodes, sizeof(*t->codes), cmp_code);
    if (check_duplicates(t, path, err) < 0)
        goto fail;
    if (add_aliases(t) < 0) {
        err_set(err, "%s: out of memory", path);
        goto fail;
    }
    collapse_names(t);
    csv_row_release(&row);
    fclose(fp);
    return t;
csv_fail:
    csv_error(err, path, &r, cerr);
fail:
    csv_row_release(&row);
    fclose(fp);
    place_table_free(t);
    return NULL;
}

void place_table_free(struct place_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nnames; i++)
        free(t->names[i].folded);
    free(t->names);
    free(t->cities);
    free(t->codes);
    free(t);
}

size_t place_table_count(const struct place_table *t)
{
    return t ? t->ncodes : 0;
}

static int cmp_name_key(const void *key, const void *elem)
{
    return strcmp(key, ((const struct name_entry *)elem)->folded);
}

int place_lookup(const struct place_table *t, const char *input, struct place *out)
{
    char *folded;
    struct code_entry key;
    const struct code_entry *code;
    const struct name_entry *name;
    uint32_t city;

    if (!t || !input)
        return -1;
    folded = utf8_fold(input); /* also drops invisible characters and odd spaces */
    if (!folded)
        return -1;
    if (place_parse_postal_code(folded, key.code)) {
        free(folded);
        code = bsearch(&key, t->codes, t->ncodes, sizeof(*t->codes), cmp_code);
        if (!code)
            return -1;
        memcpy(out->postal_code, code->code, sizeof(out->postal_code));
        city = code->city;
    } else {
        name = bsearch(folded, t->names, t->nnames, sizeof(*t->names), cmp_name_key);
        free(folded);
        if (!name || name->city == AMBIGUOUS)
            return -1;
        out->postal_code[0] = '\0';
        city = name->city;
    }
    snprintf(out->city, sizeof(out->city), "%s", t->cities[city]);
    return 0;
}
