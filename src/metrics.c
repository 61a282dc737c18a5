/*
 * metrics.c: a small registry of families and series. Katto has tens of
 * series, so a linear list is simpler than a hash and costs nothing.
 */
#include "metrics.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct metrics_series {
    char *labels;
    uint64_t count;
    metrics_gauge_cb *gauge; /* NULL for counters */
    void *gauge_arg;
    struct metrics_series *next;
};

struct metrics_family {
    const char *name, *type, *help;
    struct metrics_series *series;
    struct metrics_family *next;
};

struct metrics {
    struct metrics_family *families, **tail;
};

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));

    if (m != NULL)
        m->tail = &m->families;
    return m;
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    for (struct metrics_family *f = m->families, *fn; f != NULL; f = fn) {
        fn = f->next;
        for (struct metrics_series *s = f->series, *sn; s != NULL; s = sn) {
            sn = s->next;
            free(s->labels);
            free(s);
        }
        free(f);
    }
    free(m);
}

static struct metrics_family *family(const struct metrics *m, const char *name)
{
    for (struct metrics_family *f = m->families; f != NULL; f = f->next) {
        if (strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

int metrics_declare(struct metrics *m, const char *name, const char *type, const char *help)
{
    struct metrics_family *f;

    if (family(m, name) != NULL)
        return 0;
    if ((f = calloc(1, sizeof(*f))) == NULL)
        return -1;
    f->name = name;
    f->type = type;
    f->help = help;
    *m->tail = f;
    m->tail = &f->next;
    return 0;
}

static struct metrics_series *series(struct metrics_family *f, const char *labels, bool create)
{
    struct metrics_series **p = &f->series, *s;

    /* Kept sorted by labels so the exposition is stable between scrapes. */
    for (; *p != NULL; p = &(*p)->next) {
        int cmp = strcmp((*p)->labels, labels);

        if (cmp == 0)
            return *p;
        if (cmp > 0)
            break;
    }
    if (!create || (s = calloc(1, sizeof(*s))) == NULL)
        return NULL;
    if ((s->labels = strdup(labels)) == NULL) {
        free(s);
        return NULL;
    }
    s->next = *p;
    *p = s;
    return s;
}

void metrics_add(struct metrics *m, const char *name, const char *labels, uint64_t n)
{
    struct metrics_family *f = family(m, name);
    struct metrics_series *s;

    if (f != NULL && (s = series(f, labels, true)) != NULL)
        s->count += n;
}

int metrics_gauge(struct metrics *m, const char *name, const char *labels, metrics_gauge_cb *cb,
                  void *arg)
{
    struct metrics_family *f = family(m, name);
    struct metrics_series *s;

    if (f == NULL || (s = series(f, labels, true)) == NULL)
        return -1;
    s->gauge = cb;
    s->gauge_arg = arg;
    return 0;
}

uint64_t metrics_get(const struct metrics *m, const char *name, const char *labels)
{
    struct metrics_family *f = family(m, name);
    struct metrics_series *s = f != NULL ? series(f, labels, false) : NULL;

    return s != NULL ? s->count : 0;
}

char *metrics_render(const struct metrics *m, size_t *len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);

    if (out == NULL)
        return NULL;
    for (const struct metrics_family *f = m->families; f != NULL; f = f->next) {
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
        for (const struct metrics_series *s = f->series; s != NULL; s = s->next) {
            const char *open = s->labels[0] ? "{" : "", *close = s->labels[0] ? "}" : "";

            if (s->gauge != NULL)
                fprintf(out, "%s%s%s%s %.17g\n", f->name, open, s->labels, close,
                        s->gauge(s->gauge_arg));
            else
                fprintf(out, "%s%s%s%s %llu\n", f->name, open, s->labels, close,
                        (unsigned long long)s->count);
        }
    }
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    *len = size;
    return text;
}
