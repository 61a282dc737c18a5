/*
 * test_db.c: unit tests for db.c on real SQLite files in a temp dir: the
 * pragmas set at open, the embedded migrations on a fresh database, upgrades
 * one version at a time, a failing migration rolled back, a database from a
 * newer Katto refused, and migrating twice doing nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "log.h"
#include "testlib.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

struct fixture {
    char *dir;
    char *path; /* dir/katto.db */
    sqlite3 *db;
    int commits; /* counted by a commit hook */
    char err[ERR_LEN];
};

static int count_commit(void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (fx == NULL)
        return -1;
    fx->dir = testlib_tmpdir();
    if (asprintf(&fx->path, "%s/katto.db", fx->dir) < 0)
        return -1;
    fx->db = db_open(fx->path, fx->err);
    if (fx->db == NULL) {
        fprintf(stderr, "db_open: %s\n", fx->err);
        return -1;
    }
    sqlite3_commit_hook(fx->db, count_commit, &fx->commits);
    /* db_migrate logs each step at info; keep test output to failures. */
    log_set_level(LOG_LEVEL_WARN);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    int rc = 0;

    /* sqlite3_close (not _v2) refuses while a statement is left unfinalised. */
    if (fx->db != NULL && sqlite3_close(fx->db) != SQLITE_OK) {
        fprintf(stderr, "close: %s\n", sqlite3_errmsg(fx->db));
        rc = -1;
    }
    log_set_level(LOG_LEVEL_INFO);
    testlib_rmrf(fx->dir);
    free(fx->path);
    free(fx->dir);
    free(fx);
    return rc;
}

/* The first column of the first row of sql as text ("" if none); out has cap bytes. */
static void query_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st;

    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static bool table_exists(sqlite3 *db, const char *name)
{
    char sql[128];

    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='%s'", name);
    return query_int(db, sql) == 1;
}

/* Two small migrations of our own, so the tests do not depend on Katto's schema. */
static const struct db_migration test_migrations[] = {
    {1, "0001_a", "CREATE TABLE a(x);"},
    {2, "0002_b", "CREATE TABLE b(y); INSERT INTO a VALUES(1);"},
};

