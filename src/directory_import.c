/*
 * directory_import.c: postal code, service and HSDS imports (see
 * directory_import.h). Each import reads its files whole into memory (they
 * are small: thousands of rows), turns them into rows of the target table,
 * validates every row and reports every problem, and only then writes, so a
 * broken file never leaves a half-replaced directory behind.
 *
 * Katto's service CSV and HSDS share everything after reading: both produce
 * a struct svc_set, which import_service_set() validates (check_services)
 * and writes (replace_table).
 *
 * HSDS mapping (one Katto row per service and location):
 * - id: "hsds-" + a slug of the service id ([a-z0-9-], accents folded), plus
 *   "-" + a slug of the location id when the service has several locations;
 *   ids over 63 bytes are cut and end in a hash of the whole, and a clash gets
 *   "-2", "-3"... The HSDS ids are kept in notes so a row can be traced.
 * - name_fi: services.name. HSDS has one name per service; a non-standard
 *   `language` column of services.csv ("sv", "en") puts it in name_sv or
 *   name_en instead. organization: organizations.name.
 * - category: a taxonomy term linked to the service (3.0: attributes.csv with
 *   link_id = service and taxonomy_term_id; 2.0: service_taxonomy.csv) whose
 *   code or name is one of Katto's categories (case, spaces and hyphens
 *   ignored); a 2.0 taxonomy_id or taxonomy_detail that is a category name
 *   also counts. None is an error for that service.
 * - city, street_address, postal_code: the location's physical address
 *   (addresses.csv or physical_addresses.csv; address_1 and address_2; city,
 *   or locality), else its postal address for the city only. The city must be
 *   a municipality of postal_codes; case and accents are forgiven and the
 *   table's spelling is stored. lat/lon: locations.latitude/longitude.
 * - phone: phones.number of the service at that location, else of the
 *   service, else of the location, else of the organization (not faxes);
 *   phone_e164 is derived from it as the shipped data was: "(0)" and
 *   separators dropped, a leading 0 becomes +358, 00 becomes +.
 * - hours: the schedules of the service at that location, else of the
 *   service, else of the location, turned into hours.h's format. Schedules not
 *   valid today (valid_from/valid_to) are ignored. A schedule that cannot be
 *   expressed (monthly, every other week, a UTC time...) leaves hours empty
 *   with a warning. hours_text: the schedules' descriptions.
 * - source_url: services.url, else organizations.website (2.0: url).
 *   checked_on: services.assured_date, else the date of last_modified.
 * - Services whose status is inactive, defunct or temporarily closed are
 *   skipped with a warning.
 */
#include "directory_import.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "db.h"
#include "directory.h"
#include "err.h"
#include "hours.h"
#include "place.h"
#include "utf8.h"

#define ID_MAX 63       /* bytes of a service id */
#define ROWS_MAX 200000 /* rows of one file: a sanity bound, far above any real directory */
#define WHERE_LEN 1100  /* "path:line" */
#define LAT_MIN 59.0    /* Finland's bounding box, with a margin */
#define LAT_MAX 71.0
#define LON_MIN 19.0
#define LON_MAX 32.0
#define HIDDEN_CATEGORY "violence_shelter" /* directory_category_hides_address() */
#define DATE_FORMS "YYYY, YYYY-MM or YYYY-MM-DD"

/* The categories of directory.h, kept here so imports do not depend on directory.c. */
#define X(name) #name,
static const char *const categories[] = {DIRECTORY_CATEGORIES(X)};
#undef X

static const char *category_find(const char *name)
{
    for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++) {
        if (strcmp(categories[i], name) == 0)
            return categories[i];
    }
    return NULL;
}

/* ---- reporting ---------------------------------------------------------- */

static void report(struct diag *d, enum diag_severity sev, const char *file, size_t line,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Adds "file:line: message" (or "file: message" for line 0) to d. */
static void report(struct diag *d, enum diag_severity sev, const char *file, size_t line,
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

/* [a-z0-9][a-z0-9-]*, at most ID_MAX bytes: safe in URLs, logs and SMS. */
static bool id_form(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= ID_MAX && strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]) &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* "+" and 6-15 digits (E.164), or a short national number of 3-6 digits (112, 116117). */
static bool e164_form(const char *s)
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
        report(d, DIAG_ERROR, file, line, "lat and lon must be given together");
        return 1;
    }
    if (coord(lat, LAT_MIN, LAT_MAX, la) != 0) {
        report(d, DIAG_ERROR, file, line, "lat '%.32s' is not a latitude in Finland (59..71)", lat);
        return 1;
    }
    if (coord(lon, LON_MIN, LON_MAX, lo) != 0) {
        report(d, DIAG_ERROR, file, line, "lon '%.32s' is not a longitude in Finland (19..32)",
               lon);
        return 1;
    }
    *has = true;
    return 0;
}

/* ---- whole CSV files in memory ------------------------------------------ */

struct table {
    char *path; /* for messages */
    struct csv_row header;
    struct csv_row *rows;
    size_t n, cap;
    bool present; /* the file exists */
};

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
static int table_push(struct table *t, struct csv_row *row)
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

    report(d, DIAG_ERROR, path, r->error_line, "%s", what);
}

/*
 * Reads the rows after the header. A row with another number of fields than
 * the header is reported and left out, and reading goes on, so that every bad
 * row is reported. Returns the number of rows left out, or -1 if the file
 * cannot be read on (broken quoting, too big).
 */
static int table_read_rows(struct table *t, struct csv_reader *r, struct diag *d)
{
    struct csv_row row = CSV_ROW_INIT;
    char cerr[ERR_LEN] = "";
    int rc, problems = 0;

    while ((rc = csv_read_row(r, &row, cerr)) == 1) {
        trim_fields(&row);
        if (row.n != t->header.n) {
            report(d, DIAG_ERROR, t->path, row.line, "%zu field%s, but the header has %zu", row.n,
                   row.n == 1 ? "" : "s", t->header.n);
            problems++;
        } else if (t->n >= ROWS_MAX) {
            report(d, DIAG_ERROR, t->path, row.line, "more than %d rows", ROWS_MAX);
            rc = -2;
            break;
        } else if (table_push(t, &row) != 0) {
            report(d, DIAG_ERROR, t->path, row.line, "out of memory");
            rc = -2;
            break;
        }
    }
    if (rc == -1)
        report_csv(d, t->path, r, cerr);
    csv_row_release(&row);
    return rc < 0 ? -1 : problems;
}

/*
 * Reads the CSV file at path whole into t. A file that does not exist is no
 * problem when optional (t->present stays false). Returns the number of rows
 * left out for having the wrong number of fields, or -1 if the file cannot be
 * read; the problems are reported to d. t must be released either way.
 */
