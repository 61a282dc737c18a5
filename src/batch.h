/*
 * batch.h: group commit. Work submitted during one event-loop pass runs in a
 * single SQLite transaction at the end of that pass (one fsync for all of it
 * with synchronous=FULL), each job inside its own SAVEPOINT so one failing
 * job does not sink the others. Only after COMMIT are the jobs' done
 * callbacks called, which is when a webhook may be answered 2xx: an accepted
 * message is on disk.
 *
 * The flush is an event activated when the first job joins an empty batch;
 * libevent 2.1.12 runs it after the request callbacks already active in this
 * pass (see ../shared/style.md, "Group commit per loop turn").
 */
#ifndef KATTO_BATCH_H
#define KATTO_BATCH_H

#include <event2/event.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

struct batch;

/* Runs inside the transaction; returns 0, or -1 with err set to roll this job back. */
typedef int batch_work_cb(sqlite3 *db, void *arg, char *err);

/*
 * Called once per job after the transaction: status 0 if the job's work is
 * committed, -1 if it is not (its work failed, or the whole commit failed).
 */
typedef void batch_done_cb(int status, void *arg);

#define BATCH_MAX_JOBS 256 /* per transaction; the rest goes in the next pass */

/* db and metrics are kept (must outlive the batch). NULL on allocation failure. */
struct batch *batch_new(struct event_base *base, sqlite3 *db, struct metrics *metrics);

/* Flushes what is pending, then frees. NULL is a no-op. */
void batch_free(struct batch *b);

/*
 * Queues a job. On success returns 0 and done is called exactly once, after
 * the flush; on failure returns -1 and neither callback is ever called.
 */
int batch_submit(struct batch *b, batch_work_cb *work, batch_done_cb *done, void *arg);

/* Jobs waiting for the next flush. */
size_t batch_pending(const struct batch *b);

/* Runs the pending jobs now (also used at shutdown). */
void batch_flush(struct batch *b);

/*
 * Inside a done callback called with status -1: why the job failed.
 * "disk_full" (SQLITE_FULL), "busy" (another writer held the lock past the
 * busy timeout), "io" (I/O error, out of memory, read-only): the database's
 * trouble, which passes; or "error": the job's own work failed.
 */
const char *batch_failure_reason(const struct batch *b);

/*
 * Calls fn(arg) each time work is rolled back (one failed job, or a whole
 * transaction that did not commit), before any done callback of that flush.
 * Whoever keeps in memory a copy of rows written inside a job (a cache) must
 * forget it here, or it would believe in rows that are not on disk. At most
 * four listeners; 0, or -1 when full.
 */
int batch_on_rollback(struct batch *b, void (*fn)(void *arg), void *arg);

/*
 * False while writes fail for want of space, a lock or I/O (the last flush
 * failed so). While false, each call first tries a one-page write of its own,
 * so it turns true as soon as the database takes writes again. Call it only
 * between loop callbacks (no transaction open): /healthz does.
 */
bool batch_writes_ok(struct batch *b);

#endif
