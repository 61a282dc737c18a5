/*
 * db_fault.h: TESTS ONLY. A simulated full disk for the server's database,
 * switched on and off by a file while the server runs (config key
 * test_disk_full_file, like test_clock_file for the clock).
 *
 * db_fault_install() registers, as SQLite's default, a VFS that wraps the
 * real one. While the file holds the word "full", every write to the
 * database, its WAL and its journals fails with SQLITE_FULL, as on a full
 * disk where the WAL cannot grow; reads work. Any other content, or no file,
 * and writes go through. The file is looked at again (one stat) at each
 * write, and read again only when its size or mtime changed.
 *
 * Why not PRAGMA max_page_count: it fails only a write that needs a new
 * page, so a small webhook whose rows fit in pages that have room would be
 * committed or not depending on how full each page happens to be, and a
 * test could not say which.
 */
#ifndef KATTO_DB_FAULT_H
#define KATTO_DB_FAULT_H

/*
 * Installs the faulty VFS as the default, controlled by the file at path.
 * Call before the database is opened, at most once per process. An empty
 * path does nothing. 0, or -1 with err.
 */
int db_fault_install(const char *path, char *err);

#endif
