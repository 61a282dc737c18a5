/*
 * test_batch.c: unit tests for batch.c with a real event_base and a real
 * SQLite file. They pin down the group-commit contract: jobs submitted in
 * one loop pass share one transaction, done callbacks run exactly once and
 * only after COMMIT (a second connection already sees the row), a failing job
 * is rolled back alone, big batches are split, batch_free flushes, and a
 * failed BEGIN fails every job, and a job after which SQLite rolled the whole
 * transaction back leaves nothing on disk.
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

#include "batch.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "metrics.h"
#include "testlib.h"

struct fixture {
    char *dir;
    char *path;
    struct event_base *base;
    sqlite3 *db;     /* the batch's connection */
    sqlite3 *reader; /* a second connection: what is durable, not what is in flight */
    struct metrics *metrics;
    struct batch *batch;
    int commits;   /* COMMITs on db, counted by a commit hook */
    int rollbacks; /* batch_on_rollback notifications */
    int work_runs; /* work callbacks run */
    FILE *log;     /* the batch logs failures; keep them out of the test output */
};

struct job {
    struct fixture *fx;
    int id;
    bool fail;          /* work inserts its row, then fails */
    bool lose;          /* ... and ends the transaction, as SQLite may after SQLITE_FULL */
    bool big;           /* also writes 16 KiB: new pages, which a full database refuses */
    bool oblivious;     /* loses the transaction, does not notice, writes on, returns 0 */
    const char *reason; /* batch_failure_reason inside done, when status is -1 */
    int done_calls;
    int status;
    int commits_at_done;  /* how many COMMITs had happened when done ran */
    long long durable;    /* rows with this id seen by the reader inside done */
    struct job *followup; /* submitted from done, if set */
};

/*
 * Counts COMMITs that wrote something, through the WAL hook: the commit hook
 * is the batch's own (it refuses commits that are not the batch's).
 */
static int count_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    (void)pages;
    (*(int *)arg)++;
    return SQLITE_OK;
}

