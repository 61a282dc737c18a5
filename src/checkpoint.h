/*
 * checkpoint.h: WAL checkpoints on a thread of their own.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL
 * pages, on the committing connection: in the server that is the event loop,
 * which then copies thousands of pages into the database file and waits for
 * its fsync while webhooks queue up (scripts/bench measured it as 8% of the
 * USSD path and its worst latencies). The checkpointer turns that off for the
 * server's connection and runs PASSIVE checkpoints from a second connection on
 * its own thread instead: after a commit that leaves the WAL at or past the
 * threshold (CHECKPOINT_PAGES), and once a second otherwise. PASSIVE never blocks the writer, and
 * the second connection keeps synchronous=FULL, so each checkpoint syncs the
 * WAL before copying and the database file after, as the automatic one does.
 *
 * A checkpoint copies only the frames committed before it began, and SQLite
 * starts the WAL file over only once every frame is copied, which a
 * checkpoint racing a busy writer seldom achieves. So when the WAL passes
 * CHECKPOINT_WRITER_PAGES, the writer copies what is left itself (the thread
 * has already copied most of it, so this is short) and the WAL starts over.
 */
#ifndef KATTO_CHECKPOINT_H
#define KATTO_CHECKPOINT_H

#include <sqlite3.h>

struct checkpointer;

/*
 * The server's thresholds, in WAL pages. Ten times SQLite's default: a page
 * written by many commits is copied once per checkpoint, and the hot pages of
 * a step (index edges, the contact log's tail) are written by nearly every one.
 */
#define CHECKPOINT_PAGES 10000        /* wake the thread */
#define CHECKPOINT_WRITER_PAGES 40000 /* the writer finishes the copy */

/*
 * Opens a second connection to path (the database writer has open), hooks
 * writer's commits, and starts the thread, which wakes past wake_pages; past
 * writer_pages the writer finishes the copy. writer must outlive the
 * checkpointer. NULL with err set on failure (writer is then unchanged).
 */
struct checkpointer *checkpointer_start(sqlite3 *writer, const char *path, int wake_pages,
                                        int writer_pages, char *err);

/*
 * Stops the thread after any checkpoint in progress, closes its connection and
 * gives writer its automatic checkpoint back. NULL is a no-op.
 */
void checkpointer_stop(struct checkpointer *c);

/*
 * Checkpoints run by the thread so far, how many failed (in either thread;
 * a busy one is not a failure), and how many the writer completed (call from
 * the writer's thread).
 */
unsigned long checkpointer_runs(struct checkpointer *c, unsigned long *failed,
                                unsigned long *by_writer);

#endif