static int table_read(struct table *t, const char *path, bool optional, struct diag *d)
{
    struct csv_reader r;
    char cerr[ERR_LEN] = "";
    FILE *fp;
    int rc;

    memset(t, 0, sizeof(*t));
    csv_row_init(&t->header);
    if ((t->path = strdup(path)) == NULL) {
        report(d, DIAG_ERROR, path, 0, "out of memory");
        return -1;
    }
    if ((fp = fopen(path, "r")) == NULL) {
        if (optional && errno == ENOENT)
            return 0;
        report(d, DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    t->present = true;
    csv_reader_init(&r, fp);
    rc = csv_read_row(&r, &t->header, cerr);
    if (rc == 1) {
        trim_fields(&t->header);
        rc = table_read_rows(t, &r, d);
    } else if (rc == 0) {
        report(d, DIAG_ERROR, path, 0, "empty file: no header row");
        rc = -1;
    } else {
        report_csv(d, path, &r, cerr);
    }
    fclose(fp);
    return rc;
}

static void table_release(struct table *t)
{
    for (size_t i = 0; i < t->n; i++)
        csv_row_release(&t->rows[i]);
    free(t->rows);
    csv_row_release(&t->header);
    free(t->path);
    memset(t, 0, sizeof(*t));
}

/* Index of column name, or -1 (also when the file is absent). */
static int column(const struct table *t, const char *name)
{
    return t->present ? csv_column(&t->header, name) : -1;
}

/* The first of two alternative column names (HSDS versions) that the header has. */
static int column2(const struct table *t, const char *name, const char *alt)
{
    int c = column(t, name);

    return c >= 0 ? c : column(t, alt);
}

/* Field col of row, "" for a missing column. */
static const char *cell(const struct csv_row *row, int col)
{
    return col >= 0 && (size_t)col < row->n ? row->fields[col] : "";
}

/* Field named name of row. */
static const char *field(const struct table *t, const struct csv_row *row, const char *name)
{
    return cell(row, column(t, name));
}

/* Reports each column of names[] that the header lacks. Returns the number missing. */
static int table_require(const struct table *t, const char *const *names, size_t n, struct diag *d)
{
    int missing = 0;

    for (size_t i = 0; i < n; i++) {
        if (column(t, names[i]) < 0) {
            report(d, DIAG_ERROR, t->path, t->header.line, "missing column '%s'", names[i]);
            missing++;
        }
    }
    return missing;
}

/* ---- sorted key index --------------------------------------------------- */

struct keyref {
    const char *key; /* borrowed */
    size_t i;        /* row number in the indexed array */
};

struct keyindex {
    struct keyref *refs;
    size_t n;
};

static int cmp_keyref(const void *a, const void *b)
{
    const struct keyref *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

static int keyindex_init(struct keyindex *ix, size_t cap)
{
    ix->n = 0;
    ix->refs = calloc(cap ? cap : 1, sizeof(*ix->refs));
    return ix->refs ? 0 : -1;
}

/* Adds key (borrowed; empty keys are left out) for row i. Capacity is the caller's. */
static void keyindex_put(struct keyindex *ix, const char *key, size_t i)
{
    if (key != NULL && key[0] != '\0')
        ix->refs[ix->n++] = (struct keyref){key, i};
}

/* Sorts by key, then row, so the first of equal keys is the earliest row. */
static void keyindex_sort(struct keyindex *ix)
{
    qsort(ix->refs, ix->n, sizeof(*ix->refs), cmp_keyref);
}

/* Position of the first ref with key, or where it would go. */
static size_t keyindex_find(const struct keyindex *ix, const char *key)
{
    size_t lo = 0, hi = ix->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(ix->refs[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* True if the ref at pos has key: for (p = keyindex_find(); keyindex_at(ix, p, key); p++). */
static bool keyindex_at(const struct keyindex *ix, size_t pos, const char *key)
{
    return pos < ix->n && strcmp(ix->refs[pos].key, key) == 0;
}

/* The first row with key, or SIZE_MAX. */
static size_t keyindex_first(const struct keyindex *ix, const char *key)
{
    size_t p = keyindex_find(ix, key);

    return keyindex_at(ix, p, key) ? ix->refs[p].i : SIZE_MAX;
}

/* Indexes the rows of t by column col (none when col < 0). */
static int keyindex_table(struct keyindex *ix, const struct table *t, int col)
{
    if (keyindex_init(ix, t->n) != 0)
        return -1;
    for (size_t i = 0; col >= 0 && i < t->n; i++)
        keyindex_put(ix, cell(&t->rows[i], col), i);
    keyindex_sort(ix);
    return 0;
}

static void keyindex_release(struct keyindex *ix)
{
    free(ix->refs);
    ix->refs = NULL;
    ix->n = 0;
}

/* ---- the postal codes already in the database ---------------------------- */

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
        report(d, DIAG_ERROR, where, 0, "database: %s", err);
        return DIRECTORY_IMPORT_FAILED;
    }
    if (db_exec(db, sql, "delete", err) != 0 || insert(db, rows, n, err) != 0 ||
        record_import(db, table, source, n, now, err) != 0 ||
        db_exec(db, "COMMIT", "commit", err) != 0) {
        db_exec(db, "ROLLBACK", "rollback", NULL);
        report(d, DIAG_ERROR, where, 0, "database: %s (nothing was changed)", err);
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
static int postal_code_row(const struct table *t, size_t i, const struct keyindex *codes,
                           struct pc_row *out, struct diag *d)
{
    const struct csv_row *row = &t->rows[i];
    size_t first;
    int errors = 0;

    out->code = field(t, row, "postal_code");
    out->name_fi = field(t, row, "name_fi");
    out->name_sv = field(t, row, "name_sv");
    out->municipality = field(t, row, "municipality");
    if (!postal_code_form(out->code)) {
        report(d, DIAG_ERROR, t->path, row->line, "postal code '%.16s' is not five digits",
               out->code);
        errors++;
    } else if ((first = keyindex_first(codes, out->code)) != i) {
        report(d, DIAG_ERROR, t->path, row->line, "duplicate postal code %s (first on line %zu)",
               out->code, t->rows[first].line);
        errors++;
    }
    if (out->municipality[0] == '\0') {
        report(d, DIAG_ERROR, t->path, row->line, "no municipality");
        errors++;
    } else if (strlen(out->municipality) >= PLACE_CITY_LEN) {
        report(d, DIAG_ERROR, t->path, row->line, "municipality longer than %d bytes",
               PLACE_CITY_LEN - 1);
        errors++;
    }
    errors += check_point(field(t, row, "lat"), field(t, row, "lon"), t->path, row->line, d,
                          &out->lat, &out->lon, &out->has_point);
    return errors;
}

int directory_import_postal_codes(sqlite3 *db, const char *csv_path, long long now, struct diag *d)
{
    static const char *const required[] = {"postal_code", "name_fi", "name_sv", "municipality"};
    struct table t;
    struct keyindex codes = {0};
    struct pc_row *rows = NULL;
    int errors = 0, rc = DIRECTORY_IMPORT_INVALID;

    if ((errors = table_read(&t, csv_path, false, d)) < 0 ||
        table_require(&t, required, sizeof(required) / sizeof(required[0]), d) != 0)
        goto done;
    if (keyindex_table(&codes, &t, column(&t, "postal_code")) != 0 ||
        (rows = calloc(t.n + 1, sizeof(*rows))) == NULL) {
        report(d, DIAG_ERROR, csv_path, 0, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < t.n; i++)
        errors += postal_code_row(&t, i, &codes, &rows[i], d);
    if (errors == 0 && t.n == 0) {
        report(d, DIAG_ERROR, csv_path, 0, "no postal codes");
        errors++;
    }
    if (errors == 0)
        rc = replace_table(db, "postal_codes", insert_postal_codes, rows, t.n, csv_path, now, d);
    if (rc == 0)
        rc = (int)t.n;
done:
    free(rows);
    keyindex_release(&codes);
    table_release(&t);
    return rc;
}

/* ---- service rows, shared by both service formats ----------------------- */

/* The columns of the services table, in the order of the INSERT. */
enum svc_field {
    F_ID,
    F_NAME_FI,
    F_NAME_SV,
    F_NAME_EN,
    F_ORGANIZATION,
    F_CITY,
    F_CATEGORY,
    F_STREET_ADDRESS,
    F_POSTAL_CODE,
    F_LAT,
    F_LON,
    F_PHONE,
    F_PHONE_E164,
    F_HOURS,
    F_HOURS_TEXT,
    F_ADDRESS_HIDDEN,
    F_SOURCE_URL,
    F_CHECKED_ON,
    F_NOTES,
    F_COUNT
};

struct svc_row {
    char *f[F_COUNT];         /* owned; NULL when empty */
    const char *file;         /* borrowed: where the row came from, for messages */
    size_t line;              /* its line there */
    const char *checked_from; /* name of the column checked_on came from */
    char *source_date;        /* owned: a source_date that `checked` overrides, still checked */
    bool hidden;              /* set by check_services: address and point are dropped */
    bool has_point;
    double lat, lon;
};

struct svc_set {
    struct svc_row *rows;
    size_t n, cap;
};

static const char *fv(const struct svc_row *r, enum svc_field f)
{
    return r->f[f] != NULL ? r->f[f] : "";
}

/* Sets field f of r to a copy of value (NULL when empty). 0, or -1 when memory runs out. */
static int svc_set_field(struct svc_row *r, enum svc_field f, const char *value)
{
    free(r->f[f]);
    r->f[f] = NULL;
    if (value == NULL || value[0] == '\0')
        return 0;
    return (r->f[f] = strdup(value)) != NULL ? 0 : -1;
}

static void svc_row_release(struct svc_row *r)
{
    for (int f = 0; f < F_COUNT; f++)
        free(r->f[f]);
    free(r->source_date);
    memset(r, 0, sizeof(*r));
}

/* Moves *r into s (r is left empty). 0, or -1 when memory runs out (r is released). */
static int svc_set_push(struct svc_set *s, struct svc_row *r)
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

static void svc_set_release(struct svc_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        svc_row_release(&s->rows[i]);
    free(s->rows);
    memset(s, 0, sizeof(*s));
}

static int check_id(const struct svc_set *s, size_t i, const struct keyindex *ids, struct diag *d)
{
    const struct svc_row *r = &s->rows[i];
    size_t first;

    if (!id_form(fv(r, F_ID))) {
        report(d, DIAG_ERROR, r->file, r->line,
               "id '%.70s' is not [a-z0-9][a-z0-9-]* of at most %d bytes", fv(r, F_ID), ID_MAX);
        return 1;
    }
    if ((first = keyindex_first(ids, r->f[F_ID])) != i) {
        report(d, DIAG_ERROR, r->file, r->line, "duplicate id %s (first on line %zu)", r->f[F_ID],
               s->rows[first].line);
        return 1;
    }
    return 0;
}

static int check_name(const struct svc_row *r, struct diag *d)
{
    if (r->f[F_NAME_FI] == NULL && r->f[F_NAME_SV] == NULL && r->f[F_NAME_EN] == NULL &&
        r->f[F_ORGANIZATION] == NULL) {
        report(d, DIAG_ERROR, r->file, r->line,
               "no name: give name_fi, name_sv, name_en or organization");
        return 1;
    }
    return 0;
}

static int check_category(const struct svc_row *r, struct diag *d)
{
    if (r->f[F_CATEGORY] == NULL) {
        report(d, DIAG_ERROR, r->file, r->line, "no category");
        return 1;
    }
    if (category_find(r->f[F_CATEGORY]) == NULL) {
        report(d, DIAG_ERROR, r->file, r->line, "unknown category '%.40s'", r->f[F_CATEGORY]);
        return 1;
    }
    return 0;
}

/* City, postal code and point. The postal_codes table is consulted only when it has rows. */
static int check_place(struct svc_row *r, const struct refdata *ref, struct diag *d)
{
    const char *city = fv(r, F_CITY), *code = fv(r, F_POSTAL_CODE);
    int errors = 0;

    if (city[0] == '\0') {
        report(d, DIAG_ERROR, r->file, r->line, "no city (a municipality, or \"%s\")",
               DIRECTORY_NATIONAL);
        errors++;
    } else if (strlen(city) >= PLACE_CITY_LEN) {
        report(d, DIAG_ERROR, r->file, r->line, "city longer than %d bytes", PLACE_CITY_LEN - 1);
        errors++;
    } else if (ref->nmunis > 0 && strcmp(city, DIRECTORY_NATIONAL) != 0 &&
               !ref_has_municipality(ref, city)) {
        report(d, DIAG_ERROR, r->file, r->line,
               "city '%s' is not a municipality of the postal codes (nor \"%s\")", city,
               DIRECTORY_NATIONAL);
        errors++;
    }
    if (code[0] != '\0' && !postal_code_form(code)) {
        report(d, DIAG_ERROR, r->file, r->line, "postal code '%.16s' is not five digits", code);
        errors++;
    } else if (code[0] != '\0' && ref->ncodes > 0 && !ref_has_code(ref, code)) {
        report(d, DIAG_ERROR, r->file, r->line, "postal code %s is not in the postal codes", code);
        errors++;
    }
    errors += check_point(fv(r, F_LAT), fv(r, F_LON), r->file, r->line, d, &r->lat, &r->lon,
                          &r->has_point);
    return errors;
}

static int check_phone(const struct svc_row *r, struct diag *d)
{
    const char *e164 = fv(r, F_PHONE_E164);

    if (e164[0] != '\0' && !e164_form(e164)) {
        report(d, DIAG_ERROR, r->file, r->line,
               "phone_e164 '%.24s' is not + and 6-15 digits, nor a short number of 3-6 digits",
               e164);
        return 1;
    }
    if ((r->f[F_PHONE] == NULL) != (r->f[F_PHONE_E164] == NULL)) {
        report(d, DIAG_ERROR, r->file, r->line, "phone and phone_e164 must be given together");
        return 1;
    }
    return 0;
}

static int check_hours(const struct svc_row *r, struct diag *d)
{
    char err[ERR_LEN];
    struct hours *h;

    if (r->f[F_HOURS] == NULL)
        return 0;
    if ((h = hours_parse(r->f[F_HOURS], err)) == NULL) {
        report(d, DIAG_ERROR, r->file, r->line, "hours '%.60s': %s", r->f[F_HOURS], err);
        return 1;
    }
    hours_free(h);
    return 0;
}

/* Source URL, checked date and address_hidden. */
static int check_meta(const struct svc_row *r, struct diag *d)
{
    const char *hidden = fv(r, F_ADDRESS_HIDDEN);
    int errors = 0;

    if (r->f[F_SOURCE_URL] == NULL) {
        report(d, DIAG_ERROR, r->file, r->line, "no source_url: every row needs its source");
        errors++;
    } else if (!url_form(r->f[F_SOURCE_URL])) {
        report(d, DIAG_ERROR, r->file, r->line, "source_url '%.60s' is not an http(s) URL",
               r->f[F_SOURCE_URL]);
        errors++;
    }
    if (r->f[F_CHECKED_ON] != NULL && !directory_import_date(r->f[F_CHECKED_ON], NULL)) {
        report(d, DIAG_ERROR, r->file, r->line, "%s '%.32s' is not a date (%s)",
               r->checked_from ? r->checked_from : "checked", r->f[F_CHECKED_ON], DATE_FORMS);
        errors++;
    }
    if (r->source_date != NULL && !directory_import_date(r->source_date, NULL)) {
        report(d, DIAG_ERROR, r->file, r->line, "source_date '%.32s' is not a date (%s)",
               r->source_date, DATE_FORMS);
        errors++;
    }
    if (strcmp(hidden, "") != 0 && strcmp(hidden, "0") != 0 && strcmp(hidden, "1") != 0) {
        report(d, DIAG_ERROR, r->file, r->line, "address_hidden '%.8s' is not empty, 0 or 1",
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

        r->hidden = strcmp(fv(r, F_ADDRESS_HIDDEN), "1") == 0 ||
                    strcmp(fv(r, F_CATEGORY), HIDDEN_CATEGORY) == 0;
        if (!r->hidden)
            continue;
        svc_set_field(r, F_STREET_ADDRESS, NULL);
        svc_set_field(r, F_POSTAL_CODE, NULL);
        svc_set_field(r, F_LAT, NULL);
        svc_set_field(r, F_LON, NULL);
        r->has_point = false;
    }
}

/* Validates every row of s, reporting each problem. Returns the number of errors. */
static int check_services(struct svc_set *s, const struct refdata *ref, struct diag *d)
{
    struct keyindex ids;
    int errors = 0;

    if (keyindex_init(&ids, s->n) != 0) {
        diag_add(d, DIAG_ERROR, "", "", "out of memory");
        return 1;
    }
    for (size_t i = 0; i < s->n; i++)
        keyindex_put(&ids, s->rows[i].f[F_ID], i);
    keyindex_sort(&ids);
    for (size_t i = 0; i < s->n; i++) {
        struct svc_row *r = &s->rows[i];

        errors += check_id(s, i, &ids, d) + check_name(r, d) + check_category(r, d) +
                  check_place(r, ref, d) + check_phone(r, d) + check_hours(r, d) + check_meta(r, d);
    }
    keyindex_release(&ids);
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
        for (int f = 0; f < F_COUNT; f++)
            bind_text_or_null(st, f + 1, r[i].f[f]);
        if (r[i].has_point) {
            sqlite3_bind_double(st, F_LAT + 1, r[i].lat);
            sqlite3_bind_double(st, F_LON + 1, r[i].lon);
        }
        sqlite3_bind_int(st, F_ADDRESS_HIDDEN + 1, r[i].hidden ? 1 : 0);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            err_set(err, "insert service %s: %s", r[i].f[F_ID], sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The common end of both service imports: validates s against the postal
 * codes in db and, if all is well, replaces the services table with it.
 */
static int import_service_set(sqlite3 *db, struct svc_set *s, const char *where, long long now,
                              struct diag *d, int errors)
{
    struct refdata ref;
    char err[ERR_LEN];
    int rc;

    if (refdata_load(db, &ref, err) != 0) {
        report(d, DIAG_ERROR, where, 0, "database: %s", err);
        return DIRECTORY_IMPORT_FAILED;
    }
    if (ref.ncodes == 0)
        report(d, DIAG_WARNING, where, 0,
               "the postal_codes table is empty: cities and postal codes were not checked "
               "(katto import postal-codes FILE)");
    errors += check_services(s, &ref, d);
    refdata_release(&ref);
    if (errors == 0 && s->n == 0) {
        report(d, DIAG_ERROR, where, 0, "no services");
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
    {"id", F_ID},
    {"name_fi", F_NAME_FI},
    {"name_sv", F_NAME_SV},
    {"name_en", F_NAME_EN},
    {"organization", F_ORGANIZATION},
    {"city", F_CITY},
    {"category", F_CATEGORY},
    {"street_address", F_STREET_ADDRESS},
    {"postal_code", F_POSTAL_CODE},
    {"lat", F_LAT},
    {"lon", F_LON},
    {"phone", F_PHONE},
    {"phone_e164", F_PHONE_E164},
    {"hours", F_HOURS},
    {"opening_hours", F_HOURS_TEXT},
    {"address_hidden", F_ADDRESS_HIDDEN},
    {"source_url", F_SOURCE_URL},
    {"notes", F_NOTES},
};

/*
 * checked_on is the date the information is known to hold: `checked` when
 * someone has checked the row, else the source's own date. A source_date
 * that is overridden is kept aside and still checked, so a typo there does
 * not linger. 0, or -1 when memory runs out.
 */
static int csv_checked_on(const struct table *t, const struct csv_row *row, struct svc_row *r)
{
    const char *checked = field(t, row, "checked"), *source = field(t, row, "source_date");

    if (checked[0] == '\0') {
        r->checked_from = "source_date";
        return svc_set_field(r, F_CHECKED_ON, source);
    }
    r->checked_from = "checked";
    if (source[0] != '\0' && (r->source_date = strdup(source)) == NULL)
        return -1;
    return svc_set_field(r, F_CHECKED_ON, checked);
}

/* Turns the rows of t into s. 0, or -1 when memory runs out (reported). */
static int services_from_csv(const struct table *t, struct svc_set *s, struct diag *d)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct csv_row *row = &t->rows[i];
        struct svc_row r = {.file = t->path, .line = row->line};
        int bad = csv_checked_on(t, row, &r);

        for (size_t c = 0; c < sizeof(csv_columns) / sizeof(csv_columns[0]); c++)
            bad |= svc_set_field(&r, csv_columns[c].field, field(t, row, csv_columns[c].column));
        if (bad != 0 || svc_set_push(s, &r) != 0) {
            svc_row_release(&r);
            report(d, DIAG_ERROR, t->path, row->line, "out of memory");
            return -1;
        }
    }
    return 0;
}

int directory_import_services(sqlite3 *db, const char *csv_path, long long now, struct diag *d)
{
    static const char *const required[] = {"id", "city", "category", "source_url"};
    struct table t;
    struct svc_set s = {0};
    int rc = DIRECTORY_IMPORT_INVALID, errors;

    if ((errors = table_read(&t, csv_path, false, d)) >= 0 &&
        table_require(&t, required, sizeof(required) / sizeof(required[0]), d) == 0) {
        if (services_from_csv(&t, &s, d) == 0)
            rc = import_service_set(db, &s, csv_path, now, d, errors);
    }
    svc_set_release(&s);
    table_release(&t);
    return rc;
}

/* ---- HSDS --------------------------------------------------------------- */

enum hsds_file {
    H_SERVICES,
    H_ORGANIZATIONS,
    H_LOCATIONS,
    H_SAL,
    H_ADDRESSES,
    H_PHONES,
    H_SCHEDULES,
    H_TERMS,
    H_LINKS,
    H_COUNT
};

/* File names by version: the 3.0 name first, then older ones tried in turn. */
static const char *const hsds_names[H_COUNT][3] = {
    [H_SERVICES] = {"services.csv"},
    [H_ORGANIZATIONS] = {"organizations.csv"},
    [H_LOCATIONS] = {"locations.csv"},
    [H_SAL] = {"service_at_locations.csv", "services_at_location.csv", "service_at_location.csv"},
    [H_ADDRESSES] = {"addresses.csv", "physical_addresses.csv"},
    [H_PHONES] = {"phones.csv"},
    [H_SCHEDULES] = {"schedules.csv", "regular_schedules.csv"},
    [H_TERMS] = {"taxonomy_terms.csv", "taxonomy.csv"},
    [H_LINKS] = {"attributes.csv", "service_taxonomy.csv"},
};

/* Indexes: which rows of which file, by which column. */
enum hsds_index {
    I_ORG_ID,
    I_LOC_ID,
    I_SAL_SERVICE,
    I_ADDR_LOCATION,
    I_PHONE_SAL,
    I_PHONE_SERVICE,
    I_PHONE_LOCATION,
    I_PHONE_ORG,
    I_SCHED_SAL,
    I_SCHED_SERVICE,
    I_SCHED_LOCATION,
    I_TERM_ID,
    I_LINK_OWNER,
    I_COUNT
};

static const struct {
    enum hsds_file file;
    const char *column, *alt; /* alt: the 2.0 name, or NULL */
} hsds_indexes[I_COUNT] = {
    [I_ORG_ID] = {H_ORGANIZATIONS, "id", NULL},
    [I_LOC_ID] = {H_LOCATIONS, "id", NULL},
    [I_SAL_SERVICE] = {H_SAL, "service_id", NULL},
    [I_ADDR_LOCATION] = {H_ADDRESSES, "location_id", NULL},
    [I_PHONE_SAL] = {H_PHONES, "service_at_location_id", NULL},
    [I_PHONE_SERVICE] = {H_PHONES, "service_id", NULL},
    [I_PHONE_LOCATION] = {H_PHONES, "location_id", NULL},
    [I_PHONE_ORG] = {H_PHONES, "organization_id", NULL},
    [I_SCHED_SAL] = {H_SCHEDULES, "service_at_location_id", NULL},
    [I_SCHED_SERVICE] = {H_SCHEDULES, "service_id", NULL},
    [I_SCHED_LOCATION] = {H_SCHEDULES, "location_id", NULL},
    [I_TERM_ID] = {H_TERMS, "id", NULL},
    [I_LINK_OWNER] = {H_LINKS, "link_id", "service_id"},
};

struct hsds {
    struct table t[H_COUNT];
    struct keyindex ix[I_COUNT];
    const struct refdata *ref;
    char today[11]; /* YYYY-MM-DD, UTC, for schedules' validity */
};

/* What a Katto row is built from: one service at one location. */
struct hsds_site {
    const struct csv_row *service, *org, *sal, *loc; /* org, sal and loc may be NULL */
    const char *sid, *lid, *salid, *orgid;           /* "" when unknown */
    const char *category;
    bool several; /* the service has several locations */
};

/*
 * Reads the files of dir that exist. Returns the number of rows left out (see
 * table_read), or -1 if a file cannot be read; the problems are reported.
 */
static int hsds_read(struct hsds *h, const char *dir, struct diag *d)
{
    char path[4096];
    int problems = 0, fatal = 0;

    for (int f = 0; f < H_COUNT; f++) {
        for (int v = 0; v < 3 && hsds_names[f][v] != NULL && !h->t[f].present; v++) {
            int rc;

            table_release(&h->t[f]);
            snprintf(path, sizeof(path), "%s/%s", dir, hsds_names[f][v]);
            if ((rc = table_read(&h->t[f], path, f != H_SERVICES || v > 0, d)) < 0)
                fatal = 1;
            else
                problems += rc;
        }
    }
    return fatal ? -1 : problems;
}

static int hsds_index(struct hsds *h)
{
    for (int i = 0; i < I_COUNT; i++) {
        const struct table *t = &h->t[hsds_indexes[i].file];
        int col = hsds_indexes[i].alt ? column2(t, hsds_indexes[i].column, hsds_indexes[i].alt)
                                      : column(t, hsds_indexes[i].column);

        if (keyindex_table(&h->ix[i], t, col) != 0)
            return -1;
    }
    return 0;
}

static void hsds_release(struct hsds *h)
{
    for (int i = 0; i < I_COUNT; i++)
        keyindex_release(&h->ix[i]);
    for (int f = 0; f < H_COUNT; f++)
        table_release(&h->t[f]);
}

/* The first row of file f indexed under key in index i, or NULL. */
static const struct csv_row *hsds_lookup(const struct hsds *h, enum hsds_index i, const char *key)
{
    size_t row = key[0] != '\0' ? keyindex_first(&h->ix[i], key) : SIZE_MAX;

    return row != SIZE_MAX ? &h->t[hsds_indexes[i].file].rows[row] : NULL;
}

static const char *hfield(const struct hsds *h, enum hsds_file f, const struct csv_row *row,
                          const char *name)
{
    return row != NULL ? field(&h->t[f], row, name) : "";
}

/* One of Katto's categories matching a taxonomy term (case, spaces and hyphens ignored), or NULL.
 */
static const char *category_match(const char *term)
{
    char norm[64];
    size_t n = strlen(term);

    if (n == 0 || n >= sizeof(norm))
        return NULL;
    for (size_t i = 0; i <= n; i++) {
        char c = term[i];

        norm[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (c == ' ' || c == '-') ? '_' : c;
    }
    return category_find(norm);
}

/* The category a taxonomy link points to: the term's code or name, or the 2.0 id/detail itself. */
static const char *link_category(const struct hsds *h, const struct csv_row *link)
{
    const struct table *links = &h->t[H_LINKS];
    const char *term_id = cell(link, column2(links, "taxonomy_term_id", "taxonomy_id"));
    const struct csv_row *term = hsds_lookup(h, I_TERM_ID, term_id);
    const char *c = NULL;

    if (term != NULL)
        c = category_match(hfield(h, H_TERMS, term, "code"));
    if (c == NULL && term != NULL)
        c = category_match(hfield(h, H_TERMS, term, "name"));
    if (c == NULL)
        c = category_match(term_id);
    if (c == NULL)
        c = category_match(field(links, link, "taxonomy_detail"));
    return c;
}

/* The Katto category of service sid, or NULL; a second, different one is a warning. */
static const char *hsds_category(const struct hsds *h, const struct csv_row *srow, const char *sid,
                                 struct diag *d)
{
    const struct keyindex *ix = &h->ix[I_LINK_OWNER];
    const struct table *links = &h->t[H_LINKS];
    const char *found = NULL;

    for (size_t p = keyindex_find(ix, sid); keyindex_at(ix, p, sid); p++) {
        const struct csv_row *link = &links->rows[ix->refs[p].i];
        const char *entity = field(links, link, "link_entity"), *c;

        if (entity[0] != '\0' && strcmp(entity, "service") != 0)
            continue;
        if ((c = link_category(h, link)) == NULL)
            continue;
        if (found == NULL)
            found = c;
        else if (c != found)
            report(d, DIAG_WARNING, h->t[H_SERVICES].path, srow->line,
                   "service '%.40s' has several Katto categories: %s is used, not %s", sid, found,
                   c);
    }
    return found;
}

/* "hsds-" + slug of s into out: folded to ASCII, runs of anything else become one '-'. */
static void slug_append(char *out, size_t size, const char *s)
{
    char *folded = utf8_fold(s);
    size_t n = strlen(out);
    bool dash = n > 0 && out[n - 1] == '-';

    for (const char *p = folded ? folded : ""; *p && n + 1 < size; p++) {
        char c = *p;

        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[n++] = c;
            dash = false;
        } else if (!dash) {
            out[n++] = '-';
            dash = true;
        }
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    free(folded);
}

static uint32_t fnv1a(const char *s, uint32_t h)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static bool id_taken(const struct svc_set *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->rows[i].f[F_ID] != NULL && strcmp(s->rows[i].f[F_ID], id) == 0)
            return true;
    }
    return false;
}

/*
 * A stable Katto id for a service (and location): the contact log refers to
 * it, so it is derived from the HSDS ids, not from the order of rows.
 */
static void hsds_id(const struct svc_set *s, const char *sid, const char *lid, char out[ID_MAX + 1])
{
    char buf[512] = "hsds-";
    uint32_t hash = fnv1a(lid ? lid : "", fnv1a(sid, 2166136261u));
    size_t n;

    slug_append(buf, sizeof(buf), sid);
    if (lid != NULL) {
        strcat(buf, "-");
        slug_append(buf, sizeof(buf), lid);
    }
    n = strlen(buf);
    if (n > ID_MAX || strcmp(buf, "hsds") == 0) {
        n = n > ID_MAX - 9 ? ID_MAX - 9 : n;
        while (n > 0 && buf[n - 1] == '-')
            n--;
        snprintf(buf + n, sizeof(buf) - n, "-%08x", hash);
    }
    snprintf(out, ID_MAX + 1, "%.*s", ID_MAX, buf);
    for (int k = 2; id_taken(s, out) && k < 1000; k++) {
        char suffix[8];
        int len = snprintf(suffix, sizeof(suffix), "-%d", k);

        n = strlen(buf) > (size_t)(ID_MAX - len) ? (size_t)(ID_MAX - len) : strlen(buf);
        snprintf(out, ID_MAX + 1, "%.*s%s", (int)n, buf, suffix);
    }
}

/*
 * Derives an E.164 number from a number as printed, the way the shipped data
 * was made: "(0)" and separators dropped, 00 -> +, a leading 0 -> +358.
 * Short numbers (112, 116 117) stay as they are. 0, or -1 if it is not a number.
 */
static int e164_from(const char *printed, char out[24])
{
    char digits[17]; /* E.164 has at most 15 */
    size_t n = 0;
    const char *p = printed;
    bool plus = false;

    while (*p == ' ')
        p++;
    if (*p == '+') {
        plus = true;
        p++;
    }
    for (; *p; p++) {
        if (strncmp(p, "(0)", 3) == 0) {
            p += 2;
        } else if (*p >= '0' && *p <= '9') {
            if (n + 1 >= sizeof(digits))
                return -1;
            digits[n++] = *p;
        } else if (strchr(" -./()", *p) == NULL) {
            return -1;
        }
    }
    digits[n] = '\0';
    if (plus)
        snprintf(out, 24, "+%s", digits);
    else if (strncmp(digits, "00", 2) == 0)
        snprintf(out, 24, "+%s", digits + 2);
    else if (digits[0] == '0')
        snprintf(out, 24, "+358%s", digits + 1);
    else
        snprintf(out, 24, "%s", digits);
    return e164_form(out) ? 0 : -1;
}

/* Is phone row p usable here: not a fax, and not tied to another service or location? */
static bool phone_fits(const struct hsds *h, const struct csv_row *p, const struct hsds_site *s,
                       int level)
{
    const char *type = hfield(h, H_PHONES, p, "type");
    const char *psid = hfield(h, H_PHONES, p, "service_id");
    const char *plid = hfield(h, H_PHONES, p, "location_id");

    if (strcmp(type, "fax") == 0 || hfield(h, H_PHONES, p, "number")[0] == '\0')
        return false;
    switch (level) {
    case I_PHONE_SERVICE: return plid[0] == '\0' || strcmp(plid, s->lid) == 0;
    case I_PHONE_LOCATION: return psid[0] == '\0';
    case I_PHONE_ORG: return psid[0] == '\0' && plid[0] == '\0';
    default: return true;
    }
}

/* The phone of the service at the location, else of the service, location, organization. */
static const struct csv_row *hsds_phone_row(const struct hsds *h, const struct hsds_site *s)
{
    static const enum hsds_index levels[] = {I_PHONE_SAL, I_PHONE_SERVICE, I_PHONE_LOCATION,
                                             I_PHONE_ORG};
    const char *keys[] = {s->salid, s->sid, s->lid, s->orgid};

    for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
        const struct keyindex *ix = &h->ix[levels[l]];

        if (keys[l][0] == '\0')
            continue;
        for (size_t p = keyindex_find(ix, keys[l]); keyindex_at(ix, p, keys[l]); p++) {
            const struct csv_row *row = &h->t[H_PHONES].rows[ix->refs[p].i];

            if (phone_fits(h, row, s, (int)levels[l]))
                return row;
        }
    }
    return NULL;
}

static int hsds_phone(const struct hsds *h, const struct hsds_site *s, struct svc_row *r,
                      struct diag *d)
{
    const struct csv_row *p = hsds_phone_row(h, s);
    const char *number, *ext;
    char e164[24], printed[160];

    if (p == NULL)
        return 0;
    number = hfield(h, H_PHONES, p, "number");
    ext = hfield(h, H_PHONES, p, "extension");
    if (e164_from(number, e164) != 0) {
        report(d, DIAG_ERROR, h->t[H_PHONES].path, p->line,
               "number '%.32s' cannot be read as a Finnish or international phone number", number);
        return 1;
    }
    snprintf(printed, sizeof(printed), "%s%s%s", number, ext[0] ? " ext. " : "", ext);
    if (svc_set_field(r, F_PHONE, printed) != 0 || svc_set_field(r, F_PHONE_E164, e164) != 0)
        return -1;
    return 0;
}

/* ---- HSDS schedules -> hours.h's format ---------------------------------- */

struct week {
    int n[7];                      /* ranges on each day, Monday first */
    int open[7][HOURS_MAX_RANGES]; /* minutes from midnight */
    int close[7][HOURS_MAX_RANGES];
};

static const char *const day_names[7] = {"Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"};

/*
 * Parses an HSDS time: HH:MM, optionally :SS, optionally a UTC offset. Katto's
 * hours are Helsinki wall-clock times, so only no offset or a Finnish one
 * (+02:00 / +03:00, which publishers use for local time) can be kept; "Z" and
 * other offsets cannot. Returns minutes, or -1 with why set.
 */
static int hsds_time(const char *s, const char **why)
{
    size_t n = strlen(s);
    int hh, mm;

    if (n < 5 || strspn(s, "0123456789") != 2 || s[2] != ':' || strspn(s + 3, "0123456789") != 2) {
        *why = "a time is not HH:MM";
        return -1;
    }
    hh = number(s, 2);
    mm = number(s + 3, 2);
    s += 5;
    if (s[0] == ':' && strspn(s + 1, "0123456789") == 2)
        s += 3;
    if (s[0] != '\0' && strcmp(s, "+02:00") != 0 && strcmp(s, "+03:00") != 0 &&
        strcmp(s, "+0200") != 0 && strcmp(s, "+0300") != 0) {
        *why = "a time has a UTC offset other than Finland's";
        return -1;
    }
    if (hh > 24 || mm > 59 || (hh == 24 && mm != 0)) {
        *why = "a time is out of range";
        return -1;
    }
    return hh * 60 + mm;
}

/* Day index (Monday 0) of an RRULE day code, a 2.0 weekday number (1 = Monday) or name. */
static int hsds_day(const char *s)
{
    static const char *const names[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                         "friday", "saturday", "sunday"};
    char low[16];
    size_t n = strlen(s);

    if (n == 1 && s[0] >= '1' && s[0] <= '7')
        return s[0] - '1';
    if (n < 2 || n >= sizeof(low))
        return -1;
    for (size_t i = 0; i <= n; i++)
        low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    for (int d = 0; d < 7; d++) {
        if ((n == 2 && strncmp(low, names[d], 2) == 0) ||
            (n == 3 && strncmp(low, names[d], 3) == 0) || strcmp(low, names[d]) == 0)
            return d;
    }
    return -1;
}

/* Sets bit d of *days for each day in byday ("MO,TU,WE"). 0, or -1 with why. */
static int hsds_days(const char *byday, unsigned *days, const char **why)
{
    char buf[128], *save = NULL;

    if (strlen(byday) >= sizeof(buf)) {
        *why = "byday is too long";
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", byday);
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        int day = hsds_day(tok);

        if (day < 0) {
            *why = "byday names a day of the month (such as 2MO) or an unknown day";
            return -1;
        }
        *days |= 1u << day;
    }
    return 0;
}

/* Is schedule row s in force today (valid_from <= today <= valid_to, ISO dates compared as text)?
 */
static bool hsds_schedule_current(const struct hsds *h, const struct csv_row *s)
{
    const char *from = hfield(h, H_SCHEDULES, s, "valid_from");
    const char *to = hfield(h, H_SCHEDULES, s, "valid_to");

    return (from[0] == '\0' || strncmp(from, h->today, 10) <= 0) &&
           (to[0] == '\0' || strncmp(to, h->today, 10) >= 0);
}

/* The days a schedule row covers: byday (3.0), else weekday (2.0). 0, or -1 with why. */
static int hsds_schedule_days(const struct hsds *h, const struct csv_row *s, unsigned *days,
                              const char **why)
{
    const char *freq = hfield(h, H_SCHEDULES, s, "freq");
    const char *interval = hfield(h, H_SCHEDULES, s, "interval");
    const char *byday = hfield(h, H_SCHEDULES, s, "byday");
    const char *weekday = hfield(h, H_SCHEDULES, s, "weekday");

    *days = 0;
    if (freq[0] != '\0' && strcmp(freq, "WEEKLY") != 0 && strcmp(freq, "weekly") != 0) {
        *why = "freq is not WEEKLY";
        return -1;
    }
    if (interval[0] != '\0' && strcmp(interval, "1") != 0) {
        *why = "interval is not 1 (every week)";
        return -1;
    }
    if (hfield(h, H_SCHEDULES, s, "bymonthday")[0] || hfield(h, H_SCHEDULES, s, "byweekno")[0] ||
        hfield(h, H_SCHEDULES, s, "byyearday")[0]) {
        *why = "it repeats on days of the month or year";
        return -1;
    }
    if (byday[0] != '\0')
        return hsds_days(byday, days, why);
    if (weekday[0] != '\0' && hsds_day(weekday) >= 0) {
        *days = 1u << hsds_day(weekday);
        return 0;
    }
    *why = "it names no days (byday or weekday)";
    return -1;
}

/*
 * Adds schedule row s to w. Returns 1 if added, 0 if it has no times (only a
 * description) or is not in force, -1 with why if it cannot be expressed.
 */
static int hsds_schedule_add(const struct hsds *h, const struct csv_row *s, struct week *w,
                             const char **why)
{
    const char *opens = hfield(h, H_SCHEDULES, s, "opens_at");
    const char *closes = hfield(h, H_SCHEDULES, s, "closes_at");
    unsigned days;
    int open, close;

    if (!hsds_schedule_current(h, s) || (opens[0] == '\0' && closes[0] == '\0'))
        return 0;
    if (opens[0] == '\0' || closes[0] == '\0') {
        *why = "opens_at or closes_at is missing";
        return -1;
    }
    if (hsds_schedule_days(h, s, &days, why) != 0 || (open = hsds_time(opens, why)) < 0 ||
        (close = hsds_time(closes, why)) < 0)
        return -1;
    if (open == 24 * 60) {
        *why = "opens_at is 24:00";
        return -1;
    }
    if (close == 23 * 60 + 59)
        close = 24 * 60; /* HSDS's advice for "open all day" is 00:00-23:59 */
    for (int d = 0; d < 7; d++) {
        if (!(days & (1u << d)))
            continue;
        if (w->n[d] == HOURS_MAX_RANGES) {
            *why = "more time ranges on one day than Katto keeps";
            return -1;
        }
        w->open[d][w->n[d]] = open;
        w->close[d][w->n[d]] = close;
        w->n[d]++;
    }
    return 1;
}

/* Sorts each day's ranges by opening time (insertion sort: at most 8) and drops repeats. */
static void week_sort(struct week *w)
{
    for (int d = 0; d < 7; d++) {
        int kept = 0;

        for (int i = 1; i < w->n[d]; i++) {
            for (int j = i; j > 0 && w->open[d][j - 1] > w->open[d][j]; j--) {
                int o = w->open[d][j], c = w->close[d][j];

                w->open[d][j] = w->open[d][j - 1];
                w->close[d][j] = w->close[d][j - 1];
                w->open[d][j - 1] = o;
                w->close[d][j - 1] = c;
            }
        }
        for (int i = 0; i < w->n[d]; i++) {
            if (kept > 0 && w->open[d][kept - 1] == w->open[d][i] &&
                w->close[d][kept - 1] == w->close[d][i])
                continue;
            w->open[d][kept] = w->open[d][i];
            w->close[d][kept] = w->close[d][i];
            kept++;
        }
        w->n[d] = kept;
    }
}

static bool same_day(const struct week *w, int a, int b)
{
    if (w->n[a] != w->n[b])
        return false;
    for (int i = 0; i < w->n[a]; i++) {
        if (w->open[a][i] != w->open[b][i] || w->close[a][i] != w->close[b][i])
            return false;
    }
    return true;
}

static void append(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *out, size_t size, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;

    if (n + 1 >= size)
        return;
    va_start(ap, fmt);
    vsnprintf(out + n, size - n, fmt, ap);
    va_end(ap);
}

/* Appends the days of mask, runs of three or more as "Mo-We". */
static void format_days(unsigned mask, char *out, size_t size)
{
    bool first = true;

    for (int d = 0; d < 7; d++) {
        int e = d;

        if (!(mask & (1u << d)))
            continue;
        while (e + 1 < 7 && (mask & (1u << (e + 1))))
            e++;
        if (e - d >= 2) {
            append(out, size, "%s%s-%s", first ? "" : ",", day_names[d], day_names[e]);
        } else {
            for (int k = d; k <= e; k++)
                append(out, size, "%s%s", first && k == d ? "" : ",", day_names[k]);
        }
        first = false;
        d = e;
    }
}

/* Writes w in hours.h's format: "24/7", or days with the same times grouped into one rule. */
static void week_format(struct week *w, char *out, size_t size)
{
    unsigned done = 0;
    bool always = true;

    out[0] = '\0';
    week_sort(w);
    for (int d = 0; d < 7; d++)
        always = always && w->n[d] == 1 && w->open[d][0] == 0 && w->close[d][0] == 24 * 60;
    if (always) {
        snprintf(out, size, "24/7");
        return;
    }
    for (int d = 0; d < 7; d++) {
        unsigned mask = 0;

        if (w->n[d] == 0 || (done & (1u << d)))
            continue;
        for (int e = d; e < 7; e++) {
            if (same_day(w, d, e))
                mask |= 1u << e;
        }
        done |= mask;
        append(out, size, "%s", out[0] ? "; " : "");
        format_days(mask, out, size);
        for (int i = 0; i < w->n[d]; i++)
            append(out, size, "%s%02d:%02d-%02d:%02d", i ? "," : " ", w->open[d][i] / 60,
                   w->open[d][i] % 60, w->close[d][i] / 60, w->close[d][i] % 60);
    }
}

/*
 * Does schedule row belong here at this level? A service's schedule must not
 * name another location, and a location's schedule must belong to no service.
 */
static bool schedule_fits(const struct hsds *h, const struct csv_row *row, enum hsds_index level,
                          const struct hsds_site *s)
{
    const char *lid = hfield(h, H_SCHEDULES, row, "location_id");
    const char *sid = hfield(h, H_SCHEDULES, row, "service_id");

    if (level == I_SCHED_SERVICE)
        return lid[0] == '\0' || strcmp(lid, s->lid) == 0;
    if (level == I_SCHED_LOCATION)
        return sid[0] == '\0';
    return true;
}

/* The schedules of the service at the location, else of the service, else of the location. */
static enum hsds_index hsds_schedule_level(const struct hsds *h, const struct hsds_site *s,
                                           const char **key)
{
    static const enum hsds_index levels[] = {I_SCHED_SAL, I_SCHED_SERVICE, I_SCHED_LOCATION};
    const char *keys[] = {s->salid, s->sid, s->lid};

    for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
        const struct keyindex *ix = &h->ix[levels[l]];

        for (size_t p = keyindex_find(ix, keys[l]); keys[l][0] && keyindex_at(ix, p, keys[l]);
             p++) {
            if (schedule_fits(h, &h->t[H_SCHEDULES].rows[ix->refs[p].i], levels[l], s)) {
                *key = keys[l];
                return levels[l];
            }
        }
    }
    return I_COUNT;
}

/* Fills hours and hours_text from the schedules. Returns -1 only when memory runs out. */
static int hsds_hours(const struct hsds *h, const struct hsds_site *s, struct svc_row *r,
                      struct diag *d)
{
    const char *key = "", *why = NULL;
    enum hsds_index level = hsds_schedule_level(h, s, &key);
    struct week w;
    char hours[512] = "", text[1024] = "";
    bool ok = true;

    if (level == I_COUNT)
        return 0;
    memset(&w, 0, sizeof(w));
    for (size_t p = keyindex_find(&h->ix[level], key); keyindex_at(&h->ix[level], p, key); p++) {
        const struct csv_row *row = &h->t[H_SCHEDULES].rows[h->ix[level].refs[p].i];
        const char *desc = hfield(h, H_SCHEDULES, row, "description");

        if (!schedule_fits(h, row, level, s))
            continue;
        if (desc[0] != '\0')
            append(text, sizeof(text), "%s%s", text[0] ? "; " : "", desc);
        if (ok && hsds_schedule_add(h, row, &w, &why) < 0) {
            report(d, DIAG_WARNING, h->t[H_SCHEDULES].path, row->line,
                   "cannot be expressed in Katto's hours (%s): hours of '%s' left empty", why,
                   fv(r, F_ID));
            ok = false;
        }
    }
    if (ok)
        week_format(&w, hours, sizeof(hours));
    if (svc_set_field(r, F_HOURS, ok ? hours : NULL) != 0 ||
        svc_set_field(r, F_HOURS_TEXT, text) != 0)
        return -1;
    return 0;
}

/* ---- HSDS addresses ------------------------------------------------------ */

/* The location's physical address (type physical or none given), else a postal one, or NULL. */
static const struct csv_row *hsds_address_row(const struct hsds *h, const char *lid, bool *physical)
{
    const struct keyindex *ix = &h->ix[I_ADDR_LOCATION];
    const struct csv_row *postal = NULL;

    for (size_t p = keyindex_find(ix, lid); lid[0] && keyindex_at(ix, p, lid); p++) {
        const struct csv_row *row = &h->t[H_ADDRESSES].rows[ix->refs[p].i];
        const char *type = hfield(h, H_ADDRESSES, row, "address_type");

        if (type[0] == '\0' || strcmp(type, "physical") == 0) {
            *physical = true;
            return row;
        }
        if (strcmp(type, "postal") == 0 && postal == NULL)
            postal = row;
    }
    *physical = false;
    return postal;
}

/*
 * City, street address and postal code from the location's address; the city
 * is given the postal code table's spelling. Returns the number of errors, or
 * -1 when memory runs out.
 */
static int hsds_address(const struct hsds *h, const struct hsds_site *s, struct svc_row *r,
                        struct diag *d)
{
    bool physical;
    const struct csv_row *a = hsds_address_row(h, s->lid, &physical);
    const struct table *t = &h->t[H_ADDRESSES];
    const char *city, *known, *a1, *a2;
    char street[512];

    if (a == NULL) {
        report(d, DIAG_ERROR, h->t[H_SERVICES].path, s->service->line,
               "service '%.40s' at location '%.40s': no address, so its city is unknown", s->sid,
               s->lid);
        return 1;
    }
    city = cell(a, column2(t, "city", "locality"));
    known = h->ref->nmunis > 0 ? ref_municipality_folded(h->ref, city) : NULL;
    if (svc_set_field(r, F_CITY, known ? known : city) != 0)
        return -1;
    if (!physical)
        return 0;
    a1 = field(t, a, "address_1");
    a2 = field(t, a, "address_2");
    snprintf(street, sizeof(street), "%s%s%s", a1, a1[0] && a2[0] ? ", " : "", a2);
    if (svc_set_field(r, F_STREET_ADDRESS, street) != 0 ||
        svc_set_field(r, F_POSTAL_CODE, field(t, a, "postal_code")) != 0)
        return -1;
    return 0;
}

/* ---- HSDS services -> rows ------------------------------------------------ */

/* Name (by the optional language hint), organization, source URL, checked date and notes. */
static int hsds_texts(const struct hsds *h, const struct hsds_site *s, struct svc_row *r)
{
    const struct table *svc = &h->t[H_SERVICES];
    const char *lang = field(svc, s->service, "language");
    enum svc_field name_field = strcmp(lang, "sv") == 0   ? F_NAME_SV
                                : strcmp(lang, "en") == 0 ? F_NAME_EN
                                                          : F_NAME_FI;
    const char *url = field(svc, s->service, "url");
    const char *assured = field(svc, s->service, "assured_date");
    const char *checked = assured[0] ? assured : field(svc, s->service, "last_modified");
    char date[32], notes[256];

    if (url[0] == '\0')
        url = hfield(h, H_ORGANIZATIONS, s->org, "website");
    if (url[0] == '\0')
        url = hfield(h, H_ORGANIZATIONS, s->org, "url");
    /* last_modified is a date-time: keep its date. */
    snprintf(date, sizeof(date), "%.*s",
             strlen(checked) > 10 && (checked[10] == 'T' || checked[10] == ' ') ? 10 : 31, checked);
    r->checked_from = assured[0] ? "assured_date" : "last_modified";
    snprintf(notes, sizeof(notes), "HSDS service %.100s%s%.100s", s->sid,
             s->several ? " at location " : "", s->several ? s->lid : "");
    int bad = svc_set_field(r, name_field, field(svc, s->service, "name"));

    bad |= svc_set_field(r, F_ORGANIZATION, hfield(h, H_ORGANIZATIONS, s->org, "name"));
    bad |= svc_set_field(r, F_CATEGORY, s->category);
    bad |= svc_set_field(r, F_SOURCE_URL, url);
    bad |= svc_set_field(r, F_CHECKED_ON, date);
    bad |= svc_set_field(r, F_NOTES, notes);
    return bad != 0 ? -1 : 0;
}

/* Builds the row for one service at one location into out. Returns errors, or -1 for memory. */
static int hsds_row(const struct hsds *h, const struct hsds_site *s, struct svc_set *out,
                    struct diag *d)
{
    struct svc_row r = {.file = h->t[H_SERVICES].path, .line = s->service->line};
    char id[ID_MAX + 1];
    int errors = 0, rc;

    hsds_id(out, s->sid, s->several ? s->lid : NULL, id);
    if (svc_set_field(&r, F_ID, id) != 0 || hsds_texts(h, s, &r) != 0 ||
        svc_set_field(&r, F_LAT, hfield(h, H_LOCATIONS, s->loc, "latitude")) != 0 ||
        svc_set_field(&r, F_LON, hfield(h, H_LOCATIONS, s->loc, "longitude")) != 0)
        goto oom;
    if ((rc = hsds_address(h, s, &r, d)) < 0)
        goto oom;
    errors += rc;
    if ((rc = hsds_phone(h, s, &r, d)) < 0)
        goto oom;
    errors += rc;
    if (hsds_hours(h, s, &r, d) != 0)
        goto oom;
    /* Rows with problems are not kept: validation would only repeat them. */
    if (errors > 0 || s->category == NULL) {
        svc_row_release(&r);
        return errors;
    }
    return svc_set_push(out, &r) == 0 ? 0 : -1;
oom:
    svc_row_release(&r);
    return -1;
}

/* Is the service in operation? Others are skipped (with a warning), not refused. */
static bool hsds_active(const struct hsds *h, const struct csv_row *srow, const char *sid,
                        struct diag *d)
{
    const char *status = field(&h->t[H_SERVICES], srow, "status");

    if (status[0] == '\0' || strcmp(status, "active") == 0)
        return true;
    report(d, DIAG_WARNING, h->t[H_SERVICES].path, srow->line,
           "service '%.40s' skipped: status is %.24s", sid, status);
    return false;
}

/* Adds the rows of one service, one per location. Returns errors, or -1 for memory. */
static int hsds_service(const struct hsds *h, const struct csv_row *srow, struct svc_set *out,
                        struct diag *d)
{
    const struct table *svc = &h->t[H_SERVICES], *sal = &h->t[H_SAL];
    const struct keyindex *ix = &h->ix[I_SAL_SERVICE];
    struct hsds_site s = {.service = srow, .sid = field(svc, srow, "id")};
    size_t first = keyindex_find(ix, s.sid), nloc = 0;
    int errors = 0;

    if (!hsds_active(h, srow, s.sid, d))
        return 0;
    s.orgid = field(svc, srow, "organization_id");
    s.org = hsds_lookup(h, I_ORG_ID, s.orgid);
    if ((s.category = hsds_category(h, srow, s.sid, d)) == NULL) {
        report(d, DIAG_ERROR, svc->path, srow->line,
               "service '%.40s' has no Katto category (a taxonomy term whose code or name is "
               "one, such as night_shelter)",
               s.sid);
        errors++;
    }
    while (keyindex_at(ix, first + nloc, s.sid))
        nloc++;
    if (nloc == 0) {
        report(d, DIAG_ERROR, svc->path, srow->line,
               "service '%.40s' has no location in service_at_locations.csv, so its city is "
               "unknown",
               s.sid);
        return errors + 1;
    }
    s.several = nloc > 1;
    for (size_t p = first; p < first + nloc; p++) {
        int rc;

        s.sal = &sal->rows[ix->refs[p].i];
        s.salid = field(sal, s.sal, "id");
        s.lid = field(sal, s.sal, "location_id");
        if ((s.loc = hsds_lookup(h, I_LOC_ID, s.lid)) == NULL) {
            report(d, DIAG_ERROR, sal->path, s.sal->line, "location '%.40s' is not in %s", s.lid,
                   hsds_names[H_LOCATIONS][0]);
            errors++;
            continue;
        }
        if ((rc = hsds_row(h, &s, out, d)) < 0)
            return -1;
        errors += rc;
    }
    return errors;
}

/* Turns the HSDS tables into service rows. Returns the number of errors. */
static int services_from_hsds(struct hsds *h, struct svc_set *out, struct diag *d)
{
    const struct table *svc = &h->t[H_SERVICES];
    static const char *const required[] = {"id", "name"};
    int errors = 0;

    if (table_require(svc, required, sizeof(required) / sizeof(required[0]), d) != 0)
        return 1;
    for (size_t i = 0; i < svc->n; i++) {
        int rc = hsds_service(h, &svc->rows[i], out, d);

        if (rc < 0) {
            report(d, DIAG_ERROR, svc->path, svc->rows[i].line, "out of memory");
            return errors + 1;
        }
        errors += rc;
    }
    return errors;
}

static void utc_date(long long now, char out[11])
{
    time_t t = (time_t)now;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, 11, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 11, "1970-01-01");
}

int directory_import_hsds(sqlite3 *db, const char *dir, long long now, struct diag *d)
{
    struct hsds h;
    struct svc_set s = {0};
    struct refdata ref;
    char err[ERR_LEN];
    int rc = DIRECTORY_IMPORT_INVALID, errors;

    memset(&h, 0, sizeof(h));
    utc_date(now, h.today);
    h.ref = &ref;
    if (refdata_load(db, &ref, err) != 0) {
        report(d, DIAG_ERROR, dir, 0, "database: %s", err);
        return DIRECTORY_IMPORT_FAILED;
    }
    if ((errors = hsds_read(&h, dir, d)) >= 0) {
        if (hsds_index(&h) != 0) {
            report(d, DIAG_ERROR, dir, 0, "out of memory");
        } else {
            errors += services_from_hsds(&h, &s, d);
            rc = import_service_set(db, &s, dir, now, d, errors);
        }
    }
    refdata_release(&ref);
    svc_set_release(&s);
    hsds_release(&h);
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
