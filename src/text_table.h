/*
 * text_table.h: a plain-text table for the command line: columns as wide as
 * their widest value (counted in characters, not bytes, so "Jyväskylä"
 * lines up), the first row as the heading, numbers right-aligned when asked.
 */
#ifndef KATTO_TEXT_TABLE_H
#define KATTO_TEXT_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct text_table {
    size_t ncols, nrows, cap;
    char **cells; /* nrows * ncols, owned; row 0 is the heading */
    bool *right;  /* ncols: right-aligned */
};

/* 0, or -1 if out of memory (t is then empty but safe to release). */
int text_table_init(struct text_table *t, size_t ncols);

/* Right-aligns column col (counts). */
void text_table_align_right(struct text_table *t, size_t col);

/* Appends a row of ncols values (copied; NULL shows as ""). 0, or -1 if out of memory. */
int text_table_add(struct text_table *t, const char *const *values);

/* Writes the rows, two spaces between columns, no trailing spaces. 0, or -1 as buf_append. */
int text_table_write(const struct text_table *t, struct buf *out);

void text_table_release(struct text_table *t);

#endif
