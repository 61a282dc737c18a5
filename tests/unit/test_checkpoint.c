/*
 * test_checkpoint.c: unit tests for checkpoint.c with a real SQLite file.
 * The thread copies the WAL back once it passes the threshold, a writer that
 * never pauses still keeps its WAL bounded, and the data is all there after
 * a reopen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "db.h"
#include "err.h"
#include "testlib.h"

/* SQLite's default and four times it: the server's thresholds scaled down to test quickly. */
#define WAKE 1000
#define WRITER 4000

static long long wal_bytes(const char *path)
{
    char wal[4096];
    FILE *f;
    long long n;

    snprintf(wal, sizeof(wal), "%s-wal", path);
    if ((f = fopen(wal, "rb")) == NULL)
        return 0;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return n;
}

/* Commits n transactions of about one page of new data each. */
static void write_pages(sqlite3 *db, int n)
{
    char err[ERR_LEN];

    for (int i = 0; i < n; i++)
        assert_int_equal(db_exec(db,
                                 "INSERT INTO t (v) VALUES (randomblob(3000)), (randomblob(800))",
                                 "insert", err),
                         0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void the_thread_checkpoints_and_the_wal_stays_bounded(void **state)
{
    char *dir = testlib_tmpdir(), path[4096], err[ERR_LEN];
    sqlite3 *db;
    struct checkpointer *c;
    int log_pages, backfilled;
    unsigned long failed = 1, by_writer = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/k.db", dir);
    assert_non_null(db = db_open(path, err));
    assert_int_equal(db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)", "create", err),
                     0);
    assert_non_null(c = checkpointer_start(db, path, WAKE, WRITER, err));

    /* Past the thread's threshold: it wakes (at once, or within its idle second) and copies. */
    write_pages(db, 600);
    assert_true(wal_bytes(path) > (long long)WAKE * 4096);
    for (int i = 0; i < 500 && checkpointer_runs(c, NULL, NULL) == 0; i++)
        sleep_ms(10);
    assert_true(checkpointer_runs(c, &failed, NULL) > 0);
    assert_int_equal(failed, 0);

    /*
     * A writer that never pauses: the thread seldom copies every frame, so
     * the writer finishes the copy past WRITER and the WAL
     * starts over. Without that it would hold all ~9,000 frames.
     */
    write_pages(db, 3000);
    checkpointer_runs(c, &failed, &by_writer);
    assert_int_equal(failed, 0);
    assert_true(wal_bytes(path) < (long long)(WRITER + 1000) * (4096 + 24));

    checkpointer_stop(c);
    /* What is left is consistent: a TRUNCATE checkpoint empties the WAL. */
    assert_int_equal(
        sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, &log_pages, &backfilled),
        SQLITE_OK);
    assert_int_equal(log_pages, 0);
    db_close(db);

    assert_non_null(db = db_open(path, err));
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2 * (600 + 3000));
    sqlite3_finalize(st);
    db_close(db);
    testlib_rmrf(dir);
    free(dir);
}

static void a_missing_database_is_an_error_with_context(void **state)
{
    char *dir = testlib_tmpdir(), path[4096], err[ERR_LEN] = "";
    sqlite3 *db;

    (void)state;
    snprintf(path, sizeof(path), "%s/k.db", dir);
    assert_non_null(db = db_open(path, err));
    assert_null(checkpointer_start(db, "/nonexistent-dir/x.db", WAKE, WRITER, err));
    assert_non_null(strstr(err, "checkpointer"));
    db_close(db);
    testlib_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_thread_checkpoints_and_the_wal_stays_bounded),
        cmocka_unit_test(a_missing_database_is_an_error_with_context),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
