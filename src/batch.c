/* batch.c: group commit per loop pass (see batch.h). */
#include "batch.h"

#include <stdbool.h>
#include <stdlib.h>

#include "db.h"
#include "err.h"
#include "log.h"

struct batch_job {
    batch_work_cb *work;
    batch_done_cb *done;
    void *arg;
    int status;
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
};

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
    b->jobs[b->njobs++] = (struct batch_job){work, done, arg, 0};
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
    bool committed = false;

    if (n == 0)
        return;
    if (run(b, BEGIN_TX, err) == 0) {
        for (size_t i = 0; i < n; i++) {
            int status;

            if (run(b, SAVEPOINT, err) != 0) {
                b->jobs[i].status = -1;
                continue;
            }
            err[0] = '\0';
            /* Index again after the call: work may submit more jobs and move the array. */
            status = b->jobs[i].work(b->db, b->jobs[i].arg, err);
            b->jobs[i].status = status;
            if (status != 0) {
                log_error("db.job_failed", "problem=\"%s\"", err);
                run(b, ROLLBACK_TO, NULL);
            }
            run(b, RELEASE, NULL);
        }
        committed = run(b, COMMIT, err) == 0;
        if (!committed)
            run(b, ROLLBACK, NULL);
    }
    if (!committed)
        log_error("db.commit_failed", "jobs=%zu problem=\"%s\"", n, err);
    metrics_add(b->metrics, "katto_db_commits_total",
                committed ? "result=\"ok\"" : "result=\"failed\"", 1);

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
        done[i].done(status, done[i].arg);
    }
}
