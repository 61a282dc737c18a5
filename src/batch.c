/* batch.c: group commit per loop pass (see batch.h). */
#include "batch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "log.h"

struct batch_job {
    batch_work_cb *work;
    batch_done_cb *done;
    void *arg;
    int status;
    const char *reason; /* why it failed (batch_failure_reason) */
};

#define BATCH_MAX_LISTENERS 4

struct rollback_listener {
    void (*fn)(void *arg);
    void *arg;
};

/* The transaction's own statements, prepared once: parsing them per job cost more than a job. */
enum batch_stmt { BEGIN_TX, SAVEPOINT, RELEASE, ROLLBACK_TO, COMMIT, ROLLBACK, BATCH_NSTMTS };

static const char *const stmt_sql[BATCH_NSTMTS] = {
    [BEGIN_TX] = "BEGIN IMMEDIATE",    [SAVEPOINT] = "SAVEPOINT job", [RELEASE] = "RELEASE job",
    [ROLLBACK_TO] = "ROLLBACK TO job", [COMMIT] = "COMMIT",           [ROLLBACK] = "ROLLBACK",
};

struct batch {
    sqlite3 *db;
    struct metrics *metrics;
    sqlite3_stmt *stmt[BATCH_NSTMTS];
    struct event *flush_ev;
    struct batch_job *jobs;
    size_t njobs, cap;
    const char *calling_back; /* reason of the job whose done callback is running */
    bool writes_failing;      /* the last write failed for want of space, a lock or I/O */
    bool in_transaction;      /* between the batch's BEGIN and its own COMMIT */
    struct rollback_listener listeners[BATCH_MAX_LISTENERS];
    size_t nlisteners;
};

/*
 * What a failed write means for whoever waits on it, from SQLite's last
 * error on db. Only "error" is the job's own fault; the others are the
 * database's, and pass when the disk or the other writer does.
 */
static const char *classify(sqlite3 *db)
{
    switch (sqlite3_extended_errcode(db) & 0xff) {
    case SQLITE_FULL: return "disk_full";
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return "busy";
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_NOMEM: return "io";
    default: return "error";
    }
}

static bool is_database_trouble(const char *reason)
{
    return strcmp(reason, "error") != 0;
}

/*
 * The commit hook: inside a batch, the only commit allowed is the batch's
 * own. If SQLite has rolled the transaction back under a job (a failed read
 * after SQLITE_FULL or IOERR, which the job may not notice), every later
 * statement of that job would otherwise commit on its own, in autocommit
 * mode: half a step on disk while the job is told it failed. Refused, the
 * statement fails instead. (Found in review with the test VFS: a reply row
 * committed after its dedupe row was rolled back, so the gateway's retry
 * got a second reply.)
 */
static int refuse_stray_commit(void *arg)
{
    return ((struct batch *)arg)->in_transaction ? 1 : 0;
}

static void rolled_back(struct batch *b)
{
    for (size_t i = 0; i < b->nlisteners; i++)
        b->listeners[i].fn(b->listeners[i].arg);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    batch_flush(arg);
}

struct batch *batch_new(struct event_base *base, sqlite3 *db, struct metrics *metrics)
{
    struct batch *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->db = db;
    b->metrics = metrics;
    for (int i = 0; i < BATCH_NSTMTS; i++) {
        char err[ERR_LEN];

        if (db_prepare(db, stmt_sql[i], &b->stmt[i], err) != 0) {
            log_error("db.prepare_failed", "statement=\"%s\" problem=\"%s\"", stmt_sql[i], err);
            batch_free(b);
            return NULL;
        }
    }
    sqlite3_commit_hook(db, refuse_stray_commit, b);
    if ((b->flush_ev = event_new(base, -1, 0, flush_cb, b)) == NULL) {
        batch_free(b);
        return NULL;
    }
    metrics_declare(metrics, "katto_db_commits_total", "counter",
                    "Group-commit transactions, by result.");
    metrics_declare(metrics, "katto_db_jobs_total", "counter",
                    "Jobs run in group-commit transactions, by result.");
    return b;
}

void batch_free(struct batch *b)
{
    if (b == NULL)
        return;
    while (b->njobs > 0)
        batch_flush(b);
    sqlite3_commit_hook(b->db, NULL, NULL);
    if (b->flush_ev != NULL)
        event_free(b->flush_ev);
    for (int i = 0; i < BATCH_NSTMTS; i++)
        sqlite3_finalize(b->stmt[i]);
    free(b->jobs);
    free(b);
}

int batch_submit(struct batch *b, batch_work_cb *work, batch_done_cb *done, void *arg)
{
    if (b->njobs == b->cap) {
        size_t n = b->cap ? b->cap * 2 : 64;
        struct batch_job *bigger = realloc(b->jobs, n * sizeof(*bigger));

        if (bigger == NULL)
            return -1;
        b->jobs = bigger;
        b->cap = n;
    }
    b->jobs[b->njobs++] = (struct batch_job){work, done, arg, 0, "error"};
    if (b->njobs == 1)
        event_active(b->flush_ev, EV_TIMEOUT, 0);
    return 0;
}

/* Runs one of the transaction's statements; -1 with err set if it fails. */
static int run(struct batch *b, enum batch_stmt which, char *err)
{
    int rc = sqlite3_step(b->stmt[which]);

    sqlite3_reset(b->stmt[which]);
    if (rc == SQLITE_DONE)
        return 0;
    if (err != NULL)
        err_set(err, "%s: %s", stmt_sql[which], sqlite3_errmsg(b->db));
    return -1;
}