static void count_rollback(void *arg)
{
    (*(int *)arg)++;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[ERR_LEN];

    if (fx == NULL)
        return -1;
    fx->dir = testlib_tmpdir();
    if (asprintf(&fx->path, "%s/batch.db", fx->dir) < 0)
        return -1;
    if ((fx->db = db_open(fx->path, err)) == NULL ||
        db_exec(fx->db, "CREATE TABLE jobs(id INTEGER PRIMARY KEY)", "create", err) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    if (sqlite3_open_v2(fx->path, &fx->reader, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;
    sqlite3_wal_hook(fx->db, count_commit, &fx->commits);
    fx->base = event_base_new();
    fx->metrics = metrics_new();
    if (fx->base == NULL || fx->metrics == NULL)
        return -1;
    fx->batch = batch_new(fx->base, fx->db, fx->metrics);
    if (fx->batch == NULL || (fx->log = tmpfile()) == NULL ||
        batch_on_rollback(fx->batch, count_rollback, &fx->rollbacks) != 0)
        return -1;
    log_set_stream(fx->log);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    int rc = 0;

    batch_free(fx->batch);
    metrics_free(fx->metrics);
    if (sqlite3_close(fx->reader) != SQLITE_OK || sqlite3_close(fx->db) != SQLITE_OK)
        rc = -1; /* a statement was left unfinalised */
    event_base_free(fx->base);
    log_set_stream(NULL);
    fclose(fx->log);
    testlib_rmrf(fx->dir);
    free(fx->path);
    free(fx->dir);
    free(fx);
    return rc;
}

static long long count_rows(sqlite3 *db, int id)
{
    sqlite3_stmt *st;
    long long n = -1;
    const char *sql = id < 0 ? "SELECT count(*) FROM jobs" : "SELECT count(*) FROM jobs WHERE id=?";

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (id >= 0)
        sqlite3_bind_int(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int insert_job(sqlite3 *db, void *arg, char *err)
{
    struct job *j = arg;
    sqlite3_stmt *st;
    int rc;

    j->fx->work_runs++;
    if (sqlite3_prepare_v2(db, "INSERT INTO jobs(id) VALUES(?)", -1, &st, NULL) != SQLITE_OK) {
        err_set(err, "prepare: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int(st, 1, j->id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        err_set(err, "insert job %d: %s", j->id, sqlite3_errmsg(db));
        return -1;
    }
    if (j->big && sqlite3_exec(db, "INSERT INTO blobs (v) VALUES (randomblob(16384))", NULL, NULL,
                               NULL) != SQLITE_OK) {
        err_set(err, "insert blob of job %d: %s", j->id, sqlite3_errmsg(db));
        return -1;
    }
    if (j->oblivious) {
        /* As a job whose read failed with SQLITE_FULL and took the transaction along,
         * and that took the failure for "no row": it writes on, and says all is well. */
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_exec(db, "INSERT INTO jobs(id) VALUES (9999)", NULL, NULL, NULL);
        return 0;
    }
    if (j->lose) {
        /* What SQLite does to the whole transaction after some SQLITE_FULL or IOERR. */
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        err_set(err, "job %d lost the transaction", j->id);
        return -1;
    }
    if (j->fail) {
        /* The row is written: only the savepoint rollback can take it away. */
        err_set(err, "job %d fails on purpose", j->id);
        return -1;
    }
    return 0;
}

static void job_done(int status, void *arg)
{
    struct job *j = arg;

    j->done_calls++;
    j->status = status;
    j->commits_at_done = j->fx->commits;
    j->durable = count_rows(j->fx->reader, j->id);
    j->reason = status != 0 ? batch_failure_reason(j->fx->batch) : NULL;
    if (j->followup != NULL)
        assert_int_equal(batch_submit(j->fx->batch, insert_job, job_done, j->followup), 0);
}

static struct job *jobs_new(struct fixture *fx, size_t n, int first_id)
{
    struct job *jobs = calloc(n, sizeof(*jobs));

    assert_non_null(jobs);
    for (size_t i = 0; i < n; i++) {
        jobs[i].fx = fx;
        jobs[i].id = first_id + (int)i;
        jobs[i].status = 99;
    }
    return jobs;
}

/* A loop-pass callback that submits a slice of jobs, as request callbacks do. */
struct submitter {
    struct fixture *fx;
    struct job *jobs;
    size_t n;
    struct event *ev;
    int commits_after_submit;
};

static void submit_cb(evutil_socket_t fd, short what, void *arg)
{
    struct submitter *s = arg;
    size_t before = batch_pending(s->fx->batch);

    (void)fd;
    (void)what;
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(batch_submit(s->fx->batch, insert_job, job_done, &s->jobs[i]), 0);
    assert_int_equal(batch_pending(s->fx->batch), before + s->n);
    /* Nothing is committed or answered while the pass is still running callbacks. */
    s->commits_after_submit = s->fx->commits;
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(s->jobs[i].done_calls, 0);
}

static void submitter_start(struct submitter *s, struct fixture *fx, struct job *jobs, size_t n)
{
    s->fx = fx;
    s->jobs = jobs;
    s->n = n;
    s->ev = event_new(fx->base, -1, 0, submit_cb, s);
    assert_non_null(s->ev);
    event_active(s->ev, EV_TIMEOUT, 0);
}

static void run_loop(struct fixture *fx)
{
    assert_int_not_equal(event_base_dispatch(fx->base), -1);
}

static void expect_committed(const struct job *j)
{
    if (j->done_calls != 1 || j->status != 0 || j->durable != 1)
        fail_msg("job %d: done called %d times, status %d, reader saw %lld rows", j->id,
                 j->done_calls, j->status, j->durable);
}

static void jobs_submitted_in_one_callback_commit_in_one_transaction(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 10, 1);
    struct submitter s;

    submitter_start(&s, fx, jobs, 10);
    run_loop(fx);
    assert_int_equal(s.commits_after_submit, 0);
    assert_int_equal(fx->commits, 1);
    for (int i = 0; i < 10; i++) {
        expect_committed(&jobs[i]);
        assert_int_equal(jobs[i].commits_at_done, 1); /* answered only after COMMIT */
    }
    assert_int_equal(count_rows(fx->reader, -1), 10);
    assert_int_equal(batch_pending(fx->batch), 0);
    assert_int_equal(metrics_get(fx->metrics, "katto_db_commits_total", "result=\"ok\""), 1);
    assert_int_equal(metrics_get(fx->metrics, "katto_db_jobs_total", "result=\"ok\""), 10);
    assert_int_equal(metrics_get(fx->metrics, "katto_db_jobs_total", "result=\"failed\""), 0);
    event_free(s.ev);
    free(jobs);
}

static void jobs_from_several_callbacks_in_one_pass_share_one_transaction(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 12, 1);
    struct submitter s[3];

    for (int i = 0; i < 3; i++)
        submitter_start(&s[i], fx, jobs + 4 * i, 4);
    run_loop(fx);
    assert_int_equal(fx->commits, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s[i].commits_after_submit, 0);
        event_free(s[i].ev);
    }
    for (int i = 0; i < 12; i++)
        expect_committed(&jobs[i]);
    free(jobs);
}

static void failing_job_is_rolled_back_alone(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 5, 1);
    struct submitter s;

    jobs[2].fail = true;
    submitter_start(&s, fx, jobs, 5);
    run_loop(fx);
    assert_int_equal(fx->commits, 1);
    for (int i = 0; i < 5; i++) {
        if (i == 2)
            continue;
        expect_committed(&jobs[i]);
    }
    assert_int_equal(jobs[2].done_calls, 1);
    assert_int_equal(jobs[2].status, -1);
    assert_string_equal(jobs[2].reason, "error"); /* its own fault, not the database's */
    assert_int_equal(jobs[2].durable, 0);
    assert_int_equal(fx->rollbacks, 1); /* caches hear of the rolled-back savepoint */
    assert_true(batch_writes_ok(fx->batch));
    assert_int_equal(count_rows(fx->reader, -1), 4);
    assert_int_equal(count_rows(fx->reader, 3), 0);
    assert_int_equal(metrics_get(fx->metrics, "katto_db_jobs_total", "result=\"ok\""), 4);
    assert_int_equal(metrics_get(fx->metrics, "katto_db_jobs_total", "result=\"failed\""), 1);
    assert_int_equal(metrics_get(fx->metrics, "katto_db_commits_total", "result=\"ok\""), 1);
    event_free(s.ev);
    free(jobs);
}

static void failing_first_and_last_jobs_do_not_sink_the_middle(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 4, 1);
    struct submitter s;

    jobs[0].fail = true;
    jobs[3].fail = true;
    submitter_start(&s, fx, jobs, 4);
    run_loop(fx);
    assert_int_equal(jobs[0].status, -1);
    expect_committed(&jobs[1]);
    expect_committed(&jobs[2]);
    assert_int_equal(jobs[3].status, -1);
    assert_int_equal(count_rows(fx->reader, -1), 2);
    event_free(s.ev);
    free(jobs);
}

static void more_than_max_jobs_split_over_several_transactions(void **state)
{
    struct fixture *fx = *state;
    const size_t n = 2 * BATCH_MAX_JOBS + 10;
    struct job *jobs = jobs_new(fx, n, 1);
    int per_commit[4] = {0};
    struct submitter s;

    submitter_start(&s, fx, jobs, n);
    run_loop(fx);
    assert_int_equal(fx->commits, 3);
    for (size_t i = 0; i < n; i++) {
        expect_committed(&jobs[i]);
        assert_in_range(jobs[i].commits_at_done, 1, 3);
        per_commit[jobs[i].commits_at_done]++;
    }
    /* In submission order: full transactions first, the rest in the last one. */
    assert_int_equal(per_commit[1], BATCH_MAX_JOBS);
    assert_int_equal(per_commit[2], BATCH_MAX_JOBS);
    assert_int_equal(per_commit[3], 10);
    assert_int_equal(jobs[0].commits_at_done, 1);
    assert_int_equal(jobs[n - 1].commits_at_done, 3);
    assert_int_equal(count_rows(fx->reader, -1), (long long)n);
    event_free(s.ev);
    free(jobs);
}

static void done_callback_may_submit_more_work(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 3, 1);
    struct submitter s;

    jobs[0].followup = &jobs[2]; /* jobs[2] is submitted only when jobs[0] is done */
    submitter_start(&s, fx, jobs, 2);
    run_loop(fx);
    assert_int_equal(fx->commits, 2);
    expect_committed(&jobs[0]);
    expect_committed(&jobs[1]);
    expect_committed(&jobs[2]);
    assert_int_equal(jobs[2].commits_at_done, 2);
    event_free(s.ev);
    free(jobs);
}

