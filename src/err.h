/*
 * err.h: error context for callers. A function that can fail takes a
 * caller-owned `char err[ERR_LEN]` (NULL allowed) and fills it with a short
 * lower-case message saying what failed (git's wording rules), so the layer
 * that decides what to do can log it once with its own context.
 */
#ifndef KATTO_ERR_H
#define KATTO_ERR_H

#define ERR_LEN 256

/* Formats into err (ERR_LEN bytes); does nothing when err is NULL. */
void err_set(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the message already in err with "prefix: ". */
void err_prefix(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
