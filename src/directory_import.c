/*
 * directory_import.c: postal code and service imports (see
 * directory_import.h), and what they share with the HSDS import
 * (directory_hsds.c) through directory_import_rows.h. Each import reads its
 * files whole into memory (they are small: thousands of rows), turns them
 * into rows of the target table, validates every row and reports every
 * problem, and only then writes, so a broken file never leaves a
 * half-replaced directory behind.
 *
 * Katto's service CSV and HSDS share everything after reading: both produce
 * a struct svc_set, which svc_set_import() validates (check_services) and
 * writes (replace_table).
 */
#include "directory_import.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "db.h"
#include "directory.h"
#include "directory_import_rows.h"
#include "err.h"
#include "hours.h"
#include "place.h"
#include "utf8.h"

#define ROWS_MAX 200000 /* rows of one file: a sanity bound, far above any real directory */
#define WHERE_LEN 1100  /* "path:line" */
#define LAT_MIN 59.0    /* Finland's bounding box, with a margin */
#define LAT_MAX 71.0
#define LON_MIN 19.0
#define LON_MAX 32.0
#define DATE_FORMS "YYYY, YYYY-MM or YYYY-MM-DD"

/* ---- reporting ---------------------------------------------------------- */

void import_report(struct diag *d, enum diag_severity sev, const char *file, size_t line,
                   const char *fmt, ...)
{
    char where[WHERE_LEN], msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(where, sizeof(where), "%s:%zu", file, line);
    else
        snprintf(where, sizeof(where), "%s", file);
    diag_add(d, sev, where, "", "%s", msg);
}

/* ---- small checks ------------------------------------------------------- */

static bool all_digits(const char *s)
{
    return s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
}

static bool postal_code_form(const char *s)
{
    return strlen(s) == 5 && all_digits(s);
}

/* [a-z0-9][a-z0-9-]*, at most IMPORT_ID_MAX bytes: safe in URLs, logs and SMS. */
static bool id_form(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= IMPORT_ID_MAX && strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]) &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

bool import_e164_form(const char *s)
{
    size_t n = strlen(s);

    if (s[0] == '+')
        return n >= 7 && n <= 16 && all_digits(s + 1) && s[1] != '0';
    return n >= 3 && n <= 6 && all_digits(s);
}

static bool url_form(const char *s)
{
    size_t skip = strncmp(s, "https://", 8) == 0 ? 8 : strncmp(s, "http://", 7) == 0 ? 7 : 0;

    if (skip == 0 || s[skip] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p == 0x7f)
            return false;
    }
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's algorithm). */
static long long days_from_civil(int y, int m, int d)
{
    long long yy = y - (m <= 2);
    long long era = (yy >= 0 ? yy : yy - 399) / 400;
    long long yoe = yy - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

static int number(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

bool directory_import_date(const char *s, long long *start)
{
    size_t n = strlen(s);
    int y, m = 1, day = 1;

    if ((n != 4 && n != 7 && n != 10) || strspn(s, "0123456789") < 4)
        return false;
    if (n >= 7 && (s[4] != '-' || strspn(s + 5, "0123456789") < 2))
        return false;
    if (n == 10 && (s[7] != '-' || strspn(s + 8, "0123456789") != 2))
        return false;
    y = number(s, 4);
    if (n >= 7)
        m = number(s + 5, 2);
    if (n == 10)
        day = number(s + 8, 2);
    if (y < 1900 || m < 1 || m > 12 || day < 1 || day > days_in_month(y, m))
        return false;
    if (start != NULL)
        *start = days_from_civil(y, m, day) * 86400;
    return true;
}

/* Parses a coordinate within [lo, hi]. 0, or -1 if s is not such a number. */
static int coord(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Checks a lat/lon pair: both empty, or both a point in Finland. Returns the number of errors. */
static int check_point(const char *lat, const char *lon, const char *file, size_t line,
                       struct diag *d, double *la, double *lo, bool *has)
{
    *has = false;
    if (lat[0] == '\0' && lon[0] == '\0')
        return 0;
    if (lat[0] == '\0' || lon[0] == '\0') {
        import_report(d, DIAG_ERROR, file, line, "lat and lon must be given together");
        return 1;
    }
    if (coord(lat, LAT_MIN, LAT_MAX, la) != 0) {
        import_report(d, DIAG_ERROR, file, line,
                      "lat '%.32s' is not a latitude in Finland (59..71)", lat);
        return 1;
    }
    if (coord(lon, LON_MIN, LON_MAX, lo) != 0) {
        import_report(d, DIAG_ERROR, file, line,
                      "lon '%.32s' is not a longitude in Finland (19..32)", lon);
        return 1;
    }
    *has = true;
    return 0;
}

/* ---- whole CSV files in memory ------------------------------------------ */

/* Removes spaces and tabs (and line breaks) around every field, in place. */
static void trim_fields(struct csv_row *row)
{
    for (size_t i = 0; i < row->n; i++) {
        char *s = row->fields[i];
        size_t len = strlen(s), start = strspn(s, " \t\r\n");

        while (len > start && strchr(" \t\r\n", s[len - 1]) != NULL)
            len--;
        memmove(s, s + start, len - start);
        s[len - start] = '\0';
    }
}

/* Moves row into t (row is left empty). 0, or -1 when memory runs out. */
static int table_push(struct import_table *t, struct csv_row *row)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct csv_row *bigger = realloc(t->rows, cap * sizeof(*bigger));

        if (bigger == NULL)
            return -1;
        t->rows = bigger;
        t->cap = cap;
    }
    t->rows[t->n++] = *row;
    csv_row_init(row);
    return 0;
}

/* Reports the reader's "line N: problem" as "path:N: problem". */
static void report_csv(struct diag *d, const char *path, const struct csv_reader *r,
                       const char *cerr)
{
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "line %zu: ", r->error_line);
    const char *what = plen > 0 && strncmp(cerr, prefix, (size_t)plen) == 0 ? cerr + plen : cerr;

    import_report(d, DIAG_ERROR, path, r->error_line, "%s", what);
}