static void nothing_runs_before_the_loop_does(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 2, 1);

    assert_int_equal(batch_submit(fx->batch, insert_job, job_done, &jobs[0]), 0);
    assert_int_equal(batch_submit(fx->batch, insert_job, job_done, &jobs[1]), 0);
    assert_int_equal(batch_pending(fx->batch), 2);
    assert_int_equal(fx->work_runs, 0);
    assert_int_equal(jobs[0].done_calls, 0);
    run_loop(fx);
    assert_int_equal(fx->commits, 1);
    expect_committed(&jobs[0]);
    expect_committed(&jobs[1]);
    free(jobs);
}

static void explicit_flush_runs_pending_jobs_once(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 2, 1);

    assert_int_equal(batch_submit(fx->batch, insert_job, job_done, &jobs[0]), 0);
    assert_int_equal(batch_submit(fx->batch, insert_job, job_done, &jobs[1]), 0);
    batch_flush(fx->batch);
    assert_int_equal(batch_pending(fx->batch), 0);
    expect_committed(&jobs[0]);
    expect_committed(&jobs[1]);
    /* The flush event activated by the first submit finds nothing left to do. */
    run_loop(fx);
    assert_int_equal(fx->commits, 1);
    assert_int_equal(jobs[0].done_calls, 1);
    free(jobs);
}

