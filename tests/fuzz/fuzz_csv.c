/*
 * fuzz_csv: the RFC 4180 reader (csv.h) over arbitrary bytes through
 * fmemopen, as the importers read a file. Properties: every field is valid
 * UTF-8 without NUL, a row has at least one field, its line numbers never go
 * backwards, and an error says which line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "err.h"
#include "fuzz.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* glibc's fmemopen refuses a zero-length buffer; an empty file is covered by the unit tests. */
    if (size == 0)
        return 0;
    /* fmemopen wants a writable buffer even for "r", so work on a copy. */
    char *copy = fuzz_strndup(data, size);
    FILE *fp = fmemopen(copy, size, "r");
    struct csv_reader r;
    struct csv_row row = CSV_ROW_INIT;
    char err[ERR_LEN];
    size_t last_line = 0;
    int rc;

    FUZZ_CHECK(fp != NULL);
    csv_reader_init(&r, fp);
    while ((rc = csv_read_row(&r, &row, err)) == 1) {
        FUZZ_CHECK(row.n >= 1);
        /* r.line counts line ends read, so a last row without LF is one past it. */
        FUZZ_CHECK(row.line > last_line && row.line <= r.line + 1);
        last_line = row.line;
        for (size_t i = 0; i < row.n; i++)
            FUZZ_CHECK(utf8_valid(row.fields[i], strlen(row.fields[i])));
        FUZZ_CHECK(csv_column(&row, row.fields[0]) == 0);
    }
    FUZZ_CHECK(row.n == 0);
    if (rc < 0)
        FUZZ_CHECK(strncmp(err, "line ", 5) == 0 && r.error_line > 0);
    csv_row_release(&row);
    fclose(fp);
    free(copy);
    return 0;
}
