/* checkpoint.c: WAL checkpoints on a thread of their own (see checkpoint.h). */
#include "checkpoint.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "db.h"
#include "err.h"
#include "log.h"

#define IDLE_SECONDS 1 /* a checkpoint at least this often while anything is in the WAL */

struct checkpointer {
    sqlite3 *writer;
    sqlite3 *db; /* the thread's own connection */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int wake_pages, writer_pages;
    bool due;  /* a commit left the WAL past wake_pages */
    bool stop; /* checkpointer_stop is waiting */
    unsigned long runs, failed;
    unsigned long by_writer; /* touched only in the writer's thread */
};

/* Runs in the writer's thread after each commit, with the WAL's size in pages. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct checkpointer *c = arg;

    if (pages >= c->writer_pages) {
        int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

        /* BUSY: the thread is checkpointing right now; the next commit tries again. */
        if (rc == SQLITE_OK) {
            c->by_writer++;
        } else if (rc != SQLITE_BUSY) {
            log_error("db.checkpoint_failed", "by=writer problem=\"%s\"", sqlite3_errstr(rc));
            pthread_mutex_lock(&c->lock);
            c->failed++;
            pthread_mutex_unlock(&c->lock);
        }
    } else if (pages >= c->wake_pages) {
        pthread_mutex_lock(&c->lock);
        if (!c->due) {
            c->due = true;
            pthread_cond_signal(&c->wake);
        }
        pthread_mutex_unlock(&c->lock);
    }
    return SQLITE_OK;
}

static void *run(void *arg)
{
    struct checkpointer *c = arg;

    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec until;

        clock_gettime(CLOCK_MONOTONIC, &until); /* the condition variable's clock */
        until.tv_sec += IDLE_SECONDS;
        while (!c->due && !c->stop) {
            if (pthread_cond_timedwait(&c->wake, &c->lock, &until) == ETIMEDOUT)
                break;
        }
        if (c->stop)
            break;
        c->due = false;
        pthread_mutex_unlock(&c->lock);

        int log_pages = 0, done_pages = 0;
        int rc = sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log_pages,
                                           &done_pages);

        pthread_mutex_lock(&c->lock);
        c->runs++;
        /* BUSY: another checkpoint (a CLI command's) is running; the next one catches up. */
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            c->failed++;
            log_error("db.checkpoint_failed", "problem=\"%s\"", sqlite3_errstr(rc));
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

struct checkpointer *checkpointer_start(sqlite3 *writer, const char *path, int wake_pages,
                                        int writer_pages, char *err)
{
    struct checkpointer *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        err_set(err, "checkpointer: out of memory");
        return NULL;
    }
    c->writer = writer;
    c->wake_pages = wake_pages;
    c->writer_pages = writer_pages;
    if ((c->db = db_open(path, err)) == NULL) {
        err_prefix(err, "checkpointer");
        free(c);
        return NULL;
    }
    /* Its own checkpoints only: closing it must not checkpoint, the writer's close does. */
    sqlite3_wal_autocheckpoint(c->db, 0);
    /* A checkpoint copies frames file to file: no page cache worth the memory. */
    db_exec(c->db, "PRAGMA cache_size=-256", "checkpointer cache", NULL);
    pthread_condattr_t attr;

    pthread_mutex_init(&c->lock, NULL);
    /* A wall clock set back must not stop the once-a-second checkpoint. */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        err_set(err, "checkpointer: cannot start a thread");
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        db_close(c->db);
        free(c);
        return NULL;
    }
    sqlite3_wal_hook(writer, wal_hook, c); /* replaces the writer's automatic checkpoint */
    return c;
}

void checkpointer_stop(struct checkpointer *c)
{
    if (c == NULL)
        return;
    sqlite3_wal_autocheckpoint(c->writer, 1000); /* SQLite's default; removes our hook */
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    db_close(c->db);
    free(c);
}

unsigned long checkpointer_runs(struct checkpointer *c, unsigned long *failed,
                                unsigned long *by_writer)
{
    unsigned long runs;

    pthread_mutex_lock(&c->lock);
    runs = c->runs;
    if (failed != NULL)
        *failed = c->failed;
    if (by_writer != NULL)
        *by_writer = c->by_writer;
    pthread_mutex_unlock(&c->lock);
    return runs;
}