/*
 * Reads the rows after the header. A row with another number of fields than
 * the header is reported and left out, and reading goes on, so that every bad
 * row is reported. Returns the number of rows left out, or -1 if the file
 * cannot be read on (broken quoting, too big).
 */
static int table_read_rows(struct import_table *t, struct csv_reader *r, struct diag *d)
{
    struct csv_row row = CSV_ROW_INIT;
    char cerr[ERR_LEN] = "";
    int rc, problems = 0;

    while ((rc = csv_read_row(r, &row, cerr)) == 1) {
        trim_fields(&row);
        if (row.n != t->header.n) {
            import_report(d, DIAG_ERROR, t->path, row.line, "%zu field%s, but the header has %zu",
                          row.n, row.n == 1 ? "" : "s", t->header.n);
            problems++;
        } else if (t->n >= ROWS_MAX) {
            import_report(d, DIAG_ERROR, t->path, row.line, "more than %d rows", ROWS_MAX);
            rc = -2;
            break;
        } else if (table_push(t, &row) != 0) {
            import_report(d, DIAG_ERROR, t->path, row.line, "out of memory");
            rc = -2;
            break;
        }
    }
    if (rc == -1)
        report_csv(d, t->path, r, cerr);
    csv_row_release(&row);
    return rc < 0 ? -1 : problems;
}