static void batch_free_flushes_pending_jobs(void **state)
{
    struct fixture *fx = *state;
    const size_t n = BATCH_MAX_JOBS + 3;
    struct job *jobs = jobs_new(fx, n, 1);

    for (size_t i = 0; i < n; i++)
        assert_int_equal(batch_submit(fx->batch, insert_job, job_done, &jobs[i]), 0);
    assert_int_equal(batch_pending(fx->batch), n);
    batch_free(fx->batch);
    fx->batch = NULL;
    for (size_t i = 0; i < n; i++)
        expect_committed(&jobs[i]);
    assert_int_equal(fx->commits, 2);
    assert_int_equal(count_rows(fx->reader, -1), (long long)n);
    free(jobs);
}

static double elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) * 1e3 +
           (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

static void commit_failure_fails_every_job(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 4, 1);
    struct submitter s;
    struct timespec start;
    sqlite3 *writer;
    char *msg = NULL;

    /* Another process (a CLI command) holds the write lock for longer than the busy timeout. */
    assert_int_equal(sqlite3_open_v2(fx->path, &writer, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(writer, "BEGIN IMMEDIATE", NULL, NULL, &msg), SQLITE_OK);
    submitter_start(&s, fx, jobs, 4);
    clock_gettime(CLOCK_MONOTONIC, &start);
    run_loop(fx);
    /* It waited for the busy timeout, then gave up rather than stall the loop. */
    assert_true(elapsed_ms(&start) >= DB_BUSY_TIMEOUT_MS * 0.8);
    assert_true(elapsed_ms(&start) < 1500);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(jobs[i].done_calls, 1);
        assert_int_equal(jobs[i].status, -1);
        assert_string_equal(jobs[i].reason, "busy");
    }
    assert_int_equal(fx->commits, 0);
    /* /healthz's question: still locked, so its probe write fails too. */
    assert_false(batch_writes_ok(fx->batch));
    assert_int_equal(fx->work_runs, 0); /* no transaction, so no work ran */
    assert_int_equal(metrics_get(fx->metrics, "katto_db_commits_total", "result=\"failed\""), 1);
    assert_int_equal(metrics_get(fx->metrics, "katto_db_jobs_total", "result=\"failed\""), 4);
    assert_int_equal(sqlite3_get_autocommit(fx->db), 1); /* no transaction left open */

    /* Once the lock is gone the same batch works again. */
    assert_int_equal(sqlite3_exec(writer, "ROLLBACK", NULL, NULL, &msg), SQLITE_OK);
    assert_int_equal(sqlite3_close(writer), SQLITE_OK);
    assert_true(batch_writes_ok(fx->batch));
    jobs[0].done_calls = 0;
    assert_int_equal(batch_submit(fx->batch, insert_job, job_done, &jobs[0]), 0);
    run_loop(fx);
    expect_committed(&jobs[0]);
    assert_int_equal(count_rows(fx->reader, -1), 1);
    event_free(s.ev);
    free(jobs);
}

