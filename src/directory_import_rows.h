/*
 * directory_import_rows.h: internal to the importers (directory_import.c and
 * directory_hsds.c); nothing else should include it.
 *
 * What Katto's service CSV and the HSDS import share: CSV files read whole
 * into memory, an index of a file's rows by one column, and the rows of the
 * services table. Each format turns its files into a struct svc_set;
 * svc_set_import() then validates every row and, only if all are valid,
 * replaces the services table with them.
 */
#ifndef KATTO_DIRECTORY_IMPORT_ROWS_H
#define KATTO_DIRECTORY_IMPORT_ROWS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "csv.h"
#include "diag.h"

#define IMPORT_ID_MAX 63 /* bytes of a service id */

/* Adds "file:line: message" (or "file: message" for line 0) to d. */
void import_report(struct diag *d, enum diag_severity sev, const char *file, size_t line,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "+" and 6-15 digits (E.164), or a short national number of 3-6 digits (112, 116117). */
bool import_e164_form(const char *s);

/* ---- a CSV file in memory ----------------------------------------------- */

struct import_table {
    char *path; /* for messages */
    struct csv_row header;
    struct csv_row *rows; /* every row has as many fields as the header */
    size_t n, cap;
    bool present; /* the file exists */
};

/*
 * Reads the CSV file at path whole into t, with spaces and tabs around every
 * field removed. A row with another number of fields than the header is
 * reported and left out. A file that does not exist is no problem when
 * optional (t->present stays false). Returns the number of rows left out, or
 * -1 if the file cannot be read; the problems are reported to d. t must be
 * released either way.
 */
int import_table_read(struct import_table *t, const char *path, bool optional, struct diag *d);

void import_table_release(struct import_table *t);

/* Index of column name, or -1 (also when the file is absent). */
int import_table_column(const struct import_table *t, const char *name);

/* Reports each column of names[] (n of them) that the header lacks. Returns the number missing. */
int import_table_require(const struct import_table *t, const char *const *names, size_t n,
                         struct diag *d);

/* Field col of row, "" for a missing column (col < 0). */
const char *import_cell(const struct csv_row *row, int col);

/* Field named name of row, a row of t; "" when t has no such column. */
const char *import_field(const struct import_table *t, const struct csv_row *row, const char *name);

/* ---- a file's rows by key ----------------------------------------------- */

struct import_key {
    const char *key; /* borrowed */
    size_t i;        /* row number in the indexed array */
};

/* Keys sorted, and rows in file order within a key. Empty keys are left out. */
struct import_index {
    struct import_key *keys;
    size_t n;
};

/* Indexes the rows of t by column col (none when col < 0). 0, or -1 when memory runs out. */
int import_index_table(struct import_index *ix, const struct import_table *t, int col);

/* Position of the first key equal to key, or where it would go. */
size_t import_index_find(const struct import_index *ix, const char *key);

/* True if the key at pos is key: for (p = import_index_find(); import_index_at(ix, p, key); p++).
 */
bool import_index_at(const struct import_index *ix, size_t pos, const char *key);

void import_index_release(struct import_index *ix);

/* ---- rows of the services table ----------------------------------------- */

/* The columns of the services table, in the order of its INSERT. */
enum svc_field {
    SVC_ID,
    SVC_NAME_FI,
    SVC_NAME_SV,
    SVC_NAME_EN,
    SVC_ORGANIZATION,
    SVC_CITY,
    SVC_CATEGORY,
    SVC_STREET_ADDRESS,
    SVC_POSTAL_CODE,
    SVC_LAT,
    SVC_LON,
    SVC_PHONE,
    SVC_PHONE_E164,
    SVC_HOURS,
    SVC_HOURS_TEXT,
    SVC_ADDRESS_HIDDEN,
    SVC_SOURCE_URL,
    SVC_CHECKED_ON,
    SVC_NOTES,
    SVC_FIELDS
};

struct svc_row {
    char *f[SVC_FIELDS];      /* owned; NULL when empty */
    const char *file;         /* borrowed: where the row came from, for messages */
    size_t line;              /* its line there */
    const char *checked_from; /* name of the column checked_on came from */
    char *source_date;        /* owned: a source_date that `checked` overrides, still checked */
    bool city_folded;         /* match city to a municipality ignoring case and accents (HSDS) */
    bool hidden;              /* set by validation: address and point are dropped */
    bool has_point;           /* set by validation: lat and lon are a point */
    double lat, lon;
};

struct svc_set {
    struct svc_row *rows;
    size_t n, cap;
};

/* Field f of r, "" when empty. */
const char *svc_value(const struct svc_row *r, enum svc_field f);

/* Sets field f of r to a copy of value (NULL when empty). 0, or -1 when memory runs out. */
int svc_row_set(struct svc_row *r, enum svc_field f, const char *value);

void svc_row_release(struct svc_row *r);

/* Moves *r into s (r is left empty). 0, or -1 when memory runs out (r is released). */
int svc_set_push(struct svc_set *s, struct svc_row *r);

void svc_set_release(struct svc_set *s);

/*
 * The common end of both service imports: validates every row of s against
 * the postal codes in db, reporting each problem against the row's file and
 * line, and if neither that nor the caller (errors: problems it has already
 * reported) found any, replaces the services table with s. where (the file
 * or directory imported) names the import in directory_imports and in
 * messages about the whole. Returns the number of rows imported, or
 * DIRECTORY_IMPORT_INVALID / DIRECTORY_IMPORT_FAILED.
 */
int svc_set_import(sqlite3 *db, struct svc_set *s, const char *where, long long now, struct diag *d,
                   int errors);

#endif
