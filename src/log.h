/*
 * log.h: one line per event on stderr, as
 *   2026-11-24T15:40:00Z level=info event=server.start listen=127.0.0.1:8080
 * Fields are key=value pairs given as a printf format. The logger is the last
 * guard of the privacy promise: any run of seven or more digits (with optional
 * '+', spaces or dashes between them) is replaced by "[redacted]" before the
 * line is written, so a phone number passed by mistake never reaches a log.
 * Identify contacts by pseudonym prefix only (they are hex, not digit runs).
 */
#ifndef KATTO_LOG_H
#define KATTO_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Sends lines to f instead of stderr (tests); NULL restores stderr. Borrowed. */
void log_set_stream(FILE *f);

/* Parses "debug", "info", "warn" or "error"; 0 on success, -1 otherwise. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

/* Writes one line: event is a dotted name, fields a key=value printf format (may be NULL). */
void log_event(enum log_level level, const char *event, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_event(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_event(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_event(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_event(LOG_LEVEL_ERROR, __VA_ARGS__)

/*
 * Rewrites s in place, replacing digit runs that could be phone numbers by
 * "[redacted]"; never writes past cap bytes. Returns the new length.
 * Exposed for tests and for anything else that formats text for operators.
 */
size_t log_scrub(char *s, size_t cap);

#endif
