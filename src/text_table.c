/* text_table.c: aligned plain-text tables (see text_table.h). */
#include "text_table.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

int text_table_init(struct text_table *t, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    if (ncols == 0 || (t->right = calloc(ncols, sizeof(*t->right))) == NULL)
        return -1;
    t->ncols = ncols;
    return 0;
}

void text_table_align_right(struct text_table *t, size_t col)
{
    if (col < t->ncols)
        t->right[col] = true;
}

int text_table_add(struct text_table *t, const char *const *values)
{
    if (t->ncols == 0)
        return -1;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **bigger = realloc(t->cells, cap * t->ncols * sizeof(*bigger));

        if (bigger == NULL)
            return -1;
        t->cells = bigger;
        t->cap = cap;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        char *copy = strdup(values[c] != NULL ? values[c] : "");

        if (copy == NULL) {
            while (c-- > 0)
                free(t->cells[t->nrows * t->ncols + c]);
            return -1;
        }
        t->cells[t->nrows * t->ncols + c] = copy;
    }
    t->nrows++;
    return 0;
}

static int pad(struct buf *out, size_t n)
{
    static const char spaces[] = "                                ";

    while (n > 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

        if (buf_append(out, spaces, k) != 0)
            return -1;
        n -= k;
    }
    return 0;
}

static int write_row(const struct text_table *t, const size_t *width, size_t r, struct buf *out)
{
    for (size_t c = 0; c < t->ncols; c++) {
        const char *s = t->cells[r * t->ncols + c];
        size_t gap = width[c] - utf8_count(s);
        bool last = c + 1 == t->ncols;

        if ((t->right[c] && pad(out, gap) != 0) || buf_puts(out, s) != 0 ||
            (!t->right[c] && !last && pad(out, gap) != 0) || (!last && pad(out, 2) != 0))
            return -1;
    }
    return buf_puts(out, "\n");
}

int text_table_write(const struct text_table *t, struct buf *out)
{
    size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));
    int rc = 0;

    if (width == NULL)
        return -1;
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            size_t w = utf8_count(t->cells[r * t->ncols + c]);

            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (size_t r = 0; r < t->nrows && rc == 0; r++)
        rc = write_row(t, width, r, out);
    free(width);
    return rc;
}

void text_table_release(struct text_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->right);
    memset(t, 0, sizeof(*t));
}