/*
 * After SQLITE_FULL or an I/O error SQLite may roll back the whole
 * transaction, not just the statement. The jobs after that must not run in
 * autocommit mode (each SAVEPOINT would start, and each RELEASE commit, a
 * transaction of its own): every job fails and nothing is on disk.
 */
static void job_that_loses_the_transaction_fails_the_batch_and_nothing_is_written(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 4, 1);
    struct submitter s;

    jobs[1].lose = true;
    submitter_start(&s, fx, jobs, 4);
    run_loop(fx);
    for (int i = 0; i < 4; i++) {
        if (jobs[i].done_calls != 1 || jobs[i].status != -1 || jobs[i].durable != 0)
            fail_msg("job %d: done called %d times, status %d, reader saw %lld rows", jobs[i].id,
                     jobs[i].done_calls, jobs[i].status, jobs[i].durable);
    }
    assert_int_equal(count_rows(fx->reader, -1), 0);
    assert_int_equal(fx->commits, 0);
    assert_int_equal(fx->work_runs, 2); /* the jobs after the loss did not run */
    assert_int_equal(sqlite3_get_autocommit(fx->db), 1);
    assert_true(fx->rollbacks >= 1);
    assert_int_equal(metrics_get(fx->metrics, "katto_db_commits_total", "result=\"failed\""), 1);

    /* The next pass starts clean. */
    for (int i = 0; i < 4; i++) {
        jobs[i].lose = false;
        jobs[i].done_calls = 0;
        assert_int_equal(batch_submit(fx->batch, insert_job, job_done, &jobs[i]), 0);
    }
    run_loop(fx);
    for (int i = 0; i < 4; i++)
        expect_committed(&jobs[i]);
    event_free(s.ev);
    free(jobs);
}

/*
 * A job that loses the transaction without noticing and writes on: its later
 * statements would each commit on their own in autocommit mode. The batch's
 * commit hook refuses them, so nothing of the job is on disk, it is told it
 * failed, and so is every other job of the batch.
 */
static void a_job_that_writes_on_after_losing_the_transaction_stores_nothing(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 3, 1);
    struct submitter s;

    jobs[1].oblivious = true;
    submitter_start(&s, fx, jobs, 3);
    run_loop(fx);
    for (int i = 0; i < 3; i++) {
        if (jobs[i].done_calls != 1 || jobs[i].status != -1)
            fail_msg("job %d: done called %d times, status %d", jobs[i].id, jobs[i].done_calls,
                     jobs[i].status);
    }
    assert_int_equal(count_rows(fx->reader, -1), 0); /* not even the stray row 9999 */
    assert_int_equal(fx->commits, 0);
    assert_int_equal(sqlite3_get_autocommit(fx->db), 1);

    /* The connection is usable again: the same jobs, resubmitted, commit. */
    jobs[1].oblivious = false;
    for (int i = 0; i < 3; i++) {
        jobs[i].done_calls = 0;
        assert_int_equal(batch_submit(fx->batch, insert_job, job_done, &jobs[i]), 0);
    }
    run_loop(fx);
    for (int i = 0; i < 3; i++)
        expect_committed(&jobs[i]);
    event_free(s.ev);
    free(jobs);
}

