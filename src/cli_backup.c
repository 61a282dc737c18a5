/* cli_backup.c: katto backup (see cli_backup.h). */
#include "cli_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "err.h"
#include "exitcode.h"

/*
 * Pages copied per step, and the pause between steps. With 4 KiB pages a step
 * reads and writes 512 KiB: a 100 MB database is copied in about 200 steps.
 * The server is never blocked by the copy (WAL: readers and writers do not
 * wait for each other), and the pause leaves the disk to its fsyncs.
 */
#define PAGES_PER_STEP 128
#define PAUSE_MS 2
#define SOURCE_BUSY_MS 5000 /* a command may wait for a moment's lock (WAL recovery) */

static double ms_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Runs a query returning one integer (or text, copied into text when given). */
static int query_one(sqlite3 *db, const char *sql, long long *num, char *text, size_t cap,
                     char *err)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "%s: %s", sql, sqlite3_errmsg(db));
        return -1;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (num != NULL)
            *num = sqlite3_column_int64(st, 0);
        if (text != NULL)
            snprintf(text, cap, "%s",
                     sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
    } else {
        err_set(err, "%s: %s", sql, rc == SQLITE_DONE ? "no result" : sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* fsync of a file or directory by path. 0 or -1 with err. */
static int sync_path(const char *path, bool dir, char *err)
{
    int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fsync(fd) != 0) {
        err_set(err, "fsync '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Removes the temporary copy and anything SQLite left beside it. */
static void remove_tmp(const char *tmp)
{
    char side[PATH_MAX + 16];

    unlink(tmp);
    snprintf(side, sizeof(side), "%s-journal", tmp);
    unlink(side);
    snprintf(side, sizeof(side), "%s-wal", tmp);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", tmp);
    unlink(side);
}

/*
 * Copies the database at src_path into dst (a fresh connection) from one
 * snapshot. Returns the number of pages, or -1 with err.
 */
static long long copy_snapshot(const char *src_path, sqlite3 *dst, char *err)
{
    sqlite3 *src = NULL;
    sqlite3_backup *b = NULL;
    long long pages = -1, n;
    int rc;

    if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        err_set(err, "open '%s': %s", src_path, src ? sqlite3_errmsg(src) : "no memory");
        goto done;
    }
    sqlite3_busy_timeout(src, SOURCE_BUSY_MS);
    /*
     * The read transaction stays open across every step: the backup then
     * copies this one snapshot. Without it each step would take a fresh
     * snapshot, and a write by the server in between would restart the copy
     * from the first page, possibly forever under steady traffic.
     */
    if (db_exec(src, "BEGIN", "begin read transaction", err) != 0 ||
        query_one(src, "SELECT count(*) FROM sqlite_schema", &n, NULL, 0, err) != 0)
        goto done;
    if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
        err_set(err, "backup: %s", sqlite3_errmsg(dst));
        goto done;
    }
    while ((rc = sqlite3_backup_step(b, PAGES_PER_STEP)) == SQLITE_OK || rc == SQLITE_BUSY ||
           rc == SQLITE_LOCKED)
        sqlite3_sleep(PAUSE_MS);
    pages = sqlite3_backup_pagecount(b);
    if (rc != SQLITE_DONE) {
        err_set(err, "backup: %s", sqlite3_errstr(rc));
        pages = -1;
    }
done:
    if (b != NULL && sqlite3_backup_finish(b) != SQLITE_OK && pages >= 0) {
        err_set(err, "backup: %s", sqlite3_errmsg(dst));
        pages = -1;
    }
    if (src != NULL) {
        db_exec(src, "COMMIT", "end read transaction", NULL);
        sqlite3_close(src);
    }
    return pages;
}

/*
 * Makes the copy self-contained and checks it: rollback-journal mode (the
 * server switches a restored file back to WAL), integrity_check, schema
 * version. Returns 0, -1 (runtime problem) or -2 (the copy is damaged), with err.
 */
static int check_copy(sqlite3 *dst, int *version, char *err)
{
    char mode[32], result[ERR_LEN];
    long long v;

    if (query_one(dst, "PRAGMA journal_mode=DELETE", NULL, mode, sizeof(mode), err) != 0)
        return -1;
    if (strcmp(mode, "delete") != 0) {
        err_set(err, "cannot leave WAL mode in the copy (journal_mode=%s)", mode);
        return -1;
    }
    if (query_one(dst, "PRAGMA integrity_check", NULL, result, sizeof(result), err) != 0)
        return -1;
    if (strcmp(result, "ok") != 0) {
        err_set(err, "integrity_check of the copy: %s", result);
        return -2;
    }
    if (query_one(dst, "PRAGMA user_version", &v, NULL, 0, err) != 0)
        return -1;
    *version = (int)v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: katto backup [--force] FILE\n");
}

/* Size as "N bytes (X.Y MiB)". */
static void human_size(long long bytes, char *out, size_t cap)
{
    if (bytes >= 1024 * 1024)
        snprintf(out, cap, "%lld bytes (%.1f MiB)", bytes, (double)bytes / (1024.0 * 1024.0));
    else
        snprintf(out, cap, "%lld bytes (%.1f KiB)", bytes, (double)bytes / 1024.0);
}

int cli_backup(const struct config *cfg, int argc, char **argv)
{
    const char *file = NULL;
    bool force = false;
    char tmp[PATH_MAX], dir[PATH_MAX], size[64], err[ERR_LEN] = "";
    struct stat st_db, st_file;
    struct timespec t0;
    sqlite3 *dst = NULL;
    long long pages;
    int version = -1, rc, newest;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) {
            force = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "katto backup: unknown option '%s'\n", argv[i]);
            usage();
            return EXIT_USAGE;
        } else if (file == NULL) {
            file = argv[i];
        } else {
            fprintf(stderr, "katto backup: unexpected argument '%s'\n", argv[i]);
            usage();
            return EXIT_USAGE;
        }
    }
    if (file == NULL || file[0] == '\0') {
        usage();
        return EXIT_USAGE;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp)) {
        fprintf(stderr, "katto backup: file name too long\n");
        return EXIT_USAGE;
    }
    snprintf(tmp, sizeof(tmp), "%s", file); /* dirname may modify its argument */
    snprintf(dir, sizeof(dir), "%s", dirname(tmp));
    snprintf(tmp, sizeof(tmp), "%s.tmp", file);
    if (stat(cfg->database, &st_db) != 0) {
        fprintf(stderr, "katto backup: no database at '%s': %s\n", cfg->database, strerror(errno));
        return EXIT_FAILURE;
    }
    if (stat(file, &st_file) == 0) {
        if (st_file.st_dev == st_db.st_dev && st_file.st_ino == st_db.st_ino) {
            fprintf(stderr, "katto backup: '%s' is the database itself\n", file);
            return EXIT_USAGE;
        }
        if (!force) {
            fprintf(stderr, "katto backup: '%s' exists (use --force to replace it)\n", file);
            return EXIT_CANTCREAT;
        }
    }
    /* The copy holds what the database holds: for the service user only. */
    umask(077);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    remove_tmp(tmp); /* left by an interrupted run: ours to replace */
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fprintf(stderr, "katto backup: cannot create '%s': %s\n", tmp,
                dst ? sqlite3_errmsg(dst) : "no memory");
        sqlite3_close(dst);
        remove_tmp(tmp);
        return EXIT_CANTCREAT;
    }
    /* Nothing is durable until the single fsync before the rename. */
    db_exec(dst, "PRAGMA synchronous=OFF", "set pragmas", NULL);
    pages = copy_snapshot(cfg->database, dst, err);
    rc = pages < 0 ? -1 : check_copy(dst, &version, err);
    if (sqlite3_close(dst) != SQLITE_OK && rc == 0) {
        err_set(err, "close the copy: %s", sqlite3_errmsg(dst));
        rc = -1;
    }
    if (rc == 0 && sync_path(tmp, false, err) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, file) != 0) {
        err_set(err, "rename '%s' to '%s': %s", tmp, file, strerror(errno));
        rc = -1;
    }
    if (rc != 0) {
        fprintf(stderr, "katto backup: %s\n", err);
        remove_tmp(tmp);
        return rc == -2 ? EXIT_DATAERR : EXIT_FAILURE;
    }
    if (sync_path(dir, true, err) != 0)
        fprintf(stderr, "katto backup: warning: %s\n", err);
    human_size(stat(file, &st_file) == 0 ? (long long)st_file.st_size : 0, size, sizeof(size));
    newest = db_migrations_count > 0 ? db_migrations[db_migrations_count - 1].version : 0;
    printf("katto backup: %s: %s, %lld pages, schema version %d%s, integrity ok, %.0f ms\n", file,
           size, pages, version,
           version > newest   ? " (newer than this katto)"
           : version < newest ? " (this katto migrates it at start)"
                              : "",
           ms_since(&t0));
    if (cfg->secret[0] == '\0')
        printf("katto backup: the secret is not in the backup: keep a copy of '%s' apart from it\n",
               cfg->secret_file);
    return 0;
}