size_t batch_pending(const struct batch *b)
{
    return b->njobs;
}

void batch_flush(struct batch *b)
{
    size_t n = b->njobs < BATCH_MAX_JOBS ? b->njobs : BATCH_MAX_JOBS;
    char err[ERR_LEN] = "";
    const char *reason = "error"; /* of the whole transaction, when it fails */
    bool committed = false;

    if (n == 0)
        return;
    if (run(b, BEGIN_TX, err) != 0) {
        reason = classify(b->db);
    } else {
        bool lost = false; /* SQLite rolled the whole transaction back on its own */

        b->in_transaction = true;
        for (size_t i = 0; i < n && !lost; i++) {
            struct batch_job *job;

            err[0] = '\0';
            if (run(b, SAVEPOINT, err) != 0) {
                b->jobs[i].status = -1;
                b->jobs[i].reason = classify(b->db);
            } else {
                /* Index again after the call: work may submit more jobs and move the array. */
                int status = b->jobs[i].work(b->db, b->jobs[i].arg, err);

                job = &b->jobs[i];
                if (status == 0 && sqlite3_get_autocommit(b->db)) {
                    /* The transaction went under the job, which did not notice: nothing
                     * of it is stored (refuse_stray_commit saw to the rest). */
                    status = -1;
                    err_set(err, "the transaction was rolled back by SQLite during the job");
                }
                job->status = status;
                if (status != 0) {
                    job->reason = classify(b->db);
                    log_error("db.job_failed", "reason=%s problem=\"%s\"", job->reason, err);
                    run(b, ROLLBACK_TO, NULL);
                    rolled_back(b);
                }
                run(b, RELEASE, NULL);
            }
            /*
             * After SQLITE_FULL, IOERR, BUSY or NOMEM SQLite may roll back the
             * whole transaction rather than one statement. The jobs before this
             * one are gone then, and the ones after it would run in autocommit
             * mode (each SAVEPOINT starting and each RELEASE committing a
             * transaction of its own): half a batch on disk while every job is
             * told it failed. Stop here instead.
             */
            if (sqlite3_get_autocommit(b->db)) {
                job = &b->jobs[i];
                lost = true;
                /* SQLite rolls a whole transaction back only for the database's trouble. */
                reason =
                    job->reason != NULL && is_database_trouble(job->reason) ? job->reason : "io";
                job->status = -1;
                job->reason = reason;
                err_set(err, "the transaction was rolled back by SQLite after job %zu (%s)", i,
                        reason);
            }
        }
        b->in_transaction = false;
        if (!lost) {
            committed = run(b, COMMIT, err) == 0;
            if (!committed)
                reason = classify(b->db);
        }
        if (!committed) {
            if (!sqlite3_get_autocommit(b->db))
                run(b, ROLLBACK, NULL);
            rolled_back(b);
        }
    }
    if (!committed)
        log_error("db.commit_failed", "jobs=%zu reason=%s problem=\"%s\"", n, reason, err);
    metrics_add(b->metrics, "katto_db_commits_total",
                committed ? "result=\"ok\"" : "result=\"failed\"", 1);
    b->writes_failing = !committed && is_database_trouble(reason);
    for (size_t i = 0; committed && i < n; i++) {
        if (b->jobs[i].status != 0 && is_database_trouble(b->jobs[i].reason))
            b->writes_failing = true;
    }

    /* Take the jobs out before calling back: a callback may submit new work. */
    struct batch_job done[BATCH_MAX_JOBS];
    for (size_t i = 0; i < n; i++)
        done[i] = b->jobs[i];
    for (size_t i = n; i < b->njobs; i++)
        b->jobs[i - n] = b->jobs[i];
    b->njobs -= n;
    if (b->njobs > 0)
        event_active(b->flush_ev, EV_TIMEOUT, 0);
    for (size_t i = 0; i < n; i++) {
        int status = committed ? done[i].status : -1;

        metrics_add(b->metrics, "katto_db_jobs_total",
                    status == 0 ? "result=\"ok\"" : "result=\"failed\"", 1);
        b->calling_back = committed ? done[i].reason : reason;
        done[i].done(status, done[i].arg);
    }
    b->calling_back = NULL;
}

const char *batch_failure_reason(const struct batch *b)
{
    return b->calling_back != NULL ? b->calling_back : "error";
}

int batch_on_rollback(struct batch *b, void (*fn)(void *arg), void *arg)
{
    if (b->nlisteners == BATCH_MAX_LISTENERS)
        return -1;
    b->listeners[b->nlisteners++] = (struct rollback_listener){fn, arg};
    return 0;
}

bool batch_writes_ok(struct batch *b)
{
    int version;
    char sql[64];

    if (!b->writes_failing)
        return true;
    /*
     * The smallest real write: page 1 rewritten with the same schema version,
     * in a transaction of its own (no batch is open between loop callbacks).
     */
    if ((version = db_schema_version(b->db)) < 0)
        return false;
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
    if (db_exec(b->db, "BEGIN IMMEDIATE", "probe", NULL) != 0)
        return false;
    if (db_exec(b->db, sql, "probe", NULL) != 0 || db_exec(b->db, "COMMIT", "probe", NULL) != 0) {
        if (!sqlite3_get_autocommit(b->db))
            db_exec(b->db, "ROLLBACK", "probe", NULL);
        return false;
    }
    b->writes_failing = false;
    return true;
}
