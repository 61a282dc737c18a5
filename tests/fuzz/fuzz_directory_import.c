/*
 * fuzz_directory_import: Katto's service CSV (db/data/services_fi.csv's
 * columns) through directory_import_services: the CSV reader, per-row
 * validation (ids, cities, postal codes, E.164 phones, URLs, dates, the hours
 * column) and, for a valid file, the insert. The database is an in-memory
 * SQLite with the migrations applied and the real postal codes imported once
 * per process, so cities and codes are checked as in production. The import
 * takes a path, so each run writes its input to the tmpfs scratch directory.
 *
 * Properties: a rejected import reports at least one error and writes
 * nothing; an accepted one stores exactly the rows it counted.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "diag.h"
#include "directory_import.h"
#include "err.h"
#include "fuzz.h"

static sqlite3 *db;

static long long services_count(void)
{
    sqlite3_stmt *st;
    long long n = -1;

    FUZZ_CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM services", -1, &st, NULL) == SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[ERR_LEN];
    struct diag d = {0};

    (void)argc;
    (void)argv;
    fuzz_helsinki_time();
    /* db_open insists on WAL, which :memory: cannot do; the schema is what matters here. */
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        db_migrate(db, db_migrations, db_migrations_count, err) != 0) {
        fprintf(stderr, "fuzz_directory_import: %s\n", err);
        abort();
    }
    if (directory_import_postal_codes(db, fuzz_source_path("db/data/postal_codes_fi.csv"), 0, &d) <=
        0) {
        diag_print(&d, stderr);
        abort();
    }
    diag_release(&d);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("services.csv", data, size);
    struct diag d = {0};
    long long before = services_count();
    int n = directory_import_services(db, path, 1718013600, &d);

    if (n >= 0) {
        FUZZ_CHECK(d.errors == 0);
        FUZZ_CHECK(services_count() == n);
    } else {
        FUZZ_CHECK(n == DIRECTORY_IMPORT_INVALID || n == DIRECTORY_IMPORT_FAILED);
        FUZZ_CHECK(d.errors > 0);
        FUZZ_CHECK(services_count() == before);
    }
    /* No transaction may be left open for the next run. */
    FUZZ_CHECK(sqlite3_get_autocommit(db));
    diag_release(&d);
    return 0;
}