static void open_sets_the_pragmas_katto_relies_on(void **state)
{
    struct fixture *fx = *state;
    /* synchronous 2 is FULL: an accepted message survives a power loss. */
    static const struct {
        const char *pragma;
        const char *want;
    } cases[] = {
        {"PRAGMA journal_mode", "wal"}, {"PRAGMA foreign_keys", "1"},   {"PRAGMA synchronous", "2"},
        {"PRAGMA secure_delete", "1"},  {"PRAGMA busy_timeout", "250"},
    };

    for (size_t i = 0; i < N_ROWS(cases); i++) {
        char got[32];

        query_text(fx->db, cases[i].pragma, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s is '%s', expected '%s'", cases[i].pragma, got, cases[i].want);
    }
}

static void wal_mode_is_persistent_in_the_file(void **state)
{
    struct fixture *fx = *state;
    sqlite3 *other;
    char got[32];

    /* A plain connection (a CLI tool, sqlite3 shell) sees WAL too. */
    assert_int_equal(sqlite3_open_v2(fx->path, &other, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    query_text(other, "PRAGMA journal_mode", got, sizeof(got));
    assert_string_equal(got, "wal");
    assert_int_equal(sqlite3_close(other), SQLITE_OK);
}

static void foreign_keys_are_enforced(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(db_exec(fx->db,
                             "CREATE TABLE p(id INTEGER PRIMARY KEY);"
                             "CREATE TABLE c(p INTEGER NOT NULL REFERENCES p(id));",
                             "create", fx->err),
                     0);
    assert_int_equal(db_exec(fx->db, "INSERT INTO c VALUES(42)", "insert orphan", fx->err), -1);
    assert_non_null(strstr(fx->err, "insert orphan: "));
    assert_non_null(strstr(fx->err, "FOREIGN KEY"));
}

static void fresh_database_gets_all_embedded_migrations(void **state)
{
    struct fixture *fx = *state;

    assert_true(db_migrations_count > 0);
    assert_int_equal(db_schema_version(fx->db), 0);
    if (db_migrate(fx->db, db_migrations, db_migrations_count, fx->err) != 0)
        fail_msg("embedded migrations failed: %s", fx->err);
    assert_int_equal(db_schema_version(fx->db), db_migrations[db_migrations_count - 1].version);
    assert_true(table_exists(fx->db, "meta"));
    assert_int_equal(query_int(fx->db, "SELECT count(*) FROM meta WHERE key='created_at'"), 1);
    /* One transaction per migration. */
    assert_int_equal(fx->commits, (int)db_migrations_count);
    assert_int_equal(db_ping(fx->db), 1);
}

static void embedded_migrations_are_numbered_strictly_increasing(void **state)
{
    (void)state;
    for (size_t i = 0; i < db_migrations_count; i++) {
        const struct db_migration *m = &db_migrations[i];
        char prefix[16];

        assert_true(m->version > 0);
        if (i > 0 && m->version <= db_migrations[i - 1].version)
            fail_msg("migration %s does not follow %s", m->name, db_migrations[i - 1].name);
        /* The name is NNNN_something with NNNN the version. */
        snprintf(prefix, sizeof(prefix), "%04d_", m->version);
        if (strncmp(m->name, prefix, strlen(prefix)) != 0)
            fail_msg("migration %s: name does not start with %s", m->name, prefix);
        assert_non_null(m->sql);
        assert_true(m->sql[0] != '\0');
    }
}

static void upgrade_applies_only_the_newer_migrations(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(db_migrate(fx->db, test_migrations, 1, fx->err), 0);
    assert_int_equal(db_schema_version(fx->db), 1);
    assert_true(table_exists(fx->db, "a"));
    assert_false(table_exists(fx->db, "b"));
    assert_int_equal(db_exec(fx->db, "INSERT INTO a VALUES(0)", "seed", fx->err), 0);

    /* Re-running 0001 would fail with "table a already exists". */
    if (db_migrate(fx->db, test_migrations, 2, fx->err) != 0)
        fail_msg("upgrade failed: %s", fx->err);
    assert_int_equal(db_schema_version(fx->db), 2);
    assert_true(table_exists(fx->db, "b"));
    assert_int_equal(query_int(fx->db, "SELECT count(*) FROM a"), 2);
    assert_int_equal(query_int(fx->db, "SELECT count(*) FROM a WHERE x=0"), 1);
}

static void schema_version_survives_reopening(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(db_migrate(fx->db, test_migrations, 2, fx->err), 0);
    db_close(fx->db);
    fx->db = db_open(fx->path, fx->err);
    assert_non_null(fx->db);
    assert_int_equal(db_schema_version(fx->db), 2);
    assert_int_equal(query_int(fx->db, "SELECT count(*) FROM a"), 1);
}

static void failing_migration_keeps_the_previous_version(void **state)
{
    struct fixture *fx = *state;
    static const struct db_migration broken[] = {
        {1, "0001_a", "CREATE TABLE a(x);"},
        {2, "0002_half", "CREATE TABLE c(z); INSERT INTO a VALUES(5); THIS IS NOT SQL;"},
        {3, "0003_after", "CREATE TABLE d(w);"},
    };

    assert_int_equal(db_migrate(fx->db, broken, N_ROWS(broken), fx->err), -1);
    assert_non_null(strstr(fx->err, "0002_half"));
    assert_non_null(strstr(fx->err, "syntax error"));
    assert_int_equal(db_schema_version(fx->db), 1);
    /* Nothing of the failed script stays, and later migrations are not tried. */
    assert_false(table_exists(fx->db, "c"));
    assert_int_equal(query_int(fx->db, "SELECT count(*) FROM a"), 0);
    assert_false(table_exists(fx->db, "d"));
    assert_int_equal(sqlite3_get_autocommit(fx->db), 1); /* no transaction left open */

    /* Once fixed, the same database upgrades from where it stopped. */
    assert_int_equal(db_migrate(fx->db, test_migrations, 2, fx->err), 0);
    assert_int_equal(db_schema_version(fx->db), 2);
}

static void failing_first_migration_leaves_a_fresh_database_at_zero(void **state)
{
    struct fixture *fx = *state;
    static const struct db_migration broken[] = {
        {1, "0001_typo", "CREATE TABEL a(x);"},
    };

    assert_int_equal(db_migrate(fx->db, broken, 1, fx->err), -1);
    assert_non_null(strstr(fx->err, "0001_typo"));
    assert_int_equal(db_schema_version(fx->db), 0);
}

static void newer_database_is_refused(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(db_exec(fx->db, "PRAGMA user_version=7", "set version", fx->err), 0);
    assert_int_equal(db_migrate(fx->db, test_migrations, 2, fx->err), -1);
    assert_non_null(strstr(fx->err, "newer"));
    assert_int_equal(db_schema_version(fx->db), 7);
    assert_false(table_exists(fx->db, "a"));
    /* Also with the embedded set: a downgrade must never touch the data. */
    assert_int_equal(db_exec(fx->db, "PRAGMA user_version=9999", "set version", fx->err), 0);
    assert_int_equal(db_migrate(fx->db, db_migrations, db_migrations_count, fx->err), -1);
    assert_non_null(strstr(fx->err, "newer"));
}

static void migrating_twice_is_a_no_op(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(db_migrate(fx->db, test_migrations, 2, fx->err), 0);
    assert_int_equal(fx->commits, 2);
    assert_int_equal(db_migrate(fx->db, test_migrations, 2, fx->err), 0);
    assert_int_equal(fx->commits, 2);
    assert_int_equal(db_schema_version(fx->db), 2);
    assert_int_equal(query_int(fx->db, "SELECT count(*) FROM a"), 1); /* 0002's insert ran once */
}

static void exec_error_says_what_failed_and_why(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(db_exec(fx->db, "SELECT * FROM nowhere", "read nowhere", fx->err), -1);
    assert_string_equal(fx->err, "read nowhere: no such table: nowhere");
    assert_int_equal(db_exec(fx->db, "CREATE TABLE t(x)", "create t", NULL), 0);
    assert_int_equal(db_exec(fx->db, "CREATE TABLE t(x)", "create t", NULL), -1); /* err NULL ok */
}

static void open_fails_with_message_for_unreachable_path(void **state)
{
    struct fixture *fx = *state;
    char path[512], err[ERR_LEN] = "";

    snprintf(path, sizeof(path), "%s/no/such/dir/k.db", fx->dir);
    assert_null(db_open(path, err));
    assert_non_null(strstr(err, path));
    db_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(open_sets_the_pragmas_katto_relies_on),
        T(wal_mode_is_persistent_in_the_file),
        T(foreign_keys_are_enforced),
        T(fresh_database_gets_all_embedded_migrations),
        cmocka_unit_test(embedded_migrations_are_numbered_strictly_increasing),
        T(upgrade_applies_only_the_newer_migrations),
        T(schema_version_survives_reopening),
        T(failing_migration_keeps_the_previous_version),
        T(failing_first_migration_leaves_a_fresh_database_at_zero),
        T(newer_database_is_refused),
        T(migrating_twice_is_a_no_op),
        T(exec_error_says_what_failed_and_why),
        T(open_fails_with_message_for_unreachable_path),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
