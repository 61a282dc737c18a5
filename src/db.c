/* db.c: open, pragmas and migrations (see db.h). */
#include "db.h"

#include <string.h>

#include "err.h"
#include "log.h"

int db_exec(sqlite3 *db, const char *sql, const char *what, char *err)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, "%s: %s", what, msg != NULL ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Runs a pragma that returns one text row and checks its value. */
static int pragma_expect(sqlite3 *db, const char *sql, const char *want, char *err)
{
    sqlite3_stmt *st;
    int rc = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "%s: %s", sql, sqlite3_errmsg(db));
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *got = (const char *)sqlite3_column_text(st, 0);

        if (got != NULL && strcmp(got, want) == 0)
            rc = 0;
        else
            err_set(err, "%s: got '%s', want '%s'", sql, got ? got : "", want);
    } else {
        err_set(err, "%s: %s", sql, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return rc;
}

sqlite3 *db_open(const char *path, char *err)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        err_set(err, "cannot open database '%s': %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
    if (pragma_expect(db, "PRAGMA journal_mode=WAL", "wal", err) != 0 ||
        db_exec(db,
                "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; "
                "PRAGMA cache_size=" DB_CACHE_KIB "; PRAGMA temp_store=MEMORY;",
                "set pragmas", err) != 0) {
        err_prefix(err, "database '%s'", path);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

int db_schema_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int db_migrate(sqlite3 *db, const struct db_migration *migrations, size_t count, char *err)
{
    int current = db_schema_version(db);
    int newest = count > 0 ? migrations[count - 1].version : 0;

    if (current < 0) {
        err_set(err, "read schema version: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (current > newest) {
        err_set(err,
                "database schema version %d is newer than this katto knows (%d): "
                "run the newer katto, or restore the backup taken before the upgrade",
                current, newest);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const struct db_migration *m = &migrations[i];
        char sql[64];

        if (m->version <= current)
            continue;
        if (db_exec(db, "BEGIN IMMEDIATE", "begin migration", err) != 0)
            return -1;
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", m->version);
        if (db_exec(db, m->sql, m->name, err) != 0 || db_exec(db, sql, m->name, err) != 0 ||
            db_exec(db, "COMMIT", m->name, err) != 0) {
            db_exec(db, "ROLLBACK", "rollback migration", NULL);
            err_prefix(err, "migration");
            return -1;
        }
        log_info("db.migrated", "version=%d name=%s", m->version, m->name);
        current = m->version;
    }
    return 0;
}

int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
        err_set(err, "prepare: %s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

int db_exists(sqlite3_stmt *st, const char *what, char *err)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        err_set(err, "%s: %s", what, sqlite3_errmsg(sqlite3_db_handle(st)));
    return db_stmt_done(st, rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1);
}

int db_stmt_done(sqlite3_stmt *st, int rc)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int db_ping(sqlite3 *db)
{
    return db_schema_version(db) >= 0;
}

void db_close(sqlite3 *db)
{
    if (db == NULL)
        return;
    /* sqlite3_close (not _v2) fails if a statement was left unfinalised: a bug to report. */
    if (sqlite3_close(db) != SQLITE_OK)
        log_error("db.close", "problem=\"%s\"", sqlite3_errmsg(db));
}