int import_table_read(struct import_table *t, const char *path, bool optional, struct diag *d)
{
    struct csv_reader r;
    char cerr[ERR_LEN] = "";
    FILE *fp;
    int rc;

    memset(t, 0, sizeof(*t));
    csv_row_init(&t->header);
    if ((t->path = strdup(path)) == NULL) {
        import_report(d, DIAG_ERROR, path, 0, "out of memory");
        return -1;
    }
    if ((fp = fopen(path, "r")) == NULL) {
        if (optional && errno == ENOENT)
            return 0;
        import_report(d, DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    t->present = true;
    csv_reader_init(&r, fp);
    rc = csv_read_row(&r, &t->header, cerr);
    if (rc == 1) {
        trim_fields(&t->header);
        rc = table_read_rows(t, &r, d);
    } else if (rc == 0) {
        import_report(d, DIAG_ERROR, path, 0, "empty file: no header row");
        rc = -1;
    } else {
        report_csv(d, path, &r, cerr);
    }
    fclose(fp);
    return rc;
}

void import_table_release(struct import_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        csv_row_release(&t->rows[i]);
    free(t->rows);
    csv_row_release(&t->header);
    free(t->path);
    memset(t, 0, sizeof(*t));
}

int import_table_column(const struct import_table *t, const char *name)
{
    return t->present ? csv_column(&t->header, name) : -1;
}

const char *import_cell(const struct csv_row *row, int col)
{
    return col >= 0 && (size_t)col < row->n ? row->fields[col] : "";
}

const char *import_field(const struct import_table *t, const struct csv_row *row, const char *name)
{
    return import_cell(row, import_table_column(t, name));
}

int import_table_require(const struct import_table *t, const char *const *names, size_t n,
                         struct diag *d)
{
    int missing = 0;

    for (size_t i = 0; i < n; i++) {
        if (import_table_column(t, names[i]) < 0) {
            import_report(d, DIAG_ERROR, t->path, t->header.line, "missing column '%s'", names[i]);
            missing++;
        }
    }
    return missing;
}

/* ---- sorted key index --------------------------------------------------- */

static int cmp_key(const void *a, const void *b)
{
    const struct import_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

static int index_init(struct import_index *ix, size_t cap)
{
    ix->n = 0;
    ix->keys = calloc(cap ? cap : 1, sizeof(*ix->keys));
    return ix->keys ? 0 : -1;
}

/* Adds key (borrowed; empty keys are left out) for row i. Capacity is the caller's. */
static void index_put(struct import_index *ix, const char *key, size_t i)
{
    if (key != NULL && key[0] != '\0')
        ix->keys[ix->n++] = (struct import_key){key, i};
}

/* Sorts by key, then row, so the first of equal keys is the earliest row. */
static void index_sort(struct import_index *ix)
{
    qsort(ix->keys, ix->n, sizeof(*ix->keys), cmp_key);
}

size_t import_index_find(const struct import_index *ix, const char *key)
{
    size_t lo = 0, hi = ix->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(ix->keys[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool import_index_at(const struct import_index *ix, size_t pos, const char *key)
{
    return pos < ix->n && strcmp(ix->keys[pos].key, key) == 0;
}

/* The first row with key, or SIZE_MAX. */
static size_t index_first(const struct import_index *ix, const char *key)
{
    size_t p = import_index_find(ix, key);

    return import_index_at(ix, p, key) ? ix->keys[p].i : SIZE_MAX;
}

int import_index_table(struct import_index *ix, const struct import_table *t, int col)
{
    if (index_init(ix, t->n) != 0)
        return -1;
    for (size_t i = 0; col >= 0 && i < t->n; i++)
        index_put(ix, import_cell(&t->rows[i], col), i);
    index_sort(ix);
    return 0;
}

void import_index_release(struct import_index *ix)
{
    free(ix->keys);
    ix->keys = NULL;
    ix->n = 0;
}

/* ---- the postal codes already in the database --------------------------- */

struct refdata {
    char **codes; /* sorted */
    size_t ncodes;
    char **munis;  /* municipality names, sorted */
    char **folded; /* utf8_fold of each */
    size_t nmunis;
};

static void strings_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

/* Runs sql, which returns one text column, into a new array. 0, or -1 with err. */
static int query_strings(sqlite3 *db, const char *sql, char ***out, size_t *n, char *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "read postal codes: %s", sqlite3_errmsg(db));
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);

        if (*n == cap) {
            char **bigger = realloc(*out, (cap = cap ? cap * 2 : 512) * sizeof(*bigger));

            if (bigger == NULL)
                break;
            *out = bigger;
        }
        if (((*out)[*n] = strdup(s ? s : "")) == NULL)
            break;
        (*n)++;
    }
    if (rc != SQLITE_DONE)
        err_set(err, "read postal codes: %s",
                rc == SQLITE_ROW ? "out of memory" : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void refdata_release(struct refdata *ref)
{
    strings_free(ref->codes, ref->ncodes);
    strings_free(ref->munis, ref->nmunis);
    strings_free(ref->folded, ref->nmunis);
    memset(ref, 0, sizeof(*ref));
}

/* Loads the postal codes and municipalities of db. 0, or -1 with err. */
static int refdata_load(sqlite3 *db, struct refdata *ref, char *err)
{
    memset(ref, 0, sizeof(*ref));
    if (query_strings(db, "SELECT postal_code FROM postal_codes ORDER BY postal_code", &ref->codes,
                      &ref->ncodes, err) != 0 ||
        query_strings(db, "SELECT DISTINCT municipality FROM postal_codes ORDER BY municipality",
                      &ref->munis, &ref->nmunis, err) != 0)
        goto fail;
    if ((ref->folded = calloc(ref->nmunis + 1, sizeof(*ref->folded))) == NULL)
        goto oom;
    for (size_t i = 0; i < ref->nmunis; i++) {
        if ((ref->folded[i] = utf8_fold(ref->munis[i])) == NULL)
            goto oom;
    }
    return 0;
oom:
    err_set(err, "read postal codes: out of memory");
fail:
    refdata_release(ref);
    return -1;
}

static int cmp_str(const void *key, const void *elem)
{
    return strcmp(key, *(char *const *)elem);
}

static bool ref_has_code(const struct refdata *ref, const char *code)
{
    return bsearch(code, ref->codes, ref->ncodes, sizeof(char *), cmp_str) != NULL;
}

static bool ref_has_municipality(const struct refdata *ref, const char *name)
{
    return bsearch(name, ref->munis, ref->nmunis, sizeof(char *), cmp_str) != NULL;
}

/* The table's spelling of municipality name, compared folded (case, accents), or NULL. */
static const char *ref_municipality_folded(const struct refdata *ref, const char *name)
{
    char *f = utf8_fold(name);
    const char *found = NULL;

    for (size_t i = 0; f != NULL && found == NULL && i < ref->nmunis; i++) {
        if (strcmp(ref->folded[i], f) == 0)
            found = ref->munis[i];
    }
    free(f);
    return found;
}

/* ---- transactions ------------------------------------------------------- */

static int record_import(sqlite3 *db, const char *kind, const char *source, size_t rows,
                         long long now, char *err)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "INSERT INTO directory_imports (kind, at, source, rows) "
                           "VALUES (?1, ?2, ?3, ?4)",
                           -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "record import: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)rows);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        err_set(err, "record import: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The last part of path, without trailing slashes, into out. */
static void base_name(const char *path, char *out, size_t size)
{
    size_t len = strlen(path);
    const char *start;

    while (len > 1 && path[len - 1] == '/')
        len--;
    start = path + len;
    while (start > path && start[-1] != '/')
        start--;
    snprintf(out, size, "%.*s", (int)(len - (size_t)(start - path)), start);
}

typedef int (*insert_fn)(sqlite3 *db, const void *rows, size_t n, char *err);

/*
 * Replaces table with rows in one transaction: delete all, insert via
 * insert(), note the import, commit. Rolls back on any failure, reporting it
 * against where. Returns 0 or DIRECTORY_IMPORT_FAILED.
 */
static int replace_table(sqlite3 *db, const char *table, insert_fn insert, const void *rows,
                         size_t n, const char *where, long long now, struct diag *d)
{
    char err[ERR_LEN] = "", sql[64], source[256];

    base_name(where, source, sizeof(source));
    snprintf(sql, sizeof(sql), "DELETE FROM %s", table);
    if (db_exec(db, "BEGIN IMMEDIATE", "begin", err) != 0) {
        import_report(d, DIAG_ERROR, where, 0, "database: %s", err);
        return DIRECTORY_IMPORT_FAILED;
    }
    if (db_exec(db, sql, "delete", err) != 0 || insert(db, rows, n, err) != 0 ||
        record_import(db, table, source, n, now, err) != 0 ||
        db_exec(db, "COMMIT", "commit", err) != 0) {
        db_exec(db, "ROLLBACK", "rollback", NULL);
        import_report(d, DIAG_ERROR, where, 0, "database: %s (nothing was changed)", err);
        return DIRECTORY_IMPORT_FAILED;
    }
    return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL && s[0] != '\0')
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* ---- postal codes ------------------------------------------------------- */

struct pc_row {
    const char *code, *name_fi, *name_sv, *municipality; /* borrowed from the table */
    bool has_point;
    double lat, lon;
};

static int insert_postal_codes(sqlite3 *db, const void *rows, size_t n, char *err)
{
    const struct pc_row *r = rows;
    sqlite3_stmt *st;
    int rc = SQLITE_DONE;

    if (sqlite3_prepare_v2(db,
                           "INSERT INTO postal_codes (postal_code, name_fi, name_sv, "
                           "municipality, lat, lon) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "insert postal codes: %s", sqlite3_errmsg(db));
        return -1;
    }
    for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
        sqlite3_bind_text(st, 1, r[i].code, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r[i].name_fi, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r[i].name_sv, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r[i].municipality, -1, SQLITE_STATIC);
        if (r[i].has_point) {
            sqlite3_bind_double(st, 5, r[i].lat);
            sqlite3_bind_double(st, 6, r[i].lon);
        } else {
            sqlite3_bind_null(st, 5);
            sqlite3_bind_null(st, 6);
        }
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            err_set(err, "insert postal code %s: %s", r[i].code, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Fills *out from row i of t and checks it. Returns the number of errors. */
static int postal_code_row(const struct import_table *t, size_t i, const struct import_index *codes,
                           struct pc_row *out, struct diag *d)
{
    const struct csv_row *row = &t->rows[i];
    size_t first;
    int errors = 0;

    out->code = import_field(t, row, "postal_code");
    out->name_fi = import_field(t, row, "name_fi");
    out->name_sv = import_field(t, row, "name_sv");
    out->municipality = import_field(t, row, "municipality");
    if (!postal_code_form(out->code)) {
        import_report(d, DIAG_ERROR, t->path, row->line, "postal code '%.16s' is not five digits",
                      out->code);
        errors++;
    } else if ((first = index_first(codes, out->code)) != i) {
        import_report(d, DIAG_ERROR, t->path, row->line,
                      "duplicate postal code %s (first on line %zu)", out->code,
                      t->rows[first].line);
        errors++;
    }
    if (out->municipality[0] == '\0') {
        import_report(d, DIAG_ERROR, t->path, row->line, "no municipality");
        errors++;
    } else if (strlen(out->municipality) >= PLACE_CITY_LEN) {
        import_report(d, DIAG_ERROR, t->path, row->line, "municipality longer than %d bytes",
                      PLACE_CITY_LEN - 1);
        errors++;
    }
    errors += check_point(import_field(t, row, "lat"), import_field(t, row, "lon"), t->path,
                          row->line, d, &out->lat, &out->lon, &out->has_point);
    return errors;
}

int directory_import_postal_codes(sqlite3 *db, const char *csv_path, long long now, struct diag *d)
{
    static const char *const required[] = {"postal_code", "name_fi", "name_sv", "municipality"};
    struct import_table t;
    struct import_index codes = {0};
    struct pc_row *rows = NULL;
    int errors = 0, rc = DIRECTORY_IMPORT_INVALID;

    if ((errors = import_table_read(&t, csv_path, false, d)) < 0 ||
        import_table_require(&t, required, sizeof(required) / sizeof(required[0]), d) != 0)
        goto done;
    if (import_index_table(&codes, &t, import_table_column(&t, "postal_code")) != 0 ||
        (rows = calloc(t.n + 1, sizeof(*rows))) == NULL) {
        import_report(d, DIAG_ERROR, csv_path, 0, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < t.n; i++)
        errors += postal_code_row(&t, i, &codes, &rows[i], d);
    if (errors == 0 && t.n == 0) {
        import_report(d, DIAG_ERROR, csv_path, 0, "no postal codes");
        errors++;
    }
    if (errors == 0)
        rc = replace_table(db, "postal_codes", insert_postal_codes, rows, t.n, csv_path, now, d);
    if (rc == 0)
        rc = (int)t.n;
done:
    free(rows);
    import_index_release(&codes);
    import_table_release(&t);
    return rc;
}

/* ---- service rows, shared by both service formats ----------------------- */

const char *svc_value(const struct svc_row *r, enum svc_field f)
{
    return r->f[f] != NULL ? r->f[f] : "";
}

int svc_row_set(struct svc_row *r, enum svc_field f, const char *value)
{
    free(r->f[f]);
    r->f[f] = NULL;
    if (value == NULL || value[0] == '\0')
        return 0;
    return (r->f[f] = strdup(value)) != NULL ? 0 : -1;
}

void svc_row_release(struct svc_row *r)
{
    for (int f = 0; f < SVC_FIELDS; f++)
        free(r->f[f]);
    free(r->source_date);
    memset(r, 0, sizeof(*r));
}

int svc_set_push(struct svc_set *s, struct svc_row *r)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct svc_row *bigger = realloc(s->rows, cap * sizeof(*bigger));

        if (bigger == NULL) {
            svc_row_release(r);
            return -1;
        }
        s->rows = bigger;
        s->cap = cap;
    }
    s->rows[s->n++] = *r;
    memset(r, 0, sizeof(*r));
    return 0;
}

void svc_set_release(struct svc_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        svc_row_release(&s->rows[i]);
    free(s->rows);
    memset(s, 0, sizeof(*s));
}

static int check_id(const struct svc_set *s, size_t i, const struct import_index *ids,
                    struct diag *d)
{
    const struct svc_row *r = &s->rows[i];
    size_t first;

    if (!id_form(svc_value(r, SVC_ID))) {
        import_report(d, DIAG_ERROR, r->file, r->line,
                      "id '%.70s' is not [a-z0-9][a-z0-9-]* of at most %d bytes",
                      svc_value(r, SVC_ID), IMPORT_ID_MAX);
        return 1;
    }
    if ((first = index_first(ids, r->f[SVC_ID])) != i) {
        import_report(d, DIAG_ERROR, r->file, r->line, "duplicate id %s (first on line %zu)",
                      r->f[SVC_ID], s->rows[first].line);
        return 1;
    }
    return 0;
}

static int check_name(const struct svc_row *r, struct diag *d)
{
    if (r->f[SVC_NAME_FI] == NULL && r->f[SVC_NAME_SV] == NULL && r->f[SVC_NAME_EN] == NULL &&
        r->f[SVC_ORGANIZATION] == NULL) {
        import_report(d, DIAG_ERROR, r->file, r->line,
                      "no name: give name_fi, name_sv, name_en or organization");
        return 1;
    }
    return 0;
}

static int check_category(const struct svc_row *r, struct diag *d)
{
    if (r->f[SVC_CATEGORY] == NULL) {
        import_report(d, DIAG_ERROR, r->file, r->line, "no category");
        return 1;
    }
    if (!directory_category_known(r->f[SVC_CATEGORY])) {
        import_report(d, DIAG_ERROR, r->file, r->line, "unknown category '%.40s'",
                      r->f[SVC_CATEGORY]);
        return 1;
    }
    return 0;
}

/*
 * City, postal code and point. The postal_codes table is consulted only when
 * it has rows; then a city_folded row's city is first given the table's
 * spelling, if it matches one ignoring case and accents.
 */
static int check_place(struct svc_row *r, const struct refdata *ref, struct diag *d)
{
    const char *known = r->city_folded && ref->nmunis > 0
                            ? ref_municipality_folded(ref, svc_value(r, SVC_CITY))
                            : NULL;
    const char *city, *code = svc_value(r, SVC_POSTAL_CODE);
    int errors = 0;

    if (known != NULL && svc_row_set(r, SVC_CITY, known) != 0) {
        import_report(d, DIAG_ERROR, r->file, r->line, "out of memory");
        return 1;
    }
    city = svc_value(r, SVC_CITY);
    if (city[0] == '\0') {
        import_report(d, DIAG_ERROR, r->file, r->line, "no city (a municipality, or \"%s\")",
                      DIRECTORY_NATIONAL);
        errors++;
    } else if (strlen(city) >= PLACE_CITY_LEN) {
        import_report(d, DIAG_ERROR, r->file, r->line, "city longer than %d bytes",
                      PLACE_CITY_LEN - 1);
        errors++;
    } else if (ref->nmunis > 0 && strcmp(city, DIRECTORY_NATIONAL) != 0 &&
               !ref_has_municipality(ref, city)) {
        import_report(d, DIAG_ERROR, r->file, r->line,
                      "city '%s' is not a municipality of the postal codes (nor \"%s\")", city,
                      DIRECTORY_NATIONAL);
        errors++;
    }
    if (code[0] != '\0' && !postal_code_form(code)) {
        import_report(d, DIAG_ERROR, r->file, r->line, "postal code '%.16s' is not five digits",
                      code);
        errors++;
    } else if (code[0] != '\0' && ref->ncodes > 0 && !ref_has_code(ref, code)) {
        import_report(d, DIAG_ERROR, r->file, r->line, "postal code %s is not in the postal codes",
                      code);
        errors++;
    }
    errors += check_point(svc_value(r, SVC_LAT), svc_value(r, SVC_LON), r->file, r->line, d,
                          &r->lat, &r->lon, &r->has_point);
    return errors;
}

static int check_phone(const struct svc_row *r, struct diag *d)
{
    const char *e164 = svc_value(r, SVC_PHONE_E164);

    if (e164[0] != '\0' && !import_e164_form(e164)) {
        import_report(
            d, DIAG_ERROR, r->file, r->line,
            "phone_e164 '%.24s' is not + and 6-15 digits, nor a short number of 3-6 digits", e164);
        return 1;
    }
    if ((r->f[SVC_PHONE] == NULL) != (r->f[SVC_PHONE_E164] == NULL)) {
        import_report(d, DIAG_ERROR, r->file, r->line,
                      "phone and phone_e164 must be given together");
        return 1;
    }
    return 0;
}

static int check_hours(const struct svc_row *r, struct diag *d)
{
    char err[ERR_LEN];
    struct hours *h;

    if (r->f[SVC_HOURS] == NULL)
        return 0;
    if ((h = hours_parse(r->f[SVC_HOURS], err)) == NULL) {
        import_report(d, DIAG_ERROR, r->file, r->line, "hours '%.60s': %s", r->f[SVC_HOURS], err);
        return 1;
    }
    hours_free(h);
    return 0;
}

/* Source URL, checked date and address_hidden. */
static int check_meta(const struct svc_row *r, struct diag *d)
{
    const char *hidden = svc_value(r, SVC_ADDRESS_HIDDEN);
    int errors = 0;

    if (r->f[SVC_SOURCE_URL] == NULL) {
        import_report(d, DIAG_ERROR, r->file, r->line, "no source_url: every row needs its source");
        errors++;
    } else if (!url_form(r->f[SVC_SOURCE_URL])) {
        import_report(d, DIAG_ERROR, r->file, r->line, "source_url '%.60s' is not an http(s) URL",
                      r->f[SVC_SOURCE_URL]);
        errors++;
    }
    if (r->f[SVC_CHECKED_ON] != NULL && !directory_import_date(r->f[SVC_CHECKED_ON], NULL)) {
        import_report(d, DIAG_ERROR, r->file, r->line, "%s '%.32s' is not a date (%s)",
                      r->checked_from ? r->checked_from : "checked", r->f[SVC_CHECKED_ON],
                      DATE_FORMS);
        errors++;
    }
    if (r->source_date != NULL && !directory_import_date(r->source_date, NULL)) {
        import_report(d, DIAG_ERROR, r->file, r->line, "source_date '%.32s' is not a date (%s)",
                      r->source_date, DATE_FORMS);
        errors++;
    }
    if (strcmp(hidden, "") != 0 && strcmp(hidden, "0") != 0 && strcmp(hidden, "1") != 0) {
        import_report(d, DIAG_ERROR, r->file, r->line, "address_hidden '%.8s' is not empty, 0 or 1",
                      hidden);
        errors++;
    }
    return errors;
}

/* Drops the address and point of rows that must not show them (never an error). */
static void hide_addresses(struct svc_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct svc_row *r = &s->rows[i];

        r->hidden = strcmp(svc_value(r, SVC_ADDRESS_HIDDEN), "1") == 0 ||
                    directory_category_hides_address(svc_value(r, SVC_CATEGORY));
        if (!r->hidden)
            continue;
        svc_row_set(r, SVC_STREET_ADDRESS, NULL);
        svc_row_set(r, SVC_POSTAL_CODE, NULL);
        svc_row_set(r, SVC_LAT, NULL);
        svc_row_set(r, SVC_LON, NULL);
        r->has_point = false;
    }
}

/* Validates every row of s, reporting each problem. Returns the number of errors. */
static int check_services(struct svc_set *s, const struct refdata *ref, struct diag *d)
{
    struct import_index ids;
    int errors = 0;

    if (index_init(&ids, s->n) != 0) {
        diag_add(d, DIAG_ERROR, "", "", "out of memory");
        return 1;
    }
    for (size_t i = 0; i < s->n; i++)
        index_put(&ids, s->rows[i].f[SVC_ID], i);
    index_sort(&ids);
    for (size_t i = 0; i < s->n; i++) {
        struct svc_row *r = &s->rows[i];

        errors += check_id(s, i, &ids, d) + check_name(r, d) + check_category(r, d) +
                  check_place(r, ref, d) + check_phone(r, d) + check_hours(r, d) + check_meta(r, d);
    }
    import_index_release(&ids);
    hide_addresses(s);
    return errors;
}

static int insert_services(sqlite3 *db, const void *rows, size_t n, char *err)
{
    const struct svc_row *r = rows;
    sqlite3_stmt *st;
    int rc = SQLITE_DONE;

    if (sqlite3_prepare_v2(db,
                           "INSERT INTO services (id, name_fi, name_sv, name_en, organization, "
                           "city, category, street_address, postal_code, lat, lon, phone, "
                           "phone_e164, hours, hours_text, address_hidden, source_url, "
                           "checked_on, notes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                           "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                           -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "insert services: %s", sqlite3_errmsg(db));
        return -1;
    }
    for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
        for (int f = 0; f < SVC_FIELDS; f++)
            bind_text_or_null(st, f + 1, r[i].f[f]);
        if (r[i].has_point) {
            sqlite3_bind_double(st, SVC_LAT + 1, r[i].lat);
            sqlite3_bind_double(st, SVC_LON + 1, r[i].lon);
        }
        sqlite3_bind_int(st, SVC_ADDRESS_HIDDEN + 1, r[i].hidden ? 1 : 0);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            err_set(err, "insert service %s: %s", r[i].f[SVC_ID], sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int svc_set_import(sqlite3 *db, struct svc_set *s, const char *where, long long now, struct diag *d,
                   int errors)
{
    struct refdata ref;
    char err[ERR_LEN];
    int rc;

    if (refdata_load(db, &ref, err) != 0) {
        import_report(d, DIAG_ERROR, where, 0, "database: %s", err);
        return DIRECTORY_IMPORT_FAILED;
    }
    if (ref.ncodes == 0)
        import_report(d, DIAG_WARNING, where, 0,
                      "the postal_codes table is empty: cities and postal codes were not checked "
                      "(katto import postal-codes FILE)");
    errors += check_services(s, &ref, d);
    refdata_release(&ref);
    if (errors == 0 && s->n == 0) {
        import_report(d, DIAG_ERROR, where, 0, "no services");
        errors++;
    }
    if (errors > 0)
        return DIRECTORY_IMPORT_INVALID;
    rc = replace_table(db, "services", insert_services, s->rows, s->n, where, now, d);
    return rc == 0 ? (int)s->n : rc;
}

/* ---- Katto's service CSV ------------------------------------------------ */

static const struct {
    const char *column;
    enum svc_field field;
} csv_columns[] = {
    {"id", SVC_ID},
    {"name_fi", SVC_NAME_FI},
    {"name_sv", SVC_NAME_SV},
    {"name_en", SVC_NAME_EN},
    {"organization", SVC_ORGANIZATION},
    {"city", SVC_CITY},
    {"category", SVC_CATEGORY},
    {"street_address", SVC_STREET_ADDRESS},
    {"postal_code", SVC_POSTAL_CODE},
    {"lat", SVC_LAT},
    {"lon", SVC_LON},
    {"phone", SVC_PHONE},
    {"phone_e164", SVC_PHONE_E164},
    {"hours", SVC_HOURS},
    {"opening_hours", SVC_HOURS_TEXT},
    {"address_hidden", SVC_ADDRESS_HIDDEN},
    {"source_url", SVC_SOURCE_URL},
    {"notes", SVC_NOTES},
};

/*
 * checked_on is the date the information is known to hold: `checked` when
 * someone has checked the row, else the source's own date. A source_date
 * that is overridden is kept aside and still checked, so a typo there does
 * not linger. 0, or -1 when memory runs out.
 */
static int csv_checked_on(const struct import_table *t, const struct csv_row *row,
                          struct svc_row *r)
{
    const char *checked = import_field(t, row, "checked"),
               *source = import_field(t, row, "source_date");

    if (checked[0] == '\0') {
        r->checked_from = "source_date";
        return svc_row_set(r, SVC_CHECKED_ON, source);
    }
    r->checked_from = "checked";
    if (source[0] != '\0' && (r->source_date = strdup(source)) == NULL)
        return -1;
    return svc_row_set(r, SVC_CHECKED_ON, checked);
}

/* Turns the rows of t into s. 0, or -1 when memory runs out (reported). */
static int services_from_csv(const struct import_table *t, struct svc_set *s, struct diag *d)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct csv_row *row = &t->rows[i];
        struct svc_row r = {.file = t->path, .line = row->line};
        int bad = csv_checked_on(t, row, &r);

        for (size_t c = 0; c < sizeof(csv_columns) / sizeof(csv_columns[0]); c++)
            bad |=
                svc_row_set(&r, csv_columns[c].field, import_field(t, row, csv_columns[c].column));
        if (bad != 0 || svc_set_push(s, &r) != 0) {
            svc_row_release(&r);
            import_report(d, DIAG_ERROR, t->path, row->line, "out of memory");
            return -1;
        }
    }
    return 0;
}

int directory_import_services(sqlite3 *db, const char *csv_path, long long now, struct diag *d)
{
    static const char *const required[] = {"id", "city", "category", "source_url"};
    struct import_table t;
    struct svc_set s = {0};
    int rc = DIRECTORY_IMPORT_INVALID, errors;

    if ((errors = import_table_read(&t, csv_path, false, d)) >= 0 &&
        import_table_require(&t, required, sizeof(required) / sizeof(required[0]), d) == 0) {
        if (services_from_csv(&t, &s, d) == 0)
            rc = svc_set_import(db, &s, csv_path, now, d, errors);
    }
    svc_set_release(&s);
    import_table_release(&t);
    return rc;
}

/* ---- seeding ------------------------------------------------------------ */

/* Rows in table, or -1 with err. */
static long long table_rows(sqlite3 *db, const char *table, char *err)
{
    char sql[64];
    sqlite3_stmt *st;
    long long n = -1;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "count %s: %s", table, sqlite3_errmsg(db));
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    else
        err_set(err, "count %s: %s", table, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return n;
}

/* The first error of d as "file: message" into err. */
static void first_error(const struct diag *d, char *err)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->entries[i].severity == DIAG_ERROR) {
            err_set(err, "%s: %s", d->entries[i].file, d->entries[i].message);
            return;
        }
    }
    err_set(err, "import failed");
}

typedef int (*import_fn)(sqlite3 *db, const char *path, long long now, struct diag *d);

/* Imports path into table if the table is empty. 0, or -1 with err. */
static int seed_one(sqlite3 *db, const char *table, const char *path, import_fn import,
                    long long now, char *err)
{
    struct diag d = {0};
    long long rows;
    int rc = 0;

    if (path == NULL || path[0] == '\0')
        return 0;
    if ((rows = table_rows(db, table, err)) < 0)
        return -1;
    if (rows == 0 && import(db, path, now, &d) < 0) {
        first_error(&d, err);
        rc = -1;
    }
    diag_release(&d);
    return rc;
}

int directory_import_seed(sqlite3 *db, const char *postal_csv, const char *services_csv,
                          long long now, char *err)
{
    if (seed_one(db, "postal_codes", postal_csv, directory_import_postal_codes, now, err) != 0)
        return -1;
    return seed_one(db, "services", services_csv, directory_import_services, now, err);
}
