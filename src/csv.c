/*
 * csv.c: RFC 4180 reader (see csv.h). A row is parsed byte by byte into one
 * buffer holding every field NUL-terminated, then an array of pointers into it
 * is built, so a row costs two allocations however many fields it has. NUL
 * bytes are rejected in the input, which keeps the separators unambiguous.
 */
#include "csv.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "utf8.h"

#define CSV_ROW_MAX_TEXT "65536"
_Static_assert(CSV_ROW_MAX == 65536, "CSV_ROW_MAX_TEXT must match CSV_ROW_MAX");

enum state {
    FIELD_START, /* nothing of the current field read yet */
    UNQUOTED,    /* inside a field that did not start with a quote */
    QUOTED,      /* inside a quoted field */
    AFTER_QUOTE, /* a quote inside a quoted field: "" or the end of the field */
};

struct rowbuf {
    char *data;
    size_t len, cap;
    size_t nfields;
    size_t field_start; /* offset of the current field in data */
};

void csv_reader_init(struct csv_reader *r, FILE *fp)
{
    r->fp = fp;
    r->line = 0;
    r->error_line = 0;
    r->started = false;
}

void csv_row_init(struct csv_row *row)
{
    *row = CSV_ROW_INIT;
}

void csv_row_release(struct csv_row *row)
{
    free(row->fields);
    free(row->data);
    csv_row_init(row);
}

static int fail(struct csv_reader *r, size_t line, char *err, const char *what)
{
    r->error_line = line;
    err_set(err, "line %zu: %s", line, what);
    return -1;
}

/* Appends byte c; returns -1 once the row would pass CSV_ROW_MAX, -2 when memory runs out. */
static int put(struct rowbuf *b, char c)
{
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        char *p;

        if (b->len >= CSV_ROW_MAX)
            return -1;
        if (cap > CSV_ROW_MAX)
            cap = CSV_ROW_MAX;
        p = realloc(b->data, cap);
        if (!p)
            return -2;
        b->data = p;
        b->cap = cap;
    }
    b->data[b->len++] = c;
    return 0;
}

static int put_checked(struct csv_reader *r, struct rowbuf *b, char c, char *err)
{
    int rc = put(b, c);

    if (rc == -1)
        return fail(r, r->line + 1, err, "row longer than " CSV_ROW_MAX_TEXT " bytes");
    if (rc == -2)
        return fail(r, r->line + 1, err, "out of memory");
    return 0;
}

/* Terminates the current field; returns -1 if it is not UTF-8 or the row is full. */
static int end_field(struct csv_reader *r, struct rowbuf *b, char *err)
{
    /* An empty first field has no buffer yet, and NULL + 0 is undefined behaviour. */
    if (b->len > b->field_start && !utf8_valid(b->data + b->field_start, b->len - b->field_start))
        return fail(r, r->line + 1, err, "invalid UTF-8");
    if (put_checked(r, b, '\0', err) < 0)
        return -1;
    b->nfields++;
    b->field_start = b->len;
    return 0;
}

/* Consumes the LF of a CRLF after c == '\r'; counts the line either way. */
static void end_line(struct csv_reader *r, int c)
{
    if (c == '\r') {
        int next = getc(r->fp);

        if (next != '\n' && next != EOF)
            ungetc(next, r->fp);
    }
    r->line++;
}

/*
 * Skips blank lines and, before the first row, a byte order mark. Returns the
 * first byte of the row, EOF at the end, or -2 on a broken mark.
 */
static int row_start(struct csv_reader *r)
{
    for (;;) {
        bool first = !r->started;
        int c = getc(r->fp);

        r->started = true;
        if (c == 0xEF && first) {
            if (getc(r->fp) != 0xBB || getc(r->fp) != 0xBF)
                return -2;
            continue;
        }
        if (c != '\n' && c != '\r')
            return c;
        end_line(r, c);
    }
}

static int parse_row(struct csv_reader *r, struct rowbuf *b, int c, char *err)
{
    enum state st = FIELD_START;
    size_t quote_line = 0;

    for (;; c = getc(r->fp)) {
        if (c == '\0')
            return fail(r, r->line + 1, err, "NUL byte");
        if (c == EOF && ferror(r->fp))
            return fail(r, r->line + 1, err, "read error");
        switch (st) {
        case FIELD_START:
        case UNQUOTED:
        case AFTER_QUOTE:
            if (c == ',' || c == '\n' || c == '\r' || c == EOF) {
                if (end_field(r, b, err) < 0)
                    return -1;
                if (c == ',') {
                    st = FIELD_START;
                    continue;
                }
                if (c != EOF)
                    end_line(r, c);
                return 0;
            }
            if (c == '"' && st == FIELD_START) {
                st = QUOTED;
                quote_line = r->line + 1;
                continue;
            }
            if (c == '"' && st == AFTER_QUOTE) {
                st = QUOTED;
                break; /* "" inside quotes is one quote */
            }
            if (c == '"')
                return fail(r, r->line + 1, err, "quote inside unquoted field");
            if (st == AFTER_QUOTE)
                return fail(r, r->line + 1, err, "text after closing quote");
            st = UNQUOTED;
            break;
        case QUOTED:
            if (c == EOF)
                return fail(r, quote_line, err, "unterminated quote");
            if (c == '"') {
                st = AFTER_QUOTE;
                continue;
            }
            if (c == '\r' || c == '\n') {
                end_line(r, c);
                c = '\n';
            }
            break;
        }
        if (put_checked(r, b, (char)c, err) < 0)
            return -1;
    }
}

int csv_read_row(struct csv_reader *r, struct csv_row *row, char *err)
{
    struct rowbuf b = {0};
    size_t line;
    char *p;
    int c;

    csv_row_release(row);
    c = row_start(r);
    if (c == -2)
        return fail(r, r->line + 1, err, "invalid UTF-8");
    if (c == EOF) {
        if (ferror(r->fp))
            return fail(r, r->line + 1, err, "read error");
        return 0;
    }
    line = r->line + 1;
    if (parse_row(r, &b, c, err) < 0)
        goto fail;
    row->fields = malloc(b.nfields * sizeof(*row->fields));
    if (!row->fields) {
        fail(r, line, err, "out of memory");
        goto fail;
    }
    p = b.data;
    for (size_t i = 0; i < b.nfields; i++) {
        row->fields[i] = p;
        p += strlen(p) + 1;
    }
    row->data = b.data;
    row->n = b.nfields;
    row->line = line;
    return 1;
fail:
    free(b.data);
    return -1;
}

int csv_column(const struct csv_row *header, const char *name)
{
    for (size_t i = 0; i < header->n; i++) {
        if (strcmp(header->fields[i], name) == 0)
            return i > (size_t)INT_MAX ? -1 : (int)i;
    }
    return -1;
}
