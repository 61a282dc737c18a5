/*
 * report.c: statistics from the contact log, the directory and the callback
 * requests, with small-cell suppression (definitions in report.h).
 *
 * The contact log is read once, ordered by pseudonym, so that one person's
 * conversations of a month arrive together: they are cut at 'session_start'
 * rows, attributed (city, language, topic...) and counted into tallies, which
 * become tables that report_table_protect() then suppresses.
 */
#include "report.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "text_table.h"

#define DEFAULT_DAYS 30
#define LABEL_MAX 128 /* bytes of one label (city, topic "flow/node", week...) */
#define KEY_MAX (REPORT_NDIMS * (LABEL_MAX + 1))
#define CONV_CHANNELS 4 /* channels one person can use at once (sms, ussd) */

static const char *const dim_names[REPORT_NDIMS] = {"city", "topic", "week", "channel", "language"};

const char *const report_notes[] = {
    "<5: a count from 1 to 4. x: hidden so that the totals do not give a count under 5 away. "
    "0 is shown as 0.",
    "contacts: conversations started (a 'session_start' row), SMS and USSD; a USSD session "
    "counts once, by its start.",
    "unique_contacts: different pseudonyms among those conversations. The pseudonym's key "
    "changes every calendar month, so a person is unique within a month only: over several "
    "months this is the sum of the monthly counts.",
    "city and language: the last ones a conversation named ('unknown' if none); week: ISO week "
    "of the conversation's first row, in Helsinki time.",
    "topic: the first question a conversation reached after the main menu ('none': it went no "
    "further).",
    "referrals: services named by a nearest-service reply, by category ('unknown': no longer in "
    "the directory).",
    "callbacks: requests created in the range, by outcome ('open' until closed); they record no "
    "channel or menu topic ('n/a').",
    "Each table is protected on its own: two reports over other dates or other dimensions can "
    "still be compared with each other, so publish a fixed set of tables.",
    NULL,
};

const char *report_dim_name(enum report_dim d)
{
    return d < REPORT_NDIMS ? dim_names[d] : "?";
}

/* ---- dates ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long days_from_civil(long y, long m, long d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d)
{
    long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DD" (the first ten characters of s) as a day number; false if not a real date. */
static bool date_days(const char *s, long *days)
{
    long y, m, d, back_y, back_m, back_d;

    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    }
    y = strtol(s, NULL, 10);
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    *days = days_from_civil(y, m, d);
    civil_from_days(*days, &back_y, &back_m, &back_d);
    return back_y == y && back_m == m && back_d == d; /* 2026-02-30 is not a date */
}

/* Copies a short formatted text into out of cap bytes, cutting it if it must. */
static void put_short(char *out, size_t cap, const char *text)
{
    size_t n = strlen(text) < cap - 1 ? strlen(text) : cap - 1;

    memcpy(out, text, n);
    out[n] = '\0';
}

static void days_date(long days, char out[REPORT_DATE_LEN])
{
    char text[64];
    long y, m, d;

    civil_from_days(days, &y, &m, &d);
    snprintf(text, sizeof(text), "%04ld-%02ld-%02ld", y, m, d);
    put_short(out, REPORT_DATE_LEN, text);
}

/* ISO 8601 week of a day number: the week belongs to the year of its Thursday. */
static void days_week(long days, char out[12])
{
    long weekday = ((days % 7) + 10) % 7; /* Monday 0: 1970-01-01 was a Thursday */
    long thursday = days - weekday + 3, y, m, d;
    char text[64];

    civil_from_days(thursday, &y, &m, &d);
    snprintf(text, sizeof(text), "%04ld-W%02ld", y, (thursday - days_from_civil(y, 1, 1)) / 7 + 1);
    put_short(out, 12, text);
}

static long local_days(long long unix_seconds)
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;

    localtime_r(&t, &tm);
    return days_from_civil(tm.tm_year + 1900L, tm.tm_mon + 1L, tm.tm_mday);
}

/* Unix seconds of local midnight starting day number days. */
static long long local_midnight(long days)
{
    long y, m, d;
    struct tm tm = {0};

    civil_from_days(days, &y, &m, &d);
    tm.tm_year = (int)(y - 1900);
    tm.tm_mon = (int)(m - 1);
    tm.tm_mday = (int)d;
    tm.tm_isdst = -1;
    return (long long)mktime(&tm);
}

/* ---- the query ---------------------------------------------------------------- */

void report_query_init(struct report_query *q, long long now)
{
    long today = local_days(now);

    memset(q, 0, sizeof(*q));
    days_date(today - (DEFAULT_DAYS - 1), q->from);
    days_date(today, q->to);
    q->by[0] = REPORT_CITY;
    q->nby = 1;
}

static int parse_by(const char *text, struct report_query *q, char *err)
{
    struct report_query next = *q;
    const char *p = text;

    next.nby = 0;
    while (*p != '\0') {
        size_t n = strcspn(p, ","), d;

        for (d = 0; d < REPORT_NDIMS; d++) {
            if ((strlen(dim_names[d]) == n && strncmp(p, dim_names[d], n) == 0) ||
                (d == REPORT_LANGUAGE && n == 4 && strncmp(p, "lang", 4) == 0))
                break;
        }
        if (d == REPORT_NDIMS) {
            err_set(err, "--by: unknown dimension (use city, topic, week, channel, language)");
            return -1;
        }
        for (size_t i = 0; i < next.nby; i++) {
            if (next.by[i] == (enum report_dim)d) {
                err_set(err, "--by: %s is given twice", dim_names[d]);
                return -1;
            }
        }
        next.by[next.nby++] = (enum report_dim)d;
        p += n;
        if (*p == ',' && *++p == '\0')
            break;
    }
    if (next.nby == 0) {
        err_set(err, "--by: name at least one of city, topic, week, channel, language");
        return -1;
    }
    *q = next;
    return 0;
}

int report_query_set(struct report_query *q, const char *from, const char *to, const char *by,
                     char *err)
{
    struct report_query next = *q;
    long a, b;

    if (from != NULL && (strlen(from) != 10 || !date_days(from, &a))) {
        err_set(err, "--from: expected a date as YYYY-MM-DD");
        return -1;
    }
    if (to != NULL && (strlen(to) != 10 || !date_days(to, &b))) {
        err_set(err, "--to: expected a date as YYYY-MM-DD");
        return -1;
    }
    if (from != NULL)
        snprintf(next.from, sizeof(next.from), "%s", from);
    if (to != NULL)
        snprintf(next.to, sizeof(next.to), "%s", to);
    if (by != NULL && parse_by(by, &next, err) != 0)
        return -1;
    if (!date_days(next.from, &a) || !date_days(next.to, &b) || a > b) {
        err_set(err, "--from must not be after --to");
        return -1;
    }
    if (b - a >= REPORT_MAX_DAYS) {
        err_set(err, "the range is longer than %d days", REPORT_MAX_DAYS);
        return -1;
    }
    *q = next;
    return 0;
}

