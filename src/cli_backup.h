/*
 * cli_backup.h: katto backup [--force] FILE: a consistent copy of the
 * configured database, taken while the server runs.
 *
 * The copy is made with SQLite's online backup API from one read transaction
 * (one snapshot of the WAL database, so writes during the copy neither block
 * nor restart it), a bounded number of pages per step with a short pause
 * between steps (the server's fsyncs keep the disk), into FILE.tmp. The copy
 * is switched to a self-contained rollback-journal file, checked with PRAGMA
 * integrity_check, fsync'ed and renamed to FILE (and the directory fsync'ed),
 * so FILE is either absent or a whole, checked backup. An existing FILE is
 * kept unless --force. Prints the path, size and schema version.
 *
 * The secret file is not part of the backup: it must be kept separately.
 * Exit status: 0, 1 runtime failure, 64 usage, 65 the copy failed its
 * integrity check, 73 FILE exists (without --force).
 */
#ifndef KATTO_CLI_BACKUP_H
#define KATTO_CLI_BACKUP_H

#include "config.h"

int cli_backup(const struct config *cfg, int argc, char **argv);

#endif