static long long pragma_value(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/*
 * A full disk, simulated as the issue asks with PRAGMA max_page_count: every
 * job needs new pages, so every job fails with reason disk_full, nothing of
 * them is on disk, the file is intact, and once there is room again the same
 * jobs commit. (tests/integration/test_disk.c does the same to the whole
 * server through a VFS that fails writes, which does not depend on free space
 * inside pages.)
 */
static void a_full_database_fails_every_job_whole_and_recovers(void **state)
{
    struct fixture *fx = *state;
    struct job *jobs = jobs_new(fx, 4, 1);
    struct submitter s;
    char err[ERR_LEN], sql[64];

    assert_int_equal(
        db_exec(fx->db, "CREATE TABLE blobs (id INTEGER PRIMARY KEY, v BLOB)", "create", err), 0);
    long long pages = pragma_value(fx->db, "PRAGMA page_count");
    assert_true(pages > 0);
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%lld", pages);
    assert_int_equal(pragma_value(fx->db, sql), pages);
    for (int i = 0; i < 4; i++)
        jobs[i].big = true;

    submitter_start(&s, fx, jobs, 4);
    run_loop(fx);
    for (int i = 0; i < 4; i++) {
        if (jobs[i].done_calls != 1 || jobs[i].status != -1 || jobs[i].durable != 0 ||
            jobs[i].reason == NULL || strcmp(jobs[i].reason, "disk_full") != 0)
            fail_msg("job %d: done called %d times, status %d, reason %s, reader saw %lld rows",
                     jobs[i].id, jobs[i].done_calls, jobs[i].status,
                     jobs[i].reason ? jobs[i].reason : "-", jobs[i].durable);
    }
    assert_int_equal(count_rows(fx->reader, -1), 0);
    assert_int_equal(pragma_value(fx->reader, "SELECT count(*) FROM blobs"), 0);
    assert_int_equal(sqlite3_get_autocommit(fx->db), 1);

    /* Room again: the same jobs, submitted again as a gateway would retry, all commit. */
    assert_true(pragma_value(fx->db, "PRAGMA max_page_count=100000") >= 100000);
    assert_true(batch_writes_ok(fx->batch));
    for (int i = 0; i < 4; i++) {
        jobs[i].done_calls = 0;
        assert_int_equal(batch_submit(fx->batch, insert_job, job_done, &jobs[i]), 0);
    }
    run_loop(fx);
    for (int i = 0; i < 4; i++)
        expect_committed(&jobs[i]);
    assert_int_equal(pragma_value(fx->reader, "SELECT count(*) FROM blobs"), 4);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(fx->reader, "PRAGMA integrity_check", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    event_free(s.ev);
    free(jobs);
}

static void free_accepts_null(void **state)
{
    (void)state;
    batch_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(jobs_submitted_in_one_callback_commit_in_one_transaction),
        T(jobs_from_several_callbacks_in_one_pass_share_one_transaction),
        T(failing_job_is_rolled_back_alone),
        T(failing_first_and_last_jobs_do_not_sink_the_middle),
        T(more_than_max_jobs_split_over_several_transactions),
        T(done_callback_may_submit_more_work),
        T(nothing_runs_before_the_loop_does),
        T(explicit_flush_runs_pending_jobs_once),
        T(batch_free_flushes_pending_jobs),
        T(commit_failure_fails_every_job),
        T(job_that_loses_the_transaction_fails_the_batch_and_nothing_is_written),
        T(a_full_database_fails_every_job_whole_and_recovers),
        T(a_job_that_writes_on_after_losing_the_transaction_stores_nothing),
        cmocka_unit_test(free_accepts_null),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