/* ---- tallies: counts by row labels and column name --------------------------- */

struct strmap {
    char **keys; /* owned; NULL: free slot */
    size_t *vals;
    size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t *strmap_get(const struct strmap *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == NULL)
            return NULL;
        if (strcmp(m->keys[i], key) == 0)
            return &m->vals[i];
    }
}

static int strmap_grow(struct strmap *m)
{
    struct strmap bigger = {.cap = m->cap ? m->cap * 2 : 64};

    bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
    bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
    if (bigger.keys == NULL || bigger.vals == NULL) {
        free(bigger.keys);
        free(bigger.vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        size_t j;

        if (m->keys[i] == NULL)
            continue;
        for (j = hash_str(m->keys[i]) & (bigger.cap - 1); bigger.keys[j] != NULL;
             j = (j + 1) & (bigger.cap - 1))
            ;
        bigger.keys[j] = m->keys[i];
        bigger.vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    bigger.n = m->n;
    *m = bigger;
    return 0;
}

/* Adds key (copied) -> val; key must not be present. 0, or -1 if out of memory. */
static int strmap_put(struct strmap *m, const char *key, size_t val)
{
    size_t i;

    if ((m->n + 1) * 2 > m->cap && strmap_grow(m) != 0)
        return -1;
    for (i = hash_str(key) & (m->cap - 1); m->keys[i] != NULL; i = (i + 1) & (m->cap - 1))
        ;
    if ((m->keys[i] = strdup(key)) == NULL)
        return -1;
    m->vals[i] = val;
    m->n++;
    return 0;
}

static void strmap_free(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

struct tally {
    size_t nkeys;
    struct strmap rowmap, colmap;
    char **labels;  /* nrows * nkeys, owned */
    char **columns; /* ncols, owned */
    size_t nrows, rows_cap, ncols, cols_cap;
    long long *m; /* rows_cap * cols_cap, row-major */
};

/* The row labels (nlabels) and column names a tally and a table both own. */
static void free_headings(char **labels, size_t nlabels, char **columns, size_t ncols)
{
    for (size_t i = 0; i < nlabels; i++)
        free(labels[i]);
    for (size_t i = 0; i < ncols; i++)
        free(columns[i]);
    free(labels);
    free(columns);
}

static void tally_free(struct tally *t)
{
    free_headings(t->labels, t->nrows * t->nkeys, t->columns, t->ncols);
    free(t->m);
    strmap_free(&t->rowmap);
    strmap_free(&t->colmap);
    memset(t, 0, sizeof(*t));
}

/* Makes room for one more row or column of counts; false if out of memory. */
static bool tally_reserve(struct tally *t, size_t rows, size_t cols)
{
    size_t rcap = t->rows_cap ? t->rows_cap : 16, ccap = t->cols_cap ? t->cols_cap : 8;
    long long *m;

    while (rcap < rows)
        rcap *= 2;
    while (ccap < cols)
        ccap *= 2;
    if (rcap == t->rows_cap && ccap == t->cols_cap)
        return true;
    if ((m = calloc(rcap * ccap, sizeof(*m))) == NULL)
        return false;
    for (size_t r = 0; r < t->nrows; r++)
        memcpy(m + r * ccap, t->m + r * t->cols_cap, t->ncols * sizeof(*m));
    free(t->m);
    t->m = m;
    t->rows_cap = rcap;
    t->cols_cap = ccap;
    return true;
}

/* The row of these labels (nkeys of them), added if new; -1 if out of memory. */
static long tally_row(struct tally *t, const char *const *labels)
{
    char key[KEY_MAX] = "";
    size_t used = 0, *found;
    char **grown;

    /* Labels are cut at LABEL_MAX - 1 bytes, as the scan keeps them. */
    for (size_t i = 0; i < t->nkeys; i++)
        used +=
            (size_t)snprintf(key + used, sizeof(key) - used, "%.*s\x1f", LABEL_MAX - 1, labels[i]);
    if ((found = strmap_get(&t->rowmap, key)) != NULL)
        return (long)*found;
    if (!tally_reserve(t, t->nrows + 1, t->ncols) ||
        (grown = realloc(t->labels, (t->nrows + 1) * t->nkeys * sizeof(*grown))) == NULL)
        return -1;
    t->labels = grown;
    for (size_t i = 0; i < t->nkeys; i++) {
        if ((t->labels[t->nrows * t->nkeys + i] = strdup(labels[i])) == NULL) {
            while (i-- > 0)
                free(t->labels[t->nrows * t->nkeys + i]);
            return -1;
        }
    }
    if (strmap_put(&t->rowmap, key, t->nrows) != 0) {
        for (size_t i = 0; i < t->nkeys; i++)
            free(t->labels[t->nrows * t->nkeys + i]);
        return -1;
    }
    return (long)t->nrows++;
}

/* The column called name, added if new; -1 if out of memory. */
static long tally_col(struct tally *t, const char *name)
{
    size_t *found = strmap_get(&t->colmap, name);
    char **grown, *copy;

    if (found != NULL)
        return (long)*found;
    if (!tally_reserve(t, t->nrows, t->ncols + 1) ||
        (grown = realloc(t->columns, (t->ncols + 1) * sizeof(*grown))) == NULL)
        return -1;
    t->columns = grown;
    if ((copy = strdup(name)) == NULL)
        return -1;
    if (strmap_put(&t->colmap, name, t->ncols) != 0) {
        free(copy);
        return -1;
    }
    t->columns[t->ncols] = copy;
    return (long)t->ncols++;
}

/* Adds n at (labels, column); -1 if out of memory. */
static int tally_add(struct tally *t, const char *const *labels, const char *column, long long n)
{
    long r = tally_row(t, labels), c = r >= 0 ? tally_col(t, column) : -1;

    if (c < 0)
        return -1;
    t->m[(size_t)r * t->cols_cap + (size_t)c] += n;
    return 0;
}

/* ---- from tallies to tables ----------------------------------------------------- */

/* Labels that mean "no value" sort after the values. */
static int label_cmp(const char *a, const char *b)
{
    static const char *const last[] = {"unknown", "none", "n/a"};
    int ra = 0, rb = 0;

    for (int i = 0; i < 3; i++) {
        ra = strcmp(a, last[i]) == 0 ? i + 1 : ra;
        rb = strcmp(b, last[i]) == 0 ? i + 1 : rb;
    }
    if (ra != rb)
        return ra - rb;
    return strcmp(a, b);
}

struct sort_item {
    char **labels;
    size_t nkeys, index;
};

static int sort_item_cmp(const void *pa, const void *pb)
{
    const struct sort_item *a = pa, *b = pb;

    for (size_t i = 0; i < a->nkeys; i++) {
        int c = label_cmp(a->labels[i], b->labels[i]);

        if (c != 0)
            return c;
    }
    return 0;
}

/* A permutation of n items with nkeys labels each (labels[i * nkeys ...]) in label order. */
static size_t *sorted_order(char **labels, size_t n, size_t nkeys, bool sort)
{
    struct sort_item *items = calloc(n ? n : 1, sizeof(*items));
    size_t *order = calloc(n ? n : 1, sizeof(*order));

    if (items == NULL || order == NULL) {
        free(items);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        items[i] = (struct sort_item){labels + i * nkeys, nkeys, i};
    if (sort)
        qsort(items, n, sizeof(*items), sort_item_cmp);
    for (size_t i = 0; i < n; i++)
        order[i] = items[i].index;
    free(items);
    return order;
}

static void table_free(struct report_table *t)
{
    free_headings(t->labels, t->nrows * t->nkeys, t->columns, t->ncols);
    free(t->cells);
    free(t->col_totals);
    free(t->row_totals);
    memset(t, 0, sizeof(*t));
}

/*
 * Moves a tally into out: rows in label order, columns in label order when
 * sort_cols (else as first seen), totals summed. The tally is emptied.
 */
static int tally_finish(struct tally *t, struct report_table *out, bool sort_cols, char *err)
{
    size_t *rows = NULL, *cols = NULL, R = t->nrows, C = t->ncols;

    if (R * C > REPORT_MAX_CELLS) {
        err_set(err,
                "%s: %zu rows of %zu columns are too many (at most %d cells): use fewer "
                "--by dimensions or a shorter range",
                out->name, R, C, REPORT_MAX_CELLS);
        return REPORT_TOO_LARGE;
    }
    rows = sorted_order(t->labels, R, t->nkeys, true);
    cols = sorted_order(t->columns, C, 1, sort_cols);
    out->labels = calloc(R * t->nkeys + 1, sizeof(char *));
    out->columns = calloc(C + 1, sizeof(char *));
    out->cells = calloc(R * C + 1, sizeof(struct report_cell));
    out->col_totals = calloc(C + 1, sizeof(struct report_cell));
    out->row_totals = calloc(R + 1, sizeof(struct report_cell));
    if (rows == NULL || cols == NULL || out->labels == NULL || out->columns == NULL ||
        out->cells == NULL || out->col_totals == NULL || out->row_totals == NULL) {
        free(rows);
        free(cols);
        err_set(err, "out of memory");
        return -1;
    }
    out->nrows = R;
    out->ncols = C;
    for (size_t r = 0; r < R; r++) {
        for (size_t k = 0; k < t->nkeys; k++) {
            out->labels[r * t->nkeys + k] = t->labels[rows[r] * t->nkeys + k];
            t->labels[rows[r] * t->nkeys + k] = NULL;
        }
        for (size_t c = 0; c < C; c++) {
            long long n = t->m[rows[r] * t->cols_cap + cols[c]];

            out->cells[r * C + c].n = n;
            out->row_totals[r].n += n;
            out->col_totals[c].n += n;
            out->grand.n += n;
        }
    }
    for (size_t c = 0; c < C; c++) {
        out->columns[c] = t->columns[cols[c]];
        t->columns[cols[c]] = NULL;
    }
    free(rows);
    free(cols);
    tally_free(t);
    return 0;
}

/* ---- suppression ------------------------------------------------------------------ */

/*
 * A table as a graph: every equation "these cells add up to that total" is a
 * node, every cell (totals included) an edge between the two equations it is
 * in. For an additive table: a node per row, per column, and one each for the
 * total row and the total column. For a table of independent columns: a node
 * per column, and one "ground" node for the equations that are not published
 * (rows do not add up). A hidden cell can be computed from the published ones
 * exactly when it is a bridge of the subgraph of hidden cells (the solutions
 * differ by flows around cycles of hidden cells).
 */
struct sdc_edge {
    size_t u, v;
    struct report_cell *cell;
    double extra; /* added to the cost of hiding it: totals are hidden last */
};

struct sdc {
    size_t nnodes, nedges;
    struct sdc_edge *e;
    size_t *start, *adj; /* CSR adjacency of all edges: adj holds edge indices */
};

#define COST_TOTAL 1e9  /* hide a total only when no path of inner cells protects */
#define COST_GRAND 1e10 /* the grand total last of all */
#define COST_ZERO 1e12  /* a 0 hides nothing by itself; avoid showing "x" for it */

static bool hidden(const struct report_cell *c)
{
    return c->mark != REPORT_SHOWN;
}

static void sdc_edge_add(struct sdc *g, size_t u, size_t v, struct report_cell *c, double extra)
{
    g->e[g->nedges++] = (struct sdc_edge){u, v, c, extra};
}

static int sdc_build(struct report_table *t, struct sdc *g)
{
    size_t R = t->nrows, C = t->ncols;

    memset(g, 0, sizeof(*g));
    g->nnodes = t->additive ? R + C + 2 : C + 1;
    g->e = calloc(R * C + R + C + 1, sizeof(*g->e));
    if (g->e == NULL)
        return -1;
    if (t->additive) {
        size_t total_row = R + C, total_col = R + C + 1;

        for (size_t r = 0; r < R; r++) {
            for (size_t c = 0; c < C; c++)
                sdc_edge_add(g, r, R + c, &t->cells[r * C + c], 0);
            sdc_edge_add(g, r, total_col, &t->row_totals[r], COST_TOTAL);
        }
        for (size_t c = 0; c < C; c++)
            sdc_edge_add(g, total_row, R + c, &t->col_totals[c], COST_TOTAL);
        sdc_edge_add(g, total_row, total_col, &t->grand, COST_GRAND);
    } else {
        for (size_t c = 0; c < C; c++) {
            for (size_t r = 0; r < R; r++)
                sdc_edge_add(g, c, C, &t->cells[r * C + c], 0);
            sdc_edge_add(g, c, C, &t->col_totals[c], COST_TOTAL);
        }
    }
    g->start = calloc(g->nnodes + 1, sizeof(*g->start));
    g->adj = calloc(2 * g->nedges + 1, sizeof(*g->adj));
    if (g->start == NULL || g->adj == NULL)
        return -1;
    for (size_t i = 0; i < g->nedges; i++) {
        g->start[g->e[i].u + 1]++;
        g->start[g->e[i].v + 1]++;
    }
    for (size_t n = 0; n < g->nnodes; n++)
        g->start[n + 1] += g->start[n];
    size_t *fill = calloc(g->nnodes + 1, sizeof(*fill));
    if (fill == NULL)
        return -1;
    for (size_t i = 0; i < g->nedges; i++) {
        g->adj[g->start[g->e[i].u] + fill[g->e[i].u]++] = i;
        g->adj[g->start[g->e[i].v] + fill[g->e[i].v]++] = i;
    }
    free(fill);
    return 0;
}

static void sdc_free(struct sdc *g)
{
    free(g->e);
    free(g->start);
    free(g->adj);
}

static size_t other_end(const struct sdc_edge *e, size_t n)
{
    return e->u == n ? e->v : e->u;
}

/*
 * The lowest-numbered hidden edge that is a bridge among the hidden edges,
 * or SIZE_MAX: Tarjan's bridges, iteratively, with parallel edges kept apart
 * (the edge a node was reached by is skipped, not its parent node).
 */
static size_t first_bridge(const struct sdc *g, size_t *disc, size_t *low, size_t *via, size_t *it,
                           size_t *stack)
{
    size_t best = SIZE_MAX, clock = 0;

    memset(disc, 0, g->nnodes * sizeof(*disc));
    for (size_t root = 0; root < g->nnodes; root++) {
        size_t top = 0;

        if (disc[root] != 0)
            continue;
        disc[root] = low[root] = ++clock;
        via[root] = SIZE_MAX;
        it[root] = g->start[root];
        stack[top++] = root;
        while (top > 0) {
            size_t x = stack[top - 1];

            if (it[x] < g->start[x + 1]) {
                size_t e = g->adj[it[x]++], y;

                if (e == via[x] || !hidden(g->e[e].cell))
                    continue;
                y = other_end(&g->e[e], x);
                if (disc[y] == 0) {
                    disc[y] = low[y] = ++clock;
                    via[y] = e;
                    it[y] = g->start[y];
                    stack[top++] = y;
                } else if (disc[y] < low[x]) {
                    low[x] = disc[y];
                }
                continue;
            }
            top--;
            if (top > 0) {
                size_t p = stack[top - 1];

                low[p] = low[x] < low[p] ? low[x] : low[p];
                if (low[x] > disc[p] && via[x] < best)
                    best = via[x];
            }
        }
    }
    return best;
}

static double hide_cost(const struct sdc_edge *e)
{
    if (hidden(e->cell))
        return 0;
    return (e->cell->n > 0 ? (double)e->cell->n : COST_ZERO) + e->extra;
}

struct heap_item {
    double d;
    size_t node;
};

static void heap_push(struct heap_item *h, size_t *n, struct heap_item x)
{
    size_t i = (*n)++;

    while (i > 0 && h[(i - 1) / 2].d > x.d) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static struct heap_item heap_pop(struct heap_item *h, size_t *n)
{
    struct heap_item top = h[0], last = h[--*n];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1].d < h[c].d)
            c++;
        if (h[c].d >= last.d)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0)
        h[i] = last;
    return top;
}

/*
 * Puts bridge b on a cycle: the cheapest path between its ends that avoids
 * it (hidden edges cost nothing, published ones their count) is hidden.
 * 0, or -1 if there is no such path or out of memory.
 */
static int hide_path(struct sdc *g, size_t b)
{
    size_t n = g->nnodes, nheap = 0, from = g->e[b].u, to = g->e[b].v;
    double *dist = malloc(n * sizeof(*dist));
    size_t *prev = malloc(n * sizeof(*prev));
    struct heap_item *heap = malloc((2 * g->nedges + 1) * sizeof(*heap));
    int rc = -1;

    if (dist == NULL || prev == NULL || heap == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        dist[i] = INFINITY;
        prev[i] = SIZE_MAX;
    }
    dist[from] = 0;
    heap_push(heap, &nheap, (struct heap_item){0, from});
    while (nheap > 0) {
        struct heap_item x = heap_pop(heap, &nheap);

        if (x.d > dist[x.node] || x.node == to)
            continue;
        for (size_t k = g->start[x.node]; k < g->start[x.node + 1]; k++) {
            size_t e = g->adj[k], y = other_end(&g->e[e], x.node);
            double d = x.d + hide_cost(&g->e[e]);

            if (e != b && d < dist[y]) {
                dist[y] = d;
                prev[y] = e;
                heap_push(heap, &nheap, (struct heap_item){d, y});
            }
        }
    }
    if (dist[to] == INFINITY)
        goto out;
    for (size_t y = to; y != from; y = other_end(&g->e[prev[y]], y)) {
        struct report_cell *c = g->e[prev[y]].cell;

        if (!hidden(c))
            c->mark = REPORT_HIDDEN;
    }
    rc = 0;
out:
    free(dist);
    free(prev);
    free(heap);
    return rc;
}

static void mark_primary(struct report_cell *c)
{
    c->mark = c->n >= 1 && c->n < REPORT_THRESHOLD ? REPORT_SMALL : REPORT_SHOWN;
}

int report_table_protect(struct report_table *t, char *err)
{
    size_t R = t->nrows, C = t->ncols, *scratch = NULL, b;
    struct sdc g;
    int rc = -1;

    for (size_t i = 0; i < R * C; i++)
        mark_primary(&t->cells[i]);
    for (size_t c = 0; c < C; c++)
        mark_primary(&t->col_totals[c]);
    for (size_t r = 0; t->additive && r < R; r++)
        mark_primary(&t->row_totals[r]);
    mark_primary(&t->grand);
    if (sdc_build(t, &g) != 0 || (scratch = calloc(5 * g.nnodes + 1, sizeof(*scratch))) == NULL) {
        err_set(err, "%s: out of memory", t->name);
        goto out;
    }
    while ((b = first_bridge(&g, scratch, scratch + g.nnodes, scratch + 2 * g.nnodes,
                             scratch + 3 * g.nnodes, scratch + 4 * g.nnodes)) != SIZE_MAX) {
        if (hide_path(&g, b) != 0) {
            err_set(err, "%s: a small count cannot be protected", t->name);
            goto out;
        }
    }
    rc = 0;
out:
    free(scratch);
    sdc_free(&g);
    return rc;
}

/* ---- reading the contact log ------------------------------------------------------- */

/* One conversation being read. */
struct conv {
    bool open, started, has_topic;
    char channel[LABEL_MAX], week[12], city[LABEL_MAX], lang[LABEL_MAX], topic[LABEL_MAX];
    long long opt_outs, crisis, erasures;
    char **categories; /* of its referrals, owned */
    size_t ncategories;
};

/* One contact_log row, borrowed from the statement. */
struct log_row {
    const char *hour, *period, *channel, *lang, *city, *flow, *node, *event, *pseudonym, *category;
};

struct scan {
    const struct report_query *q;
    const char *main_flow, *main_start; /* NULL: flows unknown */
    bool with_topics;
    struct tally contacts, topics, referrals, chart;
    /* The person being read: (period, pseudonym), one open conversation per channel. */
    char period[16], pseudonym[64];
    struct conv convs[CONV_CHANNELS];
    size_t *rows; /* contacts rows where this person started conversations */
    size_t nrows, rows_cap;
    long long unique_total;
    bool oom;
};

static const char *or_else(const char *s, const char *fallback)
{
    return s != NULL && s[0] != '\0' ? s : fallback;
}

static void copy_label(char *dst, const char *src)
{
    snprintf(dst, LABEL_MAX, "%s", src);
}

static void conv_labels(const struct scan *s, const struct conv *c, const char **labels)
{
    for (size_t i = 0; i < s->q->nby; i++) {
        switch (s->q->by[i]) {
        case REPORT_CITY: labels[i] = or_else(c->city, "unknown"); break;
        case REPORT_TOPIC: labels[i] = c->has_topic ? c->topic : "none"; break;
        case REPORT_WEEK: labels[i] = c->week; break;
        case REPORT_CHANNEL: labels[i] = c->channel; break;
        case REPORT_LANGUAGE: labels[i] = or_else(c->lang, "unknown"); break;
        default: labels[i] = "?"; break;
        }
    }
}

static void conv_begin(struct conv *c, const struct log_row *row)
{
    long days = 0;

    memset(c, 0, sizeof(*c));
    c->open = true;
    copy_label(c->channel, row->channel);
    if (date_days(row->hour, &days))
        days_week(days, c->week);
    else
        snprintf(c->week, sizeof(c->week), "unknown");
}

static void conv_feed(struct scan *s, struct conv *c, const struct log_row *row)
{
    if (row->city != NULL && row->city[0] != '\0')
        copy_label(c->city, row->city);
    if (row->lang != NULL && row->lang[0] != '\0')
        copy_label(c->lang, row->lang);
    if (strcmp(row->event, "session_start") == 0) {
        c->started = true;
    } else if (strcmp(row->event, "node") == 0 && c->started && !c->has_topic &&
               row->flow != NULL && row->node != NULL) {
        /* The main menu is where everyone starts: the topic is what comes after it. */
        if (s->main_flow == NULL || strcmp(row->flow, s->main_flow) != 0 ||
            strcmp(row->node, s->main_start) != 0) {
            snprintf(c->topic, sizeof(c->topic), "%.*s/%.*s", FLOW_ID_MAX, row->flow, FLOW_ID_MAX,
                     row->node);
            c->has_topic = true;
        }
    } else if (strcmp(row->event, "opt_out") == 0) {
        c->opt_outs++;
    } else if (strcmp(row->event, "crisis") == 0) {
        c->crisis++;
    } else if (strcmp(row->event, "erase") == 0) {
        c->erasures++;
    } else if (strcmp(row->event, "referral") == 0) {
        char **grown = realloc(c->categories, (c->ncategories + 1) * sizeof(*grown));

        if (grown == NULL ||
            (grown[c->ncategories] = strdup(or_else(row->category, "unknown"))) == NULL) {
            s->oom = true;
            if (grown != NULL)
                c->categories = grown;
            return;
        }
        c->categories = grown;
        c->ncategories++;
    }
}

static void add(struct scan *s, struct tally *t, const char *const *labels, const char *column,
                long long n)
{
    if (n > 0 && tally_add(t, labels, column, n) != 0)
        s->oom = true;
}

/* Counts a finished conversation into the tallies. */
static void conv_end(struct scan *s, struct conv *c)
{
    const char *labels[REPORT_NDIMS];
    const char *city = or_else(c->city, "unknown");

    conv_labels(s, c, labels);
    if (c->started) {
        long row = tally_row(&s->contacts, labels);
        size_t *grown = s->nrows == s->rows_cap
                            ? realloc(s->rows, (s->rows_cap = s->rows_cap * 2 + 8) * sizeof(*grown))
                            : s->rows;

        if (row < 0 || grown == NULL) {
            s->oom = true;
        } else {
            s->rows = grown;
            s->rows[s->nrows++] = (size_t)row;
        }
        add(s, &s->contacts, labels, "contacts", 1);
        add(s, &s->chart, &city, c->week, 1);
        if (s->with_topics && c->has_topic)
            add(s, &s->topics, labels, c->topic, 1);
    }
    add(s, &s->contacts, labels, "opt_outs", c->opt_outs);
    add(s, &s->contacts, labels, "crisis", c->crisis);
    add(s, &s->contacts, labels, "erasures", c->erasures);
    for (size_t i = 0; i < c->ncategories; i++) {
        add(s, &s->referrals, labels, c->categories[i], 1);
        free(c->categories[i]);
    }
    free(c->categories);
    memset(c, 0, sizeof(*c));
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

/* Ends the person being read: their conversations, and once per row they started one in. */
static void person_end(struct scan *s)
{
    long col;

    for (size_t i = 0; i < CONV_CHANNELS; i++) {
        if (s->convs[i].open)
            conv_end(s, &s->convs[i]);
    }
    if (s->nrows > 0) {
        s->unique_total++;
        qsort(s->rows, s->nrows, sizeof(*s->rows), cmp_size);
        if ((col = tally_col(&s->contacts, "unique_contacts")) < 0) {
            s->oom = true;
        } else {
            for (size_t i = 0; i < s->nrows; i++) {
                if (i == 0 || s->rows[i] != s->rows[i - 1])
                    s->contacts.m[s->rows[i] * s->contacts.cols_cap + (size_t)col]++;
            }
        }
    }
    s->nrows = 0;
    s->period[0] = s->pseudonym[0] = '\0';
}

/* The open conversation of this channel, or a free slot for it. */
static struct conv *conv_of(struct scan *s, const char *channel)
{
    struct conv *free_slot = NULL;

    for (size_t i = 0; i < CONV_CHANNELS; i++) {
        if (s->convs[i].open && strcmp(s->convs[i].channel, channel) == 0)
            return &s->convs[i];
        if (!s->convs[i].open && free_slot == NULL)
            free_slot = &s->convs[i];
    }
    if (free_slot == NULL) { /* more channels than slots: end the first one */
        conv_end(s, &s->convs[0]);
        free_slot = &s->convs[0];
    }
    return free_slot;
}

static void scan_row(struct scan *s, const struct log_row *row)
{
    struct conv *c;

    /* Without a pseudonym a row cannot be linked to anything: it is a person of its own. */
    if (row->pseudonym == NULL || strcmp(row->period, s->period) != 0 ||
        strcmp(row->pseudonym, s->pseudonym) != 0)
        person_end(s);
    if (row->pseudonym != NULL) {
        snprintf(s->period, sizeof(s->period), "%s", row->period);
        snprintf(s->pseudonym, sizeof(s->pseudonym), "%s", row->pseudonym);
    }
    c = conv_of(s, row->channel);
    if (c->open && strcmp(row->event, "session_start") == 0)
        conv_end(s, c);
    if (!c->open)
        conv_begin(c, row);
    conv_feed(s, c, row);
    if (row->pseudonym == NULL)
        person_end(s);
}

static const char *column_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int scan_log(sqlite3 *db, struct scan *s, char *err)
{
    char lo[32], hi[32];
    sqlite3_stmt *st = NULL;
    int rc;

    /* The USSD summary rows repeat what the session's own rows say. */
    if (sqlite3_prepare_v2(db,
                           "SELECT l.hour, l.period, l.channel, l.lang, l.city, l.flow, l.node,"
                           " l.event, l.pseudonym, CASE WHEN l.event = 'referral' THEN"
                           " coalesce(s.category, 'unknown') END"
                           " FROM contact_log l LEFT JOIN services s ON s.id = l.service_id"
                           " WHERE l.hour >= ?1 AND l.hour <= ?2"
                           " AND l.event NOT IN ('ussd_session', 'ussd_timeout')"
                           " ORDER BY l.period, l.pseudonym, l.id",
                           -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "report: read contact log: %s", sqlite3_errmsg(db));
        return -1;
    }
    snprintf(lo, sizeof(lo), "%s 00:00", s->q->from);
    snprintf(hi, sizeof(hi), "%s 23:59", s->q->to);
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !s->oom) {
        struct log_row row = {
            .hour = or_else(column_text(st, 0), ""),
            .period = or_else(column_text(st, 1), ""),
            .channel = or_else(column_text(st, 2), "unknown"),
            .lang = column_text(st, 3),
            .city = column_text(st, 4),
            .flow = column_text(st, 5),
            .node = column_text(st, 6),
            .event = or_else(column_text(st, 7), ""),
            .pseudonym = column_text(st, 8),
            .category = column_text(st, 9),
        };

        scan_row(s, &row);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        err_set(err, "report: read contact log: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    person_end(s);
    if (s->oom)
        err_set(err, "report: out of memory");
    return rc == SQLITE_DONE && !s->oom ? 0 : -1;
}

/* ---- callback requests ---------------------------------------------------------------- */

static const char *const outcomes[] = {"open",     "reached", "no_answer", "wrong_number",
                                       "referred", "merged",  "purged"};

static int scan_callbacks(sqlite3 *db, const struct report_query *q, struct tally *t, char *err)
{
    sqlite3_stmt *st = NULL;
    long from, to;
    int rc;

    for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
        if (tally_col(t, outcomes[i]) < 0) {
            err_set(err, "report: out of memory");
            return -1;
        }
    }
    date_days(q->from, &from);
    date_days(q->to, &to);
    if (sqlite3_prepare_v2(db,
                           "SELECT city, lang, created_at, coalesce(outcome,"
                           " CASE WHEN closed_at IS NULL THEN 'open' ELSE 'closed' END)"
                           " FROM callback_requests WHERE created_at >= ?1 AND created_at < ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "report: read callback requests: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, local_midnight(from));
    sqlite3_bind_int64(st, 2, local_midnight(to + 1));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *labels[REPORT_NDIMS];
        char week[12];

        days_week(local_days(sqlite3_column_int64(st, 2)), week);
        for (size_t i = 0; i < q->nby; i++) {
            labels[i] = q->by[i] == REPORT_CITY       ? or_else(column_text(st, 0), "unknown")
                        : q->by[i] == REPORT_LANGUAGE ? or_else(column_text(st, 1), "unknown")
                        : q->by[i] == REPORT_WEEK     ? week
                                                      : "n/a";
        }
        if (tally_add(t, labels, or_else(column_text(st, 3), "open"), 1) != 0) {
            err_set(err, "report: out of memory");
            break;
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        err_set(err, "report: read callback requests: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- building ----------------------------------------------------------------------------- */

static void table_init(struct report_table *t, const struct report_query *q, const char *name,
                       const char *title, bool additive)
{
    memset(t, 0, sizeof(*t));
    t->name = name;
    t->title = title;
    t->additive = additive;
    t->nkeys = q->nby;
    memcpy(t->keys, q->by, sizeof(t->keys));
}

static long find_label(const struct report_table *t, size_t key, const char *label)
{
    for (size_t r = 0; r < t->nrows; r++) {
        if (strcmp(t->labels[r * t->nkeys + key], label) == 0)
            return (long)r;
    }
    return -1;
}

static long find_column(const struct report_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++) {
        if (strcmp(t->columns[c], name) == 0)
            return (long)c;
    }
    return -1;
}

/*
 * With --by city, week or both, the contacts column shows the chart's
 * margins or cells: it takes their marks, so that both views come from one
 * protected table. Other columns are independent counts, protected alone.
 */
static int link_contacts_to_chart(struct report *r, char *err)
{
    struct report_table *t = &r->tables[0], *ch = &r->chart;
    long city_key = -1, week_key = -1, col = find_column(t, "contacts");

    for (size_t i = 0; i < r->q.nby; i++) {
        if (r->q.by[i] == REPORT_CITY)
            city_key = (long)i;
        else if (r->q.by[i] == REPORT_WEEK)
            week_key = (long)i;
        else
            return 0;
    }
    if (col < 0)
        return 0;
    for (size_t row = 0; row < t->nrows; row++) {
        struct report_cell *cell = &t->cells[row * t->ncols + (size_t)col];
        const struct report_cell *from = NULL;
        long cr = city_key >= 0 ? find_label(ch, 0, t->labels[row * t->nkeys + city_key]) : -1;
        long cc = week_key >= 0 ? find_column(ch, t->labels[row * t->nkeys + week_key]) : -1;

        if (city_key >= 0 && week_key >= 0)
            from = cr >= 0 && cc >= 0 ? &ch->cells[(size_t)cr * ch->ncols + (size_t)cc] : NULL;
        else if (city_key >= 0)
            from = cr >= 0 ? &ch->row_totals[cr] : NULL;
        else
            from = cc >= 0 ? &ch->col_totals[cc] : NULL;
        if (from == NULL ? cell->n != 0 : from->n != cell->n) {
            err_set(err, "report: contacts and chart disagree");
            return -1;
        }
        cell->mark = from != NULL ? from->mark : REPORT_SHOWN;
    }
    t->col_totals[col].mark = ch->grand.mark;
    return 0;
}

static int build_tables(sqlite3 *db, struct scan *s, struct report *r, char *err)
{
    struct report_table *contacts = &r->tables[r->ntables++];
    long unique;
    int rc;

    table_init(contacts, &r->q, "contacts", "Contacts", false);
    if ((rc = tally_finish(&s->contacts, contacts, false, err)) != 0)
        return rc;
    /* People are counted once in all, not once per row: the total is not the sum. */
    if ((unique = find_column(contacts, "unique_contacts")) >= 0)
        contacts->col_totals[unique].n = s->unique_total;
    if (s->with_topics) {
        struct report_table *t = &r->tables[r->ntables++];

        table_init(t, &r->q, "topics", "Topics: the first question after the main menu", true);
        if ((rc = tally_finish(&s->topics, t, true, err)) != 0)
            return rc;
    }
    struct report_table *referrals = &r->tables[r->ntables++];
    table_init(referrals, &r->q, "referrals", "Referrals by service category", true);
    if ((rc = tally_finish(&s->referrals, referrals, true, err)) != 0)
        return rc;
    struct tally callbacks = {.nkeys = r->q.nby};
    struct report_table *cb = &r->tables[r->ntables++];
    table_init(cb, &r->q, "callbacks", "Callback requests by outcome", true);
    if ((rc = scan_callbacks(db, &r->q, &callbacks, err)) != 0 ||
        (rc = tally_finish(&callbacks, cb, false, err)) != 0) {
        tally_free(&callbacks);
        return rc;
    }
    table_init(&r->chart, &r->q, "chart", "Contacts per week by city", true);
    r->chart.nkeys = 1;
    r->chart.keys[0] = REPORT_CITY;
    return tally_finish(&s->chart, &r->chart, false, err);
}

/* The contacts table's columns in a fixed order, and every week of the range for the chart. */
static int seed(struct scan *s)
{
    static const char *const columns[] = {"contacts", "unique_contacts", "opt_outs", "crisis",
                                          "erasures"};
    long from, to;
    char week[12], last[12] = "";

    for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++) {
        if (tally_col(&s->contacts, columns[i]) < 0)
            return -1;
    }
    date_days(s->q->from, &from);
    date_days(s->q->to, &to);
    for (long d = from; d <= to; d++) {
        days_week(d, week);
        if (strcmp(week, last) != 0 && tally_col(&s->chart, week) < 0)
            return -1;
        memcpy(last, week, sizeof(last));
    }
    return 0;
}

int report_build(sqlite3 *db, const struct flow_set *flows, const struct report_query *q,
                 struct report *r, char *err)
{
    const struct flow *main_flow = flows != NULL ? flow_set_main(flows) : NULL;
    struct scan s = {.q = &r->q};
    int rc = -1;

    memset(r, 0, sizeof(*r));
    r->q = *q;
    s.contacts.nkeys = s.topics.nkeys = s.referrals.nkeys = q->nby;
    s.chart.nkeys = 1;
    /* By topic, the contacts table already counts conversations per topic. */
    s.with_topics = true;
    for (size_t i = 0; i < q->nby; i++)
        s.with_topics &= q->by[i] != REPORT_TOPIC;
    if (main_flow != NULL) {
        s.main_flow = main_flow->id;
        s.main_start = main_flow->start;
        r->flows_known = true;
    }
    if (q->nby == 0 || q->nby > REPORT_NDIMS) {
        err_set(err, "report: no dimension to report by");
        goto out;
    }
    if (seed(&s) != 0) {
        err_set(err, "report: out of memory");
        goto out;
    }
    if (scan_log(db, &s, err) != 0 || (rc = build_tables(db, &s, r, err)) != 0) {
        rc = rc == REPORT_TOO_LARGE ? rc : -1;
        goto out;
    }
    rc = -1;
    for (size_t i = 0; i < r->ntables; i++) {
        if (report_table_protect(&r->tables[i], err) != 0)
            goto out;
    }
    if (report_table_protect(&r->chart, err) != 0 || link_contacts_to_chart(r, err) != 0)
        goto out;
    rc = 0;
out:
    for (size_t i = 0; i < CONV_CHANNELS; i++) {
        for (size_t k = 0; k < s.convs[i].ncategories; k++)
            free(s.convs[i].categories[k]);
        free(s.convs[i].categories);
    }
    free(s.rows);
    tally_free(&s.contacts);
    tally_free(&s.topics);
    tally_free(&s.referrals);
    tally_free(&s.chart);
    return rc;
}

void report_release(struct report *r)
{
    for (size_t i = 0; i < REPORT_MAX_TABLES; i++)
        table_free(&r->tables[i]);
    table_free(&r->chart);
    r->ntables = 0;
}

/* ---- formats ----------------------------------------------------------------------------------
 */

const char *report_cell_text(const struct report_cell *c, char out[24])
{
    switch (c->mark) {
    case REPORT_SMALL: snprintf(out, 24, "<%d", REPORT_THRESHOLD); break;
    case REPORT_HIDDEN: snprintf(out, 24, "x"); break;
    default: snprintf(out, 24, "%lld", c->n); break;
    }
    return out;
}

const char *report_column_label(const char *column)
{
    static const char *const labels[][2] = {
        {"contacts", "contacts"},         {"unique_contacts", "unique contacts"},
        {"opt_outs", "opt-outs"},         {"crisis", "crisis replies"},
        {"erasures", "erasures"},         {"no_answer", "no answer"},
        {"wrong_number", "wrong number"},
    };

    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (strcmp(column, labels[i][0]) == 0)
            return labels[i][1];
    }
    return column;
}

static void heading(const struct report *r, char *out, size_t cap)
{
    size_t used = (size_t)snprintf(out, cap, "Katto report %s to %s (Helsinki time), by ",
                                   r->q.from, r->q.to);

    for (size_t i = 0; i < r->q.nby && used < cap; i++)
        used +=
            (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", dim_names[r->q.by[i]]);
}

/* One table as aligned text: labels, columns, [total]; then the total row. */
static int text_one(const struct report_table *t, struct buf *out)
{
    size_t ncols = t->nkeys + t->ncols + (t->additive ? 1 : 0);
    const char **v = calloc(ncols, sizeof(*v));
    char(*num)[24] = calloc(ncols, sizeof(*num));
    struct text_table tt;
    int rc = -1;

    if (v == NULL || num == NULL || text_table_init(&tt, ncols) != 0)
        goto out;
    for (size_t c = t->nkeys; c < ncols; c++)
        text_table_align_right(&tt, c);
    for (size_t k = 0; k < t->nkeys; k++)
        v[k] = dim_names[t->keys[k]];
    for (size_t c = 0; c < t->ncols; c++)
        v[t->nkeys + c] = report_column_label(t->columns[c]);
    if (t->additive)
        v[ncols - 1] = "total";
    if (text_table_add(&tt, v) != 0)
        goto out;
    for (size_t r = 0; r <= t->nrows; r++) {
        bool total = r == t->nrows;

        for (size_t k = 0; k < t->nkeys; k++)
            v[k] = total ? (k == 0 ? "total" : "") : t->labels[r * t->nkeys + k];
        for (size_t c = 0; c < t->ncols; c++)
            v[t->nkeys + c] = report_cell_text(
                total ? &t->col_totals[c] : &t->cells[r * t->ncols + c], num[t->nkeys + c]);
        if (t->additive)
            v[ncols - 1] = report_cell_text(total ? &t->grand : &t->row_totals[r], num[ncols - 1]);
        if (text_table_add(&tt, v) != 0)
            goto out;
    }
    rc = buf_printf(out, "%s\n", t->title) != 0 || text_table_write(&tt, out) != 0 ? -1 : 0;
out:
    text_table_release(&tt);
    free(v);
    free(num);
    return rc;
}

int report_write_text(const struct report *r, struct buf *out)
{
    char head[256];

    heading(r, head, sizeof(head));
    if (buf_printf(out, "%s\n", head) != 0)
        return -1;
    for (size_t i = 0; i < r->ntables; i++) {
        if (buf_puts(out, "\n") != 0 || text_one(&r->tables[i], out) != 0)
            return -1;
        if (r->tables[i].nrows == 0 && buf_puts(out, "(nothing in this range)\n") != 0)
            return -1;
    }
    if (buf_puts(out, "\nNotes\n") != 0)
        return -1;
    for (size_t i = 0; report_notes[i] != NULL; i++) {
        if (buf_printf(out, "- %s\n", report_notes[i]) != 0)
            return -1;
    }
    return 0;
}

/* A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
static int csv_field(struct buf *out, const char *s, bool last)
{
    int rc;

    if (strpbrk(s, ",\"\r\n") == NULL) {
        rc = buf_puts(out, s);
    } else {
        rc = buf_puts(out, "\"");
        for (const char *p = s; *p != '\0' && rc == 0; p++)
            rc = *p == '"' ? buf_puts(out, "\"\"") : buf_append(out, p, 1);
        rc = rc == 0 ? buf_puts(out, "\"") : rc;
    }
    return rc == 0 ? buf_puts(out, last ? "\r\n" : ",") : rc;
}

static int csv_line(struct buf *out, const struct report_table *t, size_t row, const char *column,
                    const struct report_cell *cell)
{
    char num[24];

    if (csv_field(out, t->name, false) != 0)
        return -1;
    for (size_t k = 0; k < t->nkeys; k++) {
        if (csv_field(out, row < t->nrows ? t->labels[row * t->nkeys + k] : "total", false) != 0)
            return -1;
    }
    return csv_field(out, column, false) == 0 &&
                   csv_field(out, report_cell_text(cell, num), true) == 0
               ? 0
               : -1;
}

int report_write_csv(const struct report *r, struct buf *out)
{
    if (csv_field(out, "table", false) != 0)
        return -1;
    for (size_t k = 0; k < r->q.nby; k++) {
        if (csv_field(out, dim_names[r->q.by[k]], false) != 0)
            return -1;
    }
    if (csv_field(out, "column", false) != 0 || csv_field(out, "value", true) != 0)
        return -1;
    for (size_t i = 0; i < r->ntables; i++) {
        const struct report_table *t = &r->tables[i];

        for (size_t row = 0; row <= t->nrows; row++) {
            bool total = row == t->nrows;

            for (size_t c = 0; c < t->ncols; c++) {
                if (csv_line(out, t, row, t->columns[c],
                             total ? &t->col_totals[c] : &t->cells[row * t->ncols + c]) != 0)
                    return -1;
            }
            if (t->additive &&
                csv_line(out, t, row, "total", total ? &t->grand : &t->row_totals[row]) != 0)
                return -1;
        }
    }
    return 0;
}

static cJSON *json_cell(const struct report_cell *c)
{
    char num[24];

    if (c->mark == REPORT_SHOWN)
        return cJSON_CreateNumber((double)c->n);
    return cJSON_CreateString(report_cell_text(c, num));
}

static cJSON *json_strings(char *const *s, size_t n, size_t stride)
{
    cJSON *a = cJSON_CreateArray();

    for (size_t i = 0; a != NULL && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s[i * stride]));
    return a;
}

static cJSON *json_table(const struct report_table *t)
{
    cJSON *o = cJSON_CreateObject(), *keys, *rows, *totals;

    cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddStringToObject(o, "title", t->title);
    keys = cJSON_AddArrayToObject(o, "dimensions");
    for (size_t k = 0; k < t->nkeys; k++)
        cJSON_AddItemToArray(keys, cJSON_CreateString(dim_names[t->keys[k]]));
    cJSON_AddItemToObject(o, "columns", json_strings(t->columns, t->ncols, 1));
    cJSON_AddBoolToObject(o, "additive", t->additive);
    rows = cJSON_AddArrayToObject(o, "rows");
    for (size_t r = 0; r < t->nrows; r++) {
        cJSON *row = cJSON_CreateObject(), *values;

        cJSON_AddItemToArray(rows, row);
        cJSON_AddItemToObject(row, "key", json_strings(t->labels + r * t->nkeys, t->nkeys, 1));
        values = cJSON_AddArrayToObject(row, "values");
        for (size_t c = 0; c < t->ncols; c++)
            cJSON_AddItemToArray(values, json_cell(&t->cells[r * t->ncols + c]));
        if (t->additive)
            cJSON_AddItemToObject(row, "total", json_cell(&t->row_totals[r]));
    }
    totals = cJSON_AddArrayToObject(o, "totals");
    for (size_t c = 0; c < t->ncols; c++)
        cJSON_AddItemToArray(totals, json_cell(&t->col_totals[c]));
    if (t->additive)
        cJSON_AddItemToObject(o, "grand_total", json_cell(&t->grand));
    return o;
}

int report_write_json(const struct report *r, struct buf *out)
{
    cJSON *o = cJSON_CreateObject(), *by, *tables, *notes, *chart;
    char *text;
    int rc;

    cJSON_AddStringToObject(o, "from", r->q.from);
    cJSON_AddStringToObject(o, "to", r->q.to);
    by = cJSON_AddArrayToObject(o, "by");
    for (size_t i = 0; i < r->q.nby; i++)
        cJSON_AddItemToArray(by, cJSON_CreateString(dim_names[r->q.by[i]]));
    cJSON_AddNumberToObject(o, "threshold", REPORT_THRESHOLD);
    tables = cJSON_AddArrayToObject(o, "tables");
    for (size_t i = 0; i < r->ntables; i++)
        cJSON_AddItemToArray(tables, json_table(&r->tables[i]));
    chart = json_table(&r->chart);
    /* The chart's totals are the by-city and by-week contacts: not part of the chart. */
    cJSON_DeleteItemFromObject(chart, "totals");
    cJSON_DeleteItemFromObject(chart, "grand_total");
    for (cJSON *row = cJSON_GetObjectItem(chart, "rows")->child; row != NULL; row = row->next)
        cJSON_DeleteItemFromObject(row, "total");
    cJSON_AddItemToObject(o, "chart", chart);
    notes = cJSON_AddArrayToObject(o, "notes");
    for (size_t i = 0; report_notes[i] != NULL; i++)
        cJSON_AddItemToArray(notes, cJSON_CreateString(report_notes[i]));
    text = cJSON_Print(o);
    cJSON_Delete(o);
    if (text == NULL)
        return -1;
    rc = buf_puts(out, text) == 0 && buf_puts(out, "\n") == 0 ? 0 : -1;
    cJSON_free(text);
    return rc;
}
