/*
 * csv.h: a small RFC 4180 reader for the reference data Katto imports
 * (postal codes, services). Fields may be quoted, with "" for a quote and
 * commas and line breaks inside; lines end in LF or CRLF. Every field is
 * checked to be UTF-8, so callers may pass it straight on, and a row is capped
 * at CSV_ROW_MAX bytes so that a broken file cannot take all memory.
 */
#ifndef KATTO_CSV_H
#define KATTO_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CSV_ROW_MAX 65536 /* bytes of field text in one row, separators included */

struct csv_reader {
    FILE *fp;          /* borrowed: kept open by the caller while reading */
    size_t line;       /* physical lines read so far */
    size_t error_line; /* line of the last error, 0 if none */
    bool started;      /* private: a byte has been read (for the byte order mark) */
};

struct csv_row {
    char **fields; /* n NUL-terminated UTF-8 strings, owned by the row */
    size_t n;      /* number of fields, at least 1 for a row that was read */
    size_t line;   /* line on which the row starts, 1-based */
    char *data;    /* storage behind fields (private) */
};

#define CSV_ROW_INIT ((struct csv_row){NULL, 0, 0, NULL})

/* Starts reading fp (borrowed, kept until the last csv_read_row) at its current position. */
void csv_reader_init(struct csv_reader *r, FILE *fp);

/* Sets *row empty, ready for csv_read_row. Same as assigning CSV_ROW_INIT. */
void csv_row_init(struct csv_row *row);

/*
 * Reads the next row into *row, which must be initialised (csv_row_init or a
 * previous csv_read_row): its old fields are released first, so a loop needs
 * one csv_row_release after it. Blank lines are skipped, a UTF-8 byte order
 * mark at the start of the file is dropped, and a CRLF (or lone CR) inside a
 * quoted field becomes LF. Returns 1 when a row was read, 0 at the end of the file and -1
 * on error, with err (ERR_LEN, may be NULL) set to "line N: problem":
 * unterminated quote, text after a closing quote, a quote inside an unquoted
 * field, a NUL byte, invalid UTF-8, a row over CSV_ROW_MAX bytes or a read
 * error. On 0 and -1 the row is empty; after -1 the reader is left mid-row
 * and should not be read further.
 */
int csv_read_row(struct csv_reader *r, struct csv_row *row, char *err);

/* Frees the fields of row and leaves it empty; safe on an empty row. */
void csv_row_release(struct csv_row *row);

/* Index of the field of header (borrowed) that equals name exactly, or -1. */
int csv_column(const struct csv_row *header, const char *name);

#endif
