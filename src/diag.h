/*
 * diag.h: a list of problems found while validating input that should be
 * reported all at once (flow files, CSV imports), each as
 *   file: json.path: problem
 * in the style of compilers, so an administrator can fix every problem in
 * one pass (SQLite's Parse/sqlite3ErrorMsg idea).
 */
#ifndef KATTO_DIAG_H
#define KATTO_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag_entry {
    enum diag_severity severity;
    char *file;    /* as given by the caller */
    char *path;    /* JSON path such as nodes.welcome.options[1].next, or "" */
    char *message; /* lower case, no full stop */
};

struct diag {
    struct diag_entry *entries;
    size_t n, cap;
    size_t errors, warnings;
};

/* Appends one problem (strings copied). Out of memory drops it but still counts it. */
void diag_add(struct diag *d, enum diag_severity severity, const char *file, const char *path,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Prints "file: path: problem" (with "warning: " before warnings), one per line. */
void diag_print(const struct diag *d, FILE *out);

/* True if some entry's message contains needle (tests). */
bool diag_has(const struct diag *d, const char *path, const char *needle);

/* Frees the entries; d may be reused. */
void diag_release(struct diag *d);

#endif
