/*
 * db.h: the SQLite database. One connection per process, owned by whoever
 * opened it (in the server: the event loop). Opening sets the pragmas Katto
 * relies on (WAL, synchronous=FULL, short busy timeout, foreign keys,
 * secure_delete) and applies the migrations compiled in from db/migrations,
 * each in its own transaction, tracking the version in PRAGMA user_version.
 */
#ifndef KATTO_DB_H
#define KATTO_DB_H

#include <sqlite3.h>
#include <stddef.h>

struct db_migration {
    int version;      /* NNNN from the file name, strictly increasing */
    const char *name; /* file name without .sql */
    const char *sql;  /* the whole script */
};

/* The migrations embedded at build time from db/migrations/NNNN_name.sql. */
extern const struct db_migration db_migrations[];
extern const size_t db_migrations_count;

/*
 * Page cache per connection, in KiB (negative: a size, not a page count).
 * SQLite's default of 2 MiB is smaller than what a group commit of SMS steps
 * dirties and reads, so it spilled dirty pages into the WAL mid-transaction
 * and wrote them again at COMMIT (scripts/bench: 36 KiB written per SMS).
 */
#define DB_CACHE_KIB "-8192" /* 8 MiB */

#define DB_BUSY_TIMEOUT_MS 250 /* the busy handler sleeps, which stalls the loop: keep it short */

/*
 * Opens (creating if needed) the database at path and sets the pragmas.
 * Returns the connection (close with db_close) or NULL with err set.
 */
sqlite3 *db_open(const char *path, char *err);

/*
 * Brings the schema up to the newest of migrations[0..count). A database whose
 * user_version is newer than the newest migration is refused (it was written
 * by a newer Katto). Returns 0, or -1 with err set; a failed migration leaves
 * the database at the previous version.
 */
int db_migrate(sqlite3 *db, const struct db_migration *migrations, size_t count, char *err);

/* The schema version (PRAGMA user_version), or -1 on error. */
int db_schema_version(sqlite3 *db);

/* Runs sql (no results expected). 0, or -1 with err = "what: sqlite message". */
int db_exec(sqlite3 *db, const char *sql, const char *what, char *err);

/*
 * Prepares a statement kept for the connection's life (SQLITE_PREPARE_PERSISTENT).
 * 0, or -1 with err = "prepare: sqlite message".
 */
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err);

/*
 * Steps st, already bound, that returns at most one row, and resets it:
 * 1 if it returned a row, 0 if none, -1 with err = "what: sqlite message".
 * A failed read must not pass for "no row" (a STOP not found is a text sent).
 */
int db_exists(sqlite3_stmt *st, const char *what, char *err);

/*
 * Resets st and clears its bindings, and returns rc: call it on every path
 * after a step, so no statement keeps a read transaction (and the WAL) open.
 */
int db_stmt_done(sqlite3_stmt *st, int rc);

/* True if a trivial query succeeds: used by /healthz. */
int db_ping(sqlite3 *db);

/* Closes db; NULL is a no-op. Logs if statements were left unfinalised. */
void db_close(sqlite3 *db);

#endif
