/*
 * buf.h: a growable byte buffer with a hard maximum (curl's dynbuf idea): an
 * append that would pass the maximum fails instead of growing without bound.
 * The content is always NUL-terminated.
 */
#ifndef KATTO_BUF_H
#define KATTO_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append */
    size_t len, cap, max;
};

void buf_init(struct buf *b, size_t max);

/* 0, or -1 if out of memory or the maximum would be passed (b is unchanged then). */
int buf_append(struct buf *b, const char *s, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Appends template with each {name} replaced by its value from pairs: name,
 * value, name, value, ..., NULL (all borrowed). Placeholders not in pairs
 * are kept as written, and values are inserted verbatim (never expanded).
 * 0, or -1 as buf_append.
 */
int buf_put_template(struct buf *b, const char *template, const char *const *pairs);

/* The content ("" when empty), borrowed until the next change. */
const char *buf_str(const struct buf *b);

/* Hands the content over (caller frees; never NULL unless out of memory) and empties b. */
char *buf_detach(struct buf *b);

/* Frees the content; b can be reused after buf_init. */
void buf_release(struct buf *b);

#endif
