/* diag.c: collected validation problems (see diag.h). */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_add(struct diag *d, enum diag_severity severity, const char *file, const char *path,
              const char *fmt, ...)
{
    struct diag_entry e = {.severity = severity};
    char msg[512];
    va_list ap;

    if (severity == DIAG_ERROR)
        d->errors++;
    else
        d->warnings++;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct diag_entry *bigger = realloc(d->entries, cap * sizeof(*bigger));

        if (bigger == NULL)
            return;
        d->entries = bigger;
        d->cap = cap;
    }
    e.file = strdup(file != NULL ? file : "");
    e.path = strdup(path != NULL ? path : "");
    e.message = strdup(msg);
    if (e.file == NULL || e.path == NULL || e.message == NULL) {
        free(e.file);
        free(e.path);
        free(e.message);
        return;
    }
    d->entries[d->n++] = e;
}

void diag_print(const struct diag *d, FILE *out)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct diag_entry *e = &d->entries[i];

        fprintf(out, "%s: %s%s%s%s\n", e->file, e->path, e->path[0] ? ": " : "",
                e->severity == DIAG_WARNING ? "warning: " : "", e->message);
    }
}

bool diag_has(const struct diag *d, const char *path, const char *needle)
{
    for (size_t i = 0; i < d->n; i++) {
        if ((path == NULL || strcmp(d->entries[i].path, path) == 0) &&
            strstr(d->entries[i].message, needle) != NULL)
            return true;
    }
    return false;
}

void diag_release(struct diag *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->entries[i].file);
        free(d->entries[i].path);
        free(d->entries[i].message);
    }
    free(d->entries);
    memset(d, 0, sizeof(*d));
}
