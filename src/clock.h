/*
 * clock.h: the wall clock that everything dated in Katto reads (opening
 * hours, sessions, the outbox, callbacks, the contact log). In production it
 * is time(). Tests point it at a file holding unix seconds (config
 * `test_clock_file`), so that a test can move the server's time forward
 * across a closing hour or a callback window without waiting.
 */
#ifndef KATTO_CLOCK_H
#define KATTO_CLOCK_H

/*
 * Reads the time from the file at path (copied; NULL or "" restores the real
 * clock) from now on: its first decimal number, re-read whenever the file
 * changes. A missing or unreadable file reads as the real time.
 */
void clock_use_file(const char *path);

/* Unix seconds now, by the clock in use. */
long long clock_now(void);

#endif
