/* buf.c: bounded growable buffer (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

int buf_append(struct buf *b, const char *s, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *bigger;

        while (cap < b->len + n + 1)
            cap *= 2;
        if ((bigger = realloc(b->data, cap)) == NULL)
            return -1;
        b->data = bigger;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[256], *big = NULL;
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n);
    if ((big = malloc((size_t)n + 1)) == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

const char *buf_str(const struct buf *b)
{
    return b->data != NULL ? b->data : "";
}

char *buf_detach(struct buf *b)
{
    char *s = b->data != NULL ? b->data : strdup("");

    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void buf_release(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static const char *template_value(const char *const *pairs, const char *name, size_t len)
{
    for (size_t i = 0; pairs[i] != NULL && pairs[i + 1] != NULL; i += 2) {
        if (strlen(pairs[i]) == len && memcmp(pairs[i], name, len) == 0)
            return pairs[i + 1];
    }
    return NULL;
}

int buf_put_template(struct buf *b, const char *template, const char *const *pairs)
{
    const char *p = template;

    while (*p != '\0') {
        const char *open = strchr(p, '{'), *close = open ? strchr(open + 1, '}') : NULL;
        const char *value;

        if (open == NULL || close == NULL)
            return buf_puts(b, p);
        value = template_value(pairs, open + 1, (size_t)(close - open - 1));
        if (buf_append(b, p, (size_t)(value ? open - p : close + 1 - p)) != 0 ||
            (value != NULL && buf_puts(b, value) != 0))
            return -1;
        p = close + 1;
    }
    return 0;
}
